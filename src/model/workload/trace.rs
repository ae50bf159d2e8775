//! Trace replay, `workload.kind = "trace"`: the resolved trace workload (`TraceSpec`, read and
//! checked at load time by `input::trace`) and the running replay that plays a recorded trace's
//! writes into a VM's memory and serves them again as the post-copy access stream.
//!
//! The replay streams: it holds one chunk of the trace (one interval, or one group of write records)
//! at a time, so a trace of any length replays in constant memory.

use crate::model::memory::Memory;
use crate::model::workload::{PageRange, SimRng};
use crate::trace::{Kind, Reader, Record, Summary};
use rand::Rng;
use std::cell::RefCell;
use std::path::PathBuf;

/// How trace pages land on the VM's working set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapMode {
    /// Proportionally: byte b of the trace's memory goes to byte b x (working set / trace memory).
    Scale,
    /// Verbatim, folded over: byte b goes to byte b mod working set.
    Wrap,
}

/// When, inside an interval record, its pages are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// In page order at evenly spaced instants (the k-th of n at start + k x length / n).
    Even,
    /// Each page at a uniformly random instant of the interval, drawn from the VM's random stream.
    Random,
}

pub const MAP_NAMES: [(&str, MapMode); 2] = [("scale", MapMode::Scale), ("wrap", MapMode::Wrap)];
pub const SPREAD_NAMES: [(&str, Spread); 2] = [("even", Spread::Even), ("random", Spread::Random)];

/// A resolved `kind = "trace"` workload.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSpec {
    /// The trace file (the scenario's folder joined with `file`).
    pub path: PathBuf,
    pub looped: bool,
    /// Simulated seconds per trace second: 2 plays the trace at half speed, 0.5 at double speed.
    pub time_scale: f64,
    pub map: MapMode,
    pub spread: Spread,
    /// The VM's page size (the trace may use another one; the mapping works in bytes).
    pub vm_page_size: u64,
    /// What the load-time scan found: header, counts, duration.
    pub summary: Summary,
}

/// Trace page -> VM pages, in bytes so that page sizes may differ.
#[derive(Debug, Clone)]
struct PageMap {
    mode: MapMode,
    trace_page: u128,
    trace_memory: u128,
    vm_page: u128,
    ws: PageRange,
    identity: bool,
}

impl PageMap {
    fn new(spec: &TraceSpec, ws: PageRange) -> Self {
        let h = &spec.summary.header;
        let identity = h.page_size == spec.vm_page_size && h.pages() == ws.count;
        PageMap {
            mode: spec.map,
            trace_page: h.page_size as u128,
            trace_memory: h.memory as u128,
            vm_page: spec.vm_page_size as u128,
            ws,
            identity,
        }
    }

    /// The VM pages a write to trace page `p` dirties: one or two ranges `[a, b)` of absolute pages.
    fn ranges(&self, p: u64) -> [(u64, u64); 2] {
        let (first, n) = (self.ws.first, self.ws.count);
        if self.identity {
            return [(first + p, first + p + 1), (0, 0)];
        }
        let w = n as u128 * self.vm_page;
        let lo = p as u128 * self.trace_page;
        let rel = |a: u128, b: u128| {
            let (a, b) = (a / self.vm_page, b.div_ceil(self.vm_page).max(a / self.vm_page + 1));
            (first + (a as u64).min(n - 1), first + (b as u64).min(n))
        };
        match self.mode {
            MapMode::Scale => [rel(lo * w / self.trace_memory, (lo + self.trace_page) * w / self.trace_memory), (0, 0)],
            MapMode::Wrap => {
                if self.trace_page >= w {
                    return [(first, first + n), (0, 0)];
                }
                let a = lo % w;
                let b = a + self.trace_page;
                if b <= w { [rel(a, b), (0, 0)] } else { [rel(a, w), rel(0, b - w)] }
            }
        }
    }

    fn write(&self, p: u64, mem: &mut Memory) {
        for (a, b) in self.ranges(p) {
            if b == a + 1 {
                mem.write(a as usize);
            } else if b > a {
                mem.write_range(a as usize, b as usize);
            }
        }
    }
}

/// A forward-only walk through the trace (looping if asked), one chunk at a time. A chunk is an
/// interval record, a gap between records, or a group of write records; chunks tile trace time.
struct Cursor {
    path: PathBuf,
    reader: Option<Reader>,
    kind: Kind,
    looped: bool,
    spread: Spread,
    duration: u64,
    group: u64,
    /// Trace time where the current pass (loop) starts.
    offset: u64,
    /// The current chunk `[start, end)` in trace time, its pages in the order written and their times.
    start: u64,
    end: u64,
    pages: Vec<u64>,
    times: Vec<u64>,
    next: usize,
    /// `times` is filled and `pages` in write order (an interval is loaded in page order and spread
    /// when first used, where a random stream is at hand).
    arranged: bool,
    /// A record read past the current chunk.
    ahead: Option<Record>,
}

impl Cursor {
    fn new(spec: &TraceSpec) -> Self {
        let h = &spec.summary.header;
        let mut c = Cursor {
            path: spec.path.clone(),
            reader: None,
            kind: h.kind,
            looped: spec.looped,
            spread: spec.spread,
            duration: spec.summary.duration_ns,
            group: h.group_ns(),
            offset: 0,
            start: 0,
            end: 0,
            pages: Vec::new(),
            times: Vec::new(),
            next: 0,
            arranged: true,
            ahead: None,
        };
        c.reader = c.open();
        c
    }

    fn open(&self) -> Option<Reader> {
        match Reader::open(&self.path) {
            Ok(r) => Some(r),
            Err(e) => {
                // It was read whole at load time, so it changed since: replay what we have.
                eprintln!("warning: the trace stopped replaying: {e}");
                None
            }
        }
    }

    fn record(&mut self) -> Option<Record> {
        if let Some(r) = self.ahead.take() {
            return Some(r);
        }
        let reader = self.reader.as_mut()?;
        match reader.next_record() {
            Ok(Some(r)) => Some(r),
            Ok(None) => None,
            Err(e) => {
                eprintln!("warning: the trace stopped replaying: {e}");
                self.reader = None;
                None
            }
        }
    }

    /// Move to the chunk after the current one.
    fn load_next(&mut self) {
        let start = self.end;
        self.pages.clear();
        self.times.clear();
        self.next = 0;
        self.arranged = true;
        self.start = start;
        if start == u64::MAX {
            return;
        }
        let pass_end = self.offset.saturating_add(self.duration);
        if start >= pass_end || self.reader.is_none() {
            if self.looped && self.reader.is_some() && start >= pass_end {
                self.offset = pass_end;
                self.ahead = None;
                self.reader = self.open();
                return self.load_next_in_pass(start);
            }
            self.end = u64::MAX; // the trace is over: nothing more is written
            return;
        }
        self.load_next_in_pass(start)
    }

    fn load_next_in_pass(&mut self, start: u64) {
        let pass_end = self.offset.saturating_add(self.duration);
        if self.reader.is_none() {
            self.end = u64::MAX;
            return;
        }
        match self.kind {
            Kind::Intervals => match self.record() {
                Some(Record::Interval { start_ns, length_ns, pages }) => {
                    let s = self.offset + start_ns;
                    if s > start {
                        // A gap before the next interval writes nothing.
                        self.end = s;
                        self.ahead = Some(Record::Interval { start_ns, length_ns, pages });
                        return;
                    }
                    self.end = s + length_ns;
                    self.pages.extend(pages.iter());
                    self.arranged = false;
                }
                Some(Record::Write { .. }) => unreachable!("the reader checks the kind"),
                None => self.end = pass_end.max(start + 1),
            },
            Kind::Writes => {
                let end = start.saturating_add(self.group).min(pass_end).max(start + 1);
                self.end = end;
                while let Some(r) = self.record() {
                    let Record::Write { time_ns, page } = r else { unreachable!("the reader checks the kind") };
                    let t = self.offset + time_ns;
                    if t >= end {
                        self.ahead = Some(r);
                        break;
                    }
                    self.times.push(t);
                    self.pages.push(page);
                }
            }
        }
    }

    /// Give an interval's pages their write times (see `Spread`), in time order.
    fn arrange(&mut self, rng: &mut SimRng) {
        if self.arranged {
            return;
        }
        self.arranged = true;
        let (s, len, n) = (self.start, self.end - self.start, self.pages.len() as u128);
        match self.spread {
            Spread::Even => self.times.extend((0..n).map(|k| s + (k * len as u128 / n) as u64)),
            Spread::Random => {
                let mut pairs: Vec<(u64, u64)> = self.pages.iter().map(|&p| (s + rng.random_range(0..len), p)).collect();
                pairs.sort_unstable();
                self.times.extend(pairs.iter().map(|x| x.0));
                self.pages.clear();
                self.pages.extend(pairs.iter().map(|x| x.1));
            }
        }
    }

    /// Apply every write before trace time `until`.
    fn apply_until(&mut self, until: u64, rng: &mut SimRng, map: &PageMap, mem: &mut Memory) {
        loop {
            self.arrange(rng);
            while self.next < self.pages.len() && self.times[self.next] < until {
                map.write(self.pages[self.next], mem);
                self.next += 1;
            }
            if self.next < self.pages.len() || self.end >= until {
                return;
            }
            self.load_next();
        }
    }

    /// Move forward to the chunk holding trace time `tau` (never back).
    fn seek(&mut self, tau: u64) {
        while self.end <= tau {
            self.load_next();
        }
    }
}

/// The running replay of one VM.
pub struct TraceReplay {
    map: PageMap,
    time_scale: f64,
    writes: Cursor,
    /// The post-copy access stream: a second walk, started on first use. In a cell because the
    /// workload interface reads the access rate through `&self`.
    access: RefCell<Option<Cursor>>,
    spec: TraceSpec,
    /// Trace time the writes have reached, and the fraction of a nanosecond carried.
    tau: u64,
    tau_frac: f64,
    /// Simulated time of the last `advance`, where the trace clock stood at `tau`.
    anchor: u64,
    last_access: u64,
}

impl TraceReplay {
    pub fn new(spec: &TraceSpec, ws: PageRange) -> Self {
        TraceReplay {
            map: PageMap::new(spec, ws),
            time_scale: spec.time_scale,
            writes: Cursor::new(spec),
            access: RefCell::new(None),
            spec: spec.clone(),
            tau: 0,
            tau_frac: 0.0,
            anchor: 0,
            last_access: 0,
        }
    }

    /// Apply the trace's writes for simulated `[from, to)`. The trace clock moves by
    /// `(to - from) x speed / time_scale`: a throttled vCPU (speed < 1) plays the trace slower.
    pub fn advance(&mut self, from: u64, to: u64, speed: f64, rng: &mut SimRng, mem: &mut Memory) {
        let d = (to - from) as f64 * speed / self.time_scale + self.tau_frac;
        let whole = d.floor();
        self.tau_frac = d - whole;
        self.tau = self.tau.saturating_add(whole as u64);
        self.writes.apply_until(self.tau, rng, &self.map, mem);
        self.anchor = to;
    }

    /// Trace time at simulated `t`, running at full speed since the last `advance` (a guest paused
    /// at the source and resumed at the destination is not throttled).
    fn tau_at(&self, t: u64) -> u64 {
        let dt = t.saturating_sub(self.anchor) as f64 / self.time_scale;
        self.tau.saturating_add(dt as u64)
    }

    fn sim_at(&self, tau: u64) -> u64 {
        if tau == u64::MAX {
            return u64::MAX;
        }
        let dt = tau.saturating_sub(self.tau) as f64 * self.time_scale;
        self.anchor.saturating_add(dt.ceil() as u64)
    }

    /// The access walk, moved forward to simulated time `t`.
    fn access_at(&self, t: u64) -> std::cell::RefMut<'_, Cursor> {
        let tau = self.tau_at(t);
        let mut c = std::cell::RefMut::map(self.access.borrow_mut(), |a| a.get_or_insert_with(|| Cursor::new(&self.spec)));
        c.seek(tau);
        c
    }

    /// Accesses per simulated second at `t`: the writes of the chunk in force, spread over it.
    pub fn access_rate(&self, t: u64) -> (f64, u64) {
        let (n, start, end) = {
            let c = self.access_at(t);
            (c.pages.len(), c.start, c.end)
        };
        let until = self.sim_at(end);
        if n == 0 || end == u64::MAX {
            return (0.0, until);
        }
        (n as f64 * 1e9 / ((end - start) as f64 * self.time_scale), until)
    }

    /// The page touched by the access at `t`: the chunk's writes in order (cycling if the guest
    /// makes more accesses than the chunk has writes); in an empty chunk, the last page again.
    pub fn sample_access(&mut self, t: u64, rng: &mut SimRng) -> usize {
        let page = {
            let mut c = self.access_at(t);
            c.arrange(rng);
            let n = c.pages.len();
            (n > 0).then(|| {
                let p = c.pages[c.next % n];
                c.next += 1;
                p
            })
        };
        if let Some(p) = page {
            self.last_access = p;
        }
        self.map.ranges(self.last_access)[0].0 as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::memory::ZeroLayout;
    use crate::trace::{self as trace, Form, Header, Writer};
    use rand::SeedableRng;
    use std::path::Path;

    fn write_trace(name: &str, h: &Header, recs: &[Record]) -> PathBuf {
        let d = std::env::temp_dir().join(format!("migsim-replay-unit-{}", std::process::id()));
        let p = d.join(name);
        let mut w = Writer::create(&p, Form::Text, h.kind).unwrap();
        for r in recs {
            w.write(r).unwrap();
        }
        w.finish(h).unwrap();
        p
    }

    fn spec(p: &Path, looped: bool, map: MapMode, vm_page_size: u64) -> TraceSpec {
        TraceSpec {
            path: p.to_path_buf(),
            looped,
            time_scale: 1.0,
            map,
            spread: Spread::Even,
            vm_page_size,
            summary: trace::scan(p).unwrap(),
        }
    }

    fn dirty(mem: &mut Memory) -> Vec<usize> {
        let v = (0..mem.pages()).filter(|&p| mem.dirty_log.get(p)).collect();
        mem.dirty_log.clear_all();
        v
    }

    #[test]
    fn page_maps_scale_and_wrap_in_bytes() {
        let mut h = Header::new(Kind::Writes, 4096, 8 * 4096);
        h.duration_ns = Some(10);
        let p = write_trace("map.csv", &h, &[]);
        let ws = PageRange::contiguous(10, 4);
        let s = PageMap::new(&spec(&p, false, MapMode::Scale, 4096), ws);
        // 8 trace pages onto 4: pairs collapse.
        assert_eq!(s.ranges(0)[0], (10, 11));
        assert_eq!(s.ranges(7)[0], (13, 14));
        let w = PageMap::new(&spec(&p, false, MapMode::Wrap, 4096), ws);
        assert_eq!(w.ranges(5)[0], (11, 12));
        // Trace pages of 4 KiB onto 1 KiB VM pages: one write dirties four VM pages.
        let ws = PageRange::contiguous(0, 64);
        let s = PageMap::new(&spec(&p, false, MapMode::Scale, 1024), ws);
        assert_eq!(s.ranges(1)[0], (8, 16)); // 8 trace pages -> 64 KiB: each trace page is 8 KiB here
        let w = PageMap::new(&spec(&p, false, MapMode::Wrap, 1024), ws);
        assert_eq!(w.ranges(1)[0], (4, 8));
        // Wrap across the end of a working set that is not a multiple of the trace page.
        let ws = PageRange::contiguous(0, 6);
        let w = PageMap::new(&spec(&p, false, MapMode::Wrap, 1024), ws);
        assert_eq!(w.ranges(1), [(4, 6), (0, 2)]);
    }

    #[test]
    fn intervals_replay_evenly_and_loop() {
        let mut h = Header::new(Kind::Intervals, 4096, 16 * 4096);
        h.interval_ns = Some(100);
        h.duration_ns = Some(400);
        let recs = [
            Record::Interval { start_ns: 0, length_ns: 100, pages: vec![1, 2, 3, 4].into() },
            Record::Interval { start_ns: 200, length_ns: 100, pages: vec![9].into() },
        ];
        let p = write_trace("even.csv", &h, &recs);
        let mut r = TraceReplay::new(&spec(&p, true, MapMode::Scale, 4096), PageRange::contiguous(0, 16));
        let mut mem = Memory::new(16, 4096, 0.0, ZeroLayout::Spread, 0..16);
        let mut rng = SimRng::seed_from_u64(1);
        // Pages at 0, 25, 50, 75 ns.
        r.advance(0, 26, 1.0, &mut rng, &mut mem);
        assert_eq!(dirty(&mut mem), vec![1, 2]);
        r.advance(26, 200, 1.0, &mut rng, &mut mem);
        assert_eq!(dirty(&mut mem), vec![3, 4]);
        r.advance(200, 400, 1.0, &mut rng, &mut mem);
        assert_eq!(dirty(&mut mem), vec![9]);
        // The second pass starts at 400.
        r.advance(400, 401, 1.0, &mut rng, &mut mem);
        assert_eq!(dirty(&mut mem), vec![1]);
        // Half speed: 200 ns of simulated time is 100 ns of trace time (401..501 -> 2, 3, 4 at 425.. 475).
        r.advance(401, 601, 0.5, &mut rng, &mut mem);
        assert_eq!(dirty(&mut mem), vec![2, 3, 4]);
    }

    #[test]
    fn access_stream_follows_the_writes() {
        let mut h = Header::new(Kind::Intervals, 4096, 16 * 4096);
        h.interval_ns = Some(1_000_000);
        let recs = [
            Record::Interval { start_ns: 0, length_ns: 1_000_000, pages: vec![5, 6].into() },
            Record::Interval { start_ns: 2_000_000, length_ns: 1_000_000, pages: vec![7].into() },
        ];
        let p = write_trace("access.csv", &h, &recs);
        let mut r = TraceReplay::new(&spec(&p, false, MapMode::Scale, 4096), PageRange::contiguous(0, 16));
        let mut rng = SimRng::seed_from_u64(1);
        assert_eq!(r.access_rate(0), (2000.0, 1_000_000));
        assert_eq!((r.sample_access(0, &mut rng), r.sample_access(500_000, &mut rng)), (5, 6));
        assert_eq!(r.access_rate(1_000_000), (0.0, 2_000_000));
        assert_eq!(r.sample_access(1_500_000, &mut rng), 6); // an empty gap repeats the last page
        assert_eq!(r.access_rate(2_000_000), (1000.0, 3_000_000));
        assert_eq!(r.sample_access(2_000_000, &mut rng), 7);
        assert_eq!(r.access_rate(3_000_000), (0.0, u64::MAX));
    }

    #[test]
    fn write_records_group_and_random_spread_is_seeded() {
        let mut h = Header::new(Kind::Writes, 4096, 16 * 4096);
        h.interval_ns = Some(10);
        let recs: Vec<Record> = (0..16).map(|i| Record::Write { time_ns: i * 3, page: i }).collect();
        let p = write_trace("writes.csv", &h, &recs);
        let mut r = TraceReplay::new(&spec(&p, false, MapMode::Wrap, 4096), PageRange::contiguous(0, 16));
        let mut mem = Memory::new(16, 4096, 0.0, ZeroLayout::Spread, 0..16);
        let mut rng = SimRng::seed_from_u64(1);
        r.advance(0, 10, 1.0, &mut rng, &mut mem);
        assert_eq!(dirty(&mut mem), vec![0, 1, 2, 3]); // writes at 0, 3, 6, 9
        r.advance(10, 1000, 1.0, &mut rng, &mut mem);
        assert_eq!(dirty(&mut mem).len(), 12);

        let mut h = Header::new(Kind::Intervals, 4096, 64 * 4096);
        h.interval_ns = Some(1000);
        let p = write_trace("random.csv", &h, &[Record::Interval { start_ns: 0, length_ns: 1000, pages: (0..64).collect() }]);
        let mut sp = spec(&p, false, MapMode::Scale, 4096);
        sp.spread = Spread::Random;
        let half = |seed| {
            let mut r = TraceReplay::new(&sp, PageRange::contiguous(0, 64));
            let mut mem = Memory::new(64, 4096, 0.0, ZeroLayout::Spread, 0..64);
            r.advance(0, 500, 1.0, &mut SimRng::seed_from_u64(seed), &mut mem);
            dirty(&mut mem)
        };
        assert_eq!(half(3), half(3));
        assert_ne!(half(3), half(4));
        assert!((16..48).contains(&half(3).len()), "about half the pages in half the interval");
    }
}
