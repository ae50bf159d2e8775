//! QEMU's auto-converge: the vCPU throttle that steps up while the guest dirties memory faster than
//! the migration sends it.

use super::AutoConverge;

/// QEMU 7.2's auto-converge (migration/ram.c: migration_bitmap_sync -> migration_trigger_throttle ->
/// mig_throttle_guest_down), evaluated at each dirty sync.
#[derive(Debug, Clone)]
pub struct Throttle {
    pub p: AutoConverge,
    /// Current throttle, percent (0 = off).
    pub pct: f64,
    last_check: u64,
    high_periods: u32,
    /// Pages newly dirtied since the last evaluation.
    dirty_pages_period: u64,
    bytes_sent_at_check: u64,
}

impl Throttle {
    pub fn new(p: AutoConverge, now: u64) -> Self {
        Throttle { p, pct: 0.0, last_check: now, high_periods: 0, dirty_pages_period: 0, bytes_sent_at_check: 0 }
    }

    /// The share of the time the throttled vCPU may run (1 - p): what `cpu::rebalance` takes.
    pub fn running_share(&self) -> f64 {
        1.0 - self.pct / 100.0
    }

    /// A dirty sync at `now` that found `newly_dirty` pages not already pending. Returns the new
    /// throttle when it changes.
    pub fn on_sync(&mut self, now: u64, newly_dirty: u64, page_size: u64, bytes_sent: u64) -> Option<f64> {
        self.dirty_pages_period += newly_dirty;
        // QEMU evaluates when "more than 1 second" has passed. Its rate-limit windows overrun 100 ms
        // by timer slack (the lab's mbps shows 100-102 ms windows), so a round of ten windows passes
        // that test there; the simulator's windows are exactly 100 ms, hence >= here.
        if now < self.last_check + 1_000_000_000 {
            return None;
        }
        let xfer = bytes_sent - self.bytes_sent_at_check;
        let dirty = self.dirty_pages_period * page_size;
        let mut changed = None;
        if dirty as f64 > xfer as f64 * self.p.trigger {
            self.high_periods += 1;
            if self.high_periods >= 2 {
                self.high_periods = 0;
                let next = if self.pct == 0.0 {
                    self.p.initial_pct
                } else if self.p.tailslow {
                    // mig_throttle_guest_down with cpu-throttle-tailslow, in QEMU's integers: the
                    // share of CPU that would have dirtied exactly the trigger share, and a step of
                    // at most the increment towards it.
                    let cpu_now = 100.0 - self.pct;
                    let threshold = (xfer as f64 * self.p.trigger).floor();
                    let cpu_ideal = (cpu_now * threshold / dirty as f64).floor();
                    self.pct + (cpu_now - cpu_ideal).min(self.p.increment_pct)
                } else {
                    self.pct + self.p.increment_pct
                };
                let next = next.min(self.p.max_pct);
                if next != self.pct {
                    self.pct = next;
                    changed = Some(next);
                }
            }
        }
        self.last_check = now;
        self.dirty_pages_period = 0;
        self.bytes_sent_at_check = bytes_sent;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ac() -> AutoConverge {
        AutoConverge { initial_pct: 20.0, increment_pct: 10.0, max_pct: 99.0, trigger: 0.5, tailslow: false }
    }

    #[test]
    fn throttle_steps_every_second_high_period_and_caps() {
        let s = 1_000_000_000u64;
        let mut t = Throttle::new(ac(), 0);
        // A sync less than 1 s after the last evaluation only accumulates.
        assert_eq!(t.on_sync(s / 2, 100, 4096, 0), None);
        let mut steps = Vec::new();
        let mut sent = 0;
        for k in 1..=20u64 {
            sent += 10_000_000;
            // Dirtied bytes (2000 pages = 8 MB) > 50 % of 10 MB sent: every period is high.
            if let Some(p) = t.on_sync(k * 2 * s, 2000, 4096, sent) {
                steps.push(p);
            }
        }
        assert_eq!(steps, vec![20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 99.0]);
    }

    #[test]
    fn tailslow_steps_towards_the_trigger_share() {
        let s = 1_000_000_000u64;
        let mut t = Throttle::new(AutoConverge { tailslow: true, ..ac() }, 0);
        // Two high periods start the throttle at the initial step, tailslow or not.
        assert_eq!(t.on_sync(2 * s, 3000, 4096, 10_000_000), None);
        assert_eq!(t.on_sync(4 * s, 3000, 4096, 20_000_000), Some(20.0));
        // 10 MB sent per period, so the trigger is 5 MB. Dirty 1250 pages = 5.12 MB: the CPU that
        // would dirty 5 MB is floor(80 x 5 / 5.12) = 78 %, a step of 2 instead of 10.
        assert_eq!(t.on_sync(6 * s, 1250, 4096, 30_000_000), None);
        assert_eq!(t.on_sync(8 * s, 1250, 4096, 40_000_000), Some(22.0));
        // Far above the trigger the step is the whole increment again: floor(78 x 5 / 12.3) = 31.
        assert_eq!(t.on_sync(10 * s, 3000, 4096, 50_000_000), None);
        assert_eq!(t.on_sync(12 * s, 3000, 4096, 60_000_000), Some(32.0));
    }

    #[test]
    fn a_low_period_does_not_reset_the_count() {
        let s = 1_000_000_000u64;
        let mut t = Throttle::new(ac(), 0);
        assert_eq!(t.on_sync(2 * s, 3000, 4096, 10_000_000), None); // high (12 MB > 5 MB)
        assert_eq!(t.on_sync(4 * s, 10, 4096, 20_000_000), None); // low
        assert_eq!(t.on_sync(6 * s, 3000, 4096, 30_000_000), Some(20.0)); // second high
    }
}
