//! Errors of the simulator: each says which input is wrong and how.

/// Why a simulator call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A size or count that must be positive is not.
    #[error("{what} must be at least 1, got {value}")]
    Empty {
        /// The argument.
        what: &'static str,
        /// The value given.
        value: usize,
    },
    /// A factor matrix whose length is not a multiple of its dimension.
    #[error("{what} has {len} values, which is not a whole number of rows of {dim}")]
    Ragged {
        /// Which matrix.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The row width.
        dim: usize,
    },
    /// A value that must be finite is not.
    #[error("{what} has a value that is not a finite number at position {index}")]
    NotFinite {
        /// Which input.
        what: String,
        /// Where.
        index: usize,
    },
    /// A score table whose shape does not match the world.
    #[error("{what} is {users} users × {items} items, but the world has {world_users} × {world_items}")]
    ShapeMismatch {
        /// Which table.
        what: String,
        /// Its users.
        users: usize,
        /// Its items.
        items: usize,
        /// The world's users.
        world_users: usize,
        /// The world's items.
        world_items: usize,
    },
    /// Arms that together want more than all the traffic, or none.
    #[error("traffic share {share} per arm × {arms} arms must be in (0, 1]")]
    Traffic {
        /// The share per arm.
        share: f64,
        /// Control plus treatments.
        arms: usize,
    },
    /// `step_day` after the last day.
    #[error("the experiment has already run all its {days} days")]
    Finished {
        /// Its length.
        days: u32,
    },
    /// A saved state that does not belong to the world or arms it is resumed with.
    #[error("cannot resume: {0}")]
    Resume(String),
    /// An arm could not rank its items (a model that failed to score).
    #[error("cannot rank: {0}")]
    Rank(String),
}
