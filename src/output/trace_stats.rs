//! The forms `migsim trace stats` gives a trace's statistics: the printed report, the rate and
//! working-set CSVs, and the two-panel chart.

use crate::output::plot::{Chart, Point, Series, Style};
use crate::output::report::columns;
use crate::trace::Kind;
use crate::trace::stats::{RatePoint, TraceStats, WwsPoint};
use crate::units;
use std::fmt::Write as _;

/// The rate series as CSV, one row per interval.
pub fn rate_csv(st: &TraceStats) -> String {
    let mut s = String::from("start_s,length_s,dirty_pages,dirty_pages_per_s,dirty_mib_per_s,new_pages,distinct_so_far\n");
    let mut so_far = 0;
    for p in &st.rate {
        so_far += p.new_pages;
        let per_s = p.pages as f64 * 1e9 / p.length_ns as f64;
        let _ = writeln!(
            s,
            "{},{},{},{:.1},{:.3},{},{}",
            p.start_ns as f64 / 1e9,
            p.length_ns as f64 / 1e9,
            p.pages,
            per_s,
            st.mib(per_s),
            p.new_pages,
            so_far
        );
    }
    s
}

/// The working-set curve as CSV.
pub fn wws_csv(st: &TraceStats) -> String {
    let mut s = String::from("window_intervals,window_s,mean_pages,max_pages,mean_mib,max_mib\n");
    for w in &st.wws {
        let _ = writeln!(
            s,
            "{},{},{:.1},{},{:.3},{:.3}",
            w.intervals,
            w.window_ns as f64 / 1e9,
            w.mean_pages,
            w.max_pages,
            st.mib(w.mean_pages),
            st.mib(w.max_pages as f64)
        );
    }
    s
}

/// The report `trace stats` prints, with the rate over time in at most `rows` rows.
pub fn table(st: &TraceStats, file: &str, rows: usize) -> String {
    let h = &st.header;
    let mut s = String::new();
    let n = st.rate.len();
    let duration: u64 = st.rate.last().map_or(0, |p| p.start_ns + p.length_ns);
    let unit = match h.kind {
        Kind::Intervals => format!("intervals of {}", units::format_duration(h.interval_ns.unwrap_or(0))),
        Kind::Writes => format!("write records, grouped by {}", units::format_duration(h.group_ns())),
    };
    let _ = writeln!(s, "trace {file}: {} records ({unit}), {}", st.records, units::format_duration(duration));
    for (k, v) in &h.meta {
        let _ = writeln!(s, "  {k}: {v}");
    }
    let pct = |x: f64| 100.0 * x / h.pages() as f64;
    let _ = writeln!(
        s,
        "memory {} ({} pages of {}); distinct pages written: {} ({}, {:.1}% of memory)",
        units::format_size(h.memory),
        h.pages(),
        units::format_size(h.page_size),
        st.distinct,
        units::format_size(st.distinct * h.page_size),
        pct(st.distinct as f64)
    );
    if n > 0 && duration > 0 {
        let per_s = st.rate.iter().map(|p| p.pages).sum::<u64>() as f64 * 1e9 / duration as f64;
        let what = if h.kind == Kind::Writes { "write records" } else { "pages dirty per interval, summed" };
        let _ = writeln!(
            s,
            "page writes: {} ({what}); dirty rate {:.0} pages/s = {:.1} MiB/s on average",
            st.page_writes,
            per_s,
            st.mib(per_s)
        );
    }
    if n > 0 {
        let per_row = n.div_ceil(rows.max(1));
        let _ = writeln!(s, "\ndirty rate over time ({} intervals per row):", per_row);
        let mut t = vec![vec![
            "from".to_string(),
            "to".into(),
            "dirty pages/s".into(),
            "dirty MiB/s".into(),
            "max in one interval".into(),
            "new pages".into(),
        ]];
        for chunk in st.rate.chunks(per_row) {
            let start = chunk[0].start_ns;
            let end = chunk.last().map_or(start, |p| p.start_ns + p.length_ns);
            let len: u64 = chunk.iter().map(|p| p.length_ns).sum();
            let per_s = chunk.iter().map(|p| p.pages).sum::<u64>() as f64 * 1e9 / len as f64;
            t.push(vec![
                units::format_duration(start),
                units::format_duration(end),
                format!("{per_s:.0}"),
                format!("{:.1}", st.mib(per_s)),
                chunk.iter().map(|p| p.pages).max().unwrap_or(0).to_string(),
                chunk.iter().map(|p| p.new_pages).sum::<u64>().to_string(),
            ]);
        }
        s += &columns(&t);
        let _ = writeln!(s, "\nwritable working set (distinct pages written within a window; mean and max over every window position):");
        let mut t = vec![vec![
            "window".to_string(),
            "intervals".into(),
            "mean pages".into(),
            "mean MiB".into(),
            "max pages".into(),
            "max MiB".into(),
            "mean % of memory".into(),
        ]];
        for w in &st.wws {
            t.push(vec![
                units::format_duration(w.window_ns),
                w.intervals.to_string(),
                format!("{:.0}", w.mean_pages),
                format!("{:.1}", st.mib(w.mean_pages)),
                w.max_pages.to_string(),
                format!("{:.1}", st.mib(w.max_pages as f64)),
                format!("{:.1}", pct(w.mean_pages)),
            ]);
        }
        s += &columns(&t);
    }
    s
}

/// The charts of `migsim trace stats`, two panels: the dirty rate over time (distinct pages per
/// second, and of those never written before) and the writable-working-set curve (distinct pages
/// written within a window, mean and maximum, against the window length on a log axis).
pub fn charts(st: &TraceStats, name: &str) -> Vec<Chart> {
    let per_s = |pages: u64, len: u64| if len > 0 { pages as f64 / (len as f64 / 1e9) } else { 0.0 };
    let rate = |f: fn(&RatePoint) -> u64| -> Vec<Point> {
        st.rate.iter().map(|r| Point::new(r.start_ns as f64 / 1e9, per_s(f(r), r.length_ns))).collect()
    };
    let rate_chart = Chart {
        title: format!("{name} trace: dirty rate over time, per interval"),
        x_label: "trace time (s)".into(),
        y_label: "dirty rate (distinct pages/s)".into(),
        series: vec![
            Series { label: "pages written in the interval".into(), style: Style::Lines, points: rate(|r| r.pages) },
            Series { label: "of those, written for the first time".into(), style: Style::Lines, points: rate(|r| r.new_pages) },
        ],
        ..Chart::default()
    };
    let wws = |f: fn(&WwsPoint) -> f64| -> Vec<Point> {
        st.wws.iter().filter(|w| w.window_ns > 0).map(|w| Point::new(w.window_ns as f64 / 1e9, f(w))).collect()
    };
    let wws_chart = Chart {
        title: format!("{name} trace: writable working set against window length"),
        x_label: "window length (s)".into(),
        y_label: "distinct pages written in a window (pages)".into(),
        log_x: true,
        series: vec![
            Series { label: "mean over windows".into(), style: Style::Lines, points: wws(|w| w.mean_pages) },
            Series { label: "maximum over windows".into(), style: Style::Lines, points: wws(|w| w.max_pages as f64) },
        ],
        ..Chart::default()
    };
    vec![rate_chart, wws_chart]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Header;

    #[test]
    fn the_report_and_csvs_show_every_interval_and_window() {
        let mut header = Header::new(Kind::Writes, 4096, 16 * 4096);
        header.interval_ns = Some(100);
        let rate = vec![
            RatePoint { start_ns: 0, length_ns: 100, pages: 2, new_pages: 2 },
            RatePoint { start_ns: 100, length_ns: 100, pages: 1, new_pages: 1 },
        ];
        let wws = vec![WwsPoint { intervals: 1, window_ns: 100, mean_pages: 1.5, max_pages: 2 }];
        let st = TraceStats { header, records: 3, page_writes: 3, distinct: 3, rate, wws, mean_interval_ns: 100.0 };
        assert_eq!(rate_csv(&st).lines().count(), 3, "a header and a row per interval");
        assert!(rate_csv(&st).ends_with("0.0000001,0.0000001,1,10000000.0,39062.500,1,3\n"), "{}", rate_csv(&st));
        assert_eq!(wws_csv(&st).lines().count(), 2);
        let table = table(&st, "w.mtrace", 20);
        assert!(table.contains("distinct pages written: 3"), "{table}");
        assert_eq!(charts(&st, "w").len(), 2);
    }
}
