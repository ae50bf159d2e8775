//! Dirty-page traces through the real binary: `trace convert` round trips, replay in scenarios
//! (`workload.kind = "trace"`), bad trace files (exit 2, a message naming the file, never a panic),
//! `trace stats`, and `trace record` on a program with a known write pattern.

mod common;
use common::*;
use std::path::Path;
use std::process::Output;

/// A hand-written interval trace: 16 MiB of 4 KiB pages (4096 pages), 100 ms intervals.
const HAND: &str = "# migsim-trace 1
# a comment line
# page_size = 4 KiB
# memory = 16 MiB
# interval = 100 ms
# duration = 400 ms
# program = hand-written for tests/trace.rs
start_ns,length_ns,pages
0,100000000,3000-3099
100000000,100000000,\"7 3 5-6\"
# nothing is written from 200 to 300 ms
300000000,100000000,4095
";

/// The same trace as the writer prints it (comments gone, pages as sorted runs).
const HAND_CANONICAL: &str = "# migsim-trace 1
# page_size = 4 KiB
# memory = 16 MiB
# interval = 100 ms
# duration = 400 ms
# program = hand-written for tests/trace.rs
start_ns,length_ns,pages
0,100000000,3000-3099
100000000,100000000,3 5-7
300000000,100000000,4095
";

#[track_caller]
fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed ({:?}):\n{}\n{}", o.status, stdout(o), stderr(o));
    stdout(o)
}

/// Exit status 2, a message, no panic; returns the message.
#[track_caller]
fn input_error(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit status must be 2 for bad input; stderr:\n{err}");
    assert!(!err.contains("panicked") && !err.contains("internal error"), "panic on bad input:\n{err}");
    assert!(err.starts_with("error: "), "one error line:\n{err}");
    err
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn text_and_binary_round_trip() {
    let dir = TempDir::new("trace-rt");
    let a = dir.write("hand.csv", HAND);
    let b = dir.path().join("hand.mtrace");
    let c = dir.path().join("back.csv");
    let out = ok(&migsim(["trace", "convert", &s(&a), &s(&b)]));
    assert!(out.contains("3 records, 105 page writes"), "{out}");
    assert_eq!(&std::fs::read(&b).unwrap()[..8], b"MIGTRACE");
    ok(&migsim(["trace", "convert", &s(&b), &s(&c)]));
    assert_eq!(std::fs::read_to_string(&c).unwrap(), HAND_CANONICAL);
    // --to overrides the extension; binary -> binary is byte-identical.
    let d = dir.path().join("again.bin");
    ok(&migsim(["trace", "convert", &s(&b), &s(&d), "--to", "binary"]));
    assert_eq!(std::fs::read(&b).unwrap(), std::fs::read(&d).unwrap());
    // A write-record trace too.
    let w = dir.write("w.csv", "# migsim-trace 1\n# page_size = 4 KiB\n# memory = 1 MiB\ntime_ns,page\n0,5\n7,255\n7,0\n");
    let wb = dir.path().join("w.mtrace");
    let wc = dir.path().join("w2.csv");
    ok(&migsim(["trace", "convert", &s(&w), &s(&wb)]));
    ok(&migsim(["trace", "convert", &s(&wb), &s(&wc)]));
    assert_eq!(std::fs::read_to_string(&wc).unwrap(), std::fs::read_to_string(&w).unwrap());
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
}

/// A scenario replaying `trace` (relative to the scenario file, which sits in `dir`).
fn scenario(extra: &str) -> String {
    format!(
        "name = \"replay\"\nseed = 5\n[vm]\nmemory = \"16 MiB\"\n[network]\nbandwidth = \"1 Gbit/s\"\nlatency = \"0.1 ms\"\n\
         [workload]\nkind = \"trace\"\nfile = \"traces/hand.mtrace\"\n{extra}[migration]\nstrategy = [\"precopy\", \"postcopy\"]\n\
         stop_policy = \"threshold\"\n"
    )
}

#[test]
fn replay_in_a_scenario_sends_exactly_the_pages_the_trace_wrote() {
    let dir = TempDir::new("trace-replay");
    let a = dir.write("traces/hand.csv", HAND);
    ok(&migsim(["trace", "convert", &s(&a), &s(&dir.path().join("traces/hand.mtrace"))]));
    // Round 0 sends the 4096 pages in address order, in 134 ms (4104 B each at 1 Gbit/s). Meanwhile
    // the trace writes pages 3000-3099 (0-100 ms) and then, evenly spread over 100-200 ms, pages
    // 3, 5, 6 and 7 at 100, 125, 150 and 175 ms. Pages 3000-3099 are written before round 0 reaches
    // them, 3 and 5 after it sent them and before the sync at 134 ms, 6 and 7 later. The threshold
    // rule then finds 102 dirty pages (418 KB, under 1 Gbit/s x 300 ms) and stops: the final copy
    // is those 102 pages. (Pages 3000-3099 were dirtied before being sent, but the dirty log has
    // them: they go again.)
    let r = run_json(&dir, &dir.write("replay.toml", &scenario("")), &[]);
    let ms = migrations(&r);
    let pre = &ms[0];
    assert_eq!(str_of(pre, "strategy"), "precopy");
    assert_eq!(u64_of(pre, "pages_sent"), 4096 + 102, "{pre}");
    assert_eq!(u64_of(pre, "rounds"), 1);
    // Post-copy: the guest's accesses are the trace's writes, so it faults on pages 3000-3099, which
    // the push (in address order, from page 0) has not sent yet.
    let post = &ms[1];
    assert!(u64_of(post, "remote_faults") > 0, "{post}");
    assert_eq!(u64_of(post, "pages_sent"), 4096);
    // A pure function of scenario and seed; with the even spread, the seed plays no part.
    let again = run_json(&dir, &dir.path().join("replay.toml"), &[]);
    assert_eq!(r["migrations"], again["migrations"]);
    let other_seed = run_json(&dir, &dir.path().join("replay.toml"), &["--seed", "99"]);
    assert_eq!(r["migrations"], other_seed["migrations"]);
    // Twice as slow a clock: by 134 ms of simulated time only 67 ms of the trace have played.
    let slow = run_json(&dir, &dir.path().join("replay.toml"), &["--set", "workload.time_scale=2", "--strategy", "precopy"]);
    let slow = only(&slow);
    assert!(u64_of(slow, "pages_sent") < 4096 + 102, "{slow}");
    // `check` writes the trace keys out and reads back.
    let checked = ok(&migsim(["check", &s(&dir.path().join("replay.toml"))]));
    assert!(checked.contains("kind = \"trace\"") && checked.contains("map = \"scale\"") && checked.contains("spread = \"even\""));
    let back = dir.write("elsewhere/checked.toml", &checked);
    ok(&migsim(["check", &s(&back)]));
}

#[test]
fn bad_traces_are_input_errors_that_name_the_file() {
    let dir = TempDir::new("trace-bad");
    let good = dir.write("traces/good.csv", HAND);
    let bin = dir.path().join("traces/good.mtrace");
    ok(&migsim(["trace", "convert", &s(&good), &s(&bin)]));
    let bytes = std::fs::read(&bin).unwrap();
    std::fs::write(dir.path().join("traces/hand.mtrace"), &bytes[..bytes.len() - 5]).unwrap();
    let sc = dir.write("replay.toml", &scenario(""));
    let run = |extra: &[&str]| {
        let mut args = vec!["run".to_string(), s(&sc), "--out".into(), s(&dir.out())];
        args.extend(extra.iter().map(|x| x.to_string()));
        let o = migsim(&args);
        let e = input_error(&o);
        assert!(!dir.out().exists(), "nothing may be written for bad input");
        e
    };
    // Truncated binary.
    let e = run(&[]);
    assert!(e.contains("key `workload.file`") && e.contains("traces/hand.mtrace") && e.contains("truncated"), "{e}");
    let bad_text = |name: &str, body: String| {
        dir.write(&format!("traces/{name}"), &body);
        run(&["--set", &format!("workload.file=traces/{name}")])
    };
    // Missing file: names the path and where relative paths start.
    let e = run(&["--set", "workload.file=traces/nope.mtrace"]);
    assert!(
        e.contains("traces/nope.mtrace: cannot open the trace: no such file") && e.contains("relative to the scenario's folder"),
        "{e}"
    );
    // Wrong version.
    let e = bad_text("v2.csv", HAND.replacen("migsim-trace 1", "migsim-trace 2", 1));
    assert!(e.contains("v2.csv:1: trace format version 2 is not supported; this migsim reads version 1"), "{e}");
    let mut v2 = bytes.clone();
    v2[8] = 7;
    std::fs::write(dir.path().join("traces/v7.mtrace"), &v2).unwrap();
    let e = run(&["--set", "workload.file=traces/v7.mtrace"]);
    assert!(e.contains("version 7 is not supported"), "{e}");
    // A page beyond the trace's memory (4096 pages): the line is named.
    let e = bad_text("beyond.csv", HAND.replace(",4095\n", ",4096\n"));
    assert!(e.contains("beyond.csv:12: page 4096 is beyond the trace's memory: 16 MiB of 4 KiB pages holds pages 0 to 4095"), "{e}");
    // A bad header.
    let e = bad_text("hdr.csv", HAND.replace("# memory = 16 MiB\n", ""));
    assert!(e.contains("hdr.csv") && e.contains("no memory size"), "{e}");
    let e = bad_text("typo.csv", HAND.replace("# interval", "# intervall"));
    assert!(e.contains("unknown header key `intervall`; did you mean `interval`?"), "{e}");
    let e = bad_text("notatrace.csv", "hello\n".into());
    assert!(e.contains("not a migsim trace"), "{e}");
    // Keys of the trace workload are checked too.
    let e = run(&["--set", "workload.file=traces/good.mtrace", "--set", "workload.map=strech"]);
    assert!(e.contains("`workload.map`") && e.contains("expected one of: scale, wrap"), "{e}");
    let e = run(&["--set", "workload.file=traces/good.mtrace", "--set", "workload.write_rate=\"5 MiB/s\""]);
    assert!(e.contains("`workload.write_rate`: does not apply to kind = \"trace\""), "{e}");
    let e = run(&["--set", "workload.file=traces/good.mtrace", "--set", "workload.time_scale=0"]);
    assert!(e.contains("`workload.time_scale`"), "{e}");
    // `trace stats` and `trace convert` give the same errors.
    let trunc = s(&dir.path().join("traces/hand.mtrace"));
    let e = input_error(&migsim(["trace", "stats", &trunc]));
    assert!(e.contains("truncated"), "{e}");
    let e = input_error(&migsim(["trace", "convert", &trunc, &s(&dir.path().join("x.csv"))]));
    assert!(e.contains("truncated"), "{e}");
    assert!(!dir.path().join("x.csv").exists());
}

#[test]
fn stats_print_the_rate_and_working_set_and_write_csv() {
    let dir = TempDir::new("trace-stats");
    let a = dir.write("hand.csv", HAND);
    let csv = dir.path().join("csv");
    let out = ok(&migsim(["trace", "stats", &s(&a), "--csv-out", &s(&csv)]));
    assert!(out.contains("distinct pages written: 105"), "{out}");
    assert!(out.contains("dirty rate over time") && out.contains("writable working set"), "{out}");
    let rate = std::fs::read_to_string(csv.join("hand-rate.csv")).unwrap();
    assert_eq!(rate.lines().count(), 4, "{rate}");
    assert!(rate.lines().nth(1).unwrap().starts_with("0,0.1,100,1000.0,"), "{rate}");
    let wws = std::fs::read_to_string(csv.join("hand-wws.csv")).unwrap();
    // Windows of 1 and 2 intervals, and the whole trace (3).
    assert_eq!(wws.lines().map(|l| l.split(',').next().unwrap().to_string()).collect::<Vec<_>>(), ["window_intervals", "1", "2", "3"]);
    assert!(wws.lines().last().unwrap().starts_with("3,0.3,105.0,105,"), "{wws}");
    // The chart: a PNG (signature and a two-panel height) next to the CSVs.
    let png = std::fs::read(csv.join("hand.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!(height, 2 * migsim::output::plot::PANEL.1, "two panels: the rate and the working-set curve");
}

#[cfg(target_os = "linux")]
#[test]
fn record_errors_name_the_cause() {
    let dir = TempDir::new("trace-rec-err");
    let out = s(&dir.path().join("x.mtrace"));
    let e = input_error(&migsim(["trace", "record", "--pid", "999999999", "-o", &out]));
    assert!(e.contains("no process with PID 999999999"), "{e}");
    let e = input_error(&migsim(["trace", "record", "-o", &out, "--", "/nonexistent/program"]));
    assert!(e.contains("cannot start \"/nonexistent/program\""), "{e}");
    let e = input_error(&migsim(["trace", "record", "-o", &out]));
    assert!(e.contains("--pid PID, or -- COMMAND"), "{e}");
    let e = input_error(&migsim(["trace", "record", "--interval", "0ms", "-o", &out, "--", "true"]));
    assert!(e.contains("--interval must be longer than zero"), "{e}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing is left behind");
}

/// Compile examples/dirty_pattern.rs with rustc (the toolchain is all CI has; no cargo lock is
/// taken while cargo runs the tests).
#[cfg(target_os = "linux")]
fn pattern_program(dir: &TempDir) -> std::path::PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/dirty_pattern.rs");
    let bin = dir.path().join("dirty_pattern");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let o = std::process::Command::new(rustc).args(["--edition", "2024", "-O", "-o"]).arg(&bin).arg(&src).output().expect("run rustc");
    assert!(o.status.success(), "rustc failed:\n{}", String::from_utf8_lossy(&o.stderr));
    bin
}

/// The interval sets of a text trace.
#[cfg(target_os = "linux")]
fn interval_sets(text: &str) -> Vec<Vec<u64>> {
    let mut sets = Vec::new();
    let mut body = false;
    for line in text.lines() {
        if !body {
            body = line == "start_ns,length_ns,pages";
            continue;
        }
        let set = line.split(',').nth(2).unwrap();
        let mut pages = Vec::new();
        for item in set.split_whitespace() {
            match item.split_once('-') {
                Some((a, b)) => pages.extend(a.parse::<u64>().unwrap()..=b.parse().unwrap()),
                None => pages.push(item.parse().unwrap()),
            }
        }
        sets.push(pages);
    }
    sets
}

/// The pattern program fills 512 pages, then after a quiet gap changes 256 of them once, then after
/// another gap rewrites 64 of those every 20 ms for 600 ms. The recorder must see exactly that, give
/// or take the program's stack page (a sleeping thread's stack changes): the documented limits are
/// "resolved to the interval" and "same bytes are not seen", neither of which applies here.
#[cfg(target_os = "linux")]
#[test]
fn recorder_sees_a_known_write_pattern() {
    let dir = TempDir::new("trace-rec");
    let bin = pattern_program(&dir);
    let trace = dir.path().join("pattern.csv");
    let out = ok(&migsim(["trace", "record", "-q", "--interval", "100ms", "-o", &s(&trace), "--", &s(&bin)]));
    assert!(out.contains("ended because the process exited") && out.contains("sampling cost: mean"), "{out}");
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(text.contains("# page_size = 4 KiB") && text.contains("# interval = 100 ms"), "{text}");
    assert!(text.contains("dirty_pattern (PID "), "{text}");
    let sets = interval_sets(&text);
    // Bursts: maximal runs of intervals with more than NOISE pages.
    const NOISE: usize = 4;
    let mut bursts: Vec<Vec<usize>> = Vec::new();
    let mut prev_busy = false;
    for (i, s) in sets.iter().enumerate() {
        let busy = s.len() > NOISE;
        if busy && !prev_busy {
            bursts.push(Vec::new());
        }
        if busy {
            bursts.last_mut().unwrap().push(i);
        }
        prev_busy = busy;
    }
    let quiet: Vec<usize> = sets.iter().filter(|s| s.len() <= NOISE).map(|s| s.len()).collect();
    assert!(quiet.len() >= 8, "the gaps between phases must be quiet: {:?}", sets.iter().map(|s| s.len()).collect::<Vec<_>>());
    assert!(bursts.len() >= 2, "expected the 256-page and the hot-set bursts: {bursts:?}");
    let union = |b: &[usize]| {
        let mut u: Vec<u64> = b.iter().flat_map(|&i| sets[i].clone()).collect();
        u.sort();
        u.dedup();
        u
    };
    // The last two bursts: the 256 changed pages, then the 64-page hot set.
    let a = union(&bursts[bursts.len() - 2]);
    let b_ints = &bursts[bursts.len() - 1];
    let b = union(b_ints);
    assert!((256..=256 + NOISE).contains(&a.len()), "burst 1 wrote {} pages, want 256: {a:?}", a.len());
    assert!((64..=64 + NOISE).contains(&b.len()), "the hot set is {} pages, want 64", b.len());
    assert!(b.iter().filter(|p| a.contains(p)).count() >= 64, "the hot pages are among the 256");
    // Every full interval of the hot phase sees all 64 pages (the first and last may be partial).
    assert!(b_ints.len() >= 4, "{b_ints:?}");
    for &i in &b_ints[1..b_ints.len() - 1] {
        assert!((64..=64 + NOISE).contains(&sets[i].len()), "interval {i}: {} pages", sets[i].len());
    }
    // The recording is a valid trace for the other commands.
    ok(&migsim(["trace", "stats", &s(&trace), "--csv-out", &s(dir.path())]));
}

/// Ctrl-C ends a recording cleanly: a valid trace, and the program we started is ended too.
#[cfg(target_os = "linux")]
#[test]
fn interrupt_finishes_a_valid_trace() {
    let dir = TempDir::new("trace-int");
    let trace = dir.path().join("int.mtrace");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_migsim"))
        .args(["trace", "record", "-q", "--interval", "50ms", "-o", &s(&trace), "--", "sleep", "30"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let st = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let t = std::time::Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(t.elapsed().as_secs() < 10, "the recorder must stop promptly");
    let out = ok(&o);
    assert!(out.contains("ended because interrupted"), "{out}");
    let csv = dir.path().join("int.csv");
    ok(&migsim(["trace", "convert", &s(&trace), &s(&csv)]));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains("# note = recording ended because interrupted") && interval_sets(&text).len() >= 5, "{text}");
}

/// A 125-byte trace of 16 TiB whose one interval writes every page (`0-4294967295`): convert and
/// stats keep the range a range (they used to expand it to 2^32 numbers and abort on a 32 GiB
/// allocation, exit 134); a replay refuses it up front, naming the file, the line and the limit.
#[test]
fn a_huge_range_is_streamed_as_a_range_or_refused_up_front() {
    let dir = TempDir::new("trace-huge");
    let text = "# migsim-trace 1\n# page_size = 4 KiB\n# memory = 16 TiB\n# interval = 100 ms\nstart_ns,length_ns,pages\n\
                0,100000000,0-4294967295\n";
    let t = dir.write("traces/huge.csv", text);
    let bin = dir.path().join("huge.mtrace");
    let out = ok(&migsim(["trace", "convert", &s(&t), &s(&bin)]));
    assert!(out.contains("1 records, 4294967296 page writes"), "{out}");
    let back = dir.path().join("back.csv");
    ok(&migsim(["trace", "convert", &s(&bin), &s(&back)]));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), text, "the range survives both forms as one range");
    let out = ok(&migsim(["trace", "stats", &s(&bin), "--csv-out", &s(&dir.path().join("st"))]));
    assert!(out.contains("distinct pages written: 4294967296"), "{out}");
    let sc = dir.write(
        "huge.toml",
        "[vm]\nmemory = \"1 GiB\"\n[network]\nbandwidth = \"10 Gbit/s\"\n[workload]\nkind = \"trace\"\nfile = \"traces/huge.csv\"\n",
    );
    let out = s(&dir.out());
    for args in [vec!["check", &s(&sc)], vec!["run", &s(&sc), "--out", &out]] {
        let err = input_error(&migsim(&args));
        assert!(err.contains("`workload.file`") && err.contains("huge.csv:6: this interval writes 4294967296 pages"), "{err}");
        assert!(err.contains("at most 33554432 pages"), "{err}");
    }
}

/// `trace convert X X` (or X through another path or a link) would replace its input: refused.
#[test]
fn converting_a_trace_onto_itself_is_refused() {
    let dir = TempDir::new("trace-self");
    let a = dir.write("hand.csv", HAND);
    let other_path = dir.path().join(".").join("hand.csv");
    let link = dir.path().join("link.csv");
    std::fs::hard_link(&a, &link).unwrap();
    for (out, to) in [(a.clone(), None), (other_path, Some("binary")), (link, None)] {
        let mut args = vec!["trace".to_string(), "convert".into(), s(&a), s(&out)];
        if let Some(f) = to {
            args.extend(["--to".into(), f.into()]);
        }
        let err = input_error(&migsim(&args));
        assert!(err.contains("the same file"), "{err}");
        assert_eq!(std::fs::read_to_string(&a).unwrap(), HAND, "the input is untouched");
    }
}
