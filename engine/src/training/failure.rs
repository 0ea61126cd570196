//! Why a candidate did not train: one enum the loops journal as a reason.

use trainer::data::DataError;
use trainer::model::ModelError;
use trainer::TrainError;

/// Why [`super::train_candidate`] (or a probe) produced no model. Each kind is a different
/// verdict for an evolution loop: a diverging optimizer, a model too slow for the budget, data
/// that cannot feed the model, and a model that cannot be built are not the same mistake.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TrainFailure {
    /// The loss or the weights became NaN or infinite.
    #[error("diverged at epoch {epoch}: the loss or the weights became NaN or infinite")]
    Diverged {
        /// The epoch (1-based) in which it happened.
        epoch: usize,
    },
    /// Training would not finish within `max_train_seconds`.
    #[error("too slow: {projected:.1}s projected for {epochs} epochs, over the {limit:.1}s budget")]
    TooSlow {
        /// Seconds the whole run would take at the measured pace.
        projected: f64,
        /// The budget.
        limit: f64,
        /// Epochs asked for.
        epochs: usize,
    },
    /// The split cannot be read or has the wrong columns or no positives.
    #[error("bad data: {0}")]
    BadData(String),
    /// The reward could not be loaded or failed on a row.
    #[error("reward: {0}")]
    Reward(String),
    /// The model block could not be turned into a tch module.
    #[error("model build error: {0}")]
    ModelBuild(String),
    /// The request itself is wrong (unknown loss, optimizer, device, model or reward name).
    #[error("invalid request: {0}")]
    Config(String),
    /// Writing or reading the output folder, or libtorch, failed.
    #[error("{0}")]
    Internal(String),
}

impl TrainFailure {
    /// Whether the machine failed, not the candidate: a full disk or quota, a failing or
    /// read-only device, no file handles (running out of memory is left to the candidate: a
    /// model too large fails the same way every time). The messages come through libtorch, DuckDB
    /// and std as text, so they are recognised by the operating system's own wording.
    pub fn is_environmental(&self) -> bool {
        const FAULTS: &[&str] = &[
            "No space left on device",
            "Disk quota exceeded",
            "Input/output error",
            "Read-only file system",
            "Too many open files",
        ];
        let text = self.to_string();
        FAULTS.iter().any(|f| text.contains(f))
    }

    /// A short machine-readable kind: `diverged`, `too_slow`, `bad_data`, `reward`,
    /// `model_build`, `config`, `internal`.
    pub fn kind(&self) -> &'static str {
        match self {
            TrainFailure::Diverged { .. } => "diverged",
            TrainFailure::TooSlow { .. } => "too_slow",
            TrainFailure::BadData(_) => "bad_data",
            TrainFailure::Reward(_) => "reward",
            TrainFailure::ModelBuild(_) => "model_build",
            TrainFailure::Config(_) => "config",
            TrainFailure::Internal(_) => "internal",
        }
    }
}

impl From<TrainError> for TrainFailure {
    fn from(e: TrainError) -> Self {
        match e {
            // The trainer counts epochs from 0; people and journals count from 1.
            TrainError::Diverged { epoch, .. } => TrainFailure::Diverged { epoch: epoch + 1 },
            TrainError::Config(m) => TrainFailure::Config(m),
            TrainError::Cancelled | TrainError::Model(ModelError::Cancelled) => {
                TrainFailure::Internal("cancelled: the step timed out or the run was stopped".into())
            }
            TrainError::Model(m) => TrainFailure::ModelBuild(m.to_string()),
            TrainError::Data(d) => d.into(),
            TrainError::Checkpoint(m) => TrainFailure::Internal(format!("checkpoint: {m}")),
            TrainError::Torch(t) => TrainFailure::Internal(format!("libtorch: {t}")),
        }
    }
}

impl From<DataError> for TrainFailure {
    fn from(e: DataError) -> Self {
        TrainFailure::BadData(e.to_string())
    }
}
