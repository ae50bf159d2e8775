#!/usr/bin/env python3
"""Calibrate the host CPU model's three converter constants on the lab's calibration runs.

    python3 validation/tools/calibrate_cpu.py validation/tools/lab/results [--migsim target/release/migsim]

The calibration runs (`run_grid.py --calib`: ids starting with `calib-`, a 64 MiB working set that no
scored case uses) are converted with each candidate, simulated with `migsim validate`, and scored by
the median |error| of total time, then of bytes sent. First with the load average alone
(IGNORE_PROBE=1): OWN_LOAD (the harness's own share of the 1-min load at a run's start), LOAD_WEIGHT
(threads per unit of the rest) and CPU_RATE_ZERO (the CPU pace of zero pages); then with the CPU
probe: HOST_LOAD_MODEL (threads or group, see convert_qemu.py) and CPU_RATE_ZERO. The best
candidates are printed; the converter's defaults (convert_qemu.py) hold them. The scored runs
(`cpu-`) are never read here. Python 3 standard library only.
"""
import argparse
import csv
import io
import itertools
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def score(results, migsim, own, weight, zero, extra=None):
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "calib"))
        with open(os.path.join(d, "calib", "set.toml"), "w") as f:
            f.write('name = "calib"\nkind = "qemu"\n')
        env = dict(os.environ, OWN_LOAD=str(own), LOAD_WEIGHT=str(weight), CPU_RATE_ZERO=zero, **(extra or {}))
        subprocess.run([sys.executable, os.path.join(HERE, "convert_qemu.py"), results, "--set", "calib",
                        "--only", "calib-", "--out", d], env=env, check=True, stdout=subprocess.DEVNULL)
        out = subprocess.run([migsim, "validate", d, "--format", "csv"], capture_output=True, text=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    err = lambda m: [abs(float(r["error"])) for r in rows if r["metric"] == m]
    return statistics.median(err("total_time_s")), statistics.median(err("bytes_sent")), rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", help="the lab's results folder (results.csv, runs/)")
    ap.add_argument("--migsim", default=os.path.join(HERE, "..", "..", "target", "release", "migsim"))
    a = ap.parse_args()
    # Stage 1: the load average alone (IGNORE_PROBE=1), for runs with no probe.
    grid = itertools.product((0.0, 0.8, 1.6), (0.5, 0.75, 1.0, 1.5), ("", "4 GB/s", "1 GB/s"))
    best = None
    for own, weight, zero in grid:
        t, b, _ = score(a.results, a.migsim, own, weight, zero, {"IGNORE_PROBE": "1"})
        print("load average: OWN_LOAD=%-4s LOAD_WEIGHT=%-5s CPU_RATE_ZERO=%-8r time median %6.2f%%  bytes median %6.2f%%" % (
            own, weight, zero, t * 100, b * 100), flush=True)
        if best is None or (t, b) < best[0]:
            best = ((t, b), (own, weight, zero))
    (t, b), (own, weight, zero) = best
    print("best with the load average: OWN_LOAD=%s LOAD_WEIGHT=%s CPU_RATE_ZERO=%r (time median %.2f%%, bytes median %.2f%%)" % (
        own, weight, zero, t * 100, b * 100))
    # Stage 2: the probe, read as threads in one scheduler or as a share left to QEMU's group.
    best2 = None
    for model, zero2 in itertools.product(("threads", "group"), ("", "4 GB/s", "1 GB/s")):
        t, b, _ = score(a.results, a.migsim, own, weight, zero2, {"HOST_LOAD_MODEL": model, "IGNORE_PROBE": "0"})
        print("probe: HOST_LOAD_MODEL=%-7s CPU_RATE_ZERO=%-8r time median %6.2f%%  bytes median %6.2f%%" % (
            model, zero2, t * 100, b * 100), flush=True)
        if best2 is None or (t, b) < best2[0]:
            best2 = ((t, b), (model, zero2))
    (t, b), (model, zero2) = best2
    print("best with the probe: HOST_LOAD_MODEL=%s CPU_RATE_ZERO=%r (time median %.2f%%, bytes median %.2f%%)" % (
        model, zero2, t * 100, b * 100))


if __name__ == "__main__":
    sys.exit(main())
