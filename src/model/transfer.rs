//! Transfer machinery shared by every strategy: picking the next batch of pages from a bitmap in
//! address order (zero pages cost a header only), and QEMU's 100 ms accounting windows, which both
//! pace a rate-limited stream and measure the bandwidth that the stop rule uses.

use crate::model::bitmap::{Bitmap, CHUNK_WORDS, ChunkKind, select_in_word, valid_mask};
use crate::model::events::SimTime;

/// QEMU's BUFFER_DELAY: rate limiting and bandwidth estimation work in 100 ms windows
/// (qemu migration/migration.c; ../shared/reference: "Rate limiting works in windows of 100 ms").
pub const WINDOW_NS: SimTime = 100_000_000;

/// Bytes a page costs on the wire.
#[derive(Debug, Clone, Copy)]
pub struct PageCost {
    /// Bytes of a non-zero page sent whole (compressed, when compression is on).
    pub nonzero: u64,
    /// Bytes of a zero page (the header alone with zero-page detection, else the whole page).
    pub zero: u64,
    pub header: u64,
    pub page_size: u64,
}

impl PageCost {
    pub fn new(page_size: u64, header: u64) -> Self {
        PageCost::with(page_size, header, true, None)
    }

    /// With zero-page detection off, zero pages go whole; with a compression ratio, non-zero pages
    /// shrink to `ceil(ratio x page)`.
    pub fn with(page_size: u64, header: u64, zero_detection: bool, compression: Option<f64>) -> Self {
        let body = compression.map_or(page_size, |r| ((page_size as f64 * r).ceil() as u64).clamp(1, page_size));
        PageCost { nonzero: body + header, zero: if zero_detection { header } else { page_size + header }, header, page_size }
    }
}

/// What a batch carries.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Batch {
    pub pages: u64,
    pub zero_pages: u64,
    pub bytes: u64,
    /// Non-zero pages the destination did not hold yet (they cost it an allocation; see `CpuCost`).
    pub new_pages: u64,
    /// Non-zero pages sent as an XBZRLE delta instead of whole.
    pub delta_pages: u64,
    /// Zero pages the guest never wrote (`Memory::untouched`): the host backs them with its one
    /// shared zero page, so finding them zero costs next to nothing (`CpuCost::seconds`).
    pub untouched_pages: u64,
}

impl Batch {
    pub fn add(&mut self, o: Batch) {
        self.pages += o.pages;
        self.zero_pages += o.zero_pages;
        self.bytes += o.bytes;
        self.new_pages += o.new_pages;
        self.delta_pages += o.delta_pages;
        self.untouched_pages += o.untouched_pages;
    }

    pub fn nonzero_pages(&self) -> u64 {
        self.pages - self.zero_pages
    }

    /// A batch of `bytes` bytes with this one's make-up (pages of each kind in the same proportion
    /// to the bytes; `bytes` may exceed this batch's).
    pub fn scaled(&self, bytes: u64) -> Batch {
        if self.bytes == 0 || bytes == 0 {
            return Batch::default();
        }
        let f = bytes as f64 / self.bytes as f64;
        let part = |n: u64| (n as f64 * f).round() as u64;
        let pages = part(self.pages);
        let zero_pages = part(self.zero_pages).min(pages);
        let new_pages = part(self.new_pages).min(pages - zero_pages);
        let delta_pages = part(self.delta_pages).min(pages - zero_pages - new_pages);
        let untouched_pages = part(self.untouched_pages).min(zero_pages);
        Batch { pages, zero_pages, bytes, new_pages, delta_pages, untouched_pages }
    }

    /// Split a batch cut off with `bytes_left` of its bytes unsent: (what arrived, what did not). The
    /// pages split in the same proportion as the bytes, rounded so that the parts add up.
    pub fn split(self, bytes_left: u64) -> (Batch, Batch) {
        let left = bytes_left.min(self.bytes);
        let frac = if self.bytes == 0 { 0.0 } else { left as f64 / self.bytes as f64 };
        let part = |n: u64| ((n as f64 * frac).round() as u64).min(n);
        let not = Batch {
            pages: part(self.pages),
            zero_pages: part(self.zero_pages).min(part(self.pages)),
            bytes: left,
            new_pages: part(self.new_pages),
            delta_pages: part(self.delta_pages),
            untouched_pages: part(self.untouched_pages).min(part(self.zero_pages).min(part(self.pages))),
        };
        let arrived = Batch {
            pages: self.pages - not.pages,
            zero_pages: self.zero_pages - not.zero_pages,
            bytes: self.bytes - not.bytes,
            new_pages: self.new_pages - not.new_pages,
            delta_pages: self.delta_pages - not.delta_pages,
            untouched_pages: self.untouched_pages - not.untouched_pages,
        };
        (arrived, not)
    }
}

/// The host CPU cost of moving pages through one migration stream: a page the destination has never
/// held costs more (it is allocated and faulted in there) than one it already holds. Measured on the
/// QEMU lab host (docs/validation.md); `INFINITY` rates mean the CPU is never the bottleneck.
#[derive(Debug, Clone, Copy)]
pub struct CpuCost {
    /// Seconds per non-zero page new to the destination.
    pub new_page_s: f64,
    /// Seconds per non-zero page the destination already holds.
    pub resent_page_s: f64,
    /// Seconds to compress a non-zero page sent whole (0: no compression).
    pub compress_page_s: f64,
    /// Seconds to XBZRLE-encode a page sent as a delta.
    pub encode_page_s: f64,
    /// Seconds to find a page is zero and send its header (`mechanism::cpu`; 0: free).
    pub zero_page_s: f64,
    /// How many streams work at once (multifd channels, bounded by the host's cores).
    pub parallel: f64,
    /// The guest's vCPUs' pace beside the stream (1: unslowed; `HostCpu::guest_interference`).
    pub vcpu_pace: f64,
}

impl CpuCost {
    pub fn new(page_size: u64, new_rate: Option<f64>, resent_rate: Option<f64>) -> Self {
        let per_page = |r: Option<f64>| r.map_or(0.0, |r| page_size as f64 / r);
        CpuCost {
            new_page_s: per_page(new_rate),
            resent_page_s: per_page(resent_rate),
            compress_page_s: 0.0,
            encode_page_s: 0.0,
            zero_page_s: 0.0,
            parallel: 1.0,
            vcpu_pace: 1.0,
        }
    }

    /// Whether the destination's page set matters (new and re-sent pages cost differently).
    pub fn tracks_present(&self) -> bool {
        self.new_page_s != 0.0 || self.resent_page_s != 0.0
    }

    /// CPU seconds a batch takes, its streams working in parallel.
    pub fn seconds(&self, b: &Batch) -> f64 {
        let nz = b.nonzero_pages();
        let copy = b.new_pages as f64 * self.new_page_s + (nz - b.new_pages) as f64 * self.resent_page_s;
        let code = (nz - b.delta_pages) as f64 * self.compress_page_s + b.delta_pages as f64 * self.encode_page_s;
        let zero = b.zero_pages.saturating_sub(b.untouched_pages) as f64 * self.zero_page_s;
        (copy + code + zero) / self.parallel
    }

    /// The rate cap (bytes/s) of a transfer of `b` plus `extra` bytes (device state, say): the least
    /// of `limit` and the pace the CPU allows.
    pub fn cap(&self, b: &Batch, extra: u64, limit: f64) -> f64 {
        self.cap_after(b, extra, 0.0, limit)
    }

    /// `cap` for a transfer that also waits `wait_s` on the way (what the sockets hold at the
    /// pause, `drain_at_stop`): its bytes spread over the CPU's seconds and the wait.
    pub fn cap_after(&self, b: &Batch, extra: u64, wait_s: f64, limit: f64) -> f64 {
        let s = self.seconds(b) + wait_s;
        if s > 0.0 { limit.min((b.bytes + extra) as f64 / s) } else { limit }
    }
}

/// Where a batch ends: once its bytes reach `hard` (the page that crosses it included: QEMU checks
/// its rate limit after each page), or once they reach `soft` at a page count of 1 modulo
/// `granule`. QEMU's ram_save_iterate (7.2) looks at the clock only every 64 pages (`(i & 63) ==
/// 0`), so an iteration that has used its 50 ms still finishes its group of 64: a slow share sends
/// at least 65 pages an iteration, not 50 ms worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub soft: u64,
    pub hard: u64,
    pub granule: u64,
}

impl Limit {
    /// End at `n` bytes, whatever the page count.
    pub const fn bytes(n: u64) -> Self {
        Limit { soft: n, hard: n, granule: 1 }
    }

    /// Past `soft` bytes, end at a page count of 1 modulo `granule`; at `hard` bytes in any case.
    pub fn iteration(soft: u64, hard: u64, granule: u64) -> Self {
        Limit { soft: soft.min(hard), hard, granule: granule.max(1) }
    }

    /// Whether a batch of `bytes` bytes and `pages` pages is complete.
    #[inline]
    fn done(&self, bytes: u64, pages: u64) -> bool {
        bytes >= self.hard || (bytes >= self.soft && (pages - 1).is_multiple_of(self.granule))
    }

    /// A batch at `bytes` and `pages` adds pages of `cost` bytes each: after how many (at least 1)
    /// it is complete, as `done` would find page by page. None: never (a cost of 0 below the limits).
    #[inline]
    fn first_done(&self, bytes: u64, pages: u64, cost: u64) -> Option<u64> {
        // Pages to add until `bytes` reaches `to` (at least 1).
        let upto = |to: u64| if cost == 0 { (bytes >= to).then_some(1) } else { Some(to.saturating_sub(bytes).div_ceil(cost).max(1)) };
        let at_hard = upto(self.hard);
        // Past `soft`, the first added page j with (pages + j - 1) a multiple of the granule.
        let at_soft = upto(self.soft).map(|js| {
            let g = self.granule;
            // The granule is 1 or QEMU's 64 pages: a mask, not a division, on this hot path.
            let r = if g.is_power_of_two() { (pages + js - 1) & (g - 1) } else { (pages + js - 1) % g };
            if r == 0 { js } else { js + (g - r) }
        });
        match (at_hard, at_soft) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Take pages from `bits` starting at `*cursor`, in address order, clearing their bits, until the
/// batch reaches its `limit` or the end of memory. With `wrap`, the scan continues from page 0. `taken`, when given,
/// receives the page numbers. `present`, when given, is the set of non-zero pages the destination
/// holds: the batch counts the pages new to it and adds them. `untouched`, when given, marks pages
/// the guest never wrote: the batch counts its zero pages among them (`Batch::untouched_pages`).
///
/// The scan goes word by word through each chunk of the bitmap (`bitmap::CHUNK_BITS` pages), skips
/// a chunk with nothing to send at once, and takes a chunk that is all to send, all zero or all
/// non-zero, in one step when it fits.
#[allow(clippy::too_many_arguments)]
pub fn take_batch(
    bits: &mut Bitmap,
    cursor: &mut usize,
    nonzero: &Bitmap,
    untouched: Option<&Bitmap>,
    mut present: Option<&mut Bitmap>,
    cost: PageCost,
    limit: Limit,
    wrap: bool,
    mut taken: Option<&mut Vec<usize>>,
) -> Batch {
    let mut b = Batch::default();
    let len = bits.len();
    if len == 0 {
        return b;
    }
    let words = bits.words_len();
    let mut wrapped = false;
    let mut wi = *cursor / 64;
    let mut mask = if *cursor >= len { 0 } else { u64::MAX << (*cursor % 64) };
    // After wrapping, the scan ends with the first word at or past the cursor it started from.
    let stop_word = cursor.div_ceil(64);
    loop {
        if wi >= words {
            if wrap && !wrapped {
                wrapped = true;
                wi = 0;
                mask = u64::MAX;
                continue;
            }
            *cursor = len;
            return b;
        }
        let ci = wi / CHUNK_WORDS;
        let chunk_end = ((ci + 1) * CHUNK_WORDS).min(words);
        // The word the wrapped scan ends on, if it lies in this chunk.
        let last = if wrapped { Some(stop_word.max(wi)).filter(|&w| w < chunk_end) } else { None };
        match bits.chunk_kind(ci) {
            ChunkKind::Zero => {
                if let Some(w) = last {
                    *cursor = w * 64 + 64;
                    return b;
                }
                // The clear chunks after it in one tight loop (a sparse round scans mostly these),
                // up to the chunk the wrapped scan ends in.
                let limit = if wrapped { stop_word / CHUNK_WORDS } else { usize::MAX };
                let next = bits.next_nonclear_chunk(ci + 1, limit);
                wi = (next * CHUNK_WORDS).clamp(chunk_end, words);
                mask = u64::MAX;
                continue;
            }
            ChunkKind::Full if wi.is_multiple_of(CHUNK_WORDS) && mask == u64::MAX && last.is_none() && taken.is_none() => {
                let nz = nonzero.chunk_kind(ci);
                let pr = present.as_deref().map(|p| p.chunk_kind(ci));
                if nz != ChunkKind::Mixed && pr != Some(ChunkKind::Mixed) {
                    let n = bits.bits_in_chunk(ci) as u64;
                    let n_nz = if nz == ChunkKind::Full { n } else { 0 };
                    let bytes = n_nz * cost.nonzero + (n - n_nz) * cost.zero;
                    if b.bytes + bytes < limit.soft {
                        b.pages += n;
                        b.zero_pages += n - n_nz;
                        b.bytes += bytes;
                        if let Some(u) = untouched
                            && n_nz == 0
                        {
                            let start = ci * CHUNK_WORDS * 64;
                            b.untouched_pages += u.count_range(start, (start + n as usize).min(len));
                        }
                        if let Some(p) = present.as_deref_mut()
                            && pr == Some(ChunkKind::Zero)
                            && n_nz > 0
                        {
                            b.new_pages += n_nz;
                            p.fill_chunk(ci, true);
                        }
                        bits.fill_chunk(ci, false);
                        wi = chunk_end;
                        continue;
                    }
                }
            }
            _ => {}
        }
        // Word by word through this chunk.
        let valid_last = valid_mask(len, words - 1);
        let nzv = nonzero.view(ci);
        let mut blk = bits.block_mut(ci);
        while wi < chunk_end {
            let k = wi % CHUNK_WORDS;
            let valid = if wi == words - 1 { valid_last } else { u64::MAX };
            let w = blk.word(k) & mask;
            if w != 0 {
                let nz = nzv.word(k, valid);
                let n = w.count_ones() as u64;
                let n_nz = (w & nz).count_ones() as u64;
                let bytes = n_nz * cost.nonzero + (n - n_nz) * cost.zero;
                // A word that stays under `soft` is taken whole. Past it, where the word's pages all
                // cost the same, the page at which the batch completes is found by arithmetic: the
                // whole word when none does, else its first `j` pages; else page by page below.
                let take = if b.bytes + bytes < limit.soft {
                    Some((w, n, n_nz, bytes, false))
                } else {
                    past_soft(w, n, n_nz, bytes, &b, cost, limit)
                };
                if let Some((w, n, n_nz, bytes, ends)) = take {
                    // The whole word, or its first pages up to the one that completes the batch.
                    b.pages += n;
                    b.zero_pages += n - n_nz;
                    b.bytes += bytes;
                    if let Some(u) = untouched {
                        b.untouched_pages += (w & !nz & u.word(wi)).count_ones() as u64;
                    }
                    if let Some(pr) = present.as_deref_mut() {
                        let new = w & nz & !pr.word(wi);
                        b.new_pages += new.count_ones() as u64;
                        pr.set_word_bits(wi, new);
                    }
                    blk.clear_set_bits(k, w);
                    if let Some(t) = taken.as_deref_mut() {
                        let mut x = w;
                        while x != 0 {
                            t.push(wi * 64 + x.trailing_zeros() as usize);
                            x &= x - 1;
                        }
                    }
                    if ends {
                        *cursor = wi * 64 + 64 - w.leading_zeros() as usize;
                        return b;
                    }
                } else {
                    // Page by page until the limit is crossed.
                    let mut x = w;
                    while x != 0 {
                        let bit = x.trailing_zeros() as usize;
                        let page = wi * 64 + bit;
                        let is_nz = nz >> bit & 1 == 1;
                        b.pages += 1;
                        b.bytes += if is_nz { cost.nonzero } else { cost.zero };
                        if !is_nz {
                            b.zero_pages += 1;
                            b.untouched_pages += u64::from(untouched.is_some_and(|u| u.get(page)));
                        } else if let Some(pr) = present.as_deref_mut()
                            && !pr.get(page)
                        {
                            b.new_pages += 1;
                            pr.set(page);
                        }
                        blk.clear_set_bits(k, 1 << bit);
                        if let Some(t) = taken.as_deref_mut() {
                            t.push(page);
                        }
                        x &= x - 1;
                        if limit.done(b.bytes, b.pages) {
                            *cursor = page + 1;
                            return b;
                        }
                    }
                }
            }
            if wrapped && wi * 64 >= *cursor {
                // Came all the way round.
                *cursor = wi * 64 + 64;
                return b;
            }
            wi += 1;
            mask = u64::MAX;
        }

        // A chunk emptied by the scan gives its block back.
        bits.tidy(ci);
    }
}

/// `take_batch`'s word `w` (`n` pages, `n_nz` of them non-zero, `bytes` in all) when the batch `b`
/// would pass `limit.soft` within it: where its pages all cost the same, what to take of it (the
/// whole word, or its first pages up to the one that completes the batch) and whether the batch
/// then ends; None to go page by page. Out of line: it runs once or twice a batch, and the word
/// loop stays small.
#[inline(never)]
fn past_soft(w: u64, n: u64, n_nz: u64, bytes: u64, b: &Batch, cost: PageCost, limit: Limit) -> Option<(u64, u64, u64, u64, bool)> {
    if n_nz != n && n_nz != 0 {
        return None;
    }
    let c = if n_nz == 0 { cost.zero } else { cost.nonzero };
    Some(match limit.first_done(b.bytes, b.pages, c) {
        Some(j) if j < n => {
            let w = w & (u64::MAX >> (63 - select_in_word(w, j as u32 - 1)));
            (w, j, if n_nz == 0 { 0 } else { j }, j * c, true)
        }
        j => (w, n, n_nz, bytes, j == Some(n)),
    })
}

/// The cost of sending every page set in `bits` (without taking them); `untouched` and `present` as
/// for `take_batch` (the new pages are counted, not added).
pub fn cost_of(bits: &Bitmap, nonzero: &Bitmap, untouched: Option<&Bitmap>, present: Option<&Bitmap>, cost: PageCost) -> Batch {
    let pages = bits.count_ones();
    let nz = bits.count_and(nonzero);
    let new_pages = present.map_or(0, |pr| bits.count_and_and_not(nonzero, pr));
    let untouched_pages = untouched.map_or(0, |u| bits.count_and_and_not(u, nonzero));
    let bytes = nz * cost.nonzero + (pages - nz) * cost.zero;
    Batch { pages, zero_pages: pages - nz, bytes, new_pages, delta_pages: 0, untouched_pages }
}

/// QEMU's accounting window: bytes sent since the window began, the quota when rate-limited, and the
/// bandwidth and stop threshold measured at the end of the last window.
#[derive(Debug, Clone)]
pub struct Window {
    pub start: SimTime,
    pub bytes: u64,
    /// Bytes allowed per window (`None`: no rate limit).
    pub quota: Option<u64>,
    /// Measured bandwidth of the last complete window, bytes/s.
    pub bandwidth: f64,
    /// Measured bandwidth x downtime limit, bytes (0 until the first window closes).
    pub threshold: f64,
}

impl Window {
    pub fn new(now: SimTime, max_bandwidth: Option<f64>) -> Self {
        Window {
            start: now,
            bytes: 0,
            quota: max_bandwidth.map(|b| (b * WINDOW_NS as f64 / 1e9).round().max(1.0) as u64),
            bandwidth: 0.0,
            threshold: 0.0,
        }
    }

    /// QEMU's migration_update_counters: once a window is at least 100 ms old, measure it and start
    /// the next one.
    pub fn update(&mut self, now: SimTime, downtime_limit_ns: u64) {
        let spent = now.saturating_sub(self.start);
        if spent < WINDOW_NS {
            return;
        }
        self.bandwidth = self.bytes as f64 / (spent as f64 / 1e9);
        self.threshold = self.bandwidth * downtime_limit_ns as f64 / 1e9;
        self.start = now;
        self.bytes = 0;
    }

    /// QEMU's qemu_file_rate_limit: over quota until the window ends.
    pub fn over_quota(&self) -> bool {
        self.quota.is_some_and(|q| self.bytes > q)
    }

    /// Bytes that may still go out in this window before the limit trips.
    pub fn room(&self) -> u64 {
        self.quota.map_or(u64::MAX, |q| q.saturating_sub(self.bytes) + 1)
    }

    pub fn end(&self) -> SimTime {
        self.start + WINDOW_NS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_done_finds_the_page_done_would() {
        for (soft, hard, granule) in [(0, 0, 1), (100, 100, 1), (150, 1000, 64), (1, 5000, 64), (700, 700, 7), (0, 300, 5)] {
            let limit = Limit::iteration(soft, hard, granule);
            for bytes in [0u64, 1, 99, 150, 600, 699] {
                for pages in [0u64, 1, 5, 63, 64, 65, 127] {
                    for cost in [0u64, 1, 13, 100, 4104] {
                        let by_page = (1..=10_000u64).find(|&j| limit.done(bytes + j * cost, pages + j));
                        assert_eq!(limit.first_done(bytes, pages, cost), by_page, "{limit:?} {bytes} B {pages} pages, {cost} B each");
                    }
                }
            }
        }
    }

    #[test]
    fn batch_respects_limit_and_order() {
        let mut bits = Bitmap::full(200);
        let nz = Bitmap::full(200);
        let mut cur = 10;
        let mut pages = Vec::new();
        let b = take_batch(&mut bits, &mut cur, &nz, None, None, PageCost::new(4096, 0), Limit::bytes(4096 * 5), false, Some(&mut pages));
        assert_eq!(b.pages, 5);
        assert_eq!(pages, vec![10, 11, 12, 13, 14]);
        assert_eq!(cur, 15);
        assert_eq!(bits.count_ones(), 195);
    }

    #[test]
    fn zero_pages_cost_the_header() {
        let mut bits = Bitmap::full(128);
        let mut nz = Bitmap::new(128);
        nz.set_range(0, 64);
        let mut cur = 0;
        let b = take_batch(&mut bits, &mut cur, &nz, None, None, PageCost::new(4096, 8), Limit::bytes(u64::MAX), false, None);
        assert_eq!(b, Batch { pages: 128, zero_pages: 64, bytes: 64 * 4104 + 64 * 8, ..Batch::default() });
        assert_eq!(cur, 128);
    }

    #[test]
    fn untouched_zero_pages_are_counted_on_every_path_and_cost_no_cpu() {
        // 3 chunks' worth of pages: the first chunk all zero and untouched (the chunk step), the
        // second mixed (the word step), and a limit that ends the batch within the third (page by
        // page).
        let n = 3 * crate::model::bitmap::CHUNK_BITS;
        let c = crate::model::bitmap::CHUNK_BITS;
        let mut nz = Bitmap::full(n);
        nz.clear_range(0, c);
        // Second chunk: its first 640 pages zero, of which the first 320 untouched.
        nz.clear_range(c, c + 640);
        // Third chunk: pages 2c+1, 2c+3, ... zero (mixed words), the first 100 of them untouched.
        let mut u = Bitmap::new(n);
        u.set_range(0, c);
        u.set_range(c, c + 320);
        for k in 0..200 {
            nz.clear(2 * c + 1 + 2 * k);
            if k < 100 {
                u.set(2 * c + 1 + 2 * k);
            }
        }
        // Untouched marks on non-zero pages do not count (a write took them out).
        u.set_range(c + 1000, c + 1100);
        let cost = PageCost::new(4096, 8);
        let all = Bitmap::full(n);
        let whole = cost_of(&all, &nz, Some(&u), None, cost);
        assert_eq!((whole.zero_pages, whole.untouched_pages), (c as u64 + 640 + 200, c as u64 + 320 + 100));
        // Taken in batches that end inside the third chunk's mixed words: the same counts in all.
        let mut bits = Bitmap::full(n);
        let mut cur = 0;
        let mut sum = Batch::default();
        loop {
            let b = take_batch(&mut bits, &mut cur, &nz, Some(&u), None, cost, Limit::bytes(4096 * 301 + 7), false, None);
            if b.pages == 0 {
                break;
            }
            assert!(b.untouched_pages <= b.zero_pages);
            sum.add(b);
        }
        assert_eq!((sum.pages, sum.zero_pages, sum.untouched_pages), (n as u64, whole.zero_pages, whole.untouched_pages));
        // Only the touched zero pages cost the CPU's zero-page time.
        let mut cpu = CpuCost::new(4096, None, None);
        cpu.zero_page_s = 1e-6;
        assert!((cpu.seconds(&whole) - 1e-6 * (640 - 320 + 200 - 100) as f64).abs() < 1e-12);
        // Without the untouched set, none are counted.
        let mut bits = Bitmap::full(n);
        let mut cur = 0;
        let b = take_batch(&mut bits, &mut cur, &nz, None, None, cost, Limit::bytes(u64::MAX), false, None);
        assert_eq!((b.zero_pages, b.untouched_pages), (whole.zero_pages, 0));
    }

    #[test]
    fn wrap_continues_from_the_start_once() {
        let mut bits = Bitmap::new(300);
        bits.set(5);
        bits.set(250);
        let nz = Bitmap::full(300);
        let mut cur = 100;
        let mut pages = Vec::new();
        take_batch(&mut bits, &mut cur, &nz, None, None, PageCost::new(1, 0), Limit::bytes(u64::MAX), true, Some(&mut pages));
        assert_eq!(pages, vec![250, 5]);
        assert_eq!(bits.count_ones(), 0);
    }

    #[test]
    fn present_set_counts_new_pages_once_and_paces_them() {
        let nz = Bitmap::full(128);
        let mut present = Bitmap::new(128);
        let cost = PageCost::new(4096, 0);
        let mut bits = Bitmap::full(128);
        let mut cur = 0;
        let b = take_batch(&mut bits, &mut cur, &nz, None, Some(&mut present), cost, Limit::bytes(4096 * 70), false, None);
        assert_eq!((b.pages, b.new_pages), (70, 70));
        // Page 0..70 again (re-dirtied) plus the 58 never sent: only those are new.
        let mut bits = Bitmap::full(128);
        let mut cur = 0;
        let b = take_batch(&mut bits, &mut cur, &nz, None, Some(&mut present), cost, Limit::bytes(u64::MAX), false, None);
        assert_eq!((b.pages, b.new_pages), (128, 58));
        let cpu = CpuCost::new(4096, Some(4096.0 * 100.0), Some(4096.0 * 1000.0));
        // 58 new pages at 100 pages/s plus 70 old ones at 1000 pages/s.
        assert!((cpu.seconds(&b) - (0.58 + 0.07)).abs() < 1e-12);
        assert!((cpu.cap(&b, 0, f64::INFINITY) - 128.0 * 4096.0 / 0.65).abs() < 1e-6);
        let free = CpuCost::new(4096, None, None);
        assert!(!free.tracks_present() && free.seconds(&b) == 0.0);
        let all = Bitmap::full(128);
        assert_eq!(cost_of(&all, &nz, None, Some(&Bitmap::new(128)), cost).new_pages, 128);
    }

    #[test]
    fn window_measures_and_paces() {
        let mut w = Window::new(0, Some(1000.0));
        assert_eq!(w.quota, Some(100));
        w.bytes = 101;
        assert!(w.over_quota());
        w.update(WINDOW_NS, 300_000_000);
        assert!((w.bandwidth - 1010.0).abs() < 1e-9);
        assert!((w.threshold - 303.0).abs() < 1e-9);
        assert!(!w.over_quota());
    }

    #[test]
    fn an_iteration_ends_on_its_clock_only_every_64_pages() {
        let nz = Bitmap::full(1000);
        let cost = PageCost::new(4096, 0);
        let take = |limit: Limit| {
            let mut bits = Bitmap::full(1000);
            let mut cur = 0;
            take_batch(&mut bits, &mut cur, &nz, None, None, cost, limit, false, None).pages
        };
        // 10 pages' worth of time: the iteration goes on to its 65th page; 70 pages' worth: 129.
        assert_eq!(take(Limit::iteration(10 * 4096, u64::MAX, 64)), 65);
        assert_eq!(take(Limit::iteration(70 * 4096, u64::MAX, 64)), 129);
        // The first page is checked too; the rate limit stops at once.
        assert_eq!(take(Limit::iteration(1, u64::MAX, 64)), 1);
        assert_eq!(take(Limit::iteration(10 * 4096, 30 * 4096, 64)), 30);
        assert_eq!(take(Limit::bytes(10 * 4096)), 10);
    }
}
