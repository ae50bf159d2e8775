//! The host CPU model (docs/model.md 15.11) through the real binary: other load on the host's cores
//! slows the stream by the fair share it leaves, a CPU-bound guest is slowed by the migration's
//! threads and slows them, a writer that needs little CPU keeps its rate, a running guest's
//! interference slows the stream and the busy stream's slows the guest, the final copy goes at its
//! own pace when one is given, and bad keys are refused.

mod common;
use common::*;

/// An idle 64 MiB guest with no zero pages, on a link that is never the bottleneck, at a CPU pace of
/// 100 MiB/s for new pages; `workload` and `extra` are TOML lines of `[workload]` and `[migration]`.
fn scenario(workload: &str, extra: &str) -> String {
    format!(
        r#"name = "cpu"
seed = 7
[vm]
memory = "64 MiB"
zero_fraction = 0
device_state = "0 B"
[network]
bandwidth = "100 Gbit/s"
latency = "0.01 ms"
[workload]
{workload}
[migration]
strategy = "precopy"
downtime_limit = "300 ms"
cpu_rate_new = "100 MiB/s"
cpu_rate_resent = "100 MiB/s"
cpu_loopback = true
{extra}
"#
    )
}

const IDLE: &str = "kind = \"idle\"";

/// The first pre-copy round's length (s): the first pass, when `SHORT` lets no round end early.
fn first(m: &serde_json::Value) -> f64 {
    let rows = m["timeline"].as_array().expect("timeline");
    let r = rows.iter().find(|r| r["phase"] == "precopy").expect("a pre-copy round");
    f64_of(r, "end_s") - f64_of(r, "start_s")
}

/// A 1 ms downtime limit lets no round end early; 5 s bounds the run.
const SHORT: [&str; 4] = ["--set", "migration.downtime_limit=1 ms", "--set", "migration.max_time=5 s"];

#[test]
fn other_load_slows_the_stream_by_its_fair_share() {
    let dir = TempDir::new("hostcpu-load");
    let free = run_one(&dir, "free", &scenario(IDLE, ""), &[]);
    // The stream (its sender and receiver take turns: one thread) on 2 cores with nothing else: a
    // core, the same pace as without the model.
    let quiet = run_one(&dir, "quiet", &scenario(IDLE, "host_cores = 2"), &[]);
    // Three other busy threads: 4 threads on 2 cores, half a core each: twice as long.
    let busy = run_one(&dir, "busy", &scenario(IDLE, "host_cores = 2\nhost_busy_threads = 3"), &[]);
    let (t0, t1, t2) = (f64_of(&free, "total_time_s"), f64_of(&quiet, "total_time_s"), f64_of(&busy, "total_time_s"));
    assert!((t1 / t0 - 1.0).abs() < 0.01, "a core for each thread changes nothing: {t0} s vs {t1} s");
    assert!((t2 / t1 - 2.0).abs() < 0.02, "half a core each doubles the time: {t1} s vs {t2} s");
    // 64 MiB at 100 MiB/s is 0.64 s of CPU.
    assert!((t1 - 0.64).abs() < 0.02, "{t1}");
}

#[test]
fn a_cpu_bound_guest_and_the_stream_slow_each_other() {
    let dir = TempDir::new("hostcpu-guest");
    let writer = "kind = \"uniform\"\nwrite_rate = \"20000 pages/s\"\nworking_set = \"8 MiB\"\nfull_cpu_rate = \"20000 pages/s\"";
    // The stream and the spinning vCPU on two cores: a core each, the writer loses nothing.
    let m = run_one(&dir, "alone", &scenario(writer, "host_cores = 2\nguest_cpu = 1"), &[]);
    assert!(f64_of(&m, "app_slowdown") < 1e-9, "{m}");
    // With one other busy thread, three threads want a core on two: the vCPU runs 2/3 of the time
    // and writes 1/3 less.
    let m = run_one(&dir, "spin", &scenario(writer, "host_cores = 2\nhost_busy_threads = 1\nguest_cpu = 1"), &[]);
    let slow = f64_of(&m, "app_slowdown");
    assert!((slow - 1.0 / 3.0).abs() < 0.01, "app_slowdown {slow}");
    // A writer that needs 1 % of a core keeps its rate and leaves the stream its cores.
    let light = "kind = \"uniform\"\nwrite_rate = \"20000 pages/s\"\nworking_set = \"8 MiB\"\nfull_cpu_rate = \"2000000 pages/s\"";
    let m = run_one(&dir, "light", &scenario(light, "host_cores = 2\nhost_busy_threads = 1\nguest_cpu = 0.01"), &[]);
    assert!(f64_of(&m, "app_slowdown") < 1e-9, "{m}");
    // The spinning guest's first pass (64 MiB of new pages; a 1 ms downtime limit lets no round
    // end early) goes at 2/3 of the pace, the light writer's at 0.995 (its 1 % leaves the stream
    // and the busy thread 1.99 cores).
    let spin = run_one(&dir, "spin2", &scenario(writer, "host_cores = 2\nhost_busy_threads = 1\nguest_cpu = 1"), &SHORT);
    let light = run_one(&dir, "light2", &scenario(light, "host_cores = 2\nhost_busy_threads = 1\nguest_cpu = 0.01"), &SHORT);
    assert!((first(&spin) - 0.96).abs() < 0.01, "first pass {} s", first(&spin));
    let ratio = first(&spin) / first(&light);
    assert!((ratio - 1.5 * 0.995).abs() < 0.01, "first pass {} s vs {} s", first(&spin), first(&light));
}

#[test]
fn host_cpu_keys_are_checked() {
    let dir = TempDir::new("hostcpu-bad");
    for (extra, want) in [
        ("host_cores = 0", "host_cores"),
        ("host_cores = 2\nhost_busy_threads = -1", "host_busy_threads"),
        ("guest_cpu = 1", "needs host_cores"),
        ("host_cores = 2\nguest_vcpus = 0", "guest_vcpus"),
        ("cpu_interference = 0.1", "needs host_cores"),
        ("host_cores = 2\ncpu_interference = -0.1", "cpu_interference"),
        ("guest_interference = 0.1", "needs host_cores"),
        ("host_cores = 2\nguest_interference = 1", "guest_interference"),
        ("host_cores = 2\nguest_interference = -0.2", "guest_interference"),
    ] {
        let p = dir.path().join("bad.toml");
        std::fs::write(&p, scenario(IDLE, extra)).expect("write");
        let o = migsim(["run", p.to_str().expect("path")]);
        assert_eq!(o.status.code(), Some(2), "{extra}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{extra}: {err}");
    }
}

#[test]
fn reserved_cpu_is_paid_before_the_writes() {
    let dir = TempDir::new("hostcpu-reserved");
    // 199 other busy threads, the stream and the spinning vCPU on 2 cores: 2/201 of a core each,
    // less than the 1.2 % the writer spends on other work each second, so it writes nothing.
    let writer = |reserved: &str| {
        format!(
            "kind = \"uniform\"\nwrite_rate = \"20000 pages/s\"\nworking_set = \"8 MiB\"\nfull_cpu_rate = \"20000 pages/s\"\n{reserved}"
        )
    };
    let host = "host_cores = 2\nhost_busy_threads = 199\nguest_cpu = 1";
    let short = ["--set", "migration.max_time=2 s"];
    let plain = run_one(&dir, "plain", &scenario(&writer(""), host), &short);
    let reserved = run_one(&dir, "reserved", &scenario(&writer("reserved_cpu = 0.012"), host), &short);
    let share = 2.0 / 201.0;
    let slow = f64_of(&plain, "app_slowdown");
    assert!((slow - (1.0 - share)).abs() < 1e-3, "without reserved work: app_slowdown {slow}");
    let slow = f64_of(&reserved, "app_slowdown");
    assert!((slow - 1.0).abs() < 1e-9, "with it: app_slowdown {slow}");
    // A value of 1 or more is refused, naming the key.
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, scenario(&writer("reserved_cpu = 1"), "")).expect("write");
    let o = migsim(["run", p.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("reserved_cpu") && err.contains("below 1"), "{err}");
}

#[test]
fn the_final_copy_goes_at_the_paused_pace() {
    let dir = TempDir::new("hostcpu-paused");
    // A million writes/s over 8 MiB: every page of it is dirty again at the end of each pass. The
    // `rounds` policy stops after two passes, so the final copy re-sends those 2048 pages, which the
    // destination already holds.
    let writer = "kind = \"uniform\"\nwrite_rate = \"1000000 pages/s\"\nworking_set = \"8 MiB\"";
    let stop = ["--set", "migration.stop_policy=rounds", "--set", "migration.max_rounds=2"];
    let plain = run_one(&dir, "plain", &scenario(writer, ""), &stop);
    let fast = run_one(&dir, "fast", &scenario(writer, "cpu_rate_resent_paused = \"200 MiB/s\""), &stop);
    let bytes = f64_of(&plain, "stop_copy_bytes");
    assert_eq!(bytes, f64_of(&fast, "stop_copy_bytes"), "the live part is the same");
    assert!(bytes > 8.0 * 1048576.0, "the whole working set is re-sent: {bytes} B");
    // CPU time is the page data's (the 8-byte headers ride along): 8 MiB at 100 and at 200 MiB/s.
    let data = bytes * 4096.0 / 4104.0;
    assert_rel("downtime at cpu_rate_resent", f64_of(&plain, "downtime_s"), data / (100.0 * 1048576.0), 0.01);
    assert_rel("downtime at cpu_rate_resent_paused", f64_of(&fast, "downtime_s"), data / (200.0 * 1048576.0), 0.01);
    let live = |m: &serde_json::Value| f64_of(m, "total_time_s") - f64_of(m, "downtime_s");
    assert_abs("the live part's time", live(&fast), live(&plain), 1e-9);
    // A rate of zero is refused, naming the key.
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, scenario(writer, "cpu_rate_resent_paused = \"0 MB/s\"")).expect("write");
    let o = migsim(["run", p.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cpu_rate_resent_paused"), "{}", stderr(&o));
}

#[test]
fn a_running_guest_slows_the_stream_by_the_interference() {
    let dir = TempDir::new("hostcpu-interference");
    // A spinning vCPU with a core of its own (2 cores, the stream and the vCPU): the first pass (64
    // MiB of new pages at 100 MiB/s; a 1 ms downtime limit lets no round end early) takes 0.64 s,
    // and 25 % longer with an interference of 0.25 per running core. The writer loses nothing.
    let writer = "kind = \"uniform\"\nwrite_rate = \"20000 pages/s\"\nworking_set = \"8 MiB\"\nfull_cpu_rate = \"20000 pages/s\"";
    let plain = run_one(&dir, "plain", &scenario(writer, "host_cores = 2\nguest_cpu = 1"), &SHORT);
    let slow = run_one(&dir, "slow", &scenario(writer, "host_cores = 2\nguest_cpu = 1\ncpu_interference = 0.25"), &SHORT);
    assert_rel("first pass without interference", first(&plain), 0.64, 0.01);
    assert_rel("first pass with it", first(&slow), 0.8, 0.01);
    assert!(f64_of(&slow, "app_slowdown") < 1e-9, "{slow}");
    // An idle guest keeps no core busy: no interference.
    let idle = run_one(&dir, "idle", &scenario(IDLE, "host_cores = 2\ncpu_interference = 0.25"), &SHORT);
    assert_rel("idle guest's first pass", first(&idle), 0.64, 0.01);
}

#[test]
fn a_busy_stream_slows_the_guest_by_its_interference() {
    let dir = TempDir::new("hostcpu-guest-interference");
    // A spinning vCPU and the stream, each with a core of its own: the writer loses nothing, and
    // with a guest interference of 0.25 it loses a quarter while the stream works flat out. Capped
    // at 25 MiB/s, the stream (100 MiB/s of CPU) works a quarter of each 100 ms window, so the
    // writer loses about a quarter of that (the first window, before any is measured, counts as
    // flat out). The stream's own pace does not move, and a writer with CPU to spare loses nothing.
    let writer = "kind = \"uniform\"\nwrite_rate = \"20000 pages/s\"\nworking_set = \"8 MiB\"\nfull_cpu_rate = \"20000 pages/s\"";
    let host = "host_cores = 2\nguest_cpu = 1";
    let plain = run_one(&dir, "plain", &scenario(writer, host), &SHORT);
    let busy = run_one(&dir, "busy", &scenario(writer, &format!("{host}\nguest_interference = 0.25")), &SHORT);
    assert!(f64_of(&plain, "app_slowdown") < 1e-9, "{plain}");
    assert_abs("writer's loss beside a busy stream", f64_of(&busy, "app_slowdown"), 0.25, 0.01);
    assert_rel("the stream's first pass", first(&busy), first(&plain), 1e-6);
    let capped = format!("{host}\nguest_interference = 0.25\nmax_bandwidth = \"25 MiB/s\"");
    let slow = run_one(&dir, "capped", &scenario(writer, &capped), &SHORT);
    // It never stops (a 1 ms downtime limit) and runs to max_time: 5 s, the first 0.1 s at 0.25,
    // the rest at 0.0625.
    assert_abs("the capped run's length", f64_of(&slow, "total_time_s"), 5.0, 1e-9);
    assert_abs("writer's loss beside a capped stream", f64_of(&slow, "app_slowdown"), (0.1 * 0.25 + 4.9 * 0.0625) / 5.0, 0.002);
    // A writer that needs 3 % of a core runs a little longer and loses nothing.
    let light = run_one(&dir, "light", &scenario(writer, "host_cores = 2\nguest_cpu = 0.03\nguest_interference = 0.25"), &SHORT);
    assert!(f64_of(&light, "app_slowdown") < 1e-9, "{light}");
}
