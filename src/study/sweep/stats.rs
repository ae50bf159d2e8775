//! Reading sweep CSVs back: which columns are numeric, streamed statistics per group (mean,
//! standard deviation, min, max and a 95 % confidence interval), `summary.csv`, and the data of the
//! sweep charts and of `migsim plot`. Every pass streams the file, so memory follows the number of
//! groups (points, lines, x values), never the number of rows.

use crate::files::partial_path;
use crate::output::plot::{Chart, Point, Series, Style};
use crate::units;
use anyhow::{Context, anyhow, bail};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Running count, mean, variance (Welford), min and max of one figure.
#[derive(Debug, Clone, Copy)]
pub struct Acc {
    pub n: u64,
    pub mean: f64,
    m2: f64,
    pub min: f64,
    pub max: f64,
}

impl Default for Acc {
    fn default() -> Self {
        Acc { n: 0, mean: 0.0, m2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }
}

impl Acc {
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// Sample standard deviation (n - 1); None below two values.
    pub fn sd(&self) -> Option<f64> {
        (self.n >= 2).then(|| (self.m2 / (self.n - 1) as f64).max(0.0).sqrt())
    }

    /// The 95 % confidence interval of the mean (Student's t); None below two values.
    pub fn ci95(&self) -> Option<(f64, f64)> {
        let half = t975(self.n.saturating_sub(1)) * self.sd()? / (self.n as f64).sqrt();
        Some((self.mean - half, self.mean + half))
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom: a table to 30, then the
/// Cornish-Fisher expansion around the normal quantile (error below 1e-4 from df = 30 on).
pub fn t975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199,
        2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df as usize - 1],
        _ => {
            let (z, n) = (1.959964f64, df as f64);
            z + (z.powi(3) + z) / (4.0 * n) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * n * n)
        }
    }
}

/// A figure read from a CSV cell: numbers, and booleans as 1 or 0 (so their mean is a share).
/// Empty cells (a `null`, e.g. no downtime when a migration was cancelled) are missing values.
pub fn number(s: &str) -> Option<f64> {
    match s {
        "true" => Some(1.0),
        "false" => Some(0.0),
        _ => s.parse::<f64>().ok().filter(|x| x.is_finite()),
    }
}

/// A file written under a temporary name in its folder (`NAME.partial`) and renamed over `NAME`
/// only when complete, so an interrupted write never replaces a good file.
pub struct Staged {
    pub tmp: PathBuf,
    pub path: PathBuf,
    pub w: std::io::BufWriter<std::fs::File>,
}

impl Staged {
    pub fn create(path: &Path) -> anyhow::Result<Staged> {
        let tmp = partial_path(path);
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::files::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        let f = std::fs::File::create(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
        Ok(Staged { tmp, path: path.to_path_buf(), w: std::io::BufWriter::new(f) })
    }

    pub fn finish(self) -> anyhow::Result<()> {
        let f = self.w.into_inner().map_err(|e| anyhow!("{}: cannot write: {}", self.tmp.display(), e.error()))?;
        f.sync_all().with_context(|| format!("{}: cannot write", self.tmp.display()))?;
        std::fs::rename(&self.tmp, &self.path).with_context(|| format!("{}: cannot write", self.path.display()))
    }
}

/// Where a sweep CSV keeps what: axis columns first, then `replication, seed, strategy, vm`, then
/// the metrics.
#[derive(Debug, Clone)]
pub struct Layout {
    pub header: Vec<String>,
    /// How many axis columns (the index of `replication`).
    pub axes: usize,
    pub strategy: usize,
    pub vm: usize,
    /// Per column: every non-empty value is a number or a boolean (and one exists).
    pub numeric: Vec<bool>,
    /// Per column: its distinct values in order of appearance, up to [`DISTINCT_CAP`].
    pub distinct: Vec<Vec<String>>,
}

pub const DISTINCT_CAP: usize = 1000;

pub fn reader(path: &Path) -> anyhow::Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new().from_path(path).with_context(|| format!("{}: cannot read", path.display()))
}

impl Layout {
    /// Read `path` once to learn its columns.
    pub fn read(path: &Path) -> anyhow::Result<Layout> {
        let mut r = reader(path)?;
        let header: Vec<String> =
            r.headers().with_context(|| format!("{}: not a CSV file", path.display()))?.iter().map(String::from).collect();
        let pos = |c: &str| header.iter().position(|h| h == c);
        let (Some(axes), Some(seed), Some(strategy), Some(vm)) = (pos("replication"), pos("seed"), pos("strategy"), pos("vm")) else {
            bail!(
                "{}: not a sweep CSV: it needs the columns replication, seed, strategy and vm (found: {})",
                path.display(),
                header.join(", ")
            );
        };
        if (seed, strategy, vm) != (axes + 1, axes + 2, axes + 3) {
            bail!("{}: not a sweep CSV: replication, seed, strategy and vm must follow the axis columns in that order", path.display());
        }
        let mut numeric = vec![true; header.len()];
        let mut seen = vec![false; header.len()];
        let mut distinct: Vec<Vec<String>> = vec![Vec::new(); header.len()];
        let mut sets: Vec<std::collections::HashSet<String>> = vec![Default::default(); header.len()];
        for rec in r.records() {
            let rec = rec.with_context(|| format!("{}: malformed CSV", path.display()))?;
            for (i, v) in rec.iter().enumerate().take(header.len()) {
                if !v.is_empty() {
                    seen[i] = true;
                    numeric[i] &= number(v).is_some();
                }
                if distinct[i].len() < DISTINCT_CAP && !sets[i].contains(v) {
                    sets[i].insert(v.to_string());
                    distinct[i].push(v.to_string());
                }
            }
        }
        for (n, s) in numeric.iter_mut().zip(&seen) {
            *n &= *s;
        }
        Ok(Layout { header, axes, strategy, vm, numeric, distinct })
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The numeric metric columns (everything after `vm` that holds numbers or booleans).
    pub fn metrics(&self) -> Vec<usize> {
        (self.vm + 1..self.header.len()).filter(|&i| self.numeric[i]).collect()
    }

    /// A column by name, or an error listing the valid ones.
    pub fn need(&self, name: &str, what: &str) -> Result<usize, String> {
        self.column(name).ok_or_else(|| {
            let hint = crate::names::suggest(name, self.header.iter().map(String::as_str))
                .map_or(String::new(), |s| format!("did you mean `{s}`? "));
            format!("{what} `{name}` is not a column of the CSV; {hint}columns: {}", self.header.join(", "))
        })
    }
}

/// How a column's values read: its unit, from the name's suffix (`_s`, `_bps`, `_pps`, bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Bytes,
    BitsPerSec,
    PagesPerSec,
    Plain,
}

pub fn unit_of(column: &str) -> Unit {
    if column.ends_with("_bps") {
        Unit::BitsPerSec
    } else if column.ends_with("_pps") {
        Unit::PagesPerSec
    } else if column.ends_with("_s") {
        Unit::Seconds
    } else if column.ends_with("_bytes") || column.starts_with("bytes_") {
        Unit::Bytes
    } else {
        Unit::Plain
    }
}

/// The column's name without its unit suffix, words spaced (`total_time_s` -> `total time`; a
/// dotted scenario path keeps its underscores).
pub fn pretty(column: &str) -> String {
    let base = ["_bps", "_pps", "_bytes", "_s"].iter().find_map(|s| column.strip_suffix(s)).unwrap_or(column);
    if base.contains('.') { base.to_string() } else { base.replace('_', " ") }
}

/// A divisor and its unit name for values up to `max` (`(1e-3, "ms")`).
pub fn scale(unit: Unit, max: f64) -> (f64, &'static str) {
    let pick = |steps: &[(f64, &'static str)]| *steps.iter().find(|(d, _)| max >= *d).unwrap_or(steps.last().expect("steps"));
    match unit {
        Unit::Seconds => pick(&[(1.0, "s"), (1e-3, "ms"), (1e-6, "us")]),
        Unit::Bytes => pick(&[(1073741824.0, "GiB"), (1048576.0, "MiB"), (1024.0, "KiB"), (1.0, "B")]),
        Unit::BitsPerSec => pick(&[(1e9, "Gbit/s"), (1e6, "Mbit/s"), (1e3, "Kbit/s"), (1.0, "bit/s")]),
        Unit::PagesPerSec => (1.0, "pages/s"),
        Unit::Plain => (1.0, ""),
    }
}

/// One value as people write it ("10 Gbit/s", "300 ms", "1 GiB").
pub fn human(column: &str, v: &str) -> String {
    match (unit_of(column), number(v)) {
        (Unit::Seconds, Some(x)) if x >= 0.0 => units::format_duration((x * 1e9).round() as u64),
        (Unit::Bytes, Some(x)) if x >= 0.0 => units::format_size(x.round() as u64),
        (Unit::BitsPerSec, Some(x)) => units::format_rate(x / 8.0),
        (Unit::PagesPerSec, Some(x)) => units::format_pages_rate(x),
        _ => v.to_string(),
    }
}

/// An f64 for a CSV cell (None: empty).
fn cell(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| v.to_string())
}

/// Per metric: the columns `summary.csv` gives it.
const STATS: [&str; 7] = ["n", "mean", "sd", "min", "max", "ci95_lo", "ci95_hi"];

fn stat_cells(a: &Acc) -> [String; 7] {
    let some = a.n > 0;
    let ci = a.ci95();
    [
        a.n.to_string(),
        cell(some.then_some(a.mean)),
        cell(a.sd()),
        cell(some.then_some(a.min)),
        cell(some.then_some(a.max)),
        cell(ci.map(|c| c.0)),
        cell(ci.map(|c| c.1)),
    ]
}

/// The rows of one point and strategy, per VM in order of appearance.
struct Block {
    key: Vec<String>,
    vms: Vec<(String, u64, Vec<Acc>)>,
}

/// One chart's data: per line (in order of appearance), per x value, the figures of `y`.
pub struct ChartData {
    pub x: usize,
    pub y: usize,
    pub by: Vec<usize>,
    pub log_x: bool,
    pub title: String,
    /// The file name without extension (`downtime_s-vs-network.bandwidth_bps`).
    pub stem: String,
    lines: Vec<(String, BTreeMap<XKey, Acc>)>,
    index: HashMap<String, usize>,
}

/// An x value ordered as a number (categories are their index).
#[derive(Debug, Clone, Copy, PartialEq)]
struct XKey(f64);
impl Eq for XKey {}
impl PartialOrd for XKey {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for XKey {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl ChartData {
    pub fn new(x: usize, y: usize, by: Vec<usize>, log_x: bool, title: String, stem: String) -> Self {
        ChartData { x, y, by, log_x, title, stem, lines: Vec::new(), index: HashMap::new() }
    }

    fn push(&mut self, l: &Layout, rec: &csv::StringRecord) {
        let Some(y) = number(&rec[self.y]) else { return };
        let x = if l.numeric[self.x] {
            match number(&rec[self.x]) {
                Some(x) => x,
                None => return,
            }
        } else {
            match l.distinct[self.x].iter().position(|v| v == &rec[self.x]) {
                Some(i) => i as f64,
                None => return,
            }
        };
        let label = if self.by.is_empty() {
            pretty(&l.header[self.y])
        } else {
            let part = |&c: &usize| {
                if c == l.strategy || c == l.vm {
                    rec[c].to_string()
                } else {
                    format!("{} {}", pretty(&l.header[c]), human(&l.header[c], &rec[c]))
                }
            };
            self.by.iter().map(part).collect::<Vec<_>>().join(", ")
        };
        let i = match self.index.get(&label) {
            Some(&i) => i,
            None => {
                self.lines.push((label.clone(), BTreeMap::new()));
                self.index.insert(label, self.lines.len() - 1);
                self.lines.len() - 1
            }
        };
        self.lines[i].1.entry(XKey(x)).or_default().push(y);
    }

    /// The chart: one line per group, the mean at each x with its 95 % confidence interval.
    pub fn chart(&self, l: &Layout) -> Chart {
        let (xc, yc) = (&l.header[self.x], &l.header[self.y]);
        let all = || self.lines.iter().flat_map(|(_, m)| m.iter());
        let x_max = all().map(|(x, _)| x.0.abs()).fold(0.0, f64::max);
        let y_max = all().map(|(_, a)| a.ci95().map_or(a.mean, |c| c.1).abs()).fold(0.0, f64::max);
        let categorical = !l.numeric[self.x];
        let (xd, xu) = if categorical { (1.0, "") } else { scale(unit_of(xc), x_max) };
        let (yd, yu) = scale(unit_of(yc), y_max);
        let with_unit = |name: String, u: &str| if u.is_empty() { name } else { format!("{name} ({u})") };
        let series = self
            .lines
            .iter()
            .map(|(label, m)| Series {
                label: label.clone(),
                style: Style::Lines,
                points: m
                    .iter()
                    .map(|(x, a)| {
                        let ci = a.ci95();
                        Point { lo: ci.map(|c| c.0 / yd), hi: ci.map(|c| c.1 / yd), ..Point::new(x.0 / xd, a.mean / yd) }
                    })
                    .collect(),
            })
            .collect();
        Chart {
            title: self.title.clone(),
            x_label: with_unit(pretty(xc), xu),
            y_label: with_unit(format!("{}, mean and 95% CI", pretty(yc)), yu),
            log_x: self.log_x && !categorical,
            log_y: false,
            x_categories: categorical.then(|| l.distinct[self.x].clone()),
            series,
            spans: Vec::new(),
        }
    }
}

/// One streamed pass over a sweep CSV: `summary.csv` (one row per point, strategy and VM) if
/// `summary` is given, and the data of `charts`.
pub fn scan(path: &Path, l: &Layout, summary: Option<&Path>, charts: &mut [ChartData]) -> anyhow::Result<()> {
    let metrics = l.metrics();
    let mut out = match summary {
        Some(p) => {
            let mut s = Staged::create(p)?;
            let mut head: Vec<String> = l.header[..l.axes].to_vec();
            head.extend(["strategy".into(), "vm".into(), "runs".into()]);
            for &m in &metrics {
                head.extend(STATS.iter().map(|s| format!("{}_{s}", l.header[m])));
            }
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&head)?;
            s.w.write_all(&w.into_inner().map_err(|e| anyhow!("{e}"))?)?;
            Some(s)
        }
        None => None,
    };
    let flush = |b: &Block, out: &mut Option<Staged>| -> anyhow::Result<()> {
        let Some(s) = out else { return Ok(()) };
        let mut w = csv::Writer::from_writer(Vec::new());
        for (vm, runs, accs) in &b.vms {
            let mut row: Vec<String> = b.key.clone();
            row.push(vm.clone());
            row.push(runs.to_string());
            for a in accs {
                row.extend(stat_cells(a));
            }
            w.write_record(&row)?;
        }
        s.w.write_all(&w.into_inner().map_err(|e| anyhow!("{e}"))?)?;
        Ok(())
    };
    let mut block: Option<Block> = None;
    let mut r = reader(path)?;
    for rec in r.records() {
        let rec = rec.with_context(|| format!("{}: malformed CSV", path.display()))?;
        if rec.len() != l.header.len() {
            bail!("{}: a row has {} fields, the header {}", path.display(), rec.len(), l.header.len());
        }
        for c in charts.iter_mut() {
            c.push(l, &rec);
        }
        if out.is_none() {
            continue;
        }
        // A block is one point and strategy; its rows are adjacent in a sweep CSV.
        let same =
            block.as_ref().is_some_and(|b| b.key[..l.axes].iter().zip(rec.iter()).all(|(a, b)| a == b) && b.key[l.axes] == rec[l.strategy]);
        if !same {
            if let Some(b) = block.take() {
                flush(&b, &mut out)?;
            }
            let mut key: Vec<String> = rec.iter().take(l.axes).map(String::from).collect();
            key.push(rec[l.strategy].to_string());
            block = Some(Block { key, vms: Vec::new() });
        }
        let b = block.as_mut().expect("a block is open");
        let vm = &rec[l.vm];
        let i = match b.vms.iter().position(|(v, _, _)| v == vm) {
            Some(i) => i,
            None => {
                b.vms.push((vm.to_string(), 0, vec![Acc::default(); metrics.len()]));
                b.vms.len() - 1
            }
        };
        let slot = &mut b.vms[i];
        slot.1 += 1;
        for (a, &m) in slot.2.iter_mut().zip(&metrics) {
            if let Some(x) = number(&rec[m]) {
                a.push(x);
            }
        }
    }
    if let Some(b) = block.take() {
        flush(&b, &mut out)?;
    }
    if let Some(s) = out {
        s.finish()?;
    }
    Ok(())
}

/// Lines per chart at most before the other axes are averaged over instead of drawn apart.
pub const MAX_LINES: usize = 12;

/// The metrics a sweep draws against each axis.
pub const SWEEP_METRICS: [&str; 3] = ["total_time_s", "downtime_s", "bytes_sent"];

/// The plan figures a sweep of a plan also draws against each axis (one value per run).
pub const PLAN_METRICS: [&str; 3] = ["plan_makespan_s", "plan_mean_completion_s", "plan_downtime_sum_s"];

/// The sweep's charts: for each axis, each of [`SWEEP_METRICS`] against it, one line per strategy
/// (and VM, when there are several and at most [`MAX_LINES`]), and per value of the other axes when
/// that makes at most [`MAX_LINES`] lines; otherwise the other axes are averaged over, which the
/// title says. A plan's sweep adds [`PLAN_METRICS`], one line per strategy (and other axes).
pub fn sweep_charts(l: &Layout, name: &str, log_columns: &[String]) -> Vec<ChartData> {
    let count = |c: usize| if l.distinct[c].len() >= DISTINCT_CAP { usize::MAX } else { l.distinct[c].len().max(1) };
    let mut out = Vec::new();
    for a in 0..l.axes {
        let others: Vec<usize> = (0..l.axes).filter(|&o| o != a).collect();
        let vms = count(l.vm);
        let per_vm = vms > 1 && vms <= MAX_LINES;
        let metrics = SWEEP_METRICS.iter().map(|m| (*m, per_vm)).chain(PLAN_METRICS.iter().map(|m| (*m, false)));
        for (m, split_vm) in metrics {
            let Some(y) = l.column(m).filter(|&y| l.numeric[y]) else { continue };
            let mut by = vec![l.strategy];
            if split_vm {
                by.push(l.vm);
            }
            let lines = by.iter().chain(&others).try_fold(1usize, |n, &c| n.checked_mul(count(c)));
            let mut note = "";
            if lines.is_some_and(|n| n <= MAX_LINES) {
                by.extend(&others);
            } else {
                note = " (mean over the other axes)";
            }
            if vms > MAX_LINES && SWEEP_METRICS.contains(&m) {
                note = if note.is_empty() { " (mean over the VMs)" } else { " (mean over the VMs and the other axes)" };
            }
            let (xc, yc) = (&l.header[a], &l.header[y]);
            out.push(ChartData::new(
                a,
                y,
                by,
                log_columns.iter().any(|c| c == xc),
                format!("{name}: {} vs {}, mean per point{note}", pretty(yc), pretty(xc)),
                format!("{yc}-vs-{xc}"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulator_matches_textbook_formulas() {
        let mut a = Acc::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            a.push(x);
        }
        assert_eq!(a.n, 8);
        assert!((a.mean - 5.0).abs() < 1e-12);
        assert!((a.sd().unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!((a.min, a.max), (2.0, 9.0));
        let (lo, hi) = a.ci95().unwrap();
        let half = 2.3646 * (32.0f64 / 7.0).sqrt() / 8f64.sqrt();
        assert!((lo - (5.0 - half)).abs() < 1e-9 && (hi - (5.0 + half)).abs() < 1e-9);
        let mut one = Acc::default();
        one.push(3.0);
        assert_eq!((one.sd(), one.ci95()), (None, None));
    }

    #[test]
    fn t_quantiles() {
        assert_eq!(t975(1), 12.7062);
        assert!((t975(31) - 2.0395).abs() < 2e-4, "{}", t975(31));
        assert!((t975(100) - 1.9840).abs() < 2e-4, "{}", t975(100));
        assert!((t975(1_000_000) - 1.96).abs() < 1e-3);
    }

    #[test]
    fn units_from_column_names() {
        assert_eq!(unit_of("network.bandwidth_bps"), Unit::BitsPerSec);
        assert_eq!(unit_of("downtime_s"), Unit::Seconds);
        assert_eq!(unit_of("bytes_sent"), Unit::Bytes);
        assert_eq!(unit_of("vm.memory_bytes"), Unit::Bytes);
        assert_eq!(unit_of("rounds"), Unit::Plain);
        assert_eq!(pretty("total_time_s"), "total time");
        assert_eq!(pretty("workload.write_rate_bps"), "workload.write_rate");
        assert_eq!(scale(Unit::Seconds, 0.0267), (1e-3, "ms"));
        assert_eq!(human("network.bandwidth_bps", "10000000000"), "10 Gbit/s");
    }
}
