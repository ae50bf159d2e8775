//! Operations over ranges and whole bitmaps that work chunk by chunk: picking clear pages by rank,
//! a uniform subset of them, and the set algebra between bitmaps (or, and-not, counts).

use super::*;

impl Bitmap {
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
                _ => self.combine_chunk(other, ci, |a, b| a | b),
            }
        }
    }

    /// Chunk `ci`'s words (both with words) become `f(self, other)` word by word, recounted.
    #[inline(always)]
    fn combine_chunk(&mut self, other: &Bitmap, ci: usize, f: impl Fn(u64, u64) -> u64) {
        let mut k = 0;
        let r = ci * CHUNK_WORDS..(ci + 1) * CHUNK_WORDS;
        for (a, b) in self.words[r.clone()].iter_mut().zip(&other.words[r]) {
            *a = f(*a, *b);
            k += a.count_ones();
        }
        self.counts[ci] = k;
        self.tidy(ci);
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
                    self.combine_chunk(other, ci, |a, b| a & !b);
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
}
