//! A policy arm: a dense table of scores, users × items, indexed by the raw ids of the world and
//! its logs. The arm shows each user their items in descending score.

use crate::SimError;

/// Scores of every (user, item), row-major: `scores[u * items + i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreTable {
    users: usize,
    items: usize,
    scores: Vec<f32>,
}

impl ScoreTable {
    /// A table from its values; every score must be finite.
    pub fn new(users: usize, items: usize, scores: Vec<f32>) -> Result<ScoreTable, SimError> {
        if users == 0 || items == 0 || scores.len() != users * items {
            return Err(SimError::ShapeMismatch {
                what: format!("a score table of {} values", scores.len()),
                users,
                items,
                world_users: users,
                world_items: items,
            });
        }
        if let Some(index) = scores.iter().position(|s| !s.is_finite()) {
            return Err(SimError::NotFinite { what: "the score table".into(), index });
        }
        Ok(ScoreTable { users, items, scores })
    }

    /// A table computed by `score(user, item)`.
    pub fn from_fn(users: usize, items: usize, score: impl Fn(u32, u32) -> f32) -> Result<ScoreTable, SimError> {
        let mut scores = Vec::with_capacity(users * items);
        for u in 0..users as u32 {
            scores.extend((0..items as u32).map(|i| score(u, i)));
        }
        ScoreTable::new(users, items, scores)
    }

    /// Users (rows).
    pub fn users(&self) -> usize {
        self.users
    }

    /// Items (columns).
    pub fn items(&self) -> usize {
        self.items
    }

    /// The scores of user `u`.
    pub fn row(&self, u: usize) -> &[f32] {
        &self.scores[u * self.items..(u + 1) * self.items]
    }

    /// The `n` best items of user `u`, best first; ties go to the lower id.
    pub fn top(&self, u: usize, n: usize) -> Vec<u32> {
        top_of(self.row(u), n)
    }

    /// A 64-bit digest of the table, to check that a saved experiment resumes with the same arms.
    pub fn fingerprint(&self) -> u64 {
        let seed = crate::rng::mix(self.users as u64, self.items as u64);
        self.scores.iter().fold(seed, |h, s| crate::rng::mix(h, u64::from(s.to_bits())))
    }
}

/// The `n` best items of one user's `row` of scores, best first; ties go to the lower id.
pub fn top_of(row: &[f32], n: usize) -> Vec<u32> {
    let mut ids: Vec<u32> = (0..row.len() as u32).collect();
    let better = |a: &u32, b: &u32| row[*b as usize].total_cmp(&row[*a as usize]).then(a.cmp(b));
    let n = n.min(ids.len());
    if n < ids.len() {
        ids.select_nth_unstable_by(n, better);
        ids.truncate(n);
    }
    ids.sort_unstable_by(better);
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_orders_by_score_then_id() {
        let t = ScoreTable::new(1, 5, vec![0.1, 0.9, 0.5, 0.9, -1.0]).unwrap();
        assert_eq!(t.top(0, 3), vec![1, 3, 2]);
        assert_eq!(t.top(0, 10), vec![1, 3, 2, 0, 4]);
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(ScoreTable::new(2, 2, vec![0.0; 3]).is_err());
        let err = ScoreTable::new(1, 2, vec![0.0, f32::NAN]).unwrap_err();
        assert_eq!(err.to_string(), "the score table has a value that is not a finite number at position 1");
    }
}
