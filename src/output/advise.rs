//! The files of `migsim advise` that people read: CSV tables (every setting tried, the Pareto
//! front) and the front's chart: downtime, bytes sent and application slowdown against total
//! time, one point per setting with its 95 % interval, the front's points by strategy and the
//! recommendation marked. It takes plain rows and points; how they were found is the study's.

use super::plot::{Chart, Point, Series, Style};
use anyhow::Context;

/// One CSV line, with its newline.
pub fn csv_line(cells: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cells).context("cannot format a CSV row")?;
    w.into_inner().context("cannot format a CSV row")
}

/// A whole CSV file.
pub fn csv_table(header: &[String], rows: &[Vec<String>]) -> anyhow::Result<Vec<u8>> {
    let mut out = csv_line(header)?;
    for r in rows {
        out.extend(csv_line(r)?);
    }
    Ok(out)
}

/// A mean and its 95 % interval.
pub type Value = (f64, Option<(f64, f64)>);

/// One setting on the chart.
#[derive(Debug, Clone)]
pub struct Dot {
    /// Its series: "recommended", a strategy's name for the front, or "other settings".
    pub group: String,
    pub total_time_s: Value,
    pub downtime_s: Value,
    pub bytes_sent: Value,
    pub app_slowdown: Value,
}

fn point(x: f64, (y, ci): Value, scale: f64) -> Point {
    Point { lo: ci.map(|c| c.0 * scale), hi: ci.map(|c| c.1 * scale), ..Point::new(x, y * scale) }
}

/// The group of the settings drawn faint, under the others.
pub const OTHERS: &str = "other settings";
/// The group of the setting drawn with a ring, over the others.
pub const RECOMMENDED: &str = "recommended";

/// Three panels sharing the total-time axis: downtime (log scale), bytes and slowdown. The other
/// settings are drawn first, faint; then each front group in the order it first appears in
/// `dots`; the recommendation last, ringed.
pub fn front_chart(title: &str, dots: &[Dot]) -> Vec<Chart> {
    let mut groups: Vec<&str> = Vec::new();
    for d in dots {
        if !groups.contains(&d.group.as_str()) {
            groups.push(&d.group);
        }
    }
    let rank = |g: &str| match g {
        OTHERS => 0,
        RECOMMENDED => 2,
        _ => 1,
    };
    groups.sort_by_key(|g| rank(g));
    let style = |g: &str| match g {
        OTHERS => Style::Faint,
        RECOMMENDED => Style::Ring,
        _ => Style::Points,
    };
    let panel = |title: String, y_label: &str, log_y: bool, y: &dyn Fn(&Dot) -> Point| Chart {
        title,
        x_label: "total time (s)".into(),
        y_label: y_label.into(),
        log_y,
        series: groups
            .iter()
            .map(|g| Series { label: g.to_string(), style: style(g), points: dots.iter().filter(|d| d.group == *g).map(y).collect() })
            .collect(),
        ..Chart::default()
    };
    vec![
        panel(format!("{title}: downtime"), "downtime (ms)", true, &|d| point(d.total_time_s.0, d.downtime_s, 1e3)),
        panel("bytes sent".into(), "bytes sent (GiB)", false, &|d| point(d.total_time_s.0, d.bytes_sent, 1.0 / (1u64 << 30) as f64)),
        panel("application slowdown".into(), "slowdown (%)", false, &|d| point(d.total_time_s.0, d.app_slowdown, 100.0)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it() {
        let t = csv_table(&["a".into(), "b".into()], &[vec!["x, y".into(), "migration.strategy=\"cold\"".into()]]).unwrap();
        assert_eq!(String::from_utf8(t).unwrap(), "a,b\n\"x, y\",\"migration.strategy=\"\"cold\"\"\"\n");
    }

    #[test]
    fn the_chart_has_a_series_per_group_in_each_panel() {
        let dot = |g: &str, t: f64| Dot {
            group: g.into(),
            total_time_s: (t, None),
            downtime_s: (0.02, Some((0.01, 0.03))),
            bytes_sent: ((1u64 << 30) as f64, None),
            app_slowdown: (0.1, None),
        };
        let c = front_chart("db", &[dot("recommended", 6.0), dot("precopy", 6.5), dot("other settings", 7.0), dot("precopy", 8.0)]);
        assert_eq!(c.len(), 3);
        assert!(c[0].log_y && !c[1].log_y);
        let labels: Vec<&str> = c[0].series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["other settings", "precopy", "recommended"]);
        assert_eq!(c[0].series.iter().map(|s| s.style).collect::<Vec<_>>(), [Style::Faint, Style::Points, Style::Ring]);
        assert_eq!(c[0].series[1].points.len(), 2);
        assert_eq!(c[0].series[2].points[0].hi, Some(30.0));
        assert_eq!(c[1].series[2].points[0].y, 1.0);
        let svg = crate::output::plot::render_svg(&c).unwrap();
        assert!(svg.contains("slowdown (%)"));
    }
}
