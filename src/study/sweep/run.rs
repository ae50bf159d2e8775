//! Running a sweep: every run of the plan on a pool of workers, streamed in order to
//! `sweep.csv.partial` (which `--resume` continues), renamed to `sweep.csv` when complete, then the
//! summary and charts.

use super::analyse::analyse;
use super::common::{Error, Outcome, pool, read_json};
use super::plan::{Plan, RunRows};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

/// Runs written between two flushes of the partial file: the work an interruption can lose.
const CHUNK: u64 = 512;

/// How far the runs handed out may run ahead of the next run to write: bounds the rows held in
/// memory while a slow run holds up the writing.
const WINDOW: u64 = 4 * CHUNK;

/// Run `work(j)` for every `j` of `runs` on the pool's `jobs` workers and hand the results to
/// `sink` in order of `j`, on this thread. Workers take the next index from a counter (no barrier
/// between batches, so both cores stay busy) and wait while they are `WINDOW` runs ahead of the
/// writer. Each worker keeps a cache for `work` (the scenario of its last point). Stops at the
/// first error, of `work` or of `sink`.
fn in_order<T: Send, C: Default>(
    pool: &rayon::ThreadPool,
    jobs: usize,
    runs: std::ops::Range<u64>,
    work: impl Fn(u64, &mut C) -> Result<T, Error> + Sync,
    mut sink: impl FnMut(T) -> Result<(), Error>,
) -> Result<(), Error> {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
    use std::sync::{Condvar, Mutex, mpsc};
    let next = AtomicU64::new(runs.start);
    let done = (Mutex::new(runs.start), Condvar::new());
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(u64, Result<T, Error>)>();
    let mut outcome = Ok(());
    pool.in_place_scope(|s| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, done, stop, work, end) = (&next, &done, &stop, &work, runs.end);
            s.spawn(move |_| {
                let mut cache = C::default();
                loop {
                    let j = next.fetch_add(1, Relaxed);
                    if j >= end || stop.load(Relaxed) {
                        break;
                    }
                    let mut d = done.0.lock().unwrap_or_else(|p| p.into_inner());
                    while j >= *d + WINDOW && !stop.load(Relaxed) {
                        d = done.1.wait(d).unwrap_or_else(|p| p.into_inner());
                    }
                    drop(d);
                    if stop.load(Relaxed) || tx.send((j, work(j, &mut cache))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting = std::collections::BTreeMap::new();
        let mut at = runs.start;
        'recv: while let Ok((j, r)) = rx.recv() {
            waiting.insert(j, r);
            while let Some(r) = waiting.remove(&at) {
                if let Err(e) = r.and_then(&mut sink) {
                    outcome = Err(e);
                    break 'recv;
                }
                at += 1;
            }
            *done.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
            done.1.notify_all();
        }
        // On an error, release the workers waiting for the writer; they stop at their next run.
        stop.store(true, Relaxed);
        let _guard = done.0.lock().unwrap_or_else(|p| p.into_inner());
        done.1.notify_all();
    });
    outcome
}

/// How to run it.
pub struct Options {
    pub jobs: usize,
    /// The folder for sweep.csv, summary.csv, the charts and sweep.json.
    pub dir: PathBuf,
    pub resume: bool,
    pub progress: bool,
    pub charts: bool,
}

fn progress_bar(total: u64, done: u64, show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} runs, {rate}, ETA {eta}")
        .expect("a valid template")
        .with_key("rate", |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0} runs/s", s.per_sec());
        })
        .progress_chars("=> ");
    pb.set_style(style);
    pb.set_position(done);
    pb.reset_eta();
    pb
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Other(format!("{}: {e}", p.display()))
}

/// Run the sweep into `opt.dir`: validate every point, stream the runs to `sweep.csv.partial` in
/// order (continuing it with `--resume`), rename it to `sweep.csv`, then write the summary, the
/// charts and `sweep.json`. With `--resume`, a sweep already finished (its `sweep.json` names this
/// very sweep and no partial file is left) runs nothing again: a rerun Slurm task costs nothing.
pub fn run(plan: &Plan, opt: &Options) -> Result<Outcome, Error> {
    let pool = pool(opt.jobs)?;
    pool.install(|| plan.base.validate(plan.points.clone())).map_err(|e| Error::Input(e.to_string()))?;
    let dir = &opt.dir;
    crate::files::create_dir_all(dir).map_err(|e| Error::Other(format!("{}: cannot create: {e}", dir.display())))?;
    let csv_path = dir.join("sweep.csv");
    let manifest_path = dir.join("sweep.json");
    let (_, fingerprint) = plan.ids();
    let total = plan.runs();
    let finished = opt.resume
        && !crate::files::partial_path(&csv_path).is_file()
        && csv_path.is_file()
        && read_json(&manifest_path).is_some_and(|m| m["fingerprint"].as_str() == Some(fingerprint.as_str()));
    let resumed = if finished { total } else { stream(plan, opt, &pool, &csv_path, &fingerprint)? };

    let log: Vec<String> = plan.base.spec.axes.iter().filter(|a| a.log).map(|a| a.column.clone()).collect();
    let charts = analyse(dir, &plan.name, &log, opt.charts, &pool)?;
    let mut m = plan.manifest(total, &charts);
    // The rows written, so that `migsim merge` notices a row lost or added since.
    m["rows"] = serde_json::json!(count_rows(&csv_path)?);
    let m = serde_json::to_string_pretty(&m).map_err(Error::other)?;
    crate::files::write_atomic(&manifest_path, m.as_bytes()).map_err(io(&manifest_path))?;
    let _ = std::fs::remove_file(dir.join("sweep.partial.json"));
    Ok(Outcome { runs: total, resumed, charts: charts.len(), csv: csv_path })
}

/// The data rows of a finished sweep.csv (its records, less the header; a quoted cell may hold a
/// line break, so the CSV reader counts them).
fn count_rows(csv_path: &Path) -> Result<u64, Error> {
    let mut r = csv::Reader::from_path(csv_path).map_err(|e| Error::Other(format!("{}: {e}", csv_path.display())))?;
    let mut rec = csv::ByteRecord::new();
    let mut n = 0;
    while r.read_byte_record(&mut rec).map_err(|e| Error::Other(format!("{}: {e}", csv_path.display())))? {
        n += 1;
    }
    Ok(n)
}

/// Stream the plan's runs to `sweep.csv.partial` (continued with `--resume` where it belongs to
/// the sweep of `fingerprint`) and rename it to `csv_path`. Returns the runs that were already
/// written before.
fn stream(plan: &Plan, opt: &Options, pool: &rayon::ThreadPool, csv_path: &Path, fingerprint: &str) -> Result<u64, Error> {
    let partial = crate::files::partial_path(csv_path);
    let partial_manifest = opt.dir.join("sweep.partial.json");
    let mut state = (None, 0, 0);
    if opt.resume && partial.is_file() {
        let theirs = read_json(&partial_manifest).and_then(|m| m["fingerprint"].as_str().map(String::from));
        let why = match theirs {
            None => format!("{} is missing or unreadable, so which sweep it belongs to is unknown", partial_manifest.display()),
            Some(f) if f != fingerprint => {
                "it belongs to another sweep (the scenario, its axes, seeds, strategies, shard or migsim changed)".to_string()
            }
            Some(_) => String::new(),
        };
        if !why.is_empty() {
            return Err(Error::Input(format!("{}: {why}; run without --resume to start over", partial.display())));
        }
        state = plan.resume_state(&partial)?;
    } else {
        crate::files::write_atomic(&partial_manifest, plan.manifest(0, &[]).to_string().as_bytes()).map_err(io(&partial_manifest))?;
    }
    let (mut header, resumed, good_bytes) = state;
    let file = std::fs::OpenOptions::new().create(true).write(true).truncate(false).open(&partial).map_err(io(&partial))?;
    file.set_len(if header.is_some() { good_bytes } else { 0 }).map_err(io(&partial))?;
    let mut w = std::io::BufWriter::new(file);
    w.seek(std::io::SeekFrom::End(0)).map_err(io(&partial))?;

    let total = plan.runs();
    let pb = progress_bar(total, resumed, opt.progress);
    let mut written = resumed;
    in_order(
        pool,
        opt.jobs,
        resumed..total,
        |j, cache| plan.run(j, cache),
        |r: RunRows| {
            if header.is_none() {
                let h = plan.header(&r.names)?;
                w.write_all(&h).map_err(io(&partial))?;
                header = Some(h);
            }
            w.write_all(&r.csv).map_err(io(&partial))?;
            written += 1;
            pb.inc(1);
            // A kill loses at most the last CHUNK runs (a cut last row is dropped by --resume).
            if written.is_multiple_of(CHUNK) {
                w.flush().map_err(io(&partial))?;
            }
            Ok(())
        },
    )?;
    pb.finish_and_clear();
    if header.is_none() {
        // An empty shard: still a valid CSV, with the columns of any run.
        let probe = plan.first_point();
        let names = probe.run(0, &mut None)?.names;
        w.write_all(&plan.header(&names)?).map_err(io(&partial))?;
    }
    let f = w.into_inner().map_err(|e| Error::Other(format!("{}: {}", partial.display(), e.error())))?;
    f.sync_all().map_err(io(&partial))?;
    std::fs::rename(&partial, csv_path).map_err(io(csv_path))?;
    Ok(resumed)
}
