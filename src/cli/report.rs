//! `migsim report`: one self-contained HTML file for a scenario (the run's table, each migration's
//! timeline chart and explanation, the resolved scenario) or for a sweep's output folder (its
//! summary and charts). The pages are made by `output::html` and `study::sweep::report`.

use super::common::{Failure, ScenarioArgs, StrategyArg, load, safe_name, strategy_arg};
use crate::output::{explain, html, timeline};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// A scenario file (TOML), or a sweep's output folder (the one holding sweep.csv, summary.csv
    /// and sweep.json).
    pub path: PathBuf,
    /// The HTML file to write (default: results/<scenario name>/report.html for a scenario,
    /// report.html inside a sweep's folder).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Override a scenario field by its dotted path, e.g. --set network.bandwidth="1 Gbit/s"
    /// (repeatable; scenarios only).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Replace the scenario's seed (scenarios only).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Which strategy to simulate (default: what the scenario says); `all` runs each of them
    /// (scenarios only).
    #[arg(long, value_parser = strategy_arg())]
    pub strategy: Option<StrategyArg>,
    /// Only the migrations of this VM (scenarios only).
    #[arg(long)]
    pub vm: Option<String>,
    /// Tell every pre-copy round in the explanations.
    #[arg(long)]
    pub all_rounds: bool,
}

/// The command line as typed, for the report's footer.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("migsim {}", args.join(" "))
}

fn write(path: &Path, page: &str) -> Result<(), Failure> {
    crate::files::write_atomic(path, page.as_bytes()).map_err(|e| Failure::other(format!("{}: cannot write: {e}", path.display())))?;
    eprintln!("wrote {} ({})", path.display(), crate::units::format_size(page.len() as u64));
    Ok(())
}

pub fn cmd_report(a: &ReportArgs) -> Result<(), Failure> {
    if a.path.is_dir() {
        return sweep_report(a);
    }
    let mut sc = load(&ScenarioArgs { scenario: a.path.clone(), set: a.set.clone(), seed: a.seed })?;
    if let Some(s) = &a.strategy {
        sc.use_strategies(s.0.clone());
    }
    super::explain::check_vm(&sc, a.vm.as_deref())?;
    let mut r = crate::model::simulate(&sc);
    let mut explained = explain::explain_run(&sc, &r, None, a.all_rounds);
    if let Some(vm) = &a.vm {
        let keep: Vec<bool> = r.migrations.iter().map(|m| &m.vm == vm).collect();
        let mut k = keep.iter();
        explained.retain(|_| *k.next().expect("one explanation per migration"));
        r.migrations.retain(|m| &m.vm == vm);
    }
    let charts = timeline::per_migration(&r, &sc);
    let page = html::run_page(&r, &crate::input::write::to_toml(&sc), &charts, &explained, &command_line())
        .map_err(|e| Failure::other(format!("{e:#}")))?;
    let out = a.output.clone().unwrap_or_else(|| PathBuf::from("results").join(safe_name(&sc.name)).join("report.html"));
    write(&out, &page)
}

fn sweep_report(a: &ReportArgs) -> Result<(), Failure> {
    if !crate::study::sweep::report::is_sweep_dir(&a.path) {
        return Err(Failure::input(format!(
            "{}: a folder, but not a sweep's output: it has no sweep.csv (give a scenario file, or the folder `migsim sweep` wrote, e.g. results/NAME)",
            a.path.display()
        )));
    }
    let scenario_only =
        [(!a.set.is_empty(), "--set"), (a.seed.is_some(), "--seed"), (a.strategy.is_some(), "--strategy"), (a.vm.is_some(), "--vm")];
    if let Some((_, flag)) = scenario_only.iter().find(|(given, _)| *given) {
        return Err(Failure::input(format!("{flag} applies to a scenario file, not to a sweep's folder ({})", a.path.display())));
    }
    let page = crate::study::sweep::report::page(&a.path, &command_line())?;
    write(&a.output.clone().unwrap_or_else(|| a.path.join("report.html")), &page)
}
