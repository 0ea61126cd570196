//! What an `Env` artifact holds: either a simulated population to run experiments on, or a table
//! of metrics from a team's own experiment platform. Serialised as the artifact's `env.json`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::WorldSpec;

/// File name of an environment inside its artifact folder.
pub const ENV_FILE: &str = "env.json";

/// An online environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EnvSpec {
    /// The simulator on a generated world (`std::sim::satisfaction`).
    Simulator {
        /// The world: the same (users, items, seed) as `std::sim::logs` gives the same users and items.
        world: WorldSpec,
        /// Days an experiment runs unless the loop says otherwise.
        days: u32,
        /// Days until a return is known.
        return_window: u32,
    },
    /// Metrics read from a table (`std::sim::from_table`): arm, day, metric, value.
    Table {
        /// The CSV or Parquet file.
        path: PathBuf,
        /// Days until a return is known.
        return_window: u32,
    },
}
