//! A seeded user simulator for recommender experiments, after RecSim (long-term satisfaction and
//! interest evolution) and KuaiSim (leave and return): users with latent interests and a hidden
//! satisfaction, items with quality and a clickbait level. It generates logged interactions under
//! a behaviour policy, runs online A/B experiments with delayed metrics on a virtual clock, and
//! synthesises relative deltas with confidence intervals into launch decisions.
//!
//! Pure: no I/O, no clock, no global randomness. The equations and parameter values are in this
//! crate's README.md.

#![warn(missing_docs)]

pub mod cuped;
mod env;
mod error;
mod experiment;
mod logs;
mod metric;
mod params;
mod population;
pub mod power;
mod ranker;
mod rng;
mod score_table;
pub mod sequential;
pub mod stats;
pub mod synthesis;
mod table;
mod visit;
mod world;

pub use env::{EnvSpec, ENV_FILE};
pub use error::SimError;
pub use experiment::{
    arm_name, Experiment, ExperimentConfig, ExperimentState, Visit, DEFAULT_RANKED, DEFAULT_RETURN_WINDOW,
};
pub use logs::{collect_logs, logs, LogSummary};
pub use metric::Metric;
pub use params::Params;
pub use population::Population;
pub use power::Power;
pub use ranker::Ranker;
pub use score_table::{top_of, ScoreTable};
pub use synthesis::{Analysis, Decision, Delta, Guardrail, GuardrailRule, Interval, Units, Verdict};
pub use table::{MetricRow, MetricTable, TableError};
pub use visit::{Impression, EPOCH};
pub use world::{World, WorldSpec, DEFAULT_DIM};
