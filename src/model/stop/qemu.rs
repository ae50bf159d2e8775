//! QEMU 7.2's stop rule (migration_iteration_run + ram_save_pending): whenever what is left is
//! below the measured bandwidth x `downtime_limit`, sync the dirty bitmap; if what is left then is
//! still below it (or nothing is), stop and copy. The bandwidth is measured over QEMU's 100 ms
//! windows (`transfer::Window`).

use super::policy::{Asks, Decision, Progress, Stop, StopRule};

pub struct Qemu;

impl StopRule for Qemu {
    fn name(&self) -> &'static str {
        "qemu"
    }

    fn asks(&self) -> Asks {
        Asks::UnderThreshold
    }

    fn decide(&self, p: &Progress) -> Decision {
        let left = p.dirty_bytes();
        let stop = (left == 0 || (left as f64) < p.measured_threshold).then_some(Stop::CONVERGED);
        Decision { threshold_bytes: Some(p.measured_threshold), stop }
    }
}
