//! Helpers shared by the integration tests: a temporary folder per test, running the real `migsim`
//! binary, and reading the figures out of its JSON report.
//!
//! Every test writes its scenario files into its own folder under the system temp dir and passes
//! `--out <that folder>`, so nothing is ever written into the repository's `results/`.

#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh folder, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("migsim-it-{tag}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The folder passed to `--out`.
    pub fn out(&self) -> PathBuf {
        self.0.join("out")
    }

    /// Write `text` to `<dir>/<name>` and return the path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&p, text).expect("write scenario");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run the real binary with `args`.
pub fn migsim<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_migsim")).args(args).env_remove("RUST_BACKTRACE").output().expect("run migsim")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `migsim run FILE --format json --out <dir>/out EXTRA...`, which must succeed; its stdout, raw.
pub fn run_json_text(dir: &TempDir, file: &Path, extra: &[&str]) -> String {
    let mut args: Vec<String> = vec!["run".into(), file.display().to_string(), "--format".into(), "json".into()];
    args.push("--out".into());
    args.push(dir.out().display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = migsim(&args);
    assert!(o.status.success(), "migsim {args:?} failed ({:?}):\n{}", o.status, stderr(&o));
    stdout(&o)
}

/// `migsim run FILE --format json ...`, parsed.
pub fn run_json(dir: &TempDir, file: &Path, extra: &[&str]) -> Value {
    let text = run_json_text(dir, file, extra);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{text}"))
}

/// The migrations of a report.
pub fn migrations(report: &Value) -> &Vec<Value> {
    report["migrations"].as_array().unwrap_or_else(|| panic!("no migrations array in {report}"))
}

/// The single migration of a report (fails if there is not exactly one).
pub fn only(report: &Value) -> &Value {
    let ms = migrations(report);
    assert_eq!(ms.len(), 1, "expected exactly one migration in {report}");
    &ms[0]
}

/// Write `text` as `<name>.toml` in `dir`, run it, and return its single migration.
pub fn run_one(dir: &TempDir, name: &str, text: &str, extra: &[&str]) -> Value {
    let p = dir.write(&format!("{name}.toml"), text);
    let r = run_json(dir, &p, extra);
    only(&r).clone()
}

pub fn f64_of(m: &Value, key: &str) -> f64 {
    m[key].as_f64().unwrap_or_else(|| panic!("`{key}` is not a number in {m}"))
}

pub fn u64_of(m: &Value, key: &str) -> u64 {
    m[key].as_u64().unwrap_or_else(|| panic!("`{key}` is not a whole number in {m}"))
}

pub fn bool_of(m: &Value, key: &str) -> bool {
    m[key].as_bool().unwrap_or_else(|| panic!("`{key}` is not a boolean in {m}"))
}

pub fn str_of<'a>(m: &'a Value, key: &str) -> &'a str {
    m[key].as_str().unwrap_or_else(|| panic!("`{key}` is not a string in {m}"))
}

/// Assert `got` is within `rel` (relative) of `want`.
#[track_caller]
pub fn assert_rel(what: &str, got: f64, want: f64, rel: f64) {
    let err = if want == 0.0 { got.abs() } else { ((got - want) / want).abs() };
    assert!(err <= rel, "{what}: got {got}, want {want} (relative error {err:.3e} > {rel:.1e})");
}

/// Assert `got` is within `abs` of `want`.
#[track_caller]
pub fn assert_abs(what: &str, got: f64, want: f64, abs: f64) {
    assert!((got - want).abs() <= abs, "{what}: got {got}, want {want} (difference {:.3e} > {abs:.1e})", (got - want).abs());
}

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;
pub const GIB: u64 = 1024 * MIB;
/// 1 Gbit/s in bytes per second.
pub const GBIT: f64 = 1e9 / 8.0;

/// A sweep of tiny VMs, 2 bandwidths x 3 write rates = 6 points, 2 strategies, 2 replications: a
/// whole sweep takes milliseconds.
pub const SMALL_SWEEP: &str = r#"name = "small"
seed = 9
[vm]
memory = "32 MiB"
zero_fraction = 0.1
[network]
bandwidth = "1 Gbit/s"
[workload]
kind = "uniform"
write_rate = "5 MiB/s"
working_set = "16 MiB"
[migration]
strategy = ["precopy", "postcopy"]
max_time = "1 min"
[sweep]
replications = 2
"network.bandwidth" = ["1 Gbit/s", "10 Gbit/s"]
"workload.write_rate" = { from = "1 MiB/s", to = "100 MiB/s", steps = 3, scale = "log" }
"#;
