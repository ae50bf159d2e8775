//! A quick estimate of one migration, alone on its route at a given bandwidth: what a plan orders
//! by (`shortest-predicted-first`, `dirtiest-first`) and what the `mvm` scheduler plans with. It is
//! the closed-form pre-copy model (Liu et al., HPDC 2011; Akoush et al., MASCOTS 2010): each round
//! sends what the round before dirtied, until it fits in the downtime limit at the link's rate. The
//! pages a round dirties are counted as distinct pages, from each workload's own distribution (a hot
//! set fills up and stops growing), which is what makes a hot/cold VM converge where a plain dirty
//! rate says it cannot (mVM's two-class model, Kherbache et al., makes the same point).
//!
//! It is an estimate for decisions, never a result: the simulation itself is page by page.

use crate::model::memory::ZeroPages;
use crate::model::scenario::{MigrationParams, OnMaxTime, VmSpec};
use crate::model::strategy::{self, Begin, Strategy};
use crate::model::workload::{WorkloadKind, WorkloadSpec};

/// Page writes per second, averaged over the workload's life (phases by their durations).
pub fn write_pps(w: &WorkloadSpec) -> f64 {
    match &w.kind {
        WorkloadKind::Idle => 0.0,
        WorkloadKind::Mix { parts } => parts.iter().map(write_pps).sum(),
        WorkloadKind::Phases { phases, .. } => {
            let total: f64 = phases.iter().map(|p| p.duration_ns as f64).sum();
            if total > 0.0 { phases.iter().map(|p| write_pps(&p.workload) * p.duration_ns as f64).sum::<f64>() / total } else { 0.0 }
        }
        WorkloadKind::Trace(t) => {
            let secs = t.summary.duration_ns as f64 / 1e9 * t.time_scale;
            if secs > 0.0 { t.summary.entries as f64 / secs } else { 0.0 }
        }
        _ => w.write_pps,
    }
}

/// The VM's dirty rate in bytes per second (page writes x page size): the `dirtiest-first` key.
pub fn dirty_rate(vm: &VmSpec) -> f64 {
    write_pps(&vm.workload) * vm.page_size as f64
}

/// Distinct pages `n` pages receive from `writes` writes drawn uniformly among them.
fn uniform(n: f64, writes: f64) -> f64 {
    if n <= 0.0 { 0.0 } else { n * -(-writes / n).exp_m1() }
}

/// Distinct pages of `n` with Zipf weights 1/(k+1)^s that `writes` writes touch, summed over
/// geometric buckets of ranks (a page of rank k is touched with probability 1 - exp(-writes p_k)).
fn zipf(n: f64, s: f64, writes: f64) -> f64 {
    if n <= 0.0 || writes <= 0.0 {
        return 0.0;
    }
    let mut buckets = Vec::new();
    let mut lo = 1.0f64;
    while lo <= n {
        let hi = (lo * 1.25).ceil().min(n + 1.0).max(lo + 1.0);
        buckets.push((hi - lo, ((lo * (hi - 1.0)).sqrt()).powf(-s)));
        lo = hi;
    }
    let h: f64 = buckets.iter().map(|(c, w)| c * w).sum();
    buckets.iter().map(|(c, w)| c * -(-writes * w / h).exp_m1()).sum()
}

/// Distinct pages the workload dirties in `t` seconds.
pub fn dirtied(w: &WorkloadSpec, t: f64) -> f64 {
    let ws = w.working_set.count as f64;
    let writes = w.write_pps * t;
    match &w.kind {
        WorkloadKind::Idle => 0.0,
        WorkloadKind::Uniform => uniform(ws, writes),
        WorkloadKind::HotCold { hot_pages, hot_share } => {
            let hot = (*hot_pages as f64).min(ws);
            uniform(hot, writes * hot_share) + uniform(ws - hot, writes * (1.0 - hot_share))
        }
        WorkloadKind::Zipf { exponent } => zipf(ws, *exponent, writes),
        WorkloadKind::Sequential | WorkloadKind::Fluid => writes.min(ws),
        WorkloadKind::Mix { parts } => parts.iter().map(|p| dirtied(p, t)).sum::<f64>().min(ws.max(1.0) * parts.len() as f64),
        WorkloadKind::Phases { phases, .. } => {
            let total: f64 = phases.iter().map(|p| p.duration_ns as f64).sum();
            if total > 0.0 { phases.iter().map(|p| dirtied(&p.workload, t) * p.duration_ns as f64).sum::<f64>() / total } else { 0.0 }
        }
        WorkloadKind::Trace(_) => uniform(ws, write_pps(w) * t),
    }
}

/// Rounds after which the estimate calls pre-copy stuck, whatever the stop policy.
const MAX_ROUNDS: u32 = 100;

/// The predicted time (seconds) of migrating `vm` with `p` and `strategy`, alone on a route of
/// `bandwidth` bytes/s and `latency_ns` one way.
pub fn duration(vm: &VmSpec, p: &MigrationParams, strategy: Strategy, bandwidth: f64, latency_ns: u64) -> f64 {
    let ps = vm.page_size as f64;
    let hdr = p.page_header_bytes as f64;
    let pages = vm.pages() as f64 * (1.0 - vm.free_fraction);
    let zero = match &vm.zero_pages {
        ZeroPages::Share { fraction, .. } => *fraction,
        ZeroPages::Profile(v) => v.iter().sum::<f64>() / v.len().max(1) as f64,
    };
    let full = if p.mech.zero_page_detection { pages * (1.0 - zero) * (ps + hdr) + pages * zero * hdr } else { pages * (ps + hdr) };
    let dev = vm.device_state_bytes as f64;
    let lat = latency_ns as f64 / 1e9;
    let (setup, resume) = (p.setup_time_ns as f64 / 1e9, p.resume_time_ns as f64 / 1e9);
    let max_time = p.max_time_ns as f64 / 1e9;
    let capped = |cap: Option<f64>| cap.map_or(bandwidth, |c| c.min(bandwidth)).max(1.0);
    let (live, post) = (capped(p.max_bandwidth_bps), capped(p.max_postcopy_bandwidth_bps));
    let switchover = capped(p.switchover_bandwidth_bps);
    match strategy.rule().begin() {
        Begin::Cold => (full + dev) / live + lat + resume,
        Begin::PostCopy => setup + dev / switchover + lat + full / post,
        Begin::PreCopy => {
            let hybrid = strategy == strategy::HYBRID;
            // Xen's policy and the rounds policy stop after max_rounds, converged or not.
            let forced_after = matches!(p.stop_policy.name(), "rounds" | "xen").then_some(p.max_rounds);
            let threshold = live * p.downtime_limit_ns as f64 / 1e9;
            let (mut t, mut v, mut rounds) = (setup, full, 0u32);
            loop {
                let dt = v / live;
                t += dt;
                rounds += 1;
                let dirty = dirtied(&vm.workload, dt) * (ps + hdr);
                if hybrid && rounds >= p.hybrid_switch_after {
                    return (t + dev / switchover + lat + dirty / post).min(max_time);
                }
                if dirty <= threshold || forced_after.is_some_and(|n| rounds >= n) {
                    return t + (dirty + dev) / switchover + lat + resume;
                }
                if (rounds > 1 && dirty >= v * 0.999) || rounds >= MAX_ROUNDS || t >= max_time {
                    // Stuck: QEMU keeps trying until max_time, then cancels or forces the stop.
                    return match p.on_max_time {
                        OnMaxTime::Cancel => max_time,
                        OnMaxTime::Stop => max_time + (dirty + dev) / switchover + lat + resume,
                    };
                }
                v = dirty;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_pages_saturate_at_the_working_set() {
        assert!((uniform(1000.0, 1000.0) - 632.12).abs() < 0.01);
        assert!(uniform(1000.0, 1e9) <= 1000.0);
        // Zipf touches fewer distinct pages than uniform for the same writes, and at most all.
        let (z, u) = (zipf(1e5, 1.0, 1e5), uniform(1e5, 1e5));
        assert!(z < u && z > 0.0, "{z} {u}");
        assert!(zipf(1e5, 0.0, 1e5) - u < 0.02 * u, "exponent 0 is uniform");
        assert!(zipf(1e4, 1.0, 1e12) > 0.999e4);
    }
}
