//! Post-copy's guest at the destination, drawn only where it can fault.
//!
//! During post-copy an access faults only if its page is missing or in flight, and that set only
//! shrinks (pages arrive; none leaves again). When the workload's accesses are independent draws
//! of a law known over blocks of pages (`Workload::access_pieces`: uniform over a few spans for
//! uniform, idle and hot/cold, and those in phases; Zipf's weights by rank), the spans are cut into
//! blocks; a block found free of missing and in-flight pages is retired for good. The number of
//! accesses until one lands in a live block is geometric, so the accesses that land in retired
//! blocks, which cannot fault and change nothing, are skipped in one draw instead of drawn one by
//! one. The accesses that are drawn have exactly the law they had: the live blocks in proportion
//! to their weight (a Fenwick tree over the blocks), the page uniform within its block (Zipf: by
//! its rank's weight, by rejection, or from Zipf's own sampler in the first block). A 1 TiB guest
//! at 100,000 accesses/s drew some 37 million accesses over its post-copy, one by one; it now draws
//! those that land in blocks not yet retired.
//!
//! The Fenwick tree is a few lines here: the crates that offer one either store integers only or
//! bring more than this needs.

use crate::model::bitmap::Bitmap;
use crate::model::page_set::PageSet;
use crate::model::workload::sample::{Shared, ZIPF_ALIAS_EAGER_PAGES, keep_shared, shared_alias};
use crate::model::workload::{AccessPieces, PageRange, SimRng};
use rand::Rng;
use rand_distr::Distribution;
use rand_distr::weighted::WeightedAliasIndex;
use std::sync::{Arc, Mutex};

/// Offsets per block at least; a large working set gets larger blocks so that there are at most
/// `MAX_BLOCKS` of them.
const BLOCK_OFFSETS: u64 = 4096;
const MAX_BLOCKS: u64 = 1 << 16;
/// Zipf draws from the whole law (and retries) while the live blocks hold at least this share.
const ALIAS_LIVE_SHARE: f64 = 0.25;

pub struct RemoteAccess {
    ws: PageRange,
    /// Per block: its first offset and its end (offsets of the working set).
    lo: Vec<u64>,
    hi: Vec<u64>,
    /// Per block: the probability that an access lands in it; 0 once retired.
    weight: Vec<f64>,
    /// Fenwick tree over `weight`.
    tree: Vec<f64>,
    /// The weight of every block, retired ones included (1 but for rounding).
    total: f64,
    live_weight: f64,
    live_blocks: usize,
    /// The law holds until this time (ns).
    pub until: u64,
    /// Zipf's exponent, and rand_distr's sampler over the first block's ranks (where the weights
    /// vary too much to draw by rejection from a uniform page).
    zipf: Option<(f64, rand_distr::Zipf<f64>)>,
    /// Zipf over a working set small enough for the process's alias table (`shared_alias`): the
    /// table and the block size. While the live blocks hold much of the law, a rank drawn from the
    /// whole law until it lands in one is the cheaper draw, with the same conditional law.
    alias: Option<(Arc<WeightedAliasIndex<f64>>, u64)>,
}

/// Each block's exact share of Zipf's law over `count` ranks (blocks of `size`): the sum of its
/// ranks' weights 1/(k+1)^e, normalized. A pure function of its arguments, kept per process for
/// the last few (a sweep's post-copy runs of one working set compute it once: a `powf` a rank).
fn zipf_blocks(count: u64, e: f64, size: u64) -> Arc<Vec<f64>> {
    static CACHE: Shared<(u64, u64, u64), Arc<Vec<f64>>> = Mutex::new(Vec::new());
    let build = || {
        let mut w: Vec<f64> =
            (0..count.div_ceil(size)).map(|b| (b * size..((b + 1) * size).min(count)).map(|k| ((k + 1) as f64).powf(-e)).sum()).collect();
        let h: f64 = w.iter().sum();
        w.iter_mut().for_each(|x| *x /= h);
        Some(Arc::new(w))
    };
    keep_shared(&CACHE, (count, e.to_bits(), size), build).expect("always built")
}

impl RemoteAccess {
    pub fn new(law: &AccessPieces) -> Self {
        let mut s = RemoteAccess {
            ws: law.working_set,
            lo: Vec::new(),
            hi: Vec::new(),
            weight: Vec::new(),
            tree: Vec::new(),
            total: 0.0,
            live_weight: 0.0,
            live_blocks: 0,
            until: law.until,
            zipf: None,
            alias: None,
        };
        let count: u64 = law.pieces.iter().map(|(r, _)| r.end - r.start).sum();
        let size = BLOCK_OFFSETS.max(count.div_ceil(MAX_BLOCKS));
        for (r, w) in &law.pieces {
            let n = r.end - r.start;
            if n == 0 {
                continue;
            }
            let mut a = r.start;
            while a < r.end {
                let b = (a + size).min(r.end);
                let bw = w * (b - a) as f64 / n as f64;
                s.lo.push(a);
                s.hi.push(b);
                s.weight.push(if bw > 0.0 { bw } else { 0.0 });
                a = b;
            }
        }
        if let Some(e) = law.zipf {
            s.weight.copy_from_slice(&zipf_blocks(count, e, size));
            let first = s.hi.first().copied().unwrap_or(1).max(1);
            s.zipf = rand_distr::Zipf::new(first as f64, e).ok().map(|z| (e, z));
            if count <= ZIPF_ALIAS_EAGER_PAGES {
                s.alias = shared_alias(count, e).map(|a| (a, size));
            }
        }
        s.total = s.weight.iter().sum();
        s.live_weight = s.total;
        s.live_blocks = s.weight.iter().filter(|&&w| w > 0.0).count();
        // Build the tree in O(n).
        s.tree = s.weight.clone();
        for i in 0..s.tree.len() {
            let j = i | (i + 1);
            if j < s.tree.len() {
                s.tree[j] += s.tree[i];
            }
        }
        s
    }

    /// Whether no block is live: no access can fault while this law holds.
    pub fn all_retired(&self) -> bool {
        self.live_blocks == 0 || self.live_weight <= 0.0
    }

    /// How many accesses, counting the last, until the first that lands in a live block: geometric
    /// with the live blocks' share of the weight. Call only when some block is live.
    pub fn accesses_to_next_live(&self, rng: &mut SimRng) -> u64 {
        let p = (self.live_weight / self.total).min(1.0);
        if p >= 1.0 {
            return 1;
        }
        let u = 1.0 - rng.random::<f64>(); // in (0, 1]
        let k = (u.ln() / (-p).ln_1p()).floor();
        if k >= u64::MAX as f64 / 2.0 { u64::MAX / 2 } else { 1 + k as u64 }
    }

    /// An access that landed in a live block: the block (by weight) and the page (uniform in it).
    pub fn draw(&self, rng: &mut SimRng) -> (usize, usize) {
        if let Some((alias, size)) = &self.alias
            && self.live_weight >= ALIAS_LIVE_SHARE * self.total
        {
            loop {
                let k = alias.sample(rng) as u64;
                let b = (k / size) as usize;
                if self.weight[b] > 0.0 {
                    return (b, self.ws.page(k) as usize);
                }
            }
        }
        let x = rng.random::<f64>() * self.live_weight;
        let b = self.find(x);
        let (lo, hi) = (self.lo[b], self.hi[b]);
        let off = match &self.zipf {
            None => rng.random_range(lo..hi),
            // The first block: Zipf over its ranks directly.
            Some((_, head)) if lo == 0 => (head.sample(rng) as u64).clamp(1, hi) - 1,
            // Later blocks: a uniform rank, kept with its weight over the block's first (at least
            // ((lo + 1) / hi)^e, a half for the second block of 4096 at e = 1).
            Some((e, _)) => loop {
                let k = rng.random_range(lo..hi);
                if rng.random::<f64>() < ((lo + 1) as f64 / (k + 1) as f64).powf(*e) {
                    break k;
                }
            },
        };
        (b, self.ws.page(off) as usize)
    }

    /// After an access to `block` found its page present: retire the block if none of its pages
    /// is missing or in flight (it never will be again).
    pub fn retire_if_present(&mut self, block: usize, missing: &Bitmap, in_flight: &PageSet) {
        if self.weight[block] == 0.0 {
            return;
        }
        let first = self.ws.page(self.lo[block]) as usize;
        let end = self.ws.page(self.hi[block] - 1) as usize + 1;
        if missing.count_range(first, end) == 0 && !in_flight.any_in(first, end) {
            let w = std::mem::take(&mut self.weight[block]);
            self.live_blocks -= 1;
            self.live_weight = if self.live_blocks == 0 { 0.0 } else { (self.live_weight - w).max(0.0) };
            let mut i = block;
            while i < self.tree.len() {
                self.tree[i] -= w;
                i |= i + 1;
            }
        }
    }

    /// The block in which the running sum of weights passes `x` (the last live block if rounding
    /// puts `x` past the end).
    fn find(&self, mut x: f64) -> usize {
        let n = self.tree.len();
        let mut pos = 0usize; // blocks before `pos` sum to at most x
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next - 1] <= x {
                x -= self.tree[next - 1];
                pos = next;
            }
            step /= 2;
        }
        if pos < n && self.weight[pos] > 0.0 {
            return pos;
        }
        // Rounding: the nearest live block before (or after) it.
        (0..pos.min(n)).rev().chain(pos.min(n)..n).find(|&i| self.weight[i] > 0.0).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn law(pieces: Vec<(std::ops::Range<u64>, f64)>, count: u64) -> AccessPieces {
        AccessPieces { working_set: PageRange::contiguous(100, count), pieces, zipf: None, until: u64::MAX }
    }

    #[test]
    fn live_draws_follow_the_pieces_weights() {
        // Hot 0..4096 with 0.9, cold 4096..40960 with 0.1: blocks of 4096 offsets.
        let mut s = RemoteAccess::new(&law(vec![(0..4096, 0.9), (4096..40960, 0.1)], 40960));
        assert_eq!(s.lo.len(), 10);
        let mut rng = SimRng::seed_from_u64(1);
        let n = 200_000;
        let hot = (0..n).filter(|_| s.draw(&mut rng).1 < 100 + 4096).count();
        assert!((hot as f64 / n as f64 - 0.9).abs() < 0.005, "{hot}");
        // Retire the hot block: every draw is cold now, uniform over the nine cold blocks, and an
        // access lands in a live block with probability 0.1.
        s.retire_if_present(0, &Bitmap::new(100 + 40960), &PageSet::default());
        assert!((s.live_weight - 0.1).abs() < 1e-12);
        let mut per_block = [0u32; 10];
        for _ in 0..90_000 {
            let (b, page) = s.draw(&mut rng);
            assert!(b > 0 && (100 + 4096..100 + 40960).contains(&page));
            per_block[b] += 1;
        }
        assert!(per_block[1..].iter().all(|&c| (10_000 - 400..10_000 + 400).contains(&c)), "{per_block:?}");
        let mean = (0..50_000).map(|_| s.accesses_to_next_live(&mut rng)).sum::<u64>() as f64 / 50_000.0;
        assert!((mean - 10.0).abs() < 0.2, "{mean}");
    }

    #[test]
    fn zipf_draws_follow_the_ranks_weights_in_every_block() {
        // 3 blocks of 4096 and a short one; Zipf(0.9). Buckets of ranks 0, 1, 2-3, 4-7, ... and
        // the block edges: each bucket drawn as often as its exact share, within 5 standard errors.
        let (n, e) = (3 * 4096 + 100u64, 0.9);
        let law = AccessPieces { working_set: PageRange::contiguous(100, n), pieces: vec![(0..n, 1.0)], zipf: Some(e), until: u64::MAX };
        let mut s = RemoteAccess::new(&law);
        assert_eq!(s.lo.len(), 4);
        let w: Vec<f64> = (0..n).map(|k| ((k + 1) as f64).powf(-e)).collect();
        let h: f64 = w.iter().sum();
        let mut edges: Vec<u64> = (0..14).map(|j| 1u64 << j).chain([4096, 6000, 8192, 12288]).collect();
        edges.sort_unstable();
        edges.dedup();
        let bucket = |k: u64| edges.partition_point(|&x| x <= k);
        let check = |s: &RemoteAccess, from: u64, rng: &mut SimRng| {
            let draws = 300_000;
            let mut got = vec![0u32; edges.len() + 1];
            for _ in 0..draws {
                let (_, page) = s.draw(rng);
                let k = page as u64 - 100;
                assert!(k >= from && k < n);
                got[bucket(k)] += 1;
            }
            let mass: f64 = w[from as usize..].iter().sum::<f64>() / h;
            let mut want = vec![0.0; edges.len() + 1];
            for k in from..n {
                want[bucket(k)] += w[k as usize] / h / mass;
            }
            for (i, (&g, &p)) in got.iter().zip(&want).enumerate() {
                let f = g as f64 / draws as f64;
                let sd = (p * (1.0 - p) / draws as f64).sqrt();
                assert!((f - p).abs() <= 5.0 * sd + 1e-4, "bucket {i} from rank {from}: {f} against {p}");
            }
        };
        let mut rng = SimRng::seed_from_u64(4);
        check(&s, 0, &mut rng);
        // The first block retired: the rest keep their law, and the accesses to the next live block
        // are geometric with the retired block's complement.
        s.retire_if_present(0, &Bitmap::new(100 + n as usize), &PageSet::default());
        check(&s, 4096, &mut rng);
        let rest: f64 = w[4096..].iter().sum::<f64>() / h;
        let mean = (0..50_000).map(|_| s.accesses_to_next_live(&mut rng)).sum::<u64>() as f64 / 50_000.0;
        assert!((mean * rest - 1.0).abs() < 0.03, "{mean} accesses per live one, expected {}", 1.0 / rest);
    }

    #[test]
    fn a_block_with_a_missing_or_in_flight_page_stays_live() {
        let mut s = RemoteAccess::new(&law(vec![(0..8192, 1.0)], 8192));
        let mut missing = Bitmap::new(100 + 8192);
        let mut in_flight = PageSet::default();
        missing.set(100 + 4095);
        in_flight.take_from(&mut vec![100 + 4096]);
        s.retire_if_present(0, &missing, &in_flight);
        s.retire_if_present(1, &missing, &in_flight);
        assert_eq!(s.live_blocks, 2);
        missing.clear(100 + 4095);
        s.retire_if_present(0, &missing, &in_flight);
        assert_eq!(s.live_blocks, 1);
        assert!((0..1000).all(|_| s.draw(&mut SimRng::seed_from_u64(2)).0 == 1));
        in_flight.clear();
        s.retire_if_present(1, &missing, &in_flight);
        assert!(s.all_retired());
    }

    #[test]
    fn a_large_working_set_has_at_most_max_blocks() {
        let s = RemoteAccess::new(&law(vec![(0..1 << 28, 1.0)], 1 << 28));
        assert!(s.lo.len() as u64 <= MAX_BLOCKS && s.lo.len() as u64 >= MAX_BLOCKS / 2);
        assert!((s.total - 1.0).abs() < 1e-9);
    }
}
