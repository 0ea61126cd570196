//! Training one candidate end to end, and the two short probes agents call as tools.
//!
//! Blocking: call these from `spawn_blocking` or a thread of your own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use dsl::metrics::MetricAt;
use sandboxes::{Limits, SandboxEngine};
use serde::{Deserialize, Serialize};
use trainer::loss::Loss;
use trainer::metrics::{evaluate_or_cancel, Ranking, RankingMetrics};
use trainer::{Interactions, Split, TrainError, Trainer};

use super::load::{load_split, LoadStats};
use super::{TrainFailure, TrainRequest};

/// Files of a trained candidate's folder, beside `weights.safetensors`, `model.evo` and the
/// trainer's `metrics.json`.
pub const IDS_FILE: &str = "ids.json";
/// The [`TrainReport`] as JSON.
pub const REPORT_FILE: &str = "report.json";

/// Size and cost of a model, as the journal records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// The model block's name.
    pub model: String,
    /// Trainable scalars, embedding tables included.
    pub params: i64,
    /// Floating-point operations per scored (user, item) example, from the checker's shapes.
    pub flops: u64,
    /// The device it trained on.
    pub device: String,
}

/// What a successful training produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Full-ranking metrics on validation (every [`dsl::metrics::RankingMetric`] at 10 and at
    /// the request's own cut-off) with their protocol.
    pub valid: RankingMetrics,
    /// The same on test.
    pub test: RankingMetrics,
    /// Mean training loss of the last epoch (none when no epoch ran).
    pub final_loss: Option<f64>,
    /// Mean training loss of every epoch.
    pub losses: Vec<f64>,
    /// Epochs run (early stopping may end before the budget).
    pub epochs: usize,
    /// The epoch (1-based) whose weights were kept.
    pub best_epoch: Option<usize>,
    /// Parameters, FLOPs per example, device.
    pub summary: ModelSummary,
    /// The positives rule and row counts.
    pub data: LoadStats,
    /// The folder holding the weights (load it with [`super::Scorer::load`]). Not written to
    /// [`REPORT_FILE`]: a step's folder moves into the store after it is written.
    #[serde(skip_serializing, default)]
    pub checkpoint: PathBuf,
    /// Seconds from start to saved weights, data loading and evaluation included.
    pub wall_seconds: f64,
    /// Training throughput: positives per second.
    pub examples_per_second: f64,
    /// The share of steps whose gradient norm was clipped, when the optimizer clips: 0 means the
    /// threshold changed nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_rate: Option<f64>,
}

impl TrainReport {
    /// The report a step's output meta holds, if it holds one: the one way `train`'s and the
    /// loops' outputs are read (the journal's `models` table, `offline`'s scores).
    pub fn from_meta(meta: &serde_json::Value) -> Option<TrainReport> {
        // Every step's output passes here (the journal asks of each): most are not reports, and
        // none is copied to find out.
        meta.get("summary")?;
        TrainReport::deserialize(meta).ok()
    }

    /// A validation metric, if its cut-off was evaluated.
    pub fn valid_metric(&self, metric: MetricAt) -> Option<f64> {
        self.valid.metric(metric)
    }

    /// A test metric, if its cut-off was evaluated.
    pub fn test_metric(&self, metric: MetricAt) -> Option<f64> {
        self.test.metric(metric)
    }
}

/// Data and device for a request: the reward scored in the sandbox, the split read.
struct Prepared {
    data: Interactions,
    stats: LoadStats,
    device: tch::Device,
    device_reason: String,
}

/// The data and device of a training; `loss` is the one the training minimises (its optimizer's
/// when it names one, not the step's).
fn prepare(req: &TrainRequest, loss: Loss, scratch: &Path) -> Result<Prepared, TrainFailure> {
    let chosen = trainer::device::choose(req.device_choice()?).map_err(|e| TrainFailure::Config(e.to_string()))?;
    let load = |def: Option<&dsl::reward::RewardDef>, name: Option<&str>| -> Result<_, TrainFailure> {
        let Some(def) = def else { return Ok(None) };
        let engine = SandboxEngine::new(Limits::default()).map_err(|e| TrainFailure::Reward(e.to_string()))?;
        let name = name.unwrap_or_default();
        let sandbox = engine
            .load_reward(def)
            .map_err(|e| TrainFailure::Reward(format!("cannot load reward `{name}`: {e} [{}]", e.code())))?;
        Ok(Some(sandbox))
    };
    let sandbox = load(req.reward_def()?, req.reward.as_deref())?;
    let judge = load(req.judge_def()?, req.judge.as_deref())?;
    let (mut data, stats) = load_split(&req.split_dir, sandbox.as_ref(), judge.as_ref(), loss, scratch)?;
    super::features::attach(&req.split_dir, req.model_def()?, &mut data)?;
    Ok(Prepared { data, stats, device: chosen.device, device_reason: chosen.reason })
}

/// Trains the candidate `req` describes, writes it to `out_dir` (weights, `model.evo`, id maps,
/// metrics, [`REPORT_FILE`]) and scores it on validation and test. `progress(epoch, loss)` is
/// called after every epoch (1-based). Same request on the CPU → identical report metrics.
pub fn train_candidate(
    req: &TrainRequest,
    out_dir: &Path,
    mut progress: impl FnMut(usize, f64),
) -> Result<TrainReport, TrainFailure> {
    let start = Instant::now();
    let def = req.model_def()?;
    let cfg = req.config()?;
    let ks = cfg.ks.clone();
    let trainer_config_clips = cfg.clip_grad_norm.is_some();
    let prep = prepare(req, cfg.loss, &out_dir.join(".scratch"))?;
    let _ = std::fs::remove_dir_all(out_dir.join(".scratch"));
    let mut trainer = Trainer::new(def, &prep.data, cfg, prep.device)?;
    if let Some(flag) = &req.cancel {
        trainer.cancel_on(flag.clone());
    }
    let train_start = Instant::now();
    while !trainer.done() {
        let log = trainer.run_epoch()?;
        progress(log.epoch + 1, log.loss);
        if let Some(limit) = req.max_train_seconds {
            let done = trainer.state().epoch;
            let projected = train_start.elapsed().as_secs_f64() / done as f64 * req.epochs as f64;
            // Stop as soon as the pace says the budget will be missed, not when it is.
            if projected > limit && done < req.epochs {
                return Err(TrainFailure::TooSlow { projected, limit, epochs: req.epochs });
            }
        }
    }
    let trained = trainer.finish()?;
    let report = &trained.report;
    let features = trained.model.features();
    let cancel = req.cancel.as_deref();
    let metrics = |split: Split| -> Result<RankingMetrics, TrainFailure> {
        let filtering = "as the split step received it";
        evaluate_or_cancel(&trained.model, &prep.data, features, split, Ranking::Full, &ks, filtering, cancel)
            .map_err(|e| TrainFailure::from(TrainError::from(e)))
    };
    let valid = metrics(Split::Valid)?;
    let test = metrics(Split::Test)?;
    std::fs::create_dir_all(out_dir).map_err(|e| TrainFailure::Internal(format!("{}: {e}", out_dir.display())))?;
    trainer::checkpoint::save_trained(&trained, out_dir)?;
    write_ids(&prep.data, out_dir)?;
    let losses: Vec<f64> = report.state.history.iter().map(|e| e.loss).collect();
    let out = TrainReport {
        valid,
        test,
        final_loss: losses.last().copied(),
        losses,
        epochs: report.state.epoch,
        best_epoch: report.state.best.map(|(e, _)| e + 1),
        summary: ModelSummary {
            model: req.model.clone(),
            params: report.parameters,
            flops: def.flops_per_example(),
            device: prep.device_reason.clone(),
        },
        data: prep.stats,
        checkpoint: out_dir.to_path_buf(),
        wall_seconds: start.elapsed().as_secs_f64(),
        examples_per_second: report.examples_per_second,
        clip_rate: trainer_config_clips.then(|| report.state.clipped_steps as f64 / report.state.steps.max(1) as f64),
    };
    write_json(&out_dir.join(REPORT_FILE), &out)?;
    Ok(out)
}

/// Raw ids by internal id: `{"users": [...], "items": [...]}`.
#[derive(Serialize, Deserialize)]
pub(super) struct IdFile {
    pub users: Vec<i64>,
    pub items: Vec<i64>,
}

fn write_ids(data: &Interactions, dir: &Path) -> Result<(), TrainFailure> {
    let ids = IdFile {
        users: (0..data.n_users() as i64).map(|i| data.users.raw(i)).collect(),
        items: (0..data.n_items() as i64).map(|i| data.items.raw(i)).collect(),
    };
    write_json(&dir.join(IDS_FILE), &ids)
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), TrainFailure> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| TrainFailure::Internal(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| TrainFailure::Internal(format!("{}: {e}", path.display())))
}

/// A `compute_loss` probe's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossProbe {
    /// Training loss at every step.
    pub curve: Vec<f64>,
    /// Mean validation loss after the last step.
    pub valid_loss: f64,
    /// Training rows the probe drew from (after sampling).
    pub rows: usize,
}

/// `compute_loss`: `steps` optimizer steps on (a sample of) the training rows; the loss curve
/// and the validation loss. `sample_users` keeps that many users (the first by internal id, a
/// fixed choice), `sample_rows` at most that many training rows; 0 keeps everything.
pub fn compute_loss(
    req: &TrainRequest,
    steps: usize,
    sample_users: usize,
    sample_rows: usize,
) -> Result<LossProbe, TrainFailure> {
    let def = req.model_def()?;
    let cfg = req.config()?;
    let scratch = req.scratch_dir()?;
    let mut prep = prepare(req, cfg.loss, scratch.path())?;
    drop(scratch);
    sample(&mut prep.data, sample_users, sample_rows);
    let curve = trainer::compute_loss(def, &prep.data, &cfg, steps.max(1), prep.device)?;
    Ok(LossProbe { curve: curve.train, valid_loss: curve.valid, rows: prep.data.train.len() })
}

/// Keeps the training rows of the first `users` users and at most `rows` rows (0: no limit).
fn sample(data: &mut Interactions, users: usize, rows: usize) {
    let t = &mut data.train;
    let keep: Vec<usize> = (0..t.len())
        .filter(|&k| users == 0 || (t.users[k] as usize) < users)
        .take(if rows == 0 { usize::MAX } else { rows })
        .collect();
    if keep.len() == t.len() || keep.is_empty() {
        return;
    }
    let pick = |v: &Vec<i64>| keep.iter().map(|&k| v[k]).collect::<Vec<_>>();
    let pickf = |v: &Vec<f32>| keep.iter().map(|&k| v[k]).collect::<Vec<_>>();
    (t.users, t.items, t.labels, t.weights) = (pick(&t.users), pick(&t.items), pickf(&t.labels), pickf(&t.weights));
}

/// `compute_eval`: trains like [`train_candidate`] (without writing anything) and returns one
/// validation metric (`ndcg@10`, the request's [`TrainRequest::metric`]), computed against the
/// reward-independent ground truth.
pub fn compute_eval(req: &TrainRequest) -> Result<f64, TrainFailure> {
    let metric = req.metric;
    let def = req.model_def()?;
    let cfg = req.config()?;
    let scratch = req.scratch_dir()?;
    let prep = prepare(req, cfg.loss, scratch.path())?;
    drop(scratch);
    let mut trainer = Trainer::new(def, &prep.data, cfg, prep.device)?;
    if let Some(flag) = &req.cancel {
        trainer.cancel_on(flag.clone());
    }
    trainer.run(None)?;
    let trained = trainer.finish()?;
    let features = trained.model.features();
    let cancel = req.cancel.as_deref();
    let ks = [metric.cutoff()];
    let m = evaluate_or_cancel(&trained.model, &prep.data, features, Split::Valid, Ranking::Full, &ks, "", cancel)
        .map_err(|e| TrainFailure::from(TrainError::from(e)))?;
    m.metric(metric).ok_or_else(|| TrainFailure::Internal(format!("the trainer did not report `{metric}`")))
}

/// Metrics as a flat name → value map, for meta and tables.
pub fn flat(metrics: &RankingMetrics) -> BTreeMap<String, f64> {
    metrics.values.clone()
}
