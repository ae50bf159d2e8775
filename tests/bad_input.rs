//! Mistakes in scenarios and on the command line, through the real binary: exit status 2, one clear
//! message naming the key (and file:line:col when the mistake is in the file), never a panic.
//! And `migsim check`, whose output reads back to itself.

mod common;
use common::*;
use std::path::Path;
use std::process::Output;

/// A valid short-form scenario; the tests below break one thing in it.
const GOOD: &str = r#"name = "good"
seed = 4
[vm]
memory = "1 GiB"
[network]
bandwidth = "1 Gbit/s"
[workload]
kind = "uniform"
write_rate = "1000 pages/s"
"#;

/// Checks shared by every bad input: status 2, no panic, no backtrace hint, no results written.
#[track_caller]
fn assert_input_error(o: &Output, dir: &TempDir) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit status must be 2 for bad input; stderr:\n{err}");
    assert!(!err.contains("panicked"), "panic on bad input:\n{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "backtrace hint on bad input:\n{err}");
    assert!(!err.trim().is_empty(), "no message on stderr");
    assert!(!dir.out().exists(), "nothing may be written for bad input");
    err
}

/// Write `text` and run both `migsim run` and `migsim check` on it (with `extra` flags, which both
/// accept); both must fail as bad input. Returns the file's path and the message of `run`.
fn bad(dir: &TempDir, text: &str, extra: &[&str]) -> (String, String) {
    let p = dir.write("bad.toml", text);
    let path = p.display().to_string();
    let out = dir.out().display().to_string();
    let mut run = vec!["run", path.as_str(), "--out", out.as_str()];
    run.extend_from_slice(extra);
    let o = migsim(&run);
    let err = assert_input_error(&o, dir);
    let mut check = vec!["check", path.as_str()];
    check.extend_from_slice(extra);
    let oc = migsim(&check);
    let err_check = assert_input_error(&oc, dir);
    assert_eq!(err, err_check, "run and check report the same mistake");
    (path, err)
}

/// Assert the message names `key` (as `key`) and points at `line:col` of the file.
#[track_caller]
fn assert_names(err: &str, path: &str, key: &str, line: usize, col: usize) {
    assert!(err.contains(&format!("`{key}`")), "message must name the key `{key}`:\n{err}");
    let pos = format!("{path}:{line}:{col}:");
    assert!(err.contains(&pos), "message must point at {pos}\n{err}");
}

/// Assert the message names `key` and carries some file:line:col.
#[track_caller]
fn assert_names_somewhere(err: &str, path: &str, key: &str) {
    assert!(err.contains(&format!("`{key}`")), "message must name the key `{key}`:\n{err}");
    let rest = err.split_once(&format!("{path}:")).unwrap_or_else(|| panic!("message must start with {path}:line:col\n{err}")).1;
    let mut parts = rest.splitn(3, ':');
    let line = parts.next().unwrap_or("");
    let col = parts.next().unwrap_or("");
    assert!(
        line.parse::<usize>().is_ok() && col.parse::<usize>().is_ok(),
        "message must carry {path}:line:col, found {path}:{line}:{col}\n{err}"
    );
}

#[test]
fn unknown_key_suggests_the_nearest() {
    let dir = TempDir::new("bad-typo");
    let (path, err) = bad(&dir, &GOOD.replace("bandwidth", "bandwith"), &[]);
    assert_names(&err, &path, "network.bandwith", 6, 1);
    assert!(err.contains("did you mean `bandwidth`"), "{err}");
}

#[test]
fn wrong_type() {
    let dir = TempDir::new("bad-type");
    let (path, err) = bad(&dir, &GOOD.replace("memory = \"1 GiB\"", "memory = 5"), &[]);
    assert_names(&err, &path, "vm.memory", 4, 1);
}

#[test]
fn unparseable_unit() {
    let dir = TempDir::new("bad-unit");
    let (path, err) = bad(&dir, &GOOD.replace("\"1 GiB\"", "\"8 Gib\""), &[]);
    assert_names(&err, &path, "vm.memory", 4, 1);
    assert!(err.contains("Gib"), "the message quotes the bad unit:\n{err}");
}

#[test]
fn zero_bandwidth() {
    let dir = TempDir::new("bad-zero-bw");
    let (path, err) = bad(&dir, &GOOD.replace("\"1 Gbit/s\"", "\"0 Gbit/s\""), &[]);
    assert_names(&err, &path, "network.bandwidth", 6, 1);
}

#[test]
fn negative_seed() {
    let dir = TempDir::new("bad-neg-seed");
    let (path, err) = bad(&dir, &GOOD.replace("seed = 4", "seed = -1"), &[]);
    assert_names(&err, &path, "seed", 2, 1);
}

#[test]
fn write_rate_beyond_the_clock_step() {
    // Above one page per nanosecond the post-copy guest's accesses would share instants.
    let dir = TempDir::new("bad-rate-max");
    let (path, err) = bad(&dir, &GOOD.replace("1000 pages/s", "2e9 pages/s"), &[]);
    assert_names(&err, &path, "workload.write_rate", 9, 1);
    assert!(err.contains("1e9 pages/s"), "names the limit: {err}");
}

#[test]
fn kind_changed_by_set_explains_how_to_replace_the_table() {
    let dir = TempDir::new("bad-kind-set");
    let text = GOOD.replace("kind = \"uniform\"", "kind = \"hotcold\"\nhot_set = \"64 MiB\"");
    let (_, err) = bad(&dir, &text, &["--set", "workload.kind=uniform"]);
    assert!(err.contains("`workload.hot_set`") && err.contains("--set 'workload={ kind = \"uniform\""), "{err}");
    // The replacement it suggests works.
    let p = dir.write("hot.toml", &text);
    let o = migsim(["check", p.to_str().unwrap(), "--set", "workload={ kind = \"uniform\", write_rate = \"1000 pages/s\" }"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("kind = \"uniform\"") && !stdout(&o).contains("hot_set"), "{}", stdout(&o));
}

#[test]
fn negative_duration() {
    let dir = TempDir::new("bad-neg-dur");
    let text = GOOD.replace("bandwidth = \"1 Gbit/s\"", "bandwidth = \"1 Gbit/s\"\nlatency = \"-5 ms\"");
    let (path, err) = bad(&dir, &text, &[]);
    assert_names(&err, &path, "network.latency", 7, 1);
}

#[test]
fn memory_not_a_whole_number_of_pages() {
    let dir = TempDir::new("bad-pages");
    let (path, err) = bad(&dir, &GOOD.replace("\"1 GiB\"", "\"1000 B\""), &[]);
    assert_names_somewhere(&err, &path, "vm.memory");
    assert!(err.contains("page"), "{err}");
}

#[test]
fn page_size_not_a_power_of_two() {
    let dir = TempDir::new("bad-pagesize");
    let (path, err) = bad(&dir, &GOOD.replace("memory = \"1 GiB\"", "memory = \"1 GiB\"\npage_size = \"3 KiB\""), &[]);
    assert_names_somewhere(&err, &path, "vm.page_size");
    assert!(err.contains("power of two"), "{err}");
}

#[test]
fn checks_after_parsing_point_at_the_key_line() {
    // scenario.rs build_vm reports these with the top-level reader, which does not hold `memory` or
    // `page_size`, so the position falls back to the root table (1:1).
    let dir = TempDir::new("bad-pos");
    let (path, err) = bad(&dir, &GOOD.replace("\"1 GiB\"", "\"1000 B\""), &[]);
    assert_names(&err, &path, "vm.memory", 4, 1);
    let (path, err) = bad(&dir, &GOOD.replace("memory = \"1 GiB\"", "memory = \"1 GiB\"\npage_size = \"3 KiB\""), &[]);
    assert_names(&err, &path, "vm.page_size", 5, 1);
}

const FULL: &str = r#"name = "full"
[[hosts]]
name = "a"
[[hosts]]
name = "b"
[[links]]
between = ["a", "b"]
bandwidth = "1 Gbit/s"
[[vms]]
name = "v"
host = "c"
memory = "1 GiB"
[[migrations]]
vm = "v"
to = "b"
"#;

#[test]
fn vm_on_a_missing_host() {
    let dir = TempDir::new("bad-host");
    let (path, err) = bad(&dir, FULL, &[]);
    assert_names(&err, &path, "vms.0.host", 11, 1);
    assert!(err.contains("\"c\""), "the message names the missing host:\n{err}");
    // The same file with the host fixed is fine.
    let p = dir.write("ok.toml", &FULL.replace("host = \"c\"", "host = \"a\""));
    let o = migsim(["check", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn vm_migrated_twice() {
    // A VM migrates at most once per scenario (QEMU refuses a second migrate while one runs).
    let dir = TempDir::new("bad-twice");
    let text = FULL.replace("host = \"c\"", "host = \"a\"") + "[[migrations]]\nvm = \"v\"\nto = \"b\"\nstart = \"1 s\"\n";
    let (path, err) = bad(&dir, &text, &[]);
    assert_names(&err, &path, "migrations.1.vm", 17, 1);
    assert!(err.contains("migration 1"), "the message names the first migration:\n{err}");
}

#[test]
fn invalid_toml_syntax() {
    let dir = TempDir::new("bad-syntax");
    let (path, err) = bad(&dir, &GOOD.replace("[vm]", "[vm"), &[]);
    assert!(err.contains(&format!("{path}:3:")), "message must point at line 3:\n{err}");
    assert!(err.contains("TOML"), "{err}");
}

#[test]
fn bad_value_in_set_names_the_override() {
    let dir = TempDir::new("bad-set");
    let (_, err) = bad(&dir, GOOD, &["--set", "network.bandwidth=fast"]);
    assert!(err.contains("--set"), "the message must say the value came from --set:\n{err}");
    assert!(err.contains("network.bandwidth=fast"), "{err}");
    assert!(err.contains("`network.bandwidth`"), "{err}");
}

#[test]
fn missing_file() {
    let dir = TempDir::new("bad-missing");
    let p = dir.path().join("no-such-file.toml");
    let path = p.display().to_string();
    let out = dir.out().display().to_string();
    for args in [vec!["run", path.as_str(), "--out", out.as_str()], vec!["check", path.as_str()]] {
        let o = migsim(&args);
        let err = assert_input_error(&o, &dir);
        assert!(err.contains(&path), "the message names the file:\n{err}");
    }
}

#[test]
fn unknown_strategy_name() {
    let dir = TempDir::new("bad-strategy");
    // On the command line.
    let p = dir.write("good.toml", GOOD);
    let out = dir.out().display().to_string();
    let o = migsim(["run", p.to_str().unwrap(), "--strategy", "fastcopy", "--out", out.as_str()]);
    let err = assert_input_error(&o, &dir);
    assert!(err.contains("fastcopy") && err.contains("--strategy"), "{err}");
    // In the file.
    let text = format!("{GOOD}[migration]\nstrategy = \"prcopy\"\n");
    let (path, err) = bad(&dir, &text, &[]);
    assert_names(&err, &path, "migration.strategy", 11, 1);
    assert!(err.contains("did you mean \"precopy\""), "{err}");
}

#[test]
fn unknown_workload_kind_suggests_the_nearest() {
    let dir = TempDir::new("bad-kind");
    let (path, err) = bad(&dir, &GOOD.replace("\"uniform\"", "\"unifrom\""), &[]);
    assert_names(&err, &path, "workload.kind", 8, 1);
    assert!(err.contains("did you mean \"uniform\""), "{err}");
}

/// `migsim check FILE` must succeed; its stdout.
fn check_ok(p: &Path) -> String {
    let o = migsim(["check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "check {} failed:\n{}", p.display(), stderr(&o));
    stdout(&o)
}

const RICH: &str = r#"name = "rich"
description = "every kind of value"
seed = 7
[vm]
memory = "2 GiB"
zero_fraction = 0.1
[network]
bandwidth = "10 Gbit/s"
latency = "0.5 ms"
[workload]
kind = "phases"
[[workload.phases]]
duration = "10 s"
workload = { kind = "hotcold", write_rate = "50 MiB/s", working_set = "1 GiB", hot_set = "128 MiB", hot_share = 0.8 }
[[workload.phases]]
duration = "5 s"
workload = { kind = "zipf", write_rate = "3000 pages/s", exponent = 1.2, read_rate = "100 pages/s" }
[migration]
strategy = ["precopy", "hybrid"]
stop_policy = "xen"
max_bandwidth = "3 Gbit/s"
switchover_bandwidth = "10 Gbit/s"
downtime_limit = "250 ms"
"#;

const FULL_OK: &str = r#"name = "full-ok"
[vm]
memory = "512 MiB"
[[hosts]]
name = "a"
[[hosts]]
name = "b"
[[hosts]]
name = "c"
[[links]]
between = ["a", "b"]
bandwidth = "10 Gbit/s"
[[links]]
between = ["b", "c"]
bandwidth = "1 Gbit/s"
latency = "2 ms"
[[vms]]
name = "web"
host = "a"
zero_profile = [0.5, 0, 0, 0.25]
workload = { kind = "sequential", write_rate = "10 MiB/s", working_set = "64 MiB", offset = "64 MiB" }
[[vms]]
name = "db"
host = "b"
page_size = "2 MiB"
workload = { kind = "uniform", write_rate = "20 pages/s" }
[[migrations]]
vm = "web"
to = "c"
start = "1 s"
strategy = "postcopy"
[[migrations]]
vm = "db"
to = "a"
stop_policy = "rounds"
max_rounds = 4
"#;

#[test]
fn check_output_reads_back_to_itself() {
    let dir = TempDir::new("check-rt");
    for (name, text) in [("good", GOOD), ("rich", RICH), ("full", FULL_OK)] {
        let p1 = dir.write(&format!("one/{name}.toml"), text);
        let out1 = check_ok(&p1);
        assert!(!out1.is_empty());
        // Save the resolved scenario and check it again: identical output (the only difference
        // allowed is the file name that the header comment quotes).
        let p2 = dir.write(&format!("two/{name}.toml"), &out1);
        let out2 = check_ok(&p2);
        let p1s = p1.display().to_string();
        let p2s = p2.display().to_string();
        assert_eq!(out2, out1.replace(&p1s, &p2s), "{name}: check of the check output differs");
        // Saved over the original file, the output is byte-identical.
        let p3 = dir.write(&format!("one/{name}.toml"), &out1);
        assert_eq!(check_ok(&p3), out1, "{name}: check output is not a fixed point");
        // And the resolved scenario simulates exactly like the original.
        let orig = dir.write(&format!("orig/{name}.toml"), text);
        let a = run_json_text(&dir, &orig, &[]);
        let b = run_json_text(&dir, &p2, &[]);
        assert_eq!(a, b, "{name}: the resolved scenario does not run like the original");
    }
}

#[test]
fn mechanism_keys_are_checked_with_the_valid_form_in_the_message() {
    let dir = TempDir::new("bad-mechanisms");
    let cases: [(&str, &str, &str); 8] = [
        ("compression = \"zlib\"", "migration.compression", "compression = { ratio"),
        ("hybrid_switch = \"time\"", "migration.hybrid_switch", "needs hybrid_switch_after_time"),
        ("hybrid_switch_after_time = \"0 s\"", "migration.hybrid_switch_after_time", "longer than zero"),
        ("cpu_busy_threads = -1", "migration.cpu_busy_threads", "zero or more"),
        ("throttle_max = 100", "migration.throttle_max", "below 100"),
        ("rate_limit = \"xenn\"", "migration.rate_limit", "did you mean \"xen\""),
        ("multifd_channels = 0", "migration.multifd_channels", "1 (a single stream) to 256"),
        ("compression = { ratio = 1.5, cpu_rate = \"1 GiB/s\" }", "migration.compression.ratio", "must be in (0, 1]"),
    ];
    for (line, key, hint) in cases {
        let (path, err) = bad(&dir, &format!("{GOOD}[migration]\n{line}\n"), &[]);
        assert_names(&err, &path, key, 11, if key.ends_with("ratio") { 17 } else { 1 });
        assert!(err.contains(hint), "message must say {hint:?}:\n{err}");
    }
}

#[test]
fn zero_layout_names_its_choices() {
    let dir = TempDir::new("bad-zero-layout");
    let text = GOOD.replace("memory = \"1 GiB\"\n", "memory = \"1 GiB\"\nzero_layout = \"tops\"\n");
    let (path, err) = bad(&dir, &text, &[]);
    assert_names(&err, &path, "vm.zero_layout", 5, 1);
    assert!(err.contains("did you mean \"top\"") && err.contains("spread, top"), "{err}");
}

#[test]
fn zero_profile_is_a_list_of_shares_and_not_both_ways() {
    let dir = TempDir::new("bad-zero-profile");
    let with = |line: &str| GOOD.replace("memory = \"1 GiB\"\n", &format!("memory = \"1 GiB\"\n{line}\n"));
    // The element at fault is pointed at: line 5, column 22 is the 1.5.
    let (path, err) = bad(&dir, &with("zero_profile = [0.5, 1.5]"), &[]);
    assert_names(&err, &path, "vm.zero_profile", 5, 22);
    assert!(err.contains("element 1 is not a share between 0 and 1"), "{err}");
    let (path, err) = bad(&dir, &with("zero_profile = 0.5"), &[]);
    assert_names(&err, &path, "vm.zero_profile", 5, 1);
    assert!(err.contains("expected a list of shares between 0 and 1, e.g. [0.2, 0.9, 0]"), "{err}");
    let (_, err) = bad(&dir, &with("zero_profile = []"), &[]);
    assert!(err.contains("the list is empty"), "{err}");
    let (_, err) = bad(&dir, &with("zero_profile = [\"0.5\"]"), &[]);
    assert!(err.contains("element 0 is a string"), "{err}");
    let (path, err) = bad(&dir, &with("zero_fraction = 0.2\nzero_profile = [0.5, 0]"), &[]);
    assert_names(&err, &path, "vm.zero_profile", 6, 1);
    assert!(err.contains("either zero_profile") && err.contains("or zero_fraction, not both"), "{err}");
    let (_, err) = bad(&dir, &with("zero_layout = \"top\"\nzero_profile = [0.5, 0]"), &[]);
    assert!(err.contains("or zero_layout, not both"), "{err}");
    // More regions than pages: 8 KiB of memory is two 4 KiB pages.
    let small = GOOD.replace("memory = \"1 GiB\"\n", "memory = \"8 KiB\"\nzero_profile = [0, 0.5, 1]\n");
    let (path, err) = bad(&dir, &small, &[]);
    assert_names_somewhere(&err, &path, "vm.zero_profile");
    assert!(err.contains("has 3 regions but memory has only 2 pages"), "{err}");
}

#[test]
fn untouched_profile_lies_within_the_zero_profile() {
    let dir = TempDir::new("bad-untouched-profile");
    let with = |lines: &str| GOOD.replace("memory = \"1 GiB\"\n", &format!("memory = \"1 GiB\"\n{lines}\n"));
    let (path, err) = bad(&dir, &with("untouched_profile = [0.5, 0]"), &[]);
    assert_names(&err, &path, "vm.untouched_profile", 5, 1);
    assert!(err.contains("needs a zero_profile"), "{err}");
    let (path, err) = bad(&dir, &with("zero_profile = [0.5, 0]\nuntouched_profile = [0.5]"), &[]);
    assert_names(&err, &path, "vm.untouched_profile", 6, 1);
    assert!(err.contains("has 1 regions but zero_profile has 2"), "{err}");
    let (path, err) = bad(&dir, &with("zero_profile = [0.5, 0]\nuntouched_profile = [0.5, 0.25]"), &[]);
    assert_names(&err, &path, "vm.untouched_profile", 6, 1);
    assert!(err.contains("region 2 is 0.25 untouched but only 0 zero"), "{err}");
    let (path, err) = bad(&dir, &with("zero_profile = [0.5, 0]\nuntouched_profile = [0.5, 2]"), &[]);
    assert_names(&err, &path, "vm.untouched_profile", 6, 27);
    // Within its zero profile, it runs.
    let p = dir.write("good.toml", &with("zero_profile = [0.5, 0]\nuntouched_profile = [0.5, 0]"));
    let o = migsim(["check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_zero_form_set_on_the_command_line_replaces_the_files_other_form() {
    let dir = TempDir::new("zero-profile-set");
    let text = GOOD.replace("memory = \"1 GiB\"\n", "memory = \"1 GiB\"\nzero_fraction = 0.2\n");
    let p = dir.write("fraction.toml", &text);
    let path = p.to_str().unwrap();
    let o = migsim(["check", path, "--set", "vm.zero_profile=[0.5, 0]"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("zero_profile = [0.5, 0.0]") && !out.contains("zero_fraction"), "{out}");
    let p = dir.write("profile.toml", &GOOD.replace("memory = \"1 GiB\"\n", "memory = \"1 GiB\"\nzero_profile = [0.5, 0]\n"));
    let o = migsim(["check", p.to_str().unwrap(), "--set", "vm.zero_fraction=0.3"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("zero_fraction = 0.3") && !out.contains("zero_profile"), "{out}");
}

#[test]
fn a_mix_takes_rates_in_its_parts_and_does_not_nest() {
    let dir = TempDir::new("bad-mix");
    let base = "name = \"m\"\n[vm]\nmemory = \"1 GiB\"\n[network]\nbandwidth = \"1 Gbit/s\"\n[workload]\nkind = \"mix\"\n";
    let (_, err) =
        bad(&dir, &format!("{base}write_rate = \"10 MiB/s\"\n[[workload.parts]]\nkind = \"uniform\"\nwrite_rate = \"1 MiB/s\"\n"), &[]);
    assert!(err.contains("`workload.write_rate`") && err.contains("in each of its parts"), "{err}");
    let (_, err) = bad(&dir, base, &[]);
    assert!(err.contains("`workload.parts`") && err.contains("needs parts"), "{err}");
    let (_, err) = bad(&dir, &format!("{base}[[workload.parts]]\nkind = \"uniform\"\n"), &[]);
    assert!(err.contains("`workload.parts.0.write_rate`"), "{err}");
    let (_, err) = bad(&dir, &format!("{base}[[workload.parts]]\nkind = \"mix\"\n[[workload.parts.parts]]\nkind = \"idle\"\n"), &[]);
    assert!(err.contains("cannot be a phases or mix"), "{err}");
}

#[test]
fn a_vm_too_big_to_simulate_is_refused_with_the_way_out() {
    let dir = TempDir::new("bad-huge");
    let (path, err) = bad(&dir, GOOD, &["--set", "vm.memory=\"64 TiB\""]);
    assert!(err.contains(&path) && err.contains("`vm.memory`") && err.contains("larger page_size"), "{err}");
}

#[test]
fn a_stride_is_whole_pages_fits_in_memory_and_suits_the_kind() {
    let dir = TempDir::new("bad-stride");
    let with = |extra: &str| GOOD.replace("write_rate = \"1000 pages/s\"\n", &format!("write_rate = \"1000 pages/s\"\n{extra}"));
    // 1 GiB is 262144 pages: 1000 pages one every 512 reach page 511488.
    let (path, err) = bad(&dir, &with("working_set = \"4000 KiB\"\nstride = \"2 MiB\"\n"), &[]);
    assert_names(&err, &path, "workload.stride", 11, 1);
    assert!(err.contains("past the VM's memory") && err.contains("smaller stride"), "{err}");
    let (path, err) = bad(&dir, &with("stride = \"0 B\"\n"), &[]);
    assert_names(&err, &path, "workload.stride", 10, 1);
    assert!(err.contains("at least one page") && err.contains("\"4 KiB\""), "{err}");
    let (_, err) = bad(&dir, &with("stride = \"6 KiB\"\n"), &[]);
    assert!(err.contains("`workload.stride`") && err.contains("not a whole number of pages"), "{err}");
    let text = GOOD.replace(
        "kind = \"uniform\"\nwrite_rate = \"1000 pages/s\"\n",
        "kind = \"fluid\"\nwrite_rate = \"1000 pages/s\"\nstride = \"8 KiB\"\n",
    );
    let (_, err) = bad(&dir, &text, &[]);
    assert!(err.contains("`workload.stride`") && err.contains("this workload is \"fluid\""), "{err}");
}

/// Messages that used to name no key or blame the wrong one (issue 18, defect 6).
#[test]
fn out_of_range_and_repeated_keys_are_named() {
    let dir = TempDir::new("bad-range");
    let (path, err) = bad(&dir, &GOOD.replace("seed = 4", "seed = 99999999999999999999"), &[]);
    assert_names(&err, &path, "seed", 2, 1);
    assert!(err.contains("out of range") && err.contains("9223372036854775807"), "{err}");
    let (path, err) = bad(&dir, &GOOD.replace("memory = \"1 GiB\"", "memory = \"1 GiB\"\nmemory = \"2 GiB\""), &[]);
    assert_names(&err, &path, "vm.memory", 5, 1);
    assert!(err.contains("given twice"), "{err}");
    // Through --set the huge number is not TOML, so it arrived as a string: say what is wrong.
    let (_, err) = bad(&dir, GOOD, &["--set", "seed=99999999999999999999"]);
    assert!(err.contains("--set seed=99999999999999999999") && err.contains("`seed`"), "{err}");
    assert!(err.contains("out of range") && !err.contains("found a string"), "{err}");
}

#[test]
fn invalid_utf8_gives_the_line_and_byte() {
    let dir = TempDir::new("bad-utf8");
    let p = dir.path().join("bad.toml");
    let mut text = GOOD.as_bytes().to_vec();
    let at = GOOD.find("[vm]").unwrap();
    text.splice(at..at, b"# caf\xe9\n".iter().copied());
    std::fs::write(&p, &text).unwrap();
    let o = migsim(["check", p.to_str().unwrap()]);
    let err = assert_input_error(&o, &dir);
    assert!(err.contains(&format!("{}:3:6:", p.display())) && err.contains(&format!("byte {}", at + 5)), "{err}");
    assert!(err.contains("not UTF-8"), "{err}");
}

#[test]
fn sizes_name_their_real_problem() {
    let dir = TempDir::new("bad-sizes");
    let mem = |v: &str| GOOD.replace("memory = \"1 GiB\"", &format!("memory = \"{v}\""));
    let (path, err) = bad(&dir, &mem("0 GiB"), &[]);
    assert_names(&err, &path, "vm.memory", 4, 1);
    assert!(err.contains("must be positive") && !err.contains("whole number of"), "{err}");
    let (_, err) = bad(&dir, &mem("1073741824"), &[]);
    assert!(err.contains("\"1073741824 B\"") && err.contains("\"1 GiB\"") && !err.contains("1073741824 GiB"), "{err}");
    // A page of 1 B is the problem, not the default write delta that no longer fits it.
    let (path, err) = bad(&dir, &GOOD.replace("memory = \"1 GiB\"", "memory = \"1 GiB\"\npage_size = \"1 B\""), &[]);
    assert_names(&err, &path, "vm.page_size", 5, 1);
    assert!(err.contains("from 1 KiB to 1 GiB") && !err.contains("write_delta"), "{err}");
}

#[test]
fn an_output_under_a_regular_file_says_so() {
    let dir = TempDir::new("bad-outdir");
    let p = dir.write("good.toml", GOOD);
    let file = dir.write("plain", "not a folder");
    let o = migsim(["run", p.to_str().unwrap(), "-q", "--out", file.join("sub").to_str().unwrap()]);
    let err = stderr(&o);
    assert!(!o.status.success() && err.contains(&format!("{} is a file, not a folder", file.display())), "{err}");
    assert!(!err.contains("File exists") && !err.contains("Not a directory"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder");
}
