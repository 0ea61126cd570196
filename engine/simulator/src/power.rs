//! Statistical power: the smallest relative effect a study can detect, and what it would take to
//! detect a smaller one.
//!
//! For a two-sided test at confidence `level` and power `1 − β`, an estimate with standard error
//! `se` detects effects of at least `MDE = (z_{(1+level)/2} + z_{1−β})·se` (e.g. 2.80·se at 95%
//! and 80%). Under the null the relative delta of two arms has `se² = CV²·(1/n_c + 1/n_t)`, `CV`
//! the per-unit coefficient of variation (linearised for ratio metrics), so `se ∝ 1/√n`.

use serde::{Deserialize, Serialize};

use crate::stats::normal_quantile;

/// The power the engine plans studies for.
pub const DEFAULT_POWER: f64 = 0.8;

/// The minimum detectable effect of an estimate with standard error `se`.
pub fn mde(se: f64, level: f64, power: f64) -> f64 {
    (normal_quantile(0.5 + level / 2.0) + normal_quantile(power)) * se
}

/// The standard error of a relative delta between arms of `n_control` and `n_treatment` units
/// whose per-unit coefficient of variation is `cv` (no effect assumed).
pub fn planned_se(cv: f64, n_control: usize, n_treatment: usize) -> f64 {
    cv * (1.0 / n_control.max(1) as f64 + 1.0 / n_treatment.max(1) as f64).sqrt()
}

/// Whether a study could see the effect a team cares about, and if not, what would make it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Power {
    /// The smallest relative effect the team cares about (`min_effect:`).
    pub min_effect: f64,
    /// The study's minimum detectable effect (relative).
    pub mde: f64,
    /// Whether `mde ≤ min_effect`.
    pub powered: bool,
    /// Units per arm the study had.
    pub units_per_arm: usize,
    /// Units per arm it would need for `mde = min_effect` (`se ∝ 1/√n`).
    pub units_needed_per_arm: usize,
    /// Days it would need at the same traffic, when more days help (`None`: they do not, or it
    /// could not be estimated).
    pub days_needed: Option<u32>,
}

impl Power {
    /// The power of a study with `units_per_arm` whose estimate has minimum detectable effect
    /// `mde`. `se_by_days` are (days observed, standard error) from looks at the same study, used to
    /// estimate how the standard error falls with more days (`se ∝ days^−b`).
    pub fn assess(min_effect: f64, mde: f64, units_per_arm: usize, days: u32, se_by_days: &[(u32, f64)]) -> Power {
        let ratio = (mde / min_effect).max(0.0);
        let units_needed_per_arm = (units_per_arm as f64 * ratio * ratio).ceil() as usize;
        Power {
            min_effect,
            mde,
            powered: mde <= min_effect,
            units_per_arm,
            units_needed_per_arm,
            days_needed: days_needed(ratio, days, se_by_days),
        }
    }

    /// One sentence for a person: the MDE, and what would make the study powered.
    pub fn sentence(&self) -> String {
        let pct = |x: f64| format!("{:.2}%", 100.0 * x);
        if self.powered {
            return format!("MDE {} ≤ min_effect {}", pct(self.mde), pct(self.min_effect));
        }
        let days = match self.days_needed {
            Some(d) => format!(" or about {d} days"),
            None => String::new(),
        };
        format!(
            "underpowered: MDE {} > min_effect {}; it needs about {} users per arm (has {}){days}",
            pct(self.mde),
            pct(self.min_effect),
            self.units_needed_per_arm,
            self.units_per_arm
        )
    }
}

/// Days for the standard error to shrink by `ratio`, from the slope of log se over log days.
fn days_needed(ratio: f64, days: u32, se_by_days: &[(u32, f64)]) -> Option<u32> {
    if ratio <= 1.0 {
        return Some(days);
    }
    let points: Vec<(f64, f64)> = se_by_days
        .iter()
        .filter(|(d, se)| *d > 0 && *se > 0.0 && se.is_finite())
        .map(|(d, se)| (f64::from(*d).ln(), se.ln()))
        .collect();
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    // se ∝ days^−b; below a small b more days barely help, so none is promised.
    let b = -sxy / sxx.max(1e-12);
    if b < 0.05 {
        return None;
    }
    let needed = f64::from(days) * ratio.powf(1.0 / b);
    (needed < 10_000.0).then(|| needed.ceil() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mde_by_hand() {
        // CV 1, 10,000 units per arm: se = √(2/10⁴) = 0.014142; (1.959964 + 0.841621)·se = 0.039620.
        let se = planned_se(1.0, 10_000, 10_000);
        assert!((se - 0.014_142_1).abs() < 1e-6);
        assert!((mde(se, 0.95, 0.8) - 0.039_620).abs() < 1e-5, "{}", mde(se, 0.95, 0.8));
        // 99% confidence, 90% power: (2.575829 + 1.281552)·se.
        assert!((mde(se, 0.99, 0.9) - 3.857_381 * se).abs() < 1e-5);
    }

    #[test]
    fn an_underpowered_study_says_what_would_power_it() {
        // MDE twice the target: four times the users; se falling as 1/√days: four times the days.
        let looks = [(7, 0.02), (14, 0.02 / 2f64.sqrt())];
        let p = Power::assess(0.01, 0.02, 5_000, 14, &looks);
        assert!(!p.powered);
        assert_eq!(p.units_needed_per_arm, 20_000);
        assert_eq!(p.days_needed, Some(56));
        assert_eq!(
            p.sentence(),
            "underpowered: MDE 2.00% > min_effect 1.00%; it needs about 20000 users per arm (has 5000) or about 56 days"
        );
        // When more days do not shrink the error, no number of days is promised.
        assert_eq!(Power::assess(0.01, 0.02, 5_000, 14, &[(7, 0.02), (14, 0.02)]).days_needed, None);
        assert!(Power::assess(0.01, 0.005, 5_000, 14, &looks).powered);
    }
}
