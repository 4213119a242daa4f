//! A small deterministic random source and exact allocation of totals.
//!
//! The generator promises byte-identical output for a seed on every platform and every future build,
//! so it carries its own generator (SplitMix64) instead of depending on a crate whose streams may change.

/// SplitMix64: fast, well mixed, and fully specified by its 64-bit state.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for one named part of the output, so that each part's stream depends only on
    /// the seed and its label, not on the order in which parts are generated.
    pub fn for_part(seed: u64, label: &str) -> Self {
        // FNV-1a over the label, then mixed with the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let mut rng = Rng(seed ^ h.rotate_left(17));
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range_f64(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Uniform integer in [lo, hi] (inclusive).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// A positive factor around 1 with a long right tail, for skewed sizes (log-normal, sigma given).
    pub fn lognormal(&mut self, sigma: f64) -> f64 {
        // Box-Muller from two uniforms; u1 is kept away from 0.
        let u1 = self.f64().max(1e-12);
        let u2 = self.f64();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (sigma * z - sigma * sigma / 2.0).exp()
    }

    /// An index drawn with probability proportional to `weights`.
    pub fn pick_weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// One element of a non-empty slice, uniformly.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

/// Splits `total` into integer parts proportional to `weights` that add up to `total` exactly
/// (largest remainder; ties go to the earlier index, so the result is deterministic).
pub fn allocate(total: u64, weights: &[f64]) -> Vec<u64> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let sum: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    let shares: Vec<f64> = if sum > 0.0 {
        weights
            .iter()
            .map(|w| w.max(0.0) / sum * total as f64)
            .collect()
    } else {
        vec![total as f64 / n as f64; n]
    };
    let mut parts: Vec<u64> = shares.iter().map(|s| s.floor() as u64).collect();
    let given: u64 = parts.iter().sum();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let ra = shares[a] - shares[a].floor();
        let rb = shares[b] - shares[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order
        .iter()
        .cycle()
        .take(total.saturating_sub(given) as usize)
    {
        parts[i] += 1;
    }
    parts
}

/// Like [`allocate`], but every part gets at least `min` (requires `total >= min * weights.len()`).
pub fn allocate_at_least(total: u64, weights: &[f64], min: u64) -> Vec<u64> {
    let floor = min * weights.len() as u64;
    allocate(total.saturating_sub(floor), weights)
        .into_iter()
        .map(|p| p + min)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_adds_up_exactly() {
        let parts = allocate(7086, &[0.34, 0.12, 0.11, 0.13, 0.10, 0.09, 0.11]);
        assert_eq!(parts.iter().sum::<u64>(), 7086);
        assert_eq!(parts[0], 2409);
        let parts = allocate_at_least(13837, &[1.0, 5.0, 0.0], 1);
        assert_eq!(parts.iter().sum::<u64>(), 13837);
        assert!(parts.iter().all(|&p| p >= 1));
    }

    #[test]
    fn streams_depend_on_seed_and_label_only() {
        let a: Vec<u64> = (0..3).map(|_| Rng::for_part(7, "x").next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::for_part(7, "x").next_u64(),
            Rng::for_part(7, "y").next_u64()
        );
        assert_ne!(
            Rng::for_part(7, "x").next_u64(),
            Rng::for_part(8, "x").next_u64()
        );
    }
}
