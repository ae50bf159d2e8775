//! `migsim run` (simulate a scenario, print its results, write run.json, timeline.csv and
//! timeline.png; for a plan of several migrations also its summary, plan.csv, links.csv, plan.json,
//! the Gantt chart and the links' utilisation) and `migsim check` (print the scenario fully resolved).

use super::common::{Failure, Format, ScenarioArgs, StrategyArg, load, out, safe_name, strategy_arg};
use crate::model::probe::LinkLoad;
use crate::model::{RunReport, Scenario};
use crate::output::{gantt, plan, report};
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
    /// Folder that receives <scenario name>/run.json, timeline.csv and timeline.png (and a plan's files).
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
    /// Do not time a short slice of the run to warn when the whole run would take long.
    #[arg(long)]
    pub no_estimate: bool,
}

/// `check` warns when a run is expected to take longer than this, seconds.
const LONG_RUN_S: f64 = 60.0;

pub fn cmd_check(a: &CheckArgs) -> Result<(), Failure> {
    let sc = load(&a.scenario)?;
    out(&crate::input::write::to_toml(&sc))?;
    if !a.no_estimate {
        let e = crate::study::estimate::estimate(&sc);
        if e.cpu_s > LONG_RUN_S {
            let minutes = (e.cpu_s / 60.0).round();
            eprintln!(
                "warning: {}: this run may take about {minutes} min on this machine: its first {} of simulated time took {:.2} s, \
                 and max_time lets its migrations go on to {}. Lower max_time (--set migration.max_time=\"10 min\"), \
                 or make the migration converge sooner.",
                a.scenario.scenario.display(),
                crate::units::format_duration(e.probed_ns),
                e.probe_cpu_s,
                crate::units::format_duration(e.max_time_ns),
            );
        }
    }
    Ok(())
}

/// Up to this many migrations in a run's report, `timeline.png` draws a panel for each.
const TIMELINE_PANELS: usize = 16;
/// Up to this many migrations, the run's table lists each (beyond, plan.csv does).
const TABLE_ROWS: usize = 100;
/// The links a plan's link chart follows.
const WATCHED_LINKS: usize = 8;

/// Write the run's files; returns their names, for the closing line.
fn write_outputs(dir: &Path, sc: &Scenario, r: &RunReport, loads: &[LinkLoad]) -> Result<Vec<&'static str>, Failure> {
    let json = serde_json::to_string_pretty(r).map_err(Failure::other)?;
    let tl = report::timeline_csv(r).map_err(Failure::other)?;
    let mut files: Vec<(&'static str, Vec<u8>)> = vec![("run.json", json.into_bytes()), ("timeline.csv", tl.into_bytes())];
    if is_plan(sc) {
        let runs = plan::runs(sc, r);
        let summaries: Vec<plan::Summary> = runs.iter().map(|(s, res)| plan::summary(sc, s, res)).collect();
        let vms: Vec<plan::VmRow> = runs.iter().flat_map(|(s, res)| plan::rows(sc, s, res)).collect();
        let links: Vec<plan::LinkRow> =
            runs.iter().zip(&summaries).flat_map(|((s, res), sum)| plan::links(sc, s, res, sum.makespan_s)).collect();
        let doc = serde_json::json!({ "scenario": sc.name, "plan": sc.plan.label, "runs": summaries, "links": links });
        files.push(("plan.csv", plan::csv(&vms).map_err(Failure::other)?.into_bytes()));
        files.push(("links.csv", plan::csv(&links).map_err(Failure::other)?.into_bytes()));
        files.push(("plan.json", serde_json::to_string_pretty(&doc).map_err(Failure::other)?.into_bytes()));
    }
    let mut names: Vec<&'static str> = files.iter().map(|f| f.0).collect();
    for (name, data) in files {
        let p = dir.join(name);
        crate::files::write_atomic(&p, &data).map_err(|e| Failure::other(format!("{}: cannot write: {e}", p.display())))?;
    }
    let chart = |name: &str, res: anyhow::Result<()>| res.map_err(|e| Failure::other(format!("{}: {e:#}", dir.join(name).display())));
    if r.migrations.len() <= TIMELINE_PANELS {
        chart("timeline.png", crate::output::plot::write(&dir.join("timeline.png"), &crate::output::timeline::charts(r, sc)))?;
        names.insert(2, "timeline.png");
    }
    if is_plan(sc) {
        let runs = plan::runs(sc, r);
        let gantts: Vec<_> = runs.iter().map(|(s, res)| gantt::gantt(sc, s, res)).collect();
        let link_charts: Vec<_> = runs.iter().zip(loads).flat_map(|((s, _), l)| gantt::link_charts(sc, s, l)).collect();
        for ext in ["png", "svg"] {
            let g = format!("gantt.{ext}");
            chart(&g, crate::output::plot::write_gantt(&dir.join(&g), &gantts))?;
            let l = format!("links.{ext}");
            chart(&l, crate::output::plot::write(&dir.join(&l), &link_charts))?;
        }
        names.extend(["gantt.png", "gantt.svg", "links.png", "links.svg"]);
    }
    Ok(names)
}

/// A `[plan]`, or several migrations (`[[migrations]]` by hand, a plan too): it gets the plan's
/// summary, CSVs and charts.
fn is_plan(sc: &Scenario) -> bool {
    sc.migrations.len() > 1 || sc.plan.label.is_some()
}

/// "a, b and c".
fn and_list(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

pub fn cmd_run(a: &RunArgs) -> Result<(), Failure> {
    let mut sc = load(&a.scenario)?;
    if let Some(s) = &a.strategy {
        sc.use_strategies(s.0.clone());
    }
    let watch = is_plan(&sc).then(|| plan::watched(&sc, WATCHED_LINKS));
    let (r, loads) = crate::model::simulate_watched(&sc, watch.as_deref());
    let dir = a.out.join(safe_name(&sc.name));
    let mut written = Vec::new();
    if !a.no_write {
        written = write_outputs(&dir, &sc, &r, &loads)?;
    }
    if !a.quiet {
        match a.format {
            Format::Table => {
                let mut text = if r.migrations.len() <= TABLE_ROWS {
                    report::table(&r)
                } else {
                    format!("scenario {} (seed {}): {} migrations (each VM's figures: plan.csv)\n", r.scenario, r.seed, r.migrations.len())
                };
                if is_plan(&sc) {
                    let sums: Vec<plan::Summary> = plan::runs(&sc, &r).iter().map(|(s, res)| plan::summary(&sc, s, res)).collect();
                    text += &plan::table(&sc, &sums);
                }
                if !a.no_write {
                    text += &format!("wrote {}, {}\n", dir.join(written[0]).display(), and_list(&written[1..]));
                }
                out(&text)?
            }
            Format::Json => out(&(serde_json::to_string_pretty(&r).map_err(Failure::other)? + "\n"))?,
            Format::Csv => out(&report::csv(&r).map_err(Failure::other)?)?,
        }
    }
    Ok(())
}
