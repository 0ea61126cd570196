//! The users' changing state: drifting interests, net positive exposure (the hidden long-term
//! satisfaction), when each comes back and whether they have left. Serialisable, so an experiment
//! can be checkpointed after any day.

use serde::{Deserialize, Serialize};

use crate::rng::{geometric, sigmoid, stream, Purpose};
use crate::World;

/// `next_visit` of a user who has left for good.
pub(crate) const NEVER: u32 = u32::MAX;

/// The state of a set of users, each by its slot; `users[slot]` is the world's user id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Population {
    pub(crate) users: Vec<u32>,
    /// slots × dim.
    pub(crate) interest: Vec<f32>,
    /// Net positive exposure: a smoothed sum of (quality − clickbait) effects of what was consumed.
    pub(crate) exposure: Vec<f32>,
    pub(crate) next_visit: Vec<u32>,
    /// Day of the last visit, or `NEVER` before the first.
    pub(crate) last_visit: Vec<u32>,
    /// Where each user is in their ranked list (experiments only).
    pub(crate) cursor: Vec<u32>,
}

impl Population {
    /// Fresh users: initial interests, no exposure, a first visit day drawn from their mood.
    pub(crate) fn new(world: &World, users: Vec<u32>, seed: u64) -> Population {
        let dim = world.dim();
        let mut interest = Vec::with_capacity(users.len() * dim);
        let mut next_visit = Vec::with_capacity(users.len());
        for &u in &users {
            interest.extend_from_slice(world.interest(u as usize));
            let mut rng = stream(seed, Purpose::FirstVisit, u64::from(u), 0);
            let s = sigmoid(world.mood(u as usize));
            next_visit.push(geometric(&mut rng, return_probability(world, u as usize, s)) - 1);
        }
        let n = users.len();
        Population {
            users,
            interest,
            exposure: vec![0.0; n],
            next_visit,
            last_visit: vec![NEVER; n],
            cursor: vec![0; n],
        }
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are no users.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The hidden satisfaction `S = σ(τ·E + mood)` of the user in `slot`.
    pub fn satisfaction(&self, world: &World, slot: usize) -> f32 {
        let user = self.users[slot] as usize;
        sigmoid(world.params().satisfaction_scale * self.exposure[slot] + world.mood(user))
    }
}

/// Daily chance of user `u` coming back at satisfaction `s`: linear between `return_min` and
/// `return_max`, its logit shifted by the user's activity.
pub(crate) fn return_probability(world: &World, u: usize, s: f32) -> f32 {
    let p = world.params();
    let base = p.return_min + (p.return_max - p.return_min) * s;
    sigmoid((base / (1.0 - base)).ln() + p.activity_spread * world.activity(u))
}
