//! Behaviour of the four strategies through the real binary: what each one sends, when it stops,
//! the JSON it reports, zero pages, and migrations sharing a link.

mod common;
use common::*;
use serde_json::Value;

const PAGE: u64 = 4 * KIB;

/// A 256 MiB VM (a quarter of it zero pages) on 1 Gbit/s running `workload` (TOML lines of [workload]).
fn postcopy_scenario(workload: &str) -> String {
    format!(
        r#"name = "pc"
[vm]
memory = "256 MiB"
zero_fraction = 0.25
device_state = "256 KiB"
[network]
bandwidth = "1 Gbit/s"
latency = "0.1 ms"
[workload]
{workload}
[migration]
strategy = "postcopy"
page_header = "8 B"
"#
    )
}

/// Workloads at a base write rate `r` pages/s.
fn workloads(r: u64) -> Vec<(&'static str, String)> {
    vec![
        ("idle", "kind = \"idle\"".to_string()),
        ("uniform", format!("kind = \"uniform\"\nwrite_rate = \"{r} pages/s\"\nread_rate = \"{} pages/s\"", r * 2)),
        ("hotcold", format!("kind = \"hotcold\"\nwrite_rate = \"{r} pages/s\"\nhot_set = \"16 MiB\"\nhot_share = 0.9")),
        ("zipf", format!("kind = \"zipf\"\nwrite_rate = \"{r} pages/s\"\nexponent = 1.0")),
        ("sequential", format!("kind = \"sequential\"\nwrite_rate = \"{r} pages/s\"\nworking_set = \"128 MiB\"")),
    ]
}

#[test]
fn postcopy_sends_every_page_exactly_once() {
    let dir = TempDir::new("pc-once");
    let pages = 256 * MIB / PAGE;
    let zero = pages / 4;
    // Every page once: non-zero pages cost page + header, zero pages the header; plus device state.
    let bytes = (pages - zero) * (PAGE + 8) + zero * 8 + 256 * KIB;
    for (name, wl) in workloads(20_000) {
        let m = run_one(&dir, &format!("pc-{name}"), &postcopy_scenario(&wl), &[]);
        assert_eq!(str_of(&m, "strategy"), "postcopy");
        assert!(bool_of(&m, "completed"), "{name}: completed");
        assert_eq!(u64_of(&m, "pages_sent"), pages, "{name}: pages_sent == memory / page_size");
        assert_eq!(u64_of(&m, "zero_pages_sent"), zero, "{name}: zero_pages_sent");
        assert_eq!(u64_of(&m, "bytes_sent"), bytes, "{name}: bytes_sent");
        assert_eq!(u64_of(&m, "rounds"), 0, "{name}: no pre-copy round");
    }
}

#[test]
fn postcopy_downtime_does_not_grow_with_the_dirty_rate() {
    let dir = TempDir::new("pc-downtime");
    // Post-copy pauses only to send the device state: downtime = DS/B + L = 262144/125e6 + 1e-4.
    let want = (256 * KIB) as f64 / GBIT + 1e-4;
    let slow = workloads(20_000);
    let fast = workloads(200_000);
    for ((name, a), (_, b)) in slow.iter().zip(&fast) {
        let m1 = run_one(&dir, &format!("pc1-{name}"), &postcopy_scenario(a), &[]);
        let m10 = run_one(&dir, &format!("pc10-{name}"), &postcopy_scenario(b), &[]);
        let (d1, d10) = (f64_of(&m1, "downtime_s"), f64_of(&m10, "downtime_s"));
        assert_abs(&format!("{name}: downtime at 10x the rate vs 1x"), d10, d1, 1e-9);
        assert_rel(&format!("{name}: downtime == DS/B + L"), d1, want, 1e-6);
    }
}

/// An mmuncher-like VM: 512 MiB, a uniform writer over 256 MiB at 200000 pages/s (781 MiB/s, far
/// above the 119 MiB/s link): pre-copy cannot converge.
fn mmuncher(extra_migration: &str) -> String {
    format!(
        r#"name = "mmuncher"
[vm]
memory = "512 MiB"
[network]
bandwidth = "1 Gbit/s"
[workload]
kind = "uniform"
write_rate = "200000 pages/s"
working_set = "256 MiB"
[migration]
{extra_migration}
"#
    )
}

#[test]
fn mmuncher_precopy_xen_is_forced_to_stop() {
    let dir = TempDir::new("mm-xen");
    let m = run_one(&dir, "mm", &mmuncher("stop_policy = \"xen\""), &["--strategy", "precopy"]);
    assert!(!bool_of(&m, "converged"), "a forced stop is not convergence: {m}");
    let reason = str_of(&m, "stop_reason");
    assert!(reason == "max_rounds" || reason == "max_data", "stop_reason {reason}");
    assert!(bool_of(&m, "completed"), "Xen forces the stop-and-copy, so the migration completes");
    assert!(m["downtime_s"].as_f64().is_some(), "a completed pre-copy has a downtime");
}

#[test]
fn mmuncher_precopy_qemu_is_cancelled_at_max_time() {
    let dir = TempDir::new("mm-qemu");
    let m = run_one(&dir, "mm", &mmuncher("stop_policy = \"qemu\"\nmax_time = \"20 s\""), &["--strategy", "precopy"]);
    assert!(!bool_of(&m, "converged"));
    assert!(!bool_of(&m, "completed"), "cancelled: the VM stays at the source");
    assert_eq!(str_of(&m, "stop_reason"), "max_time");
    assert!(m["downtime_s"].is_null(), "the VM never stopped, so downtime_s is null: {}", m["downtime_s"]);
    assert!(f64_of(&m, "total_time_s") >= 20.0, "cancelled at 20 s");
}

#[test]
fn mmuncher_postcopy_and_hybrid_finish() {
    let dir = TempDir::new("mm-pc");
    for policy in ["qemu", "xen"] {
        for strategy in ["postcopy", "hybrid"] {
            let text = mmuncher(&format!("stop_policy = \"{policy}\"\nmax_time = \"20 s\""));
            let m = run_one(&dir, &format!("mm-{policy}-{strategy}"), &text, &["--strategy", strategy]);
            assert_eq!(str_of(&m, "strategy"), strategy);
            assert!(bool_of(&m, "completed"), "{policy}/{strategy}: completed: {m}");
            assert!(f64_of(&m, "total_time_s") < 20.0, "{policy}/{strategy}: finished before max_time");
            assert!(f64_of(&m, "postcopy_window_s") > 0.0, "{policy}/{strategy}: post-copy window");
            assert!(u64_of(&m, "pages_sent") >= 512 * MIB / PAGE, "{policy}/{strategy}: every page arrives");
        }
    }
}

#[test]
fn hybrid_switches_after_the_configured_rounds() {
    let dir = TempDir::new("hybrid");
    for policy in ["qemu", "threshold"] {
        // mmuncher never shrinks its dirty set, so only N <= 2 is reached by the round count (from
        // round 2 on the no-progress rule would switch first); the sequential writer halves it each
        // round, so N = 3 is reached by the count alone.
        for (n, workload) in [(1u64, "mmuncher"), (2, "mmuncher"), (3, "progressing")] {
            let extra = format!("stop_policy = \"{policy}\"\nhybrid_switch_after = {n}");
            let text = if workload == "mmuncher" { mmuncher(&extra) } else { progressing(&extra) };
            let m = run_one(&dir, &format!("hy-{policy}-{n}"), &text, &["--strategy", "hybrid"]);
            assert_eq!(u64_of(&m, "rounds"), n, "{policy}, hybrid_switch_after = {n}: rounds");
            let start = m["postcopy_start_s"].as_f64().unwrap_or_else(|| panic!("{policy}/{n}: no postcopy_start_s: {m}"));
            assert!(start > 0.0, "{policy}/{n}: the switch follows {n} pre-copy round(s)");
            assert!(start < f64_of(&m, "total_time_s"));
            assert_eq!(str_of(&m, "stop_reason"), "postcopy_switch");
            assert!(bool_of(&m, "completed"));
            // Every pre-copy round of the timeline ends before the switch.
            let pre: Vec<&Value> = timeline(&m).iter().filter(|t| t["phase"] == "precopy").collect();
            assert_eq!(pre.len() as u64, n, "{policy}/{n}: pre-copy rounds in the timeline");
            assert!(pre.iter().all(|t| f64_of(t, "end_s") <= start + 1e-9));
        }
    }
}

#[test]
fn hybrid_switches_early_when_precopy_stops_making_progress() {
    // mmuncher's dirty set is its whole 256 MiB region after every round: pre-copy makes no progress,
    // so hybrid switches at the first round whose dirty set is not 5 % smaller than the one before,
    // long before hybrid_switch_after = 10.
    let dir = TempDir::new("hybrid-early");
    for policy in ["qemu", "threshold"] {
        let text = mmuncher(&format!("stop_policy = \"{policy}\"\nhybrid_switch_after = 10"));
        let m = run_one(&dir, &format!("hy-early-{policy}"), &text, &["--strategy", "hybrid"]);
        let dirty: Vec<u64> = timeline(&m).iter().filter(|t| t["phase"] == "precopy").map(|t| u64_of(t, "dirty_pages_at_end")).collect();
        assert!(dirty.len() >= 2 && dirty.len() < 10, "{policy}: switched early, after {} rounds", dirty.len());
        assert_eq!(u64_of(&m, "rounds"), dirty.len() as u64);
        let shrank = |a: u64, b: u64| b * 20 <= a * 19;
        let n = dirty.len();
        assert!(!shrank(dirty[n - 2], dirty[n - 1]), "{policy}: the last round made no progress: {dirty:?}");
        assert!(dirty.windows(2).take(n - 2).all(|w| shrank(w[0], w[1])), "{policy}: no earlier stall: {dirty:?}");
        assert_eq!(str_of(&m, "stop_reason"), "postcopy_switch");
        assert!(bool_of(&m, "completed"));
    }
}

/// A sequential writer of new pages at half the link rate: each pre-copy round leaves about half
/// the dirty set of the one before, and pre-copy alone would converge after about 7 rounds.
fn progressing(extra_migration: &str) -> String {
    format!(
        r#"name = "progressing"
[vm]
memory = "4 GiB"
[network]
bandwidth = "1 Gbit/s"
latency = "0 ms"
[workload]
kind = "sequential"
write_rate = "60 MiB/s"
[migration]
{extra_migration}
"#
    )
}

fn timeline(m: &Value) -> &Vec<Value> {
    m["timeline"].as_array().unwrap_or_else(|| panic!("timeline is not an array: {m}"))
}

/// A busy VM that every strategy can migrate.
const BUSY: &str = r#"name = "busy"
[vm]
memory = "256 MiB"
zero_fraction = 0.1
[network]
bandwidth = "1 Gbit/s"
[workload]
kind = "hotcold"
write_rate = "5000 pages/s"
hot_set = "8 MiB"
read_rate = "1000 pages/s"
"#;

#[test]
fn strategy_all_runs_the_four_strategies() {
    let dir = TempDir::new("all");
    let p = dir.write("busy.toml", BUSY);
    let r = run_json(&dir, &p, &["--strategy", "all"]);
    let ms = migrations(&r);
    assert_eq!(ms.len(), 4, "four migrations");
    let mut names: Vec<&str> = ms.iter().map(|m| str_of(m, "strategy")).collect();
    names.sort();
    assert_eq!(names, ["cold", "hybrid", "postcopy", "precopy"]);
    assert!(ms.iter().all(|m| bool_of(m, "completed")));
}

#[test]
fn json_has_every_documented_field() {
    let dir = TempDir::new("fields");
    let p = dir.write("busy.toml", BUSY);
    let r = run_json(&dir, &p, &["--strategy", "all"]);
    for m in migrations(&r) {
        let who = str_of(m, "strategy").to_string();
        assert!(m["vm"].is_string(), "{who}: vm");
        assert!(m["strategy"].is_string(), "{who}: strategy");
        for k in ["total_time_s", "downtime_s", "fault_stall_s", "postcopy_window_s"] {
            assert!(m[k].is_number(), "{who}: `{k}` must be a number, found {}", m[k]);
        }
        for k in ["bytes_sent", "pages_sent", "zero_pages_sent", "rounds", "remote_faults"] {
            assert!(m[k].is_u64(), "{who}: `{k}` must be a whole number, found {}", m[k]);
        }
        assert!(m["converged"].is_boolean(), "{who}: converged");
        assert!(m["stop_reason"].is_string(), "{who}: stop_reason");
        let tl = timeline(m);
        assert!(!tl.is_empty(), "{who}: the timeline has at least one entry");
        for t in tl {
            for k in ["round", "pages_sent", "bytes_sent", "dirty_pages_at_end"] {
                assert!(t[k].is_u64(), "{who}: timeline `{k}` must be a whole number, found {t}");
            }
            for k in ["start_s", "end_s", "bandwidth_bps"] {
                assert!(t[k].is_number(), "{who}: timeline `{k}` must be a number, found {t}");
            }
            assert!(f64_of(t, "end_s") >= f64_of(t, "start_s"), "{who}: a round ends after it starts: {t}");
        }
    }
}

/// An idle 1 GiB VM with `zero_fraction` of its pages zero.
fn zero_scenario(zero_fraction: f64) -> String {
    format!(
        r#"name = "zero"
[vm]
memory = "1 GiB"
zero_fraction = {zero_fraction:?}
device_state = "0 B"
[network]
bandwidth = "10 Gbit/s"
[workload]
kind = "idle"
[migration]
page_header = "0 B"
"#
    )
}

#[test]
fn zero_pages_cost_almost_nothing() {
    let dir = TempDir::new("zero");
    let pages = GIB / PAGE;
    for strategy in ["precopy", "postcopy", "cold"] {
        let full = run_one(&dir, &format!("z0-{strategy}"), &zero_scenario(0.0), &["--strategy", strategy]);
        let sparse = run_one(&dir, &format!("z9-{strategy}"), &zero_scenario(0.9), &["--strategy", strategy]);
        let (b0, b9) = (u64_of(&full, "bytes_sent") as f64, u64_of(&sparse, "bytes_sent") as f64);
        // With no header, a zero page costs nothing: 90% zero pages -> 90% fewer bytes.
        assert_rel(&format!("{strategy}: bytes with 90% zero pages / bytes with none"), b9 / b0, 0.1, 0.005);
        let zero = (pages as f64 * 0.9).round() as u64;
        assert_eq!(u64_of(&sparse, "zero_pages_sent"), zero, "{strategy}: zero_pages_sent");
        assert_eq!(u64_of(&full, "zero_pages_sent"), 0, "{strategy}: zero_pages_sent");
        assert_eq!(u64_of(&sparse, "pages_sent"), pages, "{strategy}: zero pages are still sent (as headers)");
    }
}

/// Two hosts joined by one 1 Gbit/s link; two idle 512 MiB VMs on `a`, migrations given as TOML.
fn shared_link(migrations: &str) -> String {
    format!(
        r#"name = "shared"
[vm]
memory = "512 MiB"
device_state = "0 B"
[workload]
kind = "idle"
[migration]
page_header = "0 B"
strategy = "precopy"

[[hosts]]
name = "a"
[[hosts]]
name = "b"

[[links]]
between = ["a", "b"]
bandwidth = "1 Gbit/s"
latency = "0 ms"

[[vms]]
name = "v1"
host = "a"

[[vms]]
name = "v2"
host = "a"

{migrations}
"#
    )
}

fn mig(vm: &str, start: &str) -> String {
    format!("[[migrations]]\nvm = \"{vm}\"\nto = \"b\"\nstart = \"{start}\"\n")
}

fn by_vm<'a>(r: &'a Value, vm: &str) -> &'a Value {
    migrations(r).iter().find(|m| m["vm"] == vm).unwrap_or_else(|| panic!("no migration of {vm} in {r}"))
}

#[test]
fn migrations_sharing_a_link_share_it_fairly() {
    let dir = TempDir::new("shared");
    let run = |name: &str, migs: String| {
        let p = dir.write(&format!("{name}.toml"), &shared_link(&migs));
        run_json(&dir, &p, &[])
    };
    // Alone: M/B = 2^29 / 125e6 = 4.295 s each.
    let alone = (512 * MIB) as f64 / GBIT;
    let a1 = run("alone1", mig("v1", "0 s"));
    let a2 = run("alone2", mig("v2", "0 s"));
    let t1 = f64_of(only(&a1), "total_time_s");
    let t2 = f64_of(only(&a2), "total_time_s");
    assert_rel("v1 alone", t1, alone, 1e-3);
    assert_rel("v2 alone", t2, alone, 1e-3);

    // Together from t = 0: each gets half the link, so each takes 2 M/B = 8.59 s.
    let both = run("both", format!("{}{}", mig("v1", "0 s"), mig("v2", "0 s")));
    assert_eq!(migrations(&both).len(), 2);
    let b1 = f64_of(by_vm(&both, "v1"), "total_time_s");
    let b2 = f64_of(by_vm(&both, "v2"), "total_time_s");
    assert!(b1 > t1 && b1 > t2, "v1 shares the link: {b1} s vs alone {t1} s / {t2} s");
    assert!(b2 > t1 && b2 > t2, "v2 shares the link: {b2} s vs alone {t1} s / {t2} s");
    assert_rel("v1 together", b1, 2.0 * alone, 0.01);
    assert_rel("v2 together", b2, 2.0 * alone, 0.01);

    // Staggered: v2 starts at s = 2 s. v1 runs alone for s, then shares: it ends at
    // s + 2 (M/B - s) = 2 M/B - s = 6.59 s, earlier than when both start together.
    let s = 2.0;
    let stag = run("stag", format!("{}{}", mig("v1", "0 s"), mig("v2", "2 s")));
    let s1 = f64_of(by_vm(&stag, "v1"), "total_time_s");
    assert!(s1 < b1, "with a staggered start v1 finishes earlier ({s1} s) than with both at once ({b1} s)");
    assert_rel("v1 staggered", s1, 2.0 * alone - s, 0.01);
    assert_abs("v2 start_s", f64_of(by_vm(&stag, "v2"), "start_s"), s, 1e-9);
    assert!(f64_of(by_vm(&stag, "v2"), "total_time_s") > t2, "v2 shares the link at its start");
}

#[test]
fn max_rounds_bounds_only_the_round_based_policies() {
    // docs/scenarios.md: max_rounds applies to the rounds and xen policies; QEMU (and the textbook
    // threshold rule) have no round limit, so a workload that never converges runs to max_time.
    let dir = TempDir::new("maxrounds");
    for policy in ["qemu", "threshold"] {
        let text = mmuncher(&format!("stop_policy = \"{policy}\"\nmax_rounds = 5\nmax_time = \"20 s\""));
        let m = run_one(&dir, &format!("mr-{policy}"), &text, &["--strategy", "precopy"]);
        assert!(u64_of(&m, "rounds") > 5, "{policy}: rounds {} should pass max_rounds", u64_of(&m, "rounds"));
        assert_eq!(str_of(&m, "stop_reason"), "max_time", "{policy}");
        assert!(!bool_of(&m, "completed"), "{policy}: cancelled at max_time");
    }
    for policy in ["rounds", "xen"] {
        let text = mmuncher(&format!("stop_policy = \"{policy}\"\nmax_rounds = 5\nmax_time = \"60 s\""));
        let m = run_one(&dir, &format!("mr-{policy}"), &text, &["--strategy", "precopy"]);
        assert_eq!(u64_of(&m, "rounds"), 5, "{policy}");
        assert_eq!(str_of(&m, "stop_reason"), "max_rounds", "{policy}");
        assert!(bool_of(&m, "completed"), "{policy}");
    }
}

#[test]
fn postcopy_finishes_when_a_fast_guest_has_all_its_pages() {
    // A guest at the fastest rate allowed (one access per ns) over a 16-page working set, on a slow
    // link: once those pages are in, the push of the rest takes ~16 s in which no access can fault.
    // Drawing 1.6e10 accesses one by one would not finish; the run must, with at most one fault per
    // working-set page.
    let dir = TempDir::new("pc-fast-guest");
    let wl = "kind = \"uniform\"\nwrite_rate = \"1000000000 pages/s\"\nworking_set = \"64 KiB\"";
    let text = postcopy_scenario(wl).replace("1 Gbit/s", "100 Mbit/s");
    let m = run_one(&dir, "pc-fast", &text, &[]);
    assert!(bool_of(&m, "completed"), "completed");
    assert_eq!(u64_of(&m, "pages_sent"), 256 * MIB / PAGE, "every page crosses once");
    let faults = u64_of(&m, "remote_faults");
    assert!((1..=16).contains(&faults), "faults {faults}: between 1 and the 16 working-set pages");
    assert!(f64_of(&m, "total_time_s") > 15.0, "the push of 192 MiB of non-zero pages at 100 Mbit/s takes > 15 s");
}

#[test]
fn each_precopy_round_reports_the_threshold_it_was_judged_against() {
    // The stop rule in numbers: pre-copy went on while the pages left after a sync were at or
    // above `stop_threshold_bytes`, and stopped at the first round that came in under it.
    let dir = TempDir::new("threshold-rows");
    for (policy, strict) in [("qemu", true), ("threshold", false), ("xen", true)] {
        let m =
            run_one(&dir, &format!("thr-{policy}"), BUSY, &["--strategy", "precopy", "--set", &format!("migration.stop_policy={policy}")]);
        assert!(bool_of(&m, "converged"), "{policy}: converged");
        let rows: Vec<&Value> = timeline(&m).iter().filter(|r| r["phase"] == "precopy").collect();
        assert!(rows.len() >= if policy == "qemu" { 2 } else { 1 }, "{policy}: rounds: {rows:?}");
        for (i, r) in rows.iter().enumerate() {
            let left = u64_of(r, "dirty_pages_at_end") as f64 * PAGE as f64;
            let t = r["stop_threshold_bytes"].as_f64().unwrap_or_else(|| panic!("{policy}: round {i} has no threshold: {r}"));
            let under = if strict { left < t } else { left <= t };
            assert_eq!(under, i == rows.len() - 1, "{policy}: round {i}: {left} B left against {t} B");
        }
        for r in timeline(&m).iter().filter(|r| r["phase"] != "precopy") {
            assert!(r["stop_threshold_bytes"].is_null(), "{policy}: only pre-copy rounds carry a threshold: {r}");
        }
    }
    // The `rounds` policy has no threshold.
    let m = run_one(
        &dir,
        "thr-rounds",
        BUSY,
        &["--strategy", "precopy", "--set", "migration.stop_policy=rounds", "--set", "migration.max_rounds=3"],
    );
    assert!(timeline(&m).iter().all(|r| r["stop_threshold_bytes"].is_null()));
}

#[test]
fn every_strategy_ends_by_max_time_whatever_the_link_or_the_setup() {
    // docs/model.md, section 11: a batch in flight is cut at max_time, so no run reports more than
    // max_time, however slow its link (one 4 KiB batch takes 9 h at 1 bit/s) or long its setup.
    let dir = TempDir::new("deadline");
    let wl = "kind = \"hotcold\"\nwrite_rate = \"2000 pages/s\"\nhot_set = \"16 MiB\"\nhot_share = 0.9";
    let cases = [("1 bit/s", "0 s"), ("100 Kbit/s", "0 s"), ("1 Gbit/s", "100000 h")];
    for (bw, setup) in cases {
        for strategy in ["precopy", "postcopy", "hybrid", "cold"] {
            let text = postcopy_scenario(wl)
                .replace("1 Gbit/s", bw)
                .replace("page_header = \"8 B\"", &format!("page_header = \"8 B\"\nmax_time = \"60 s\"\nsetup_time = \"{setup}\""));
            let m = run_one(&dir, &format!("dl-{strategy}-{}", bw.replace([' ', '/'], "")), &text, &["--strategy", strategy]);
            let what = format!("{strategy} at {bw}, setup {setup}: {m}");
            if strategy == "cold" && setup != "0 s" {
                // A cold copy has no setup: 256 MiB over 1 Gbit/s takes about 2 s.
                assert!(bool_of(&m, "completed"), "{what}");
                continue;
            }
            assert_eq!(str_of(&m, "stop_reason"), "max_time", "{what}");
            assert!(!bool_of(&m, "converged"), "{what}");
            assert_abs("total time (s)", f64_of(&m, "total_time_s"), 60.0, 1e-6);
            let in_postcopy = strategy == "postcopy" && bw == "100 Kbit/s";
            // Post-copy that got going ends with the VM at the destination and the rest at the
            // source; everything else is cancelled and the VM runs on at the source.
            assert_eq!(bool_of(&m, "completed"), in_postcopy, "{what}");
            if in_postcopy {
                assert_eq!(timeline(&m).last().expect("rows")["phase"], "postcopy (unfinished)", "{what}");
            }
            if strategy == "cold" || (strategy == "postcopy" && bw == "1 bit/s") {
                // Paused for the copy (or the switch), resumed at the source at max_time.
                assert_abs("downtime (s)", f64_of(&m, "downtime_s"), 60.0, 1e-6);
                assert_eq!(f64_of(&m, "postcopy_window_s"), 0.0, "{what}");
                assert_eq!(u64_of(&m, "stop_copy_bytes") + u64_of(&m, "precopy_bytes"), u64_of(&m, "bytes_sent"), "{what}");
            }
            // What crossed the link fits in 60 s of it (plus rounding of the cut batch).
            let link_bytes = 60.0
                * match bw {
                    "1 bit/s" => 1.0 / 8.0,
                    "100 Kbit/s" => 12500.0,
                    _ => 0.0,
                };
            assert!(u64_of(&m, "bytes_sent") as f64 <= link_bytes + 1.0, "{what}: bytes {}", u64_of(&m, "bytes_sent"));
        }
    }
}

#[test]
fn on_max_time_stop_begins_the_stop_and_copy_at_max_time_with_the_cut_batch_in_it() {
    let dir = TempDir::new("deadline-stop");
    let wl = "kind = \"hotcold\"\nwrite_rate = \"2000 pages/s\"\nhot_set = \"16 MiB\"\nhot_share = 0.9";
    let text = postcopy_scenario(wl)
        .replace("1 Gbit/s", "1 Mbit/s")
        .replace("page_header = \"8 B\"", "page_header = \"8 B\"\nmax_time = \"10 s\"\non_max_time = \"stop\"");
    let m = run_one(&dir, "dl-stop", &text, &["--strategy", "precopy"]);
    assert_eq!(str_of(&m, "stop_reason"), "max_time");
    assert!(bool_of(&m, "completed"), "forced to finish: {m}");
    let rows = timeline(&m);
    let last = rows.last().expect("rows");
    assert_eq!(last["phase"], "stop-and-copy");
    assert_abs("stop-and-copy start (s)", last["start_s"].as_f64().expect("start_s"), 10.0, 1e-6);
    // Every page arrives once at least: what the rounds sent plus the final copy covers memory.
    assert!(u64_of(&m, "pages_sent") >= 256 * MIB / PAGE, "pages {}", u64_of(&m, "pages_sent"));
}

#[test]
fn check_warns_when_a_run_would_be_long_and_not_otherwise() {
    // 100 VMs that never converge on a shared link, allowed 100 h: check times a short slice of the
    // run and scales it up to max_time.
    let bench = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/concurrent-link.toml");
    let o = migsim(["check".as_ref(), bench.as_os_str(), "--set".as_ref(), "migration.max_time=\"100 h\"".as_ref()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("warning:") && err.contains("max_time") && err.contains("100 h"), "{err}");
    assert!(stdout(&o).contains("[migration]"), "the resolved scenario is still printed");
    let db = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/db.toml");
    let o = migsim(["check".as_ref(), db.as_os_str()]);
    assert!(o.status.success() && !stderr(&o).contains("warning:"), "{}", stderr(&o));
}

/// Post-copy's guest skips the accesses that land where nothing is missing (`model::remote_access`)
/// when its law is known by blocks (hot/cold, Zipf). A one-part mix has the same law but is drawn
/// access by access: over many seeds both give the same faults and stalls (means within five
/// standard errors).
#[test]
fn postcopy_faults_follow_the_same_law_when_accesses_are_skipped() {
    let hotcold = "kind = \"hotcold\"\nwrite_rate = \"20000 pages/s\"\nread_rate = \"20000 pages/s\"\nworking_set = \"128 MiB\"\nhot_set = \"8 MiB\"\nhot_share = 0.8";
    let mix = "kind = \"mix\"\n[[workload.parts]]\nkind = \"hotcold\"\nwrite_rate = \"20000 pages/s\"\nread_rate = \"20000 pages/s\"\nworking_set = \"128 MiB\"\nhot_set = \"8 MiB\"\nhot_share = 0.8";
    let stats = |workload: &str| {
        let text = postcopy_scenario(workload);
        let (mut faults, mut stall) = (Vec::new(), Vec::new());
        for seed in 0..80 {
            let sc = migsim::input::from_str("pc.toml", "pc", &text, &[format!("seed={seed}")]).expect("a valid scenario");
            let m = &migsim::model::simulate(&sc).migrations[0];
            faults.push(m.remote_faults as f64);
            stall.push(m.fault_stall_s);
        }
        let ms = |v: &[f64]| {
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            (mean, (var / n).sqrt())
        };
        (ms(&faults), ms(&stall))
    };
    let zipf = "kind = \"zipf\"\nwrite_rate = \"20000 pages/s\"\nread_rate = \"20000 pages/s\"\nworking_set = \"128 MiB\"\nexponent = 0.9";
    let zipf_mix = "kind = \"mix\"\n[[workload.parts]]\nkind = \"zipf\"\nwrite_rate = \"20000 pages/s\"\nread_rate = \"20000 pages/s\"\nworking_set = \"128 MiB\"\nexponent = 0.9";
    for (skipped, drawn) in [(hotcold, mix), (zipf, zipf_mix)] {
        let (a, b) = (stats(skipped), stats(drawn));
        for ((ma, sa), (mb, sb), what) in [(a.0, b.0, "faults"), (a.1, b.1, "stall")] {
            assert!(ma > 0.0, "{what}: the guest must fault");
            let z = (ma - mb).abs() / (sa * sa + sb * sb).sqrt().max(1e-12);
            assert!(z < 5.0, "{what}: skipped {ma:.4} ± {sa:.4} against drawn one by one {mb:.4} ± {sb:.4}");
        }
    }
}
