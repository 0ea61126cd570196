//! `std::train`: `train`, `evaluate`, `compute_loss` and `compute_eval`, thin adapters from a
//! step's arguments to [`crate::training`], run on a blocking thread.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use dsl::metrics::MetricAt;
use dsl::types::Value;
use indexmap::IndexMap;
use tch::Device;
use trainer::metrics::{evaluate, Ranking};
use trainer::model::ModelError;
use trainer::RankingMetrics;
use trainer::{DeviceChoice, Split};

use super::{Step, StepContext, StepError, StepErrorKind};
use crate::training::{self, TrainFailure, TrainRequest};

pub fn steps() -> Vec<Arc<dyn Step>> {
    vec![Arc::new(Train), Arc::new(Evaluate), Arc::new(ComputeLoss), Arc::new(ComputeEval)]
}

/// A failure as the run reports it: a fault of the machine (a full disk, a failing device) is a
/// transient I/O error, retried and never cached; anything else is permanent (the same inputs
/// fail the same way).
fn failed(e: TrainFailure) -> StepError {
    if e.is_environmental() {
        StepError::transient(StepErrorKind::Io, e.to_string())
    } else {
        StepError::permanent(StepErrorKind::Training, e.to_string())
    }
}

/// Runs training work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TrainFailure> + Send + 'static,
) -> Result<T, StepError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StepError::permanent(StepErrorKind::Internal, format!("the training task failed: {e}")))?
        .map_err(failed)
}

/// The request a step's arguments describe (arguments a step does not take keep their defaults).
fn request(ctx: &StepContext) -> Result<TrainRequest, StepError> {
    let model = match ctx.arg("model")? {
        Value::Model(name) => name.clone(),
        other => {
            return Err(StepError::permanent(
                StepErrorKind::Input,
                format!("`model` should be a model block, is {other}"),
            ))
        }
    };
    let split = ctx.input("data")?.dir.clone();
    let mut req = TrainRequest::new(ctx.program.clone(), model, split);
    req.cancel = Some(ctx.cancel.clone());
    req.scratch = ctx.run.run_dir.join("tmp");
    if let Some(v) = ctx.args.get("optimizer") {
        req.optimizer = v.clone();
    }
    req.reward = match ctx.args.get("reward") {
        None | Some(Value::Unset) => None,
        Some(Value::Reward(name)) => Some(name.clone()),
        Some(other) => {
            return Err(StepError::permanent(
                StepErrorKind::Input,
                format!("`reward` should be a reward block, is {other}"),
            ))
        }
    };
    let positive = |name: &str| -> Result<Option<usize>, StepError> {
        match ctx.args.get(name) {
            None => Ok(None),
            Some(_) => usize::try_from(ctx.int(name)?)
                .map(Some)
                .map_err(|_| StepError::input(format!("`{name}` must not be negative"))),
        }
    };
    if let Some(e) = positive("epochs")? {
        req.epochs = e;
    }
    if let Some(p) = positive("patience")? {
        req.patience = p;
    }
    if let Some(b) = positive("batch")? {
        req.batch = b;
    }
    if ctx.args.contains_key("seed") {
        req.seed = ctx.int("seed")? as u64;
    }
    for (name, slot) in [("loss", &mut req.loss), ("negatives", &mut req.negatives), ("device", &mut req.device)] {
        if ctx.args.contains_key(name) {
            *slot = ctx.str(name)?.to_string();
        }
    }
    Ok(req)
}

/// `cpu`, or `gpu` (plus the cpu that feeds it) when the step will train on CUDA.
fn device_resources(args: &IndexMap<String, Value>) -> Vec<(String, f64)> {
    static AUTO_IS_CUDA: OnceLock<bool> = OnceLock::new();
    let device = match args.get("device") {
        Some(Value::Str(s)) => s.parse().unwrap_or(DeviceChoice::Cpu),
        _ => DeviceChoice::Auto,
    };
    let cuda = match device {
        DeviceChoice::Cpu => false,
        DeviceChoice::Cuda(_) => true,
        DeviceChoice::Auto => *AUTO_IS_CUDA
            .get_or_init(|| trainer::device::choose(DeviceChoice::Auto).is_ok_and(|c| c.device != Device::Cpu)),
    };
    if cuda {
        vec![("gpu".into(), 1.0), ("cpu".into(), 1.0)]
    } else {
        vec![("cpu".into(), 1.0)]
    }
}

/// `train(model, data, optimizer:, reward:, loss:, epochs:, patience:, batch:, negatives:, seed:, device:)`.
struct Train;

#[async_trait::async_trait]
impl Step for Train {
    fn name(&self) -> &'static str {
        "std::train::train"
    }

    fn version(&self) -> u32 {
        // 2: the meta is the typed `TrainReport`; metrics are named as the language names them.
        2
    }

    fn resources_for(&self, args: &IndexMap<String, Value>) -> Vec<(String, f64)> {
        device_resources(args)
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let req = request(&ctx)?;
        let out = ctx.out_dir()?.to_path_buf();
        let progress = ctx.progress.clone();
        let epochs = req.epochs as u64;
        progress.report(0, epochs, "loading data");
        let report = blocking(move || {
            training::train_candidate(&req, &out, |epoch, loss| {
                progress.report(epoch as u64, epochs, &format!("epoch {epoch}: loss {loss:.4}"));
            })
        })
        .await?;
        serde_json::to_value(&report).map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))
    }
}

/// JSON has no NaN: a non-finite number becomes null.
fn finite(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!(x)
    } else {
        serde_json::Value::Null
    }
}

/// `evaluate(model: trained, data: split, metrics: [ndcg@10, ...])`: full ranking on valid and test.
struct Evaluate;

#[async_trait::async_trait]
impl Step for Evaluate {
    fn name(&self) -> &'static str {
        "std::train::evaluate"
    }

    fn version(&self) -> u32 {
        // 2: `hitrate@k` and `map@k` are named as the language names them.
        2
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let trained = ctx.input("model")?.dir.clone();
        let split = ctx.input("data")?.dir.clone();
        let names = metric_names(ctx.arg("metrics")?)?;
        blocking(move || {
            let scorer_ids = read_ids(&trained)?;
            let (data, unknown) = training::load::load_for_eval(&split, &scorer_ids.0, &scorer_ids.1)?;
            let model = load_trained(&trained, data.n_users(), data.n_items())?;
            // The side features it was trained on, saved with it, indexed by its own ids.
            let features = model.features();
            let mut out = valid_and_test(&names, |split, ks| {
                evaluate(&model, &data, features, split, Ranking::Full, ks, "as the split step received it")
            })?;
            out.insert("rows_with_unknown_ids".into(), serde_json::json!(unknown));
            Ok(serde_json::Value::Object(out))
        })
        .await
    }
}

/// The metrics `names` on valid and test, as `evaluate` reports them (`valid`, `test`,
/// `valid_users`, `test_users`, `protocol`); `rank(split, cut-offs)` ranks every item for one split.
pub(super) fn valid_and_test(
    names: &[MetricAt],
    mut rank: impl FnMut(Split, &[usize]) -> Result<RankingMetrics, ModelError>,
) -> Result<serde_json::Map<String, serde_json::Value>, TrainFailure> {
    let mut ks: Vec<usize> = names.iter().map(|m| m.cutoff()).collect();
    ks.sort_unstable();
    ks.dedup();
    let mut out = serde_json::Map::new();
    for split in [Split::Valid, Split::Test] {
        let m = rank(split, &ks).map_err(|e| TrainFailure::ModelBuild(e.to_string()))?;
        let mut values = BTreeMap::new();
        for metric in names {
            let v = m
                .metric(*metric)
                .ok_or_else(|| TrainFailure::Internal(format!("the trainer did not report `{metric}`")))?;
            values.insert(metric.to_string(), v);
        }
        out.insert(split.name().into(), serde_json::json!(values));
        out.insert(format!("{}_users", split.name()), serde_json::json!(m.users));
    }
    out.insert("protocol".into(), serde_json::json!("full ranking over every item, training items excluded"));
    Ok(out)
}

/// `[ndcg@10, hitrate@20]` as the metrics they name.
pub(super) fn metric_names(v: &Value) -> Result<Vec<MetricAt>, StepError> {
    let list = match v {
        Value::List(items) => items.as_slice(),
        one @ Value::Metric { .. } => std::slice::from_ref(one),
        other => {
            return Err(StepError::permanent(
                StepErrorKind::Input,
                format!("`metrics` should be a list of metrics, is {other}"),
            ))
        }
    };
    list.iter()
        .map(|m| {
            MetricAt::from_value(m).ok_or_else(|| StepError::input(format!("`{m}` is not a metric such as ndcg@10")))
        })
        .collect()
}

/// Raw user and item ids of a trained folder.
fn read_ids(dir: &std::path::Path) -> Result<(Vec<i64>, Vec<i64>), TrainFailure> {
    let text = std::fs::read_to_string(dir.join(training::IDS_FILE)).map_err(|e| {
        TrainFailure::BadData(format!(
            "{}: {e}; `model` should be the output of std::train::train",
            dir.join(training::IDS_FILE).display()
        ))
    })?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| TrainFailure::BadData(e.to_string()))?;
    let ids = |k: &str| -> Vec<i64> {
        v[k].as_array().map(|a| a.iter().filter_map(serde_json::Value::as_i64).collect()).unwrap_or_default()
    };
    Ok((ids("users"), ids("items")))
}

/// The model of a trained folder, on the CPU.
fn load_trained(dir: &std::path::Path, users: usize, items: usize) -> Result<trainer::Model, TrainFailure> {
    let source = std::fs::read_to_string(dir.join("model.evo"))
        .map_err(|e| TrainFailure::BadData(format!("{}: {e}", dir.join("model.evo").display())))?;
    let program = dsl::check("model.evo", &source, &crate::fs_loader::FsLoader, &[])
        .result
        .map_err(|_| TrainFailure::ModelBuild(format!("{}/model.evo does not check", dir.display())))?;
    let def = program
        .models
        .values()
        .next()
        .ok_or_else(|| TrainFailure::ModelBuild(format!("{}/model.evo has no model", dir.display())))?;
    let vocab = [("user".to_string(), users as i64), ("item".to_string(), items as i64)].into();
    Ok(trainer::checkpoint::load_model(dir, def, &vocab, Device::Cpu)?)
}

/// `compute_loss(model, data, optimizer:, steps:, sample: {users, rows})`: the loss curve.
struct ComputeLoss;

#[async_trait::async_trait]
impl Step for ComputeLoss {
    fn name(&self) -> &'static str {
        "std::train::compute_loss"
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let req = request(&ctx)?;
        let steps = usize::try_from(ctx.int("steps")?).unwrap_or(1);
        let (users, rows) = match ctx.args.get("sample") {
            Some(Value::Record(r)) => {
                let get = |k: &str| r.get(k).and_then(Value::as_f64).map_or(0, |x| x.max(0.0) as usize);
                (get("users"), get("rows"))
            }
            _ => (0, 0),
        };
        let probe = blocking(move || training::compute_loss(&req, steps, users, rows)).await?;
        Ok(serde_json::json!({
            "curve": probe.curve.iter().map(|l| finite(*l)).collect::<Vec<_>>(),
            "valid_loss": finite(probe.valid_loss),
            "rows": probe.rows,
            "steps": steps,
        }))
    }
}

/// `compute_eval(model, data, metric:)`: a validation metric that does not depend on the loss.
struct ComputeEval;

#[async_trait::async_trait]
impl Step for ComputeEval {
    fn name(&self) -> &'static str {
        "std::train::compute_eval"
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let mut req = request(&ctx)?;
        req.metric = MetricAt::from_value(ctx.arg("metric")?).ok_or_else(|| {
            StepError::permanent(
                StepErrorKind::Input,
                format!(
                    "`metric` should be a metric, is {}",
                    ctx.arg("metric").map(ToString::to_string).unwrap_or_default()
                ),
            )
        })?;
        let name = req.metric.to_string();
        let value = blocking(move || training::compute_eval(&req)).await?;
        Ok(serde_json::json!({ "metric": name, "value": finite(value), "split": "valid" }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::error::ErrorClass;

    #[test]
    fn a_full_disk_is_a_transient_io_error_not_a_failed_training() {
        let full = TrainFailure::Internal(
            "checkpoint: run/tmp/m2/weights.safetensors: IoError(Os { code: 28, kind: StorageFull, \
             message: \"No space left on device\" })"
                .into(),
        );
        let e = failed(full);
        assert_eq!((e.kind.code(), e.class), ("step::io", ErrorClass::Transient), "{e:?}");
        let diverged = failed(TrainFailure::Config("epochs must be positive".into()));
        assert_eq!((diverged.kind.code(), diverged.class), ("step::training", ErrorClass::Permanent));
    }
}
