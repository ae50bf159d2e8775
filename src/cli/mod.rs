//! The command line: `migsim run`, `check`, `validate`, `sweep`, `plot` and `merge`. Flags are
//! documented where they are defined; errors in user input exit with status 2 and one clear message.

pub mod trace;

use crate::input::scenario;
use crate::model::strategy::{self, Strategy};
use crate::model::{RunReport, Scenario};
use crate::output::report;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "migsim", version, about = "A page-level discrete-event simulator of VM live migration")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Simulate the migrations of a scenario and print total time, downtime, bytes sent and more.
    Run(RunArgs),
    /// Validate a scenario and print it fully resolved, with every default filled in.
    Check(CheckArgs),
    /// Run every reference case (closed forms, SimGrid, real QEMU) and print the error table.
    Validate(ValidateArgs),
    /// Run a parameter sweep: every point of the [sweep] axes (and --sweep), strategy and replication,
    /// in parallel, into sweep.csv, summary.csv and charts.
    Sweep(SweepArgs),
    /// Draw a chart of one column against another from a sweep CSV (PNG or SVG by extension).
    Plot(PlotArgs),
    /// Join the sweep.csv files of shards (--shard) and rebuild the summary and charts.
    Merge(MergeArgs),
    /// Dirty-page traces: record a real process, convert between forms, print statistics.
    Trace(crate::cli::trace::TraceArgs),
}

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

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Folder of reference sets (subfolders with a set.toml).
    #[arg(default_value = "validation")]
    pub dir: PathBuf,
    /// `table` (default), `csv` (one row per case and metric) or `json` (those rows and each set's
    /// summary and verdict).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only these reference sets (comma-separated names, e.g. analytic,simgrid).
    #[arg(long, value_delimiter = ',')]
    pub sets: Vec<String>,
}

/// `--strategy`: the strategies it names (one, or every one for `all`).
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyArg(pub Vec<Strategy>);

/// Parses `--strategy`: a strategy's name or `all`; clap lists them in the help and in errors.
fn strategy_arg() -> impl clap::builder::TypedValueParser<Value = StrategyArg> {
    let mut names = strategy::names();
    names.push("all");
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(names).map(|s: String| match strategy::by_name(&s) {
        Some(one) => StrategyArg(vec![one]),
        None => StrategyArg(strategy::ALL.to_vec()),
    })
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ScenarioArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Override a scenario field by its dotted path, e.g. --set network.bandwidth="1 Gbit/s" (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Replace the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Which strategy to simulate (default: what the scenario says); `all` runs each of them.
    #[arg(long, value_parser = strategy_arg())]
    pub strategy: Option<StrategyArg>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Folder that receives <scenario name>/run.json, timeline.csv and timeline.png.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Print nothing on stdout (files are still written).
    #[arg(long, short, conflicts_with = "no_write")]
    pub quiet: bool,
    /// Write no files, only print (for scripts and notebooks that read `--format json`).
    #[arg(long, conflicts_with = "out")]
    pub no_write: bool,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// A failure with the exit status it deserves: 2 for bad input, 1 for anything else.
pub struct Failure {
    pub status: u8,
    pub message: String,
}

impl Failure {
    pub fn input(message: impl std::fmt::Display) -> Self {
        Failure { status: 2, message: message.to_string() }
    }
    pub fn other(message: impl std::fmt::Display) -> Self {
        Failure { status: 1, message: message.to_string() }
    }
}

/// Print to stdout; a closed pipe (`migsim run ... | head`) is not an error.
pub fn out(s: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    match o.write_all(s.as_bytes()).and_then(|_| o.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::other(format!("cannot write to stdout: {e}"))),
        _ => Ok(()),
    }
}

pub fn main() -> ExitCode {
    // A bug must still end with one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error in migsim (please report it with the scenario): {info}");
    }));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd_run(&a),
        Command::Check(a) => cmd_check(&a),
        Command::Validate(a) => cmd_validate(&a),
        Command::Sweep(a) => cmd_sweep(&a),
        Command::Plot(a) => cmd_plot(&a),
        Command::Merge(a) => cmd_merge(&a),
        Command::Trace(a) => crate::cli::trace::run(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.status)
        }
    }
}

pub fn load(a: &ScenarioArgs) -> Result<Scenario, Failure> {
    let mut sc = scenario::load(&a.scenario, &a.set).map_err(Failure::input)?;
    if let Some(s) = a.seed {
        sc.seed = s;
    }
    Ok(sc)
}

fn cmd_check(a: &CheckArgs) -> Result<(), Failure> {
    let sc = load(&a.scenario)?;
    out(&sc.to_toml())
}

/// A folder name from a scenario name: letters, digits, `.`, `_` and `-` only.
pub fn safe_name(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with('.') { format!("_{s}") } else { s }
}

fn write_outputs(dir: &Path, r: &RunReport) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(r).map_err(Failure::other)?;
    let tl = report::timeline_csv(r).map_err(Failure::other)?;
    for (name, data) in [("run.json", json.into_bytes()), ("timeline.csv", tl.into_bytes())] {
        let p = dir.join(name);
        crate::files::write_atomic(&p, &data).map_err(|e| Failure::other(format!("{}: cannot write: {e}", p.display())))?;
    }
    crate::output::plot::write(&dir.join("timeline.png"), &crate::output::timeline::charts(r)).map_err(|e| Failure::other(format!("{e:#}")))
}

fn cmd_run(a: &RunArgs) -> Result<(), Failure> {
    let mut sc = load(&a.scenario)?;
    if let Some(s) = &a.strategy {
        sc.use_strategies(s.0.clone());
    }
    let r = crate::model::simulate(&sc);
    let dir = a.out.join(safe_name(&sc.name));
    if !a.no_write {
        write_outputs(&dir, &r)?;
    }
    if !a.quiet {
        match a.format {
            Format::Table if a.no_write => out(&report::table(&r))?,
            Format::Table => {
                out(&format!("{}wrote {}, timeline.csv and timeline.png\n", report::table(&r), dir.join("run.json").display()))?
            }
            Format::Json => out(&(serde_json::to_string_pretty(&r).map_err(Failure::other)? + "\n"))?,
            Format::Csv => out(&report::csv(&r).map_err(Failure::other)?)?,
        }
    }
    Ok(())
}

fn cmd_validate(a: &ValidateArgs) -> Result<(), Failure> {
    let o = crate::study::validate::run(&a.dir, &a.sets).map_err(Failure::input)?;
    match a.format {
        Format::Csv => out(&crate::study::validate::csv(&o).map_err(Failure::other)?)?,
        Format::Json => out(&crate::study::validate::json(&o).map_err(Failure::other)?)?,
        Format::Table => out(&crate::study::validate::table(&o))?,
    }
    let missed: Vec<&str> = o.sets.iter().filter(|s| !s.passed).map(|s| s.set.as_str()).collect();
    if missed.is_empty() { Ok(()) } else { Err(Failure::other(format!("reference sets missing their targets: {}", missed.join(", ")))) }
}

impl From<crate::study::sweep::Error> for Failure {
    fn from(e: crate::study::sweep::Error) -> Self {
        match e {
            crate::study::sweep::Error::Input(m) => Failure::input(m),
            crate::study::sweep::Error::Other(m) => Failure::other(m),
        }
    }
}

fn jobs(j: Option<usize>) -> Result<usize, Failure> {
    match j {
        Some(0) => Err(Failure::input("--jobs 0: give at least 1 (or leave it out for one job per core)")),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// "1 run", "2 runs", "3 strategies".
fn count(n: u64, what: &str) -> String {
    match (n, what.strip_suffix('y')) {
        (1, _) => format!("1 {what}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {what}s"),
    }
}

/// `I/N` of `--shard`.
fn parse_shard(s: &str) -> Result<(u64, u64), Failure> {
    let bad = || Failure::input(format!("--shard {s}: expected I/N with 1 <= I <= N, e.g. --shard 2/8"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    Ok((i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?))
}

fn cmd_sweep(a: &SweepArgs) -> Result<(), Failure> {
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

fn cmd_plot(a: &PlotArgs) -> Result<(), Failure> {
    let default = || a.csv.with_file_name(format!("{}-vs-{}.png", a.y, a.x));
    let out = a.output.clone().unwrap_or_else(default);
    crate::study::sweep::plot(&a.csv, &a.x, &a.y, &a.by, a.log_x, &out)?;
    Ok(())
}

fn cmd_merge(a: &MergeArgs) -> Result<(), Failure> {
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
