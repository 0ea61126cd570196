//! What an arm of an experiment shows: each user's items, best first. A dense [`ScoreTable`]
//! ranks by sorting a row; the engine ranks with a trained model a block of users at a time, so a
//! million-user study never holds a users × items matrix.

use crate::{ScoreTable, SimError};

/// Users in the sample a ranker's fingerprint is taken over.
const FINGERPRINT_USERS: usize = 64;

/// Ranks items for users.
pub trait Ranker: Send {
    /// Users and items it ranks (ids `0..users`, `0..items`).
    fn shape(&self) -> (usize, usize);

    /// Appends the `depth` best items of each of `users`, best first, to `out`
    /// (`users.len() × depth` ids; `depth` is at most the item count).
    fn rank(&self, users: &[u32], depth: usize, out: &mut Vec<u32>) -> Result<(), SimError>;

    /// A 64-bit digest, to check that a saved experiment resumes with the same arms: by default
    /// the rankings of the first users, which differ between any two models that matter.
    fn fingerprint(&self, depth: usize) -> Result<u64, SimError> {
        let (users, items) = self.shape();
        let sample: Vec<u32> = (0..users.min(FINGERPRINT_USERS) as u32).collect();
        let mut out = Vec::new();
        self.rank(&sample, depth.min(items), &mut out)?;
        let seed = crate::rng::mix(users as u64, items as u64);
        Ok(out.iter().fold(seed, |h, &i| crate::rng::mix(h, u64::from(i))))
    }
}

impl Ranker for ScoreTable {
    fn shape(&self) -> (usize, usize) {
        (self.users(), self.items())
    }

    fn rank(&self, users: &[u32], depth: usize, out: &mut Vec<u32>) -> Result<(), SimError> {
        for &u in users {
            out.extend(self.top(u as usize, depth));
        }
        Ok(())
    }

    fn fingerprint(&self, _depth: usize) -> Result<u64, SimError> {
        Ok(ScoreTable::fingerprint(self))
    }
}
