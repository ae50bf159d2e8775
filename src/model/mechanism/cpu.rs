//! The host's CPU as a shared resource (issue 23, "the CPU-bound regime"): the migration's threads
//! (QEMU's migration thread, or multifd's main thread and its channels, each channel's sender taking
//! turns with its receiver when the destination is the same machine), the guest's vCPU threads and
//! whatever else runs on the host share its cores fairly. From that share this file sets how fast the stream's
//! per-page CPU work goes (`CpuCost::parallel`, per-page costs in `model::transfer`) and how much
//! of its own demand the guest's vCPUs get (`Vm::cpu_share`, on top of auto-converge's throttle):
//! a CPU-bound guest slows the migration (by the cores it takes and, with `interference`, by what
//! else a core shares) and is slowed by it (by the cores the migration takes and, with
//! `guest_interference`, by what the busy migration threads share with the vCPUs), and the final
//! copy, with the guest paused, gets the cores the vCPUs gave up.
//!
//! Owns `HostCpu` and `rebalance`; the migration calls `rebalance` where the demand changes (the
//! migration starts, a throttle step, the pause). It sets the migration's CPU cost and returns the
//! vCPU's share; it does not import the VM (which would make a cycle through the scenario). What it
//! follows is in docs/model.md, section 15.11.

use crate::model::mechanism::{MULTIFD_MAIN_THREAD_LOAD, Mechanisms};
use crate::model::transfer::CpuCost;

/// The host the migration's threads and the guest's vCPUs run on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostCpu {
    /// Cores (fractional allowed).
    pub cores: f64,
    /// Other runnable threads, each wanting a whole core (other guests, other tenants: the host's
    /// load before the migration, less the guest's own).
    pub busy_threads: f64,
    /// Cores the guest's vCPUs keep busy while it runs unthrottled (1 for one vCPU spinning, 0.03
    /// for a writer that needs 3 % of one): measured before migrating (`top`, the vCPU threads).
    pub guest_cpu: f64,
    /// The guest's vCPUs (its demand is spread over them; each wants at most a core).
    pub vcpus: f64,
    /// Bytes of zero pages per second of one core: QEMU reads a zero page whole to find it is
    /// zero (`buffer_is_zero`) and sends its header (`None`: free).
    pub zero_rate: Option<f64>,
    /// How much slower the stream's per-page work goes for each core the guest's vCPUs keep
    /// running beside it (0.1: 10 %), for what cores share besides time (caches, memory bandwidth,
    /// sibling hyperthreads). Measured on the host (docs/model.md 15.11); 0 by default.
    pub interference: f64,
    /// The other way round: how much slower the guest's vCPUs go while the migration's threads
    /// work flat out (0.2: 20 %), scaled by the share of the time they work
    /// (`Ctx::guest_interference`). Measured on the host; 0 by default, less than 1.
    pub guest_interference: f64,
}

/// The fair-share level of `cores` among groups of threads `(count, demand each)`, each demand at
/// most one core: the largest λ with Σ count x min(demand, λ) <= cores, or 1 when everything fits
/// (Linux's CFS gives runnable threads of equal weight equal time; a thread that wants less keeps
/// its demand and leaves the rest to the others).
pub fn level(cores: f64, groups: &[(f64, f64)]) -> f64 {
    let want: f64 = groups.iter().map(|&(n, d)| n * d).sum();
    if want <= cores {
        return 1.0;
    }
    let mut g: Vec<(f64, f64)> = groups.iter().copied().filter(|&(n, d)| n > 0.0 && d > 0.0).collect();
    g.sort_by(|a, b| a.1.total_cmp(&b.1));
    // Walk the demands upwards: those below λ keep theirs, the rest split what is left equally.
    let (mut left, mut count): (f64, f64) = (cores, g.iter().map(|&(n, _)| n).sum());
    for &(n, d) in &g {
        let lambda = left / count;
        if d >= lambda {
            return lambda;
        }
        left -= n * d;
        count -= n;
    }
    1.0
}

impl HostCpu {
    /// The threads wanting the host's cores, as (count, demand each): the others, the guest's vCPUs
    /// (`guest` cores in all, none while paused), and the migration's: one thread per channel (its
    /// sender, and for a migration to the same machine its receiver, which takes turns with the
    /// sender on the bytes they pass through a socket: together about one core, `Mechanisms::parallel`);
    /// under multifd also the main migration thread.
    fn groups(&self, channels: u32, guest: f64) -> [(f64, f64); 4] {
        let n = f64::from(channels);
        let main = if channels > 1 { MULTIFD_MAIN_THREAD_LOAD } else { 0.0 };
        let vcpus = self.vcpus.max(1.0);
        [(self.busy_threads, 1.0), (vcpus, (guest / vcpus).min(1.0)), (n, 1.0), (1.0, main)]
    }

    /// (how much faster than one thread with a core of its own the stream does its CPU work, the
    /// share of its work each vCPU gets done) when the guest wants `guest` cores and its vCPUs go
    /// `vcpu_pace` times as fast as they would alone (`CpuCost::vcpu_pace`; 1: not slowed, and the
    /// second figure is the share of the time they want that they get). The vCPUs that run
    /// (`vcpus` x min(demand, λ) cores) slow the stream's work by `interference` per core. A slowed
    /// vCPU needs its demand / `vcpu_pace` of a core for the same work, so one that wants less than
    /// its fair level runs longer and loses nothing (a rate-limited writer has that slack), and one
    /// that wants more does λ x `vcpu_pace` / its demand of its work.
    pub fn shares(&self, channels: u32, guest: f64, vcpu_pace: f64) -> (f64, f64) {
        let groups = self.groups(channels, guest);
        let lambda = level(self.cores, &groups);
        let (vcpus, per_vcpu) = groups[1];
        let vcpu = if per_vcpu > 0.0 { (lambda * vcpu_pace / per_vcpu).min(1.0) } else { 1.0 };
        let running = vcpus * per_vcpu.min(lambda);
        (f64::from(channels) * lambda.min(1.0) / (1.0 + self.interference * running), vcpu)
    }
}

/// Share the host's cores again after the guest's demand changed: the migration starts, the
/// throttle moves to `throttle_share` (1 - p), or the guest pauses (`paused`). Sets the stream's CPU
/// pace (`cpu.parallel`, and the zero pages' cost) and returns the vCPU's running share, for
/// `Vm::cpu_share`: the throttle's share x the share of their work the vCPUs get done, on what the
/// host leaves them at their pace beside the stream (`HostCpu::shares`, `CpuCost::vcpu_pace`).
/// Without a host CPU model only the throttle applies (multifd's pace stays
/// `Mechanisms::parallel`).
pub fn rebalance(mech: &Mechanisms, cpu: &mut CpuCost, paused: bool, page_size: u64, throttle_share: f64) -> f64 {
    let Some(h) = mech.host_cpu else { return throttle_share };
    // A throttled vCPU sleeps (1 - share) of the time, and wants that much less of a core.
    let guest = if paused { 0.0 } else { h.guest_cpu * throttle_share };
    let (pace, work) = h.shares(mech.multifd_channels, guest, cpu.vcpu_pace);
    cpu.parallel = pace;
    if let Some(z) = h.zero_rate {
        cpu.zero_page_s = page_size as f64 / z;
    }
    if paused { throttle_share } else { throttle_share * work }
}

/// How much faster than one thread with a core of its own the receiving threads alone go (one per
/// channel) while nothing else of the migration or the guest runs: the VM is paused and the
/// senders wait for room in the sockets (`drain_at_stop`). With the host CPU model they share its
/// cores with its other load; without it the stream's own `parallel` stands.
pub fn receivers_parallel(mech: &Mechanisms, parallel: f64) -> f64 {
    let Some(h) = mech.host_cpu else { return parallel };
    let n = f64::from(mech.multifd_channels.max(1));
    n * level(h.cores, &[(h.busy_threads, 1.0), (n, 1.0)]).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn level_is_a_fair_share_with_small_demands_kept() {
        // Fits: everyone gets what they want.
        assert!(close(level(2.0, &[(1.0, 1.0), (1.0, 0.5)]), 1.0));
        // 3 whole-core threads on 2 cores: 2/3 each.
        assert!(close(level(2.0, &[(3.0, 1.0)]), 2.0 / 3.0));
        // A thread wanting 0.1 keeps it; 2 others split 0.9 of one core... of 1 core in all.
        assert!(close(level(1.0, &[(1.0, 0.1), (2.0, 1.0)]), 0.45));
        // Fractional counts (a load of 2.5 threads).
        assert!(close(level(2.0, &[(2.5, 1.0), (1.5, 1.0)]), 0.5));
    }

    fn host(busy: f64, guest: f64) -> HostCpu {
        HostCpu {
            cores: 2.0,
            busy_threads: busy,
            guest_cpu: guest,
            vcpus: 1.0,
            zero_rate: None,
            interference: 0.0,
            guest_interference: 0.0,
        }
    }

    #[test]
    fn a_busy_guest_slows_the_stream_and_is_slowed_by_it() {
        // One stream (a core at most), guest idle: it runs at full pace.
        let (pace, vcpu) = host(0.0, 0.0).shares(1, 0.0, 1.0);
        assert!(close(pace, 1.0) && close(vcpu, 1.0));
        // A spinning vCPU next to it: two threads on two cores, a core each.
        let (pace, vcpu) = host(0.0, 1.0).shares(1, 1.0, 1.0);
        assert!(close(pace, 1.0) && close(vcpu, 1.0));
        // Two other busy threads too: 4 on 2 cores, half a core each.
        let (pace, vcpu) = host(2.0, 1.0).shares(1, 1.0, 1.0);
        assert!(close(pace, 0.5) && close(vcpu, 0.5));
        // A writer needing 3 % of a core keeps it; the stream and 2 busy threads split the rest.
        let (pace, vcpu) = host(2.0, 0.03).shares(1, 0.03, 1.0);
        assert!(close(pace, 1.97 / 3.0) && close(vcpu, 1.0));
    }

    #[test]
    fn a_running_guest_slows_the_stream_by_its_interference() {
        let h = HostCpu { interference: 0.2, ..host(0.0, 1.0) };
        // A spinning vCPU with a core of its own: 1 / (1 + 0.2) of the pace; its share untouched.
        let (pace, vcpu) = h.shares(1, 1.0, 1.0);
        assert!(close(pace, 1.0 / 1.2) && close(vcpu, 1.0));
        // Throttled to 40 % of its core, it interferes 40 % as much.
        assert!(close(h.shares(1, 0.4, 1.0).0, 1.0 / 1.08));
        // Next to 4 channels and the main thread it runs 1/3 of the time: 4/3 / (1 + 0.2/3).
        assert!(close(h.shares(4, 1.0, 1.0).0, 4.0 / 3.0 / (1.0 + 0.2 / 3.0)));
        // Paused (no demand), nothing.
        assert!(close(h.shares(1, 0.0, 1.0).0, 1.0));
    }

    #[test]
    fn a_slowed_vcpu_loses_work_only_where_it_has_no_slack() {
        let spin = Mechanisms { host_cpu: Some(host(0.0, 1.0)), ..Mechanisms::default() };
        let mut cpu = CpuCost::new(4096, Some(1e8), Some(1e8));
        // A spinning vCPU with a core of its own does all its work.
        assert!(close(rebalance(&spin, &mut cpu, false, 4096, 1.0), 1.0));
        // Slowed to 0.8 beside a busy stream, 0.8 of it.
        cpu.vcpu_pace = 0.8;
        assert!(close(rebalance(&spin, &mut cpu, false, 4096, 1.0), 0.8));
        // Next to 4 channels it gets a third of a core: 0.8 of a third.
        let four = Mechanisms { multifd_channels: 4, ..spin };
        assert!(close(rebalance(&four, &mut cpu, false, 4096, 1.0), 0.8 / 3.0));
        // A writer needing 3 % of a core runs a little longer and keeps its rate.
        let light = Mechanisms { host_cpu: Some(host(0.0, 0.03)), ..Mechanisms::default() };
        assert!(close(rebalance(&light, &mut cpu, false, 4096, 1.0), 1.0));
        // Throttled to 60 %, the spinning vCPU wants 0.6 of its core, and 0.6 / 0.8 still fits: the
        // throttle's share alone (the throttle is read as a smaller demand, docs/model.md 15.11).
        assert!(close(rebalance(&spin, &mut cpu, false, 4096, 0.6), 0.6));
        // Paused, the guest runs nowhere: nothing applies.
        assert!(close(rebalance(&spin, &mut cpu, true, 4096, 1.0), 1.0));
        // Without a host CPU model only the throttle counts.
        assert!(close(rebalance(&Mechanisms::default(), &mut cpu, false, 4096, 0.6), 0.6));
    }

    #[test]
    fn channels_scale_with_the_cores_they_get() {
        // 4 channels, the main thread and a spinning vCPU on 2 cores: 6 threads, 1/3 of a core
        // each: 4/3 of one stream's pace (the lab measured 1.29-1.34x), the vCPU down to 1/3.
        let (pace, vcpu) = host(0.0, 1.0).shares(4, 1.0, 1.0);
        assert!(close(pace, 4.0 / 3.0) && close(vcpu, 1.0 / 3.0));
        // Two channels with an idle guest: 3 threads, 2/3 of a core each.
        let (pace, _) = host(0.0, 0.0).shares(2, 0.0, 1.0);
        assert!(close(pace, 2.0 * 2.0 / 3.0));
        // On 16 cores they scale fully.
        let big = HostCpu { cores: 16.0, ..host(0.0, 1.0) };
        assert!(close(big.shares(4, 1.0, 1.0).0, 4.0));
    }
}
