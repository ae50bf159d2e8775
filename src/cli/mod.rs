//! The command line: `migsim run`, `check`, `validate`, `sweep`, `plot`, `merge`, `trace`, `explain`,
//! `report` and `advise`, each in a file with its arguments (`run`, `validate`, `sweep`, `trace`,
//! `explain`, `report`, `advise`). Flags are documented where they
//! are defined; errors in user input exit with status 2 and one clear message (`common::Failure`).

pub mod advise;
pub mod common;
pub mod explain;
pub mod report;
pub mod run;
pub mod sweep;
pub mod trace;
pub mod validate;

use clap::{Parser, Subcommand};
use common::Failure;
use run::{CheckArgs, RunArgs};
use std::process::ExitCode;
use sweep::{MergeArgs, PlotArgs, SweepArgs};
use validate::ValidateArgs;

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
    /// Tell a run round by round in plain sentences with its numbers (for students).
    Explain(explain::ExplainArgs),
    /// Write one self-contained HTML report of a scenario's run, or of a sweep's output folder.
    Report(report::ReportArgs),
    /// Find the strategy and settings that meet objectives such as "downtime <= 50 ms" and minimize
    /// a figure, by simulating candidates; print them with why and the QMP and virsh commands.
    Advise(crate::cli::advise::AdviseArgs),
}

pub fn main() -> ExitCode {
    // A bug must still end with one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error in migsim (please report it with the scenario): {info}");
    }));
    // clap prints its own usage errors (coloured on a terminal), --help and --version, and exits.
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.status)
        }
    }
}

/// The binary's work for a command line (`argv[0]` is the program name), in-process: what the fuzz
/// harness and tests call. Usage errors come back as a `Failure` with clap's status (2) and message;
/// `--help` and `--version` print through `common::out`. The caller prints `error: ` + the message.
pub fn execute<I, T>(argv: I) -> Result<(), Failure>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(argv) {
        Ok(cli) => dispatch(cli.command),
        Err(e) if !e.use_stderr() => common::out(&e.to_string()),
        Err(e) => {
            let text = e.to_string();
            let message = text.strip_prefix("error: ").unwrap_or(&text).trim_end().to_string();
            Err(Failure { status: u8::try_from(e.exit_code()).unwrap_or(2), message })
        }
    }
}

/// Run one parsed command.
pub fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Run(a) => run::cmd_run(&a),
        Command::Check(a) => run::cmd_check(&a),
        Command::Validate(a) => validate::cmd_validate(&a),
        Command::Sweep(a) => sweep::cmd_sweep(&a),
        Command::Plot(a) => sweep::cmd_plot(&a),
        Command::Merge(a) => sweep::cmd_merge(&a),
        Command::Trace(a) => crate::cli::trace::run(&a),
        Command::Explain(a) => explain::cmd_explain(&a),
        Command::Report(a) => report::cmd_report(&a),
        Command::Advise(a) => crate::cli::advise::cmd_advise(&a),
    }
}
