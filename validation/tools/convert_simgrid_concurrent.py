#!/usr/bin/env python3
"""One-off script that produced the committed SimGrid concurrent-migration cases.

    python3 validation/tools/convert_simgrid_concurrent.py /work/shared/peers/simgrid

Reads the peer's `results_concurrent.csv` (SimGrid 3.32's VM live-migration plugin, unmodified:
K identical migrations started together on one shared link; see that folder's README.md) and
writes validation/simgrid-concurrent/<id>.toml for the 15 `net=ideal` rows (the `default` LV08
rows are left out, as in validation/simgrid: their bandwidth and latency are network-model
artefacts). The project never reads the peer folder at build, test or run time; the generated
files are committed. Python 3 standard library only. `--out DIR` writes to DIR/simgrid-concurrent.

Mapping (as validation/simgrid's, one VM becoming K):
  [[vms]]     a group of K VMs of 4 GiB on host a (page 4 KiB, no zero page, no device state),
              workload "fluid" at dirty_rate_Bps_per_vm (SimGrid ties each VM's dirty rate to its
              nominal migration speed, not to the share it gets: intensity x mig_speed), working
              set 0.9 x RAM (3865470566 B)
  [[links]]   a-b at bw_Bps, latency lat_s
  [migration] precopy, stop_policy "simgrid", downtime_limit 30 ms, page_header 0 B, setup and
              resume 0 ms, max_rounds 100000, max_time 600 s, max_bandwidth = bw (SimGrid's
              Comm::set_rate(mig_speed), mig_speed = bw)
  [plan]      drain host a to host b, all at once (the K migrations start together)
  [reference] makespan_s, mean_total_time_s, max_total_time_s, mean_downtime_s, mean_total_bytes,
              mean_rounds = SimGrid's stage-2 rounds + 1 (live passes including the full copy, the
              convention of every validation folder), converged (status == ok: every migration)
"""
import argparse
import csv
import os

GIB = 2 ** 30


def fnum(x):
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return "%.12g" % x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer", help="the peer folder holding results_concurrent.csv")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    a = ap.parse_args()
    out = os.path.join(a.out, "simgrid-concurrent")
    os.makedirs(out, exist_ok=True)
    rows = [r for r in csv.DictReader(open(os.path.join(a.peer, "results_concurrent.csv"))) if r["net"] == "ideal"]
    for r in rows:
        k, ram = int(r["k"]), int(r["ram_gib"])
        bw, lat, rate = float(r["bw_Bps"]), float(r["lat_s"]), float(r["dirty_rate_Bps_per_vm"])
        ws = int(0.9 * ram * GIB)
        ok = r["status"] == "ok"
        ident = "sgc-%dgib-%dg-lat%s-k%d-%s" % (ram, bw * 8 / 1e9, "100us" if lat == 1e-4 else fnum(lat * 1e3) + "ms", k, r["dirty_level"])
        wl = ('{ kind = "fluid", write_rate = "%s B/s", working_set = "%d B" }' % (fnum(rate), ws)) if rate > 0 else '{ kind = "idle" }'
        lines = [
            "# SimGrid 3.32 peer baseline, converted by validation/tools/convert_simgrid_concurrent.py (do not edit).",
            "# Row of peers/simgrid/results_concurrent.csv: net=ideal k=%d ram=%d GiB bw=%s B/s lat=%s s dirty=%s"
            % (k, ram, fnum(bw), fnum(lat), r["dirty_level"]),
            "#   (%s B/s per VM, fair share %s B/s) -> status %s." % (fnum(rate), fnum(r["fair_share_Bps"]), r["status"]),
            "# K identical migrations start together and share the link max-min; SimGrid ties each VM's dirty rate",
            "#   to its nominal migration speed, so K migrations face K times the relative dirty rate of one.",
            "",
            'name = "%s"' % ident,
            'description = "SimGrid 3.32 (ideal network): %d concurrent migrations of 4 GiB on one %d Gbit/s link, %s ms, dirty %s"'
            % (k, bw * 8 / 1e9, fnum(lat * 1e3), r["dirty_level"]),
            "",
            "[migration]",
            'strategy = "precopy"',
            'stop_policy = "simgrid"',
            'downtime_limit = "30 ms"',
            'max_time = "600 s"',
            "max_rounds = 100000   # SimGrid has no round limit",
            'max_bandwidth = "%d Gbit/s"   # Comm::set_rate(mig_speed), mig_speed = the link' % (bw * 8 / 1e9),
            'page_header = "0 B"',
            'setup_time = "0 ms"',
            'resume_time = "0 ms"',
            "",
            "[[hosts]]",
            'name = "a"',
            "[[hosts]]",
            'name = "b"',
            "",
            "[[links]]",
            'between = ["a", "b"]',
            'bandwidth = "%d Gbit/s"' % (bw * 8 / 1e9),
            'latency = "%s ms"' % fnum(lat * 1e3),
            "",
            "[[vms]]",
            'name = "vm"',
            "count = %d" % k,
            'host = "a"',
            'memory = "%d GiB"' % ram,
            'page_size = "4 KiB"',
            "zero_fraction = 0",
            'device_state = "0 B"',
            "workload = %s" % wl,
            "",
            "[plan]",
            'drain = ["a"]',
            'to = ["b"]',
            'policy = "all-at-once"',
            "",
            "[reference]",
            "converged = %s" % ("true" if ok else "false"),
        ]
        if ok:
            lines += [
                "makespan_s = %s" % r["makespan_s"],
                "mean_total_time_s = %s" % r["mean_total_time_s"],
                "max_total_time_s = %s" % r["max_total_time_s"],
                "mean_downtime_s = %s" % r["mean_downtime_s"],
                "mean_total_bytes = %s" % fnum(r["mean_total_bytes"]),
                "mean_rounds = %s   # stage-2 rounds + 1" % fnum(float(r["mean_rounds"]) + 1),
            ]
        with open(os.path.join(out, ident + ".toml"), "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "set.toml"), "w") as f:
        f.write('name = "simgrid-concurrent"\nkind = "simgrid-concurrent"\n'
                'description = "SimGrid 3.32 VM live-migration plugin, K concurrent migrations on one link (15 ideal-network rows). '
                'Makespan, mean and max total time, bytes and downtime within 1 %% (downtime: or 1 ms) wherever SimGrid finishes; '
                'same rounds; same convergence."\n')
    print("wrote %d cases to %s" % (len(rows), out))


if __name__ == "__main__":
    main()
