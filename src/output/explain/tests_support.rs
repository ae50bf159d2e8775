//! A blank result and setting for unit tests (here and in `output::timeline`) to fill in.

use super::Setting;
use crate::model::mechanism::Mechanisms;
use crate::model::result::MigrationResult;

pub fn result() -> MigrationResult {
    MigrationResult {
        vm: "vm".into(),
        strategy: "precopy".into(),
        from: "a".into(),
        to: "b".into(),
        start_s: 0.0,
        total_time_s: 0.0,
        downtime_s: None,
        completed: true,
        bytes_sent: 0,
        pages_sent: 0,
        zero_pages_sent: 0,
        precopy_bytes: 0,
        stop_copy_bytes: 0,
        postcopy_bytes: 0,
        rounds: 0,
        syncs: 0,
        converged: true,
        stop_reason: "converged".into(),
        remote_faults: 0,
        fault_stall_s: 0.0,
        postcopy_window_s: 0.0,
        postcopy_start_s: None,
        throttle_max_pct: 0.0,
        throttle_share: 0.0,
        app_slowdown: 0.0,
        throttle_schedule: Vec::new(),
        xbzrle_pages: 0,
        xbzrle_cache_miss: 0,
        xbzrle_overflow: 0,
        xbzrle_bytes: 0,
        xbzrle_bytes_saved: 0,
        zero_page_bytes_saved: 0,
        compression_bytes_saved: 0,
        free_pages_skipped: 0,
        free_bytes_saved: 0,
        socket_wait_s: 0.0,
        timeline: Vec::new(),
    }
}

/// A 1 GiB VM of 4 KiB pages on a 10 Gbit/s link with 0.1 ms latency, QEMU's rule, 300 ms limit.
pub fn setting() -> Setting {
    Setting {
        page_size: 4096,
        memory_bytes: 1 << 30,
        device_state_bytes: 256 << 10,
        workload: "a guest writing 20,000 page writes/s spread evenly over a 256 MiB working set".into(),
        working_set_bytes: 256 << 20,
        link: Some((1.25e9, 1e-4)),
        others: 0,
        stop_policy: "qemu",
        downtime_limit_s: 0.3,
        max_bandwidth: None,
        max_postcopy_bandwidth: None,
        switchover_bandwidth: None,
        max_rounds: 30,
        max_time_s: 3600.0,
        cancel_at_max_time: true,
        hybrid_switch_after: 2,
        resume_time_s: 0.0,
        page_header: 8,
        cpu_rate_new: None,
        cpu_rate_resent: None,
        cpu_rate_resent_paused: None,
        mech: Mechanisms::default(),
    }
}
