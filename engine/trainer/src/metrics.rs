//! Offline metrics. Top-K ranking metrics (every [`RankingMetric`] the language accepts: NDCG,
//! Recall, HitRate, MRR, Precision, MAP) as RecBole defines them, computed per user over users that have at least one item in the scored split, then
//! averaged; plus AUC and log-loss for pointwise 0/1 labels. Every result carries its protocol.
//!
//! Scoring is batched on the model's device: a chunk of users × all items, seen items masked to
//! -inf, `topk`, and only the `[users, K]` indices come back to the host.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use dsl::metrics::{MetricAt, RankingMetric};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::data::{epoch_rng, Interactions, Split};
use crate::model::{FeatureTensors, Model, ModelError};

/// How candidates are ranked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Ranking {
    /// Against every item not excluded (the comparable protocol).
    Full,
    /// Against `negatives` items sampled uniformly per user from items the user never touched
    /// in any split. Not comparable with full ranking; reported for papers that use it.
    Sampled {
        /// Negatives per user.
        negatives: usize,
        /// Sampling seed.
        seed: u64,
    },
}

/// The protocol a metric was computed under, stored beside the numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    /// The split whose items are the positives.
    pub split: Split,
    /// Splits whose items are removed from each user's candidates (seen items).
    pub excluded: Vec<Split>,
    /// Full or sampled ranking.
    pub ranking: Ranking,
    /// Which users count.
    pub users: String,
    /// Items in the catalogue.
    pub items: usize,
    /// Data filtering applied before splitting (as the caller declares it).
    pub filtering: String,
}

/// Top-K metrics with their protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankingMetrics {
    /// How they were computed.
    pub protocol: Protocol,
    /// Users averaged over.
    pub users: usize,
    /// Every [`RankingMetric`] at each K, keyed by [`MetricAt`]'s spelling (`ndcg@10`, `hitrate@10`, `map@10`, …).
    pub values: BTreeMap<String, f64>,
}

impl RankingMetrics {
    /// The value called `name` (e.g. `ndcg@10`).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).copied()
    }

    /// The value of `metric`, if its cut-off was evaluated.
    pub fn metric(&self, metric: MetricAt) -> Option<f64> {
        self.get(&metric.to_string())
    }
}

/// Pointwise metrics with their protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointwiseMetrics {
    /// The split scored.
    pub split: Split,
    /// Rows scored.
    pub rows: usize,
    /// Area under the ROC curve over all rows (None when only one class is present).
    pub auc: Option<f64>,
    /// Mean binary cross-entropy of σ(score) against the labels.
    pub logloss: f64,
}

/// Sums of per-user metric values, to average at the end.
#[derive(Default)]
struct Accum {
    sums: BTreeMap<String, f64>,
    users: usize,
}

impl Accum {
    /// Adds one user's ranked list (`top`, best first) against its sorted `positives`.
    fn add(&mut self, top: &[i64], positives: &[i64], ks: &[usize]) {
        if positives.is_empty() {
            return;
        }
        self.users += 1;
        let hits: Vec<bool> = top.iter().map(|i| positives.binary_search(i).is_ok()).collect();
        for &k in ks {
            let h = &hits[..k.min(hits.len())];
            let n_hits = h.iter().filter(|&&x| x).count() as f64;
            let dcg: f64 = h.iter().enumerate().filter(|(_, &x)| x).map(|(r, _)| 1.0 / ((r + 2) as f64).log2()).sum();
            let idcg: f64 = (0..k.min(positives.len())).map(|r| 1.0 / ((r + 2) as f64).log2()).sum();
            let first = h.iter().position(|&x| x).map_or(0.0, |r| 1.0 / (r + 1) as f64);
            // Precision at each hit's rank, summed: average precision before normalising.
            let (mut seen, mut ap) = (0.0, 0.0);
            for (r, _) in h.iter().enumerate().filter(|(_, &x)| x) {
                seen += 1.0;
                ap += seen / (r + 1) as f64;
            }
            for metric in RankingMetric::ALL {
                let v = match metric {
                    RankingMetric::Recall => n_hits / positives.len() as f64,
                    RankingMetric::Precision => n_hits / k as f64,
                    RankingMetric::HitRate => f64::from(n_hits > 0.0),
                    RankingMetric::Ndcg => dcg / idcg,
                    RankingMetric::Mrr => first,
                    RankingMetric::Map => ap / k.min(positives.len()) as f64,
                };
                let key = MetricAt::new(metric, u32::try_from(k).unwrap_or(u32::MAX)).to_string();
                *self.sums.entry(key).or_default() += v;
            }
        }
    }

    fn finish(self) -> (usize, BTreeMap<String, f64>) {
        let n = self.users.max(1) as f64;
        (self.users, self.sums.into_iter().map(|(k, v)| (k, v / n)).collect())
    }
}

/// Which items a user may be ranked against.
enum Candidates<'a> {
    /// Everything except these (sorted) items.
    AllBut(&'a [Vec<i64>]),
    /// Only these items.
    Only(&'a [Vec<i64>]),
}

/// Masks a `[C, I]` score chunk for users `rows` and returns the top-`k` item ids per row.
fn top_k(
    scores: &Tensor,
    rows: std::ops::Range<usize>,
    cand: &Candidates,
    k: usize,
) -> Result<Vec<Vec<i64>>, tch::TchError> {
    let device = scores.device();
    let (mut r_idx, mut c_idx) = (Vec::new(), Vec::new());
    let lists = match cand {
        Candidates::AllBut(l) | Candidates::Only(l) => l,
    };
    for (r, u) in rows.clone().enumerate() {
        for &i in &lists[u] {
            r_idx.push(r as i64);
            c_idx.push(i);
        }
    }
    let idx = |v: &[i64]| Tensor::from_slice(v).to_device(device);
    let mut masked = match cand {
        Candidates::AllBut(_) => {
            let mut s = scores.detach().copy();
            if !r_idx.is_empty() {
                let minus_inf = Tensor::from(f32::NEG_INFINITY).to_device(device);
                let _ = s.f_index_put_(&[Some(idx(&r_idx)), Some(idx(&c_idx))], &minus_inf, false)?;
            }
            s
        }
        Candidates::Only(_) => {
            let mut s = scores.f_full_like(f64::NEG_INFINITY)?;
            let (ri, ci) = (idx(&r_idx), idx(&c_idx));
            let picked = scores.f_index(&[Some(&ri), Some(&ci)])?;
            let _ = s.f_index_put_(&[Some(ri), Some(ci)], &picked, false)?;
            s
        }
    };
    let k = (k as i64).min(masked.size()[1]);
    let (_, top) = masked.f_topk(k, 1, true, true)?;
    masked = top.f_to_device(Device::Cpu)?;
    let flat: Vec<i64> = Vec::<i64>::try_from(&masked.f_reshape([-1])?)?;
    Ok(flat.chunks(k.max(1) as usize).map(<[i64]>::to_vec).collect())
}

/// Ranking metrics from a full score matrix `[users, items]` (a row per user): `excluded[u]` and
/// `positives[u]` are sorted item lists. Users without positives are skipped. For tests and for
/// callers that already hold scores.
pub fn ranking_from_scores(
    scores: &Tensor,
    excluded: &[Vec<i64>],
    positives: &[Vec<i64>],
    ks: &[usize],
) -> Result<(usize, BTreeMap<String, f64>), tch::TchError> {
    let kmax = ks.iter().copied().max().unwrap_or(10);
    let n = scores.size()[0] as usize;
    let tops = top_k(scores, 0..n, &Candidates::AllBut(excluded), kmax)?;
    let mut acc = Accum::default();
    for (u, top) in tops.iter().enumerate() {
        acc.add(top, &positives[u], ks);
    }
    Ok(acc.finish())
}

/// Full or sampled top-K metrics of `model` on `split` (`ks` e.g. `[10, 20]`). Seen items of the
/// earlier splits are excluded (valid: train; test: train and valid); `filtering` records what the
/// caller did to the data before splitting (e.g. "none", "ratings >= 4").
pub fn evaluate(
    model: &Model,
    data: &Interactions,
    features: &FeatureTensors,
    split: Split,
    ranking: Ranking,
    ks: &[usize],
    filtering: &str,
) -> Result<RankingMetrics, ModelError> {
    evaluate_or_cancel(model, data, features, split, ranking, ks, filtering, None)
}

/// [`evaluate`] that gives up with [`ModelError::Cancelled`] before the next chunk of users once
/// `cancel` is set: a pass over a large catalogue takes seconds, a chunk a fraction of one.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_or_cancel(
    model: &Model,
    data: &Interactions,
    features: &FeatureTensors,
    split: Split,
    ranking: Ranking,
    ks: &[usize],
    filtering: &str,
    cancel: Option<&AtomicBool>,
) -> Result<RankingMetrics, ModelError> {
    let device = model.device();
    let items = Tensor::arange(data.n_items() as i64, (Kind::Int64, device));
    let chunk = users_per_chunk(data.n_items(), model.pair_width(data).max(1) as usize);
    evaluate_scores(data, split, ranking, ks, filtering, chunk, |users| {
        if cancel.is_some_and(|flag| flag.load(Ordering::Relaxed)) {
            return Err(ModelError::Cancelled);
        }
        model.score_matrix(&users.to_device(device), &items, features)
    })
}

/// [`evaluate`] for any scorer: `score(users)` returns the `[users, items]` score matrix of a
/// block of at most `chunk` users (internal ids), on any device.
pub fn evaluate_scores(
    data: &Interactions,
    split: Split,
    ranking: Ranking,
    ks: &[usize],
    filtering: &str,
    chunk: usize,
    mut score: impl FnMut(&Tensor) -> Result<Tensor, ModelError>,
) -> Result<RankingMetrics, ModelError> {
    let excluded_splits = data.excluded(split);
    let positives = &data.part(split).by_user;
    let (nu, ni) = (data.n_users(), data.n_items());
    // Per user: the candidates' complement (full) or the candidates themselves (sampled).
    let lists: Vec<Vec<i64>> = match ranking {
        Ranking::Full => (0..nu)
            .map(|u| {
                let mut seen: Vec<i64> = excluded_splits
                    .iter()
                    .flat_map(|s| data.part(*s).by_user[u].iter().copied())
                    .filter(|i| positives[u].binary_search(i).is_err())
                    .collect();
                seen.sort_unstable();
                seen.dedup();
                seen
            })
            .collect(),
        Ranking::Sampled { negatives, seed } => {
            let mut rng = epoch_rng(seed, usize::MAX);
            (0..nu)
                .map(|u| {
                    let touched = |i: i64| {
                        [Split::Train, Split::Valid, Split::Test]
                            .iter()
                            .any(|s| data.part(*s).by_user[u].binary_search(&i).is_ok())
                    };
                    let mut c = positives[u].clone();
                    if !c.is_empty() {
                        for _ in 0..negatives * 20 {
                            if c.len() >= positives[u].len() + negatives {
                                break;
                            }
                            let i = rng.gen_range(0..ni as i64);
                            if !touched(i) && !c.contains(&i) {
                                c.push(i);
                            }
                        }
                    }
                    c.sort_unstable();
                    c
                })
                .collect()
        }
    };
    let cand = match ranking {
        Ranking::Full => Candidates::AllBut(&lists),
        Ranking::Sampled { .. } => Candidates::Only(&lists),
    };
    let kmax = ks.iter().copied().max().unwrap_or(10);
    let users: Vec<i64> = (0..nu as i64).filter(|&u| !positives[u as usize].is_empty()).collect();
    let mut acc = Accum::default();
    tch::no_grad(|| -> Result<(), ModelError> {
        for block in users.chunks(chunk.max(1)) {
            let scores = score(&Tensor::from_slice(block))?;
            // Re-index the candidate lists by row of this chunk.
            let sub: Vec<Vec<i64>> = block.iter().map(|&x| lists[x as usize].clone()).collect();
            let cand_rows = match cand {
                Candidates::AllBut(_) => Candidates::AllBut(&sub),
                Candidates::Only(_) => Candidates::Only(&sub),
            };
            let tops = top_k(&scores, 0..block.len(), &cand_rows, kmax)?;
            for (row, top) in tops.iter().enumerate() {
                acc.add(top, &positives[block[row] as usize], ks);
            }
        }
        Ok(())
    })?;
    let (n_users, values) = acc.finish();
    Ok(RankingMetrics {
        protocol: Protocol {
            split,
            excluded: excluded_splits,
            ranking,
            users: format!("users with at least one {} item", split.name()),
            items: ni,
            filtering: filtering.to_string(),
        },
        users: n_users,
        values,
    })
}

/// AUC over rows (`labels` > 0.5 are positives), ties given their average rank; None when a class
/// is missing.
pub fn auc(scores: &[f32], labels: &[f32]) -> Option<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut pos) = (0.0, 0usize);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            if labels[o] > 0.5 {
                rank_sum += avg;
                pos += 1;
            }
        }
        i = j + 1;
    }
    let neg = scores.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    Some((rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos * neg) as f64)
}

/// Mean binary cross-entropy of σ(logit) against 0/1 labels, computed stably from logits.
pub fn logloss(logits: &[f32], labels: &[f32]) -> f64 {
    let n = logits.len().max(1) as f64;
    logits
        .iter()
        .zip(labels)
        .map(|(&x, &y)| {
            let (x, y) = (x as f64, y as f64);
            // log(1 + e^-|x|) + max(x, 0) - x*y
            (1.0 + (-x.abs()).exp()).ln() + x.max(0.0) - x * y
        })
        .sum::<f64>()
        / n
}

/// AUC and log-loss of `model`'s scores on the rows of `split` against their labels.
pub fn evaluate_pointwise(
    model: &Model,
    data: &Interactions,
    features: &FeatureTensors,
    split: Split,
) -> Result<PointwiseMetrics, ModelError> {
    let part = data.part(split);
    let device = model.device();
    let mut scores = Vec::with_capacity(part.len());
    tch::no_grad(|| -> Result<(), ModelError> {
        for (us, is) in part.users.chunks(65536).zip(part.items.chunks(65536)) {
            let u = Tensor::from_slice(us).to_device(device);
            let i = Tensor::from_slice(is).to_device(device);
            let s = model.forward(&model.inputs_for(&u, &i, features)?, false)?;
            scores.extend(Vec::<f32>::try_from(&s.f_to_device(Device::Cpu)?)?);
        }
        Ok(())
    })?;
    Ok(PointwiseMetrics {
        split,
        rows: part.len(),
        auc: auc(&scores, &part.labels),
        logloss: logloss(&scores, &part.labels),
    })
}

/// Floats the largest intermediate of an evaluation chunk may hold: 4M (16 MB), under glibc's
/// mmap threshold (32 MB at most), so each chunk reuses the last one's memory. At 64M floats every
/// chunk's tensors were mapped afresh and page-faulted in, and half of the quick start's time was
/// spent in the kernel.
pub const CHUNK_FLOATS: usize = 1 << 22;

/// Users scored together against all `items`, `per_pair` floats per (user, item) pair.
pub fn users_per_chunk(items: usize, per_pair: usize) -> usize {
    (CHUNK_FLOATS / (items * per_pair).max(1)).clamp(1, 8192)
}

#[cfg(test)]
mod chunk_tests {
    use super::*;

    #[test]
    fn an_evaluation_chunk_stays_under_the_mmap_threshold() {
        for (items, per_pair) in [(500, 64), (1682, 32), (80, 16), (100_000, 128)] {
            let users = users_per_chunk(items, per_pair);
            let floats = users * items * per_pair;
            assert!(users == 1 || floats * 4 <= 16 << 20, "{users} users × {items} × {per_pair} = {floats} floats");
        }
    }
}
