//! A small set of pages kept sorted: post-copy's batch in flight (at most one per migration, tens
//! to thousands of pages). The guest asks, at each access it draws, whether its page is on its way;
//! the pages are kept as the batch took them, in a few ascending runs (the requested pages, then
//! the push in address order, which may wrap round once), each answered by a binary search; the set
//! is filled and emptied once per batch, where a bitmap over the whole memory would set and clear
//! every page.

#[derive(Debug, Clone, Default)]
pub struct PageSet {
    pages: Vec<usize>,
    /// Where each ascending run of `pages` ends.
    runs: Vec<usize>,
    /// The least and greatest page.
    lo: usize,
    hi: usize,
}

/// More runs than this and the pages are sorted into one.
const MAX_RUNS: usize = 8;

impl PageSet {
    /// The set becomes the pages of `pages` (any order, no duplicates), taken without a copy;
    /// `pages` is left empty (with the set's former storage).
    pub fn take_from(&mut self, pages: &mut Vec<usize>) {
        std::mem::swap(&mut self.pages, pages);
        pages.clear();
        self.runs.clear();
        let p = &self.pages;
        let (mut lo, mut hi) = (p.first().copied().unwrap_or(usize::MAX), p.first().copied().unwrap_or(0));
        for i in 1..p.len() {
            if p[i] < p[i - 1] {
                // A run ends at p[i - 1] (its greatest) and the next begins at p[i] (its least).
                hi = hi.max(p[i - 1]);
                lo = lo.min(p[i]);
                self.runs.push(i);
                if self.runs.len() == MAX_RUNS {
                    break;
                }
            }
        }
        if self.runs.len() == MAX_RUNS {
            self.pages.sort_unstable();
            self.runs.clear();
        }
        self.runs.push(self.pages.len());
        self.lo = lo.min(self.pages.first().copied().unwrap_or(usize::MAX));
        self.hi = hi.max(self.pages.last().copied().unwrap_or(0));
    }

    pub fn clear(&mut self) {
        self.pages.clear();
        self.runs.clear();
        (self.lo, self.hi) = (usize::MAX, 0);
    }

    fn each_run(&self) -> impl Iterator<Item = &[usize]> {
        let starts = std::iter::once(0).chain(self.runs.iter().copied());
        starts.zip(self.runs.iter().copied()).map(|(a, b)| &self.pages[a..b])
    }

    #[inline]
    pub fn contains(&self, page: usize) -> bool {
        page >= self.lo && page <= self.hi && self.each_run().any(|r| r.binary_search(&page).is_ok())
    }

    /// Whether a page of `[start, end)` is in the set.
    pub fn any_in(&self, start: usize, end: usize) -> bool {
        start <= self.hi
            && end > self.lo
            && self.each_run().any(|r| {
                let i = r.partition_point(|&p| p < start);
                r.get(i).is_some_and(|&p| p < end)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_and_ranges() {
        let mut s = PageSet::default();
        assert!(!s.contains(0) && !s.any_in(0, usize::MAX));
        s.take_from(&mut vec![70, 5, 6, 7, 100]);
        assert!(s.contains(5) && s.contains(70) && s.contains(100));
        assert!(!s.contains(4) && !s.contains(8) && !s.contains(101));
        assert!(s.any_in(0, 6) && s.any_in(8, 71) && s.any_in(100, 101));
        assert!(!s.any_in(8, 70) && !s.any_in(101, 1000) && !s.any_in(0, 5));
        s.clear();
        assert!(!s.contains(5) && !s.any_in(0, usize::MAX));
        // Many runs: sorted into one.
        let many: Vec<usize> = (0..40).map(|i| (i * 7919) % 101).collect();
        s.take_from(&mut many.clone());
        assert!((0..101).all(|p| s.contains(p) == many.contains(&p)));
        assert!(s.any_in(3, 4) == many.contains(&3));
    }
}
