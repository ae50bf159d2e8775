//! SimGrid's VM live-migration plugin (src/plugins/vm/VmLiveMigration.cpp): the textbook rule
//! (`threshold`), with each round sent as one message at a steady capped rate that waits a full
//! latency before the next round starts (../shared/peers/simgrid README).

use super::policy::{Asks, Decision, Progress, StopRule};

pub struct SimGrid;

impl StopRule for SimGrid {
    fn name(&self) -> &'static str {
        "simgrid"
    }

    fn asks(&self) -> Asks {
        Asks::EachPass
    }

    fn decide(&self, p: &Progress) -> Decision {
        super::threshold::decide(p)
    }

    fn one_message_per_round(&self) -> bool {
        true
    }
}
