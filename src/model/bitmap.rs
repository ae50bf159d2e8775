//! A fixed-length bitmap, one bit per guest page: the dirty log, the send bitmap, the pages present
//! at the destination, the non-zero pages.
//!
//! Memory is cut into chunks of 4096 pages (16 MiB of 4 KiB pages). A chunk is all clear, all set,
//! or a block of 64 words with its count of set bits, so:
//! - a chunk no page of which was ever written, or all of which is to be sent, costs no block: a
//!   1 TiB VM that touches 10 GiB pays for the chunks it touched, not for 1 TiB of bits;
//! - whole-memory operations (a sync, a count, the first pass that takes every page) work chunk by
//!   chunk, and on a chunk that is all clear or all set in O(1): a sequential writer's dirty set is a
//!   few runs, which are mostly whole chunks;
//! - the count of set bits is kept as bits change, so counting is free and a page can be picked by
//!   its rank among the clear pages of a range (`select_clear`) without scanning the range.
//!
//! Bits beyond `len` are always clear. Single-bit changes keep a block once it exists (a page set and
//! cleared again would otherwise allocate and free it each time); whole-memory operations and
//! `tidy` turn a block that is all clear or all set back into a plain chunk. Equality is by bits.

/// Words per chunk, and bits per chunk.
pub const CHUNK_WORDS: usize = 64;
pub const CHUNK_BITS: usize = CHUNK_WORDS * 64;

#[derive(Debug, Clone)]
enum Chunk {
    Zero,
    Full,
    /// Some bits set: the words and how many of their bits are set.
    Words(u32, Box<[u64; CHUNK_WORDS]>),
}

/// A chunk to read word by word.
pub enum View<'a> {
    Zero,
    Full,
    Words(&'a [u64; CHUNK_WORDS]),
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

/// A chunk's block, changed word by word, with the counts kept right.
pub struct BlockMut<'a> {
    n: &'a mut u32,
    w: &'a mut [u64; CHUNK_WORDS],
    ones: &'a mut u64,
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
        *self.ones -= u64::from(gone);
    }

    /// Set the bits of `mask` (which must be clear) in word `k`.
    #[inline]
    pub fn set_clear_bits(&mut self, k: usize, mask: u64) {
        debug_assert_eq!(self.w[k] & mask, 0);
        let new = mask.count_ones();
        self.w[k] |= mask;
        *self.n += new;
        *self.ones += u64::from(new);
    }
}

/// What a chunk holds, for callers that can treat a whole chunk at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    Zero,
    Full,
    Mixed,
}

#[derive(Debug, Clone)]
pub struct Bitmap {
    chunks: Vec<Chunk>,
    len: usize,
    ones: u64,
}

impl PartialEq for Bitmap {
    fn eq(&self, o: &Self) -> bool {
        self.len == o.len && self.ones == o.ones && (0..self.words_len()).all(|wi| self.word(wi) == o.word(wi))
    }
}

impl Eq for Bitmap {}

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
        Bitmap { chunks: vec![Chunk::Zero; len.div_ceil(CHUNK_BITS)], len, ones: 0 }
    }

    pub fn full(len: usize) -> Self {
        Bitmap { chunks: vec![Chunk::Full; len.div_ceil(CHUNK_BITS)], len, ones: len as u64 }
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

    /// The words of a chunk that was clear or full, as a block.
    fn block(&self, ci: usize, full: bool) -> Box<[u64; CHUNK_WORDS]> {
        let mut w = Box::new([0u64; CHUNK_WORDS]);
        if full {
            for (k, x) in w.iter_mut().enumerate() {
                *x = valid_mask(self.len, ci * CHUNK_WORDS + k);
            }
        }
        w
    }

    /// Make chunk `ci` a block (so that single bits can change) and return it with its count.
    fn materialize(&mut self, ci: usize) -> (&mut u32, &mut [u64; CHUNK_WORDS]) {
        if !matches!(self.chunks[ci], Chunk::Words(..)) {
            let full = matches!(self.chunks[ci], Chunk::Full);
            let n = if full { self.chunk_bits(ci) as u32 } else { 0 };
            self.chunks[ci] = Chunk::Words(n, self.block(ci, full));
        }
        match &mut self.chunks[ci] {
            Chunk::Words(n, w) => (n, w),
            _ => unreachable!("made a block above"),
        }
    }

    /// Turn chunk `ci` back into a plain chunk if its block became all clear or all set (frees the
    /// block).
    #[inline]
    pub fn tidy(&mut self, ci: usize) {
        self.normalize(ci);
    }

    #[inline]
    fn normalize(&mut self, ci: usize) {
        if let Chunk::Words(n, _) = self.chunks[ci] {
            if n == 0 {
                self.chunks[ci] = Chunk::Zero;
            } else if n as usize == self.chunk_bits(ci) {
                self.chunks[ci] = Chunk::Full;
            }
        }
    }

    #[inline]
    pub fn get(&self, i: usize) -> bool {
        match &self.chunks[i / CHUNK_BITS] {
            Chunk::Zero => false,
            Chunk::Full => true,
            Chunk::Words(_, w) => w[(i / 64) % CHUNK_WORDS] >> (i & 63) & 1 == 1,
        }
    }

    /// Set bit `i`; returns whether it was clear.
    #[inline]
    pub fn set(&mut self, i: usize) -> bool {
        match &mut self.chunks[i / CHUNK_BITS] {
            Chunk::Words(n, w) => {
                let x = &mut w[(i / 64) % CHUNK_WORDS];
                let b = 1u64 << (i & 63);
                if *x & b != 0 {
                    return false;
                }
                *x |= b;
                *n += 1;
                self.ones += 1;
                true
            }
            Chunk::Full => false,
            Chunk::Zero => {
                self.set_word_bits(i / 64, 1 << (i & 63));
                true
            }
        }
    }

    #[inline]
    pub fn clear(&mut self, i: usize) {
        if let Chunk::Words(n, w) = &mut self.chunks[i / CHUNK_BITS] {
            let x = &mut w[(i / 64) % CHUNK_WORDS];
            let b = 1u64 << (i & 63);
            let gone = u32::from(*x & b != 0);
            *x &= !b;
            *n -= gone;
            self.ones -= u64::from(gone);
        } else if matches!(self.chunks[i / CHUNK_BITS], Chunk::Full) {
            self.clear_word_bits(i / 64, 1 << (i & 63));
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
            if set { self.set_word_bits(wi, mask) } else { self.clear_word_bits(wi, mask) }
        }
    }

    pub fn set_all(&mut self) {
        self.chunks.iter_mut().for_each(|c| *c = Chunk::Full);
        self.ones = self.len as u64;
    }

    pub fn clear_all(&mut self) {
        self.chunks.iter_mut().for_each(|c| *c = Chunk::Zero);
        self.ones = 0;
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
                let before = self.chunk_count(ci);
                self.chunks[ci] = if set { Chunk::Full } else { Chunk::Zero };
                let after = if set { (ce - cs) as u64 } else { 0 };
                self.ones = self.ones - before + after;
                continue;
            }
            let (s, e) = (start.max(cs), end.min(ce));
            let (sw, ew) = (s / 64, (e - 1) / 64);
            for wi in sw..=ew {
                let lo = if wi == sw { u64::MAX << (s & 63) } else { u64::MAX };
                let hi = if wi == ew { u64::MAX >> (63 - ((e - 1) & 63)) } else { u64::MAX };
                if set { self.set_word_bits(wi, lo & hi) } else { self.clear_word_bits(wi, lo & hi) }
            }
        }
    }

    /// Set bits in chunk `ci`.
    #[inline]
    fn chunk_count(&self, ci: usize) -> u64 {
        match &self.chunks[ci] {
            Chunk::Zero => 0,
            Chunk::Full => self.chunk_bits(ci) as u64,
            Chunk::Words(n, _) => u64::from(*n),
        }
    }

    pub fn count_ones(&self) -> u64 {
        self.ones
    }

    /// Set bits in `[start, end)`.
    pub fn count_range(&self, start: usize, end: usize) -> u64 {
        let end = end.min(self.len);
        if start >= end {
            return 0;
        }
        let mut n = 0;
        let (first_chunk, last_chunk) = (start / CHUNK_BITS, (end - 1) / CHUNK_BITS);
        for ci in first_chunk..=last_chunk {
            let (cs, ce) = (ci * CHUNK_BITS, ci * CHUNK_BITS + self.chunk_bits(ci));
            let (s, e) = (start.max(cs), end.min(ce));
            n += match &self.chunks[ci] {
                Chunk::Zero => 0,
                Chunk::Full => (e - s) as u64,
                Chunk::Words(k, _) if s == cs && e == ce => u64::from(*k),
                Chunk::Words(_, w) => {
                    let (sw, ew) = (s / 64, (e - 1) / 64);
                    (sw..=ew)
                        .map(|wi| {
                            let lo = if wi == sw { u64::MAX << (s & 63) } else { u64::MAX };
                            let hi = if wi == ew { u64::MAX >> (63 - ((e - 1) & 63)) } else { u64::MAX };
                            (w[wi % CHUNK_WORDS] & lo & hi).count_ones() as u64
                        })
                        .sum()
                }
            };
        }
        n
    }

    /// The `rank`-th clear bit (from 0) in `[start, end)`, if there are that many. Whole chunks are
    /// skipped by their counts, so the cost is the chunks of the range plus one chunk's words.
    pub fn select_clear(&self, start: usize, end: usize, mut rank: u64) -> Option<usize> {
        let end = end.min(self.len);
        if start >= end {
            return None;
        }
        let (first_chunk, last_chunk) = (start / CHUNK_BITS, (end - 1) / CHUNK_BITS);
        for ci in first_chunk..=last_chunk {
            let (cs, ce) = (ci * CHUNK_BITS, ci * CHUNK_BITS + self.chunk_bits(ci));
            let (s, e) = (start.max(cs), end.min(ce));
            let clear = (e - s) as u64
                - match &self.chunks[ci] {
                    Chunk::Zero => 0,
                    Chunk::Full => (e - s) as u64,
                    _ => self.count_range(s, e),
                };
            if rank >= clear {
                rank -= clear;
                continue;
            }
            if matches!(self.chunks[ci], Chunk::Zero) {
                return Some(s + rank as usize);
            }
            let (sw, ew) = (s / 64, (e - 1) / 64);
            for wi in sw..=ew {
                let lo = if wi == sw { u64::MAX << (s & 63) } else { u64::MAX };
                let hi = if wi == ew { u64::MAX >> (63 - ((e - 1) & 63)) } else { u64::MAX };
                let mut z = !self.word(wi) & lo & hi;
                let n = z.count_ones() as u64;
                if rank >= n {
                    rank -= n;
                    continue;
                }
                for _ in 0..rank {
                    z &= z - 1;
                }
                return Some(wi * 64 + z.trailing_zeros() as usize);
            }
            unreachable!("the chunk's count said the bit is here");
        }
        None
    }

    /// `self |= other`.
    pub fn or_assign(&mut self, other: &Bitmap) {
        debug_assert_eq!(self.len, other.len);
        for ci in 0..self.chunks.len() {
            let bits = self.chunk_bits(ci) as u64;
            match &other.chunks[ci] {
                Chunk::Zero => {}
                Chunk::Full => {
                    self.ones = self.ones - self.chunk_count(ci) + bits;
                    self.chunks[ci] = Chunk::Full;
                }
                Chunk::Words(on, ow) => match &mut self.chunks[ci] {
                    Chunk::Full => {}
                    Chunk::Zero => {
                        self.ones += u64::from(*on);
                        self.chunks[ci] = Chunk::Words(*on, ow.clone());
                    }
                    Chunk::Words(n, w) => {
                        let before = *n;
                        let mut k = 0;
                        for (a, b) in w.iter_mut().zip(ow.iter()) {
                            *a |= *b;
                            k += a.count_ones();
                        }
                        *n = k;
                        self.ones = self.ones - u64::from(before) + u64::from(k);
                        self.normalize(ci);
                    }
                },
            }
        }
    }

    /// `self |= other`, then `other` cleared: blocks move instead of being copied (a dirty-bitmap
    /// sync).
    pub fn or_take(&mut self, other: &mut Bitmap) {
        debug_assert_eq!(self.len, other.len);
        for ci in 0..self.chunks.len() {
            if matches!(self.chunks[ci], Chunk::Zero) && matches!(other.chunks[ci], Chunk::Words(..)) {
                let moved = std::mem::replace(&mut other.chunks[ci], Chunk::Zero);
                if let Chunk::Words(n, _) = moved {
                    self.ones += u64::from(n);
                }
                self.chunks[ci] = moved;
            }
        }
        self.or_assign(other);
        other.clear_all();
    }

    /// `self &= !other`.
    pub fn and_not_assign(&mut self, other: &Bitmap) {
        debug_assert_eq!(self.len, other.len);
        for ci in 0..self.chunks.len() {
            match &other.chunks[ci] {
                Chunk::Zero => {}
                Chunk::Full => {
                    self.ones -= self.chunk_count(ci);
                    self.chunks[ci] = Chunk::Zero;
                }
                Chunk::Words(_, ow) => {
                    if matches!(self.chunks[ci], Chunk::Zero) {
                        continue;
                    }
                    let before = self.chunk_count(ci);
                    let (n, w) = self.materialize(ci);
                    let mut k = 0;
                    for (a, b) in w.iter_mut().zip(ow.iter()) {
                        *a &= !*b;
                        k += a.count_ones();
                    }
                    *n = k;
                    self.ones = self.ones - before + u64::from(k);
                    self.normalize(ci);
                }
            }
        }
    }

    /// Number of bits set here and not in `other`.
    pub fn count_and_not(&self, other: &Bitmap) -> u64 {
        (0..self.chunks.len())
            .map(|ci| match (&self.chunks[ci], &other.chunks[ci]) {
                (Chunk::Zero, _) | (_, Chunk::Full) => 0,
                (_, Chunk::Zero) => self.chunk_count(ci),
                _ => self.chunk_words(ci).zip(other.chunk_words(ci)).map(|(a, b)| (a & !b).count_ones() as u64).sum(),
            })
            .sum()
    }

    /// Number of bits set in both `self` and `other`.
    pub fn count_and(&self, other: &Bitmap) -> u64 {
        (0..self.chunks.len())
            .map(|ci| match (&self.chunks[ci], &other.chunks[ci]) {
                (Chunk::Zero, _) | (_, Chunk::Zero) => 0,
                (Chunk::Full, _) => other.chunk_count(ci),
                (_, Chunk::Full) => self.chunk_count(ci),
                _ => self.chunk_words(ci).zip(other.chunk_words(ci)).map(|(a, b)| (a & b).count_ones() as u64).sum(),
            })
            .sum()
    }

    /// Number of bits set in `self` and `and`, and not in `not`.
    pub fn count_and_and_not(&self, and: &Bitmap, not: &Bitmap) -> u64 {
        (0..self.chunks.len())
            .map(|ci| match (&self.chunks[ci], &and.chunks[ci], &not.chunks[ci]) {
                (Chunk::Zero, _, _) | (_, Chunk::Zero, _) | (_, _, Chunk::Full) => 0,
                _ => (0..CHUNK_WORDS)
                    .map(|k| {
                        let wi = ci * CHUNK_WORDS + k;
                        (self.word(wi) & and.word(wi) & !not.word(wi)).count_ones() as u64
                    })
                    .sum(),
            })
            .sum()
    }

    /// The words of chunk `ci`, clear or full ones included.
    fn chunk_words(&self, ci: usize) -> impl Iterator<Item = u64> + '_ {
        (0..CHUNK_WORDS).map(move |k| self.word(ci * CHUNK_WORDS + k))
    }

    /// The first set bit at or after `from`, if any.
    pub fn next_set(&self, from: usize) -> Option<usize> {
        if from >= self.len {
            return None;
        }
        let mut ci = from / CHUNK_BITS;
        let mut at = from;
        while ci < self.chunks.len() {
            match &self.chunks[ci] {
                Chunk::Zero => {}
                Chunk::Full => return (at < self.len).then_some(at),
                Chunk::Words(_, w) => {
                    let mut k = (at / 64) % CHUNK_WORDS;
                    let mut x = w[k] & (u64::MAX << (at & 63));
                    loop {
                        if x != 0 {
                            let i = (ci * CHUNK_WORDS + k) * 64 + x.trailing_zeros() as usize;
                            return (i < self.len).then_some(i);
                        }
                        k += 1;
                        if k == CHUNK_WORDS {
                            break;
                        }
                        x = w[k];
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
        let ci = wi / CHUNK_WORDS;
        match &self.chunks[ci] {
            Chunk::Zero => 0,
            Chunk::Full => valid_mask(self.len, wi),
            Chunk::Words(_, w) => w[wi % CHUNK_WORDS],
        }
    }

    /// What chunk `ci` holds (a block all clear or all set counts as such).
    #[inline]
    pub fn chunk_kind(&self, ci: usize) -> ChunkKind {
        match &self.chunks[ci] {
            Chunk::Zero | Chunk::Words(0, _) => ChunkKind::Zero,
            Chunk::Full => ChunkKind::Full,
            Chunk::Words(n, _) if *n as usize == self.chunk_bits(ci) => ChunkKind::Full,
            Chunk::Words(..) => ChunkKind::Mixed,
        }
    }

    /// Chunk `ci` to read word by word without a lookup per word.
    #[inline]
    pub fn view(&self, ci: usize) -> View<'_> {
        match &self.chunks[ci] {
            Chunk::Zero => View::Zero,
            Chunk::Full => View::Full,
            Chunk::Words(_, w) => View::Words(w),
        }
    }

    /// Chunk `ci` as a block to change word by word (the count and the total kept right).
    #[inline]
    pub fn block_mut(&mut self, ci: usize) -> BlockMut<'_> {
        self.materialize(ci);
        match &mut self.chunks[ci] {
            Chunk::Words(n, w) => BlockMut { n, w, ones: &mut self.ones },
            _ => unreachable!("materialized"),
        }
    }

    /// Bits in chunk `ci`.
    pub fn bits_in_chunk(&self, ci: usize) -> usize {
        self.chunk_bits(ci)
    }

    pub fn chunks_len(&self) -> usize {
        self.chunks.len()
    }

    /// Set or clear every bit of chunk `ci` at once.
    pub fn fill_chunk(&mut self, ci: usize, set: bool) {
        let before = self.chunk_count(ci);
        self.chunks[ci] = if set { Chunk::Full } else { Chunk::Zero };
        self.ones = self.ones - before + if set { self.chunk_bits(ci) as u64 } else { 0 };
    }

    #[inline]
    pub fn clear_word_bits(&mut self, wi: usize, mask: u64) {
        let ci = wi / CHUNK_WORDS;
        if matches!(self.chunks[ci], Chunk::Zero) {
            return;
        }
        let (n, w) = self.materialize(ci);
        let x = &mut w[wi % CHUNK_WORDS];
        let gone = (*x & mask).count_ones();
        *x &= !mask;
        *n -= gone;
        self.ones -= u64::from(gone);
    }

    #[inline]
    pub fn set_word_bits(&mut self, wi: usize, mask: u64) {
        let ci = wi / CHUNK_WORDS;
        if matches!(self.chunks[ci], Chunk::Full) {
            return;
        }
        let mask = mask & valid_mask(self.len, wi);
        let (n, w) = self.materialize(ci);
        let x = &mut w[wi % CHUNK_WORDS];
        let new = (mask & !*x).count_ones();
        *x |= mask;
        *n += new;
        self.ones += u64::from(new);
    }

    pub fn words_len(&self) -> usize {
        self.len.div_ceil(64)
    }

    /// Bytes of the blocks allocated (clear and full chunks cost none), for memory figures.
    pub fn block_bytes(&self) -> usize {
        self.chunks.iter().filter(|c| matches!(c, Chunk::Words(..))).count() * CHUNK_WORDS * 8
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
}
