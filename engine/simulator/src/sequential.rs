//! Always-valid intervals, so a study may be looked at every day and stopped early without
//! inflating false launches: the mixture sequential probability ratio test (mSPRT) of Johari,
//! Pekelis and Walsh ("Always Valid Inference", Operations Research 2022) for an estimate that is
//! approximately normal with variance `V`, mixing over effects `N(0, τ²)`.
//!
//! The confidence sequence `Δ̂ ± √( V(V+τ²)/τ² · ln((V+τ²)/(V·α²)) )` covers the true effect at
//! every look simultaneously with probability `1 − α`. It is wider than the fixed-horizon
//! interval at the same look; that is the price of looking as often as one likes. `τ` is best
//! near the effects one hopes to find: the study's `min_effect`.

use crate::Verdict;

/// The mixing standard deviation when a study states no `min_effect`: 1% relative.
pub const DEFAULT_TAU: f64 = 0.01;

/// The half-width of the always-valid interval for an estimate of variance `variance` at
/// confidence `level`, mixing standard deviation `tau`.
pub fn half_width(variance: f64, level: f64, tau: f64) -> f64 {
    if variance <= 0.0 {
        return 0.0;
    }
    let alpha = 1.0 - level;
    let t2 = tau * tau;
    (variance * (variance + t2) / t2 * ((variance + t2) / (variance * alpha * alpha)).ln()).sqrt()
}

/// Daily looks at a study: a treatment concludes at the first look whose always-valid primary
/// interval excludes 0, and keeps the verdict of that look; the study may stop once every
/// treatment has concluded.
#[derive(Clone, Debug, Default)]
pub struct Looks {
    concluded: Vec<Option<(u32, Verdict)>>,
}

impl Looks {
    /// No looks yet at a study of `treatments` treatments.
    pub fn new(treatments: usize) -> Looks {
        Looks { concluded: vec![None; treatments] }
    }

    /// Takes the verdicts (one per treatment, from always-valid intervals) of the look at the end
    /// of study day `day`.
    pub fn look(&mut self, day: u32, verdicts: Vec<Verdict>) {
        for (slot, v) in self.concluded.iter_mut().zip(verdicts) {
            if slot.is_none() && v.primary.significant() {
                *slot = Some((day, v));
            }
        }
    }

    /// Whether every treatment has concluded.
    pub fn all_concluded(&self) -> bool {
        self.concluded.iter().all(Option::is_some)
    }

    /// The final verdict of each treatment with the day of the look it concluded at: a concluded
    /// one's from its look, the others' from `last` (the study's last look).
    pub fn finish(self, last: Vec<Verdict>) -> Vec<(Verdict, Option<u32>)> {
        self.concluded
            .into_iter()
            .zip(last)
            .map(|(done, last)| match done {
                Some((day, v)) => (v, Some(day)),
                None => (last, None),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wider_than_the_fixed_interval_and_shrinking_with_data() {
        let fixed = 1.959_964 * 0.01;
        let valid = half_width(0.01f64.powi(2), 0.95, 0.01);
        // By hand: V = τ² = 1e-4: √(2e-4 · ln(2/0.0025)) = √(2e-4 · 6.684612) = 0.036564.
        assert!((valid - 0.036_564).abs() < 1e-5, "{valid}");
        assert!(valid > fixed);
        assert!(half_width(0.005f64.powi(2), 0.95, 0.01) < valid);
        assert_eq!(half_width(0.0, 0.95, 0.01), 0.0);
    }
}
