//! Command lines for the fuzzer: every command and flag, with good and bad values, naming the tiny
//! scenarios, a mutated copy of one (possibly not UTF-8), missing files and folders; then arguments
//! lost, repeated, swapped, cut or replaced. Outputs go under the scratch folder; `trace record`
//! (which starts programs) is never generated.

use crate::inputs::{Corpus, Input, Rand, TINY, char_boundary, mutate_bytes};
use rand::Rng;
use rand::seq::IndexedRandom;

impl Corpus {
    pub fn command_line(&self, r: &mut Rand) -> Input {
        let dir = self.dir.display().to_string();
        let out = format!("{dir}/out");
        let tiny = self.tiny.display().to_string();
        let input = format!("{dir}/input.toml");
        let mut file = None;
        // The scenario a command names: tiny ones only for commands that simulate much.
        let mut scenario = |r: &mut Rand, dear: bool| -> String {
            match r.random_range(0..10) {
                0..5 => tiny.clone(),
                5 => self.tiny_sweep.display().to_string(),
                6 => format!("{dir}/missing.toml"),
                7 => dir.clone(),
                8 if !dear => self.scenarios.choose(r).expect("corpus").0.display().to_string(),
                _ => {
                    let mut text = TINY.to_string().into_bytes();
                    text = if r.random_bool(0.2) { mutate_bytes(r, &text) } else { self.mutate_toml(r, TINY).into_bytes() };
                    file = Some(text);
                    input.clone()
                }
            }
        };
        let v = |r: &mut Rand, choices: &[&str]| choices.choose(r).expect("choices").to_string();
        let mut argv: Vec<String> = Vec::new();
        let sets = |r: &mut Rand, argv: &mut Vec<String>| {
            for _ in 0..r.random_range(0..3) {
                argv.push("--set".into());
                argv.push(self.set_arg(r));
            }
        };
        match r.random_range(0..16) {
            0..3 => {
                argv.push("run".into());
                argv.push(scenario(r, true));
                sets(r, &mut argv);
                for (flag, vals) in [
                    ("--strategy", &["precopy", "postcopy", "hybrid", "cold", "all", "bogus", ""][..]),
                    ("--format", &["table", "json", "csv", "xml"][..]),
                    ("--seed", &["1", "-1", "18446744073709551616", "x"][..]),
                ] {
                    if r.random_bool(0.4) {
                        argv.push(flag.into());
                        argv.push(v(r, vals));
                    }
                }
                match r.random_range(0..4) {
                    0 => argv.push("--no-write".into()),
                    1 => argv.push("-q".into()),
                    _ => {}
                }
                argv.extend(["--out".into(), out.clone()]);
            }
            3..5 => {
                argv.push("check".into());
                argv.push(scenario(r, false));
                sets(r, &mut argv);
            }
            5 => {
                argv.push("explain".into());
                argv.push(scenario(r, true));
                sets(r, &mut argv);
                for (flag, vals) in [
                    ("--strategy", &["precopy", "postcopy", "hybrid", "cold", "all", "x"][..]),
                    ("--format", &["text", "markdown", "html"][..]),
                    ("--vm", &["vm", "nope", ""][..]),
                ] {
                    if r.random_bool(0.4) {
                        argv.push(flag.into());
                        argv.push(v(r, vals));
                    }
                }
                if r.random_bool(0.3) {
                    argv.push("--all-rounds".into());
                }
            }
            6 => {
                argv.push("report".into());
                argv.push(scenario(r, true));
                argv.extend(["-o".into(), format!("{dir}/out/report.html")]);
                sets(r, &mut argv);
            }
            7 => {
                argv.push("advise".into());
                argv.push(scenario(r, true));
                for (flag, vals) in [
                    ("--objective", &["downtime <= 50 ms", "total_time <= 1 s", "downtime < 5", "bogus <= 1", "downtime <= x"][..]),
                    ("--minimize", &["total_time", "bytes", "downtime", "nothing"][..]),
                    ("--exclude", &["postcopy", "hybrid,cold", "bogus", ""][..]),
                    ("--budget", &["4", "12", "0", "-3"][..]),
                    ("--replications", &["1", "2", "0"][..]),
                    ("--max-time", &["10 s", "1 min", "0 s", "x"][..]),
                    ("--format", &["text", "json", "csv"][..]),
                ] {
                    if r.random_bool(0.5) {
                        argv.push(flag.into());
                        argv.push(v(r, vals));
                    }
                }
                argv.extend(["--budget".into(), "8".into(), "--no-charts".into(), "-q".into(), "--out".into(), out.clone()]);
            }
            8..10 => {
                argv.push("sweep".into());
                argv.push(scenario(r, true));
                for (flag, vals) in [
                    (
                        "--sweep",
                        &["workload.write_rate=1000,2000", "network.bandwidth=1..10:3", "x=1", "workload.write_rate=", "a=1..2:0"][..],
                    ),
                    ("--replications", &["1", "2", "0", "x"][..]),
                    ("--strategy", &["precopy", "all", "nope"][..]),
                    ("--jobs", &["1", "2", "0"][..]),
                    ("--shard", &["1/2", "2/2", "3/2", "0/1", "1/0", "x"][..]),
                    ("--emit-slurm", &["job.sh", ""][..]),
                    ("--mem", &["4G", "1 GiB", "x"][..]),
                    ("--time", &["30", "01:30:00", "2-00:00:00", "x", "1 h"][..]),
                    ("--tasks", &["2", "0"][..]),
                ] {
                    if r.random_bool(0.25) {
                        argv.push(flag.into());
                        let mut val = v(r, vals);
                        if flag == "--emit-slurm" && !val.is_empty() {
                            val = format!("{dir}/out/{val}");
                        }
                        argv.push(val);
                    }
                }
                if r.random_bool(0.3) {
                    argv.push("--resume".into());
                }
                argv.extend(["--no-charts".into(), "-q".into(), "--out".into(), out.clone()]);
            }
            10 => {
                argv.push("plot".into());
                argv.push(if r.random_bool(0.8) { self.sweep_csv.display().to_string() } else { format!("{dir}/tiny.toml") });
                for (flag, vals) in [
                    ("--x", &["workload.write_rate_bps", "nope", ""][..]),
                    ("--y", &["downtime_s", "total_time_s", "strategy", "nope"][..]),
                    ("--by", &["strategy", "none", "seed", "nope,strategy"][..]),
                ] {
                    if r.random_bool(0.7) {
                        argv.push(flag.into());
                        argv.push(v(r, vals));
                    }
                }
                if r.random_bool(0.3) {
                    argv.push("--log-x".into());
                }
                argv.extend(["-o".into(), format!("{dir}/out/plot.{}", v(r, &["png", "svg", "pdf"]))]);
            }
            11 => {
                argv.push("merge".into());
                argv.push(format!("{dir}/out/merged"));
                for _ in 0..r.random_range(0..3) {
                    argv.push(if r.random_bool(0.7) { self.sweep_csv.display().to_string() } else { tiny.clone() });
                }
                argv.extend(["--no-charts".into(), "-q".into()]);
            }
            12..14 => {
                argv.push("trace".into());
                let t = format!("{dir}/args-trace.{}", v(r, &["mtrace", "csv"]));
                let (seed, _) = self.traces.choose(r).expect("traces");
                let bytes = if r.random_bool(0.5) { mutate_bytes(r, seed) } else { seed.clone() };
                std::fs::write(&t, bytes).expect("write trace");
                if r.random_bool(0.5) {
                    argv.extend(["stats".into(), t, "--csv-out".into(), out.clone()]);
                    if r.random_bool(0.3) {
                        argv.extend(["--rows".into(), v(r, &["0", "1", "100000", "-1", "x"])]);
                    }
                } else {
                    argv.extend(["convert".into(), t, format!("{dir}/out/conv.{}", v(r, &["csv", "mtrace", "bin", ""]))]);
                    if r.random_bool(0.3) {
                        argv.extend(["--to".into(), v(r, &["text", "binary", "json"])]);
                    }
                }
            }
            14 => {
                // validate runs every reference case: only its argument errors here.
                argv.push("validate".into());
                match r.random_range(0..3) {
                    0 => argv.push(format!("{dir}/missing")),
                    1 => argv.extend(["--sets".into(), "nope".into()]),
                    _ => argv.extend(["--format".into(), "xml".into()]),
                }
            }
            _ => argv.push(v(r, &["--help", "--version", "help", "", "runn", "-x", "trace", "trace record"])),
        }
        // Then break the command line a little.
        for _ in 0..r.random_range(0..3) {
            if argv.is_empty() {
                break;
            }
            let i = r.random_range(0..argv.len());
            match r.random_range(0..6) {
                0 => {
                    argv.remove(i);
                }
                1 => {
                    let a = argv[i].clone();
                    argv.insert(i, a);
                }
                2 => {
                    let j = r.random_range(0..argv.len());
                    argv.swap(i, j);
                }
                3 => argv.insert(i, v(r, &["--set", "--seed", "--out", "--strategy", "-j", "--", "-", "--unknown", "=", ""])),
                4 => {
                    let at = char_boundary(&argv[i], r.random_range(0..=argv[i].len()));
                    argv[i].truncate(at);
                }
                _ => argv[i] = self.value(r),
            }
        }
        // Never record: it runs programs. Never name an output outside the scratch folder: paths the
        // mutations produce are relative, and the harness runs in the scratch folder.
        if argv.get(1).is_some_and(|a| a == "record") || argv.iter().any(|a| a.contains("record")) {
            argv.retain(|a| !a.contains("record"));
        }
        Input::Args { argv, file }
    }
}
