//! A fixed-length bitmap, one bit per guest page: the dirty log, the send bitmap, the pages present
//! at the destination, the non-zero pages.
//!
//! Memory is cut into chunks of 4096 pages (16 MiB of 4 KiB pages). A chunk is all clear, all set,
//! or mixed, with its count of set bits kept as bits change, so:
//! - whole-memory operations (a sync, a count, the first pass that takes every page) work chunk by
//!   chunk, and on a chunk that is all clear or all set in O(1): a sequential writer's dirty set is a
//!   few runs, which are mostly whole chunks;
//! - counting a range is a sum over the chunk counts, so a page can be picked by its rank among the
//!   clear pages of a range (`select_clear`) without scanning the range;
//! - a chunk's words exist only once it is mixed: they live in segments of 8 chunks (128 MiB of
//!   4 KiB pages, 4 KiB of words) allocated on first use and freed when no chunk of theirs is mixed
//!   any more (`tidy`), so a 1 TiB VM that touches 10 GiB pays for the segments it touched, not for
//!   1 TiB of bits, and a run of a small VM allocates and zeroes only what it uses (a simulation of
//!   many short runs would otherwise spend its time zeroing).
//!
//! Bits beyond `len` are always clear. Equality is by bits.

/// Words per chunk, and bits per chunk.
pub const CHUNK_WORDS: usize = 64;
pub const CHUNK_BITS: usize = CHUNK_WORDS * 64;

/// The state of a chunk: its words are meaningful only when it is `MIXED`.
const ZERO: u8 = 0;
const FULL: u8 = 1;
const MIXED: u8 = 2;

/// The position of the `r`-th set bit (from 0) of `x` (which has more than `r`), by halving.
#[inline]
pub fn select_in_word(mut x: u64, mut r: u32) -> u32 {
    let mut pos = 0;
    for shift in [32u32, 16, 8, 4, 2, 1] {
        let low = x & ((1u64 << shift) - 1);
        let c = low.count_ones();
        if r >= c {
            r -= c;
            x >>= shift;
            pos += shift;
        } else {
            x = low;
        }
    }
    pos
}

/// A chunk to read word by word.
pub enum View<'a> {
    Zero,
    Full,
    Words(&'a [u64]),
}

impl View<'_> {
    /// Word `k` of the chunk; `valid` masks the bits past the bitmap's end (for a full chunk).
    #[inline]
    pub fn word(&self, k: usize, valid: u64) -> u64 {
        match self {
            View::Zero => 0,
            View::Full => valid,
            View::Words(w) => w[k],
        }
    }
}

/// A mixed chunk's words, changed word by word, with the counts kept right.
pub struct BlockMut<'a> {
    n: &'a mut u32,
    w: &'a mut [u64],
}

impl BlockMut<'_> {
    #[inline]
    pub fn word(&self, k: usize) -> u64 {
        self.w[k]
    }

    /// Clear the bits of `mask` (which must be set) in word `k`.
    #[inline]
    pub fn clear_set_bits(&mut self, k: usize, mask: u64) {
        debug_assert_eq!(self.w[k] & mask, mask);
        let gone = mask.count_ones();
        self.w[k] &= !mask;
        *self.n -= gone;
    }

    /// Set the bits of `mask` (which must be clear) in word `k`.
    #[inline]
    pub fn set_clear_bits(&mut self, k: usize, mask: u64) {
        debug_assert_eq!(self.w[k] & mask, 0);
        let new = mask.count_ones();
        self.w[k] |= mask;
        *self.n += new;
    }
}

/// What a chunk holds, for callers that can treat a whole chunk at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    Zero,
    Full,
    Mixed,
}

mod algebra;
mod words;
use words::{SEG_CHUNKS, SEG_WORDS, Words};

#[derive(Debug, Clone)]
pub struct Bitmap {
    /// The words of the mixed chunks (those of other chunks are stale or absent, and never read).
    words: Words,
    state: Vec<u8>,
    /// Set bits in each chunk.
    counts: Vec<u32>,
    len: usize,
}

impl PartialEq for Bitmap {
    fn eq(&self, o: &Self) -> bool {
        self.len == o.len && (0..self.words_len()).all(|wi| self.word(wi) == o.word(wi))
    }
}

impl Eq for Bitmap {}

/// A hint that `p` will be read soon (a no-op where the target has no such instruction).
#[inline(always)]
fn prefetch<T>(p: *const T) {
    // SAFETY: a prefetch is only a hint: it reads nothing the program sees and never faults, even
    // on an address that is not mapped; SSE is part of every x86-64 processor.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// The mask of the bits of word `wi` that lie below `len`.
#[inline]
pub fn valid_mask(len: usize, wi: usize) -> u64 {
    let start = wi * 64;
    if start + 64 <= len {
        u64::MAX
    } else if start >= len {
        0
    } else {
        (1u64 << (len - start)) - 1
    }
}

impl Bitmap {
    pub fn new(len: usize) -> Self {
        let n = len.div_ceil(CHUNK_BITS);
        Bitmap { words: Words::new(n), state: vec![ZERO; n], counts: vec![0; n], len }
    }

    pub fn full(len: usize) -> Self {
        let mut b = Bitmap::new(len);
        b.set_all();
        b
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bits in chunk `ci` (the last chunk may be short).
    #[inline]
    fn chunk_bits(&self, ci: usize) -> usize {
        (self.len - ci * CHUNK_BITS).min(CHUNK_BITS)
    }

    /// The words of chunk `ci`.
    #[inline]
    fn chunk_words(&self, ci: usize) -> &[u64] {
        &self.words[ci * CHUNK_WORDS..(ci + 1) * CHUNK_WORDS]
    }

    /// Make chunk `ci` mixed (so that single bits can change): its words written out.
    #[inline]
    fn materialize(&mut self, ci: usize) {
        let st = self.state[ci];
        if st == MIXED {
            return;
        }
        let len = self.len;
        self.words.ensure(ci);
        for (k, x) in self.words[ci * CHUNK_WORDS..(ci + 1) * CHUNK_WORDS].iter_mut().enumerate() {
            *x = if st == FULL { valid_mask(len, ci * CHUNK_WORDS + k) } else { 0 };
        }
        self.state[ci] = MIXED;
    }

    /// Mark chunk `ci` all clear or all set again if its count says it is (a pass that emptied it
    /// then skips it at once), and give back its segment of words once no chunk of it is mixed (a
    /// pass over a large memory then holds the words of the chunks it is in, not all it went through).
    #[inline]
    pub fn tidy(&mut self, ci: usize) {
        if self.state[ci] == MIXED {
            let n = self.counts[ci];
            if n == 0 {
                self.state[ci] = ZERO;
            } else if n as usize == self.chunk_bits(ci) {
                self.state[ci] = FULL;
            } else {
                return;
            }
            let seg = ci / SEG_CHUNKS;
            let chunks = seg * SEG_CHUNKS..((seg + 1) * SEG_CHUNKS).min(self.state.len());
            if self.state[chunks].iter().all(|&s| s != MIXED) {
                self.words.segs[seg] = None;
            }
        }
    }

    #[inline]
    pub fn get(&self, i: usize) -> bool {
        match self.state[i / CHUNK_BITS] {
            ZERO => false,
            FULL => true,
            _ => self.words[i / 64] >> (i & 63) & 1 == 1,
        }
    }

    /// Set bit `i`; returns whether it was clear. The hot path of every guest write: no branch on
    /// the bit (random writes would mispredict it half the time).
    #[inline(always)]
    pub fn set(&mut self, i: usize) -> bool {
        let ci = i / CHUNK_BITS;
        let st = self.state[ci];
        if st == MIXED {
            let x = self.words[i / 64];
            let new = (!x >> (i & 63)) & 1;
            self.words[i / 64] = x | 1 << (i & 63);
            self.counts[ci] += new as u32;
            new != 0
        } else if st == FULL {
            false
        } else {
            self.set_in_zero_chunk(i)
        }
    }

    /// `set` on a chunk that is all clear: it becomes mixed.
    #[cold]
    fn set_in_zero_chunk(&mut self, i: usize) -> bool {
        self.set_word_bits(i / 64, 1 << (i & 63));
        true
    }

    #[inline]
    pub fn clear(&mut self, i: usize) {
        let ci = i / CHUNK_BITS;
        match self.state[ci] {
            MIXED => {
                let x = &mut self.words[i / 64];
                let b = 1u64 << (i & 63);
                let gone = u32::from(*x & b != 0);
                *x &= !b;
                self.counts[ci] -= gone;
            }
            FULL => self.clear_word_bits(i / 64, 1 << (i & 63)),
            _ => {}
        }
    }

    /// Set the bits of `pages` (in any order; runs in one word are set at once).
    pub fn set_many(&mut self, pages: &[usize]) {
        self.many(pages, true);
    }

    /// Clear the bits of `pages` (as `set_many`).
    pub fn clear_many(&mut self, pages: &[usize]) {
        self.many(pages, false);
    }

    fn many(&mut self, pages: &[usize], set: bool) {
        let mut it = pages.iter().peekable();
        while let Some(&p) = it.next() {
            let wi = p / 64;
            let mut mask = 1u64 << (p & 63);
            while let Some(&&q) = it.peek() {
                if q / 64 != wi {
                    break;
                }
                mask |= 1 << (q & 63);
                it.next();
            }
            if set {
                self.set_word_bits(wi, mask);
            } else {
                self.clear_word_bits(wi, mask)
            }
        }
    }

    pub fn set_all(&mut self) {
        for ci in 0..self.state.len() {
            self.state[ci] = FULL;
            self.counts[ci] = self.chunk_bits(ci) as u32;
        }
    }

    pub fn clear_all(&mut self) {
        self.state.iter_mut().for_each(|s| *s = ZERO);
        self.counts.iter_mut().for_each(|n| *n = 0);
    }

    /// Set every bit in `[start, end)`.
    pub fn set_range(&mut self, start: usize, end: usize) {
        self.range(start, end, true);
    }

    /// Clear every bit in `[start, end)`.
    pub fn clear_range(&mut self, start: usize, end: usize) {
        self.range(start, end, false);
    }

    fn range(&mut self, start: usize, end: usize, set: bool) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        let (first_chunk, last_chunk) = (start / CHUNK_BITS, (end - 1) / CHUNK_BITS);
        for ci in first_chunk..=last_chunk {
            let (cs, ce) = (ci * CHUNK_BITS, ci * CHUNK_BITS + self.chunk_bits(ci));
            if start <= cs && end >= ce {
                self.fill_chunk(ci, set);
                continue;
            }
            let (s, e) = (start.max(cs), end.min(ce));
            let (sw, ew) = (s / 64, (e - 1) / 64);
            for wi in sw..=ew {
                let lo = if wi == sw { u64::MAX << (s & 63) } else { u64::MAX };
                let hi = if wi == ew { u64::MAX >> (63 - ((e - 1) & 63)) } else { u64::MAX };
                if set {
                    self.set_word_bits(wi, lo & hi);
                } else {
                    self.clear_word_bits(wi, lo & hi)
                }
            }
        }
    }

    /// Set bits in chunk `ci`.
    #[inline]
    fn chunk_count(&self, ci: usize) -> u64 {
        u64::from(self.counts[ci])
    }

    /// Set bits: the sum of the chunk counts (no total is kept: a running total would chain every
    /// guest write to the one before).
    pub fn count_ones(&self) -> u64 {
        self.counts.iter().map(|&n| u64::from(n)).sum()
    }

    /// Set bits in `[start, end)`: the counts of the whole chunks inside, the words of the two ends.
    pub fn count_range(&self, start: usize, end: usize) -> u64 {
        let end = end.min(self.len);
        if start >= end {
            return 0;
        }
        let (first_chunk, last_chunk) = (start / CHUNK_BITS, (end - 1) / CHUNK_BITS);
        if first_chunk == last_chunk {
            return self.count_words(start, end);
        }
        let head = self.count_words(start, (first_chunk + 1) * CHUNK_BITS);
        let tail = self.count_words(last_chunk * CHUNK_BITS, end);
        head + tail + self.counts[first_chunk + 1..last_chunk].iter().map(|&n| u64::from(n)).sum::<u64>()
    }

    /// Set bits in `[start, end)`, within one chunk.
    fn count_words(&self, start: usize, end: usize) -> u64 {
        let ci = start / CHUNK_BITS;
        let (cs, ce) = (ci * CHUNK_BITS, ci * CHUNK_BITS + self.chunk_bits(ci));
        match self.state[ci] {
            ZERO => 0,
            FULL => (end - start) as u64,
            _ if start == cs && end == ce => self.chunk_count(ci),
            _ => {
                let (sw, ew) = (start / 64, (end - 1) / 64);
                (sw..=ew)
                    .map(|wi| {
                        let lo = if wi == sw { u64::MAX << (start & 63) } else { u64::MAX };
                        let hi = if wi == ew { u64::MAX >> (63 - ((end - 1) & 63)) } else { u64::MAX };
                        (self.words[wi] & lo & hi).count_ones() as u64
                    })
                    .sum()
            }
        }
    }

    /// The first set bit at or after `from`, if any.
    pub fn next_set(&self, from: usize) -> Option<usize> {
        if from >= self.len {
            return None;
        }
        let mut ci = from / CHUNK_BITS;
        let mut at = from;
        while ci < self.state.len() {
            match self.state[ci] {
                ZERO => {}
                FULL => return (at < self.len).then_some(at),
                _ => {
                    let end = (ci + 1) * CHUNK_WORDS;
                    let mut wi = at / 64;
                    let mut x = self.words[wi] & (u64::MAX << (at & 63));
                    loop {
                        if x != 0 {
                            let i = wi * 64 + x.trailing_zeros() as usize;
                            return (i < self.len).then_some(i);
                        }
                        wi += 1;
                        if wi == end {
                            break;
                        }
                        x = self.words[wi];
                    }
                }
            }
            ci += 1;
            at = ci * CHUNK_BITS;
        }
        None
    }

    /// Word `wi` (bits `64 wi ..`), clear or full chunks included.
    #[inline]
    pub fn word(&self, wi: usize) -> u64 {
        match self.state[wi / CHUNK_WORDS] {
            ZERO => 0,
            FULL => valid_mask(self.len, wi),
            _ => self.words[wi],
        }
    }

    /// The first chunk at or after `ci` with a bit set, looking no further than `end` (then `end`,
    /// or `ci` if that is past it): a run of clear chunks skipped in one tight loop.
    #[inline]
    pub fn next_nonclear_chunk(&self, mut ci: usize, end: usize) -> usize {
        let end = end.min(self.counts.len());
        while ci < end && self.counts[ci] == 0 {
            ci += 1;
        }
        ci
    }

    /// What chunk `ci` holds (a mixed chunk whose bits are all clear or all set counts as such).
    #[inline]
    pub fn chunk_kind(&self, ci: usize) -> ChunkKind {
        match self.counts[ci] {
            0 => ChunkKind::Zero,
            n if n as usize == self.chunk_bits(ci) => ChunkKind::Full,
            _ => ChunkKind::Mixed,
        }
    }

    /// Chunk `ci` to read word by word without a lookup per word.
    #[inline]
    pub fn view(&self, ci: usize) -> View<'_> {
        match self.state[ci] {
            ZERO => View::Zero,
            FULL => View::Full,
            _ => View::Words(self.chunk_words(ci)),
        }
    }

    /// Chunk `ci` as words to change one by one (the count and the total kept right).
    #[inline]
    pub fn block_mut(&mut self, ci: usize) -> BlockMut<'_> {
        self.materialize(ci);
        BlockMut { n: &mut self.counts[ci], w: &mut self.words[ci * CHUNK_WORDS..(ci + 1) * CHUNK_WORDS] }
    }

    /// Bits in chunk `ci`.
    pub fn bits_in_chunk(&self, ci: usize) -> usize {
        self.chunk_bits(ci)
    }

    pub fn chunks_len(&self) -> usize {
        self.state.len()
    }

    /// Set or clear every bit of chunk `ci` at once.
    pub fn fill_chunk(&mut self, ci: usize, set: bool) {
        let after = if set { self.chunk_bits(ci) as u32 } else { 0 };
        self.counts[ci] = after;
        self.state[ci] = if set { FULL } else { ZERO };
    }

    #[inline]
    pub fn clear_word_bits(&mut self, wi: usize, mask: u64) {
        let ci = wi / CHUNK_WORDS;
        if self.state[ci] == ZERO {
            return;
        }
        self.materialize(ci);
        let x = &mut self.words[wi];
        let gone = (*x & mask).count_ones();
        *x &= !mask;
        self.counts[ci] -= gone;
    }

    /// Set the bits of `mask` in word `wi`; returns those that were clear.
    #[inline]
    pub fn set_word_bits(&mut self, wi: usize, mask: u64) -> u64 {
        let ci = wi / CHUNK_WORDS;
        if self.state[ci] == FULL {
            return 0;
        }
        let mask = mask & valid_mask(self.len, wi);
        self.materialize(ci);
        let x = &mut self.words[wi];
        let new = mask & !*x;
        *x |= mask;
        self.counts[ci] += new.count_ones();
        new
    }

    /// Ask the processor to fetch what reading the bits from `i` on will touch (the chunk's state
    /// and count, and its word if the chunk has words), without waiting for it: a simulation of many
    /// migrations calls this for the migration whose batch ends next, whose bitmap has long left
    /// the cache, while it handles the current one.
    #[inline]
    pub fn prefetch(&self, i: usize) {
        let ci = i / CHUNK_BITS;
        if ci >= self.state.len() {
            return;
        }
        prefetch(self.state.as_ptr().wrapping_add(ci));
        prefetch(self.counts.as_ptr().wrapping_add(ci));
        if self.state[ci] == MIXED
            && let Some(Some(seg)) = self.words.segs.get(ci / SEG_CHUNKS)
        {
            prefetch(seg.as_ptr().wrapping_add(i / 64 % SEG_WORDS));
        }
    }

    pub fn words_len(&self) -> usize {
        self.len.div_ceil(64)
    }

    /// Bytes of words of the chunks that are mixed now (all clear and all set chunks need none).
    pub fn block_bytes(&self) -> usize {
        self.state.iter().filter(|&&s| s == MIXED).count() * CHUNK_WORDS * 8
    }

    /// Bytes of word segments allocated (for memory figures).
    pub fn allocated_bytes(&self) -> usize {
        self.words.allocated()
    }
}

#[cfg(test)]
mod tests;
