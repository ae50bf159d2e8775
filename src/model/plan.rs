//! When each migration of a run may start: the admission rule of an evacuation plan.
//!
//! A migration starts at its `start` time unless its `Gate` holds it back. A gate may name other
//! migrations that must have finished first (`after`, the way mVM's executor runs a schedule) and
//! pools of limited capacity in which the migration must find a free slot (`pools`: one slot per
//! migration, held until it ends; a parallel cap per source host, per link or in all is a pool).
//! `Admission` applies the rule while the run goes: when a migration's start time comes, and when a
//! migration ends (its slots free up, its dependents may go), the migrations that wait are looked at
//! in scenario order, and each whose predecessors have all finished and whose pools all have a free
//! slot starts. A later migration may pass an earlier one that waits on another pool (list
//! scheduling with backfilling).
//!
//! This file knows nothing of policies, orders or placement (the scenario reader turns a `[plan]`
//! into gates, `input::plan`), nor of how a migration runs: the event loop (`sim`) asks it whether a
//! migration may start and tells it when one has ended.

/// A pool of slots: at most `capacity` migrations holding one of its slots run at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub name: String,
    pub capacity: u32,
}

/// What holds a migration back after its start time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gate {
    /// Migrations (by index) that must have ended first.
    pub after: Vec<usize>,
    /// Pools (by index into `Plan::pools`) in which it needs a free slot.
    pub pools: Vec<usize>,
}

impl Gate {
    pub fn is_open(&self) -> bool {
        self.after.is_empty() && self.pools.is_empty()
    }
}

/// What the migration should achieve; the simulation ignores it, the plan's report counts misses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Goal {
    /// The VM should run at its destination by this simulated time (ns since the run began).
    pub deadline_ns: Option<u64>,
    /// Its downtime should be at most this long (ns).
    pub downtime_ns: Option<u64>,
}

/// What the scenario says about the plan as a whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// A one-line description for reports (the policy, its caps and order), when a `[plan]` gave it.
    pub label: Option<String>,
    pub pools: Vec<Pool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Its start time has not come.
    Pending,
    /// Its start time has come; it waits for predecessors or slots.
    Ready,
    /// It holds its slots; its start event is scheduled.
    Admitted,
    Running,
    Ended,
}

/// The admission rule applied over one run.
pub struct Admission {
    state: Vec<State>,
    /// Slots left per pool.
    free: Vec<u32>,
    pools: Vec<Vec<usize>>,
    /// Predecessors not yet ended, per migration.
    waiting_on: Vec<usize>,
    /// Migrations that name each migration in `after`.
    dependents: Vec<Vec<usize>>,
    /// Migrations in state `Ready`, in scenario order.
    ready: std::collections::BTreeSet<usize>,
}

impl Admission {
    /// The rule over pools of these capacities and migrations with these gates (in scenario order).
    pub fn new<'g>(capacities: Vec<u32>, gates: impl Iterator<Item = &'g Gate>) -> Self {
        let gates: Vec<&Gate> = gates.collect();
        let mut dependents = vec![Vec::new(); gates.len()];
        for (i, g) in gates.iter().enumerate() {
            for &a in &g.after {
                dependents[a].push(i);
            }
        }
        Admission {
            state: vec![State::Pending; gates.len()],
            free: capacities,
            pools: gates.iter().map(|g| g.pools.clone()).collect(),
            waiting_on: gates.iter().map(|g| g.after.len()).collect(),
            dependents,
            ready: Default::default(),
        }
    }

    /// Migration `m`'s start event has come: whether it starts now (otherwise it waits, and
    /// `ended` hands it out once it may go).
    pub fn start(&mut self, m: usize) -> bool {
        match self.state[m] {
            State::Admitted => {
                self.state[m] = State::Running;
                true
            }
            State::Pending => {
                if self.take_slots(m) {
                    self.state[m] = State::Running;
                    true
                } else {
                    self.state[m] = State::Ready;
                    self.ready.insert(m);
                    false
                }
            }
            // A second start event of a migration already under way or done.
            _ => false,
        }
    }

    /// Whether migration `m` has ended (and been counted as such).
    pub fn has_ended(&self, m: usize) -> bool {
        self.state[m] == State::Ended
    }

    /// Migration `m` has ended: its slots free up and its dependents stop waiting for it. Returns the
    /// migrations that may start now, in scenario order; each already holds its slots.
    pub fn ended(&mut self, m: usize) -> Vec<usize> {
        if self.state[m] == State::Ended {
            return Vec::new();
        }
        if matches!(self.state[m], State::Running | State::Admitted) {
            for &p in &self.pools[m] {
                self.free[p] += 1;
            }
        }
        self.state[m] = State::Ended;
        self.ready.remove(&m);
        for i in 0..self.dependents[m].len() {
            let d = self.dependents[m][i];
            self.waiting_on[d] -= 1;
        }
        let mut go = Vec::new();
        let ready: Vec<usize> = self.ready.iter().copied().collect();
        for r in ready {
            if self.take_slots(r) {
                self.ready.remove(&r);
                self.state[r] = State::Admitted;
                go.push(r);
            }
        }
        go
    }

    /// Take a slot in each of `m`'s pools if its predecessors have ended and every pool has one.
    fn take_slots(&mut self, m: usize) -> bool {
        if self.waiting_on[m] > 0 || self.pools[m].iter().any(|&p| self.free[p] == 0) {
            return false;
        }
        for &p in &self.pools[m] {
            self.free[p] -= 1;
        }
        true
    }
}

/// A migration that waits for itself through `after` (a plan that can never start it), if any:
/// a depth-first search over the gates, in scenario order.
pub fn circular<'g>(gates: impl Iterator<Item = &'g Gate>) -> Option<usize> {
    let gates: Vec<&Gate> = gates.collect();
    // 0: not seen, 1: on the current path, 2: done.
    let mut mark = vec![0u8; gates.len()];
    for root in 0..gates.len() {
        if mark[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        mark[root] = 1;
        while let Some(&mut (m, ref mut next)) = stack.last_mut() {
            if let Some(&a) = gates[m].after.get(*next) {
                *next += 1;
                match mark[a] {
                    0 => {
                        mark[a] = 1;
                        stack.push((a, 0));
                    }
                    1 => return Some(a),
                    _ => {}
                }
            } else {
                mark[m] = 2;
                stack.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(pools: &[u32], gates: &[Gate]) -> Admission {
        Admission::new(pools.to_vec(), gates.iter())
    }

    fn in_pools(p: &[usize]) -> Gate {
        Gate { after: Vec::new(), pools: p.to_vec() }
    }

    #[test]
    fn a_pool_of_two_lets_two_run_and_hands_out_slots_in_order() {
        let mut a = admission(&[2], &[in_pools(&[0]), in_pools(&[0]), in_pools(&[0]), in_pools(&[0])]);
        assert_eq!((0..4).map(|m| a.start(m)).collect::<Vec<_>>(), [true, true, false, false]);
        assert_eq!(a.ended(1), vec![2]);
        assert!(a.start(2), "an admitted migration starts at its start event");
        assert!(!a.start(2), "and only once");
        assert_eq!(a.ended(0), vec![3]);
        assert_eq!(a.ended(0), Vec::<usize>::new(), "ending twice changes nothing");
        assert!(a.has_ended(0) && !a.has_ended(3));
    }

    #[test]
    fn a_later_migration_passes_one_that_waits_on_another_pool() {
        // Pools: 0 = source a (1 slot), 1 = source b (1 slot).
        let mut a = admission(&[1, 1], &[in_pools(&[0]), in_pools(&[0]), in_pools(&[1])]);
        assert!(a.start(0));
        assert!(!a.start(1));
        assert!(a.start(2), "b's pool is free although migration 1 waits");
        assert_eq!(a.ended(2), Vec::<usize>::new());
        assert_eq!(a.ended(0), vec![1]);
    }

    #[test]
    fn waits_that_go_round_in_a_circle_are_found() {
        let after = |a: &[usize]| Gate { after: a.to_vec(), pools: vec![] };
        assert_eq!(circular([after(&[1]), after(&[2]), after(&[])].iter()), None);
        assert_eq!(circular([after(&[]), after(&[2]), after(&[1])].iter()), Some(1));
        assert_eq!(circular([after(&[0])].iter()), Some(0));
    }

    #[test]
    fn after_waits_for_every_predecessor() {
        let gates = [Gate::default(), Gate::default(), Gate { after: vec![0, 1], pools: vec![] }];
        let mut a = admission(&[], &gates);
        assert!(a.start(0) && a.start(1));
        assert!(!a.start(2));
        assert_eq!(a.ended(1), Vec::<usize>::new());
        assert_eq!(a.ended(0), vec![2]);
        // A predecessor that ends before the dependent's start time comes: it starts at once.
        let mut b = admission(&[], &gates);
        assert!(b.start(0) && b.start(1));
        b.ended(0);
        b.ended(1);
        assert!(b.start(2));
    }
}
