//! Xen's legacy stop rule (tools/libxc/xc_domain_save.c; facts file, "Pre-copy as Xen shipped it"):
//! at the end of each pass, stop when fewer than 50 pages were dirtied, after `max_rounds` rounds (30
//! by default), or once more than three times the VM's memory has been sent.

use super::policy::{Asks, Decision, Progress, Stop, StopRule};

/// Stop when fewer than this many pages were dirtied in the last round.
const MIN_DIRTY_PAGES: u64 = 50;
/// Stop when more than this many times the VM's memory has been sent.
const MAX_FACTOR: u64 = 3;

pub struct Xen;

impl StopRule for Xen {
    fn name(&self) -> &'static str {
        "xen"
    }

    fn asks(&self) -> Asks {
        Asks::EachPass
    }

    fn decide(&self, p: &Progress) -> Decision {
        let stop = if p.dirty_pages < MIN_DIRTY_PAGES {
            Some(Stop::CONVERGED)
        } else if p.rounds >= p.max_rounds {
            Some(Stop { reason: "max_rounds", converged: false })
        } else if p.sent_bytes > MAX_FACTOR * p.memory_bytes {
            Some(Stop { reason: "max_data", converged: false })
        } else {
            None
        };
        Decision { threshold_bytes: Some((MIN_DIRTY_PAGES * p.page_size) as f64), stop }
    }
}
