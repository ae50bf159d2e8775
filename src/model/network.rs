//! Links and flows: routes between hosts, and max-min fair sharing of link bandwidth among the
//! transfers in flight. Each migration owns one flow; a flow moves one batch of bytes at a time.
//!
//! Cost follows what changes, not how many flows there are (SimGrid's selective and lazy update,
//! docs/performance.md):
//! - Flows with the same route and the same rate cap always get the same max-min share, so they are
//!   grouped in a *class*: the fair-share solve works on classes, with their sizes as weights, and
//!   only over the links of the classes whose size changed and what shares a link with them.
//! - A class keeps a virtual clock: the bytes one of its flows has moved since the class began, at
//!   the class's rate. A flow's batch ends when the clock reaches the flow's target (the clock when it
//!   started plus its bytes), so a change of rate updates one clock, not every flow, and the class
//!   holds its flows in a heap by target.
//! - The completions waiting to happen are one entry per class in an indexed heap (the earliest
//!   target of each class): a flow has at most one live completion, and nothing stale piles up.
//!
//! With N flows of one class on a link, a batch that ends or starts costs O(log N).

use crate::model::events::{IndexedHeap, SimTime};
use crate::model::scenario::Link;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, VecDeque};

pub type FlowId = usize;
type ClassId = usize;

/// The links (by index) on a shortest route (fewest hops) between two hosts.
pub fn route(links: &[Link], hosts: usize, from: usize, to: usize) -> Option<Vec<usize>> {
    Routes::new(links, hosts).route(from, to)
}

/// Shortest routes (fewest hops) over a fixed set of links, with the adjacency built once.
pub struct Routes {
    /// For each host, its links as (link, other end).
    adj: Vec<Vec<(usize, usize)>>,
}

impl Routes {
    pub fn new(links: &[Link], hosts: usize) -> Self {
        let mut adj = vec![Vec::new(); hosts];
        for (li, l) in links.iter().enumerate() {
            adj[l.a].push((li, l.b));
            adj[l.b].push((li, l.a));
        }
        Routes { adj }
    }

    /// The links of a fewest-hop route from `from` to `to` (breadth first, links in the order the
    /// scenario lists them), or `None` when no chain of links joins them.
    pub fn route(&self, from: usize, to: usize) -> Option<Vec<usize>> {
        if from == to {
            return Some(Vec::new());
        }
        let hosts = self.adj.len();
        let mut prev: Vec<Option<(usize, usize)>> = vec![None; hosts];
        let mut seen = vec![false; hosts];
        seen[from] = true;
        let mut q = VecDeque::from([from]);
        while let Some(h) = q.pop_front() {
            for &(li, other) in &self.adj[h] {
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
}

/// A byte target on a class's virtual clock, ordered (targets are finite and not NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Target(f64);

impl Eq for Target {}
impl PartialOrd for Target {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Target {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0)
    }
}

#[derive(Debug, Clone)]
struct Flow {
    route: usize,
    /// Rate cap of the batch in flight (or of the last one), bytes/s (`f64::INFINITY` for none).
    cap: f64,
    active: bool,
    class: ClassId,
    /// The class's virtual clock at which the batch in flight is done.
    target: f64,
}

#[derive(Debug, Clone)]
struct Class {
    route: usize,
    cap: f64,
    /// Flows sending now, and how many there were when the shares were last solved.
    count: u32,
    solved_count: u32,
    /// Each flow's share, bytes/s.
    rate: f64,
    /// The virtual clock: bytes one flow of the class has moved from the class's start to `v_at`.
    v: f64,
    v_at: SimTime,
    /// The flows sending, by target (then by id, so that ties end in flow order).
    members: BinaryHeap<Reverse<(Target, FlowId)>>,
    /// The completion in the heap: its time and flow (kept while they do not change, so that its
    /// place among events at the same time does not move).
    scheduled: Option<(SimTime, FlowId)>,
}

pub struct Network {
    bandwidth: Vec<f64>,
    latency: Vec<u64>,
    /// Interned routes: the links of each.
    routes: Vec<Vec<usize>>,
    route_ids: HashMap<Vec<usize>, usize>,
    flows: Vec<Flow>,
    classes: Vec<Class>,
    class_ids: HashMap<(usize, u64), ClassId>,
    /// Classes on each link.
    link_classes: Vec<Vec<ClassId>>,
    /// Active flows on each link (for the rate an idle flow may expect).
    link_active: Vec<u32>,
    /// The next completion of each class with flows sending: (time, scheduling order).
    heap: IndexedHeap<(SimTime, u64)>,
    // Scratch space of the fair-share solve, kept between calls.
    changed: Vec<ClassId>,
    comp: Vec<ClassId>,
    in_comp: Vec<bool>,
    comp_links: Vec<usize>,
    link_seen: Vec<bool>,
    cap_left: Vec<f64>,
    users: Vec<u64>,
    new_rate: Vec<f64>,
    frozen: Vec<bool>,
}

impl Network {
    pub fn new(links: &[Link]) -> Self {
        let n = links.len();
        Network {
            bandwidth: links.iter().map(|l| l.bandwidth_bps).collect(),
            latency: links.iter().map(|l| l.latency_ns).collect(),
            routes: Vec::new(),
            route_ids: HashMap::new(),
            flows: Vec::new(),
            classes: Vec::new(),
            class_ids: HashMap::new(),
            link_classes: vec![Vec::new(); n],
            link_active: vec![0; n],
            heap: IndexedHeap::default(),
            changed: Vec::new(),
            comp: Vec::new(),
            in_comp: Vec::new(),
            comp_links: Vec::new(),
            link_seen: vec![false; n],
            cap_left: vec![0.0; n],
            users: vec![0; n],
            new_rate: Vec::new(),
            frozen: Vec::new(),
        }
    }

    pub fn add_flow(&mut self, route: Vec<usize>) -> FlowId {
        let next = self.routes.len();
        let r = *self.route_ids.entry(route.clone()).or_insert(next);
        if r == next {
            self.routes.push(route);
        }
        self.flows.push(Flow { route: r, cap: f64::INFINITY, active: false, class: usize::MAX, target: 0.0 });
        self.flows.len() - 1
    }

    /// One-way latency of a flow's route.
    pub fn latency(&self, f: FlowId) -> u64 {
        self.routes[self.flows[f].route].iter().map(|&l| self.latency[l]).sum()
    }

    /// The bottleneck bandwidth of a flow's route, ignoring other flows and caps.
    pub fn path_bandwidth(&self, f: FlowId) -> f64 {
        self.routes[self.flows[f].route].iter().map(|&l| self.bandwidth[l]).fold(f64::INFINITY, f64::min)
    }

    pub fn is_active(&self, f: FlowId) -> bool {
        self.flows[f].active
    }

    /// The rate a flow has now, or, if idle, the rate it would get alone on its route beside the
    /// flows sending there (a good guess for sizing its next batch).
    pub fn rate_estimate(&self, f: FlowId) -> f64 {
        let fl = &self.flows[f];
        if fl.active {
            let r = self.classes[fl.class].rate;
            if r > 0.0 {
                return r;
            }
        }
        let mut r = fl.cap;
        for &l in &self.routes[fl.route] {
            r = r.min(self.bandwidth[l] / (self.link_active[l] + 1) as f64);
        }
        r
    }

    /// When the flow's batch in flight completes, at the shares of now (`None`: the flow is idle).
    pub fn completion_at(&self, f: FlowId) -> Option<SimTime> {
        let fl = &self.flows[f];
        fl.active.then(|| self.finish_time(&self.classes[fl.class], fl.target))
    }

    /// When a flow of class `c` with `target` is done at the class's rate.
    fn finish_time(&self, c: &Class, target: f64) -> SimTime {
        let secs = if c.rate.is_infinite() { 0.0 } else { (target - c.v).max(0.0) / c.rate };
        c.v_at.saturating_add((secs * 1e9).ceil().min(u64::MAX as f64 / 2.0) as u64)
    }

    /// The next batch to complete: (time, scheduling order), to merge with the event queue.
    pub fn peek(&self) -> Option<(SimTime, u64)> {
        self.heap.peek().map(|(_, k)| *k)
    }

    /// The flow whose batch completes next, if any.
    pub fn next_flow(&self) -> Option<FlowId> {
        self.heap.peek().and_then(|(c, _)| self.classes[c].scheduled).map(|(_, f)| f)
    }

    /// Start sending `bytes` on an idle flow with rate cap `cap` (bytes/s, INFINITY for none).
    /// `seq` numbers the completions this schedules (the event queue's counter).
    pub fn start(&mut self, f: FlowId, bytes: f64, cap: f64, now: SimTime, seq: &mut u64) {
        debug_assert!(!self.flows[f].active, "a flow sends one batch at a time");
        let route = self.flows[f].route;
        let c = self.class_for(route, cap);
        let class = &mut self.classes[c];
        if class.count == 0 {
            // A fresh clock for a class that was idle: a lone flow's target is its bytes exactly.
            class.v = 0.0;
            class.v_at = now;
        } else {
            advance(class, now);
        }
        let target = class.v + bytes;
        class.count += 1;
        class.members.push(Reverse((Target(target), f)));
        let fl = &mut self.flows[f];
        fl.active = true;
        fl.cap = cap;
        fl.class = c;
        fl.target = target;
        for &l in &self.routes[route] {
            self.link_active[l] += 1;
        }
        self.changed.push(c);
        self.resolve(now, seq);
        // The started flow may be the class's earliest even when no share changed.
        self.reschedule(c, seq);
    }

    /// The batch that completes first (at `now`, the time `peek` gave) is done: its flow turns idle.
    /// The shares are solved again only at `settle` (or at the next `start`): a migration that sends
    /// its next batch at once leaves its class as it was, and nothing needs solving. Returns the flow.
    pub fn complete(&mut self, now: SimTime, seq: &mut u64) -> FlowId {
        let c = self.heap.peek().map(|(c, _)| c).expect("a completion to pop");
        let class = &mut self.classes[c];
        let Reverse((_, f)) = class.members.pop().expect("a class in the heap has members");
        advance(class, now);
        self.leave(c, f, seq);
        f
    }

    /// Flow `f`, already out of class `c`'s member heap (and its clock brought to now), turns idle.
    fn leave(&mut self, c: ClassId, f: FlowId, seq: &mut u64) {
        self.classes[c].count -= 1;
        let fl = &mut self.flows[f];
        fl.active = false;
        for &l in &self.routes[fl.route] {
            self.link_active[l] -= 1;
        }
        self.changed.push(c);
        self.reschedule(c, seq);
    }

    /// Stop flow `f`'s batch in flight at `now` (a migration cut off at `max_time`); returns the bytes
    /// it had left to send. Rare (once per migration at most), so taking it out of its class's heap
    /// by a linear pass is fine.
    pub fn abort(&mut self, f: FlowId, now: SimTime, seq: &mut u64) -> f64 {
        if !self.flows[f].active {
            return 0.0;
        }
        let c = self.flows[f].class;
        let class = &mut self.classes[c];
        advance(class, now);
        let left = (self.flows[f].target - class.v).max(0.0);
        class.members.retain(|Reverse((_, g))| *g != f);
        self.leave(c, f, seq);
        left
    }

    /// Solve the shares again if flows started or stopped since the last solve (at `now`, the time
    /// they did): the simulation calls this before it moves its clock.
    pub fn settle(&mut self, now: SimTime, seq: &mut u64) {
        if !self.changed.is_empty() {
            self.resolve(now, seq);
        }
    }

    /// The class of flows on `route` capped at `cap`, made on first use.
    fn class_for(&mut self, route: usize, cap: f64) -> ClassId {
        let key = (route, cap.to_bits());
        if let Some(&c) = self.class_ids.get(&key) {
            return c;
        }
        let c = self.classes.len();
        self.classes.push(Class {
            route,
            cap,
            count: 0,
            solved_count: 0,
            rate: 0.0,
            v: 0.0,
            v_at: 0,
            members: BinaryHeap::new(),
            scheduled: None,
        });
        self.class_ids.insert(key, c);
        for &l in &self.routes[route] {
            self.link_classes[l].push(c);
        }
        self.in_comp.push(false);
        self.new_rate.push(0.0);
        self.frozen.push(false);
        c
    }

    /// Put class `c`'s earliest completion in the heap (with a new scheduling order), or take the
    /// class out when no flow of it sends.
    fn reschedule(&mut self, c: ClassId, seq: &mut u64) {
        let class = &self.classes[c];
        let next = class.members.peek().map(|Reverse((t, f))| (self.finish_time(class, t.0), *f));
        match next {
            None => self.heap.remove(c),
            Some(_) if next == class.scheduled => return,
            Some((at, _)) => {
                self.heap.set(c, (at, *seq));
                *seq += 1;
            }
        }
        self.classes[c].scheduled = next;
    }

    /// Max-min fair shares by progressive filling, over the classes whose size changed and every
    /// class that shares a link with them, transitively (an untouched part of the network keeps its
    /// shares). A class whose share changes has its clock brought to `now` first, and its next
    /// completion moved.
    fn resolve(&mut self, now: SimTime, seq: &mut u64) {
        // The component: classes reachable from the changed ones through shared links.
        self.comp.clear();
        self.comp_links.clear();
        let mut any = false;
        while let Some(c) = self.changed.pop() {
            if self.classes[c].count != self.classes[c].solved_count {
                any = true;
            }
            if !self.in_comp[c] {
                self.in_comp[c] = true;
                self.comp.push(c);
            }
        }
        if !any {
            for &c in &self.comp {
                self.in_comp[c] = false;
            }
            return;
        }
        let mut i = 0;
        while i < self.comp.len() {
            let c = self.comp[i];
            i += 1;
            for &l in &self.routes[self.classes[c].route] {
                if self.link_seen[l] {
                    continue;
                }
                self.link_seen[l] = true;
                self.comp_links.push(l);
                for &o in &self.link_classes[l] {
                    if !self.in_comp[o] && self.classes[o].count > 0 {
                        self.in_comp[o] = true;
                        self.comp.push(o);
                    }
                }
            }
        }
        // Progressive filling over the component's classes, each weighing its number of flows.
        for &l in &self.comp_links {
            self.cap_left[l] = self.bandwidth[l];
        }
        for &c in &self.comp {
            self.new_rate[c] = 0.0;
            self.frozen[c] = self.classes[c].count == 0;
        }
        loop {
            for &l in &self.comp_links {
                self.users[l] = 0;
            }
            let mut all_frozen = true;
            for &c in &self.comp {
                if !self.frozen[c] {
                    all_frozen = false;
                    let n = u64::from(self.classes[c].count);
                    for &l in &self.routes[self.classes[c].route] {
                        self.users[l] += n;
                    }
                }
            }
            if all_frozen {
                break;
            }
            let mut inc = f64::INFINITY;
            for &l in &self.comp_links {
                if self.users[l] > 0 {
                    inc = inc.min(self.cap_left[l] / self.users[l] as f64);
                }
            }
            for &c in &self.comp {
                if !self.frozen[c] {
                    inc = inc.min(self.classes[c].cap - self.new_rate[c]);
                }
            }
            if !inc.is_finite() {
                // Flows with no links and no cap: a local copy, treated as instantaneous.
                for &c in &self.comp {
                    if !self.frozen[c] {
                        self.new_rate[c] = f64::INFINITY;
                        self.frozen[c] = true;
                    }
                }
                break;
            }
            for &c in &self.comp {
                if !self.frozen[c] {
                    self.new_rate[c] += inc;
                    let used = inc * f64::from(self.classes[c].count);
                    for &l in &self.routes[self.classes[c].route] {
                        self.cap_left[l] -= used;
                    }
                }
            }
            for &c in &self.comp {
                if self.frozen[c] {
                    continue;
                }
                let class = &self.classes[c];
                let saturated = self.routes[class.route].iter().any(|&l| self.cap_left[l] <= self.bandwidth[l] * 1e-12);
                if saturated || self.new_rate[c] >= class.cap * (1.0 - 1e-12) {
                    self.frozen[c] = true;
                }
            }
        }
        // New shares: move each changed class's clock to now at its old rate, then its completion.
        for k in 0..self.comp.len() {
            let c = self.comp[k];
            self.in_comp[c] = false;
            let class = &mut self.classes[c];
            class.solved_count = class.count;
            let rate = if class.count == 0 { 0.0 } else { self.new_rate[c] };
            if rate != class.rate {
                advance(class, now);
                class.rate = rate;
                // The same flow may end at the same time at the new share; it is a new event all
                // the same (a share that changed reschedules, as every flow's did before classes).
                class.scheduled = None;
                self.reschedule(c, seq);
            }
        }
        for &l in &self.comp_links {
            self.link_seen[l] = false;
        }
    }
}

/// Bring a class's virtual clock to `now` at its current rate.
fn advance(c: &mut Class, now: SimTime) {
    if now > c.v_at {
        if c.rate.is_finite() {
            c.v += c.rate * ((now - c.v_at) as f64 / 1e9);
        }
        c.v_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: usize, b: usize, bw: f64) -> Link {
        Link { a, b, bandwidth_bps: bw, latency_ns: 1000 }
    }

    /// Pop the next completion and settle the shares, as the simulation does: (time, flow).
    fn pop(n: &mut Network, seq: &mut u64) -> (SimTime, FlowId) {
        let (at, _) = n.peek().expect("a completion");
        let f = n.complete(at, seq);
        n.settle(at, seq);
        (at, f)
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
        let mut seq = 0;
        let a = n.add_flow(vec![0]);
        let b = n.add_flow(vec![0]);
        n.start(a, 100.0, f64::INFINITY, 0, &mut seq);
        assert_eq!(n.completion_at(a), Some(1_000_000_000));
        n.start(b, 50.0, f64::INFINITY, 0, &mut seq);
        // Both at 50 B/s now: b finishes at 1 s, a would finish at 2 s.
        assert_eq!((n.completion_at(a), n.completion_at(b)), (Some(2_000_000_000), Some(1_000_000_000)));
        assert_eq!(pop(&mut n, &mut seq), (1_000_000_000, b));
        // a has 50 B left at 100 B/s: done at 1.5 s.
        assert_eq!(n.completion_at(a), Some(1_500_000_000));
        assert_eq!(pop(&mut n, &mut seq), (1_500_000_000, a));
        assert_eq!(n.peek(), None);
        assert!(!n.is_active(a) && !n.is_active(b));
    }

    #[test]
    fn caps_leave_bandwidth_to_others() {
        let mut n = Network::new(&[link(0, 1, 100.0)]);
        let mut seq = 0;
        let a = n.add_flow(vec![0]);
        let b = n.add_flow(vec![0]);
        n.start(a, 1000.0, 20.0, 0, &mut seq);
        n.start(b, 80.0, f64::INFINITY, 0, &mut seq);
        assert_eq!(n.completion_at(b), Some(1_000_000_000)); // 80 B at 80 B/s
        assert_eq!(n.completion_at(a), Some(50_000_000_000)); // 1000 B at 20 B/s
    }

    #[test]
    fn an_idle_flow_expects_its_share_beside_the_busy_ones() {
        let mut n = Network::new(&[link(0, 1, 100.0), link(1, 2, 30.0)]);
        let mut seq = 0;
        let a = n.add_flow(vec![0]);
        let b = n.add_flow(vec![0, 1]);
        assert_eq!(n.rate_estimate(b), 30.0);
        n.start(a, 1e6, f64::INFINITY, 0, &mut seq);
        assert_eq!(n.rate_estimate(a), 100.0);
        assert_eq!(n.rate_estimate(b), 30.0_f64.min(100.0 / 2.0));
    }

    /// Brute-force max-min (progressive filling flow by flow) to check the class solve against.
    fn brute(links: &[f64], flows: &[(Vec<usize>, f64)]) -> Vec<f64> {
        let mut rate = vec![0.0; flows.len()];
        let mut frozen = vec![false; flows.len()];
        let mut left = links.to_vec();
        while frozen.iter().any(|f| !f) {
            let mut users = vec![0usize; links.len()];
            for (i, (r, _)) in flows.iter().enumerate() {
                if !frozen[i] {
                    r.iter().for_each(|&l| users[l] += 1);
                }
            }
            let mut inc = f64::INFINITY;
            for (l, &u) in users.iter().enumerate() {
                if u > 0 {
                    inc = inc.min(left[l] / u as f64);
                }
            }
            for (i, (_, cap)) in flows.iter().enumerate() {
                if !frozen[i] {
                    inc = inc.min(cap - rate[i]);
                }
            }
            for (i, (r, _)) in flows.iter().enumerate() {
                if !frozen[i] {
                    rate[i] += inc;
                    r.iter().for_each(|&l| left[l] -= inc);
                }
            }
            for (i, (r, cap)) in flows.iter().enumerate() {
                if !frozen[i] && (r.iter().any(|&l| left[l] <= links[l] * 1e-9) || rate[i] >= cap * (1.0 - 1e-9)) {
                    frozen[i] = true;
                }
            }
        }
        rate
    }

    #[test]
    fn class_shares_are_max_min_fair_on_a_two_tier_network() {
        // Hosts 0-3 under ToR 4, hosts 5-8 under ToR 9, the ToRs joined through core 10.
        let mut links = Vec::new();
        for h in 0..4 {
            links.push(link(h, 4, 100.0));
        }
        for h in 5..9 {
            links.push(link(h, 9, 100.0));
        }
        links.push(link(4, 10, 150.0));
        links.push(link(9, 10, 120.0));
        let bws: Vec<f64> = links.iter().map(|l| l.bandwidth_bps).collect();
        let routes = Routes::new(&links, 11);
        // Flows: several per host pair, some capped, crossing the core or staying in a rack.
        let pairs = [
            (0, 5, f64::INFINITY),
            (0, 5, f64::INFINITY),
            (1, 6, 10.0),
            (2, 3, f64::INFINITY),
            (2, 7, f64::INFINITY),
            (3, 8, 25.0),
            (6, 7, f64::INFINITY),
        ];
        let mut n = Network::new(&links);
        let mut seq = 0;
        let mut specs = Vec::new();
        for &(a, b, cap) in &pairs {
            let r = routes.route(a, b).unwrap();
            let f = n.add_flow(r.clone());
            n.start(f, 1e9, cap, 0, &mut seq);
            specs.push((r, cap));
        }
        let want = brute(&bws, &specs);
        for (f, w) in want.iter().enumerate() {
            let got = n.rate_estimate(f);
            assert!((got - w).abs() <= 1e-9 * w.max(1.0), "flow {f}: {got} vs {w}");
        }
        // Flows of one class (same route, same cap) share its clock and get the same share.
        assert_eq!(n.rate_estimate(0), n.rate_estimate(1));
        assert_eq!(n.classes.len(), pairs.len() - 1);
    }

    #[test]
    fn a_class_of_many_flows_finishes_them_in_target_order_one_heap_entry_at_a_time() {
        let mut n = Network::new(&[link(0, 1, 1000.0)]);
        let mut seq = 0;
        let flows: Vec<FlowId> = (0..100).map(|_| n.add_flow(vec![0])).collect();
        for (i, &f) in flows.iter().enumerate() {
            n.start(f, 10.0 * (100 - i) as f64, f64::INFINITY, 0, &mut seq);
        }
        assert_eq!(n.heap.len(), 1, "one live completion for the whole class");
        let mut order = Vec::new();
        let mut last = 0;
        while n.peek().is_some() {
            let (at, f) = pop(&mut n, &mut seq);
            assert!(at >= last);
            last = at;
            order.push(f);
        }
        assert_eq!(order, flows.iter().rev().copied().collect::<Vec<_>>());
        // The whole link carried 10 x (1 + ... + 100) = 50500 B at 1000 B/s.
        assert!((last as f64 - 50.5e9).abs() < 1e3, "{last}");
    }

    #[test]
    fn a_batch_that_ends_and_restarts_at_once_leaves_the_others_alone() {
        let mut n = Network::new(&[link(0, 1, 100.0)]);
        let mut seq = 0;
        let a = n.add_flow(vec![0]);
        let b = n.add_flow(vec![0]);
        n.start(a, 10.0, f64::INFINITY, 0, &mut seq);
        n.start(b, 1000.0, 20.0, 0, &mut seq); // another class: capped
        let b_class = n.flows[b].class;
        let b_entry = *n.heap.items.iter().find(|(k, _)| *k == b_class).map(|(_, p)| p).unwrap();
        // a's batch ends at 0.125 s (80 B/s); it sends its next one at the same instant.
        let (at, _) = n.peek().unwrap();
        assert_eq!(n.complete(at, &mut seq), a);
        n.start(a, 10.0, f64::INFINITY, at, &mut seq);
        n.settle(at, &mut seq);
        let b_now = *n.heap.items.iter().find(|(k, _)| *k == b_class).map(|(_, p)| p).unwrap();
        assert_eq!(b_now, b_entry, "b's completion neither moved nor was rescheduled");
        assert_eq!(n.rate_estimate(a), 80.0);
    }
}
