//! `migsim advise` through the real binary, on cases whose answer is known: an idle VM gets
//! pre-copy as it is; Clark's MMuncher gets post-copy, auto-converge once post-copy is ruled out,
//! and the closest miss when nothing can meet the downtime; a link much faster than the writer
//! gets pre-copy. Then the mistakes (exit status 2), the files, the same advice for any number
//! of jobs, and `--resume` after an interruption.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `migsim advise FILE --out <dir>/NAME --format json EXTRA...`, which must succeed: the advice
/// and the folder it wrote.
fn advise(dir: &TempDir, file: &Path, name: &str, extra: &[&str]) -> (Value, PathBuf) {
    let out = dir.path().join(name);
    let mut args: Vec<String> = vec!["advise".into(), file.display().to_string(), "--out".into(), out.display().to_string()];
    args.extend(["--format".into(), "json".into(), "--quiet".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = migsim(&args);
    assert!(o.status.success(), "migsim {args:?} failed ({:?}):\n{}", o.status, stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(&o)));
    let folder = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path().join("advise");
    (v, folder)
}

fn changed(choice: &Value) -> Vec<String> {
    choice["changed"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn an_idle_vm_gets_pre_copy_with_its_default_settings() {
    let dir = TempDir::new("advise-idle");
    let (a, _) = advise(&dir, Path::new("scenarios/idle.toml"), "out", &["--objective", "downtime <= 300 ms"]);
    let r = &a["recommendation"];
    assert_eq!(r["strategy"], "precopy", "{a:#}");
    assert!(changed(r).is_empty(), "the defaults already do: {r:#}");
    // Nothing is written, so nothing is random: one run per setting, the whole space.
    assert_eq!(a["search"]["mode"], "exhaustive");
    assert_eq!(a["search"]["replications"], 1);
    assert!(r["why"].as_str().unwrap().contains("pre-copy converges in 1 round"), "{}", r["why"]);
    // Cold pauses the VM for the whole copy (5.2 s): it misses the downtime.
    let cold = a["verdicts"].as_array().unwrap().iter().find(|v| v["strategy"] == "cold").unwrap();
    assert!(!cold["feasible"].as_bool().unwrap() && cold["verdict"].as_str().unwrap().starts_with("misses downtime <= 300 ms"));
}

#[test]
fn mmuncher_gets_post_copy_and_auto_converge_once_post_copy_is_ruled_out() {
    let dir = TempDir::new("advise-mmuncher");
    let file = Path::new("scenarios/mmuncher.toml");
    // QEMU's stop rule (auto-converge is QEMU's), the default budget.
    let qemu = ["--set", "migration.stop_policy=qemu", "--objective", "downtime <= 300 ms"];
    let (a, _) = advise(&dir, file, "post", &qemu);
    let r = &a["recommendation"];
    assert_eq!(r["strategy"], "postcopy", "{:#}", a["recommendation"]);
    let pre = a["verdicts"].as_array().unwrap().iter().find(|v| v["strategy"] == "precopy").unwrap();
    assert!(changed(pre).contains(&"auto_converge".to_string()) || changed(pre).contains(&"dirty_limit".to_string()), "{pre:#}");
    // Post-copy ruled out by an objective, and the guest must keep three quarters of its time:
    // the dirty limit (90 % lost) is out, auto-converge is in.
    let mut ruled = qemu.to_vec();
    ruled.extend(["--objective", "postcopy_window <= 0 s", "--objective", "app_slowdown <= 25 %"]);
    let (a, _) = advise(&dir, file, "ac", &ruled);
    let r = &a["recommendation"];
    assert_eq!(r["strategy"], "precopy", "{r:#}");
    assert!(changed(r).contains(&"auto_converge".to_string()), "{r:#}");
    assert!(r["settings"]["auto_converge"].as_str().unwrap().starts_with("on"));
    assert!(a["reason"].as_str().unwrap().contains("only because auto-converge throttles the vCPU"), "{}", a["reason"]);
    let qmp = a["apply"]["qmp_both"][0].as_str().unwrap();
    assert!(qmp.contains(r#"{"capability":"auto-converge","state":true}"#), "{qmp}");
}

#[test]
fn no_feasible_setting_is_an_answer_naming_the_closest_miss() {
    let dir = TempDir::new("advise-miss");
    // Xen's stop rule, nothing to tame the writer, no post-copy: the forced stop pauses 2.15 s.
    let out = dir.path().join("out");
    let o = migsim([
        "advise",
        "scenarios/mmuncher.toml",
        "--objective",
        "downtime <= 300 ms",
        "--exclude",
        "postcopy,hybrid,auto_converge,dirty_limit,xbzrle",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("no setting meets downtime <= 300 ms."), "{text}");
    assert!(text.contains("closest miss: precopy as the scenario says (misses downtime <= 300 ms (2.1"), "{text}");
    assert!(text.contains("Xen gives up once it has sent 3 times the memory"), "{text}");
    let a: Value = serde_json::from_str(&read(&out.join("mmuncher/advise/advice.json"))).unwrap();
    assert!(a["recommendation"].is_null() && a["closest_miss"]["strategy"] == "precopy");
}

#[test]
fn a_link_much_faster_than_the_writer_gets_pre_copy() {
    let dir = TempDir::new("advise-fast");
    // 2 MiB/s of writes against 40 Gbit/s: pre-copy's second round is a few hundred pages.
    let p = dir.write(
        "fast.toml",
        "name = \"fast\"\nseed = 3\n[vm]\nmemory = \"2 GiB\"\nzero_fraction = 0.2\n[network]\nbandwidth = \"40 Gbit/s\"\n[workload]\nkind = \"uniform\"\nwrite_rate = \"2 MiB/s\"\nworking_set = \"512 MiB\"\n",
    );
    let (a, _) = advise(&dir, &p, "out", &["--objective", "downtime <= 300 ms", "--budget", "300"]);
    let r = &a["recommendation"];
    assert_eq!(r["strategy"], "precopy", "{a:#}");
    // Post-copy is no faster within 1 %, and would leave the VM exposed.
    let post = a["verdicts"].as_array().unwrap().iter().find(|v| v["strategy"] == "postcopy").unwrap();
    let (t_pre, t_post) = (r["figures"]["total_time"]["mean"].as_f64().unwrap(), post["figures"]["total_time"]["mean"].as_f64().unwrap());
    assert!(t_pre <= t_post * 1.01, "pre-copy {t_pre} s, post-copy {t_post} s");
}

#[test]
fn mistakes_are_input_errors_that_say_what_is_valid() {
    let cases: &[(&[&str], &str)] = &[
        (&["--objective", "downtime <= fifty"], "--objective \"downtime <= fifty\": \"fifty\" does not start with a number"),
        (&["--objective", "latency <= 5 ms"], "figures: downtime, total_time, bytes"),
        (&["--objective", "downtime <= 5 mb"], "unknown unit \"mb\""),
        (&["--objective", "downtime >= 5 ms"], "upper limits only"),
        (&["--exclude", "postcpy"], "did you mean `postcopy`?"),
        (&["--set", "migration.strategy=cold"], "advise chooses the strategy"),
        (&["--max-time", "soon"], "--max-time soon"),
        (&["--budget", "0"], "--budget 0"),
    ];
    for (extra, want) in cases {
        let mut args = vec!["advise", "scenarios/idle.toml", "--no-charts", "--out", "/nonexistent/never-written"];
        args.extend(*extra);
        let o = migsim(&args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{extra:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "one line, no backtrace: {}", stderr(&o));
    }
    let o = migsim(["advise", "scenarios/idle.toml", "--minimize", "latency"]);
    assert_eq!(o.status.code(), Some(2));
    let o = migsim(["advise", "scenarios/datacenter.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("advise tunes one migration"), "{}", stderr(&o));
}

/// A small guest whose writes are random: replications, and a search that is quick.
const SMALL: &str = "name = \"small\"\nseed = 5\n[vm]\nmemory = \"128 MiB\"\nzero_fraction = 0.1\n[network]\nbandwidth = \"1 Gbit/s\"\n[workload]\nkind = \"hotcold\"\nwrite_rate = \"6000 pages/s\"\nworking_set = \"64 MiB\"\nhot_set = \"8 MiB\"\n[migration]\ndowntime_limit = \"50 ms\"\n";

/// advice.json without what depends on the clock or on what was resumed.
fn steady(p: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&read(p)).unwrap();
    for k in ["seconds", "simulated", "resumed"] {
        v["search"][k] = Value::Null;
    }
    v
}

#[test]
fn the_files_are_the_same_for_any_number_of_jobs() {
    let dir = TempDir::new("advise-jobs");
    let p = dir.write("small.toml", SMALL);
    let args = ["--objective", "downtime <= 30 ms", "--budget", "200"];
    let (_, one) = advise(&dir, &p, "one", &[&args[..], &["--jobs", "1"]].concat());
    let (a, three) = advise(&dir, &p, "three", &[&args[..], &["--jobs", "3"]].concat());
    for f in ["runs.csv", "candidates.csv", "front.csv"] {
        assert!(read(&one.join(f)) == read(&three.join(f)), "{f} differs between --jobs 1 and --jobs 3");
    }
    assert_eq!(steady(&one.join("advice.json")), steady(&three.join("advice.json")));
    let front = read(&three.join("front.csv"));
    let rows: Vec<&str> = front.lines().collect();
    assert_eq!(rows.len(), a["front"].as_array().unwrap().len() + 1);
    assert!(rows[0].starts_with("candidate,strategy,label,changes,downtime_limit_s"));
    for f in ["front.png", "front.svg"] {
        assert!(std::fs::metadata(three.join(f)).unwrap().len() > 1000, "{f}");
    }
    let runs = read(&three.join("runs.csv"));
    assert_eq!(runs.lines().count() as u64 - 1, a["search"]["runs"].as_u64().unwrap());
    assert!(a["search"]["runs"].as_u64().unwrap() <= 200, "the budget holds");
    let cmd = a["recommendation"]["run_command"].as_str().unwrap();
    assert!(cmd.starts_with("migsim run ") && cmd.contains("--seed"), "{cmd}");
}

#[test]
fn the_report_is_printed_and_kept_in_advice_txt() {
    let dir = TempDir::new("advise-text");
    let p = dir.write("small.toml", SMALL);
    let out = dir.path().join("out");
    let o = migsim(["advise", p.to_str().unwrap(), "--objective", "downtime <= 30 ms", "--budget", "200", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for part in [
        "objectives: downtime <= 30 ms; minimize total time",
        "recommended: ",
        "expected figures (mean of ",
        "why: ",
        "verdicts, the best setting of each strategy:",
        "Pareto front on downtime, total time, bytes and slowdown",
        "QMP, on the source:",
        "{\"execute\": \"migrate-set-parameters\"",
        "virsh migrate --live",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
    assert_eq!(read(&out.join("small/advise/advice.txt")), text);
    // Without a terminal, no progress bar: stderr has the final line only.
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).starts_with("advise small: "), "{}", stderr(&o));
}

#[test]
fn resume_after_an_interruption_gives_the_uninterrupted_files() {
    let dir = TempDir::new("advise-resume");
    let p = dir.write("small.toml", SMALL);
    let args = ["--objective", "downtime <= 30 ms", "--budget", "200", "--no-charts"];
    let (whole, wdir) = advise(&dir, &p, "whole", &args);
    let runs = read(&wdir.join("runs.csv"));
    // An interrupted search: its journal cut in the middle of a row, beside the manifest a search
    // writes when it starts (the fingerprint the finished one records).
    let cut = runs.len() * 2 / 3 + 7;
    let res = dir.path().join("resumed").join("small").join("advise");
    std::fs::create_dir_all(&res).unwrap();
    std::fs::write(res.join("runs.csv.partial"), &runs.as_bytes()[..cut]).unwrap();
    std::fs::copy(wdir.join("advise.json"), res.join("advise.partial.json")).unwrap();
    let (again, rdir) = advise(&dir, &p, "resumed", &[&args[..], &["--resume"]].concat());
    assert!(again["search"]["resumed"].as_u64().unwrap() > 0);
    assert!(again["search"]["simulated"].as_u64().unwrap() < whole["search"]["simulated"].as_u64().unwrap());
    assert!(read(&rdir.join("runs.csv")) == runs, "the resumed runs.csv differs from the uninterrupted one");
    assert_eq!(read(&rdir.join("candidates.csv")), read(&wdir.join("candidates.csv")));
    assert_eq!(steady(&rdir.join("advice.json")), steady(&wdir.join("advice.json")));
    assert!(!rdir.join("runs.csv.partial").exists() && !rdir.join("advise.partial.json").exists());
    // A finished search is reused whole, under another objective too.
    let (other, _) = advise(&dir, &p, "resumed", &["--objective", "downtime <= 10 ms", "--budget", "200", "--no-charts", "--resume"]);
    assert!(other["search"]["resumed"].as_u64().unwrap() > 0);
    // A journal of another scenario is not continued.
    std::fs::write(res.join("runs.csv.partial"), &runs.as_bytes()[..cut]).unwrap();
    std::fs::copy(wdir.join("advise.json"), res.join("advise.partial.json")).unwrap();
    let o = migsim(["advise", p.to_str().unwrap(), "--out", dir.path().join("resumed").to_str().unwrap(), "--resume", "--seed", "9"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("belongs to another search"), "{}", stderr(&o));
}
