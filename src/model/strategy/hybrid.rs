//! Hybrid: pre-copy first, then post-copy for what is still dirty (QEMU's `migrate-start-postcopy`
//! during a pre-copy). The phases are pre-copy's and post-copy's; this file says when to switch:
//! after `hybrid_switch_after` rounds, once a round no longer shrinks the dirty set by 5 %, either
//! (the default), or once `hybrid_switch_after_time` has passed (`hybrid_switch`).

use super::rule::{Begin, SoFar, StrategyRule};
use crate::model::mechanism::HybridSwitch;

pub struct Hybrid;

impl StrategyRule for Hybrid {
    fn name(&self) -> &'static str {
        "hybrid"
    }

    fn begin(&self) -> Begin {
        Begin::PreCopy
    }

    /// After `hybrid_switch_after` rounds, or earlier once pre-copy stops making progress: the dirty
    /// set left by the last round is not at least 5 % smaller than the one before (a saturated working
    /// set only wobbles by a few pages from round to round).
    fn switch_after_round(&self, s: &SoFar<'_>) -> bool {
        let stalled = match s.timeline {
            [.., a, b] => b.dirty_pages_at_end * 20 > a.dirty_pages_at_end * 19,
            _ => false,
        };
        let after_n = s.rounds >= s.switch_after_rounds;
        match s.mech.hybrid_switch {
            HybridSwitch::Rounds => after_n,
            HybridSwitch::Stall => stalled,
            HybridSwitch::Either => after_n || stalled,
            HybridSwitch::Time => false,
        }
    }

    /// `hybrid_switch_after_time` has passed since the migration began, so post-copy is requested
    /// (the lab harness's `--postcopy-after-s`; QEMU switches at its next iteration).
    fn switch_due(&self, s: &SoFar<'_>) -> bool {
        s.mech.hybrid_switch_after_time.is_some_and(|t| s.elapsed_ns >= t)
    }

    fn switch_reason(&self) -> &'static str {
        "postcopy_switch"
    }
}
