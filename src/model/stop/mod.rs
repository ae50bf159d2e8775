//! Stop policies: when pre-copy stops sending rounds and pauses the VM for the final copy.

use crate::names::name_of;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopPolicy {
    /// QEMU's continuous check: pending < measured bandwidth x downtime limit, then sync, then stop.
    Qemu,
    /// Textbook: at the end of each full pass, stop if the dirty set fits the downtime budget.
    Threshold,
    /// Xen legacy: at most 30 rounds, 3x memory sent, fewer than 50 dirty pages.
    Xen,
    /// Stop after `max_rounds` passes.
    Rounds,
    /// SimGrid's VM live-migration plugin: one message per round, threshold = bandwidth x 30 ms.
    SimGrid,
}

impl StopPolicy {
    pub const NAMES: [(&'static str, StopPolicy); 5] = [
        ("qemu", StopPolicy::Qemu),
        ("threshold", StopPolicy::Threshold),
        ("xen", StopPolicy::Xen),
        ("rounds", StopPolicy::Rounds),
        ("simgrid", StopPolicy::SimGrid),
    ];
    pub fn name(self) -> &'static str {
        name_of(&Self::NAMES, self)
    }
}
