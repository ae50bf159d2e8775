//! `migsim sweep` (a parameter study, or with `--emit-slurm` the Slurm job array that runs it in
//! shards), `migsim plot` (a chart from any sweep CSV) and `migsim merge` (join the shards of a
//! sweep).

use super::common::{Failure, ScenarioArgs, StrategyArg, count, jobs, safe_name, strategy_arg};
use crate::study::sweep::slurm;
use std::path::{Path, PathBuf};

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
    /// Run nothing: write SCRIPT, a Slurm job array that runs this sweep in shards on a cluster
    /// and merges them (submit it with `./SCRIPT`; its comments say the rest).
    #[arg(long, value_name = "SCRIPT", conflicts_with_all = ["shard", "resume"], help_heading = "Slurm job array")]
    pub emit_slurm: Option<PathBuf>,
    /// Boxed: the Slurm options would make every `Command` as large as a sweep's.
    #[command(flatten)]
    pub slurm: Box<SlurmArgs>,
}

/// The sbatch options of `--emit-slurm`'s tasks (and its merge job); the defaults are in
/// `study::sweep::slurm`.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Slurm job array")]
pub struct SlurmArgs {
    /// Array tasks, one shard each (default: one per point, at most 16).
    #[arg(long, value_name = "N", requires = "emit_slurm")]
    pub tasks: Option<u64>,
    /// Cores per task; its runs go in parallel on them (default: 4).
    #[arg(long, value_name = "N", requires = "emit_slurm")]
    pub cpus_per_task: Option<u64>,
    /// Memory per task: sbatch's form (4G, 500M) or a size (4 GiB) (default: 1 GiB per core).
    #[arg(long, value_name = "SIZE", requires = "emit_slurm", value_parser = slurm::slurm_mem)]
    pub mem: Option<String>,
    /// Wall-time limit per task: sbatch's form (30, 01:30:00, 2-00:00:00) or a duration (90 min)
    /// (default: 01:00:00).
    #[arg(long, value_name = "TIME", requires = "emit_slurm", value_parser = slurm::slurm_time)]
    pub time: Option<String>,
    /// The partition (queue) to run in (default: the cluster's).
    #[arg(long, value_name = "NAME", requires = "emit_slurm", value_parser = slurm::slurm_name)]
    pub partition: Option<String>,
    /// The account to charge, on clusters that ask for one.
    #[arg(long, value_name = "NAME", requires = "emit_slurm", value_parser = slurm::slurm_name)]
    pub account: Option<String>,
    /// Another sbatch option for the script's #SBATCH lines, e.g. --sbatch=--qos=short (repeatable).
    #[arg(long, value_name = "OPTION", requires = "emit_slurm", allow_hyphen_values = true, value_parser = slurm::slurm_option)]
    pub sbatch: Vec<String>,
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
    if let Some(script) = &a.emit_slurm {
        return emit_slurm(a, &plan, script);
    }
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

/// `--emit-slurm SCRIPT`: the script whose tasks run this very sweep (the same scenario file,
/// `--set`, `--sweep`, seeds and strategies), once every point is checked.
fn emit_slurm(a: &SweepArgs, plan: &crate::study::sweep::Plan, script: &Path) -> Result<(), Failure> {
    let absolute = |p: &Path| std::path::absolute(p).map_err(|e| Failure::other(format!("{}: {e}", p.display())));
    let s = &a.scenario;
    let mut words = vec!["sweep".to_string(), absolute(&s.scenario)?.display().to_string()];
    let mut option = |name: &str, value: String| words.extend([format!("--{name}"), value]);
    s.set.iter().for_each(|v| option("set", v.clone()));
    s.seed.iter().for_each(|v| option("seed", v.to_string()));
    a.sweep.iter().for_each(|v| option("sweep", v.clone()));
    a.replications.iter().for_each(|v| option("replications", v.to_string()));
    if let Some(list) = &a.strategy {
        // `--strategy` names one strategy or `all`.
        option("strategy", if list.0.len() == 1 { list.0[0].name().into() } else { "all".into() });
    }
    let out = absolute(&a.out)?;
    let name = safe_name(&plan.name);
    let migsim = std::env::current_exe().map_err(|e| Failure::other(format!("cannot tell where the migsim binary is: {e}")))?;
    let job = slurm::Job { migsim, sweep: words, results: out.join(&name), out, name, charts: !a.no_charts };
    let r = &a.slurm;
    let res = slurm::Resources {
        tasks: r.tasks,
        cpus_per_task: r.cpus_per_task,
        mem: r.mem.clone(),
        time: r.time.clone(),
        partition: r.partition.clone(),
        account: r.account.clone(),
        extra: r.sbatch.clone(),
    };
    let e = slurm::emit(script, plan, &job, &res, jobs(a.jobs)?)?;
    let per_task = match e.per_task {
        (x, y) if x == y => count(x, "point"),
        (x, y) => format!("{x} or {y} points"),
    };
    eprintln!(
        "wrote {}: a Slurm job array of {} for sweep {} ({}, {}; {per_task} per task) and a merge job into {}\n\
         submit it on the cluster with `{}` (array and merge) or `sbatch {}` (the array alone)",
        script.display(),
        count(e.tasks, "task"),
        plan.name,
        count(e.points, "point"),
        count(e.runs, "run"),
        job.results.display(),
        shown_command(script),
        script.display(),
    );
    Ok(())
}

/// How to run `script` from here: `./x` for a bare file name (bash would search PATH otherwise).
fn shown_command(script: &Path) -> String {
    let s = script.display().to_string();
    if script.components().count() == 1 { format!("./{s}") } else { s }
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
