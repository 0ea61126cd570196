//! Training as a library for steps and evolution loops: a [`TrainRequest`] (checked program,
//! model/optimizer/reward blocks, a split folder, settings) becomes a trained, evaluated,
//! saved candidate ([`train_candidate`] → [`TrainReport`]) or a typed [`TrainFailure`]; the
//! agent tools' short probes ([`compute_loss`], [`compute_eval`]); and a [`Scorer`] that loads
//! a saved candidate and scores raw user × item ids.
//!
//! Everything here blocks (libtorch, DuckDB, the wasm sandbox): call it from `spawn_blocking`.
//! The positives rule (what a reward changes, and what it never changes) is in [`load`].
//!
//! ```ignore
//! let mut req = TrainRequest::new(program.clone(), "bpr_mf", split.dir.clone());
//! req.reward = Some("satisfaction_aware".into());
//! req.epochs = 5;
//! let report = train_candidate(&req, &out_dir, |epoch, loss| eprintln!("{epoch}: {loss}"))?;
//! let ndcg = report.valid_metric("ndcg@10".parse()?);
//! let scores = Scorer::load(&report.checkpoint)?.scores(&[1, 2], &[10, 20, 30])?;
//! ```

// The evolution loops (`std::loops`) are this API's main users; items the steps do not use yet
// are not dead, they are waiting for them.
#![allow(dead_code, unused_imports)]

mod candidate;
mod failure;
mod features;
pub mod load;
mod request;
mod scorer;

pub use candidate::{
    compute_eval, compute_loss, flat, train_candidate, LossProbe, ModelSummary, TrainReport, IDS_FILE, REPORT_FILE,
};
pub use failure::TrainFailure;
pub use request::{optimizer, ResolvedOptimizer, TrainRequest};
pub use scorer::Scorer;
