//! The advice, assembled from a finished search: the recommendation (or, when no setting meets
//! the objectives, the closest miss) with its figures, 95 % intervals, why and how to apply it;
//! the verdict on each strategy; the Pareto front; and what the search did. It is what
//! `advice.json` holds and what the text report prints.

use super::apply::{Apply, commands};
use super::figures::Summary;
use super::objective::{Metric, Objective};
use super::rank::Judge;
use super::runner::Runner;
use super::search::{Evaluated, Search};
use super::why::{self, Facts};
use crate::model::Scenario;
use serde::Serialize;
use std::collections::BTreeMap;

/// A metric's mean, 95 % interval (Student's t over the replications; none below two) and the
/// worst replication.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub mean: Option<f64>,
    pub ci95_lo: Option<f64>,
    pub ci95_hi: Option<f64>,
    pub worst: Option<f64>,
}

/// A setting as the advice presents it.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// Its number in candidates.csv and runs.csv.
    pub candidate: usize,
    pub strategy: String,
    pub label: String,
    /// Every knob's value in words.
    pub settings: BTreeMap<&'static str, String>,
    /// The knobs set away from the scenario's values.
    pub changed: Vec<&'static str>,
    pub runs: usize,
    pub feasible: bool,
    /// "meets every objective", or what it misses and by how much.
    pub verdict: String,
    pub why: String,
    pub figures: BTreeMap<&'static str, Figure>,
    /// The `migsim run` command that reproduces its first replication.
    pub run_command: String,
}

/// What the search did.
#[derive(Debug, Clone, Serialize)]
pub struct SearchInfo {
    pub mode: &'static str,
    pub settings: usize,
    pub runs: u64,
    pub simulated: u64,
    pub resumed: usize,
    pub budget: u64,
    pub replications: u64,
    pub final_replications: u64,
    /// Candidates in the screen's sample (once each; the best third again).
    pub screened: usize,
    pub sweeps: usize,
    pub values_refined: usize,
    pub front_refined: usize,
    pub confirmed: usize,
    pub exhausted: bool,
    pub seconds: f64,
    /// advise's cap on a run's simulated time, and why.
    pub cap: Option<String>,
    pub strategies: Vec<&'static str>,
    pub excluded: Vec<&'static str>,
    pub knobs: Vec<KnobInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KnobInfo {
    pub name: &'static str,
    pub values: Vec<String>,
    /// Why only the scenario's value was tried.
    pub fixed: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Advice {
    pub scenario: String,
    pub file: String,
    pub migsim_version: &'static str,
    pub objectives: Vec<String>,
    pub minimize: &'static str,
    pub search: SearchInfo,
    pub recommendation: Option<Choice>,
    /// Why the recommendation wins.
    pub reason: Option<String>,
    /// When no setting meets the objectives: the one that misses them by the least.
    pub closest_miss: Option<Choice>,
    /// The best setting of each strategy, feasible or not.
    pub verdicts: Vec<Choice>,
    /// The Pareto front (downtime, total time, bytes, app slowdown), by total time.
    pub front: Vec<Choice>,
    /// How to apply the recommendation (or the closest miss).
    pub apply: Option<Apply>,
}

fn quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "._-/=:".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn figure(s: &Summary, m: Metric) -> Figure {
    let f = |x: f64| x.is_finite().then_some(x);
    let ci = s.ci(m);
    Figure { mean: f(s.mean(m)), ci95_lo: ci.and_then(|c| f(c.0)), ci95_hi: ci.and_then(|c| f(c.1)), worst: f(s.worst(m)) }
}

/// What the advice needs beyond the search.
pub struct Context<'a> {
    pub runner: &'a Runner,
    pub scenario: &'a Scenario,
    pub facts: &'a Facts,
    pub objectives: &'a [Objective],
    pub minimize: Metric,
}

impl Context<'_> {
    pub fn choice(&self, search: &Search, i: usize) -> Choice {
        let e: &Evaluated = &search.evals[i];
        let space = &search.space;
        let c = &e.candidate;
        // `--strategy` says which strategy runs; the strategy override would repeat it.
        let sets: Vec<String> = self
            .runner
            .all_sets(&c.overrides(space))
            .into_iter()
            .filter(|s| !s.starts_with(&format!("{}strategy=", space.prefix)))
            .collect();
        let mut cmd = vec!["migsim".to_string(), "run".into(), quote(&self.runner.file), "--strategy".into(), c.strategy.name().into()];
        for s in sets {
            cmd.push("--set".into());
            cmd.push(quote(&s));
        }
        cmd.extend(["--seed".into(), self.runner.seed(0).to_string()]);
        Choice {
            candidate: i,
            strategy: c.strategy.name().into(),
            label: c.label(space),
            settings: space.dims.iter().zip(&c.settings).map(|(d, v)| (d.knob.name(), v.words())).collect(),
            changed: c.changed(space).iter().map(|k| k.name()).collect(),
            runs: e.runs.len(),
            feasible: e.summary.feasible(self.objectives),
            verdict: why::verdict(&e.summary, self.objectives),
            why: why::strategy(space, self.facts, c, &e.summary),
            figures: Metric::ALL.iter().map(|m| (m.name(), figure(&e.summary, *m))).collect(),
            run_command: cmd.join(" "),
        }
    }

    /// The advice from a finished search.
    pub fn advice(&self, search: &Search, info: SearchInfo) -> Advice {
        let judge = Judge { objectives: self.objectives, minimize: self.minimize };
        let entries = search.entries();
        let ranking = judge.ranking(&entries);
        let rec = ranking.first().copied();
        let miss = if rec.is_none() { judge.closest_miss(&entries) } else { None };
        let reason = rec.map(|r| {
            let pair = |i: usize| (&search.evals[i].candidate, &search.evals[i].summary);
            let best = ranking.iter().copied().min_by(|&a, &b| {
                let v = |i: usize| entries[i].summary.mean(self.minimize);
                v(a).total_cmp(&v(b)).then(a.cmp(&b))
            });
            let next = ranking.get(1).copied();
            let free = judge.free();
            let won = why::recommendation(
                &search.space,
                self.minimize,
                self.objectives,
                &free,
                ranking.len(),
                pair(r),
                best.map(pair),
                next.map(pair),
            );
            format!("{won}. {}", capitalise(&why::strategy(&search.space, self.facts, pair(r).0, pair(r).1)))
        });
        // Each strategy's best by the same rules, among its own settings; the recommendation
        // stands for its strategy (the equals of the whole field are not those of one strategy).
        let mut verdicts = Vec::new();
        for st in &search.space.strategies {
            let mine: Vec<usize> = (0..entries.len()).filter(|&i| search.evals[i].candidate.strategy == *st).collect();
            let sub: Vec<_> = mine.iter().map(|&i| entries[i]).collect();
            let own = judge.ranking(&sub).first().copied().or_else(|| judge.closest_miss(&sub)).map(|p| mine[p]);
            let pick = rec.filter(|&r| search.evals[r].candidate.strategy == *st).or(own);
            verdicts.extend(pick.map(|i| self.choice(search, i)));
        }
        let front = judge.front(&entries).into_iter().map(|i| self.choice(search, i)).collect();
        let chosen = rec.or(miss);
        let apply = chosen.map(|i| {
            let m = &self.scenario.migrations[0];
            commands(&search.space, &search.evals[i].candidate, &m.params, self.facts.link, self.runner.page_size)
        });
        Advice {
            scenario: self.scenario.name.clone(),
            file: self.runner.file.clone(),
            migsim_version: env!("CARGO_PKG_VERSION"),
            objectives: self.objectives.iter().map(|o| o.describe()).collect(),
            minimize: self.minimize.name(),
            search: info,
            recommendation: rec.map(|i| self.choice(search, i)),
            reason,
            closest_miss: miss.map(|i| self.choice(search, i)),
            verdicts,
            front,
            apply,
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().collect::<String>() + c.as_str())
}
