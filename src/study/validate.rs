//! `migsim validate`: run every reference case under a folder and compare the simulation with the
//! reference figures (closed forms, SimGrid's model, real QEMU migrations), with one summary and one
//! verdict per reference set. A set is a subfolder with a `set.toml` (`name`, `kind`); each case is a
//! scenario file whose `[reference]` table holds the figures to match.

use crate::input::scenario;
use crate::input::tree::{self as config, TableReader, Value};
use crate::model::result::MigrationResult;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// Closed forms: every figure within 1 %, rounds and convergence exact.
    Analytic,
    /// SimGrid's model: total time within 1 %, same rounds, downtime within 1 ms, same convergence.
    SimGrid,
    /// Real QEMU runs: the distribution targets of the validation issue.
    Qemu,
    /// SimGrid's model with K migrations at once on one link: the run's makespan, the migrations'
    /// mean and longest total time, mean downtime, bytes and rounds.
    SimGridConcurrent,
}

/// One compared figure of one case.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub set: String,
    pub case: String,
    pub metric: String,
    pub reference: f64,
    pub simulated: f64,
    /// Relative error (simulated - reference) / reference, for counts too (the table shows counts'
    /// differences); absolute when the reference is 0.
    pub error: f64,
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SetSummary {
    pub set: String,
    pub cases: usize,
    pub lines: Vec<String>,
    /// Every target met, or missed only as documented (`known`); false makes `validate` fail.
    pub passed: bool,
    /// The metrics that missed their target as documented in the set's `[known]` table, no worse.
    pub known: Vec<String>,
}

/// A documented miss (a set's `[known]` table, one inline table per metric): the figures the
/// metric is known to reach; a miss no worse than these is KNOWN, a worse one fails.
#[derive(Debug, Clone, Default)]
struct Known {
    metric: String,
    /// At most these median and 90th-percentile |error|, in percent.
    median_pct: Option<f64>,
    p90_pct: Option<f64>,
    /// At least this many rows within their tolerance.
    within: Option<usize>,
}

impl Known {
    /// Whether figures (median, p90 as fractions; rows within tolerance) are no worse than documented.
    fn holds(&self, med: f64, p90: f64, ok: usize) -> bool {
        self.median_pct.is_none_or(|m| med * 100.0 <= m + 1e-9)
            && self.p90_pct.is_none_or(|p| p90 * 100.0 <= p + 1e-9)
            && self.within.is_none_or(|w| ok >= w)
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = self.median_pct {
            parts.push(format!("median <= {m}%"));
        }
        if let Some(p) = self.p90_pct {
            parts.push(format!("p90 <= {p}%"));
        }
        if let Some(w) = self.within {
            parts.push(format!(">= {w} within tolerance"));
        }
        parts.join(", ")
    }
}

pub struct Outcome {
    pub rows: Vec<Row>,
    pub sets: Vec<SetSummary>,
}

fn rel(sim: f64, reference: f64) -> f64 {
    if reference == 0.0 { sim - reference } else { (sim - reference) / reference }
}

fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s: Vec<f64> = v.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = q * (s.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

/// The `[reference]` table of a case: numbers and booleans by key, and the throttle schedule
/// (`[[t_s, pct], ...]`) flattened to `throttle_step_<i>` = t_s.
fn reference(path: &Path) -> Result<Vec<(String, f64)>, String> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{file}: {e}"))?;
    let root = config::parse(&file, &text).map_err(|e| e.to_string())?;
    let Value::Table(t) = &root.value else { return Err(format!("{file}: not a table")) };
    let Some(r) = t.get("reference") else { return Err(format!("{file}: no [reference] table")) };
    let Value::Table(r) = &r.value else { return Err(format!("{file}: [reference] is not a table")) };
    let num = |n: &config::Node| match &n.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    let mut out = Vec::new();
    for (k, n) in &r.entries {
        match &n.value {
            Value::Array(steps) if k == "throttle_schedule" => {
                for (i, step) in steps.iter().enumerate() {
                    let Value::Array(pair) = &step.value else { return Err(format!("{file}: throttle_schedule holds [t_s, pct] pairs")) };
                    let t = pair.first().and_then(num).ok_or_else(|| format!("{file}: throttle_schedule holds [t_s, pct] pairs"))?;
                    out.push((format!("throttle_step_{}", i + 1), t));
                }
            }
            _ => {
                if let Some(v) = num(n) {
                    out.push((k.clone(), v));
                }
            }
        }
    }
    Ok(out)
}

/// The documented misses of a set: `[known]` with `METRIC = { median_pct = 3.5, p90_pct = 15, within = 20 }`.
fn read_known(r: &mut TableReader<'_>) -> Result<Vec<Known>, String> {
    let Some(t) = r.table("known").map_err(|e| e.to_string())? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (metric, node) in &t.raw().entries {
        let mut k = TableReader::at(t.file(), t.key_path(metric), node).map_err(|e| e.to_string())?;
        let within = k.uint("within").map_err(|e| e.to_string())?.map(|w| w as usize);
        let known = Known {
            metric: metric.clone(),
            median_pct: k.float("median_pct").map_err(|e| e.to_string())?,
            p90_pct: k.float("p90_pct").map_err(|e| e.to_string())?,
            within,
        };
        k.finish().map_err(|e| e.to_string())?;
        if known.median_pct.is_none() && known.p90_pct.is_none() && known.within.is_none() {
            return Err(format!("{}: known miss `{metric}` gives no figure (median_pct, p90_pct or within)", t.file()));
        }
        out.push(known);
    }
    Ok(out)
}

/// A set's name, kind, whether its repeats are scored against their range, and its known misses.
type SetInfo = (String, SetKind, bool, Vec<Known>);

/// The set's name, kind, and whether its repeats are scored against their range (`repeats =
/// "range"`: a case of a configuration the lab ran more than once is compared with the range its
/// repeats measured, see `against_repeat_range`).
/// Its documented misses are in `[known]` (`read_known`).
fn set_info(dir: &Path) -> Result<Option<SetInfo>, String> {
    let p = dir.join("set.toml");
    if !p.exists() {
        return Ok(None);
    }
    let file = p.display().to_string();
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{file}: {e}"))?;
    let root = config::parse(&file, &text).map_err(|e| e.to_string())?;
    let mut r = TableReader::root(&file, &root).map_err(|e| e.to_string())?;
    let name =
        r.string("name").map_err(|e| e.to_string())?.unwrap_or_else(|| dir.file_name().unwrap_or_default().to_string_lossy().to_string());
    let kind = r.string("kind").map_err(|e| e.to_string())?.unwrap_or_default();
    let kind = config::choice(
        &r,
        "kind",
        &kind,
        &[
            ("analytic", SetKind::Analytic),
            ("simgrid", SetKind::SimGrid),
            ("qemu", SetKind::Qemu),
            ("simgrid-concurrent", SetKind::SimGridConcurrent),
        ],
    )
    .map_err(|e| e.to_string())?;
    let repeats = match r.string("repeats").map_err(|e| e.to_string())?.as_deref() {
        None | Some("each") => false,
        Some("range") => true,
        Some(other) => {
            return Err(format!(
                "{file}: repeats = \"{other}\": expected \"each\" (every run on its own) or \"range\" (a case against its repeats' range)"
            ));
        }
    };
    let known = read_known(&mut r)?;
    r.allow(&["description"]);
    r.finish().map_err(|e| e.to_string())?;
    Ok(Some((name, kind, repeats, known)))
}

/// Every migration of the case's run (its first strategy).
fn simulate(path: &Path) -> Result<Vec<MigrationResult>, String> {
    let sc = scenario::load(path, &[]).map_err(|e| e.to_string())?;
    let s = sc.strategies[0];
    let ms = crate::model::sim::run(&sc, s);
    if ms.is_empty() {
        return Err(format!("{}: no migration", path.display()));
    }
    Ok(ms)
}

/// A figure of the run's migrations taken together: its makespan (the last migration's end), and
/// the migrations' mean or largest figure; `converged` when every migration converged.
fn run_metric(ms: &[MigrationResult], key: &str) -> Option<f64> {
    let n = ms.len() as f64;
    let mean = |f: &dyn Fn(&MigrationResult) -> Option<f64>| ms.iter().map(f).sum::<Option<f64>>().map(|s| s / n);
    Some(match key {
        "makespan_s" => ms.iter().map(|m| m.start_s + m.total_time_s).fold(0.0, f64::max),
        "mean_total_time_s" => mean(&|m| Some(m.total_time_s))?,
        "max_total_time_s" => ms.iter().map(|m| m.total_time_s).fold(0.0, f64::max),
        "mean_downtime_s" => mean(&|m| m.downtime_s)?,
        "mean_total_bytes" => mean(&|m| Some(m.bytes_sent as f64))?,
        "mean_rounds" => mean(&|m| Some(f64::from(m.rounds)))?,
        "converged" => f64::from(u8::from(ms.iter().all(|m| m.converged))),
        k => return sim_metric(&ms[0], k),
    })
}

fn sim_metric(m: &MigrationResult, key: &str) -> Option<f64> {
    Some(match key {
        "total_time_s" => m.total_time_s,
        "downtime_s" | "downtime_ev_s" => m.downtime_s?,
        "bytes_sent" => m.bytes_sent as f64,
        "rounds" => m.rounds as f64,
        "syncs" => m.syncs as f64,
        "converged" => f64::from(u8::from(m.converged)),
        "postcopy_start_s" => m.postcopy_start_s?,
        "xbzrle_bytes_saved" => m.xbzrle_bytes_saved as f64,
        "xbzrle_pages" => m.xbzrle_pages as f64,
        "xbzrle_cache_miss" => m.xbzrle_cache_miss as f64,
        "zero_pages" => m.zero_pages_sent as f64,
        // The lab's names for post-copy's page requests and the destination vCPU's blocked time.
        "postcopy_requests" => m.remote_faults as f64,
        "dest_blocktime_s" => m.fault_stall_s,
        k => {
            // throttle_step_<i>: when the i-th throttle step came (s since the start).
            let i: usize = k.strip_prefix("throttle_step_")?.parse().ok()?;
            m.throttle_schedule.get(i.checked_sub(1)?)?[0]
        }
    })
}

/// Run every set under `dir`.
pub fn run(dir: &Path, only: &[String]) -> Result<Outcome, String> {
    let mut set_dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot read the validation folder: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    set_dirs.sort();
    let mut rows = Vec::new();
    let mut sets = Vec::new();
    for sd in set_dirs {
        let Some((name, kind, repeats, known)) = set_info(&sd)? else { continue };
        if !only.is_empty() && !only.contains(&name) {
            continue;
        }
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&sd)
            .map_err(|e| format!("{}: {e}", sd.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.file_name().is_some_and(|n| n != "set.toml"))
            .collect();
        cases.sort();
        let mut set_rows = Vec::new();
        for c in &cases {
            let case = c.file_stem().unwrap_or_default().to_string_lossy().to_string();
            let refs = reference(c)?;
            let all = simulate(c)?;
            let m = &all[0];
            let get = |k: &str| refs.iter().find(|(kk, _)| kk == k).map(|(_, v)| *v);
            let keys: &[&str] = match kind {
                SetKind::Analytic => &["total_time_s", "downtime_s", "bytes_sent", "rounds", "converged"],
                SetKind::SimGrid => &["total_time_s", "downtime_s", "bytes_sent", "rounds", "converged"],
                SetKind::Qemu => &["total_time_s", "downtime_s", "downtime_ev_s", "bytes_sent", "zero_pages", "syncs", "converged"],
                SetKind::SimGridConcurrent => &[
                    "makespan_s",
                    "mean_total_time_s",
                    "max_total_time_s",
                    "mean_downtime_s",
                    "mean_total_bytes",
                    "mean_rounds",
                    "converged",
                ],
            };
            let extra: Vec<String> = refs
                .iter()
                .map(|(k, _)| k.clone())
                .filter(|k| {
                    k.starts_with("throttle_step_")
                        || matches!(k.as_str(), "xbzrle_bytes_saved" | "xbzrle_pages" | "xbzrle_cache_miss")
                        // Post-copy's faults and stalls, where the run had a post-copy phase.
                        || (matches!(k.as_str(), "postcopy_requests" | "dest_blocktime_s") && m.postcopy_start_s.is_some())
                })
                .collect();
            let keys: Vec<&str> = keys.iter().copied().chain(extra.iter().map(String::as_str)).collect();
            for k in keys {
                let Some(r) = get(k) else { continue };
                let s = if kind == SetKind::SimGridConcurrent { run_metric(&all, k) } else { sim_metric(m, k) }.unwrap_or(f64::NAN);
                let err = rel(s, r);
                let ok = within(kind, k, s, r);
                set_rows.push(Row {
                    set: name.clone(),
                    case: case.clone(),
                    metric: k.to_string(),
                    reference: r,
                    simulated: s,
                    error: err,
                    ok,
                });
            }
        }
        if repeats {
            against_repeat_range(kind, &mut set_rows);
        }
        sets.push(summarize(&name, kind, cases.len(), &set_rows, &known));
        rows.extend(set_rows);
    }
    if sets.is_empty() {
        return Err(format!(
            "{}: no reference sets (folders with a set.toml) found{}",
            dir.display(),
            if only.is_empty() { String::new() } else { format!(" named {}", only.join(", ")) }
        ));
    }
    Ok(Outcome { rows, sets })
}

/// Whether simulated `s` is within the tolerance of reference `r` for metric `k` in a set of `kind`.
fn within(kind: SetKind, k: &str, s: f64, r: f64) -> bool {
    let err = rel(s, r);
    match (kind, k) {
        (_, "converged") | (_, "rounds" | "mean_rounds") | (SetKind::Qemu, "syncs") => s == r,
        (SetKind::SimGridConcurrent, "mean_downtime_s") => err.abs() <= 0.01 || (s - r).abs() <= 0.001,
        (SetKind::SimGridConcurrent, _) => err.abs() <= 0.01,
        (SetKind::Analytic, _) => err.abs() <= 0.01,
        (SetKind::SimGrid, "downtime_s") => (s - r).abs() <= 0.001,
        (SetKind::SimGrid, "total_time_s") => err.abs() <= 0.01,
        (SetKind::SimGrid, _) => err.abs() <= 0.01,
        // Issue 23: downtime within max(15 %, 10 ms).
        (SetKind::Qemu, "downtime_s" | "downtime_ev_s") => (s - r).abs() <= (0.15 * r).max(0.010),
        // Issue 4: each throttle step within 10 % or 0.5 s; XBZRLE bytes saved within 15 %.
        (SetKind::Qemu, k) if k.starts_with("throttle_step_") => (s - r).abs() <= (0.1 * r).max(0.5),
        (SetKind::Qemu, "xbzrle_bytes_saved" | "xbzrle_pages" | "xbzrle_cache_miss") => err.abs() <= 0.15,
        (SetKind::Qemu, "postcopy_requests" | "dest_blocktime_s") => err.abs() <= 0.25,
        // Issue 23: a run's total time within the set's p90 bound (8 %), its bytes within 4 %.
        (SetKind::Qemu, "bytes_sent") => err.abs() <= 0.04,
        (SetKind::Qemu, "total_time_s") => err.abs() <= 0.08,
        (SetKind::Qemu, _) => err.abs() <= 0.12,
    }
}

/// Scores each case of a configuration measured more than once (`-repN` cases) against the range
/// its repeats measured: inside the range the error is 0 and the case passes; outside, the error is
/// taken from the nearer end of the range, and the case passes when it is within tolerance of that
/// end. `reference` stays the case's own figure. Convergence is still compared run by run.
fn against_repeat_range(kind: SetKind, rows: &mut [Row]) {
    let ranges: Vec<Option<(f64, f64)>> = rows
        .iter()
        .map(|r| {
            let refs: Vec<f64> = rows
                .iter()
                .filter(|o| o.metric == r.metric && configuration(&o.case) == configuration(&r.case))
                .map(|o| o.reference)
                .collect();
            (refs.len() > 1 && r.metric != "converged")
                .then(|| refs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v))))
        })
        .collect();
    for (row, range) in rows.iter_mut().zip(ranges) {
        let Some((lo, hi)) = range else { continue };
        let end = if row.simulated < lo {
            lo
        } else if row.simulated > hi {
            hi
        } else {
            row.simulated
        };
        row.error = rel(row.simulated, end);
        row.ok = within(kind, &row.metric, row.simulated, end);
    }
}

fn summarize(name: &str, kind: SetKind, cases: usize, rows: &[Row], known: &[Known]) -> SetSummary {
    let mut lines = Vec::new();
    let mut passed = true;
    let mut known_misses = Vec::new();
    // Metrics in the order they first appear.
    // All throttle steps are summarized as one metric.
    let group = |metric: &str| if metric.starts_with("throttle_step_") { "throttle_step_s" } else { metric }.to_string();
    let mut metrics: Vec<String> = Vec::new();
    for r in rows {
        let g = group(&r.metric);
        if !metrics.contains(&g) {
            metrics.push(g);
        }
    }
    for m in &metrics {
        let m = m.as_str();
        let mr: Vec<&Row> = rows.iter().filter(|r| group(&r.metric) == m).collect();
        let errs: Vec<f64> = mr.iter().map(|r| r.error.abs()).collect();
        let ok = mr.iter().filter(|r| r.ok).count();
        let (med, p90, worst) = (quantile(&errs, 0.5), quantile(&errs, 0.9), errs.iter().cloned().fold(0.0, f64::max));
        let abs_metric = matches!(m, "converged" | "rounds" | "mean_rounds" | "syncs");
        let (g, target) = goal(kind, m);
        let target_ok = match g {
            Goal::Distribution { median, p90: p } => med <= median && p90 <= p,
            Goal::ShareOk(share) => ok as f64 >= share * mr.len() as f64,
            Goal::AllOk => ok == mr.len(),
            Goal::Informational => true,
        };
        let documented = known.iter().find(|k| k.metric == m);
        let verdict = match documented {
            _ if target_ok => "ok".to_string(),
            Some(k) if k.holds(med, p90, ok) => {
                known_misses.push(m.to_string());
                format!("MISSED, KNOWN (documented: {})", k.describe())
            }
            Some(k) => {
                passed = false;
                format!("MISSED, worse than documented ({})", k.describe())
            }
            None => {
                passed = false;
                "MISSED".to_string()
            }
        };
        if abs_metric {
            lines.push(format!("{name}: {m}: {ok}/{} exact; target {target}: {verdict}", mr.len()));
        } else {
            lines.push(format!(
                "{name}: {m}: median |err| {:.2}%, p90 {:.2}%, worst {:.2}%, {ok}/{} within tolerance; target {target}: {verdict}",
                med * 100.0,
                p90 * 100.0,
                worst * 100.0,
                mr.len()
            ));
        }
        let (missed, in_spread) = misses_within_repeat_spread(&mr, rows);
        if in_spread > 0 {
            lines.push(format!(
                "{name}: {m}: {in_spread} of the {missed} misses lie within QEMU's own spread over repeats of the same configuration (informational; the verdict above counts them as misses)"
            ));
        }
    }
    SetSummary { set: name.to_string(), cases, lines, passed, known: known_misses }
}

/// What a set's summary requires of one metric (all throttle steps count as `throttle_step_s`).
enum Goal {
    /// Median and 90th percentile of |error| at most these.
    Distribution { median: f64, p90: f64 },
    /// At least this share of the rows within their tolerance.
    ShareOk(f64),
    /// Every row within its tolerance.
    AllOk,
    /// Shown, not a target.
    Informational,
}

/// The goal for `metric` in a set of `kind`, and how the summary line states it.
fn goal(kind: SetKind, metric: &str) -> (Goal, &'static str) {
    match (kind, metric) {
        (SetKind::Qemu, "total_time_s") => (Goal::Distribution { median: 0.02, p90: 0.08 }, "median <= 2%, p90 <= 8%"),
        (SetKind::Qemu, "bytes_sent") => (Goal::Distribution { median: 0.01, p90: 0.04 }, "median <= 1%, p90 <= 4%"),
        (SetKind::Qemu, "downtime_s") => (Goal::ShareOk(0.9), "within max(15%, 10 ms) on >= 90%"),
        (SetKind::Qemu, "syncs") => (Goal::ShareOk(0.7), "exact on >= 70%"),
        (SetKind::Qemu, "downtime_ev_s" | "zero_pages" | "xbzrle_pages" | "xbzrle_cache_miss") => (Goal::Informational, "informational"),
        (SetKind::Qemu, "postcopy_requests") => (Goal::Informational, "informational (the model's remote_faults)"),
        (SetKind::Qemu, "dest_blocktime_s") => (Goal::Informational, "informational (the model's fault_stall_s)"),
        (SetKind::Qemu, "throttle_step_s") => (Goal::AllOk, "each step within max(10%, 0.5 s)"),
        (SetKind::Qemu, "xbzrle_bytes_saved") => (Goal::AllOk, "within 15% on all"),
        (_, "converged") | (_, "rounds" | "mean_rounds") => (Goal::AllOk, "exact on all"),
        (SetKind::SimGridConcurrent, "mean_downtime_s") => (Goal::AllOk, "within 1% or 1 ms on all"),
        (SetKind::SimGrid, "downtime_s") => (Goal::AllOk, "within 1 ms on all"),
        _ => (Goal::AllOk, "within 1% on all"),
    }
}

/// The configuration a case repeats: its name without a `-repN` suffix.
fn configuration(case: &str) -> &str {
    match case.rsplit_once("-rep") {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => case,
    }
}

/// Of the missed rows in `mr`, how many there are and how many simulated a value inside the range the
/// reference took over the repeats of the same configuration (in `all`, same metric).
fn misses_within_repeat_spread(mr: &[&Row], all: &[Row]) -> (usize, usize) {
    let missed: Vec<&&Row> = mr.iter().filter(|r| !r.ok).collect();
    let in_spread = missed
        .iter()
        .filter(|r| {
            let refs: Vec<f64> = all
                .iter()
                .filter(|o| o.metric == r.metric && configuration(&o.case) == configuration(&r.case))
                .map(|o| o.reference)
                .collect();
            let (lo, hi) = refs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            refs.len() > 1 && lo <= r.simulated && r.simulated <= hi
        })
        .count();
    (missed.len(), in_spread)
}

pub fn table(o: &Outcome) -> String {
    let mut s = String::new();
    s.push_str(&format!("{:<14} {:<52} {:<14} {:>16} {:>16} {:>9}\n", "set", "case", "metric", "reference", "simulated", "error"));
    for r in &o.rows {
        let err = if matches!(r.metric.as_str(), "converged" | "rounds" | "mean_rounds" | "syncs") {
            format!("{:+}", r.simulated - r.reference)
        } else {
            format!("{:+.2}%", r.error * 100.0)
        };
        s.push_str(&format!(
            "{:<14} {:<52} {:<14} {:>16} {:>16} {:>9}{}\n",
            r.set,
            r.case,
            r.metric,
            fmt_num(r.reference),
            fmt_num(r.simulated),
            err,
            if r.ok { "" } else { "  *" }
        ));
    }
    s.push('\n');
    for set in &o.sets {
        let verdict = match (set.passed, set.known.len()) {
            (false, _) => "FAIL".to_string(),
            (true, 0) => "PASS".to_string(),
            (true, n) => format!(
                "PASS, with {n} KNOWN miss{} ({}: documented in docs/validation.md, none worse)",
                if n == 1 { "" } else { "es" },
                set.known.join(", ")
            ),
        };
        s.push_str(&format!("== {} ({} cases): {verdict}\n", set.set, set.cases));
        for l in &set.lines {
            s.push_str(&format!("   {l}\n"));
        }
    }
    s
}

fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else if x.abs() >= 1e6 {
        format!("{x:.0}")
    } else {
        format!("{x:.4}")
    }
}

/// `{"rows": [...], "sets": [...]}`: the CSV's rows, then each set's summary lines and verdict.
pub fn json(o: &Outcome) -> anyhow::Result<String> {
    #[derive(Serialize)]
    struct Out<'a> {
        rows: &'a [Row],
        sets: &'a [SetSummary],
    }
    Ok(serde_json::to_string_pretty(&Out { rows: &o.rows, sets: &o.sets })? + "\n")
}

pub fn csv(o: &Outcome) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &o.rows {
        w.serialize(r)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(case: &str, reference: f64, simulated: f64) -> Row {
        let ok = reference == simulated;
        Row { set: "s".into(), case: case.into(), metric: "syncs".into(), reference, simulated, error: 0.0, ok }
    }

    #[test]
    fn documented_misses_are_known_and_worse_ones_fail() {
        // syncs: 2 of 4 exact, against "exact on >= 70%".
        let rows = [row("a", 5.0, 5.0), row("b", 5.0, 5.0), row("c", 5.0, 6.0), row("d", 5.0, 4.0)];
        let known = |within| Known { metric: "syncs".into(), within: Some(within), ..Known::default() };
        let s = summarize("s", SetKind::Qemu, 4, &rows, &[]);
        assert!(!s.passed && s.known.is_empty(), "an undocumented miss fails");
        let s = summarize("s", SetKind::Qemu, 4, &rows, &[known(2)]);
        assert!(s.passed && s.known == ["syncs"], "{:?}", s.lines);
        assert!(s.lines[0].contains("MISSED, KNOWN (documented: >= 2 within tolerance)"), "{:?}", s.lines);
        let s = summarize("s", SetKind::Qemu, 4, &rows, &[known(3)]);
        assert!(!s.passed && s.lines[0].contains("worse than documented"), "a miss worse than documented fails: {:?}", s.lines);
        let all_ok = [row("a", 5.0, 5.0), row("b", 5.0, 5.0), row("c", 5.0, 5.0), row("d", 5.0, 5.0)];
        let s = summarize("s", SetKind::Qemu, 4, &all_ok, &[known(2)]);
        assert!(s.passed && s.known.is_empty(), "a documented miss that no longer misses is simply ok");
    }

    #[test]
    fn repeats_group_by_configuration() {
        assert_eq!(configuration("m256-ac-rep2"), "m256-ac");
        assert_eq!(configuration("m256-ac"), "m256-ac");
        assert_eq!(configuration("m256-repx"), "m256-repx");
        // QEMU gave 22, 21 and 26 syncs; 24 is a miss on each, inside the spread; 30 is outside,
        // and a case without repeats has no spread.
        let all = vec![row("a", 22.0, 24.0), row("a-rep2", 21.0, 24.0), row("a-rep3", 26.0, 30.0), row("b", 3.0, 4.0)];
        let refs: Vec<&Row> = all.iter().collect();
        assert_eq!(misses_within_repeat_spread(&refs, &all), (4, 2));
    }

    fn time_row(case: &str, reference: f64, simulated: f64) -> Row {
        let metric = "total_time_s";
        Row {
            set: "s".into(),
            case: case.into(),
            metric: metric.into(),
            reference,
            simulated,
            error: rel(simulated, reference),
            ok: within(SetKind::Qemu, metric, simulated, reference),
        }
    }

    #[test]
    fn repeats_are_scored_against_their_range() {
        // Repeats measured 1.0, 1.2 and 1.1 s: 1.15 s is inside (error 0, a pass even against the
        // 1.0 s run, 15 % off on its own); 1.32 s is 10 % past the top (a miss); 1.25 s is 4 % past
        // it (a pass); a case without repeats keeps its own error.
        let mut rows =
            vec![time_row("a-rep1", 1.0, 1.15), time_row("a-rep2", 1.2, 1.32), time_row("a-rep3", 1.1, 1.25), time_row("b", 2.0, 2.3)];
        assert!(!rows[0].ok && !rows[1].ok && !rows[2].ok);
        against_repeat_range(SetKind::Qemu, &mut rows);
        assert!(rows[0].ok && rows[0].error == 0.0);
        assert!(!rows[1].ok && (rows[1].error - 0.1).abs() < 1e-9);
        assert!(rows[2].ok && (rows[2].error - 0.25 / 6.0).abs() < 1e-9);
        assert!(!rows[3].ok && (rows[3].error - 0.15).abs() < 1e-9);
    }

    #[test]
    fn downtime_tolerance_is_15_percent_or_10_ms() {
        assert!(within(SetKind::Qemu, "downtime_s", 0.0149, 0.005));
        assert!(!within(SetKind::Qemu, "downtime_s", 0.0151, 0.005));
        assert!(within(SetKind::Qemu, "downtime_s", 0.229, 0.2));
        assert!(!within(SetKind::Qemu, "downtime_s", 0.231, 0.2));
    }
}
