//! UCB1 over operators, fed with normalised improvements in [0, 1].

use std::collections::BTreeMap;

/// Pull counts and reward sums per operator.
#[derive(Clone, Debug, Default)]
pub struct Bandit {
    arms: BTreeMap<String, Arm>,
    /// Running mean of |improvement|, the scale improvements are normalised by.
    scale_sum: f64,
    scale_count: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Arm {
    pulls: u64,
    reward: f64,
}

impl Bandit {
    /// Records an outcome of `operator`: an improvement (higher is better), or none for a failure;
    /// an improvement of exactly 0 (no effect at all) counts as a failure.
    pub fn observe(&mut self, operator: &str, improvement: Option<f64>) {
        let reward = match improvement {
            // Exactly its parent's score: the change did nothing (clipping that never triggers,
            // a spelling of the same training), which is worth no more than a failure.
            Some(0.0) => 0.0,
            Some(x) if x.is_finite() => {
                self.scale_sum += x.abs();
                self.scale_count += 1;
                let scale = (self.scale_sum / self.scale_count as f64).max(1e-12);
                0.5 + 0.5 * (x / scale).tanh()
            }
            _ => 0.0,
        };
        let arm = self.arms.entry(operator.to_string()).or_default();
        arm.pulls += 1;
        arm.reward += reward;
    }

    /// The mean normalised reward of `operator`, if it was pulled.
    pub fn mean(&self, operator: &str) -> Option<f64> {
        self.arms.get(operator).filter(|a| a.pulls > 0).map(|a| a.reward / a.pulls as f64)
    }

    /// How often `operator` was observed.
    pub fn pulls(&self, operator: &str) -> u64 {
        self.arms.get(operator).map_or(0, |a| a.pulls)
    }

    /// The UCB1 choice among `operators`: an untried one first (in the given order), else the
    /// highest mean plus exploration bonus. `None` for an empty list.
    pub fn choose<'a>(&self, operators: &[&'a str]) -> Option<&'a str> {
        if let Some(untried) = operators.iter().find(|o| self.pulls(o) == 0) {
            return Some(untried);
        }
        let total: u64 = operators.iter().map(|o| self.pulls(o)).sum();
        let ln = (total.max(1) as f64).ln();
        operators.iter().copied().max_by(|a, b| self.ucb(a, ln).total_cmp(&self.ucb(b, ln)))
    }

    /// The operator with the best mean so far (ties: the first given); untried ones count 0.5.
    pub fn best<'a>(&self, operators: &[&'a str]) -> Option<&'a str> {
        let mut best: Option<(&str, f64)> = None;
        for &o in operators {
            let m = self.mean(o).unwrap_or(0.5);
            if best.is_none_or(|(_, b)| m > b) {
                best = Some((o, m));
            }
        }
        best.map(|(o, _)| o)
    }

    fn ucb(&self, operator: &str, ln_total: f64) -> f64 {
        let arm = self.arms.get(operator).copied().unwrap_or_default();
        arm.reward / arm.pulls as f64 + (2.0 * ln_total / arm.pulls as f64).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::Bandit;

    #[test]
    fn a_change_that_does_nothing_earns_what_a_failure_earns() {
        let mut b = Bandit::default();
        b.observe("clip", Some(0.0));
        b.observe("lr_down", Some(-0.001));
        b.observe("broken", None);
        assert_eq!(b.mean("clip"), b.mean("broken"));
        assert!(b.mean("lr_down").unwrap() > b.mean("clip").unwrap(), "a small loss still says more than no effect");
        assert_eq!(b.best(&["clip", "lr_down"]), Some("lr_down"));
    }
}
