//! `migsim advise`: which strategy and settings meet the objectives given with `--objective`,
//! minimizing one figure; the search and its report are `study::advise`.

use super::common::{Failure, ScenarioArgs, count, jobs, load, out, safe_name};
use crate::study::advise::{self, objective::Metric, objective::Objective};
use std::path::PathBuf;

fn metric_arg() -> impl clap::builder::TypedValueParser<Value = Metric> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Metric::names()).map(|s: String| Metric::by_name(&s).expect("a listed name"))
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdviseFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct AdviseArgs {
    /// The scenario (one VM that migrates); --set overrides it and pins the knob it names.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// An upper limit every replication must meet: FIGURE <= LIMIT, e.g. "downtime <= 50 ms",
    /// "total_time <= 2 min", "bytes <= 20 GiB", "app_slowdown <= 5 %", "postcopy_window <= 0 s"
    /// (repeatable; figures: downtime, total_time, bytes, app_slowdown, postcopy_window,
    /// fault_stall, throttle).
    #[arg(long = "objective", value_name = "FIGURE <= LIMIT")]
    pub objectives: Vec<String>,
    /// The figure to make smallest among the settings that meet every objective.
    #[arg(long, value_parser = metric_arg(), default_value = "total_time")]
    pub minimize: Metric,
    /// Strategies or knobs to leave out (comma-separated): precopy, postcopy, hybrid, cold,
    /// downtime_limit, max_bandwidth, auto_converge, dirty_limit, xbzrle, multifd, compression,
    /// hybrid_switch, postcopy_preempt, prepaging.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub exclude: Vec<String>,
    /// The most simulation runs (settings x replications) the search may do.
    #[arg(long, default_value_t = advise::BUDGET, value_name = "RUNS")]
    pub budget: u64,
    /// Replications per setting while searching (default 3; 1 when the guest neither writes nor
    /// reads); the finalists get 10.
    #[arg(long)]
    pub replications: Option<u64>,
    /// Stop each run at this much simulated time, e.g. "10 min" (default: 20 times the time to
    /// copy memory once, at least a minute, if shorter than the scenario's max_time).
    #[arg(long, value_name = "DURATION")]
    pub max_time: Option<String>,
    /// Runs in parallel (default: one per core). The advice does not depend on it.
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Folder for <scenario name>/advise/.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Reuse the runs of an interrupted (or finished) search of the same scenario instead of
    /// running them again.
    #[arg(long)]
    pub resume: bool,
    /// What to print on stdout: the report, or advice.json.
    #[arg(long, value_enum, default_value_t = AdviseFormat::Text)]
    pub format: AdviseFormat,
    /// No charts (front.png, front.svg).
    #[arg(long)]
    pub no_charts: bool,
    /// No progress bar and no final line on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn cmd_advise(a: &AdviseArgs) -> Result<(), Failure> {
    use std::io::IsTerminal;
    let objectives = a.objectives.iter().map(|o| Objective::parse(o)).collect::<Result<Vec<_>, _>>().map_err(Failure::input)?;
    let max_time_ns = a
        .max_time
        .as_deref()
        .map(|s| match crate::units::parse_duration(s) {
            Ok(0) => Err(Failure::input(format!("--max-time {s}: must be longer than zero, e.g. \"10 min\""))),
            Ok(ns) => Ok(ns),
            Err(e) => Err(Failure::input(format!("--max-time {s}: {e}"))),
        })
        .transpose()?;
    let sc = load(&a.scenario)?;
    let req = advise::Request {
        file: a.scenario.scenario.clone(),
        sets: a.scenario.set.clone(),
        seed: a.scenario.seed,
        objectives,
        minimize: a.minimize,
        exclude: a.exclude.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        budget: a.budget,
        replications: a.replications,
        max_time_ns,
        jobs: jobs(a.jobs)?,
        resume: a.resume,
        dir: a.out.join(safe_name(&sc.name)).join("advise"),
        progress: !a.quiet && std::io::stderr().is_terminal(),
        charts: !a.no_charts,
    };
    let o = advise::advise(&req)?;
    match a.format {
        AdviseFormat::Text => out(&o.text)?,
        AdviseFormat::Json => out(&(serde_json::to_string_pretty(&o.advice).map_err(Failure::other)? + "\n"))?,
    }
    if !a.quiet {
        let s = &o.advice.search;
        eprintln!(
            "advise {}: {} ({}) with {} in {:.1} s; wrote {}",
            o.advice.scenario,
            count(s.settings as u64, "setting"),
            count(s.runs, "run"),
            count(req.jobs as u64, "job"),
            s.seconds,
            o.files
                .iter()
                .enumerate()
                .map(|(i, f)| if i == 0 { o.dir.join(f).display().to_string() } else { f.clone() })
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}
