//! `migsim advise`: which strategy and settings meet an operator's objectives (downtime, total
//! time, bytes, application slowdown...) for this VM and this network, found by simulating
//! candidates. The concepts, one file each:
//!
//! - `objective`: the figures advise knows and `--objective` texts;
//! - `knob` and `space`: the settings an operator controls, the values tried, the candidates and
//!   their `--set` overrides;
//! - `runner`: a candidate's scenario, seeds and runs; `figures`: what a run yields and what a
//!   candidate's runs add up to;
//! - `store`: the journal of runs that `--resume` reads back;
//! - `search`: which candidates to run within the budget, in parallel;
//! - `rank`: feasibility, the recommendation, the closest miss, the Pareto front;
//! - `why`: the sentence behind each verdict; `apply`: QMP commands and virsh flags;
//! - `advice` and `report`: the advice assembled, as JSON, text, CSV rows and chart points.
//!
//! This file runs the whole of it and writes the files (through `output`, atomically). It knows
//! nothing of the command line.

pub mod advice;
pub mod apply;
pub mod figures;
pub mod knob;
pub mod objective;
pub mod rank;
pub mod report;
pub mod runner;
pub mod search;
pub mod space;
pub mod store;
pub mod why;

use crate::study::sweep::Error;
use advice::{Advice, Context, KnobInfo, SearchInfo};
use objective::{Metric, Objective};
use rank::Judge;
use std::path::{Path, PathBuf};

/// Replications of a candidate while searching, when the workload draws random numbers.
pub const REPLICATIONS: u64 = 3;
/// Replications of the finalists (the recommendation, its rivals, each strategy's best).
pub const FINAL_REPLICATIONS: u64 = 10;
/// Runs (candidate x replication) the search may do unless told.
pub const BUDGET: u64 = 1000;

/// What to advise on.
#[derive(Debug, Clone)]
pub struct Request {
    pub file: PathBuf,
    pub sets: Vec<String>,
    pub seed: Option<u64>,
    pub objectives: Vec<Objective>,
    pub minimize: Metric,
    /// Strategies and knobs ruled out.
    pub exclude: Vec<String>,
    pub budget: u64,
    /// Replications while searching (default: REPLICATIONS, or 1 for a workload that draws nothing).
    pub replications: Option<u64>,
    /// advise's cap on a run's simulated time (default: see `runner::Runner::load`).
    pub max_time_ns: Option<u64>,
    pub jobs: usize,
    pub resume: bool,
    /// The folder for the files (the command line's `<out>/<scenario>/advise/`).
    pub dir: PathBuf,
    pub progress: bool,
    pub charts: bool,
}

/// The advice and where it was written.
pub struct Outcome {
    pub advice: Advice,
    pub text: String,
    pub dir: PathBuf,
    pub files: Vec<String>,
}

fn write(dir: &Path, name: &str, data: &[u8]) -> Result<(), Error> {
    let p = dir.join(name);
    crate::files::write_atomic(&p, data).map_err(|e| Error::Other(format!("{}: cannot write: {e}", p.display())))
}

/// Search, judge, and write `advice.txt`, `advice.json`, `candidates.csv`, `front.csv`,
/// `front.png`, `front.svg` and `runs.csv` into `req.dir`.
pub fn advise(req: &Request) -> Result<Outcome, Error> {
    let started = std::time::Instant::now();
    if req.budget == 0 {
        return Err(Error::Input("--budget 0: give at least one run per strategy, e.g. --budget 200".into()));
    }
    let (runner, sc) = runner::Runner::load(&req.file, &req.sets, req.seed, req.max_time_ns)?;
    let space = space::Space::new(&sc, runner.full_form, &req.sets, &req.exclude, &req.objectives).map_err(Error::Input)?;
    // Every value tried must read as a scenario: the reader's message if not.
    for d in space.dims.iter().filter(|d| d.values.len() > 1) {
        let Some(st) = space.strategies.iter().find(|s| d.knob.acts_on(**s)) else { continue };
        for v in &d.values {
            let c = space.baseline(*st).with(&space, d.knob, v.clone());
            runner.scenario(&c.overrides(&space)).map_err(|e| match e {
                Error::Input(m) => Error::Input(format!("{m} (advise's value {} for {})", v.words(), d.knob.name())),
                other => other,
            })?;
        }
    }
    let vm = &sc.vms[sc.migrations[0].vm];
    let stochastic = space::stochastic(&vm.workload);
    let reps = match req.replications {
        Some(0) => return Err(Error::Input("--replications 0: give at least 1".into())),
        Some(n) => n,
        None if stochastic => REPLICATIONS,
        None => 1,
    };
    let final_reps = if stochastic { reps.max(FINAL_REPLICATIONS) } else { reps };
    let min_budget = space.strategies.len() as u64 * reps;
    if req.budget < min_budget {
        return Err(Error::Input(format!(
            "--budget {}: too small to run each of the {} strategies' own settings {reps} time{}; give at least {min_budget}",
            req.budget,
            space.strategies.len(),
            if reps == 1 { "" } else { "s" }
        )));
    }
    let dir = req.dir.clone();
    let header = search::header();
    let mut store = store::Store::open(&dir, &header, &runner.fingerprint(), req.resume)?;
    let resumed = store.resumed;
    let settings = search::Settings { budget: req.budget, reps, final_reps, jobs: req.jobs, progress: req.progress };
    let judge = Judge { objectives: &req.objectives, minimize: req.minimize };
    let (evals_rows, info, search_view) = {
        let mut search = search::Search::new(space, &runner, &mut store, judge, &settings)?;
        search.run()?;
        let rows = std::mem::take(&mut search.rows);
        let info = search_info(&search, &runner, &settings, resumed, started.elapsed().as_secs_f64());
        (rows, info, search)
    };
    let facts = why::Facts::of(&sc);
    let ctx = Context { runner: &runner, scenario: &sc, facts: &facts, objectives: &req.objectives, minimize: req.minimize };
    let advice = ctx.advice(&search_view, info);
    let text = report::text(&advice);

    // The files.
    let judge = Judge { objectives: &req.objectives, minimize: req.minimize };
    let entries = search_view.entries();
    let front = judge.front(&entries);
    let rec = judge.ranking(&entries).first().copied();
    let rows: Vec<Vec<String>> = (0..search_view.evals.len())
        .map(|i| report::table_row(&search_view, i, entries[i].summary.feasible(&req.objectives), front.contains(&i), Some(i) == rec))
        .collect();
    let front_rows: Vec<Vec<String>> = front.iter().map(|&i| rows[i].clone()).collect();
    let table = report::table_header();
    let dots = report::dots(&search_view, &front, rec);
    let title = format!("{} ({} settings tried)", sc.name, search_view.evals.len());
    drop(entries);
    drop(search_view);
    let runs = store.finish(&header, &evals_rows)?;
    write(&dir, "candidates.csv", &crate::output::advise::csv_table(&table, &rows)?)?;
    write(&dir, "front.csv", &crate::output::advise::csv_table(&table, &front_rows)?)?;
    let mut files = vec!["advice.txt".to_string(), "advice.json".into(), "candidates.csv".into(), "front.csv".into()];
    if req.charts {
        let charts = crate::output::advise::front_chart(&title, &dots);
        for ext in ["png", "svg"] {
            crate::output::plot::write(&dir.join(format!("front.{ext}")), &charts)?;
            files.push(format!("front.{ext}"));
        }
    }
    files.push(runs.file_name().map_or("runs.csv".into(), |n| n.to_string_lossy().to_string()));
    write(&dir, "advice.txt", text.as_bytes())?;
    let json = serde_json::to_string_pretty(&advice).map_err(Error::other)?;
    write(&dir, "advice.json", json.as_bytes())?;
    let done = serde_json::json!({ "fingerprint": runner.fingerprint(), "scenario": sc.name, "migsim_version": env!("CARGO_PKG_VERSION") });
    write(&dir, store::DONE, done.to_string().as_bytes())?;
    Ok(Outcome { advice, text, dir, files })
}

fn search_info(s: &search::Search, runner: &runner::Runner, set: &search::Settings, resumed: usize, seconds: f64) -> SearchInfo {
    let cap = runner.cap.map(|c| {
        if c.explicit {
            format!("runs stop at {} of simulated time (--max-time)", crate::units::format_duration(c.ns))
        } else {
            format!(
                "runs stop at {} of simulated time ({} times the time to copy memory once, at least a minute; the scenario allows {}; --max-time changes it)",
                crate::units::format_duration(c.ns),
                runner::CAP_COPIES,
                crate::units::format_duration(c.scenario_ns)
            )
        }
    });
    SearchInfo {
        mode: if s.log.exhaustive { "exhaustive" } else { "adaptive" },
        settings: s.evals.len(),
        runs: s.log.runs,
        simulated: s.log.simulated,
        resumed,
        budget: set.budget,
        replications: set.reps,
        final_replications: set.final_reps,
        screened: s.log.screened,
        sweeps: s.log.sweeps,
        values_refined: s.log.refined,
        front_refined: s.log.front_refined,
        confirmed: s.log.confirmed,
        exhausted: s.log.exhausted,
        seconds,
        cap,
        strategies: s.space.strategies.iter().map(|x| x.name()).collect(),
        excluded: s.space.excluded.clone(),
        knobs: s
            .space
            .dims
            .iter()
            .map(|d| KnobInfo { name: d.knob.name(), values: d.values.iter().map(|v| v.words()).collect(), fixed: d.fixed.clone() })
            .collect(),
    }
}
