//! Dirty-page workloads: given a span of simulated time, which pages does the guest write? And, for
//! post-copy, which page does its next access touch?
//!
//! Writes are not generated one at a time when that would be wasteful: a uniform region that receives
//! `n` writes has each of its `N` pages written with probability `1 - (1 - 1/N)^n`; `sample` draws
//! the pages newly dirtied, or 64 pages at a time, so the cost follows the pages, not the writes.
//! A region written more than enough to saturate it is marked whole with word operations.
//! Workload kinds share one interface (`advance`, `access_rate`, `sample_access`); a recorded trace
//! is one more kind (`trace`). The kinds as a scenario gives them are `spec`; the random draws are
//! `sample`.

pub mod sample;
pub mod spec;
pub mod trace;
mod trace_pass;

pub use spec::{DEFAULT_WRITE_DELTA, DeltaSize, PageRange, Phase, WorkloadKind, WorkloadSpec};

use crate::model::memory::{Memory, ZeroLayout};
use rand::Rng;
use sample::{Below, ZipfSampler, write_uniform};
use trace::TraceReplay;

/// The random stream of one VM's guest (and, seeded apart, of one migration's mechanisms).
pub type SimRng = rand_chacha::ChaCha8Rng;

/// The access law of a workload whose accesses are independent and uniform over a few spans
/// (`Workload::access_pieces`).
#[derive(Debug, Clone, PartialEq)]
pub struct AccessPieces {
    pub working_set: PageRange,
    /// Offset ranges of the working set and the probability that an access falls in each.
    pub pieces: Vec<(std::ops::Range<u64>, f64)>,
    /// Zipf's exponent when offset k is touched in proportion to 1/(k+1)^exponent (one piece, the
    /// whole working set); None: uniform within each piece.
    pub zipf: Option<f64>,
    /// The law holds until this time (ns); `u64::MAX`: for good.
    pub until: u64,
}

/// The running state of one workload (one per VM).
pub struct Workload {
    spec: WorkloadSpec,
    /// Fractional writes carried between calls so that rates are exact over time.
    carry: f64,
    carry_hot: f64,
    /// Next page offset of a sequential sweep (relative to the working set).
    seq_pos: u64,
    zipf: Option<ZipfSampler>,
    phases: Vec<Workload>,
    /// A cap on writes per second imposed from outside (QEMU's dirty limit); `INFINITY`: none.
    pub dirty_limit_pps: f64,
    trace: Option<Box<TraceReplay>>,
    /// The writers of a mix, all running at once.
    parts: Vec<Workload>,
    /// Samplers of the working set (uniform) or of its hot and cold parts (hotcold), built once:
    /// post-copy draws one page per guest access.
    pick: Option<(Below, Option<Below>)>,
    /// A strided working set is written as a contiguous one in this scratch memory first, then its
    /// pages are spread out. The scratch's dirty log mirrors the strided pages' since the VM's last
    /// sync (the VM memory's `epoch` it saw), so the writes are drawn against the same dirty set.
    strided: Option<(Memory, u64)>,
}

impl Workload {
    pub fn new(spec: &WorkloadSpec) -> Self {
        let zipf = match spec.kind {
            WorkloadKind::Zipf { exponent } => Some(ZipfSampler::new(spec.working_set.count, exponent)),
            _ => None,
        };
        let phases = match &spec.kind {
            WorkloadKind::Phases { phases, .. } => phases.iter().map(|p| Workload::new(&p.workload)).collect(),
            _ => Vec::new(),
        };
        let trace = match &spec.kind {
            WorkloadKind::Trace(t) => Some(Box::new(TraceReplay::new(t, spec.working_set))),
            _ => None,
        };
        let parts = match &spec.kind {
            WorkloadKind::Mix { parts } => parts.iter().map(Workload::new).collect(),
            _ => Vec::new(),
        };
        let ws = spec.working_set.count;
        let pick = match spec.kind {
            _ if ws == 0 => None,
            WorkloadKind::HotCold { hot_pages, .. } if hot_pages < ws => Some((Below::new(0, hot_pages), Some(Below::new(hot_pages, ws)))),
            WorkloadKind::HotCold { .. } | WorkloadKind::Idle | WorkloadKind::Uniform => Some((Below::new(0, ws), None)),
            _ => None,
        };
        Workload {
            spec: spec.clone(),
            carry: 0.0,
            carry_hot: 0.0,
            seq_pos: 0,
            zipf,
            phases,
            dirty_limit_pps: f64::INFINITY,
            trace,
            parts,
            pick,
            strided: None,
        }
    }

    /// Every page an access may touch lies in one of the spans this adds to `out` (absolute page
    /// numbers, possibly overlapping): the working sets of the workload, its phases and its parts.
    pub fn access_spans(&self, out: &mut Vec<std::ops::Range<usize>>) {
        if self.spec.working_set.count > 0 {
            out.push(self.spec.working_set.span());
        }
        for w in self.phases.iter().chain(&self.parts) {
            w.access_spans(out);
        }
    }

    /// The phase in force at `t` (ns since the simulation began) and when it ends.
    fn phase_at(&self, t: u64) -> Option<(usize, u64)> {
        let WorkloadKind::Phases { phases, repeat } = &self.spec.kind else { return None };
        let cycle: u64 = phases.iter().map(|p| p.duration_ns).sum();
        let (base, off) = if *repeat { (t - t % cycle, t % cycle) } else { (0, t) };
        let mut start = 0;
        for (i, p) in phases.iter().enumerate() {
            if off < start + p.duration_ns {
                return Some((i, base + start + p.duration_ns));
            }
            start += p.duration_ns;
        }
        // Past the end of a non-repeating list: the last phase goes on.
        Some((phases.len() - 1, u64::MAX))
    }

    /// Writes per second when the vCPU gets a share `cpu` of its time: the least of the target rate,
    /// the application's full-CPU rate scaled to the time it has for writing, and the dirty limit
    /// (lab README, mechanism runs, observation 2: a throttled rate-limited writer keeps its target
    /// until the CPU runs out). The time for writing is what is left of `cpu` after the
    /// `reserved_cpu` work, as a share of what is left of a whole core.
    pub fn effective_pps(&self, cpu: f64) -> f64 {
        let full = self.spec.full_cpu_pps.unwrap_or(self.spec.write_pps);
        let r = self.spec.reserved_cpu;
        let writing = ((cpu - r) / (1.0 - r)).clamp(0.0, 1.0);
        self.spec.write_pps.min(writing * full).min(self.dirty_limit_pps)
    }

    /// The share of the application's target writes it achieves at `t` with a CPU share `cpu`.
    pub fn achieved_share(&self, t: u64, cpu: f64) -> f64 {
        if let Some((i, _)) = self.phase_at(t) {
            return self.phases[i].achieved_share(t, cpu);
        }
        if !self.parts.is_empty() {
            // The parts' shares weighted by their target rates.
            let total: f64 = self.parts.iter().map(|p| p.spec.write_pps).sum();
            if total <= 0.0 {
                return 1.0;
            }
            return self.parts.iter().map(|p| p.spec.write_pps * p.achieved_share(t, cpu)).sum::<f64>() / total;
        }
        if self.spec.write_pps > 0.0 { self.effective_pps(cpu) / self.spec.write_pps } else { 1.0 }
    }

    /// Apply the writes issued during `[from, to)` (ns). `speed` in (0, 1] is the share of time the
    /// vCPU runs (1 = unthrottled); see `effective_pps`.
    pub fn advance(&mut self, from: u64, to: u64, speed: f64, rng: &mut SimRng, mem: &mut Memory) {
        if to <= from {
            return;
        }
        if !self.phases.is_empty() {
            let mut t = from;
            while t < to {
                let (i, end) = self.phase_at(t).expect("phases workload");
                let stop = end.min(to);
                self.phases[i].dirty_limit_pps = self.dirty_limit_pps;
                self.phases[i].advance(t, stop, speed, rng, mem);
                t = stop;
            }
            return;
        }
        if let Some(t) = &mut self.trace {
            // A trace replays its own writes; throttling slows its clock (the dirty limit does not apply).
            return t.advance(from, to, speed, rng, mem);
        }
        if !self.parts.is_empty() {
            // Each writer runs over the whole span; a dirty limit applies to each in proportion.
            let total: f64 = self.parts.iter().map(|p| p.spec.write_pps).sum();
            for p in &mut self.parts {
                p.dirty_limit_pps = if total > 0.0 { self.dirty_limit_pps * p.spec.write_pps / total } else { self.dirty_limit_pps };
                p.advance(from, to, speed, rng, mem);
            }
            return;
        }
        let due = self.effective_pps(speed) * (to - from) as f64 / 1e9 + self.carry;
        let n = due.floor();
        self.carry = due - n;
        let n = n as u64;
        if n == 0 {
            return;
        }
        let ws = self.spec.working_set;
        if ws.stride == 1 {
            return self.write(n, ws, rng, mem);
        }
        let count = ws.count as usize;
        let (mut dense, epoch) =
            self.strided.take().unwrap_or_else(|| (Memory::new(count, mem.page_size, 0.0, ZeroLayout::Spread, 0..count), u64::MAX));
        if epoch != mem.epoch {
            dense.clear_dirty_log();
        }
        dense.journal.get_or_insert_with(Vec::new).clear();
        self.write(n, PageRange::contiguous(0, ws.count), rng, &mut dense);
        for &i in dense.journal.as_deref().unwrap_or_default() {
            mem.write(ws.page(i as u64) as usize);
        }
        self.strided = Some((dense, mem.epoch));
    }

    /// `n` writes of this workload's kind over the contiguous pages `ws`.
    fn write(&mut self, n: u64, ws: PageRange, rng: &mut SimRng, mem: &mut Memory) {
        match self.spec.kind {
            WorkloadKind::Idle | WorkloadKind::Phases { .. } | WorkloadKind::Trace(_) | WorkloadKind::Mix { .. } => {}
            WorkloadKind::Uniform => write_uniform(ws.first, ws.count, n, rng, mem),
            WorkloadKind::HotCold { hot_pages, hot_share } => {
                let hot_share = if ws.count == hot_pages { 1.0 } else { hot_share };
                let hot_due = n as f64 * hot_share + self.carry_hot;
                let n_hot = hot_due.floor();
                self.carry_hot = hot_due - n_hot;
                let n_hot = (n_hot as u64).min(n);
                write_uniform(ws.first, hot_pages, n_hot, rng, mem);
                if ws.count > hot_pages {
                    write_uniform(ws.first + hot_pages, ws.count - hot_pages, n - n_hot, rng, mem);
                }
            }
            WorkloadKind::Zipf { .. } => {
                self.zipf.as_mut().expect("zipf distribution").write_many(ws.first, n, rng, mem);
            }
            WorkloadKind::Sequential | WorkloadKind::Fluid => {
                if n >= ws.count {
                    mem.write_range(ws.first as usize, (ws.first + ws.count) as usize);
                    self.seq_pos = (self.seq_pos + n) % ws.count;
                } else {
                    let start = self.seq_pos;
                    let end = start + n;
                    if end <= ws.count {
                        mem.write_range((ws.first + start) as usize, (ws.first + end) as usize);
                    } else {
                        mem.write_range((ws.first + start) as usize, (ws.first + ws.count) as usize);
                        mem.write_range(ws.first as usize, (ws.first + end - ws.count) as usize);
                    }
                    self.seq_pos = end % ws.count;
                }
            }
        }
    }

    /// Accesses (writes + reads) per second at `t`, and until when that rate holds (`u64::MAX`: for ever).
    pub fn access_rate(&self, t: u64) -> (f64, u64) {
        if let Some((i, end)) = self.phase_at(t) {
            let (r, e) = self.phases[i].access_rate(t);
            return (r, e.min(end));
        }
        if let Some(tr) = &self.trace {
            return tr.access_rate(t);
        }
        if !self.parts.is_empty() {
            return self.parts.iter().map(|p| p.access_rate(t)).fold((0.0, u64::MAX), |(r, e), (pr, pe)| (r + pr, e.min(pe)));
        }
        match self.spec.kind {
            WorkloadKind::Idle => (self.spec.read_pps, u64::MAX),
            _ => (self.spec.write_pps + self.spec.read_pps, u64::MAX),
        }
    }

    /// The access law at `t` as uniform pieces, when it is one: each access independently touches
    /// offset range `pieces[i].0` of `working_set` with probability `pieces[i].1`, uniformly within
    /// it (or, for Zipf, in proportion to its rank's weight), until the returned time. It is the law
    /// `sample_access` draws from (hot/cold: the hot offsets with `hot_share`, the rest with the
    /// remainder). None where accesses are not independent draws of such a law: sequential, fluid,
    /// traces and mixes. Post-copy's guest uses it to draw only the accesses that can fault
    /// (`model::remote_access`).
    pub fn access_pieces(&self, t: u64) -> Option<AccessPieces> {
        if let Some((i, end)) = self.phase_at(t) {
            let mut p = self.phases[i].access_pieces(t)?;
            p.until = p.until.min(end);
            return Some(p);
        }
        if self.trace.is_some() || !self.parts.is_empty() {
            return None;
        }
        let ws = self.spec.working_set;
        let pieces = match (&self.pick, &self.spec.kind) {
            _ if ws.count == 0 => return None,
            (Some((_, Some(_))), WorkloadKind::HotCold { hot_pages, hot_share }) => {
                vec![(0..*hot_pages, *hot_share), (*hot_pages..ws.count, 1.0 - hot_share)]
            }
            (Some((_, None)), _) => vec![(0..ws.count, 1.0)],
            (None, WorkloadKind::Zipf { .. }) => vec![(0..ws.count, 1.0)],
            _ => return None,
        };
        let zipf = match self.spec.kind {
            WorkloadKind::Zipf { exponent } => Some(exponent),
            _ => None,
        };
        Some(AccessPieces { working_set: ws, pieces, zipf, until: u64::MAX })
    }

    /// The page touched by one access at `t`.
    pub fn sample_access(&mut self, t: u64, rng: &mut SimRng) -> usize {
        if let Some((i, _)) = self.phase_at(t) {
            return self.phases[i].sample_access(t, rng);
        }
        if let Some(tr) = &mut self.trace {
            return tr.sample_access(t, rng);
        }
        if !self.parts.is_empty() {
            // A part chosen in proportion to its access rate, then its own page.
            let rates: Vec<f64> = self.parts.iter().map(|p| p.access_rate(t).0).collect();
            let total: f64 = rates.iter().sum();
            let mut x = rng.random::<f64>() * total;
            let mut i = 0;
            while i + 1 < rates.len() && x >= rates[i] {
                x -= rates[i];
                i += 1;
            }
            return self.parts[i].sample_access(t, rng);
        }
        let ws = self.spec.working_set;
        if ws.count == 0 {
            return 0;
        }
        // Idle, uniform and hot/cold draw from the samplers built in `new`; phases, traces and mixes
        // were handled above.
        let off = match (&self.pick, &self.spec.kind) {
            (Some((hot, Some(cold))), WorkloadKind::HotCold { hot_share, .. }) => {
                if rng.random::<f64>() < *hot_share {
                    hot.sample(rng)
                } else {
                    cold.sample(rng)
                }
            }
            (Some((all, _)), _) => all.sample(rng),
            (None, WorkloadKind::Zipf { .. }) => self.zipf.as_mut().expect("zipf").rank0(rng),
            (None, WorkloadKind::Sequential | WorkloadKind::Fluid) => {
                let p = self.seq_pos;
                self.seq_pos = (self.seq_pos + 1) % ws.count;
                p
            }
            (None, _) => rng.random_range(0..ws.count),
        };
        ws.page(off) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn spec(kind: WorkloadKind, pps: f64, first: u64, count: u64) -> WorkloadSpec {
        WorkloadSpec {
            kind,
            write_pps: pps,
            read_pps: 0.0,
            working_set: PageRange::contiguous(first, count),
            full_cpu_pps: None,
            reserved_cpu: 0.0,
            write_delta: DEFAULT_WRITE_DELTA,
        }
    }

    #[test]
    fn a_strided_working_set_writes_the_same_draws_on_its_own_pages() {
        // The same kind and seed over 300 pages, contiguous at 0 and one every 7 pages from 5:
        // page k of one is written exactly when page 5 + 7k of the other is, and nothing else is.
        for kind in [WorkloadKind::Uniform, WorkloadKind::Sequential, WorkloadKind::HotCold { hot_pages: 30, hot_share: 0.9 }] {
            let run = |ws: PageRange| {
                let mut mem = Memory::new(4096, 4096, 0.0, ZeroLayout::Spread, 0..4096);
                let mut w = Workload::new(&WorkloadSpec { working_set: ws, ..spec(kind.clone(), 20_000.0, 0, 0) });
                let mut rng = SimRng::seed_from_u64(3);
                for k in 0..10u64 {
                    w.advance(k * 1_000_000, (k + 1) * 1_000_000, 1.0, &mut rng, &mut mem);
                }
                mem.dirty_log
            };
            let dense = run(PageRange::contiguous(0, 300));
            let strided = run(PageRange { first: 5, count: 300, stride: 7 });
            assert!(dense.count_ones() > 40, "{kind:?}: the test must write pages");
            assert_eq!(dense.count_ones(), strided.count_ones(), "{kind:?}");
            for k in 0..300 {
                assert_eq!(dense.get(k), strided.get(5 + 7 * k), "{kind:?}: page {k}");
            }
        }
    }

    #[test]
    fn uniform_distinct_pages_follow_saturation_curve() {
        // N(1 - e^(-R/N)): the curve the QEMU lab measured for its uniform writer.
        let n_pages = 32768u64;
        for &rate in &[2000.0, 10000.0, 50000.0] {
            let mut mem = Memory::new(65536, 4096, 0.0, ZeroLayout::Spread, 0..65536);
            let mut w = Workload::new(&spec(WorkloadKind::Uniform, rate, 0, n_pages));
            let mut rng = SimRng::seed_from_u64(7);
            // One second in 100 small steps: the union must still follow the curve.
            for k in 0..100u64 {
                w.advance(k * 10_000_000, (k + 1) * 10_000_000, 1.0, &mut rng, &mut mem);
            }
            let got = mem.dirty_log.count_ones() as f64;
            let want = n_pages as f64 * (1.0 - (-rate / n_pages as f64).exp());
            assert!((got - want).abs() / want < 0.02, "rate {rate}: {got} vs {want}");
        }
    }

    #[test]
    fn sequential_writes_new_pages_in_order() {
        let mut mem = Memory::new(1000, 4096, 0.0, ZeroLayout::Spread, 0..1000);
        let mut w = Workload::new(&spec(WorkloadKind::Sequential, 100.0, 10, 500));
        let mut rng = SimRng::seed_from_u64(1);
        w.advance(0, 1_500_000_000, 1.0, &mut rng, &mut mem);
        assert_eq!(mem.dirty_log.count_ones(), 150);
        assert!(mem.dirty_log.get(10) && mem.dirty_log.get(159) && !mem.dirty_log.get(160));
    }

    #[test]
    fn rates_are_exact_over_many_small_steps() {
        let mut mem = Memory::new(1 << 20, 4096, 0.0, ZeroLayout::Spread, 0..(1 << 20));
        let mut w = Workload::new(&spec(WorkloadKind::Sequential, 333.3, 0, 1 << 20));
        let mut rng = SimRng::seed_from_u64(1);
        for k in 0..1000u64 {
            w.advance(k * 1_000_000, (k + 1) * 1_000_000, 1.0, &mut rng, &mut mem);
        }
        assert_eq!(mem.dirty_log.count_ones(), 333);
    }

    #[test]
    fn hotcold_sends_its_share_to_the_hot_set() {
        let mut mem = Memory::new(100_000, 4096, 0.0, ZeroLayout::Spread, 0..100_000);
        let mut w = Workload::new(&spec(WorkloadKind::HotCold { hot_pages: 1000, hot_share: 0.9 }, 1000.0, 0, 100_000));
        let mut rng = SimRng::seed_from_u64(3);
        w.advance(0, 1_000_000_000, 1.0, &mut rng, &mut mem);
        let hot = (0..1000).filter(|&p| mem.dirty_log.get(p)).count() as f64;
        // 900 writes over 1000 hot pages: 1000 (1 - e^-0.9) = 593 distinct.
        assert!((hot - 593.0).abs() < 40.0, "{hot}");
    }

    #[test]
    fn phases_switch_on_time() {
        let a = spec(WorkloadKind::Sequential, 100.0, 0, 1000);
        let b = spec(WorkloadKind::Idle, 0.0, 0, 1000);
        let kind = WorkloadKind::Phases {
            phases: vec![Phase { duration_ns: 1_000_000_000, workload: a }, Phase { duration_ns: 1_000_000_000, workload: b }],
            repeat: true,
        };
        let mut w = Workload::new(&spec(kind, 0.0, 0, 1000));
        let mut mem = Memory::new(1000, 4096, 0.0, ZeroLayout::Spread, 0..1000);
        let mut rng = SimRng::seed_from_u64(1);
        w.advance(0, 4_000_000_000, 1.0, &mut rng, &mut mem);
        assert_eq!(mem.dirty_log.count_ones(), 200);
        assert_eq!(w.access_rate(1_500_000_000), (0.0, 2_000_000_000));
        assert_eq!(w.access_rate(2_500_000_000).0, 100.0);
    }

    #[test]
    fn reserved_cpu_comes_out_of_the_writers_share_first() {
        let full = |reserved: f64, write: f64| {
            Workload::new(&WorkloadSpec { full_cpu_pps: Some(1e6), reserved_cpu: reserved, ..spec(WorkloadKind::Uniform, write, 0, 100) })
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6 * b.max(1.0);
        // A whole vCPU: the full-CPU rate, reserved work or not.
        assert!(close(full(0.01, 2e6).effective_pps(1.0), 1e6));
        // Half a vCPU: without reserved work half the rate; with 1 % reserved, (0.5 - 0.01) / 0.99 of it.
        assert!(close(full(0.0, 2e6).effective_pps(0.5), 5e5));
        assert!(close(full(0.01, 2e6).effective_pps(0.5), 1e6 * 0.49 / 0.99));
        // 99 % throttled with 1.2 % reserved: nothing left for writes.
        assert_eq!(full(0.012, 2e6).effective_pps(0.01), 0.0);
        // A rate-limited writer keeps its target while the time left covers it.
        assert!(close(full(0.01, 1000.0).effective_pps(0.1), 1000.0));
    }

    #[test]
    fn a_mix_runs_its_writers_together_and_samples_them_by_rate() {
        // A big slow writer and a small fast one (an application and its shadow array).
        let big = spec(WorkloadKind::Uniform, 1000.0, 0, 10_000);
        let small = spec(WorkloadKind::Uniform, 3000.0, 10_000, 10);
        let mix = WorkloadSpec {
            working_set: PageRange::contiguous(0, 10_010),
            ..spec(WorkloadKind::Mix { parts: vec![big, small] }, 4000.0, 0, 0)
        };
        let mut w = Workload::new(&mix);
        let mut mem = Memory::new(10_010, 4096, 0.0, ZeroLayout::Spread, 0..10_010);
        let mut rng = SimRng::seed_from_u64(3);
        w.advance(0, 1_000_000_000, 1.0, &mut rng, &mut mem);
        // 3000 writes on 10 pages dirty them all; 1000 writes on 10000 pages dirty about
        // 10000 (1 - e^-0.1) = 952.
        let small_dirty = (10_000..10_010).filter(|&p| mem.dirty_log.get(p)).count();
        let big_dirty = (0..10_000).filter(|&p| mem.dirty_log.get(p)).count();
        assert_eq!(small_dirty, 10);
        assert!((900..1000).contains(&big_dirty), "{big_dirty}");
        assert_eq!(w.access_rate(0).0, 4000.0);
        let in_small = (0..4000).filter(|_| w.sample_access(0, &mut rng) >= 10_000).count();
        assert!((2850..3150).contains(&in_small), "{in_small} of 4000 accesses in the 3/4 part");
        // A throttled share scales both parts alike (CPU-bound writers).
        assert!((w.achieved_share(0, 0.5) - 0.5).abs() < 1e-12);
    }
}
