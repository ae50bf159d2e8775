#!/usr/bin/env python3
"""One-off script that produced the committed QEMU validation cases.

    python3 validation/tools/convert_qemu.py /work/shared/validation/qemu

It reads `results.csv` of the QEMU 7.2 lab (real migrations under TCG over 127.0.0.1; the lab's
README.md explains every column) and writes, next to this script's parent folder:

* validation/qemu/<run_id>.toml            runs with no mechanism on (auto_converge, xbzrle and multifd
                                           all 0 or empty), except the `-nopti` control run;
* validation/qemu-mechanisms/<run_id>.toml runs with auto_converge, xbzrle or multifd = 1 (these use
                                           [migration] keys the simulator may not implement yet).

Runs whose migration failed (an outcome other than completed or not-converged) or whose guest lost
updates or panicked are skipped with the reason printed, as the lab README keeps none of them.

The project never reads the shared folder at build, test or run time: the generated files are
committed, and this script is only kept to show how they were derived (and to regenerate them).
Python 3 standard library only. `--out DIR` writes somewhere else (DIR/qemu, DIR/qemu-mechanisms).

How the numbers are derived (repeated, per run, in each file's header):

* memory = mem_mib MiB; page_size 4 KiB; device_state 256 KiB (an assumption: QEMU's RAM counters do
  not include device state, so the data do not measure it).
* zero_profile (where the zero pages lie): QEMU's first pass scans guest memory in address order, so
  along it normal + duplicate is the scan position and duplicate the zero pages below it. The
  profile gives the zero share of each 1/64 of memory: between two of the run's own samples (and
  past its last first-pass sample, up to its final count) the zero pages take the shape the guest's
  reference run has there (the run of the same guest sampled furthest and most often). The
  dirtier's working set starts after the guest kernel's area: at the first 4 regions with no zero
  pages in the reference run (48 MiB in the 256 MiB guest, 64 MiB in the 1 and 2 GiB ones), and
  skips the regions the run's own first pass found mostly zero: the dirtier wrote all of its buffer
  at boot, so those are not part of it (one data part per stretch, write rates in proportion to
  their pages, the hot set in the first). Set
  ZERO_PROFILE=0 for the older cases: zero_fraction alone, zero pages spread outside the working set,
  which starts at 0.
* zero_fraction = duplicate_pages / (mem_mib x 256). QEMU's `duplicate` counts zero pages found while
  sending. In the first pass every page is scanned, so every zero page is counted once; later passes
  only scan dirtied pages, and the dirtier never writes zeros, so the count grows only when a page
  that was dirtied (by the guest kernel) is zero again when it is sent. Across the runs that grows it
  by 0 to about 200 pages after the first sync (<= 0.3 % of memory), so the final duplicate_pages is
  taken as the zero pages at the start. The non-zero footprint is then
  mem pages - duplicate_pages, and normal_pages - footprint estimates the pages sent more than once.
  (QEMU's RAM total also has 130 pages of ROM/firmware blocks, 520 KiB, outside guest memory; they
  are ignored.)
* [network] bandwidth is the placeholder host constant HOST_LINK_BW (loopback has no fixed rate; the
  real limit is max-bandwidth or, when unlimited, the host CPU). Latency 0.05 ms (loopback).
* [workload]: idle -> idle; uniform -> uniform; hotspot -> hotcold (hot region at the start of the
  working set, the rest of the writes uniform over the cold remainder); seq -> sequential.
  write_rate = rate_target page writes/s, or the measured guest_wps when rate_target is 0 ("as fast
  as possible"), times the share of wall-clock time the dirtier writes: once per 1 s period it stops
  to verify every page (dt.verify=1) and then restarts its rate clock, so the writes it skipped are
  never made up (dirtier.c: t_last = t_rep after the verify; its wps leaves the verify time out).
  That share is 1000 / (1000 + the mean verify ms of the run's reports before migration): about
  1-2 % in the 256 MiB guest, 5-7 % in the 1 GiB one and 11-13 % in the 2 GiB one
  (DIRTIER_VERIFY=0 leaves it out; docs/validation.md compares the two). working_set = wss_mib MiB.
* [migration]: strategy from mode (hybrid: hybrid_switch = "rounds" with hybrid_switch_after =
  postcopy_after_rounds, and hybrid_switch_after_time = postcopy_after_s, or "time" when only the
  latter is given); stop_policy "qemu"; downtime_limit; max_bandwidth = bw_mib MiB/s (0 =
  unlimited: key omitted), and for post-copy and hybrid max_postcopy_bandwidth = postcopy_bw_mib
  MiB/s (likewise); auto-converge's throttle_trigger and throttle_tailslow from the run's QEMU
  `params` when they are not QEMU's defaults;
  max_time = timeout_s for precopy (the lab cancelled precopy at that time and called it
  not-converged); max_rounds = 100000 (QEMU has no round limit).
* [reference]: see README.md in the output folder.
"""
import argparse
import csv
import json
import os
import shutil
import sys

# Host constants of the lab machine: one set for every case, never fitted per case.
HOST_LINK_BW = os.environ.get("HOST_LINK_BW", "40 Gbit/s")  # loopback: never the bottleneck, the host CPU is
# The host CPU's pace for one migration stream: pages new to the destination (allocated and faulted in
# there) and pages it already holds (README obs. 2: R_raw ~300-750 MB/s when the final copy carries
# never-sent pages, ~0.9-1.74 GB/s when it re-sends, the fastest taken as the CPU pace; multifd: one channel 380-440 MiB/s).
HOST_CPU_NEW = os.environ.get("HOST_CPU_NEW", "400 MiB/s")
HOST_CPU_RESENT = os.environ.get("HOST_CPU_RESENT", "1700 MB/s")
# The same while the guest is paused (the final copy); empty: HOST_CPU_RESENT. The lab's 1700 MB/s
# was read off final copies, so it is both there; this project's machine is calibrated apart
# (`calibrate_cpu.py --stop`, on the stop-and-copy calibration runs).
HOST_CPU_RESENT_PAUSED = os.environ.get("HOST_CPU_RESENT_PAUSED", "")
# The lab host's CPU as the multifd channels see it (lab README: "host with 2 vCPUs"; the guest is
# -smp 1, one TCG vCPU thread kept busy; source and destination run on the same machine). The
# channels share the 2 cores fairly with that vCPU and the destination's receiving threads.
HOST_CPU_CORES = os.environ.get("HOST_CPU_CORES", "2")
HOST_BUSY_THREADS = os.environ.get("HOST_BUSY_THREADS", "1")
# The lab's rate-limited dirtier: writes/s it would issue with a whole vCPU. Measured once: at a
# 99 % throttle it achieved 3310 writes/s (mechanism runs, observation 2), so 3310 / 0.01.
DIRTIER_FULL_CPU = "331000 pages/s"
# What one dirtier write changes: one aligned 8-byte word at offset 0 (mechanism runs, obs. 3).
DIRTIER_WRITE_DELTA = "8 B"
# Model the dirtier's shadow array and seen bitmap as a second writer (set to 0 to leave them out).
DIRTIER_SHADOW = os.environ.get("DIRTIER_SHADOW", "1") == "1"
# Take out the time the dirtier spends verifying (DIRTIER_VERIFY=0 leaves the rate target as is; see
# docs/validation.md, "The dirtier's verify pauses").
DIRTIER_VERIFY = os.environ.get("DIRTIER_VERIFY", "1") == "1"
# dirtier.c's report and verify period, ms (the lab's init script default; no run sets dt.period).
DIRTIER_PERIOD_MS = 1000.0
# The host CPU model (docs/model.md 15.11), for the runs measured on this project's machine
# (validation/qemu-cpu, `--set qemu-cpu`): 2 cores, shared with other developers' jobs. Its inputs
# are known before each migration: the host's 1-minute load when the run began (the lab records
# it), less the harness's own (OWN_LOAD: the lab's quiet host read 0.5-0.9 at every start, median
# 0.8, its own booting guest), counted LOAD_WEIGHT threads each; the guest's CPU demand (1 core for
# the max-rate writer, rate / DIRTIER_FULL_CPU for a rate-limited one, 0 idle; with GUEST_VCPU=1,
# measured before migrating where guest_vcpu.json has the guest and writer, see guest_vcpu()). OWN_LOAD,
# LOAD_WEIGHT and CPU_RATE_ZERO are calibrated on the calibration runs (run_grid.py --calib, a
# 64 MiB working set, never scored; `calibrate_cpu.py` prints the fit), not on the scored runs.
OWN_LOAD = float(os.environ.get("OWN_LOAD", "0"))
# GUEST_VCPU=1: guest_cpu is the vCPU's share of a core measured before migrating in other boots of
# the same guest and writer (guest_vcpu.json), not the writer's rate over the max-rate writer's. Off:
# the calibration check does not hold with it (docs/validation.md, "The vCPU's measured demand").
GUEST_VCPU = os.environ.get("GUEST_VCPU", "0") == "1"
LOAD_WEIGHT = float(os.environ.get("LOAD_WEIGHT", "0.5"))
CPU_RATE_ZERO = os.environ.get("CPU_RATE_ZERO", "4 GB/s")
# How much a running vCPU slows the stream's per-page work, per core it keeps busy (docs/model.md
# 15.11), fitted on the max-rate writer's calibration runs (`calibrate_cpu.py --interference`).
CPU_INTERFERENCE = os.environ.get("CPU_INTERFERENCE", "0")
# The other way round: how much slower the guest's vCPU goes while the stream works flat out
# (docs/model.md 15.11), fitted on the long runs of the max-rate writer (`calibrate_cpu.py --guest`).
GUEST_INTERFERENCE = os.environ.get("GUEST_INTERFERENCE", "0")
# The guest's boot to ready (the lab's `boot_to_ready_s`: TCG work and first touches of fresh memory
# on the same host, just before the migration) tracks the machine's drift between sessions
# (docs/validation.md, "The machine's drift, seen before each migration"). BOOT_SPEED (off by
# default) scales the machine's CPU paces (HOST_CPU_NEW, HOST_CPU_RESENT, HOST_CPU_RESENT_PAUSED,
# CPU_RATE_ZERO) for the quiet machine's sets (BOOT_SETS; the loaded set's boots are slowed by the
# load its host_busy_threads already counts), from each guest's (memory MiB, working set MiB) boots
# in the session the constants were fitted in (2026-12-07 10:04-10:37, the quiet calibration runs
# and set 7; `boot_drift.py` prints them and checks these tables):
# - BOOT_SPEED=median: x BOOT_REF (their median) / the run's boot;
# - BOOT_SPEED=spread: x BOOT_MAX (their longest) / the run's boot, at most 1: within a session the
#   boots spread 8-24 % with no tie to the migration's time, so only a boot beyond that counts.
# - BOOT_SPEED=band: a boot within that session's range (at most BOOT_MAX) is that session's machine,
#   as calibrated; a longer one is the slower machine of the afternoon: x BOOT_REF / the run's boot,
#   on the DRIFT_CORES that QEMU's threads got then (`thread_cpu.py`, last line).
# Off: docs/validation.md says what each does, and on which runs each was chosen.
BOOT_SPEED = os.environ.get("BOOT_SPEED", "")
BOOT_REF = {(256, 64): 4.81, (256, 128): 5.21, (1024, 768): 9.53}
BOOT_MAX = {(256, 64): 5.12, (256, 128): 5.52, (1024, 768): 10.53}
DRIFT_CORES = "1.83"
BOOT_SETS = ("qemu-cpu-quiet", "qemu-mechanisms-quiet")
SET_NAME = None  # --set, for BOOT_SETS
# The constants each set measured on this project's machine was converted with, from
# calibrate_cpu.py (docs/validation.md, sets 6 and 7); an environment variable of the same name
# overrides. The machine's own pace (HOST_CPU_NEW, CPU_RATE_ZERO; `calibrate_cpu.py --pace`), its
# final copy's pace (HOST_CPU_RESENT_PAUSED, `--stop`) and a running vCPU's interference
# (CPU_INTERFERENCE, `--interference`) and the stream's on the vCPU (GUEST_INTERFERENCE, `--guest`)
# come from the calibration runs taken while it was quiet, the
# load's weight from those taken while it was loaded. On the quiet machine the 1-min load at every start (0.3-1.1) was the harness's own
# (OWN_LOAD 99: no other threads).
SET_CONSTANTS = {
    "qemu-cpu": {"HOST_CPU_NEW": "320 MiB/s", "CPU_RATE_ZERO": "3 GB/s", "HOST_CPU_RESENT_PAUSED": "2300 MB/s",
                 "CPU_INTERFERENCE": "0.06", "GUEST_INTERFERENCE": "0.2", "OWN_LOAD": 0.8, "LOAD_WEIGHT": 0.35},
    "qemu-cpu-quiet": {"HOST_CPU_NEW": "320 MiB/s", "CPU_RATE_ZERO": "3 GB/s", "HOST_CPU_RESENT_PAUSED": "2300 MB/s",
                       "CPU_INTERFERENCE": "0.06", "GUEST_INTERFERENCE": "0.2", "OWN_LOAD": 99.0,
                       "LOAD_WEIGHT": 0.35},
}
# The XBZRLE runs taken on the same machine while it was quiet (run_grid.py --mech-quiet).
SET_CONSTANTS["qemu-mechanisms-quiet"] = dict(SET_CONSTANTS["qemu-cpu-quiet"])
# Set 9 (run_grid.py --session): the same machine's ratios, and the pace and paused pace fitted on
# the calibration runs taken in its own session (calibration/session; calibrate_cpu.py --check).
SET_CONSTANTS["qemu-session"] = dict(SET_CONSTANTS["qemu-cpu-quiet"], HOST_CPU_NEW="360 MiB/s", CPU_RATE_ZERO="1 GB/s",
                                     HOST_CPU_RESENT_PAUSED="2000 MB/s")
# Sets 10-12: the cores QEMU's threads got (DRIFT_CORES, thread_cpu.py) and the vCPU's measured
# demand (GUEST_VCPU, guest_vcpu.json) in place, and the paces fitted with them on each set's own
# session's calibration runs: set 10 (run_grid.py --session again, a second session;
# calibration/session2), sets 11 and 12 (run_grid.py --session --settle-s 8, memory settled before
# each migration, a third and a fourth session; calibration/settle and calibration/settle2).
# This machine's SOCKET_BUFFER (below): the median of what each stream's sockets held at the pause
# in the traced runs whose destination still lagged (`final_trace.py`: 4.7 MB). Sets 6-12 were
# converted without it.
LOOPBACK_SOCKET_BUFFER = "4.5 MiB"
MEASURED = dict(SET_CONSTANTS["qemu-cpu-quiet"], HOST_CPU_CORES=DRIFT_CORES, GUEST_VCPU=True)
SET_CONSTANTS["qemu-session2"] = dict(MEASURED, HOST_CPU_NEW="280 MiB/s", CPU_RATE_ZERO="3 GB/s",
                                      HOST_CPU_RESENT_PAUSED="2100 MB/s")
SET_CONSTANTS["qemu-settle"] = dict(MEASURED, HOST_CPU_NEW="280 MiB/s", CPU_RATE_ZERO="3 GB/s",
                                    HOST_CPU_RESENT_PAUSED="2100 MB/s")
SET_CONSTANTS["qemu-settle2"] = dict(MEASURED, HOST_CPU_NEW="280 MiB/s", CPU_RATE_ZERO="2 GB/s",
                                     HOST_CPU_RESENT_PAUSED="1800 MB/s")
# Set 13 (a fifth settled session, calibration/settle3): what the sockets hold at the pause in the
# model (SOCKET_BUFFER, drain_at_stop) for the fits as for the conversion.
SET_CONSTANTS["qemu-settle3"] = dict(MEASURED, HOST_CPU_NEW="300 MiB/s", CPU_RATE_ZERO="3 GB/s",
                                     HOST_CPU_RESENT_PAUSED="1700 MB/s", SOCKET_BUFFER=LOOPBACK_SOCKET_BUFFER)
# Set 14 (a sixth settled session, calibration/settle4): as set 13, with the pages the guest never
# wrote, measured by the lab before each migration, in the model (UNTOUCHED) for the fits as for the
# conversion.
SET_CONSTANTS["qemu-settle4"] = dict(MEASURED, HOST_CPU_NEW="340 MiB/s", CPU_RATE_ZERO="2 GB/s",
                                     HOST_CPU_RESENT_PAUSED="2800 MB/s", SOCKET_BUFFER=LOOPBACK_SOCKET_BUFFER,
                                     UNTOUCHED="measured")
# Set 15 (a seventh settled session, calibration/settle5): set 14's recipe again, its own fits.
SET_CONSTANTS["qemu-settle5"] = dict(SET_CONSTANTS["qemu-settle4"], HOST_CPU_NEW="320 MiB/s", CPU_RATE_ZERO="3 GB/s",
                                     HOST_CPU_RESENT_PAUSED="2600 MB/s")
# How the probe's share becomes the model's host (calibrated too): "threads": the other load is
# runnable threads in the same fair scheduler as QEMU's (host_cores = 2, host_busy_threads =
# 2 / share - 1 - guest_cpu); "group": it runs in other scheduling groups (other developers'
# containers), which leave QEMU's group a share of the cores however many threads it runs
# (host_cores = share x (1 + guest_cpu), the cores the probe and the guest's vCPU got together,
# host_busy_threads = 0). IGNORE_PROBE=1 uses the load average even where a probe was taken.
HOST_LOAD_MODEL = os.environ.get("HOST_LOAD_MODEL", "threads")
IGNORE_PROBE = os.environ.get("IGNORE_PROBE", "1") == "1"
HOST_RESUME = os.environ.get("HOST_RESUME", "5 ms")           # fixed stop + final sync + resume cost (README obs. 2: downtime ~ bytes / R_raw + ~5 ms)
# What each stream's sockets hold at the pause on the machine's loopback, per multifd channel (or
# the one stream), when the destination is the slower end: measured on this project's machine
# with QEMU's own trace of the final copy (calibration/sockets, final_trace.py); "" leaves the
# pipe empty at the pause (drain_at_stop off), as for the lab's machine, where it was not measured.
SOCKET_BUFFER = os.environ.get("SOCKET_BUFFER", "")
# "measured": [vm] untouched_profile from the pre-migration scan's count of the pages the guest
# never wrote (migrate.py's `untouched_pages`: the source QEMU's page tables right after the dump),
# which the host backs with its one shared zero page, so QEMU finds them zero for next to nothing
# (docs/model.md 15.13). "" leaves every zero page at CPU_RATE_ZERO, as sets 3-13 were converted
# (their records do not have the count).
UNTOUCHED = os.environ.get("UNTOUCHED", "")
HOST_SETUP = "2 ms"            # QEMU setup_time_ms is 1-4 ms in the lab runs
HOST_LATENCY = "0.05 ms"       # loopback
DEVICE_STATE = "256 KiB"       # assumed, not measured
PAGE = 4096
QEMU_NO_ROUND_LIMIT = 100000   # QEMU has no round limit; keep the simulator's cap out of the way

WL_KIND = {"idle": "idle", "uniform": "uniform", "hotspot": "hotcold", "seq": "sequential"}
# Where the zero pages lie: [vm] zero_profile with this many equal regions, read off QEMU's
# `duplicate` counter along the first pass (set ZERO_PROFILE=0 for zero_fraction alone, spread).
ZERO_PROFILE = os.environ.get("ZERO_PROFILE", "1") == "1"
ZERO_REGIONS = 64


def first_pass_points(run):
    """(pages scanned, zero pages found) along the first pass: QEMU scans guest memory in address
    order before its second sync, so normal + duplicate is the scan position and duplicate the zero
    pages below it."""
    s = run["samples"]
    pts = [(0, 0)]
    for i in range(len(s["t"])):
        if s["dirty_sync_count"][i] == 1 and s["normal"][i] is not None and s["duplicate"][i] is not None:
            pts.append((s["normal"][i] + s["duplicate"][i], s["duplicate"][i]))
    return pts


def load_runs(qemu_dir, rows):
    """Each run's record (runs/<run_id>.json), read once; runs without one are left out."""
    out = {}
    for r in rows:
        path = os.path.join(qemu_dir, "runs", r["run_id"] + ".json")
        if os.path.exists(path):
            with open(path) as f:
                out[r["run_id"]] = json.load(f)
    return out


# Where each guest's zero pages lie is read off one named run of that guest (its first pass, QEMU's
# `duplicate` counter against the scan position), never off the run being predicted, so that every
# input of a case is known before its migration starts and a case does not depend on which other
# runs share the lab folder. A guest is (memory MiB, working set MiB, guest command line). The
# layout run is the guest's first run in the lab (18:23 for the 256 MiB guest, 18:36 for the 1 GiB
# one, 19:06 for the 2 GiB one, all 2026-11-25) and is earlier than every other run of its guest;
# the layout run itself takes the guest's second named run (a later boot of the same guest).
LAYOUT_RUNS = {
    ("256", "128", "pti=on"): ("m256-idle-w128-bw32-dt300-precopy", "m256-uniform-r2000-w128-bw32-dt300-precopy"),
    ("1024", "768", "pti=on"): ("m1024-idle-w768-bw128-dt300-precopy", "m1024-uniform-r10000-w768-bw128-dt300-precopy"),
    ("2048", "1536", "pti=on"): ("m2048-uniform-r10000-w1536-bw128-dt300-precopy", "m2048-uniform-r10000-w1536-bw128-dt300-hybrid2"),
}
# A guest the lab booted once has no other boot to read its layout from: it is scanned before
# migrating in a boot of the same guest with this project's copy of the lab (guest_scans.json, keyed
# "memory-working set-command line"; SCANNED_GUESTS). Without the scan, KERNEL_AREA_OF takes the
# layout of the guest of the same memory with a working set, its working set's regions zero.
SCANNED_GUESTS = ("1024-0-pti=on",)
KERNEL_AREA_OF = {("1024", "0", "pti=on"): ("1024", "768", "pti=on")}


def guest_scan(r):
    """The pre-migration scan of this run's guest in guest_scans.json, as the `prescan` record
    migrate.py writes, or None."""
    key = "-".join(guest_key(r))
    if key not in SCANNED_GUESTS:
        return None
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest_scans.json")
    with open(path) as f:
        return json.load(f).get(key)


def guest_vcpu(r):
    """The guest's vCPU demand measured before migrating in other boots of the same guest and
    writer on this project's machine (guest_vcpu.json, vcpu_share.py), or None."""
    from vcpu_share import key  # this script's folder: the key vcpu_share.py writes
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest_vcpu.json")
    with open(path) as f:
        return json.load(f).get(key(r))


def guest_key(r):
    return (str(int(float(r["mem_mib"]))), str(int(float(r["wss_mib"] or 0))), r["guest_append"])


def zero_layouts(records, rows):
    """Per run: the first-pass points of its guest's layout run, that run's id, and whether only its
    kernel's area applies (KERNEL_AREA_OF). A run of a guest with no named layout run (or whose layout
    run is missing from the lab folder) gets none: its case falls back to zero_fraction from its own
    count, and the converter says so."""
    out = {}
    for r in rows:
        key = guest_key(r)
        kernel_only = key in KERNEL_AREA_OF
        names = LAYOUT_RUNS.get(KERNEL_AREA_OF.get(key, key))
        if not names:
            continue
        name = names[1] if names[0] == r["run_id"] else names[0]
        rec = records.get(name)
        row = next((x for x in rows if x["run_id"] == name), None)
        if rec is None or row is None:
            continue
        pages = int(float(row["mem_mib"])) * 256
        pts = first_pass_points(rec) + [(pages, int(row["duplicate_pages"]))]
        out[r["run_id"]] = (pts, name, kernel_only)
    return out


def verify_ms(run):
    """The mean time (ms) of the dirtier's verify pass in a run's reports before migration, and how
    many there were; None when the run has none (an idle guest, or verify off)."""
    if "dt.verify=0" in (run.get("append") or "") or "dt.period=" in (run.get("append") or ""):
        return None
    v = [x["vms"] for x in (run.get("guest_pre") or {}).get("reports") or [] if x.get("vms")]
    return (sum(v) / len(v), len(v)) if v else None


def profile_of(pts, pages):
    """The zero share of each region from a layout run's first-pass points (scan position, zero
    pages below it): between two points the zero pages are spread evenly."""
    reg = [i * pages // ZERO_REGIONS for i in range(ZERO_REGIONS + 1)]
    return [min(1.0, max(0.0, (cumulative(pts, reg[i + 1]) - cumulative(pts, reg[i])) / (reg[i + 1] - reg[i])))
            for i in range(ZERO_REGIONS)]


def kernel_area_profile(prof, pages, wss_pages):
    """A guest with no working set: the layout guest's memory with the dirtier's buffer (its data
    parts, as data_parts places them) taken out, i.e. zero; the kernel's pages below it and the
    pages above it (the initramfs, the top of memory) stay as they are."""
    reg = pages // ZERO_REGIONS
    out = list(prof)
    for first, n in data_parts(prof, pages, first_data_offset(prof, pages, wss_pages), wss_pages):
        for k in range(first // reg, -(-(first + n) // reg)):
            out[k] = 1.0
    return out


def cumulative(pts, x):
    for (x0, z0), (x1, z1) in zip(pts, pts[1:]):
        if x1 >= x:
            return z0 + (z1 - z0) * (x - x0) / max(1, x1 - x0)
    return pts[-1][1]


def first_data_offset(prof, pages, span):
    """The start of the first stretch of 4 regions with (almost) no zero pages: the guest kernel's
    pages, with zero pages among them, lie below; the dirtier's buffer starts after them."""
    reg = pages // ZERO_REGIONS
    for k in range(ZERO_REGIONS - 3):
        if all(f < 0.02 for f in prof[k:k + 4]) and k * reg + span <= pages:
            return k * reg
    return 0


def fnum(x):
    """A float as TOML: integers without a fraction, others with up to 9 significant digits."""
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return ("%.9g" % x)


def flag(r, k):
    return r.get(k, "") not in ("", "0", "0.0")


def is_mechanism(r):
    return flag(r, "auto_converge") or flag(r, "xbzrle") or flag(r, "multifd")


def mib(x):
    return fnum(float(x)) + " MiB"


def data_parts(prof, pages, start, need, first_min=0):
    """The dirtier's buffer as (first page, pages) ranges: whole regions from `start` on, skipping
    those that are mostly zero pages (the dirtier wrote all of its buffer at boot, so a region QEMU's
    first pass found mostly zero is not part of it), until `need` pages are taken. One range from
    `start` if they do not fit, or if the first range is shorter than `first_min` pages (a hot set,
    which lies at the start of the buffer, must fit in it)."""
    reg = pages // ZERO_REGIONS
    parts, left = [], need
    for k in range(start // reg, ZERO_REGIONS):
        if left <= 0:
            break
        if prof[k] >= 0.5:
            continue
        a, n = k * reg, min(reg, left)
        if parts and sum(parts[-1]) == a:
            parts[-1] = (parts[-1][0], parts[-1][1] + n)
        else:
            parts.append((a, n))
        left -= n
    return parts if left <= 0 and parts[0][1] >= first_min else [(start, need)]


def vcpu_share_before(host):
    """The share of a core a spinning vCPU got before the migration, as the converter reads the
    host's load (the same rules as the host keys it writes): the probe's own share where it is used,
    else a fair share of HOST_CPU_CORES among the busy threads and the vCPU."""
    cores = float(HOST_CPU_CORES)
    share = None if IGNORE_PROBE else host.get("probe")
    if share:
        return min(1.0, share)
    busy = max(0.0, host["load"] - OWN_LOAD) * LOAD_WEIGHT
    return min(1.0, cores / (busy + 1.0))


def boot_s(r):
    return float(r.get("boot_to_ready_s") or 0)


def boot_speed(r):
    """(the factor BOOT_SPEED puts on the machine's CPU paces for run `r`, the reference boot, the
    host's cores), or (1, None, HOST_CPU_CORES) for none."""
    key = (int(float(r["mem_mib"])), int(float(r.get("wss_mib") or 0)))
    ref = {"median": BOOT_REF, "spread": BOOT_MAX, "band": BOOT_REF}.get(BOOT_SPEED, {}).get(key)
    boot = boot_s(r)
    if ref is None or SET_NAME not in BOOT_SETS or boot <= 0:
        return 1.0, None, HOST_CPU_CORES
    if BOOT_SPEED == "band":
        return (ref / boot, ref, DRIFT_CORES) if boot > BOOT_MAX[key] else (1.0, None, HOST_CPU_CORES)
    return (ref / boot if BOOT_SPEED == "median" else min(1.0, ref / boot)), ref, HOST_CPU_CORES


def paced(rate, speed):
    """A rate such as "320 MiB/s" times `speed`."""
    if speed == 1.0:
        return rate
    number, unit = rate.split(" ", 1)
    return "%s %s" % (fnum(round(float(number) * speed, 1)), unit)


def shares_table(h, key, shares):
    """Write `key = [...]`, a list of shares to 4 places, 16 to a line, through `h`."""
    vals = ["%.4f" % f for f in shares]
    h("%s = [" % key)
    for i in range(0, len(vals), 16):
        h("    " + ", ".join(vals[i:i + 16]) + ",")
    h("]")


def convert(r, layout=None, verify=None, params=None, prescan=None, host=None):
    rid = r["run_id"]
    mem_mib = int(float(r["mem_mib"]))
    pages = mem_mib * 256
    dup = int(r["duplicate_pages"])
    normal = int(r["normal_pages"])
    footprint = pages - dup
    resent = normal - footprint
    zf = dup / pages
    wl = r["wl"]
    kind = WL_KIND[wl]
    rate_target = int(float(r["rate_target"] or 0))
    wss = int(float(r["wss_mib"] or 0))
    mode = r["mode"]
    converged = r["outcome"] == "completed"
    bw = float(r["bw_mib"] or 0)
    mech = is_mechanism(r)

    L = []
    h = L.append
    h("# Real QEMU live migration, converted by validation/tools/convert_qemu.py (do not edit by hand).")
    h("# Run %s (%s): QEMU 7.2.22, TCG, source and destination on 127.0.0.1, %s." % (
        rid, r["date"][:10], r["guest_append"] or "pti=on"))
    cfg = "%d MiB guest, dirtier %s" % (mem_mib, wl)
    if wl != "idle":
        cfg += " %s writes/s" % ("max (measured %s)" % fnum(r["guest_wps"]) if rate_target == 0
                                 else rate_target)
    cfg += ", wss %d MiB" % wss
    if wl == "hotspot":
        cfg += " (hot %s MiB gets %s %%)" % (fnum(r["hot_mib"]), fnum(r["hot_pct"]))
    cfg += "; %s, max-bandwidth %s, downtime-limit %s ms; outcome %s." % (
        mode + (" (postcopy after %s rounds)" % r["postcopy_after_rounds"] if mode == "hybrid" else ""),
        ("%s MiB/s" % fnum(bw)) if bw > 0 else "unlimited", r["downtime_limit_ms"], r["outcome"])
    h("# " + cfg)
    if host is not None and boot_s(r) > 0:
        h("# Started %s UTC; the guest took %s s from boot to ready (a pre-migration measure of the machine's pace," % (
            r["date"][11:16], fnum(boot_s(r))))
        h("#   not an input unless BOOT_SPEED is set: docs/validation.md, \"The machine's drift, seen before each migration\").")
    probe = (host or {}).get("pace")
    if probe:
        # migrate.py --pace-probe-mib: three rounds just before `migrate`, kept for analysis.
        h("# Pace probe before migrating (not an input): first touch of %d MiB of fresh memory %s us a page," % (
            probe["mib"], "/".join("%.2f" % x for x in probe["first_touch_us"])))
        h("#   SHA-256 over 8 MiB %s MB/s (three rounds)." % "/".join("%.0f" % x for x in probe["sha256_mbps"]))
    h("# This run's own counters (for reference, not inputs): duplicate_pages / memory pages = %d / %d = %.6f" % (
        dup, pages, zf))
    h("#   (zero pages are counted once in")
    h("#   the first pass; later re-counts are <= ~200 pages). Non-zero footprint = %d - %d = %d pages" % (
        pages, dup, footprint))
    h("#   (%.1f MiB); normal_pages %d - footprint = %d pages sent more than once." % (
        footprint / 256, normal, resent))
    h("# Link: loopback (HOST_LINK_BW, never the bottleneck), latency 0.05 ms; host CPU pace HOST_CPU_NEW/RESENT; device_state")
    h("#   256 KiB is assumed (QEMU's byte counters leave device state out).")
    rate = rate_target if rate_target > 0 else float(r.get("guest_wps") or 0)
    # The share of wall-clock time the dirtier writes, and its verify pass's time (ms), where taken out.
    verify_duty, verify_ms = 1.0, None
    if kind != "idle":
        if rate_target == 0:
            h("# write_rate: rate target 0 = as fast as possible, so the measured guest_wps before migration.")
        else:
            h("# write_rate: the dirtier's target (measured guest_wps %s before migrating)." % fnum(r["guest_wps"]))
        dr = r.get("qemu_dirtyrate_sampling_mibps") or ""
        if dr:
            # Shown, not used: a 1 s page sample; the lab's repeats of one writer gave 4-14 MiB/s.
            h("#   QEMU's calc-dirty-rate before migrating (page-sampling, 1 s): %s MiB/s; the writer's own" % fnum(dr))
            h("#   distinct pages/s before migrating: %s (%.1f MiB/s)." % (
                fnum(r["guest_uniq_pps"]), float(r["guest_uniq_pps"] or 0) / 256))
        if DIRTIER_VERIFY and verify and wss > 0:
            verify_ms = verify[0]
            verify_duty = DIRTIER_PERIOD_MS / (DIRTIER_PERIOD_MS + verify_ms)
            h("#   Times %.4f, the share of wall-clock time it writes: each 1 s period it stops for its verify" % verify_duty)
            h("#   pass (%.1f ms, the mean of %d reports before migration) and does not make those writes up:" % verify)
            h("#   %s x %.4f = %s writes/s." % (fnum(rate), verify_duty, fnum(rate * verify_duty)))
            rate = rate * verify_duty
    if not converged:
        h("# Not converged: the lab cancelled precopy at %s s; bytes_sent and syncs are QEMU's counters" %
          fnum(r["timeout_s"]))
        h("#   at the cancel.")
    h("")
    h('name = "%s"' % rid)
    h('description = "QEMU 7.2 TCG loopback: %s"' % cfg.rstrip(".").replace('"', "'"))
    h("")
    h("[vm]")
    h('memory = "%d MiB"' % mem_mib)
    h('page_size = "4 KiB"')
    prof, ws_offset, untouched = None, 0, None
    if ZERO_PROFILE and prescan:
        # The lab's own scan of this boot's memory before migrating (migrate.py --prescan).
        k = prescan["regions"] // ZERO_REGIONS
        per = prescan["pages_per_region"] * k
        prof = [sum(prescan["zero_pages"][i * k:(i + 1) * k]) / per for i in range(ZERO_REGIONS)]
        if UNTOUCHED == "measured" and "untouched_pages" in prescan:
            # A page never written is a zero page; the two counts were read a moment apart, so a
            # region's untouched count is capped at its zero count.
            cap = [min(u, z) for u, z in zip(prescan["untouched_pages"], prescan["zero_pages"])]
            untouched = [sum(cap[i * k:(i + 1) * k]) / per for i in range(ZERO_REGIONS)]
        elif UNTOUCHED == "measured":
            print("warning: %s: the pages the guest never wrote were not measured; no untouched_profile" % rid,
                  file=sys.stderr)
        if "run" in prescan:
            source = "a scan of this guest's memory before migrating, in another boot (%s, guest_scans.json;" \
                     " pmemsave, %d zero pages)" % (prescan["run"], prescan["total_zero"])
        else:
            source = "the lab's scan of this guest's memory before migrating (pmemsave, %d zero pages)" % prescan["total_zero"]
    elif ZERO_PROFILE and layout:
        pts, name, kernel_only = layout
        prof = profile_of(pts, pages)
        source = "QEMU's duplicate counter along the first pass of run %s (the same guest, another boot)" % name
        if kernel_only:
            prof = kernel_area_profile(prof, pages, int(name.split("-w")[1].split("-")[0]) * 256)
            source = ("run %s (the same memory, with a working set), its working set's regions taken as"
                      " zero (this guest has none)" % name)
    if prof and wss > 0:
        # The kernel's area is the same in every boot of a guest: the first 4 regions with no zero
        # pages above it start the dirtier's buffer.
        ws_offset = first_data_offset(prof, pages, wss * 256)
    if prof:
        h("# zero_profile: the zero share of each 1/%d of memory, known before this migration: from" % ZERO_REGIONS)
        h("#   %s." % source)
        h("#   It holds %d zero pages (this run's QEMU counted %d)." % (
            round(sum(prof) * pages / ZERO_REGIONS), dup))
        if wss > 0:
            h("#   The working set starts after the guest kernel's area, at the first 4 regions with no zero pages")
            h("#   (%d KiB)." % (ws_offset * 4))
        shares_table(h, "zero_profile", prof)
        if untouched is not None:
            h("# untouched_profile: of those, the share the guest had never written, from the same scan (the")
            h("#   source QEMU's page tables: never faulted in, or the host's shared zero page; UNTOUCHED):")
            h("#   %d pages, found zero for next to nothing." % round(sum(untouched) * pages / ZERO_REGIONS))
            shares_table(h, "untouched_profile", untouched)
    else:
        # No layout known before the migration: this run's own count (not predictive; the
        # converter warns).
        h("zero_fraction = %.6f   # from this run's own count: no layout run for this guest" % zf)
        print("warning: %s: no zero-page layout known before the migration; zero_fraction is the run's own" % rid,
              file=sys.stderr)
    h('device_state = "%s"' % DEVICE_STATE)
    h("")
    h("[network]")
    h('bandwidth = "%s"   # HOST_LINK_BW: loopback, not the bottleneck' % HOST_LINK_BW)
    h('latency = "%s"' % HOST_LATENCY)
    h("")
    h("[workload]")
    full = flag(r, "auto_converge") and rate_target > 0
    # With the host CPU model, the max-rate writer's rate is what one whole vCPU gives: a share of
    # the vCPU gives that share of it.
    full_max = host is not None and rate_target == 0 and kind != "idle"
    # The max-rate writer's rate before migrating was measured under the host's load already: with a
    # whole vCPU it would write rate / (the share of a core its vCPU got then).
    pre_share = vcpu_share_before(host) if full_max else 1.0
    # The max-rate writer checks the clock after every 4096 writes (dirtier.c), so it verifies once
    # per wall-clock second whatever CPU it gets: the verify pass is CPU it spends before writing
    # (`reserved_cpu`: the pass's CPU time per second, its wall time before migrating x the share of a
    # core the vCPU got then). A rate-limited writer at 99 % spends a slice on a chunk of its
    # backlog and verifies once per chunk; DIRTIER_FULL_CPU, measured there, holds that already.
    reserved = verify_ms * pre_share / DIRTIER_PERIOD_MS if (full_max and verify_ms) else 0.0

    def full_max_rate(wall_rate):
        """The max-rate writer's (or a part's) writes/s with a whole vCPU, from its wall-clock rate."""
        return wall_rate / verify_duty / pre_share * (1 - reserved)
    shadow = DIRTIER_SHADOW and kind != "idle" and wss > 0
    if shadow:
        # The dirtier writes two pages per write: the data page and its 8-byte entry in the shadow
        # array (one shadow page per 512 data pages), and sets a bit in its seen bitmap (one page per
        # 32768 data pages) (lab README, mechanism runs, observation 3).
        h('kind = "mix"')
    if flag(r, "xbzrle"):
        h('write_delta = "%s"   # DIRTIER_WRITE_DELTA: one 8-byte word per write' % DIRTIER_WRITE_DELTA)
    wpages = wss * 256
    hot = int(float(r["hot_mib"] or 0) * 256) if kind == "hotcold" else 0
    parts = data_parts(prof, pages, ws_offset, wpages, hot) if (prof and shadow) else [(ws_offset, wpages)]
    hot_share = float(r["hot_pct"]) / 100 if kind == "hotcold" else 0.0
    for j, (first, n) in enumerate(parts):
        if shadow:
            h("")
            if len(parts) == 1:
                h("[[workload.parts]]   # the dirtier's data pages")
            else:
                h("[[workload.parts]]   # the dirtier's data pages, %d of %d (its buffer skips stretches of zero pages)" % (
                    j + 1, len(parts)))
        # Splitting the writes by pages keeps every page's share: hot writes stay on the hot set (at
        # the start of the first part), cold writes spread over the cold pages of all parts.
        if len(parts) == 1:
            part_rate, part_kind, part_share = rate, kind, hot_share
        elif kind == "hotcold" and j == 0:
            cold_rate = rate * (1 - hot_share) * (n - hot) / (wpages - hot)
            part_rate, part_kind, part_share = rate * hot_share + cold_rate, "hotcold", rate * hot_share / (rate * hot_share + cold_rate)
        else:
            # A cold part of a hotspot writer is uniform; a uniform or sequential writer keeps its
            # kind in every part (a sequential sweep then runs through the parts side by side, each
            # at its share of the rate, where the dirtier sweeps them one after the other: the same
            # pages per second and the same sweep period).
            cold = wpages - hot
            part_rate, part_kind, part_share = rate * (1 - hot_share) * n / cold, kind if kind != "hotcold" else "uniform", 0.0
        h('kind = "%s"' % part_kind)
        if kind != "idle":
            h('write_rate = "%s pages/s"' % fnum(part_rate))
        if wss > 0:
            if len(parts) == 1:
                h('working_set = "%d MiB"' % wss)
            else:
                h('working_set = "%d KiB"' % (n * 4))
            if first:
                h('offset = "%d KiB"' % (first * 4))
        else:
            h("# working_set: 0 MiB in the lab (no dirtier memory); left out")
        if part_kind == "hotcold":
            h('hot_set = "%s"' % mib(r["hot_mib"]))
            h("hot_share = %s" % fnum(part_share))
        if full:
            full_rate = DIRTIER_FULL_CPU if len(parts) == 1 else "%s pages/s" % fnum(
                float(DIRTIER_FULL_CPU.split()[0]) * part_rate / rate)
            h('full_cpu_rate = "%s"   # DIRTIER_FULL_CPU%s' % (
                full_rate, ": the rate-limited dirtier with a whole vCPU" if len(parts) == 1 else ", this part's share"))
        elif full_max:
            h('full_cpu_rate = "%s pages/s"   # the max-rate writer with a whole vCPU: %s / %.4f / %.3f (the share its vCPU got before) x (1 - reserved_cpu)' % (
                fnum(round(full_max_rate(part_rate))), fnum(round(part_rate)), verify_duty, pre_share))
            if reserved:
                h("reserved_cpu = %s   # its verify pass: %.1f ms x %.3f of a core each second" % (
                    fnum(round(reserved, 5)), verify_ms, pre_share))
    if shadow:
        span = sum(parts[-1]) - parts[0][0]
        extra = -(-wpages // 512) + -(-wpages // 32768)
        h("")
        # dirtier.c fills shadow entry p right after it touches data page p, so the guest kernel
        # hands out the shadow's pages in between the data pages, one after every 512 (and a page
        # table page per 512 too). The data pages are contiguous here, so the shadow part is spread
        # evenly through them: one page every pages // extra, sharing its page number with a data
        # page. Where these pages lie decides which XBZRLE cache slots they win (model.md 3).
        h("[[workload.parts]]   # its shadow array and seen bitmap, spread through the data pages")
        h('kind = "uniform"')
        h('write_rate = "%s pages/s"' % fnum(rate))
        h('working_set = "%d KiB"' % (extra * 4))
        stride = span // extra
        h('offset = "%d KiB"' % ((parts[0][0] + stride - 1) * 4))
        h('stride = "%d KiB"' % (stride * 4))
        if full:
            h('full_cpu_rate = "%s"' % DIRTIER_FULL_CPU)
        elif full_max:
            h('full_cpu_rate = "%s pages/s"' % fnum(round(full_max_rate(rate))))
            if reserved:
                h("reserved_cpu = %s" % fnum(round(reserved, 5)))
    h("")
    h("[migration]")
    h('strategy = "%s"' % mode)
    if mode == "hybrid":
        # The harness requested post-copy once dirty-sync-count >= N + 1 or T s had passed,
        # whichever came first (lab README, "What migrate.py does", step 5).
        after_rounds = r.get("postcopy_after_rounds") or ""
        after_s = r.get("postcopy_after_s") or ""
        if not after_rounds and not after_s:
            raise SystemExit("%s: hybrid run with neither postcopy_after_rounds nor postcopy_after_s" % rid)
        h('hybrid_switch = "%s"' % ("rounds" if after_rounds else "time"))
        if after_rounds:
            h("hybrid_switch_after = %d" % int(float(after_rounds)))
        if after_s:
            h('hybrid_switch_after_time = "%s s"' % fnum(after_s))
    h('stop_policy = "qemu"')
    h('downtime_limit = "%s ms"' % fnum(r["downtime_limit_ms"]))
    if bw > 0:
        h('max_bandwidth = "%s MiB/s"' % fnum(bw))
    else:
        h("# max_bandwidth: 0 in the lab, which means no limit")
    if mode in ("postcopy", "hybrid"):
        pc_bw = float(r.get("postcopy_bw_mib") or 0)
        if pc_bw > 0:
            h('max_postcopy_bandwidth = "%s MiB/s"   # the harness sets it to max-bandwidth unless told' % fnum(pc_bw))
        else:
            h("# max_postcopy_bandwidth: 0 in the lab, which means no limit")
    speed, ref, host_cores = boot_speed(r)  # (1, None, HOST_CPU_CORES) outside BOOT_SETS, always without --set
    times = "" if speed == 1.0 else " x %.4f (BOOT_SPEED %s: %s s / this run's boot %s s)" % (
        speed, BOOT_SPEED, fnum(ref), fnum(boot_s(r)))
    h('cpu_rate_new = "%s"   # HOST_CPU_NEW%s' % (paced(HOST_CPU_NEW, speed), times))
    h('cpu_rate_resent = "%s"   # HOST_CPU_RESENT%s' % (paced(HOST_CPU_RESENT, speed), times))
    if HOST_CPU_RESENT_PAUSED:
        h('cpu_rate_resent_paused = "%s"   # HOST_CPU_RESENT_PAUSED%s' % (paced(HOST_CPU_RESENT_PAUSED, speed), times))
    if mode == "precopy":
        h('max_time = "%s s"' % fnum(r["timeout_s"]))
    h("max_rounds = %d   # QEMU has no round limit" % QEMU_NO_ROUND_LIMIT)
    h('page_header = "8 B"')
    h('setup_time = "%s"   # HOST_SETUP' % HOST_SETUP)
    h('resume_time = "%s"   # HOST_RESUME' % HOST_RESUME)
    if host is not None:
        measured = guest_vcpu(r) if GUEST_VCPU else None
        if measured is not None:
            guest = min(1.0, measured)  # one vCPU: 10 ms ticks can read a spinning one a hair over
            why = "the vCPU's share of a core in the 3 s before migrating, median of 3 other boots of this guest and writer (guest_vcpu.json)"
        elif kind == "idle":
            guest, why = 0.0, "an idle guest"
        elif rate_target == 0:
            guest, why = 1.0, "the max-rate writer keeps its vCPU busy"
        else:
            guest = rate / float(DIRTIER_FULL_CPU.split()[0])
            why = "write_rate / DIRTIER_FULL_CPU"
        cores = float(host_cores)
        cores_line = ("host_cores = %s   # DRIFT_CORES: what QEMU's threads got on the slower machine (BOOT_SPEED band)"
                      if host_cores != HOST_CPU_CORES else "host_cores = %s   # HOST_CPU_CORES: the machine the lab ran on")
        share = None if IGNORE_PROBE else host.get("probe")
        if share and HOST_LOAD_MODEL == "group":
            got = min(cores, share * (1.0 + guest))
            h("host_cores = %s   # HOST_LOAD_MODEL group: a busy thread got %.3f of a core just before migrating," % (
                fnum(round(got, 4)), share))
            h("#   next to the guest's vCPU: %.3f x (1 + guest_cpu), at most HOST_CPU_CORES" % share)
        elif share:
            # A thread spinning just before the migration got `share` of a core, next to the guest's
            # vCPU: cores / share threads were runnable, the probe and the guest among them.
            busy = max(0.0, cores / max(share, 1e-3) - 1.0 - guest)
            h(cores_line % host_cores)
            h("host_busy_threads = %s   # a busy thread got %.3f of a core just before migrating: %s / %.3f - 1 - guest_cpu" % (
                fnum(round(busy, 3)), share, host_cores, share))
        else:
            load = host["load"]
            busy = max(0.0, load - OWN_LOAD) * LOAD_WEIGHT
            h(cores_line % host_cores)
            h("host_busy_threads = %s   # (1-min load %.2f at the run's start - OWN_LOAD %s) x LOAD_WEIGHT %s" % (
                fnum(round(busy, 3)), load, fnum(OWN_LOAD), fnum(LOAD_WEIGHT)))
        h("guest_cpu = %s   # %s" % (fnum(round(guest, 4)), why))
        h("guest_vcpus = 1")
        h("cpu_loopback = true   # source and destination on one machine")
        if CPU_RATE_ZERO:
            h('cpu_rate_zero = "%s"   # CPU_RATE_ZERO%s' % (paced(CPU_RATE_ZERO, speed), times))
        if float(CPU_INTERFERENCE) > 0:
            h("cpu_interference = %s   # CPU_INTERFERENCE" % fnum(float(CPU_INTERFERENCE)))
        if float(GUEST_INTERFERENCE) > 0:
            h("guest_interference = %s   # GUEST_INTERFERENCE" % fnum(float(GUEST_INTERFERENCE)))
    elif flag(r, "multifd"):
        h("cpu_cores = %s   # HOST_CPU_CORES" % HOST_CPU_CORES)
        h("cpu_busy_threads = %s   # HOST_BUSY_THREADS: the guest's TCG vCPU" % HOST_BUSY_THREADS)
        h("cpu_loopback = true   # source and destination on one machine")
    if flag(r, "auto_converge"):
        h("auto_converge = true")
        h("throttle_initial = %d" % int(float(r["cpu_throttle_initial"])))
        h("throttle_increment = %d" % int(float(r["cpu_throttle_increment"])))
        h("throttle_max = %d" % int(float(r["max_cpu_throttle"])))
        # QEMU's own record of the two parameters the results table leaves out.
        trigger = (params or {}).get("throttle-trigger-threshold", 50)
        if trigger != 50:
            h("throttle_trigger = %d" % trigger)
        if (params or {}).get("cpu-throttle-tailslow"):
            h("throttle_tailslow = true")
    if flag(r, "xbzrle"):
        h("xbzrle = true")
        h('xbzrle_cache = "%s"' % mib(r["xbzrle_cache_mib"]))
    if flag(r, "multifd"):
        h("multifd_channels = %d" % int(float(r["multifd_channels"])))
    for line in socket_lines():
        h(line)
    h("")
    h("[reference]")
    h("converged = %s" % ("true" if converged else "false"))
    if converged and r["total_time_ms"]:
        h("total_time_s = %s" % fnum(float(r["total_time_ms"]) / 1000))
    if converged and r["downtime_ms"]:
        h("downtime_s = %s" % fnum(float(r["downtime_ms"]) / 1000))
    if r["downtime_ev_ms"]:
        h("downtime_ev_s = %s   # source STOP -> destination RESUME" % fnum(float(r["downtime_ev_ms"]) / 1000))
    if r["setup_time_ms"]:
        h("setup_time_s = %s" % fnum(float(r["setup_time_ms"]) / 1000))
    h("bytes_sent = %s" % r["transferred_bytes"])
    h("syncs = %s" % r["dirty_sync_count"])
    h("normal_pages = %d" % normal)
    h("zero_pages = %d" % dup)
    if mode in ("postcopy", "hybrid"):
        if r["t_postcopy_start_s"]:
            h("postcopy_start_s = %s" % fnum(r["t_postcopy_start_s"]))
        if r["postcopy_requests"]:
            h("postcopy_requests = %s" % r["postcopy_requests"])
        if r["dest_blocktime_ms"]:
            h("dest_blocktime_s = %s" % fnum(float(r["dest_blocktime_ms"]) / 1000))
    if mech:
        if r["throttle_schedule"]:
            pairs = []
            for tok in r["throttle_schedule"].split():
                t, p = tok.split(":")
                pairs.append("[%s, %d]" % (fnum(t), int(float(p))))
            h("throttle_schedule = [%s]   # [t_s, pct]" % ", ".join(pairs))
        for k in ("xbzrle_bytes_saved", "xbzrle_pages", "xbzrle_cache_miss"):
            if r[k]:
                h("%s = %s" % (k, r[k]))
    return rid, mech, "\n".join(L) + "\n"


def socket_lines():
    """[migration] lines for SOCKET_BUFFER (none when it is unset)."""
    if not SOCKET_BUFFER:
        return []
    return ['socket_buffer = "%s"   # SOCKET_BUFFER: what each stream\'s sockets hold at the pause on this machine' % SOCKET_BUFFER,
            "drain_at_stop = true   # the destination takes it in before the final copy (calibration/sockets)"]


def use_set_constants(name):
    """The converter's constants for set `name` (SET_CONSTANTS), where the environment does not say
    otherwise."""
    for k, v in SET_CONSTANTS.get(name, {}).items():
        if k not in os.environ:
            globals()[k] = v


def patch(folder):
    """Add SOCKET_BUFFER's lines to the [migration] table of each case already converted in
    `folder` (sets whose lab records this repository does not keep); a case that has them is left
    as it is. Returns how many files changed."""
    changed = 0
    lines = socket_lines()
    for name in sorted(os.listdir(folder)) if lines else []:
        path = os.path.join(folder, name)
        if not name.endswith(".toml") or name == "set.toml":
            continue
        text = open(path).read()
        if "drain_at_stop" in text:
            continue
        head, sep, rest = text.partition("\n\n[reference]\n")
        if not sep:
            sys.exit("%s: no [reference] table after [migration]" % path)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(head + "\n" + "\n".join(lines) + sep + rest)
        os.replace(tmp, path)
        changed += 1
    return changed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("qemu_dir", help="the shared qemu folder (holds results.csv and runs/)")
    ap.add_argument("--out", default=os.path.normpath(os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..")), help="validation folder (default: this script's parent)")
    ap.add_argument("--set", default=None,
                    help="write every run into DIR/SET, with the host CPU model (the runs of validation/qemu-cpu)")
    ap.add_argument("--only", default="", help="only runs whose id starts with this")
    ap.add_argument("--patch", action="store_true",
                    help="QEMU_DIR is a converted set (validation/qemu-settle, say): add its SET_CONSTANTS' "
                         "SOCKET_BUFFER lines to its cases' [migration] (for sets whose lab records are not kept)")
    a = ap.parse_args()
    if a.patch:
        use_set_constants(a.set or os.path.basename(os.path.normpath(a.qemu_dir)))
        print("patched %d cases in %s" % (patch(a.qemu_dir), a.qemu_dir))
        return
    if BOOT_SPEED not in ("", "median", "spread", "band"):
        ap.error("BOOT_SPEED=%s: use median, spread or band, or leave it unset" % BOOT_SPEED)
    global SET_NAME
    SET_NAME = a.set
    use_set_constants(a.set)
    rows = list(csv.DictReader(open(os.path.join(a.qemu_dir, "results.csv"), newline="")))
    rows = [r for r in rows if r["run_id"].startswith(a.only)]
    if a.set:
        dirs = {False: os.path.join(a.out, a.set), True: os.path.join(a.out, a.set)}
    else:
        dirs = {False: os.path.join(a.out, "qemu"), True: os.path.join(a.out, "qemu-mechanisms")}
    here = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
        # With --out elsewhere, bring the set's description too, so that `migsim validate DIR` runs.
        own = os.path.join(here, os.path.basename(d), "set.toml")
        if not os.path.exists(os.path.join(d, "set.toml")) and os.path.exists(own):
            shutil.copyfile(own, os.path.join(d, "set.toml"))
    records = load_runs(a.qemu_dir, rows)
    layouts = zero_layouts(records, rows)
    n = {False: 0, True: 0}
    skipped = []
    for r in rows:
        if r["run_id"].endswith("-nopti") or "nopti" in r["run_id"].split("-"):
            skipped.append((r["run_id"], "control run showing the QEMU < 9.0 TCG dirty-bit bug"))
            continue
        # A run that failed (the destination died, post-copy paused, a hard timeout, an error) or
        # whose guest lost updates measured the lab, not migration: the README keeps none of them.
        if r["outcome"] not in ("completed", "not-converged"):
            skipped.append((r["run_id"], "outcome %s: the migration failed" % r["outcome"]))
            continue
        if float(r.get("lost_updates") or 0) > 0 or int(float(r.get("dst_guest_panic") or 0)) > 0:
            skipped.append((r["run_id"], "the guest lost updates or panicked (the QEMU < 9.0 TCG dirty-bit bug)"))
            continue
        run = records.get(r["run_id"], {})
        host = {"load": (run.get("host") or {}).get("loadavg_at_start", [0.0])[0],
                "probe": (run.get("cpu_probe") or {}).get("share"), "pace": run.get("pace_probe")} if a.set else None
        scan = run.get("prescan") or guest_scan(r)
        rid, mech, text = convert(r, layouts.get(r["run_id"]), verify_ms(run), run.get("params"), scan, host)
        with open(os.path.join(dirs[mech], rid + ".toml"), "w") as f:
            f.write(text)
        n[mech] += 1
    print("wrote %d cases to %s and %d to %s" % (n[False], dirs[False], n[True], dirs[True]))
    for rid, why in skipped:
        print("skipped %s: %s" % (rid, why))


if __name__ == "__main__":
    sys.exit(main())
