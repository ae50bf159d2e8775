//! Tests of the trace replay: page maps, the streamed and the decoded walks (that they replay the
//! same writes and accesses), union jumps over whole passes, and what a replay costs.

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
    TraceSpec { path: p.to_path_buf(), looped, time_scale: 1.0, map, spread: Spread::Even, vm_page_size, summary: trace::scan(p).unwrap() }
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

/// Every page's dirty and non-zero bits.
fn state(mem: &Memory) -> (Vec<bool>, Vec<bool>) {
    ((0..mem.pages()).map(|p| mem.dirty_log.get(p)).collect(), (0..mem.pages()).map(|p| mem.nonzero.get(p)).collect())
}

/// A looping interval trace of 64 pages over 1000 ns: intervals with pages, a gap, and empty
/// intervals between them (consecutive empty chunks).
fn gappy(name: &str) -> PathBuf {
    let mut h = Header::new(Kind::Intervals, 4096, 64 * 4096);
    h.interval_ns = Some(100);
    h.duration_ns = Some(1000);
    let recs = [
        Record::Interval { start_ns: 0, length_ns: 100, pages: vec![1, 2, 3, 4, 5, 6, 7].into() },
        Record::Interval { start_ns: 100, length_ns: 50, pages: vec![].into() },
        Record::Interval { start_ns: 150, length_ns: 50, pages: vec![].into() },
        Record::Interval { start_ns: 300, length_ns: 170, pages: (10..40).collect() },
        Record::Interval { start_ns: 470, length_ns: 30, pages: vec![63].into() },
        Record::Interval { start_ns: 700, length_ns: 250, pages: vec![].into() },
    ];
    write_trace(name, &h, &recs)
}

/// A looping trace of write records over 1000 ns, grouped by 64 ns: some groups empty.
fn writes(name: &str) -> PathBuf {
    let mut h = Header::new(Kind::Writes, 4096, 64 * 4096);
    h.interval_ns = Some(64);
    h.duration_ns = Some(1000);
    let t = [0, 1, 1, 5, 63, 64, 200, 201, 330, 700, 701, 702, 999];
    let recs: Vec<Record> = t.iter().enumerate().map(|(i, &time_ns)| Record::Write { time_ns, page: (i as u64 * 7) % 64 }).collect();
    write_trace(name, &h, &recs)
}

/// Replay `sp` decoded and streamed side by side in steps drawn from `steps` (simulated ns), with
/// accesses between them; both must write the same pages and serve the same accesses.
fn walks_agree(sp: &TraceSpec, ws: PageRange, steps: std::ops::Range<u64>, n: usize) {
    let pages = (ws.first + ws.count) as usize;
    let mut a = TraceReplay::new(sp, ws);
    let mut b = TraceReplay::streamed(sp, ws);
    assert!(matches!(a.walks, Walks::Decoded { .. }) && matches!(b.walks, Walks::Streamed { .. }));
    let (mut ma, mut mb) =
        (Memory::new(pages, 4096, 0.5, ZeroLayout::Spread, 0..pages), Memory::new(pages, 4096, 0.5, ZeroLayout::Spread, 0..pages));
    let (mut ra, mut rb) = (SimRng::seed_from_u64(7), SimRng::seed_from_u64(7));
    let mut draw = SimRng::seed_from_u64(8);
    let mut t = 0;
    for i in 0..n {
        let to = t + draw.random_range(steps.clone());
        a.advance(t, to, 1.0, &mut ra, &mut ma);
        b.advance(t, to, 1.0, &mut rb, &mut mb);
        assert_eq!(state(&ma), state(&mb), "step {i} to {to}");
        if i % 3 == 0 {
            ma.clear_dirty_log();
            mb.clear_dirty_log();
        }
        for k in 0..3 {
            let at = to + k * 40;
            let (x, y) = (a.access_rate(at), b.access_rate(at));
            // The decoded walk merges consecutive empty chunks into one span, so it may say a
            // rate of 0 holds longer; the rates and the pages touched are the same.
            assert_eq!(x.0, y.0, "rate at {at}");
            assert!(if x.0 > 0.0 { x.1 == y.1 } else { x.1 >= y.1 }, "until at {at}: {x:?} {y:?}");
            assert_eq!(a.sample_access(at, &mut ra), b.sample_access(at, &mut rb), "access at {at}");
        }
        t = to + 80;
        a.advance(to, t, 1.0, &mut ra, &mut ma);
        b.advance(to, t, 1.0, &mut rb, &mut mb);
    }
    assert_eq!(state(&ma), state(&mb));
}

#[test]
fn decoded_and_streamed_walks_replay_the_same_writes_and_accesses() {
    let g = gappy("agree-gappy.csv");
    let w = writes("agree-writes.csv");
    for (p, looped, map, vm_page) in [
        (&g, true, MapMode::Scale, 4096),
        (&g, false, MapMode::Wrap, 4096),
        (&g, true, MapMode::Scale, 1024),
        (&w, true, MapMode::Wrap, 4096),
    ] {
        let mut sp = spec(p, looped, map, vm_page);
        walks_agree(&sp, PageRange::contiguous(3, 40), 1..700, 40);
        // Random instants draw the same numbers from the VM's stream in the same order, as long
        // as no advance spans a whole pass (a jump draws nothing for the passes it skips).
        sp.spread = Spread::Random;
        walks_agree(&sp, PageRange::contiguous(3, 40), 1..700, 40);
    }
}

#[test]
fn a_union_jump_over_whole_passes_equals_walking_them() {
    let g = gappy("jump-gappy.csv");
    let w = writes("jump-writes.csv");
    for (p, map, vm_page) in [(&g, MapMode::Scale, 4096), (&g, MapMode::Scale, 1024), (&g, MapMode::Wrap, 4096), (&w, MapMode::Wrap, 1024)]
    {
        let sp = spec(p, true, map, vm_page);
        let ws = PageRange::contiguous(5, 50);
        let mut big = TraceReplay::new(&sp, ws);
        let mut small = TraceReplay::new(&sp, ws);
        let mut streamed = TraceReplay::streamed(&sp, ws);
        let mems = || Memory::new(60, 4096, 0.9, ZeroLayout::Spread, 0..60);
        let (mut mb, mut ms, mut mt) = (mems(), mems(), mems());
        let mut rng = SimRng::seed_from_u64(1);
        let mut t = 0;
        // Spans of 0.3 to 4.7 passes, each ending anywhere in a pass.
        for (i, span) in [2300u64, 470, 4700, 1000, 999, 3001, 300].into_iter().enumerate() {
            big.advance(t, t + span, 1.0, &mut rng, &mut mb);
            for k in 0..span.div_ceil(90) {
                let (a, b) = (t + k * 90, (t + (k + 1) * 90).min(t + span));
                small.advance(a, b, 1.0, &mut rng, &mut ms);
                streamed.advance(a, b, 1.0, &mut rng, &mut mt);
            }
            t += span;
            assert_eq!(state(&mb), state(&ms), "span {i}");
            assert_eq!(state(&mb), state(&mt), "span {i}");
            if i % 2 == 1 {
                for m in [&mut mb, &mut ms, &mut mt] {
                    m.clear_dirty_log();
                }
            }
        }
        assert!(big.cost().2 >= 5, "the long spans jumped whole passes: {:?}", big.cost());
        assert_eq!(small.cost().2, 0, "steps shorter than a pass never jump");
    }
}

#[test]
fn an_idle_looping_trace_reads_and_walks_nothing_after_its_first_pass() {
    // 2000 empty intervals of 1 ns: a pass of 2 us.
    let mut h = Header::new(Kind::Intervals, 4096, 16 * 4096);
    h.interval_ns = Some(1);
    h.duration_ns = Some(2000);
    let recs: Vec<Record> = (0..2000).map(|i| Record::Interval { start_ns: i, length_ns: 1, pages: vec![].into() }).collect();
    let p = write_trace("idle.csv", &h, &recs);
    let sp = spec(&p, true, MapMode::Scale, 4096);
    let ws = PageRange::contiguous(0, 16);
    let mut mem = Memory::new(16, 4096, 0.0, ZeroLayout::Spread, 0..16);
    let mut rng = SimRng::seed_from_u64(1);
    let mut r = TraceReplay::new(&sp, ws);
    let mut s = TraceReplay::streamed(&sp, ws);
    // 1 s of simulated time: 500,000 passes, in steps of 1 ms and of 0.7 ns.
    for k in 0..1000u64 {
        r.advance(k * 1_000_000, (k + 1) * 1_000_000, 1.0, &mut rng, &mut mem);
        assert_eq!(r.access_rate((k + 1) * 1_000_000 + 5), (0.0, (k + 1) * 1_000_000 + 2000));
    }
    for k in 0..1000u64 {
        r.advance(1_000_000_000 + k * 7 / 10, 1_000_000_000 + (k + 1) * 7 / 10, 1.0, &mut rng, &mut mem);
    }
    assert_eq!(dirty(&mut mem), Vec::<usize>::new());
    // Each 1 ms advance enters one pass (with no chunk to walk) and jumps the other 499.
    assert_eq!(r.cost(), (2000, 0, 499_000), "one pass read (to decode it), no chunk walked, the rest jumped");
    // Streaming, the same trace reads every record of every pass it crosses.
    s.advance(0, 20_000, 1.0, &mut rng, &mut mem);
    assert!(s.cost().0 >= 20_000, "{:?}", s.cost());
}

#[test]
fn the_access_stream_finds_its_chunk_without_walking_the_empty_ones() {
    // A busy interval, then 20,000 empty ones: a pass of 21 us.
    let mut h = Header::new(Kind::Intervals, 4096, 16 * 4096);
    h.interval_ns = Some(1000);
    h.duration_ns = Some(21_000);
    let mut recs = vec![Record::Interval { start_ns: 0, length_ns: 1000, pages: vec![3, 4].into() }];
    recs.extend((0..20_000).map(|i| Record::Interval { start_ns: 1000 + i, length_ns: 1, pages: vec![].into() }));
    let p = write_trace("seek.csv", &h, &recs);
    let mut r = TraceReplay::new(&spec(&p, true, MapMode::Scale, 4096), PageRange::contiguous(0, 16));
    let mut rng = SimRng::seed_from_u64(1);
    let pass = 21_000;
    for k in [0u64, 1, 7, 1000, 1001, 50_000] {
        assert_eq!(r.access_rate(k * pass + 10), (2e6, k * pass + 1000), "pass {k}");
        assert_eq!(r.sample_access(k * pass + 20, &mut rng), 3);
        assert_eq!(r.sample_access(k * pass + 30, &mut rng), 4);
        // The empty intervals are one span of rate 0, to the next pass.
        assert_eq!(r.access_rate(k * pass + 1500), (0.0, (k + 1) * pass), "pass {k}");
        assert_eq!(r.sample_access(k * pass + 1600, &mut rng), 4, "an empty span repeats the last page");
    }
    let (read, walked, _) = r.cost();
    assert_eq!((read, walked), (20_001, 6), "one pass read to decode it; one chunk entered per busy interval visited");
}

#[test]
fn wrap_with_equal_page_sizes_takes_the_short_way_to_the_same_pages() {
    let mut h = Header::new(Kind::Writes, 4096, 1000 * 4096);
    h.duration_ns = Some(10);
    let p = write_trace("wrapfast.csv", &h, &[]);
    for (first, count) in [(0, 1), (7, 3), (100, 999), (5, 1000)] {
        let ws = PageRange::contiguous(first, count);
        let fast = PageMap::new(&spec(&p, false, MapMode::Wrap, 4096), ws);
        let slow = PageMap { wrap_pages: false, identity: false, ..fast.clone() };
        assert!(fast.wrap_pages);
        for q in 0..1000 {
            assert_eq!(fast.ranges(q), slow.ranges(q), "page {q} onto {count} pages from {first}");
        }
    }
}
