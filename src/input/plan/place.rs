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
    /// Host indices, in host order.
    pub candidates: Vec<usize>,
}

/// The destination of each VM, or (the VM's index in `wants`, why it fits nowhere).
pub fn place(wants: &[Want], room: &mut Room, rule: Rule, host_name: &dyn Fn(usize) -> String) -> Result<Vec<usize>, (usize, String)> {
    let mut order: Vec<usize> = (0..wants.len()).collect();
    // Single candidates first (in listing order), then the largest first (stable).
    order.sort_by_key(|&i| (wants[i].candidates.len() > 1, std::cmp::Reverse(wants[i].memory)));
    let mut out = vec![usize::MAX; wants.len()];
    for i in order {
        let w = &wants[i];
        let fits = |h: &usize| room.free(*h).is_none_or(|f| f >= w.memory);
        let pick = match rule {
            Rule::FirstFit => w.candidates.iter().copied().find(|h| fits(h)),
            Rule::LeastLoaded => w
                .candidates
                .iter()
                .copied()
                .filter(|h| fits(h))
                .min_by_key(|&h| (std::cmp::Reverse(room.free(h).unwrap_or(u64::MAX)), room.used[h])),
        };
        match pick {
            Some(h) => {
                room.used[h] += w.memory;
                out[i] = h;
            }
            None => return Err((i, shortfall(w, room, host_name))),
        }
    }
    Ok(out)
}

fn shortfall(w: &Want, room: &Room, host_name: &dyn Fn(usize) -> String) -> String {
    let best = w.candidates.iter().copied().max_by_key(|&h| (room.free(h), std::cmp::Reverse(h)));
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
    if w.candidates.len() == 1 {
        format!("host \"{}\" has no room for VM \"{}\" ({}): {detail}", host_name(h), w.name, format_size(w.memory))
    } else {
        format!(
            "VM \"{}\" ({}) fits on none of its {} destinations: the roomiest, host \"{}\", has {detail}",
            w.name,
            format_size(w.memory),
            w.candidates.len(),
            host_name(h)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: u64 = 1 << 30;

    fn want(name: &str, gib: u64, candidates: &[usize]) -> Want {
        Want { name: name.into(), memory: gib * G, candidates: candidates.to_vec() }
    }

    fn room(caps: &[Option<u64>]) -> Room {
        Room { capacity: caps.iter().map(|c| c.map(|g| g * G)).collect(), used: vec![0; caps.len()] }
    }

    fn name(h: usize) -> String {
        format!("h{h}")
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
