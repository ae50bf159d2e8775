//! `migsim run` (simulate a scenario, print its results, write run.json, timeline.csv and
//! timeline.png) and `migsim check` (print the scenario fully resolved).

use super::common::{Failure, Format, ScenarioArgs, StrategyArg, load, out, safe_name, strategy_arg};
use crate::model::RunReport;
use crate::output::report;
use std::path::{Path, PathBuf};

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

pub fn cmd_check(a: &CheckArgs) -> Result<(), Failure> {
    let sc = load(&a.scenario)?;
    out(&crate::input::write::to_toml(&sc))
}

fn write_outputs(dir: &Path, r: &RunReport, sc: &crate::model::Scenario) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(r).map_err(Failure::other)?;
    let tl = report::timeline_csv(r).map_err(Failure::other)?;
    for (name, data) in [("run.json", json.into_bytes()), ("timeline.csv", tl.into_bytes())] {
        let p = dir.join(name);
        crate::files::write_atomic(&p, &data).map_err(|e| Failure::other(format!("{}: cannot write: {e}", p.display())))?;
    }
    crate::output::plot::write(&dir.join("timeline.png"), &crate::output::timeline::charts(r, sc))
        .map_err(|e| Failure::other(format!("{e:#}")))
}

pub fn cmd_run(a: &RunArgs) -> Result<(), Failure> {
    let mut sc = load(&a.scenario)?;
    if let Some(s) = &a.strategy {
        sc.use_strategies(s.0.clone());
    }
    let r = crate::model::simulate(&sc);
    let dir = a.out.join(safe_name(&sc.name));
    if !a.no_write {
        write_outputs(&dir, &r, &sc)?;
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
