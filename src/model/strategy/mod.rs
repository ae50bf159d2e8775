//! The migration strategies: which phases a migration goes through. Each is a file with the
//! machinery of the phases it owns: `precopy` (rounds while the VM runs, then the stop-and-copy),
//! `postcopy` (the VM moves first, its pages follow by push and by fault), `hybrid` (pre-copy, then
//! post-copy: when to switch) and `cold` (pause, copy once). What a strategy is and what it decides
//! is in `rule`. A new strategy is a new file plus a line in `ALL`.
//!
//! This file starts a migration and hands each event to the phase it is in. A strategy acts only
//! through its migration's `Ctx` (its own state, its VM, the network, the event queue): it never
//! reaches into another migration or into the event loop.

pub mod cold;
pub mod hybrid;
pub mod postcopy;
pub mod precopy;
pub mod rule;

pub use rule::{Begin, SoFar, Strategy, StrategyRule};

use crate::model::bitmap::Bitmap;
use crate::model::events::SimTime;
use crate::model::mechanism::{RateLimit, Throttle};
use crate::model::memory::free_pages;
use crate::model::migration::{Ctx, Ev, InFlight, Stage};
use crate::model::scenario::OnMaxTime;

pub const PRECOPY: Strategy = Strategy(&precopy::PreCopy);
pub const POSTCOPY: Strategy = Strategy(&postcopy::PostCopy);
pub const HYBRID: Strategy = Strategy(&hybrid::Hybrid);
pub const COLD: Strategy = Strategy(&cold::Cold);

/// Every strategy, in the order `--strategy all` runs them.
pub const ALL: [Strategy; 4] = [PRECOPY, POSTCOPY, HYBRID, COLD];

/// The strategy a scenario or the command line names.
pub fn by_name(name: &str) -> Option<Strategy> {
    ALL.into_iter().find(|s| s.name() == name)
}

/// The names of every strategy, for messages and help.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|s| s.name()).collect()
}

/// The migration starts (the migrate command): the dirty limit and auto-converge arm, free pages are
/// left out, and the strategy's first phase begins.
pub fn start(c: &mut Ctx<'_>, now: SimTime) {
    c.vm.advance(now);
    let pages = c.vm.mem.pages();
    let spec = c.spec;
    // Free pages (ballooned or reported free) are never sent (Hines & Gopalan's dynamic
    // self-ballooning; facts file, "Post-copy"). They hold stale data, not zeros (`memory::free_pages`).
    let free = (spec.free_fraction > 0.0).then(|| free_pages(&c.vm.mem.nonzero, spec.free_fraction, spec.workload.working_set.span()));
    // Whatever phase the migration is in at max_time ends then (`deadline`).
    c.q.schedule(now.saturating_add(c.mig.p.max_time_ns), Ev::Deadline(c.id));
    let vm = &mut *c.vm;
    let mg = &mut *c.mig;
    mg.start = now;
    mg.live_from = (vm.lost_ns, vm.throttle_ns, now);
    if let Some(d) = mg.p.mech.dirty_limit {
        vm.workload.dirty_limit_pps = d.pages_per_sec(spec.page_size);
    }
    mg.throttle = mg.p.mech.auto_converge.map(|a| Throttle::new(a, now));
    // The stream starts flat out (`Ctx::guest_interference` follows its duty from the first
    // window on).
    mg.cpu.vcpu_pace = mg.p.mech.host_cpu.map_or(1.0, |h| 1.0 - h.guest_interference);
    vm.cpu_share = crate::model::mechanism::cpu::rebalance(&mg.p.mech, &mut mg.cpu, vm.paused, spec.page_size, 1.0);
    // Every page is to be sent, the free ones aside.
    let mut all = Bitmap::full(pages);
    if let Some(f) = &free {
        all.and_not_assign(f);
        mg.free_skipped = f.count_ones();
    }
    mg.present = Bitmap::new(if mg.cpu.tracks_present() { pages } else { 0 });
    mg.untouched = vm.mem.untouched.clone();
    // Writes may wait for the sync when no send reads them: XBZRLE reads each page as it goes, Xen's
    // legacy rule skips what was dirtied since the round began, and a write turns a zero page into
    // one sent whole.
    let mut spans = Vec::new();
    vm.workload.access_spans(&mut spans);
    vm.defer_writes = mg.p.mech.xbzrle.is_none()
        && mg.p.mech.rate_limit != RateLimit::Xen
        && spans.iter().all(|r| vm.mem.nonzero.count_range(r.start, r.end) == r.len() as u64);
    let begin = mg.strategy.rule().begin();
    if begin == Begin::Cold {
        return cold::copy(c, now, &all);
    }
    // Setup: QEMU's first dirty-bitmap sync marks every page and starts dirty logging.
    mg.stage = Stage::Setup;
    mg.bits = all;
    mg.pending = mg.bits.count_ones();
    mg.syncs = 1;
    vm.mem.clear_dirty_log();
    let at = now + mg.p.setup_time_ns;
    if begin == Begin::PostCopy {
        mg.start_postcopy = true;
    }
    c.q.schedule(at, Ev::SetupDone(c.id));
}

/// The sender may act (a batch done, a wake-up): bring the guest up to `now` and step the phase.
pub fn step(c: &mut Ctx<'_>, now: SimTime) {
    if c.mig.stage == Stage::PreCopy {
        c.vm.advance_for_send(now);
    } else {
        c.vm.advance(now);
    }
    match c.mig.stage {
        Stage::PreCopy => precopy::step(c, now),
        Stage::PostCopy => postcopy::step(c, now),
        _ => {}
    }
}

/// `max_time` has passed since the migration started. Pre-copy (and its setup) is cancelled or forced
/// into its stop-and-copy (`on_max_time`); a final copy in flight is cancelled, the VM resuming at the
/// source, unless `on_max_time = "stop"` asked for it; post-copy ends with the rest of the memory
/// still at the source. A batch in flight is cut where it stands, so no run goes past `max_time`
/// (docs/model.md, section 11).
pub fn deadline(c: &mut Ctx<'_>, now: SimTime) {
    let stop = c.mig.p.on_max_time == OnMaxTime::Stop;
    match c.mig.stage {
        Stage::Setup | Stage::PreCopy => precopy::at_max_time(c, now),
        Stage::StopCopy | Stage::Cold if stop => {}
        Stage::StopCopy => precopy::cancel_final_copy(c, now, "stop-and-copy (cancelled)"),
        Stage::Cold => precopy::cancel_final_copy(c, now, "cold copy (cancelled)"),
        Stage::Switching => precopy::cancel_final_copy(c, now, "postcopy switch (cancelled)"),
        Stage::PostCopy => postcopy::at_max_time(c, now),
        Stage::Waiting | Stage::Done => {}
    }
}

/// The migration's batch in flight arrived.
pub fn batch_done(c: &mut Ctx<'_>, now: SimTime) {
    let in_flight = std::mem::replace(&mut c.mig.in_flight, InFlight::None);
    match (c.mig.stage, in_flight) {
        (Stage::PreCopy, InFlight::Pages) => precopy::batch_done(c, now),
        (Stage::StopCopy, InFlight::Final) => precopy::final_copy_done(c, now, "stop-and-copy"),
        (Stage::Cold, InFlight::Final) => precopy::final_copy_done(c, now, "cold copy"),
        (Stage::Switching, InFlight::Final) => postcopy::switched(c, now),
        (Stage::PostCopy, InFlight::Pages | InFlight::Final) => postcopy::batch_done(c, now),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::mechanism::{HybridSwitch, Mechanisms};
    use crate::model::result::RoundRecord;

    fn rows(dirty: &[u64]) -> Vec<RoundRecord> {
        dirty.iter().enumerate().map(|(i, &d)| RoundRecord::new(i as u32, "precopy", 0, 1, 1, 1, d, 1)).collect()
    }

    fn so_far<'a>(timeline: &'a [RoundRecord], mech: &'a Mechanisms, elapsed_ns: u64) -> SoFar<'a> {
        SoFar { rounds: timeline.len() as u32, timeline, elapsed_ns, switch_after_rounds: 2, mech }
    }

    #[test]
    fn every_strategy_is_listed_once_by_its_name() {
        assert_eq!(names(), ["precopy", "postcopy", "hybrid", "cold"]);
        assert!(ALL.iter().all(|s| by_name(s.name()) == Some(*s)));
        assert_eq!(by_name("warm"), None);
        let begins: Vec<Begin> = ALL.iter().map(|s| s.rule().begin()).collect();
        assert_eq!(begins, [Begin::PreCopy, Begin::PostCopy, Begin::PreCopy, Begin::Cold]);
    }

    #[test]
    fn hybrid_switches_after_its_rounds_or_once_a_round_stops_shrinking_the_dirty_set() {
        let h = HYBRID.rule();
        let either = Mechanisms::default();
        let only = |hybrid_switch| Mechanisms { hybrid_switch, ..Mechanisms::default() };
        // One round, shrinking: not yet. Two rounds: the count is reached.
        assert!(!h.switch_after_round(&so_far(&rows(&[1000]), &either, 0)));
        assert!(h.switch_after_round(&so_far(&rows(&[1000, 500]), &either, 0)));
        // 960 is not 5 % below 1000 (a stall); 940 is.
        assert!(h.switch_after_round(&so_far(&rows(&[1000, 960]), &only(HybridSwitch::Stall), 0)));
        assert!(!h.switch_after_round(&so_far(&rows(&[1000, 940]), &only(HybridSwitch::Stall), 0)));
        assert!(!h.switch_after_round(&so_far(&rows(&[1000, 960]), &only(HybridSwitch::Time), 0)));
        // By the clock.
        let timed = Mechanisms { hybrid_switch_after_time: Some(10), ..Mechanisms::default() };
        assert!(!h.switch_due(&so_far(&[], &timed, 9)) && h.switch_due(&so_far(&[], &timed, 10)));
        // The other strategies never switch on their own.
        for s in [PRECOPY, POSTCOPY, COLD] {
            assert!(!s.rule().switch_after_round(&so_far(&rows(&[1000, 1000, 1000]), &either, 0)));
            assert!(!s.rule().switch_due(&so_far(&[], &timed, 100)));
        }
        assert_eq!((h.switch_reason(), POSTCOPY.rule().switch_reason()), ("postcopy_switch", "postcopy"));
    }
}
