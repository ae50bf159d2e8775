//! A guest while it migrates: its memory, its workload and random stream, its own clock (writes are
//! applied lazily, up to the moment something looks), whether it runs (paused for the stop-and-copy),
//! and how much auto-converge lets it run.

use crate::model::events::SimTime;
use crate::model::memory::{Layouts, Memory};
use crate::model::scenario::VmSpec;
use crate::model::workload::{SimRng, Workload};
use rand::SeedableRng;

pub struct Vm {
    pub mem: Memory,
    pub workload: Workload,
    pub rng: SimRng,
    pub clock: SimTime,
    pub paused: bool,
    /// Share of time the vCPU runs (1 - the auto-converge throttle).
    pub cpu_share: f64,
    /// Integrals over running time (ns): the share of the application's writes not issued, and
    /// the throttle.
    pub lost_ns: f64,
    pub throttle_ns: f64,
    /// The guest's writes change nothing a send reads (every page it may write is already non-zero,
    /// and no XBZRLE or Xen-legacy skip looks at them): they may wait for the next sync
    /// (`advance_for_send`). Set when the migration starts.
    pub defer_writes: bool,
}

impl Vm {
    /// The guest of `spec` at time 0, with its random stream seeded by `seed`; its zero-page layout
    /// from `layouts` (shared with the VMs that have the same).
    pub fn new(spec: &VmSpec, seed: u64, layouts: &mut Layouts) -> Self {
        let pages = spec.pages() as usize;
        let ws = spec.workload.working_set;
        let mut mem = layouts.memory(pages, spec.page_size, &spec.zero_pages, ws.span());
        if let Some(u) = &spec.untouched_profile {
            mem.mark_untouched(u);
        }
        Vm {
            mem,
            workload: Workload::new(&spec.workload),
            rng: SimRng::seed_from_u64(seed),
            clock: 0,
            paused: false,
            cpu_share: 1.0,
            lost_ns: 0.0,
            throttle_ns: 0.0,
            defer_writes: false,
        }
    }

    /// Bring the guest up to `now` before pages are sent. A guest whose writes may wait
    /// (`defer_writes`, running unthrottled without a dirty limit) is left where it is: its writes
    /// matter only to the dirty log, which only a sync reads (`Ctx::sync` advances first). One span
    /// drawn at the sync has the same law as the spans between sends drawn one by one (the union of
    /// the pages written is what counts), and costs one draw instead of one per batch.
    pub fn advance_for_send(&mut self, now: SimTime) {
        if self.defer_writes && self.cpu_share == 1.0 && !self.workload.dirty_limit_pps.is_finite() {
            return;
        }
        self.advance(now);
    }

    /// Apply the guest's writes up to `now` (none while paused).
    pub fn advance(&mut self, now: SimTime) {
        if now > self.clock {
            if !self.paused {
                if self.cpu_share < 1.0 || self.workload.dirty_limit_pps.is_finite() {
                    let dt = (now - self.clock) as f64;
                    self.lost_ns += dt * (1.0 - self.workload.achieved_share(self.clock, self.cpu_share));
                    self.throttle_ns += dt * (1.0 - self.cpu_share);
                }
                self.workload.advance(self.clock, now, self.cpu_share, &mut self.rng, &mut self.mem);
            }
            self.clock = now;
        }
    }
}
