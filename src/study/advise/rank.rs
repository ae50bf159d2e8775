//! Judging candidates against the objectives: the score the search climbs (how far the worst
//! replication misses, then the minimized figure), the recommendation among feasible settings,
//! the closest miss when none is feasible, and the Pareto front of downtime, total time, bytes and
//! application slowdown. It knows nothing of how the figures were obtained.
//!
//! Objectives say what is enough and the minimized figure what to improve. Settings within 3 %
//! (TIE) of the best on the minimized figure count as equal; among them, one that is clearly
//! better on a figure no objective bounds (and not worse beyond 3 % on any) wins; then the one
//! without a post-copy window, with fewer knobs changed, with the simpler strategy.

use super::figures::Summary;
use super::objective::{Metric, Objective};

/// Figures within this share of each other count as equally good: what the model can tell
/// apart, its target on total time against real QEMU (median error at most 3 %; it reaches 0.71 %,
/// with a 90th percentile of 7.9 %, docs/validation.md).
pub const TIE: f64 = 0.03;

/// Differences smaller than this (plus TIE) are not worth a choice: 0.1 ms of downtime, 10 ms of
/// total time or post-copy window, 1 MiB sent, half a point of slowdown.
fn floor(m: Metric) -> f64 {
    match m {
        Metric::Downtime => 1e-4,
        Metric::TotalTime | Metric::PostcopyWindow | Metric::FaultStall => 1e-2,
        Metric::Bytes => 1048576.0,
        Metric::AppSlowdown => 0.005,
        Metric::Throttle => 0.5,
    }
}

/// What a judged candidate brings: its summary, how many knobs it changes, its strategy's rank
/// and its key (the last tie-break, for a deterministic order).
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub summary: &'a Summary,
    pub changes: usize,
    pub strategy_rank: usize,
    pub key: &'a str,
}

pub struct Judge<'a> {
    pub objectives: &'a [Objective],
    pub minimize: Metric,
}

fn value_or_inf(x: f64) -> f64 {
    if x.is_nan() { f64::INFINITY } else { x }
}

/// `a` is within TIE (or the floor) of `b`, or better, on every metric of `ms`.
fn covers(ms: &[Metric], a: &Summary, b: &Summary) -> bool {
    ms.iter().all(|&m| {
        let (x, y) = (value_or_inf(a.mean(m)), value_or_inf(b.mean(m)));
        x == y || x <= y + y.abs() * TIE + floor(m)
    })
}

/// The first metric of `ms` on which `a` is better than `b` by more than TIE and the floor.
pub fn clearly_better(ms: &[Metric], a: &Summary, b: &Summary) -> Option<Metric> {
    ms.iter().copied().find(|&m| {
        let (x, y) = (value_or_inf(a.mean(m)), value_or_inf(b.mean(m)));
        x < y - y.abs() * TIE - floor(m)
    })
}

impl Judge<'_> {
    /// Lower is better: how far the worst replication misses the objectives, then the mean of the
    /// minimized figure.
    pub fn score(&self, s: &Summary) -> (f64, f64) {
        (s.violation(self.objectives), value_or_inf(s.mean(self.minimize)))
    }

    /// Whether `a` is better than `b`, the way the search moves: it misses the objectives by less;
    /// or it is better on the minimized figure by more than TIE; or, within TIE, it is clearly
    /// better on a free figure and not worse on any; or, failing all that, strictly better on the
    /// minimized figure.
    pub fn better(&self, a: &Summary, b: &Summary) -> bool {
        let (va, ma) = self.score(a);
        let (vb, mb) = self.score(b);
        if (va - vb).abs() > 1e-12 {
            return va < vb;
        }
        let tol = mb.abs() * TIE + 1e-12;
        if ma < mb - tol || ma > mb + tol {
            return ma < mb;
        }
        let free = self.free();
        let wins = |x: &Summary, y: &Summary| covers(&free, x, y) && clearly_better(&free, x, y).is_some();
        if wins(a, b) || wins(b, a) {
            return wins(a, b);
        }
        ma < mb * (1.0 - 1e-9) - 1e-15
    }

    /// The figures no objective bounds and not minimized: among equals on the minimized figure,
    /// being clearly better on one of them is worth a change.
    pub fn free(&self) -> Vec<Metric> {
        [Metric::Downtime, Metric::TotalTime, Metric::Bytes, Metric::AppSlowdown, Metric::PostcopyWindow]
            .into_iter()
            .filter(|m| *m != self.minimize && !self.objectives.iter().any(|o| o.metric == *m))
            .collect()
    }

    /// The order among equally good candidates: no post-copy window, fewer knobs changed, the
    /// simpler strategy, then the figures and the key.
    fn tie_break(&self, a: &Entry, b: &Entry) -> std::cmp::Ordering {
        let window = |e: &Entry| (e.summary.mean(Metric::PostcopyWindow) > 0.0) as u8;
        let figures = |e: &Entry| -> Vec<f64> {
            std::iter::once(self.minimize).chain(Metric::FRONT).map(|m| value_or_inf(e.summary.mean(m))).collect()
        };
        window(a)
            .cmp(&window(b))
            .then(a.changes.cmp(&b.changes))
            .then(a.strategy_rank.cmp(&b.strategy_rank))
            .then_with(|| {
                figures(a).iter().zip(figures(b)).map(|(x, y)| x.total_cmp(&y)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
            })
            .then_with(|| a.key.cmp(b.key))
    }

    /// The feasible entries ranked. First those within TIE of the best minimized figure: those
    /// beaten there on a free figure go last of them, the others by the tie-break. Then the rest,
    /// by figure.
    pub fn ranking(&self, entries: &[Entry]) -> Vec<usize> {
        let feasible: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].summary.feasible(self.objectives)).collect();
        let best = feasible.iter().map(|&i| value_or_inf(entries[i].summary.mean(self.minimize))).fold(f64::INFINITY, f64::min);
        let tol = best.abs() * TIE + 1e-12;
        let equal: Vec<usize> =
            feasible.iter().copied().filter(|&i| value_or_inf(entries[i].summary.mean(self.minimize)) <= best + tol).collect();
        let free = self.free();
        let beaten = |i: usize| {
            equal.iter().any(|&j| {
                j != i
                    && covers(&free, entries[j].summary, entries[i].summary)
                    && clearly_better(&free, entries[j].summary, entries[i].summary).is_some()
            })
        };
        let tier = |i: usize| {
            if !equal.contains(&i) {
                2
            } else if beaten(i) {
                1
            } else {
                0
            }
        };
        let tiers: Vec<(usize, u8)> = feasible.iter().map(|&i| (i, tier(i))).collect();
        let tier_of = |i: usize| tiers.iter().find(|t| t.0 == i).map_or(2, |t| t.1);
        let mut out = feasible.clone();
        out.sort_by(|&a, &b| {
            tier_of(a).cmp(&tier_of(b)).then_with(|| {
                if tier_of(a) < 2 {
                    self.tie_break(&entries[a], &entries[b])
                } else {
                    let (x, y) = (entries[a].summary.mean(self.minimize), entries[b].summary.mean(self.minimize));
                    value_or_inf(x).total_cmp(&value_or_inf(y)).then_with(|| self.tie_break(&entries[a], &entries[b]))
                }
            })
        });
        out
    }

    /// The entry that misses the objectives by the least (every one when none is feasible).
    pub fn closest_miss(&self, entries: &[Entry]) -> Option<usize> {
        (0..entries.len()).min_by(|&a, &b| {
            let (va, ma) = self.score(entries[a].summary);
            let (vb, mb) = self.score(entries[b].summary);
            va.total_cmp(&vb).then(ma.total_cmp(&mb)).then_with(|| self.tie_break(&entries[a], &entries[b]))
        })
    }

    /// The Pareto front on downtime, total time, bytes and application slowdown (means), among
    /// the feasible entries if any, else among those whose runs all completed, by total time.
    /// Differences the model cannot tell apart are not trade-offs: a point is off the front when
    /// another is within TIE (or the floor) of it on every figure and clearly better on one, and
    /// of points within TIE of each other only the first by the tie-break stays.
    pub fn front(&self, entries: &[Entry]) -> Vec<usize> {
        let any_feasible = entries.iter().any(|e| e.summary.feasible(self.objectives));
        let mut pool: Vec<usize> = (0..entries.len())
            .filter(|&i| if any_feasible { entries[i].summary.feasible(self.objectives) } else { entries[i].summary.completed })
            .collect();
        pool.sort_by(|&a, &b| self.tie_break(&entries[a], &entries[b]));
        let ms = Metric::FRONT;
        let mut kept: Vec<usize> = Vec::new();
        for &i in &pool {
            let s = entries[i].summary;
            let beaten =
                pool.iter().any(|&j| j != i && covers(&ms, entries[j].summary, s) && clearly_better(&ms, entries[j].summary, s).is_some());
            let twin = kept.iter().any(|&k| covers(&ms, entries[k].summary, s) && covers(&ms, s, entries[k].summary));
            if !beaten && !twin {
                kept.push(i);
            }
        }
        let total = |i: usize| value_or_inf(entries[i].summary.mean(Metric::TotalTime));
        kept.sort_by(|&a, &b| total(a).total_cmp(&total(b)).then_with(|| self.tie_break(&entries[a], &entries[b])));
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(total: f64, downtime: f64, window: f64) -> Summary {
        Summary::of(&[crate::study::advise::figures::sample(total, downtime, window)])
    }

    fn entry<'a>(s: &'a Summary, changes: usize, rank: usize, key: &'a str) -> Entry<'a> {
        Entry { summary: s, changes, strategy_rank: rank, key }
    }

    #[test]
    fn near_ties_go_to_the_safer_simpler_setting() {
        let o = vec![Objective::parse("downtime <= 50 ms").unwrap()];
        let j = Judge { objectives: &o, minimize: Metric::TotalTime };
        let pre = summary(10.05, 0.02, 0.0);
        let post = summary(10.0, 0.002, 10.0); // 0.5 % faster, but exposed for 10 s
        let tuned = summary(10.02, 0.02, 0.0); // one knob changed
        let cold = summary(9.0, 9.0, 0.0); // fastest, misses the downtime
        let es = [entry(&pre, 0, 0, "a"), entry(&post, 0, 1, "b"), entry(&tuned, 1, 0, "c"), entry(&cold, 0, 3, "d")];
        assert_eq!(j.ranking(&es), [0, 2, 1]);
        // Without a bound on downtime, a far shorter pause at the same speed is worth a change.
        let free = Judge { objectives: &[], minimize: Metric::TotalTime };
        let short = summary(10.04, 0.002, 0.0);
        assert_eq!(free.ranking(&[entry(&pre, 0, 0, "a"), entry(&short, 1, 0, "s")]), [1, 0]);
        assert_eq!(j.ranking(&[entry(&pre, 0, 0, "a"), entry(&short, 1, 0, "s")]), [0, 1], "downtime is bounded: enough is enough");
        let fast_post = summary(9.5, 0.002, 9.5); // 5 % faster: not a tie any more
        let es = [entry(&pre, 0, 0, "a"), entry(&fast_post, 0, 1, "b")];
        assert_eq!(j.ranking(&es), [1, 0]);
        assert_eq!(j.closest_miss(&[entry(&cold, 0, 3, "d")]), Some(0));
        let none = Judge { objectives: &[Objective::parse("downtime <= 1 ms").unwrap()], minimize: Metric::TotalTime };
        assert!(none.ranking(&es).is_empty());
        assert_eq!(none.closest_miss(&es), Some(1), "2 ms misses 1 ms by less than 20 ms does");
    }

    #[test]
    fn the_front_keeps_the_trade_offs_once() {
        let j = Judge { objectives: &[], minimize: Metric::TotalTime };
        let a = summary(10.0, 0.3, 0.0);
        let b = summary(12.0, 0.05, 0.0);
        let c = summary(12.5, 0.06, 0.0); // dominated by b
        let d = summary(10.0, 0.3, 0.0); // the same figures as a, more changes
        let e = summary(10.05, 0.299, 0.0); // within 3 % of a: no trade-off worth showing
        let f = summary(10.02, 0.01, 0.0); // as fast as a within 3 %, and a far shorter pause
        let es = [entry(&a, 0, 0, "a"), entry(&b, 0, 0, "b"), entry(&c, 0, 0, "c"), entry(&d, 2, 0, "d"), entry(&e, 1, 0, "e")];
        assert_eq!(j.front(&es), [0, 1]);
        let es = [entry(&a, 0, 0, "a"), entry(&b, 0, 0, "b"), entry(&f, 1, 0, "f")];
        assert_eq!(j.front(&es), [2], "f beats a and b within the tolerance and clearly on downtime");
    }
}
