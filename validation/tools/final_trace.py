#!/usr/bin/env python3
"""What the sockets held when the VM paused, from QEMU's own trace of the final copy.

    python3 validation/tools/final_trace.py                       # the summaries kept in the repo
    python3 validation/tools/final_trace.py --extract RUNDIR... --results RESULTS... [--dir DIR]

The lab's `migrate.py --trace-final 1` has both QEMUs log, with wall-clock stamps, when the source
stopped the VM (`migration_completion_vm_stop`), every multifd packet sent (`multifd_send`, on the
channel's thread, before it writes the packet) and received (`multifd_recv`, once its header is
read), and when each side was done (`migration_thread_after_loop`, `process_incoming_migration_co_end`);
`--trace-final 2` adds every page of the single stream (`ram_save_page` for each non-zero page sent,
`ram_load_loop` for each item loaded, in stream order). A packet or page sent before the pause and
received after it was in the sockets at the pause.

--extract reads the runs' traces (build/runs/<id>/{src,dst}.final.trace; a few hundred kB to
several MB each) and writes one small JSON summary per run into DIR (validation/tools/calibration/
sockets holds this project's): the bytes in the sockets at the pause per channel, when the
destination had taken them in, the final copy's pages and when they arrived, when each side was
done, and QEMU's own figures from the lab's results.csv. Without --extract it prints the kept
summaries and the median over the channels of the runs whose sockets were full (runs that paused
while the destination still lagged: some new pages in flight), which convert_qemu.py's
SOCKET_BUFFER follows. Python 3 standard library only.
"""
import argparse
import csv
import json
import os
import re
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEPT = os.path.join(HERE, "calibration", "sockets")
PAGE_WIRE = 4096 + 8     # a page and its header on the single stream
EVENT = re.compile(r"(\d+)@(\d+\.\d+):(\S+) ?(.*)")


def events(path):
    with open(path) as f:
        for line in f:
            m = EVENT.match(line)
            if m:
                yield float(m[2]), m[3], m[4]


def summarize(rundir, row):
    src = list(events(os.path.join(rundir, "src.final.trace")))
    dst = list(events(os.path.join(rundir, "dst.final.trace")))
    stop = next(t for t, e, _ in src if e == "migration_completion_vm_stop")
    src_done = next(t for t, e, _ in src if e == "migration_thread_after_loop")
    dst_done = next(t for t, e, _ in dst if e == "process_incoming_migration_co_end")
    num = lambda a: int(re.search(r"packet_num (\d+)", a)[1])
    sent = {num(a): (t, a.split()[1]) for t, e, a in src if e == "multifd_send"}
    if sent:
        got = {num(a): (t, int(re.search(r"pages (\d+)", a)[1])) for t, e, a in dst if e == "multifd_recv"}
        inflight = [(sent[p][1], got[p]) for p in sent if sent[p][0] < stop and p in got and got[p][0] > stop]
        final = [got[p] for p in sent if sent[p][0] >= stop and p in got and got[p][1] > 0]
        channels = sorted({c for _, c in sent.values()})
        per_channel = {c: sum(n for cc, (_, n) in inflight if cc == c) * 4096 for c in channels}
        taken = max((t for _, (t, _) in inflight), default=stop)
        final_pages = sum(n for _, n in final)
        final_first = min((t for t, _ in final), default=stop)
        final_last = max((t for t, _ in final), default=stop)
    else:
        sends = [t for t, e, _ in src if e == "ram_save_page"]
        loads = [t for t, e, a in dst if e == "ram_load_loop" and int(re.search(r"flags: 0x([0-9a-f]+)", a)[1], 16) & 0x8]
        if not sends:
            print("%s: skipped, one stream without its pages traced (--trace-final 2)" % rundir, file=sys.stderr)
            return None
        pairs = list(zip(sends, loads))
        inflight = [r for s, r in pairs if s < stop < r]
        final = [r for s, r in pairs if s >= stop]
        per_channel = {"main": len(inflight) * PAGE_WIRE}
        taken = max(inflight, default=stop)
        final_pages = len(final)
        final_first, final_last = min(final, default=stop), max(final, default=stop)
    ms = lambda t: round((t - stop) * 1000, 1)
    return {
        "run_id": os.path.basename(os.path.normpath(rundir)),
        "channels": len(per_channel) if sent else 1,
        "qemu_downtime_ms": float(row["downtime_ms"]) if row else None,
        "qemu_total_time_ms": float(row["total_time_ms"]) if row else None,
        "dirty_sync_count": int(float(row["dirty_sync_count"])) if row else None,
        "in_sockets_bytes": per_channel,
        "in_sockets_taken_in_ms": ms(taken),
        "final_pages": final_pages,
        "final_received_ms": [ms(final_first), ms(final_last)],
        "source_done_ms": ms(src_done),
        "destination_done_ms": ms(dst_done),
    }


def show(folder):
    runs = [json.load(open(os.path.join(folder, n))) for n in sorted(os.listdir(folder)) if n.endswith(".json")]
    full = []
    for r in runs:
        b = r["in_sockets_bytes"]
        total = sum(b.values())
        print("%-38s %d ch, syncs %s, QEMU downtime %5.1f ms | in the sockets at the pause %5.1f MB (%s), taken in "
              "by +%5.1f ms | final copy %6d pages, received +%.1f..+%.1f ms | source done +%.1f, destination +%.1f ms" % (
                  r["run_id"], r["channels"], r["dirty_sync_count"], r["qemu_downtime_ms"] or float("nan"), total / 1e6,
                  " ".join("%.1f" % (v / 1e6) for v in b.values()), r["in_sockets_taken_in_ms"], r["final_pages"],
                  r["final_received_ms"][0], r["final_received_ms"][1], r["source_done_ms"], r["destination_done_ms"]))
        if total >= 1e6 * r["channels"]:
            full += [v for v in b.values()]
    if full:
        print("sockets full at the pause: %d streams, median %.1f MB a stream (range %.1f-%.1f)" % (
            len(full), statistics.median(full) / 1e6, min(full) / 1e6, max(full) / 1e6))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--extract", nargs="+", metavar="RUNDIR", help="traced runs' folders (build/runs/<id>)")
    ap.add_argument("--results", nargs="+", default=[], help="the lab results folders holding those runs' results.csv")
    ap.add_argument("--dir", default=KEPT, help="the folder of summaries to print, and where --extract writes them (default: %(default)s)")
    a = ap.parse_args()
    if not a.extract:
        return show(a.dir)
    rows = {}
    for folder in a.results:
        with open(os.path.join(folder, "results.csv"), newline="") as f:
            rows.update({r["run_id"]: r for r in csv.DictReader(f)})
    os.makedirs(a.dir, exist_ok=True)
    for rd in a.extract:
        s = summarize(rd, rows.get(os.path.basename(os.path.normpath(rd))))
        if s is None:
            continue
        path = os.path.join(a.dir, s["run_id"] + ".json")
        with open(path + ".tmp", "w") as f:
            json.dump(s, f, indent=1)
            f.write("\n")
        os.replace(path + ".tmp", path)
    show(a.dir)


if __name__ == "__main__":
    main()
