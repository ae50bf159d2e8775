//! What an operator asks of a migration: the figures advise knows (`Metric`: downtime, total time,
//! bytes, application slowdown, post-copy window, fault stall, throttle), their units, and
//! objectives such as `"downtime <= 50 ms"`, read from `--objective` with errors that quote the
//! text and say what would be valid. It knows nothing of runs or of the search.

use crate::units;

/// A figure of a migration that advise can bound or minimize. Every one is better smaller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    Downtime,
    TotalTime,
    Bytes,
    AppSlowdown,
    PostcopyWindow,
    FaultStall,
    Throttle,
}

/// How a metric's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Seconds, written as a duration ("50 ms", "2 min").
    Duration,
    /// Bytes, written as a size ("8 GiB").
    Size,
    /// A share from 0 to 1, written as a percentage ("5 %") or a fraction ("0.05").
    Share,
    /// Percent, written "50 %" or 50.
    Percent,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::Downtime,
        Metric::TotalTime,
        Metric::Bytes,
        Metric::AppSlowdown,
        Metric::PostcopyWindow,
        Metric::FaultStall,
        Metric::Throttle,
    ];

    /// The four figures of the Pareto front.
    pub const FRONT: [Metric; 4] = [Metric::Downtime, Metric::TotalTime, Metric::Bytes, Metric::AppSlowdown];

    /// The name `--objective` and `--minimize` take.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Downtime => "downtime",
            Metric::TotalTime => "total_time",
            Metric::Bytes => "bytes",
            Metric::AppSlowdown => "app_slowdown",
            Metric::PostcopyWindow => "postcopy_window",
            Metric::FaultStall => "fault_stall",
            Metric::Throttle => "throttle",
        }
    }

    pub fn by_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    pub fn names() -> Vec<&'static str> {
        Metric::ALL.iter().map(|m| m.name()).collect()
    }

    /// The CSV column, with its unit as in `migsim run --format json` (`_s`, bytes, a share).
    pub fn column(self) -> &'static str {
        match self {
            Metric::Downtime => "downtime_s",
            Metric::TotalTime => "total_time_s",
            Metric::Bytes => "bytes_sent",
            Metric::AppSlowdown => "app_slowdown",
            Metric::PostcopyWindow => "postcopy_window_s",
            Metric::FaultStall => "fault_stall_s",
            Metric::Throttle => "throttle_max_pct",
        }
    }

    /// In words, for sentences and chart axes.
    pub fn words(self) -> &'static str {
        match self {
            Metric::Downtime => "downtime",
            Metric::TotalTime => "total time",
            Metric::Bytes => "bytes sent",
            Metric::AppSlowdown => "application slowdown",
            Metric::PostcopyWindow => "post-copy window",
            Metric::FaultStall => "fault stall",
            Metric::Throttle => "highest throttle",
        }
    }

    pub fn quantity(self) -> Quantity {
        match self {
            Metric::Downtime | Metric::TotalTime | Metric::PostcopyWindow | Metric::FaultStall => Quantity::Duration,
            Metric::Bytes => Quantity::Size,
            Metric::AppSlowdown => Quantity::Share,
            Metric::Throttle => Quantity::Percent,
        }
    }

    /// A value as people write it: "26.7 ms", "7.26 GiB", "10.6 %".
    pub fn format(self, v: f64) -> String {
        if !v.is_finite() {
            return "-".to_string();
        }
        match self.quantity() {
            Quantity::Duration => units::format_duration((v.max(0.0) * 1e9).round() as u64),
            Quantity::Size => units::format_size(v.max(0.0).round() as u64),
            Quantity::Share => format!("{} %", units::trim_zeros(format!("{:.1}", v * 100.0))),
            Quantity::Percent => format!("{} %", units::trim_zeros(format!("{v:.1}"))),
        }
    }

    /// The scale a bound of zero is measured against, to rank how far a figure misses it.
    fn zero_scale(self) -> f64 {
        match self.quantity() {
            Quantity::Duration => 1.0,
            Quantity::Size => (1u64 << 30) as f64,
            Quantity::Share => 0.01,
            Quantity::Percent => 1.0,
        }
    }
}

/// An upper bound on a metric: `downtime <= 50 ms` (or `<`, strictly).
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub metric: Metric,
    /// The bound in the metric's base unit: seconds, bytes, a share (0..1) or percent.
    pub limit: f64,
    pub strict: bool,
    /// As the user wrote it.
    pub text: String,
}

const EXAMPLE: &str = "e.g. \"downtime <= 50 ms\", \"total_time <= 2 min\", \"bytes <= 20 GiB\" or \"app_slowdown <= 5 %\"";

impl Objective {
    /// Read `FIGURE <= LIMIT` (or `<`). The error quotes the text and says what would be valid.
    pub fn parse(text: &str) -> Result<Objective, String> {
        let err = |why: String| format!("--objective \"{text}\": {why}");
        let ops = ["<=", "≤", ">=", "≥", "==", "<", ">", "="];
        let Some((at, op)) = ops.iter().filter_map(|op| text.find(op).map(|i| (i, *op))).min_by_key(|(i, op)| (*i, usize::MAX - op.len()))
        else {
            return Err(err(format!("expected FIGURE <= LIMIT, {EXAMPLE}")));
        };
        let (name, value) = (text[..at].trim(), text[at + op.len()..].trim());
        let metric = Metric::by_name(name).ok_or_else(|| {
            let hint = crate::names::suggest(name, Metric::names()).map_or(String::new(), |s| format!("did you mean `{s}`? "));
            let what = if name.is_empty() {
                "no figure before the operator".to_string()
            } else {
                format!("`{name}` is not a figure advise knows")
            };
            err(format!("{what}; {hint}figures: {}", Metric::names().join(", ")))
        })?;
        if !matches!(op, "<=" | "≤" | "<") {
            return Err(err(format!(
                "`{op}`: advise takes upper limits only (every figure is better smaller); write e.g. \"{} <= {}\"",
                metric.name(),
                example(metric)
            )));
        }
        if value.is_empty() {
            return Err(err(format!("no limit after `{op}`; write e.g. \"{} {op} {}\"", metric.name(), example(metric))));
        }
        let limit = parse_value(metric, value)
            .map_err(|why| err(format!("{why} (a limit on {} reads like \"{}\")", metric.name(), example(metric))))?;
        Ok(Objective { metric, limit, strict: op == "<", text: text.trim().to_string() })
    }

    /// Whether `v` meets the bound.
    pub fn met(&self, v: f64) -> bool {
        if self.strict { v < self.limit } else { v <= self.limit }
    }

    /// How far `v` is beyond the bound, relative to it (0 when met): 0.5 is 50 % over.
    pub fn excess(&self, v: f64) -> f64 {
        if self.met(v) {
            return 0.0;
        }
        let over = if self.limit > 0.0 { v / self.limit - 1.0 } else { v / self.metric.zero_scale() };
        over.max(1e-12)
    }

    /// "downtime <= 50 ms", with the limit as people write it.
    pub fn describe(&self) -> String {
        format!("{} {} {}", self.metric.name(), if self.strict { "<" } else { "<=" }, self.metric.format(self.limit))
    }
}

fn example(m: Metric) -> &'static str {
    match m.quantity() {
        Quantity::Duration => "50 ms",
        Quantity::Size => "20 GiB",
        Quantity::Share => "5 %",
        Quantity::Percent => "50 %",
    }
}

/// A limit in the metric's base unit, or the reader's message about the value.
fn parse_value(m: Metric, s: &str) -> Result<f64, String> {
    let v = match m.quantity() {
        Quantity::Duration => units::parse_duration(s).map(|ns| ns as f64 / 1e9).map_err(|e| e.message)?,
        Quantity::Size => units::parse_size(s).map(|b| b as f64).map_err(|e| e.message)?,
        Quantity::Share | Quantity::Percent => {
            let (number, pct) = match s.strip_suffix('%') {
                Some(n) => (n.trim(), true),
                None => (s, false),
            };
            let x: f64 = number
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .ok_or_else(|| format!("\"{s}\" is not a percentage; expected a number with or without %, e.g. \"5 %\""))?;
            let share = if m.quantity() == Quantity::Percent || pct { x / 100.0 } else { x };
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("\"{s}\" is not between 0 % and 100 %"));
            }
            if m.quantity() == Quantity::Percent { share * 100.0 } else { share }
        }
    };
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_read_as_people_write_them() {
        let o = Objective::parse("downtime <= 50 ms").unwrap();
        assert_eq!((o.metric, o.limit, o.strict), (Metric::Downtime, 0.05, false));
        assert_eq!(o.describe(), "downtime <= 50 ms");
        let o = Objective::parse(" total_time<2 min ").unwrap();
        assert_eq!((o.metric, o.limit, o.strict), (Metric::TotalTime, 120.0, true));
        assert_eq!(Objective::parse("bytes <= 20 GiB").unwrap().limit, 20.0 * (1u64 << 30) as f64);
        assert_eq!(Objective::parse("app_slowdown <= 5 %").unwrap().limit, 0.05);
        assert_eq!(Objective::parse("app_slowdown <= 0.05").unwrap().limit, 0.05);
        assert_eq!(Objective::parse("throttle <= 50").unwrap().limit, 50.0);
        assert_eq!(Objective::parse("postcopy_window <= 0 s").unwrap().limit, 0.0);
        assert_eq!(Objective::parse("downtime ≤ 1 s").unwrap().limit, 1.0);
    }

    #[test]
    fn bounds_are_met_and_missed_by_how_much() {
        let o = Objective::parse("downtime <= 50 ms").unwrap();
        assert!(o.met(0.05) && !o.met(0.0501));
        assert_eq!(o.excess(0.04), 0.0);
        assert!((o.excess(0.075) - 0.5).abs() < 1e-12);
        let strict = Objective::parse("downtime < 50 ms").unwrap();
        assert!(!strict.met(0.05) && strict.excess(0.05) > 0.0);
        let zero = Objective::parse("postcopy_window <= 0 s").unwrap();
        assert!(zero.met(0.0) && (zero.excess(2.0) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn mistakes_quote_the_text_and_say_what_is_valid() {
        let e = Objective::parse("downtime <= fifty").unwrap_err();
        assert!(e.starts_with("--objective \"downtime <= fifty\": \"fifty\" does not start with a number"), "{e}");
        assert!(e.contains("ms") && e.contains("50 ms"), "{e}");
        let e = Objective::parse("downtme <= 50 ms").unwrap_err();
        assert!(e.contains("did you mean `downtime`?") && e.contains("total_time"), "{e}");
        let e = Objective::parse("downtime <= 50 mb").unwrap_err();
        assert!(e.contains("unknown unit \"mb\""), "{e}");
        let e = Objective::parse("bytes <= 5 ms").unwrap_err();
        assert!(e.contains("\"5 ms\"") && e.contains("20 GiB"), "{e}");
        let e = Objective::parse("downtime >= 50 ms").unwrap_err();
        assert!(e.contains("upper limits only"), "{e}");
        let e = Objective::parse("downtime 50 ms").unwrap_err();
        assert!(e.contains("expected FIGURE <= LIMIT"), "{e}");
        let e = Objective::parse("app_slowdown <= 150 %").unwrap_err();
        assert!(e.contains("between 0 % and 100 %"), "{e}");
        let e = Objective::parse("downtime <=").unwrap_err();
        assert!(e.contains("no limit"), "{e}");
    }
}
