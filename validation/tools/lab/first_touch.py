#!/usr/bin/env python3
"""How much the first write to fresh memory costs on this machine, per 4 KiB page.

A migration's destination writes every page it receives into guest RAM it has never touched, so
each first write takes a page fault; QEMU asks for transparent huge pages on guest RAM
(madvise(MADV_HUGEPAGE)). This probe maps anonymous memory, advises it the same way (or not),
writes one byte per 4 KiB page and times that (the first touch), then writes every page in full
(4 KiB copies into memory already mapped, what a page sent again costs at the destination) and
unmaps. Each `--reps` round maps fresh memory; `--wait-s` idles before each round, so memory
freed by the round before (or by an earlier process) has time to go back to the host, if the
host takes it back.

    python3 validation/tools/lab/first_touch.py [--mib 256] [--reps 2] [--wait-s 0]
    python3 validation/tools/lab/first_touch.py --procs 1,2,4 [--mib 1024] [--wait-s 10]

`--procs` asks whether first writes scale with the threads that make them, as multifd's receiving
threads would need: for each count N, N threads of one process (as QEMU's receiving threads), then
N processes, fill their shares (MIB / N) of fresh memory advised for huge pages (every byte, with
libc's memset), and each line gives the wall-clock time until the last is done over the pages of
all, in us a page.

Standard library only (mmap.madvise needs Python 3.8 and Linux).
"""
import argparse
import ctypes
import ctypes.util
import mmap
import multiprocessing
import threading
import time

PAGE = 4096
LIBC = ctypes.CDLL(ctypes.util.find_library("c"))
LIBC.memset.restype = ctypes.c_void_p
LIBC.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]


def probe(mib, huge):
    size = mib << 20
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_HUGEPAGE if huge else mmap.MADV_NOHUGEPAGE)
    pages = size // PAGE
    t0 = time.perf_counter()
    for i in range(0, size, PAGE):
        m[i] = 1
    t1 = time.perf_counter()
    block = b"\x07" * PAGE
    for i in range(0, size, PAGE):
        m[i:i + PAGE] = block
    t2 = time.perf_counter()
    m.close()
    return (t1 - t0) / pages * 1e6, (t2 - t1) / pages * 1e6


def fill(addr, size):
    """Write every byte of `size` bytes at `addr` (libc memset, 2 MiB a call: ctypes lets go of the
    GIL during the call, so threads fill in parallel)."""
    step = 2 << 20
    for off in range(0, size, step):
        LIBC.memset(addr + off, 1, min(step, size - off))


def fresh(size):
    """Fresh anonymous memory advised for huge pages, and the address of its first byte."""
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_HUGEPAGE)
    buf = (ctypes.c_char * size).from_buffer(m)
    return m, buf, ctypes.addressof(buf)


def in_threads(mib, n):
    """N threads of this process fill their shares of one mapping: us a page, wall clock."""
    size = mib << 20
    m, buf, addr = fresh(size)
    share = size // n
    ts = [threading.Thread(target=fill, args=(addr + k * share, share)) for k in range(n)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    per = (time.perf_counter() - t0) / (size // PAGE) * 1e6
    del buf
    m.close()
    return per


def process_share(args):
    """One process of a round: its mapping filled from `start_at` on; (start, end), wall clock."""
    mib, start_at = args
    size = mib << 20
    m, buf, addr = fresh(size)
    while time.time() < start_at:
        time.sleep(0.001)
    t0 = time.time()
    fill(addr, size)
    t1 = time.time()
    del buf
    m.close()
    return t0, t1


def in_processes(mib, n):
    """N processes fill their shares (MIB / N) at once: us a page over the wall clock of all."""
    with multiprocessing.Pool(n) as pool:
        start_at = time.time() + 0.5
        spans = pool.map(process_share, [(mib // n, start_at)] * n)
    return (max(e for _, e in spans) - min(s for s, _ in spans)) / ((mib << 20) // PAGE) * 1e6


def scaling(a):
    counts = [int(x) for x in a.procs.split(",")]
    print("%-34s %22s" % ("round", "first write us/page"))
    for r in range(a.reps):
        for kind, fn in (("threads of one process", in_threads), ("processes", in_processes)):
            for n in counts:
                if a.wait_s:
                    time.sleep(a.wait_s)
                print("%-34s %22.2f" % ("%d %s, round %d" % (n, kind, r + 1), fn(a.mib, n)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=256, help="memory per round, MiB")
    ap.add_argument("--reps", type=int, default=2, help="rounds per page kind")
    ap.add_argument("--wait-s", type=float, default=0.0, help="idle this long before each round")
    ap.add_argument("--procs", default=None, help="comma-separated process counts: first touches made in parallel")
    a = ap.parse_args()
    if a.procs:
        return scaling(a)
    print("%-28s %18s %22s" % ("round", "first touch us/page", "full-page write us/page"))
    for huge in (True, False):
        for r in range(a.reps):
            if a.wait_s:
                time.sleep(a.wait_s)
            first, again = probe(a.mib, huge)
            print("%-28s %18.2f %22.2f" % ("%s, round %d" % ("huge pages" if huge else "4 KiB pages", r + 1),
                                           first, again))


if __name__ == "__main__":
    main()
