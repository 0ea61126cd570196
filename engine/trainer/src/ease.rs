//! EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): an item-item
//! model in closed form, `B = I - P · diag(1 / diag(P))` with `P = (XᵀX + λI)⁻¹` and `diag(B) = 0`,
//! where `X` is the binary user × item matrix of the training split. A user's scores are their
//! training row times `B`. No training loop, no seed: a strong anchor that a searched model must
//! beat to mean anything.

use tch::{Device, Kind, Tensor};

use crate::data::{Interactions, Split};
use crate::metrics::{evaluate_scores, users_per_chunk, Ranking, RankingMetrics};
use crate::model::ModelError;

/// The most items EASE accepts: its dense item × item inverse in f64 takes `items² × 8` bytes
/// (3.2 GB at 20,000 items).
pub const MAX_ITEMS: usize = 20_000;

/// Why an EASE model could not be fitted.
#[derive(Debug, thiserror::Error)]
pub enum EaseError {
    /// Too many items for the dense inverse.
    #[error(
        "EASE inverts a dense item × item matrix: {items} items would need {gb:.1} GB; it takes at most {max} items"
    )]
    TooManyItems {
        /// Items in the data.
        items: usize,
        /// Memory the inverse would take, in GB.
        gb: f64,
        /// [`MAX_ITEMS`].
        max: usize,
    },
    /// The regularisation must be positive for `XᵀX + λI` to be invertible.
    #[error("EASE's l2 must be above 0, got {0}")]
    BadL2(f64),
    /// libtorch reported an error.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// A fitted EASE model.
pub struct Ease {
    /// `[items, items]`, zero diagonal.
    weights: Tensor,
    /// `[users, items]`: each user's training items, 1.0 where seen.
    history: Tensor,
}

impl Ease {
    /// Fits EASE on `data`'s training split with regularisation `l2` (RecBole's default 250).
    pub fn fit(data: &Interactions, l2: f64) -> Result<Ease, EaseError> {
        let (nu, ni) = (data.n_users(), data.n_items());
        if ni > MAX_ITEMS {
            return Err(EaseError::TooManyItems { items: ni, gb: (ni * ni * 8) as f64 / 1e9, max: MAX_ITEMS });
        }
        if !(l2 > 0.0 && l2.is_finite()) {
            return Err(EaseError::BadL2(l2));
        }
        let mut x = vec![0f32; nu * ni];
        for (u, items) in data.part(Split::Train).by_user.iter().enumerate() {
            for &i in items {
                x[u * ni + i as usize] = 1.0;
            }
        }
        let history = Tensor::f_from_slice(&x)?.f_view([nu as i64, ni as i64])?;
        let x64 = history.f_to_kind(Kind::Double)?;
        let gram = x64.f_tr()?.f_mm(&x64)?;
        let eye = Tensor::f_eye(ni as i64, (Kind::Double, Device::Cpu))?;
        let p = Tensor::f_linalg_inv(&gram.f_add(&eye.f_mul_scalar(l2)?)?)?;
        // B_ij = -P_ij / P_jj off the diagonal, 0 on it.
        let b = p.f_div(&p.f_diagonal(0, 0, 1)?.f_neg()?.f_view([1, ni as i64])?)?;
        let weights = b.f_mul(&eye.f_neg()?.f_add_scalar(1.0)?)?.f_to_kind(Kind::Float)?;
        Ok(Ease { weights, history })
    }

    /// Scores of `users` (internal ids) for every item: `[users, items]`.
    pub fn scores(&self, users: &Tensor) -> Result<Tensor, tch::TchError> {
        self.history.f_index_select(0, users)?.f_mm(&self.weights)
    }

    /// Full-ranking metrics on `split`, seen items excluded as for any model ([`crate::evaluate`]).
    pub fn evaluate(
        &self,
        data: &Interactions,
        split: Split,
        ks: &[usize],
        filtering: &str,
    ) -> Result<RankingMetrics, ModelError> {
        let chunk = users_per_chunk(data.n_items(), 1);
        evaluate_scores(data, split, Ranking::Full, ks, filtering, chunk, |users| Ok(self.scores(users)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Row;

    /// EASE's weights solve the ridge regression of each item column on the others: for a tiny
    /// matrix, `B` computed here equals the normal-equation solution column by column.
    #[test]
    fn weights_are_the_constrained_ridge_solution() {
        let train: Vec<Row> = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 0), (2, 2), (3, 0), (3, 1), (3, 2)]
            .iter()
            .map(|&(u, i)| Row::implicit(u, i))
            .collect();
        let data = Interactions::new(&train, &[], &[]).unwrap();
        let ease = Ease::fit(&data, 0.5).unwrap();
        let b: Vec<f32> = Vec::try_from(ease.weights.reshape([-1])).unwrap();
        // For item j: minimise ||X_j - X_{-j} w||² + λ||w||², i.e. w = (X_{-j}ᵀX_{-j} + λI)⁻¹ X_{-j}ᵀ X_j.
        let x = ease.history.to_kind(Kind::Double);
        for j in 0..3i64 {
            let others: Vec<i64> = (0..3).filter(|&k| k != j).collect();
            let xo = x.index_select(1, &Tensor::from_slice(&others));
            let xj = x.narrow(1, j, 1);
            let g = xo.tr().mm(&xo) + Tensor::eye(2, (Kind::Double, Device::Cpu)) * 0.5;
            let w: Vec<f64> = Vec::try_from(g.inverse().mm(&xo.tr().mm(&xj)).reshape([-1])).unwrap();
            for (k, &i) in others.iter().enumerate() {
                let got = b[(i * 3 + j) as usize] as f64;
                assert!((got - w[k]).abs() < 1e-5, "B[{i},{j}] = {got}, ridge {}", w[k]);
            }
            assert_eq!(b[(j * 3 + j) as usize], 0.0, "diagonal");
        }
    }

    #[test]
    fn a_non_positive_l2_is_refused() {
        let data = Interactions::new(&[Row::implicit(0, 0)], &[], &[]).unwrap();
        assert!(matches!(Ease::fit(&data, 0.0), Err(EaseError::BadL2(_))));
        assert!(matches!(Ease::fit(&data, f64::NAN), Err(EaseError::BadL2(_))));
    }
}
