//! `migsim sweep --emit-slurm` through the real binary, without Slurm: the script it writes is run
//! as Slurm runs it, each array task with `SLURM_ARRAY_TASK_ID` and `SLURM_CPUS_PER_TASK` set and
//! no argument, then the merge job with `merge`, and the merged files must equal those of the
//! sweep run in one process. Also: a rerun task continues its partial file and a finished shard
//! is not run again, `status`, and options refused before any script is written. The same script
//! on a real Slurm is scripts/slurm/ci-test.sh, which .ci/run runs.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::SMALL_SWEEP as SMALL;

/// The sweep's own options, given both to the emitted script and to the one-process sweep (a
/// value with a space checks the script's quoting).
const SWEEP_OPTIONS: [&str; 4] = ["--set", "network.latency=0.2 ms", "--strategy", "all"];

fn ok(o: &Output, what: &str) -> String {
    assert!(o.status.success(), "{what} failed ({:?}):\n{}{}", o.status, stdout(o), stderr(o));
    stderr(o)
}

/// `bash SCRIPT ARGS...` as an array task `task` (None: not in Slurm) with `cpus` cores.
fn script(path: &Path, args: &[&str], task: Option<u64>, cpus: u64) -> Output {
    let mut c = Command::new("bash");
    c.arg(path).args(args).env_remove("SLURM_ARRAY_TASK_ID").env_remove("SLURM_JOB_ID").env_remove("MIGSIM");
    if let Some(i) = task {
        c.env("SLURM_ARRAY_TASK_ID", i.to_string()).env("SLURM_CPUS_PER_TASK", cpus.to_string());
    }
    c.output().expect("run bash")
}

/// `migsim sweep SCENARIO SWEEP_OPTIONS --out OUT --emit-slurm SCRIPT EXTRA...`.
fn emit(scenario: &Path, out: &Path, script: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["sweep".into(), scenario.display().to_string()];
    args.extend(SWEEP_OPTIONS.iter().map(|s| s.to_string()));
    args.extend(["--out".into(), out.display().to_string(), "--emit-slurm".into(), script.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    migsim(&args)
}

/// The same sweep in one process, into `out`; its results folder.
fn one_process(scenario: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let mut args: Vec<String> = vec!["sweep".into(), scenario.display().to_string()];
    args.extend(SWEEP_OPTIONS.iter().map(|s| s.to_string()));
    args.extend(["--out".into(), out.display().to_string(), "--quiet".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    ok(&migsim(&args), "the one-process sweep");
    out.join("small")
}

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn the_tasks_run_as_slurm_runs_them_and_their_merge_equals_the_one_process_sweep() {
    let dir = TempDir::new("slurm-array");
    let scenario = dir.write("my scenarios/small.toml", SMALL);
    let out = dir.path().join("shared results");
    let sbatch = dir.path().join("small.sbatch");
    let o = emit(&scenario, &out, &sbatch, &["--tasks", "4", "--cpus-per-task", "2", "--time", "90 min", "--mem", "2 GiB"]);
    let said = ok(&o, "--emit-slurm");
    assert!(said.contains("a Slurm job array of 4 tasks for sweep small (6 points, 48 runs; 1 or 2 points per task)"), "{said}");
    let text = std::fs::read_to_string(&sbatch).unwrap();
    for line in ["#SBATCH --array=1-4", "#SBATCH --cpus-per-task=2", "#SBATCH --time=01:30:00", "#SBATCH --mem=2G"] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&sbatch).unwrap().permissions().mode() & 0o111, 0o111, "the script is not executable");
    }
    // Written atomically: no temporary file is left beside it; nothing has run yet.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let results = out.join("small");
    assert!(results.join("slurm").is_dir(), "the log folder the tasks write to is made");
    let status = stdout(&script(&sbatch, &["status"], None, 1));
    assert!(status.contains("shard 1: not started") && status.contains("0 of 4 shards done"), "{status}");

    for i in 1..=4 {
        let said = ok(&script(&sbatch, &[], Some(i), 2), &format!("array task {i}"));
        assert!(said.contains(&format!("shard {i}/4 of 6 points")) && said.contains("with 2 jobs"), "task {i}: {said}");
        assert!(results.join(format!("shard-{i}-of-4/sweep.json")).is_file());
    }
    let said = ok(&script(&sbatch, &["merge"], None, 1), "the merge job");
    assert!(said.contains("merged 4 files (48 runs)"), "{said}");

    let whole = one_process(&scenario, &dir.path().join("one"), &[]);
    for f in ["sweep.csv", "summary.csv"] {
        assert!(bytes(&results.join(f)) == bytes(&whole.join(f)), "the merged {f} differs from the one-process sweep's");
    }
    assert!(results.join("downtime_s-vs-workload.write_rate_bps.png").is_file(), "the merge draws the charts");
    let status = stdout(&script(&sbatch, &["status"], None, 1));
    assert!(status.contains("4 of 4 shards done") && status.contains("merged: "), "{status}");
}

#[test]
fn a_rerun_task_continues_its_partial_file_and_a_finished_shard_is_not_run_again() {
    let dir = TempDir::new("slurm-rerun");
    let scenario = dir.write("small.toml", SMALL);
    let out = dir.path().join("out");
    let sbatch = dir.path().join("job.sbatch");
    ok(&emit(&scenario, &out, &sbatch, &["--tasks", "2", "--no-charts"]), "--emit-slurm");
    let results = out.join("small");
    let shard = |i: u64| results.join(format!("shard-{i}-of-2"));
    for i in 1..=2 {
        ok(&script(&sbatch, &[], Some(i), 1), "a task");
    }
    // Task 1 again: the shard is done, so nothing runs and its sweep.csv is left as it is.
    let csv1 = shard(1).join("sweep.csv");
    let (before, modified) = (bytes(&csv1), std::fs::metadata(&csv1).unwrap().modified().unwrap());
    let said = ok(&script(&sbatch, &[], Some(1), 1), "task 1 again");
    assert!(said.contains("24 runs (") && said.contains("24 of them already done"), "{said}");
    assert!(bytes(&csv1) == before && std::fs::metadata(&csv1).unwrap().modified().unwrap() == modified);

    // Task 2 cut by its time limit: its partial file ends in the middle of a row.
    let csv2 = shard(2).join("sweep.csv");
    let good = bytes(&csv2);
    let cut = good.len() * 2 / 3 + 7;
    std::fs::write(shard(2).join("sweep.csv.partial"), &good[..cut]).unwrap();
    std::fs::rename(shard(2).join("sweep.json"), shard(2).join("sweep.partial.json")).unwrap();
    std::fs::remove_file(&csv2).unwrap();
    let status = stdout(&script(&sbatch, &["status"], None, 1));
    assert!(
        status.contains("shard 2: started") && status.contains("rerun 2 continues it") && status.contains("1 of 2 shards done"),
        "{status}"
    );
    let said = ok(&script(&sbatch, &["task", "2"], None, 1), "task 2 rerun");
    let before_words = said.split(" of them already done").next().unwrap_or_default();
    let resumed: u64 = before_words.rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{said}"));
    assert!(resumed > 0 && resumed < 24, "{said}");
    assert!(bytes(&csv2) == good, "the resumed shard differs from the uninterrupted one");

    ok(&script(&sbatch, &["merge"], None, 1), "the merge job");
    let whole = one_process(&scenario, &dir.path().join("one"), &["--no-charts"]);
    assert!(bytes(&results.join("sweep.csv")) == bytes(&whole.join("sweep.csv")));
}

#[test]
fn bad_options_are_refused_before_any_script_is_written() {
    let dir = TempDir::new("slurm-bad");
    let scenario = dir.write("small.toml", SMALL);
    let out = dir.path().join("out");
    let sbatch = dir.path().join("job.sbatch");
    let refused = |extra: &[&str], says: &str| {
        let o = emit(&scenario, &out, &sbatch, extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{extra:?}: expected {says:?} in:\n{}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
        assert!(!sbatch.exists(), "{extra:?}: a script was written");
    };
    refused(&["--tasks", "0"], "--tasks 0: give at least 1");
    refused(&["--tasks", "7"], "the sweep has 6 points, so at most 6 tasks");
    refused(&["--shard", "1/2"], "cannot be used with");
    refused(&["--resume"], "cannot be used with");
    refused(&["--time", "soon"], "is not a time limit");
    refused(&["--mem", "lots"], "is not a memory size");
    refused(&["--partition", "my queue"], "a Slurm name is");
    refused(&["--sbatch", "qos=low"], "give one sbatch option");
    refused(&["--cpus-per-task", "0"], "--cpus-per-task 0");
    refused(&["--sweep", "network.bandwidth=1 Gbit/s,fast"], "network.bandwidth");
    // A Slurm option without --emit-slurm is a mistake, not ignored.
    let o = migsim(["sweep", scenario.to_str().unwrap(), "--tasks", "2", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--emit-slurm"), "{}", stderr(&o));
    assert!(!out.exists(), "the sweep ran");
}
