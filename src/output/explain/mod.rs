//! `migsim explain`: a run told round by round in plain sentences, for a student who has read one
//! chapter on live migration. Every sentence is built from the run's figures (`MigrationResult` and
//! its `RoundRecord`s) and the settings it ran under (`Setting`, taken from the resolved scenario):
//! what each round sent and what the guest dirtied meanwhile, what the stop rule compared, the
//! pause and the final copy, post-copy's faults, and what each mechanism did. The result is an
//! `Explanation` (sections of paragraphs and items), rendered as text or Markdown (`render`) and by
//! `output::html` as HTML.
//!
//! One file per part of the story: `setting` (what the run was given), `precopy` (the rounds, the
//! stop rule, the pause and the final copy), `postcopy` (post-copy and cold migration),
//! `mechanisms` (what the mechanisms did, and the sum), `words` (numbers as a student reads them).
//! It reads results and the scenario and never runs the model, reads files or changes anything.

mod mechanisms;
mod postcopy;
mod precopy;
mod render;
mod setting;
mod words;

pub use render::{to_markdown, to_text};
pub use setting::Setting;
pub use words::int;

use crate::model::Scenario;
use crate::model::result::{MigrationResult, RoundRecord};

/// A part of an explanation: a heading, paragraphs, then a list of items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub items: Vec<String>,
}

/// One migration told in sections.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub title: String,
    pub sections: Vec<Section>,
}

/// Rounds shown one by one before the middle ones are told together (unless every round is asked for).
pub(super) const ROUNDS_SHOWN: usize = 12;

/// Explain one migration. `all_rounds` tells every pre-copy round; otherwise a long run's middle
/// rounds are told together.
pub fn explain(m: &MigrationResult, s: &Setting, all_rounds: bool) -> Explanation {
    let mut sections = vec![setting::section(m, s)];
    let pre: Vec<&RoundRecord> = m.timeline.iter().filter(|t| t.phase.starts_with("precopy")).collect();
    if !pre.is_empty() {
        sections.push(precopy::rounds(m, s, &pre, all_rounds));
        sections.push(precopy::end_of_precopy(m, s, &pre));
    }
    for t in &m.timeline {
        match t.phase {
            "stop-and-copy" => sections.push(precopy::pause(m, s, t, &pre)),
            "cold copy" => sections.push(postcopy::cold(m, s, t)),
            p if p.starts_with("postcopy") => sections.push(postcopy::postcopy(m, s, t)),
            _ => {}
        }
    }
    let mech = mechanisms::mechanisms(m, s, &pre);
    if !mech.items.is_empty() {
        sections.push(mech);
    }
    sections.push(mechanisms::summary(m, s));
    Explanation { title: format!("{} by {}, from {} to {}", m.vm, m.strategy, m.from, m.to), sections }
}
/// Explain every migration of a run of `sc` (`r` = `model::simulate(sc)`, whose migrations come
/// strategy by strategy, each in the scenario's order), or only those of VM `vm`.
pub fn explain_run(sc: &Scenario, r: &crate::model::RunReport, vm: Option<&str>, all_rounds: bool) -> Vec<Explanation> {
    let n = sc.migrations.len().max(1);
    r.migrations
        .iter()
        .enumerate()
        .filter(|(_, m)| vm.is_none_or(|v| m.vm == v))
        .map(|(k, m)| explain(m, &Setting::of(sc, k % n), all_rounds))
        .collect()
}

/// The line above the explanations: the scenario, its seed and description.
pub fn header(r: &crate::model::RunReport) -> String {
    let d = if r.description.is_empty() { String::new() } else { format!(": {}", r.description) };
    format!("Scenario {} (seed {}){d}.", r.scenario, r.seed)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub mod tests_support;
