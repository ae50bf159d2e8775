#!/usr/bin/env python3
"""One-off script that produced the committed SimGrid peer-baseline cases.

    python3 validation/tools/convert_simgrid.py /work/shared/peers/simgrid

Reads the peer's `results.csv` (SimGrid 3.32 VM live-migration plugin, unmodified, driven by the
peer's `sgmig`; see that folder's README.md) and writes validation/simgrid/<id>.toml for the 48
`net=ideal` rows (a link that costs exactly latency + size/bandwidth per message; the `default`
LV08 rows are left out: their effective bandwidth and latency are SimGrid network-model artefacts).
The project never reads the peer folder at build, test or run time; the generated files are
committed. Python 3 standard library only. `--out DIR` writes to DIR/simgrid instead.

Mapping (repeated in each file's header):
  [vm]        memory = ram_bytes (1/4/16 GiB), page_size 4 KiB, zero_fraction 0, device_state 0 B
              (SimGrid has no pages, no zero pages and no device state)
  [network]   bandwidth = bw_Bps (125e6 B/s = 1 Gbit/s, 1.25e9 B/s = 10 Gbit/s), latency = lat_s
  [workload]  kind "fluid": SimGrid's linear dirtying, dirty bytes over an interval d =
              min(floor(dirty_rate x d), working_set); write_rate = dirty_rate_Bps as a byte rate,
              working_set = ws_bytes exactly (0.9 x RAM). A 0 B/s row becomes kind "idle".
  [migration] precopy, stop_policy "simgrid" (stop when the bytes dirtied in the last message's
              duration <= 0.03 s x that message's size / its duration, latency included),
              downtime_limit 30 ms (fixed in SimGrid), page_header 0 B, setup/resume 0 ms,
              max_rounds 100000 (SimGrid has no round limit), max_time 600 s (1200 s for the one
              converged row that takes longer than 500 s): the peer's watchdog stopped the
              non-converging rows after 10001 rounds (504-1187 s), and ours must report them as
              not converged.
  [reference] total_time_s, downtime_s, bytes_sent (total_bytes), converged (status == ok),
              rounds = stage-2 rounds + 1 (live pre-copy passes including the stage-1 full copy, the
              convention used in every validation folder), stage2_rounds (SimGrid's own count).
"""
import argparse
import csv
import os
import sys

MAX_TIME_S = 600
MAX_TIME_LONG_S = 1200


def fnum(x):
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return "%.12g" % x


def gib(b):
    b = int(b)
    assert b % 2 ** 30 == 0, b
    return "%d GiB" % (b // 2 ** 30)


def link(bps):
    bits = float(bps) * 8
    assert bits % 1e9 == 0, bps
    return "%d Gbit/s" % (bits / 1e9)


def lat(s):
    return fnum(float(s) * 1000) + " ms"


def byte_rate(bps):
    return fnum(float(bps) / 1e6) + " MB/s"


def case_id(r):
    return "sg-%sgib-%sg-lat%s-%s" % (r["ram_gib"], fnum(float(r["bw_Bps"]) * 8 / 1e9),
                                      {"0.0001": "100us", "0.01": "10ms"}[r["lat_s"]], r["dirty_level"])


def convert(r):
    cid = case_id(r)
    ok = r["status"] == "ok"
    idle = float(r["dirty_rate_Bps"]) == 0
    long_run = ok and float(r["total_time_s"]) > 500
    L = []
    h = L.append
    h("# SimGrid 3.32 peer baseline, converted by validation/tools/convert_simgrid.py (do not edit by hand).")
    h("# Row of peers/simgrid/results.csv: net=ideal ram=%s GiB bw=%s B/s lat=%s s dirty=%s (intensity %s," % (
        r["ram_gib"], fnum(r["bw_Bps"]), r["lat_s"], r["dirty_level"], r["intensity"]))
    h("#   %s B/s) ws=%s B mig_speed=bw -> status %s (%s)." % (
        fnum(r["dirty_rate_Bps"]), r["ws_bytes"], r["status"], r["stop_reason"]))
    h("# SimGrid model: every message costs latency + size/bandwidth, nothing pipelined. Stage 1 sends")
    h("#   the RAM; each stage-2 round sends the bytes dirtied during the previous message,")
    h("#   min(floor(rate x duration), ws); stop when that is <= 0.03 x (last size / last duration),")
    h("#   then stage 3 sends it with the VM paused (downtime = latency + size/bandwidth).")
    if ok:
        h("# Stage bytes: 1 = %s, 2 = %s over %s rounds, 3 = %s; stage-1 threshold %s B." % (
            r["stage1_bytes"], r["stage2_bytes"], r["rounds"], r["stage3_bytes"], r["stage1_threshold_bytes"]))
    else:
        h("# Not converged: rounds settle at %s B > threshold %s B; the peer's watchdog stopped it at" % (
            r["last_round_bytes"], r["final_threshold_bytes"]))
        h("#   %s simulated s after %s rounds (SimGrid alone would run 1e7 s and abort)." % (
            fnum(round(float(r["nc_sim_time_s"]), 3)), r["rounds"]))
    if long_run:
        h("# max_time is 1200 s, not 600 s: this converged run takes %s s." % fnum(round(float(r["total_time_s"]), 3)))
    h("")
    h('name = "%s"' % cid)
    h('description = "SimGrid 3.32 (ideal network): %s GiB, %s, %s, dirty %s"' % (
        r["ram_gib"], link(r["bw_Bps"]), lat(r["lat_s"]), r["dirty_level"]))
    h("")
    h("[vm]")
    h('memory = "%s"' % gib(r["ram_bytes"]))
    h('page_size = "4 KiB"')
    h("zero_fraction = 0")
    h('device_state = "0 B"')
    h("")
    h("[network]")
    h('bandwidth = "%s"' % link(r["bw_Bps"]))
    h('latency = "%s"' % lat(r["lat_s"]))
    h("")
    h("[workload]")
    if idle:
        h('kind = "idle"   # dirty rate 0 B/s')
    else:
        h('kind = "fluid"')
        h('write_rate = "%s"' % byte_rate(r["dirty_rate_Bps"]))
        h('working_set = "%s B"' % r["ws_bytes"])
    h("")
    h("[migration]")
    h('strategy = "precopy"')
    h('stop_policy = "simgrid"')
    h('downtime_limit = "30 ms"')
    h('max_time = "%d s"' % (MAX_TIME_LONG_S if long_run else MAX_TIME_S))
    h("max_rounds = 100000   # SimGrid has no round limit")
    h('page_header = "0 B"')
    h('setup_time = "0 ms"')
    h('resume_time = "0 ms"')
    h("")
    h("[reference]")
    h("converged = %s" % ("true" if ok else "false"))
    if ok:
        h("total_time_s = %s" % r["total_time_s"])
        h("downtime_s = %s" % r["downtime_s"])
        h("bytes_sent = %s" % r["total_bytes"])
        h("rounds = %d   # live passes incl. stage 1 = stage2_rounds + 1" % (int(r["rounds"]) + 1))
        h("stage2_rounds = %s" % r["rounds"])
    return cid, "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("simgrid_dir", help="the peer folder (holds results.csv)")
    ap.add_argument("--out", default=os.path.normpath(os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..")), help="validation folder (default: this script's parent)")
    a = ap.parse_args()
    rows = [r for r in csv.DictReader(open(os.path.join(a.simgrid_dir, "results.csv"), newline=""))
            if r["net"] == "ideal"]
    out = os.path.join(a.out, "simgrid")
    os.makedirs(out, exist_ok=True)
    seen = set()
    for r in rows:
        cid, text = convert(r)
        assert cid not in seen, cid
        seen.add(cid)
        with open(os.path.join(out, cid + ".toml"), "w") as f:
            f.write(text)
    print("wrote %d cases to %s" % (len(rows), out))


if __name__ == "__main__":
    sys.exit(main())
