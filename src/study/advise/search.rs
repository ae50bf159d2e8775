//! The search: which candidates to run, in what order, within a budget of runs. A space small
//! enough is run whole. Beyond, a screen first runs a spread of the whole space once each and
//! gives its best third every replication (successive halving); then each strategy climbs from
//! the scenario's own settings and from the screen's best: every value of one knob is tried with
//! the others held (a batch, run in parallel), the best move is taken, knob after knob, sweep
//! after sweep; after each sweep the grid is refined between the values next to the current points
//! (halfway, as the knob reads: whole ms, power-of-two caches), and once no move is left, around
//! each point of the Pareto front. Last, the recommendation and its rivals get more replications,
//! so their 95 % intervals are worth reading.
//!
//! Every decision depends only on figures already in, and each run is a pure function of its
//! scenario and seed, so the candidates, runs and figures are the same for any number of jobs, and
//! the same when resumed (runs found in the store count against the budget as if run again).

use super::figures::{COLUMNS, Figures, Summary};
use super::knob::Knob;
use super::rank::{Entry, Judge};
use super::runner::Runner;
use super::space::{Candidate, Space};
use super::store::Store;
use crate::study::sweep::Error;
use crate::study::sweep::spec::{Fnv, splitmix};
use std::collections::HashMap;

/// The share of the search's budget the screen may take (half for one replication of its sample,
/// half for the rest of the replications of its best third).
const SCREEN_SHARE: f64 = 0.3;
/// Sweeps over every knob before the climb stops anyway.
const MAX_SWEEPS: usize = 4;
/// Rounds of refinement around the Pareto front.
const FRONT_ROUNDS: usize = 2;
/// Front points refined per round.
const FRONT_POINTS: usize = 12;
/// Runner-ups confirmed with the recommendation.
const RIVALS: usize = 3;

/// One run to do: the candidate's overrides, its strategy, the replication, and the figures the
/// store already holds for it.
type Unit = (Vec<String>, crate::model::Strategy, u64, Option<Figures>);

/// A candidate and its runs so far.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub candidate: Candidate,
    pub key: String,
    pub runs: Vec<Figures>,
    pub summary: Summary,
}

/// How to search.
pub struct Settings {
    /// The most runs (candidate x replication) in all.
    pub budget: u64,
    /// Replications of each candidate while searching, and of the finalists.
    pub reps: u64,
    pub final_reps: u64,
    pub jobs: usize,
    pub progress: bool,
}

/// What the search did, for the report.
#[derive(Debug, Clone, Default)]
pub struct Log {
    pub exhaustive: bool,
    /// Candidates in the screen's sample.
    pub screened: usize,
    pub sweeps: usize,
    pub refined: usize,
    pub front_refined: usize,
    pub confirmed: usize,
    /// The budget ran out before the search was done.
    pub exhausted: bool,
    /// It ran out before every finalist had its replications.
    pub confirm_short: bool,
    pub runs: u64,
    pub simulated: u64,
}

pub struct Search<'a> {
    pub space: Space,
    runner: &'a Runner,
    store: &'a mut Store,
    judge: Judge<'a>,
    settings: &'a Settings,
    pub evals: Vec<Evaluated>,
    index: HashMap<String, usize>,
    /// Runs allowed in the current stage.
    limit: u64,
    pub log: Log,
    /// Every run in the order asked for: the rows of runs.csv.
    pub rows: Vec<Vec<String>>,
    pool: rayon::ThreadPool,
    pb: indicatif::ProgressBar,
}

/// The header of runs.csv.
pub fn header() -> Vec<String> {
    let mut h: Vec<String> = vec!["candidate".into(), "strategy".into()];
    h.extend(Knob::ALL.iter().flat_map(|k| k.columns().iter().map(|c| c.to_string())));
    h.extend(["replication", "seed"].map(String::from));
    h.extend(COLUMNS.iter().map(|c| c.to_string()));
    h.push("sets".into());
    h
}

fn progress_bar(total: u64, show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} runs (budget) {msg}")
        .expect("a valid template")
        .progress_chars("=> ");
    pb.set_style(style);
    pb
}

impl<'a> Search<'a> {
    pub fn new(space: Space, runner: &'a Runner, store: &'a mut Store, judge: Judge<'a>, settings: &'a Settings) -> Result<Self, Error> {
        Ok(Search {
            space,
            runner,
            store,
            judge,
            settings,
            evals: Vec::new(),
            index: HashMap::new(),
            limit: settings.budget,
            log: Log::default(),
            rows: Vec::new(),
            pool: crate::study::sweep::common::pool(settings.jobs)?,
            pb: progress_bar(settings.budget, settings.progress),
        })
    }

    /// The judged entries of every candidate evaluated, in evaluation order.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        self.evals
            .iter()
            .map(|e| Entry {
                summary: &e.summary,
                changes: e.candidate.changed(&self.space).len(),
                strategy_rank: e.candidate.strategy_rank(),
                key: &e.key,
            })
            .collect()
    }

    pub fn id(&self, c: &Candidate) -> Option<usize> {
        self.index.get(&c.key(&self.space)).copied()
    }

    /// Run each candidate of `batch` up to `reps` replications (those not yet evaluated, or with
    /// fewer runs), in parallel, taking whole candidates in order while the stage's limit allows;
    /// a batch cut short means the budget ran out.
    fn evaluate(&mut self, batch: &[Candidate], reps: u64) -> Result<(), Error> {
        if self.evaluate_within(batch, reps, self.limit)? {
            self.log.exhausted = true;
        }
        Ok(())
    }

    /// `evaluate` within `limit` runs in all; true if the batch was cut short.
    fn evaluate_within(&mut self, batch: &[Candidate], reps: u64, limit: u64) -> Result<bool, Error> {
        let mut cut = false;
        let mut plan: Vec<(usize, u64)> = Vec::new();
        let mut added: Vec<usize> = Vec::new();
        for c in batch {
            if !c.valid() && !c.changed(&self.space).is_empty() {
                continue;
            }
            let key = c.key(&self.space);
            let known = self.index.get(&key).copied();
            let have = known.map_or(0, |i| self.evals[i].runs.len() as u64);
            if have >= reps || known.is_some_and(|i| added.contains(&i)) {
                continue;
            }
            if self.log.runs + plan.len() as u64 + (reps - have) > limit.min(self.limit) {
                cut = true;
                break;
            }
            let i = match known {
                Some(i) => i,
                None => {
                    self.evals.push(Evaluated { candidate: c.clone(), key: key.clone(), runs: Vec::new(), summary: Summary::of(&[]) });
                    self.index.insert(key, self.evals.len() - 1);
                    self.evals.len() - 1
                }
            };
            added.push(i);
            plan.extend((have..reps).map(|k| (i, k)));
        }
        if plan.is_empty() {
            return Ok(cut);
        }
        // Per run: the overrides, the strategy, the replication and what the store already has.
        let work: Vec<Unit> = plan
            .iter()
            .map(|&(i, k)| {
                let e = &self.evals[i];
                let cached = self.store.cache.get(&(e.key.clone(), self.runner.seed(k))).cloned();
                (e.candidate.overrides(&self.space), e.candidate.strategy, k, cached)
            })
            .collect();
        let (runner, pb) = (self.runner, &self.pb);
        let results: Vec<Result<(Figures, bool), Error>> = self.pool.install(|| {
            use rayon::prelude::*;
            // One run per task: runs differ a hundredfold in length (a hopeless pre-copy runs to
            // the cap), so rayon must not hand a thread a slice of them to run in a row.
            work.par_iter()
                .with_max_len(1)
                .map(|(sets, strategy, k, cached)| {
                    let r = match cached {
                        Some(f) => Ok((f.clone(), true)),
                        None => runner.run(sets, *strategy, *k).map(|f| (f, false)),
                    };
                    pb.inc(1);
                    r
                })
                .collect()
        });
        let mut fresh = Vec::new();
        for (&(i, k), r) in plan.iter().zip(results) {
            let (fig, cached) = r?;
            let e = &mut self.evals[i];
            let mut row = vec![i.to_string(), e.candidate.strategy.name().to_string()];
            row.extend(e.candidate.settings.iter().flat_map(|s| s.cells()));
            row.extend([k.to_string(), self.runner.seed(k).to_string()]);
            row.extend(fig.cells());
            row.push(e.key.clone());
            if !cached {
                fresh.push(row.clone());
                self.log.simulated += 1;
            }
            self.rows.push(row);
            e.runs.push(fig);
            self.log.runs += 1;
        }
        self.store.record(&fresh)?;
        for i in added {
            self.evals[i].summary = Summary::of(&self.evals[i].runs);
        }
        Ok(cut)
    }

    /// Search, then confirm: the whole space if it fits the budget, else the climb and the
    /// refinements.
    pub fn run(&mut self) -> Result<(), Error> {
        let s = self.settings;
        let bases: Vec<Candidate> = self.space.strategies.iter().map(|st| self.space.baseline(*st)).collect();
        // A fifth of the budget is kept for the finalists, but never what the baselines need.
        let needed = bases.len() as u64 * s.reps;
        let reserve = if s.final_reps > s.reps { (s.budget / 5).min(s.budget.saturating_sub(needed)) } else { 0 };
        self.limit = s.budget - reserve;
        self.pb.set_message("the scenario's settings");
        self.evaluate(&bases, s.reps)?;
        if self.space.size().saturating_mul(s.reps as u128) <= self.limit as u128 {
            self.log.exhaustive = true;
            self.pb.set_message("every setting");
            let all = self.space.all();
            self.evaluate(&all, s.reps)?;
        } else {
            let mut starts = bases;
            starts.extend(self.screen()?);
            self.climb(starts)?;
            if !self.log.exhausted {
                self.refine_front()?;
            }
        }
        self.limit = s.budget;
        self.confirm()?;
        self.pb.finish_and_clear();
        Ok(())
    }

    /// The best of `ids` by the judge's score (the first of equals).
    fn best_of(&self, ids: impl IntoIterator<Item = usize>) -> Option<usize> {
        ids.into_iter().fold(None, |best, i| match best {
            Some(b) if !self.judge.better(&self.evals[i].summary, &self.evals[b].summary) => Some(b),
            _ => Some(i),
        })
    }

    /// A first look at the whole space: a spread of candidates of each strategy (each knob's value
    /// drawn by a fixed hash, so the sample is the same on every run), one replication each, within
    /// SCREEN_SHARE of the budget; then, successive halving, the best third get every replication.
    /// The best of each strategy is a second start for the climb, so that knobs that only pay
    /// together (a higher bandwidth with a lower downtime limit) are found.
    fn screen(&mut self) -> Result<Vec<Candidate>, Error> {
        self.pb.set_message("screening a spread of settings");
        let strategies: Vec<crate::model::Strategy> =
            self.space.strategies.iter().copied().filter(|s| !self.space.searched(*s).is_empty()).collect();
        if strategies.is_empty() {
            return Ok(Vec::new());
        }
        let share = (self.limit as f64 * SCREEN_SHARE) as u64;
        let per = share / 2 / strategies.len() as u64;
        let mut sample: Vec<Candidate> = Vec::new();
        for st in &strategies {
            let knobs = self.space.searched(*st);
            for i in 0..per {
                let mut c = self.space.baseline(*st);
                for k in &knobs {
                    let mut h = Fnv::default();
                    for part in [st.name(), k.name(), &i.to_string()] {
                        h.write(part.as_bytes());
                        h.write(&[0]);
                    }
                    let values = &self.space.dim(*k).values;
                    c.set(&self.space, *k, values[(splitmix(h.0) % values.len() as u64) as usize].clone());
                }
                if c.valid() && !sample.contains(&c) {
                    sample.push(c);
                }
            }
        }
        let limit = self.log.runs + share;
        self.evaluate_within(&sample, 1, limit)?;
        let mut ids: Vec<usize> = sample.iter().filter_map(|c| self.id(c)).collect();
        ids.sort_by(|&a, &b| {
            let (x, y) = (self.judge.score(&self.evals[a].summary), self.judge.score(&self.evals[b].summary));
            x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)).then(a.cmp(&b))
        });
        let top: Vec<Candidate> = ids.iter().take(ids.len().div_ceil(3)).map(|&i| self.evals[i].candidate.clone()).collect();
        self.evaluate_within(&top, self.settings.reps, limit)?;
        self.log.screened = ids.len();
        Ok(strategies
            .iter()
            .filter_map(|st| self.best_of(top.iter().filter(|c| c.strategy == *st).filter_map(|c| self.id(c))))
            .map(|i| self.evals[i].candidate.clone())
            .collect())
    }

    /// Coordinate search from each start (each strategy's baseline and the screen's best), with
    /// the grid refined around the current points after each sweep.
    fn climb(&mut self, mut current: Vec<Candidate>) -> Result<(), Error> {
        for sweep in 0..MAX_SWEEPS {
            self.log.sweeps = sweep + 1;
            self.pb.set_message(format!("sweep {} over the knobs", sweep + 1));
            let mut moved = false;
            // One knob at a time for every point together: one batch, so that the jobs have
            // work to share; each point then takes its own best move.
            for knob in Knob::ALL {
                let points: Vec<usize> = (0..current.len()).filter(|&i| self.space.searched(current[i].strategy).contains(&knob)).collect();
                let batches: Vec<Vec<Candidate>> = points
                    .iter()
                    .map(|&i| self.space.dim(knob).values.iter().map(|v| current[i].with(&self.space, knob, v.clone())).collect())
                    .collect();
                self.evaluate(&batches.concat(), self.settings.reps)?;
                for (&i, batch) in points.iter().zip(&batches) {
                    let ids: Vec<usize> = std::iter::once(&current[i]).chain(batch).filter_map(|c| self.id(c)).collect();
                    if let Some(b) = self.best_of(ids)
                        && self.evals[b].candidate != current[i]
                    {
                        current[i] = self.evals[b].candidate.clone();
                        moved = true;
                    }
                }
                if self.log.exhausted {
                    return Ok(());
                }
            }
            // Two starts that climbed to the same point go on as one.
            let mut seen: Vec<Candidate> = Vec::new();
            current.retain(|c| {
                let new = !seen.contains(c);
                seen.push(c.clone());
                new
            });
            let mut inserted = 0;
            for c in &current {
                for knob in self.space.searched(c.strategy) {
                    let v = c.get(&self.space, knob).clone();
                    for nb in self.space.dim(knob).neighbours(&v) {
                        if let Some(m) = v.between(&nb) {
                            inserted += self.space.dim_mut(knob).insert(m) as usize;
                        }
                    }
                }
            }
            self.log.refined += inserted;
            if !moved && inserted == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Halfway values between each front point's settings and their neighbours, one knob at a
    /// time: the trade-off curve, drawn finer where it is.
    fn refine_front(&mut self) -> Result<(), Error> {
        for _ in 0..FRONT_ROUNDS {
            self.pb.set_message("refining around the Pareto front");
            let front: Vec<usize> = {
                let entries = self.entries();
                self.judge.front(&entries)
            };
            let before = self.evals.len();
            let mut batch = Vec::new();
            for id in front.into_iter().take(FRONT_POINTS) {
                let c = self.evals[id].candidate.clone();
                for knob in self.space.searched(c.strategy) {
                    let v = c.get(&self.space, knob).clone();
                    for nb in self.space.dim(knob).neighbours(&v) {
                        if let Some(m) = v.between(&nb) {
                            self.space.dim_mut(knob).insert(m.clone());
                            batch.push(c.with(&self.space, knob, m));
                        }
                    }
                }
            }
            self.evaluate(&batch, self.settings.reps)?;
            self.log.front_refined += self.evals.len() - before;
            if self.evals.len() == before || self.log.exhausted {
                break;
            }
        }
        Ok(())
    }

    /// The candidates the report names: the recommendation (or the closest miss) and its nearest
    /// rivals, and the best of each strategy.
    pub fn finalists(&self) -> Vec<usize> {
        let entries = self.entries();
        let mut out: Vec<usize> = self.judge.ranking(&entries).into_iter().take(1 + RIVALS).collect();
        if out.is_empty() {
            out.extend(self.judge.closest_miss(&entries));
        }
        for st in &self.space.strategies {
            let mine: Vec<usize> = (0..entries.len()).filter(|&i| self.evals[i].candidate.strategy == *st).collect();
            let sub: Vec<Entry> = mine.iter().map(|&i| entries[i]).collect();
            let pick = self.judge.ranking(&sub).first().copied().or_else(|| self.judge.closest_miss(&sub));
            out.extend(pick.map(|p| mine[p]));
        }
        let mut seen = Vec::new();
        out.retain(|i| {
            let new = !seen.contains(i);
            seen.push(*i);
            new
        });
        out
    }

    /// Give the finalists `final_reps` replications; repeat while that changes who they are.
    fn confirm(&mut self) -> Result<(), Error> {
        let reps = self.settings.final_reps;
        if reps <= self.settings.reps {
            return Ok(());
        }
        self.pb.set_message("confirming the finalists");
        for _ in 0..3 {
            let need: Vec<Candidate> = self
                .finalists()
                .into_iter()
                .filter(|&i| (self.evals[i].runs.len() as u64) < reps)
                .map(|i| self.evals[i].candidate.clone())
                .collect();
            if need.is_empty() {
                break;
            }
            let before = self.log.runs;
            let searching_ran_out = std::mem::take(&mut self.log.exhausted);
            self.evaluate(&need, reps)?;
            self.log.confirm_short |= self.log.exhausted;
            self.log.exhausted = searching_ran_out;
            self.log.confirmed += need.iter().filter(|c| self.id(c).is_some_and(|i| self.evals[i].runs.len() as u64 >= reps)).count();
            if self.log.runs == before {
                break;
            }
        }
        Ok(())
    }
}
