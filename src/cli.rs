//! The command line: `migsim run`, `migsim check` (and the subcommands later issues add). Flags are
//! documented where they are defined; errors in user input exit with status 2 and one clear message.

use crate::report::{self, RunReport};
use crate::scenario::{self, Scenario, Strategy};
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
    /// Dirty-page traces: record a real process, convert between forms, print statistics.
    Trace(crate::trace_cmd::TraceArgs),
}

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Folder of reference sets (subfolders with a set.toml).
    #[arg(default_value = "validation")]
    pub dir: PathBuf,
    /// `table` (default) or `csv` (one row per case and metric).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only these reference sets (comma-separated names, e.g. analytic,simgrid).
    #[arg(long, value_delimiter = ',')]
    pub sets: Vec<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrategyArg {
    Precopy,
    Postcopy,
    Hybrid,
    Cold,
    All,
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
    /// Which strategy to simulate (default: what the scenario says); `all` runs each of the four.
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Folder for results/<scenario name>/run.json and timeline.csv.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Print nothing on stdout (files are still written).
    #[arg(long, short)]
    pub quiet: bool,
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
        Command::Trace(a) => crate::trace_cmd::run(&a),
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

/// Apply `--strategy`: it replaces the scenario's list and any per-migration choice.
pub fn apply_strategy(sc: &mut Scenario, s: Option<StrategyArg>) {
    let list = match s {
        None => return,
        Some(StrategyArg::All) => Strategy::ALL.to_vec(),
        Some(StrategyArg::Precopy) => vec![Strategy::PreCopy],
        Some(StrategyArg::Postcopy) => vec![Strategy::PostCopy],
        Some(StrategyArg::Hybrid) => vec![Strategy::Hybrid],
        Some(StrategyArg::Cold) => vec![Strategy::Cold],
    };
    sc.strategies = list;
    for m in &mut sc.migrations {
        m.params.strategy = None;
    }
}

/// Simulate every strategy of the scenario (one run each, same seed).
pub fn simulate(sc: &Scenario) -> RunReport {
    let mut migrations = Vec::new();
    for &s in &sc.strategies {
        migrations.extend(crate::sim::run(sc, s));
    }
    RunReport {
        scenario: sc.name.clone(),
        description: sc.description.clone(),
        seed: sc.seed,
        migsim_version: env!("CARGO_PKG_VERSION"),
        migrations,
    }
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
        report::write_atomic(&p, &data).map_err(|e| Failure::other(format!("{}: cannot write: {e}", p.display())))?;
    }
    Ok(())
}

fn cmd_run(a: &RunArgs) -> Result<(), Failure> {
    let mut sc = load(&a.scenario)?;
    apply_strategy(&mut sc, a.strategy);
    let r = simulate(&sc);
    let dir = a.out.join(safe_name(&sc.name));
    write_outputs(&dir, &r)?;
    if !a.quiet {
        match a.format {
            Format::Table => {
                out(&format!("{}wrote {} and {}\n", report::table(&r), dir.join("run.json").display(), dir.join("timeline.csv").display()))?
            }
            Format::Json => out(&(serde_json::to_string_pretty(&r).map_err(Failure::other)? + "\n"))?,
            Format::Csv => out(&report::csv(&r).map_err(Failure::other)?)?,
        }
    }
    Ok(())
}

fn cmd_validate(a: &ValidateArgs) -> Result<(), Failure> {
    let o = crate::validate::run(&a.dir, &a.sets).map_err(Failure::input)?;
    match a.format {
        Format::Csv => out(&crate::validate::csv(&o).map_err(Failure::other)?)?,
        _ => out(&crate::validate::table(&o))?,
    }
    let missed: Vec<&str> = o.sets.iter().filter(|s| !s.passed).map(|s| s.set.as_str()).collect();
    if missed.is_empty() { Ok(()) } else { Err(Failure::other(format!("reference sets missing their targets: {}", missed.join(", ")))) }
}
