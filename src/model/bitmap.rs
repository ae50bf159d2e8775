//! A fixed-length bitmap, one bit per guest page: the dirty log, the send bitmap, the pages present
//! at the destination. One bit per page keeps a 64 GiB VM (16 Mi pages of 4 KiB) at 2 MiB per
//! bitmap, and word-at-a-time operations make whole-memory passes cheap.

/// A fixed-length bitmap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    words: Vec<u64>,
    len: usize,
}

impl Bitmap {
    pub fn new(len: usize) -> Self {
        Bitmap { words: vec![0; len.div_ceil(64)], len }
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

    #[inline]
    pub fn get(&self, i: usize) -> bool {
        self.words[i >> 6] >> (i & 63) & 1 == 1
    }

    #[inline]
    pub fn set(&mut self, i: usize) {
        self.words[i >> 6] |= 1 << (i & 63);
    }

    #[inline]
    pub fn clear(&mut self, i: usize) {
        self.words[i >> 6] &= !(1 << (i & 63));
    }

    pub fn set_all(&mut self) {
        self.words.iter_mut().for_each(|w| *w = u64::MAX);
        self.trim();
    }

    pub fn clear_all(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
    }

    /// Clear the bits past `len` in the last word so counts stay exact.
    fn trim(&mut self) {
        let rem = self.len & 63;
        if rem != 0
            && let Some(last) = self.words.last_mut()
        {
            *last &= (1u64 << rem) - 1;
        }
    }

    /// Set every bit in `[start, end)`.
    pub fn set_range(&mut self, start: usize, end: usize) {
        self.range_words(start, end, |w, mask| *w |= mask);
    }

    /// Clear every bit in `[start, end)`.
    pub fn clear_range(&mut self, start: usize, end: usize) {
        self.range_words(start, end, |w, mask| *w &= !mask);
    }

    /// Apply `f(word, mask)` to each word `[start, end)` touches, `mask` holding the bits in range.
    fn range_words(&mut self, start: usize, end: usize, f: impl Fn(&mut u64, u64)) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        let (sw, ew) = (start >> 6, (end - 1) >> 6);
        let first_mask = u64::MAX << (start & 63);
        let last_mask = u64::MAX >> (63 - ((end - 1) & 63));
        if sw == ew {
            f(&mut self.words[sw], first_mask & last_mask);
        } else {
            f(&mut self.words[sw], first_mask);
            self.words[sw + 1..ew].iter_mut().for_each(|w| f(w, u64::MAX));
            f(&mut self.words[ew], last_mask);
        }
    }

    pub fn count_ones(&self) -> u64 {
        self.words.iter().map(|w| w.count_ones() as u64).sum()
    }

    /// `self |= other`.
    pub fn or_assign(&mut self, other: &Bitmap) {
        debug_assert_eq!(self.len, other.len);
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a |= *b);
    }

    /// `self &= !other`.
    pub fn and_not_assign(&mut self, other: &Bitmap) {
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a &= !*b);
    }

    /// Number of bits set here and not in `other`.
    pub fn count_and_not(&self, other: &Bitmap) -> u64 {
        self.words.iter().zip(&other.words).map(|(a, b)| (a & !b).count_ones() as u64).sum()
    }

    /// Number of bits set in both `self` and `other`.
    pub fn count_and(&self, other: &Bitmap) -> u64 {
        self.words.iter().zip(&other.words).map(|(a, b)| (a & b).count_ones() as u64).sum()
    }

    /// The first set bit at or after `from`, if any.
    pub fn next_set(&self, from: usize) -> Option<usize> {
        if from >= self.len {
            return None;
        }
        let mut wi = from >> 6;
        let mut w = self.words[wi] & (u64::MAX << (from & 63));
        loop {
            if w != 0 {
                let i = (wi << 6) + w.trailing_zeros() as usize;
                return (i < self.len).then_some(i);
            }
            wi += 1;
            if wi >= self.words.len() {
                return None;
            }
            w = self.words[wi];
        }
    }

    #[inline]
    pub fn word(&self, wi: usize) -> u64 {
        self.words[wi]
    }

    #[inline]
    pub fn clear_word_bits(&mut self, wi: usize, mask: u64) {
        self.words[wi] &= !mask;
    }

    #[inline]
    pub fn set_word_bits(&mut self, wi: usize, mask: u64) {
        self.words[wi] |= mask;
    }

    pub fn words_len(&self) -> usize {
        self.words.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn set_range_matches_naive(len in 1usize..300, a in 0usize..300, b in 0usize..300) {
            let (s, e) = (a.min(b).min(len), a.max(b).min(len));
            let mut bm = Bitmap::new(len);
            bm.set_range(s, e);
            for i in 0..len {
                prop_assert_eq!(bm.get(i), i >= s && i < e);
            }
            prop_assert_eq!(bm.count_ones(), (e - s) as u64);
        }

        #[test]
        fn next_set_finds_every_bit(len in 1usize..500, bits in proptest::collection::vec(0usize..500, 0..40)) {
            let mut bm = Bitmap::new(len);
            let mut want: Vec<usize> = bits.into_iter().filter(|&b| b < len).collect();
            want.sort();
            want.dedup();
            for &b in &want { bm.set(b); }
            let mut got = Vec::new();
            let mut i = 0;
            while let Some(j) = bm.next_set(i) { got.push(j); i = j + 1; }
            prop_assert_eq!(got, want);
        }

        #[test]
        fn full_bitmap_counts_exactly(len in 0usize..1000) {
            prop_assert_eq!(Bitmap::full(len).count_ones(), len as u64);
        }
    }
}
