//! Results: the figures of one migration (and its per-round timeline), and their forms on the way out:
//! a readable table, JSON, CSV, and the files under `results/<scenario>/`, written atomically
//! (temporary file + rename) so that an interrupted run never leaves a half-written file behind.

use crate::units;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One pre-copy round, the stop-and-copy, or the post-copy phase.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoundRecord {
    pub round: u32,
    pub phase: &'static str,
    pub start_s: f64,
    pub end_s: f64,
    pub pages_sent: u64,
    pub bytes_sent: u64,
    /// Pages marked to send after the sync that closed the round.
    pub dirty_pages_at_end: u64,
    /// Average rate of the round, bits per second.
    pub bandwidth_bps: f64,
    /// The vCPU throttle (auto-converge) when the row closed, percent.
    pub throttle_pct: f64,
    /// Pre-copy: the stop policy's threshold in force at the sync that closed the round, bytes
    /// (QEMU: measured bandwidth x downtime_limit); the round stopped pre-copy when the pages left
    /// came below it. `None` (null) for other rows and for the `rounds` policy, which has none.
    pub stop_threshold_bytes: Option<f64>,
}

impl RoundRecord {
    /// A row from `start` to `end` (ns); the rate is the bytes over `busy_ns`, the time the link was
    /// carrying them (0 when it never was).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        round: u32,
        phase: &'static str,
        start: u64,
        end: u64,
        pages_sent: u64,
        bytes_sent: u64,
        dirty_pages_at_end: u64,
        busy_ns: u64,
    ) -> Self {
        RoundRecord {
            round,
            phase,
            start_s: start as f64 / 1e9,
            end_s: end as f64 / 1e9,
            pages_sent,
            bytes_sent,
            dirty_pages_at_end,
            bandwidth_bps: if busy_ns > 0 { bytes_sent as f64 * 8.0 / (busy_ns as f64 / 1e9) } else { 0.0 },
            throttle_pct: 0.0,
            stop_threshold_bytes: None,
        }
    }
}

/// The figures of one migration. Field names are a stable interface for scripts and notebooks.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MigrationResult {
    pub vm: String,
    pub strategy: String,
    pub from: String,
    pub to: String,
    pub start_s: f64,
    /// From the migrate command to the VM running at the destination with all its memory.
    pub total_time_s: f64,
    /// The VM paused: stop at the source to resume at the destination. `null` if it never stopped.
    pub downtime_s: Option<f64>,
    /// False when the migration was cancelled (the VM stayed at the source).
    pub completed: bool,
    pub bytes_sent: u64,
    pub pages_sent: u64,
    pub zero_pages_sent: u64,
    pub precopy_bytes: u64,
    pub stop_copy_bytes: u64,
    pub postcopy_bytes: u64,
    /// Pre-copy rounds completed (round 0, the bulk copy, counts as one).
    pub rounds: u32,
    /// Dirty-bitmap syncs, counted as QEMU's dirty-sync-count (setup and final sync included).
    pub syncs: u32,
    pub converged: bool,
    pub stop_reason: String,
    pub remote_faults: u64,
    pub fault_stall_s: f64,
    /// Time during which a failure of either host would lose the VM (post-copy).
    pub postcopy_window_s: f64,
    pub postcopy_start_s: Option<f64>,
    /// Auto-converge: the highest throttle reached, percent (0 when it never throttled).
    pub throttle_max_pct: f64,
    /// The vCPU time lost to throttling: the throttle averaged over the live migration (0..1).
    pub throttle_share: f64,
    /// The share of the application's writes not issued during the live migration because of
    /// throttling or the dirty limit (0..1): the time-weighted application slowdown.
    pub app_slowdown: f64,
    /// Auto-converge steps: [time since the migration began (s), throttle (%)].
    pub throttle_schedule: Vec<[f64; 2]>,
    /// XBZRLE: pages sent as deltas, cache misses, deltas too big to send, bytes of the deltas
    /// (QEMU's xbzrle-cache bytes: encoding + 3 bytes each), and pages x page size - those bytes.
    pub xbzrle_pages: u64,
    pub xbzrle_cache_miss: u64,
    pub xbzrle_overflow: u64,
    pub xbzrle_bytes: u64,
    pub xbzrle_bytes_saved: u64,
    /// Bytes not sent because zero pages went as a header only.
    pub zero_page_bytes_saved: u64,
    /// Bytes not sent because pages were compressed.
    pub compression_bytes_saved: u64,
    /// Free guest pages skipped (never sent), and the bytes that saved.
    pub free_pages_skipped: u64,
    pub free_bytes_saved: u64,
    pub timeline: Vec<RoundRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub scenario: String,
    pub description: String,
    pub seed: u64,
    pub migsim_version: &'static str,
    pub migrations: Vec<MigrationResult>,
}

fn opt_dur(s: Option<f64>) -> String {
    s.map_or("-".into(), |x| units::format_duration((x * 1e9).round() as u64))
}

fn dur(s: f64) -> String {
    units::format_duration((s * 1e9).round() as u64)
}

/// A plain-text table, one row per migration.
pub fn table(r: &RunReport) -> String {
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
    let mut all = vec![head.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
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
fn mechanism_notes(m: &MigrationResult) -> Vec<String> {
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

/// `path` with `suffix` appended to its file name: `a/x.csv` + `.partial` = `a/x.csv.partial`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Where a streamed file is written until it is complete: `NAME.partial` beside `NAME`.
pub fn partial_path(path: &Path) -> PathBuf {
    with_suffix(path, ".partial")
}

/// Write `data` to `path` atomically: a temporary file in the same folder, flushed, then renamed over
/// the target. A reader sees the old file or the new one, never a part.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_sit_beside_their_target() {
        assert_eq!(partial_path(Path::new("a/sweep.csv")), Path::new("a/sweep.csv.partial"));
        assert_eq!(with_suffix(Path::new("t.mtrace"), ".partial.body"), Path::new("t.mtrace.partial.body"));
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("migsim-report-{}", std::process::id()));
        let p = dir.join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
