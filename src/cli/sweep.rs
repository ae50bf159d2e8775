//! `migsim sweep` (a parameter study), `migsim plot` (a chart from any sweep CSV) and `migsim
//! merge` (join the shards of a sweep).

use super::common::{Failure, ScenarioArgs, StrategyArg, count, jobs, safe_name, strategy_arg};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Add or replace an axis: KEY=V1,V2,... or KEY=FROM..TO:STEPS[:log], e.g.
    /// --sweep 'network.bandwidth=1 Gbit/s,10 Gbit/s' (repeatable).
    #[arg(long = "sweep", value_name = "KEY=VALUES")]
    pub sweep: Vec<String>,
    /// Seeds per point (replaces [sweep] replications).
    #[arg(long)]
    pub replications: Option<u64>,
    /// Which strategies to run at each point (default: the scenario's list); `all` runs every one.
    #[arg(long, value_parser = strategy_arg())]
    pub strategy: Option<StrategyArg>,
    /// Runs in parallel (default: one per core). The results do not depend on it.
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Folder for <scenario name>/sweep.csv, summary.csv and the charts (a shard writes to
    /// <scenario name>/shard-I-of-N/).
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Continue an interrupted sweep from its sweep.csv.partial instead of starting over.
    #[arg(long)]
    pub resume: bool,
    /// Run only the I-th of N equal slices of the point list (I from 1 to N); see `migsim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Write the CSVs only, no charts.
    #[arg(long)]
    pub no_charts: bool,
    /// No progress bar: only the final line.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(clap::Args, Debug)]
pub struct PlotArgs {
    /// A sweep CSV (sweep.csv of `migsim sweep` or `migsim merge`).
    pub csv: PathBuf,
    /// The column on the x axis, e.g. workload.write_rate_bps.
    #[arg(long)]
    pub x: String,
    /// The numeric column on the y axis (its mean and 95% confidence interval), e.g. downtime_s.
    #[arg(long)]
    pub y: String,
    /// One line per value of these columns (comma-separated; `none` for a single line).
    #[arg(long, value_delimiter = ',', default_value = "strategy")]
    pub by: Vec<String>,
    /// A logarithmic x axis.
    #[arg(long)]
    pub log_x: bool,
    /// The chart file, .png or .svg (default: <y>-vs-<x>.png beside the CSV).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The folder for the joined sweep.csv, summary.csv and charts.
    pub out: PathBuf,
    /// The shards' sweep.csv files (any order when their sweep.json files are beside them).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Charts drawn in parallel (default: one per core).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Write the CSVs only, no charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Print nothing.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `I/N` of `--shard`.
fn parse_shard(s: &str) -> Result<(u64, u64), Failure> {
    let bad = || Failure::input(format!("--shard {s}: expected I/N with 1 <= I <= N, e.g. --shard 2/8"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    Ok((i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?))
}

pub fn cmd_sweep(a: &SweepArgs) -> Result<(), Failure> {
    use std::io::IsTerminal;
    let started = std::time::Instant::now();
    let s = &a.scenario;
    let base = crate::study::sweep::spec::Base::load(&s.scenario, &s.set, &a.sweep, a.replications).map_err(Failure::input)?;
    let shard = a.shard.as_deref().map(parse_shard).transpose()?;
    let plan = crate::study::sweep::Plan::new(base, s.seed, a.strategy.clone().map(|s| s.0), shard)?;
    let mut dir = a.out.join(safe_name(&plan.name));
    if let Some((i, n)) = shard {
        dir = dir.join(format!("shard-{i}-of-{n}"));
    }
    let jobs = jobs(a.jobs)?;
    let opt = crate::study::sweep::Options {
        jobs,
        dir: dir.clone(),
        resume: a.resume,
        progress: !a.quiet && std::io::stderr().is_terminal(),
        charts: !a.no_charts,
    };
    let o = crate::study::sweep::run(&plan, &opt)?;
    let points = plan.points.end - plan.points.start;
    let shard = shard.map_or(String::new(), |(i, n)| format!(", shard {i}/{n} of {} points", plan.total_points));
    let resumed = if o.resumed > 0 { format!(", {} of them already done", o.resumed) } else { String::new() };
    eprintln!(
        "sweep {}: {} ({} x {} x {}{shard}{resumed}) with {} in {:.2} s; wrote {}, summary.csv and {}",
        plan.name,
        count(o.runs, "run"),
        count(points, "point"),
        count(plan.strategies.len() as u64, "strategy"),
        count(plan.base.spec.replications, "replication"),
        count(jobs as u64, "job"),
        started.elapsed().as_secs_f64(),
        o.csv.display(),
        count(o.charts as u64, "chart file"),
    );
    Ok(())
}

pub fn cmd_plot(a: &PlotArgs) -> Result<(), Failure> {
    let default = || a.csv.with_file_name(format!("{}-vs-{}.png", a.y, a.x));
    let out = a.output.clone().unwrap_or_else(default);
    crate::study::sweep::plot(&a.csv, &a.x, &a.y, &a.by, a.log_x, &out)?;
    Ok(())
}

pub fn cmd_merge(a: &MergeArgs) -> Result<(), Failure> {
    let o = crate::study::sweep::merge(&a.out, &a.inputs, jobs(a.jobs)?, !a.no_charts)?;
    if !a.quiet {
        eprintln!(
            "merged {} ({}): wrote {}, summary.csv and {}",
            count(a.inputs.len() as u64, "file"),
            count(o.runs, "run"),
            o.csv.display(),
            count(o.charts as u64, "chart file")
        );
    }
    Ok(())
}
