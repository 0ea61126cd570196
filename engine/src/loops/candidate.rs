//! The hidden step that trains one candidate of a loop. The candidate's whole source is an
//! argument (it is compiled as the workflow file, imports and all), but its cache key holds only
//! what training reads: the resolved model, optimizer and reward blocks (an external reward's
//! bytes too), the split and the settings. So a loop re-run after a kill, or with another budget,
//! finds the candidates it had trained, and a change in an imported module retrains exactly the
//! candidates it reaches. Workflows cannot call it; loops add it to the running graph.

use std::sync::Arc;

use dsl::metrics::MetricAt;
use dsl::types::Value;
use indexmap::IndexMap;

use crate::fs_loader::FsLoader;
use crate::steps::{KeyArgs, Step, StepContext, StepError, StepErrorKind};
use crate::training::{train_candidate, TrainFailure, TrainReport, TrainRequest};

/// The step's name in the graph and the journal.
pub const CANDIDATE_STEP: &str = "std::loops::candidate";

/// Trains and scores one candidate program.
pub struct TrainCandidate;

/// What a loop asks of one training.
#[derive(Clone)]
pub struct Settings {
    /// The validation metric candidates are ranked by (and early-stopped on).
    pub metric: MetricAt,
    pub epochs: i64,
    /// Epochs without a better validation metric before a candidate stops; 0: never.
    pub patience: i64,
    pub batch: i64,
    pub loss: String,
    pub seed: i64,
    pub device: String,
    /// 0: no limit.
    pub max_seconds: f64,
    /// The reward block whose rows scored > 0 are the held-out positives (`judge:`); none: clicks.
    pub judge: Option<String>,
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
    args.insert("metric".into(), Value::Str(settings.metric.to_string()));
    args.insert("epochs".into(), Value::Int(settings.epochs));
    args.insert("patience".into(), Value::Int(settings.patience));
    args.insert("batch".into(), Value::Int(settings.batch));
    args.insert("loss".into(), Value::Str(settings.loss.clone()));
    args.insert("seed".into(), Value::Int(settings.seed));
    args.insert("device".into(), Value::Str(settings.device.clone()));
    args.insert("max_seconds".into(), Value::Float(settings.max_seconds));
    args.insert("judge".into(), Value::Str(settings.judge.clone().unwrap_or_default()));
    args
}

/// The `--set` pairs a candidate node carries as `NAME=VALUE` strings.
fn overrides(args: &IndexMap<String, Value>) -> Vec<(String, String)> {
    match args.get("overrides") {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::Str(s) => s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn str_arg<'a>(args: &'a IndexMap<String, Value>, name: &str) -> Result<&'a str, String> {
    match args.get(name) {
        Some(Value::Str(s)) => Ok(s),
        other => Err(format!("a candidate's `{name}` should be a string, is {other:?}")),
    }
}

/// A checked block as its meaning: spans and canonical text dropped, so moving the block or
/// commenting it keeps the key, while a resolved width, learning rate or reward term changes it.
pub(crate) fn meaning(block: &impl serde::Serialize) -> serde_json::Value {
    fn strip(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => map
                .into_iter()
                .filter(|(k, _)| k != "span" && k != "source")
                .map(|(k, v)| (k, strip(v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            serde_json::Value::Array(items) => items.into_iter().map(strip).collect(),
            other => other,
        }
    }
    strip(serde_json::to_value(block).expect("checked blocks serialise"))
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
        // 2: scored at the loop's own metric and cut-off; metrics named as the language names them.
        2
    }

    fn key_args(&self, args: &IndexMap<String, Value>) -> Result<Option<KeyArgs>, String> {
        let program = compile(str_arg(args, "workflow")?, str_arg(args, "source")?, &overrides(args))
            .map_err(|e| format!("the candidate does not compile:\n{e}"))?;
        let mut key = IndexMap::new();
        let mut files = Vec::new();
        let model = str_arg(args, "model")?;
        let def = program.models.get(model).ok_or_else(|| format!("the candidate defines no model `{model}`"))?;
        key.insert("model".to_string(), meaning(def));
        let optimizer = str_arg(args, "optimizer")?;
        if !optimizer.is_empty() {
            let def = program.optimizers.get(optimizer).ok_or_else(|| format!("no optimizer `{optimizer}`"))?;
            key.insert("optimizer".to_string(), meaning(&def.value));
        }
        for field in ["reward", "judge"] {
            // A judge is keyed only when there is one, so keys from before judges stay.
            let Some(Value::Str(name)) = args.get(field) else { continue };
            if !name.is_empty() {
                let def = program.rewards.get(name).ok_or_else(|| format!("no reward `{name}`"))?;
                if let dsl::reward::RewardDef::External { path, .. } = def {
                    files.push(path.clone());
                }
                key.insert(field.to_string(), meaning(def));
            }
        }
        // The settings as given; `workflow`, `overrides` and `source` are how to compile, and the
        // blocks above are what came of it.
        for (name, value) in args {
            if !["workflow", "overrides", "source", "model", "optimizer", "reward", "judge"].contains(&name.as_str()) {
                key.insert(name.clone(), serde_json::to_value(value).expect("values serialise"));
            }
        }
        Ok(Some(KeyArgs { args: key, files }))
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let overrides = overrides(&ctx.args);
        let program = compile(ctx.str("workflow")?, ctx.str("source")?, &overrides)
            .map_err(|e| StepError::input(format!("the candidate does not compile:\n{e}")))?;
        let mut req = TrainRequest::new(Arc::new(program), ctx.str("model")?, ctx.input("data")?.dir.clone());
        let optimizer = ctx.str("optimizer")?;
        if !optimizer.is_empty() {
            req.optimizer = Value::Optimizer(optimizer.to_string());
        }
        let reward = ctx.str("reward")?;
        req.reward = (!reward.is_empty()).then(|| reward.to_string());
        // Absent in nodes written before judges: clicks.
        let judge = match ctx.args.get("judge") {
            Some(Value::Str(name)) if !name.is_empty() => Some(name.clone()),
            _ => None,
        };
        req.judge = judge;
        req.metric = ctx.str("metric")?.parse().map_err(StepError::input)?;
        req.epochs = ctx.int("epochs")?.max(1) as usize;
        req.patience = ctx.int("patience")?.max(0) as usize;
        req.batch = ctx.int("batch")?.max(1) as usize;
        req.loss = ctx.str("loss")?.to_string();
        req.seed = ctx.int("seed")? as u64;
        req.device = ctx.str("device")?.to_string();
        let limit = ctx.float("max_seconds")?;
        req.max_train_seconds = (limit > 0.0).then_some(limit);
        req.cancel = Some(ctx.cancel.clone());
        let out = ctx.out_dir()?.to_path_buf();
        let progress = ctx.progress.clone();
        let epochs = req.epochs as u64;
        let report = tokio::task::spawn_blocking(move || {
            train_candidate(&req, &out, |epoch, loss| {
                progress.report(epoch as u64, epochs, &format!("epoch {epoch}, loss {loss:.4}"))
            })
        })
        .await
        .map_err(|e| StepError::permanent(StepErrorKind::Internal, format!("the training thread failed: {e}")))?;
        outcome(report)
    }
}

/// A candidate's training as the step's result: a report, a failure that is the candidate's own
/// (journaled by the loop, cached, not retried), or an error of the machine (not cached).
fn outcome(report: Result<TrainReport, TrainFailure>) -> Result<serde_json::Value, StepError> {
    match report {
        Ok(report) => {
            serde_json::to_value(&report).map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))
        }
        // A full disk or a failing device says nothing of the candidate: the step fails (and is
        // retried) rather than caching "failed" for a candidate a later run could train.
        Err(failure) if failure.is_environmental() => Err(StepError::transient(StepErrorKind::Io, failure.to_string())),
        // An I/O or libtorch hiccup may pass; the other failures are the candidate's own.
        Err(TrainFailure::Internal(message)) => Err(StepError::transient(StepErrorKind::Training, message)),
        // A candidate that cannot train is a result of the loop, not an error of the run:
        // the loop journals the reason and goes on (and a re-run need not retrain it).
        Err(failure) => Ok(failed(&failure)),
    }
}

/// The output of a candidate that did not train.
fn failed(failure: &TrainFailure) -> serde_json::Value {
    serde_json::json!({ "failed": failure.kind(), "reason": failure.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_fails_the_step_instead_of_caching_a_failed_candidate() {
        let full = TrainFailure::Reward("writing the scored rows: No space left on device (os error 28)".into());
        let err = outcome(Err(full)).expect_err("not a result of the candidate");
        assert_eq!((err.kind, err.class), (StepErrorKind::Io, crate::steps::ErrorClass::Transient));
        let eio = TrainFailure::BadData("IO Error: Could not read file: Input/output error".into());
        assert_eq!(outcome(Err(eio)).unwrap_err().kind, StepErrorKind::Io);
        // The candidate's own failures stay results of the loop.
        let own = outcome(Err(TrainFailure::Diverged { epoch: 3 })).unwrap();
        assert_eq!(own["failed"], "diverged");
        let bad = outcome(Err(TrainFailure::BadData("the split has no positives".into()))).unwrap();
        assert_eq!(bad["failed"], "bad_data");
    }
}
