//! Golden tests against closed forms. Each expected figure is computed from its formula (shown in
//! the comments) and the simulator's result must match it within a tolerance.
//!
//! Conventions (validation/analytic/README.md): one pipelined stream at bandwidth B, latency L paid
//! once; total = start to resume at the destination; downtime = pause at the source to resume.

mod common;
use common::*;

/// The geometric pre-copy case: 4 GiB at 1 Gbit/s, a sequential writer over all memory at 30 MiB/s,
/// no latency, no zero pages, no device state, no page header.
fn geometric(stop_policy: &str) -> String {
    format!(
        r#"name = "geo-{stop_policy}"
[vm]
memory = "4 GiB"
page_size = "4 KiB"
zero_fraction = 0
device_state = "0 B"

[network]
bandwidth = "1 Gbit/s"
latency = "0 ms"

[workload]
kind = "sequential"
write_rate = "30 MiB/s"

[migration]
strategy = "precopy"
stop_policy = "{stop_policy}"
downtime_limit = "300 ms"
page_header = "0 B"
setup_time = "0 ms"
resume_time = "0 ms"
"#
    )
}

#[test]
fn geometric_series_with_threshold_policy() {
    let dir = TempDir::new("geo-threshold");
    let m = run_one(&dir, "geo", &geometric("threshold"), &[]);

    // M = 4 GiB, B = 1 Gbit/s = 125e6 B/s, D = 30 MiB/s, lambda = D/B = 0.25165824.
    // The writer stays behind the scan, so round i sends V_i = M lambda^i.
    // Threshold policy: after round i, stop when V_(i+1) <= B x 300 ms = 37.5e6 B.
    let mem = (4 * GIB) as f64;
    let b = GBIT;
    let d = (30 * MIB) as f64;
    let lambda = d / b;
    let budget = b * 0.300;
    // n = the first round whose volume V_n fits the budget: rounds 0..n are live, round n is the
    // stop-and-copy.
    let mut n = 1;
    while mem * lambda.powi(n) > budget {
        n += 1;
    }
    // V_4 = 17.2e6 B <= 37.5e6 B < V_3 = 68.5e6 B: n = 4 live rounds (0..=3), round 4 is the stop-and-copy.
    assert_eq!(n, 4, "closed form sanity check");
    // bytes = M (1 - lambda^(n+1)) / (1 - lambda) = 5733519443 B = 5467.9 MiB
    let bytes = mem * (1.0 - lambda.powi(n + 1)) / (1.0 - lambda);
    assert_rel("closed form bytes (MiB)", bytes / MIB as f64, 5467.9, 1e-4);
    // total = bytes / B = 45.868 s (latency 0)
    let total = bytes / b;
    // downtime = V_n / B = 0.1378 s
    let downtime = mem * lambda.powi(n) / b;

    assert_rel("bytes_sent", u64_of(&m, "bytes_sent") as f64, bytes, 0.015);
    assert_rel("bytes_sent in MiB vs 5468", u64_of(&m, "bytes_sent") as f64 / MIB as f64, 5468.0, 0.015);
    assert_rel("total_time_s", f64_of(&m, "total_time_s"), total, 0.015);
    assert_rel("total_time_s vs 45.9 s", f64_of(&m, "total_time_s"), 45.9, 0.015);
    assert_rel("downtime_s", f64_of(&m, "downtime_s"), downtime, 0.015);
    assert_rel("downtime_s vs 138 ms", f64_of(&m, "downtime_s"), 0.138, 0.015);
    assert_eq!(u64_of(&m, "rounds"), n as u64, "rounds (live passes)");
    assert!(bool_of(&m, "converged"));
    assert!(bool_of(&m, "completed"));
    assert_eq!(str_of(&m, "stop_reason"), "converged");
}

#[test]
fn geometric_series_with_qemu_policy_lands_just_under_the_budget() {
    let dir = TempDir::new("geo-qemu");
    let m = run_one(&dir, "geo", &geometric("qemu"), &[]);
    // QEMU stops as soon as what is pending < measured bandwidth x downtime limit, checking all the
    // time (not only at the end of a pass), so the downtime comes close to the 300 ms budget but
    // stays under it.
    let dt = f64_of(&m, "downtime_s");
    assert!(dt < 0.300, "downtime {dt} s must stay under the 300 ms limit");
    assert!(dt > 0.200, "downtime {dt} s should come close to the 300 ms limit");
    assert!(bool_of(&m, "converged"));
    assert!(bool_of(&m, "completed"));
    assert_eq!(str_of(&m, "stop_reason"), "converged");
    // Still the same amount of work as the geometric series, give or take a round's tail.
    assert_rel("total_time_s", f64_of(&m, "total_time_s"), 45.87, 0.015);
}

fn idle(stop_policy: &str) -> String {
    format!(
        r#"name = "idle-{stop_policy}"
[vm]
memory = "1 GiB"
zero_fraction = 0
device_state = "0 B"

[network]
bandwidth = "1 Gbit/s"
latency = "1 ms"

[workload]
kind = "idle"

[migration]
strategy = "precopy"
stop_policy = "{stop_policy}"
page_header = "0 B"
"#
    )
}

#[test]
fn idle_precopy_takes_memory_over_bandwidth_plus_latency() {
    // Nothing is ever dirtied: round 0 sends all of memory and the stop-and-copy sends nothing more
    // (no dirty pages, no device state). Whatever is left of round 0 when the policy stops just goes
    // on in the same stream, so the stop adds nothing:
    //   total = M/B + L = 2^30 / 125e6 + 0.001 = 8.590934592 s
    let mem = GIB as f64;
    let latency = 0.001;
    let total = mem / GBIT + latency;
    let dir = TempDir::new("idle");
    for policy in ["threshold", "qemu"] {
        let m = run_one(&dir, &format!("idle-{policy}"), &idle(policy), &[]);
        assert_rel(&format!("{policy}: total_time_s"), f64_of(&m, "total_time_s"), total, 1e-3);
        // bytes = M (no header, no zero pages, no device state)
        assert_eq!(u64_of(&m, "bytes_sent"), GIB, "{policy}: bytes_sent");
        assert_eq!(u64_of(&m, "pages_sent"), GIB / (4 * KIB), "{policy}: pages_sent");
        assert!(bool_of(&m, "converged"), "{policy}: converged");
        assert!(bool_of(&m, "completed"), "{policy}: completed");
    }
    // The textbook policy stops at the end of round 0 with nothing dirty: the final copy is empty and
    // the downtime is the latency alone; rounds = 1 (the bulk copy).
    let m = run_one(&dir, "idle-threshold-again", &idle("threshold"), &[]);
    assert_rel("threshold: downtime_s", f64_of(&m, "downtime_s"), latency, 1e-3);
    assert_eq!(u64_of(&m, "rounds"), 1);
}

#[test]
fn idle_postcopy_pushes_memory_once_after_the_device_state() {
    // Post-copy: pause at t = 0, send the device state, resume at the destination, push every page.
    //   downtime = DS/B + L = 262144/125e6 + 1e-4 = 0.002197152 s
    //   total    = (DS + M)/B + L = (262144 + 2^30)/125e6 + 1e-4 = 8.592131744 s
    let text = r#"
[vm]
memory = "1 GiB"
device_state = "256 KiB"
[network]
bandwidth = "1 Gbit/s"
latency = "0.1 ms"
[workload]
kind = "idle"
[migration]
strategy = "postcopy"
page_header = "0 B"
"#;
    let dir = TempDir::new("pc-idle");
    let m = run_one(&dir, "pc-idle", text, &[]);
    let (mem, ds, l) = (GIB as f64, (256 * KIB) as f64, 1e-4);
    assert_rel("downtime_s", f64_of(&m, "downtime_s"), ds / GBIT + l, 1e-6);
    assert_rel("total_time_s", f64_of(&m, "total_time_s"), (ds + mem) / GBIT + l, 1e-6);
    assert_eq!(u64_of(&m, "bytes_sent"), GIB + 256 * KIB);
    assert_eq!(u64_of(&m, "rounds"), 0);
    assert_eq!(u64_of(&m, "remote_faults"), 0);
}

#[test]
fn cold_total_equals_downtime_equals_everything_over_bandwidth() {
    // Cold: pause at t = 0, send memory and device state, resume. The workload does not matter.
    //   total = downtime = (M + DS)/B + L = (2^32 + 262144)/1.25e9 + 1e-4 = 3.436283552 s
    let text = r#"
[vm]
memory = "4 GiB"
zero_fraction = 0
device_state = "256 KiB"
[network]
bandwidth = "10 Gbit/s"
latency = "0.1 ms"
[workload]
kind = "uniform"
write_rate = "50 MiB/s"
working_set = "1 GiB"
[migration]
strategy = "cold"
page_header = "0 B"
"#;
    let dir = TempDir::new("cold");
    let m = run_one(&dir, "cold", text, &[]);
    let want = ((4 * GIB + 256 * KIB) as f64) / (10.0 * GBIT) + 1e-4;
    assert_rel("cold total_time_s", f64_of(&m, "total_time_s"), want, 1e-6);
    assert_rel("cold downtime_s", f64_of(&m, "downtime_s"), want, 1e-6);
    assert_abs("cold total == downtime", f64_of(&m, "total_time_s"), f64_of(&m, "downtime_s"), 1e-9);
    assert_eq!(u64_of(&m, "bytes_sent"), 4 * GIB + 256 * KIB);
    assert_eq!(u64_of(&m, "pages_sent"), 4 * GIB / (4 * KIB));
    assert_eq!(u64_of(&m, "rounds"), 0);
    assert!(bool_of(&m, "completed"));
}

#[test]
fn cold_with_zero_pages_and_headers() {
    // 1 GiB of 4 KiB pages, half of them zero, an 8 B header per page:
    //   bytes = nz (4096 + 8) + z 8 + DS = 131072 x 4104 + 131072 x 8 + 262144 = 539230208 B
    //   total = downtime = bytes / B + L = 539230208 / 125e6 + 1e-4 = 4.313941664 s
    let text = r#"
[vm]
memory = "1 GiB"
zero_fraction = 0.5
device_state = "256 KiB"
[network]
bandwidth = "1 Gbit/s"
latency = "0.1 ms"
[migration]
strategy = "cold"
page_header = "8 B"
"#;
    let dir = TempDir::new("cold-zero");
    let m = run_one(&dir, "cold-zero", text, &[]);
    let pages = GIB / (4 * KIB);
    let z = pages / 2;
    let nz = pages - z;
    let bytes = nz * (4096 + 8) + z * 8 + 256 * KIB;
    assert_eq!(u64_of(&m, "bytes_sent"), bytes);
    assert_eq!(u64_of(&m, "zero_pages_sent"), z);
    let want = bytes as f64 / GBIT + 1e-4;
    assert_rel("total_time_s", f64_of(&m, "total_time_s"), want, 1e-6);
    assert_rel("downtime_s", f64_of(&m, "downtime_s"), want, 1e-6);
}

/// SimGrid's stop rule in closed form (issue 3): with fluid dirtying and no working-set cap, round k
/// (k >= 1) sends what round k-1 dirtied, D d_(k-1) bytes, in d_k seconds (latency included), so the
/// measured bandwidth is D d_(k-1) / d_k and the rule "dirtied during the round <= 0.03 s x bandwidth"
/// becomes d_k^2 <= 0.03 d_(k-1). The run must stop after exactly the first such round.
#[test]
fn simgrid_policy_stops_at_the_first_round_with_dk_squared_under_003_dk_minus_1() {
    let dir = TempDir::new("simgrid-closed-form");
    for (rate, latency) in [("12.5 MB/s", "0.1 ms"), ("50 MB/s", "0.1 ms"), ("80 MB/s", "1 ms"), ("100 MB/s", "0.1 ms")] {
        let text = format!(
            r#"name = "sg"
[vm]
memory = "1 GiB"
zero_fraction = 0
device_state = "0 B"
[network]
bandwidth = "1 Gbit/s"
latency = "{latency}"
[workload]
kind = "fluid"
write_rate = "{rate}"
[migration]
strategy = "precopy"
stop_policy = "simgrid"
downtime_limit = "30 ms"
max_time = "600 s"
page_header = "0 B"
"#
        );
        let m = run_one(&dir, "sg.toml", &text, &[]);
        let rows: Vec<f64> = m["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["phase"] == "precopy")
            .map(|r| r["end_s"].as_f64().unwrap() - r["start_s"].as_f64().unwrap())
            .collect();
        assert!(rows.len() >= 2, "{rate}: expected at least two live rounds, got {rows:?}");
        if !bool_of(&m, "converged") {
            // Only the 100 % case may fail to converge; then no round may meet the rule.
            assert_eq!(rate, "100 MB/s");
        }
        let last = rows.len() - 1;
        for k in 1..rows.len() {
            let (dk, dprev) = (rows[k], rows[k - 1]);
            let meets = dk * dk <= 0.03 * dprev;
            let near = (dk * dk - 0.03 * dprev).abs() <= 1e-6 * dprev;
            if near {
                continue; // fluid rounding (floor of D d) may tip a tie either way
            }
            if k == last && bool_of(&m, "converged") {
                assert!(meets, "{rate} {latency}: stopped after round {k} with d_k = {dk}, d_(k-1) = {dprev}");
            } else {
                assert!(!meets, "{rate} {latency}: round {k} met d_k^2 <= 0.03 d_(k-1) ({dk}, {dprev}) but the run went on");
            }
        }
    }
}

#[test]
fn validate_prints_the_same_rows_as_csv_and_json() {
    // The analytic set through the real command: it passes, and its CSV and JSON carry the same rows.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/validation");
    let run = |format: &str| {
        let o = migsim(["validate", dir, "--sets", "analytic", "--format", format]);
        assert!(o.status.success(), "validate --format {format}: {}", stderr(&o));
        stdout(&o)
    };
    let csv = run("csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("set,case,metric,reference,simulated,error,ok"));
    let csv_rows = lines.filter(|l| !l.is_empty()).count();
    let json: serde_json::Value = serde_json::from_str(&run("json")).expect("validate --format json prints JSON");
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), csv_rows);
    assert!(rows.iter().all(|r| r["set"] == "analytic" && r["ok"] == true), "the closed forms all hold");
    let sets = json["sets"].as_array().expect("sets");
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0]["passed"], true);
    assert!(run("table").contains("== analytic"), "the table has the set's summary");
}

#[test]
fn validate_compares_postcopy_faults_only_where_there_was_post_copy() {
    // The real-QEMU set shows QEMU's page requests and blocked time beside the model's remote_faults
    // and fault_stall_s, for the runs with a post-copy phase only, as information. (The set misses
    // issue 23's time and downtime targets, docs/validation.md, so validate exits non-zero; its
    // bytes and convergence targets hold.)
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/validation");
    let o = migsim(["validate", dir, "--sets", "qemu", "--format", "json"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = json["rows"].as_array().unwrap();
    let cases_with = |metric: &str| -> Vec<String> {
        rows.iter().filter(|r| r["metric"] == metric).map(|r| r["case"].as_str().unwrap().to_string()).collect()
    };
    let requests = cases_with("postcopy_requests");
    assert_eq!(requests, cases_with("dest_blocktime_s"));
    assert!(requests.len() >= 10, "{requests:?}");
    assert!(requests.iter().all(|c| c.contains("postcopy") || c.contains("hybrid")), "{requests:?}");
    let all: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["case"].as_str().unwrap()).collect();
    let with_pc = all.iter().filter(|c| c.contains("postcopy") || c.contains("hybrid")).count();
    assert_eq!(requests.len(), with_pc, "every post-copy and hybrid run has the rows");
    let lines: Vec<&str> = json["sets"][0]["lines"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    for metric in ["bytes_sent", "converged"] {
        let line = lines.iter().find(|l| l.starts_with(&format!("qemu: {metric}:"))).expect("a summary line");
        assert!(line.ends_with(": ok"), "{line}");
    }
}

/// `migsim validate` with no `--sets`: the mechanism set's documented misses are KNOWN (still listed
/// with their figures) and the command succeeds; the same set with a documented figure tightened
/// below what the model reaches fails, so CI still notices a miss getting worse.
#[test]
fn validate_marks_documented_misses_known_and_fails_on_worse() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/validation");
    let o = migsim(["validate", root]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}\n{}", out, stderr(&o));
    assert!(out.contains("== qemu-mechanisms (24 cases): PASS, with") && out.contains("KNOWN miss"), "{out}");
    assert!(out.contains("MISSED, KNOWN (documented:") && !out.contains(": FAIL"), "{out}");
    // A copy of the set whose `downtime_s` entry asks for more runs within tolerance than the model gets.
    let dir = TempDir::new("validate-known");
    let src = std::path::Path::new(root).join("qemu-mechanisms");
    let copy = dir.path().join("qemu-mechanisms");
    std::fs::create_dir_all(&copy).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
    }
    let set = std::fs::read_to_string(copy.join("set.toml")).unwrap();
    std::fs::write(copy.join("set.toml"), set.replace("downtime_s = { within = 16 }", "downtime_s = { within = 24 }")).unwrap();
    let o = migsim(["validate", dir.path().to_str().unwrap()]);
    assert!(!o.status.success(), "a miss worse than documented must fail");
    assert!(stdout(&o).contains("== qemu-mechanisms (24 cases): FAIL") && stdout(&o).contains("worse than documented"), "{}", stdout(&o));
}
