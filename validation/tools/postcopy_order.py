#!/usr/bin/env python3
"""How QEMU's post-copy push order sets its total time, from the traced lab runs.

Reads lab records taken with `migrate.py --trace-requests 1` (`run_grid.py --trace-postcopy`;
the committed ones are in calibration/postcopy) and prints, for each run:

- QEMU's total time and page requests;
- how many full rate-limit windows (max-bandwidth / 10 bytes each) went out before the tail, the
  rest that QEMU sends unthrottled once what is left (zero pages counted at 4 KiB, like QEMU's
  `remaining`) is under bandwidth x downtime-limit;
- how many zero pages were still unsent at the last sample before the tail. The push jumps to each
  requested page (QEMU's ram_find_and_save_block keeps the requested page as its next start), so
  where the guest faults decides when the push crosses the guest's zero-page areas, which cost
  QEMU's window almost nothing but count in `remaining`;

then each setting's range over its repeats, and the pages requested in every run (the guest
kernel's, whatever the writer does). Nothing is fitted on these runs.

    python3 validation/tools/postcopy_order.py [FOLDER]
"""
import glob
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "calibration", "postcopy")
PAGE = 4096


def requested_pages(rec):
    """Pages the destination asked for, in order, as (seconds from `migrate`, page number)."""
    out = []
    for t, event, fields in rec.get("requests", []):
        if event == "migrate_handle_rp_req_pages":
            addr = int(fields.split(" at ")[1].split()[0], 16)
            out.append((t, addr // PAGE))
    return out


def last_window(rec):
    """The last post-copy sample with pages still to send: (bytes sent, pages left, zero pages
    not yet sent)."""
    s = rec["samples"]
    zero_total = rec["final_src"]["ram"]["duplicate"]
    last = None
    for i, status in enumerate(s["status"]):
        if status == "postcopy-active" and s["remaining"][i]:
            last = i
    if last is None:
        return None
    return (s["transferred"][last], s["remaining"][last] // PAGE, zero_total - s["duplicate"][last])


def setting(run_id):
    return run_id.rsplit("-rep", 1)[0]


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    recs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(folder, "runs", "*.json")))]
    recs = [r for r in recs if r.get("outcome") == "completed" and "requests" in r]
    if not recs:
        sys.exit("no completed traced runs under %s" % folder)
    quota = None
    print("%-52s %8s %8s %8s %10s" % ("run", "time ms", "requests", "windows", "zero left"))
    by_setting = {}
    for r in recs:
        cap = float(r["params"]["max-postcopy-bandwidth"] or r["params"]["max-bandwidth"])
        quota = cap / 10  # QEMU's window: 100 ms of the cap (XFER_LIMIT_RATIO)
        lw = last_window(r)
        windows = "%d" % round(lw[0] / quota) if lw else "-"
        zero_left = "%d" % lw[2] if lw else "-"
        ms = r["final_src"]["total-time"]
        print("%-52s %8d %8d %8s %10s" % (r["run_id"], ms, len(requested_pages(r)), windows, zero_left))
        by_setting.setdefault(setting(r["run_id"]), []).append(ms)
    print()
    print("%-48s %-20s %s" % ("setting", "time ms (min-max)", "max / min"))
    for name, times in by_setting.items():
        print("%-48s %-20s %.2f" % (name, "%d-%d (%d runs)" % (min(times), max(times), len(times)),
                                     max(times) / min(times)))
    # Pages most runs asked for, whatever the writer: the guest's own.
    seen = {}
    for r in recs:
        for p in set(p for _, p in requested_pages(r)):
            seen[p] = seen.get(p, 0) + 1
    common = sorted(p for p, n in seen.items() if 2 * n >= len(recs))
    print()
    print("pages requested in at least half of the %d runs: %s" % (
        len(recs), ", ".join("%d (%.1f MiB, %d runs)" % (p, p * PAGE / 2**20, seen[p]) for p in common) or "none"))
    # Within a setting, does an early crossing of the zero pages go with a short run?
    crossed = [r["final_src"]["total-time"] for r in recs
               if last_window(r) and last_window(r)[2] == 0 and "-w0-" not in r["run_id"]]
    not_crossed = [r["final_src"]["total-time"] for r in recs
                   if last_window(r) and last_window(r)[2] > 0 and "-w0-" not in r["run_id"]]
    if crossed and not_crossed:
        print("128 MiB working set: runs whose push had sent every zero page before the tail: %d, "
              "median %d ms; the others: %d, median %d ms"
              % (len(crossed), statistics.median(crossed), len(not_crossed), statistics.median(not_crossed)))


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(0)
