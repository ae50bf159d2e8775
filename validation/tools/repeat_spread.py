#!/usr/bin/env python3
"""How far QEMU's own repeats of one configuration differ, in a reference set with repeats.

    python3 validation/tools/repeat_spread.py validation/qemu-cpu-quiet [validation/qemu-cpu ...]

A configuration is the cases whose names differ only in a `-repN` suffix. For each metric (total
time, downtime, bytes sent), over the configurations where every repeat has the figure: the median
and the largest (highest - lowest) / lowest. docs/validation.md quotes these for sets 6 and 7.
Python 3.11+ standard library only (tomllib).
"""
import os
import re
import statistics
import sys
import tomllib

METRICS = ("total_time_s", "downtime_s", "bytes_sent")


def spreads(folder):
    groups = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".toml") or name == "set.toml":
            continue
        with open(os.path.join(folder, name), "rb") as f:
            ref = tomllib.load(f).get("reference", {})
        groups.setdefault(re.sub(r"-rep\d+$", "", name[:-5]), []).append(ref)
    out = {}
    for m in METRICS:
        s = [(max(v) - min(v)) / min(v) for v in ([r.get(m) for r in refs] for refs in groups.values() if len(refs) > 1)
             if None not in v and min(v) > 0]
        out[m] = (len(s), statistics.median(s) if s else None, max(s) if s else None)
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for folder in sys.argv[1:]:
        for m, (n, med, top) in spreads(folder).items():
            if n:
                print("%s: %s: median spread %.1f%%, largest %.1f%%, over %d configurations" % (
                    os.path.basename(os.path.normpath(folder)), m, 100 * med, 100 * top, n))


if __name__ == "__main__":
    main()
