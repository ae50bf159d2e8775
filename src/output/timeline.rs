//! The timeline chart of `migsim run` (`timeline.png`): one panel per migration, each round a bar of
//! the pages it sent over its time span, a line of the pages left dirty at the end of each round
//! (pages on a log axis, so that the small late rounds show beside round 0), and the downtime shaded.
//! Built from the results' per-round records, drawn by `plot`.

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

/// One panel for a migration.
pub fn chart(scenario: &str, m: &MigrationResult) -> Chart {
    let sent = m.timeline.iter().map(|t| Point { x_end: Some(t.end_s), ..Point::new(t.start_s, t.pages_sent as f64) }).collect();
    // Post-copy has nothing left dirty: its row counts pages only.
    let dirty = m.timeline.iter().filter(|t| t.phase == "precopy").map(|t| Point::new(t.end_s, t.dirty_pages_at_end as f64)).collect();
    Chart {
        title: format!("{scenario}: {} migration of {} ({} rounds)", m.strategy, m.vm, m.rounds),
        x_label: "simulated time (s)".into(),
        y_label: "pages (log scale)".into(),
        // Round 0 sends every page and later rounds a few percent of that: a log axis shows them all.
        log_y: true,
        series: vec![
            Series { label: "pages sent in the round".into(), style: Style::Bars, points: sent },
            Series { label: "pages left dirty at round end".into(), style: Style::Lines, points: dirty },
        ],
        spans: downtime(m).map(|(from, to)| Span { label: "downtime (VM paused)".into(), from, to }).into_iter().collect(),
        ..Chart::default()
    }
}

/// The panels of a run, one per migration in report order.
pub fn charts(r: &RunReport) -> Vec<Chart> {
    r.migrations.iter().map(|m| chart(&r.scenario, m)).collect()
}
