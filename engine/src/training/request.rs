//! What to train: a [`TrainRequest`] names blocks of a checked program and a split folder; it
//! resolves into the trainer's own configuration here, so steps and loops read one set of rules.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use dsl::builtins::{self, PRELUDE};
use dsl::metrics::{MetricAt, RankingMetric};
use dsl::shape::ModelDef;
use dsl::types::Value;
use trainer::data::SamplerKind;
use trainer::loss::Loss;
use trainer::optim::{OptimizerConfig, OptimizerKind};
use trainer::schedule::Schedule;
use trainer::train::EarlyStopping;
use trainer::{DeviceChoice, TrainConfig};

use super::TrainFailure;

/// One candidate to train: everything that decides its weights and metrics.
#[derive(Clone, Debug)]
pub struct TrainRequest {
    /// The checked program holding the model, optimizer and reward blocks.
    pub program: Arc<dsl::Program>,
    /// The model block's name (a key of `program.models`, e.g. `bpr_mf`).
    pub model: String,
    /// The optimizer: `Value::Object { ctor: "adam", args }` or `Value::Optimizer(block name)`.
    pub optimizer: Value,
    /// The reward block's name; `None` trains on clicks (or every row, without a click column).
    pub reward: Option<String>,
    /// A reward block whose rows scored > 0 are the validation and test positives; `None`: clicks.
    pub judge: Option<String>,
    /// A split folder holding `train.parquet`, `valid.parquet` and `test.parquet`.
    pub split_dir: PathBuf,
    /// `bpr`, `bce`, `softmax` (sampled softmax) or `mse`.
    pub loss: String,
    /// Maximum epochs (early stopping on validation `metric` may end sooner).
    pub epochs: usize,
    /// Epochs without a better validation `metric` before training stops (the best epoch's
    /// weights are kept); 0 trains every epoch.
    pub patience: usize,
    /// The validation metric early stopping watches and a loop ranks by; metrics are reported
    /// at its cut-off and at 10.
    pub metric: MetricAt,
    /// Positives per mini-batch.
    pub batch: usize,
    /// How negatives are sampled: `uniform` or `popularity` (one per positive).
    pub negatives: String,
    /// Seed for initialisation, shuffling and negatives: same seed, same CPU metrics.
    pub seed: u64,
    /// `auto`, `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// Fail with [`TrainFailure::TooSlow`] when the run would take longer than this.
    pub max_train_seconds: Option<f64>,
    /// Set when the step that asked for this training is abandoned (its timeout, Ctrl-C):
    /// training stops at the next batch with a `cancelled` failure.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Where probes put scratch files, each in a folder of its own made there: the run dir's
    /// `tmp` in a run (the system's temporary folder by default).
    pub scratch: PathBuf,
}

impl TrainRequest {
    /// A request with the `std::train::train` defaults (read from its signature): Adam, BPR,
    /// early stopping, batch 1024, uniform negatives, seed 0, device auto, no reward, no time limit.
    pub fn new(program: Arc<dsl::Program>, model: impl Into<String>, split_dir: impl Into<PathBuf>) -> TrainRequest {
        TrainRequest {
            program,
            model: model.into(),
            optimizer: Value::Object { ctor: "adam".into(), args: BTreeMap::new() },
            reward: None,
            judge: None,
            split_dir: split_dir.into(),
            loss: "bpr".into(),
            epochs: default_int("epochs"),
            patience: default_int("patience"),
            metric: MetricAt::new(RankingMetric::Ndcg, 10),
            batch: 1024,
            negatives: "uniform".into(),
            seed: 0,
            device: "auto".into(),
            max_train_seconds: None,
            cancel: None,
            scratch: std::env::temp_dir(),
        }
    }

    /// The checked model block.
    pub fn model_def(&self) -> Result<&ModelDef, TrainFailure> {
        self.program.models.get(&self.model).ok_or_else(|| {
            let known: Vec<&str> = self.program.models.keys().map(String::as_str).collect();
            TrainFailure::Config(format!(
                "the program defines no model `{}` (it has: {})",
                self.model,
                known.join(", ")
            ))
        })
    }

    /// The checked reward block, if the request names one.
    pub fn reward_def(&self) -> Result<Option<&dsl::reward::RewardDef>, TrainFailure> {
        self.reward_block(self.reward.as_deref())
    }

    /// The checked judge block, if the request names one.
    pub fn judge_def(&self) -> Result<Option<&dsl::reward::RewardDef>, TrainFailure> {
        self.reward_block(self.judge.as_deref())
    }

    fn reward_block(&self, name: Option<&str>) -> Result<Option<&dsl::reward::RewardDef>, TrainFailure> {
        match name {
            None => Ok(None),
            Some(name) => self
                .program
                .rewards
                .get(name)
                .map(Some)
                .ok_or_else(|| TrainFailure::Config(format!("the program defines no reward `{name}`"))),
        }
    }

    /// The loss by name.
    pub fn loss(&self) -> Result<Loss, TrainFailure> {
        Loss::from_name(&self.loss)
            .ok_or_else(|| TrainFailure::Config(format!("unknown loss `{}`: use bpr, bce, softmax or mse", self.loss)))
    }

    /// The device asked for.
    pub fn device_choice(&self) -> Result<DeviceChoice, TrainFailure> {
        self.device.parse().map_err(|e: trainer::device::DeviceError| TrainFailure::Config(e.to_string()))
    }

    /// A fresh scratch folder of this request's own under [`TrainRequest::scratch`], removed
    /// when dropped: concurrent probes never share files.
    pub fn scratch_dir(&self) -> Result<tempfile::TempDir, TrainFailure> {
        let fail = |e: std::io::Error| TrainFailure::Internal(format!("scratch under {}: {e}", self.scratch.display()));
        std::fs::create_dir_all(&self.scratch).map_err(fail)?;
        tempfile::Builder::new().prefix("probe-").tempdir_in(&self.scratch).map_err(fail)
    }

    /// The cut-offs evaluated: 10 (comparable across runs) and the metric's own, sorted.
    pub fn cutoffs(&self) -> Vec<usize> {
        let mut ks = vec![10, self.metric.cutoff()];
        ks.sort_unstable();
        ks.dedup();
        ks
    }

    /// The trainer configuration this request stands for.
    pub fn config(&self) -> Result<TrainConfig, TrainFailure> {
        if self.epochs == 0 || self.batch == 0 {
            return Err(TrainFailure::Config("epochs and batch must be at least 1".into()));
        }
        let sampler = match self.negatives.as_str() {
            "uniform" => SamplerKind::Uniform,
            "popularity" => SamplerKind::Popularity,
            other => {
                return Err(TrainFailure::Config(format!(
                    "unknown negative sampler `{other}`: use uniform or popularity"
                )))
            }
        };
        let opt = optimizer(&self.program, &self.optimizer)?;
        let loss = match opt.loss {
            Some(loss) => loss,
            None => self.loss()?,
        };
        Ok(TrainConfig {
            loss,
            optimizer: opt.config,
            schedule: opt.schedule,
            batch_size: self.batch,
            epochs: self.epochs,
            negatives: if opt.negatives > 0 && loss != Loss::Mse { opt.negatives } else { usual_negatives(loss) },
            temperature: opt.temperature,
            sampler,
            clip_grad_norm: opt.clip,
            early_stopping: (self.patience > 0)
                .then(|| EarlyStopping { metric: self.metric.to_string(), patience: self.patience }),
            eval_every: 1,
            ks: self.cutoffs(),
            seed: self.seed,
            threads: None,
            max_steps_per_epoch: None,
            check_every: 20,
            checkpoint_dir: None,
            checkpoint_every: 1,
            filtering: "as the split step received it".into(),
        })
    }
}

/// An optimizer value resolved for the trainer.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedOptimizer {
    /// Update rule, learning rate and weight decay.
    pub config: OptimizerConfig,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Gradient-norm clipping (`clip: 0` is none).
    pub clip: Option<f64>,
    /// The loss it names (`loss:`), overriding the step's.
    pub loss: Option<Loss>,
    /// Negatives per positive (`negatives:`); 0 is the loss's usual number.
    pub negatives: usize,
    /// Scores are divided by this before the loss.
    pub temperature: f64,
}

/// Resolves `adam(lr: 1e-3, ...)` or a named optimizer block; arguments left out take the
/// constructor's defaults from `dsl::builtins`.
pub fn optimizer(program: &dsl::Program, value: &Value) -> Result<ResolvedOptimizer, TrainFailure> {
    let (ctor, args) = match value {
        Value::Object { ctor, args } => (ctor.as_str(), args),
        Value::Optimizer(name) => match program.optimizers.get(name) {
            Some(def) => return optimizer(program, &def.value),
            None => return Err(TrainFailure::Config(format!("the program defines no optimizer `{name}`"))),
        },
        other => return Err(TrainFailure::Config(format!("`optimizer` should be an optimizer, is {other}"))),
    };
    let sig =
        builtins::lookup(PRELUDE, ctor).ok_or_else(|| TrainFailure::Config(format!("`{ctor}` is not an optimizer")))?;
    let arg = |name: &str| args.get(name).or_else(|| sig.param(name).and_then(|p| p.default.as_ref()));
    let num = |name: &str| -> Result<f64, TrainFailure> {
        match arg(name) {
            Some(v) => v.as_f64().ok_or_else(|| TrainFailure::Config(format!("`{ctor}({name}:)` should be a number"))),
            None => Ok(0.0),
        }
    };
    let mut kind = OptimizerKind::default_for(ctor)
        .ok_or_else(|| TrainFailure::Config(format!("`{ctor}` is not an optimizer the trainer knows")))?;
    if let OptimizerKind::Sgd { momentum, .. } = &mut kind {
        *momentum = num("momentum")?;
    }
    let warmup_steps = num("warmup")?.max(0.0) as usize;
    let schedule = match arg("schedule") {
        None => Schedule::Constant { warmup_steps },
        Some(Value::Str(s)) if s == "constant" => Schedule::Constant { warmup_steps },
        Some(Value::Str(s)) if s == "cosine" => Schedule::Cosine { warmup_steps, min_factor: 0.0 },
        Some(other) => {
            return Err(TrainFailure::Config(format!("unknown schedule {other}: use \"constant\" or \"cosine\"")))
        }
    };
    let clip = Some(num("clip")?).filter(|c| *c > 0.0);
    let loss = match arg("loss") {
        None | Some(Value::Unset) => None,
        Some(Value::Str(name)) => Some(Loss::from_name(name).ok_or_else(|| {
            TrainFailure::Config(format!("unknown loss `{name}`: use {}", builtins::LOSSES.join(", ")))
        })?),
        Some(other) => return Err(TrainFailure::Config(format!("`{ctor}(loss:)` should be a string, is {other}"))),
    };
    Ok(ResolvedOptimizer {
        config: OptimizerConfig { kind, lr: num("lr")?, weight_decay: num("weight_decay")? },
        schedule,
        clip,
        loss,
        negatives: num("negatives")?.max(0.0) as usize,
        temperature: match arg("temperature") {
            None => 1.0,
            Some(_) => num("temperature")?,
        },
    })
}

/// [`builtins::usual_negatives`] of a loss the trainer knows.
fn usual_negatives(loss: Loss) -> usize {
    builtins::usual_negatives(match loss {
        Loss::Mse => "mse",
        Loss::Bpr => "bpr",
        Loss::Bce => "bce",
        Loss::SampledSoftmax => "softmax",
    })
}

/// A default of `std::train::train`, as its signature declares it: one place for the language,
/// `explain` and the trainer.
fn default_int(name: &str) -> usize {
    let default = dsl::builtins::lookup("std::train", "train")
        .and_then(|sig| sig.params.iter().find(|p| p.name == name))
        .map(|p| &p.default);
    match default {
        Some(Some(Value::Int(v))) => *v as usize,
        other => unreachable!("`std::train::train` declares `{name}` as an int default, found {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_probes_get_scratch_folders_of_their_own_under_the_run_dir() {
        let program = dsl::check("t.evo", "let x = std::debug::echo(1)\n", &dsl::NoFiles, &[]).result.unwrap();
        let run_tmp = tempfile::tempdir().unwrap();
        let mut req = TrainRequest::new(Arc::new(program), "m", "split");
        req.scratch = run_tmp.path().join("tmp");
        let (a, b) = (req.scratch_dir().unwrap(), req.scratch_dir().unwrap());
        assert_ne!(a.path(), b.path());
        assert!(a.path().starts_with(&req.scratch) && b.path().starts_with(&req.scratch));
        let kept = a.path().to_path_buf();
        drop(a);
        assert!(!kept.exists(), "a probe's folder goes when the probe does");
        assert!(b.path().is_dir());
    }

    #[test]
    fn the_metric_decides_early_stopping_and_the_cutoffs() {
        let program = dsl::check("t.evo", "let x = std::debug::echo(1)\n", &dsl::NoFiles, &[]).result.unwrap();
        let mut req = TrainRequest::new(Arc::new(program), "m", "split");
        assert_eq!(req.cutoffs(), [10]);
        req.metric = "mrr@5".parse().unwrap();
        assert_eq!(req.cutoffs(), [5, 10]);
        let cfg = req.config().unwrap();
        assert_eq!(cfg.ks, [5, 10]);
        assert_eq!(cfg.early_stopping.unwrap().metric, "mrr@5");
    }

    #[test]
    fn training_defaults_early_stop_within_a_maximum_the_language_declares() {
        let program = dsl::check("t.evo", "let x = std::debug::echo(1)\n", &dsl::NoFiles, &[]).result.unwrap();
        let mut req = TrainRequest::new(Arc::new(program), "m", "split");
        // The anchor (RecBole's BPR-MF on ML-100K) needs about 37 epochs: a 5- or 10-epoch
        // default left the stdlib model far below it.
        assert_eq!((req.epochs, req.patience), (100, 5));
        let cfg = req.config().unwrap();
        assert_eq!((cfg.epochs, cfg.early_stopping.map(|e| e.patience)), (100, Some(5)));
        req.patience = 0;
        assert!(req.config().unwrap().early_stopping.is_none(), "patience 0 trains every epoch");
        for step in ["train", "offline"] {
            let module = if step == "train" { "std::train" } else { "std::loops" };
            let sig = dsl::builtins::lookup(module, step).unwrap();
            let default = |name: &str| sig.params.iter().find(|p| p.name == name).and_then(|p| p.default.clone());
            assert_eq!(default("epochs"), Some(Value::Int(100)), "{step}");
            assert_eq!(default("patience"), Some(Value::Int(5)), "{step}");
        }
    }
}
