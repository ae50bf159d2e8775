//! One simulation run: the VMs (memory, workload, random stream), the network, and the migrations as
//! state machines driven by the event queue. Stages of a migration, read top to bottom:
//!
//! 1. **Setup**: the dirty log starts and every page is marked to send (QEMU's first sync).
//! 2. **Pre-copy** (pre-copy and hybrid): pages go out in address order in batches; writes land in the
//!    dirty log; a sync moves the dirty log into the send bitmap. The stop policy decides when to stop.
//! 3. **Stop-and-copy**: the VM pauses, a final sync, the rest plus the device state go out at the
//!    switchover rate, the VM resumes at the destination.
//! 4. **Post-copy** (post-copy and hybrid): instead of 3, the VM pauses, its device state goes out,
//!    it resumes at the destination, and the pages still missing there are pushed in address order
//!    while the guest's accesses to missing pages fault them in ahead of the push.
//!
//! Cold migration pauses first and copies everything once.

use crate::model::events::{EventQueue, SimTime};
use crate::model::mechanism::{self, HybridSwitch, Lookup, RateLimit, Throttle, XbzrleCache};
use crate::model::memory::ZeroPages;
use crate::model::memory::{Bitmap, Memory};
use crate::model::network::{Completion, FlowId, Network};
use crate::model::result::{MigrationResult, RoundRecord, RunReport};
use crate::model::scenario::{MigrationParams, OnMaxTime, Scenario};
use crate::model::stop::StopPolicy;
use crate::model::strategy::Strategy;
use crate::model::transfer::{Batch, CpuCost, PageCost, Window, cost_of, take_batch};
use crate::model::workload::DeltaSize;
use crate::model::workload::{SimRng, Workload};
use rand::{Rng, SeedableRng};

/// How long one pre-copy iteration sends before the stop rule is checked again. QEMU's
/// ram_save_iterate returns after at most 50 ms (or when the rate limit trips).
const ITERATION_NS: u64 = 50_000_000;
/// Post-copy batches are short so that a faulted page waits little behind the background push.
const POSTCOPY_BATCH_NS: u64 = 1_000_000;
/// Xen legacy: stop when fewer than this many pages were dirtied in the last round.
const XEN_MIN_DIRTY_PAGES: u64 = 50;
/// Xen legacy: stop when more than this many times the VM's memory has been sent.
const XEN_MAX_FACTOR: u64 = 3;

#[derive(Debug, Clone, Copy)]
enum Ev {
    Start(usize),
    SetupDone(usize),
    Flow(Completion),
    Wake(usize, u64),
    Vcpu(usize, u64),
    Request(usize, usize),
}

/// Post-copy: after this many accesses in a row that found their page present, look whether the
/// guest can still fault at all (see `Mig::spans_present`).
const SPANS_CHECK_FIRST: u64 = 4096;

struct Vm {
    mem: Memory,
    workload: Workload,
    rng: SimRng,
    clock: SimTime,
    paused: bool,
    /// Share of time the vCPU runs (1 - the auto-converge throttle).
    cpu_share: f64,
    /// Integrals over running time (ns): the share of the application's writes not issued, and
    /// the throttle.
    lost_ns: f64,
    throttle_ns: f64,
}

impl Vm {
    /// Apply the guest's writes up to `now` (none while paused).
    fn advance(&mut self, now: SimTime) {
        if now > self.clock {
            if !self.paused {
                if self.cpu_share < 1.0 || self.workload.dirty_limit_pps.is_finite() {
                    let dt = (now - self.clock) as f64;
                    self.lost_ns += dt * (1.0 - self.workload.achieved_share(self.clock, self.cpu_share));
                    self.throttle_ns += dt * (1.0 - self.cpu_share);
                }
                self.workload.advance(self.clock, now, self.cpu_share, &mut self.rng, &mut self.mem);
            }
            self.clock = now;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
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
enum InFlight {
    None,
    Pages,
    Final,
}

struct Mig {
    vm: usize,
    to: usize,
    flow: FlowId,
    p: MigrationParams,
    strategy: Strategy,
    stage: Stage,
    cost: PageCost,
    cpu: CpuCost,
    /// Non-zero pages the destination holds (tracked only when `cpu` has a cost).
    present: Bitmap,
    latency: SimTime,
    /// Pre-copy: pages to send in this round (QEMU's migration bitmap). Post-copy: pages still missing
    /// at the destination.
    bits: Bitmap,
    /// Number of bits set in `bits`, kept up to date (counting a 64 GiB bitmap per batch is slow).
    pending: u64,
    cursor: usize,
    window: Window,
    in_flight: InFlight,
    batch: Batch,
    /// Post-copy: pages of the batch in flight, and the same as a bitmap for quick lookups.
    batch_pages: Vec<usize>,
    in_flight_bits: Bitmap,
    urgent: Vec<usize>,
    wake_gen: u64,
    wake_at: Option<SimTime>,
    flow_done_at: Option<SimTime>,
    start_postcopy: bool,
    /// SimGrid: the latency of the round's message has been waited for.
    latency_paid: bool,
    // Accounting.
    start: SimTime,
    round_start: SimTime,
    round_sent: Batch,
    rounds: u32,
    syncs: u32,
    sent: Batch,
    precopy_bytes: u64,
    stop_time: Option<SimTime>,
    resume_time: Option<SimTime>,
    switch_time: Option<SimTime>,
    end: Option<SimTime>,
    converged: bool,
    stop_reason: &'static str,
    final_batch: Batch,
    timeline: Vec<RoundRecord>,
    // Post-copy guest.
    vcpu_gen: u64,
    vcpu_time: SimTime,
    vcpu_carry: f64,
    waiting_on: Option<(usize, SimTime)>,
    /// Page requests on their way to the source.
    requests_in_flight: u32,
    faults: u64,
    stall_ns: u64,
    /// Post-copy: the spans of pages the guest's accesses may touch, and whether none of them is
    /// still missing or in flight (then the guest can never fault again: pages only arrive).
    access_spans: Vec<std::ops::Range<usize>>,
    spans_present: bool,
    /// Accesses in a row that found their page present, and the count at which to look again
    /// whether any page of `access_spans` is still missing.
    present_streak: u64,
    next_spans_check: u64,
    // Mechanisms.
    throttle: Option<Throttle>,
    throttle_schedule: Vec<[f64; 2]>,
    xbz: Option<XbzrleCache>,
    /// XBZRLE is used once the first full pass is over (QEMU: after the bulk stage).
    xbz_on: bool,
    last_stage: bool,
    xbz_stats: XbzStats,
    delta: DeltaSize,
    /// Random draws of the mechanisms (XBZRLE delta sizes), apart from the guest's stream.
    rng: SimRng,
    scratch: Vec<usize>,
    /// Xen's legacy rate limit for the current round, bytes/s.
    xen_rate: f64,
    multifd: bool,
    free_skipped: u64,
    /// Post-copy pre-paging: pages still to push from the last fault on.
    prepage_left: u64,
    /// Post-copy: when a batch of the stream last completed (the socket is full while it streams).
    stream_done_at: Option<SimTime>,
    /// Post-copy: the page whose request moves the push, once the data queued ahead of it is taken.
    pivot: Option<usize>,
    /// The VM's lost-work and throttle integrals when the live migration began and ended.
    live_from: (f64, f64, SimTime),
    live_to: Option<(f64, f64, SimTime)>,
}

#[derive(Debug, Clone, Copy, Default)]
struct XbzStats {
    pages: u64,
    miss: u64,
    overflow: u64,
    bytes: u64,
}

impl Mig {
    /// Hybrid: switch to post-copy after `hybrid_switch_after` rounds, or earlier once pre-copy stops
    /// making progress: the dirty set left by the last round is not at least 5 % smaller than the one
    /// before (a saturated working set only wobbles by a few pages from round to round).
    fn hybrid_should_switch(&self) -> bool {
        if self.strategy != Strategy::Hybrid {
            return false;
        }
        let stalled = match self.timeline.as_slice() {
            [.., a, b] => b.dirty_pages_at_end * 20 > a.dirty_pages_at_end * 19,
            _ => false,
        };
        let after_n = self.rounds >= self.p.hybrid_switch_after;
        match self.p.mech.hybrid_switch {
            HybridSwitch::Rounds => after_n,
            HybridSwitch::Stall => stalled,
            HybridSwitch::Either => after_n || stalled,
            HybridSwitch::Time => false,
        }
    }

    /// Record the stop policy's threshold on the round row just closed.
    fn set_round_threshold(&mut self, bytes: f64) {
        if let Some(r) = self.timeline.last_mut() {
            r.stop_threshold_bytes = Some(bytes);
        }
    }

    /// Hybrid: `hybrid_switch_after_time` has passed since the migration began, so post-copy is
    /// requested (the lab harness's `--postcopy-after-s`; QEMU switches at its next iteration).
    fn hybrid_time_due(&self, now: SimTime) -> bool {
        self.strategy == Strategy::Hybrid && self.p.mech.hybrid_switch_after_time.is_some_and(|t| now.saturating_sub(self.start) >= t)
    }

    /// Take the next batch of at most `max_bytes` from the send bitmap (see `take_batch`); with
    /// `record`, its pages go to `batch_pages`. With XBZRLE on, pages are encoded as they are taken
    /// and more are taken until the encoded bytes fill the budget.
    fn take(&mut self, nonzero: &Bitmap, max_bytes: u64, wrap: bool, record: bool) -> Batch {
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
            let mut b = take_batch(&mut self.bits, &mut self.cursor, nonzero, present, self.cost, max_bytes - total.bytes, wrap, taken);
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
    fn cpu_rate_floor(&self) -> f64 {
        let s = self.cpu.new_page_s.max(self.cpu.resent_page_s);
        if s > 0.0 { self.cost.nonzero as f64 / s } else { f64::INFINITY }
    }

    /// A timeline row for what was sent since `round_start`, closed at `end`.
    fn round_row(&self, phase: &'static str, end: SimTime, dirty_pages_at_end: u64) -> RoundRecord {
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
}

pub struct Simulation<'a> {
    sc: &'a Scenario,
    q: EventQueue<Ev>,
    net: Network,
    vms: Vec<Vm>,
    migs: Vec<Mig>,
}

/// Simulate every strategy of the scenario (one run each, same seed).
pub fn simulate(sc: &Scenario) -> RunReport {
    let mut migrations = Vec::new();
    for &s in &sc.strategies {
        migrations.extend(run(sc, s));
    }
    RunReport {
        scenario: sc.name.clone(),
        description: sc.description.clone(),
        seed: sc.seed,
        migsim_version: env!("CARGO_PKG_VERSION"),
        migrations,
    }
}

/// Run one simulation of `sc` with every migration that has no strategy of its own using `strategy`.
pub fn run(sc: &Scenario, strategy: Strategy) -> Vec<MigrationResult> {
    let mut sim = Simulation::new(sc, strategy);
    sim.run();
    sim.results()
}

fn seed_for(seed: u64, vm: usize) -> u64 {
    // SplitMix64 of (seed, vm): independent, reproducible streams per VM.
    let mut z = seed ^ (vm as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<'a> Simulation<'a> {
    pub fn new(sc: &'a Scenario, strategy: Strategy) -> Self {
        let mut net = Network::new(&sc.links);
        let vms = sc
            .vms
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let pages = v.pages() as usize;
                let ws = v.workload.working_set;
                Vm {
                    mem: match &v.zero_pages {
                        ZeroPages::Profile(p) => Memory::with_zero_profile(pages, v.page_size, p, ws.span()),
                        ZeroPages::Share { fraction, layout } => Memory::new(pages, v.page_size, *fraction, *layout, ws.span()),
                    },
                    workload: Workload::new(&v.workload),
                    rng: SimRng::seed_from_u64(seed_for(sc.seed, i)),
                    clock: 0,
                    paused: false,
                    cpu_share: 1.0,
                    lost_ns: 0.0,
                    throttle_ns: 0.0,
                }
            })
            .collect();
        let mut q = EventQueue::default();
        let migs = sc
            .migrations
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let vm = &sc.vms[m.vm];
                let route = crate::model::network::route(&sc.links, sc.hosts.len(), vm.host, m.to)
                    .expect("routes are checked when the scenario is read");
                let flow = net.add_flow(route);
                q.schedule(m.start_ns, Ev::Start(i));
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
                Mig {
                    vm: m.vm,
                    to: m.to,
                    flow,
                    p: m.params.clone(),
                    strategy: m.params.strategy.unwrap_or(strategy),
                    stage: Stage::Waiting,
                    cost: PageCost::with(
                        vm.page_size,
                        m.params.page_header_bytes,
                        mech.zero_page_detection,
                        mech.compression.map(|c| c.ratio),
                    ),
                    cpu,
                    present: Bitmap::new(0),
                    latency: net.latency(flow),
                    bits: Bitmap::new(pages),
                    pending: 0,
                    cursor: 0,
                    window: Window::new(0, None),
                    in_flight: InFlight::None,
                    batch: Batch::default(),
                    batch_pages: Vec::new(),
                    in_flight_bits: Bitmap::new(0),
                    access_spans: Vec::new(),
                    spans_present: false,
                    present_streak: 0,
                    next_spans_check: SPANS_CHECK_FIRST,
                    urgent: Vec::new(),
                    wake_gen: 0,
                    wake_at: None,
                    flow_done_at: None,
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
                    final_batch: Batch::default(),
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
                    rng: SimRng::seed_from_u64(seed_for(sc.seed ^ 0x6D65_6368, i)),
                    scratch: Vec::new(),
                    xen_rate: mechanism::XEN_START_BPS,
                    multifd: mech.multifd_channels > 1,
                    free_skipped: 0,
                    prepage_left: 0,
                    stream_done_at: None,
                    pivot: None,
                    live_from: (0.0, 0.0, m.start_ns),
                    live_to: None,
                }
            })
            .collect();
        Simulation { sc, q, net, vms, migs }
    }

    pub fn run(&mut self) {
        while let Some((now, ev)) = self.q.pop() {
            match ev {
                Ev::Start(m) => self.on_start(m, now),
                Ev::SetupDone(m) => {
                    self.migs[m].stage = Stage::PreCopy;
                    self.migs[m].round_start = now;
                    // SimGrid caps a migration's rate steadily (Comm::set_rate) instead of pacing windows.
                    let steady = self.migs[m].p.stop_policy == StopPolicy::SimGrid || self.migs[m].p.mech.rate_limit == RateLimit::Xen;
                    let paced = if steady { None } else { self.migs[m].p.max_bandwidth_bps };
                    self.migs[m].window = Window::new(now, paced);
                    self.step(m, now);
                }
                Ev::Flow(c) => {
                    if let Some(resched) = self.net.complete(c.flow, c.generation, now) {
                        self.schedule_flows(resched);
                        self.on_batch_done(c.flow, now);
                    }
                }
                Ev::Wake(m, g) => {
                    if self.migs[m].wake_gen == g {
                        self.migs[m].wake_at = None;
                        self.step(m, now);
                    }
                }
                Ev::Vcpu(m, g) => {
                    if self.migs[m].vcpu_gen == g {
                        self.run_vcpu(m, now);
                    }
                }
                Ev::Request(m, page) => self.on_request(m, page, now),
            }
        }
    }

    fn schedule_flows(&mut self, cs: Vec<Completion>) {
        for c in cs {
            // The flow id is the migration's index.
            self.migs[c.flow].flow_done_at = Some(c.at);
            self.q.schedule(c.at, Ev::Flow(c));
        }
    }

    fn send(&mut self, m: usize, bytes: u64, cap: f64, now: SimTime) {
        let cs = self.net.start(self.migs[m].flow, bytes as f64, cap, now);
        self.schedule_flows(cs);
    }

    fn wake_at(&mut self, m: usize, at: SimTime) {
        let mg = &mut self.migs[m];
        mg.wake_gen += 1;
        mg.wake_at = Some(at);
        self.q.schedule(at, Ev::Wake(m, mg.wake_gen));
    }

    fn on_start(&mut self, m: usize, now: SimTime) {
        let vmi = self.migs[m].vm;
        self.vms[vmi].advance(now);
        let pages = self.vms[vmi].mem.pages();
        let spec = &self.sc.vms[vmi];
        // Free pages (ballooned or reported free) are never sent (Hines & Gopalan's dynamic
        // self-ballooning; facts file, "Post-copy"). They hold stale data, not zeros (memory.rs).
        let free = (spec.free_fraction > 0.0).then(|| {
            let ws = spec.workload.working_set;
            crate::model::memory::free_pages(&self.vms[vmi].mem.nonzero, spec.free_fraction, ws.span())
        });
        let vm = &mut self.vms[vmi];
        let mg = &mut self.migs[m];
        mg.start = now;
        mg.live_from = (vm.lost_ns, vm.throttle_ns, now);
        if let Some(d) = mg.p.mech.dirty_limit {
            vm.workload.dirty_limit_pps = d.pages_per_sec(spec.page_size);
        }
        mg.throttle = mg.p.mech.auto_converge.map(|a| Throttle::new(a, now));
        // Every page is to be sent, the free ones aside.
        let mut all = Bitmap::full(pages);
        if let Some(f) = &free {
            all.and_not_assign(f);
            mg.free_skipped = f.count_ones();
        }
        mg.present = Bitmap::new(if mg.cpu.tracks_present() { pages } else { 0 });
        if mg.strategy == Strategy::Cold {
            mg.stage = Stage::Cold;
            self.vms[vmi].paused = true;
            mg.stop_time = Some(now);
            mg.converged = true;
            mg.stop_reason = "cold";
            let present = mg.cpu.tracks_present().then_some(&mg.present);
            let b = cost_of(&all, &self.vms[vmi].mem.nonzero, present, mg.cost);
            mg.final_batch = b;
            mg.in_flight = InFlight::Final;
            let dev = self.sc.vms[vmi].device_state_bytes;
            let bytes = b.bytes + dev;
            let cap = mg.cpu.cap(&b, dev, mg.p.max_bandwidth_bps.unwrap_or(f64::INFINITY));
            self.send(m, bytes, cap, now);
            return;
        }
        // Setup: QEMU's first dirty-bitmap sync marks every page and starts dirty logging.
        mg.stage = Stage::Setup;
        mg.bits = all;
        mg.pending = mg.bits.count_ones();
        mg.syncs = 1;
        vm.mem.dirty_log.clear_all();
        let at = now + mg.p.setup_time_ns;
        if mg.strategy == Strategy::PostCopy {
            mg.start_postcopy = true;
        }
        self.q.schedule(at, Ev::SetupDone(m));
    }

    /// Move the dirty log into the send bitmap (a dirty-bitmap sync) and let auto-converge judge the
    /// period (QEMU's migration_bitmap_sync).
    fn sync(&mut self, m: usize, now: SimTime) {
        let vmi = self.migs[m].vm;
        let ps = self.sc.vms[vmi].page_size;
        let vm = &mut self.vms[vmi];
        let mg = &mut self.migs[m];
        // Pages newly dirty: written since the last sync and not already waiting to be sent.
        let newly = if mg.throttle.is_some() { vm.mem.dirty_log.count_and_not(&mg.bits) } else { 0 };
        mg.bits.or_assign(&vm.mem.dirty_log);
        mg.pending = mg.bits.count_ones();
        vm.mem.dirty_log.clear_all();
        mg.syncs += 1;
        let sent = mg.sent.bytes;
        if !vm.paused
            && let Some(t) = mg.throttle.as_mut()
            && let Some(pct) = t.on_sync(now, newly, ps, sent)
        {
            vm.cpu_share = 1.0 - pct / 100.0;
            mg.throttle_schedule.push([(now - mg.start) as f64 / 1e9, pct]);
        }
    }

    /// The live part is over: the VM pauses at `now`, a last sync takes everything it wrote before,
    /// and the throttle and the dirty limit are lifted.
    fn pause(&mut self, m: usize, now: SimTime) {
        let vmi = self.migs[m].vm;
        self.vms[vmi].advance(now);
        self.vms[vmi].paused = true;
        self.sync(m, now);
        let vm = &mut self.vms[vmi];
        self.migs[m].live_to = Some((vm.lost_ns, vm.throttle_ns, now));
        vm.cpu_share = 1.0;
        vm.workload.dirty_limit_pps = f64::INFINITY;
    }

    /// Close the current pre-copy round at `now` (after a sync) and open the next.
    fn end_round(&mut self, m: usize, now: SimTime) {
        let ps = self.sc.vms[self.migs[m].vm].page_size;
        let mg = &mut self.migs[m];
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

    /// The pre-copy and post-copy loop: called whenever the migration can act (batch done, wake-up).
    fn step(&mut self, m: usize, now: SimTime) {
        let vmi = self.migs[m].vm;
        self.vms[vmi].advance(now);
        match self.migs[m].stage {
            Stage::PreCopy => self.step_precopy(m, now),
            Stage::PostCopy => self.step_postcopy(m, now),
            _ => {}
        }
    }

    fn over_time(&self, m: usize, now: SimTime) -> bool {
        let mg = &self.migs[m];
        now.saturating_sub(mg.start) >= mg.p.max_time_ns
    }

    fn step_precopy(&mut self, m: usize, now: SimTime) {
        if self.over_time(m, now) {
            match self.migs[m].p.on_max_time {
                OnMaxTime::Cancel => return self.cancel(m, now),
                OnMaxTime::Stop => return self.stop_and_copy(m, now, "max_time", false),
            }
        }
        if self.migs[m].hybrid_time_due(now) {
            self.migs[m].start_postcopy = true;
        }
        let policy = self.migs[m].p.stop_policy;
        let dl = self.migs[m].p.downtime_limit_ns;
        self.migs[m].window.update(now, dl);
        if self.migs[m].window.over_quota() {
            let end = self.migs[m].window.end();
            return self.wake_at(m, end);
        }
        let ps = self.sc.vms[self.migs[m].vm].page_size;
        match policy {
            StopPolicy::Qemu => {
                // qemu migration_iteration_run + ram_save_pending (7.2).
                let threshold = self.migs[m].window.threshold;
                let mut remaining = self.migs[m].pending * ps;
                if (remaining as f64) < threshold {
                    self.sync(m, now);
                    self.end_round(m, now);
                    self.migs[m].set_round_threshold(threshold);
                    remaining = self.migs[m].pending * ps;
                    if self.migs[m].hybrid_should_switch() {
                        self.migs[m].start_postcopy = true;
                    }
                }
                if remaining != 0 && remaining as f64 >= threshold {
                    if self.migs[m].start_postcopy {
                        return self.switch_to_postcopy(m, now);
                    }
                    self.send_precopy_batch(m, now, true);
                } else {
                    self.stop_and_copy(m, now, "converged", true);
                }
            }
            _ => {
                if self.migs[m].start_postcopy {
                    return self.switch_to_postcopy(m, now);
                }
                if self.migs[m].bits.next_set(self.migs[m].cursor).is_some() {
                    return self.send_precopy_batch(m, now, false);
                }
                // End of a pass. SimGrid sends each round as one message that costs a full latency
                // before the next round can start (peers/simgrid README: "nothing is pipelined").
                if policy == StopPolicy::SimGrid && !self.migs[m].latency_paid {
                    self.migs[m].latency_paid = true;
                    let at = now + self.migs[m].latency;
                    return self.wake_at(m, at);
                }
                self.migs[m].latency_paid = false;
                let dur = now.saturating_sub(self.migs[m].round_start);
                let round_bytes = self.migs[m].round_sent.bytes;
                self.sync(m, now);
                self.end_round(m, now);
                self.migs[m].cursor = 0;
                let mg = &self.migs[m];
                let dirty = mg.pending;
                let bw = if dur > 0 { round_bytes as f64 / (dur as f64 / 1e9) } else { f64::INFINITY };
                let budget = bw * dl as f64 / 1e9;
                let mem_bytes = self.sc.vms[mg.vm].memory_bytes;
                let limit = match policy {
                    StopPolicy::Threshold | StopPolicy::SimGrid => Some(budget),
                    // Xen stops below 50 dirty pages.
                    StopPolicy::Xen => Some((XEN_MIN_DIRTY_PAGES * ps) as f64),
                    StopPolicy::Rounds | StopPolicy::Qemu => None,
                };
                if let Some(b) = limit {
                    self.migs[m].set_round_threshold(b);
                }
                let mg = &self.migs[m];
                let verdict: Option<(&'static str, bool)> = match policy {
                    StopPolicy::Threshold | StopPolicy::SimGrid => ((dirty * ps) as f64 <= budget).then_some(("converged", true)),
                    StopPolicy::Xen => {
                        if dirty < XEN_MIN_DIRTY_PAGES {
                            Some(("converged", true))
                        } else if mg.rounds >= mg.p.max_rounds {
                            Some(("max_rounds", false))
                        } else if mg.sent.bytes > XEN_MAX_FACTOR * mem_bytes {
                            Some(("max_data", false))
                        } else {
                            None
                        }
                    }
                    StopPolicy::Rounds => (mg.rounds >= mg.p.max_rounds).then_some(("max_rounds", true)),
                    StopPolicy::Qemu => unreachable!("handled above"),
                };
                if let Some((reason, converged)) = verdict {
                    return self.stop_and_copy(m, now, reason, converged);
                }
                if dirty == 0 {
                    // Nothing dirty and the policy wants more rounds: stop now, nothing to gain.
                    return self.stop_and_copy(m, now, "converged", true);
                }
                if mg.hybrid_should_switch() {
                    return self.switch_to_postcopy(m, now);
                }
                self.send_precopy_batch(m, now, false);
            }
        }
    }

    fn send_precopy_batch(&mut self, m: usize, now: SimTime, wrap: bool) {
        let vmi = self.migs[m].vm;
        let mg = &mut self.migs[m];
        let xen = mg.p.mech.rate_limit == RateLimit::Xen;
        if xen {
            // Xen legacy: a page dirtied again since this round began is skipped; it goes next round.
            mg.bits.and_not_assign(&self.vms[vmi].mem.dirty_log);
            mg.pending = mg.bits.count_ones();
        }
        let mut rate = self.net.rate_estimate(mg.flow).min(mg.cpu_rate_floor());
        if xen {
            rate = rate.min(mg.xen_rate);
        }
        let chunk = if rate.is_finite() { (rate * ITERATION_NS as f64 / 1e9).max(1.0) as u64 } else { u64::MAX };
        let max_bytes = chunk.min(mg.window.room());
        let b = mg.take(&self.vms[vmi].mem.nonzero, max_bytes, wrap, false);
        if b.pages == 0 {
            // Nothing left to send in this pass: come back at once to end it.
            return self.step_precopy(m, now);
        }
        mg.batch = b;
        mg.in_flight = InFlight::Pages;
        if mg.multifd {
            // Multifd: QEMU counts pages as transferred when they are queued to a channel, so the
            // window (and the bandwidth estimate) runs ahead of the wire (lab README, multifd).
            mg.window.bytes += b.bytes;
        }
        let cap = if mg.p.stop_policy == StopPolicy::SimGrid {
            mg.p.max_bandwidth_bps.unwrap_or(f64::INFINITY)
        } else if xen {
            mg.xen_rate
        } else {
            f64::INFINITY
        };
        let cap = mg.cpu.cap(&b, 0, cap);
        self.send(m, b.bytes, cap, now);
    }

    fn cancel(&mut self, m: usize, now: SimTime) {
        let mg = &mut self.migs[m];
        mg.stage = Stage::Done;
        mg.end = Some(now);
        mg.converged = false;
        mg.stop_reason = "max_time";
        mg.precopy_bytes = mg.sent.bytes;
        if mg.round_sent.pages > 0 {
            let row = mg.round_row("precopy (cancelled)", now, mg.pending);
            mg.timeline.push(row);
        }
    }

    fn stop_and_copy(&mut self, m: usize, now: SimTime, reason: &'static str, converged: bool) {
        let vmi = self.migs[m].vm;
        // Final sync: everything written before the pause goes in the last copy.
        self.pause(m, now);
        let mg = &mut self.migs[m];
        mg.precopy_bytes = mg.sent.bytes;
        mg.stage = Stage::StopCopy;
        mg.stop_time = Some(now);
        mg.stop_reason = reason;
        mg.converged = converged;
        mg.round_start = now;
        let b = if mg.xbz_on {
            // XBZRLE encodes the final copy too, without inserting misses (last_stage).
            mg.last_stage = true;
            mg.cursor = 0;
            mg.take(&self.vms[vmi].mem.nonzero, u64::MAX, false, false)
        } else {
            let present = mg.cpu.tracks_present().then_some(&mg.present);
            cost_of(&mg.bits, &self.vms[vmi].mem.nonzero, present, mg.cost)
        };
        mg.bits.clear_all();
        mg.pending = 0;
        mg.final_batch = b;
        mg.in_flight = InFlight::Final;
        let dev = self.sc.vms[vmi].device_state_bytes;
        let bytes = b.bytes + dev;
        // QEMU lifts the rate limit for the final copy (migration_completion); the CPU still paces it.
        // Xen's legacy limiter sends the last round at its cap.
        let cap = if mg.p.mech.rate_limit == RateLimit::Xen { mechanism::XEN_MAX_BPS } else { f64::INFINITY };
        let cap = mg.cpu.cap(&b, dev, mg.p.switchover_bandwidth_bps.unwrap_or(f64::INFINITY).min(cap));
        self.send(m, bytes, cap, now);
    }

    fn switch_to_postcopy(&mut self, m: usize, now: SimTime) {
        let vmi = self.migs[m].vm;
        self.pause(m, now);
        let pages = self.vms[vmi].mem.pages();
        let mg = &mut self.migs[m];
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
        mg.stop_reason = if mg.strategy == Strategy::Hybrid { "postcopy_switch" } else { "postcopy" };
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
        mg.in_flight_bits = Bitmap::new(pages);
        mg.access_spans.clear();
        self.vms[vmi].workload.access_spans(&mut mg.access_spans);
        mg.in_flight = InFlight::Final;
        mg.final_batch = Batch::default();
        let bytes = self.sc.vms[vmi].device_state_bytes;
        let cap = mg.p.switchover_bandwidth_bps.unwrap_or(f64::INFINITY);
        self.send(m, bytes, cap, now);
    }

    fn on_batch_done(&mut self, m: usize, now: SimTime) {
        let vmi = self.migs[m].vm;
        let in_flight = std::mem::replace(&mut self.migs[m].in_flight, InFlight::None);
        self.migs[m].flow_done_at = None;
        let stage = self.migs[m].stage;
        match (stage, in_flight) {
            (Stage::PreCopy, InFlight::Pages) => {
                let mg = &mut self.migs[m];
                let b = mg.batch;
                mg.sent.add(b);
                mg.round_sent.add(b);
                if !mg.multifd {
                    mg.window.bytes += b.bytes;
                }
                self.step(m, now);
            }
            (Stage::StopCopy | Stage::Cold, InFlight::Final) => {
                let dev = self.sc.vms[vmi].device_state_bytes;
                let mg = &mut self.migs[m];
                let b = mg.final_batch;
                mg.sent.add(b);
                mg.sent.bytes += dev;
                let end = now + mg.latency + mg.p.resume_time_ns;
                let phase = if stage == Stage::Cold { "cold copy" } else { "stop-and-copy" };
                mg.timeline.push(RoundRecord::new(mg.rounds, phase, mg.round_start, end, b.pages, b.bytes + dev, 0, now - mg.round_start));
                mg.resume_time = Some(end);
                mg.end = Some(end);
                mg.stage = Stage::Done;
                self.vms[vmi].paused = false;
                self.vms[vmi].clock = end;
            }
            (Stage::Switching, InFlight::Final) => {
                let dev = self.sc.vms[vmi].device_state_bytes;
                let mg = &mut self.migs[m];
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
                mg.vcpu_gen += 1;
                let g = mg.vcpu_gen;
                self.q.schedule(resume, Ev::Vcpu(m, g));
                self.step(m, now);
            }
            (Stage::PostCopy, InFlight::Pages | InFlight::Final) => {
                let mg = &mut self.migs[m];
                mg.stream_done_at = Some(now);
                let b = mg.batch;
                mg.sent.add(b);
                mg.round_sent.add(b);
                mg.window.bytes += b.bytes;
                for &p in &mg.batch_pages {
                    mg.in_flight_bits.clear(p);
                }
                let arrived = now + mg.latency;
                if let Some((page, since)) = mg.waiting_on
                    && mg.batch_pages.contains(&page)
                {
                    mg.stall_ns += arrived.saturating_sub(since);
                    mg.waiting_on = None;
                    mg.vcpu_time = arrived;
                    mg.vcpu_gen += 1;
                    let g = mg.vcpu_gen;
                    self.q.schedule(arrived, Ev::Vcpu(m, g));
                }
                mg.batch_pages.clear();
                if mg.pending == 0 && mg.urgent.is_empty() && mg.requests_in_flight == 0 {
                    // Last page arrived: the migration is over.
                    return self.finish_postcopy(m, arrived);
                }
                self.step(m, now);
            }
            _ => {}
        }
    }

    fn finish_postcopy(&mut self, m: usize, end: SimTime) {
        let vmi = self.migs[m].vm;
        let mg = &mut self.migs[m];
        let row = mg.round_row("postcopy", end, 0);
        mg.timeline.push(row);
        mg.end = Some(end);
        mg.stage = Stage::Done;
        mg.vcpu_gen += 1;
        if let Some((_, since)) = mg.waiting_on.take() {
            mg.stall_ns += end.saturating_sub(since);
        }
        self.vms[vmi].paused = false;
        self.vms[vmi].clock = end;
    }

    fn step_postcopy(&mut self, m: usize, now: SimTime) {
        if self.migs[m].in_flight != InFlight::None {
            return;
        }
        let vmi = self.migs[m].vm;
        let dl = self.migs[m].p.downtime_limit_ns;
        let qemu = self.migs[m].p.stop_policy == StopPolicy::Qemu;
        self.migs[m].window.update(now, dl);
        let rate = self.net.rate_estimate(self.migs[m].flow).min(self.migs[m].cpu_rate_floor());
        let ps = self.sc.vms[vmi].page_size;
        let mg = &mut self.migs[m];
        let nonzero = &self.vms[vmi].mem.nonzero;
        let mut b = Batch::default();
        mg.batch_pages.clear();
        if !mg.urgent.is_empty() && mg.window.over_quota() {
            // QEMU 7.2 wakes the rate-limited thread for a requested page, but
            // qemu_savevm_state_iterate returns at once while the window is over quota, so the page
            // waits for the next 100 ms window like any other (docs/model.md, section 8).
            let end = mg.window.end();
            return self.wake_at(m, end);
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
            let c = if nz { mg.cost.nonzero } else { mg.cost.zero };
            b.add(Batch { pages: 1, zero_pages: u64::from(!nz), bytes: c, new_pages: u64::from(new), delta_pages: 0 });
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
            return self.wake_at(m, end);
        }
        if b.pages == 0 {
            return;
        }
        for &p in &mg.batch_pages {
            mg.in_flight_bits.set(p);
        }
        mg.batch = b;
        mg.in_flight = if last { InFlight::Final } else { InFlight::Pages };
        let cap = mg.cpu.cap(&b, 0, cap);
        self.send(m, b.bytes, cap, now);
    }

    fn on_request(&mut self, m: usize, page: usize, now: SimTime) {
        let mg = &mut self.migs[m];
        mg.requests_in_flight -= 1;
        if mg.stage != Stage::PostCopy {
            return;
        }
        mg.urgent.push(page);
        if mg.p.mech.prepaging() > 0 {
            // Pre-paging moves the push to the fault, after the data already queued (step_postcopy).
            mg.pivot = Some(page);
        }
        if mg.in_flight == InFlight::None {
            // Look at once: the page goes now if the window's quota lasts, else step_postcopy
            // waits for the window's end again.
            mg.wake_gen += 1;
            mg.wake_at = None;
            self.step(m, now);
        }
    }

    /// The guest at the destination during post-copy: accesses in time order until one touches a
    /// missing page (a remote fault) or until the next moment a page may arrive.
    fn run_vcpu(&mut self, m: usize, now: SimTime) {
        let vmi = self.migs[m].vm;
        let mg = &mut self.migs[m];
        if mg.stage != Stage::PostCopy || mg.waiting_on.is_some() {
            return;
        }
        if !mg.p.mech.postcopy_push && now.saturating_sub(mg.start) >= mg.p.max_time_ns {
            // Demand paging alone never fetches pages the guest does not touch: stop at max_time
            // with the rest still at the source (a residual dependency).
            mg.converged = false;
            mg.stop_reason = "max_time";
            let row = mg.round_row("postcopy (demand paging, unfinished)", now, mg.pending);
            mg.timeline.push(row);
            mg.end = Some(now);
            mg.stage = Stage::Done;
            mg.vcpu_gen += 1;
            return;
        }
        let horizon = match (mg.flow_done_at, mg.wake_at) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            // Nothing in flight: only this guest's own faults can change what is present.
            (None, None) => now + 1_000_000_000,
        }
        .max(now);
        let vm = &mut self.vms[vmi];
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
            let page = vm.workload.sample_access(t, &mut vm.rng);
            let missing = mg.bits.get(page);
            if !missing && !mg.in_flight_bits.get(page) {
                mg.present_streak += 1;
                if mg.present_streak >= mg.next_spans_check {
                    // A long run of hits: are any pages the guest may touch still missing? The
                    // checks back off so that a few rarely touched missing pages cost little.
                    mg.next_spans_check = mg.next_spans_check.saturating_mul(2);
                    mg.spans_present = mg.access_spans.iter().all(|r| {
                        let none = |b: &Bitmap| b.next_set(r.start).is_none_or(|i| i >= r.end);
                        none(&mg.bits) && none(&mg.in_flight_bits)
                    });
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
                self.q.schedule(at_source, Ev::Request(m, page));
            }
            return;
        }
        mg.vcpu_time = t;
        mg.vcpu_gen += 1;
        let g = mg.vcpu_gen;
        self.q.schedule(horizon.max(now + 1), Ev::Vcpu(m, g));
    }

    pub fn results(&self) -> Vec<MigrationResult> {
        self.migs
            .iter()
            .map(|mg| {
                let sec = |t: u64| t as f64 / 1e9;
                let end = mg.end.unwrap_or(self.q.now());
                let completed = mg.resume_time.is_some() && mg.end.is_some();
                let ps = self.sc.vms[mg.vm].page_size;
                // Shares of the live migration lost: the application's writes, and vCPU time.
                let vm = &self.vms[mg.vm];
                let (l1, t1, e) = mg.live_to.unwrap_or((vm.lost_ns, vm.throttle_ns, end));
                let (l0, t0, s0) = mg.live_from;
                let span = e.saturating_sub(s0) as f64;
                let (app_slowdown, throttle_share) = if span > 0.0 { ((l1 - l0) / span, (t1 - t0) / span) } else { (0.0, 0.0) };
                MigrationResult {
                    vm: self.sc.vms[mg.vm].name.clone(),
                    strategy: mg.strategy.name().to_string(),
                    from: self.sc.hosts[self.sc.vms[mg.vm].host].name.clone(),
                    to: self.sc.hosts[mg.to].name.clone(),
                    start_s: sec(mg.start),
                    total_time_s: sec(end - mg.start),
                    downtime_s: match (mg.stop_time, mg.resume_time) {
                        (Some(s), Some(r)) => Some(sec(r - s)),
                        _ => None,
                    },
                    completed,
                    bytes_sent: mg.sent.bytes,
                    pages_sent: mg.sent.pages,
                    zero_pages_sent: mg.sent.zero_pages,
                    precopy_bytes: mg.precopy_bytes,
                    stop_copy_bytes: if mg.switch_time.is_none() && mg.resume_time.is_some() {
                        mg.final_batch.bytes + self.sc.vms[mg.vm].device_state_bytes
                    } else {
                        0
                    },
                    postcopy_bytes: if mg.switch_time.is_some() { mg.sent.bytes - mg.precopy_bytes } else { 0 },
                    rounds: mg.rounds,
                    syncs: mg.syncs,
                    converged: mg.converged,
                    stop_reason: mg.stop_reason.to_string(),
                    remote_faults: mg.faults,
                    fault_stall_s: sec(mg.stall_ns),
                    postcopy_window_s: match (mg.switch_time, mg.end) {
                        (Some(s), Some(e)) => sec(e - s),
                        _ => 0.0,
                    },
                    postcopy_start_s: mg.switch_time.map(|s| sec(s - mg.start)),
                    throttle_max_pct: mg.throttle_schedule.iter().map(|s| s[1]).fold(0.0, f64::max),
                    throttle_share,
                    app_slowdown,
                    throttle_schedule: mg.throttle_schedule.clone(),
                    xbzrle_pages: mg.xbz_stats.pages,
                    xbzrle_cache_miss: mg.xbz_stats.miss,
                    xbzrle_overflow: mg.xbz_stats.overflow,
                    xbzrle_bytes: mg.xbz_stats.bytes,
                    xbzrle_bytes_saved: (mg.xbz_stats.pages * ps).saturating_sub(mg.xbz_stats.bytes),
                    zero_page_bytes_saved: if mg.p.mech.zero_page_detection { mg.sent.zero_pages * ps } else { 0 },
                    compression_bytes_saved: (mg.sent.pages - mg.sent.zero_pages - mg.sent.delta_pages)
                        * (ps + mg.cost.header - mg.cost.nonzero),
                    free_pages_skipped: mg.free_skipped,
                    free_bytes_saved: mg.free_skipped * ps,
                    timeline: mg.timeline.clone(),
                }
            })
            .collect()
    }
}
