//! What every command shares: the failure type and its exit status (2 for bad input, 1 for the
//! rest), printing to stdout, the scenario arguments and loading them, `--strategy`, `--format`,
//! `--jobs`, and small wording helpers.

use crate::input::scenario;
use crate::model::Scenario;
use crate::model::strategy::{self, Strategy};
use clap::ValueEnum;
use std::path::PathBuf;

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

thread_local! {
    /// Where `out` writes instead of stdout while `capture_stdout` runs on this thread.
    static CAPTURED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` with what it prints through `out` on this thread collected instead of printed; for
/// running commands in-process (`cli::execute` in the fuzz harness) without touching stdout.
pub fn capture_stdout<R>(f: impl FnOnce() -> R) -> (R, String) {
    let before = CAPTURED.with(|c| c.replace(Some(String::new())));
    let r = f();
    let text = CAPTURED.with(|c| c.replace(before)).unwrap_or_default();
    (r, text)
}

/// Print to stdout; a closed pipe (`migsim run ... | head`) is not an error.
pub fn out(s: &str) -> Result<(), Failure> {
    use std::io::Write;
    if CAPTURED.with(|c| c.borrow_mut().as_mut().map(|buf| buf.push_str(s)).is_some()) {
        return Ok(());
    }
    let mut o = std::io::stdout().lock();
    match o.write_all(s.as_bytes()).and_then(|_| o.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::other(format!("cannot write to stdout: {e}"))),
        _ => Ok(()),
    }
}

impl From<crate::study::sweep::Error> for Failure {
    fn from(e: crate::study::sweep::Error) -> Self {
        match e {
            crate::study::sweep::Error::Input(m) => Failure::input(m),
            crate::study::sweep::Error::Other(m) => Failure::other(m),
        }
    }
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

pub fn load(a: &ScenarioArgs) -> Result<Scenario, Failure> {
    let mut sc = scenario::load(&a.scenario, &a.set).map_err(Failure::input)?;
    if let Some(s) = a.seed {
        sc.seed = s;
    }
    Ok(sc)
}

/// `--strategy`: the strategies it names (one, or every one for `all`).
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyArg(pub Vec<Strategy>);

/// Parses `--strategy`: a strategy's name or `all`; clap lists them in the help and in errors.
pub fn strategy_arg() -> impl clap::builder::TypedValueParser<Value = StrategyArg> {
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

pub fn jobs(j: Option<usize>) -> Result<usize, Failure> {
    match j {
        Some(0) => Err(Failure::input("--jobs 0: give at least 1 (or leave it out for one job per core)")),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// "1 run", "2 runs", "3 strategies".
pub fn count(n: u64, what: &str) -> String {
    match (n, what.strip_suffix('y')) {
        (1, _) => format!("1 {what}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {what}s"),
    }
}

/// A folder name from a scenario name: letters, digits, `.`, `_` and `-` only.
pub fn safe_name(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with('.') { format!("_{s}") } else { s }
}
