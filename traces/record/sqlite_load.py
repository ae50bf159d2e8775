#!/usr/bin/env python3
"""An insert/update-heavy SQLite load (TPC-B-like bank transfers) for traces/sqlite.mtrace.

Preloads `--rows` accounts, prints "ready" on stdout, then runs transactions until `--seconds`
have passed or SIGTERM: each transaction makes 20 transfers between random accounts (two UPDATEs
and an INSERT into history each), and one transfer in ten opens a new account. The page cache
(`--cache-mib`) holds the whole database, as a database server's buffer pool would. On exit it
prints how many transactions it ran after "ready" and how fast (stderr). Standard library only;
the random stream is seeded, so the load is the same on every run (its timing is not).
"""

import argparse
import os
import random
import signal
import sqlite3
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="database file (created afresh)")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--seconds", type=float, default=70)
    ap.add_argument("--cache-mib", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(a.db + suffix):
            os.remove(a.db + suffix)
    rnd = random.Random(a.seed)
    con = sqlite3.connect(a.db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(f"PRAGMA cache_size=-{a.cache_mib * 1024}")
    con.execute("CREATE TABLE accounts(id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER, note BLOB)")
    con.execute("CREATE INDEX accounts_owner ON accounts(owner)")
    con.execute("CREATE TABLE history(id INTEGER PRIMARY KEY, src INTEGER, dst INTEGER, amount INTEGER, at REAL)")
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO accounts(owner, balance, note) VALUES (?, ?, ?)",
        ((f"owner{rnd.randrange(10**9):09d}", 1000, rnd.randbytes(100)) for _ in range(a.rows)),
    )
    con.execute("COMMIT")
    n_accounts = a.rows
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    print("ready", flush=True)
    start = time.monotonic()
    txns = 0
    while not stopping and time.monotonic() < start + a.seconds:
        con.execute("BEGIN")
        for _ in range(20):
            src, dst = rnd.randrange(1, n_accounts + 1), rnd.randrange(1, n_accounts + 1)
            amount = rnd.randrange(1, 100)
            con.execute("UPDATE accounts SET balance = balance - ? WHERE id = ?", (amount, src))
            con.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, dst))
            con.execute("INSERT INTO history(src, dst, amount, at) VALUES (?, ?, ?, ?)", (src, dst, amount, time.time()))
            if rnd.random() < 0.1:
                con.execute(
                    "INSERT INTO accounts(owner, balance, note) VALUES (?, ?, ?)",
                    (f"owner{rnd.randrange(10**9):09d}", 0, rnd.randbytes(100)),
                )
                n_accounts += 1
        con.execute("COMMIT")
        txns += 1
    took = time.monotonic() - start
    print(f"load: {txns} transactions in {took:.1f} s = {txns / took:.0f} transactions/s, {n_accounts} accounts", file=sys.stderr)


if __name__ == "__main__":
    main()
