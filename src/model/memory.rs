//! Guest memory, page by page: which pages hold non-zero data, the hypervisor's dirty log of pages
//! written since the last sync, where a VM's zero pages lie and which of its pages are free.

pub use crate::model::bitmap::Bitmap;
use crate::names::name_of;
use std::sync::Arc;

/// A VM's zero pages, as the scenario gives them: one of the two forms.
#[derive(Debug, Clone, PartialEq)]
pub enum ZeroPages {
    /// `zero_fraction` of all pages, laid out as `zero_layout` says.
    Share { fraction: f64, layout: ZeroLayout },
    /// `zero_profile`: the zero share of each of `len()` equal regions of memory, lowest first.
    Profile(Vec<f64>),
}

/// Where a VM's zero pages lie. It matters to QEMU's stop rule, which counts unsent zero pages as
/// remaining although they take almost no time to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZeroLayout {
    /// Spread evenly over the pages outside the working set.
    #[default]
    Spread,
    /// Packed at the highest addresses outside the working set (then at the top of the working set,
    /// if the outside is too small): a freshly booted guest that never touched the top of its memory.
    Top,
}

impl ZeroLayout {
    pub const NAMES: [(&'static str, ZeroLayout); 2] = [("spread", ZeroLayout::Spread), ("top", ZeroLayout::Top)];

    pub fn name(self) -> &'static str {
        name_of(&Self::NAMES, self)
    }
}

/// The regions of a `zero_profile` over `pages` pages: `n` nearly equal ranges, lowest first, each
/// with the number of zero pages its share gives (rounded).
pub fn zero_profile_regions(profile: &[f64], pages: usize) -> impl Iterator<Item = (std::ops::Range<usize>, usize)> + '_ {
    let n = profile.len();
    profile.iter().enumerate().map(move |(i, f)| {
        let r = i * pages / n..(i + 1) * pages / n;
        let zeros = ((r.len() as f64) * f).round() as usize;
        (r, zeros)
    })
}

/// The zero-page layouts built so far, by what they depend on: VMs with the same memory, zero pages
/// and working set share one (`Memory::nonzero`), so ten thousand VMs of a group build and hold one.
/// A layout is a pure function of its key, so the last few are also kept for the whole process
/// (`SHARED_LAYOUTS`): the runs of a sweep build each once.
#[derive(Default)]
pub struct Layouts(std::collections::HashMap<String, Arc<Bitmap>>);

/// Layouts kept between runs, at most (the oldest goes first).
const SHARED_LAYOUTS: usize = 8;
/// Layouts above this many pages are not kept between runs (2^26 pages: an 8 MiB bitmap, 256 GiB of
/// 4 KiB pages), so that a process holds at most 64 MiB of them.
const SHARED_LAYOUT_MAX_PAGES: usize = 1 << 26;

fn shared_layouts() -> std::sync::MutexGuard<'static, Vec<(String, Arc<Bitmap>)>> {
    static SHARED: std::sync::Mutex<Vec<(String, Arc<Bitmap>)>> = std::sync::Mutex::new(Vec::new());
    SHARED.lock().unwrap_or_else(|e| e.into_inner())
}

impl Layouts {
    /// The memory of a VM of `pages` pages with these zero pages around working set `ws`.
    pub fn memory(&mut self, pages: usize, page_size: u64, zero: &ZeroPages, ws: std::ops::Range<usize>) -> Memory {
        // The Debug form of an f64 is exact (it reads back to the same number).
        let key = format!("{pages} {ws:?} {zero:?}");
        if let Some(l) = self.0.get(&key) {
            return Memory::with_layout(l.clone(), page_size);
        }
        let shared = shared_layouts().iter().find(|(k, _)| *k == key).map(|(_, l)| l.clone());
        if let Some(l) = shared {
            self.0.insert(key, l.clone());
            return Memory::with_layout(l, page_size);
        }
        let m = match zero {
            ZeroPages::Profile(p) => Memory::with_zero_profile(pages, page_size, p, ws),
            ZeroPages::Share { fraction, layout } => Memory::new(pages, page_size, *fraction, *layout, ws),
        };
        if pages <= SHARED_LAYOUT_MAX_PAGES {
            let mut s = shared_layouts();
            if s.len() >= SHARED_LAYOUTS {
                s.remove(0);
            }
            s.push((key.clone(), m.nonzero.clone()));
        }
        self.0.insert(key, m.nonzero.clone());
        m
    }
}

/// What a workload writes into: the page state of one VM.
pub struct Memory {
    pub page_size: u64,
    /// Pages whose content is not all zeros (a zero page is sent as a header only). Shared, copy on
    /// write, by the VMs that start with the same layout (a group of a thousand identical VMs keeps
    /// one until a write turns one of its zero pages non-zero).
    pub nonzero: Arc<Bitmap>,
    /// Pages written since the last sync. Change it through `write`, `write_range` and
    /// `take_dirty_log`, which keep `epoch` and `journal` right.
    pub dirty_log: Bitmap,
    /// How many times the dirty log was emptied: a workload that mirrors part of it (a strided
    /// working set) knows from this when to empty its mirror.
    pub epoch: u64,
    /// When set, the pages newly put in the dirty log, in the order written.
    pub journal: Option<Vec<usize>>,
    /// Zero pages the guest had never written when it started (`untouched_profile`): the host
    /// backs them with its one shared zero page, so a migration finds them zero for next to nothing
    /// (docs/model.md 15.13). Fixed; a write makes a page non-zero, which takes it out.
    pub untouched: Option<Arc<Bitmap>>,
}

impl Memory {
    /// `zero_fraction` of the pages start all-zero. They lie outside the workload's working set (a
    /// running workload has touched its own pages), and inside it only if the outside is too small;
    /// spread evenly, or packed at the highest addresses, as `layout` says.
    pub fn new(pages: usize, page_size: u64, zero_fraction: f64, layout: ZeroLayout, working_set: std::ops::Range<usize>) -> Self {
        let mut nonzero = Bitmap::full(pages);
        let zero = ((pages as f64) * zero_fraction).round() as usize;
        match layout {
            ZeroLayout::Spread => spread_outside_first(&mut nonzero, 0..pages, working_set, zero),
            ZeroLayout::Top => {
                let outside_len = pages - working_set.len();
                let (from_outside, from_inside) = if zero <= outside_len { (zero, 0) } else { (outside_len, zero - outside_len) };
                // The highest outside pages first: above the working set, then below it.
                let above = (pages - working_set.end).min(from_outside);
                nonzero.clear_range(pages - above, pages);
                let below = from_outside - above;
                nonzero.clear_range(working_set.start - below, working_set.start);
                nonzero.clear_range(working_set.end - from_inside, working_set.end);
            }
        }
        Memory::with_layout(Arc::new(nonzero), page_size)
    }

    /// Mark the guest's untouched pages: in each of `profile`'s regions (`zero_profile_regions`),
    /// its share of the region's pages, taken from the region's zero pages in address order.
    pub fn mark_untouched(&mut self, profile: &[f64]) {
        let mut u = Bitmap::new(self.pages());
        for (r, n) in zero_profile_regions(profile, self.pages()) {
            let mut left = n;
            let mut p = r.start;
            while left > 0 && p < r.end {
                if !self.nonzero.get(p) {
                    u.set(p);
                    left -= 1;
                }
                p += 1;
            }
        }
        self.untouched = Some(Arc::new(u));
    }

    /// A memory whose non-zero pages are `nonzero` (shared until written), nothing dirty.
    pub fn with_layout(nonzero: Arc<Bitmap>, page_size: u64) -> Self {
        let pages = nonzero.len();
        Memory { page_size, nonzero, dirty_log: Bitmap::new(pages), epoch: 0, journal: None, untouched: None }
    }

    /// Zero pages region by region, as a `zero_profile` says (`zero_profile_regions`).
    /// Within a region they lie outside the working set first, spread evenly, as in `new`.
    pub fn with_zero_profile(pages: usize, page_size: u64, profile: &[f64], working_set: std::ops::Range<usize>) -> Self {
        let mut nonzero = Bitmap::full(pages);
        for (r, zero) in zero_profile_regions(profile, pages) {
            spread_outside_first(&mut nonzero, r, working_set.clone(), zero);
        }
        Memory::with_layout(Arc::new(nonzero), page_size)
    }

    pub fn pages(&self) -> usize {
        self.nonzero.len()
    }

    #[inline]
    pub fn write(&mut self, page: usize) {
        let new = self.dirty_log.set(page);
        if !self.nonzero.get(page) {
            Arc::make_mut(&mut self.nonzero).set(page);
        }
        if let Some(j) = &mut self.journal
            && new
        {
            j.push(page);
        }
    }

    /// The pages of word `wi` whose bits `mask` sets written (pages `64 wi ..`).
    pub fn write_word(&mut self, wi: usize, mask: u64) {
        let new = self.dirty_log.set_word_bits(wi, mask);
        if mask & !self.nonzero.word(wi) != 0 {
            Arc::make_mut(&mut self.nonzero).set_word_bits(wi, mask);
        }
        if let Some(j) = &mut self.journal {
            let mut x = new;
            while x != 0 {
                j.push(wi * 64 + x.trailing_zeros() as usize);
                x &= x - 1;
            }
        }
    }

    /// Every page in `[start, end)` written at least once.
    pub fn write_range(&mut self, start: usize, end: usize) {
        if let Some(j) = &mut self.journal {
            let mut p = start;
            while p < end {
                if !self.dirty_log.get(p) {
                    j.push(p);
                }
                p += 1;
            }
        }
        self.dirty_log.set_range(start, end);
        if self.nonzero.count_range(start, end) < (end - start) as u64 {
            Arc::make_mut(&mut self.nonzero).set_range(start, end);
        }
    }

    /// A dirty-bitmap sync: the dirty log moves into `bits` (`bits |= log`) and is emptied.
    pub fn take_dirty_log(&mut self, bits: &mut Bitmap) {
        bits.or_take(&mut self.dirty_log);
        self.epoch += 1;
    }

    /// Empty the dirty log (dirty logging starts).
    pub fn clear_dirty_log(&mut self) {
        self.dirty_log.clear_all();
        self.epoch += 1;
    }
}

/// The guest's free pages (`free_fraction` of memory). A freed page keeps the data it held (the guest
/// does not zero it), so free pages are taken among the non-zero pages outside the working set (a
/// running workload uses its own pages), spread evenly; only if there are not enough of those, among
/// the zero pages outside it, then inside the working set (non-zero pages first).
pub fn free_pages(nonzero: &Bitmap, free_fraction: f64, working_set: std::ops::Range<usize>) -> Bitmap {
    let pages = nonzero.len();
    let mut left = ((pages as f64) * free_fraction).round() as usize;
    let mut inside = Bitmap::new(pages);
    inside.set_range(working_set.start, working_set.end);
    let mut outside = Bitmap::full(pages);
    outside.and_not_assign(&inside);
    let mut zero = Bitmap::full(pages);
    zero.and_not_assign(nonzero);
    let mut free = Bitmap::new(pages);
    for (part, not) in [(&outside, &zero), (&outside, nonzero), (&inside, &zero), (&inside, nonzero)] {
        let mut candidates = part.clone();
        candidates.and_not_assign(not);
        left -= spread_pick(&mut free, &candidates, left);
    }
    free
}

/// Set in `out` `n` of the bits set in `candidates` (at most all of them), spread evenly: the k-th
/// pick is candidate number floor(k x total / n). Returns how many were picked.
fn spread_pick(out: &mut Bitmap, candidates: &Bitmap, n: usize) -> usize {
    let total = candidates.count_ones() as usize;
    let n = n.min(total);
    let (mut k, mut idx, mut at) = (0usize, 0usize, 0usize);
    while k < n {
        let p = candidates.next_set(at).expect("n <= the candidates");
        if idx == ((k as u128 * total as u128) / n as u128) as usize {
            out.set(p);
            k += 1;
        }
        idx += 1;
        at = p + 1;
    }
    n
}

/// Clear `zero` bits of `region`, spread evenly over its pages outside the working set first, then
/// over those inside it (the part of `working_set` that lies in `region`).
fn spread_outside_first(b: &mut Bitmap, region: std::ops::Range<usize>, working_set: std::ops::Range<usize>, zero: usize) {
    let ws = working_set.start.clamp(region.start, region.end)..working_set.end.clamp(region.start, region.end);
    let outside = [region.start..ws.start, ws.end..region.end];
    let outside_len = region.len() - ws.len();
    let from_outside = zero.min(outside_len);
    spread_clear(b, &outside, outside_len, from_outside);
    spread_clear(b, std::slice::from_ref(&ws), ws.len(), zero - from_outside);
}

/// Clear `n` bits spread evenly over the concatenated `ranges` (of total length `total`): the k-th
/// cleared position is floor(k x total / n), stepped in integers (no division per bit), and the bits
/// of one word cleared together.
fn spread_clear(b: &mut Bitmap, ranges: &[std::ops::Range<usize>], total: usize, n: usize) {
    if n == 0 || total == 0 {
        return;
    }
    let (step, rem) = (total / n, total % n);
    // pos = floor(k x total / n) as pos + frac / n, advanced by total / n per k.
    let (mut k, mut pos, mut frac) = (0usize, 0usize, 0usize);
    let mut base = 0usize;
    let mut word = (usize::MAX, 0u64);
    for r in ranges {
        let len = r.len();
        while k < n && pos < base + len {
            let page = r.start + pos - base;
            if page / 64 != word.0 {
                if word.1 != 0 {
                    b.clear_word_bits(word.0, word.1);
                }
                word = (page / 64, 0);
            }
            word.1 |= 1 << (page % 64);
            k += 1;
            pos += step;
            frac += rem;
            if frac >= n {
                frac -= n;
                pos += 1;
            }
        }
        base += len;
    }
    if word.1 != 0 {
        b.clear_word_bits(word.0, word.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_profile_puts_each_regions_zero_pages_in_that_region() {
        // 1000 pages in 4 regions of 250; the working set covers pages 100..400.
        let m = Memory::with_zero_profile(1000, 4096, &[0.5, 0.0, 1.0, 0.1], 100..400);
        let zeros_in = |r: std::ops::Range<usize>| r.filter(|&p| !m.nonzero.get(p)).count();
        assert_eq!([zeros_in(0..250), zeros_in(250..500), zeros_in(500..750), zeros_in(750..1000)], [125, 0, 250, 25]);
        // Region 0 has 100 pages outside the working set and needs 125 zero pages: all 100, then 25
        // of the working set's pages there.
        assert_eq!(zeros_in(0..100), 100);
        assert_eq!(zeros_in(100..250), 25);
        // A one-region profile is zero_fraction spread outside the working set first.
        let one = Memory::with_zero_profile(1000, 4096, &[0.25], 0..500);
        let spread = Memory::new(1000, 4096, 0.25, ZeroLayout::Spread, 0..500);
        assert!((0..1000).all(|p| one.nonzero.get(p) == spread.nonzero.get(p)));
    }

    #[test]
    fn untouched_pages_are_zero_pages_of_their_region() {
        let mut m = Memory::with_zero_profile(1000, 4096, &[0.5, 0.0, 1.0, 0.1], 100..400);
        m.mark_untouched(&[0.2, 0.0, 1.0, 0.1]);
        let u = m.untouched.clone().unwrap();
        let in_region = |r: std::ops::Range<usize>| r.filter(|&p| u.get(p)).count();
        assert_eq!([in_region(0..250), in_region(250..500), in_region(500..750), in_region(750..1000)], [50, 0, 250, 25]);
        // Every one is a zero page: the region's first in address order (outside the working set).
        assert!((0..1000).all(|p| !u.get(p) || !m.nonzero.get(p)));
        assert_eq!(in_region(0..100), 50);
    }

    #[test]
    fn free_pages_avoid_zero_pages_and_the_working_set() {
        let m = Memory::new(1000, 4096, 0.25, ZeroLayout::Spread, 0..500);
        // 300 free pages: the 250 non-zero pages outside the working set, then 50 of its zero pages.
        let f = free_pages(&m.nonzero, 0.3, 0..500);
        assert_eq!(f.count_ones(), 300);
        assert_eq!(f.count_and(&m.nonzero), 250);
        assert!((0..500).all(|p| !f.get(p)));
        // 100 free pages: non-zero ones only, spread over the 250.
        let f = free_pages(&m.nonzero, 0.1, 0..500);
        assert_eq!(f.count_and(&m.nonzero), 100);
        // 800: everything outside, then 300 of the working set.
        let f = free_pages(&m.nonzero, 0.8, 0..500);
        assert_eq!((f.count_ones(), (0..500).filter(|&p| f.get(p)).count()), (800, 300));
    }

    #[test]
    fn zero_pages_avoid_the_working_set() {
        let m = Memory::new(1000, 4096, 0.25, ZeroLayout::Spread, 0..500);
        assert_eq!(m.nonzero.count_ones(), 750);
        assert!((0..500).all(|p| m.nonzero.get(p)));
        let m = Memory::new(1000, 4096, 0.75, ZeroLayout::Spread, 0..500);
        assert_eq!(m.nonzero.count_ones(), 250);
    }

    #[test]
    fn top_layout_packs_zero_pages_at_the_highest_outside_addresses() {
        // Working set in the middle: 100 zero pages fill [900, 1000).
        let m = Memory::new(1000, 4096, 0.1, ZeroLayout::Top, 200..700);
        assert_eq!(m.nonzero.count_ones(), 900);
        assert!((900..1000).all(|p| !m.nonzero.get(p)) && (0..900).all(|p| m.nonzero.get(p)));
        // 400: all 300 above the working set, then the top 100 below it.
        let m = Memory::new(1000, 4096, 0.4, ZeroLayout::Top, 200..700);
        let zero: Vec<usize> = (0..1000).filter(|&p| !m.nonzero.get(p)).collect();
        assert_eq!(zero, (100..200).chain(700..1000).collect::<Vec<_>>());
        // More than the outside: the rest at the top of the working set.
        let m = Memory::new(1000, 4096, 0.6, ZeroLayout::Top, 200..700);
        assert_eq!(m.nonzero.count_ones(), 400);
        assert!((600..700).all(|p| !m.nonzero.get(p)) && (200..600).all(|p| m.nonzero.get(p)));
    }

    #[test]
    fn spread_clear_puts_the_kth_zero_page_at_k_total_over_n() {
        for (total, n) in [(1000usize, 250usize), (1000, 999), (7, 3), (64 * 70 + 5, 1234), (100, 100)] {
            let mut b = Bitmap::full(total + 10);
            spread_clear(&mut b, &[3..3 + total / 2, 3 + total / 2..3 + total], total, n);
            let want: Vec<usize> = (0..n).map(|k| 3 + (k as u128 * total as u128 / n as u128) as usize).collect();
            let got: Vec<usize> = (0..total + 10).filter(|&p| !b.get(p)).collect();
            assert_eq!(got, want, "total {total}, n {n}");
        }
    }
}
