//! Noise is not a win. A validation difference of ±0.001 between two trainings of one model is
//! seed noise, and a loop that takes it for progress launches noise. So after the rounds, the
//! best `confirm.top` candidates and the baseline are trained again on `confirm.seeds` more
//! seeds (initialisation, shuffling and negatives; the split stays), and a candidate counts as
//! better only when the paired 95% t interval of its difference from the baseline, seed by seed,
//! lies above zero. Every seed's score is journaled with it (`offline_metrics.seeds`).

use super::*;

/// What a candidate's seeds said, as journaled in `offline_metrics.seeds`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeedCheck {
    /// The training seeds, the loop's own first.
    pub seeds: Vec<i64>,
    /// The candidate's validation score on each seed.
    pub scores: Vec<f64>,
    /// The baseline's on the same seeds.
    pub baseline: Vec<f64>,
    /// Mean of the candidate's scores.
    pub mean: f64,
    /// Mean paired difference, candidate - baseline.
    pub diff: f64,
    /// Its 95% t interval.
    pub ci: [f64; 2],
    /// Whether the interval lies above zero.
    pub better: bool,
}

impl SeedCheck {
    /// The paired comparison of `scores` with `baseline`, seed by seed (at least two seeds).
    pub fn new(seeds: Vec<i64>, scores: Vec<f64>, baseline: Vec<f64>) -> SeedCheck {
        let n = scores.len() as f64;
        let diffs: Vec<f64> = scores.iter().zip(&baseline).map(|(c, b)| c - b).collect();
        let diff = diffs.iter().sum::<f64>() / n;
        let var = diffs.iter().map(|d| (d - diff).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        let half = simulator::stats::t_quantile(0.975, (n - 1.0).max(1.0)) * (var / n).sqrt();
        let mean = scores.iter().sum::<f64>() / n;
        SeedCheck { seeds, scores, baseline, mean, diff, ci: [diff - half, diff + half], better: diff - half > 0.0 }
    }
}

impl Loop {
    /// Trains the baseline and the best `confirm.top` candidates on `confirm.seeds` more seeds
    /// and journals each candidate's [`SeedCheck`].
    pub(super) async fn confirm(&mut self, ctx: &StepContext) -> Result<(), StepError> {
        let (extra, top) = (self.args.confirm_seeds, self.args.confirm_top);
        if extra == 0 || top == 0 {
            return Ok(());
        }
        let Some(baseline) = self.entries.first().cloned() else { return Ok(()) };
        // Entries an earlier run journaled keep their rows (an online decision may stand there).
        let mut ranked: Vec<usize> = (1..self.entries.len())
            .filter(|&i| !self.earlier.contains(&self.entries[i].record.key))
            .filter(|&i| self.entries[i].record.status == ExperimentStatus::Trained)
            .filter(|&i| self.entries[i].record.offline_score.is_some())
            .collect();
        // Stable: ties keep the order they were trained in.
        ranked.sort_by(|&a, &b| {
            let score = |i: usize| self.entries[i].record.offline_score.unwrap_or(f64::NEG_INFINITY);
            score(b).total_cmp(&score(a))
        });
        ranked.truncate(top);
        if ranked.is_empty() {
            return Ok(());
        }
        let first = self.args.settings.seed;
        let seeds: Vec<i64> = (0..=extra as i64).map(|k| first + k).collect();
        // Every extra training at once (side by side on a cluster): the baseline's, then each
        // candidate's.
        let trained: Vec<Entry> =
            std::iter::once(baseline.clone()).chain(ranked.iter().map(|&i| self.entries[i].clone())).collect();
        let mut scores = self.seed_scores(ctx, &trained, &seeds).await?.into_iter();
        let base_scores = scores.next().expect("the baseline's scores");
        for (i, scores) in ranked.into_iter().zip(scores) {
            let (Some(scores), Some(base)) = (scores, base_scores.clone()) else { continue };
            let check = SeedCheck::new(seeds.clone(), scores, base);
            let record = &mut self.entries[i].record;
            if let Some(serde_json::Value::Object(m)) = record.offline_metrics.as_mut() {
                m.insert("seeds".into(), serde_json::json!(check));
            }
            *self.counts.entry(if check.better { "better_beyond_noise" } else { "within_noise" }).or_default() += 1;
            ctx.run
                .journal
                .record_experiment(record.clone())
                .map_err(|e| StepError::transient(StepErrorKind::Journal, e))?;
        }
        Ok(())
    }

    /// The validation scores of each entry on each of `seeds` (the first is the loop's own,
    /// already trained); `None` for an entry one of whose trainings failed.
    async fn seed_scores(
        &self,
        ctx: &StepContext,
        entries: &[Entry],
        seeds: &[i64],
    ) -> Result<Vec<Option<Vec<f64>>>, StepError> {
        let mut items = Vec::new();
        for entry in entries {
            for &seed in &seeds[1..] {
                items.push((entry.clone(), format!("{}-seed{seed}", short(&entry.record.key)), seed));
            }
        }
        let mut fitted = self.fit_many(ctx, items).await?.into_iter();
        let mut all = Vec::with_capacity(entries.len());
        for entry in entries {
            let mut scores = vec![entry.record.offline_score];
            for (trained, _) in fitted.by_ref().take(seeds.len() - 1) {
                scores
                    .push(trained.record.offline_score.filter(|_| trained.record.status == ExperimentStatus::Trained));
            }
            all.push(scores.into_iter().collect());
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::SeedCheck;

    #[test]
    fn a_consistent_gain_is_better_and_a_noisy_one_is_not() {
        // Differences 0.010, 0.012, 0.011: mean 0.011, sd 0.001, half-width 4.303 × 0.001/√3.
        let c = SeedCheck::new(vec![1, 2, 3], vec![0.31, 0.312, 0.311], vec![0.30, 0.30, 0.30]);
        assert!((c.diff - 0.011).abs() < 1e-12);
        assert!((c.ci[0] - (0.011 - 4.303 * 0.001 / 3f64.sqrt())).abs() < 1e-4, "{c:?}");
        assert!(c.better);
        // +0.01, -0.008, +0.002: the mean is positive, the interval is not.
        let n = SeedCheck::new(vec![1, 2, 3], vec![0.31, 0.292, 0.302], vec![0.30, 0.30, 0.30]);
        assert!(n.diff > 0.0 && !n.better, "{n:?}");
    }
}
