//! What a strategy is: the phases a migration goes through, told by a few decisions the shared phase
//! machinery asks for (how to begin, when to switch from pre-copy to post-copy). The strategies
//! themselves are one file each beside this one, with the machinery of the phases they own, and
//! `strategy::ALL` lists them.

use crate::model::mechanism::Mechanisms;
use crate::model::result::RoundRecord;
use std::fmt;

/// How a migration begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// Setup (the first dirty-bitmap sync, dirty logging on), then pre-copy rounds.
    PreCopy,
    /// Setup, then the switch to post-copy at once: every page is fetched after the VM moved.
    PostCopy,
    /// Pause the VM and copy everything once.
    Cold,
}

/// What pre-copy has done so far, for a strategy that may switch to post-copy.
#[derive(Debug, Clone, Copy)]
pub struct SoFar<'a> {
    /// Rounds completed, and their timeline rows.
    pub rounds: u32,
    pub timeline: &'a [RoundRecord],
    /// Time since the migration began (ns).
    pub elapsed_ns: u64,
    /// `hybrid_switch_after`: rounds before the switch.
    pub switch_after_rounds: u32,
    pub mech: &'a Mechanisms,
}

/// A strategy. Implement it in a file of its own and list it in `strategy::ALL`.
pub trait StrategyRule: Sync {
    /// The name a scenario and the command line give it.
    fn name(&self) -> &'static str;
    fn begin(&self) -> Begin;
    /// Pre-copy asks after each round it closes: switch to post-copy now?
    fn switch_after_round(&self, _so_far: &SoFar<'_>) -> bool {
        false
    }
    /// Pre-copy asks before each step: is post-copy due by the clock?
    fn switch_due(&self, _so_far: &SoFar<'_>) -> bool {
        false
    }
    /// The `stop_reason` a migration that switched to post-copy reports.
    fn switch_reason(&self) -> &'static str {
        "postcopy"
    }
}

/// A migration strategy: one of the rules of `strategy::ALL`.
#[derive(Clone, Copy)]
pub struct Strategy(pub &'static dyn StrategyRule);

impl Strategy {
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn rule(self) -> &'static dyn StrategyRule {
        self.0
    }
}

impl PartialEq for Strategy {
    fn eq(&self, o: &Self) -> bool {
        self.name() == o.name()
    }
}

impl Eq for Strategy {}

impl std::hash::Hash for Strategy {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.name().hash(h)
    }
}

impl fmt::Debug for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
