//! Trace analysis behind `migsim trace stats`: the dirty rate over time, the distinct pages touched,
//! and the writable-working-set curve (distinct pages written within a window, as a function of the
//! window's length), computed in one streaming pass. Its table, CSVs and charts are
//! `output::trace_stats`.
//!
//! The working-set curve for every window length at once: keep each page's last interval and a
//! histogram of "pages whose last write was in interval i"; the distinct pages of the window ending
//! at interval e with length w is the histogram's sum over (e - w, e], kept as a running sum per w.
//! Pages are kept as ranges throughout: "each page's last interval" is a map of segments (a run of
//! pages with the same last interval is one entry), so an interval writing `0-4294967295` costs one
//! entry, not 2^32. The cost is O(segments touched x window lengths) per interval; the memory one
//! entry per segment (at most one per page written) and one number per interval.

use crate::trace::{Kind, PageSet, Place, Reader, Record, TraceError};
use std::collections::BTreeMap;
use std::path::Path;

/// The most intervals (or write groups) `trace stats` reads: its rate table keeps one row per
/// interval (about 40 bytes with the histogram), so this bounds that to about 700 MB. At 100 ms an
/// interval, it is 19 days of recording.
pub const MAX_INTERVALS: u64 = 1 << 24;

/// Write records gathered for one group before they are folded into ranges.
const FOLD_WRITES: usize = 1 << 20;

/// One interval of the trace (for a write-record trace, one group of `group_ns`).
#[derive(Debug, Clone, PartialEq)]
pub struct RatePoint {
    pub start_ns: u64,
    pub length_ns: u64,
    /// Distinct pages written in the interval.
    pub pages: u64,
    /// Of those, pages never written before in the trace.
    pub new_pages: u64,
}

/// Distinct pages written within a window of `intervals` consecutive intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct WwsPoint {
    pub intervals: u64,
    /// `intervals` x the mean interval length.
    pub window_ns: u64,
    /// Mean and maximum over every window position (sliding by one interval).
    pub mean_pages: f64,
    pub max_pages: u64,
}

#[derive(Debug, Clone)]
pub struct TraceStats {
    pub header: crate::trace::Header,
    pub records: u64,
    /// Sum over intervals of the distinct pages written in each (write records: their number).
    pub page_writes: u64,
    /// Pages written at least once.
    pub distinct: u64,
    pub rate: Vec<RatePoint>,
    pub wws: Vec<WwsPoint>,
    pub mean_interval_ns: f64,
}

/// Window lengths for the working-set curve: 1, 2, 4, ... intervals, and the whole trace.
const MAX_WINDOW_DOUBLINGS: u32 = 40;

struct Wws {
    /// Each written page's last interval: segment start -> (segment end inclusive, interval).
    last: BTreeMap<u64, (u64, u32)>,
    hist: Vec<u64>,
    windows: Vec<u64>,
    sum: Vec<u64>,
    total: Vec<f64>,
    count: Vec<u64>,
    max: Vec<u64>,
}

impl Wws {
    fn new() -> Self {
        let windows: Vec<u64> = (0..MAX_WINDOW_DOUBLINGS).map(|k| 1u64 << k).collect();
        let n = windows.len();
        Wws { last: BTreeMap::new(), hist: Vec::new(), windows, sum: vec![0; n], total: vec![0.0; n], count: vec![0; n], max: vec![0; n] }
    }

    /// Add interval `e` (the next one) with its pages; returns how many are new.
    fn push(&mut self, pages: &PageSet) -> u64 {
        let e = self.hist.len() as u64;
        self.hist.push(0);
        // The interval e - w leaves window w.
        for (k, &w) in self.windows.iter().enumerate() {
            if e >= w {
                self.sum[k] -= self.hist[(e - w) as usize];
            }
        }
        let mut new = 0;
        let mut seen = Vec::new();
        for &(a, b) in pages.runs() {
            // The segments overlapping [a, b]: cut them at a and b, drop the inside, remember it.
            seen.clear();
            if let Some((&s, &(t, j))) = self.last.range(..a).next_back()
                && t >= a
            {
                self.last.insert(s, (a - 1, j));
                if t > b {
                    self.last.insert(b + 1, (t, j));
                }
                seen.push((t.min(b) - a + 1, j));
            }
            let inside: Vec<(u64, (u64, u32))> = self.last.range(a..=b).map(|(&s, &v)| (s, v)).collect();
            for (s, (t, j)) in inside {
                self.last.remove(&s);
                if t > b {
                    self.last.insert(b + 1, (t, j));
                }
                seen.push((t.min(b) - s + 1, j));
            }
            self.last.insert(a, (b, e as u32));
            let mut again = 0;
            for &(len, j) in &seen {
                again += len;
                self.hist[j as usize] -= len;
                // Window w holds interval j iff j > e - w.
                for (k, &w) in self.windows.iter().enumerate().rev() {
                    if u64::from(j) + w <= e {
                        break;
                    }
                    self.sum[k] -= len;
                }
            }
            new += b - a + 1 - again;
        }
        let pages = pages.len();
        self.hist[e as usize] += pages;
        for k in 0..self.windows.len() {
            self.sum[k] += pages;
            if e + 1 >= self.windows[k] {
                self.total[k] += self.sum[k] as f64;
                self.count[k] += 1;
                self.max[k] = self.max[k].max(self.sum[k]);
            }
        }
        new
    }
}

/// Read a trace (streaming) and compute its statistics.
pub fn compute(path: &Path) -> Result<TraceStats, TraceError> {
    let mut r = Reader::open(path)?;
    let header = r.header().clone();
    let too_long = |place: Place| TraceError {
        file: path.display().to_string(),
        place,
        message: format!(
            "`trace stats` reads at most {MAX_INTERVALS} intervals (write traces: groups of the header's `interval`), \
             one row each in its rate table; this trace has more"
        ),
    };
    let mut wws = Wws::new();
    let mut rate = Vec::new();
    let (mut records, mut page_writes) = (0u64, 0u64);
    let mut add = |wws: &mut Wws, start_ns, length_ns, pages: &PageSet| {
        let new_pages = wws.push(pages);
        rate.push(RatePoint { start_ns, length_ns, pages: pages.len(), new_pages });
    };
    match header.kind {
        Kind::Intervals => {
            while let Some(rec) = r.next_record()? {
                records += 1;
                if records > MAX_INTERVALS {
                    return Err(too_long(r.place()));
                }
                if let Record::Interval { start_ns, length_ns, pages } = rec {
                    page_writes += pages.len();
                    add(&mut wws, start_ns, length_ns, &pages);
                }
            }
        }
        Kind::Writes => {
            // Group the writes into intervals of `group_ns`, empty ones included. A group's writes
            // are folded into ranges every FOLD_WRITES, so a group is held as ranges too.
            let g = header.group_ns();
            let mut group = 0u64;
            let mut set: Vec<u64> = Vec::new();
            let mut folded = PageSet::default();
            let fold = |set: &mut Vec<u64>, folded: &mut PageSet| {
                let mut ranges: Vec<(u64, u64)> = folded.runs().to_vec();
                ranges.extend(set.drain(..).map(|p| (p, p)));
                *folded = PageSet::from_ranges(ranges);
            };
            let mut close = |wws: &mut Wws, group: u64, set: &mut Vec<u64>, folded: &mut PageSet| {
                fold(set, folded);
                add(wws, group * g, g, folded);
                *folded = PageSet::default();
            };
            let groups = |end: u64| end.div_ceil(g);
            if header.duration_ns.is_some_and(|d| groups(d) > MAX_INTERVALS) {
                return Err(too_long(Place::File));
            }
            while let Some(rec) = r.next_record()? {
                records += 1;
                if let Record::Write { time_ns, page } = rec {
                    page_writes += 1;
                    if time_ns / g >= MAX_INTERVALS {
                        return Err(too_long(r.place()));
                    }
                    while time_ns / g > group {
                        close(&mut wws, group, &mut set, &mut folded);
                        group += 1;
                    }
                    set.push(page);
                    if set.len() >= FOLD_WRITES {
                        fold(&mut set, &mut folded);
                    }
                }
            }
            let end = header.duration_ns.map_or(group + 1, |d| groups(d).max(group + 1));
            while group < end {
                close(&mut wws, group, &mut set, &mut folded);
                group += 1;
            }
        }
    }
    let n = rate.len() as u64;
    let covered: u64 = rate.iter().map(|p| p.length_ns).sum();
    let mean_interval_ns = if n == 0 { 0.0 } else { covered as f64 / n as f64 };
    let mut points: Vec<WwsPoint> = Vec::new();
    for k in 0..wws.windows.len() {
        if wws.count[k] == 0 {
            continue;
        }
        let w = wws.windows[k];
        points.push(WwsPoint {
            intervals: w,
            window_ns: (w as f64 * mean_interval_ns).round() as u64,
            mean_pages: wws.total[k] / wws.count[k] as f64,
            max_pages: wws.max[k],
        });
    }
    // The whole trace as one window, if not a power of two already.
    let distinct = wws.last.iter().map(|(&s, &(t, _))| t - s + 1).sum();
    if n > 0 && !n.is_power_of_two() {
        points.push(WwsPoint { intervals: n, window_ns: covered, mean_pages: distinct as f64, max_pages: distinct });
    }
    Ok(TraceStats { header, records, page_writes, distinct, rate, wws: points, mean_interval_ns })
}

impl TraceStats {
    /// `pages` of the trace in MiB.
    pub fn mib(&self, pages: f64) -> f64 {
        pages * self.header.page_size as f64 / 1_048_576.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Form, Header, Writer};

    fn trace(name: &str, h: &Header, recs: &[Record]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("migsim-stats-unit-{}", std::process::id())).join(name);
        let mut w = Writer::create(&p, Form::Binary, h.kind).unwrap();
        recs.iter().for_each(|r| w.write(r).unwrap());
        w.finish(h).unwrap();
        p
    }

    /// The working set by brute force: the union over every window position.
    fn brute(sets: &[Vec<u64>], w: usize) -> (f64, u64) {
        let mut total = 0u64;
        let mut max = 0u64;
        for e in w - 1..sets.len() {
            let mut u: Vec<u64> = sets[e + 1 - w..=e].concat();
            u.sort();
            u.dedup();
            total += u.len() as u64;
            max = max.max(u.len() as u64);
        }
        (total as f64 / (sets.len() + 1 - w) as f64, max)
    }

    #[test]
    fn working_set_curve_matches_brute_force() {
        let mut h = Header::new(Kind::Intervals, 4096, 64 * 4096);
        h.interval_ns = Some(10);
        // A deterministic mix: a hot set {0..4} every interval, plus pages that drift.
        let sets: Vec<Vec<u64>> = (0..37u64)
            .map(|i| {
                let mut s: Vec<u64> = (0..4).chain([(i * 7) % 64, (i * 13 + 5) % 64, 10 + i % 9]).collect();
                s.sort();
                s.dedup();
                s
            })
            .collect();
        let recs: Vec<Record> = sets
            .iter()
            .enumerate()
            .map(|(i, s)| Record::Interval { start_ns: i as u64 * 10, length_ns: 10, pages: PageSet::from_pages(s) })
            .collect();
        let st = compute(&trace("wws.mtrace", &h, &recs)).unwrap();
        assert_eq!(st.rate.len(), 37);
        for w in &st.wws {
            let (mean, max) = brute(&sets, w.intervals as usize);
            assert!((w.mean_pages - mean).abs() < 1e-9 && w.max_pages == max, "window {}: {w:?} vs {mean} {max}", w.intervals);
        }
        let all: Vec<u64> = {
            let mut u = sets.concat();
            u.sort();
            u.dedup();
            u
        };
        assert_eq!(st.distinct, all.len() as u64);
        assert_eq!(st.wws.last().unwrap().intervals, 37);
        assert_eq!(st.rate.iter().map(|p| p.new_pages).sum::<u64>(), st.distinct);
    }

    #[test]
    fn ranges_that_overlap_and_split_match_brute_force() {
        let mut h = Header::new(Kind::Intervals, 4096, 1000 * 4096);
        h.interval_ns = Some(10);
        let mut x = 12345u64;
        let mut next = |m: u64| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % m
        };
        let sets: Vec<Vec<u64>> = (0..50)
            .map(|_| {
                let mut s = Vec::new();
                for _ in 0..next(5) {
                    let a = next(1000);
                    s.extend(a..(a + next(300)).min(1000));
                }
                s.sort();
                s.dedup();
                s
            })
            .collect();
        let recs: Vec<Record> = sets
            .iter()
            .enumerate()
            .map(|(i, s)| Record::Interval { start_ns: i as u64 * 10, length_ns: 10, pages: PageSet::from_pages(s) })
            .collect();
        let st = compute(&trace("ranges.mtrace", &h, &recs)).unwrap();
        for w in &st.wws {
            let (mean, max) = brute(&sets, w.intervals as usize);
            assert!((w.mean_pages - mean).abs() < 1e-9 && w.max_pages == max, "window {}: {w:?} vs {mean} {max}", w.intervals);
        }
        let mut all = sets.concat();
        all.sort();
        all.dedup();
        assert_eq!(st.distinct, all.len() as u64);
    }

    #[test]
    fn a_trace_of_2_to_the_32_pages_is_read_as_ranges() {
        // 16 TiB of 4 KiB pages, every page written twice: one range each time, not 2^32 numbers.
        let mut h = Header::new(Kind::Intervals, 4096, 16 << 40);
        h.interval_ns = Some(10);
        let all = PageSet::from_ranges(vec![(0, (1 << 32) - 1)]);
        let recs = [
            Record::Interval { start_ns: 0, length_ns: 10, pages: all.clone() },
            Record::Interval { start_ns: 10, length_ns: 10, pages: all },
        ];
        let st = compute(&trace("huge.mtrace", &h, &recs)).unwrap();
        assert_eq!((st.distinct, st.page_writes), (1 << 32, 1 << 33));
        assert_eq!(st.rate[1].new_pages, 0);
    }

    #[test]
    fn write_records_are_grouped() {
        let mut h = Header::new(Kind::Writes, 4096, 16 * 4096);
        h.interval_ns = Some(100);
        h.duration_ns = Some(400);
        let recs = [
            Record::Write { time_ns: 0, page: 1 },
            Record::Write { time_ns: 50, page: 1 },
            Record::Write { time_ns: 99, page: 2 },
            Record::Write { time_ns: 250, page: 3 },
        ];
        let st = compute(&trace("w.mtrace", &h, &recs)).unwrap();
        let pages: Vec<u64> = st.rate.iter().map(|p| p.pages).collect();
        assert_eq!(pages, vec![2, 0, 1, 0]);
        assert_eq!((st.page_writes, st.distinct), (4, 3));
    }
}
