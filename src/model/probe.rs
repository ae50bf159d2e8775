//! Watching the network while a run goes: the rate a few chosen links carry, and the rate of all
//! migrations together, sampled at regular instants of simulated time. Rates are piecewise constant
//! between events, so a sample is the exact rate at its instant (not an average over a window).
//!
//! The sampling period starts at `FIRST_PERIOD_NS` and doubles, dropping every other sample, whenever
//! the series grows past `MAX_SAMPLES`, so a run of any length keeps between `MAX_SAMPLES / 2` and
//! `MAX_SAMPLES` samples. Which links to watch is the caller's choice (the plan report picks the
//! links that carry the most memory); the probe only reads the network's public rates.

use crate::model::events::SimTime;
use crate::model::network::{FlowId, Network};

/// The first sampling period: 10 ms.
pub const FIRST_PERIOD_NS: u64 = 10_000_000;
/// The most samples kept.
pub const MAX_SAMPLES: usize = 1000;

/// What the probe saw: per sample instant, the rate on each watched link and in all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkLoad {
    /// The watched links, by index into the scenario's links.
    pub links: Vec<usize>,
    pub times_s: Vec<f64>,
    /// Per watched link, its rate at each instant (bits per second).
    pub rates_bps: Vec<Vec<f64>>,
    /// Every migration's rate summed, at each instant (bits per second).
    pub total_bps: Vec<f64>,
}

pub struct Probe {
    /// Per watched link, the flows whose route crosses it.
    flows_on: Vec<Vec<FlowId>>,
    flows: usize,
    period: SimTime,
    next: SimTime,
    load: LinkLoad,
}

impl Probe {
    /// Watch `links`; `routes[f]` are the links flow `f` crosses.
    pub fn new(links: Vec<usize>, routes: &[Vec<usize>]) -> Self {
        let flows_on = links.iter().map(|l| (0..routes.len()).filter(|&f| routes[f].contains(l)).collect()).collect();
        let load = LinkLoad { rates_bps: vec![Vec::new(); links.len()], links, ..LinkLoad::default() };
        Probe { flows_on, flows: routes.len(), period: FIRST_PERIOD_NS, next: 0, load }
    }

    /// Record every sample instant before `now`: a sample holds the rates after every event at or
    /// before its instant (the rates are right-continuous steps).
    pub fn observe(&mut self, now: SimTime, net: &Network) {
        while self.next < now {
            let rate = |f: FlowId| if net.is_active(f) { net.rate_estimate(f) } else { 0.0 };
            let finite = |r: f64| if r.is_finite() { r * 8.0 } else { 0.0 };
            self.load.times_s.push(self.next as f64 / 1e9);
            for (i, flows) in self.flows_on.iter().enumerate() {
                self.load.rates_bps[i].push(flows.iter().map(|&f| finite(rate(f))).sum());
            }
            self.load.total_bps.push((0..self.flows).map(|f| finite(rate(f))).sum());
            self.next += self.period;
            if self.load.times_s.len() >= MAX_SAMPLES {
                self.thin();
            }
        }
    }

    /// Keep every other sample and double the period.
    fn thin(&mut self) {
        fn every_other(v: &mut Vec<f64>) {
            let kept: Vec<f64> = v.iter().copied().step_by(2).collect();
            *v = kept;
        }
        every_other(&mut self.load.times_s);
        every_other(&mut self.load.total_bps);
        self.load.rates_bps.iter_mut().for_each(every_other);
        self.period *= 2;
        // The kept instants are multiples of the new period; the next one follows the last kept.
        self.next = self.load.times_s.last().map_or(0, |t| (t * 1e9).round() as u64) + self.period;
    }

    pub fn finish(self) -> LinkLoad {
        self.load
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scenario::Link;

    #[test]
    fn samples_are_the_rates_at_their_instants_and_thin_out_evenly() {
        let mut net = Network::new(&[Link { a: 0, b: 1, bandwidth_bps: 100.0, latency_ns: 0 }]);
        let a = net.add_flow(vec![0]);
        let b = net.add_flow(vec![0]);
        let mut p = Probe::new(vec![0], &[vec![0], vec![0]]);
        let mut seq = 0;
        net.start(a, 1e9, f64::INFINITY, 0, &mut seq);
        p.observe(15_000_000, &net);
        net.start(b, 1e9, f64::INFINITY, 15_000_000, &mut seq);
        p.observe(25_000_000, &net);
        let l = p.finish();
        assert_eq!(l.times_s, [0.0, 0.01, 0.02]);
        // The link carries 100 B/s whoever sends; a alone, then a and b.
        assert_eq!(l.rates_bps[0], [800.0; 3]);
        assert_eq!(l.total_bps, [800.0; 3]);

        let mut p = Probe::new(vec![], &[]);
        p.observe(FIRST_PERIOD_NS * (MAX_SAMPLES as u64 * 3), &net);
        let t = p.finish().times_s;
        assert!(t.len() <= MAX_SAMPLES && t.len() >= MAX_SAMPLES / 2, "{}", t.len());
        let step = t[1] - t[0];
        assert!(t.windows(2).all(|w| (w[1] - w[0] - step).abs() < 1e-9), "evenly spaced");
    }
}
