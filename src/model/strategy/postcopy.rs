//! Post-copy: the VM moves first and its memory follows. Stages, top to bottom:
//!
//! 1. **Switch** (`switch`): the VM pauses, its device state goes out, and it resumes at the
//!    destination (`switched`). What pre-copy left dirty (everything, for pure post-copy) is missing
//!    there.
//! 2. **Push and faults** (`step`): the source pushes the missing pages in address order in short
//!    batches, while the guest runs at the destination (`run_vcpu`): an access to a missing page is
//!    a remote fault, whose request (`on_request`) jumps ahead of the push, behind the data already
//!    queued in the socket unless `postcopy_preempt` gives requests a channel of their own.
//!    Pre-paging moves the push to the faulting address.
//! 3. **Done** (`finish`): the last missing page arrived.
//!
//! Without the push (`postcopy_push = false`), only faults (and pre-paging) move pages.

use super::rule::{Begin, StrategyRule};
use crate::model::events::SimTime;
use crate::model::migration::{Ctx, Ev, InFlight, SPANS_CHECK_FIRST, Stage};
use crate::model::remote_access::RemoteAccess;
use crate::model::stop::Asks;
use crate::model::transfer::{Batch, Window};

/// Post-copy batches are short so that a faulted page waits little behind the background push.
const POSTCOPY_BATCH_NS: u64 = 1_000_000;

/// Post-copy from the start: setup, then the switch at once.
pub struct PostCopy;

impl StrategyRule for PostCopy {
    fn name(&self) -> &'static str {
        "postcopy"
    }

    fn begin(&self) -> Begin {
        Begin::PostCopy
    }
}

/// Pause the VM and send its device state; what pre-copy left dirty becomes the missing set.
pub fn switch(c: &mut Ctx<'_>, now: SimTime) {
    c.pause(now);
    let mg = &mut *c.mig;
    if mg.round_sent.pages > 0 {
        let row = mg.round_row("precopy", now, mg.pending);
        mg.timeline.push(row);
        mg.rounds += 1;
    }
    mg.precopy_bytes = mg.sent.bytes;
    mg.stage = Stage::Switching;
    mg.stop_time = Some(now);
    mg.switch_time = Some(now);
    mg.converged = true;
    mg.stop_reason = mg.strategy.rule().switch_reason();
    mg.round_start = now;
    mg.round_sent = Batch::default();
    // The missing set is what the pre-copy part left dirty (everything for pure post-copy); the
    // destination discards its stale copies of those pages.
    if mg.cpu.tracks_present() {
        mg.present.and_not_assign(&mg.bits);
    }
    mg.cursor = 0;
    // QEMU does not use XBZRLE once post-copy runs.
    mg.xbz_on = false;
    mg.in_flight_pages.clear();
    mg.access_spans.clear();
    c.vm.workload.access_spans(&mut mg.access_spans);
    mg.remote = None;
    mg.remote_due = 0;
    mg.in_flight = InFlight::Final;
    mg.final_batch = Batch::default();
    let bytes = c.spec.device_state_bytes;
    let cap = mg.p.switchover_bandwidth_bps.unwrap_or(f64::INFINITY);
    c.send(bytes, cap, now);
}

/// The device state arrived: the VM resumes at the destination and the push begins.
pub fn switched(c: &mut Ctx<'_>, now: SimTime) {
    let dev = c.spec.device_state_bytes;
    let mg = &mut *c.mig;
    mg.sent.bytes += dev;
    let resume = now + mg.latency + mg.p.resume_time_ns;
    mg.resume_time = Some(resume);
    mg.stage = Stage::PostCopy;
    // QEMU keeps its bandwidth estimate and threshold across the switch.
    let (bw, thr) = (mg.window.bandwidth, mg.window.threshold);
    // Post-copy runs under max-postcopy-bandwidth, not max-bandwidth (lab README pitfall:
    // it "defaults to 0, which means unlimited").
    mg.window = Window::new(now, mg.p.max_postcopy_bandwidth_bps);
    mg.window.bandwidth = bw;
    mg.window.threshold = thr;
    mg.vcpu_time = resume;
    c.run_vcpu_at(resume);
    super::step(c, now);
}

/// A batch of the push (or of requested pages) arrived.
pub fn batch_done(c: &mut Ctx<'_>, now: SimTime) {
    let mg = &mut *c.mig;
    mg.stream_done_at = Some(now);
    let b = mg.batch;
    mg.sent.add(b);
    mg.round_sent.add(b);
    mg.window.bytes += b.bytes;
    let arrived = now + mg.latency;
    let waited_on = mg.waiting_on.filter(|&(page, _)| mg.in_flight_pages.contains(page));
    mg.in_flight_pages.clear();
    if let Some((_, since)) = waited_on {
        mg.stall_ns += arrived.saturating_sub(since);
        mg.waiting_on = None;
        mg.vcpu_time = arrived;
        c.run_vcpu_at(arrived);
    }
    let mg = &mut *c.mig;
    mg.batch_pages.clear();
    if mg.pending == 0 && mg.urgent.is_empty() && mg.requests_in_flight == 0 {
        // Last page arrived: the migration is over.
        return finish(c, arrived);
    }
    super::step(c, now);
}

/// Every page is at the destination at `end`.
fn finish(c: &mut Ctx<'_>, end: SimTime) {
    let mg = &mut *c.mig;
    let row = mg.round_row("postcopy", end, 0);
    mg.timeline.push(row);
    mg.end = Some(end);
    mg.stage = Stage::Done;
    mg.vcpu_gen += 1;
    if let Some((_, since)) = mg.waiting_on.take() {
        mg.stall_ns += end.saturating_sub(since);
    }
    c.vm.paused = false;
    c.vm.clock = end;
}

/// The sender: requested pages first, then the push (or pre-paging), within the window's quota.
pub fn step(c: &mut Ctx<'_>, now: SimTime) {
    if c.mig.in_flight != InFlight::None {
        return;
    }
    let dl = c.mig.p.downtime_limit_ns;
    // QEMU's stop rule ends post-copy as it ends pre-copy (see `Asks::UnderThreshold`).
    let qemu = c.mig.p.stop_policy.asks() == Asks::UnderThreshold;
    c.mig.window.update(now, dl);
    let rate = c.net.rate_estimate(c.mig.flow).min(c.mig.cpu_rate_floor());
    let ps = c.spec.page_size;
    let mg = &mut *c.mig;
    let nonzero = &c.vm.mem.nonzero;
    let mut b = Batch::default();
    mg.batch_pages.clear();
    if !mg.urgent.is_empty() && mg.window.over_quota() {
        // QEMU 7.2 wakes the rate-limited thread for a requested page, but
        // qemu_savevm_state_iterate returns at once while the window is over quota, so the page
        // waits for the next 100 ms window like any other (docs/model.md, section 8).
        let end = mg.window.end();
        return c.wake_at(end);
    }
    let track = mg.cpu.tracks_present();
    // Without postcopy_preempt a requested page shares the socket with the push: while the push
    // streams, the socket buffers are full and the page waits behind them (QEMU's
    // postcopy-preempt cover letter: vanilla requests wait ~10 ms "for precopy to flush the
    // existing pages"). A sender that was idle (asleep until its window, or done) has an empty
    // socket, and QEMU serves queued requests before the push (get_queued_page).
    let streaming = mg.p.mech.postcopy_push && mg.stream_done_at == Some(now) && mg.pending > 0;
    let ahead = mg.p.mech.socket_buffer_bytes.min(mg.window.room());
    if !mg.urgent.is_empty() && streaming && !mg.p.mech.postcopy_preempt && ahead > 0 {
        b.add(mg.take(nonzero, ahead, true, true));
    }
    if let Some(page) = mg.pivot.take() {
        // Pre-paging (QEMU restarts its scan at the faulting address; Hines & Gopalan's
        // bubbling): the push continues from the page after the fault.
        mg.cursor = (page + 1) % mg.bits.len().max(1);
        mg.prepage_left = mg.p.mech.prepaging();
    }
    // Faulted pages go next.
    for p in std::mem::take(&mut mg.urgent) {
        let nz = nonzero.get(p);
        let new = nz && track && !mg.present.get(p);
        if new {
            mg.present.set(p);
        }
        let bytes = if nz { mg.cost.nonzero } else { mg.cost.zero };
        let untouched_pages = u64::from(!nz && mg.untouched.as_ref().is_some_and(|u| u.get(p)));
        b.add(Batch { pages: 1, zero_pages: u64::from(!nz), bytes, new_pages: u64::from(new), delta_pages: 0, untouched_pages });
        mg.batch_pages.push(p);
    }
    let remaining = mg.pending * ps;
    let mut cap = f64::INFINITY;
    let mut last = false;
    // Without active push only pre-paging moves pages the guest has not asked for.
    let push = mg.p.mech.postcopy_push;
    if b.pages > 0 {
        // Faulted pages go as soon as they can: alone, or behind the data queued ahead of them.
    } else if !push && mg.prepage_left == 0 {
        return;
    } else if push && qemu && remaining > 0 && (remaining as f64) < mg.window.threshold {
        // QEMU ends post-copy like pre-copy: once what is left is under the threshold, the rest
        // goes out in one unthrottled piece.
        let t = mg.take(nonzero, u64::MAX, true, true);
        b.add(t);
        cap = mg.p.switchover_bandwidth_bps.unwrap_or(f64::INFINITY);
        last = true;
    } else if remaining > 0 && !mg.window.over_quota() {
        let chunk = if rate.is_finite() { (rate * POSTCOPY_BATCH_NS as f64 / 1e9).max(1.0) as u64 } else { u64::MAX };
        let mut room = chunk.min(mg.window.room());
        if mg.prepage_left > 0 {
            // Pre-paging: the window after the fault goes first, in one batch of its own.
            room = room.min(mg.prepage_left * mg.cost.nonzero);
        }
        let t = mg.take(nonzero, room, true, true);
        mg.prepage_left = mg.prepage_left.saturating_sub(t.pages);
        b.add(t);
    } else if remaining > 0 {
        let end = mg.window.end();
        return c.wake_at(end);
    }
    if b.pages == 0 {
        return;
    }
    mg.in_flight_pages.take_from(&mut mg.batch_pages);
    mg.batch = b;
    mg.in_flight = if last { InFlight::Final } else { InFlight::Pages };
    let cap = mg.cpu.cap(&b, 0, cap);
    c.send(b.bytes, cap, now);
}

/// `max_time` during post-copy (`strategy::deadline`): the batch in flight is cut (what arrived
/// counts as sent) and the migration ends with the rest of the memory still at the source, a
/// residual dependency: the guest runs at the destination, and a real one would fault on forever.
pub fn at_max_time(c: &mut Ctx<'_>, now: SimTime) {
    if c.mig.in_flight != InFlight::None {
        let (arrived, _) = c.mig.batch.split(c.cut(now));
        c.mig.sent.add(arrived);
        c.mig.round_sent.add(arrived);
    }
    c.vm.advance(now);
    let mg = &mut *c.mig;
    mg.converged = false;
    mg.stop_reason = "max_time";
    let phase = if mg.p.mech.postcopy_push { "postcopy (unfinished)" } else { "postcopy (demand paging, unfinished)" };
    let row = mg.round_row(phase, now, mg.pending + mg.urgent.len() as u64);
    mg.timeline.push(row);
    mg.end = Some(now);
    mg.stage = Stage::Done;
    mg.vcpu_gen += 1;
    mg.wake_gen += 1;
    if let Some((_, since)) = mg.waiting_on.take() {
        mg.stall_ns += now.saturating_sub(since);
    }
    c.vm.paused = false;
}

/// A page request reached the source.
pub fn on_request(c: &mut Ctx<'_>, page: usize, now: SimTime) {
    let mg = &mut *c.mig;
    mg.requests_in_flight -= 1;
    if mg.stage != Stage::PostCopy {
        return;
    }
    mg.urgent.push(page);
    if mg.p.mech.prepaging() > 0 {
        // Pre-paging moves the push to the fault, after the data already queued (`step`).
        mg.pivot = Some(page);
    }
    if mg.in_flight == InFlight::None {
        // Look at once: the page goes now if the window's quota lasts, else `step` waits for the
        // window's end again.
        mg.wake_gen += 1;
        mg.wake_at = None;
        super::step(c, now);
    }
}

/// The guest at the destination during post-copy: accesses in time order until one touches a
/// missing page (a remote fault) or until the next moment a page may arrive.
pub fn run_vcpu(c: &mut Ctx<'_>, now: SimTime) {
    let flow_done_at = c.net.completion_at(c.mig.flow);
    let mg = &mut *c.mig;
    if mg.stage != Stage::PostCopy || mg.waiting_on.is_some() {
        return;
    }
    let horizon = match (flow_done_at, mg.wake_at) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        // Nothing in flight: only this guest's own faults can change what is present.
        (None, None) => now + 1_000_000_000,
    }
    .max(now);
    let vm = &mut *c.vm;
    let mut t = mg.vcpu_time.max(now);
    // The access rate holds until `until`: ask again only then.
    let mut current = vm.workload.access_rate(t);
    loop {
        if t >= current.1 {
            current = vm.workload.access_rate(t);
        }
        let (rate, until) = current;
        if rate <= 0.0 {
            if until == u64::MAX {
                return; // An idle guest never faults.
            }
            t = until;
            mg.vcpu_carry = 0.0;
            if t > horizon {
                break;
            }
            continue;
        }
        if mg.remote_due <= t {
            // The workload's access law now (it changes with its phase): draw only what can fault.
            let law = vm.workload.access_pieces(t);
            mg.remote_due = law.as_ref().map_or(until, |l| l.until).max(t + 1);
            mg.remote = law.map(|l| RemoteAccess::new(&l));
        }
        let (page, block) = if let Some(ra) = &mut mg.remote {
            // Accesses that land where every page is present cannot fault and change nothing:
            // skip them in one geometric draw, to the next that lands in a live block.
            let end = horizon.min(until).min(ra.until);
            let g = 1e9 / rate;
            let k = if ra.all_retired() { u64::MAX / 2 } else { ra.accesses_to_next_live(&mut vm.rng) };
            let total = k as f64 * g + mg.vcpu_carry;
            if t as f64 + total.floor() > end as f64 {
                if end < horizon {
                    // The law or the rate changes first: take it up from there.
                    t = end;
                    mg.vcpu_carry = 0.0;
                    continue;
                }
                // The accesses up to the horizon all land where nothing is missing.
                let h = horizon.saturating_sub(t) as f64;
                let m = (((h + 1.0 - mg.vcpu_carry) / g).ceil() - 1.0).max(0.0);
                let adv = m * g + mg.vcpu_carry;
                t = (t + adv.floor() as u64).min(horizon.max(t));
                mg.vcpu_carry = adv - adv.floor();
                break;
            }
            t += total.floor() as u64;
            mg.vcpu_carry = total - total.floor();
            let (b, page) = ra.draw(&mut vm.rng);
            (page, Some(b))
        } else {
            let gap = 1e9 / rate + mg.vcpu_carry;
            let whole = gap.floor();
            let at = t + whole as u64;
            if at > horizon {
                break;
            }
            mg.vcpu_carry = gap - whole;
            t = at;
            if mg.spans_present {
                // No access can fault any more: skip the draws up to the horizon.
                t = horizon;
                break;
            }
            (vm.workload.sample_access(t, &mut vm.rng), None)
        };
        let missing = mg.bits.get(page);
        if !missing && !mg.in_flight_pages.contains(page) {
            if let (Some(ra), Some(b)) = (&mut mg.remote, block) {
                ra.retire_if_present(b, &mg.bits, &mg.in_flight_pages);
                continue;
            }
            mg.present_streak += 1;
            if mg.present_streak >= mg.next_spans_check {
                // A long run of hits: are any pages the guest may touch still missing? The
                // checks back off so that a few rarely touched missing pages cost little.
                mg.next_spans_check = mg.next_spans_check.saturating_mul(2);
                mg.spans_present = mg
                    .access_spans
                    .iter()
                    .all(|r| mg.bits.next_set(r.start).is_none_or(|i| i >= r.end) && !mg.in_flight_pages.any_in(r.start, r.end));
            }
            continue;
        }
        // A fault: the page is missing, or on its way in the batch in flight (then the guest
        // waits for that batch).
        mg.present_streak = 0;
        mg.next_spans_check = SPANS_CHECK_FIRST;
        mg.faults += 1;
        mg.waiting_on = Some((page, t));
        mg.vcpu_time = t;
        if missing {
            // Fault it in, ahead of the background push.
            mg.bits.clear(page);
            mg.pending -= 1;
            mg.requests_in_flight += 1;
            let at_source = t + mg.latency;
            c.q.schedule(at_source, Ev::Request(c.id, page));
        }
        return;
    }
    mg.vcpu_time = t;
    c.run_vcpu_at(horizon.max(now + 1));
}
