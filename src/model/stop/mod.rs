//! Stop policies: when pre-copy stops sending rounds and pauses the VM for the final copy. Each rule
//! is a file: `qemu` (QEMU 7.2's continuous check), `threshold` (the textbook rule), `xen` (Xen's
//! legacy limits), `rounds` (a fixed number of passes) and `simgrid` (SimGrid's VM plugin). What a
//! rule is and what it sees is in `policy`. A new rule is a new file plus a line in `ALL`.

pub mod policy;
pub mod qemu;
pub mod rounds;
pub mod simgrid;
pub mod threshold;
pub mod xen;

pub use policy::{Asks, Decision, Progress, Stop, StopPolicy, StopRule};

/// Every stop policy, by the name a scenario gives it.
pub const ALL: [StopPolicy; 5] = [
    StopPolicy(&qemu::Qemu),
    StopPolicy(&threshold::Threshold),
    StopPolicy(&xen::Xen),
    StopPolicy(&rounds::Rounds),
    StopPolicy(&simgrid::SimGrid),
];

/// QEMU's rule, the default.
pub const DEFAULT: StopPolicy = ALL[0];

/// The policies as (name, policy) pairs, for reading a scenario's `stop_policy`.
pub fn names() -> Vec<(&'static str, StopPolicy)> {
    ALL.iter().map(|p| (p.name(), *p)).collect()
}
