//! A run is a pure function of the scenario and its seed, and its results land under --out.

mod common;
use common::*;
use serde_json::Value;

/// Random workloads of every kind across the strategies: uniform, hotcold, zipf in phases, with reads
/// (post-copy faults are random too).
const RANDOM: &str = r#"name = "random"
description = "random workloads for determinism"
seed = 3
[vm]
memory = "256 MiB"
zero_fraction = 0.2
[network]
bandwidth = "1 Gbit/s"
[workload]
kind = "phases"
[[workload.phases]]
duration = "1 s"
workload = { kind = "uniform", write_rate = "30000 pages/s", working_set = "64 MiB", read_rate = "5000 pages/s" }
[[workload.phases]]
duration = "500 ms"
workload = { kind = "hotcold", write_rate = "20000 pages/s", hot_set = "8 MiB", read_rate = "5000 pages/s" }
[[workload.phases]]
duration = "700 ms"
workload = { kind = "zipf", write_rate = "20000 pages/s", exponent = 1.1, read_rate = "5000 pages/s" }
[migration]
strategy = ["precopy", "postcopy", "hybrid", "cold"]
"#;

const UNIFORM: &str = r#"name = "uniform"
[vm]
memory = "256 MiB"
[network]
bandwidth = "1 Gbit/s"
[workload]
kind = "uniform"
write_rate = "20000 pages/s"
working_set = "64 MiB"
[migration]
strategy = "precopy"
stop_policy = "threshold"
"#;

#[test]
fn same_scenario_and_seed_give_byte_identical_json() {
    let dir = TempDir::new("det-same");
    let p = dir.write("random.toml", RANDOM);
    let a = run_json_text(&dir, &p, &[]);
    let b = run_json_text(&dir, &p, &[]);
    assert!(!a.is_empty());
    assert_eq!(a, b, "two runs of the same scenario and seed differ");
    let c = run_json_text(&dir, &p, &["--seed", "11"]);
    let d = run_json_text(&dir, &p, &["--seed", "11"]);
    assert_eq!(c, d, "two runs with --seed 11 differ");
}

#[test]
fn seed_flag_equals_seed_in_the_file() {
    let dir = TempDir::new("det-flag");
    let p = dir.write("a/random.toml", RANDOM);
    let q = dir.write("b/random.toml", &RANDOM.replace("seed = 3", "seed = 9"));
    let a = run_json_text(&dir, &p, &["--seed", "9"]);
    let b = run_json_text(&dir, &q, &[]);
    assert_eq!(a, b, "--seed 9 must give the same run as seed = 9 in the file");
}

#[test]
fn a_different_seed_changes_a_uniform_workload() {
    let dir = TempDir::new("det-seed");
    let p = dir.write("uniform.toml", UNIFORM);
    let a = only(&run_json(&dir, &p, &["--seed", "1"])).clone();
    let b = only(&run_json(&dir, &p, &["--seed", "2"])).clone();
    assert!(bool_of(&a, "completed") && bool_of(&b, "completed"));
    let differs = u64_of(&a, "bytes_sent") != u64_of(&b, "bytes_sent") || f64_of(&a, "total_time_s") != f64_of(&b, "total_time_s");
    assert!(differs, "seeds 1 and 2 gave the same bytes_sent and total_time_s:\n{a}\n{b}");
}

#[test]
fn results_are_written_under_out_and_name() {
    let dir = TempDir::new("det-out");
    let p = dir.write("file-stem.toml", RANDOM);
    let text = run_json_text(&dir, &p, &[]);
    // The folder is named after the scenario's `name`, not the file.
    let folder = dir.out().join("random");
    let run_json_path = folder.join("run.json");
    let timeline_path = folder.join("timeline.csv");
    assert!(run_json_path.is_file(), "{} missing", run_json_path.display());
    assert!(timeline_path.is_file(), "{} missing", timeline_path.display());

    // run.json holds the same report as stdout.
    let stdout_v: Value = serde_json::from_str(&text).expect("stdout JSON");
    let file_v: Value = serde_json::from_str(&std::fs::read_to_string(&run_json_path).unwrap()).expect("run.json is JSON");
    assert_eq!(file_v, stdout_v, "run.json differs from the JSON on stdout");
    assert_eq!(migrations(&file_v).len(), 4);

    // timeline.csv: a header and one row per timeline entry of every migration.
    let csv = std::fs::read_to_string(&timeline_path).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().expect("timeline.csv has a header");
    for col in ["vm", "strategy", "round", "start_s", "end_s", "pages_sent", "bytes_sent", "dirty_pages_at_end", "bandwidth_bps"] {
        assert!(header.split(',').any(|h| h == col), "timeline.csv header lacks {col}: {header}");
    }
    let rows = lines.filter(|l| !l.is_empty()).count();
    let entries: usize = migrations(&file_v).iter().map(|m| m["timeline"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(rows, entries, "timeline.csv rows vs timeline entries in run.json");

    // Nothing else was written next to them but these files and the timeline chart (no temporary leftovers).
    let mut names: Vec<String> =
        std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["run.json", "timeline.csv", "timeline.png"]);
}

#[test]
fn no_write_prints_the_same_json_and_writes_nothing() {
    let dir = TempDir::new("det-nowrite");
    let p = dir.write("uniform.toml", UNIFORM);
    let with_files = run_json_text(&dir, &p, &[]);
    // Run from an empty folder: the default --out (results/) must not appear there.
    let cwd = dir.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_migsim"))
        .args(["run", p.to_str().unwrap(), "--format", "json", "--no-write"])
        .current_dir(&cwd)
        .output()
        .expect("run migsim");
    assert!(o.status.success(), "{}", stderr(&o));
    let a: Value = serde_json::from_str(&with_files).unwrap();
    let b: Value = serde_json::from_str(&stdout(&o)).expect("stdout JSON");
    assert_eq!(a, b, "--no-write prints the report a normal run prints");
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "--no-write wrote something");
}

#[test]
fn quiet_prints_nothing_but_still_writes_files() {
    let dir = TempDir::new("det-quiet");
    let p = dir.write("uniform.toml", UNIFORM);
    let out = dir.out();
    let o = migsim(["run", p.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "--quiet printed: {}", stdout(&o));
    assert!(out.join("uniform").join("run.json").is_file());
    assert!(out.join("uniform").join("timeline.csv").is_file());
}
