//! What a simulation produces: the figures of each migration and its per-round timeline, and the
//! report of a whole run. Field names are a stable interface (JSON, CSV); docs/model.md defines each.
//! Turning them into tables, files and charts is `output`'s business.

use serde::Serialize;

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
    /// `drain_at_stop`: how long the final copy waited for the pages new to the destination that
    /// the sockets still held when the VM paused (part of the downtime; 0 when off).
    pub socket_wait_s: f64,
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
