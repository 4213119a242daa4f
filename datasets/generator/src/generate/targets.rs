//! The totals the generator must hit, taken from the published figures and scaled.

use unionstat_datasets::published::{self, Qualifier};
use unionstat_datasets::rng::Rng;

/// Turns published figures into generation targets at a scale.
#[derive(Debug)]
pub struct Targets {
    scale: f64,
    rng: Rng,
}

impl Targets {
    /// Targets for `scale` (1 reproduces the article), drawing 多 figures with `seed`.
    pub fn new(scale: f64, seed: u64) -> Self {
        Targets {
            scale,
            rng: Rng::for_part(seed, "targets"),
        }
    }

    /// The scale factor.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// `x` scaled and rounded: volumes multiply with the scale.
    pub fn scaled(&self, x: f64) -> u64 {
        (x * self.scale).round().max(0.0) as u64
    }

    /// The total to generate for published figure `key`, scaled: exact figures exactly, 多 figures
    /// strictly inside their range, 以上 figures a little above.
    pub fn total(&mut self, key: &str) -> u64 {
        let Some(ind) = published::indicator(key) else {
            unreachable!("no published figure {key}");
        };
        match (ind.qualifier, ind.upper_bound) {
            (Qualifier::MoreThan, Some(upper)) => {
                let (lo, hi) = (ind.value * self.scale, upper * self.scale);
                let x = self
                    .rng
                    .range_f64(lo + 0.15 * (hi - lo), lo + 0.85 * (hi - lo));
                (x.round() as u64).clamp(lo as u64 + 1, hi.ceil() as u64 - 1)
            }
            (Qualifier::AtLeast, _) => self.scaled(ind.value * 1.01),
            _ => self.scaled(ind.value),
        }
    }
}
