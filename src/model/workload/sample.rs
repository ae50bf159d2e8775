//! The random draws behind the synthetic workloads: uniform page numbers (Lemire's method), Zipf
//! ranks, and the distinct pages that `n` uniform writes dirty in a region.

use crate::model::memory::Memory;
use crate::model::workload::SimRng;
use rand::Rng;
use rand::RngCore;
use rand_distr::Distribution;

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
/// `powf` per draw (most of a long Zipf run's time). Once a workload has drawn as many ranks as
/// there are pages, so that building it costs no more than the draws so far, an alias table
/// (rand_distr's `WeightedAliasIndex` over the weights `k^-s`) takes over: two uniform draws per
/// rank. Working sets above `ZIPF_ALIAS_MAX_PAGES` keep the first sampler (the table takes 12 bytes
/// a page). Both draw from the same distribution; the switch point depends only on the draw count,
/// so a run stays a pure function of its scenario and seed.
pub struct ZipfSampler {
    exact: rand_distr::Zipf<f64>,
    n: u64,
    exponent: f64,
    draws: u64,
    alias: Option<rand_distr::weighted::WeightedAliasIndex<f64>>,
}

/// 4 Mi pages (16 GiB of 4 KiB pages): a 48 MiB alias table at most.
const ZIPF_ALIAS_MAX_PAGES: u64 = 1 << 22;

impl ZipfSampler {
    pub fn new(n: u64, exponent: f64) -> Self {
        let exact = rand_distr::Zipf::new(n as f64, exponent).expect("exponent > 0 and n >= 1 are validated");
        ZipfSampler { exact, n, exponent, draws: 0, alias: None }
    }

    pub fn rank0(&mut self, rng: &mut SimRng) -> u64 {
        if let Some(a) = &self.alias {
            return a.sample(rng) as u64;
        }
        self.draws += 1;
        if self.draws == self.n && self.n <= ZIPF_ALIAS_MAX_PAGES {
            let weights: Vec<f64> = (1..=self.n).map(|k| (k as f64).powf(-self.exponent)).collect();
            self.alias = rand_distr::weighted::WeightedAliasIndex::new(weights).ok();
        }
        (self.exact.sample(rng) as u64).clamp(1, self.n) - 1
    }
}

/// `n` uniform writes over pages `[first, first + count)`.
pub fn write_uniform(first: u64, count: u64, n: u64, rng: &mut SimRng, mem: &mut Memory) {
    if n == 0 || count == 0 {
        return;
    }
    // Few writes: draw each one (exact). Many: each page is written with probability
    // 1 - (1 - 1/N)^n; draw the written pages by geometric skipping.
    if n * 8 < count {
        // One sampler for all n draws: its rejection zone is computed once, not per draw.
        let d = Below::new(0, count);
        for _ in 0..n {
            mem.write((first + d.sample(rng)) as usize);
        }
        return;
    }
    let log_miss = n as f64 * (-1.0 / count as f64).ln_1p(); // ln((1 - 1/N)^n)
    if log_miss < -40.0 {
        mem.write_range(first as usize, (first + count) as usize);
        return;
    }
    // Gaps between written pages are geometric with ln(1 - p) = log_miss.
    let ln_q = log_miss;
    let mut i: u64 = 0;
    loop {
        let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
        let skip = (u.ln() / ln_q).floor();
        if !skip.is_finite() || skip >= (count - i) as f64 {
            break;
        }
        i += skip as u64;
        mem.write((first + i) as usize);
        i += 1;
        if i >= count {
            break;
        }
    }
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

    #[test]
    fn zipf_keeps_its_distribution_after_the_switch_to_the_alias_table() {
        let (n, exponent) = (1000u64, 1.0);
        let mut z = ZipfSampler::new(n, exponent);
        let mut rng = SimRng::seed_from_u64(3);
        for _ in 0..n - 1 {
            z.rank0(&mut rng);
        }
        assert!(z.alias.is_none(), "the exact sampler serves the first n - 1 draws");
        z.rank0(&mut rng);
        assert!(z.alias.is_some(), "the n-th draw builds the table");
        let draws = 400_000;
        let mut counts = vec![0u64; n as usize];
        for _ in 0..draws {
            counts[z.rank0(&mut rng) as usize] += 1;
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
}
