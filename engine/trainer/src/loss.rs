//! Training losses over a batch of positives and their sampled negatives.

use serde::{Deserialize, Serialize};
use tch::{Kind, Reduction, Tensor};

/// What the model is trained to minimise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Bayesian personalised ranking: `-log σ(s⁺ - s⁻)` per (positive, negative) pair.
    Bpr,
    /// Binary cross-entropy on logits: positives 1 and sampled negatives 0, or the rows' own
    /// 0/1 labels when no negatives are sampled.
    Bce,
    /// Softmax over the positive and its sampled negatives (logQ-corrected), target the positive.
    SampledSoftmax,
    /// Squared error against the rows' labels (explicit ratings); no negatives.
    Mse,
}

impl Loss {
    /// The loss called `name` (`bpr`, `bce`, `sampled_softmax`, `mse`).
    pub fn from_name(name: &str) -> Option<Loss> {
        Some(match name {
            "bpr" => Loss::Bpr,
            "bce" => Loss::Bce,
            "sampled_softmax" | "softmax" => Loss::SampledSoftmax,
            "mse" => Loss::Mse,
            _ => return None,
        })
    }

    /// Whether the loss needs sampled negatives (BCE works either way).
    pub fn needs_negatives(self) -> bool {
        matches!(self, Loss::Bpr | Loss::SampledSoftmax)
    }

    /// The batch loss. `scores` is `[B, 1 + n]` (column 0 the row's own item, then `n` negatives)
    /// or `[B, 1]` without negatives; `labels` and `weights` are `[B]`; `log_q` is `[B, 1 + n]`,
    /// the sampling log-probability of each scored item (sampled softmax only). `weights` of
    /// `None` means all ones (skips a multiply per step).
    pub fn compute(
        self,
        scores: &Tensor,
        labels: &Tensor,
        weights: Option<&Tensor>,
        log_q: Option<&Tensor>,
    ) -> Result<Tensor, tch::TchError> {
        let n = scores.size()[1] - 1;
        let per_row =
            match self {
                Loss::Bpr => {
                    let pos = scores.f_narrow(1, 0, 1)?;
                    let neg = scores.f_narrow(1, 1, n)?;
                    pos.f_sub(&neg)?.f_log_sigmoid()?.f_neg()?.f_mean_dim([1i64].as_slice(), false, Kind::Float)?
                }
                Loss::Bce => {
                    let target = if n == 0 {
                        labels.f_view([-1, 1])?
                    } else {
                        let t = scores.f_zeros_like()?;
                        let _ = t.f_narrow(1, 0, 1)?.f_fill_(1.0)?;
                        t
                    };
                    scores
                        .f_binary_cross_entropy_with_logits::<Tensor>(&target, None, None, Reduction::None)?
                        .f_mean_dim([1i64].as_slice(), false, Kind::Float)?
                }
                Loss::SampledSoftmax => {
                    // Subtracting log q makes the sampled softmax an unbiased estimate of the full one.
                    let logits = match log_q {
                        Some(q) => scores.f_sub(q)?,
                        None => scores.shallow_clone(),
                    };
                    logits.f_log_softmax(1, Kind::Float)?.f_narrow(1, 0, 1)?.f_neg()?.f_view([-1])?
                }
                Loss::Mse => scores.f_narrow(1, 0, 1)?.f_view([-1])?.f_sub(labels)?.f_square()?,
            };
        match weights {
            None => per_row.f_mean(Kind::Float),
            Some(w) => per_row.f_mul(w)?.f_sum(Kind::Float)?.f_div(&w.f_sum(Kind::Float)?),
        }
    }
}
