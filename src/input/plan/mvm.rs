//! The `mvm` policy: a network- and workload-aware schedule in the spirit of mVM (Kherbache,
//! Madelaine and Hermenier, "Scheduling Live Migration of Virtual Machines", IEEE TCC 2017; its code,
//! BtrPlace's scheduler and executor, is public). mVM
//!
//! 1. predicts each migration's duration from the VM's memory, its dirty pages and the bandwidth
//!    the migration is given (`MigrateVMTransition`: a hot/cold closed form),
//! 2. gives each migration a bandwidth and keeps the sum of the bandwidths of the migrations in
//!    flight within every link's capacity (`CNetworkView`: one cumulative constraint per link),
//! 3. picks start times and bandwidths that end the migrations early (`CMinMTTRObjective`: the sum of
//!    end times, and the end of the schedule first in its search), with a constraint solver;
//! 4. runs the schedule by dependencies, not by the clock: a migration starts once every migration
//!    planned to end at its planned start has ended (the g5k executor's `PlanMonitor`), each at the
//!    bandwidth it was given (libvirt's bandwidth cap).
//!
//! migsim keeps 1, 2 and 4 and replaces the solver of 3 by a greedy list schedule, an event-driven
//! pass over the predicted schedule: at time 0 and whenever a planned migration ends, the migrations
//! still to place are taken in the plan's order; each starts at once with the full bandwidth of its
//! route if the route has it free; with what is free if that ends it sooner than waiting for the
//! full bandwidth would (the predicted durations decide, so a dirty VM waits where an idle one
//! would not); otherwise it waits, and the links it waits for stay closed to the migrations after it
//! in that pass. Durations come from `estimate::duration`, this crate's own model.

/// One migration to place: the links of its route, with what bandwidth it would run alone.
pub struct Job {
    pub route: Vec<usize>,
    /// Its bandwidth alone (bytes/s): the route's narrowest link, or its own cap.
    pub full: f64,
}

/// Where the schedule put a migration.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// Planned start and end (seconds from the plan's start).
    pub start: f64,
    pub end: f64,
    /// Bandwidth given (bytes/s).
    pub bandwidth: f64,
    /// Migrations (by job index) planned to end when it starts: it waits for them.
    pub after: Vec<usize>,
}

/// Schedule `jobs` (in priority order) on links of `capacity` bytes/s; `predict(j, b)` is job j's
/// duration in seconds at bandwidth b.
pub fn schedule(jobs: &[Job], capacity: &[f64], predict: &dyn Fn(usize, f64) -> f64) -> Vec<Slot> {
    let mut residual = capacity.to_vec();
    let mut slots: Vec<Option<Slot>> = vec![None; jobs.len()];
    let mut waiting: Vec<usize> = (0..jobs.len()).collect();
    // Running jobs per link, and in all by planned end.
    let mut on_link: Vec<Vec<usize>> = vec![Vec::new(); capacity.len()];
    let mut running: std::collections::BTreeSet<(Key, usize)> = Default::default();
    let mut now = 0.0;
    let mut just_ended: Vec<usize> = Vec::new();
    let mut closed = vec![false; capacity.len()];
    while !waiting.is_empty() {
        let mut still = Vec::with_capacity(waiting.len());
        let mut touched: Vec<usize> = Vec::new();
        for &j in &waiting {
            let job = &jobs[j];
            if job.route.iter().any(|&l| closed[l]) {
                still.push(j);
                continue;
            }
            let free = job.route.iter().map(|&l| residual[l]).fold(f64::INFINITY, f64::min);
            let full = job.full;
            let give = if free >= full * (1.0 - 1e-9) {
                Some(full)
            } else if free > full * 1e-6 {
                // Start now with what is free, or wait for the full bandwidth: whichever ends first.
                let soonest = job
                    .route
                    .iter()
                    .filter(|&&l| residual[l] < full)
                    .map(|&l| when_free(&on_link[l], &slots, residual[l], full, capacity[l]))
                    .fold(now, f64::max);
                (now + predict(j, free) < soonest + predict(j, full) * (1.0 - 1e-9)).then_some(free)
            } else {
                None
            };
            match give {
                Some(b) => {
                    let end = now + predict(j, b);
                    for &l in &job.route {
                        residual[l] -= b;
                        on_link[l].push(j);
                    }
                    running.insert((Key(end), j));
                    slots[j] = Some(Slot { start: now, end, bandwidth: b, after: just_ended.clone() });
                }
                None => {
                    for &l in &job.route {
                        if residual[l] < full * (1.0 - 1e-9) {
                            closed[l] = true;
                            touched.push(l);
                        }
                    }
                    still.push(j);
                }
            }
        }
        for l in touched {
            closed[l] = false;
        }
        waiting = still;
        if waiting.is_empty() {
            break;
        }
        // The next planned end: free what ends then.
        let Some(&(Key(t), _)) = running.iter().next() else {
            // Nothing runs and nothing could start (a link of zero capacity): start the next one
            // anyway at its route's capacity, so that the plan still completes.
            let j = waiting.remove(0);
            let end = now + predict(j, jobs[j].full);
            slots[j] = Some(Slot { start: now, end, bandwidth: jobs[j].full, after: just_ended.clone() });
            just_ended = vec![j];
            now = end;
            continue;
        };
        now = t;
        just_ended.clear();
        while let Some(&(Key(e), j)) = running.iter().next() {
            if e > t {
                break;
            }
            running.remove(&(Key(e), j));
            let b = slots[j].as_ref().expect("a running job has a slot").bandwidth;
            for &l in &jobs[j].route {
                residual[l] = (residual[l] + b).min(capacity[l]);
                on_link[l].retain(|&x| x != j);
            }
            just_ended.push(j);
        }
    }
    slots.into_iter().map(|s| s.expect("every job is placed")).collect()
}

/// When a link with `residual` free will have `need` free, as the jobs on it end as planned.
fn when_free(on: &[usize], slots: &[Option<Slot>], residual: f64, need: f64, capacity: f64) -> f64 {
    let mut ends: Vec<(f64, f64)> = on.iter().filter_map(|&j| slots[j].as_ref().map(|s| (s.end, s.bandwidth))).collect();
    ends.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut free = residual;
    for (end, b) in ends {
        free += b;
        if free >= need.min(capacity) * (1.0 - 1e-9) {
            return end;
        }
    }
    f64::INFINITY
}

/// An f64 ordered totally (planned ends are finite).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key(f64);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(route: &[usize], full: f64) -> Job {
        Job { route: route.to_vec(), full }
    }

    #[test]
    fn disjoint_routes_run_together_and_a_shared_link_is_taken_in_turn() {
        // Links 0 and 1 of 10 each; two jobs on link 0, one on link 1; 100 bytes each.
        let jobs = [job(&[0], 10.0), job(&[0], 10.0), job(&[1], 10.0)];
        let s = schedule(&jobs, &[10.0, 10.0], &|_, b| 100.0 / b);
        assert_eq!((s[0].start, s[0].end), (0.0, 10.0));
        // Half the link now (20 s) ends no sooner than the full link after job 0 (10 + 10 s): wait.
        // It then waits for every job planned to end at 10 s (mVM's executor's rule), job 2 too.
        assert_eq!((s[1].start, s[1].end, s[1].after.clone()), (10.0, 20.0, vec![0, 2]));
        assert_eq!((s[2].start, s[2].bandwidth), (0.0, 10.0));
    }

    #[test]
    fn a_job_takes_what_is_free_when_that_ends_sooner() {
        // Link 0 of 10 shared by a long job at 6 and a short one that would get 4 now.
        let jobs = [job(&[0], 6.0), job(&[0], 10.0)];
        let s = schedule(&jobs, &[10.0], &|j, b| if j == 0 { 600.0 / b } else { 40.0 / b });
        // Job 1: 4 free now -> ends at 10; waiting for 10 free -> 100 + 4 = 104. It goes now.
        assert_eq!((s[1].start, s[1].bandwidth, s[1].end), (0.0, 4.0, 10.0));
    }

    #[test]
    fn a_waiting_job_keeps_its_link_from_later_ones() {
        // Job 0 holds 8 of link 0 (capacity 10). Job 1 (full 10) waits for it; job 2 (full 2)
        // could squeeze into the 2 free, but job 1 is first in order and waits for link 0.
        let jobs = [job(&[0], 8.0), job(&[0], 10.0), job(&[0], 2.0)];
        let s = schedule(&jobs, &[10.0], &|_, b| 80.0 / b);
        assert_eq!(s[1].start, 10.0);
        assert!(s[2].start >= 10.0, "{:?}", s[2]);
    }
}
