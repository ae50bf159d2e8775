//! What a sweep varies: its axes (from a scenario's `[sweep]` table and `--sweep` arguments), each
//! axis value in base units (the CSV column value), the cartesian product of the axes (the points),
//! the seed of every replication, and the scenario of every point. A point's values are applied as
//! `--set` overrides, through the same code, so a bad key or unit gets the scenario reader's message,
//! moved to the line of the sweep value that caused it.

use crate::input::scenario;
use crate::input::tree::{self as config, ConfigError, Node, Origin, TableReader, Value};
use crate::model::Scenario;
use crate::units::{self, WriteRate};

/// What an axis value measures; it decides the column's unit suffix and its base unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bytes.
    Size,
    /// Seconds.
    Duration,
    /// Bits per second (as `bandwidth_bps` in the JSON results).
    Rate,
    /// Pages per second.
    PageRate,
    Number,
    Bool,
    Text,
}

impl Kind {
    pub fn suffix(self) -> &'static str {
        match self {
            Kind::Size => "_bytes",
            Kind::Duration => "_s",
            Kind::Rate => "_bps",
            Kind::PageRate => "_pps",
            Kind::Number | Kind::Bool | Kind::Text => "",
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Kind::Size => "a size",
            Kind::Duration => "a duration",
            Kind::Rate => "a byte or bit rate",
            Kind::PageRate => "a page rate",
            Kind::Number => "a number",
            Kind::Bool => "a boolean",
            Kind::Text => "a word",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AxisValue {
    /// The value as TOML text, applied as `KEY=<toml>` (`"10 MiB/s"`, `5`, `true`).
    pub toml: String,
    /// The value in base units, as the CSV column holds it.
    pub column: String,
    pub kind: Kind,
    /// Where it was written (a line of the scenario, or a `--sweep` argument).
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The dotted scenario path, e.g. `network.bandwidth`.
    pub key: String,
    /// The CSV column: the key with the unit of its values, e.g. `network.bandwidth_bps`.
    pub column: String,
    /// Draw it on a log axis (a range or list with `scale = "log"`).
    pub log: bool,
    pub values: Vec<AxisValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub axes: Vec<Axis>,
    pub replications: u64,
}

/// Keys a sweep may not vary, and why.
const FIXED: [(&str, &str); 4] = [
    ("seed", "each run's seed is derived from the scenario's seed; ask for more seeds with replications = N"),
    ("name", "the scenario's name names the results folder and cannot vary"),
    ("migration.strategy", "strategies already multiply the runs: list them in [migration] strategy or pass --strategy"),
    ("sweep", "a sweep cannot sweep itself"),
];

const SWEEP_HELP: &str = "expected a list of values, e.g. [\"1 Gbit/s\", \"10 Gbit/s\"], or a range, e.g. { from = \"1 Gbit/s\", to = \"40 Gbit/s\", steps = 8, scale = \"log\" }";

fn err(file: &str, origin: &Origin, key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { file: file.to_string(), origin: origin.clone(), key: key.to_string(), message: message.into() }
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The kind of a quantity written as a string, and its value in base units (None: not a quantity).
fn quantity(s: &str) -> Option<(Kind, f64)> {
    if let Ok(b) = units::parse_size(s) {
        Some((Kind::Size, b as f64))
    } else if let Ok(ns) = units::parse_duration(s) {
        Some((Kind::Duration, ns as f64 / 1e9))
    } else if let Ok(r) = units::parse_rate(s) {
        Some((Kind::Rate, r * 8.0))
    } else if let Ok(WriteRate::PagesPerSec(p)) = units::parse_write_rate(s) {
        Some((Kind::PageRate, p))
    } else {
        None
    }
}

/// An axis value from a TOML node (a string with or without a unit, a number or a boolean).
fn axis_value(file: &str, key: &str, n: &Node) -> Result<AxisValue, ConfigError> {
    let (toml, column, kind) = match &n.value {
        Value::Str(s) => match quantity(s) {
            // Sizes are whole bytes and print as integers; the other quantities print as f64.
            Some((Kind::Size, b)) => (toml_string(s), format!("{}", b as u64), Kind::Size),
            Some((k, v)) => (toml_string(s), format!("{v}"), k),
            None => (toml_string(s), s.clone(), Kind::Text),
        },
        Value::Int(i) => (i.to_string(), i.to_string(), Kind::Number),
        Value::Float(f) if f.is_finite() => (format!("{f:?}"), format!("{f}"), Kind::Number),
        Value::Bool(b) => (b.to_string(), b.to_string(), Kind::Bool),
        other => {
            return Err(err(
                file,
                &n.origin,
                key,
                format!("a sweep value must be a string, a finite number or a boolean, found {}", other.type_name()),
            ));
        }
    };
    Ok(AxisValue { toml, column, kind, origin: n.origin.clone() })
}

/// The values of a range: `steps` values from `from` to `to`, evenly spaced or (log) geometrically.
fn range_values(
    file: &str,
    key: &str,
    origin: &Origin,
    from: &Node,
    to: &Node,
    steps: u64,
    log: bool,
) -> Result<Vec<AxisValue>, ConfigError> {
    let e = |m: String| err(file, origin, key, m);
    if steps == 0 {
        return Err(e("steps must be at least 1".into()));
    }
    // The base quantity of each end, in the unit the scenario reads (bytes, ns, bytes/s, pages/s).
    let end = |n: &Node| -> Result<(Kind, f64), ConfigError> {
        match &n.value {
            Value::Str(s) => {
                let v = units::parse_size(s)
                    .map(|b| (Kind::Size, b as f64))
                    .or_else(|_| units::parse_duration(s).map(|ns| (Kind::Duration, ns as f64)))
                    .or_else(|_| units::parse_rate(s).map(|r| (Kind::Rate, r)));
                match (v, units::parse_write_rate(s)) {
                    (Ok(v), _) => Ok(v),
                    (Err(_), Ok(WriteRate::PagesPerSec(p))) => Ok((Kind::PageRate, p)),
                    _ => Err(err(file, &n.origin, key, format!("\"{s}\" is not a size, duration or rate, so it cannot bound a range"))),
                }
            }
            Value::Int(i) => Ok((Kind::Number, *i as f64)),
            Value::Float(f) if f.is_finite() => Ok((Kind::Number, *f)),
            other => Err(err(
                file,
                &n.origin,
                key,
                format!("a range bound must be a quantity with a unit or a number, found {}", other.type_name()),
            )),
        }
    };
    let ((k1, a), (k2, b)) = (end(from)?, end(to)?);
    if k1 != k2 {
        return Err(e(format!("from is {} but to is {}; give both ends in the same kind of unit", k1.describe(), k2.describe())));
    }
    if log && (a <= 0.0 || b <= 0.0) {
        return Err(e("a log range needs from and to greater than zero".into()));
    }
    let ints = matches!((&from.value, &to.value), (Value::Int(_), Value::Int(_)));
    // Sizes snap to whole 4 KiB pages (or a finer power of two if an end needs it), so a range of
    // memory sizes stays a whole number of pages.
    let grain = if k1 == Kind::Size { (1u64 << (a as u64 | b as u64).trailing_zeros().min(12)) as f64 } else { 1.0 };
    let mut out: Vec<AxisValue> = Vec::new();
    for i in 0..steps {
        let t = if steps == 1 { 0.0 } else { i as f64 / (steps - 1) as f64 };
        let v = if i == 0 {
            a
        } else if i + 1 == steps {
            b
        } else if log {
            a * (b / a).powf(t)
        } else {
            a + (b - a) * t
        };
        let value = match k1 {
            Kind::Size => Value::Str(units::format_size_exact(((v / grain).round() * grain) as u64)),
            Kind::Duration => Value::Str(units::format_duration_exact(v.round() as u64)),
            Kind::Rate => Value::Str(units::format_rate_exact(v)),
            Kind::PageRate => Value::Str(units::format_pages_rate(v)),
            _ if ints => Value::Int(v.round() as i64),
            _ => Value::Float(v),
        };
        let av = axis_value(file, key, &Node { value, origin: origin.clone() })?;
        if out.iter().any(|o| o.column == av.column) {
            return Err(e(format!("steps = {steps} repeats the value {} once rounded; use fewer steps", av.toml)));
        }
        out.push(av);
    }
    Ok(out)
}

fn scale_is_log(file: &str, key: &str, n: Option<&Node>) -> Result<bool, ConfigError> {
    match n {
        None => Ok(false),
        Some(Node { value: Value::Str(s), .. }) if s == "linear" => Ok(false),
        Some(Node { value: Value::Str(s), .. }) if s == "log" => Ok(true),
        Some(n) => Err(err(file, &n.origin, key, "scale must be \"linear\" (the default) or \"log\"")),
    }
}

/// One entry of `[sweep]`: a list, a range, a `{ values, scale }` table, or a table of further keys
/// (`[sweep.network]` or unquoted dotted keys).
fn read_entry(file: &str, path: &str, n: &Node, axes: &mut Vec<(Axis, Origin)>) -> Result<(), ConfigError> {
    let key = format!("sweep.{path}");
    let list = |items: &[Node], log: bool| -> Result<Axis, ConfigError> {
        if items.is_empty() {
            return Err(err(file, &n.origin, &key, "the list is empty; give at least one value"));
        }
        let values = items.iter().map(|v| axis_value(file, &key, v)).collect::<Result<Vec<_>, _>>()?;
        Ok(Axis { key: path.to_string(), column: String::new(), log, values })
    };
    let axis = match &n.value {
        Value::Array(items) => list(items, false)?,
        Value::Table(t) if t.get("from").is_some() || t.get("to").is_some() || t.get("steps").is_some() => {
            let mut r = TableReader::at(file, key.clone(), n)?;
            let (Some(from), Some(to)) = (r.node("from"), r.node("to")) else {
                return Err(
                    r.error("from", "a range needs from, to and steps, e.g. { from = \"1 Gbit/s\", to = \"40 Gbit/s\", steps = 8 }")
                );
            };
            let Some(steps) = r.uint("steps")? else {
                return Err(r.error("steps", "a range needs steps = N (how many values, ends included)"));
            };
            let log = scale_is_log(file, &key, r.node("scale"))?;
            r.finish()?;
            let values = range_values(file, &key, &n.origin, from, to, steps, log)?;
            Axis { key: path.to_string(), column: String::new(), log, values }
        }
        Value::Table(t) if t.get("values").is_some() => {
            let mut r = TableReader::at(file, key.clone(), n)?;
            let items = match r.node("values").map(|v| &v.value) {
                Some(Value::Array(items)) => items,
                _ => return Err(r.error("values", "expected a list of values")),
            };
            let log = scale_is_log(file, &key, r.node("scale"))?;
            r.finish()?;
            list(items, log)?
        }
        Value::Table(t) => {
            for (k, v) in &t.entries {
                read_entry(file, &format!("{path}.{k}"), v, axes)?;
            }
            return Ok(());
        }
        _ => return Err(err(file, &n.origin, &key, SWEEP_HELP)),
    };
    axes.push((axis, n.origin.clone()));
    Ok(())
}

/// A `--sweep KEY=V1,V2,...` or `--sweep KEY=FROM..TO:STEPS[:log]` argument.
fn read_arg(file: &str, arg: &str) -> Result<(Axis, Origin), ConfigError> {
    let origin = Origin::Arg(format!("--sweep {arg}"));
    let Some((key, raw)) = arg.split_once('=') else {
        return Err(err(
            file,
            &origin,
            "",
            "expected KEY=VALUE,VALUE,... or KEY=FROM..TO:STEPS[:log], e.g. --sweep 'network.bandwidth=1 Gbit/s,10 Gbit/s'",
        ));
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(|p| p.is_empty()) {
        return Err(err(file, &origin, key, "the key must be a dotted path such as workload.write_rate"));
    }
    let value = |s: &str| config::parse_override_value(s.trim(), &origin);
    let axis = if let Some((from, rest)) = raw.split_once("..") {
        let mut parts = rest.split(':');
        let to = parts.next().unwrap_or("");
        let steps: u64 = match parts.next().map(|s| s.trim().parse()) {
            Some(Ok(n)) => n,
            _ => return Err(err(file, &origin, key, "a range is FROM..TO:STEPS[:log], e.g. 1 Gbit/s..40 Gbit/s:8:log")),
        };
        let log = match parts.next().map(str::trim) {
            None | Some("linear") => false,
            Some("log") => true,
            Some(other) => return Err(err(file, &origin, key, format!("\"{other}\" is not a scale; expected log or linear"))),
        };
        let values = range_values(file, key, &origin, &value(from), &value(to), steps, log)?;
        Axis { key: key.to_string(), column: String::new(), log, values }
    } else {
        let values = raw.split(',').map(|v| axis_value(file, key, &value(v))).collect::<Result<Vec<_>, _>>()?;
        Axis { key: key.to_string(), column: String::new(), log: false, values }
    };
    Ok((axis, origin))
}

/// The sweep of a scenario tree (its `[sweep]` table, after `--set`), with `--sweep` arguments
/// replacing or adding axes and `--replications` replacing the count.
pub fn read(file: &str, root: &Node, args: &[String], replications: Option<u64>) -> Result<Spec, ConfigError> {
    let mut axes: Vec<(Axis, Origin)> = Vec::new();
    let mut reps = 1;
    if let Value::Table(top) = &root.value
        && let Some(n) = top.get("sweep")
    {
        let Value::Table(t) = &n.value else {
            return Err(err(file, &n.origin, "sweep", "[sweep] must be a table of KEY = [values] or KEY = { from, to, steps }"));
        };
        for (k, v) in &t.entries {
            if k == "replications" {
                match v.value {
                    Value::Int(i) if i >= 1 => reps = i as u64,
                    _ => return Err(err(file, &v.origin, "sweep.replications", "expected a whole number >= 1, e.g. replications = 5")),
                }
            } else {
                read_entry(file, k, v, &mut axes)?;
            }
        }
    }
    // A --sweep replaces the file's axis of the same key; two --sweep of one key are a mistake.
    let mut from_args: Vec<String> = Vec::new();
    for a in args {
        let (axis, origin) = read_arg(file, a)?;
        if from_args.contains(&axis.key) {
            return Err(err(file, &origin, &axis.key, "is swept twice on the command line; give all its values in one --sweep"));
        }
        from_args.push(axis.key.clone());
        match axes.iter_mut().find(|(x, _)| x.key == axis.key) {
            Some(slot) => *slot = (axis, origin),
            None => axes.push((axis, origin)),
        }
    }
    if let Some(r) = replications {
        if r == 0 {
            return Err(err(file, &Origin::Arg(format!("--replications {r}")), "", "expected a whole number >= 1"));
        }
        reps = r;
    }
    let mut out = Vec::new();
    for (mut axis, origin) in axes {
        if let Some((_, why)) = FIXED.iter().find(|(k, _)| axis.key == *k || axis.key.starts_with(&format!("{k}."))) {
            return Err(err(file, &origin, &axis.key, format!("cannot be swept: {why}")));
        }
        if out.iter().any(|a: &Axis| a.key == axis.key) {
            return Err(err(file, &origin, &axis.key, "is swept twice"));
        }
        axis.column = format!("{}{}", axis.key, axis.values[0].kind.suffix());
        out.push(axis);
    }
    Ok(Spec { axes: out, replications: reps })
}

impl Spec {
    /// One unit per axis, so that its column has one unit ("50 MiB/s" and "2000 pages/s" are both
    /// valid write rates, but not in one column). Checked after the scenario reader has seen each
    /// value, whose message about a wrong unit lists the valid ones.
    pub fn check_units(&self, file: &str) -> Result<(), ConfigError> {
        for a in &self.axes {
            let first = &a.values[0];
            if let Some(v) = a.values.iter().find(|v| v.kind != first.kind) {
                return Err(err(
                    file,
                    &v.origin,
                    &a.key,
                    format!(
                        "{} is {}, but {} is {}; give every value of an axis in the same kind of unit",
                        v.toml,
                        v.kind.describe(),
                        first.toml,
                        first.kind.describe()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// How many points (the product of the axis lengths; 1 without axes), or None past u64.
    pub fn points(&self) -> Option<u64> {
        self.axes.iter().try_fold(1u64, |n, a| n.checked_mul(a.values.len() as u64))
    }

    /// The value index on each axis of point `p`; the last axis varies fastest.
    pub fn indices(&self, mut p: u64) -> Vec<usize> {
        let mut idx = vec![0; self.axes.len()];
        for (i, a) in self.axes.iter().enumerate().rev() {
            let n = a.values.len() as u64;
            idx[i] = (p % n) as usize;
            p /= n;
        }
        idx
    }

    pub fn values(&self, p: u64) -> Vec<&AxisValue> {
        self.indices(p).into_iter().zip(&self.axes).map(|(i, a)| &a.values[i]).collect()
    }

    /// The `KEY=VALUE` overrides of point `p`.
    pub fn overrides(&self, p: u64) -> Vec<String> {
        self.values(p).iter().zip(&self.axes).map(|(v, a)| format!("{}={}", a.key, v.toml)).collect()
    }

    /// The point in words, for messages: `network.bandwidth = "1 Gbit/s", workload.kind = "idle"`.
    pub fn describe(&self, p: u64) -> String {
        self.values(p).iter().zip(&self.axes).map(|(v, a)| format!("{} = {}", a.key, v.toml)).collect::<Vec<_>>().join(", ")
    }

    /// A hash of the point's values in base units: the same point has the same seeds whatever the
    /// other axes, its position in the sweep or the shard it falls in.
    pub fn point_hash(&self, p: u64) -> u64 {
        let mut h = Fnv::default();
        for (v, a) in self.values(p).iter().zip(&self.axes) {
            h.write(a.key.as_bytes());
            h.write(b"=");
            h.write(v.column.as_bytes());
            h.write(b"\n");
        }
        h.0
    }

    /// Replication `k` of point `p` of a scenario whose seed is `base`.
    pub fn seed(&self, base: u64, p: u64, k: u64) -> u64 {
        run_seed(base, self.point_hash(p), k)
    }
}

/// SplitMix64's finaliser: a bijection that scatters nearby inputs.
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of replication `k` at a point: a mix of the scenario's seed, the point and `k`, kept
/// below 2^63 so that it can also be written as `seed = ...` in a scenario file.
pub fn run_seed(base: u64, point_hash: u64, k: u64) -> u64 {
    splitmix(splitmix(base ^ point_hash) ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15)) & (i64::MAX as u64)
}

/// FNV-1a, 64 bits: a stable hash (std's hasher may change between Rust releases).
#[derive(Clone, Copy)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// The scenario under a sweep: its text, its `--set` overrides and the spec read from them.
#[derive(Clone)]
pub struct Base {
    pub file: String,
    pub stem: String,
    pub text: String,
    pub sets: Vec<String>,
    pub spec: Spec,
}

impl Base {
    /// Read the scenario text and its sweep (positions intact for messages).
    pub fn load(
        path: &std::path::Path,
        sets: &[String],
        sweep_args: &[String],
        replications: Option<u64>,
    ) -> Result<Base, scenario::LoadError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| scenario::LoadError::Io { file: file.clone(), error })?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "scenario".into());
        let mut root = config::parse(&file, &text)?;
        for o in sets {
            config::apply_override(&mut root, &file, o)?;
        }
        let spec = read(&file, &root, sweep_args, replications)?;
        Ok(Base { file, stem, text, sets: sets.to_vec(), spec })
    }

    /// The scenario without any sweep value.
    pub fn scenario(&self) -> Result<Scenario, ConfigError> {
        scenario::from_str(&self.file, &self.stem, &self.text, &self.sets)
    }

    /// The scenario at point `p`. An error caused by a sweep value points at where that value was
    /// written; one caused by a combination names the point.
    pub fn point(&self, p: u64) -> Result<Scenario, ConfigError> {
        let axis = self.spec.overrides(p);
        let mut all = self.sets.clone();
        all.extend(axis.iter().cloned());
        scenario::from_str(&self.file, &self.stem, &self.text, &all).map_err(|mut e| {
            let values = self.spec.values(p);
            match axis.iter().position(|o| e.origin == Origin::Override(o.clone())) {
                Some(i) => {
                    e.origin = values[i].origin.clone();
                    e.message = format!("{} (sweep value {} of {})", e.message, values[i].toml, self.spec.axes[i].key);
                }
                None if !axis.is_empty() => e.message = format!("{} (at the sweep point {})", e.message, self.spec.describe(p)),
                None => {}
            }
            e
        })
    }

    /// Check the sweep before any run: every axis value alone (so that the first message is about
    /// the value, not a point), then the points `points` (a value can fail only in combination, e.g.
    /// a working set larger than a swept memory size), in parallel. The first failing point in
    /// order is reported, so the message does not depend on the number of threads.
    pub fn validate(&self, points: std::ops::Range<u64>) -> Result<(), ConfigError> {
        use rayon::prelude::*;
        for (i, a) in self.spec.axes.iter().enumerate() {
            for v in &a.values {
                let single = Spec { axes: vec![Axis { values: vec![v.clone()], ..self.spec.axes[i].clone() }], replications: 1 };
                Base { spec: single, file: self.file.clone(), stem: self.stem.clone(), text: self.text.clone(), sets: self.sets.clone() }
                    .point(0)?;
            }
        }
        self.spec.check_units(&self.file)?;
        match points.into_par_iter().find_map_first(|p| self.point(p).err()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str, args: &[&str]) -> Result<Spec, ConfigError> {
        let root = config::parse("s.toml", text).unwrap();
        read("s.toml", &root, &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), None)
    }

    fn columns(a: &Axis) -> Vec<&str> {
        a.values.iter().map(|v| v.column.as_str()).collect()
    }

    #[test]
    fn lists_ranges_and_arguments() {
        let s = spec(
            "[sweep]\nreplications = 3\n\"workload.write_rate\" = [\"10 MiB/s\", \"50 MiB/s\"]\nnetwork.bandwidth = { from = \"1 Gbit/s\", to = \"100 Gbit/s\", steps = 3, scale = \"log\" }\n[sweep.vm]\nzero_fraction = [0, 0.5]\n",
            &["migration.downtime_limit=100 ms,300 ms"],
        )
        .unwrap();
        assert_eq!(s.replications, 3);
        let keys: Vec<&str> = s.axes.iter().map(|a| a.column.as_str()).collect();
        assert_eq!(keys, ["workload.write_rate_bps", "network.bandwidth_bps", "vm.zero_fraction", "migration.downtime_limit_s"]);
        assert_eq!(columns(&s.axes[0]), ["83886080", "419430400"]);
        assert_eq!(columns(&s.axes[1]), ["1000000000", "10000000000", "100000000000"]);
        assert!(s.axes[1].log && !s.axes[0].log);
        assert_eq!(columns(&s.axes[2]), ["0", "0.5"]);
        assert_eq!(columns(&s.axes[3]), ["0.1", "0.3"]);
        assert_eq!(s.axes[0].values[1].origin, Origin::File { line: 3, col: 38 });
        assert_eq!(s.points(), Some(2 * 3 * 2 * 2));
    }

    #[test]
    fn cartesian_product_has_the_last_axis_fastest() {
        let s = spec("[sweep]\na = [1, 2]\nb = [\"x\", \"y\", \"z\"]\n", &[]).unwrap();
        let all: Vec<Vec<String>> = (0..6).map(|p| s.overrides(p)).collect();
        let want = [["a=1", "b=\"x\""], ["a=1", "b=\"y\""], ["a=1", "b=\"z\""], ["a=2", "b=\"x\""], ["a=2", "b=\"y\""], ["a=2", "b=\"z\""]];
        assert_eq!(all, want.map(|r| r.map(String::from).to_vec()).to_vec());
        // Every point is distinct, so is every point hash.
        let mut hashes: Vec<u64> = (0..6).map(|p| s.point_hash(p)).collect();
        hashes.dedup();
        assert_eq!(hashes.len(), 6);
    }

    #[test]
    fn seeds_depend_on_seed_point_and_replication_only() {
        let s = spec("[sweep]\nnetwork.bandwidth = [\"1 Gbit/s\", \"10 Gbit/s\"]\n", &[]).unwrap();
        // The same point written in other units (and among other values) has the same seeds.
        let t = spec("[sweep]\nnetwork.bandwidth = [\"1250 MB/s\", \"125000 KB/s\", \"3 Gbit/s\"]\n", &[]).unwrap();
        assert_eq!(s.seed(42, 1, 0), t.seed(42, 0, 0));
        assert_eq!(s.seed(42, 0, 3), t.seed(42, 1, 3));
        assert_eq!(s.seed(42, 0, 0), run_seed(42, s.point_hash(0), 0));
        let mut seeds: Vec<u64> = (0..2).flat_map(|p| (0..50).map(move |k| (p, k))).map(|(p, k)| s.seed(42, p, k)).collect();
        assert!(seeds.iter().all(|&x| x <= i64::MAX as u64));
        seeds.sort();
        seeds.dedup();
        assert_eq!(seeds.len(), 100);
        assert_ne!(s.seed(42, 0, 0), s.seed(43, 0, 0));
    }

    #[test]
    fn ranges_round_sizes_to_pages_and_integers_stay_integers() {
        let s = spec(
            "[sweep]\nvm.memory = { from = \"1 GiB\", to = \"16 GiB\", steps = 5, scale = \"log\" }\nm = { from = 1, to = 9, steps = 5 }\n",
            &[],
        )
        .unwrap();
        assert_eq!(columns(&s.axes[0]), ["1073741824", "2147483648", "4294967296", "8589934592", "17179869184"]);
        assert_eq!(s.axes[0].values[1].toml, "\"2 GiB\"");
        assert_eq!(columns(&s.axes[1]), ["1", "3", "5", "7", "9"]);
        let e = spec("[sweep]\nm = { from = 1, to = 2, steps = 5 }\n", &[]).unwrap_err();
        assert!(e.message.contains("use fewer steps"), "{e}");
        let cli = spec("", &["network.bandwidth=1 Gbit/s..100 Gbit/s:3:log"]).unwrap();
        assert_eq!(columns(&cli.axes[0]), ["1000000000", "10000000000", "100000000000"]);
        assert!(cli.axes[0].log);
    }

    #[test]
    fn bad_sweeps_name_the_line_and_what_is_valid() {
        let e = spec("[sweep]\nnetwork.bandwidth = \"1 Gbit/s\"\n", &[]).unwrap_err();
        assert!(e.to_string().starts_with("s.toml:2:9: key `sweep.network.bandwidth`: expected a list"), "{e}");
        let e = spec("[sweep]\nw = [\"50 MiB/s\", \"2000 pages/s\"]\n", &[]).unwrap().check_units("s.toml").unwrap_err();
        assert!(e.to_string().contains("same kind of unit"), "{e}");
        let e = spec("[sweep]\nseed = [1, 2]\n", &[]).unwrap_err();
        assert!(e.to_string().contains("replications"), "{e}");
        let e = spec("", &["network.bandwidth"]).unwrap_err();
        assert!(e.to_string().contains("(from --sweep network.bandwidth)"), "{e}");
        let e = spec("[sweep]\nreplications = 0\n", &[]).unwrap_err();
        assert!(e.to_string().contains("replications"), "{e}");
        let e = spec("[sweep]\nr = { from = \"1 GiB\", to = \"1 s\", steps = 2 }\n", &[]).unwrap_err();
        assert!(e.to_string().contains("same kind of unit"), "{e}");
    }
}
