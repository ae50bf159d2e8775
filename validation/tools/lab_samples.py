#!/usr/bin/env python3
"""Read the QEMU lab's 50 ms samples (runs/*.json) for the figures docs/validation.md quotes.

    python3 validation/tools/lab_samples.py stalls <lab folder>
    python3 validation/tools/lab_samples.py syncs <lab folder> RUN_ID [RUN_ID ...]

`stalls`: the stretches of at least 0.15 s (three polls) in which `transferred` does not move while
an auto-converge run is active. For each: the throttle, when it began and ended, how long after the
previous stall's end it ended, and when in it the polls first show a new dirty sync. Under TCG,
QEMU ends every dirty-bitmap sync by running an empty job on the vCPU and waiting for it
(softmmu/physmem.c, tcg_log_global_after_sync -> run_on_cpu). A vCPU throttled at p sleeps
p / (1 - p) x 10 ms once every 10 ms / (1 - p), so at 99 % the migration waits up to 990 ms after
each sync, and the stalls end on the vCPU's 1 s beat.

`syncs`: for each dirty sync of the given runs, the pages newly dirty at it. A poll shows
`remaining` after the pages sent since the sync, so the count is `remaining` at the poll after the
sync, minus `remaining` at the poll before, plus the pages sent between the two polls (normal,
zero and XBZRLE pages).

Python 3 standard library only; the project itself never reads the shared folder.
"""
import glob
import json
import os
import signal
import sys

MIN_STALL_S = 0.15
PAGE = 4096


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


def cmd_stalls(lab):
    paths = sorted(glob.glob(os.path.join(lab, "runs", "*-ac*.json")))
    if not paths:
        sys.exit("no auto-converge runs under %s/runs" % lab)
    print("%-58s %8s %15s %7s %10s %7s" % ("run", "throttle", "stall s", "length", "end - last", "sync at"))
    for p in paths:
        rid = os.path.basename(p)[:-5]
        last = None
        found = stalls(json.load(open(p)))
        for a, b, pct, synced in found:
            gap = "" if last is None else "%.2f" % (b - last)
            print("%-58s %7d%% %7.2f-%-7.2f %7.2f %10s %7s" % (
                rid, pct, a, b, b - a, gap, "-" if synced is None else "%.2f" % synced))
            last = b
        if not found:
            print("%-58s %8s %15s" % (rid, "-", "none"))


def pages_sent(s, i):
    """Pages sent by poll i: normal, zero and XBZRLE pages."""
    return sum((s[k][i] or 0) for k in ("normal", "duplicate", "xbzrle_pages") if s.get(k))


def cmd_syncs(lab, ids):
    print("%-58s %9s %13s %9s %9s %7s %9s" % ("run", "syncs", "polls s", "before", "after", "sent", "new"))
    for rid in ids:
        path = os.path.join(lab, "runs", rid + ".json")
        if not os.path.exists(path):
            sys.exit("%s: no such run" % path)
        s = json.load(open(path))["samples"]
        t, sc, rem = s["t"], s["dirty_sync_count"], s["remaining"]
        for i in range(1, len(t)):
            if sc[i] is None or sc[i - 1] is None or sc[i] == sc[i - 1] or rem[i] is None or rem[i - 1] is None:
                continue
            a, b = rem[i - 1] // PAGE, rem[i] // PAGE
            sent = pages_sent(s, i) - pages_sent(s, i - 1)
            print("%-58s %4d->%-4d %6.2f-%-6.2f %9d %9d %7d %9d" % (
                rid, sc[i - 1], sc[i], t[i - 1], t[i], a, b, sent, b - a + sent))


def main():
    # Quietly stop when the output is cut short (| head).
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if len(sys.argv) >= 3 and sys.argv[1] == "stalls":
        return cmd_stalls(sys.argv[2])
    if len(sys.argv) >= 4 and sys.argv[1] == "syncs":
        return cmd_syncs(sys.argv[2], sys.argv[3:])
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
