//! The HTML report of a sweep's output folder (`migsim report DIR`): what was swept (`sweep.json`),
//! the summary table (`summary.csv`, the headline figures with their 95 % confidence intervals),
//! every sweep chart drawn again from `sweep.csv` as inline SVG, and the scenario the sweep read,
//! resolved. The page's pieces come from `output::html`.

use super::common::{Error, read_json};
use super::stats::{self, Layout, human, number, pretty};
use crate::output::html::{self, Part};
use std::path::Path;

/// Summary rows shown in the page at most; summary.csv has them all.
pub const MAX_ROWS: usize = 400;

/// The figures of the summary table: each one's mean and 95 % confidence interval.
const HEADLINE: [&str; 4] = ["total_time_s", "downtime_s", "bytes_sent", "converged"];

/// Whether `dir` is a sweep's output folder.
pub fn is_sweep_dir(dir: &Path) -> bool {
    dir.is_dir() && dir.join("sweep.csv").is_file()
}

/// One figure of a summary row as people read it: "6.24 s (6.2 s to 6.3 s)", or a share for
/// `converged`.
fn headline(col: &str, mean: &str, lo: &str, hi: &str) -> String {
    if mean.is_empty() {
        return "-".into();
    }
    if col == "converged" {
        return number(mean).map_or(mean.to_string(), |m| format!("{:.0} %", m * 100.0));
    }
    let m = human(col, mean);
    let (lo, hi) = (human(col, lo), human(col, hi));
    if lo.is_empty() || hi.is_empty() || lo == hi { m } else { format!("{m} ({lo} to {hi})") }
}

/// The summary table: axis values, strategy, VM, runs and the headline figures.
fn summary_table(path: &Path) -> Result<String, Error> {
    let mut r = stats::reader(path)?;
    let header: Vec<String> = r.headers().map_err(Error::other)?.iter().map(String::from).collect();
    let pos = |c: &str| header.iter().position(|h| h == c);
    let Some(strategy) = pos("strategy") else {
        return Err(Error::Input(format!("{}: not a sweep summary: it has no strategy column", path.display())));
    };
    // Per headline figure: its name and the columns of its mean and confidence interval.
    type Cols<'a> = (&'a str, Option<usize>, Option<usize>, Option<usize>);
    let cols: Vec<Cols> =
        HEADLINE.iter().map(|m| (*m, pos(&format!("{m}_mean")), pos(&format!("{m}_ci95_lo")), pos(&format!("{m}_ci95_hi")))).collect();
    let mut head: Vec<String> = header[..strategy].iter().map(|c| pretty(c)).collect();
    head.extend(["strategy".into(), "vm".into(), "runs".into()]);
    head.extend(
        cols.iter()
            .filter(|c| c.1.is_some())
            .map(|c| if c.0 == "converged" { "converged".to_string() } else { format!("{}, mean (95 % CI)", pretty(c.0)) }),
    );
    let mut rows = Vec::new();
    let mut total = 0usize;
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::Other(format!("{}: malformed CSV: {e}", path.display())))?;
        total += 1;
        if rows.len() >= MAX_ROWS {
            continue;
        }
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("");
        let mut row: Vec<String> = (0..strategy).map(|i| human(&header[i], &rec[i])).collect();
        row.extend((strategy..strategy + 3).map(|i| rec.get(i).unwrap_or("").to_string()));
        for (m, mean, lo, hi) in &cols {
            if mean.is_some() {
                row.push(headline(m, get(*mean), get(*lo), get(*hi)));
            }
        }
        rows.push(row);
    }
    let mut s = html::table("Summary: one row per point, strategy and VM", &head, &rows);
    if total > rows.len() {
        s += &html::para(&format!("The first {} of {} rows; summary.csv has them all.", rows.len(), total));
    }
    Ok(s)
}

/// The report page of the sweep in `dir`. `command` is quoted in the footer.
pub fn page(dir: &Path, command: &str) -> Result<String, Error> {
    let csv = dir.join("sweep.csv");
    let manifest = read_json(&dir.join("sweep.json")).unwrap_or(serde_json::Value::Null);
    let l = Layout::read(&csv).map_err(|e| Error::Input(format!("{e:#}")))?;
    let name = manifest["scenario"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| dir.file_name().map_or("sweep".into(), |n| n.to_string_lossy().into_owned()));
    let mut parts = Vec::new();

    // What was swept.
    let mut body = String::new();
    let get = |k: &str| manifest[k].as_u64().map(|v| v.to_string());
    let strategies = manifest["strategies"].as_array().map(|a| a.iter().filter_map(|s| s.as_str()).collect::<Vec<_>>().join(", "));
    body += &html::para(&format!(
        "The scenario {} ({}), seed {}: {} points, {} replications each, strategies {}: {} runs in all. sweep.csv has one row per run and migration, summary.csv one per point, strategy and VM.",
        name,
        manifest["file"].as_str().unwrap_or("file not recorded"),
        get("seed").unwrap_or("?".into()),
        get("points").unwrap_or_else(|| "?".into()),
        get("replications").unwrap_or_else(|| "?".into()),
        strategies.unwrap_or_else(|| "?".into()),
        get("runs").unwrap_or_else(|| "?".into())
    ));
    let axes = manifest["axes"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Vec<String>> = axes
        .iter()
        .map(|a| {
            let col = a["column"].as_str().unwrap_or("");
            let values = a["values"]
                .as_array()
                .map(|v| v.iter().filter_map(|x| x.as_str()).map(|x| human(col, x)).collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            vec![a["key"].as_str().unwrap_or(col).to_string(), a["scale"].as_str().unwrap_or("").to_string(), values]
        })
        .collect();
    if !rows.is_empty() {
        body += &html::table("Axes", &["scenario key".into(), "scale".into(), "values".into()], &rows);
    }
    parts.push(Part { id: "swept".into(), heading: "What was swept".into(), body });

    // The summary.
    let summary = dir.join("summary.csv");
    let body = if summary.is_file() {
        html::para(
            "The mean of each point's runs and its 95 % confidence interval (Student's t); converged is the share of runs that converged.",
        ) + &summary_table(&summary)?
    } else {
        html::para(
            "summary.csv is missing from the folder: the sweep did not finish (finish it with `migsim sweep ... --resume`) or its shards were not merged (`migsim merge`).",
        )
    };
    parts.push(Part { id: "summary".into(), heading: "Summary".into(), body });

    // The charts, drawn again from sweep.csv.
    let log: Vec<String> = axes.iter().filter(|a| a["scale"] == "log").filter_map(|a| a["column"].as_str().map(String::from)).collect();
    let mut data = stats::sweep_charts(&l, &name, &log);
    stats::scan(&csv, &l, None, &mut data)?;
    let mut body = html::para(
        "Each chart shows a figure's mean over the replications at each value of an axis, with its 95 % confidence interval as error bars, one line per strategy (and per value of the other axes while that makes at most 12 lines).",
    );
    for d in &data {
        let chart = d.chart(&l);
        if chart.series.iter().all(|s| s.points.is_empty()) {
            continue;
        }
        let caption = format!("{} ({}.png and .svg in the folder).", chart.title, d.stem);
        body += &html::figure(std::slice::from_ref(&chart), &caption)?;
    }
    parts.push(Part { id: "charts".into(), heading: "Charts".into(), body });

    // The scenario, if its file is still where the sweep read it.
    let body = match manifest["file"].as_str() {
        Some(f) if Path::new(f).is_file() => match crate::input::scenario::load(Path::new(f), &[]) {
            Ok(sc) => {
                html::para(&format!(
                    "{f} as it reads now, every default written out, without the sweep's values (and without any --set the sweep was given, which sweep.json does not record)."
                )) + &html::pre(&crate::input::write::to_toml(&sc))
            }
            Err(e) => html::para(&format!("{f} no longer loads: {e}")),
        },
        Some(f) => html::para(&format!("{f}, the file the sweep read, is not found from here.")),
        None => html::para("sweep.json does not name the scenario file."),
    };
    parts.push(Part { id: "scenario".into(), heading: "The scenario".into(), body });

    let sub = format!("A parameter sweep: {}", dir.display());
    Ok(html::page(
        &format!("migsim report: sweep {name}"),
        &sub,
        &parts,
        &format!("Made by migsim {} with `{command}`.", env!("CARGO_PKG_VERSION")),
    ))
}
