//! The timeline chart of `migsim run` (`timeline.png`) and of `migsim report`: per migration, a
//! panel with each round as a bar of the pages it sent over its time span, a line of the pages left
//! to send after each pre-copy round, the stop rule's threshold in pages as a dashed line (what the
//! line must fall under for pre-copy to stop), pages on a log axis so that the small late rounds
//! show beside round 0, and the downtime shaded; and, when auto-converge throttled the guest, a
//! second panel with the throttle over time. Built from the results' per-round records (and the
//! VM's page size, from the scenario), drawn by `plot`.

use crate::model::Scenario;
use crate::model::result::{MigrationResult, RunReport};
use crate::output::plot::{Chart, Point, Series, Span, Style};

/// When the VM was paused, in absolute simulated seconds: from the stop-and-copy (or cold copy)
/// start, or from the switch to post-copy, for the downtime. None if it never stopped.
pub fn downtime(m: &MigrationResult) -> Option<(f64, f64)> {
    let d = m.downtime_s?;
    let stop = m.timeline.iter().find(|t| t.phase == "stop-and-copy" || t.phase == "cold copy").map(|t| t.start_s);
    let from = stop.or(m.postcopy_start_s.map(|p| m.start_s + p))?;
    Some((from, from + d))
}

fn downtime_span(m: &MigrationResult) -> Vec<Span> {
    downtime(m).map(|(from, to)| Span { label: "downtime (VM paused)".into(), from, to }).into_iter().collect()
}

/// The panels of one migration: its pages per round, and its throttle if auto-converge acted.
/// `page_size` (bytes) turns the stop threshold into pages; without it the threshold is left out.
pub fn panels(scenario: &str, m: &MigrationResult, page_size: Option<u64>) -> Vec<Chart> {
    let sent = m.timeline.iter().map(|t| Point { x_end: Some(t.end_s), ..Point::new(t.start_s, t.pages_sent as f64) }).collect();
    // Post-copy has nothing left dirty: its row counts pages only.
    let pre = || m.timeline.iter().filter(|t| t.phase == "precopy");
    let dirty = pre().map(|t| Point::new(t.end_s, t.dirty_pages_at_end as f64)).collect();
    let mut series = vec![
        Series { label: "pages sent in the round (bar spans the round)".into(), style: Style::Bars, points: sent },
        Series { label: "pages left to send after the round".into(), style: Style::Lines, points: dirty },
    ];
    if let Some(ps) = page_size.filter(|&p| p > 0) {
        let threshold: Vec<Point> = pre().filter_map(|t| Some(Point::new(t.end_s, t.stop_threshold_bytes? / ps as f64))).collect();
        if !threshold.is_empty() {
            series.push(Series {
                label: "stop threshold in pages (stop once the line is under it)".into(),
                style: Style::Dashed,
                points: threshold,
            });
        }
    }
    let who = format!("{scenario}: {} by {}", m.vm, m.strategy);
    let what = if m.rounds > 0 {
        "pages sent and left, round by round"
    } else if m.strategy == "cold" {
        "pages sent in the one copy"
    } else {
        "pages sent after the switch to post-copy"
    };
    let mut out = vec![Chart {
        title: format!("{who}, {what}"),
        x_label: "simulated time (s)".into(),
        y_label: "pages".into(),
        // Round 0 sends every page and later rounds a few percent of that: a log axis shows them all.
        log_y: true,
        series,
        spans: downtime_span(m),
        ..Chart::default()
    }];
    if !m.throttle_schedule.is_empty() {
        // A step line: 0 until the first step, each step's level until the next, until the pause.
        let end = downtime(m).map_or_else(|| m.timeline.last().map_or(m.start_s, |t| t.end_s), |d| d.0);
        let mut pts = vec![Point::new(m.start_s, 0.0)];
        let mut level = 0.0;
        for s in &m.throttle_schedule {
            let t = m.start_s + s[0];
            pts.push(Point::new(t, level));
            level = s[1];
            pts.push(Point::new(t, level));
        }
        pts.push(Point::new(end, level));
        out.push(Chart {
            title: format!("{who}, vCPU throttle of auto-converge"),
            x_label: "simulated time (s)".into(),
            y_label: "vCPU throttle (% of its time taken away)".into(),
            series: vec![Series { label: "throttle".into(), style: Style::Lines, points: pts }],
            spans: downtime_span(m),
            ..Chart::default()
        });
    }
    out
}

/// Each migration's panels, in report order.
pub fn per_migration(r: &RunReport, sc: &Scenario) -> Vec<Vec<Chart>> {
    r.migrations
        .iter()
        .map(|m| {
            let ps = sc.vms.iter().find(|v| v.name == m.vm).map(|v| v.page_size);
            panels(&r.scenario, m, ps)
        })
        .collect()
}

/// Every panel of a run, top to bottom (`timeline.png`).
pub fn charts(r: &RunReport, sc: &Scenario) -> Vec<Chart> {
    per_migration(r, sc).concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::result::RoundRecord;

    fn row(round: u32, phase: &'static str, start: f64, end: f64, pages: u64, dirty: u64, th: Option<f64>) -> RoundRecord {
        let mut r = RoundRecord::new(
            round,
            phase,
            (start * 1e9) as u64,
            (end * 1e9) as u64,
            pages,
            pages * 4104,
            dirty,
            ((end - start) * 1e9) as u64,
        );
        r.stop_threshold_bytes = th;
        r
    }

    #[test]
    fn the_threshold_is_drawn_in_pages_and_the_throttle_gets_its_own_panel() {
        let m = MigrationResult {
            vm: "vm".into(),
            strategy: "precopy".into(),
            timeline: vec![
                row(0, "precopy", 0.0, 5.0, 1000, 300, Some(409600.0)),
                row(1, "precopy", 5.0, 6.0, 300, 50, Some(409600.0)),
                row(2, "stop-and-copy", 6.0, 6.1, 50, 0, None),
            ],
            downtime_s: Some(0.1),
            throttle_schedule: vec![[2.0, 20.0], [4.0, 30.0]],
            throttle_max_pct: 30.0,
            ..crate::output::explain::tests_support::result()
        };
        let p = panels("s", &m, Some(4096));
        assert_eq!(p.len(), 2);
        let th = &p[0].series[2];
        assert_eq!(th.style, Style::Dashed);
        assert_eq!(th.points, vec![Point::new(5.0, 100.0), Point::new(6.0, 100.0)]);
        assert_eq!(p[0].spans[0].from, 6.0);
        let steps: Vec<(f64, f64)> = p[1].series[0].points.iter().map(|q| (q.x, q.y)).collect();
        assert_eq!(steps, vec![(0.0, 0.0), (2.0, 0.0), (2.0, 20.0), (4.0, 20.0), (4.0, 30.0), (6.0, 30.0)]);
        // Without the page size there is no threshold line.
        assert_eq!(panels("s", &m, None)[0].series.len(), 2);
    }
}
