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

/// Chunks per segment of words, and words per segment: 4 KiB, so that a VM holds words only near
/// where it writes and sends (with `tidy` giving back what a pass left behind, ten thousand 1 GiB
/// VMs peak at 211 MB, against 576 MB with 32 KiB segments kept), and a 1 TiB VM needs 8192
/// segment pointers.
const SEG_CHUNKS: usize = 8;
const SEG_WORDS: usize = SEG_CHUNKS * CHUNK_WORDS;

/// The words of a bitmap, in segments allocated on first use; indexed by word number. Only the words
/// of mixed chunks are read, and a mixed chunk's segment exists.
#[derive(Debug, Clone)]
struct Words {
    segs: Vec<Option<Box<[u64]>>>,
}

impl Words {
    fn new(chunks: usize) -> Self {
        Words { segs: vec![None; chunks.div_ceil(SEG_CHUNKS)] }
    }

    /// Allocate chunk `ci`'s segment (zeroed) if it has none.
    #[inline]
    fn ensure(&mut self, ci: usize) {
        let s = &mut self.segs[ci / SEG_CHUNKS];
        if s.is_none() {
            *s = Some(vec![0; SEG_WORDS].into_boxed_slice());
        }
    }

    fn seg(&self, wi: usize) -> &[u64] {
        self.segs[wi / SEG_WORDS].as_deref().expect("a mixed chunk's segment exists")
    }

    fn seg_mut(&mut self, wi: usize) -> &mut [u64] {
        self.segs[wi / SEG_WORDS].as_deref_mut().expect("a mixed chunk's segment exists")
    }

    fn allocated(&self) -> usize {
        self.segs.iter().filter(|s| s.is_some()).count() * SEG_WORDS * 8
    }
}

impl std::ops::Index<usize> for Words {
    type Output = u64;
    #[inline]
    fn index(&self, wi: usize) -> &u64 {
        &self.seg(wi)[wi % SEG_WORDS]
    }
}

impl std::ops::IndexMut<usize> for Words {
    #[inline]
    fn index_mut(&mut self, wi: usize) -> &mut u64 {
        &mut self.seg_mut(wi)[wi % SEG_WORDS]
    }
}

/// A chunk's words (ranges never cross a segment: they are one chunk).
impl std::ops::Index<std::ops::Range<usize>> for Words {
    type Output = [u64];
    #[inline]
    fn index(&self, r: std::ops::Range<usize>) -> &[u64] {
        let base = r.start / SEG_WORDS * SEG_WORDS;
        &self.seg(r.start)[r.start - base..r.end - base]
    }
}

impl std::ops::IndexMut<std::ops::Range<usize>> for Words {
    #[inline]
    fn index_mut(&mut self, r: std::ops::Range<usize>) -> &mut [u64] {
        let base = r.start / SEG_WORDS * SEG_WORDS;
        &mut self.seg_mut(r.start)[r.start - base..r.end - base]
    }
}

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

    /// The `rank`-th clear bit (from 0) in `[start, end)`, if there are that many. Whole chunks are
    /// skipped by their counts, so the cost is the chunks of the range plus one chunk's words.
    pub fn select_clear(&self, start: usize, end: usize, mut rank: u64) -> Option<usize> {
        let end = end.min(self.len);
        if start >= end {
            return None;
        }
        let (first_chunk, last_chunk) = (start / CHUNK_BITS, (end - 1) / CHUNK_BITS);
        let mut ci = first_chunk;
        while ci <= last_chunk {
            let cs = ci * CHUNK_BITS;
            let (s, e) = (start.max(cs), end.min(cs + CHUNK_BITS));
            let clear = if s == cs && e == cs + self.chunk_bits(ci) {
                (e - s) as u64 - u64::from(self.counts[ci])
            } else {
                (e - s) as u64 - self.count_words(s, e)
            };
            if rank >= clear {
                rank -= clear;
                ci += 1;
                continue;
            }
            match self.state[ci] {
                ZERO => return Some(s + rank as usize),
                FULL => unreachable!("a full chunk has no clear bit"),
                _ => {}
            }
            let (sw, ew) = (s / 64, (e - 1) / 64);
            for wi in sw..=ew {
                let mut z = !self.words[wi];
                if wi == sw {
                    z &= u64::MAX << (s & 63);
                }
                if wi == ew {
                    z &= u64::MAX >> (63 - ((e - 1) & 63));
                }
                let n = u64::from(z.count_ones());
                if rank >= n {
                    rank -= n;
                    continue;
                }
                return Some(wi * 64 + select_in_word(z, rank as u32) as usize);
            }
            unreachable!("the chunk's count said the bit is here");
        }
        None
    }

    /// `k` of the `clean` clear bits of `[start, end)` chosen uniformly at random (every subset of
    /// `k` equally likely: Floyd's algorithm on their ranks), in address order, found in one pass
    /// that skips whole chunks by their counts.
    pub fn clear_subset(&self, start: usize, end: usize, clean: u64, k: u64, rng: &mut impl rand::Rng) -> Vec<usize> {
        let mut ranks = std::collections::HashSet::with_capacity(k as usize);
        for j in clean - k..clean {
            let t = rng.random_range(0..=j);
            if !ranks.insert(t) {
                ranks.insert(j);
            }
        }
        let mut ranks: Vec<u64> = ranks.into_iter().collect();
        ranks.sort_unstable();
        let end = end.min(self.len);
        let mut out = Vec::with_capacity(ranks.len());
        let mut next = ranks.iter().peekable();
        let mut seen = 0u64; // clear bits passed so far
        let mut at = start;
        while at < end {
            let Some(&&r) = next.peek() else { break };
            let ci = at / CHUNK_BITS;
            let ce = (ci * CHUNK_BITS + self.chunk_bits(ci)).min(end);
            let clear_here = (ce - at) as u64 - self.count_range(at, ce);
            if seen + clear_here <= r {
                seen += clear_here;
                at = ce;
                continue;
            }
            // A rank falls in this chunk: word by word.
            let (sw, ew) = (at / 64, (ce - 1) / 64);
            for wi in sw..=ew {
                let lo = if wi == sw { u64::MAX << (at & 63) } else { u64::MAX };
                let hi = if wi == ew { u64::MAX >> (63 - ((ce - 1) & 63)) } else { u64::MAX };
                let z = !self.word(wi) & lo & hi;
                let nz = u64::from(z.count_ones());
                while let Some(&&r) = next.peek() {
                    if r >= seen + nz {
                        break;
                    }
                    out.push(wi * 64 + select_in_word(z, (r - seen) as u32) as usize);
                    next.next();
                }
                seen += nz;
            }
            at = ce;
        }
        out
    }

    /// `self |= other`.
    pub fn or_assign(&mut self, other: &Bitmap) {
        debug_assert_eq!(self.len, other.len);
        for ci in 0..self.state.len() {
            match (self.state[ci], other.state[ci]) {
                (_, ZERO) | (FULL, _) => {}
                (_, FULL) => self.fill_chunk(ci, true),
                (ZERO, _) => {
                    self.words.ensure(ci);
                    let r = ci * CHUNK_WORDS..(ci + 1) * CHUNK_WORDS;
                    self.words[r.clone()].copy_from_slice(&other.words[r]);
                    self.state[ci] = MIXED;
                    self.counts[ci] = other.counts[ci];
                }
                _ => {
                    let mut k = 0;
                    let r = ci * CHUNK_WORDS..(ci + 1) * CHUNK_WORDS;
                    for (a, b) in self.words[r.clone()].iter_mut().zip(&other.words[r]) {
                        *a |= *b;
                        k += a.count_ones();
                    }
                    self.counts[ci] = k;
                    self.tidy(ci);
                }
            }
        }
    }

    /// `self |= other`, then `other` cleared (a dirty-bitmap sync).
    pub fn or_take(&mut self, other: &mut Bitmap) {
        self.or_assign(other);
        other.clear_all();
    }

    /// `self &= !other`.
    pub fn and_not_assign(&mut self, other: &Bitmap) {
        debug_assert_eq!(self.len, other.len);
        for ci in 0..self.state.len() {
            match (self.state[ci], other.state[ci]) {
                (ZERO, _) | (_, ZERO) => {}
                (_, FULL) => self.fill_chunk(ci, false),
                _ => {
                    self.materialize(ci);
                    let mut k = 0;
                    let r = ci * CHUNK_WORDS..(ci + 1) * CHUNK_WORDS;
                    for (a, b) in self.words[r.clone()].iter_mut().zip(&other.words[r]) {
                        *a &= !*b;
                        k += a.count_ones();
                    }
                    self.counts[ci] = k;
                    self.tidy(ci);
                }
            }
        }
    }

    /// Number of bits set here and not in `other`.
    pub fn count_and_not(&self, other: &Bitmap) -> u64 {
        (0..self.state.len())
            .map(|ci| match (self.state[ci], other.state[ci]) {
                (ZERO, _) | (_, FULL) => 0,
                (_, ZERO) => self.chunk_count(ci),
                _ => (0..CHUNK_WORDS)
                    .map(|k| (self.word(ci * CHUNK_WORDS + k) & !other.word(ci * CHUNK_WORDS + k)).count_ones() as u64)
                    .sum(),
            })
            .sum()
    }

    /// Number of bits set in both `self` and `other`.
    pub fn count_and(&self, other: &Bitmap) -> u64 {
        (0..self.state.len())
            .map(|ci| match (self.state[ci], other.state[ci]) {
                (ZERO, _) | (_, ZERO) => 0,
                (FULL, _) => other.chunk_count(ci),
                (_, FULL) => self.chunk_count(ci),
                _ => self.chunk_words(ci).iter().zip(other.chunk_words(ci)).map(|(a, b)| (a & b).count_ones() as u64).sum(),
            })
            .sum()
    }

    /// Number of bits set in `self` and `and`, and not in `not`.
    pub fn count_and_and_not(&self, and: &Bitmap, not: &Bitmap) -> u64 {
        (0..self.state.len())
            .map(|ci| match (self.state[ci], and.state[ci], not.state[ci]) {
                (ZERO, _, _) | (_, ZERO, _) | (_, _, FULL) => 0,
                _ => (0..CHUNK_WORDS)
                    .map(|k| {
                        let wi = ci * CHUNK_WORDS + k;
                        (self.word(wi) & and.word(wi) & !not.word(wi)).count_ones() as u64
                    })
                    .sum(),
            })
            .sum()
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A bitmap as plain booleans, to check the chunked one against.
    fn model(b: &Bitmap) -> Vec<bool> {
        (0..b.len()).map(|i| b.get(i)).collect()
    }

    fn from_bools(v: &[bool]) -> Bitmap {
        let mut b = Bitmap::new(v.len());
        for (i, &x) in v.iter().enumerate() {
            if x {
                b.set(i);
            }
        }
        b
    }

    #[test]
    fn whole_chunks_cost_no_block_and_a_block_turns_back_into_a_chunk() {
        let mut b = Bitmap::new(3 * CHUNK_BITS + 100);
        b.set_range(CHUNK_BITS, 3 * CHUNK_BITS + 100);
        assert_eq!(b.block_bytes(), 0);
        assert_eq!(b.count_ones(), 2 * CHUNK_BITS as u64 + 100);
        b.clear(CHUNK_BITS + 7);
        assert_eq!(b.block_bytes(), CHUNK_WORDS * 8);
        b.set(CHUNK_BITS + 7);
        assert_eq!(b.chunk_kind(1), ChunkKind::Full, "all set again");
        b.tidy(1);
        assert_eq!(b.block_bytes(), 0, "tidied: a full chunk again");
        assert_eq!(b, {
            let mut c = Bitmap::new(3 * CHUNK_BITS + 100);
            c.set_range(CHUNK_BITS, 3 * CHUNK_BITS + 100);
            c
        });
        // The short last chunk is full with its 100 bits.
        assert_eq!(b.chunk_kind(3), ChunkKind::Full);
        assert_eq!(b.word(b.words_len() - 1), (1 << (100 % 64)) - 1);
    }

    proptest! {
        #[test]
        fn set_range_matches_naive(len in 1usize..9000, a in 0usize..9000, b in 0usize..9000) {
            let (s, e) = (a.min(b).min(len), a.max(b).min(len));
            let mut bm = Bitmap::new(len);
            bm.set_range(s, e);
            for i in 0..len {
                prop_assert_eq!(bm.get(i), i >= s && i < e);
            }
            prop_assert_eq!(bm.count_ones(), (e - s) as u64);
            bm.clear_range(s, e);
            prop_assert_eq!(bm.count_ones(), 0);
            (0..bm.chunks_len()).for_each(|ci| bm.tidy(ci));
            prop_assert_eq!(bm.block_bytes(), 0);
        }

        #[test]
        fn operations_match_plain_booleans(
            len in 1usize..10000,
            ops in proptest::collection::vec((0u8..4, 0usize..10000, 0usize..10000), 0..30),
            other_ops in proptest::collection::vec((0u8..4, 0usize..10000, 0usize..10000), 0..30),
        ) {
            let build = |ops: &[(u8, usize, usize)]| {
                let mut b = Bitmap::new(len);
                for &(op, x, y) in ops {
                    let (s, e) = (x.min(y) % len, x.max(y) % len + 1);
                    match op {
                        0 => b.set_range(s, e),
                        1 => b.clear_range(s, e),
                        2 => {
                            b.set(s);
                        }
                        _ => b.clear(s),
                    }
                }
                b
            };
            let (a, o) = (build(&ops), build(&other_ops));
            let (ma, mo) = (model(&a), model(&o));
            prop_assert_eq!(a.count_ones(), ma.iter().filter(|&&x| x).count() as u64);
            prop_assert_eq!(a.count_and(&o), (0..len).filter(|&i| ma[i] && mo[i]).count() as u64);
            prop_assert_eq!(a.count_and_not(&o), (0..len).filter(|&i| ma[i] && !mo[i]).count() as u64);
            prop_assert_eq!(a.count_and_and_not(&o, &a), 0);
            let mut or = a.clone();
            or.or_assign(&o);
            let want: Vec<bool> = (0..len).map(|i| ma[i] || mo[i]).collect();
            prop_assert_eq!(model(&or), want.clone());
            prop_assert_eq!(or.clone(), from_bools(&want), "same bits, same representation");
            prop_assert_eq!(or.count_ones(), want.iter().filter(|&&x| x).count() as u64);
            let mut andn = a.clone();
            andn.and_not_assign(&o);
            let want: Vec<bool> = (0..len).map(|i| ma[i] && !mo[i]).collect();
            prop_assert_eq!(model(&andn), want.clone());
            prop_assert_eq!(andn.count_ones(), want.iter().filter(|&&x| x).count() as u64);
            // next_set, count_range and select_clear against the booleans.
            let mut got = Vec::new();
            let mut i = 0;
            while let Some(j) = a.next_set(i) { got.push(j); i = j + 1; }
            prop_assert_eq!(got, (0..len).filter(|&i| ma[i]).collect::<Vec<_>>());
            let (s, e) = (len / 3, len - len / 4);
            prop_assert_eq!(a.count_range(s, e), (s..e).filter(|&i| ma[i]).count() as u64);
            let clear: Vec<usize> = (s..e).filter(|&i| !ma[i]).collect();
            for (r, &p) in clear.iter().enumerate().step_by(7) {
                prop_assert_eq!(a.select_clear(s, e, r as u64), Some(p));
            }
            prop_assert_eq!(a.select_clear(s, e, clear.len() as u64), None);
        }

        #[test]
        fn full_bitmap_counts_exactly(len in 0usize..10000) {
            prop_assert_eq!(Bitmap::full(len).count_ones(), len as u64);
            prop_assert_eq!(Bitmap::full(len), from_bools(&vec![true; len]));
        }
    }

    #[test]
    fn select_in_word_finds_every_set_bit() {
        for x in [1u64, 0b1011_0100, u64::MAX, 0x8000_0000_0000_0001, 0xF0F0_0F0F_1234_8001] {
            let bits: Vec<u32> = (0..64).filter(|b| x >> b & 1 == 1).collect();
            for (r, &b) in bits.iter().enumerate() {
                assert_eq!(select_in_word(x, r as u32), b, "{x:#x} rank {r}");
            }
        }
    }
}
