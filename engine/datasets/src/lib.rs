//! Interaction data for the `std::data` steps: read files with a declared schema, filter, split.
//!
//! Every operation is a pure function from files to files: it opens its own in-memory DuckDB
//! connection, reads its inputs (CSV or Parquet), writes Parquet into the folder it is given and
//! returns a small serialisable [`Meta`]. Nothing is shared between calls, so steps can run in
//! parallel and be cached by their inputs.
//!
//! Outputs are deterministic: every file is written with an explicit `ORDER BY` (DuckDB cuts row
//! groups at thread-dependent places otherwise), and random choices come from DuckDB's `hash` of
//! the row and the seed, never from `random()`.

#![warn(missing_docs)]

mod cast;
mod column;
mod db;
mod error;
mod features;
mod filter;
mod meta;
mod read;
mod split;

pub use column::{Column, ColumnType};
pub use error::{Error, Result};
pub use features::with_features;
pub use filter::{filter_min, keep_scored};
pub use meta::{ColumnMeta, FilterStats, Meta, SplitCounts};
pub use read::{load_interactions, read_table};
pub use split::{leave_one_out, random_split, random_split_by_user, temporal_split};

/// File written by [`read_table`], [`load_interactions`] and [`filter_min`] inside their `out` folder.
pub const DATA_FILE: &str = "data.parquet";
/// Training part written by the splits inside their `out` folder.
pub const TRAIN_FILE: &str = "train.parquet";
/// Validation part written by the splits inside their `out` folder.
pub const VALID_FILE: &str = "valid.parquet";
/// Test part written by the splits inside their `out` folder.
pub const TEST_FILE: &str = "test.parquet";
/// Item attributes written by [`with_features`] beside a split's parts, keyed by `item`.
pub const ITEM_FEATURES_FILE: &str = "items.parquet";
/// User attributes written by [`with_features`] beside a split's parts, keyed by `user`.
pub const USER_FEATURES_FILE: &str = "users.parquet";
