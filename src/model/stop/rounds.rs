//! A fixed number of passes: stop after `max_rounds` rounds, whatever is left (the fixed-round
//! pre-copy of simple models).

use super::policy::{Asks, Decision, Progress, Stop, StopRule};

pub struct Rounds;

impl StopRule for Rounds {
    fn name(&self) -> &'static str {
        "rounds"
    }

    fn asks(&self) -> Asks {
        Asks::EachPass
    }

    fn decide(&self, p: &Progress) -> Decision {
        Decision { threshold_bytes: None, stop: (p.rounds >= p.max_rounds).then_some(Stop { reason: "max_rounds", converged: true }) }
    }
}
