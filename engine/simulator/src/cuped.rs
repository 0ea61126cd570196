//! CUPED (Deng, Xu, Kohavi and Walker, "Improving the Sensitivity of Online Controlled Experiments
//! by Utilizing Pre-Experiment Data", WSDM 2013): each unit's value is adjusted by its value of the
//! same metric before the study, `Y* = Y − θ·(X_pre − E[X_pre])`, which keeps the estimate unbiased
//! (the pre-period is unaffected by the treatment) and shrinks its variance by `1 − ρ²`, `ρ` the
//! correlation of the two.
//!
//! Ratio metrics are adjusted on their linearisation (Deng et al. 2018): for an arm with ratio
//! `R = ΣY/ΣX`, unit `i` contributes `l_i = (y_i − R·x_i)/X̄`, whose sample variance over `n` is
//! the delta-method variance of `R`; the pre-period is linearised the same way around the pooled
//! pre-period ratio. `θ` is pooled over arms (within-arm covariance over within-arm variance), so
//! every arm is adjusted by the same rule.

use crate::synthesis::{Estimate, SynthesisError, Units};

/// Per-arm estimates of one metric, adjusted by the pre-period covariate.
#[derive(Clone, Debug, PartialEq)]
pub struct Adjusted {
    /// Adjusted estimate of each arm, in the order given.
    pub estimates: Vec<Estimate>,
    /// The regression coefficient of the study's values on the pre-period's.
    pub theta: f64,
}

/// Adjusts the per-arm `raw` estimates of `metric` (from `arms`) by each unit's pre-period value
/// in `pre` (same arms, same units, same order).
pub fn adjust(metric: &str, arms: &[Units], pre: &[Units], raw: &[Estimate]) -> Result<Adjusted, SynthesisError> {
    let bad = |problem: String| SynthesisError::BadUnits { metric: metric.to_string(), problem };
    if pre.len() != arms.len() || pre.iter().zip(arms).any(|(p, a)| p.len() != a.len() || p.den.len() != p.len()) {
        return Err(bad("the pre-period has different units than the study".into()));
    }
    if pre.iter().flat_map(|p| p.num.iter().chain(&p.den)).any(|v| !v.is_finite()) {
        return Err(bad("a pre-period value is not a finite number".into()));
    }
    // The pre-period's pooled ratio and mean denominator: the covariate's linearisation point.
    let (sum_y, sum_x, n): (f64, f64, usize) = pre.iter().fold((0.0, 0.0, 0), |(y, x, n), p| {
        (y + p.num.iter().sum::<f64>(), x + p.den.iter().sum::<f64>(), n + p.len())
    });
    let mean_x = sum_x / n.max(1) as f64;
    if mean_x == 0.0 {
        // Nothing was observed before the study: there is nothing to adjust by.
        return Ok(Adjusted { estimates: raw.to_vec(), theta: 0.0 });
    }
    let ratio = sum_y / sum_x;
    let covariate =
        |p: &Units| -> Vec<f64> { p.num.iter().zip(&p.den).map(|(y, x)| (y - ratio * x) / mean_x).collect() };
    let linear = |a: &Units, e: &Estimate| -> Vec<f64> {
        let mx = a.den.iter().sum::<f64>() / a.len() as f64;
        a.num.iter().zip(&a.den).map(|(y, x)| (y - e.value * x) / mx).collect()
    };
    let columns: Vec<(Vec<f64>, Vec<f64>)> =
        arms.iter().zip(pre).zip(raw).map(|((a, p), e)| (linear(a, e), covariate(p))).collect();
    // θ from within-arm moments; each arm's linearised values have mean 0 by construction.
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (l, c) in &columns {
        let mc = mean(c);
        for (y, x) in l.iter().zip(c) {
            sxy += y * (x - mc);
            sxx += (x - mc) * (x - mc);
        }
    }
    let theta = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    // The covariate's pooled mean is 0 (it is centred on the pooled ratio), so an arm's
    // adjustment is θ times its own mean.
    let estimates = columns
        .iter()
        .zip(raw)
        .map(|((l, c), e)| {
            let adjusted: Vec<f64> = l.iter().zip(c).map(|(y, x)| y - theta * x).collect();
            Estimate { value: e.value - theta * mean(c), variance: sample_variance(&adjusted) / e.n as f64, n: e.n }
        })
        .collect();
    Ok(Adjusted { estimates, theta })
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn sample_variance(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len().max(2) - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthesis::estimate;

    #[test]
    fn without_a_covariate_nothing_changes() {
        let arms = [Units::means(vec![1.0, 2.0, 3.0]), Units::means(vec![2.0, 3.0, 4.0])];
        let raw: Vec<Estimate> = arms.iter().map(|a| estimate("m", "control", a).unwrap()).collect();
        let pre = [Units::ratios([(0.0, 0.0); 3]), Units::ratios([(0.0, 0.0); 3])];
        let adjusted = adjust("m", &arms, &pre, &raw).unwrap();
        assert_eq!((adjusted.estimates, adjusted.theta), (raw, 0.0));
    }

    #[test]
    fn a_perfect_covariate_removes_the_variance() {
        // Y = 2·X_pre + 1 exactly: θ = 2 and no variance remains.
        let pre = [Units::means(vec![1.0, 2.0, 3.0, 4.0]), Units::means(vec![2.0, 3.0, 4.0, 5.0])];
        let arms: Vec<Units> =
            pre.iter().map(|p| Units::means(p.num.iter().map(|x| 2.0 * x + 1.0).collect())).collect();
        let raw: Vec<Estimate> = arms.iter().map(|a| estimate("m", "control", a).unwrap()).collect();
        let adjusted = adjust("m", &arms, &pre, &raw).unwrap();
        assert!((adjusted.theta - 2.0).abs() < 1e-12);
        for e in &adjusted.estimates {
            assert!(e.variance < 1e-20, "{e:?}");
        }
        // The pre-period put the second arm one unit higher; adjusted, the arms are equal.
        assert!((adjusted.estimates[0].value - adjusted.estimates[1].value).abs() < 1e-12);
    }

    #[test]
    fn mismatched_units_are_refused() {
        let arms = [Units::means(vec![1.0, 2.0])];
        let raw = [estimate("m", "control", &arms[0]).unwrap()];
        assert!(adjust("m", &arms, &[Units::means(vec![1.0])], &raw).is_err());
    }
}
