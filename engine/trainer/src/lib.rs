#![warn(missing_docs)]
//! The libtorch trainer: checked `.evo` model blocks become tch modules, trained on interaction
//! data with sampled negatives, scored with full-ranking metrics, and checkpointed to
//! safetensors.
//!
//! Entry points: [`train::train`] (a whole run), [`train::compute_loss`] (a short probe),
//! [`metrics::evaluate`] (offline metrics), [`checkpoint::resume`] (continue a saved run).

pub mod allocator;
pub mod checkpoint;
pub mod data;
pub mod device;
pub mod ease;
pub mod features;
pub mod graph;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod schedule;
pub mod train;

pub use data::{Interactions, Row, Split};
pub use device::DeviceChoice;
pub use ease::Ease;
pub use metrics::{evaluate, RankingMetrics};
pub use model::Model;
pub use train::{compute_loss, train, TrainConfig, TrainError, Trained, Trainer};
