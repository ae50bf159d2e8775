//! Where a plan's VMs go. Each VM has its candidate destinations (one, for an explicit
//! destination); the rule picks among those with room for its memory (a host's `memory` less the
//! VMs on it and those placed on it so far; a host without `memory` has room for anything):
//!
//! - `least-loaded`: the candidate with the most free memory (then the least used, then the first
//!   listed): spreads the VMs.
//! - `first-fit`: the first candidate, in host order, with room: packs them (bin packing's first
//!   fit; with the VMs taken largest first, first-fit decreasing).
//!
//! VMs with a single candidate are placed first, then the others from the largest down, so that a
//! large VM is not left without room by small ones. A VM's source keeps its memory counted until
//! the migration ends, as it does on a real host (the placement is static, before any migration).
//! A VM that fits nowhere is an error naming the host that came closest and the shortfall.

use crate::units::format_size;
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    LeastLoaded,
    FirstFit,
}

impl Rule {
    pub const NAMES: [(&'static str, Rule); 2] = [("least-loaded", Rule::LeastLoaded), ("first-fit", Rule::FirstFit)];
}

/// The memory of every host: its capacity (None: unlimited) and what its VMs take.
pub struct Room {
    pub capacity: Vec<Option<u64>>,
    pub used: Vec<u64>,
}

impl Room {
    fn free(&self, h: usize) -> Option<u64> {
        self.capacity[h].map(|c| c.saturating_sub(self.used[h]))
    }
}

/// One VM to place.
pub struct Want {
    pub name: String,
    pub memory: u64,
    /// Host indices, in host order, shared by the VMs that may go to the same hosts (a drain of
    /// thousands of VMs into thousands of hosts holds one list, not one per VM).
    pub candidates: Rc<[usize]>,
    /// The VM's own host, never a destination (None: none to leave out).
    pub own: Option<usize>,
}

impl Want {
    /// The hosts the VM may go to, in host order.
    pub fn hosts(&self) -> impl Iterator<Item = usize> + '_ {
        self.candidates.iter().copied().filter(move |&h| Some(h) != self.own)
    }

    pub fn count(&self) -> usize {
        let own = self.own.is_some_and(|o| self.candidates.binary_search(&o).is_ok());
        self.candidates.len() - usize::from(own)
    }
}

/// The destination of each VM, or (the VM's index in `wants`, why it fits nowhere).
pub fn place(wants: &[Want], room: &mut Room, rule: Rule, host_name: &dyn Fn(usize) -> String) -> Result<Vec<usize>, (usize, String)> {
    let mut order: Vec<usize> = (0..wants.len()).collect();
    // Single candidates first (in listing order), then the largest first (stable).
    order.sort_by_key(|&i| (wants[i].count() > 1, Reverse(wants[i].memory)));
    let mut out = vec![usize::MAX; wants.len()];
    let mut ranked = Ranked::new(wants, room, rule);
    for i in order {
        let w = &wants[i];
        let fits = |h: &usize| room.free(*h).is_none_or(|f| f >= w.memory);
        let pick = match (rule, &ranked) {
            (Rule::FirstFit, _) => w.hosts().find(|h| fits(h)),
            (Rule::LeastLoaded, Some(r)) => r.best(w).filter(|h| fits(h)),
            (Rule::LeastLoaded, None) => w.hosts().filter(|h| fits(h)).min_by_key(|&h| least_loaded_key(room, h)),
        };
        match pick {
            Some(h) => {
                if let Some(r) = &mut ranked {
                    r.update(h, room, w.memory);
                }
                room.used[h] += w.memory;
                out[i] = h;
            }
            None => return Err((i, shortfall(w, room, host_name))),
        }
    }
    Ok(out)
}

/// Least-loaded's order: the most free memory (a host without a capacity first), then the least
/// used; ties go to the first host.
type LoadKey = (Reverse<u64>, u64);
/// Hosts in least-loaded order.
type ByLoad = BTreeSet<(LoadKey, usize)>;

fn least_loaded_key(room: &Room, h: usize) -> LoadKey {
    (Reverse(room.free(h).unwrap_or(u64::MAX)), room.used[h])
}

/// Least-loaded over shared candidate lists: each list's hosts kept ordered by `least_loaded_key`,
/// so that a drain of thousands of VMs into thousands of hosts does not scan every host per VM. The
/// first host fits if any does (it has the most room). Used when the VMs share a few lists.
struct Ranked {
    lists: Vec<(Rc<[usize]>, ByLoad)>,
}

impl Ranked {
    const MAX_LISTS: usize = 64;

    fn new(wants: &[Want], room: &Room, rule: Rule) -> Option<Self> {
        if rule != Rule::LeastLoaded {
            return None;
        }
        let mut lists: Vec<(Rc<[usize]>, ByLoad)> = Vec::new();
        for w in wants {
            if lists.iter().any(|(q, _)| Rc::ptr_eq(q, &w.candidates)) {
                continue;
            }
            if lists.len() == Self::MAX_LISTS {
                return None;
            }
            lists.push((w.candidates.clone(), w.candidates.iter().map(|&h| (least_loaded_key(room, h), h)).collect()));
        }
        Some(Ranked { lists })
    }

    /// The least-loaded host of `w`'s list, its own host left out.
    fn best(&self, w: &Want) -> Option<usize> {
        let (_, set) = self.lists.iter().find(|(q, _)| Rc::ptr_eq(q, &w.candidates))?;
        set.iter().map(|&(_, h)| h).find(|&h| Some(h) != w.own)
    }

    /// Host `h` takes `memory` more: move it in every list that holds it (before `room` changes).
    fn update(&mut self, h: usize, room: &Room, memory: u64) {
        let old = least_loaded_key(room, h);
        let new = (Reverse(room.free(h).map_or(u64::MAX, |f| f.saturating_sub(memory))), room.used[h] + memory);
        for (list, set) in &mut self.lists {
            if list.binary_search(&h).is_ok() {
                set.remove(&(old, h));
                set.insert((new, h));
            }
        }
    }
}

fn shortfall(w: &Want, room: &Room, host_name: &dyn Fn(usize) -> String) -> String {
    let best = w.hosts().max_by_key(|&h| (room.free(h), Reverse(h)));
    let Some(h) = best else {
        return format!("VM \"{}\" has no destination to go to", w.name);
    };
    let free = room.free(h).unwrap_or(0);
    let cap = room.capacity[h].unwrap_or(0);
    let detail = format!(
        "{} free of {} ({} taken), {} short",
        format_size(free),
        format_size(cap),
        format_size(room.used[h]),
        format_size(w.memory - free)
    );
    if w.count() == 1 {
        format!("host \"{}\" has no room for VM \"{}\" ({}): {detail}", host_name(h), w.name, format_size(w.memory))
    } else {
        format!(
            "VM \"{}\" ({}) fits on none of its {} destinations: the roomiest, host \"{}\", has {detail}",
            w.name,
            format_size(w.memory),
            w.count(),
            host_name(h)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: u64 = 1 << 30;

    fn want(name: &str, gib: u64, candidates: &[usize]) -> Want {
        Want { name: name.into(), memory: gib * G, candidates: candidates.into(), own: None }
    }

    fn room(caps: &[Option<u64>]) -> Room {
        Room { capacity: caps.iter().map(|c| c.map(|g| g * G)).collect(), used: vec![0; caps.len()] }
    }

    fn name(h: usize) -> String {
        format!("h{h}")
    }

    /// Least-loaded by a scan of every candidate, as the ranked lists must choose.
    fn least_loaded_by_scan(wants: &[Want], room: &mut Room) -> Vec<usize> {
        let mut order: Vec<usize> = (0..wants.len()).collect();
        order.sort_by_key(|&i| (wants[i].count() > 1, Reverse(wants[i].memory)));
        let mut out = vec![usize::MAX; wants.len()];
        for i in order {
            let w = &wants[i];
            let fits = |h: &usize| room.free(*h).is_none_or(|f| f >= w.memory);
            let h = w.hosts().filter(|h| fits(h)).min_by_key(|&h| least_loaded_key(room, h)).expect("room");
            room.used[h] += w.memory;
            out[i] = h;
        }
        out
    }

    #[test]
    fn ranked_least_loaded_chooses_as_a_scan_does() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for _ in 0..20 {
            let hosts = 40;
            let caps: Vec<Option<u64>> =
                (0..hosts).map(|_| if rng.random_bool(0.1) { None } else { Some(rng.random_range(8..64)) }).collect();
            // Two shared lists (even and all hosts), VMs on hosts of their own, sizes 1-6 GiB.
            let even: Rc<[usize]> = (0..hosts).step_by(2).collect();
            let all: Rc<[usize]> = (0..hosts).collect();
            let wants: Vec<Want> = (0..60)
                .map(|i| Want {
                    name: format!("v{i}"),
                    memory: rng.random_range(1..7) * G,
                    candidates: if rng.random_bool(0.5) { even.clone() } else { all.clone() },
                    own: Some(rng.random_range(0..hosts)),
                })
                .collect();
            let mut used = room(&caps);
            for (h, u) in used.used.iter_mut().enumerate() {
                *u = (h as u64 % 3) * G;
            }
            let mut a = Room { capacity: used.capacity.clone(), used: used.used.clone() };
            let got = place(&wants, &mut a, Rule::LeastLoaded, &name);
            let want = least_loaded_by_scan(&wants, &mut used);
            assert_eq!(got.unwrap(), want);
            assert_eq!(a.used, used.used);
        }
    }

    #[test]
    fn least_loaded_spreads_and_first_fit_packs_within_capacity() {
        let wants = [want("a", 4, &[0, 1]), want("b", 4, &[0, 1]), want("c", 4, &[0, 1])];
        let mut r = room(&[Some(16), Some(16)]);
        assert_eq!(place(&wants, &mut r, Rule::LeastLoaded, &name).unwrap(), [0, 1, 0]);
        let mut r = room(&[Some(16), Some(16)]);
        assert_eq!(place(&wants, &mut r, Rule::FirstFit, &name).unwrap(), [0, 0, 0]);
        assert_eq!(r.used, [12 * G, 0]);
        // First fit fills host 0 (16 GiB) with four 4 GiB VMs, the fifth goes to host 1.
        let five: Vec<Want> = (0..5).map(|i| want(&format!("v{i}"), 4, &[0, 1])).collect();
        let mut r = room(&[Some(16), Some(16)]);
        assert_eq!(place(&five, &mut r, Rule::FirstFit, &name).unwrap(), [0, 0, 0, 0, 1]);
    }

    #[test]
    fn the_largest_go_first_and_a_vm_that_fits_nowhere_names_the_host_and_the_shortfall() {
        // Smallest listed first: without largest-first, 3 + 3 would leave no room for 8 anywhere.
        let wants = [want("s1", 3, &[0, 1]), want("s2", 3, &[0, 1]), want("big", 8, &[0, 1])];
        let mut r = room(&[Some(10), Some(10)]);
        assert_eq!(place(&wants, &mut r, Rule::FirstFit, &name).unwrap(), [1, 1, 0]);
        let mut r = room(&[Some(6), Some(7)]);
        let (i, msg) = place(&[want("big", 8, &[0, 1])], &mut r, Rule::LeastLoaded, &name).unwrap_err();
        assert_eq!(i, 0);
        assert!(msg.contains("host \"h1\"") && msg.contains("7 GiB free of 7 GiB") && msg.contains("1 GiB short"), "{msg}");
        let mut r = room(&[Some(6)]);
        r.used[0] = 2 * G;
        let (_, msg) = place(&[want("db", 8, &[0])], &mut r, Rule::FirstFit, &name).unwrap_err();
        assert_eq!(msg, "host \"h0\" has no room for VM \"db\" (8 GiB): 4 GiB free of 6 GiB (2 GiB taken), 4 GiB short");
        // Unlimited hosts take anything.
        let mut r = room(&[None]);
        assert_eq!(place(&[want("x", 1 << 20, &[0])], &mut r, Rule::FirstFit, &name).unwrap(), [0]);
    }
}
