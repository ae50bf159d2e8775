//! Links and flows: routes between hosts, and max-min fair sharing of link bandwidth among the
//! transfers in flight. Each migration owns one flow; a flow moves one batch of bytes at a time, and
//! whenever a flow starts or finishes a batch the rates of all flows are recomputed (progressive
//! filling), so a transfer's rate changes exactly when others start or finish.

use crate::model::scenario::Link;
use std::collections::VecDeque;

pub type FlowId = usize;

/// The links (by index) on a shortest route (fewest hops) between two hosts.
pub fn route(links: &[Link], hosts: usize, from: usize, to: usize) -> Option<Vec<usize>> {
    if from == to {
        return Some(Vec::new());
    }
    let mut prev: Vec<Option<(usize, usize)>> = vec![None; hosts];
    let mut seen = vec![false; hosts];
    seen[from] = true;
    let mut q = VecDeque::from([from]);
    while let Some(h) = q.pop_front() {
        for (li, l) in links.iter().enumerate() {
            let other = if l.a == h {
                l.b
            } else if l.b == h {
                l.a
            } else {
                continue;
            };
            if !seen[other] {
                seen[other] = true;
                prev[other] = Some((h, li));
                if other == to {
                    let mut path = Vec::new();
                    let mut cur = to;
                    while let Some((p, li)) = prev[cur] {
                        path.push(li);
                        cur = p;
                    }
                    path.reverse();
                    return Some(path);
                }
                q.push_back(other);
            }
        }
    }
    None
}

#[derive(Debug, Clone)]
struct Flow {
    route: Vec<usize>,
    /// Rate cap in bytes/s (`f64::INFINITY` for none).
    cap: f64,
    remaining: f64,
    rate: f64,
    active: bool,
    /// Bumped whenever the flow's completion time changes; stale completion events are ignored.
    generation: u64,
    /// When the batch in flight completes, as last scheduled (`None`: idle).
    done_at: Option<u64>,
}

/// A completion to (re)schedule: flow, time (ns), generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    pub flow: FlowId,
    pub at: u64,
    pub generation: u64,
}

pub struct Network {
    bandwidth: Vec<f64>,
    latency: Vec<u64>,
    flows: Vec<Flow>,
    last_update: u64,
}

impl Network {
    pub fn new(links: &[Link]) -> Self {
        Network {
            bandwidth: links.iter().map(|l| l.bandwidth_bps).collect(),
            latency: links.iter().map(|l| l.latency_ns).collect(),
            flows: Vec::new(),
            last_update: 0,
        }
    }

    pub fn add_flow(&mut self, route: Vec<usize>) -> FlowId {
        self.flows.push(Flow { route, cap: f64::INFINITY, remaining: 0.0, rate: 0.0, active: false, generation: 0, done_at: None });
        self.flows.len() - 1
    }

    /// One-way latency of a flow's route.
    pub fn latency(&self, f: FlowId) -> u64 {
        self.flows[f].route.iter().map(|&l| self.latency[l]).sum()
    }

    /// The bottleneck bandwidth of a flow's route, ignoring other flows and caps.
    pub fn path_bandwidth(&self, f: FlowId) -> f64 {
        self.flows[f].route.iter().map(|&l| self.bandwidth[l]).fold(f64::INFINITY, f64::min)
    }

    pub fn is_active(&self, f: FlowId) -> bool {
        self.flows[f].active
    }

    /// When the flow's batch in flight completes, as last scheduled (`None`: the flow is idle).
    pub fn completion_at(&self, f: FlowId) -> Option<u64> {
        self.flows[f].done_at
    }

    /// The rate a flow has now, or, if idle, the rate it would get alone on its route (a good guess
    /// for sizing its next batch).
    pub fn rate_estimate(&self, f: FlowId) -> f64 {
        let fl = &self.flows[f];
        if fl.active && fl.rate > 0.0 {
            return fl.rate;
        }
        let mut r = fl.cap;
        for &l in &fl.route {
            let others = self.flows.iter().filter(|o| o.active && o.route.contains(&l)).count();
            r = r.min(self.bandwidth[l] / (others + 1) as f64);
        }
        r
    }

    fn progress(&mut self, now: u64) {
        let dt = now.saturating_sub(self.last_update) as f64 / 1e9;
        if dt > 0.0 {
            for f in self.flows.iter_mut().filter(|f| f.active) {
                f.remaining = (f.remaining - f.rate * dt).max(0.0);
            }
        }
        self.last_update = now;
    }

    /// Max-min fair rates by progressive filling; returns new completions of flows whose rate changed
    /// (and of `force`, whose work changed).
    fn reallocate(&mut self, now: u64, force: Option<FlowId>) -> Vec<Completion> {
        let n = self.flows.len();
        let old: Vec<f64> = self.flows.iter().map(|f| f.rate).collect();
        let mut rate = vec![0.0f64; n];
        let mut frozen: Vec<bool> = self.flows.iter().map(|f| !f.active).collect();
        let mut cap_left = self.bandwidth.clone();
        loop {
            let mut users = vec![0usize; cap_left.len()];
            for (i, f) in self.flows.iter().enumerate() {
                if !frozen[i] {
                    f.route.iter().for_each(|&l| users[l] += 1);
                }
            }
            if frozen.iter().all(|&x| x) {
                break;
            }
            let mut inc = f64::INFINITY;
            for (l, &u) in users.iter().enumerate() {
                if u > 0 {
                    inc = inc.min(cap_left[l] / u as f64);
                }
            }
            for (i, f) in self.flows.iter().enumerate() {
                if !frozen[i] {
                    inc = inc.min(f.cap - rate[i]);
                }
            }
            if !inc.is_finite() {
                // A flow with no links and no cap: local copy, treat as instantaneous.
                for i in 0..n {
                    if !frozen[i] {
                        rate[i] = f64::INFINITY;
                        frozen[i] = true;
                    }
                }
                break;
            }
            for (i, f) in self.flows.iter().enumerate() {
                if !frozen[i] {
                    rate[i] += inc;
                    f.route.iter().for_each(|&l| cap_left[l] -= inc);
                }
            }
            for (i, f) in self.flows.iter().enumerate() {
                if frozen[i] {
                    continue;
                }
                let saturated = f.route.iter().any(|&l| cap_left[l] <= self.bandwidth[l] * 1e-12);
                if saturated || rate[i] >= f.cap * (1.0 - 1e-12) {
                    frozen[i] = true;
                }
            }
        }
        let mut out = Vec::new();
        for i in 0..n {
            self.flows[i].rate = rate[i];
            if self.flows[i].active && (rate[i] != old[i] || force == Some(i)) {
                self.flows[i].generation += 1;
                let c = self.completion(i, now);
                self.flows[i].done_at = Some(c.at);
                out.push(c);
            }
        }
        out
    }

    fn completion(&self, i: FlowId, now: u64) -> Completion {
        let f = &self.flows[i];
        let secs = if f.rate.is_infinite() { 0.0 } else { f.remaining / f.rate };
        let at = now.saturating_add((secs * 1e9).ceil().min(u64::MAX as f64 / 2.0) as u64);
        Completion { flow: i, at, generation: f.generation }
    }

    /// Start sending `bytes` on an idle flow with rate cap `cap` (bytes/s, INFINITY for none).
    pub fn start(&mut self, f: FlowId, bytes: f64, cap: f64, now: u64) -> Vec<Completion> {
        self.progress(now);
        debug_assert!(!self.flows[f].active, "a flow sends one batch at a time");
        let fl = &mut self.flows[f];
        fl.active = true;
        fl.remaining = bytes;
        fl.cap = cap;
        self.reallocate(now, Some(f))
    }

    /// Add bytes to the batch a flow is sending (an urgent page slipped in ahead of the rest).
    pub fn extend(&mut self, f: FlowId, bytes: f64, now: u64) -> Vec<Completion> {
        self.progress(now);
        self.flows[f].remaining += bytes;
        self.reallocate(now, Some(f))
    }

    /// Handle a completion event. Returns `None` for a stale event, else the flows to reschedule
    /// (the finished flow is now idle).
    pub fn complete(&mut self, f: FlowId, generation: u64, now: u64) -> Option<Vec<Completion>> {
        if !self.flows[f].active || self.flows[f].generation != generation {
            return None;
        }
        self.progress(now);
        let fl = &mut self.flows[f];
        fl.active = false;
        fl.remaining = 0.0;
        fl.rate = 0.0;
        fl.generation += 1;
        fl.done_at = None;
        Some(self.reallocate(now, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: usize, b: usize, bw: f64) -> Link {
        Link { a, b, bandwidth_bps: bw, latency_ns: 1000 }
    }

    #[test]
    fn routes_take_fewest_hops() {
        let links = vec![link(0, 1, 1.0), link(1, 2, 1.0), link(0, 2, 1.0), link(3, 3, 1.0)];
        assert_eq!(route(&links, 4, 0, 2), Some(vec![2]));
        assert_eq!(route(&links, 4, 1, 2), Some(vec![1]));
        assert_eq!(route(&links, 4, 0, 3), None);
    }

    #[test]
    fn two_flows_share_then_one_speeds_up() {
        let mut n = Network::new(&[link(0, 1, 100.0)]);
        let a = n.add_flow(vec![0]);
        let b = n.add_flow(vec![0]);
        let c1 = n.start(a, 100.0, f64::INFINITY, 0);
        assert_eq!(c1, vec![Completion { flow: a, at: 1_000_000_000, generation: 1 }]);
        let c2 = n.start(b, 50.0, f64::INFINITY, 0);
        // Both at 50 B/s now: b finishes at 1 s, a would finish at 2 s.
        let b_done = c2.iter().find(|c| c.flow == b).unwrap();
        assert_eq!(b_done.at, 1_000_000_000);
        let resched = n.complete(b, b_done.generation, b_done.at).unwrap();
        // a has 50 B left at 100 B/s: done at 1.5 s.
        assert_eq!(resched, vec![Completion { flow: a, at: 1_500_000_000, generation: 3 }]);
        // The first completion of a is now stale.
        assert!(n.complete(a, 1, 1_000_000_000).is_none());
    }

    #[test]
    fn caps_leave_bandwidth_to_others() {
        let mut n = Network::new(&[link(0, 1, 100.0)]);
        let a = n.add_flow(vec![0]);
        let b = n.add_flow(vec![0]);
        n.start(a, 1000.0, 20.0, 0);
        let c = n.start(b, 80.0, f64::INFINITY, 0);
        let cb = c.iter().find(|c| c.flow == b).unwrap();
        assert_eq!(cb.at, 1_000_000_000); // 80 B at 80 B/s
    }
}
