//! What is drawn from a sweep's CSV: `summary.csv` and the sweep charts (after a sweep or a
//! merge), and `migsim plot`'s chart of any column against another.

use super::common::{Error, read_json};
use super::stats::{self, Layout};
use rayon::prelude::*;
use std::path::Path;

/// `summary.csv` and (if `charts`) the sweep charts of `dir/sweep.csv`, drawn in parallel. Charts
/// of an earlier sweep in the folder (listed in its sweep.json) that this one does not draw are
/// removed. Returns the chart file names.
pub fn analyse(dir: &Path, name: &str, log_columns: &[String], charts: bool, pool: &rayon::ThreadPool) -> Result<Vec<String>, Error> {
    let csv = dir.join("sweep.csv");
    let l = Layout::read(&csv)?;
    let mut data = if charts { stats::sweep_charts(&l, name, log_columns) } else { Vec::new() };
    stats::scan(&csv, &l, Some(&dir.join("summary.csv")), &mut data)?;
    let drawn: Vec<Result<Vec<String>, Error>> = pool.install(|| {
        data.par_iter()
            .map(|d| {
                let chart = d.chart(&l);
                if chart.series.iter().all(|s| s.points.is_empty()) {
                    return Ok(Vec::new());
                }
                let mut names = Vec::new();
                for ext in ["png", "svg"] {
                    let file = format!("{}.{ext}", d.stem);
                    crate::output::plot::write(&dir.join(&file), std::slice::from_ref(&chart))?;
                    names.push(file);
                }
                Ok(names)
            })
            .collect()
    });
    let mut names = Vec::new();
    for d in drawn {
        names.extend(d?);
    }
    if let Some(old) = read_json(&dir.join("sweep.json")) {
        for f in old["charts"].as_array().into_iter().flatten().filter_map(|f| f.as_str()) {
            // Only plain names that sweep.json itself listed, never a path.
            if !names.iter().any(|n| n == f) && !f.contains(['/', '\\']) && (f.ends_with(".png") || f.ends_with(".svg")) {
                let _ = std::fs::remove_file(dir.join(f));
            }
        }
    }
    Ok(names)
}

/// `migsim plot`: a chart of `y` against `x` from any sweep CSV, one line per value of the `by`
/// columns, the mean and its 95 % confidence interval at each x.
pub fn plot(csv: &Path, x: &str, y: &str, by: &[String], log_x: bool, out: &Path) -> Result<(), Error> {
    let l = Layout::read(csv).map_err(|e| Error::Input(format!("{e:#}")))?;
    let input = |e: String| Error::Input(format!("{}: {e}", csv.display()));
    let xi = l.need(x, "--x").map_err(input)?;
    let yi = l.need(y, "--y").map_err(input)?;
    if !l.numeric[yi] {
        return Err(input(format!(
            "--y `{y}` does not hold numbers; numeric columns: {}",
            l.metrics().iter().map(|&i| l.header[i].as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let by = by
        .iter()
        .filter(|b| !b.is_empty() && b.as_str() != "none")
        .map(|b| l.need(b, "--by").map_err(input))
        .collect::<Result<Vec<_>, _>>()?;
    if log_x && !l.numeric[xi] {
        return Err(input(format!("--log-x needs numbers on the x axis, but `{x}` holds words")));
    }
    let name = csv.parent().and_then(|d| d.file_name()).map_or(String::new(), |n| format!("{}: ", n.to_string_lossy()));
    let title = format!("{name}{} vs {}, mean per point", stats::pretty(y), stats::pretty(x));
    let mut data = [stats::ChartData::new(xi, yi, by, log_x, title, String::new())];
    stats::scan(csv, &l, None, &mut data)?;
    if log_x && data[0].chart(&l).series.iter().flat_map(|s| &s.points).any(|p| p.x <= 0.0) {
        return Err(input(format!("--log-x needs x values above zero, but `{x}` has zero or negative ones")));
    }
    crate::output::plot::write(out, &[data[0].chart(&l)]).map_err(|e| {
        let s = format!("{e:#}");
        if s.contains("must end in") { Error::Input(s) } else { Error::Other(s) }
    })
}
