//! The simulated world: users with latent interests and a baseline mood, items with embeddings,
//! quality, a clickbait level and a popularity. Built from (users, items, seed[, dim]) alone, so the
//! logs and the online environment of one workflow see the same users and items.

use serde::{Deserialize, Serialize};

use crate::rng::{normal, stream, Purpose};
use crate::{Params, SimError};

/// Latent dimension when none is given: small, so 100k users fit in a few megabytes.
pub const DEFAULT_DIM: usize = 8;

/// How to rebuild a generated world: the (users, items, seed, dim) it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorldSpec {
    /// Number of users; ids are `0..users`.
    pub users: usize,
    /// Number of items; ids are `0..items`.
    pub items: usize,
    /// The seed everything is drawn from.
    pub seed: u64,
    /// Latent dimension.
    #[serde(default = "default_dim")]
    pub dim: usize,
    /// Response-model coefficients.
    #[serde(default)]
    pub params: Params,
}

fn default_dim() -> usize {
    DEFAULT_DIM
}

impl WorldSpec {
    /// A spec with the default dimension and parameters.
    pub fn new(users: usize, items: usize, seed: u64) -> Self {
        WorldSpec { users, items, seed, dim: DEFAULT_DIM, params: Params::default() }
    }

    /// The world it describes.
    pub fn build(&self) -> Result<World, SimError> {
        Ok(World::with_dim(self.users, self.items, self.seed, self.dim)?.with_params(self.params.clone()))
    }
}

/// Users and items with their hidden attributes. Ids are raw indices: user `u` is row `u`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct World {
    dim: usize,
    seed: u64,
    params: Params,
    /// users × dim, row-major.
    user_interest: Vec<f32>,
    /// Per-user offset of the satisfaction logit: some people are simply happier.
    user_mood: Vec<f32>,
    /// Per-user activity `a_u ~ N(0, 1)`, scaled by `Params::activity_spread`.
    #[serde(default)]
    user_activity: Vec<f32>,
    /// items × dim, row-major.
    item_embedding: Vec<f32>,
    item_quality: Vec<f32>,
    item_clickbait: Vec<f32>,
    item_popularity: Vec<f32>,
}

impl World {
    /// A generated world of `users` × `items` with the default dimension.
    pub fn new(users: usize, items: usize, seed: u64) -> Result<World, SimError> {
        World::with_dim(users, items, seed, DEFAULT_DIM)
    }

    /// A generated world with latent dimension `dim`.
    ///
    /// Interests and embeddings are N(0, 1/√dim) per component, so a relevance `θ·φ` has unit
    /// variance whatever the dimension.
    pub fn with_dim(users: usize, items: usize, seed: u64, dim: usize) -> Result<World, SimError> {
        positive("users", users)?;
        positive("items", items)?;
        positive("dim", dim)?;
        let sd = (dim as f32).powf(-0.25);
        let mut rng = stream(seed, Purpose::World, 0, 0);
        let user_interest = (0..users * dim).map(|_| sd * normal(&mut rng)).collect();
        let mut rng = stream(seed, Purpose::World, 1, 0);
        let item_embedding = (0..items * dim).map(|_| sd * normal(&mut rng)).collect();
        let mut world = World {
            dim,
            seed,
            params: Params::default(),
            user_interest,
            user_mood: Vec::new(),
            user_activity: Vec::new(),
            item_embedding,
            item_quality: Vec::new(),
            item_clickbait: Vec::new(),
            item_popularity: Vec::new(),
        };
        world.draw_attributes(users, items);
        Ok(world)
    }

    /// A world calibrated from real data: user and item factors (row-major, `dim` wide) of a
    /// matrix factorisation, e.g. BPR-MF trained on MovieLens (see README.md). Quality, clickbait,
    /// popularity and moods are still drawn from `seed`; the factors are rescaled so relevance has
    /// unit variance, as in a generated world.
    pub fn from_factors(user_factors: &[f32], item_factors: &[f32], dim: usize, seed: u64) -> Result<World, SimError> {
        positive("dim", dim)?;
        for (what, m) in [("user factors", user_factors), ("item factors", item_factors)] {
            if m.is_empty() || m.len() % dim != 0 {
                return Err(SimError::Ragged { what, len: m.len(), dim });
            }
            if let Some(index) = m.iter().position(|v| !v.is_finite()) {
                return Err(SimError::NotFinite { what: what.to_string(), index });
            }
        }
        let (users, items) = (user_factors.len() / dim, item_factors.len() / dim);
        let scale = relevance_scale(user_factors, item_factors, dim);
        let mut world = World {
            dim,
            seed,
            params: Params::default(),
            user_interest: user_factors.iter().map(|v| v * scale).collect(),
            user_mood: Vec::new(),
            user_activity: Vec::new(),
            item_embedding: item_factors.iter().map(|v| v * scale).collect(),
            item_quality: Vec::new(),
            item_clickbait: Vec::new(),
            item_popularity: Vec::new(),
        };
        world.draw_attributes(users, items);
        Ok(world)
    }

    /// The same world with other response-model coefficients.
    pub fn with_params(mut self, params: Params) -> World {
        self.params = params;
        self
    }

    /// Quality ~ N(0, 0.5), clickbait = U² (mostly honest items, a long tail of bait),
    /// popularity = exp(0.8·N + 0.5·clickbait) (bait collected engagement in the past).
    fn draw_attributes(&mut self, users: usize, items: usize) {
        let mut rng = stream(self.seed, Purpose::World, 2, 0);
        self.user_mood = (0..users).map(|_| 0.5 * normal(&mut rng)).collect();
        let mut rng = stream(self.seed, Purpose::World, 3, 0);
        self.item_quality = (0..items).map(|_| 0.5 * normal(&mut rng)).collect();
        self.item_clickbait = (0..items)
            .map(|_| {
                let u: f32 = rand::Rng::gen(&mut rng);
                u * u
            })
            .collect();
        self.item_popularity =
            (0..items).map(|i| (0.8 * normal(&mut rng) + 0.5 * self.item_clickbait[i]).exp()).collect();
        // A stream of its own, so the attributes above are what they always were.
        let mut rng = stream(self.seed, Purpose::World, 4, 0);
        self.user_activity = (0..users).map(|_| normal(&mut rng)).collect();
    }

    /// Number of users.
    pub fn users(&self) -> usize {
        self.user_mood.len()
    }

    /// Number of items.
    pub fn items(&self) -> usize {
        self.item_quality.len()
    }

    /// Latent dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The seed the world was drawn from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Response-model coefficients.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// User `u`'s initial interests.
    pub fn interest(&self, u: usize) -> &[f32] {
        &self.user_interest[u * self.dim..(u + 1) * self.dim]
    }

    /// Item `i`'s embedding.
    pub fn embedding(&self, i: usize) -> &[f32] {
        &self.item_embedding[i * self.dim..(i + 1) * self.dim]
    }

    /// User `u`'s mood: the satisfaction logit with nothing consumed.
    pub fn mood(&self, u: usize) -> f32 {
        self.user_mood[u]
    }

    /// User `u`'s activity: how much more (or less) often than others of their satisfaction they
    /// come back, in standard deviations.
    pub fn activity(&self, u: usize) -> f32 {
        self.user_activity[u]
    }

    /// Item qualities (hidden from logs).
    pub fn quality(&self) -> &[f32] {
        &self.item_quality
    }

    /// Item clickbait levels in [0, 1] (hidden from logs).
    pub fn clickbait(&self) -> &[f32] {
        &self.item_clickbait
    }

    /// Item popularity weights, which the logging policy samples by.
    pub fn popularity(&self) -> &[f32] {
        &self.item_popularity
    }

    /// A 64-bit digest of every value, to check that a saved experiment resumes on the same world.
    pub fn fingerprint(&self) -> u64 {
        let mut h = crate::rng::mix(self.dim as u64, self.seed);
        let all = [
            &self.user_interest,
            &self.user_mood,
            &self.user_activity,
            &self.item_embedding,
            &self.item_quality,
            &self.item_clickbait,
            &self.item_popularity,
        ];
        for v in all.into_iter().flatten() {
            h = crate::rng::mix(h, u64::from(v.to_bits()));
        }
        h
    }
}

/// Fails unless `value` is at least 1.
fn positive(what: &'static str, value: usize) -> Result<(), SimError> {
    if value == 0 {
        Err(SimError::Empty { what, value })
    } else {
        Ok(())
    }
}

/// The factor by which to multiply both factor matrices so that `θ·φ` has unit standard
/// deviation over (a deterministic sample of) user–item pairs.
fn relevance_scale(users: &[f32], items: &[f32], dim: usize) -> f32 {
    let (nu, ni) = (users.len() / dim, items.len() / dim);
    let pairs = (nu * ni).min(10_000);
    let dots: Vec<f64> = (0..pairs)
        .map(|k| {
            let (u, i) = ((k * 7919) % nu, (k * 104_729 + k / nu) % ni);
            let (a, b) = (&users[u * dim..(u + 1) * dim], &items[i * dim..(i + 1) * dim]);
            a.iter().zip(b).map(|(x, y)| f64::from(x * y)).sum()
        })
        .collect();
    let mean = dots.iter().sum::<f64>() / dots.len() as f64;
    let sd = (dots.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / dots.len() as f64).sqrt();
    if sd > 1e-12 {
        (1.0 / sd).sqrt() as f32
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_world() {
        assert_eq!(World::new(50, 20, 3).unwrap(), World::new(50, 20, 3).unwrap());
        assert_ne!(World::new(50, 20, 3).unwrap().fingerprint(), World::new(50, 20, 4).unwrap().fingerprint());
    }

    #[test]
    fn empty_sizes_are_refused() {
        assert_eq!(World::new(0, 5, 1).unwrap_err(), SimError::Empty { what: "users", value: 0 });
    }

    #[test]
    fn factors_are_rescaled_to_unit_relevance() {
        let users: Vec<f32> = (0..40 * 4).map(|k| ((k * 37 % 11) as f32 - 5.0) * 3.0).collect();
        let items: Vec<f32> = (0..30 * 4).map(|k| ((k * 13 % 7) as f32 - 3.0) * 2.0).collect();
        let w = World::from_factors(&users, &items, 4, 1).unwrap();
        assert_eq!((w.users(), w.items()), (40, 30));
        let scale = relevance_scale(&w.user_interest, &w.item_embedding, 4);
        assert!((scale - 1.0).abs() < 0.05, "scale {scale}");
    }

    #[test]
    fn ragged_factors_are_refused() {
        let err = World::from_factors(&[1.0; 7], &[1.0; 8], 4, 1).unwrap_err();
        assert!(err.to_string().contains("user factors has 7 values"), "{err}");
    }
}
