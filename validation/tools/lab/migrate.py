#!/usr/bin/env python3
"""One real QEMU live migration over 127.0.0.1, instrumented via QMP.

Boots a source QEMU running the `dirtier` guest (see dirtier.c / init), boots a
destination QEMU waiting for an incoming migration, waits until the guest
dirtier reports a steady rate, optionally measures the dirty rate as QEMU sees
it (calc-dirty-rate), migrates (precopy / postcopy / hybrid), polls
query-migrate every --poll-ms, and writes

  results/runs/<run_id>.json   full record incl. time series
  results/results.csv          one row per run (appended)

Python 3 stdlib only.  Only the two QEMU processes started here are ever
killed (by PID).

Example:
  ./migrate.py --mem 256 --wl uniform --wss 128 --rate 20000 \
      --bw-mib 128 --downtime-ms 300 --mode precopy
"""
import argparse
import csv
import json
import mmap
import os
import re
import signal
import socket
import statistics
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
MiB = 1024 * 1024
# QEMU 7.2 trace events around the final copy (`qemu-system-x86_64 -trace help` lists them)
FINAL_TRACE_EVENTS = ("migration_completion_vm_stop", "savevm_state_complete_precopy",
                      "migration_bitmap_sync_start", "migration_bitmap_sync_end",
                      "migration_thread_after_loop", "multifd_send", "multifd_recv",
                      "multifd_send_sync_main", "multifd_send_sync_main_signal",
                      "multifd_send_sync_main_wait", "multifd_recv_sync_main",
                      "multifd_recv_sync_main_signal", "multifd_recv_sync_main_wait",
                      "vmstate_load", "qemu_loadvm_state_section_startfull",
                      "loadvm_state_setup", "process_incoming_migration_co_end",
                      "qemu_loadvm_state_post_main")
# ... and with --trace-final 2 every page of the single stream: sent (non-zero pages) and loaded
PAGE_TRACE_EVENTS = ("ram_save_page", "ram_load_loop")


# --------------------------------------------------------------------- QMP
class QMP:
    """Minimal synchronous QMP client over a unix socket."""

    def __init__(self, path, timeout=60.0):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.events = []   # (host_time, event dict)
        self.next_id = 0
        greeting = self._read_msg()
        self.version = greeting.get("QMP", {}).get("version", {})
        self.cmd("qmp_capabilities")

    def _read_msg(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("QMP socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.strip()
        if not line:
            return self._read_msg()
        return json.loads(line)

    def cmd(self, execute, **arguments):
        """Run a command; returns 'return' value, raises on 'error'."""
        self.next_id += 1
        mid = "c%d" % self.next_id
        msg = {"execute": execute, "id": mid}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            m = self._read_msg()
            if "event" in m:
                self.events.append((time.time(), m))
                continue
            if m.get("id") != mid:
                continue
            if "error" in m:
                raise QMPError(execute, m["error"])
            return m.get("return")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class QMPError(Exception):
    def __init__(self, cmd, err):
        super().__init__("%s: %s" % (cmd, err.get("desc", err)))
        self.err = err


# ------------------------------------------------------------ serial tail
class SerialTail:
    """Follows a QEMU serial log file; timestamps DIRTIER lines in host time."""

    def __init__(self, path):
        self.path = path
        self.off = 0
        self.partial = b""
        self.lines = []  # (host_time, text)

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return []
        if not data:
            return []
        self.off += len(data)
        data = self.partial + data
        parts = data.split(b"\n")
        self.partial = parts.pop()
        now = time.time()
        new = []
        for p in parts:
            s = p.decode("utf-8", "replace").strip("\r").strip()
            if s:
                self.lines.append((now, s))
                new.append((now, s))
        return new


def parse_dirtier(line):
    """'DIRTIER t=.. wps=.. uniq=..' -> dict or None"""
    if not line.startswith("DIRTIER t="):
        return None
    d = {}
    for tok in line.split()[1:]:
        if "=" in tok:
            k, v = tok.split("=", 1)
            try:
                d[k] = float(v)
            except ValueError:
                d[k] = v
    return d


# ---------------------------------------------------------------- helpers
PRESCAN_REGIONS = 256


def untouched_pages(pid, size, per):
    """Pages of guest RAM the guest has never written, per region of `per` pages, read from the
    source QEMU's page tables (`pid`): its RAM is the one private anonymous mapping of exactly the
    guest's size; a page never faulted in, or mapped to the kernel's shared zero page (a read
    fault, as pmemsave's, maps it: /proc/kpageflags ZERO_PAGE, the huge zero page included), holds
    nothing the guest wrote. QEMU finds such a page zero by reading that one cached page. Needs
    root (page frame numbers); None where the mapping or the files cannot be read."""
    try:
        start = None
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                parts = line.split()
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                if hi - lo == size and parts[1].startswith("rw") and len(parts) < 6:
                    start = lo
                    break
        if start is None:
            return None
        counts = []
        zero_pfn = {}
        with open("/proc/%d/pagemap" % pid, "rb") as pm, open("/proc/kpageflags", "rb") as kf:
            pm.seek(start // 4096 * 8)
            entries = pm.read(size // 4096 * 8)
            n = 0
            for i in range(size // 4096):
                e = int.from_bytes(entries[i * 8:i * 8 + 8], "little")
                pfn = e & ((1 << 55) - 1)
                if not e >> 63 & 1 and not e >> 62 & 1:
                    n += 1
                elif e >> 63 & 1 and pfn:
                    if pfn not in zero_pfn:
                        kf.seek(pfn * 8)
                        zero_pfn[pfn] = int.from_bytes(kf.read(8), "little") >> 24 & 1 == 1
                    n += zero_pfn[pfn]
                if (i + 1) % per == 0:
                    counts.append(n)
                    n = 0
        return counts
    except (OSError, ValueError):
        return None


def prescan(qs, mem_mib, rundir, log, pid=None):
    """Zero pages of guest RAM before migrating, per 1/PRESCAN_REGIONS of memory: QMP pmemsave
    dumps guest-physical memory [0, mem) to a file (the guest keeps running), then every 4 KiB page
    that is all zero bytes is counted. This is what QEMU's first pass will find as `duplicate`
    pages, measured without migrating. With the source QEMU's `pid`, also the pages the guest never
    wrote (`untouched_pages`), read right after the dump."""
    path = os.path.join(rundir, "prescan.bin")
    size = mem_mib * MiB
    t0 = time.time()
    qs.cmd("pmemsave", val=0, size=size, filename=path)
    t1 = time.time()
    zero = bytes(4096)
    per = size // 4096 // PRESCAN_REGIONS
    counts = []
    with open(path, "rb") as f:
        for _ in range(PRESCAN_REGIONS):
            n = 0
            for _ in range(per):
                if f.read(4096) == zero:
                    n += 1
            counts.append(n)
    os.unlink(path)
    log("prescan: %d zero pages of %d (pmemsave %.2fs, count %.2fs)" % (
        sum(counts), size // 4096, t1 - t0, time.time() - t1))
    rec = {"regions": PRESCAN_REGIONS, "pages_per_region": per, "zero_pages": counts,
           "total_zero": sum(counts), "pmemsave_s": round(t1 - t0, 3)}
    if pid is not None:
        t2 = time.time()
        untouched = untouched_pages(pid, size, per)
        if untouched is not None:
            rec["untouched_pages"] = untouched
            rec["total_untouched"] = sum(untouched)
            rec["untouched_s"] = round(time.time() - t2, 3)
            log("prescan: %d pages never written (%.2fs)" % (sum(untouched), time.time() - t2))
        else:
            log("prescan: the source's page tables could not be read (untouched pages not measured)")
    return rec


TRACE_LINE = re.compile(r"^\d+@(\d+\.\d+):(\w+) (.*)$")


def read_requests(path, t0):
    """The source's trace of page requests (--trace-requests): one [t, event, fields] per line,
    t in seconds from `migrate`, fields as QEMU prints them (block names, offsets in hex)."""
    out = []
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError:
        return out
    for line in lines:
        m = TRACE_LINE.match(line)
        if m:
            out.append([round(float(m.group(1)) - t0, 6), m.group(2), m.group(3)])
    return out


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def kill_pid(proc, name, log):
    """Terminate one QEMU we started, by its PID only."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
    log("killed %s pid %d" % (name, proc.pid))


def flatten_sample(t, qm):
    ram = qm.get("ram", {})
    xb = qm.get("xbzrle-cache", {}) or {}
    return {
        "t": round(t, 4),
        "status": qm.get("status"),
        "transferred": ram.get("transferred"),
        "remaining": ram.get("remaining"),
        "total": ram.get("total"),
        "duplicate": ram.get("duplicate"),
        "normal": ram.get("normal"),
        "dirty_pages_rate": ram.get("dirty-pages-rate"),
        "dirty_sync_count": ram.get("dirty-sync-count"),
        "mbps": ram.get("mbps"),
        "pages_per_second": ram.get("pages-per-second"),
        "postcopy_requests": ram.get("postcopy-requests"),
        "precopy_bytes": ram.get("precopy-bytes"),
        "postcopy_bytes": ram.get("postcopy-bytes"),
        "downtime_bytes": ram.get("downtime-bytes"),
        "expected_downtime": qm.get("expected-downtime"),
        # mechanism statistics (absent unless the capability is on)
        "cpu_throttle_percentage": qm.get("cpu-throttle-percentage"),
        "multifd_bytes": ram.get("multifd-bytes"),
        "xbzrle_cache_size": xb.get("cache-size"),
        "xbzrle_bytes": xb.get("bytes"),
        "xbzrle_pages": xb.get("pages"),
        "xbzrle_cache_miss": xb.get("cache-miss"),
        "xbzrle_cache_miss_rate": xb.get("cache-miss-rate"),
        "xbzrle_encoding_rate": xb.get("encoding-rate"),
        "xbzrle_overflow": xb.get("overflow"),
    }


def columnar(samples):
    if not samples:
        return {}
    keys = list(samples[0].keys())
    return {k: [s.get(k) for s in samples] for k in keys}


CSV_FIELDS = [
    "run_id", "date", "accel", "mem_mib", "wl", "wss_mib", "rate_target",
    "hot_mib", "hot_pct", "mode", "postcopy_after_rounds", "postcopy_after_s",
    "bw_mib", "postcopy_bw_mib", "downtime_limit_ms", "timeout_s",
    "guest_wps", "guest_uniq_pps", "qemu_dirtyrate_bitmap_mibps",
    "qemu_dirtyrate_sampling_mibps", "outcome", "status", "total_time_ms",
    "downtime_ms", "downtime_ev_ms", "total_ev_ms", "t_elapsed_s", "setup_time_ms", "t_postcopy_start_s", "transferred_bytes",
    "total_bytes", "duplicate_pages", "normal_pages", "normal_bytes",
    "dirty_sync_count", "mbps", "postcopy_requests", "precopy_bytes",
    "downtime_bytes", "postcopy_bytes", "max_dirty_pages_rate",
    "last_expected_downtime_ms", "dest_blocktime_ms", "dest_wps_during_postcopy",
    "dest_wps_after", "lost_updates", "dst_guest_panic", "guest_append", "n_samples", "notes",
    # ---- appended for the mechanism runs (auto-converge, XBZRLE, multifd); empty for older runs
    "auto_converge", "xbzrle", "multifd", "cpu_throttle_initial", "cpu_throttle_increment",
    "max_cpu_throttle", "xbzrle_cache_mib", "multifd_channels", "boot_to_ready_s",
    "throttle_pct_max", "throttle_pct_last", "t_throttle_start_s", "throttle_steps",
    "throttle_schedule", "guest_wps_during_mig", "guest_wps_min_during_mig",
    "guest_uniq_during_mig", "guest_wps_last_mig", "guest_wps_at_throttle_max",
    "xbzrle_cache_size", "xbzrle_bytes",
    "xbzrle_pages", "xbzrle_cache_miss", "xbzrle_cache_miss_rate", "xbzrle_overflow",
    "xbzrle_encoding_rate_max", "xbzrle_bytes_saved", "multifd_bytes", "avg_xfer_mibps",
    "peak_xfer_mibps", "median_xfer_mibps",
    # ---- appended for --pace-probe-mib (medians of its rounds); empty for older runs
    "pace_sha256_mbps", "pace_first_touch_us",
]


# -------------------------------------------------------------------- run
def touch_fresh(mib):
    """Map `mib` MiB of fresh memory advised for huge pages (as QEMU advises guest RAM) and write one
    byte per 4 KiB page: (the mapping, the seconds the writes took)."""
    size = mib << 20
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_HUGEPAGE)
    w0 = time.perf_counter()
    for i in range(0, size, 4096):
        m[i] = 1
    return m, time.perf_counter() - w0


def pace_probe(mib, rounds=3):
    """The machine's pace just before a migration, without freeing memory then: `rounds` times,
    hash a fixed 8 MiB buffer with SHA-256 (CPU) and write one byte per 4 KiB page of `mib` MiB
    of fresh memory advised for huge pages, as QEMU advises guest RAM (the first touch that the
    destination pays for every new page: first_touch.py). Returns (the record, the mappings): the
    caller holds the mappings until the migration is over, so the destination gets no memory freed
    a moment before (which makes its first touches cheap)."""
    import hashlib
    buf = bytes(range(256)) * (8 << 12)
    held, sha, touch = [], [], []
    for _ in range(rounds):
        w0 = time.perf_counter()
        hashlib.sha256(buf).digest()
        sha.append(round(len(buf) / (time.perf_counter() - w0) / 1e6, 1))
        m, seconds = touch_fresh(mib)
        touch.append(round(seconds / (mib * 256) * 1e6, 3))
        held.append(m)
    return {"mib": mib, "sha256_mbps": sha, "first_touch_us": touch}, held


def run(a):
    if getattr(a, "multifd_channels", None) is not None:
        a.multifd = True
    run_id = a.run_id or time.strftime("%Y%m%d-%H%M%S") + "-%s-m%d-%s%s-bw%d-%s" % (
        a.accel, a.mem, a.wl, ("" if a.wl == "idle" else str(a.rate)), a.bw_mib, a.mode)
    rundir = os.path.join(BUILD, "runs", run_id)
    os.makedirs(rundir, exist_ok=True)
    resdir = os.path.abspath(a.results)
    os.makedirs(os.path.join(resdir, "runs"), exist_ok=True)
    logf = open(os.path.join(rundir, "harness.log"), "w")
    # AF_UNIX socket paths are limited to 107 bytes; for long run ids the QMP
    # sockets go to a short temporary directory (removed at the end)
    sockdir = rundir
    if len(os.path.join(rundir, "src.qmp")) > 100:
        sockdir = tempfile.mkdtemp(prefix="qlab-qmp-")
    t_origin = time.time()

    def log(msg):
        line = "[%7.2f] %s" % (time.time() - t_origin, msg)
        logf.write(line + "\n")
        logf.flush()
        if not a.quiet:
            print(line, flush=True)

    def thread_cpu(pids):
        """{role: {tid: [comm, cpu seconds]}} from /proc; threads that have exited are absent."""
        tick = os.sysconf("SC_CLK_TCK")
        out = {}
        for role, pid in pids.items():
            d = {}
            try:
                tids = os.listdir("/proc/%d/task" % pid)
            except OSError:
                continue
            for tid in tids:
                try:
                    comm = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
                    f = open("/proc/%d/task/%s/stat" % (pid, tid)).read().rsplit(")", 1)[1].split()
                    d[tid] = [comm, (int(f[11]) + int(f[12])) / tick]
                except (OSError, IndexError, ValueError):
                    pass
            out[role] = d
        return out

    kernel = a.kernel or os.path.join(BUILD, "vmlinuz")
    initrd = a.initrd or os.path.join(BUILD, "initramfs.cpio.gz")
    append = "console=ttyS0 quiet panic=-1 %s dt.mode=%s dt.wss=%d dt.rate=%d dt.hot=%d dt.hotpct=%g dt.verify=%d" % (
        a.guest_append, a.wl, a.wss, a.rate, a.hot, a.hot_pct, a.verify)
    port = a.port or free_port()
    uri = "tcp:127.0.0.1:%d" % port

    def qemu_cmd(role):
        # debug-threads names QEMU's threads (live_migration, multifdsend_0, CPU 0/TCG, ...), so
        # --thread-cpu can tell them apart
        c = [a.qemu, "-name", "mig-%s%s" % (role, ",debug-threads=on" if a.thread_cpu else ""),
             "-accel", a.accel, "-machine", "pc", "-m", str(a.mem), "-smp", "1",
             "-nodefaults", "-nographic", "-no-reboot",
             "-serial", "file:" + os.path.join(rundir, role + ".serial"),
             "-monitor", "none",
             "-qmp", "unix:%s,server=on,wait=off" % os.path.join(sockdir, role + ".qmp"),
             "-kernel", kernel, "-initrd", initrd, "-append", append]
        if role == "src" and a.trace_requests:
            # QEMU's own trace of the destination's page requests (the log backend, wall-clock
            # stamps): where the guest faulted during post-copy, and what the source sent for it
            c += ["-trace", "enable=migrate_handle_rp_req_pages", "-trace", "enable=get_queued_page",
                  "-trace", "enable=get_queued_page_not_dirty", "-msg", "timestamp=on",
                  "-D", os.path.join(rundir, "src.trace")]
        if a.trace_final:
            # QEMU's own trace of the final copy on both ends (the log backend, wall-clock stamps
            # and thread ids): when the VM stopped, each multifd packet sent and received, the
            # syncs; to see where the downtime goes
            for ev in FINAL_TRACE_EVENTS + (PAGE_TRACE_EVENTS if a.trace_final > 1 else ()):
                c += ["-trace", "enable=" + ev]
            c += ["-msg", "timestamp=on", "-D", os.path.join(rundir, role + ".final.trace")]
        if role == "dst":
            # 'defer' lets us set capabilities on the destination first;
            # migrate-incoming then listens on tcp:127.0.0.1:PORT
            c += ["-incoming", "defer"]
        return c

    rec = {"run_id": run_id, "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "host": {"loadavg_at_start": os.getloadavg(), "ncpu": os.cpu_count()},
           "config": {k: v for k, v in vars(a).items()}, "append": append, "uri": uri}
    src = dst = None
    qs = qd = None
    outcome = "error"
    notes = []
    samples = []
    try:
        for f in ("src.serial", "dst.serial"):
            p = os.path.join(rundir, f)
            if os.path.exists(p):
                os.unlink(p)
        cmd_src, cmd_dst = qemu_cmd("src"), qemu_cmd("dst")
        rec["cmd_src"] = cmd_src
        rec["cmd_dst"] = cmd_dst
        log("src: " + " ".join(cmd_src))
        src = subprocess.Popen(cmd_src, stdout=open(os.path.join(rundir, "src.stdout"), "w"),
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        dst = subprocess.Popen(cmd_dst, stdout=open(os.path.join(rundir, "dst.stdout"), "w"),
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log("started src pid %d, dst pid %d" % (src.pid, dst.pid))
        qs = QMP(os.path.join(sockdir, "src.qmp"))
        qd = QMP(os.path.join(sockdir, "dst.qmp"))
        rec["qemu_version"] = qs.version

        # ---- wait for guest steady state
        st = SerialTail(os.path.join(rundir, "src.serial"))
        t_boot = time.time()
        ready = None
        reports = []
        while True:
            if src.poll() is not None:
                raise RuntimeError("source QEMU exited rc=%s" % src.returncode)
            for ht, s in st.poll():
                if s.startswith("DIRTIER READY"):
                    ready = ht
                    log("guest: " + s)
                elif s.startswith("DIRTIER ERROR") or s.startswith("DIRTIER touched"):
                    log("guest: " + s)
                d = parse_dirtier(s)
                if d and ready:
                    reports.append(d)
            if ready and len(reports) >= a.steady_reports:
                break
            if time.time() - t_boot > a.boot_timeout:
                raise RuntimeError("guest not ready after %ss" % a.boot_timeout)
            time.sleep(0.1)
        rec["boot_to_ready_s"] = round(ready - t_boot, 2)
        steady = reports[-a.steady_reports:]
        guest_wps = statistics.median(r["wps"] for r in steady)
        guest_uniq = statistics.median(r["uniq"] for r in steady)
        rec["guest_pre"] = {"wps": guest_wps, "uniq_pps": guest_uniq,
                            "uniq_mibps": guest_uniq * 4096 / MiB,
                            "reports": steady}
        log("guest steady: wps=%.0f uniq=%.0f pages/s (%.1f MiB/s)  boot->ready %.1fs" % (
            guest_wps, guest_uniq, guest_uniq * 4096 / MiB, ready - t_boot))

        # ---- where the guest's zero pages lie, scanned before migrating (pmemsave of all RAM;
        # QEMU's pc machine maps RAM from guest-physical 0 up, in the order its first pass sends it)
        if a.prescan:
            rec["prescan"] = prescan(qs, a.mem, rundir, log, src.pid)

        # ---- how much of a core a new busy thread gets on this host right now (the CPU the
        # migration's threads will compete for), measured by spinning for --cpu-probe-s
        if a.cpu_probe_s > 0:
            w0, c0 = time.monotonic(), time.thread_time()
            while time.monotonic() - w0 < a.cpu_probe_s:
                pass
            share = (time.thread_time() - c0) / (time.monotonic() - w0)
            rec["cpu_probe"] = {"share": round(share, 4), "seconds": a.cpu_probe_s, "loadavg": os.getloadavg()}
            log("cpu probe: a busy thread got %.2f of a core" % share)

        # ---- the machine's pace right now (CPU and first touch of fresh memory); the probe's
        # memory stays mapped until this function returns, after the migration
        probe_held = []
        if a.pace_probe_mib > 0:
            rec["pace_probe"], probe_held = pace_probe(a.pace_probe_mib)
            log("pace probe: sha256 %s MB/s, first touch %s us/page" % (
                rec["pace_probe"]["sha256_mbps"], rec["pace_probe"]["first_touch_us"]))

        # ---- QEMU's own view of the dirty rate (calc-dirty-rate)
        rec["qemu_dirtyrate"] = {}
        if a.dirtyrate:
            for mode in a.dirtyrate_modes.split(","):
                try:
                    qs.cmd("calc-dirty-rate", **{"calc-time": a.dirtyrate_s, "mode": mode})
                    t0 = time.time()
                    while True:
                        time.sleep(0.2)
                        r = qs.cmd("query-dirty-rate")
                        if r.get("status") == "measured" or time.time() - t0 > a.dirtyrate_s + 10:
                            break
                    rec["qemu_dirtyrate"][mode] = r
                    log("calc-dirty-rate %s: %s MB/s (status %s)" % (mode, r.get("dirty-rate"), r.get("status")))
                except QMPError as e:
                    rec["qemu_dirtyrate"][mode] = {"error": str(e)}
                    log("calc-dirty-rate %s failed: %s" % (mode, e))

        # ---- migration setup
        postcopy = a.mode in ("postcopy", "hybrid")
        caps = [{"capability": "events", "state": True}]
        if postcopy:
            caps.append({"capability": "postcopy-ram", "state": True})
        extra_caps = list(a.cap)
        if a.auto_converge:
            extra_caps.append("auto-converge")
        if a.xbzrle:
            extra_caps.append("xbzrle")
        if a.multifd:
            extra_caps.append("multifd")
        for c in extra_caps:
            if c not in [x["capability"] for x in caps]:
                caps.append({"capability": c, "state": True})
        qs.cmd("migrate-set-capabilities", capabilities=caps)
        dcaps = [c for c in caps]
        if postcopy:
            dcaps.append({"capability": "postcopy-blocktime", "state": True})
        qd.cmd("migrate-set-capabilities", capabilities=dcaps)
        # max-bandwidth 0 = no rate limit (QEMU 7.2 qemu_file_rate_limit()
        # only limits when rate_limit_max > 0)
        params = {"max-bandwidth": int(a.bw_mib * MiB), "downtime-limit": int(a.downtime_ms)}
        pc_bw = a.postcopy_bw_mib if a.postcopy_bw_mib is not None else a.bw_mib
        params["max-postcopy-bandwidth"] = int(pc_bw * MiB)
        # mechanism parameters (None = leave QEMU's default)
        for key, val in (("cpu-throttle-initial", a.cpu_throttle_initial),
                         ("cpu-throttle-increment", a.cpu_throttle_increment),
                         ("cpu-throttle-tailslow", a.cpu_throttle_tailslow),
                         ("max-cpu-throttle", a.max_cpu_throttle),
                         ("throttle-trigger-threshold", a.throttle_trigger_threshold)):
            if val is not None:
                params[key] = val
        if a.xbzrle_cache_mib is not None:
            params["xbzrle-cache-size"] = int(a.xbzrle_cache_mib * MiB)
        if a.multifd_channels is not None:
            params["multifd-channels"] = int(a.multifd_channels)
            # the destination must listen with the same number of channels
            qd.cmd("migrate-set-parameters", **{"multifd-channels": int(a.multifd_channels)})
        qs.cmd("migrate-set-parameters", **params)
        rec["params"] = qs.cmd("query-migrate-parameters")
        rec["caps"] = [c["capability"] for c in qs.cmd("query-migrate-capabilities") if c["state"]]
        rec["params_dst"] = qd.cmd("query-migrate-parameters")
        rec["caps_dst"] = [c["capability"] for c in qd.cmd("query-migrate-capabilities") if c["state"]]
        log("caps src=%s params: %s" % (",".join(rec["caps"]), ", ".join(
            "%s=%s" % (k, rec["params"].get(k)) for k in (
                "max-bandwidth", "downtime-limit", "cpu-throttle-initial", "cpu-throttle-increment",
                "max-cpu-throttle", "throttle-trigger-threshold", "xbzrle-cache-size",
                "multifd-channels"))))
        qd.cmd("migrate-incoming", uri=uri)
        time.sleep(0.2)

        # guest tail restarts from here (keep pre-migration reports too)
        dtail = SerialTail(os.path.join(rundir, "dst.serial"))
        if a.settle_s:
            # idle before migrating until memory freed lately (the prescan's dump, the last run's
            # QEMUs) has gone back to the host, so that every destination pays the full first touch
            # (first_touch.py: 3 GiB freed is cheap to touch again 1 s later, half back after 3 s,
            # all back after 6 s)
            time.sleep(a.settle_s)
            rec["settle_s"] = a.settle_s
        if a.prefree_mib:
            # touch and free this much memory just before migrating: memory the host has not taken
            # back yet makes the destination's first touches cheap (first_touch.py)
            m, seconds = touch_fresh(a.prefree_mib)
            rec["prefree"] = {"mib": a.prefree_mib, "touch_s": round(seconds, 3)}
            m.close()
        tc_samples = []
        qemu_pids = {"src": src.pid, "dst": dst.pid}
        if a.thread_cpu:
            # the guest's last --before-s seconds before migrating: its threads' CPU then (a
            # negative time)
            tc_samples.append([-a.before_s, thread_cpu(qemu_pids)])
            time.sleep(a.before_s)
            tc_samples.append([0.0, thread_cpu(qemu_pids)])
        t0 = time.time()
        qs.cmd("migrate", uri=uri)
        log("migrate started -> %s (mode=%s bw=%g MiB/s downtime-limit=%d ms)" % (
            uri, a.mode, a.bw_mib, a.downtime_ms))
        last_thr = None
        t_pc = None
        if a.mode == "postcopy":
            qs.cmd("migrate-start-postcopy")
            t_pc = time.time() - t0
            log("migrate-start-postcopy issued immediately")

        final = None
        paused_since = None
        last_status = None
        status_times = {}
        while True:
            now = time.time()
            el = now - t0
            qm = qs.cmd("query-migrate")
            samples.append(flatten_sample(el, qm))
            if a.thread_cpu:
                tc_samples.append([round(el, 4), thread_cpu(qemu_pids)])
            status = qm.get("status")
            if status != last_status:
                status_times[status] = round(el, 4)
                log("status %s at %.2fs (sync=%s)" % (status, el, qm.get("ram", {}).get("dirty-sync-count")))
                last_status = status
            thr = qm.get("cpu-throttle-percentage")
            if thr != last_thr and status != "completed":
                log("cpu-throttle-percentage %s at %.2fs (sync=%s)" % (
                    thr, el, qm.get("ram", {}).get("dirty-sync-count")))
                last_thr = thr
            st.poll()
            dtail.poll()
            if status in ("completed", "failed", "cancelled"):
                # QEMU 7.2 flips status to 'completed' before it fills in
                # total-time/downtime (migration_calculate_complete runs later)
                # -> re-query until they are set.
                rec["first_completed_src"] = qm
                t_w = time.time()
                while status == "completed" and not qm.get("total-time") and time.time() - t_w < 5:
                    time.sleep(0.05)
                    qm = qs.cmd("query-migrate")
                final = qm
                break
            if dst.poll() is not None:
                log("destination QEMU exited rc=%s during migration (status %s)" % (dst.returncode, status))
                outcome = "dst-died"
                final = qm
                break
            if "ram" in qm:
                rec["last_active_src"] = qm
            sync = qm.get("ram", {}).get("dirty-sync-count", 0) or 0
            if a.mode == "hybrid" and t_pc is None and status == "active":
                if (a.postcopy_after_rounds is not None and sync >= a.postcopy_after_rounds + 1) or \
                   (a.postcopy_after_s is not None and el >= a.postcopy_after_s):
                    qs.cmd("migrate-start-postcopy")
                    t_pc = el
                    log("migrate-start-postcopy at %.2fs (dirty-sync-count=%d)" % (el, sync))
            if status == "postcopy-paused":
                paused_since = paused_since or el
                if el - paused_since > 5:
                    log("postcopy-paused for 5 s (destination or channel failed) -> giving up")
                    outcome = "postcopy-paused"
                    final = qm
                    break
            in_pc = status in ("postcopy-active", "postcopy-paused", "postcopy-recover")
            if not in_pc and el > a.timeout:
                log("precopy did not converge in %ss (dirty-sync-count=%s) -> migrate_cancel" % (a.timeout, sync))
                outcome = "not-converged"
                qs.cmd("migrate_cancel")
                t_c = time.time()
                while time.time() - t_c < 20:
                    qm = qs.cmd("query-migrate")
                    if qm.get("status") in ("cancelled", "failed", "completed"):
                        break
                    time.sleep(0.1)
                final = qm
                break
            if el > a.hard_timeout:
                log("hard timeout %ss in status %s" % (a.hard_timeout, status))
                outcome = "hard-timeout"
                final = qm
                break
            time.sleep(a.poll_ms / 1000.0)

        t_end = time.time() - t0
        rec["t_end_s"] = round(t_end, 3)
        if a.thread_cpu:
            tc_samples.append([round(t_end, 4), thread_cpu(qemu_pids)])
            rec["thread_cpu"] = tc_samples
        if outcome == "error":
            st_ = final.get("status")
            if st_ == "completed":
                outcome = "completed"
            elif st_ == "cancelled":
                outcome = "cancelled"
            else:
                outcome = st_ or "unknown"
        log("outcome %s, final status %s after %.2fs" % (outcome, final.get("status"), t_end))
        rec["status_times_s"] = status_times
        rec["t_postcopy_requested_s"] = t_pc
        if a.trace_requests:
            rec["requests"] = read_requests(os.path.join(rundir, "src.trace"), t0)
        rec["final_src"] = final

        # ---- destination side and guest after migration
        if final.get("status") == "completed":
            t_w = time.time()
            while time.time() - t_w < a.post_s:
                dtail.poll()
                time.sleep(0.2)
            try:
                rec["dst_status"] = qd.cmd("query-status")
                rec["final_dst"] = qd.cmd("query-migrate")
            except (QMPError, OSError) as e:
                notes.append("dst query failed: %s" % e)
        else:
            try:
                rec["final_dst"] = qd.cmd("query-migrate")
            except Exception as e:  # noqa
                notes.append("dst query failed: %s" % e)
        st.poll()
        dtail.poll()

        # events with times relative to migrate start
        ev = []
        for q, side in ((qs, "src"), (qd, "dst")):
            try:
                q.cmd("query-status")  # flush pending events
            except Exception:  # noqa
                pass
            for ht, e in q.events:
                ts = e.get("timestamp") or {}
                qt = ts.get("seconds", 0) + ts.get("microseconds", 0) / 1e6 if ts else ht
                # QEMU's own event timestamp (host wall clock), relative to migrate start
                ev.append({"t": round(qt - t0, 4), "t_read": round(ht - t0, 4), "side": side,
                           "event": e.get("event"), "data": e.get("data")})
        ev.sort(key=lambda x: x["t"])
        rec["events"] = ev

        def guest_series(tail):
            out = []
            for ht, s in tail.lines:
                d = parse_dirtier(s)
                if d:
                    # [host arrival s rel. to migrate, wps, uniq, bad] + guest t of the report
                    out.append([round(ht - t0, 3), d.get("wps"), d.get("uniq"), d.get("bad"), d.get("t")])
            return out
        src_full = [x for x in guest_series(st) if x[0] > -15]
        rec["guest_src_series"] = [x[:4] for x in src_full]
        # guest clock (dirtier t=) of each report, aligned with the series
        rec["guest_src_t"] = [x[4] for x in src_full]
        panic = [s_ for _, s_ in dtail.lines if "Kernel panic" in s_ or "general protection" in s_
                 or "BUG:" in s_ or "Oops" in s_]
        rec["dst_guest_panic"] = 1 if panic else 0
        rec["dst_guest_panic_lines"] = panic[:5]
        rec["guest_bad_lines"] = [s_ for _, s_ in dtail.lines if s_.startswith("DIRTIER BAD")][:20]
        dst_full = guest_series(dtail)
        rec["guest_dst_series"] = [x[:4] for x in dst_full]
        rec["guest_dst_t"] = [x[4] for x in dst_full]
        rec["samples"] = columnar(samples)
    except Exception as e:  # noqa
        outcome = "error"
        notes.append("%s: %s" % (type(e).__name__, e))
        log("ERROR %s: %s" % (type(e).__name__, e))
        rec["samples"] = columnar(samples)
    finally:
        for q in (qs, qd):
            if q:
                q.close()
        kill_pid(src, "src", log)
        kill_pid(dst, "dst", log)
        if sockdir != rundir:
            shutil.rmtree(sockdir, ignore_errors=True)

    rec["outcome"] = outcome
    rec["notes"] = notes

    row = summary_row(rec)
    rec["host"]["loadavg_at_end"] = os.getloadavg()
    rec["summary"] = row
    jpath = os.path.join(resdir, "runs", run_id + ".json")
    with open(jpath, "w") as f:
        json.dump(rec, f, separators=(",", ":"))
    cpath = os.path.join(resdir, "results.csv")
    new = not os.path.exists(cpath)
    with open(cpath, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        if new:
            w.writeheader()
        w.writerow(row)
    log("wrote %s and a row in %s" % (jpath, cpath))
    logf.close()
    return row


def _ev_time(rec, side, event, status=None):
    for e in rec.get("events", []):
        if e["side"] == side and e["event"] == event and \
                (status is None or (e.get("data") or {}).get("status") == status):
            return e["t"]
    return None


def summary_row(rec):
    """CSV row from a run record (also used by rebuild_csv.py)."""
    c = rec["config"]
    outcome = rec.get("outcome")
    fin = rec.get("final_src") or {}
    # not-converged: the cancelled query has no RAM stats -> use the last active sample
    stats = fin if "ram" in fin else (rec.get("last_active_src") or fin)
    ram = stats.get("ram", {})
    smp = rec.get("samples", {}) or {}
    if not ram and smp.get("transferred"):
        # older records: rebuild from the last sample that carried RAM stats
        idx = [i for i, v in enumerate(smp["transferred"]) if v is not None]
        if idx:
            i = idx[-1]
            ram = {"transferred": smp["transferred"][i], "total": smp["total"][i],
                   "duplicate": smp["duplicate"][i], "normal": smp["normal"][i],
                   "normal-bytes": (smp["normal"][i] or 0) * 4096,
                   "dirty-sync-count": smp["dirty_sync_count"][i], "mbps": smp["mbps"][i],
                   "postcopy-requests": smp["postcopy_requests"][i],
                   "precopy-bytes": smp["precopy_bytes"][i],
                   "postcopy-bytes": smp["postcopy_bytes"][i],
                   "downtime-bytes": smp["downtime_bytes"][i]}
    dpr = [x for x in (smp.get("dirty_pages_rate") or []) if x is not None]
    edt = [x for x in (smp.get("expected_downtime") or []) if x is not None]
    qdr = rec.get("qemu_dirtyrate", {})
    fdst = rec.get("final_dst") or {}
    st_times = rec.get("status_times_s") or {}
    t_pc_active = st_times.get("postcopy-active")
    dst_series = rec.get("guest_dst_series", [])
    t_done = st_times.get("completed")
    during = [x[1] for x in dst_series if t_pc_active is not None and t_done is not None
              and t_pc_active < x[0] <= t_done + 0.5]
    after = [x[1] for x in dst_series if t_done is not None and x[0] > t_done + 1.5]
    gp = rec.get("guest_pre", {})
    # guest-visible pause from QEMU's own event timestamps (same host clock):
    # source STOP -> destination RESUME
    t_stop = _ev_time(rec, "src", "STOP")
    t_resume = _ev_time(rec, "dst", "RESUME")
    t_setup = _ev_time(rec, "src", "MIGRATION", "setup")
    t_compl = _ev_time(rec, "src", "MIGRATION", "completed")
    total_ms = fin.get("total-time") if "ram" in fin else None
    if outcome == "not-converged":
        total_ms = None
    bad = [x[3] for x in dst_series if len(x) > 3 and x[3] is not None]
    return {
        "run_id": rec["run_id"], "date": rec["date"], "accel": c["accel"], "mem_mib": c["mem"],
        "wl": c["wl"], "wss_mib": c["wss"], "rate_target": c["rate"], "hot_mib": c["hot"],
        "hot_pct": c["hot_pct"], "mode": c["mode"],
        "postcopy_after_rounds": c["postcopy_after_rounds"],
        "postcopy_after_s": c["postcopy_after_s"], "bw_mib": c["bw_mib"],
        "postcopy_bw_mib": c["postcopy_bw_mib"] if c["postcopy_bw_mib"] is not None else c["bw_mib"],
        "downtime_limit_ms": c["downtime_ms"], "timeout_s": c["timeout"],
        "guest_append": c.get("guest_append"),
        "guest_wps": gp.get("wps"), "guest_uniq_pps": gp.get("uniq_pps"),
        "qemu_dirtyrate_bitmap_mibps": qdr.get("dirty-bitmap", {}).get("dirty-rate"),
        "qemu_dirtyrate_sampling_mibps": qdr.get("page-sampling", {}).get("dirty-rate"),
        "outcome": outcome, "status": fin.get("status"),
        "total_time_ms": total_ms,
        "downtime_ms": fin.get("downtime") if outcome == "completed" else None,
        "downtime_ev_ms": round((t_resume - t_stop) * 1000, 1)
        if (t_stop is not None and t_resume is not None) else None,
        "total_ev_ms": round((t_compl - t_setup) * 1000, 1)
        if (t_setup is not None and t_compl is not None) else None,
        "t_elapsed_s": rec.get("t_end_s"),
        "setup_time_ms": stats.get("setup-time"), "t_postcopy_start_s": t_pc_active,
        "transferred_bytes": ram.get("transferred"), "total_bytes": ram.get("total"),
        "duplicate_pages": ram.get("duplicate"), "normal_pages": ram.get("normal"),
        "normal_bytes": ram.get("normal-bytes"), "dirty_sync_count": ram.get("dirty-sync-count"),
        "mbps": ram.get("mbps"), "postcopy_requests": ram.get("postcopy-requests"),
        "precopy_bytes": ram.get("precopy-bytes"), "downtime_bytes": ram.get("downtime-bytes"),
        "postcopy_bytes": ram.get("postcopy-bytes"),
        "max_dirty_pages_rate": max(dpr) if dpr else None,
        "last_expected_downtime_ms": edt[-1] if edt else None,
        "dest_blocktime_ms": fdst.get("postcopy-blocktime"),
        "dest_wps_during_postcopy": round(statistics.mean(during)) if during else None,
        "dest_wps_after": round(statistics.median(after)) if after else None,
        "lost_updates": max(bad) if bad else None,
        "dst_guest_panic": rec.get("dst_guest_panic"),
        "n_samples": len(smp.get("t") or []), "notes": "; ".join(rec.get("notes") or []),
        **mech_summary(rec, ram, stats, total_ms, t_stop),
    }


def guest_windows(rec):
    """Dirtier reports (source, then destination) as periods in host time
    relative to migrate.  A report carries the guest time t at its end; its
    period starts at the previous report's t (a throttled or paused guest
    stretches periods).  Guest time -> host time by the smallest
    arrival - t lag of the source reports.  Needs guest_src_t/guest_dst_t
    (the guest t of each report); older records fall back to 1-s periods
    ending at arrival."""
    src = rec.get("guest_src_series", []) or []
    dst = rec.get("guest_dst_series", []) or []
    gs, gd = rec.get("guest_src_t"), rec.get("guest_dst_t")
    out = []
    if src and gs and len(gs) == len(src) and (gd is None or len(gd) == len(dst)):
        src = [list(x[:4]) + [t] for x, t in zip(src, gs)]
        dst = [list(x[:4]) + [t] for x, t in zip(dst, gd or [])]
        # a line arrives after the guest printed it (verify pass, serial
        # polling), never before -> the smallest lag is the clock offset
        lag = [x[0] - x[4] for x in src if x[4] is not None]
        off = min(lag) if lag else None
        if off is not None:
            for side, ser in (("src", src), ("dst", dst)):
                prev = None
                for x in ser:
                    if x[1] is None or x[4] is None:
                        continue
                    if prev is not None and x[4] > prev:
                        out.append({"side": side, "h0": prev + off, "h1": x[4] + off,
                                    "dt": x[4] - prev, "wps": x[1], "uniq": x[2], "arr": x[0]})
                    prev = x[4]
                # the destination continues the same guest clock: its first
                # report's period starts at the source's last report
                if side == "src" and prev is not None and dst and dst[0][4] is not None \
                        and dst[0][4] > prev:
                    x = dst[0]
                    out.append({"side": "dst", "h0": prev + off, "h1": x[4] + off,
                                "dt": x[4] - prev, "wps": x[1], "uniq": x[2], "arr": x[0]})
                    dst = dst[1:]
                    prev = x[4]
            return out
    for x in src:
        if x[1] is not None:
            out.append({"side": "src", "h0": x[0] - 1.0, "h1": x[0], "dt": 1.0,
                        "wps": x[1], "uniq": x[2], "arr": x[0]})
    return out


def window_throttle(rec, h0, h1):
    """Time-average of cpu-throttle-percentage over [h0, h1] (host s rel. to migrate)."""
    smp = rec.get("samples", {}) or {}
    ts = smp.get("t") or []
    thr = smp.get("cpu_throttle_percentage") or [None] * len(ts)
    acc = 0.0
    tot = 0.0
    for i in range(len(ts)):
        a = ts[i]
        b = ts[i + 1] if i + 1 < len(ts) else a
        lo, hi = max(a, h0), min(b, h1)
        if hi > lo:
            acc += (thr[i] or 0) * (hi - lo)
            tot += hi - lo
    return acc / tot if tot > 0 else 0.0


def _fmt(x, nd=3):
    return None if x is None else round(x, nd)


def mech_summary(rec, ram, stats, total_ms, t_stop):
    """Columns appended for the mechanism runs (throttle, XBZRLE, multifd,
    guest write rate during migration).  Works on older records too."""
    c = rec["config"]
    caps = rec.get("caps") or []
    prm = rec.get("params") or {}
    smp = rec.get("samples", {}) or {}
    ts = smp.get("t") or []
    ac = "auto-converge" in caps
    xz = "xbzrle" in caps
    mf = "multifd" in caps
    out = {
        "auto_converge": int(ac), "xbzrle": int(xz), "multifd": int(mf),
        "cpu_throttle_initial": prm.get("cpu-throttle-initial") if ac else None,
        "cpu_throttle_increment": prm.get("cpu-throttle-increment") if ac else None,
        "max_cpu_throttle": prm.get("max-cpu-throttle") if ac else None,
        "xbzrle_cache_mib": (prm.get("xbzrle-cache-size") or 0) / MiB if xz else None,
        "multifd_channels": prm.get("multifd-channels") if mf else None,
        "boot_to_ready_s": rec.get("boot_to_ready_s"),
        "pace_sha256_mbps": statistics.median(rec["pace_probe"]["sha256_mbps"]) if rec.get("pace_probe") else None,
        "pace_first_touch_us": statistics.median(rec["pace_probe"]["first_touch_us"]) if rec.get("pace_probe") else None,
    }
    # ---- throttle schedule as QEMU reported it (query-migrate every poll)
    thr = smp.get("cpu_throttle_percentage") or []
    sched = []
    prev = None
    for t, v in zip(ts, thr):
        if v is not None and v != prev:
            sched.append((t, v))
        if v is not None:
            prev = v
    out["throttle_pct_max"] = max(v for _, v in sched) if sched else (0 if ac else None)
    out["throttle_pct_last"] = prev if prev is not None else (0 if ac else None)
    out["t_throttle_start_s"] = _fmt(sched[0][0], 2) if sched else None
    out["throttle_steps"] = len(sched) if ac else None
    out["throttle_schedule"] = " ".join("%.2f:%d" % (t, v) for t, v in sched) if sched else None
    # ---- guest writes/s while the source guest ran during migration:
    # reports whose whole period lies inside [0, end], end = source STOP
    # (precopy end / postcopy switch) or the cancel
    t_end = t_stop if t_stop is not None else rec.get("t_end_s")
    if t_end is None and ts:
        t_end = ts[-1]          # early records have no t_end_s
    wins = guest_windows(rec)
    ser = [w for w in wins if t_end is not None and w["h0"] >= 0 and w["h1"] <= t_end]
    out["guest_wps_during_mig"] = out["guest_wps_min_during_mig"] = None
    out["guest_uniq_during_mig"] = out["guest_wps_last_mig"] = None
    out["guest_wps_at_throttle_max"] = None
    if ser:
        dur = sum(w["dt"] for w in ser)
        out["guest_wps_during_mig"] = round(sum(w["wps"] * w["dt"] for w in ser) / dur)
        out["guest_wps_min_during_mig"] = round(min(w["wps"] for w in ser))
        out["guest_uniq_during_mig"] = round(sum(w["uniq"] * w["dt"] for w in ser) / dur)
        out["guest_wps_last_mig"] = round(ser[-1]["wps"])
        if sched:
            pmax = max(v for _, v in sched)
            # periods spent (almost) entirely at the highest throttle reached
            at = [w for w in ser if window_throttle(rec, w["h0"], w["h1"]) >= pmax - 2]
            if at:
                out["guest_wps_at_throttle_max"] = round(
                    sum(w["wps"] * w["dt"] for w in at) / sum(w["dt"] for w in at))
    # ---- XBZRLE counters (final, or the last active state for a cancel)
    xb = stats.get("xbzrle-cache") or {}
    if not xb and smp.get("xbzrle_pages"):
        idx = [i for i, v in enumerate(smp["xbzrle_pages"]) if v is not None]
        if idx:
            i = idx[-1]
            xb = {"cache-size": smp["xbzrle_cache_size"][i], "bytes": smp["xbzrle_bytes"][i],
                  "pages": smp["xbzrle_pages"][i], "cache-miss": smp["xbzrle_cache_miss"][i],
                  "cache-miss-rate": smp["xbzrle_cache_miss_rate"][i],
                  "overflow": smp["xbzrle_overflow"][i]}
    enc = [x for x in (smp.get("xbzrle_encoding_rate") or []) if x is not None]
    out["xbzrle_cache_size"] = xb.get("cache-size")
    out["xbzrle_bytes"] = xb.get("bytes")
    out["xbzrle_pages"] = xb.get("pages")
    out["xbzrle_cache_miss"] = xb.get("cache-miss")
    out["xbzrle_cache_miss_rate"] = _fmt(xb.get("cache-miss-rate"), 4)
    out["xbzrle_overflow"] = xb.get("overflow")
    out["xbzrle_encoding_rate_max"] = _fmt(max(enc), 1) if enc else None
    # bytes saved = what the XBZRLE pages would have cost as normal pages
    # (4096 B + 8 B header each) minus what they cost (xbzrle 'bytes' excludes the 8 B header)
    out["xbzrle_bytes_saved"] = (xb["pages"] * 4096 - xb["bytes"]) if xb.get("pages") is not None else None
    out["multifd_bytes"] = ram.get("multifd-bytes") if mf else None
    # ---- achieved transfer rate
    tr = smp.get("transferred") or []
    pts = [(t, v) for t, v in zip(ts, tr) if v is not None]
    xfer = ram.get("transferred")
    dur = (total_ms / 1000.0) if total_ms else None
    if dur is None and rec.get("outcome") == "not-converged":
        dur = pts[-1][0] if pts else None
    out["avg_xfer_mibps"] = _fmt(xfer / MiB / dur, 1) if (xfer and dur) else None
    # 1-s sliding windows over the query-migrate samples
    rates = []
    j = 0
    for i in range(len(pts)):
        while j < i and pts[i][0] - pts[j][0] > 1.0:
            j += 1
        if j > 0 and pts[i][0] - pts[j - 1][0] >= 0.95:
            rates.append((pts[i][1] - pts[j - 1][1]) / (pts[i][0] - pts[j - 1][0]))
    out["peak_xfer_mibps"] = _fmt(max(rates) / MiB, 1) if rates else None
    out["median_xfer_mibps"] = _fmt(statistics.median(rates) / MiB, 1) if rates else None
    return out


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mem", type=int, default=256, help="guest RAM MiB")
    p.add_argument("--wl", choices=["idle", "uniform", "hotspot", "seq"], default="idle",
                   help="dirtier workload")
    p.add_argument("--wss", type=int, default=0, help="dirtier working set MiB (touched at boot)")
    p.add_argument("--rate", type=int, default=0, help="target page writes/s (0 = max)")
    p.add_argument("--hot", type=int, default=0, help="hotspot size MiB")
    p.add_argument("--hot-pct", type=float, default=90.0, help="%% of writes to the hotspot")
    p.add_argument("--mode", choices=["precopy", "postcopy", "hybrid"], default="precopy")
    p.add_argument("--postcopy-after-rounds", type=int, default=None,
                   help="hybrid: switch when dirty-sync-count >= N+1 (N completed syncs after setup)")
    p.add_argument("--postcopy-after-s", type=float, default=None, help="hybrid: switch after T s")
    p.add_argument("--bw-mib", type=float, default=128,
                   help="max-bandwidth MiB/s (0 = no limit; with multifd it caps the sum of all channels)")
    p.add_argument("--postcopy-bw-mib", type=float, default=None,
                   help="max-postcopy-bandwidth MiB/s (default: same as --bw-mib; 0 = unlimited)")
    p.add_argument("--downtime-ms", type=int, default=300, help="downtime-limit ms")
    p.add_argument("--cap", action="append", default=[],
                   help="extra migration capability to enable (e.g. xbzrle, auto-converge)")
    g = p.add_argument_group("mechanisms (QEMU defaults unless given)")
    g.add_argument("--auto-converge", action="store_true",
                   help="capability auto-converge (vCPU throttling)")
    g.add_argument("--cpu-throttle-initial", type=int, default=None,
                   help="auto-converge: first throttle %% (QEMU default 20)")
    g.add_argument("--cpu-throttle-increment", type=int, default=None,
                   help="auto-converge: step %% (QEMU default 10)")
    g.add_argument("--cpu-throttle-tailslow", type=lambda x: x.lower() in ("1", "true", "on", "yes"),
                   default=None, help="auto-converge: tailslow on/off (QEMU default off)")
    g.add_argument("--max-cpu-throttle", type=int, default=None, help="throttle cap %% (QEMU default 99)")
    g.add_argument("--throttle-trigger-threshold", type=int, default=None,
                   help="%% dirty/transferred per sync period that counts as 'too fast' (QEMU default 50)")
    g.add_argument("--xbzrle", action="store_true", help="capability xbzrle")
    g.add_argument("--xbzrle-cache-mib", type=float, default=None,
                   help="xbzrle-cache-size MiB (QEMU default 64)")
    g.add_argument("--multifd", action="store_true", help="capability multifd")
    g.add_argument("--multifd-channels", type=int, default=None,
                   help="multifd-channels on both sides (implies --multifd; QEMU default 2)")
    p.add_argument("--timeout", type=float, default=60, help="precopy give-up time s (-> not-converged)")
    p.add_argument("--hard-timeout", type=float, default=240, help="absolute cap incl. postcopy s")
    p.add_argument("--trace-requests", type=int, default=0,
                   help="1: record the source's trace of post-copy page requests (rec['requests'])")
    p.add_argument("--trace-final", type=int, default=0,
                   help="1: both QEMUs log the stop, bitmap syncs and every multifd packet and sync to "
                        "build/runs/<id>/{src,dst}.final.trace (QEMU's log trace backend); 2: also every page "
                        "of the single stream (slows the run; validation/tools/final_trace.py reads them)")
    p.add_argument("--thread-cpu", type=int, default=0,
                   help="1: record each QEMU thread's CPU time (utime+stime, /proc) over --before-s "
                        "before migrating and at every poll during it (rec['thread_cpu'])")
    p.add_argument("--before-s", type=float, default=1.0,
                   help="with --thread-cpu: how long to sample the threads before migrating, s")
    p.add_argument("--prefree-mib", type=int, default=0,
                   help="touch and free this many MiB of fresh memory just before migrating (0: none)")
    p.add_argument("--settle-s", type=float, default=0,
                   help="idle this long just before migrating, so that memory freed lately goes back to the "
                        "host first (rec['settle_s']; 0: none)")
    p.add_argument("--pace-probe-mib", type=int, default=0,
                   help="before migrating, time SHA-256 and first touches of this many MiB of fresh memory, "
                        "3 rounds, holding that memory until the migration is over (rec['pace_probe']; 0: off)")
    p.add_argument("--poll-ms", type=float, default=50)
    p.add_argument("--steady-reports", type=int, default=3,
                   help="dirtier reports after READY to wait for (median = pre-migration rate)")
    p.add_argument("--prescan", type=int, default=1,
                   help="scan guest RAM for zero pages before migrating (pmemsave; 1/0)")
    p.add_argument("--cpu-probe-s", type=float, default=1.0,
                   help="before migrating, spin this long and record the share of a core it got (0: off)")
    p.add_argument("--dirtyrate", type=int, default=1, help="run calc-dirty-rate before migrating (1/0)")
    p.add_argument("--dirtyrate-s", type=int, default=1, help="calc-time for calc-dirty-rate")
    p.add_argument("--dirtyrate-modes", default="page-sampling",
                   help="comma list of calc-dirty-rate modes; NOTE: 'dirty-bitmap' SEGFAULTs "
                        "QEMU 7.2 under TCG, 'dirty-ring' needs KVM")
    p.add_argument("--post-s", type=float, default=4.0, help="watch dest guest this long after completion")
    p.add_argument("--boot-timeout", type=float, default=180)
    p.add_argument("--verify", type=int, default=1, help="guest integrity check (dirtier VERIFY)")
    p.add_argument("--guest-append", default="pti=on",
                   help="extra guest kernel args. Default pti=on: every user/kernel transition "
                        "writes CR3 -> TCG flushes its soft TLB, which shrinks the window of the "
                        "QEMU<9.0 TCG lost-dirty-bit bug (see README)")
    p.add_argument("--accel", default="tcg", help="tcg | kvm (kvm: PVM host, see README)")
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--kernel", default=None)
    p.add_argument("--initrd", default=None)
    p.add_argument("--port", type=int, default=0, help="127.0.0.1 port (0 = pick a free one)")
    p.add_argument("--results", default=os.path.join(HERE, "results"))
    p.add_argument("--run-id", default=None)
    p.add_argument("--quiet", action="store_true")
    return p


if __name__ == "__main__":
    args = parser().parse_args()
    if args.mode == "hybrid" and args.postcopy_after_rounds is None and args.postcopy_after_s is None:
        args.postcopy_after_rounds = 2
    if args.multifd_channels is not None:
        args.multifd = True
    r = run(args)
    print(json.dumps({k: r[k] for k in ("run_id", "outcome", "total_time_ms", "downtime_ms",
                                         "transferred_bytes", "dirty_sync_count", "mbps")}))
    sys.exit(0 if r["outcome"] in ("completed", "not-converged") else 1)
