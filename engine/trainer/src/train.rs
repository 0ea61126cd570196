//! The training loop: shuffled mini-batches with sampled negatives, a loss, an optimizer with a
//! learning-rate schedule and gradient clipping, validation each epoch with early stopping, and
//! divergence reported as an error (a failed candidate, not a crash).
//!
//! Reproducibility: weights are initialised from a Rust RNG, and each epoch's shuffle and
//! negatives come from an RNG derived from (seed, epoch), so the same seed gives identical CPU
//! metrics and a resumed run continues exactly where it stopped. Dropout uses torch's global RNG,
//! re-seeded every epoch; it is the one part shared with other trainings in the same process.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::data::{epoch_rng, DataError, Interactions, NegativeSampler, SamplerKind, Split};
use crate::graph::Graph;
use crate::loss::Loss;
use crate::metrics::{evaluate_or_cancel, Ranking, RankingMetrics};
use crate::model::{FeatureTensors, Model, ModelError};
use crate::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use crate::schedule::Schedule;
use dsl::shape::ModelDef;

/// Why a training did not produce a model.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss or the weights became NaN or infinite.
    #[error("training diverged: non-finite loss at epoch {epoch}, step {step}")]
    Diverged {
        /// The epoch (0-based) in which it happened.
        epoch: usize,
        /// The global step (0-based) whose loss was first non-finite.
        step: u64,
    },
    /// The configuration cannot work for this model or data.
    #[error("invalid training configuration: {0}")]
    Config(String),
    /// The model could not be built or run.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The data could not be prepared.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A checkpoint could not be written or read.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// Whoever started the run asked it to stop (a step's timeout, Ctrl-C).
    #[error("cancelled")]
    Cancelled,
    /// libtorch reported an error.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Validation-based early stopping, as RecBole's `stopping_step`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// The validation metric to maximise, e.g. `ndcg@10`.
    pub metric: String,
    /// Evaluations without improvement before stopping.
    pub patience: usize,
}

/// Everything that decides a training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The loss.
    pub loss: Loss,
    /// The optimizer, its learning rate and weight decay.
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule over all steps.
    pub schedule: Schedule,
    /// Positives per mini-batch.
    pub batch_size: usize,
    /// Maximum epochs.
    pub epochs: usize,
    /// Negatives sampled per positive (0 for pointwise losses on labelled rows).
    pub negatives: usize,
    /// Scores are divided by this before the loss (except MSE): below 1 sharpens a softmax.
    #[serde(default = "unit_temperature")]
    pub temperature: f64,
    /// How negatives are drawn.
    pub sampler: SamplerKind,
    /// Clip the global gradient norm to this value.
    pub clip_grad_norm: Option<f64>,
    /// Stop when the validation metric stops improving (and keep the best epoch's weights).
    pub early_stopping: Option<EarlyStopping>,
    /// Evaluate on validation every this many epochs (0 = never).
    pub eval_every: usize,
    /// Cut-offs for the ranking metrics.
    pub ks: Vec<usize>,
    /// Seed for initialisation, shuffling, negatives and dropout.
    pub seed: u64,
    /// Torch intra-op threads (process-wide); None leaves torch's default.
    pub threads: Option<usize>,
    /// Stop each epoch after this many steps (for quick probes).
    pub max_steps_per_epoch: Option<usize>,
    /// Check the loss for NaN/inf every this many steps (each check syncs a GPU once).
    pub check_every: usize,
    /// Save a checkpoint here every `checkpoint_every` epochs.
    pub checkpoint_dir: Option<PathBuf>,
    /// Epochs between checkpoints.
    pub checkpoint_every: usize,
    /// What was done to the data before splitting, recorded in every metric's protocol.
    pub filtering: String,
}

impl Default for TrainConfig {
    /// RecBole's defaults for BPR: Adam lr 0.001, batch 2048, one uniform negative, 300 epochs,
    /// early stopping with patience 10 (on NDCG@10 here; RecBole's default watches MRR@10).
    fn default() -> Self {
        TrainConfig {
            loss: Loss::Bpr,
            optimizer: OptimizerConfig {
                kind: OptimizerKind::default_for("adam").expect("adam is known"),
                lr: 0.001,
                weight_decay: 0.0,
            },
            schedule: Schedule::default(),
            batch_size: 2048,
            epochs: 300,
            negatives: 1,
            temperature: 1.0,
            sampler: SamplerKind::Uniform,
            clip_grad_norm: None,
            early_stopping: Some(EarlyStopping { metric: "ndcg@10".into(), patience: 10 }),
            eval_every: 1,
            ks: vec![10],
            seed: 2020,
            threads: None,
            max_steps_per_epoch: None,
            check_every: 50,
            checkpoint_dir: None,
            checkpoint_every: 1,
            filtering: "none".into(),
        }
    }
}

/// What one epoch did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// The epoch (0-based).
    pub epoch: usize,
    /// Mean training loss.
    pub loss: f64,
    /// Learning rate at the epoch's last step.
    pub lr: f64,
    /// The early-stopping metric on validation, when evaluated.
    pub valid: Option<f64>,
    /// Training seconds (evaluation excluded).
    pub train_seconds: f64,
    /// Positives trained on.
    pub examples: usize,
}

/// Progress of a run, saved in checkpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Epochs completed.
    pub epoch: usize,
    /// Optimizer steps taken.
    pub steps: u64,
    /// Best (epoch, validation metric) so far.
    pub best: Option<(usize, f64)>,
    /// Evaluations since the best one.
    pub bad_evals: usize,
    /// Whether early stopping fired.
    pub stopped_early: bool,
    /// One entry per epoch.
    pub history: Vec<EpochLog>,
    /// Steps whose gradient norm was above the clipping threshold (0 without clipping): a
    /// threshold no step reaches changes nothing.
    #[serde(default)]
    pub clipped_steps: u64,
}

/// The outcome of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainReport {
    /// Progress, history and best epoch.
    pub state: TrainState,
    /// Validation metrics of the kept weights (the best epoch's with early stopping).
    pub valid: Option<RankingMetrics>,
    /// Training throughput: positives per second, evaluation excluded.
    pub examples_per_second: f64,
    /// Trainable parameters.
    pub parameters: i64,
    /// The device, as text.
    pub device: String,
}

/// A trained model and how it got there.
pub struct Trained {
    /// The model with its kept weights.
    pub model: Model,
    /// The run's report.
    pub report: TrainReport,
}

/// Interaction columns on the training device.
pub(crate) struct DeviceData {
    users: Tensor,
    items: Tensor,
    labels: Tensor,
    /// None when every weight is 1.
    weights: Option<Tensor>,
    log_q: Tensor,
    pub(crate) features: FeatureTensors,
}

/// A training in progress; [`train`] drives one to the end.
pub struct Trainer<'d> {
    pub(crate) model: Model,
    pub(crate) opt: Optimizer,
    pub(crate) data: &'d Interactions,
    pub(crate) cfg: TrainConfig,
    pub(crate) dev: DeviceData,
    pub(crate) sampler: NegativeSampler,
    pub(crate) state: TrainState,
    /// Copies of the weights at the best validation epoch.
    pub(crate) best_weights: Option<Vec<Tensor>>,
    pub(crate) last_valid: Option<RankingMetrics>,
    /// Every step's loss, kept only for `compute_loss` curves.
    pub(crate) step_losses: Vec<f64>,
    record_steps: bool,
    /// Set by another thread to stop training at the next batch.
    cancel: Option<Arc<AtomicBool>>,
}

impl<'d> Trainer<'d> {
    /// Builds the model on `device` and prepares the data; nothing is trained yet.
    pub fn new(
        def: &ModelDef,
        data: &'d Interactions,
        cfg: TrainConfig,
        device: Device,
    ) -> Result<Trainer<'d>, TrainError> {
        if let Some(n) = cfg.threads {
            crate::device::set_threads(n);
        }
        validate(&cfg, data)?;
        let mut model = Model::new(def, &data.vocab(), device, cfg.seed)?;
        let features = FeatureTensors::new(data, device);
        model.set_features(&features);
        if model.needs_graph() {
            let (u, i) = (data.n_users() as i64, data.n_items() as i64);
            model.set_graph(Graph::of_positives(&data.train, u, i, device).map_err(ModelError::from)?);
        }
        let opt = Optimizer::new(cfg.optimizer, model.params());
        let sampler = NegativeSampler::new(cfg.sampler, data);
        let t = &data.train;
        let dev = DeviceData {
            users: Tensor::from_slice(&t.users).to_device(device),
            items: Tensor::from_slice(&t.items).to_device(device),
            labels: Tensor::from_slice(&t.labels).to_device(device),
            weights: (!t.weights.iter().all(|&w| w == 1.0)).then(|| Tensor::from_slice(&t.weights).to_device(device)),
            log_q: Tensor::from_slice(sampler.log_q()).to_device(device),
            features,
        };
        Ok(Trainer {
            model,
            opt,
            data,
            cfg,
            dev,
            sampler,
            state: TrainState::default(),
            best_weights: None,
            last_valid: None,
            step_losses: Vec::new(),
            record_steps: false,
            cancel: None,
        })
    }

    /// Stops training with [`TrainError::Cancelled`] at the next batch once `flag` is set: a
    /// step that timed out or was interrupted lets its thread go within a batch, not an epoch.
    pub fn cancel_on(&mut self, flag: Arc<AtomicBool>) {
        self.cancel = Some(flag);
    }

    fn cancelled(&self) -> Result<(), TrainError> {
        match &self.cancel {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(TrainError::Cancelled),
            _ => Ok(()),
        }
    }

    /// The model as trained so far.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Progress so far.
    pub fn state(&self) -> &TrainState {
        &self.state
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }

    /// Device copies of the side features (for evaluation).
    pub fn features(&self) -> &FeatureTensors {
        &self.dev.features
    }

    /// Whether the run is over (epoch budget spent or early stopping fired).
    pub fn done(&self) -> bool {
        self.state.stopped_early || self.state.epoch >= self.cfg.epochs
    }

    fn steps_per_epoch(&self) -> usize {
        let full = self.data.train.len().div_ceil(self.cfg.batch_size);
        self.cfg.max_steps_per_epoch.map_or(full, |m| m.min(full))
    }

    /// Trains one epoch, evaluates if due, updates early stopping, and checkpoints if due.
    pub fn run_epoch(&mut self) -> Result<EpochLog, TrainError> {
        let epoch = self.state.epoch;
        let start = Instant::now();
        let device = self.model.device();
        tch::manual_seed(self.cfg.seed.wrapping_add(epoch as u64) as i64);
        let n = self.data.train.len();
        let neg_per_row = if self.cfg.loss == Loss::Mse { 0 } else { self.cfg.negatives };
        let mut rng = epoch_rng(self.cfg.seed, epoch);
        let mut perm: Vec<i64> = (0..n as i64).collect();
        perm.shuffle(&mut rng);
        let steps = self.steps_per_epoch();
        perm.truncate((steps * self.cfg.batch_size).min(n));
        let row_users: Vec<i64> = perm.iter().map(|&r| self.data.train.users[r as usize]).collect();
        let negs = self.sampler.sample(&row_users, neg_per_row, &self.data.train.by_user, &mut rng);
        let perm_t = Tensor::from_slice(&perm).to_device(device);
        let negs_t =
            (neg_per_row > 0).then(|| Tensor::from_slice(&negs).view([-1, neg_per_row as i64]).to_device(device));
        let total_steps = self.cfg.epochs * steps;
        let mut window: Vec<Tensor> = Vec::with_capacity(self.cfg.check_every.max(1));
        let (mut loss_sum, mut loss_count) = (0.0, 0usize);
        let mut lr = self.cfg.optimizer.lr;
        let mut clipped: Vec<Tensor> = Vec::new();
        for b in 0..steps {
            self.cancelled()?;
            let from = (b * self.cfg.batch_size) as i64;
            let len = (self.cfg.batch_size as i64).min(perm.len() as i64 - from);
            if len <= 0 {
                break;
            }
            let idx = perm_t.narrow(0, from, len);
            let loss = self.batch_loss(&idx, negs_t.as_ref().map(|t| t.narrow(0, from, len)), true)?;
            self.opt.zero_grad();
            loss.backward();
            if let Some(max) = self.cfg.clip_grad_norm {
                clipped.extend(self.opt.clip_grad_norm(max));
            }
            lr = self.cfg.optimizer.lr * self.cfg.schedule.factor(self.state.steps as usize, total_steps);
            self.opt.step(lr);
            window.push(loss.detach());
            self.state.steps += 1;
            if window.len() >= self.cfg.check_every.max(1) || b + 1 == steps {
                let (sum, count) = self.check_window(&mut window, epoch)?;
                loss_sum += sum;
                loss_count += count;
            }
        }
        if !clipped.is_empty() {
            // One host read per epoch.
            self.state.clipped_steps += Tensor::stack(&clipped, 0).sum(Kind::Float).double_value(&[]) as u64;
        }
        self.check_weights(epoch)?;
        self.cancelled()?;
        let train_seconds = start.elapsed().as_secs_f64();
        let mut valid = None;
        if self.cfg.eval_every > 0 && (epoch + 1) % self.cfg.eval_every == 0 && !self.data.valid.is_empty() {
            let metrics = self.evaluate(Split::Valid)?;
            let name = self.cfg.early_stopping.as_ref().map_or("ndcg@10".to_string(), |e| e.metric.clone());
            let value =
                metrics.get(&name).ok_or_else(|| TrainError::Config(format!("no validation metric `{name}`")))?;
            valid = Some(value);
            self.last_valid = Some(metrics);
            self.track_best(epoch, value);
        }
        let log = EpochLog {
            epoch,
            loss: loss_sum / loss_count.max(1) as f64,
            lr,
            valid,
            train_seconds,
            examples: perm.len(),
        };
        self.state.history.push(log.clone());
        self.state.epoch += 1;
        if let Some(dir) = self.cfg.checkpoint_dir.clone() {
            if self.state.epoch % self.cfg.checkpoint_every.max(1) == 0 || self.done() {
                crate::checkpoint::save(self, &dir)?;
            }
        }
        Ok(log)
    }

    /// Runs epochs until the run is done or `until` epochs have completed.
    pub fn run(&mut self, until: Option<usize>) -> Result<(), TrainError> {
        while !self.done() && until.is_none_or(|u| self.state.epoch < u) {
            self.run_epoch()?;
        }
        Ok(())
    }

    /// Ends the run: restores the best validation epoch's weights (when early stopping kept
    /// some) and reports.
    pub fn finish(mut self) -> Result<Trained, TrainError> {
        if let Some(best) = self.best_weights.take() {
            tch::no_grad(|| {
                for ((_, p), b) in self.model.params().iter().zip(&best) {
                    p.shallow_clone().copy_(b);
                }
            });
            if self.last_valid.is_some() {
                self.last_valid = Some(self.evaluate(Split::Valid)?);
            }
        }
        let secs: f64 = self.state.history.iter().map(|e| e.train_seconds).sum();
        let examples: usize = self.state.history.iter().map(|e| e.examples).sum();
        let report = TrainReport {
            examples_per_second: examples as f64 / secs.max(1e-9),
            parameters: self.model.parameters(),
            device: format!("{:?}", self.model.device()),
            valid: self.last_valid.take(),
            state: self.state,
        };
        Ok(Trained { model: self.model, report })
    }

    /// Full-ranking metrics of the current weights on `split`.
    pub fn evaluate(&self, split: Split) -> Result<RankingMetrics, TrainError> {
        evaluate_or_cancel(
            &self.model,
            self.data,
            &self.dev.features,
            split,
            Ranking::Full,
            &self.cfg.ks,
            &self.cfg.filtering,
            self.cancel.as_deref(),
        )
        .map_err(|e| match e {
            ModelError::Cancelled => TrainError::Cancelled,
            e => e.into(),
        })
    }

    /// The loss of training rows `idx` with negatives `negs` (`[len, n]`).
    fn batch_loss(&self, idx: &Tensor, negs: Option<Tensor>, train: bool) -> Result<Tensor, TrainError> {
        let users = self.dev.users.f_index_select(0, idx)?;
        let items = self.dev.items.f_index_select(0, idx)?;
        let labels = self.dev.labels.f_index_select(0, idx)?;
        let weights = self.dev.weights.as_ref().map(|w| w.index_select(0, idx));
        self.loss_of(&users, &items, &labels, weights.as_ref(), negs.as_ref(), train)
    }

    /// Scores (user, item) and (user, negative) in one forward pass and applies the loss.
    fn loss_of(
        &self,
        users: &Tensor,
        items: &Tensor,
        labels: &Tensor,
        weights: Option<&Tensor>,
        negs: Option<&Tensor>,
        train: bool,
    ) -> Result<Tensor, TrainError> {
        let b = users.size()[0];
        let cols = match negs {
            Some(n) => Tensor::f_cat(&[items.f_view([-1, 1])?, n.shallow_clone()], 1)?,
            None => items.f_view([-1, 1])?,
        };
        let width = cols.size()[1];
        let all_users = users.f_view([-1, 1])?.f_expand([b, width], false)?.f_reshape([-1])?;
        let all_items = cols.f_reshape([-1])?;
        let inputs = self.model.inputs_for(&all_users, &all_items, &self.dev.features)?;
        let mut scores = self.model.forward(&inputs, train)?.f_view([b, width])?;
        if self.cfg.temperature != 1.0 && self.cfg.loss != Loss::Mse {
            scores = scores.f_div_scalar(self.cfg.temperature)?;
        }
        let log_q = match self.cfg.loss {
            Loss::SampledSoftmax => Some(self.dev.log_q.f_index_select(0, &all_items)?.f_view([b, width])?),
            _ => None,
        };
        Ok(self.cfg.loss.compute(&scores, labels, weights, log_q.as_ref())?)
    }

    /// Sums the window's losses; the first non-finite one is a divergence at its exact step.
    fn check_window(&mut self, window: &mut Vec<Tensor>, epoch: usize) -> Result<(f64, usize), TrainError> {
        if window.is_empty() {
            return Ok((0.0, 0));
        }
        let losses: Vec<f64> =
            Vec::<f64>::try_from(&Tensor::stack(window, 0).to_kind(Kind::Double).to_device(Device::Cpu))?;
        let first_step = self.state.steps - losses.len() as u64;
        window.clear();
        if self.record_steps {
            self.step_losses.extend(&losses);
        }
        if let Some(k) = losses.iter().position(|l| !l.is_finite()) {
            return Err(TrainError::Diverged { epoch, step: first_step + k as u64 });
        }
        Ok((losses.iter().sum(), losses.len()))
    }

    /// Weights can overflow while the loss still reads finite: check them once per epoch.
    fn check_weights(&self, epoch: usize) -> Result<(), TrainError> {
        let finite = tch::no_grad(|| self.model.params().iter().all(|(_, p)| p.isfinite().all().int64_value(&[]) != 0));
        if finite {
            Ok(())
        } else {
            Err(TrainError::Diverged { epoch, step: self.state.steps.saturating_sub(1) })
        }
    }

    /// Records a validation value; keeps a copy of the weights when it is the best so far.
    fn track_best(&mut self, epoch: usize, value: f64) {
        let better = self.state.best.is_none_or(|(_, b)| value > b);
        if better {
            self.state.best = Some((epoch, value));
            self.state.bad_evals = 0;
            if self.cfg.early_stopping.is_some() {
                self.best_weights =
                    Some(tch::no_grad(|| self.model.params().iter().map(|(_, p)| p.detach().copy()).collect()));
            }
        } else {
            self.state.bad_evals += 1;
            if let Some(es) = &self.cfg.early_stopping {
                if self.state.bad_evals >= es.patience {
                    self.state.stopped_early = true;
                }
            }
        }
    }

    /// Mean loss on `split`'s rows with negatives drawn from a fixed seed, in eval mode (no
    /// dropout, no gradients): the validation loss the optimizer persona ranks by.
    pub fn split_loss(&self, split: Split) -> Result<f64, TrainError> {
        let part = self.data.part(split);
        if part.is_empty() {
            return Err(TrainError::Config(format!("the {} split is empty", split.name())));
        }
        let device = self.model.device();
        let neg_per_row = if self.cfg.loss == Loss::Mse { 0 } else { self.cfg.negatives };
        let mut rng = epoch_rng(self.cfg.seed, usize::MAX - 1);
        let negs = self.sampler.sample(&part.users, neg_per_row, &self.data.train.by_user, &mut rng);
        let weights_all = !part.weights.iter().all(|&w| w == 1.0);
        let (mut total, mut weight) = (0.0, 0.0);
        tch::no_grad(|| -> Result<(), TrainError> {
            for start in (0..part.len()).step_by(8192) {
                let end = (start + 8192).min(part.len());
                let t = |v: &[i64]| Tensor::from_slice(v).to_device(device);
                let users = t(&part.users[start..end]);
                let items = t(&part.items[start..end]);
                let labels = Tensor::from_slice(&part.labels[start..end]).to_device(device);
                let w = weights_all.then(|| Tensor::from_slice(&part.weights[start..end]).to_device(device));
                let negs_t = (neg_per_row > 0)
                    .then(|| t(&negs[start * neg_per_row..end * neg_per_row]).view([-1, neg_per_row as i64]));
                let l = self.loss_of(&users, &items, &labels, w.as_ref(), negs_t.as_ref(), false)?.double_value(&[]);
                let chunk_weight: f64 = part.weights[start..end].iter().map(|&x| x as f64).sum();
                total += l * chunk_weight;
                weight += chunk_weight;
            }
            Ok(())
        })?;
        Ok(total / weight.max(1e-12))
    }
}

fn unit_temperature() -> f64 {
    1.0
}

/// Rejects configurations that cannot train this data.
fn validate(cfg: &TrainConfig, data: &Interactions) -> Result<(), TrainError> {
    if cfg.batch_size == 0 {
        return Err(TrainError::Config("batch_size must be positive".into()));
    }
    if cfg.loss.needs_negatives() && cfg.negatives == 0 {
        return Err(TrainError::Config(format!("{:?} needs at least one negative per positive", cfg.loss)));
    }
    if !(cfg.temperature.is_finite() && cfg.temperature > 0.0) {
        return Err(TrainError::Config(format!("temperature {} is not a positive number", cfg.temperature)));
    }
    if !(cfg.optimizer.lr.is_finite() && cfg.optimizer.lr > 0.0) {
        return Err(TrainError::Config(format!("learning rate {} is not a positive number", cfg.optimizer.lr)));
    }
    if data.train.is_empty() {
        return Err(TrainError::Data(DataError::EmptyTrain));
    }
    Ok(())
}

/// Trains `def` on `data` to the end of `cfg` (epochs or early stopping) on `device`.
pub fn train(def: &ModelDef, data: &Interactions, cfg: &TrainConfig, device: Device) -> Result<Trained, TrainError> {
    let mut trainer = Trainer::new(def, data, cfg.clone(), device)?;
    trainer.run(None)?;
    trainer.finish()
}

/// A short probe: the training loss of each of `steps` steps, and the validation loss after them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossCurve {
    /// Training loss at every step.
    pub train: Vec<f64>,
    /// Mean loss on the validation rows after the last step (fixed-seed negatives).
    pub valid: f64,
    /// Steps taken.
    pub steps: usize,
}

/// The `compute_loss` tool: trains `def` for `steps` optimizer steps (no evaluation, no
/// checkpoints) and returns the loss curve and the validation loss. A NaN/inf loss is
/// [`TrainError::Diverged`].
pub fn compute_loss(
    def: &ModelDef,
    data: &Interactions,
    cfg: &TrainConfig,
    steps: usize,
    device: Device,
) -> Result<LossCurve, TrainError> {
    let per_epoch = data.train.len().div_ceil(cfg.batch_size.max(1)).max(1);
    let mut probe = cfg.clone();
    probe.epochs = steps.div_ceil(per_epoch).max(1);
    probe.eval_every = 0;
    probe.early_stopping = None;
    probe.checkpoint_dir = None;
    probe.check_every = 1;
    let mut trainer = Trainer::new(def, data, probe, device)?;
    trainer.record_steps = true;
    let mut curve = Vec::with_capacity(steps);
    while curve.len() < steps {
        let remaining = steps - curve.len();
        trainer.cfg.max_steps_per_epoch = Some(remaining.min(per_epoch));
        trainer.run_epoch()?;
        curve.append(&mut trainer.step_losses);
    }
    let valid_split = if data.valid.is_empty() { Split::Train } else { Split::Valid };
    let valid = trainer.split_loss(valid_split)?;
    Ok(LossCurve { train: curve, valid, steps })
}
