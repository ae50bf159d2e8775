#!/usr/bin/env python3
"""The guest's vCPU demand before migrating, per guest and writer, from the lab's sampled runs.

Reads lab records taken with `migrate.py --thread-cpu 1 --before-s 3` (`run_grid.py
--vcpu-share`; the committed ones are in calibration/vcpu): the CPU time of the source QEMU's vCPU
thread (`CPU 0/TCG`) over the 3 s before `migrate`, as a share of a core. Prints it per run, then
each guest's median over its repeats beside what the converter used to assume (0 for an idle guest,
1 for the max-rate writer, write rate / DIRTIER_FULL_CPU for a paced one).

    python3 validation/tools/vcpu_share.py [FOLDER]           # print
    python3 validation/tools/vcpu_share.py --write            # write guest_vcpu.json
    python3 validation/tools/vcpu_share.py --check            # CI: guest_vcpu.json holds the medians

`guest_vcpu.json` is what `convert_qemu.py` reads for `guest_cpu`, keyed
"memory-workload-rate-working set-hot set" as in the runs' settings. Nothing is fitted.
"""
import argparse
import csv
import json
import os
import statistics
import sys

import convert_qemu  # its DIRTIER_FULL_CPU (this script's folder; it imports key() from here)
from thread_cpu import before  # the vCPU's share of a core before `migrate`

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "calibration", "vcpu")
OUT = os.path.join(HERE, "guest_vcpu.json")
DIRTIER_FULL_CPU = float(convert_qemu.DIRTIER_FULL_CPU.split()[0])


def key(row):
    """The guest and writer of a lab results row, as guest_vcpu.json keys them."""
    def i(x):
        return str(int(float(x or 0)))
    return "-".join((i(row["mem_mib"]), row["wl"], i(row["rate_target"]), i(row["wss_mib"]),
                     i(row["hot_mib"]) if row["wl"] == "hotspot" else "0"))


def assumed(row):
    rate = float(row["rate_target"] or 0)
    if row["wl"] == "idle":
        return 0.0
    if rate == 0:
        return 1.0
    return rate / DIRTIER_FULL_CPU


def medians(folder):
    rows = list(csv.DictReader(open(os.path.join(folder, "results.csv"))))
    per = {}
    out = []
    for r in rows:
        rec = json.load(open(os.path.join(folder, "runs", r["run_id"] + ".json")))
        share = before(rec) if rec.get("thread_cpu") else None
        if share is None:
            continue
        out.append((r["run_id"], share))
        per.setdefault(key(r), (r, []))[1].append(share)
    return out, per


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", default=DEFAULT)
    ap.add_argument("--write", action="store_true", help="write the medians to guest_vcpu.json")
    ap.add_argument("--check", action="store_true", help="fail unless guest_vcpu.json holds the medians")
    a = ap.parse_args()
    runs, per = medians(a.folder)
    table = {k: round(statistics.median(v), 3) for k, (_, v) in sorted(per.items())}
    if a.write or a.check:
        doc = {"_about": "The guest's vCPU demand before migrating, as a share of one core: the median over "
                         "3 boots of the CPU time of the source QEMU's vCPU thread in the 3 s before `migrate` "
                         "(validation/tools/calibration/vcpu, run_grid.py --vcpu-share, printed by "
                         "vcpu_share.py). Keyed memory MiB-workload-rate-working set MiB-hot set MiB. "
                         "convert_qemu.py reads it for guest_cpu."}
        doc.update(table)
        if a.write:
            tmp = OUT + ".tmp"
            with open(tmp, "w") as f:
                json.dump(doc, f, indent=1, sort_keys=True)
                f.write("\n")
            os.replace(tmp, OUT)
            print("wrote", OUT)
        else:
            with open(OUT) as f:
                have = json.load(f)
            if have != doc:
                sys.exit("guest_vcpu.json does not hold the medians of %s: run vcpu_share.py --write" % a.folder)
            print("guest_vcpu.json holds the medians of %d guests" % len(table))
        return
    for run_id, share in runs:
        print("%-58s %6.3f" % (run_id, share))
    print()
    print("%-34s %7s %7s %7s" % ("guest (mem-workload-rate-wss-hot)", "median", "range", "assumed"))
    for k, (r, v) in sorted(per.items()):
        print("%-34s %7.3f %3.2f-%3.2f %7.3f" % (k, statistics.median(v), min(v), max(v), assumed(r)))


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.stdout = None
