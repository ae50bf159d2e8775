//! Trace replay, `workload.kind = "trace"`: the resolved trace workload (`TraceSpec`, read and
//! checked at load time by `input::trace`) and the running replay that plays a recorded trace's
//! writes into a VM's memory and serves them again as the post-copy access stream.
//!
//! A trace whose decoded pass is small (`trace_pass::Pass::fits`, under 64 MiB) is read once into a
//! `Pass` shared by the write walk and the access walk (and by every VM replaying the same file at
//! once); walking it costs its nonempty chunks only, and an `advance` over whole passes of a looping
//! trace applies the pass's union of pages once (the dirty log and the non-zero map are sets, so k
//! passes leave what one leaves). A larger trace streams: the walk holds one chunk of the trace (one
//! interval, or one group of write records) at a time, so a trace of any length replays in constant
//! memory.

use crate::model::bitmap::Bitmap;
use crate::model::memory::Memory;
use crate::model::workload::trace_pass::{Pass, Place};
use crate::model::workload::{PageRange, SimRng};
use crate::trace::{Kind, Reader, Record, Summary};
use rand::Rng;
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

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
    /// Wrap with equal page sizes: trace page p is VM page p mod working set (no 128-bit division).
    wrap_pages: bool,
}

impl PageMap {
    fn new(spec: &TraceSpec, ws: PageRange) -> Self {
        let h = &spec.summary.header;
        let identity = h.page_size == spec.vm_page_size && h.pages() == ws.count;
        let wrap_pages = spec.map == MapMode::Wrap && h.page_size == spec.vm_page_size && ws.count > 0;
        PageMap {
            mode: spec.map,
            trace_page: h.page_size as u128,
            trace_memory: h.memory as u128,
            vm_page: spec.vm_page_size as u128,
            ws,
            identity,
            wrap_pages,
        }
    }

    /// The VM pages a write to trace page `p` dirties: one or two ranges `[a, b)` of absolute pages.
    fn ranges(&self, p: u64) -> [(u64, u64); 2] {
        let (first, n) = (self.ws.first, self.ws.count);
        if self.identity {
            return [(first + p, first + p + 1), (0, 0)];
        }
        if self.wrap_pages {
            let q = first + p % n;
            return [(q, q + 1), (0, 0)];
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
    /// Decoding a pass for the cache: say nothing of a read error, only note it in `failed`.
    quiet: bool,
    failed: bool,
    /// Records read from the file so far (what streaming costs).
    reads: u64,
}

impl Cursor {
    fn new(spec: &TraceSpec, quiet: bool) -> Self {
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
            quiet,
            failed: false,
            reads: 0,
        };
        c.reader = c.open();
        c
    }

    /// A quiet walk over the first pass only, to decode it for the cache.
    fn first_pass(spec: &TraceSpec) -> Self {
        let mut c = Cursor::new(&TraceSpec { looped: false, ..spec.clone() }, true);
        if c.reader.is_none() {
            c.failed = true;
        }
        c
    }

    fn open(&mut self) -> Option<Reader> {
        match Reader::open(&self.path) {
            Ok(r) => Some(r),
            Err(e) => {
                // It was read whole at load time, so it changed since: replay what we have.
                self.warn(&e);
                None
            }
        }
    }

    fn warn(&mut self, e: &crate::trace::TraceError) {
        self.failed = true;
        if !self.quiet {
            eprintln!("warning: the trace stopped replaying: {e}");
        }
    }

    fn record(&mut self) -> Option<Record> {
        if let Some(r) = self.ahead.take() {
            return Some(r);
        }
        let reader = self.reader.as_mut()?;
        match reader.next_record() {
            Ok(Some(r)) => {
                self.reads += 1;
                Some(r)
            }
            Ok(None) => None,
            Err(e) => {
                self.warn(&e);
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
                    let s = self.offset.saturating_add(start_ns);
                    if s > start {
                        // A gap before the next interval writes nothing.
                        self.end = s;
                        self.ahead = Some(Record::Interval { start_ns, length_ns, pages });
                        return;
                    }
                    self.end = s.saturating_add(length_ns);
                    self.pages.extend(pages.iter());
                    self.arranged = false;
                }
                Some(Record::Write { .. }) => unreachable!("the reader checks the kind"),
                None => self.end = pass_end.max(start + 1),
            },
            Kind::Writes => {
                let end = start.saturating_add(self.group).min(pass_end).max(start + 1);
                self.end = end;
                let mut next = None;
                while let Some(r) = self.record() {
                    let Record::Write { time_ns, page } = r else { unreachable!("the reader checks the kind") };
                    let t = self.offset.saturating_add(time_ns);
                    if t >= end {
                        self.ahead = Some(r);
                        next = Some(t);
                        break;
                    }
                    self.times.push(t);
                    self.pages.push(page);
                }
                if self.pages.is_empty() && self.group > 0 {
                    // An empty group: the chunk runs on, in whole groups, to the one that holds the
                    // next write (or to the pass's end), so a sparse trace with a far-off last write
                    // is not walked a group at a time (the fuzz harness's hang, seed 3).
                    let to = next.unwrap_or(pass_end).min(pass_end);
                    let groups = (to.saturating_sub(start) / self.group).max(1);
                    self.end = start.saturating_add(groups.saturating_mul(self.group)).min(pass_end).max(end);
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

/// Decode the first pass of a trace into a `Pass`, or `None` when it is too large for the cache
/// or cannot be read whole (then the replay streams, and says what went wrong when it gets there).
/// The chunks are the streaming walk's own, so both replay the same writes at the same times.
fn decode_pass(spec: &TraceSpec) -> Option<Pass> {
    if !Pass::fits(&spec.summary) {
        return None;
    }
    let duration = spec.summary.duration_ns;
    let mut c = Cursor::first_pass(spec);
    let mut pass = Pass::new(&spec.summary, duration);
    while !c.failed {
        c.load_next();
        if c.end == u64::MAX {
            break; // an empty, 0 ns trace
        }
        pass.push(c.start, c.end, &c.pages, &c.times);
        if c.end >= duration {
            break;
        }
    }
    if c.failed {
        return None;
    }
    pass.shrink();
    pass.records_read = c.reads;
    Some(pass)
}

/// The decoded passes in use, by file: the VMs of a group replaying one trace share one copy. Held
/// weakly, so a pass lives as long as a replay uses it.
type PassKey = (PathBuf, Option<std::time::SystemTime>, u64);
static PASSES: Mutex<Vec<(PassKey, Weak<Pass>)>> = Mutex::new(Vec::new());

/// The decoded pass of `spec`'s trace, shared with any replay of the same file that is running.
fn shared_pass(spec: &TraceSpec) -> Option<Arc<Pass>> {
    if !Pass::fits(&spec.summary) {
        return None;
    }
    // The file's modification time and length tell a rewritten file from the one decoded.
    let meta = std::fs::metadata(&spec.path).ok()?;
    let key = (spec.path.clone(), meta.modified().ok(), meta.len());
    let mut cache = PASSES.lock().unwrap_or_else(|e| e.into_inner());
    cache.retain(|(_, w)| w.strong_count() > 0);
    if let Some(p) = cache.iter().find(|(k, _)| *k == key).and_then(|(_, w)| w.upgrade()) {
        return Some(p);
    }
    let p = Arc::new(decode_pass(spec)?);
    cache.push((key, Arc::downgrade(&p)));
    Some(p)
}

/// What the replay needs to know about the trace besides the pass.
#[derive(Clone, Copy)]
struct How {
    kind: Kind,
    spread: Spread,
    looped: bool,
}

/// An interval's pages at random instants of `[s, e)`, in time order (as `Cursor::arrange` does).
fn arrange_random(pass: &Pass, i: usize, s: u64, e: u64, rng: &mut SimRng) -> Vec<(u64, u64)> {
    let c = pass.chunks[i];
    let mut pairs: Vec<(u64, u64)> = (c.at..c.at + c.len).map(|k| (s + rng.random_range(0..e - s), pass.page(k))).collect();
    pairs.sort_unstable();
    pairs
}

/// The write walk over a decoded pass: where the writes have reached.
#[derive(Default)]
struct WriteWalk {
    /// Trace time where the current pass starts, the chunk in it, and the writes of that chunk done.
    offset: u64,
    chunk: usize,
    next: usize,
    /// The current chunk's writes at random instants (`Spread::Random` intervals), once drawn.
    arranged: Option<Vec<(u64, u64)>>,
    /// The VM words the pass writes (`union_words`), computed on the first jump.
    union: Option<Vec<(usize, u64)>>,
    /// Chunks walked through and passes jumped (for the tests of what the replay costs).
    walked: u64,
    jumped: u64,
}

impl WriteWalk {
    /// Apply every write before trace time `until`.
    fn apply_until(&mut self, until: u64, pass: &Pass, how: How, rng: &mut SimRng, map: &PageMap, mem: &mut Memory) {
        loop {
            let Some(&c) = pass.chunks.get(self.chunk) else {
                if !how.looped {
                    return; // the trace is over: nothing more is written
                }
                let next = self.offset.saturating_add(pass.duration);
                if next >= until {
                    return;
                }
                // Passes that end by `until` leave the pages of one pass written, whatever their
                // order (walked in order only when the memory keeps a journal of the order).
                let whole = (until - next) / pass.duration;
                self.offset = next;
                if whole >= 1 && (pass.chunks.is_empty() || mem.journal.is_none()) {
                    if !pass.chunks.is_empty() {
                        let u = self.union.get_or_insert_with(|| union_words(pass, map, mem.pages()));
                        for &(wi, w) in u.iter() {
                            mem.write_word(wi, w);
                        }
                    }
                    self.jumped += whole;
                    self.offset = next + whole * pass.duration;
                }
                self.chunk = 0;
                continue;
            };
            let s = self.offset.saturating_add(c.start);
            if s >= until {
                return;
            }
            let e = self.offset.saturating_add(c.end);
            match (how.kind, how.spread) {
                (Kind::Writes, _) => {
                    while self.next < c.len && self.offset.saturating_add(pass.time(c.at + self.next)) < until {
                        map.write(pass.page(c.at + self.next), mem);
                        self.next += 1;
                    }
                }
                (Kind::Intervals, Spread::Even) => {
                    // The k-th of n pages is written at s + floor(k (e - s) / n): those before
                    // `until` are the k with k (e - s) < (until - s) n.
                    let (len, n) = ((e - s) as u128, c.len as u128);
                    let m = ((until - s) as u128 * n).div_ceil(len).min(n) as usize;
                    for k in self.next..m {
                        map.write(pass.page(c.at + k), mem);
                    }
                    self.next = self.next.max(m);
                }
                (Kind::Intervals, Spread::Random) => {
                    let arr = self.arranged.get_or_insert_with(|| arrange_random(pass, self.chunk, s, e, rng));
                    while self.next < arr.len() && arr[self.next].0 < until {
                        map.write(arr[self.next].1, mem);
                        self.next += 1;
                    }
                }
            }
            if self.next < c.len {
                return;
            }
            self.chunk += 1;
            self.walked += 1;
            self.next = 0;
            self.arranged = None;
        }
    }
}

/// The VM pages one pass of the trace writes, as (word index, bits) of the VM's page bitmap.
fn union_words(pass: &Pass, map: &PageMap, pages: usize) -> Vec<(usize, u64)> {
    let mut b = Bitmap::new(pages);
    for p in pass.all_pages() {
        for (a, z) in map.ranges(p) {
            if z > a {
                b.set_range(a as usize, z as usize);
            }
        }
    }
    let (first, end) = (map.ws.first as usize, (map.ws.first + map.ws.count) as usize);
    (first / 64..end.div_ceil(64)).map(|wi| (wi, b.word(wi))).filter(|&(_, w)| w != 0).collect()
}

/// The post-copy access walk over a decoded pass: the chunk (or empty span) in force.
struct AccessWalk {
    /// Trace time `[start, end)` of the span in force, and the nonempty chunk it is, if any.
    start: u64,
    end: u64,
    chunk: Option<usize>,
    /// Accesses made in this chunk, and its pages at random instants once drawn.
    next: usize,
    arranged: Option<Vec<u64>>,
    /// Nonempty chunks entered (for the tests of what the replay costs).
    entered: u64,
}

impl AccessWalk {
    fn new() -> Self {
        AccessWalk { start: 0, end: 0, chunk: None, next: 0, arranged: None, entered: 0 }
    }

    /// Move forward to the span holding trace time `tau` (never back): a binary search in the pass.
    fn seek(&mut self, tau: u64, pass: &Pass, how: How) {
        if self.end > tau {
            return;
        }
        self.next = 0;
        self.arranged = None;
        self.chunk = None;
        let d = pass.duration;
        if !how.looped && tau >= d {
            (self.start, self.end) = (d, u64::MAX); // the trace is over
            return;
        }
        let offset = tau - tau % d;
        let (a, b) = match pass.place(tau - offset) {
            Place::In(i) => {
                self.chunk = Some(i);
                self.entered += 1;
                (pass.chunks[i].start, pass.chunks[i].end)
            }
            Place::Before(i) => pass.gap(i),
        };
        (self.start, self.end) = (offset.saturating_add(a), offset.saturating_add(b));
    }

    fn len(&self, pass: &Pass) -> usize {
        self.chunk.map_or(0, |i| pass.chunks[i].len)
    }
}

/// How a replay walks its trace: over the decoded pass, or streaming the file.
enum Walks {
    Decoded {
        pass: Arc<Pass>,
        writes: WriteWalk,
        /// In a cell because the workload interface reads the access rate through `&self`.
        access: RefCell<AccessWalk>,
    },
    Streamed {
        writes: Box<Cursor>,
        /// The post-copy access stream: a second walk, started on first use.
        access: RefCell<Option<Box<Cursor>>>,
    },
}

/// The running replay of one VM.
pub struct TraceReplay {
    map: PageMap,
    time_scale: f64,
    how: How,
    walks: Walks,
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
        Self::with_pass(spec, ws, shared_pass(spec))
    }

    /// A replay that streams the file even where it would fit the cache (to compare the two).
    #[cfg(test)]
    fn streamed(spec: &TraceSpec, ws: PageRange) -> Self {
        Self::with_pass(spec, ws, None)
    }

    fn with_pass(spec: &TraceSpec, ws: PageRange, pass: Option<Arc<Pass>>) -> Self {
        let walks = match pass {
            Some(pass) => Walks::Decoded { pass, writes: WriteWalk::default(), access: RefCell::new(AccessWalk::new()) },
            None => Walks::Streamed { writes: Box::new(Cursor::new(spec, false)), access: RefCell::new(None) },
        };
        TraceReplay {
            map: PageMap::new(spec, ws),
            time_scale: spec.time_scale,
            how: How { kind: spec.summary.header.kind, spread: spec.spread, looped: spec.looped },
            walks,
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
        match &mut self.walks {
            Walks::Decoded { pass, writes, .. } => writes.apply_until(self.tau, pass, self.how, rng, &self.map, mem),
            Walks::Streamed { writes, .. } => writes.apply_until(self.tau, rng, &self.map, mem),
        }
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

    /// The streamed access walk, moved forward to simulated time `t`.
    fn stream_at<'a>(&self, access: &'a RefCell<Option<Box<Cursor>>>, t: u64) -> std::cell::RefMut<'a, Cursor> {
        let tau = self.tau_at(t);
        let mut c =
            std::cell::RefMut::map(access.borrow_mut(), |a| &mut **a.get_or_insert_with(|| Box::new(Cursor::new(&self.spec, false))));
        c.seek(tau);
        c
    }

    /// Accesses per simulated second at `t`: the writes of the chunk in force, spread over it.
    pub fn access_rate(&self, t: u64) -> (f64, u64) {
        let (n, start, end) = match &self.walks {
            Walks::Decoded { pass, access, .. } => {
                let mut a = access.borrow_mut();
                a.seek(self.tau_at(t), pass, self.how);
                (a.len(pass), a.start, a.end)
            }
            Walks::Streamed { access, .. } => {
                let c = self.stream_at(access, t);
                (c.pages.len(), c.start, c.end)
            }
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
        let page = match &self.walks {
            Walks::Decoded { pass, access, .. } => {
                let mut a = access.borrow_mut();
                a.seek(self.tau_at(t), pass, self.how);
                a.chunk.map(|i| {
                    let c = pass.chunks[i];
                    let k = a.next % c.len;
                    a.next += 1;
                    if self.how.kind == Kind::Intervals && self.how.spread == Spread::Random {
                        let (s, e) = (a.start, a.end);
                        a.arranged.get_or_insert_with(|| arrange_random(pass, i, s, e, rng).into_iter().map(|x| x.1).collect())[k]
                    } else {
                        pass.page(c.at + k)
                    }
                })
            }
            Walks::Streamed { access, .. } => {
                let mut c = self.stream_at(access, t);
                c.arrange(rng);
                let n = c.pages.len();
                (n > 0).then(|| {
                    let p = c.pages[c.next % n];
                    c.next += 1;
                    p
                })
            }
        };
        if let Some(p) = page {
            self.last_access = p;
        }
        self.map.ranges(self.last_access)[0].0 as usize
    }

    /// What the replay has cost so far: trace records read from the file (a decoded pass counts
    /// the records read to decode it, once), chunks walked by the writes and by the accesses, and
    /// passes the writes jumped over whole.
    #[cfg(test)]
    fn cost(&self) -> (u64, u64, u64) {
        match &self.walks {
            Walks::Decoded { pass, writes, access } => (pass.records_read, writes.walked + access.borrow().entered, writes.jumped),
            Walks::Streamed { writes, access } => (writes.reads + access.borrow().as_ref().map_or(0, |c| c.reads), 0, 0),
        }
    }
}

#[cfg(test)]
mod tests;
