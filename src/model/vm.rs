//! A guest while it migrates: its memory, its workload and random stream, its own clock (writes are
//! applied lazily, up to the moment something looks), whether it runs (paused for the stop-and-copy),
//! and how much auto-converge lets it run.

use crate::model::events::SimTime;
use crate::model::memory::{Memory, ZeroPages};
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
}

impl Vm {
    /// The guest of `spec` at time 0, with its random stream seeded by `seed`.
    pub fn new(spec: &VmSpec, seed: u64) -> Self {
        let pages = spec.pages() as usize;
        let ws = spec.workload.working_set;
        Vm {
            mem: match &spec.zero_pages {
                ZeroPages::Profile(p) => Memory::with_zero_profile(pages, spec.page_size, p, ws.span()),
                ZeroPages::Share { fraction, layout } => Memory::new(pages, spec.page_size, *fraction, *layout, ws.span()),
            },
            workload: Workload::new(&spec.workload),
            rng: SimRng::seed_from_u64(seed),
            clock: 0,
            paused: false,
            cpu_share: 1.0,
            lost_ns: 0.0,
            throttle_ns: 0.0,
        }
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
