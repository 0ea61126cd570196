//! Seeded random streams. Every draw comes from a ChaCha8 stream keyed by (seed, purpose, two
//! indices), so a user's day never depends on iteration order, on which users share the run, or on
//! where a run was resumed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a stream is for; part of its key so that streams for different purposes never coincide.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Purpose {
    /// Users' and items' latent attributes.
    World = 1,
    /// A user's first visit day.
    FirstVisit = 2,
    /// One user's visit on one day of the logs.
    Logs = 3,
    /// One user's visit on one day of an experiment.
    Experiment = 4,
    /// Which arm a user falls in.
    Arms = 5,
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Combines a key and one more word into a new key.
pub(crate) fn mix(key: u64, word: u64) -> u64 {
    splitmix64(key ^ splitmix64(word))
}

/// The stream for (seed, purpose, a, b).
pub(crate) fn stream(seed: u64, purpose: Purpose, a: u64, b: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(mix(mix(seed, purpose as u64), a), b))
}

/// A uniform number in [0, 1) from a hash of (seed, purpose, a): no stream needed.
pub(crate) fn unit_hash(seed: u64, purpose: Purpose, a: u64) -> f64 {
    (mix(mix(seed, purpose as u64), a) >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal draw (Box–Muller; one of the pair is dropped to keep streams simple).
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]: ln never sees 0
    let u2: f64 = rng.gen::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// True with probability `p`.
pub(crate) fn bernoulli(rng: &mut ChaCha8Rng, p: f32) -> bool {
    rng.gen::<f32>() < p
}

/// Trials up to and including the first success, each succeeding with probability `p` (≥ 1).
pub(crate) fn geometric(rng: &mut ChaCha8Rng, p: f32) -> u32 {
    let p = f64::from(p.clamp(1e-4, 1.0));
    if p >= 1.0 {
        return 1;
    }
    let u: f64 = 1.0 - rng.gen::<f64>();
    let trials = 1.0 + (u.ln() / (1.0 - p).ln()).floor();
    trials.min(f64::from(u32::MAX / 2)) as u32
}

/// The logistic function.
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |seed, a| stream(seed, Purpose::Logs, a, 0).gen::<u64>();
        assert_eq!(draw(1, 2), draw(1, 2));
        assert_ne!(draw(1, 2), draw(1, 3));
        assert_ne!(draw(1, 2), draw(2, 2));
    }

    #[test]
    fn geometric_has_mean_one_over_p() {
        let mut rng = stream(7, Purpose::Logs, 0, 0);
        let n = 20_000;
        let mean = (0..n).map(|_| geometric(&mut rng, 0.25) as f64).sum::<f64>() / n as f64;
        assert!((mean - 4.0).abs() < 0.15, "mean {mean}");
    }

    #[test]
    fn normal_has_unit_variance() {
        let mut rng = stream(7, Purpose::World, 0, 0);
        let xs: Vec<f64> = (0..20_000).map(|_| f64::from(normal(&mut rng))).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "mean {mean} var {var}");
    }
}
