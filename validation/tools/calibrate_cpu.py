#!/usr/bin/env python3
"""Calibrate the host CPU model's converter constants on the lab's calibration runs.

    python3 validation/tools/calibrate_cpu.py RESULTS --pace      # a quiet host: its own pace
    python3 validation/tools/calibrate_cpu.py RESULTS --stop      # ... and its final copy's pace
    python3 validation/tools/calibrate_cpu.py RESULTS [--new R --zero Z]   # a loaded host: the load
    python3 validation/tools/calibrate_cpu.py --interference      # ... and a running vCPU's interference
    python3 validation/tools/calibrate_cpu.py --share             # the writer's pace during migration
    python3 validation/tools/calibrate_cpu.py --guest             # ... and the stream's interference on it
    python3 validation/tools/calibrate_cpu.py --check             # the converter holds the fits

RESULTS is a lab results folder; validation/tools/calibration/quiet, .../stop, .../share and
.../loaded hold this project's calibration runs (their records cut to what the converter reads),
and .../session/pace and .../session/stop set 9's, taken in its own session (.../session2: set
10's; .../settle and .../settle2: sets 11 and 12; .../settle3: set 13; .../settle4 and .../settle5: sets 14 and 15).

The calibration runs (`run_grid.py --calib`: ids starting with `calib-`, a 64 MiB working set that no
scored case uses) are converted with each candidate, simulated with `migsim validate`, and scored by
the median |error| of total time, then of bytes sent.

--pace, for runs taken while the machine was quiet (its load the harness's own, no other threads):
HOST_CPU_NEW (the stream's pace for pages new to the destination) and CPU_RATE_ZERO (the CPU pace
of zero pages). --stop, for the stop-and-copy runs (`run_grid.py --calib-stop`: the max-rate
writer over working sets no scored case uses, so that the final copy re-sends 100-270 MB the
destination holds while the guest is paused): HOST_CPU_RESENT_PAUSED, by the median |error| of
downtime, then of total time. --interference, on every quiet calibration run of the max-rate
writer: CPU_INTERFERENCE, by total time, then bytes. Without any of these, for runs taken under
other jobs' load, with the machine's constants given (--new, --zero, --paused, --interference-k; by
default the quiet machine's): OWN_LOAD (the harness's own share of the 1-min load at a run's start)
and LOAD_WEIGHT (threads per unit of the rest); then with the CPU probe: HOST_LOAD_MODEL (threads
or group, see convert_qemu.py). The best candidates are printed; convert_qemu.py's SET_CONSTANTS
hold them. --share fits nothing: it compares the max-rate writer's own pace during migration
with the model's. --guest fits GUEST_INTERFERENCE (how much slower the vCPU goes while the stream
works flat out) on the share runs with no cap, and prints the capped ones beside it as the check.
The scored runs (`cpu-`) are never read here. Python 3 standard library only. --check refits
every stage on validation/tools/calibration in that order (the guest's interference, pace, paused
pace, the stream's interference, load; each with the earlier ones in place), requires the pace and
the paused pace not to move with the stream's interference in place, refits set 9's pace and paused
pace on calibration/session, set 10's on calibration/session2 and sets 11 and 12's on
calibration/settle and calibration/settle2, set 13's on calibration/settle3 with
SOCKET_BUFFER in place (drain_at_stop) and sets 14 and 15's on calibration/settle4 and
calibration/settle5 with SOCKET_BUFFER and UNTOUCHED=measured in place, and fails unless
convert_qemu.py's SET_CONSTANTS for qemu-cpu-quiet, qemu-mechanisms-quiet, qemu-cpu,
qemu-session, qemu-session2, qemu-settle, qemu-settle2, qemu-settle3, qemu-settle4 and
qemu-settle5 are the fits (CI runs it).
"""
import argparse
import csv
import io
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import convert_qemu  # noqa: E402  (its SET_CONSTANTS and fnum; conversions run it as a process)
# Every calibration run of the max-rate writer on the quiet machine (for --interference).
MAX_WRITER_RUNS = [(os.path.join(HERE, "calibration", "quiet"), "calib-m256-uniform-r0"),
                   (os.path.join(HERE, "calibration", "stop"), "calib-")]


def score(results, migsim, own, weight, zero, extra=None, new="320 MiB/s"):
    """Median |error| of each metric over the runs of `results` (a folder, or a list of (folder, id
    prefix)) converted with these constants."""
    sources = [(results, "calib-")] if isinstance(results, str) else results
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "calib"))
        with open(os.path.join(d, "calib", "set.toml"), "w") as f:
            f.write('name = "calib"\nkind = "qemu"\n')
        env = dict(os.environ, OWN_LOAD=str(own), LOAD_WEIGHT=str(weight), CPU_RATE_ZERO=zero, HOST_CPU_NEW=new,
                   **(extra or {}))
        for folder, only in sources:
            subprocess.run([sys.executable, os.path.join(HERE, "convert_qemu.py"), folder, "--set", "calib",
                            "--only", only, "--out", d], env=env, check=True, stdout=subprocess.DEVNULL)
        out = subprocess.run([migsim, "validate", d, "--format", "csv"], capture_output=True, text=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    # A run that did not converge has no downtime (nan): it counts as a miss of 100 %.
    err = lambda m: [min(abs(float(r["error"])), 1.0) if r["error"] != "nan" else 1.0 for r in rows if r["metric"] == m]
    return {m: statistics.median(err(m)) for m in ("total_time_s", "bytes_sent", "downtime_s")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", nargs="?", help="the lab's results folder (results.csv, runs/)")
    ap.add_argument("--migsim", default=os.path.join(HERE, "..", "..", "target", "release", "migsim"))
    ap.add_argument("--pace", action="store_true", help="fit the quiet machine's pace (HOST_CPU_NEW, CPU_RATE_ZERO)")
    ap.add_argument("--new", default="320 MiB/s", help="HOST_CPU_NEW for the later stages")
    ap.add_argument("--zero", default="3 GB/s", help="CPU_RATE_ZERO for the later stages")
    ap.add_argument("--paused", default="2300 MB/s", help="HOST_CPU_RESENT_PAUSED for the later stages")
    ap.add_argument("--interference", action="store_true",
                    help="fit CPU_INTERFERENCE on the max-rate writer's calibration runs (RESULTS unused)")
    ap.add_argument("--interference-k", default="0.06", help="CPU_INTERFERENCE for the load stages")
    ap.add_argument("--guest-g", default="0.2", help="GUEST_INTERFERENCE for the other stages")
    ap.add_argument("--stop", action="store_true",
                    help="fit the quiet machine's pace of re-sent pages with the guest paused (HOST_CPU_RESENT_PAUSED)")
    ap.add_argument("--share", action="store_true",
                    help="compare the max-rate writer's pace during long migrations with the share the model gives its vCPU")
    ap.add_argument("--guest", action="store_true",
                    help="fit GUEST_INTERFERENCE on the share runs with no cap (RESULTS unused)")
    ap.add_argument("--session", action="store_true",
                    help="with --pace or --stop: set 9's wider grids (SESSION_NEWS, SESSION_PAUSED)")
    ap.add_argument("--check", action="store_true", help="refit on validation/tools/calibration and compare")
    a = ap.parse_args()
    if a.check:
        return check(a)
    if a.share:
        share(a)
        return 0
    if a.guest:
        fit_guest(a)
        return 0
    if a.interference:
        a.results = MAX_WRITER_RUNS
    if not a.results:
        ap.error("a results folder is needed (or --check, --interference)")
    guest = {"GUEST_INTERFERENCE": a.guest_g}
    if a.pace:
        fit_pace(a, guest, *([SESSION_NEWS] if a.session else []))
        return
    machine = dict(guest, HOST_CPU_RESENT_PAUSED=a.paused, CPU_INTERFERENCE=a.interference_k)
    if a.stop:
        fit_stop(a, a.new, a.zero, guest, *([SESSION_PAUSED] if a.session else []))
        return
    if a.interference:
        fit_interference(a, a.new, a.zero, a.paused, a.guest_g)
        return
    # Stage 1: the load average alone (IGNORE_PROBE=1), for runs with no probe.
    own, weight = fit_load(a, a.new, a.zero, machine)
    # Stage 2: the probe, read as threads in one scheduler or as a share left to QEMU's group.
    best(a, "probe", ("HOST_LOAD_MODEL",), [("threads",), ("group",)],
         lambda model: (own, weight, a.zero, dict(machine, HOST_LOAD_MODEL=model, IGNORE_PROBE="0"), a.new))


# Set 9's session grids, wider than the morning's: its first calibration runs went faster than the
# morning's (the idle guest 298 ms against 426-465), so its pace may lie beyond 420 MiB/s. Fixed
# before any fit on the session was run.
SESSION_NEWS = range(260, 601, 20)
SESSION_PAUSED = range(1500, 3501, 100)


def fit_pace(a, machine=None, news=range(300, 421, 20)):
    """A quiet machine's pace: HOST_CPU_NEW and CPU_RATE_ZERO, with no other threads (OWN_LOAD 99:
    the load is the harness's own); `machine`: the other machine constants, if fitted already;
    `news`: the candidate paces of new pages, MiB/s."""
    news = ["%d MiB/s" % r for r in news]
    zeros = ["1 GB/s", "1.5 GB/s", "2 GB/s", "3 GB/s", "4 GB/s", ""]
    return best(a, "pace", ("HOST_CPU_NEW", "CPU_RATE_ZERO"), itertools.product(news, zeros),
                lambda new, zero: (99.0, 0.5, zero, dict(machine or {}, IGNORE_PROBE="1"), new))


def fit_stop(a, new, zero, machine=None, paces=range(1700, 2801, 100)):
    """The quiet machine's pace of re-sent pages while the guest is paused (HOST_CPU_RESENT_PAUSED),
    at the pace fitted before, on the stop-and-copy runs (`run_grid.py --calib-stop`), by the median
    |error| of downtime, then of total time."""
    # QEMU's own figure first: the bytes it sent with the guest paused over the downtime less the
    # converter's fixed stop-and-resume cost (HOST_RESUME, 5 ms), for the single-stream runs
    # (QEMU 7.2 leaves multifd pages out of downtime-bytes).
    seen = []
    for r in csv.DictReader(open(os.path.join(a.results, "results.csv"), newline="")):
        if (r["run_id"].startswith("calib-") and r["multifd"] != "1" and float(r["downtime_bytes"] or 0) > 0
                and float(r["downtime_ms"] or 0) > 5):
            seen.append(float(r["downtime_bytes"]) / (float(r["downtime_ms"]) - 5.0) / 1e6)
    if seen:
        print("QEMU's final copies (downtime-bytes / (downtime - 5 ms)), %d runs: %.2f-%.2f GB/s, median %.2f GB/s" % (
            len(seen), min(seen), max(seen), statistics.median(seen)), flush=True)
    paces = ["%d MB/s" % r for r in paces]
    return best(a, "paused pace", ("HOST_CPU_RESENT_PAUSED",), [(p,) for p in paces],
                lambda p: (99.0, 0.5, zero, dict(machine or {}, IGNORE_PROBE="1", HOST_CPU_RESENT_PAUSED=p), new),
                by=("downtime_s", "total_time_s"))[0]


def fit_interference(a, new, zero, paused, guest):
    """How much the max-rate writer's running vCPU slows the stream (CPU_INTERFERENCE, per core it
    keeps busy), on every calibration run of that writer taken while the machine was quiet (the
    quiet runs' calib-m256-uniform-r0 and the stop-and-copy runs), at the paces fitted before, by the
    median |error| of total time, then of bytes."""
    ks = ["%g" % (k / 100) for k in range(0, 31, 2)]
    return best(a, "interference", ("CPU_INTERFERENCE",), [(k,) for k in ks],
                lambda k: (99.0, 0.5, zero, {"IGNORE_PROBE": "1", "HOST_CPU_RESENT_PAUSED": paused,
                                             "CPU_INTERFERENCE": k, "GUEST_INTERFERENCE": guest}, new))[0]


def share(a, guest=None, quiet=False):
    """The max-rate writer's own reports during migrations long enough to have some (the share runs:
    a 1 GiB guest, no cap over 768 MiB with one stream and 2 and 4 channels, and capped at 128 MiB/s
    over 128 to 768 MiB), against the model's: the writes it keeps over the live migration
    (1 - app_slowdown), converted with the quiet machine's constants (GUEST_INTERFERENCE `guest`
    if given). Prints each run (unless `quiet`), and the median of QEMU's over the model's for the
    runs with no cap and for those capped; returns those medians by group."""
    results = a.results or os.path.join(HERE, "calibration", "share")
    rows = {r["run_id"]: r for r in csv.DictReader(open(os.path.join(results, "results.csv"), newline=""))}
    groups = {}
    env = dict(os.environ, **({"GUEST_INTERFERENCE": guest} if guest is not None else {}))
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, os.path.join(HERE, "convert_qemu.py"), results, "--set", "qemu-cpu-quiet",
                        "--out", d], env=env, check=True, stdout=subprocess.DEVNULL)
        for rid in sorted(rows):
            r = rows[rid]
            out = subprocess.run([a.migsim, "run", os.path.join(d, "qemu-cpu-quiet", rid + ".toml"), "--format", "json",
                                  "--no-write"], capture_output=True, text=True, check=True).stdout
            kept = 1.0 - json.loads(out)["migrations"][0]["app_slowdown"]
            seen = float(r["guest_wps_during_mig"]) / float(r["guest_wps"])
            cap = "capped at %s MiB/s" % convert_qemu.fnum(r["bw_mib"]) if float(r["bw_mib"] or 0) > 0 else "no cap"
            groups.setdefault(cap, []).append(seen / kept)
            if not quiet:
                print("%-34s QEMU's writer during / before migrating %.2f, the model's %.2f: %.2f" % (rid, seen, kept, seen / kept))
    medians = {}
    for cap, ratios in sorted(groups.items()):
        medians[cap] = statistics.median(ratios)
        if not quiet:
            print("%s: QEMU's over the model's %.2f-%.2f, median %.2f (%d runs)" % (
                cap, min(ratios), max(ratios), medians[cap], len(ratios)))
    return medians


def fit_guest(a):
    """How much slower the guest's vCPU goes while the stream works flat out (GUEST_INTERFERENCE),
    on the share runs with no cap (the stream busy all along): the value whose model keeps the
    writer's writes as QEMU's did (median of QEMU's over the model's closest to 1). The capped runs,
    whose stream works a third of the time or less, are the check: printed, not fitted."""
    top = None
    for g in ["%g" % (k / 100) for k in range(0, 41, 2)]:
        med = share(a, guest=g, quiet=True)
        print("guest interference: GUEST_INTERFERENCE=%-5r no cap %.3f, capped %.3f" % (
            g, med["no cap"], med.get("capped at 128 MiB/s", float("nan"))), flush=True)
        off = abs(med["no cap"] - 1.0)
        if top is None or off < top[0]:
            top = (off, g, med)
    _, g, med = top
    print("best (guest interference): GUEST_INTERFERENCE=%r (QEMU's over the model's: no cap %.2f, capped %.2f)" % (
        g, med["no cap"], med.get("capped at 128 MiB/s", float("nan"))), flush=True)
    return g


def fit_load(a, new, zero, machine):
    """How a loaded machine's load average becomes busy threads (OWN_LOAD, LOAD_WEIGHT), at a
    given pace (and the other machine constants, `machine`)."""
    return best(a, "load average", ("OWN_LOAD", "LOAD_WEIGHT"),
                itertools.product((0.0, 0.8, 1.6), (0.25, 0.35, 0.5, 0.75, 1.0, 1.5)),
                lambda own, weight: (own, weight, zero, dict(machine, IGNORE_PROBE="1"), new))


def check(a):
    """Refit every stage on the calibration runs kept in the repo (the quiet machine's guest
    interference, pace, paused pace and stream interference, the loaded machine's load); 1 unless
    the earlier fits hold with the later in place and the converter's SET_CONSTANTS hold exactly
    those fits."""
    here = os.path.join(HERE, "calibration")
    quiet = argparse.Namespace(**dict(vars(a), results=os.path.join(here, "quiet")))
    loaded = argparse.Namespace(**dict(vars(a), results=os.path.join(here, "loaded")))
    stop = argparse.Namespace(**dict(vars(a), results=os.path.join(here, "stop")))
    writer = argparse.Namespace(**dict(vars(a), results=MAX_WRITER_RUNS))
    shared = argparse.Namespace(**dict(vars(a), results=os.path.join(here, "share")))
    # The guest's slowdown first: on the share runs with no cap it hardly depends on the others.
    g = fit_guest(shared)
    guest = {"GUEST_INTERFERENCE": g}
    new, zero = fit_pace(quiet, guest)
    paused = fit_stop(stop, new, zero, guest)
    k = fit_interference(writer, new, zero, paused, g)
    machine = dict(guest, HOST_CPU_RESENT_PAUSED=paused, CPU_INTERFERENCE=k)
    bad = 0
    # Each stage was fitted with the later ones at their defaults; refitted with all of them in
    # place, the first two must not move.
    if fit_pace(quiet, machine) != (new, zero) or fit_stop(stop, new, zero, dict(guest, CPU_INTERFERENCE=k)) != paused:
        print("calibration check: the pace or the paused pace moves when refitted with the interference")
        bad = 1
    own, weight = fit_load(loaded, new, zero, machine)
    pace = {"HOST_CPU_NEW": new, "CPU_RATE_ZERO": zero, "HOST_CPU_RESENT_PAUSED": paused, "CPU_INTERFERENCE": k,
            "GUEST_INTERFERENCE": g}
    # Set 9 carries its own calibration, taken in its session (calibration/session): the pace and
    # the paused pace refitted there as set 9's protocol says (docs/validation.md, set 9), with the
    # machine's ratios (the two interferences) as fitted above.
    session = dict(pace, **fit_session(a, os.path.join(here, "session"), guest))
    # Sets 10-12 (calibration/session2, .../settle and .../settle2, the last two with every run idled
    # 8 s before migrating): as set 9, with the cores QEMU's threads got and the vCPU's measured
    # demand in place for the fits as for the conversion.
    measured = dict(guest, HOST_CPU_CORES=convert_qemu.DRIFT_CORES, GUEST_VCPU="1")
    of = lambda folder, machine=measured: dict(pace, **fit_session(a, os.path.join(here, folder), machine),
                                               HOST_CPU_CORES=convert_qemu.DRIFT_CORES, GUEST_VCPU=True)
    # Set 13 (calibration/settle3): as sets 11 and 12, with what the sockets hold at the pause in
    # the model (drain_at_stop) for the fits as for the conversion.
    sockets = dict(measured, SOCKET_BUFFER=convert_qemu.LOOPBACK_SOCKET_BUFFER)
    settle3 = dict(of("settle3", sockets), SOCKET_BUFFER=convert_qemu.LOOPBACK_SOCKET_BUFFER)
    # Set 14 (calibration/settle4): as set 13, with the pages the guest never wrote in the model
    # (UNTOUCHED=measured, the lab's scan before each migration) for the fits as for the conversion.
    untouched = dict(sockets, UNTOUCHED="measured")
    settle4 = dict(of("settle4", untouched), SOCKET_BUFFER=convert_qemu.LOOPBACK_SOCKET_BUFFER, UNTOUCHED="measured")
    # Set 15 (calibration/settle5): set 14's recipe in a seventh session.
    settle5 = dict(of("settle5", untouched), SOCKET_BUFFER=convert_qemu.LOOPBACK_SOCKET_BUFFER, UNTOUCHED="measured")
    sets = (("qemu-cpu-quiet", pace), ("qemu-mechanisms-quiet", pace), ("qemu-cpu", dict(pace, OWN_LOAD=own, LOAD_WEIGHT=weight)),
            ("qemu-session", session), ("qemu-session2", of("session2")), ("qemu-settle", of("settle")),
            ("qemu-settle2", of("settle2")), ("qemu-settle3", settle3), ("qemu-settle4", settle4),
            ("qemu-settle5", settle5))
    for name, want in sets:
        have = convert_qemu.SET_CONSTANTS[name]
        for key, v in want.items():
            if have.get(key) != v:
                print("calibration check: %s %s is %r in convert_qemu.py, the fit says %r" % (name, key, have.get(key), v))
                bad = 1
    print("calibration check: %s" % ("FAILED" if bad else "convert_qemu.py holds the fits"))
    return bad


def fit_session(a, folder, machine):
    """A session's own pace and paused pace (sets 9-12): `--pace --session` on folder/pace, then
    `--stop --session` at that pace on folder/stop, with `machine` in place for both."""
    at = lambda sub: argparse.Namespace(**dict(vars(a), results=os.path.join(folder, sub)))
    new, zero = fit_pace(at("pace"), machine, SESSION_NEWS)
    paused = fit_stop(at("stop"), new, zero, machine, SESSION_PAUSED)
    return {"HOST_CPU_NEW": new, "CPU_RATE_ZERO": zero, "HOST_CPU_RESENT_PAUSED": paused}


def best(a, stage, names, candidates, inputs, by=("total_time_s", "bytes_sent")):
    """Score every candidate (a tuple of values for `names`; `inputs` turns it into score()'s
    arguments), print each and the best (lowest median |error| of by[0], then of by[1]), return the
    best."""
    top = None
    for cand in candidates:
        own, weight, zero, extra, new = inputs(*cand)
        med = score(a.results, a.migsim, own, weight, zero, extra, new=new)
        label = " ".join("%s=%r" % kv for kv in zip(names, cand))
        shown = ["%s median %6.2f%%" % (m.split("_")[0], med[m] * 100) for m in by]
        print("%s: %-50s %s" % (stage, label, "  ".join(shown)), flush=True)
        if top is None or tuple(med[m] for m in by) < top[0]:
            top = (tuple(med[m] for m in by), cand, label, shown)
    _, cand, label, shown = top
    print("best (%s): %s (%s)" % (stage, label, ", ".join(" ".join(x.split()) for x in shown)), flush=True)
    return cand


if __name__ == "__main__":
    # Quietly stop when the output is cut short (| head).
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
