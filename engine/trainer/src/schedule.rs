//! Learning-rate schedules: constant or cosine decay, each with an optional linear warm-up.

use serde::{Deserialize, Serialize};

/// The shape of the learning rate over a run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "name")]
pub enum Schedule {
    /// The base rate throughout, after `warmup_steps` of linear warm-up.
    Constant {
        /// Steps rising linearly from 0 to the base rate.
        warmup_steps: usize,
    },
    /// Cosine decay from the base rate to `min_factor` × base at the last step, after warm-up.
    Cosine {
        /// Steps rising linearly from 0 to the base rate.
        warmup_steps: usize,
        /// The final rate as a fraction of the base rate.
        min_factor: f64,
    },
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::Constant { warmup_steps: 0 }
    }
}

impl Schedule {
    /// The multiplier of the base rate at `step` (0-based) of a run of `total` steps.
    pub fn factor(&self, step: usize, total: usize) -> f64 {
        let warmup = match *self {
            Schedule::Constant { warmup_steps } | Schedule::Cosine { warmup_steps, .. } => warmup_steps,
        };
        if step < warmup {
            return (step + 1) as f64 / warmup as f64;
        }
        match *self {
            Schedule::Constant { .. } => 1.0,
            Schedule::Cosine { min_factor, .. } => {
                let span = total.saturating_sub(warmup).max(1) as f64;
                let progress = ((step - warmup) as f64 / span).min(1.0);
                min_factor + (1.0 - min_factor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}
