//! How well the fast loop's offline score predicts the slow loop's online delta: Spearman's rank
//! correlation over every decided candidate, with a bootstrap interval, and only when there are
//! enough decisions for the number to mean something.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Decided candidates below which no agreement is estimated.
pub const MIN_PAIRS: usize = 5;
/// Bootstrap resamples behind the interval.
const RESAMPLES: usize = 2_000;

/// Rank agreement between offline scores and online deltas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// (offline score, online delta) pairs it is computed over.
    pub pairs: usize,
    /// Spearman's ρ; `None` below [`MIN_PAIRS`] pairs or when either side has no spread.
    pub spearman: Option<f64>,
    /// The 95% percentile-bootstrap interval of ρ (resampling decisions).
    pub low: Option<f64>,
    /// Its upper end.
    pub high: Option<f64>,
}

impl Agreement {
    /// The agreement over `pairs`, with a bootstrap interval from a fixed seed (the same journal
    /// always prints the same interval).
    pub fn of(pairs: &[(f64, f64)]) -> Agreement {
        let none = Agreement { pairs: pairs.len(), spearman: None, low: None, high: None };
        if pairs.len() < MIN_PAIRS {
            return none;
        }
        let Some(rho) = spearman(pairs) else { return none };
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
        let mut draws: Vec<f64> = (0..RESAMPLES)
            .filter_map(|_| {
                let sample: Vec<(f64, f64)> = (0..pairs.len()).map(|_| pairs[rng.gen_range(0..pairs.len())]).collect();
                spearman(&sample)
            })
            .collect();
        draws.sort_by(f64::total_cmp);
        let at = |q: f64| draws.get(((draws.len() as f64 - 1.0) * q).round() as usize).copied();
        Agreement { pairs: pairs.len(), spearman: Some(rho), low: at(0.025), high: at(0.975) }
    }

    /// How a person reads it.
    pub fn sentence(&self) -> String {
        match (self.spearman, self.low, self.high) {
            (Some(r), Some(lo), Some(hi)) => format!("{r:+.2} [{lo:+.2}, {hi:+.2}] over {} decisions", self.pairs),
            _ if self.pairs < MIN_PAIRS => {
                format!("not estimated: {} decisions so far, it needs at least {MIN_PAIRS}", self.pairs)
            }
            _ => format!("not estimated: no spread in the scores or deltas of {} decisions", self.pairs),
        }
    }
}

/// Spearman's rank correlation (average ranks for ties); `None` below three pairs or without
/// spread on either side.
pub fn spearman(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 3 {
        return None;
    }
    let a = ranks(pairs.iter().map(|p| p.0).collect());
    let b = ranks(pairs.iter().map(|p| p.1).collect());
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

/// Ranks from 0, tied values sharing their mean rank.
fn ranks(values: Vec<f64>) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut r = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let mean = (start + end - 1) as f64 / 2.0;
        for &i in &order[start..end] {
            r[i] = mean;
        }
        start = end;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_of_agreeing_opposite_and_tied_ranks() {
        let up = [(0.1, 1.0), (0.2, 2.0), (0.3, 5.0)];
        assert_eq!(spearman(&up), Some(1.0));
        let down = [(0.1, 5.0), (0.2, 2.0), (0.3, 1.0)];
        assert_eq!(spearman(&down), Some(-1.0));
        assert_eq!(spearman(&up[..2]), None);
        assert_eq!(spearman(&[(0.1, 1.0), (0.1, 2.0), (0.1, 3.0)]), None);
    }

    #[test]
    fn too_few_decisions_get_no_number() {
        let three = Agreement::of(&[(0.1, 1.0), (0.2, 2.0), (0.3, 5.0)]);
        assert_eq!(three.spearman, None);
        assert_eq!(three.sentence(), "not estimated: 3 decisions so far, it needs at least 5");
    }

    #[test]
    fn the_interval_is_wide_for_few_decisions_and_narrows_with_more() {
        // A noisy but real relation: the interval of 6 decisions is wide, of 60 narrower.
        let pairs = |n: usize| -> Vec<(f64, f64)> {
            (0..n).map(|i| (i as f64, i as f64 + if i % 3 == 0 { 4.0 } else { -1.0 } * (i % 5) as f64)).collect()
        };
        let (few, many) = (Agreement::of(&pairs(6)), Agreement::of(&pairs(60)));
        let width = |a: &Agreement| a.high.unwrap() - a.low.unwrap();
        assert!(few.low.unwrap() <= few.spearman.unwrap() && few.spearman.unwrap() <= few.high.unwrap());
        assert!(width(&few) > width(&many), "{few:?} vs {many:?}");
        assert!(few.sentence().ends_with("over 6 decisions"), "{}", few.sentence());
    }
}
