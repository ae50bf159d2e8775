//! One migration's state, and what it may touch while it acts (`Ctx`): the transfer machinery every
//! strategy shares (taking batches from the send bitmap, XBZRLE encoding, the dirty-bitmap sync,
//! pausing the VM, closing a round) and the events it schedules. The phases themselves (pre-copy,
//! post-copy, cold copy) are in `model::strategy`; the stop decision is in `model::stop`. Nothing
//! here decides when a phase ends.

use crate::model::bitmap::Bitmap;
use crate::model::events::{EventQueue, SimTime};
use crate::model::mechanism::{self, Lookup, Throttle, XbzrleCache};
use crate::model::network::{FlowId, Network};
use crate::model::page_set::PageSet;
use crate::model::remote_access::RemoteAccess;
use crate::model::result::{MigrationResult, RoundRecord};
use crate::model::scenario::{MigrationParams, MigrationSpec, Scenario, VmSpec};
use crate::model::stop::Progress;
use crate::model::strategy::rule::{SoFar, Strategy};
use crate::model::transfer::{Batch, CpuCost, Limit, PageCost, Window, take_batch};
use crate::model::vm::Vm;
use crate::model::workload::{DeltaSize, SimRng};
use rand::{Rng, SeedableRng};

/// The events of a run. A migration's events carry its index (which is also its flow's id). A batch's
/// completion is not among them: the network keeps those (`Network::peek`).
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    Start(usize),
    SetupDone(usize),
    /// A wake-up of the sender; stale unless its generation is the migration's `wake_gen`.
    Wake(usize, u64),
    /// The post-copy guest runs again; stale unless its generation is the migration's `vcpu_gen`.
    Vcpu(usize, u64),
    /// A post-copy page request reaches the source.
    Request(usize, usize),
    /// `max_time` after the migration's start: whatever phase it is in ends (`strategy::deadline`).
    Deadline(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Waiting,
    Setup,
    PreCopy,
    /// Sending the final dirty pages and device state with the VM paused.
    StopCopy,
    /// Sending the device state at the post-copy switch.
    Switching,
    PostCopy,
    Cold,
    Done,
}

/// What the batch in flight is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFlight {
    None,
    Pages,
    Final,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct XbzStats {
    pub pages: u64,
    pub miss: u64,
    pub overflow: u64,
    pub bytes: u64,
}

/// Post-copy: after this many accesses in a row that found their page present, look whether the
/// guest can still fault at all (see `Migration::spans_present`).
pub const SPANS_CHECK_FIRST: u64 = 4096;

pub struct Migration {
    pub vm: usize,
    pub to: usize,
    pub flow: FlowId,
    pub p: MigrationParams,
    pub strategy: Strategy,
    pub stage: Stage,
    pub cost: PageCost,
    pub cpu: CpuCost,
    /// Non-zero pages the destination holds (tracked only when `cpu` has a cost).
    pub present: Bitmap,
    /// The guest's untouched pages (`Memory::untouched`), set when the migration starts.
    pub untouched: Option<std::sync::Arc<Bitmap>>,
    pub latency: SimTime,
    /// Pre-copy: pages to send in this round (QEMU's migration bitmap). Post-copy: pages still missing
    /// at the destination.
    pub bits: Bitmap,
    /// Number of bits set in `bits`, kept up to date (counting a 64 GiB bitmap per batch is slow).
    pub pending: u64,
    pub cursor: usize,
    pub window: Window,
    pub in_flight: InFlight,
    pub batch: Batch,
    /// Post-copy: pages of the batch in flight, and the same as a bitmap for quick lookups.
    pub batch_pages: Vec<usize>,
    pub in_flight_pages: PageSet,
    pub urgent: Vec<usize>,
    pub wake_gen: u64,
    pub wake_at: Option<SimTime>,
    pub start_postcopy: bool,
    /// SimGrid: the latency of the round's message has been waited for.
    pub latency_paid: bool,
    // Accounting.
    pub start: SimTime,
    pub round_start: SimTime,
    pub round_sent: Batch,
    pub rounds: u32,
    pub syncs: u32,
    pub sent: Batch,
    pub precopy_bytes: u64,
    pub stop_time: Option<SimTime>,
    pub resume_time: Option<SimTime>,
    pub switch_time: Option<SimTime>,
    pub end: Option<SimTime>,
    pub converged: bool,
    pub stop_reason: &'static str,
    /// Cancelled at `max_time`: the VM stays at (or went back to) the source.
    pub cancelled: bool,
    pub final_batch: Batch,
    /// Pre-copy with `drain_at_stop`: the last batches that arrived, newest last, and when the
    /// last one did (what the sockets hold when the VM pauses is the stream's last bytes).
    pub recent: std::collections::VecDeque<Batch>,
    pub last_batch_end: SimTime,
    /// How long the final copy waited for what the sockets held when the VM paused
    /// (`drain_at_stop`; already counted as sent).
    pub socket_wait_s: f64,
    pub timeline: Vec<RoundRecord>,
    // Post-copy guest.
    pub vcpu_gen: u64,
    pub vcpu_time: SimTime,
    pub vcpu_carry: f64,
    pub waiting_on: Option<(usize, SimTime)>,
    /// Page requests on their way to the source.
    pub requests_in_flight: u32,
    pub faults: u64,
    pub stall_ns: u64,
    /// Post-copy: the spans of pages the guest's accesses may touch, and whether none of them is
    /// still missing or in flight (then the guest can never fault again: pages only arrive).
    pub access_spans: Vec<std::ops::Range<usize>>,
    pub spans_present: bool,
    /// Accesses in a row that found their page present, and the count at which to look again
    /// whether any page of `access_spans` is still missing.
    pub present_streak: u64,
    pub next_spans_check: u64,
    /// Post-copy: the guest's accesses drawn only where they can fault, when its access law allows
    /// (`remote_access`), and the time at which to ask the workload for its law again.
    pub remote: Option<RemoteAccess>,
    pub remote_due: SimTime,
    // Mechanisms.
    pub throttle: Option<Throttle>,
    pub throttle_schedule: Vec<[f64; 2]>,
    pub xbz: Option<XbzrleCache>,
    /// XBZRLE is used once the first full pass is over (QEMU: after the bulk stage).
    pub xbz_on: bool,
    pub last_stage: bool,
    pub xbz_stats: XbzStats,
    pub delta: DeltaSize,
    /// Random draws of the mechanisms (XBZRLE delta sizes), apart from the guest's stream.
    pub rng: SimRng,
    pub scratch: Vec<usize>,
    /// Xen's legacy rate limit for the current round, bytes/s.
    pub xen_rate: f64,
    pub multifd: bool,
    pub free_skipped: u64,
    /// Post-copy pre-paging: pages still to push from the last fault on.
    pub prepage_left: u64,
    /// Post-copy: when a batch of the stream last completed (the socket is full while it streams).
    pub stream_done_at: Option<SimTime>,
    /// Post-copy: the page whose request moves the push, once the data queued ahead of it is taken.
    pub pivot: Option<usize>,
    /// The VM's lost-work and throttle integrals when the live migration began and ended.
    pub live_from: (f64, f64, SimTime),
    pub live_to: Option<(f64, f64, SimTime)>,
    /// Pre-copy: the stream's CPU seconds (`CpuCost::seconds`) sent in the current rate-limit
    /// window, for `Ctx::guest_interference`.
    pub window_cpu_s: f64,
}

impl Migration {
    /// Migration `m` of the scenario, waiting for its start, sending over `flow`; `seed` seeds the
    /// mechanisms' random stream.
    pub fn new(m: &MigrationSpec, vm: &VmSpec, strategy: Strategy, flow: FlowId, latency: SimTime, seed: u64) -> Self {
        let pages = vm.pages() as usize;
        let mech = &m.params.mech;
        let mut cpu = CpuCost::new(vm.page_size, m.params.cpu_rate_new_bps, m.params.cpu_rate_resent_bps);
        if let Some(c) = mech.compression {
            cpu.compress_page_s = vm.page_size as f64 / c.cpu_rate;
        }
        if let Some(x) = mech.xbzrle {
            cpu.encode_page_s = vm.page_size as f64 / x.encode_rate;
        }
        cpu.parallel = mech.parallel();
        Migration {
            vm: m.vm,
            to: m.to,
            flow,
            p: m.params.clone(),
            strategy,
            stage: Stage::Waiting,
            cost: PageCost::with(vm.page_size, m.params.page_header_bytes, mech.zero_page_detection, mech.compression.map(|c| c.ratio)),
            cpu,
            present: Bitmap::new(0),
            untouched: None,
            latency,
            bits: Bitmap::new(pages),
            pending: 0,
            cursor: 0,
            window: Window::new(0, None),
            in_flight: InFlight::None,
            batch: Batch::default(),
            batch_pages: Vec::new(),
            in_flight_pages: PageSet::default(),
            access_spans: Vec::new(),
            spans_present: false,
            present_streak: 0,
            next_spans_check: SPANS_CHECK_FIRST,
            remote: None,
            remote_due: 0,
            urgent: Vec::new(),
            wake_gen: 0,
            wake_at: None,
            start_postcopy: false,
            latency_paid: false,
            start: m.start_ns,
            round_start: m.start_ns,
            round_sent: Batch::default(),
            rounds: 0,
            syncs: 0,
            sent: Batch::default(),
            precopy_bytes: 0,
            stop_time: None,
            resume_time: None,
            switch_time: None,
            end: None,
            converged: false,
            stop_reason: "",
            cancelled: false,
            final_batch: Batch::default(),
            recent: std::collections::VecDeque::new(),
            last_batch_end: 0,
            socket_wait_s: 0.0,
            timeline: Vec::new(),
            vcpu_gen: 0,
            vcpu_time: 0,
            vcpu_carry: 0.0,
            waiting_on: None,
            requests_in_flight: 0,
            faults: 0,
            stall_ns: 0,
            throttle: None,
            throttle_schedule: Vec::new(),
            xbz: mech.xbzrle.map(|x| XbzrleCache::new(x.cache_bytes, vm.page_size)),
            xbz_on: false,
            last_stage: false,
            xbz_stats: XbzStats::default(),
            delta: vm.workload.write_delta,
            rng: SimRng::seed_from_u64(seed),
            scratch: Vec::new(),
            xen_rate: mechanism::XEN_START_BPS,
            multifd: mech.multifd_channels > 1,
            free_skipped: 0,
            prepage_left: 0,
            stream_done_at: None,
            pivot: None,
            live_from: (0.0, 0.0, m.start_ns),
            live_to: None,
            window_cpu_s: 0.0,
        }
    }

    /// What pre-copy has done so far, for the strategy's switch decisions.
    pub fn so_far(&self, now: SimTime) -> SoFar<'_> {
        SoFar {
            rounds: self.rounds,
            timeline: &self.timeline,
            elapsed_ns: now.saturating_sub(self.start),
            switch_after_rounds: self.p.hybrid_switch_after,
            mech: &self.p.mech,
        }
    }

    /// What the stop policy sees: the pages to send now, and the round from `round_start` to
    /// `now` that sent `round_bytes`.
    pub fn progress(&self, vm: &VmSpec, round_bytes: u64, round_ns: u64) -> Progress {
        Progress {
            dirty_pages: self.pending,
            page_size: vm.page_size,
            rounds: self.rounds,
            max_rounds: self.p.max_rounds,
            round_bytes,
            round_ns,
            downtime_limit_ns: self.p.downtime_limit_ns,
            measured_threshold: self.window.threshold,
            sent_bytes: self.sent.bytes,
            memory_bytes: vm.memory_bytes,
        }
    }

    /// Record the stop policy's threshold on the round row just closed.
    pub fn set_round_threshold(&mut self, bytes: f64) {
        if let Some(r) = self.timeline.last_mut() {
            r.stop_threshold_bytes = Some(bytes);
        }
    }

    /// Take the next batch of at most `max_bytes` from the send bitmap (see `take_batch`); with
    /// `record`, its pages go to `batch_pages`. With XBZRLE on, pages are encoded as they are taken
    /// and more are taken until the encoded bytes fill the budget.
    pub fn take(&mut self, nonzero: &Bitmap, max_bytes: u64, wrap: bool, record: bool) -> Batch {
        self.take_to(nonzero, Limit::bytes(max_bytes), wrap, record)
    }

    /// `take` up to `limit` (a pre-copy iteration's, see `Limit`). With XBZRLE the pages' encoded
    /// sizes are known only once taken, so the batch ends at the byte budget, `limit.soft`.
    pub fn take_to(&mut self, nonzero: &Bitmap, limit: Limit, wrap: bool, record: bool) -> Batch {
        let max_bytes = if self.xbz_on { limit.soft } else { limit.hard };
        let before = self.cursor;
        let mut total = Batch::default();
        let mut scratch = std::mem::take(&mut self.scratch);
        loop {
            scratch.clear();
            let present = if self.cpu.tracks_present() { Some(&mut self.present) } else { None };
            // XBZRLE needs the page numbers; otherwise only a recorded batch keeps them.
            let taken = if self.xbz_on {
                Some(&mut scratch)
            } else if record {
                Some(&mut self.batch_pages)
            } else {
                None
            };
            let left = if self.xbz_on { Limit::bytes(max_bytes - total.bytes) } else { limit };
            let mut b =
                take_batch(&mut self.bits, &mut self.cursor, nonzero, self.untouched.as_deref(), present, self.cost, left, wrap, taken);
            if b.pages == 0 {
                break;
            }
            self.pending -= b.pages;
            if self.xbz_on {
                self.encode(&scratch, nonzero, &mut b);
                if record {
                    self.batch_pages.extend_from_slice(&scratch);
                }
            }
            total.add(b);
            if !self.xbz_on || total.bytes >= max_bytes {
                break;
            }
        }
        self.scratch = scratch;
        // The first full pass is over once the scan reaches the end of memory (or wraps).
        if self.xbz.is_some() && !self.xbz_on && self.stage == Stage::PreCopy && (self.cursor < before || self.cursor >= self.bits.len()) {
            self.xbz_on = true;
        }
        total
    }

    /// XBZRLE on the pages of `b` (save_xbzrle_page): a cached non-zero page goes as a delta of the
    /// workload's size (+ 3 bytes), unless that would not be smaller than the page (an overflow).
    fn encode(&mut self, pages: &[usize], nonzero: &Bitmap, b: &mut Batch) {
        let Some(cache) = self.xbz.as_mut() else { return };
        let page_size = self.cost.page_size;
        for &p in pages {
            if !nonzero.get(p) {
                continue;
            }
            match cache.lookup(p as u64, self.syncs, self.last_stage) {
                Lookup::Miss => self.xbz_stats.miss += 1,
                Lookup::Hit => {
                    let d = match self.delta {
                        DeltaSize::Fixed(x) => x,
                        DeltaSize::Uniform(a, z) => self.rng.random_range(a..=z),
                    } + mechanism::XBZRLE_OVERHEAD;
                    if d >= page_size {
                        self.xbz_stats.overflow += 1;
                    } else {
                        self.xbz_stats.pages += 1;
                        self.xbz_stats.bytes += d;
                        b.bytes = b.bytes - self.cost.nonzero + self.cost.header + d;
                        b.delta_pages += 1;
                    }
                }
            }
        }
    }

    /// The slowest pace the CPU may set (bytes/s), to size batches.
    pub fn cpu_rate_floor(&self) -> f64 {
        let s = self.cpu.new_page_s.max(self.cpu.resent_page_s);
        if s > 0.0 { self.cost.nonzero as f64 / s } else { f64::INFINITY }
    }

    /// A timeline row for what was sent since `round_start`, closed at `end`.
    pub fn round_row(&self, phase: &'static str, end: SimTime, dirty_pages_at_end: u64) -> RoundRecord {
        let s = self.round_sent;
        RoundRecord::new(
            self.rounds,
            phase,
            self.round_start,
            end,
            s.pages,
            s.bytes,
            dirty_pages_at_end,
            end.saturating_sub(self.round_start),
        )
    }

    /// The migration's figures at the end of the run (`now`: the clock when the run ended).
    pub fn result(&self, sc: &Scenario, vm: &Vm, now: SimTime) -> MigrationResult {
        let sec = |t: u64| t as f64 / 1e9;
        let end = self.end.unwrap_or(now);
        let completed = !self.cancelled && self.resume_time.is_some() && self.end.is_some();
        let spec = &sc.vms[self.vm];
        let ps = spec.page_size;
        // Shares of the live migration lost: the application's writes, and vCPU time.
        let (l1, t1, e) = self.live_to.unwrap_or((vm.lost_ns, vm.throttle_ns, end));
        let (l0, t0, s0) = self.live_from;
        let span = e.saturating_sub(s0) as f64;
        let (app_slowdown, throttle_share) = if span > 0.0 { ((l1 - l0) / span, (t1 - t0) / span) } else { (0.0, 0.0) };
        MigrationResult {
            vm: spec.name.clone(),
            strategy: self.strategy.name().to_string(),
            from: sc.hosts[spec.host].name.clone(),
            to: sc.hosts[self.to].name.clone(),
            start_s: sec(self.start),
            total_time_s: sec(end - self.start),
            downtime_s: match (self.stop_time, self.resume_time) {
                (Some(s), Some(r)) => Some(sec(r - s)),
                _ => None,
            },
            completed,
            bytes_sent: self.sent.bytes,
            pages_sent: self.sent.pages,
            zero_pages_sent: self.sent.zero_pages,
            precopy_bytes: self.precopy_bytes,
            stop_copy_bytes: if self.cancelled {
                // A final copy cut at max_time: what of it arrived.
                self.sent.bytes - self.precopy_bytes
            } else if self.switch_time.is_none() && self.resume_time.is_some() {
                self.final_batch.bytes + spec.device_state_bytes
            } else {
                0
            },
            postcopy_bytes: if self.switch_time.is_some() { self.sent.bytes - self.precopy_bytes } else { 0 },
            rounds: self.rounds,
            syncs: self.syncs,
            converged: self.converged,
            stop_reason: self.stop_reason.to_string(),
            remote_faults: self.faults,
            fault_stall_s: sec(self.stall_ns),
            postcopy_window_s: match (self.switch_time, self.end) {
                (Some(s), Some(e)) => sec(e - s),
                _ => 0.0,
            },
            postcopy_start_s: self.switch_time.map(|s| sec(s - self.start)),
            throttle_max_pct: self.throttle_schedule.iter().map(|s| s[1]).fold(0.0, f64::max),
            throttle_share,
            app_slowdown,
            throttle_schedule: self.throttle_schedule.clone(),
            xbzrle_pages: self.xbz_stats.pages,
            xbzrle_cache_miss: self.xbz_stats.miss,
            xbzrle_overflow: self.xbz_stats.overflow,
            xbzrle_bytes: self.xbz_stats.bytes,
            xbzrle_bytes_saved: (self.xbz_stats.pages * ps).saturating_sub(self.xbz_stats.bytes),
            zero_page_bytes_saved: if self.p.mech.zero_page_detection { self.sent.zero_pages * ps } else { 0 },
            compression_bytes_saved: (self.sent.pages - self.sent.zero_pages - self.sent.delta_pages)
                * (ps + self.cost.header - self.cost.nonzero),
            free_pages_skipped: self.free_skipped,
            free_bytes_saved: self.free_skipped * ps,
            socket_wait_s: self.socket_wait_s,
            timeline: self.timeline.clone(),
        }
    }
}

/// What one migration may touch while it acts: its own state, its VM, and the network and event
/// queue it shares with the other migrations.
pub struct Ctx<'a> {
    /// The migration's index: its events carry it, and its flow has it as id.
    pub id: usize,
    pub mig: &'a mut Migration,
    pub vm: &'a mut Vm,
    pub spec: &'a VmSpec,
    pub net: &'a mut Network,
    pub q: &'a mut EventQueue<Ev>,
}

impl Ctx<'_> {
    /// Start sending `bytes` on the migration's flow at most at `cap` bytes/s.
    pub fn send(&mut self, bytes: u64, cap: f64, now: SimTime) {
        self.net.start(self.mig.flow, bytes as f64, cap, now, self.q.seq_mut());
    }

    /// Stop the batch in flight at `now` (`max_time`): returns the bytes it had left to send.
    pub fn cut(&mut self, now: SimTime) -> u64 {
        self.mig.in_flight = InFlight::None;
        self.net.abort(self.mig.flow, now, self.q.seq_mut()).ceil() as u64
    }

    /// Wake the sender at `at` (an earlier wake-up still pending becomes stale).
    pub fn wake_at(&mut self, at: SimTime) {
        let mg = &mut *self.mig;
        mg.wake_gen += 1;
        mg.wake_at = Some(at);
        self.q.schedule(at, Ev::Wake(self.id, mg.wake_gen));
    }

    /// Run the post-copy guest again at `at` (an earlier run still pending becomes stale).
    pub fn run_vcpu_at(&mut self, at: SimTime) {
        let mg = &mut *self.mig;
        mg.vcpu_gen += 1;
        self.q.schedule(at, Ev::Vcpu(self.id, mg.vcpu_gen));
    }

    /// A rate-limit window of `spent_ns` closed at `now` (pre-copy): the vCPUs' pace for the next
    /// one follows from how much of it the stream worked (`HostCpu::guest_interference` x the
    /// stream's CPU seconds over the window's length, at most 1). The last window stands for the
    /// next: the stream's duty changes slowly, and QEMU's windows are this short.
    pub fn guest_interference(&mut self, now: SimTime, spent_ns: u64) {
        let busy = std::mem::take(&mut self.mig.window_cpu_s);
        let Some(h) = self.mig.p.mech.host_cpu else { return };
        if h.guest_interference == 0.0 || self.vm.paused || spent_ns == 0 {
            return;
        }
        let pace = 1.0 - h.guest_interference * (busy / (spent_ns as f64 / 1e9)).min(1.0);
        if pace == self.mig.cpu.vcpu_pace {
            return;
        }
        self.mig.cpu.vcpu_pace = pace;
        let throttle = self.mig.throttle.as_ref().map_or(1.0, Throttle::running_share);
        let share = crate::model::mechanism::cpu::rebalance(&self.mig.p.mech, &mut self.mig.cpu, false, self.spec.page_size, throttle);
        if share != self.vm.cpu_share {
            self.vm.advance(now);
            self.vm.cpu_share = share;
        }
    }

    /// Whether the migration has run for `max_time`.
    pub fn over_time(&self, now: SimTime) -> bool {
        now.saturating_sub(self.mig.start) >= self.mig.p.max_time_ns
    }

    /// Move the dirty log into the send bitmap (a dirty-bitmap sync) and let auto-converge judge the
    /// period (QEMU's migration_bitmap_sync).
    pub fn sync(&mut self, now: SimTime) {
        self.vm.advance(now);
        let ps = self.spec.page_size;
        let vm = &mut *self.vm;
        let mg = &mut *self.mig;
        // Pages newly dirty: written since the last sync and not already waiting to be sent.
        let newly = if mg.throttle.is_some() { vm.mem.dirty_log.count_and_not(&mg.bits) } else { 0 };
        vm.mem.take_dirty_log(&mut mg.bits);
        mg.pending = mg.bits.count_ones();
        mg.syncs += 1;
        let sent = mg.sent.bytes;
        if !vm.paused
            && let Some(t) = mg.throttle.as_mut()
            && let Some(pct) = t.on_sync(now, newly, ps, sent)
        {
            vm.cpu_share = crate::model::mechanism::cpu::rebalance(&mg.p.mech, &mut mg.cpu, false, ps, t.running_share());
            mg.throttle_schedule.push([(now - mg.start) as f64 / 1e9, pct]);
        }
    }

    /// The live part is over: the VM pauses at `now`, a last sync takes everything it wrote before,
    /// and the throttle and the dirty limit are lifted.
    pub fn pause(&mut self, now: SimTime) {
        self.vm.advance(now);
        self.vm.paused = true;
        self.sync(now);
        let vm = &mut *self.vm;
        self.mig.live_to = Some((vm.lost_ns, vm.throttle_ns, now));
        vm.cpu_share = crate::model::mechanism::cpu::rebalance(&self.mig.p.mech, &mut self.mig.cpu, true, self.spec.page_size, 1.0);
        if let Some(r) = self.mig.p.cpu_rate_resent_paused_bps {
            self.mig.cpu.resent_page_s = self.spec.page_size as f64 / r;
        }
        vm.workload.dirty_limit_pps = f64::INFINITY;
    }

    /// Close the current pre-copy round at `now` (after a sync) and open the next.
    pub fn end_round(&mut self, now: SimTime) {
        let ps = self.spec.page_size;
        let mg = &mut *self.mig;
        let mut row = mg.round_row("precopy", now, mg.pending);
        // The step as set (20, not 1 - 0.8 in floating point), as in throttle_schedule.
        row.throttle_pct = mg.throttle_schedule.last().map_or(0.0, |s| s[1]);
        mg.timeline.push(row);
        // Xen legacy (xc_domain_save.c, print_stats): when this round dirtied faster than the current
        // limit, the next round sends at that dirty rate + 50 Mbit/s, at most 500; the limit never
        // goes down.
        let dur = now.saturating_sub(mg.round_start);
        if dur > 0 {
            let dirty_rate = (mg.pending * ps) as f64 / (dur as f64 / 1e9);
            if dirty_rate > mg.xen_rate {
                mg.xen_rate = (dirty_rate + mechanism::XEN_STEP_BPS).min(mechanism::XEN_MAX_BPS);
            }
        }
        mg.rounds += 1;
        mg.round_start = now;
        mg.round_sent = Batch::default();
    }
}
