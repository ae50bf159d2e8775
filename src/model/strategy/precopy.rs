//! Pre-copy: memory goes out while the VM runs, in rounds, until the stop policy says the rest is
//! small enough; then the VM pauses and the rest goes in the stop-and-copy. Stages, top to bottom:
//!
//! 1. **Setup** (`strategy::start`): every page is marked to send and dirty logging starts (QEMU's
//!    first sync); `setup_done` opens round 0 after `setup_time`.
//! 2. **Rounds** (`step`): pages go out in address order in batches of about 50 ms (`send_batch`; a
//!    round is one batch under SimGrid's rule, which sends each round as one message),
//!    the guest's writes land in the dirty log, and a sync moves them into the send bitmap. When the
//!    stop policy is asked (`model::stop`): whenever what is left fits QEMU's measured threshold
//!    (`step_under_threshold`), or at the end of each pass (`step_each_pass`).
//! 3. **Stop-and-copy** (`stop_and_copy`): the VM pauses, a final sync, the rest plus the device
//!    state go out at the switchover rate, and the VM resumes at the destination (`final_copy_done`).
//!
//! A hybrid migration leaves from step 2 for post-copy (`postcopy::switch`) when its strategy says.

use super::postcopy;
use super::rule::{Begin, StrategyRule};
use crate::model::events::SimTime;
use crate::model::mechanism::{self, RateLimit};
use crate::model::migration::{Ctx, InFlight, Stage};
use crate::model::result::RoundRecord;
use crate::model::scenario::OnMaxTime;
use crate::model::stop::{Asks, Stop};
use crate::model::transfer::{Batch, Limit, Window, cost_of};

/// How long one pre-copy iteration sends before the stop rule is checked again. QEMU's
/// ram_save_iterate returns after at most 50 ms (or when the rate limit trips).
const ITERATION_NS: u64 = 50_000_000;
/// QEMU's ram_save_iterate reads the clock every 64 pages (`(i & 63) == 0`), so an iteration ends on
/// its 50 ms at a page count of 1 modulo 64 (`transfer::Limit`).
const QEMU_CLOCK_CHECK_PAGES: u64 = 64;

/// Batches kept for `drain_at_stop`: the sockets' few tens of MiB are a few batches of 50 ms at
/// most at any pace that fills them.
const RECENT_BATCHES: usize = 16;

/// Pre-copy to the end: rounds, then the stop-and-copy.
pub struct PreCopy;

impl StrategyRule for PreCopy {
    fn name(&self) -> &'static str {
        "precopy"
    }

    fn begin(&self) -> Begin {
        Begin::PreCopy
    }
}

/// Setup is over: round 0 begins.
pub fn setup_done(c: &mut Ctx<'_>, now: SimTime) {
    if c.mig.stage != Stage::Setup {
        return; // ended at max_time during its setup
    }
    let mg = &mut *c.mig;
    mg.stage = Stage::PreCopy;
    mg.round_start = now;
    // SimGrid caps a migration's rate steadily (Comm::set_rate) instead of pacing windows.
    let steady = mg.p.stop_policy.one_message_per_round() || mg.p.mech.rate_limit == RateLimit::Xen;
    let paced = if steady { None } else { mg.p.max_bandwidth_bps };
    mg.window = Window::new(now, paced);
    super::step(c, now);
}

/// The pre-copy loop: called whenever the migration can act (a batch done, a wake-up).
pub fn step(c: &mut Ctx<'_>, now: SimTime) {
    if c.over_time(now) {
        match c.mig.p.on_max_time {
            OnMaxTime::Cancel => return cancel(c, now),
            OnMaxTime::Stop => return stop_and_copy(c, now, Stop { reason: "max_time", converged: false }, Batch::default()),
        }
    }
    if c.mig.strategy.rule().switch_due(&c.mig.so_far(now)) {
        c.mig.start_postcopy = true;
    }
    let dl = c.mig.p.downtime_limit_ns;
    let opened = c.mig.window.start;
    c.mig.window.update(now, dl);
    if c.mig.window.start != opened {
        c.guest_interference(now, now - opened);
    }
    if c.mig.window.over_quota() {
        let end = c.mig.window.end();
        return c.wake_at(end);
    }
    match c.mig.p.stop_policy.asks() {
        Asks::UnderThreshold => step_under_threshold(c, now),
        Asks::EachPass => step_each_pass(c, now),
    }
}

/// QEMU's migration_iteration_run (7.2): once what is left fits the threshold, sync and ask the stop
/// rule; otherwise send on, the scan wrapping around memory.
fn step_under_threshold(c: &mut Ctx<'_>, now: SimTime) {
    let ps = c.spec.page_size;
    let closed = ((c.mig.pending * ps) as f64) < c.mig.window.threshold;
    if closed {
        c.sync(now);
        c.end_round(now);
    }
    let d = c.mig.p.stop_policy.decide(&c.mig.progress(c.spec, 0, 0));
    if closed {
        if let Some(t) = d.threshold_bytes {
            c.mig.set_round_threshold(t);
        }
        if c.mig.strategy.rule().switch_after_round(&c.mig.so_far(now)) {
            c.mig.start_postcopy = true;
        }
    }
    if let Some(stop) = d.stop {
        return stop_and_copy(c, now, stop, Batch::default());
    }
    if c.mig.start_postcopy {
        return postcopy::switch(c, now);
    }
    send_batch(c, now, true);
}

/// Textbook rounds: a round is a pass over memory; at its end, sync and ask the stop rule.
fn step_each_pass(c: &mut Ctx<'_>, now: SimTime) {
    if c.mig.start_postcopy {
        return postcopy::switch(c, now);
    }
    if c.mig.bits.next_set(c.mig.cursor).is_some() {
        return send_batch(c, now, false);
    }
    // End of a pass. SimGrid sends each round as one message that costs a full latency before the
    // next round can start (peers/simgrid README: "nothing is pipelined").
    if c.mig.p.stop_policy.one_message_per_round() && !c.mig.latency_paid {
        c.mig.latency_paid = true;
        let at = now + c.mig.latency;
        return c.wake_at(at);
    }
    c.mig.latency_paid = false;
    let round_ns = now.saturating_sub(c.mig.round_start);
    let round_bytes = c.mig.round_sent.bytes;
    c.sync(now);
    c.end_round(now);
    c.mig.cursor = 0;
    let d = c.mig.p.stop_policy.decide(&c.mig.progress(c.spec, round_bytes, round_ns));
    if let Some(t) = d.threshold_bytes {
        c.mig.set_round_threshold(t);
    }
    if let Some(stop) = d.stop {
        return stop_and_copy(c, now, stop, Batch::default());
    }
    if c.mig.pending == 0 {
        // Nothing dirty and the policy wants more rounds: stop now, nothing to gain.
        return stop_and_copy(c, now, Stop::CONVERGED, Batch::default());
    }
    if c.mig.strategy.rule().switch_after_round(&c.mig.so_far(now)) {
        return postcopy::switch(c, now);
    }
    send_batch(c, now, false);
}

/// Send the next batch of the round: about one iteration's worth at the rate the flow gets (or the
/// CPU allows), within the window's quota.
fn send_batch(c: &mut Ctx<'_>, now: SimTime, wrap: bool) {
    let mg = &mut *c.mig;
    let xen = mg.p.mech.rate_limit == RateLimit::Xen;
    if xen {
        // Xen legacy: a page dirtied again since this round began is skipped; it goes next round.
        mg.bits.and_not_assign(&c.vm.mem.dirty_log);
        mg.pending = mg.bits.count_ones();
    }
    let mut rate = c.net.rate_estimate(mg.flow).min(mg.cpu_rate_floor());
    if xen {
        rate = rate.min(mg.xen_rate);
    }
    let chunk = if mg.p.stop_policy.one_message_per_round() {
        // SimGrid sends the whole round as one message (its stop rule looks only at round ends).
        u64::MAX
    } else if rate.is_finite() {
        (rate * ITERATION_NS as f64 / 1e9).max(1.0) as u64
    } else {
        u64::MAX
    };
    // QEMU's iterations end on its clock only every 64 pages; Xen's and SimGrid's on the bytes.
    let granule = if xen || mg.p.stop_policy.one_message_per_round() { 1 } else { QEMU_CLOCK_CHECK_PAGES };
    let limit = Limit::iteration(chunk, mg.window.room(), granule);
    let b = mg.take_to(&c.vm.mem.nonzero, limit, wrap, false);
    if b.pages == 0 {
        // Nothing left to send in this pass: come back at once to end it.
        return step(c, now);
    }
    mg.batch = b;
    mg.in_flight = InFlight::Pages;
    mg.window_cpu_s += mg.cpu.seconds(&b);
    if mg.multifd {
        // Multifd: QEMU counts pages as transferred when they are queued to a channel, so the
        // window (and the bandwidth estimate) runs ahead of the wire (lab README, multifd).
        mg.window.bytes += b.bytes;
    }
    let cap = if mg.p.stop_policy.one_message_per_round() {
        mg.p.max_bandwidth_bps.unwrap_or(f64::INFINITY)
    } else if xen {
        mg.xen_rate
    } else {
        f64::INFINITY
    };
    let cap = mg.cpu.cap(&b, 0, cap);
    c.send(b.bytes, cap, now);
}

/// A batch of the round arrived.
pub fn batch_done(c: &mut Ctx<'_>, now: SimTime) {
    let mg = &mut *c.mig;
    let b = mg.batch;
    mg.sent.add(b);
    mg.round_sent.add(b);
    if mg.p.mech.drain_at_stop {
        mg.recent.push_back(b);
        if mg.recent.len() > RECENT_BATCHES {
            mg.recent.pop_front();
        }
        mg.last_batch_end = now;
    }
    if !mg.multifd {
        mg.window.bytes += b.bytes;
    }
    super::step(c, now);
}

/// `max_time` with `on_max_time = "cancel"`: give up; the VM stays at the source.
fn cancel(c: &mut Ctx<'_>, now: SimTime) {
    // The VM runs on at the source, unthrottled.
    let vm = &mut *c.vm;
    vm.advance(now);
    let mg = &mut *c.mig;
    if mg.live_to.is_none() {
        mg.live_to = Some((vm.lost_ns, vm.throttle_ns, now));
    }
    vm.cpu_share = 1.0;
    vm.workload.dirty_limit_pps = f64::INFINITY;
    mg.stage = Stage::Done;
    mg.cancelled = true;
    mg.end = Some(now);
    mg.converged = false;
    mg.stop_reason = "max_time";
    mg.precopy_bytes = mg.sent.bytes;
    if mg.round_sent.pages > 0 {
        let row = mg.round_row("precopy (cancelled)", now, mg.pending);
        mg.timeline.push(row);
    }
}

/// `max_time` during setup or the rounds (`strategy::deadline`): the batch in flight is cut where it
/// stands (what arrived counts as sent), then the migration is cancelled, or with
/// `on_max_time = "stop"` forced into its stop-and-copy, which resends what the cut batch did not
/// deliver.
pub fn at_max_time(c: &mut Ctx<'_>, now: SimTime) {
    let mut left = Batch::default();
    if c.mig.in_flight == InFlight::Pages {
        let (arrived, rest) = c.mig.batch.split(c.cut(now));
        let mg = &mut *c.mig;
        mg.sent.add(arrived);
        mg.round_sent.add(arrived);
        left = rest;
    }
    // A pending wake-up is stale from now on.
    c.mig.wake_gen += 1;
    c.mig.wake_at = None;
    match c.mig.p.on_max_time {
        OnMaxTime::Cancel => cancel(c, now),
        OnMaxTime::Stop => stop_and_copy(c, now, Stop { reason: "max_time", converged: false }, left),
    }
}

/// `max_time` while the VM is paused for a final copy (or the post-copy switch): the copy is cut and
/// the VM resumes at the source; its downtime ran until now.
pub fn cancel_final_copy(c: &mut Ctx<'_>, now: SimTime, phase: &'static str) {
    let left = c.cut(now);
    let dev = c.spec.device_state_bytes;
    let mg = &mut *c.mig;
    let mut b = mg.final_batch;
    b.bytes += dev;
    let (arrived, _) = b.split(left);
    mg.sent.add(arrived);
    mg.timeline.push(RoundRecord::new(mg.rounds, phase, mg.round_start, now, arrived.pages, arrived.bytes, 0, now - mg.round_start));
    // A post-copy switch cut short never happened: the VM did not run at the destination.
    mg.switch_time = None;
    mg.stage = Stage::Done;
    mg.end = Some(now);
    mg.resume_time = Some(now);
    mg.cancelled = true;
    mg.converged = false;
    mg.stop_reason = "max_time";
    c.vm.advance(now);
    c.vm.paused = false;
}

/// Pause the VM and send the rest with the device state (and `carry`: what a batch cut at
/// `max_time` did not deliver).
fn stop_and_copy(c: &mut Ctx<'_>, now: SimTime, stop: Stop, carry: Batch) {
    // Final sync: everything written before the pause goes in the last copy.
    c.pause(now);
    let mg = &mut *c.mig;
    mg.precopy_bytes = mg.sent.bytes;
    mg.stage = Stage::StopCopy;
    mg.stop_time = Some(now);
    mg.stop_reason = stop.reason;
    mg.converged = stop.converged;
    mg.round_start = now;
    let b = if mg.xbz_on {
        // XBZRLE encodes the final copy too, without inserting misses (last_stage).
        mg.last_stage = true;
        mg.cursor = 0;
        mg.take(&c.vm.mem.nonzero, u64::MAX, false, false)
    } else {
        let present = mg.cpu.tracks_present().then_some(&mg.present);
        cost_of(&mg.bits, &c.vm.mem.nonzero, mg.untouched.as_deref(), present, mg.cost)
    };
    let mut b = b;
    b.add(carry);
    mg.bits.clear_all();
    mg.pending = 0;
    mg.final_batch = b;
    mg.in_flight = InFlight::Final;
    let dev = c.spec.device_state_bytes;
    // What the sockets still hold goes first (`drain_at_stop`); it was counted as sent when it was
    // written, so only its time counts.
    mg.socket_wait_s = if mg.p.mech.drain_at_stop { socket_wait_s(mg, now, &b) } else { 0.0 };
    let bytes = b.bytes + dev;
    // QEMU lifts the rate limit for the final copy (migration_completion); the CPU still paces it.
    // Xen's legacy limiter sends the last round at its cap.
    let cap = if mg.p.mech.rate_limit == RateLimit::Xen { mechanism::XEN_MAX_BPS } else { f64::INFINITY };
    let limit = mg.p.switchover_bandwidth_bps.unwrap_or(f64::INFINITY).min(cap);
    let cap = mg.cpu.cap_after(&b, dev, mg.socket_wait_s, limit);
    c.send(bytes, cap, now);
}

/// The seconds the destination needs, when the VM pauses at `now`, for what it has not yet taken in
/// from the sockets before the final copy (`last`)'s pages reach it (`drain_at_stop`).
///
/// The sockets fill when the destination is the slower end: for pages new to it, whose first
/// touch its receiving thread pays (QEMU lab: one stream's receiver did 2.53-3.03 of the pair's
/// 2.87-3.48 CPU seconds). So each stream (each multifd channel) holds up to `socket_buffer` of
/// what it sent last, and its new pages cost the receivers `RECEIVER_SHARE` of the stream's
/// new-page cost; the receivers run alone on the host's cores meanwhile (the guest is paused and
/// the senders wait for room). QEMU 7.2's `multifd_send_sync_main` waits for its channels to write
/// their packets, not for the destination to read them, so a round's end does not empty them.
/// An idle sender (asleep on its rate limit) let the receivers catch up; re-sent pages are taken
/// in at the final copy's pace, which the calibrated paused pace already holds.
fn socket_wait_s(mg: &crate::model::migration::Migration, now: SimTime, last: &Batch) -> f64 {
    let channels = mg.p.mech.multifd_channels.max(1);
    let room = mg.p.mech.socket_buffer_bytes.saturating_mul(u64::from(channels));
    let receivers = mechanism::cpu::receivers_parallel(&mg.p.mech, mg.cpu.parallel);
    let per_new_page_s = mg.cpu.new_page_s * mechanism::RECEIVER_SHARE / receivers;
    let idle_s = now.saturating_sub(mg.last_batch_end) as f64 / 1e9;
    socket_drain(mg.recent.iter().rev(), last, room, per_new_page_s, idle_s).1
}

/// The sockets' `room` bytes at the pause: the stream's last bytes (`newest_first`), and the
/// seconds their new pages hold up the final copy at `per_new_page_s` each, less `idle_s` (the
/// receivers caught up meanwhile) and less what the final copy's own last `room` bytes cost the
/// same way (the source is done when those are in the sockets).
fn socket_drain<'a>(
    newest_first: impl Iterator<Item = &'a Batch>,
    last: &Batch,
    room: u64,
    per_new_page_s: f64,
    idle_s: f64,
) -> (Batch, f64) {
    let (mut queued, mut left) = (Batch::default(), room);
    for b in newest_first {
        if left == 0 {
            break;
        }
        let part = if b.bytes <= left { *b } else { b.scaled(left) };
        left -= part.bytes;
        queued.add(part);
    }
    let tail = last.scaled(room.min(last.bytes));
    let drain = |b: &Batch| b.new_pages as f64 * per_new_page_s;
    (queued, (drain(&queued) - idle_s - drain(&tail)).max(0.0))
}

/// The final copy (stop-and-copy, or a cold migration's only copy) arrived: the VM resumes at the
/// destination one latency and `resume_time` later.
pub fn final_copy_done(c: &mut Ctx<'_>, now: SimTime, phase: &'static str) {
    let dev = c.spec.device_state_bytes;
    let mg = &mut *c.mig;
    let b: Batch = mg.final_batch;
    mg.sent.add(b);
    mg.sent.bytes += dev;
    let end = now + mg.latency + mg.p.resume_time_ns;
    mg.timeline.push(RoundRecord::new(mg.rounds, phase, mg.round_start, end, b.pages, b.bytes + dev, 0, now - mg.round_start));
    mg.resume_time = Some(end);
    mg.end = Some(end);
    mg.stage = Stage::Done;
    c.vm.paused = false;
    c.vm.clock = end;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pages` non-zero pages of 4 KiB + 8 B, `new` of them new to the destination.
    fn batch(pages: u64, new: u64) -> Batch {
        Batch { pages, bytes: pages * 4104, new_pages: new, ..Batch::default() }
    }

    #[test]
    fn the_sockets_hold_the_last_bytes_and_only_new_pages_hold_up_the_final_copy() {
        // The first pass's tail (new pages), then a round of re-sent pages bigger than the room:
        // nothing new is left in the sockets.
        let recent = [batch(1000, 1000), batch(3000, 0)];
        let resent = batch(500, 0);
        let (q, s) = socket_drain(recent.iter().rev(), &resent, 2000 * 4104, 1e-5, 0.0);
        assert_eq!((q.pages, q.new_pages, s), (2000, 0, 0.0));
        // A smaller round leaves 1500 of the new pages behind its 500: 1500 x 10 us.
        let recent = [batch(2000, 2000), batch(500, 0)];
        let (q, s) = socket_drain(recent.iter().rev(), &resent, 2000 * 4104, 1e-5, 0.0);
        assert_eq!((q.pages, q.new_pages), (2000, 1500));
        assert!((s - 0.015).abs() < 1e-12, "{s}");
        // An idle sender let the receivers take 5 ms of it.
        let (_, s) = socket_drain(recent.iter().rev(), &resent, 2000 * 4104, 1e-5, 0.005);
        assert!((s - 0.010).abs() < 1e-12, "{s}");
        // No room: nothing waits.
        assert_eq!(socket_drain(recent.iter().rev(), &resent, 0, 1e-5, 0.0).1, 0.0);
    }

    #[test]
    fn a_final_copy_of_new_pages_leaves_as_much_behind_as_it_found() {
        // Paused mid-way through the first pass: what was queued at the pause and what is still
        // queued when the source is done cost the same, so the source's downtime is unchanged.
        let recent = [batch(4000, 4000)];
        let (q, s) = socket_drain(recent.iter().rev(), &batch(9000, 9000), 2000 * 4104, 1e-5, 0.0);
        assert_eq!((q.new_pages, s), (2000, 0.0));
        // Half of the final copy new: half of the room's drain is left over.
        let (_, s) = socket_drain(recent.iter().rev(), &batch(9000, 4500), 2000 * 4104, 1e-5, 0.0);
        assert!((s - 0.010).abs() < 1e-12, "{s}");
    }

    #[test]
    fn scaled_keeps_the_make_up_and_the_bytes() {
        let b = Batch { pages: 100, zero_pages: 20, bytes: 80 * 4104 + 20 * 8, new_pages: 50, delta_pages: 10, untouched_pages: 0 };
        let h = b.scaled(b.bytes / 2);
        assert_eq!((h.pages, h.zero_pages, h.new_pages, h.delta_pages, h.bytes), (50, 10, 25, 5, b.bytes / 2));
        let d = b.scaled(b.bytes * 2);
        assert_eq!((d.pages, d.zero_pages, d.new_pages, d.delta_pages), (200, 40, 100, 20));
        assert_eq!(b.scaled(0), Batch::default());
    }
}
