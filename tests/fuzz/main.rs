//! The fuzz harness: mutated scenarios, traces and command lines run in-process through the binary's
//! own entry points (`migsim::cli::execute` and the library calls behind it), checking that bad
//! input never panics, that every error names its cause, and that each input stays within a CPU
//! budget and a memory bound (docs/reliability.md).
//!
//! `cargo test --release` runs a fixed-seed slice. The long mode runs more inputs:
//!
//!     MIGSIM_FUZZ_INPUTS=10000000 cargo test --release --test fuzz fuzz_slice -- --nocapture
//!
//! (`MIGSIM_FUZZ_SECONDS=N` stops it after N seconds, with its summary) with `MIGSIM_FUZZ_SEED` (default 1) and `MIGSIM_FUZZ_FROM` (the first input's number) to pick the
//! inputs; a finding prints those three variables, which reproduce it alone (`MIGSIM_FUZZ_SHOW=1`
//! prints it; `MIGSIM_FUZZ_ONLY=scenarios|runs|traces|commands` keeps one class of inputs). Regression cases of
//! what the fuzzer found are in `cases.rs` (files in `tests/fuzz/cases/`).

mod alloc;
mod args;
mod cases;
mod check;
mod inputs;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Instant;

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// Inputs of the slice `cargo test` runs (about a minute on 2 cores; docs/reliability.md).
const SLICE_INPUTS: u64 = 50_000;

/// One test at a time in this binary: memory and CPU are measured per process.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The scratch folder every input writes into; the process runs in it, so that even a relative
/// output path an input makes up never lands in the repository.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("migsim-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("create the scratch folder");
        std::env::set_current_dir(&d).expect("enter the scratch folder");
        d
    })
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().replace('_', "").parse().unwrap_or_else(|_| panic!("{name}={v}: expected a whole number")),
        Err(_) => default,
    }
}

#[test]
fn fuzz_slice() {
    let _one = serial();
    let seed = env_u64("MIGSIM_FUZZ_SEED", 1);
    let inputs = env_u64("MIGSIM_FUZZ_INPUTS", SLICE_INPUTS);
    let from = env_u64("MIGSIM_FUZZ_FROM", 0);
    let long = std::env::var_os("MIGSIM_FUZZ_INPUTS").is_some();
    // MIGSIM_FUZZ_SHOW=1 prints each input before it runs (with MIGSIM_FUZZ_FROM, to see one).
    let show = std::env::var_os("MIGSIM_FUZZ_SHOW").is_some();
    alloc::SEED.store(seed, std::sync::atomic::Ordering::Relaxed);
    let dir = scratch().join("slice");
    let corpus = inputs::Corpus::load(repo(), &dir);
    // The sweep.csv that `plot` and `merge` inputs read.
    let made = migsim::cli::execute([
        "migsim",
        "sweep",
        &corpus.tiny_sweep.display().to_string(),
        "--out",
        &dir.join("sweep-out").display().to_string(),
        "--no-charts",
        "-q",
        "-j",
        "1",
    ]);
    assert!(made.is_ok() && corpus.sweep_csv.exists(), "the tiny sweep: {:?}", made.err().map(|f| f.message));
    check::start_watchdog(seed);
    let t0 = Instant::now();
    let mut tally = check::Tally::default();
    let mut findings: Vec<check::Finding> = Vec::new();
    let mut more = 0u64;
    // MIGSIM_FUZZ_SECONDS: stop (with the summary) after this long, whatever is left.
    let deadline = std::env::var_os("MIGSIM_FUZZ_SECONDS").map(|_| t0 + std::time::Duration::from_secs(env_u64("MIGSIM_FUZZ_SECONDS", 0)));
    let mut done = 0u64;
    for i in from..from + inputs {
        if deadline.is_some_and(|d| Instant::now() > d) {
            break;
        }
        done += 1;
        let input = corpus.generate(&mut inputs::rng_for(seed, i));
        if show {
            eprintln!("== input {i}: {}", check::describe(&input));
        }
        for f in check::run_one(&corpus, i, &input, &mut tally) {
            if long {
                // Kept as found: a long run may be stopped before its end.
                eprintln!("fuzz: finding at input {i}: {}", f.what);
            }
            if findings.len() < 200 { findings.push(f) } else { more += 1 }
        }
        if long && (i - from + 1).is_multiple_of(1 << 17) {
            let n = i - from + 1;
            eprintln!(
                "fuzz: {n} inputs in {:.0} s ({:.0}/s), {} findings",
                t0.elapsed().as_secs_f64(),
                n as f64 / t0.elapsed().as_secs_f64(),
                findings.len()
            );
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "fuzz: seed {seed}, inputs {from}..{}: {secs:.1} s, {:.0} inputs/s, {:.1} s of CPU",
        from + done,
        done as f64 / secs,
        check::cpu_s()
    );
    for (k, n) in &tally.counts {
        eprintln!("  {n:>10}  {k}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    if !findings.is_empty() {
        let report: String = findings.iter().map(|f| format!("== input {} (seed {seed}): {}\n{}\n\n", f.index, f.what, f.input)).collect();
        let file = std::env::temp_dir().join(format!("migsim-fuzz-findings-{seed}-{from}.txt"));
        let _ = std::fs::write(&file, &report);
        let heads: Vec<String> = findings.iter().take(20).map(|f| format!("input {}: {}", f.index, f.what)).collect();
        panic!(
            "{} findings (+{more} more); all of them with their inputs in {}; reproduce one with MIGSIM_FUZZ_SEED={seed} \
             MIGSIM_FUZZ_FROM=<input> MIGSIM_FUZZ_INPUTS=1\n{}",
            findings.len(),
            file.display(),
            heads.join("\n")
        );
    }
    if done >= SLICE_INPUTS {
        // The slice must reach every kind of input, or it proves little.
        for k in [
            "scenario: error",
            "scenario: resolved",
            "run: simulated",
            "trace: read to the end",
            "trace: bad record",
            "trace: bad header",
            "command: status 0",
            "command: status 2",
        ] {
            assert!(tally.get(k) > 0, "the slice never reached `{k}`: {:?}", tally.counts);
        }
    }
}
