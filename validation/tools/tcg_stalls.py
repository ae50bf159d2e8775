#!/usr/bin/env python3
"""Find the stalls of the migration stream in the lab's auto-converge runs (QEMU 7.2, TCG).

    python3 validation/tools/tcg_stalls.py /work/shared/validation/qemu

A stall is a stretch of at least 0.15 s (three 50 ms polls) in which `transferred` does not move
while the migration is active. For each one it prints the throttle, when it began and ended, and
how long after the previous stall's end it ended, and when in it the poll first shows a new dirty sync. Under TCG, QEMU ends every dirty-bitmap sync by
running an empty job on the vCPU and waiting for it (softmmu/physmem.c, tcg_log_global_after_sync ->
run_on_cpu). A vCPU throttled at p sleeps p / (1 - p) x 10 ms once every 10 ms / (1 - p), so at 99 %
the migration waits up to 990 ms after each sync, and the stalls end on the vCPU's 1 s beat.
docs/validation.md quotes this script's output. Python 3 standard library only; the project itself
never reads the shared folder.
"""
import glob
import json
import os
import sys

MIN_STALL_S = 0.15


def stalls(run):
    s = run["samples"]
    t, xfer, status = s["t"], s["transferred"], s["status"]
    thr = s.get("cpu_throttle_percentage") or [None] * len(t)
    syncs = s["dirty_sync_count"]
    out, i = [], 0
    while i < len(t):
        j = i
        while j + 1 < len(t) and status[j + 1] == "active" and xfer[j + 1] == xfer[i]:
            j += 1
        if status[i] == "active" and xfer[i] is not None and t[j] - t[i] >= MIN_STALL_S:
            # The first poll in the stall that shows a new dirty sync.
            synced = next((t[k] for k in range(i, j + 1) if i > 0 and syncs[k] != syncs[i - 1]), None)
            out.append((t[i], t[j + 1] if j + 1 < len(t) else t[j], thr[i] or 0, synced))
        i = j + 1
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    paths = sorted(glob.glob(os.path.join(sys.argv[1], "runs", "*-ac*.json")))
    if not paths:
        sys.exit("no auto-converge runs under %s/runs" % sys.argv[1])
    print("%-58s %8s %15s %7s %10s %7s" % ("run", "throttle", "stall s", "length", "end - last", "sync at"))
    for p in paths:
        rid = os.path.basename(p)[:-5]
        last = None
        found = stalls(json.load(open(p)))
        for a, b, pct, synced in found:
            gap = "" if last is None else "%.2f" % (b - last)
            print("%-58s %7d%% %7.2f-%-7.2f %7.2f %10s %7s" % (rid, pct, a, b, b - a, gap, "-" if synced is None else "%.2f" % synced))
            last = b
        if not found:
            print("%-58s %8s %15s" % (rid, "-", "none"))


if __name__ == "__main__":
    main()
