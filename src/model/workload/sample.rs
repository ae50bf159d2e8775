//! The random draws behind the synthetic workloads: uniform page numbers (Lemire's method), Zipf
//! ranks, and the distinct pages that `n` uniform writes dirty in a region.

use crate::model::bitmap::{Bitmap, CHUNK_BITS, select_in_word};
use crate::model::memory::Memory;
use crate::model::workload::SimRng;
use rand::Rng;
use rand::RngCore;
use rand_distr::Distribution;
use std::sync::{Arc, Mutex};

/// Uniform integers in `[lo, hi)` by Lemire's multiply-and-reject, with the rejection zone computed
/// once. Written here rather than using `rand::distr::Uniform` because this is the hottest loop of
/// a run and the crate's sampler is not always inlined (measured: about 30 % of a 64 GiB run's
/// instructions when it was not).
#[derive(Debug, Clone, Copy)]
pub struct Below {
    lo: u64,
    n: u64,
    /// Products whose low half is below this are rejected (2^64 mod n).
    reject_below: u64,
}

impl Below {
    pub fn new(lo: u64, hi: u64) -> Self {
        let n = hi - lo;
        assert!(n > 0, "an empty range");
        Below { lo, n, reject_below: n.wrapping_neg() % n }
    }

    #[inline(always)]
    pub fn sample(&self, rng: &mut SimRng) -> u64 {
        loop {
            let m = u128::from(rng.next_u64()) * u128::from(self.n);
            if (m as u64) >= self.reject_below {
                return self.lo + (m >> 64) as u64;
            }
        }
    }
}

/// Zipf ranks over `1..=n`, returned 0-based. rand_distr's rejection-inversion sampler costs two
/// `powf` per draw (most of a long Zipf run's time); an alias table (rand_distr's
/// `WeightedAliasIndex` over the weights `k^-s`) costs two uniform draws per rank but 12 bytes a
/// page to build. Working sets up to `ZIPF_ALIAS_EAGER_PAGES` use the table from the first draw,
/// built once per process for each (pages, exponent) and shared (`shared_alias`: a sweep's runs
/// build it once). Larger ones start with the exact sampler and switch to a table of their own
/// once they have drawn as many ranks as there are pages, so that building it costs no more than
/// the draws so far (up to `ZIPF_ALIAS_MAX_PAGES`). Both draw from the same distribution, and
/// which one serves a draw depends only on the working set and the draw count, so a run stays a
/// pure function of its scenario and seed.
pub struct ZipfSampler {
    exact: rand_distr::Zipf<f64>,
    n: u64,
    exponent: f64,
    draws: u64,
    alias: Option<Arc<rand_distr::weighted::WeightedAliasIndex<f64>>>,
    /// ln(1 - w_k) for each rank's probability w_k, for `write_many`'s page-by-page draw (made on
    /// first use).
    log_miss: Option<Vec<f64>>,
    /// For `write_fresh` (made on first use): per block of 64 ranks, the probability of its first
    /// (most likely) rank; and scratch, per block, the ranks clean at the span's start and the
    /// running sum of the blocks' bounds.
    block_top: Option<Arc<Vec<f64>>>,
    fresh_masks: Vec<u64>,
    fresh_sums: Vec<f64>,
}

/// `write_fresh` is tried for spans of at least pages / this many writes (its pass over the blocks
/// then costs at most a few per cent of drawing them one by one).
const ZIPF_FRESH_MIN_DIVISOR: u64 = 64;
/// ... and used when the clean pages' bound is at most this share of the writes' law.
const ZIPF_FRESH_MAX_SHARE: f64 = 0.25;

/// A span's writes are drawn page by page (`write_many`) once they outnumber the pages this many
/// times: one draw per page then costs less than one per write.
const ZIPF_PAGEWISE_FACTOR: u64 = 4;

/// 1 Mi pages (4 GiB of 4 KiB pages): a 12 MiB table, built in milliseconds.
pub const ZIPF_ALIAS_EAGER_PAGES: u64 = 1 << 20;
/// 4 Mi pages (16 GiB of 4 KiB pages): a 48 MiB alias table at most.
const ZIPF_ALIAS_MAX_PAGES: u64 = 1 << 22;
/// Shared tables kept at most (the oldest goes first).
const ZIPF_SHARED_TABLES: usize = 4;

fn alias_table(n: u64, exponent: f64) -> Option<rand_distr::weighted::WeightedAliasIndex<f64>> {
    let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-exponent)).collect();
    rand_distr::weighted::WeightedAliasIndex::new(weights).ok()
}

/// Values kept per process by key (`keep_shared`).
pub type Shared<K, V> = Mutex<Vec<(K, V)>>;

/// The value `build` makes for `key`, kept in `cache` for the last `ZIPF_SHARED_TABLES` keys (the
/// oldest goes first). What is kept must be a pure function of its key, so that sharing it between
/// VMs, runs and threads changes no draw. Built outside the lock: two threads may build the same
/// value once each, never wait.
pub fn keep_shared<K: PartialEq + Copy, V: Clone>(cache: &Shared<K, V>, key: K, build: impl FnOnce() -> Option<V>) -> Option<V> {
    let lock = || cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, v)) = lock().iter().find(|(k, _)| *k == key) {
        return Some(v.clone());
    }
    let v = build()?;
    let mut kept = lock();
    if kept.len() >= ZIPF_SHARED_TABLES {
        kept.remove(0);
    }
    kept.push((key, v.clone()));
    Some(v)
}

/// The process's table for (n, exponent). (Post-copy's guest draws from it too:
/// `model::remote_access`.)
pub fn shared_alias(n: u64, exponent: f64) -> Option<Arc<rand_distr::weighted::WeightedAliasIndex<f64>>> {
    static CACHE: Shared<(u64, u64), Arc<rand_distr::weighted::WeightedAliasIndex<f64>>> = Mutex::new(Vec::new());
    keep_shared(&CACHE, (n, exponent.to_bits()), || alias_table(n, exponent).map(Arc::new))
}

/// Per block of 64 ranks of Zipf(n, exponent), the probability of its first rank (for
/// `write_fresh`): a `powf` a rank to normalize, so kept per process, as the alias tables are.
fn shared_block_top(n: u64, exponent: f64) -> Arc<Vec<f64>> {
    static CACHE: Shared<(u64, u64), Arc<Vec<f64>>> = Mutex::new(Vec::new());
    let build = || {
        let h: f64 = (1..=n).map(|k| (k as f64).powf(-exponent)).sum();
        Some(Arc::new((0..n.div_ceil(64)).map(|b| ((64 * b + 1) as f64).powf(-exponent) / h).collect()))
    };
    keep_shared(&CACHE, (n, exponent.to_bits()), build).expect("always built")
}

impl ZipfSampler {
    pub fn new(n: u64, exponent: f64) -> Self {
        let mut z = Self::lazy(n, exponent);
        if n <= ZIPF_ALIAS_EAGER_PAGES {
            z.alias = shared_alias(n, exponent);
        }
        z
    }

    /// The exact sampler until `n` draws, then a table of its own.
    fn lazy(n: u64, exponent: f64) -> Self {
        let exact = rand_distr::Zipf::new(n as f64, exponent).expect("exponent > 0 and n >= 1 are validated");
        ZipfSampler {
            exact,
            n,
            exponent,
            draws: 0,
            alias: None,
            log_miss: None,
            block_top: None,
            fresh_masks: Vec::new(),
            fresh_sums: Vec::new(),
        }
    }

    /// `writes` Zipf writes over pages `[first, first + n)` (rank k on page first + k). Few writes are
    /// drawn one by one; many (more than `ZIPF_PAGEWISE_FACTOR` per page) page by page: rank k is
    /// written with probability 1 - (1 - w_k)^writes, its exact marginal, independently of the
    /// others (as `Dense` does for uniform writes), so the cost follows the pages, not the writes.
    /// The ranks certain to be written (probability within e^-40 of 1) are a prefix, written as a
    /// range.
    pub fn write_many(&mut self, first: u64, writes: u64, rng: &mut SimRng, mem: &mut Memory) {
        if writes < ZIPF_PAGEWISE_FACTOR.saturating_mul(self.n) {
            if writes >= self.n / ZIPF_FRESH_MIN_DIVISOR && self.write_fresh(first, writes, rng, mem, false) {
                return;
            }
            for _ in 0..writes {
                mem.write((first + self.rank0(rng)) as usize);
            }
            return;
        }
        let (n, s) = (self.n, self.exponent);
        let log_miss = self.log_miss.get_or_insert_with(|| {
            let h: f64 = (1..=n).map(|k| (k as f64).powf(-s)).sum();
            (1..=n).map(|k| (-(k as f64).powf(-s) / h).ln_1p()).collect()
        });
        let w = writes as f64;
        let sure = log_miss.partition_point(|&l| w * l < -40.0);
        if sure > 0 {
            mem.write_range(first as usize, (first + sure as u64) as usize);
        }
        for (k, &l) in log_miss.iter().enumerate().skip(sure) {
            let p = -(w * l).exp_m1();
            if rng.random::<f64>() < p {
                mem.write((first + k as u64) as usize);
            }
        }
    }

    /// `writes` Zipf writes over pages `[first, first + n)`, drawing only those that can land on a
    /// page clean at the span's start (exact in law, as `Uniform::Fresh` is for uniform writes): a
    /// write that lands on a dirty page changes nothing. Per block of 64 ranks, its clean ranks
    /// times the probability of its first rank bound their share; a write is a candidate with the
    /// sum B of those bounds (the writes until the next candidate are geometric), the candidate's
    /// block is drawn by its bound, its rank uniformly among the block's clean ranks and accepted
    /// with w_k / w_first, so each clean rank k is hit with its own w_k. The cost follows the
    /// candidates (about B times the writes) plus one pass over the blocks. Used when B is at most
    /// `ZIPF_FRESH_MAX_SHARE` (or `force`); returns whether it drew the span.
    fn write_fresh(&mut self, first: u64, writes: u64, rng: &mut SimRng, mem: &mut Memory, force: bool) -> bool {
        let (n, s) = (self.n, self.exponent);
        let blocks = n.div_ceil(64) as usize;
        let top = self.block_top.get_or_insert_with(|| shared_block_top(n, s));
        self.fresh_masks.clear();
        self.fresh_sums.clear();
        let mut bound = 0.0;
        for (b, &t) in top.iter().enumerate() {
            let lo = first + 64 * b as u64;
            let len = (n - 64 * b as u64).min(64);
            let clean = !dirty_word(&mem.dirty_log, lo) & (u64::MAX >> (64 - len));
            bound += clean.count_ones() as f64 * t;
            self.fresh_masks.push(clean);
            self.fresh_sums.push(bound);
        }
        if !(force || bound <= ZIPF_FRESH_MAX_SHARE) {
            return false;
        }
        if bound <= 0.0 {
            return true; // every page is dirty: no write changes anything
        }
        let ln_miss = (-bound.min(1.0)).ln_1p();
        let mut left = writes;
        loop {
            // The writes up to and including the next candidate.
            let gap =
                if bound >= 1.0 { 1 } else { 1 + ((1.0 - rng.random::<f64>()).ln() / ln_miss).floor().min(u64::MAX as f64 / 2.0) as u64 };
            if gap > left {
                return true;
            }
            left -= gap;
            let x = rng.random::<f64>() * bound;
            let b = self.fresh_sums.partition_point(|&c| c <= x).min(blocks - 1);
            let mask = self.fresh_masks[b];
            if mask == 0 {
                continue; // only by rounding at a block's edge
            }
            let bit = select_in_word(mask, rng.random_range(0..mask.count_ones()));
            let k = 64 * b as u64 + bit as u64;
            if rng.random::<f64>() < ((64 * b + 1) as f64 / (k + 1) as f64).powf(s) {
                mem.write((first + k) as usize);
            }
        }
    }

    pub fn rank0(&mut self, rng: &mut SimRng) -> u64 {
        if let Some(a) = &self.alias {
            return a.sample(rng) as u64;
        }
        self.draws += 1;
        if self.draws == self.n && self.n <= ZIPF_ALIAS_MAX_PAGES {
            self.alias = alias_table(self.n, self.exponent).map(Arc::new);
        }
        (self.exact.sample(rng) as u64).clamp(1, self.n) - 1
    }
}

/// The 64 bits of `log` from bit `at` (bits past its end read as set: those pages do not exist).
fn dirty_word(log: &Bitmap, at: u64) -> u64 {
    let (wi, sh) = ((at / 64) as usize, at % 64);
    let word = |i: usize| if i < log.words_len() { log.word(i) } else { u64::MAX };
    if sh == 0 { word(wi) } else { word(wi) >> sh | word(wi + 1) << (64 - sh) }
}

/// `n` uniform writes over pages `[first, first + count)`.
///
/// What counts is which pages end up written, and a write to a page already in the dirty log
/// changes nothing, so the cost can follow the pages newly dirtied instead of the writes. Four ways,
/// whichever is expected to be cheapest (`plan_uniform`):
/// - `Each`: draw every write (exact); few writes into a mostly clean region.
/// - `Fresh`: only the writes that land on a clean page are drawn (exact): the number of writes
///   until the next one that does is geometric with p = clean / N, and the page it lands on is
///   uniform among the clean ones (`Bitmap::select_clear`); a mostly dirty region.
/// - `Sorted`: the same count of fresh writes, then that many clean pages chosen at once (a uniform
///   subset, by Floyd's algorithm) and found in one pass over the region; many fresh writes.
/// - `Dense`: each page written independently with probability p = 1 - (1 - 1/N)^n (the occupancy
///   law's mean), 64 pages at a time: a word whose bits are each set with probability p (rounded to
///   24 bits) is built from one random word per bit of p; many writes into a region.
///
/// `Fresh` and `Sorted` draw the same dirty set as `Each` in law (the test below checks it).
pub fn write_uniform(first: u64, count: u64, n: u64, rng: &mut SimRng, mem: &mut Memory) {
    if n == 0 || count == 0 {
        return;
    }
    let log_miss = n as f64 * (-1.0 / count as f64).ln_1p(); // ln((1 - 1/N)^n)
    if log_miss < -40.0 {
        mem.write_range(first as usize, (first + count) as usize);
        return;
    }
    let (s, e) = (first as usize, (first + count) as usize);
    let chunks = count.div_ceil(CHUNK_BITS as u64);
    // Counting the region's dirty pages costs a few steps a chunk: not worth it for a handful of
    // writes into a large region, which are cheapest drawn one by one anyway.
    let clean = if (n as f64 * EACH_COST) < (chunks * COUNT_COST) as f64 { count } else { count - mem.dirty_log.count_range(s, e) };
    if clean == 0 {
        return;
    }
    draw_uniform(plan_uniform(count, n, clean, log_miss), first, count, n, clean, rng, mem);
}

/// `write_uniform` the way `how` says; `clean` is the region's count of pages not in the dirty log
/// (for `Each` and `Dense` it is not used).
fn draw_uniform(how: Uniform, first: u64, count: u64, n: u64, clean: u64, rng: &mut SimRng, mem: &mut Memory) {
    let (s, e) = (first as usize, (first + count) as usize);
    let log_miss = n as f64 * (-1.0 / count as f64).ln_1p();
    match how {
        Uniform::Each => {
            // One sampler for all n draws: its rejection zone is computed once, not per draw.
            let d = Below::new(0, count);
            for _ in 0..n {
                mem.write((first + d.sample(rng)) as usize);
            }
        }
        Uniform::Fresh => {
            // The clean pages of each chunk of the region in a Fenwick tree, so that the page of a
            // given rank among the clean ones is found in O(log chunks) plus one chunk's words.
            let mut tree = ChunkTree::new(&mem.dirty_log, s, e);
            let mut left = n;
            let mut c = clean;
            while c > 0 {
                let g = writes_to_next_fresh(c, count, rng);
                if g > left {
                    break;
                }
                left -= g;
                let r = Below::new(0, c).sample(rng);
                let (k, within) = tree.find(r);
                let (cs, ce) = tree.span(k);
                let page = mem.dirty_log.select_clear(cs, ce, within).expect("the tree counts this chunk's clean pages");
                mem.write(page);
                tree.take(k);
                c -= 1;
            }
        }
        Uniform::Dense => {
            let p = -log_miss.exp_m1();
            let q = (p * DENSE_ONE as f64).round() as u32;
            if q >= DENSE_ONE {
                mem.write_range(s, e);
                return;
            }
            if q == 0 {
                return;
            }
            let (w0, w1) = (s / 64, (e - 1) / 64);
            for wi in w0..=w1 {
                let mut mask = bernoulli_word(q, rng);
                if wi == w0 {
                    mask &= u64::MAX << (s % 64);
                }
                if wi == w1 && e % 64 != 0 {
                    mask &= u64::MAX >> (64 - e % 64);
                }
                mem.write_word(wi, mask);
            }
        }
        Uniform::Sorted => {
            let mut left = n;
            let mut k = 0u64;
            while k < clean {
                let g = writes_to_next_fresh(clean - k, count, rng);
                if g > left {
                    break;
                }
                left -= g;
                k += 1;
            }
            for page in mem.dirty_log.clear_subset(s, e, clean, k, rng) {
                mem.write(page);
            }
        }
    }
}

/// `Dense`'s probabilities are multiples of 2^-24.
const DENSE_BITS: u32 = 24;
const DENSE_ONE: u32 = 1 << DENSE_BITS;

/// A word whose 64 bits are each set independently with probability `q / 2^24`. With q's binary
/// digits b_1 .. b_24 (most significant first), the digits are taken from the last: a 1 ORs a fresh
/// random word into the mask and a 0 ANDs one, so each bit's probability becomes (b + P) / 2, which
/// ends at q / 2^24 exactly. Trailing zero digits change nothing and are skipped.
fn bernoulli_word(q: u32, rng: &mut SimRng) -> u64 {
    debug_assert!(q > 0 && q < DENSE_ONE);
    let tz = q.trailing_zeros();
    let mut digits = q >> tz;
    let mut mask = rng.next_u64(); // the last non-zero digit, a 1: r | 0
    digits >>= 1;
    for _ in tz + 1..DENSE_BITS {
        let r = rng.next_u64();
        mask = if digits & 1 == 1 { r | mask } else { r & mask };
        digits >>= 1;
    }
    mask
}

/// The clean pages of each chunk of a region `[start, end)` of a bitmap, in a Fenwick tree: the
/// chunk that holds the clean page of a given rank, in O(log chunks).
struct ChunkTree {
    start: usize,
    end: usize,
    /// The region's first chunk.
    base: usize,
    tree: Vec<u64>,
}

impl ChunkTree {
    fn new(b: &crate::model::bitmap::Bitmap, start: usize, end: usize) -> Self {
        let base = start / CHUNK_BITS;
        let n = (end - 1) / CHUNK_BITS + 1 - base;
        let mut tree = vec![0u64; n + 1];
        for k in 0..n {
            let (cs, ce) = ((base + k) * CHUNK_BITS, (base + k + 1) * CHUNK_BITS);
            let (cs, ce) = (cs.max(start), ce.min(end));
            tree[k + 1] = (ce - cs) as u64 - b.count_range(cs, ce);
        }
        // Linear-time build: each node adds itself to its parent.
        for i in 1..=n {
            let parent = i + (i & i.wrapping_neg());
            if parent <= n {
                tree[parent] += tree[i];
            }
        }
        ChunkTree { start, end, base, tree }
    }

    /// The region's part of chunk `k` (counted from the region's first chunk).
    fn span(&self, k: usize) -> (usize, usize) {
        let cs = (self.base + k) * CHUNK_BITS;
        (cs.max(self.start), (cs + CHUNK_BITS).min(self.end))
    }

    /// The chunk holding the clean page of rank `r`, and that page's rank within the chunk.
    fn find(&self, mut r: u64) -> (usize, u64) {
        let n = self.tree.len() - 1;
        let mut pos = 0;
        let mut step = 1usize << (usize::BITS - 1 - n.leading_zeros());
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next] <= r {
                pos = next;
                r -= self.tree[next];
            }
            step >>= 1;
        }
        (pos, r)
    }

    /// One clean page of chunk `k` was written.
    fn take(&mut self, k: usize) {
        let mut i = k + 1;
        while i < self.tree.len() {
            self.tree[i] -= 1;
            i += i & i.wrapping_neg();
        }
    }
}

/// Rough costs, in instructions (callgrind on the 64 GiB benchmark; only their ratios matter): one
/// drawn write; counting a chunk; placing one fresh page by its rank (the geometric draw, the rank,
/// the tree, the chunk's words, the write), plus building the tree, a few per chunk; one fresh page
/// of a sorted subset; walking a chunk, and scanning the words of one that holds a chosen page.
const EACH_COST: f64 = 60.0;
const COUNT_COST: u64 = 6;
const FRESH_COST: f64 = 500.0;
const FRESH_CHUNK_COST: f64 = 3.0;
const SORTED_COST: f64 = 250.0;
const WALK_CHUNK_COST: f64 = 15.0;
const SCAN_CHUNK_COST: f64 = 512.0;
/// One word of `Dense`: 24 random words and the two bitmaps' words.
const DENSE_WORD_COST: f64 = 300.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Uniform {
    Each,
    Fresh,
    Sorted,
    Dense,
}

/// The cheapest way (expected) to draw `n` writes into `count` pages of which `clean` are not in
/// the dirty log.
fn plan_uniform(count: u64, n: u64, clean: u64, log_miss: f64) -> Uniform {
    let fresh = clean as f64 * -log_miss.exp_m1(); // expected pages newly dirtied
    let chunks = count.div_ceil(CHUNK_BITS as u64) as f64;
    let each = (Uniform::Each, n as f64 * EACH_COST);
    let by_rank = fresh * FRESH_COST + chunks * FRESH_CHUNK_COST;
    let sorted = fresh * (SORTED_COST + 10.0 * fresh.max(2.0).log2()) + chunks * WALK_CHUNK_COST + fresh.min(chunks) * SCAN_CHUNK_COST;
    let dense = count.div_ceil(64) as f64 * DENSE_WORD_COST;
    [(Uniform::Fresh, by_rank), (Uniform::Sorted, sorted), (Uniform::Dense, dense)]
        .into_iter()
        .fold(each, |best, x| if x.1 < best.1 { x } else { best })
        .0
}

/// Of writes uniform over `count` pages, `c` of them clean: how many it takes until one lands on a
/// clean page (that one included), geometric with p = c / count.
fn writes_to_next_fresh(c: u64, count: u64, rng: &mut SimRng) -> u64 {
    if c >= count {
        return 1;
    }
    let p = c as f64 / count as f64;
    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let extra = (u.ln() / (-p).ln_1p()).floor();
    if extra.is_finite() && extra < u64::MAX as f64 / 2.0 { extra as u64 + 1 } else { u64::MAX }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn below_draws_every_value_of_its_range_evenly() {
        let mut rng = SimRng::seed_from_u64(9);
        let b = Below::new(10, 17); // 7 values, not a power of two
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            let x = b.sample(&mut rng);
            assert!((10..17).contains(&x), "{x}");
            counts[(x - 10) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_500..10_500).contains(&c)), "{counts:?}");
        assert_eq!(Below::new(5, 6).sample(&mut rng), 5);
    }

    /// The top ranks' and the tail's shares of `draws` ranks from `z` against Zipf's law.
    fn assert_zipf(z: &mut ZipfSampler, rng: &mut SimRng, n: u64, exponent: f64) {
        let draws = 400_000;
        let mut counts = vec![0u64; n as usize];
        for _ in 0..draws {
            counts[z.rank0(rng) as usize] += 1;
        }
        let h: f64 = (1..=n).map(|k| (k as f64).powf(-exponent)).sum();
        let share = |k: u64| (k as f64).powf(-exponent) / h;
        // The top ranks (~53k, 27k, 18k draws) within 3 %, and the half of the ranks above 500.
        for k in 1..=3u64 {
            let got = counts[k as usize - 1] as f64 / draws as f64;
            assert!((got / share(k) - 1.0).abs() < 0.03, "rank {k}: {got} vs {}", share(k));
        }
        let tail: u64 = counts[500..].iter().sum();
        let want: f64 = (501..=n).map(share).sum();
        assert!((tail as f64 / draws as f64 / want - 1.0).abs() < 0.03, "tail {tail} vs {want}");
    }

    #[test]
    fn zipf_keeps_its_distribution_after_the_switch_to_the_alias_table() {
        let (n, exponent) = (1000u64, 1.0);
        let mut z = ZipfSampler::lazy(n, exponent);
        let mut rng = SimRng::seed_from_u64(3);
        for _ in 0..n - 1 {
            z.rank0(&mut rng);
        }
        assert!(z.alias.is_none(), "the exact sampler serves the first n - 1 draws");
        z.rank0(&mut rng);
        assert!(z.alias.is_some(), "the n-th draw builds the table");
        assert_zipf(&mut z, &mut rng, n, exponent);
    }

    #[test]
    fn many_zipf_writes_drawn_page_by_page_keep_each_page_s_chance() {
        // 64 pages, 1000 writes a span (over 4 per page): each rank written with probability
        // 1 - (1 - w_k)^1000, checked by counting over many spans.
        let (n, s, writes, spans) = (64u64, 1.0, 1000u64, 4000u32);
        let mut z = ZipfSampler::new(n, s);
        let mut rng = SimRng::seed_from_u64(7);
        let mut hits = vec![0u32; n as usize];
        for _ in 0..spans {
            let mut mem = Memory::new(n as usize, 4096, 0.0, crate::model::memory::ZeroLayout::Spread, 0..n as usize);
            z.write_many(0, writes, &mut rng, &mut mem);
            for (k, h) in hits.iter_mut().enumerate() {
                *h += u32::from(mem.dirty_log.get(k));
            }
        }
        let hsum: f64 = (1..=n).map(|k| (k as f64).powf(-s)).sum();
        for (k, &h) in hits.iter().enumerate() {
            let p = 1.0 - (1.0 - ((k + 1) as f64).powf(-s) / hsum).powf(writes as f64);
            let sd = (p * (1.0 - p) / spans as f64).sqrt();
            let got = h as f64 / spans as f64;
            assert!((got - p).abs() <= 5.0 * sd + 1e-9, "rank {k}: {got} vs {p}");
        }
        assert_eq!(hits[0], spans, "the top rank is certain");
    }

    #[test]
    fn zipf_writes_drawn_where_pages_are_clean_have_the_per_write_law() {
        use crate::model::memory::ZeroLayout;
        // 300 ranks on pages 37.. (blocks of 64 ranks across word edges), Zipf(0.99); the top 150
        // ranks and every third of the rest dirty already; 400 writes. One by one and fresh: the
        // law of the count newly dirtied and each clean page's chance to be hit.
        let (n, s, first, writes, trials) = (300u64, 0.99, 37u64, 400u64, 20_000u32);
        let dirty: Vec<u64> = (0..n).filter(|k| *k < 150 || k % 3 == 0).collect();
        let clean = n - dirty.len() as u64;
        let run = |fresh: bool| {
            let mut z = ZipfSampler::new(n, s);
            let mut rng = SimRng::seed_from_u64(if fresh { 5 } else { 6 });
            let mut sizes = vec![0u32; clean as usize + 1];
            let mut hits = vec![0u32; n as usize];
            for _ in 0..trials {
                let mut mem = Memory::new(1024, 4096, 0.0, ZeroLayout::Spread, 0..1024);
                dirty.iter().for_each(|&k| mem.write((first + k) as usize));
                if fresh {
                    assert!(z.write_fresh(first, writes, &mut rng, &mut mem, true));
                } else {
                    (0..writes).for_each(|_| mem.write((first + z.rank0(&mut rng)) as usize));
                }
                sizes[(mem.dirty_log.count_ones() - dirty.len() as u64) as usize] += 1;
                for k in 0..n {
                    hits[k as usize] += u32::from(mem.dirty_log.get((first + k) as usize));
                }
                assert_eq!(mem.dirty_log.count_range(0, first as usize), 0, "no page outside the working set");
            }
            (sizes, hits)
        };
        let ((sa, ha), (sb, hb)) = (run(false), run(true));
        let t = trials as f64;
        let tv: f64 = sa.iter().zip(&sb).map(|(&a, &b)| (a as f64 - b as f64).abs() / t).sum::<f64>() / 2.0;
        assert!(tv < 0.03, "total variation between the two laws of the count: {tv}");
        for k in 0..n as usize {
            let (a, b) = (ha[k] as f64 / t, hb[k] as f64 / t);
            let sd = (a.max(b) * (1.0 - a.min(b)) * 2.0 / t).sqrt();
            assert!((a - b).abs() <= 5.0 * sd + 1e-3, "rank {k}: one by one {a}, fresh {b}");
        }
    }

    #[test]
    fn small_zipf_working_sets_share_one_table_from_the_first_draw() {
        let (n, exponent) = (1000u64, 1.0);
        let (mut a, b) = (ZipfSampler::new(n, exponent), ZipfSampler::new(n, exponent));
        let (ta, tb) = (a.alias.clone().expect("a table at once"), b.alias.clone().expect("a table at once"));
        assert!(Arc::ptr_eq(&ta, &tb), "built once, shared");
        assert!(ZipfSampler::new(ZIPF_ALIAS_EAGER_PAGES + 1, exponent).alias.is_none(), "large ones start exact");
        assert_zipf(&mut a, &mut SimRng::seed_from_u64(4), n, exponent);
    }

    /// The law of the number of clean pages that `n` uniform writes over `count` pages newly dirty,
    /// `clean` of them clean to begin with: each write lands on a page not yet hit among the clean
    /// ones with probability (clean - hit) / count.
    fn fresh_law(count: usize, clean: usize, n: usize) -> Vec<f64> {
        let mut p = vec![0.0; clean + 1];
        p[0] = 1.0;
        for _ in 0..n {
            let mut q = vec![0.0; clean + 1];
            for (j, &pj) in p.iter().enumerate() {
                let fresh = (clean - j) as f64 / count as f64;
                q[j] += pj * (1.0 - fresh);
                if j < clean {
                    q[j + 1] += pj * fresh;
                }
            }
            p = q;
        }
        p
    }

    #[test]
    fn fresh_and_sorted_draws_have_the_per_write_law() {
        use crate::model::memory::ZeroLayout;
        // 40 pages at 100..140 of a 4-chunk memory (the region spans two chunks), 15 of them dirty
        // already; 30 writes. Each way: the law of the pages newly dirtied, and which pages.
        let (first, count, n) = (CHUNK_BITS as u64 - 20, 40u64, 30u64);
        let dirty: Vec<u64> = (0..count).filter(|k| k % 3 == 1 || *k > 34).map(|k| first + k).collect();
        let clean = count - dirty.len() as u64;
        let law = fresh_law(count as usize, clean as usize, n as usize);
        let trials = 20_000;
        for how in [Uniform::Each, Uniform::Fresh, Uniform::Sorted] {
            let mut rng = SimRng::seed_from_u64(11);
            let mut sizes = vec![0u64; clean as usize + 1];
            let mut hits = vec![0u64; count as usize];
            for _ in 0..trials {
                let mut mem = Memory::new(4 * CHUNK_BITS, 4096, 0.0, ZeroLayout::Spread, 0..4 * CHUNK_BITS);
                dirty.iter().for_each(|&p| mem.write(p as usize));
                draw_uniform(how, first, count, n, clean, &mut rng, &mut mem);
                let now = mem.dirty_log.count_ones() - dirty.len() as u64;
                sizes[now as usize] += 1;
                for k in 0..count {
                    if mem.dirty_log.get((first + k) as usize) {
                        hits[k as usize] += 1;
                    }
                }
                assert!(dirty.iter().all(|&p| mem.dirty_log.get(p as usize)));
            }
            // Total variation distance between the drawn law and the exact one: sampling noise
            // alone keeps it near 0.01 with 20000 trials.
            let tv: f64 = sizes.iter().zip(&law).map(|(&s, &p)| (s as f64 / trials as f64 - p).abs()).sum::<f64>() / 2.0;
            assert!(tv < 0.025, "{how:?}: total variation {tv}");
            // Every clean page is newly dirtied equally often.
            let mean = law.iter().enumerate().map(|(k, p)| k as f64 * p).sum::<f64>() / clean as f64;
            for k in 0..count {
                if !dirty.contains(&(first + k)) {
                    let f = hits[k as usize] as f64 / trials as f64;
                    assert!((f - mean).abs() < 0.025, "{how:?}: page {k} hit {f}, expected {mean}");
                }
            }
        }
    }

    #[test]
    fn dense_words_set_each_bit_with_the_rounded_probability() {
        let mut rng = SimRng::seed_from_u64(5);
        let words = 20_000u64;
        for p in [0.001, 0.1, 0.5, 0.632, 0.99] {
            let q = (p * DENSE_ONE as f64).round() as u32;
            let mut per_bit = [0u64; 64];
            for _ in 0..words {
                let w = bernoulli_word(q, &mut rng);
                for (b, c) in per_bit.iter_mut().enumerate() {
                    *c += w >> b & 1;
                }
            }
            let total: u64 = per_bit.iter().sum();
            let n = (words * 64) as f64;
            let sd = (p * (1.0 - p) / n).sqrt();
            let got = total as f64 / n;
            assert!((got - p).abs() < 5.0 * sd, "p {p}: {got}");
            // No bit position is favoured (each within 5 sd of its own count).
            let sd1 = (p * (1.0 - p) / words as f64).sqrt();
            assert!(per_bit.iter().all(|&c| (c as f64 / words as f64 - p).abs() < 5.0 * sd1), "p {p}: {per_bit:?}");
        }
    }

    #[test]
    fn dense_writes_keep_what_was_dirty_and_the_expected_share() {
        use crate::model::memory::ZeroLayout;
        // An unaligned region over two chunks, a third of it dirty already.
        let (first, count, n) = (CHUNK_BITS as u64 - 1000, 3000u64, 3000u64);
        let mut mem = Memory::new(4 * CHUNK_BITS, 4096, 0.0, ZeroLayout::Spread, 0..4 * CHUNK_BITS);
        for k in (0..count).step_by(3) {
            mem.write((first + k) as usize);
        }
        let before = mem.dirty_log.count_ones();
        let mut rng = SimRng::seed_from_u64(8);
        draw_uniform(Uniform::Dense, first, count, n, 0, &mut rng, &mut mem);
        assert!((0..count).step_by(3).all(|k| mem.dirty_log.get((first + k) as usize)));
        // Nothing outside the region.
        assert_eq!(mem.dirty_log.count_range(0, first as usize), 0);
        assert_eq!(mem.dirty_log.count_range((first + count) as usize, 4 * CHUNK_BITS), 0);
        // Each clean page written with probability 1 - (1 - 1/N)^n (about 0.632).
        let clean = count - before;
        let p = 1.0 - (1.0 - 1.0 / count as f64).powf(n as f64);
        let got = (mem.dirty_log.count_ones() - before) as f64 / clean as f64;
        assert!((got - p).abs() < 5.0 * (p * (1.0 - p) / clean as f64).sqrt(), "{got} vs {p}");
    }

    #[test]
    fn the_plan_follows_the_work() {
        let count = 262_144u64; // 1 GiB of 4 KiB pages
        let lm = |n: u64| n as f64 * (-1.0 / count as f64).ln_1p();
        // A few writes into a clean region: drawn one by one.
        assert_eq!(plan_uniform(count, 1000, count, lm(1000)), Uniform::Each);
        // Many into a clean region: 64 pages at a time.
        assert_eq!(plan_uniform(count, count, count, lm(count)), Uniform::Dense);
        // A few fresh pages left among many writes: only those are drawn.
        assert_eq!(plan_uniform(count, 1000, 100, lm(1000)), Uniform::Fresh);
        // Writes into a region with a twentieth left clean, about a thousand of them fresh: found
        // at once in one pass.
        assert_eq!(plan_uniform(count, 20_000, count / 20, lm(20_000)), Uniform::Sorted);
    }
}
