//! `migsim sweep`, `migsim plot` and `migsim merge` through the real binary: the cartesian product
//! and its seeds, the CSV columns, identical files for any number of jobs, resume after an
//! interruption, shards and their merge, the charts, and bad sweeps rejected before any run.

mod common;
use common::*;
use std::path::{Path, PathBuf};

use common::SMALL_SWEEP as SMALL;

/// `migsim sweep FILE --out DIR EXTRA...`, which must succeed; returns the results folder.
fn sweep(dir: &TempDir, file: &Path, out: &str, extra: &[&str]) -> PathBuf {
    let out = dir.path().join(out);
    let mut args: Vec<String> = vec!["sweep".into(), file.display().to_string(), "--out".into(), out.display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = migsim(&args);
    assert!(o.status.success(), "migsim {args:?} failed:\n{}", stderr(&o));
    out.join("small")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn rows(csv: &str) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    r.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect()
}

fn header(csv: &str) -> Vec<String> {
    csv.lines().next().unwrap().split(',').map(String::from).collect()
}

#[test]
fn one_row_per_run_in_product_order_with_derived_seeds() {
    let dir = TempDir::new("sweep-product");
    let p = dir.write("small.toml", SMALL);
    let res = sweep(&dir, &p, "out", &[]);
    let csv = read(&res.join("sweep.csv"));
    let rows = rows(&csv);
    // 2 bandwidths x 3 write rates x 2 strategies x 2 replications, one VM.
    assert_eq!(rows.len(), 24);
    let bw = ["1000000000", "10000000000"];
    let wr = ["8388608", "83886080", "838860800"];
    let mut i = 0;
    for b in bw {
        for w in wr {
            for s in ["precopy", "postcopy"] {
                for k in 0..2 {
                    let r = &rows[i];
                    assert_eq!((&r[0][..], &r[1][..], &r[2][..], &r[4][..], &r[5][..]), (b, w, &k.to_string()[..], s, "vm"), "row {i}");
                    i += 1;
                }
            }
        }
    }
    // Both strategies of a point and replication share a seed; every (point, replication) has its own.
    let mut seeds: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    for block in rows.chunks(4) {
        assert_eq!(block[0][3], block[2][3]);
        assert_eq!(block[1][3], block[3][3]);
        assert_ne!(block[0][3], block[1][3]);
    }
    seeds.sort();
    seeds.dedup();
    assert_eq!(seeds.len(), 12);

    // A row is reproduced by `migsim run` with the point's values as --set and its seed.
    let r = &rows[13]; // 10 Gbit/s, 1 MiB/s (8388608 bit/s), precopy, replication 1
    assert_eq!((&r[0][..], &r[1][..], &r[4][..], &r[2][..]), ("10000000000", "8388608", "precopy", "1"));
    let m = only(&run_json(
        &dir,
        &p,
        &["--set", "network.bandwidth=10 Gbit/s", "--set", "workload.write_rate=1 MiB/s", "--seed", &r[3], "--strategy", "precopy"],
    ))
    .clone();
    let h = header(&csv);
    let col = |name: &str| &r[h.iter().position(|c| c == name).unwrap()];
    assert_eq!(col("total_time_s").parse::<f64>().unwrap(), f64_of(&m, "total_time_s"));
    assert_eq!(col("bytes_sent").parse::<u64>().unwrap(), u64_of(&m, "bytes_sent"));
    assert_eq!(col("rounds").parse::<u64>().unwrap(), u64_of(&m, "rounds"));
}

#[test]
fn columns_are_axes_then_keys_then_every_json_metric() {
    let dir = TempDir::new("sweep-columns");
    let p = dir.write("small.toml", SMALL);
    let res = sweep(&dir, &p, "out", &["--no-charts"]);
    let csv = read(&res.join("sweep.csv"));
    let h = header(&csv);
    assert_eq!(h[..6], ["network.bandwidth_bps", "workload.write_rate_bps", "replication", "seed", "strategy", "vm"]);
    // The metrics are the JSON fields of `migsim run`, in their order, without the timeline (and
    // without vm and strategy, which come earlier).
    let json = run_json_text(&dir, &p, &[]);
    let m = &migrations(&serde_json::from_str(&json).unwrap())[0].clone();
    let mut want: Vec<(usize, String)> = m
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| !v.is_array() && !v.is_object() && *k != "vm" && *k != "strategy")
        .map(|(k, _)| (json.find(&format!("\"{k}\":")).unwrap(), k.clone()))
        .collect();
    want.sort();
    let want: Vec<String> = want.into_iter().map(|(_, k)| k).collect();
    assert_eq!(h[6..], want[..]);
    assert!(!h.iter().any(|c| c == "timeline"));

    // summary.csv: one row per point and strategy; mean, sd, min, max and a 95% CI per metric.
    let s = read(&res.join("summary.csv"));
    let sh = header(&s);
    assert_eq!(sh[..5], ["network.bandwidth_bps", "workload.write_rate_bps", "strategy", "vm", "runs"]);
    for stat in ["n", "mean", "sd", "min", "max", "ci95_lo", "ci95_hi"] {
        assert!(sh.contains(&format!("total_time_s_{stat}")), "summary lacks total_time_s_{stat}: {sh:?}");
    }
    assert!(sh.contains(&"converged_mean".to_string()), "booleans are summarised as shares");
    assert!(!sh.iter().any(|c| c.starts_with("stop_reason")), "words are not summarised");
    let srows = rows(&s);
    assert_eq!(srows.len(), 12);
    let rows = rows(&csv);
    let t = h.iter().position(|c| c == "total_time_s").unwrap();
    let mean = (rows[0][t].parse::<f64>().unwrap() + rows[1][t].parse::<f64>().unwrap()) / 2.0;
    let col = |name: &str| sh.iter().position(|c| c == name).unwrap();
    assert_rel("mean of the first point", srows[0][col("total_time_s_mean")].parse().unwrap(), mean, 1e-12);
    assert_eq!(srows[0][col("runs")], "2");
    let (lo, hi): (f64, f64) =
        (srows[0][col("total_time_s_ci95_lo")].parse().unwrap(), srows[0][col("total_time_s_ci95_hi")].parse().unwrap());
    assert!(lo <= mean && mean <= hi);
}

#[test]
fn one_job_and_two_jobs_write_identical_files() {
    let dir = TempDir::new("sweep-jobs");
    let p = dir.write("small.toml", SMALL);
    let a = sweep(&dir, &p, "j1", &["--jobs", "1", "--no-charts", "--replications", "5"]);
    let b = sweep(&dir, &p, "j2", &["--jobs", "2", "--no-charts", "--replications", "5"]);
    for f in ["sweep.csv", "summary.csv"] {
        let (x, y) = (read(&a.join(f)), read(&b.join(f)));
        assert_eq!(rows(&x).len(), if f == "sweep.csv" { 60 } else { 12 });
        assert!(x == y, "{f} differs between --jobs 1 and --jobs 2");
    }
}

#[test]
fn resume_after_an_interruption_gives_the_uninterrupted_file() {
    let dir = TempDir::new("sweep-resume");
    let p = dir.write("small.toml", SMALL);
    let whole = sweep(&dir, &p, "whole", &["--no-charts"]);
    let good = read(&whole.join("sweep.csv"));
    // An interrupted sweep: the partial file cut in the middle of a row, and the partial manifest a
    // sweep writes when it starts (its fingerprint is the one sweep.json records).
    // --resume on the finished sweep: it says every run is done and runs none (the file is untouched).
    let modified = std::fs::metadata(whole.join("sweep.csv")).unwrap().modified().unwrap();
    let o = migsim(["sweep", p.to_str().unwrap(), "--out", dir.path().join("whole").to_str().unwrap(), "--resume", "--no-charts"]);
    assert!(o.status.success() && stderr(&o).contains("24 runs (") && stderr(&o).contains("24 of them already done"), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(whole.join("sweep.csv")).unwrap().modified().unwrap(), modified, "a finished sweep is not rerun");
    let cut = good.len() * 2 / 3 + 7;
    let res = dir.path().join("resumed").join("small");
    std::fs::create_dir_all(&res).unwrap();
    std::fs::write(res.join("sweep.csv.partial"), &good.as_bytes()[..cut]).unwrap();
    std::fs::copy(whole.join("sweep.json"), res.join("sweep.partial.json")).unwrap();
    // A finished sweep.csv from earlier stays whole until the new one replaces it.
    std::fs::write(res.join("sweep.csv"), "earlier results\n").unwrap();
    let o = migsim(["sweep", p.to_str().unwrap(), "--out", dir.path().join("resumed").to_str().unwrap(), "--resume", "--no-charts"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("already done"), "{}", stderr(&o));
    assert!(read(&res.join("sweep.csv")) == good, "the resumed sweep.csv differs from the uninterrupted one");
    assert_eq!(read(&res.join("summary.csv")), read(&whole.join("summary.csv")));
    assert!(!res.join("sweep.csv.partial").exists() && !res.join("sweep.partial.json").exists());

    // A partial file of another sweep is not continued.
    std::fs::write(res.join("sweep.csv.partial"), &good.as_bytes()[..cut]).unwrap();
    std::fs::copy(whole.join("sweep.json"), res.join("sweep.partial.json")).unwrap();
    let o = migsim(["sweep", p.to_str().unwrap(), "--out", dir.path().join("resumed").to_str().unwrap(), "--resume", "--seed", "3"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("belongs to another sweep"), "{}", stderr(&o));
}

#[test]
fn shards_merged_equal_the_whole_sweep() {
    let dir = TempDir::new("sweep-shards");
    let p = dir.write("small.toml", SMALL);
    let whole = sweep(&dir, &p, "whole", &[]);
    let mut parts = Vec::new();
    for i in 1..=4 {
        let shard = format!("{i}/4");
        let res = sweep(&dir, &p, "shards", &["--shard", &shard, "--no-charts"]);
        parts.push(res.join(format!("shard-{i}-of-4")).join("sweep.csv"));
    }
    // Given in any order: their sweep.json files put them back in point order.
    let merged = dir.path().join("merged");
    let mut args: Vec<String> = vec!["merge".into(), merged.display().to_string()];
    for i in [2, 0, 3, 1] {
        args.push(parts[i].display().to_string());
    }
    let o = migsim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["sweep.csv", "summary.csv"] {
        assert!(read(&merged.join(f)) == read(&whole.join(f)), "merged {f} differs from the whole sweep's");
    }
    assert!(merged.join("downtime_s-vs-network.bandwidth_bps.png").is_file());
    // A shard whose rows were edited is refused, naming the row, and nothing is written.
    type Edit = fn(&str) -> String;
    let edits: [(&str, Edit, &str); 4] = [
        ("a deleted row", |t| t.lines().enumerate().filter(|(i, _)| *i != 3).map(|(_, l)| format!("{l}\n")).collect(), "(a missing row)"),
        ("a repeated row", |t| t.lines().flat_map(|l| [l, l]).skip(1).map(|l| format!("{l}\n")).collect(), "both hold the row of vm"),
        ("an edited strategy", |t| t.replacen(",precopy,", ",hybrid,", 1), "strategy hybrid (expected precopy)"),
        ("a foreign row", |t| t.replacen(",0,", ",7,", 1), "not a run of this sweep"),
    ];
    for (what, edit, want) in edits {
        let bad = dir.path().join("bad").join("shard-1-of-4");
        std::fs::create_dir_all(&bad).unwrap();
        let text = read(&parts[0]);
        std::fs::write(bad.join("sweep.csv"), edit(&text)).unwrap();
        std::fs::copy(parts[0].with_file_name("sweep.json"), bad.join("sweep.json")).unwrap();
        let out = dir.path().join("m-bad");
        let mut args: Vec<String> = vec!["merge".into(), out.display().to_string(), bad.join("sweep.csv").display().to_string()];
        args.extend(parts[1..].iter().map(|p| p.display().to_string()));
        let o = migsim(&args);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", stderr(&o));
        assert!(stderr(&o).contains(want) && stderr(&o).contains("shard-1-of-4/sweep.csv"), "{what}: {}", stderr(&o));
        assert!(!out.join("sweep.csv").exists(), "{what}: nothing may be written");
    }
    // A missing shard is an error that says so.
    let o = migsim(["merge", dir.path().join("m2").to_str().unwrap(), parts[0].to_str().unwrap(), parts[2].to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("a shard is missing"), "{}", stderr(&o));
    let o = migsim(["sweep", p.to_str().unwrap(), "--shard", "5/4"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("numbered 1 to N"), "{}", stderr(&o));
}

/// Legend entries in an SVG chart: the text elements that name a line.
fn legend(svg: &str, prefixes: &[&str]) -> usize {
    svg.split("<text").filter(|t| t.split('>').nth(1).is_some_and(|body| prefixes.iter().any(|p| body.trim_start().starts_with(p)))).count()
}

#[test]
fn charts_are_png_and_svg_with_one_line_per_strategy_and_other_value() {
    let dir = TempDir::new("sweep-charts");
    let p = dir.write("small.toml", SMALL);
    let res = sweep(&dir, &p, "out", &[]);
    for axis in ["network.bandwidth_bps", "workload.write_rate_bps"] {
        for metric in ["total_time_s", "downtime_s", "bytes_sent"] {
            let png = std::fs::read(res.join(format!("{metric}-vs-{axis}.png"))).unwrap();
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            let svg = read(&res.join(format!("{metric}-vs-{axis}.svg")));
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            // One line per strategy and value of the other axis: 2 x 3 against the bandwidth, 2 x 2 against the rate.
            let lines = if axis.starts_with("network") { 6 } else { 4 };
            assert_eq!(legend(&svg, &["precopy,", "postcopy,"]), lines, "{metric} vs {axis}");
        }
    }
    let svg = read(&res.join("downtime_s-vs-workload.write_rate_bps.svg"));
    assert!(svg.contains("small: downtime vs workload.write_rate") && svg.contains("downtime, mean and 95% CI (ms)"), "title and labels");

    // A custom chart from the CSV, one line per strategy, as SVG and as PNG.
    let csv = res.join("sweep.csv");
    let out = dir.path().join("custom.svg");
    let o = migsim([
        "plot",
        csv.to_str().unwrap(),
        "--x",
        "workload.write_rate_bps",
        "--y",
        "total_time_s",
        "--by",
        "strategy",
        "--log-x",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = read(&out);
    assert_eq!(legend(&svg, &["precopy", "postcopy"]), 2);
    let png = dir.path().join("custom.png");
    let o = migsim(["plot", csv.to_str().unwrap(), "--x", "network.bandwidth_bps", "--y", "downtime_s", "-o", png.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    let o = migsim(["plot", csv.to_str().unwrap(), "--x", "bandwidth", "--y", "downtime_s", "-o", png.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("columns: network.bandwidth_bps"), "{}", stderr(&o));
    let o = migsim(["plot", csv.to_str().unwrap(), "--x", "network.bandwidth_bps", "--y", "stop_reason", "-o", png.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn run_draws_a_timeline_png_and_ignores_the_sweep() {
    let dir = TempDir::new("sweep-run");
    let p = dir.write("small.toml", SMALL);
    let with = run_json_text(&dir, &p, &[]);
    let png = std::fs::read(dir.out().join("small").join("timeline.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let without = dir.write("plain.toml", SMALL.split("[sweep]").next().unwrap());
    assert_eq!(with, run_json_text(&dir, &without, &[]), "[sweep] changed what `migsim run` does");
}

#[test]
fn quiet_or_not_a_terminal_prints_one_line() {
    let dir = TempDir::new("sweep-quiet");
    let p = dir.write("small.toml", SMALL);
    for extra in [&[][..], &["--quiet"][..]] {
        let mut args = vec!["sweep", p.to_str().unwrap(), "--out", dir.path().to_str().unwrap(), "--no-charts"];
        args.extend(extra);
        let o = migsim(&args);
        assert!(o.status.success());
        assert!(o.stdout.is_empty());
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.starts_with("sweep small: 24 runs (6 points x 2 strategies x 2 replications) with "), "{e}");
    }
}

/// Run a sweep that must fail with status 2 before any run; returns its message.
fn rejected(dir: &TempDir, text: &str, extra: &[&str]) -> String {
    let p = dir.write("bad.toml", text);
    let out = dir.path().join("bad-out");
    let mut args = vec!["sweep", p.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend(extra);
    let o = migsim(&args);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(!e.contains("panicked") && !e.contains("internal error"), "{e}");
    assert!(!out.exists(), "a rejected sweep wrote {}", out.display());
    e
}

#[test]
fn bad_sweeps_are_rejected_before_any_run() {
    let dir = TempDir::new("sweep-bad");
    let base = SMALL.split("[sweep]").next().unwrap().to_string();
    let e = rejected(&dir, &format!("{base}[sweep]\n\"network.bandwith\" = [\"1 Gbit/s\"]\n"), &[]);
    assert!(e.contains("bad.toml:16:23:"), "{e}");
    assert!(e.contains("key `network.bandwith`") && e.contains("did you mean `bandwidth`"), "{e}");
    let e = rejected(&dir, &format!("{base}[sweep]\n\"network.bandwidth\" = [\"1 Gbit/s\", \"1 GiB\"]\n"), &[]);
    assert!(e.contains("bad.toml:16:36: key `network.bandwidth`"), "{e}");
    assert!(e.contains("sweep value \"1 GiB\" of network.bandwidth"), "{e}");
    assert!(e.contains("Gbit/s"), "the message lists valid units: {e}");
    let e = rejected(&dir, &base, &["--sweep", "workload.write_rate=10 MiB/s,fast"]);
    assert!(e.contains("(from --sweep workload.write_rate=10 MiB/s,fast)"), "{e}");
    let e = rejected(&dir, &base, &["--sweep", "workload.hot_set=1 MiB"]);
    assert!(e.contains("hotcold"), "{e}");
    // Valid alone, wrong together: a working set larger than a swept memory size names the point.
    let e = rejected(&dir, &base, &["--sweep", "vm.memory=8 MiB,64 MiB"]);
    assert!(e.contains("at the sweep point vm.memory = \"8 MiB\"") || e.contains("sweep value \"8 MiB\""), "{e}");
    // Two --sweep of one key: the first is not silently dropped.
    let e = rejected(&dir, &base, &["--sweep", "vm.memory=64 MiB,128 MiB", "--sweep", "vm.memory=256 MiB"]);
    assert!(e.contains("(from --sweep vm.memory=256 MiB)") && e.contains("swept twice"), "{e}");
    let e = rejected(&dir, &format!("{base}[sweep]\nseed = [1, 2]\n"), &[]);
    assert!(e.contains("replications"), "{e}");
    let e = rejected(&dir, &format!("{base}[sweep]\n\"network.bandwidth\" = {{ from = \"1 Gbit/s\", to = \"2 Gbit/s\" }}\n"), &[]);
    assert!(e.contains("steps"), "{e}");
}
