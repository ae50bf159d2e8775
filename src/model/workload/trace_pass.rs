//! One pass of a replayed trace, decoded and kept in memory in a compact form (`Pass`): its
//! nonempty chunks in time order and their pages (as `u32` where the trace's pages fit), so that a
//! looping trace is read and decompressed once instead of on every pass, and so that the replay's
//! write walk and its post-copy access walk share one copy. Empty chunks (gaps, empty intervals)
//! are not stored: they are the spans between the stored chunks, so walking costs the nonempty
//! chunks only and finding the chunk at a time is a binary search.
//!
//! Only traces whose decoded pass is small (`Pass::fits`) are kept; larger ones stream, in
//! constant memory, as docs/traces.md promises. This file knows nothing of how trace pages map
//! onto a VM (`trace::PageMap`) or of the replay's clocks: it holds data and answers lookups.

use crate::trace::{Kind, Summary};

/// The most memory a decoded pass may take; a larger trace streams.
pub const CAP_BYTES: u64 = 64 << 20;

/// Bytes per stored chunk (`Chunk`).
const CHUNK_BYTES: u64 = std::mem::size_of::<Chunk>() as u64;

/// Trace pages, 4 bytes each where every page of the trace's memory fits in a `u32`.
enum Pages {
    U32(Vec<u32>),
    U64(Vec<u64>),
}

/// One nonempty chunk: trace time `[start, end)` from the start of the pass, and its writes,
/// `len` entries from `at` (in `Pass::pages`, and in `Pass::times` for write records).
#[derive(Debug, Clone, Copy)]
pub struct Chunk {
    pub start: u64,
    pub end: u64,
    pub at: usize,
    pub len: usize,
}

/// Where a time of the pass falls: in nonempty chunk `i`, or in the empty span before chunk `i`
/// (`i` = the number of chunks: after the last one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    In(usize),
    Before(usize),
}

/// One pass of a trace, decoded.
pub struct Pass {
    pub duration: u64,
    pub chunks: Vec<Chunk>,
    pages: Pages,
    /// Write records' times from the start of the pass (empty for intervals, whose pages are
    /// spread over the interval when replayed).
    times: Vec<u64>,
    /// Trace records read to decode the pass (what decoding cost).
    pub records_read: u64,
}

impl Pass {
    /// Whether a trace's decoded pass stays under `CAP_BYTES` (from the load-time scan's counts).
    pub fn fits(summary: &Summary) -> bool {
        let page = if wide(summary) { 8 } else { 4 };
        let time = if summary.header.kind == Kind::Writes { 8 } else { 0 };
        // Write records group into at most one chunk per record; intervals are one chunk each.
        let bytes = summary.entries.saturating_mul(page + time).saturating_add(summary.records.saturating_mul(CHUNK_BYTES));
        bytes <= CAP_BYTES
    }

    /// An empty pass of `duration` for a trace like `summary`'s, to be filled with `push`.
    pub fn new(summary: &Summary, duration: u64) -> Pass {
        let pages = if wide(summary) { Pages::U64(Vec::new()) } else { Pages::U32(Vec::new()) };
        Pass { duration, chunks: Vec::new(), pages, times: Vec::new(), records_read: 0 }
    }

    /// Add the next chunk (in time order) with its pages in the order written and, for write
    /// records, their times from the start of the pass. An empty chunk is not stored.
    pub fn push(&mut self, start: u64, end: u64, pages: &[u64], times: &[u64]) {
        if pages.is_empty() {
            return;
        }
        let at = self.len();
        match &mut self.pages {
            // `fits` chose u32 only when every page of the trace's memory is below 2^32.
            Pages::U32(v) => v.extend(pages.iter().map(|&p| p as u32)),
            Pages::U64(v) => v.extend_from_slice(pages),
        }
        self.times.extend_from_slice(times);
        self.chunks.push(Chunk { start, end, at, len: pages.len() });
    }

    /// Return spare capacity once the pass is complete.
    pub fn shrink(&mut self) {
        match &mut self.pages {
            Pages::U32(v) => v.shrink_to_fit(),
            Pages::U64(v) => v.shrink_to_fit(),
        }
        self.times.shrink_to_fit();
        self.chunks.shrink_to_fit();
    }

    /// Page entries stored.
    pub fn len(&self) -> usize {
        match &self.pages {
            Pages::U32(v) => v.len(),
            Pages::U64(v) => v.len(),
        }
    }

    /// The trace page of entry `i`.
    #[inline]
    pub fn page(&self, i: usize) -> u64 {
        match &self.pages {
            Pages::U32(v) => v[i] as u64,
            Pages::U64(v) => v[i],
        }
    }

    /// The time of write record `i` from the start of the pass (write-record traces only).
    #[inline]
    pub fn time(&self, i: usize) -> u64 {
        self.times[i]
    }

    /// Every page entry of the pass (with repeats), in order.
    pub fn all_pages(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).map(|i| self.page(i))
    }

    /// Where time `rel` (from the start of the pass, below its duration) falls.
    pub fn place(&self, rel: u64) -> Place {
        let i = self.chunks.partition_point(|c| c.end <= rel);
        if i < self.chunks.len() && self.chunks[i].start <= rel { Place::In(i) } else { Place::Before(i) }
    }

    /// The empty span before chunk `i`, from the start of the pass: `[previous chunk's end, chunk
    /// i's start)`, or to the end of the pass after the last chunk.
    pub fn gap(&self, i: usize) -> (u64, u64) {
        let start = if i == 0 { 0 } else { self.chunks[i - 1].end };
        let end = self.chunks.get(i).map_or(self.duration, |c| c.start);
        (start, end)
    }

    /// Heap size of the decoded data.
    #[cfg(test)]
    pub fn bytes(&self) -> u64 {
        let page = match &self.pages {
            Pages::U32(_) => 4,
            Pages::U64(_) => 8,
        };
        self.len() as u64 * page + self.times.len() as u64 * 8 + self.chunks.len() as u64 * CHUNK_BYTES
    }
}

/// Whether a trace has pages beyond `u32`.
fn wide(summary: &Summary) -> bool {
    summary.header.pages() > 1 << 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Header;

    fn summary(kind: Kind, pages: u64, records: u64, entries: u64) -> Summary {
        Summary {
            header: Header::new(kind, 4096, pages * 4096),
            records,
            entries,
            duration_ns: 100,
            max_chunk: 0,
            max_chunk_at: crate::trace::Place::File,
        }
    }

    #[test]
    fn pages_are_u32_when_they_fit_and_empty_chunks_are_not_stored() {
        let s = summary(Kind::Intervals, 1 << 32, 3, 3);
        let mut p = Pass::new(&s, 100);
        p.push(0, 10, &[1, 2], &[]);
        p.push(10, 20, &[], &[]);
        p.push(30, 40, &[(1 << 32) - 1], &[]);
        assert_eq!(p.chunks.len(), 2);
        assert_eq!(p.page(2), (1 << 32) - 1);
        assert_eq!(p.bytes(), 3 * 4 + 2 * CHUNK_BYTES);
        let wide = Pass::new(&summary(Kind::Intervals, (1 << 32) + 1, 1, 1), 100);
        assert!(matches!(wide.pages, Pages::U64(_)));
        // Places: in a chunk, in the gap before one, after the last.
        assert_eq!(
            (p.place(0), p.place(9), p.place(10), p.place(35), p.place(40)),
            (Place::In(0), Place::In(0), Place::Before(1), Place::In(1), Place::Before(2))
        );
        assert_eq!((p.gap(1), p.gap(2)), ((10, 30), (40, 100)));
    }

    #[test]
    fn the_cap_counts_pages_times_and_chunks() {
        // 16 Mi u32 pages fill the cap but for the chunks; 16 Mi u64 pages overflow it.
        assert!(Pass::fits(&summary(Kind::Intervals, 1 << 20, 1, (CAP_BYTES - CHUNK_BYTES) / 4)));
        assert!(!Pass::fits(&summary(Kind::Intervals, 1 << 20, 2, (CAP_BYTES - CHUNK_BYTES) / 4)));
        assert!(!Pass::fits(&summary(Kind::Intervals, 1 << 33, 1, CAP_BYTES / 8)));
        // Write records carry an 8-byte time each.
        assert!(!Pass::fits(&summary(Kind::Writes, 1 << 20, 1, CAP_BYTES / 8)));
        assert!(Pass::fits(&summary(Kind::Writes, 1 << 20, 1, (CAP_BYTES - CHUNK_BYTES) / 16)));
    }
}
