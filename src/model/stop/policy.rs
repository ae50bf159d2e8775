//! What a stop policy is: a rule that looks at how pre-copy is going and decides whether to stop it
//! and pause the VM for the final copy. The rules themselves are one file each beside this one, and
//! `stop::ALL` lists them.

use std::fmt;

/// When a rule is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asks {
    /// Whenever what is left to send fits the measured threshold (bandwidth x downtime limit): the
    /// dirty bitmap is synced then and the rule decides on the new dirty set. Rounds are the spans
    /// between those syncs, and the scan wraps around memory instead of starting over (QEMU 7.2's
    /// migration_iteration_run and ram_save_pending). Post-copy ends the same way: once what is
    /// missing fits the threshold, it goes in one unthrottled piece.
    UnderThreshold,
    /// At the end of each pass over memory (the textbook rounds): the dirty bitmap is synced and the
    /// rule decides; the next round scans from the first page again.
    EachPass,
}

/// What a rule sees when asked: the dirty set after the sync, the round that sync closed, and the
/// migration so far.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Pages marked to send now.
    pub dirty_pages: u64,
    pub page_size: u64,
    /// Rounds completed (round 0, the bulk copy, counts as one).
    pub rounds: u32,
    pub max_rounds: u32,
    /// The round just closed: bytes it sent and how long it took (ns).
    pub round_bytes: u64,
    pub round_ns: u64,
    pub downtime_limit_ns: u64,
    /// QEMU's threshold: the bandwidth measured over the last 100 ms window x the downtime limit.
    pub measured_threshold: f64,
    /// Bytes sent so far, and the VM's memory.
    pub sent_bytes: u64,
    pub memory_bytes: u64,
}

impl Progress {
    pub fn dirty_bytes(&self) -> u64 {
        self.dirty_pages * self.page_size
    }

    /// The textbook budget: the rate the last round achieved x the downtime limit.
    pub fn round_budget(&self) -> f64 {
        let bw = if self.round_ns > 0 { self.round_bytes as f64 / (self.round_ns as f64 / 1e9) } else { f64::INFINITY };
        bw * self.downtime_limit_ns as f64 / 1e9
    }
}

/// Why pre-copy stops: the `stop_reason` of the result, and whether it counts as converged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop {
    pub reason: &'static str,
    pub converged: bool,
}

impl Stop {
    pub const CONVERGED: Stop = Stop { reason: "converged", converged: true };
}

/// A rule's answer: the threshold it compared the dirty set with (recorded on the round's timeline
/// row; `None` for a rule that has none), and whether to stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub threshold_bytes: Option<f64>,
    pub stop: Option<Stop>,
}

/// A stop rule. Implement it in a file of its own and list it in `stop::ALL`.
pub trait StopRule: Sync {
    /// The name a scenario gives it (`stop_policy = "..."`).
    fn name(&self) -> &'static str;
    fn asks(&self) -> Asks;
    /// The one decision step.
    fn decide(&self, p: &Progress) -> Decision;
    /// SimGrid's plugin sends each round as one message: the round's rate is capped steadily
    /// (`Comm::set_rate`, no 100 ms windows), and the next round starts a full latency after the
    /// last byte ("nothing is pipelined").
    fn one_message_per_round(&self) -> bool {
        false
    }
}

/// A migration's stop policy: one of the rules of `stop::ALL`.
#[derive(Clone, Copy)]
pub struct StopPolicy(pub &'static dyn StopRule);

impl StopPolicy {
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn asks(self) -> Asks {
        self.0.asks()
    }

    pub fn decide(self, p: &Progress) -> Decision {
        self.0.decide(p)
    }

    pub fn one_message_per_round(self) -> bool {
        self.0.one_message_per_round()
    }
}

impl PartialEq for StopPolicy {
    fn eq(&self, o: &Self) -> bool {
        self.name() == o.name()
    }
}

impl fmt::Debug for StopPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
