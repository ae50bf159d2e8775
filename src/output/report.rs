//! A run's results in the forms people read: the table `migsim run` prints, one CSV row per
//! migration, and the per-round timeline CSV. It reads `model::result` and never changes it.

use crate::model::result::{MigrationResult, RunReport};
use crate::units;

fn opt_dur(s: Option<f64>) -> String {
    s.map_or("-".into(), |x| units::format_duration((x * 1e9).round() as u64))
}

fn dur(s: f64) -> String {
    units::format_duration((s * 1e9).round() as u64)
}

/// The run table's header and rows, one per migration (the plain-text table and the HTML report).
pub fn table_rows(r: &RunReport) -> (Vec<String>, Vec<Vec<String>>) {
    let head = ["vm", "strategy", "total", "downtime", "sent", "rounds", "syncs", "pre-copy ended", "faults", "stall", "post-copy window"];
    let rows: Vec<Vec<String>> = r
        .migrations
        .iter()
        .map(|m| {
            let ended = if m.completed {
                format!("{}{}", m.stop_reason, if m.converged { "" } else { " (not converged)" })
            } else {
                format!("cancelled at {} (not converged)", m.stop_reason)
            };
            vec![
                m.vm.clone(),
                m.strategy.clone(),
                if m.completed { dur(m.total_time_s) } else { format!(">{}", dur(m.total_time_s)) },
                opt_dur(m.downtime_s),
                units::format_size(m.bytes_sent),
                m.rounds.to_string(),
                m.syncs.to_string(),
                ended,
                m.remote_faults.to_string(),
                dur(m.fault_stall_s),
                dur(m.postcopy_window_s),
            ]
        })
        .collect();
    (head.iter().map(|s| s.to_string()).collect(), rows)
}

/// A plain-text table, one row per migration.
pub fn table(r: &RunReport) -> String {
    let (head, rows) = table_rows(r);
    let mut all = vec![head];
    all.extend(rows);
    let rule = widths(&all).into_iter().map(|w| "-".repeat(w)).collect();
    all.insert(1, rule);
    let mut out = format!("scenario {} (seed {})\n", r.scenario, r.seed);
    out.push_str(&columns(&all));
    for m in &r.migrations {
        let notes = mechanism_notes(m);
        if !notes.is_empty() {
            out.push_str(&format!("  {} {}: {}\n", m.vm, m.strategy, notes.join("; ")));
        }
    }
    out
}

/// The width of each column of `rows`, in characters.
fn widths(rows: &[Vec<String>]) -> Vec<usize> {
    (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect()
}

/// `rows` as left-aligned columns, two spaces apart, with no trailing spaces.
pub fn columns(rows: &[Vec<String>]) -> String {
    let widths = widths(rows);
    let mut s = String::new();
    for r in rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
        s += line.join("  ").trim_end();
        s.push('\n');
    }
    s
}

/// What the mechanisms did, for the lines under the table (only those that did something).
pub fn mechanism_notes(m: &MigrationResult) -> Vec<String> {
    let mut v = Vec::new();
    if m.throttle_max_pct > 0.0 {
        v.push(format!(
            "throttle up to {}% in {} steps, {:.1}% of vCPU time lost",
            m.throttle_max_pct,
            m.throttle_schedule.len(),
            m.throttle_share * 100.0
        ));
    }
    if m.app_slowdown > 0.0 {
        v.push(format!("application slowdown {:.1}%", m.app_slowdown * 100.0));
    }
    if m.xbzrle_pages + m.xbzrle_cache_miss > 0 {
        v.push(format!(
            "XBZRLE {} deltas ({} misses, {} overflows) saved {}",
            m.xbzrle_pages,
            m.xbzrle_cache_miss,
            m.xbzrle_overflow,
            units::format_size(m.xbzrle_bytes_saved)
        ));
    }
    if m.compression_bytes_saved > 0 {
        v.push(format!("compression saved {}", units::format_size(m.compression_bytes_saved)));
    }
    if m.free_pages_skipped > 0 {
        v.push(format!("{} free pages skipped ({})", m.free_pages_skipped, units::format_size(m.free_bytes_saved)));
    }
    v
}

/// The per-migration CSV columns (every JSON figure but the timeline).
pub const CSV_COLUMNS: [&str; 36] = [
    "vm",
    "strategy",
    "from",
    "to",
    "start_s",
    "total_time_s",
    "downtime_s",
    "completed",
    "bytes_sent",
    "pages_sent",
    "zero_pages_sent",
    "precopy_bytes",
    "stop_copy_bytes",
    "postcopy_bytes",
    "rounds",
    "syncs",
    "converged",
    "stop_reason",
    "remote_faults",
    "fault_stall_s",
    "postcopy_window_s",
    "postcopy_start_s",
    "throttle_max_pct",
    "throttle_share",
    "app_slowdown",
    "xbzrle_pages",
    "xbzrle_cache_miss",
    "xbzrle_overflow",
    "xbzrle_bytes",
    "xbzrle_bytes_saved",
    "zero_page_bytes_saved",
    "compression_bytes_saved",
    "free_pages_skipped",
    "free_bytes_saved",
    "seed",
    "scenario",
];

pub fn csv_row(m: &MigrationResult, seed: u64, scenario: &str) -> Vec<String> {
    let o = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    vec![
        m.vm.clone(),
        m.strategy.clone(),
        m.from.clone(),
        m.to.clone(),
        m.start_s.to_string(),
        m.total_time_s.to_string(),
        o(m.downtime_s),
        m.completed.to_string(),
        m.bytes_sent.to_string(),
        m.pages_sent.to_string(),
        m.zero_pages_sent.to_string(),
        m.precopy_bytes.to_string(),
        m.stop_copy_bytes.to_string(),
        m.postcopy_bytes.to_string(),
        m.rounds.to_string(),
        m.syncs.to_string(),
        m.converged.to_string(),
        m.stop_reason.clone(),
        m.remote_faults.to_string(),
        m.fault_stall_s.to_string(),
        m.postcopy_window_s.to_string(),
        o(m.postcopy_start_s),
        m.throttle_max_pct.to_string(),
        m.throttle_share.to_string(),
        m.app_slowdown.to_string(),
        m.xbzrle_pages.to_string(),
        m.xbzrle_cache_miss.to_string(),
        m.xbzrle_overflow.to_string(),
        m.xbzrle_bytes.to_string(),
        m.xbzrle_bytes_saved.to_string(),
        m.zero_page_bytes_saved.to_string(),
        m.compression_bytes_saved.to_string(),
        m.free_pages_skipped.to_string(),
        m.free_bytes_saved.to_string(),
        seed.to_string(),
        scenario.to_string(),
    ]
}

pub fn csv(r: &RunReport) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS)?;
    for m in &r.migrations {
        w.write_record(csv_row(m, r.seed, &r.scenario))?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

pub fn timeline_csv(r: &RunReport) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "vm",
        "strategy",
        "round",
        "phase",
        "start_s",
        "end_s",
        "pages_sent",
        "bytes_sent",
        "dirty_pages_at_end",
        "bandwidth_bps",
        "throttle_pct",
        "stop_threshold_bytes",
    ])?;
    for m in &r.migrations {
        for t in &m.timeline {
            w.write_record([
                m.vm.clone(),
                m.strategy.clone(),
                t.round.to_string(),
                t.phase.to_string(),
                t.start_s.to_string(),
                t.end_s.to_string(),
                t.pages_sent.to_string(),
                t.bytes_sent.to_string(),
                t.dirty_pages_at_end.to_string(),
                t.bandwidth_bps.to_string(),
                t.throttle_pct.to_string(),
                t.stop_threshold_bytes.map_or(String::new(), |b| b.to_string()),
            ])?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
