//! Metric synthesis: relative deltas of treatment vs control with confidence intervals, guardrails
//! and the launch decision. Pure arithmetic over per-unit numbers, so it serves the simulator
//! (users as units) and imported experiment tables (days as units) alike.
//!
//! A metric is a ratio of means over units, `R = ΣY / ΣX` (`X = 1` for a plain per-unit mean).
//! Its variance comes from the delta method (Deng et al., "Applying the Delta Method in Metric
//! Analytics", 2018):
//!
//! `Var(R) ≈ (s²_Y / X̄² − 2·Ȳ·s_XY / X̄³ + Ȳ²·s²_X / X̄⁴) / n`
//!
//! and the relative delta `Δ = R_t / R_c − 1` from it again, arms being independent:
//!
//! `Var(Δ) ≈ Var(R_t) / R_c² + R_t²·Var(R_c) / R_c⁴`
//!
//! The interval is `Δ ± t·√Var(Δ)`, with `t` the Student quantile at the Welch–Satterthwaite
//! degrees of freedom of the two terms (the normal quantile when units are many), or the
//! always-valid interval of [`crate::sequential`] when the study is looked at every day. With a
//! pre-period, each arm's estimate is first adjusted by [`crate::cuped`].

use serde::{Deserialize, Serialize};

use crate::power::{mde, Power, DEFAULT_POWER};
use crate::stats::t_quantile;

/// Why a delta could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SynthesisError {
    /// Fewer than two units in an arm: no variance to speak of.
    #[error("`{metric}`: the {arm} arm has {n} units; an interval needs at least 2")]
    TooFewUnits {
        /// The metric.
        metric: String,
        /// `control` or `treatment`.
        arm: &'static str,
        /// Units it has.
        n: usize,
    },
    /// The control's value is 0, so a relative change is undefined.
    #[error("`{metric}`: the control's value is 0, so a relative change is undefined")]
    ZeroControl {
        /// The metric.
        metric: String,
    },
    /// The denominators sum to 0 (e.g. no survey answers at all).
    #[error("`{metric}`: the {arm} arm has no data (its denominators sum to 0)")]
    NoData {
        /// The metric.
        metric: String,
        /// `control` or `treatment`.
        arm: &'static str,
    },
    /// A confidence level outside (0, 1).
    #[error("confidence level must be between 0 and 1, got {0}")]
    Level(f64),
    /// Numerators and denominators of different lengths, or a value that is not finite.
    #[error("`{metric}`: {problem}")]
    BadUnits {
        /// The metric.
        metric: String,
        /// What is wrong.
        problem: String,
    },
}

/// Per-unit numerators and denominators of a ratio metric.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Units {
    /// `Y` per unit.
    pub num: Vec<f64>,
    /// `X` per unit (all 1 for a per-unit mean).
    pub den: Vec<f64>,
}

impl Units {
    /// A per-unit mean: one value per unit.
    pub fn means(values: Vec<f64>) -> Units {
        let den = vec![1.0; values.len()];
        Units { num: values, den }
    }

    /// A ratio metric from (numerator, denominator) per unit.
    pub fn ratios(pairs: impl IntoIterator<Item = (f64, f64)>) -> Units {
        let (num, den) = pairs.into_iter().unzip();
        Units { num, den }
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.num.len()
    }

    /// Whether there are no units.
    pub fn is_empty(&self) -> bool {
        self.num.is_empty()
    }
}

/// A ratio of means and the delta-method variance of that estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// `ΣY / ΣX`.
    pub value: f64,
    /// Its estimated variance.
    pub variance: f64,
    /// Units.
    pub n: usize,
}

/// The ratio of means of `units` and its variance.
pub fn estimate(metric: &str, arm: &'static str, units: &Units) -> Result<Estimate, SynthesisError> {
    let bad = |problem: String| SynthesisError::BadUnits { metric: metric.to_string(), problem };
    if units.num.len() != units.den.len() {
        return Err(bad(format!("{} numerators but {} denominators", units.num.len(), units.den.len())));
    }
    if units.num.iter().chain(&units.den).any(|v| !v.is_finite()) {
        return Err(bad(format!("the {arm} arm has a value that is not a finite number")));
    }
    let n = units.len();
    if n < 2 {
        return Err(SynthesisError::TooFewUnits { metric: metric.to_string(), arm, n });
    }
    let nf = n as f64;
    let (my, mx) = (units.num.iter().sum::<f64>() / nf, units.den.iter().sum::<f64>() / nf);
    if mx == 0.0 {
        return Err(SynthesisError::NoData { metric: metric.to_string(), arm });
    }
    let (mut syy, mut sxx, mut sxy) = (0.0, 0.0, 0.0);
    for (y, x) in units.num.iter().zip(&units.den) {
        let (dy, dx) = (y - my, x - mx);
        syy += dy * dy;
        sxx += dx * dx;
        sxy += dx * dy;
    }
    let (syy, sxx, sxy) = (syy / (nf - 1.0), sxx / (nf - 1.0), sxy / (nf - 1.0));
    let variance = (syy / mx.powi(2) - 2.0 * my * sxy / mx.powi(3) + my * my * sxx / mx.powi(4)) / nf;
    Ok(Estimate { value: my / mx, variance: variance.max(0.0), n })
}

/// How an interval is built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Interval {
    /// Valid at one look planned in advance (Welch t).
    #[default]
    FixedHorizon,
    /// Valid at every look (mSPRT, mixing standard deviation `tau`, relative).
    AlwaysValid {
        /// The mixing standard deviation.
        tau: f64,
    },
}

/// How metric synthesis reads an experiment.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Confidence level of every interval (0.95).
    pub level: f64,
    /// Fixed-horizon or always-valid intervals.
    pub interval: Interval,
    /// Adjust by the pre-period (CUPED) when there is one.
    pub cuped: bool,
}

impl Analysis {
    /// Fixed-horizon intervals at `level`, CUPED on.
    pub fn fixed(level: f64) -> Analysis {
        Analysis { level, interval: Interval::FixedHorizon, cuped: true }
    }
}

/// A relative change of one metric, treatment vs control, with its confidence interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// The metric.
    pub metric: String,
    /// The control's value.
    pub control: f64,
    /// The treatment's value.
    pub treatment: f64,
    /// `treatment / control − 1`.
    pub relative: f64,
    /// Lower end of the interval (relative).
    pub low: f64,
    /// Upper end of the interval (relative).
    pub high: f64,
    /// Confidence level of the interval (0.95).
    pub level: f64,
    /// Units in the control.
    pub n_control: usize,
    /// Units in the treatment.
    pub n_treatment: usize,
    /// Standard error of `relative` (after variance reduction).
    #[serde(default)]
    pub se: f64,
    /// The smallest relative change this comparison detects at `level` with 80% power.
    #[serde(default)]
    pub mde: f64,
    /// The share of `relative`'s variance that CUPED removed (0 without a pre-period).
    #[serde(default)]
    pub variance_reduction: f64,
    /// How the interval was built.
    #[serde(default)]
    pub interval: Interval,
}

impl Delta {
    /// Whether the interval excludes 0 (the change is significant at `level`).
    pub fn significant(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// The relative delta of `treatment` vs `control` for `metric`, with a fixed-horizon `level`
/// interval and no variance reduction.
pub fn relative_delta(metric: &str, control: &Units, treatment: &Units, level: f64) -> Result<Delta, SynthesisError> {
    let analysis = Analysis { level, interval: Interval::FixedHorizon, cuped: false };
    Ok(deltas(metric, &[control.clone(), treatment.clone()], None, &analysis)?.remove(0))
}

/// The relative delta of each treatment (`arms[1..]`) vs the control (`arms[0]`). `pre` holds
/// the same units' values of the metric before the study, used when `analysis.cuped` is on.
pub fn deltas(
    metric: &str,
    arms: &[Units],
    pre: Option<&[Units]>,
    analysis: &Analysis,
) -> Result<Vec<Delta>, SynthesisError> {
    if !(analysis.level > 0.0 && analysis.level < 1.0) {
        return Err(SynthesisError::Level(analysis.level));
    }
    let role = |k: usize| if k == 0 { "control" } else { "treatment" };
    let raw: Vec<Estimate> =
        arms.iter().enumerate().map(|(k, a)| estimate(metric, role(k), a)).collect::<Result<_, _>>()?;
    let adjusted = match pre {
        Some(pre) if analysis.cuped => crate::cuped::adjust(metric, arms, pre, &raw)?.estimates,
        _ => raw.clone(),
    };
    (1..arms.len()).map(|k| delta_between(metric, [&raw[0], &raw[k]], [&adjusted[0], &adjusted[k]], analysis)).collect()
}

/// `Var(Δ)` of `t / c − 1` by the delta method, as its two terms (treatment, control).
fn variance_terms(c: &Estimate, t: &Estimate) -> (f64, f64) {
    (t.variance / c.value.powi(2), t.value.powi(2) * c.variance / c.value.powi(4))
}

/// One comparison: the point estimate and variance from the adjusted estimates, the variance
/// reduction against the raw ones.
fn delta_between(
    metric: &str,
    [raw_c, raw_t]: [&Estimate; 2],
    [c, t]: [&Estimate; 2],
    analysis: &Analysis,
) -> Result<Delta, SynthesisError> {
    if c.value == 0.0 || raw_c.value == 0.0 {
        return Err(SynthesisError::ZeroControl { metric: metric.to_string() });
    }
    let relative = t.value / c.value - 1.0;
    let (a, b) = variance_terms(c, t);
    let (ra, rb) = variance_terms(raw_c, raw_t);
    let variance = a + b;
    let half = match analysis.interval {
        Interval::FixedHorizon => {
            let df = if variance > 0.0 {
                variance.powi(2) / (a * a / (t.n as f64 - 1.0) + b * b / (c.n as f64 - 1.0))
            } else {
                f64::INFINITY
            };
            t_quantile(0.5 + analysis.level / 2.0, df) * variance.sqrt()
        }
        Interval::AlwaysValid { tau } => crate::sequential::half_width(variance, analysis.level, tau),
    };
    let se = variance.sqrt();
    Ok(Delta {
        metric: metric.to_string(),
        control: c.value,
        treatment: t.value,
        relative,
        low: relative - half,
        high: relative + half,
        level: analysis.level,
        n_control: c.n,
        n_treatment: t.n,
        se,
        mde: mde(se, analysis.level, DEFAULT_POWER),
        variance_reduction: if ra + rb > 0.0 { 1.0 - variance / (ra + rb) } else { 0.0 },
        interval: analysis.interval,
    })
}

/// Which side of its bound a guardrail keeps a metric's relative change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// `metric >= bound` (`watch_time >= -1%`).
    AtLeast,
    /// `metric <= bound` (`leave_rate <= +2%`).
    AtMost,
}

/// A limit on the relative change of a metric that a launch must respect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Guardrail {
    /// The metric.
    pub metric: String,
    /// Which side.
    pub bound: Bound,
    /// The limit, relative: −0.01 for −1%.
    pub limit: f64,
}

impl Guardrail {
    /// A guardrail from the parts of a `.evo` guardrail: `op` is `>=`, `>`, `<=` or `<`, `percent`
    /// is the bound in percent (−1 for `-1%`).
    pub fn new(metric: &str, op: &str, percent: f64) -> Option<Guardrail> {
        let bound = match op {
            ">=" | ">" => Bound::AtLeast,
            "<=" | "<" => Bound::AtMost,
            _ => return None,
        };
        Some(Guardrail { metric: metric.to_string(), bound, limit: percent / 100.0 })
    }
}

/// How strictly a guardrail reads its delta.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardrailRule {
    /// Breached when the point estimate is past the limit (the default: a guardrail on a noisy
    /// metric does not block every launch just because its interval is wide).
    #[default]
    PointEstimate,
    /// Breached unless the whole interval is within the limit (strict: noise blocks).
    Interval,
}

impl GuardrailRule {
    /// Whether `delta` breaches `guardrail` under this rule.
    pub fn breached(self, guardrail: &Guardrail, delta: &Delta) -> bool {
        let (lo, hi) = match self {
            GuardrailRule::PointEstimate => (delta.relative, delta.relative),
            GuardrailRule::Interval => (delta.low, delta.high),
        };
        match guardrail.bound {
            Bound::AtLeast => lo < guardrail.limit,
            Bound::AtMost => hi > guardrail.limit,
        }
    }
}

/// What to do with a treatment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The primary metric improved significantly and no guardrail is breached.
    Launch,
    /// The primary metric improved (or held) but a guardrail is breached.
    Blocked,
    /// The primary metric got significantly worse.
    Rejected,
    /// The primary metric's interval covers 0 and no guardrail is breached.
    NoSignificantChange,
    /// As `NoSignificantChange`, but the study could not have detected the smallest effect the
    /// team cares about: its minimum detectable effect is larger than `min_effect`.
    Underpowered,
}

/// One guardrail, its delta and whether it held.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuardrailCheck {
    /// The guardrail.
    pub guardrail: Guardrail,
    /// Its metric's delta.
    pub delta: Delta,
    /// Whether the rule found it breached.
    pub breached: bool,
}

/// A decision and everything it was made from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The outcome.
    pub decision: Decision,
    /// The primary metric's delta.
    pub primary: Delta,
    /// Every guardrail, checked.
    pub guardrails: Vec<GuardrailCheck>,
    /// One sentence saying why.
    pub reason: String,
    /// Whether the study could detect the effect the team cares about (when it said which).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<Power>,
}

impl Verdict {
    /// The verdict with the study's power: a change it could not have seen is `Underpowered`,
    /// not `NoSignificantChange`.
    pub fn with_power(mut self, power: Power) -> Verdict {
        if self.decision == Decision::NoSignificantChange && !power.powered {
            self.decision = Decision::Underpowered;
            self.reason = format!("{}; {}", self.reason, power.sentence());
        }
        self.power = Some(power);
        self
    }
}

/// Decides on a treatment. In order: a significantly worse primary is `Rejected`; a breached
/// guardrail is `Blocked`; a significantly better primary is `Launch`; anything else is
/// `NoSignificantChange`. `higher_is_better` orients the primary metric (false for `leave_rate`).
pub fn decide(
    primary: Delta,
    higher_is_better: bool,
    guardrails: Vec<(Guardrail, Delta)>,
    rule: GuardrailRule,
) -> Verdict {
    let guardrails: Vec<GuardrailCheck> = guardrails
        .into_iter()
        .map(|(guardrail, delta)| GuardrailCheck { breached: rule.breached(&guardrail, &delta), guardrail, delta })
        .collect();
    let (better, worse) = if higher_is_better {
        (primary.low > 0.0, primary.high < 0.0)
    } else {
        (primary.high < 0.0, primary.low > 0.0)
    };
    let pct = |x: f64| format!("{:+.2}%", 100.0 * x);
    let interval = format!(
        "{} {} [{}, {}] at {:.0}%",
        primary.metric,
        pct(primary.relative),
        pct(primary.low),
        pct(primary.high),
        100.0 * primary.level
    );
    let breached: Vec<String> = guardrails
        .iter()
        .filter(|g| g.breached)
        .map(|g| {
            let op = if g.guardrail.bound == Bound::AtLeast { ">=" } else { "<=" };
            format!("{} {} (limit {op} {})", g.guardrail.metric, pct(g.delta.relative), pct(g.guardrail.limit))
        })
        .collect();
    let (decision, reason) = if worse {
        (Decision::Rejected, format!("{interval}: significantly worse"))
    } else if !breached.is_empty() {
        (Decision::Blocked, format!("{interval}, but guardrail breached: {}", breached.join("; ")))
    } else if better {
        (Decision::Launch, format!("{interval}: significantly better, guardrails hold"))
    } else {
        (Decision::NoSignificantChange, format!("{interval}: the interval covers 0"))
    };
    Verdict { decision, primary, guardrails, reason, power: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn a_mean_metric_by_hand() {
        // Y = 1, 2, 3, 4: mean 2.5, s² = 5/3, Var(mean) = 5/12.
        let e = estimate("m", "control", &Units::means(vec![1.0, 2.0, 3.0, 4.0])).unwrap();
        assert!(close(e.value, 2.5, 1e-12) && close(e.variance, 5.0 / 12.0, 1e-12), "{e:?}");
    }

    #[test]
    fn a_ratio_metric_by_hand() {
        // Y = (1, 3), X = (1, 2): Ȳ = 2, X̄ = 1.5, R = 4/3; s²_Y = 2, s²_X = 0.5, s_XY = 1.
        // Var = (2/2.25 − 2·2·1/3.375 + 4·0.5/5.0625) / 2 = (0.888889 − 1.185185 + 0.395062) / 2.
        let e = estimate("m", "control", &Units::ratios([(1.0, 1.0), (3.0, 2.0)])).unwrap();
        assert!(close(e.value, 4.0 / 3.0, 1e-12));
        assert!(close(e.variance, (0.888_888_9 - 1.185_185_2 + 0.395_061_7) / 2.0, 1e-6), "{e:?}");
    }

    #[test]
    fn a_relative_delta_by_hand() {
        // Large arms so the t quantile is the normal one: control mean 10, treatment mean 11,
        // each from values ±2 around the mean (s² = 4·n/(n−1)).
        let n = 10_000;
        let arm = |m: f64| Units::means((0..n).map(|k| if k % 2 == 0 { m - 2.0 } else { m + 2.0 }).collect());
        let d = relative_delta("watch_time", &arm(10.0), &arm(11.0), 0.95).unwrap();
        let var_mean = 4.0 * n as f64 / (n as f64 - 1.0) / n as f64;
        let se = (var_mean / 100.0 + 121.0 * var_mean / 10_000.0).sqrt();
        assert!(close(d.relative, 0.1, 1e-12));
        assert!(close(d.high - d.relative, 1.96 * se, 1e-4 * se + 1e-6), "{d:?} se {se}");
        assert!(close(d.relative - d.low, d.high - d.relative, 1e-12));
    }

    #[test]
    fn small_arms_get_a_wider_t_interval() {
        // Equal variances and sizes: Welch df = 2(n − 1) = 6, t(0.975, 6) = 2.447.
        let c = Units::means(vec![1.0, 2.0, 3.0, 4.0]);
        let t = Units::means(vec![1.0, 2.0, 3.0, 4.0]);
        let d = relative_delta("m", &c, &t, 0.95).unwrap();
        let se = (2.0 * (5.0 / 12.0) / 6.25f64).sqrt();
        assert!(close(d.high, 2.447 * se, 0.01 * se), "{d:?}");
    }

    #[test]
    fn undefined_cases_are_errors() {
        let zeros = Units::means(vec![0.0, 0.0]);
        let ones = Units::means(vec![1.0, 1.0]);
        assert!(matches!(relative_delta("m", &zeros, &ones, 0.95), Err(SynthesisError::ZeroControl { .. })));
        assert!(matches!(
            relative_delta("m", &Units::means(vec![1.0]), &ones, 0.95),
            Err(SynthesisError::TooFewUnits { n: 1, .. })
        ));
        assert!(matches!(
            relative_delta("s", &Units::ratios([(0.0, 0.0), (0.0, 0.0)]), &ones, 0.95),
            Err(SynthesisError::NoData { .. })
        ));
        assert_eq!(relative_delta("m", &ones, &ones, 1.0), Err(SynthesisError::Level(1.0)));
    }

    fn delta(metric: &str, relative: f64, low: f64, high: f64) -> Delta {
        Delta {
            metric: metric.into(),
            control: 1.0,
            treatment: 1.0 + relative,
            relative,
            low,
            high,
            level: 0.95,
            n_control: 100,
            n_treatment: 100,
            se: 0.0,
            mde: 0.0,
            variance_reduction: 0.0,
            interval: Interval::FixedHorizon,
        }
    }

    #[test]
    fn decisions() {
        let watch = Guardrail::new("watch_time", ">=", -1.0).unwrap();
        let up = delta("return_rate", 0.02, 0.01, 0.03);
        let flat = delta("return_rate", 0.01, -0.01, 0.03);
        let down = delta("return_rate", -0.02, -0.03, -0.01);
        let ok = (watch.clone(), delta("watch_time", -0.005, -0.02, 0.01));
        let bad = (watch.clone(), delta("watch_time", -0.02, -0.03, -0.01));
        let rule = GuardrailRule::PointEstimate;
        assert_eq!(decide(up.clone(), true, vec![ok.clone()], rule).decision, Decision::Launch);
        assert_eq!(decide(up.clone(), true, vec![bad.clone()], rule).decision, Decision::Blocked);
        assert_eq!(decide(flat, true, vec![ok.clone()], rule).decision, Decision::NoSignificantChange);
        assert_eq!(decide(down.clone(), true, vec![bad], rule).decision, Decision::Rejected);
        // The strict rule blocks when the interval reaches past the limit, even if the estimate is fine.
        assert_eq!(decide(up.clone(), true, vec![ok], GuardrailRule::Interval).decision, Decision::Blocked);
        // For leave_rate, lower is better.
        assert_eq!(decide(down, false, vec![], rule).decision, Decision::Launch);
        let v = decide(up, true, vec![], rule);
        assert_eq!(v.reason, "return_rate +2.00% [+1.00%, +3.00%] at 95%: significantly better, guardrails hold");
    }
}
