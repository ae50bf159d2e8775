#!/usr/bin/env python3
"""Where QEMU's CPU goes during a migration, thread by thread, from the lab's sampled runs.

Reads lab records taken with `migrate.py --thread-cpu 1` (`run_grid.py --thread-cpu`; the
committed ones are in calibration/threads). Each holds, at every 50 ms poll, the CPU time
(utime + stime, 10 ms ticks) of every thread of the source and destination QEMU, named by QEMU
(`-name ...,debug-threads=on`). For each run it prints QEMU's total time and the CPU seconds each
kind of thread used from `migrate` to the last sample (a thread that exits keeps its last value):

- `vcpu`: the source's TCG vCPU (`CPU 0/TCG`);
- `mig`: the source's migration thread (`live_migration`);
- `send`, `recv`: the multifd channels' threads at the source and at the destination, summed;
- `dst`: the destination's main thread, which reads the single stream (and, under multifd, the
  main channel);
- `other`: every other thread of both processes (QEMU's main loop at the source, RCU, ...);

and `busy`, all of them over the wall time, in cores (the host has 2), and the vCPU's share of a
core in the second before `migrate` where the run sampled it. Then each setting's medians over its
repeats, and the cores QEMU's threads kept busy in the runs where more of them wanted a core than
the host has all along (the 1 GiB guest under multifd). The `prefree` runs wrote and freed memory
just before `migrate` (their records' `prefree`; `lab/first_touch.py` shows why that matters).
Nothing is fitted on these runs.

    python3 validation/tools/thread_cpu.py [FOLDER]
"""
import glob
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "calibration", "threads")
KINDS = ("vcpu", "mig", "send", "recv", "dst", "other")
CORES = 2  # the lab machine's


def kind(role, comm, main_tid, tid):
    if role == "src" and comm.startswith("CPU "):
        return "vcpu"
    if role == "src" and comm == "live_migration":
        return "mig"
    if comm.startswith("multifdsend"):
        return "send"
    if comm.startswith("multifdrecv"):
        return "recv"
    if role == "dst" and tid == main_tid:
        return "dst"
    return "other"


def vcpu_cpu(snap):
    return sum(cpu for comm, cpu in snap.get("src", {}).values() if comm.startswith("CPU "))


def before(rec):
    """The vCPU's share of a core in the second before `migrate` (runs from the third repeat on
    have that sample; None for the others)."""
    samples = rec["thread_cpu"]
    if samples[0][0] >= 0:
        return None
    start = next(s for s in samples if s[0] >= 0)
    return (vcpu_cpu(start[1]) - vcpu_cpu(samples[0][1])) / (start[0] - samples[0][0])


def used(rec):
    """CPU seconds per kind of thread from `migrate` to the last sample, and the wall time."""
    samples = [s for s in rec["thread_cpu"] if s[0] >= 0]
    first = {role: {tid: cpu for tid, (_, cpu) in d.items()} for role, d in samples[0][1].items()}
    last = {}
    for _, snap in samples:
        for role, d in snap.items():
            for tid, (comm, cpu) in d.items():
                last[(role, tid)] = (comm, cpu)
    # a process's main thread has the process's id: the lowest tid of the first sample
    main = {role: min(d, key=int) for role, d in samples[0][1].items()}
    out = dict.fromkeys(KINDS, 0.0)
    for (role, tid), (comm, cpu) in last.items():
        out[kind(role, comm, main.get(role), tid)] += cpu - first.get(role, {}).get(tid, 0.0)
    return out, samples[-1][0]


def setting(run_id):
    return run_id.rsplit("-rep", 1)[0]


def records(folder=DEFAULT):
    recs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(folder, "runs", "*.json")))]
    return [r for r in recs if r.get("thread_cpu")]


def busy(r):
    """All of QEMU's threads' CPU from `migrate` to the end over the wall time, in cores."""
    cpu, wall = used(r)
    return sum(cpu.values()) / wall


def full_cores(folder=DEFAULT):
    """The busy figure of each run of the 1 GiB guest under multifd: more of QEMU's threads want a
    core than the host has from start to end there (the main thread spins, 2 or 4 receivers), so
    it is what they can get at most (convert_qemu.py's DRIFT_CORES is the median)."""
    return [busy(r) for r in records(folder) if setting(r["run_id"]).startswith("threads-m1024") and "-mfd" in r["run_id"]]


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    recs = records(folder)
    print("%-52s %7s " % ("run", "total s") + " ".join("%6s" % k for k in KINDS) + "   busy  vcpu before")
    by = {}
    for r in recs:
        cpu, _ = used(r)
        total = r["final_src"]["total-time"] / 1000.0
        cores = busy(r)
        pre = before(r)
        print("%-52s %7.3f " % (r["run_id"], total) + " ".join("%6.2f" % cpu[k] for k in KINDS)
              + "  %5.2f" % cores + ("  %5.2f" % pre if pre is not None else ""))
        by.setdefault(setting(r["run_id"]), []).append((total, cpu, cores))
    print()
    print("medians over the repeats (CPU seconds; busy in cores)")
    for s, rows in by.items():
        med = {k: statistics.median(c[k] for _, c, _ in rows) for k in KINDS}
        print("%-52s %7.3f " % (s, statistics.median(t for t, _, _ in rows))
              + " ".join("%6.2f" % med[k] for k in KINDS)
              + "  %5.2f" % statistics.median(b for _, _, b in rows))
    full = full_cores(folder)
    if full:
        print("cores QEMU's threads kept busy where more wanted one than the host has (the 1 GiB guest under "
              "multifd, %d runs): %.2f-%.2f, median %.2f of %d" % (len(full), min(full), max(full),
                                                                 statistics.median(full), CORES))


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        # Quietly stop when the output is cut short (| head).
        sys.stdout = None
