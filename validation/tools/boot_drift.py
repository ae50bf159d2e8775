#!/usr/bin/env python3
"""The machine's drift, seen before each migration: the guest's boot to ready against QEMU's time.

Every lab run boots its guest and waits until the dirtier is ready before it migrates
(`boot_to_ready_s`: TCG work and first touches of fresh memory on the same host, moments before the
migration). This reads the runs of this project's machine kept in the repo, all taken on 2026-12-07:
the calibration runs (calibration/*/results.csv, but for `loaded`, taken under other jobs' load,
and the `prefree` runs, which wrote and freed memory just before migrating) and the scored sets converted from it
(validation/qemu-cpu-quiet, set 7, and validation/qemu-mechanisms-quiet, set 8, whose case headers
carry the start time and boot). It prints:

1. The median and the longest boot of each guest (memory, working set) in the session the
   converter's constants were fitted in (10:04-10:37: the quiet calibration runs and set 7), as
   convert_qemu.py's BOOT_REF and BOOT_MAX hold them (`--check` fails unless they do, and unless
   its DRIFT_CORES is the median of thread_cpu.py's last line; CI runs it).
2. Every setting taken in more than one session: each session's boots and QEMU total times
   (medians), and their ratios to the first session's.
3. Within a session: over the settings with 3 repeats, how often the repeat with the longest boot
   was also the slowest migration, and the correlation of each run's boot and time, both taken
   relative to its setting's medians in that session.

Nothing is fitted here. Python 3 standard library only.

4. With `--later`: the batches taken afterwards to test BOOT_SPEED on runs it was not chosen on
   (calibration/evening and calibration/confirm), scored with and without it (needs
   target/release/migsim).
5. With `--pace`: the batch taken with the lab's pace probe (calibration/pace) and how its
   readings and the boot correlate with QEMU's time, setting by setting.
6. With `--session`: the same for set 9's session (calibration/session: its calibration runs and
   the summary rows of its scored runs), every run of which carried the probe.

    python3 validation/tools/boot_drift.py [--check | --later | --pace | --session]
"""
import csv
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATION = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import convert_qemu  # noqa: E402  (its BOOT_REF, BOOT_MAX and DRIFT_CORES)
import thread_cpu  # noqa: E402  (the cores QEMU's threads got under multifd)

# The session the converter's constants were fitted in (calibrate_cpu.py on calibration/quiet; set 7
# was taken in the same batch).
FIT_SESSION = ("10:04", "10:37")
# A gap of more than this many minutes between two runs of a setting starts a new session.
SESSION_GAP_MIN = 45
STARTED = re.compile(r"^# Started (\d\d:\d\d) UTC; the guest took ([0-9.]+) s from boot to ready")
GUEST = re.compile(r"^# (\d+) MiB guest, (?:an idle guest|dirtier [^,]+), wss (\d+) MiB")


def setting(run_id):
    """A run's setting, whatever batch took it: no batch prefix, no repeat, no calibration tag."""
    s = re.sub(r"-rep\d+$", "", run_id)
    s = re.sub(r"-calib$", "", s)
    return re.sub(r"^(cpu|mq|threads|vcpu|calib|hand|pace|ses|prefree\d+)-", "", s)


def runs():
    """(source, HH:MM, setting, memory MiB, working set MiB, boot s, QEMU total time s) of every run."""
    out = []
    for path in sorted(glob.glob(os.path.join(HERE, "calibration", "*", "results.csv"))):
        src = os.path.basename(os.path.dirname(path))
        if src == "loaded":
            continue  # taken under other jobs' load, which the converter counts apart
        for r in csv.DictReader(open(path, newline="")):
            if not r.get("boot_to_ready_s") or not r.get("total_time_ms"):
                continue
            if r["run_id"].startswith("prefree"):
                continue  # memory written and freed just before migrating: not the usual pace
            out.append((src, r["date"][11:16], setting(r["run_id"]), int(float(r["mem_mib"])),
                        int(float(r["wss_mib"] or 0)), float(r["boot_to_ready_s"]), float(r["total_time_ms"]) / 1e3))
    for name in ("qemu-cpu-quiet", "qemu-mechanisms-quiet"):
        for path in sorted(glob.glob(os.path.join(VALIDATION, name, "*.toml"))):
            if os.path.basename(path) == "set.toml":
                continue
            started = guest = total = None
            for line in open(path):
                started = started or STARTED.match(line)
                guest = guest or GUEST.match(line)
                if line.startswith("total_time_s = "):
                    total = float(line.split("=")[1].split("#")[0])
            if started and guest and total:
                out.append((name, started.group(1), setting(os.path.basename(path)[:-5]), int(guest.group(1)),
                            int(guest.group(2)), float(started.group(2)), total))
    return out


def boot_ref(rows):
    """The median and the longest boot of each guest in the fitting session."""
    by = {}
    for _, at, _, mem, wss, boot, _ in rows:
        if FIT_SESSION[0] <= at <= FIT_SESSION[1]:
            by.setdefault((mem, wss), []).append(boot)
    return ({k: round(statistics.median(v), 2) for k, v in sorted(by.items())},
            {k: round(max(v), 2) for k, v in sorted(by.items())}, {k: len(v) for k, v in by.items()})


def minutes(at):
    return int(at[:2]) * 60 + int(at[3:])


def sessions(rows):
    """Each setting's runs split into sessions: {setting: [[row, ...], ...]} in time order."""
    by = {}
    for row in sorted(rows, key=lambda r: r[1]):
        groups = by.setdefault(row[2], [])
        if groups and minutes(row[1]) - minutes(groups[-1][-1][1]) <= SESSION_GAP_MIN:
            groups[-1].append(row)
        else:
            groups.append([row])
    return by


# The batches taken after BOOT_SPEED was written, to test it on runs it was not chosen on: (folder
# under calibration/, the set whose constants convert them, what each was taken as).
LATER = [("evening", "qemu-mechanisms-quiet", "set 8's multifd settings again, 16:49-16:53 UTC"),
         ("confirm", "qemu-cpu-quiet", "set 7's settings with no cap again, the test fixed before it ran")]
VARIANTS = [("as the committed sets", {}), ("BOOT_SPEED=spread", {"BOOT_SPEED": "spread"}),
            ("BOOT_SPEED=median", {"BOOT_SPEED": "median"}), ("HOST_CPU_CORES=1.83", {"HOST_CPU_CORES": "1.83"}),
            ("BOOT_SPEED=median, 1.83 cores", {"BOOT_SPEED": "median", "HOST_CPU_CORES": "1.83"}),
            ("BOOT_SPEED=band", {"BOOT_SPEED": "band"})]


def later(migsim):
    """Score each later batch converted as its set, without BOOT_SPEED and with each variant (and
    with 1.83 cores: docs/validation.md, "The cores QEMU's threads get")."""
    for name, set_name, what in LATER:
        folder = os.path.join(HERE, "calibration", name)
        if not os.path.isdir(folder):
            continue
        print("%s (%s), converted as %s and scored by migsim validate:" % (
            os.path.relpath(folder, VALIDATION), what, set_name))
        print("%-36s %16s %16s %9s %8s" % ("conversion", "time med / p90", "bytes med / p90", "downtime", "syncs"))
        for label, env in VARIANTS:
            with tempfile.TemporaryDirectory() as d:
                subprocess.run([sys.executable, os.path.join(HERE, "convert_qemu.py"), folder, "--set", set_name,
                                "--out", d], env=dict(os.environ, **env), check=True, stdout=subprocess.DEVNULL)
                out = subprocess.run([migsim, "validate", d, "--format", "json"], capture_output=True, text=True).stdout
            # validate's summary lines: "SET: METRIC: median |err| X%, p90 Y%, ... N/M within ..." or "N/M exact".
            lines = {line.split(": ")[1]: line for line in json.loads(out)["sets"][0]["lines"]}
            pct = lambda m: "%s / %s %%" % re.search(r"median \|err\| ([0-9.]+)%, p90 ([0-9.]+)%", lines[m]).groups()
            ok = lambda m: "%s of %s" % re.search(r"(\d+)/(\d+) (?:within|exact)", lines[m]).groups()
            print("%-36s %16s %16s %9s %8s" % (label, pct("total_time_s"), pct("bytes_sent"), ok("downtime_s"), ok("syncs")))
        print()


def pace(folders=("pace",)):
    """Batches taken with the lab's pace probe (`migrate.py --pace-probe-mib 32`; calibration/pace,
    or set 9's session, calibration/session): each run's boot, the probe's SHA-256 and first-touch
    medians and QEMU's time; per setting with 3 runs or more how each correlates with the time; and
    over all runs, each over its setting's median."""
    by = {}
    print("%-60s %5s %7s %11s %14s %8s" % ("run", "UTC", "boot s", "SHA-256 MB/s", "first touch us", "QEMU s"))
    for name in folders:
        folder = os.path.join(HERE, "calibration", name)
        for r in csv.DictReader(open(os.path.join(folder, "results.csv"), newline="")):
            if not r["total_time_ms"]:
                continue  # did not converge: no time
            row = [float(r[k]) for k in ("boot_to_ready_s", "pace_sha256_mbps", "pace_first_touch_us")]
            row.append(float(r["total_time_ms"]) / 1e3)
            print("%-60s %5s %7.2f %11.1f %14.3f %8.3f" % (r["run_id"], r["date"][11:16], *row))
            by.setdefault(setting(r["run_id"]), []).append(row)
    pooled = []
    for s, rows in sorted(by.items()):
        cols = list(zip(*rows))
        meds = [statistics.median(c) for c in cols]
        pooled += [[x / m for x, m in zip(row, meds)] for row in rows]
        if len(rows) < 3 or any(len(set(c)) < 2 for c in cols):
            continue
        print("%s, %d runs: correlation with QEMU's time: boot %.2f, SHA-256 pace %.2f, first touch %.2f" % (
            s, len(rows), *(statistics.correlation(cols[i], cols[3]) for i in range(3))))
    cols = list(zip(*pooled))
    print("all %d runs, each over its setting's median: correlation with QEMU's time: boot %.2f, SHA-256 pace %.2f, "
          "first touch %.2f" % (len(pooled), *(statistics.correlation(cols[i], cols[3]) for i in range(3))))


def main():
    check = "--check" in sys.argv[1:]
    if "--pace" in sys.argv[1:]:
        pace()
        return 0
    if "--session" in sys.argv[1:]:
        pace(("session/pace", "session/stop", "session/scored"))
        return 0
    if "--later" in sys.argv[1:]:
        later(os.path.join(VALIDATION, "..", "target", "release", "migsim"))
        return 0
    rows = runs()
    ref, longest, n = boot_ref(rows)
    print("boot to ready in %s-%s UTC, the session the converter's constants were fitted in:" % FIT_SESSION)
    for (mem, wss), b in ref.items():
        print("  %4d MiB guest, working set %3d MiB: median %.2f s (BOOT_REF), longest %.2f s (BOOT_MAX), %d runs" % (
            mem, wss, b, longest[(mem, wss)], n[(mem, wss)]))
    if check:
        cores = "%.2f" % statistics.median(thread_cpu.full_cores())
        if (ref, longest, cores) != (convert_qemu.BOOT_REF, convert_qemu.BOOT_MAX, convert_qemu.DRIFT_CORES):
            print("boot check: convert_qemu.py's BOOT_REF, BOOT_MAX and DRIFT_CORES are %s, %s and %s; the runs say %s, %s "
                  "and %s: FAILED" % (convert_qemu.BOOT_REF, convert_qemu.BOOT_MAX, convert_qemu.DRIFT_CORES, ref, longest, cores))
            return 1
        print("boot check: convert_qemu.py's BOOT_REF, BOOT_MAX and DRIFT_CORES (%s, thread_cpu.py) hold these" % cores)
        return 0
    print()
    print("settings taken in more than one session (medians; ratios to the first session):")
    print("%-52s %-13s %2s %7s %8s %6s %6s" % ("setting", "session UTC", "n", "boot s", "QEMU s", "boot", "time"))
    within = []
    pooled = []
    between = []
    for s, groups in sorted(sessions(rows).items()):
        for g in groups:
            if len(g) == 3:
                slowest_boot = max(g, key=lambda r: r[5])
                within.append(slowest_boot is max(g, key=lambda r: r[6]))
            if len(g) >= 2:
                mb, mt = statistics.median(r[5] for r in g), statistics.median(r[6] for r in g)
                pooled += [(r[5] / mb, r[6] / mt) for r in g]
        if len(groups) < 2:
            continue
        first = None
        for g in groups:
            b, t = statistics.median(r[5] for r in g), statistics.median(r[6] for r in g)
            first = first or (b, t)
            if g is not groups[0]:
                between.append((b / first[0], t / first[1]))
            print("%-52s %-13s %2d %7.2f %8.3f %6.2f %6.2f" % (
                s, "%s-%s" % (g[0][1], g[-1][1]), len(g), b, t, b / first[0], t / first[1]))
    if between:
        bs, ts = [b for b, _ in between], [t for _, t in between]
        print("between sessions (%d later ones): boot x%.2f-%.2f, median x%.2f; QEMU's time x%.2f-%.2f, median x%.2f" % (
            len(between), min(bs), max(bs), statistics.median(bs), min(ts), max(ts), statistics.median(ts)))
    print("within a session: the longest of 3 boots was the slowest of 3 migrations in %d of %d settings "
          "(1 in 3 by chance); boot vs time, each over its setting's median: correlation %.2f over %d runs" % (
              sum(within), len(within), statistics.correlation(*zip(*pooled)), len(pooled)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.stdout = None
