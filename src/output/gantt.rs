//! A plan's charts. `gantt.png`: a bar per VM from its migration's start to its end, coloured by
//! strategy (Okabe and Ito's colour-blind-safe palette), its downtime marked black, deadlines as
//! vertical lines; VMs in plan order, top to bottom. Beyond `NAMED_ROWS` VMs the bars are packed
//! into lanes (a lane holds migrations that do not overlap, so the number of lanes is the most in
//! flight at once). `links.png`: the utilisation over time of the links that carry the most memory,
//! and the rate of all migrations together, as the probe sampled them.
//!
//! It builds the pictures from the results and the probe's samples and hands them to `plot`.

use crate::model::probe::LinkLoad;
use crate::model::result::MigrationResult;
use crate::model::scenario::Scenario;
use crate::model::strategy;
use crate::output::plan::{link_name, rows};
use crate::output::plot::{Chart, Gantt, GanttBar, Point, Series, Style};
use crate::output::timeline::downtime;

/// Up to this many VMs, each has its own named row.
pub const NAMED_ROWS: usize = 120;
/// The most lanes drawn (the first ones: the picture stays readable).
pub const MAX_LANES: usize = NAMED_ROWS;

/// The Gantt chart of one run.
pub fn gantt(sc: &Scenario, run: &str, results: &[MigrationResult]) -> Gantt {
    let rows = rows(sc, run, results);
    let class = |s: &str| strategy::ALL.iter().position(|x| x.name() == s).unwrap_or(0);
    // The row of each VM: its own, or the first lane free when it starts.
    let (row_of, names, note) = if rows.len() <= NAMED_ROWS {
        ((0..rows.len()).collect::<Vec<_>>(), rows.iter().map(|r| r.vm.clone()).collect::<Vec<_>>(), String::new())
    } else {
        let mut by_start: Vec<usize> = (0..rows.len()).collect();
        by_start.sort_by(|&a, &b| rows[a].start_s.total_cmp(&rows[b].start_s).then(a.cmp(&b)));
        // Times in whole nanoseconds: a migration that starts as another ends takes its lane.
        let ns = |s: f64| (s * 1e9).round() as i64;
        let mut lane_end: Vec<i64> = Vec::new();
        let mut row_of = vec![0; rows.len()];
        for i in by_start {
            let lane = match lane_end.iter().position(|&e| e <= ns(rows[i].start_s)) {
                Some(l) => l,
                None => {
                    lane_end.push(i64::MIN);
                    lane_end.len() - 1
                }
            };
            lane_end[lane] = ns(rows[i].end_s);
            row_of[i] = lane;
        }
        let lanes = lane_end.len();
        let note = if lanes > MAX_LANES { format!(", first {MAX_LANES} of {lanes} lanes") } else { String::new() };
        (row_of, vec![String::new(); lanes.min(MAX_LANES)], note)
    };
    let shown = |i: usize| row_of[i] < names.len();
    let bars = (0..rows.len())
        .filter(|&i| shown(i))
        .map(|i| GanttBar { row: row_of[i], from: rows[i].start_s, to: rows[i].end_s, class: class(&rows[i].strategy) })
        .collect();
    let marks = (0..rows.len())
        .filter(|&i| shown(i))
        .filter_map(|i| downtime(&results[i]).map(|(from, to)| GanttBar { row: row_of[i], from, to, class: 0 }))
        .collect();
    let mut deadlines: Vec<u64> = sc.migrations.iter().filter_map(|m| m.goal.deadline_ns).collect();
    deadlines.sort_unstable();
    deadlines.dedup();
    let lines = deadlines.iter().take(3).map(|&d| (d as f64 / 1e9, format!("deadline {}", crate::units::format_duration(d)))).collect();
    let lanes = rows.len() > NAMED_ROWS;
    Gantt {
        title: format!("{}: {run} run, {} migrations{note}", sc.name, rows.len()),
        x_label: "simulated time (s)".into(),
        y_label: if lanes { "migrations in flight (one lane each)".into() } else { "VM (plan order)".into() },
        rows: names,
        classes: strategy::ALL.iter().map(|s| s.name().to_string()).collect(),
        bars,
        marks,
        mark_label: "downtime".into(),
        lines,
    }
}

/// The link charts of one run: the utilisation of the watched links, and all migrations' rate.
pub fn link_charts(sc: &Scenario, run: &str, load: &LinkLoad) -> Vec<Chart> {
    let series = load
        .links
        .iter()
        .zip(&load.rates_bps)
        .map(|(&l, rates)| {
            let cap = sc.links[l].bandwidth_bps * 8.0;
            Series {
                label: link_name(sc, l),
                style: Style::Path,
                points: load.times_s.iter().zip(rates).map(|(&t, &r)| Point::new(t, 100.0 * r / cap)).collect(),
            }
        })
        .collect();
    let total = Series {
        label: "all migrations".into(),
        style: Style::Path,
        points: load.times_s.iter().zip(&load.total_bps).map(|(&t, &r)| Point::new(t, r / 1e9)).collect(),
    };
    vec![
        Chart {
            title: format!("{}: {run} run, utilisation of the {} links carrying the most memory", sc.name, load.links.len()),
            x_label: "simulated time (s)".into(),
            y_label: "utilisation (%)".into(),
            series,
            ..Chart::default()
        },
        Chart {
            title: format!("{}: {run} run, migration traffic", sc.name),
            x_label: "simulated time (s)".into(),
            y_label: "rate of all migrations (Gbit/s)".into(),
            series: vec![total],
            ..Chart::default()
        },
    ]
}
