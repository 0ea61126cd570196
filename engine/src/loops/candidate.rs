//! The hidden step that trains one candidate of a loop: the candidate's whole source is an
//! argument, so its cache key is the candidate itself, and a loop re-run after a kill finds the
//! candidates it had trained. Workflows cannot call it; loops add it to the running graph.

use std::sync::Arc;

use dsl::types::Value;
use indexmap::IndexMap;

use crate::fs_loader::FsLoader;
use crate::steps::{Step, StepContext, StepError};
use crate::training::{train_candidate, TrainFailure, TrainRequest};

/// The step's name in the graph and the journal.
pub const CANDIDATE_STEP: &str = "std::loops::candidate";

/// Trains and scores one candidate program.
pub struct TrainCandidate;

/// What a loop asks of one training.
pub struct Settings {
    pub epochs: i64,
    pub batch: i64,
    pub loss: String,
    pub seed: i64,
    pub device: String,
    /// 0: no limit.
    pub max_seconds: f64,
}

/// The arguments of a candidate node.
pub fn args(
    workflow: &str,
    overrides: &[(String, String)],
    source: &str,
    blocks: &super::Blocks,
    data: &str,
    settings: &Settings,
) -> IndexMap<String, Value> {
    let mut args = IndexMap::new();
    args.insert("workflow".into(), Value::Str(workflow.into()));
    args.insert(
        "overrides".into(),
        Value::List(overrides.iter().map(|(k, v)| Value::Str(format!("{k}={v}"))).collect()),
    );
    args.insert("source".into(), Value::Str(source.into()));
    args.insert("model".into(), Value::Str(blocks.model.clone()));
    args.insert("optimizer".into(), Value::Str(blocks.optimizer.clone().unwrap_or_default()));
    args.insert("reward".into(), Value::Str(blocks.reward.clone().unwrap_or_default()));
    args.insert("data".into(), Value::Node(data.into()));
    args.insert("epochs".into(), Value::Int(settings.epochs));
    args.insert("batch".into(), Value::Int(settings.batch));
    args.insert("loss".into(), Value::Str(settings.loss.clone()));
    args.insert("seed".into(), Value::Int(settings.seed));
    args.insert("device".into(), Value::Str(settings.device.clone()));
    args.insert("max_seconds".into(), Value::Float(settings.max_seconds));
    args
}

/// Compiles a candidate's source as the workflow file `workflow`.
pub fn compile(workflow: &str, source: &str, overrides: &[(String, String)]) -> Result<dsl::Program, String> {
    let checked = dsl::check(workflow, source, &FsLoader, overrides);
    checked.result.map_err(|diags| dsl::render::render(&diags, &checked.sources, false))
}

#[async_trait::async_trait]
impl Step for TrainCandidate {
    fn name(&self) -> &'static str {
        CANDIDATE_STEP
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let overrides: Vec<(String, String)> = match ctx.arg("overrides")? {
            Value::List(items) => items
                .iter()
                .filter_map(|v| match v {
                    Value::Str(s) => s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let program = compile(ctx.str("workflow")?, ctx.str("source")?, &overrides)
            .map_err(|e| StepError::permanent(format!("the candidate does not compile:\n{e}")))?;
        let mut req = TrainRequest::new(Arc::new(program), ctx.str("model")?, ctx.input("data")?.dir.clone());
        let optimizer = ctx.str("optimizer")?;
        if !optimizer.is_empty() {
            req.optimizer = Value::Optimizer(optimizer.to_string());
        }
        let reward = ctx.str("reward")?;
        req.reward = (!reward.is_empty()).then(|| reward.to_string());
        req.epochs = ctx.int("epochs")?.max(1) as usize;
        req.batch = ctx.int("batch")?.max(1) as usize;
        req.loss = ctx.str("loss")?.to_string();
        req.seed = ctx.int("seed")? as u64;
        req.device = ctx.str("device")?.to_string();
        let limit = ctx.float("max_seconds")?;
        req.max_train_seconds = (limit > 0.0).then_some(limit);
        let out = ctx.out_dir()?.to_path_buf();
        let progress = ctx.progress.clone();
        let epochs = req.epochs as u64;
        let report = tokio::task::spawn_blocking(move || {
            train_candidate(&req, &out, |epoch, loss| {
                progress.report(epoch as u64, epochs, &format!("epoch {epoch}, loss {loss:.4}"))
            })
        })
        .await
        .map_err(|e| StepError::permanent(format!("the training thread failed: {e}")))?;
        match report {
            Ok(report) => serde_json::to_value(&report).map_err(|e| StepError::permanent(e.to_string())),
            // An I/O or libtorch hiccup may pass; the other failures are the candidate's own.
            Err(TrainFailure::Internal(message)) => Err(StepError::transient(message)),
            // A candidate that cannot train is a result of the loop, not an error of the run:
            // the loop journals the reason and goes on (and a re-run need not retrain it).
            Err(failure) => Ok(failed(&failure)),
        }
    }
}

/// The output of a candidate that did not train.
fn failed(failure: &TrainFailure) -> serde_json::Value {
    serde_json::json!({ "failed": failure.kind(), "reason": failure.to_string() })
}
