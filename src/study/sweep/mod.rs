//! Parameter sweeps: the runs of a scenario over the cartesian product of its `[sweep]` axes,
//! strategies and replications, run in parallel and streamed in order to `sweep.csv` (through
//! `sweep.csv.partial`, which `--resume` continues), then `summary.csv` and the charts; shards of
//! the point list (`--shard I/N`) and their merge (`migsim merge`).
//!
//! Run order, the order of the rows: point (the last axis varies fastest), then strategy, then
//! replication, then the migrations of the run. Every run is a pure function of the scenario, the
//! point and its seed, so the file does not depend on the number of threads.

pub mod spec;
pub mod stats;

use crate::model::Scenario;
use crate::model::Strategy;
use crate::model::result::MigrationResult;
use rayon::prelude::*;
use serde_json::json;
use spec::{Base, Fnv};
use stats::{Layout, Staged};
use std::io::{BufRead, Seek, Write};
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

/// A failure: `Input` for a mistake in what the user gave (exit status 2), `Other` for the rest.
#[derive(Debug)]
pub enum Error {
    Input(String),
    Other(String),
}

impl Error {
    fn other(e: impl std::fmt::Display) -> Self {
        Error::Other(e.to_string())
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::Other(format!("{e:#}"))
    }
}

/// What to run: the scenario and its axes, the strategies, the base seed and this shard's points.
#[derive(Clone)]
pub struct Plan {
    pub base: Base,
    pub name: String,
    pub seed: u64,
    /// `--strategy`: these strategies replace the scenario's (see `Scenario::use_strategies`).
    strategy: Option<Vec<Strategy>>,
    pub strategies: Vec<&'static str>,
    pub total_points: u64,
    pub points: std::ops::Range<u64>,
    pub shard: Option<(u64, u64)>,
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

/// What a sweep or a merge did, for its final line.
pub struct Outcome {
    pub runs: u64,
    pub resumed: u64,
    pub charts: usize,
    pub csv: PathBuf,
}

/// One run's rows as CSV text, and the names of the result fields (the metric columns).
struct RunRows {
    names: Vec<String>,
    csv: Vec<u8>,
}

/// The scalar fields of a result in declaration order, as CSV cells. Arrays and nested objects
/// (the timeline) are left out; a field added to `MigrationResult` appears without any change here.
pub fn result_fields(m: &MigrationResult) -> Result<Vec<(String, String)>, Error> {
    use serde::de::{Deserializer, MapAccess, Visitor};
    struct Fields(Vec<(String, String)>);
    impl<'de> serde::Deserialize<'de> for Fields {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Fields;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                    let mut out = Vec::new();
                    while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                        let cell = match v {
                            serde_json::Value::Null => String::new(),
                            serde_json::Value::Bool(b) => b.to_string(),
                            serde_json::Value::String(s) => s,
                            // Integers stay integers; floats print as Rust does (shortest, no exponent).
                            serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                                (Some(u), _) => u.to_string(),
                                (_, Some(i)) => i.to_string(),
                                _ => n.as_f64().map_or(String::new(), |x| x.to_string()),
                            },
                            serde_json::Value::Array(_) | serde_json::Value::Object(_) => continue,
                        };
                        out.push((k, cell));
                    }
                    Ok(Fields(out))
                }
            }
            d.deserialize_map(V)
        }
    }
    // Through JSON text, whose keys keep the declaration order (a serde_json map would sort them).
    let text = serde_json::to_string(m).map_err(Error::other)?;
    serde_json::from_str::<Fields>(&text).map(|f| f.0).map_err(Error::other)
}

fn fnv(parts: &[&str]) -> String {
    let mut h = Fnv::default();
    for p in parts {
        h.write(p.as_bytes());
        h.write(&[0]);
    }
    format!("{:016x}", h.0)
}

impl Plan {
    /// The plan of a sweep: resolves the scenario without sweep values (its errors come first),
    /// applies `--seed` and `--strategy`, and slices the points for `--shard I/N` (1-based).
    pub fn new(base: Base, seed: Option<u64>, strategy: Option<Vec<Strategy>>, shard: Option<(u64, u64)>) -> Result<Plan, Error> {
        let mut sc = base.scenario().map_err(|e| Error::Input(e.to_string()))?;
        if let Some(list) = &strategy {
            sc.use_strategies(list.clone());
        }
        let total_points = base.spec.points().ok_or_else(|| Error::Input(format!("{}: the sweep has more than 2^64 points", base.file)))?;
        let per_point = (sc.strategies.len() as u64).checked_mul(base.spec.replications);
        if per_point.and_then(|n| n.checked_mul(total_points)).is_none() {
            return Err(Error::Input(format!("{}: the sweep has more than 2^64 runs", base.file)));
        }
        let points = match shard {
            Some((i, n)) => {
                if n == 0 || i == 0 || i > n {
                    return Err(Error::Input(format!("--shard {i}/{n}: shards are numbered 1 to N, e.g. --shard 1/4 to --shard 4/4")));
                }
                let cut = |k: u64| (total_points as u128 * k as u128 / n as u128) as u64;
                cut(i - 1)..cut(i)
            }
            None => 0..total_points,
        };
        Ok(Plan {
            name: sc.name.clone(),
            seed: seed.unwrap_or(sc.seed),
            strategy,
            strategies: sc.strategies.iter().map(|s| s.name()).collect(),
            base,
            total_points,
            points,
            shard,
        })
    }

    fn per_point(&self) -> u64 {
        self.strategies.len() as u64 * self.base.spec.replications
    }

    /// The runs of this shard.
    pub fn runs(&self) -> u64 {
        (self.points.end - self.points.start) * self.per_point()
    }

    /// Run `j` of this shard as (point, strategy index, replication).
    fn locate(&self, j: u64) -> (u64, usize, u64) {
        let r = self.base.spec.replications;
        let g = self.points.start * self.per_point() + j;
        (g / self.per_point(), ((g % self.per_point()) / r) as usize, g % r)
    }

    /// The scenario of point `p`, with `--strategy` applied.
    fn scenario(&self, p: u64) -> Result<Scenario, Error> {
        let mut sc = self.base.point(p).map_err(|e| Error::Input(e.to_string()))?;
        if let Some(list) = &self.strategy {
            sc.use_strategies(list.clone());
        }
        if sc.strategies.len() != self.strategies.len() {
            return Err(Error::Input(format!(
                "{}: the sweep point {} changes the list of strategies",
                self.base.file,
                self.base.spec.describe(p)
            )));
        }
        Ok(sc)
    }

    /// The columns before the metrics.
    fn key_columns(&self) -> Vec<String> {
        let mut h: Vec<String> = self.base.spec.axes.iter().map(|a| a.column.clone()).collect();
        h.extend(["replication", "seed", "strategy", "vm"].map(String::from));
        h
    }

    /// Simulate run `j`; `cache` keeps the last point's scenario (a worker's runs are mostly of one
    /// point, and resolving it costs a parse).
    fn run(&self, j: u64, cache: &mut Option<(u64, Scenario)>) -> Result<RunRows, Error> {
        let (p, s, k) = self.locate(j);
        if cache.as_ref().is_none_or(|(q, _)| *q != p) {
            *cache = Some((p, self.scenario(p)?));
        }
        let sc = &mut cache.as_mut().expect("just filled").1;
        sc.seed = self.base.spec.seed(self.seed, p, k);
        let results = crate::model::sim::run(sc, sc.strategies[s]);
        let axis: Vec<String> = self.base.spec.values(p).iter().map(|v| v.column.clone()).collect();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut names = Vec::new();
        for m in &results {
            let fields = result_fields(m)?;
            let mut row = axis.clone();
            row.push(k.to_string());
            row.push(sc.seed.to_string());
            row.push(m.strategy.clone());
            row.push(m.vm.clone());
            names.clear();
            for (n, v) in fields {
                if n != "vm" && n != "strategy" {
                    names.push(n);
                    row.push(v);
                }
            }
            w.write_record(&row).map_err(Error::other)?;
        }
        Ok(RunRows { names, csv: w.into_inner().map_err(Error::other)? })
    }

    /// The full header, from a run's metric names.
    fn header(&self, names: &[String]) -> Result<Vec<u8>, Error> {
        let mut h = self.key_columns();
        h.extend(names.iter().cloned());
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&h).map_err(Error::other)?;
        w.into_inner().map_err(Error::other)
    }

    /// Identifies the sweep (scenario text, overrides, axes, seeds, strategies, version); the
    /// fingerprint adds the shard. A partial file is resumed only under the same fingerprint.
    fn ids(&self) -> (String, String) {
        let axes = format!(
            "{:?}",
            self.base.spec.axes.iter().map(|a| (&a.key, a.log, a.values.iter().map(|v| &v.toml).collect::<Vec<_>>())).collect::<Vec<_>>()
        );
        let seed = self.seed.to_string();
        let reps = self.base.spec.replications.to_string();
        let strategies = self.strategies.join(",");
        let sets = self.base.sets.join("\n");
        let id_parts = [env!("CARGO_PKG_VERSION"), &self.base.text, &sets, &axes, &seed, &reps, &strategies];
        let id = fnv(&id_parts);
        let slice = format!("{:?}", self.points);
        (id.clone(), fnv(&[&id, &slice]))
    }

    fn manifest(&self, runs: u64, charts: &[String]) -> serde_json::Value {
        let (id, fingerprint) = self.ids();
        json!({
            "scenario": self.name,
            "file": self.base.file,
            "seed": self.seed,
            "migsim_version": env!("CARGO_PKG_VERSION"),
            "sweep_id": id,
            "fingerprint": fingerprint,
            "axes": self.base.spec.axes.iter().map(|a| json!({
                "key": a.key,
                "column": a.column,
                "scale": if a.log { "log" } else { "linear" },
                "values": a.values.iter().map(|v| v.column.clone()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "replications": self.base.spec.replications,
            "strategies": self.strategies,
            "points": self.total_points,
            "shard": self.shard.map(|(i, n)| json!({ "index": i, "count": n })),
            "first_point": self.points.start,
            "end_point": self.points.end,
            "runs": runs,
            "charts": charts,
        })
    }

    /// How much of a partial CSV is good: its header (None if even that is cut), the runs whose
    /// rows are all there and are the expected ones, and the bytes they take. Stops at the first
    /// cut line, malformed row or unexpected row.
    fn resume_state(&self, partial: &Path) -> Result<(Option<Vec<u8>>, u64, u64), Error> {
        let f = std::fs::File::open(partial).map_err(|e| Error::Other(format!("{}: cannot read: {e}", partial.display())))?;
        let mut r = std::io::BufReader::new(f);
        let mut line = Vec::new();
        let read_line = |r: &mut std::io::BufReader<std::fs::File>, line: &mut Vec<u8>| -> Result<bool, Error> {
            line.clear();
            let n = r.read_until(b'\n', line).map_err(Error::other)?;
            Ok(n > 0 && line.ends_with(b"\n"))
        };
        let parse = |line: &[u8]| -> Option<Vec<String>> {
            let mut rd = csv::ReaderBuilder::new().has_headers(false).from_reader(line);
            let rec = rd.records().next()?.ok()?;
            Some(rec.iter().map(String::from).collect())
        };
        if !read_line(&mut r, &mut line)? {
            return Ok((None, 0, 0));
        }
        let header = line.clone();
        let Some(cols) = parse(&header) else { return Ok((None, 0, 0)) };
        let keys = self.key_columns();
        if !cols.starts_with(&keys) {
            return Ok((None, 0, 0));
        }
        let axes = self.base.spec.axes.len();
        let (mut done, mut good, mut offset, mut rows) = (0u64, header.len() as u64, header.len() as u64, 0usize);
        let mut migrations: Option<(u64, usize)> = None;
        while done < self.runs() && read_line(&mut r, &mut line)? {
            let Some(rec) = parse(&line) else { break };
            let (p, _, k) = self.locate(done);
            let seed = self.base.spec.seed(self.seed, p, k).to_string();
            let expected = self.base.spec.values(p);
            let same = rec.len() == cols.len()
                && expected.iter().zip(&rec).all(|(v, c)| &v.column == c)
                && rec[axes] == k.to_string()
                && rec[axes + 1] == seed;
            if !same {
                break;
            }
            let n = match migrations {
                Some((q, n)) if q == p => n,
                _ => {
                    let n = self.scenario(p)?.migrations.len();
                    migrations = Some((p, n));
                    n
                }
            };
            rows += 1;
            offset += line.len() as u64;
            if rows == n {
                done += 1;
                good = offset;
                rows = 0;
            }
        }
        Ok((Some(header), done, good))
    }
}

fn read_json(p: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

fn pool(jobs: usize) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new().num_threads(jobs).build().map_err(Error::other)
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

/// Run the sweep into `opt.dir`: validate every point, stream the runs to `sweep.csv.partial` in
/// order (continuing it with `--resume`), rename it to `sweep.csv`, then write the summary, the
/// charts and `sweep.json`.
pub fn run(plan: &Plan, opt: &Options) -> Result<Outcome, Error> {
    let pool = pool(opt.jobs)?;
    pool.install(|| plan.base.validate(plan.points.clone())).map_err(|e| Error::Input(e.to_string()))?;
    let dir = &opt.dir;
    std::fs::create_dir_all(dir).map_err(|e| Error::Other(format!("{}: cannot create: {e}", dir.display())))?;
    let csv_path = dir.join("sweep.csv");
    let partial = crate::files::partial_path(&csv_path);
    let partial_manifest = dir.join("sweep.partial.json");
    let (_, fingerprint) = plan.ids();
    fn io(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
        move |e| Error::Other(format!("{}: {e}", p.display()))
    }

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
        &pool,
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
        let probe = Plan { points: 0..1, ..plan.clone() };
        let names = probe.run(0, &mut None)?.names;
        w.write_all(&plan.header(&names)?).map_err(io(&partial))?;
    }
    let f = w.into_inner().map_err(|e| Error::Other(format!("{}: {}", partial.display(), e.error())))?;
    f.sync_all().map_err(io(&partial))?;
    std::fs::rename(&partial, &csv_path).map_err(io(&csv_path))?;

    let log: Vec<String> = plan.base.spec.axes.iter().filter(|a| a.log).map(|a| a.column.clone()).collect();
    let charts = analyse(dir, &plan.name, &log, opt.charts, &pool)?;
    let manifest_path = dir.join("sweep.json");
    let m = serde_json::to_string_pretty(&plan.manifest(total, &charts)).map_err(Error::other)?;
    crate::files::write_atomic(&manifest_path, m.as_bytes()).map_err(io(&manifest_path))?;
    let _ = std::fs::remove_file(&partial_manifest);
    Ok(Outcome { runs: total, resumed, charts: charts.len(), csv: csv_path })
}

/// `summary.csv` and (if `charts`) the sweep charts of `dir/sweep.csv`, drawn in parallel. Charts
/// of an earlier sweep in the folder (listed in its sweep.json) that this one does not draw are
/// removed. Returns the chart file names.
fn analyse(dir: &Path, name: &str, log_columns: &[String], charts: bool, pool: &rayon::ThreadPool) -> Result<Vec<String>, Error> {
    let csv = dir.join("sweep.csv");
    let l = Layout::read(&csv)?;
    let mut data = if charts { stats::sweep_charts(&l, name, log_columns) } else { Vec::new() };
    stats::scan(&csv, &l, Some(&dir.join("summary.csv")), &mut data)?;
    let drawn: Vec<Result<Vec<String>, Error>> = pool.install(|| {
        data.par_iter()
            .map(|d| {
                let chart = d.chart(&l);
                if chart.series.iter().all(|s| s.points.is_empty()) {
                    return Ok(Vec::new());
                }
                let mut names = Vec::new();
                for ext in ["png", "svg"] {
                    let file = format!("{}.{ext}", d.stem);
                    crate::output::plot::write(&dir.join(&file), std::slice::from_ref(&chart))?;
                    names.push(file);
                }
                Ok(names)
            })
            .collect()
    });
    let mut names = Vec::new();
    for d in drawn {
        names.extend(d?);
    }
    if let Some(old) = read_json(&dir.join("sweep.json")) {
        for f in old["charts"].as_array().into_iter().flatten().filter_map(|f| f.as_str()) {
            // Only plain names that sweep.json itself listed, never a path.
            if !names.iter().any(|n| n == f) && !f.contains(['/', '\\']) && (f.ends_with(".png") || f.ends_with(".svg")) {
                let _ = std::fs::remove_file(dir.join(f));
            }
        }
    }
    Ok(names)
}

/// `migsim merge OUT a.csv b.csv ...`: join the CSVs of shards into `OUT/sweep.csv` and rebuild the
/// summary and charts. With each input's sweep.json beside it, the shards are put in point order
/// and must come from one sweep and cover it without gap or overlap; without, they are joined in
/// the order given.
pub fn merge(out: &Path, inputs: &[PathBuf], jobs: usize, charts: bool) -> Result<Outcome, Error> {
    if inputs.is_empty() {
        return Err(Error::Input("merge needs at least one CSV to join: migsim merge OUT a.csv b.csv ...".into()));
    }
    let first_line = |p: &Path| -> Result<Vec<u8>, Error> {
        let f = std::fs::File::open(p).map_err(|e| Error::Input(format!("{}: cannot read: {e}", p.display())))?;
        let mut line = Vec::new();
        std::io::BufReader::new(f).read_until(b'\n', &mut line).map_err(Error::other)?;
        Ok(line)
    };
    let mut items: Vec<(PathBuf, Vec<u8>, Option<serde_json::Value>)> = Vec::new();
    for p in inputs {
        let header = first_line(p)?;
        Layout::read(p).map_err(|e| Error::Input(format!("{e:#}")))?;
        if let Some((q, h, _)) = items.first()
            && *h != header
        {
            return Err(Error::Input(format!(
                "{}: its columns differ from those of {}; only shards of one sweep can be merged",
                p.display(),
                q.display()
            )));
        }
        items.push((p.clone(), header, read_json(&p.with_file_name("sweep.json"))));
    }
    let mut merged_manifest = None;
    if items.iter().all(|(_, _, m)| m.is_some()) {
        let first = items[0].2.clone().expect("all have one");
        let id = first["sweep_id"].clone();
        if let Some((p, _, _)) = items.iter().find(|(_, _, m)| m.as_ref().is_some_and(|m| m["sweep_id"] != id)) {
            return Err(Error::Input(format!("{}: it comes from another sweep than {}", p.display(), items[0].0.display())));
        }
        items.sort_by_key(|(_, _, m)| m.as_ref().and_then(|m| m["first_point"].as_u64()).unwrap_or(0));
        let total = first["points"].as_u64().unwrap_or(0);
        let mut next = 0;
        for (p, _, m) in &items {
            let m = m.as_ref().expect("all have one");
            let (a, b) = (m["first_point"].as_u64().unwrap_or(0), m["end_point"].as_u64().unwrap_or(0));
            if a != next {
                let what = if a > next {
                    format!("points {next} to {} are in none of them (a shard is missing)", a - 1)
                } else {
                    format!("{} repeats points {a} to {}", p.display(), next.min(b) - 1)
                };
                return Err(Error::Input(format!("the shards do not add up to the sweep: {what}")));
            }
            next = b;
        }
        if next != total {
            return Err(Error::Input(format!(
                "the shards do not add up to the sweep: points {next} to {} are in none of them (a shard is missing)",
                total - 1
            )));
        }
        let mut m = first;
        m["shard"] = serde_json::Value::Null;
        m["first_point"] = json!(0);
        m["end_point"] = json!(total);
        m["runs"] = json!(items.iter().map(|(_, _, m)| m.as_ref().and_then(|m| m["runs"].as_u64()).unwrap_or(0)).sum::<u64>());
        merged_manifest = Some(m);
    }

    std::fs::create_dir_all(out).map_err(|e| Error::Other(format!("{}: cannot create: {e}", out.display())))?;
    let csv_path = out.join("sweep.csv");
    let mut staged = Staged::create(&csv_path)?;
    staged.w.write_all(&items[0].1).map_err(Error::other)?;
    let mut rows = 0u64;
    for (p, header, _) in &items {
        let f = std::fs::File::open(p).map_err(|e| Error::Input(format!("{}: cannot read: {e}", p.display())))?;
        let mut r = std::io::BufReader::new(f);
        r.seek(std::io::SeekFrom::Start(header.len() as u64)).map_err(Error::other)?;
        let mut line = Vec::new();
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line).map_err(Error::other)? == 0 {
                break;
            }
            if !line.ends_with(b"\n") {
                line.push(b'\n');
            }
            staged.w.write_all(&line).map_err(Error::other)?;
            rows += 1;
        }
    }
    staged.finish()?;

    let log: Vec<String> = merged_manifest
        .as_ref()
        .and_then(|m| m["axes"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter(|a| a["scale"] == "log")
        .filter_map(|a| a["column"].as_str().map(String::from))
        .collect();
    let name = merged_manifest.as_ref().and_then(|m| m["scenario"].as_str().map(String::from)).unwrap_or_else(|| "sweep".into());
    let names = analyse(out, &name, &log, charts, &pool(jobs)?)?;
    let runs = merged_manifest.as_ref().and_then(|m| m["runs"].as_u64()).unwrap_or(rows);
    let mut m = merged_manifest.unwrap_or_else(|| json!({ "scenario": name, "runs": runs }));
    m["charts"] = json!(names);
    let manifest_path = out.join("sweep.json");
    crate::files::write_atomic(&manifest_path, serde_json::to_string_pretty(&m).map_err(Error::other)?.as_bytes())
        .map_err(|e| Error::Other(format!("{}: {e}", manifest_path.display())))?;
    Ok(Outcome { runs, resumed: 0, charts: names.len(), csv: csv_path })
}

/// `migsim plot`: a chart of `y` against `x` from any sweep CSV, one line per value of the `by`
/// columns, the mean and its 95 % confidence interval at each x.
pub fn plot(csv: &Path, x: &str, y: &str, by: &[String], log_x: bool, out: &Path) -> Result<(), Error> {
    let l = Layout::read(csv).map_err(|e| Error::Input(format!("{e:#}")))?;
    let input = |e: String| Error::Input(format!("{}: {e}", csv.display()));
    let xi = l.need(x, "--x").map_err(input)?;
    let yi = l.need(y, "--y").map_err(input)?;
    if !l.numeric[yi] {
        return Err(input(format!(
            "--y `{y}` does not hold numbers; numeric columns: {}",
            l.metrics().iter().map(|&i| l.header[i].as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let by = by
        .iter()
        .filter(|b| !b.is_empty() && b.as_str() != "none")
        .map(|b| l.need(b, "--by").map_err(input))
        .collect::<Result<Vec<_>, _>>()?;
    if log_x && !l.numeric[xi] {
        return Err(input(format!("--log-x needs numbers on the x axis, but `{x}` holds words")));
    }
    let title = format!("{} vs {}", stats::pretty(y), stats::pretty(x));
    let mut data = [stats::ChartData::new(xi, yi, by, log_x, title, String::new())];
    stats::scan(csv, &l, None, &mut data)?;
    if log_x && data[0].chart(&l).series.iter().flat_map(|s| &s.points).any(|p| p.x <= 0.0) {
        return Err(input(format!("--log-x needs x values above zero, but `{x}` has zero or negative ones")));
    }
    crate::output::plot::write(out, &[data[0].chart(&l)]).map_err(|e| {
        let s = format!("{e:#}");
        if s.contains("must end in") { Error::Input(s) } else { Error::Other(s) }
    })
}
