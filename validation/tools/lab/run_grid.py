#!/usr/bin/env python3
"""Runs the measurement grid sequentially (one migration at a time).

Resumable: a configuration whose results/runs/<run_id>.json already exists is
skipped.  Stops starting new runs after --budget-min minutes.

  nohup ./run_grid.py > build/grid.log 2>&1 &
  ./run_grid.py --list            # print the grid only
  ./run_grid.py --only m256-      # substring filter on run ids
  nohup ./run_grid.py --mech > build/grid-mech.log 2>&1 &    # mechanism batch
"""
import argparse
import inspect
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import migrate  # noqa: E402


def C(mem, wl, bw, mode="precopy", rate=0, wss=None, hot=0, hot_pct=90.0, dt=300, rounds=None,
      suffix="", guest_append=None, ac=False, ac_init=None, ac_inc=None, xbz=None, mfd=None,
      timeout=None):
    if wss is None:
        wss = 128 if mem == 256 else 768
    rid = "m%d-%s%s-w%d%s-bw%d-dt%d-%s%s" % (
        mem, wl, "" if wl == "idle" else "-r%d" % rate, wss,
        "-h%dp%g" % (hot, hot_pct) if wl == "hotspot" else "",
        bw, dt, mode, "%d" % rounds if mode == "hybrid" else "") + suffix
    return {"run_id": rid, "mem": mem, "wl": wl, "wss": wss, "rate": rate, "hot": hot,
            "hot_pct": hot_pct, "bw_mib": bw, "downtime_ms": dt, "mode": mode,
            "postcopy_after_rounds": rounds, "guest_append": guest_append,
            "ac": ac, "ac_init": ac_init, "ac_inc": ac_inc, "xbz": xbz, "mfd": mfd,
            "timeout": timeout}


def grid():
    g = []
    # ---- 256 MiB guest, 128 MiB working set (32768 pages)
    for bw in (32, 128, 512):
        g.append(C(256, "idle", bw))
    for bw in (32, 128, 512):
        g.append(C(256, "uniform", bw, rate=2000))
    for bw in (32, 128, 512):
        g.append(C(256, "uniform", bw, rate=10000))
    for bw in (128, 512):
        g.append(C(256, "uniform", bw, rate=50000))
    for bw in (32, 128, 512):
        g.append(C(256, "hotspot", bw, rate=20000, hot=16, hot_pct=90))
    g.append(C(256, "seq", 128, rate=10000))
    # downtime-limit sensitivity
    for dt in (30, 1000):
        g.append(C(256, "uniform", 128, rate=10000, dt=dt))
    # postcopy (migrate-start-postcopy right after migrate)
    g.append(C(256, "idle", 128, mode="postcopy"))
    for bw in (32, 128):
        g.append(C(256, "uniform", bw, rate=10000, mode="postcopy"))
    g.append(C(256, "uniform", 128, rate=50000, mode="postcopy"))
    # hybrid: postcopy after 2 completed dirty-sync rounds
    g.append(C(256, "uniform", 32, rate=10000, mode="hybrid", rounds=2))
    g.append(C(256, "uniform", 128, rate=50000, mode="hybrid", rounds=2))
    g.append(C(256, "hotspot", 32, rate=20000, hot=16, hot_pct=90, mode="hybrid", rounds=2))
    # ---- 1 GiB guest, 768 MiB working set (196608 pages)
    g.append(C(1024, "idle", 128, wss=0))          # pure zero-page case
    for bw in (128, 512):
        g.append(C(1024, "idle", bw))
    for bw in (128, 512):
        g.append(C(1024, "uniform", bw, rate=10000))
    g.append(C(1024, "uniform", 512, rate=50000))
    g.append(C(1024, "hotspot", 128, rate=20000, hot=64, hot_pct=90))
    g.append(C(1024, "uniform", 128, rate=10000, mode="postcopy"))
    g.append(C(1024, "uniform", 128, rate=50000, mode="hybrid", rounds=2))
    return g


def extras():
    """Second batch: repeatability, max-rate dirtier, and the TCG-bug control."""
    g = []
    for rep in (2, 3):
        g.append(C(256, "uniform", 128, rate=10000, suffix="-rep%d" % rep))
        g.append(C(256, "uniform", 32, rate=2000, suffix="-rep%d" % rep))
        g.append(C(256, "uniform", 32, rate=10000, mode="hybrid", rounds=2, suffix="-rep%d" % rep))
    # rate=0: the dirtier writes as fast as TCG lets it
    g.append(C(256, "uniform", 512, rate=0))
    g.append(C(256, "uniform", 128, rate=0, mode="hybrid", rounds=2))
    g.append(C(256, "uniform", 128, rate=0, mode="postcopy"))
    # control: without pti=on the QEMU 7.2 TCG lost-dirty-bit bug corrupts the
    # destination guest (tiny hot set that stays in TCG's soft TLB)
    g.append(C(256, "hotspot", 32, rate=50000, wss=64, hot=1, hot_pct=99, mode="hybrid", rounds=2,
               suffix="-nopti", guest_append=""))
    return g


def mech():
    """Third batch: the mechanisms real hypervisors use (auto-converge, XBZRLE,
    multifd), a 2 GiB guest, more downtime limits, and repeats."""
    g = []
    # ---- auto-converge (QEMU defaults: initial 20 %, increment 10 %, max 99 %)
    g.append(C(256, "uniform", 32, rate=10000, ac=True, suffix="-ac", timeout=90))
    g.append(C(256, "hotspot", 32, rate=20000, hot=16, hot_pct=90, ac=True, suffix="-ac", timeout=90))
    g.append(C(256, "uniform", 128, rate=50000, ac=True, suffix="-ac", timeout=90))
    g.append(C(256, "uniform", 32, rate=10000, ac=True, ac_init=40, ac_inc=20, suffix="-ac40i20",
               timeout=90))
    # CPU-bound guest (dirtier at full speed): here the throttle cuts writes/s directly
    g.append(C(256, "uniform", 128, rate=0, ac=True, suffix="-ac", timeout=90))
    # ---- XBZRLE, cache 64 MiB (QEMU default) and 256 MiB
    for cache in (64, 256):
        g.append(C(256, "uniform", 32, rate=10000, xbz=cache, suffix="-xbz%d" % cache))
        g.append(C(256, "hotspot", 32, rate=20000, hot=16, hot_pct=90, xbz=cache,
                   suffix="-xbz%d" % cache))
        g.append(C(1024, "uniform", 128, rate=10000, xbz=cache, suffix="-xbz%d" % cache))
    # ---- multifd at 512 MiB/s, then with no bandwidth limit (bw 0)
    for ch in (2, 4):
        g.append(C(256, "uniform", 512, rate=10000, mfd=ch, suffix="-mfd%d" % ch))
        g.append(C(1024, "uniform", 512, rate=10000, mfd=ch, suffix="-mfd%d" % ch))
    # does max-bandwidth cap the sum of the channels or each channel?
    g.append(C(256, "uniform", 128, rate=10000, mfd=4, suffix="-mfd4"))
    for mem in (256, 1024):
        g.append(C(mem, "uniform", 0, rate=10000))      # single-channel baseline, unlimited
        for ch in (2, 4):
            g.append(C(mem, "uniform", 0, rate=10000, mfd=ch, suffix="-mfd%d" % ch))
    # ---- 2 GiB guest, 1.5 GiB working set
    g.append(C(2048, "uniform", 128, rate=10000, wss=1536, timeout=90))
    g.append(C(2048, "uniform", 128, rate=10000, wss=1536, mode="postcopy"))
    g.append(C(2048, "uniform", 128, rate=10000, wss=1536, mode="hybrid", rounds=2))
    # ---- downtime-limit
    g.append(C(256, "uniform", 128, rate=10000, dt=100))
    g.append(C(1024, "uniform", 128, rate=10000, dt=30))
    # ---- repeatability
    for rep in (2, 3):
        g.append(C(256, "uniform", 32, rate=10000, ac=True, suffix="-ac-rep%d" % rep, timeout=90))
        g.append(C(256, "uniform", 32, rate=10000, xbz=64, suffix="-xbz64-rep%d" % rep))
    return g


def mech_quiet():
    """The lab's mechanism settings again on this project's machine while it is quiet, with repeats
    (issue 23: the mechanism set with repeats), those that the CPU-bound batch (cpu()) does not
    already have: first its six XBZRLE settings (the 10k writer and the 20k hotspot writer at
    32 MiB/s in the 256 MiB guest, the 10k writer at 128 MiB/s in the 1 GiB guest; caches of 64 and
    256 MiB), then its other auto-converge and multifd settings; within each group repeat 1 of
    every setting, then 2, then 3. Ids start with mq-."""
    xbz = []
    for cache in (64, 256):
        xbz += [C(256, "uniform", 32, rate=10000, xbz=cache, suffix="-xbz%d" % cache),
                C(256, "hotspot", 32, rate=20000, hot=16, hot_pct=90, xbz=cache, suffix="-xbz%d" % cache),
                C(1024, "uniform", 128, rate=10000, xbz=cache, suffix="-xbz%d" % cache)]
    other = [C(256, "hotspot", 32, rate=20000, hot=16, hot_pct=90, ac=True, suffix="-ac", timeout=90),
             C(256, "uniform", 128, rate=50000, ac=True, suffix="-ac", timeout=90),
             C(256, "uniform", 32, rate=10000, ac=True, ac_init=40, ac_inc=20, suffix="-ac40i20", timeout=90)]
    other += mech_quiet_multifd()
    return repeated(xbz, 3, "mq-", tag_first=True) + repeated(other, 3, "mq-", tag_first=True)


def mech_quiet_multifd():
    """mech_quiet()'s multifd settings: 4 channels at 128 MiB/s (256 MiB guest), 2 and 4 at
    512 MiB/s and 2 with no cap (1 GiB guest)."""
    return [C(256, "uniform", 128, rate=10000, mfd=4, suffix="-mfd4"),
            C(1024, "uniform", 512, rate=10000, mfd=2, suffix="-mfd2"),
            C(1024, "uniform", 512, rate=10000, mfd=4, suffix="-mfd4"),
            C(1024, "uniform", 0, rate=10000, mfd=2, suffix="-mfd2")]


def cpu_settings():
    """The CPU-bound regime (issue 23): the links do not limit, the host's 2 cores do. 20 settings,
    each run 3 times (see cpu() for the order)."""
    g = []
    for mem in (256,):
        g.append(C(mem, "uniform", 0, rate=10000))
        g.append(C(mem, "uniform", 512, rate=10000))
        g.append(C(mem, "uniform", 0, rate=50000))
        g.append(C(mem, "uniform", 512, rate=50000))
        g.append(C(mem, "idle", 0))
        g.append(C(mem, "hotspot", 0, rate=20000, hot=16, hot_pct=90))
        # the max-rate writer (rate 0: as fast as its vCPU lets it)
        for bw in (0, 512, 128):
            g.append(C(mem, "uniform", bw, rate=0))
        # multifd, uncapped and at 512 MiB/s, with the 10k and the max-rate writer
        for ch in (2, 4):
            g.append(C(mem, "uniform", 0, rate=10000, mfd=ch, suffix="-mfd%d" % ch))
            g.append(C(mem, "uniform", 512, rate=10000, mfd=ch, suffix="-mfd%d" % ch))
            g.append(C(mem, "uniform", 0, rate=0, mfd=ch, suffix="-mfd%d" % ch))
        # auto-converge reaching 99 %: a rate-limited and the max-rate writer
        g.append(C(mem, "uniform", 32, rate=10000, ac=True, suffix="-ac", timeout=90))
        g.append(C(mem, "uniform", 128, rate=0, ac=True, suffix="-ac", timeout=90))
    for bw in (0, 512):
        g.append(C(1024, "uniform", bw, rate=10000))
    g.append(C(1024, "uniform", 0, rate=10000, mfd=4, suffix="-mfd4"))
    return g


def cpu():
    """The CPU-bound batch, repeat 1 of every setting, then repeat 2, then 3, so that a batch cut
    short still has every setting."""
    g = []
    for rep in (1, 2, 3):
        for c in cpu_settings():
            c = dict(c)
            c["run_id"] = "cpu-" + c["run_id"] + "-rep%d" % rep
            g.append(c)
    return g


def calib(reps=1):
    """Calibration runs for the CPU model (never scored): another guest (64 MiB working set), so
    that no scored setting is among them. With reps > 1 every setting is run that many times, all
    first runs before any second (ids of the second and later end in -repN; the first keeps the id
    it always had). The 10k writer over 1, 2 and 4 channels came with the quiet-host batch."""
    return repeated(calib_settings(), reps)


def calib_settings():
    """The settings of calib(), ids without the calib- prefix."""
    g = []
    g.append(C(256, "idle", 0, wss=64, suffix="-calib"))
    g.append(C(256, "uniform", 0, rate=0, wss=64, suffix="-calib"))
    for ch in (2, 4):
        g.append(C(256, "uniform", 0, rate=0, wss=64, mfd=ch, suffix="-mfd%d-calib" % ch))
    g.append(C(256, "uniform", 0, rate=20000, wss=64, suffix="-calib"))
    g.append(C(256, "uniform", 64, rate=0, wss=64, ac=True, suffix="-ac-calib", timeout=90))
    for ch in (1, 2, 4):
        g.append(C(256, "uniform", 0, rate=10000, wss=64, mfd=ch if ch > 1 else None,
                   suffix=("-mfd%d" % ch if ch > 1 else "") + "-calib"))
    return g


def calib_stop(reps=3):
    """Calibration runs for the stop-and-copy (never scored): the max-rate writer, unlimited, over
    working sets and guests no scored case uses, so that the final copy re-sends 100-270 MB of
    pages the destination already holds while the guest is paused; one setting over 4 channels and
    one with auto-converge. Ids start with calib- and end in -stop (and -repN); a 256 MiB guest has
    room for a 160 MiB working set, not 192 (the dirtier is killed for memory)."""
    return repeated(calib_stop_settings(), reps)


def calib_stop_settings():
    """The settings of calib_stop(), ids without the calib- prefix."""
    g = [C(256, "uniform", 0, rate=0, wss=w, suffix="-stop") for w in (96, 160)]
    g += [C(512, "uniform", 0, rate=0, wss=w, suffix="-stop") for w in (128, 256)]
    g.append(C(256, "uniform", 0, rate=0, wss=160, mfd=4, suffix="-mfd4-stop"))
    g.append(C(256, "uniform", 128, rate=0, wss=96, ac=True, suffix="-ac-stop", timeout=90))
    return g


def calib_share():
    """Runs long enough (3-20 s) for the max-rate writer's once-a-second reports to show its pace
    during the migration (never scored; `calibrate_cpu.py --share`): a 1 GiB guest, 768 MiB with no
    cap over one stream and 2 and 4 channels, 3 repeats each, then 128 to 768 MiB with the stream
    capped at 128 MiB/s. The ids are those of validation/tools/calibration/share."""
    g = []
    for rep in (1, 2, 3):
        for ch in (1, 2, 4):
            c = C(1024, "uniform", 0, rate=0, wss=768, mfd=ch if ch > 1 else None, timeout=20)
            c["run_id"] = "share-m1024-r0-w768" + ("-mfd%d" % ch if ch > 1 else "") + ("-rep%d" % rep if rep > 1 else "")
            g.append(c)
    for w in (128, 256, 512, 768):
        c = C(1024, "uniform", 128, rate=0, wss=w, timeout=15)
        c["run_id"] = "wss-m1024-r0-w%d-bw128" % w
        g.append(c)
    return g


def trace_postcopy(reps=3):
    """Post-copy at 128 MiB/s with QEMU's trace of the page requests (never scored, nothing fitted
    on them; `postcopy_order.py` reads them): the 256 MiB guest idle with no working set and with
    128 MiB, and with the 10k and the max-rate writer, `reps` times each, all first runs before any
    second. The ids are those of validation/tools/calibration/postcopy."""
    g = []
    for rep in range(1, reps + 1):
        for wl, wss, rate in (("idle", 0, 0), ("idle", 128, 0), ("uniform", 128, 10000), ("uniform", 128, 0)):
            c = C(256, wl, 128, mode="postcopy", rate=rate, wss=wss)
            c["run_id"] = "trace-m256-%s%s-w%d-bw128-postcopy-rep%d" % (
                wl, "" if wl == "idle" else "-r%d" % rate, wss, rep)
            c["trace"] = True
            g.append(c)
    return g


def thread_cpu(reps=2):
    """Where the CPU goes under multifd (never scored, nothing fitted on them): the 10k writer over
    768 MiB of the 1 GiB guest with no cap over one stream and 2 and 4 channels (set 8 has the
    2 channels, set 7 the others), and over 64 MiB of the 256 MiB guest over one stream and 2
    channels (as the calibration runs), with each QEMU thread's CPU time sampled
    (`migrate.py --thread-cpu 1`); `reps` times each, all first runs before any second. Then
    (taken after them) the max-rate writer over 128 MiB of the 256 MiB guest with no cap over one
    stream and 2 and 4 channels (set 7's settings), the same way."""
    g = []
    for settings in (((1024, 768, 10000, None), (1024, 768, 10000, 2), (1024, 768, 10000, 4),
                      (256, 64, 10000, None), (256, 64, 10000, 2)),
                     ((256, 128, 0, None), (256, 128, 0, 2), (256, 128, 0, 4))):
        group = [C(mem, "uniform", 0, rate=rate, wss=wss, mfd=mfd, suffix="-mfd%d" % mfd if mfd else "")
                 for mem, wss, rate, mfd in settings]
        g += repeated(group, reps, "threads-", tag_first=True, thread_cpu=True)
    return g


def vcpu_share(reps=3):
    """The guest's vCPU demand before migrating, for every guest and writer the scored runs of this
    machine use (sets 6-8: the idle guest, the 10k, 50k, 20k hotspot and max-rate writers over
    128 MiB of the 256 MiB guest, the 10k writer over 768 MiB of the 1 GiB guest) and the paced ones
    of the calibration runs (the idle guest and the 10k and 20k writers over 64 MiB): each QEMU
    thread's CPU time over 3 s before `migrate` (`migrate.py --thread-cpu 1 --before-s 3`), then
    an unlimited single-stream migration. Never scored, nothing fitted on them; `reps` times each,
    all first runs before any second. Ids start with vcpu-."""
    settings = [C(256, "idle", 0), C(256, "uniform", 0, rate=10000), C(256, "uniform", 0, rate=50000),
                C(256, "hotspot", 0, rate=20000, hot=16, hot_pct=90), C(256, "uniform", 0, rate=0),
                C(1024, "uniform", 0, rate=10000), C(256, "idle", 0, wss=64),
                C(256, "uniform", 0, rate=10000, wss=64), C(256, "uniform", 0, rate=20000, wss=64)]
    return repeated(settings, reps, "vcpu-", tag_first=True, thread_cpu=True, before_s=3.0)


def pace_probe(reps=6):
    """How the machine's pace before a migration (`migrate.py --pace-probe-mib 32`: SHA-256 and
    the first touch of fresh memory, held until the migration is over) and the guest's boot
    compare as predictors of the migration's time within one session: the 10k writer over 768 MiB
    of the 1 GiB guest and over 128 MiB of the 256 MiB guest, one stream, no cap; `reps` times
    each, alternating. Never scored, nothing fitted on them. Ids start with pace-."""
    settings = [C(1024, "uniform", 0, rate=10000), C(256, "uniform", 0, rate=10000)]
    return repeated(settings, reps, "pace-", tag_first=True, pace_probe=32)


def session(reps=3):
    """One session that carries its own calibration (issue 23: set 9, converted with constants fitted
    on this batch's calibration runs, never on its scored ones). Each repeat runs, one after the
    other: the pace calibration settings (calib() without its auto-converge run, which alone takes
    minutes) into the subfolder pace/, the stop-and-copy calibration settings (calib_stop()) into
    stop/, then set 7's 20 settings (cpu_settings()) and set 8's 4 multifd settings into scored/;
    all first repeats before any second, so that the calibration and the scored runs share the
    session's drift. Every run carries the pace probe (`migrate.py --pace-probe-mib 32`).
    Calibration ids are those of calib() and calib_stop() (they start with calib-, as
    calibrate_cpu.py reads them) with -repN; scored ids start with ses-."""
    pace = [c for c in calib_settings() if not c.get("ac")]
    out = []
    for rep in range(1, reps + 1):
        for folder, prefix, group in (("pace", "calib-", pace), ("stop", "calib-", calib_stop_settings()),
                                      ("scored", "ses-", cpu_settings() + mech_quiet_multifd())):
            for c in group:
                out.append(dict(c, run_id=prefix + c["run_id"] + "-rep%d" % rep, folder=folder, pace_probe=32))
    return out


def repeated(g, reps, prefix="calib-", tag_first=False, **extra):
    """The settings `g` `reps` times, every first run before any second; ids get `prefix` in front,
    and -repN behind from the second on (from the first with `tag_first`); `extra` is set on each."""
    out = []
    for rep in range(1, reps + 1):
        for c in g:
            c = dict(c, **extra)
            c["run_id"] = prefix + c["run_id"] + ("-rep%d" % rep if rep > 1 or tag_first else "")
            out.append(c)
    return out


# The batches besides the default grid: (flag, the batch, what it runs). When several flags are
# given the first here wins.
BATCHES = [
    ("--calib", calib, "the calibration batch"),
    ("--calib-stop", calib_stop, "the stop-and-copy calibration batch"),
    ("--calib-share", calib_share, "the batch that shows the writer's pace during migration"),
    ("--trace-postcopy", trace_postcopy, "the post-copy batch with QEMU's trace of page requests"),
    ("--thread-cpu", thread_cpu, "the multifd batch with each QEMU thread's CPU time sampled"),
    ("--vcpu-share", vcpu_share, "the batch that measures the guest's vCPU demand before migrating"),
    ("--pace-probe", pace_probe, "the batch that compares the pace probe and the boot as predictors"),
    ("--session", session, "the session batch with its own calibration (set 9; subfolders of --results)"),
    ("--mech-quiet", mech_quiet, "the lab's mechanism settings the CPU-bound batch lacks, 3 repeats each (ids mq-),"),
    ("--cpu", cpu, "the CPU-bound batch (3 repeats)"),
    ("--mech", mech, "the mechanism batch (auto-converge, xbzrle, multifd, 2 GiB)"),
    ("--extras", extras, "the second batch"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--only", default=None)
    ap.add_argument("--budget-min", type=float, default=85)
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--timeout", type=float, default=60)
    for flag, _, what in BATCHES:
        ap.add_argument(flag, action="store_true", help="run %s instead" % what)
    ap.add_argument("--reps", type=int, default=None,
                    help="with a batch that repeats its settings: run every setting this many times "
                         "(its own default otherwise)")
    ap.add_argument("--post-s", type=float, default=4.0)
    ap.add_argument("--settle-s", type=float, default=0,
                    help="every run idles this long just before migrating (migrate.py --settle-s)")
    ap.add_argument("--trace-final", type=int, default=0,
                    help="every run logs QEMU's trace of its final copy (migrate.py --trace-final)")
    args = ap.parse_args()
    # The first batch asked for, in BATCHES' order; the default grid when none is.
    batch = next((fn for flag, fn, _ in BATCHES if getattr(args, flag[2:].replace("-", "_"))), grid)
    g = batch(args.reps) if args.reps and "reps" in inspect.signature(batch).parameters else batch()
    if args.only:
        g = [c for c in g if args.only in c["run_id"]]
    if args.list:
        for c in g:
            print(c["run_id"])
        print(len(g), "runs")
        return
    t_start = time.time()
    for i, c in enumerate(g):
        # A batch may send groups of runs to their own subfolders (the session batch).
        results = os.path.join(args.results, c["folder"]) if c.get("folder") else args.results
        jpath = os.path.join(results, "runs", c["run_id"] + ".json")
        if os.path.exists(jpath):
            print("skip (done)", c["run_id"], flush=True)
            continue
        if time.time() - t_start > args.budget_min * 60:
            print("budget exhausted, stopping before", c["run_id"], flush=True)
            break
        argv = ["--mem", str(c["mem"]), "--wl", c["wl"], "--wss", str(c["wss"]),
                "--rate", str(c["rate"]), "--hot", str(c["hot"]), "--hot-pct", str(c["hot_pct"]),
                "--bw-mib", str(c["bw_mib"]), "--downtime-ms", str(c["downtime_ms"]),
                "--mode", c["mode"], "--timeout", str(c.get("timeout") or args.timeout),
                "--results", results, "--run-id", c["run_id"], "--quiet",
                "--post-s", str(args.post_s)]
        if c.get("guest_append") is not None:
            argv += ["--guest-append", c["guest_append"]]
        if c["postcopy_after_rounds"] is not None:
            argv += ["--postcopy-after-rounds", str(c["postcopy_after_rounds"])]
        if c.get("ac"):
            argv += ["--auto-converge"]
            if c.get("ac_init") is not None:
                argv += ["--cpu-throttle-initial", str(c["ac_init"])]
            if c.get("ac_inc") is not None:
                argv += ["--cpu-throttle-increment", str(c["ac_inc"])]
        if c.get("xbz"):
            argv += ["--xbzrle", "--xbzrle-cache-mib", str(c["xbz"])]
        if c.get("mfd"):
            argv += ["--multifd-channels", str(c["mfd"])]
        if c.get("trace"):
            argv += ["--trace-requests", "1"]
        if c.get("thread_cpu"):
            argv += ["--thread-cpu", "1"]
        if c.get("before_s"):
            argv += ["--before-s", str(c["before_s"])]
        if c.get("pace_probe"):
            argv += ["--pace-probe-mib", str(c["pace_probe"])]
        if args.settle_s:
            argv += ["--settle-s", str(args.settle_s)]
        if args.trace_final:
            argv += ["--trace-final", str(args.trace_final)]
        a = migrate.parser().parse_args(argv)
        t0 = time.time()
        print("[%d/%d] %s ..." % (i + 1, len(g), c["run_id"]), flush=True)
        try:
            row = migrate.run(a)
        except Exception as e:  # noqa
            print("   harness exception:", e, flush=True)
            continue
        print("   -> %s total=%sms downtime=%sms xfer=%s syncs=%s lost=%s panic=%s (%.0fs)" % (
            row["outcome"], row["total_time_ms"], row["downtime_ms"], row["transferred_bytes"],
            row["dirty_sync_count"], row["lost_updates"], row["dst_guest_panic"],
            time.time() - t0), flush=True)
    print("grid done in %.1f min" % ((time.time() - t_start) / 60), flush=True)


if __name__ == "__main__":
    main()
