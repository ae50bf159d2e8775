//! The textbook stop rule (Clark et al.; SimGrid's plugin uses it too): at the end of each pass, stop
//! if the dirty set could be sent within `downtime_limit` at the rate the last round achieved.

use super::policy::{Asks, Decision, Progress, Stop, StopRule};

pub struct Threshold;

/// The textbook decision, shared with SimGrid's rule.
pub fn decide(p: &Progress) -> Decision {
    let budget = p.round_budget();
    Decision { threshold_bytes: Some(budget), stop: ((p.dirty_bytes() as f64) <= budget).then_some(Stop::CONVERGED) }
}

impl StopRule for Threshold {
    fn name(&self) -> &'static str {
        "threshold"
    }

    fn asks(&self) -> Asks {
        Asks::EachPass
    }

    fn decide(&self, p: &Progress) -> Decision {
        decide(p)
    }
}
