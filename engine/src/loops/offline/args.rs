//! `offline`'s arguments, read once, and the blocks a candidate evolves.

use super::*;

/// The loop's arguments, read once.
pub(super) struct Args {
    pub(super) blocks: Blocks,
    pub(super) data: String,
    pub(super) personas: Vec<String>,
    /// Variants listed in `candidates:`, each trained as it is.
    pub(super) given: Vec<Blocks>,
    pub(super) quota: Quota,
    pub(super) budget: usize,
    pub(super) rounds: usize,
    pub(super) warm_start: usize,
    pub(super) max_params: Option<i64>,
    pub(super) max_flops: Option<i64>,
    pub(super) wall_ms: u64,
    pub(super) seed: u64,
    /// The random-search control in place of the agent (`search: "random"`).
    pub(super) random: bool,
    /// More seeds the best candidates and the baseline are trained on (`confirm.seeds`).
    pub(super) confirm_seeds: usize,
    /// How many of the best candidates are confirmed (`confirm.top`).
    pub(super) confirm_top: usize,
    pub(super) settings: Settings,
}

impl Args {
    pub(super) fn read(ctx: &StepContext) -> Result<Args, StepError> {
        let record = |name: &str| -> Result<std::collections::BTreeMap<String, Value>, StepError> {
            match ctx.arg(name)? {
                Value::Record(fields) => Ok(fields.clone()),
                Value::Unset => Ok(Default::default()),
                other => Err(StepError::input(format!("`{name}` should be a record, is {other}"))),
            }
        };
        let baseline = record("baseline")?;
        let block = |field: &str| match baseline.get(field) {
            Some(Value::Model(q) | Value::Optimizer(q) | Value::Reward(q)) => Some(q.clone()),
            _ => None,
        };
        let model = block("model").ok_or_else(|| StepError::input("`baseline` needs a `model`"))?;
        let blocks = Blocks { model, optimizer: block("optimizer"), reward: block("reward") };
        let given = match ctx.arg("candidates")? {
            Value::List(items) => items.iter().map(|item| given_blocks(item, &blocks)).collect::<Result<_, _>>()?,
            _ => Vec::new(),
        };
        let quota = record("quota")?;
        let count = |field: &str, default: i64| match quota.get(field) {
            Some(Value::Int(n)) => (*n).max(0) as usize,
            _ => default as usize,
        };
        let cost = record("cost")?;
        let confirm = record("confirm")?;
        let confirm_count = |field: &str, default: usize| match confirm.get(field) {
            Some(Value::Int(n)) => (*n).max(0) as usize,
            _ => default,
        };
        let personas = match ctx.arg("personas")? {
            Value::List(items) => items
                .iter()
                .filter_map(|v| match v {
                    Value::Persona(q) => Some(q.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let data = match ctx.arg("data")? {
            Value::Node(id) => id.clone(),
            other => Err(StepError::input(format!("`data` should be a split, is {other}")))?,
        };
        let int = |name: &str| ctx.int(name);
        let evolved = blocks.reward.clone();
        Ok(Args {
            blocks,
            data,
            personas,
            given,
            quota: Quota::new(count("explore", 2), count("exploit", 2), count("innovate", 1)),
            budget: int("budget")?.max(0) as usize,
            rounds: int("rounds")?.max(1) as usize,
            warm_start: int("warm_start")?.max(0) as usize,
            max_params: match cost.get("params") {
                Some(Value::Int(n)) => Some(*n),
                _ => None,
            },
            max_flops: match cost.get("flops") {
                Some(Value::Int(n)) => Some(*n),
                _ => None,
            },
            wall_ms: ctx.duration_ms("wall_time")?,
            seed: int("seed")? as u64,
            random: ctx.str("search")? == "random",
            confirm_seeds: confirm_count("seeds", 2),
            confirm_top: confirm_count("top", 3),
            settings: Settings {
                metric: MetricAt::from_value(ctx.arg("metric")?).ok_or_else(|| {
                    StepError::permanent(
                        StepErrorKind::Input,
                        format!(
                            "`metric` should be a ranking metric such as ndcg@10, is {}",
                            ctx.arg("metric").map(ToString::to_string).unwrap_or_default()
                        ),
                    )
                })?,
                epochs: int("epochs")?,
                patience: int("patience")?,
                batch: int("batch")?,
                loss: ctx.str("loss")?.to_string(),
                seed: int("seed")?,
                device: ctx.str("device")?.to_string(),
                max_seconds: match cost.get("train_time") {
                    Some(Value::Duration(ms)) => *ms as f64 / 1000.0,
                    _ => 0.0,
                },
                judge: match ctx.arg("judge")? {
                    Value::Reward(q) if Some(q) == evolved.as_ref() => {
                        return Err(StepError::input(format!(
                            "`judge: {q}` is the reward the loop evolves: a judge must stay fixed while the \
                             rewards it judges change (declare another reward)"
                        )))
                    }
                    Value::Reward(q) => Some(q.clone()),
                    _ => None,
                },
            },
        })
    }
}

/// What a candidate's result depends on besides its blocks: the training settings, the metric,
/// the judge (`judge`: its block's meaning) and the split. It ends every experiment key, so a
/// proposal tried at 5 epochs is tried again at 40, and one tried under the same settings is a
/// duplicate.
pub(super) fn settings_tag(args: &Args, split: &Artifact, judge: Option<serde_json::Value>) -> String {
    let s = &args.settings;
    let mut settings = serde_json::json!({
        "metric": s.metric.to_string(), "epochs": s.epochs, "patience": s.patience, "batch": s.batch, "loss": s.loss,
        "seed": s.seed, "device": s.device, "max_seconds": s.max_seconds, "split": split.hash,
    });
    // Said only when there is one, so the keys of loops without a judge stay.
    if let Some(judge) = judge {
        settings["judge"] = judge;
    }
    // The control's experiments are its own: a candidate both searches find is trained by each,
    // so neither's budget is spent by the other. (Said only for it, so the agent's keys stay.)
    let settings = match args.random {
        true => serde_json::json!({ "settings": settings, "search": "random" }),
        false => settings,
    };
    blake3::hash(settings.to_string().as_bytes()).to_hex()[..8].to_string()
}

/// The blocks of one `candidates:` entry: what it does not name is the baseline's.
pub(super) fn given_blocks(item: &Value, baseline: &Blocks) -> Result<Blocks, StepError> {
    let Value::Record(fields) = item else {
        return Err(StepError::permanent(
            StepErrorKind::Input,
            format!("a `candidates` entry should be a record, is {item}"),
        ));
    };
    let block = |field: &str| match fields.get(field) {
        Some(Value::Model(q) | Value::Optimizer(q) | Value::Reward(q)) => Some(q.clone()),
        _ => None,
    };
    Ok(Blocks {
        model: block("model").unwrap_or_else(|| baseline.model.clone()),
        optimizer: block("optimizer").or_else(|| baseline.optimizer.clone()),
        reward: block("reward").or_else(|| baseline.reward.clone()),
    })
}

/// The blocks a candidate evolves, as its `program` spells them: its parent's names, or their
/// local form where a delta replaced an imported block (`std::models::bpr_mf` becomes a local
/// `bpr_mf`).
pub(super) fn blocks_in(program: &dsl::Program, parent: &Blocks) -> Blocks {
    let spelled = |name: &str, defined: &dyn Fn(&str) -> bool| -> String {
        let local = name.rsplit("::").next().unwrap_or(name);
        if !defined(name) && defined(local) { local } else { name }.to_string()
    };
    Blocks {
        model: spelled(&parent.model, &|q| program.models.contains_key(q)),
        optimizer: parent.optimizer.as_deref().map(|o| spelled(o, &|q| program.optimizers.contains_key(q))),
        reward: parent.reward.as_deref().map(|r| spelled(r, &|q| program.rewards.contains_key(q))),
    }
}
