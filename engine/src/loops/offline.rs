//! `offline(...)`: the fast loop. Per round and persona, the agent proposes (explore / exploit /
//! innovate quotas); each delta is verified by the compiler, checked against the journal for
//! duplicates and against the declared cost, screened with `compute_loss`, then trained as a
//! node of its own and scored on the offline metric. Everything is journaled as it happens;
//! the next round starts from the best candidate so far (warm start).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use agents::scope::Persona;
use agents::{apply_as, Baseline, HistoryEntry, Outcome, Proposal, ProposalKind, ProposalRequest, Proposer, Quota};
use dsl::metrics::MetricAt;
use dsl::types::Value;
use journal::ExperimentRecord;

use super::candidate::{self, Settings, CANDIDATE_STEP};
use super::llm_agent::LlmAgent;
use super::production::Production;
use super::{short, Blocks, Entry, Experiments};
use crate::fs_loader::FsLoader;
use crate::steps::{Artifact, KeyEnv, Step, StepContext, StepError};
use crate::training::{compute_loss, TrainFailure, TrainReport, TrainRequest};

/// The fast loop.
pub struct Offline;

/// The loop's arguments, read once.
struct Args {
    blocks: Blocks,
    data: String,
    personas: Vec<String>,
    /// Variants listed in `candidates:`, each trained as it is.
    given: Vec<Blocks>,
    quota: Quota,
    budget: usize,
    rounds: usize,
    warm_start: usize,
    max_params: Option<i64>,
    max_flops: Option<i64>,
    wall_ms: u64,
    seed: u64,
    settings: Settings,
}

impl Args {
    fn read(ctx: &StepContext) -> Result<Args, StepError> {
        let record = |name: &str| -> Result<std::collections::BTreeMap<String, Value>, StepError> {
            match ctx.arg(name)? {
                Value::Record(fields) => Ok(fields.clone()),
                Value::Unset => Ok(Default::default()),
                other => Err(StepError::permanent(format!("`{name}` should be a record, is {other}"))),
            }
        };
        let baseline = record("baseline")?;
        let block = |field: &str| match baseline.get(field) {
            Some(Value::Model(q) | Value::Optimizer(q) | Value::Reward(q)) => Some(q.clone()),
            _ => None,
        };
        let model = block("model").ok_or_else(|| StepError::permanent("`baseline` needs a `model`"))?;
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
            other => Err(StepError::permanent(format!("`data` should be a split, is {other}")))?,
        };
        let int = |name: &str| ctx.int(name);
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
            settings: Settings {
                metric: MetricAt::from_value(ctx.arg("metric")?).ok_or_else(|| {
                    StepError::permanent(format!(
                        "`metric` should be a ranking metric such as ndcg@10, is {}",
                        ctx.arg("metric").map(ToString::to_string).unwrap_or_default()
                    ))
                })?,
                epochs: int("epochs")?,
                batch: int("batch")?,
                loss: ctx.str("loss")?.to_string(),
                seed: int("seed")?,
                device: ctx.str("device")?.to_string(),
                max_seconds: match cost.get("train_time") {
                    Some(Value::Duration(ms)) => *ms as f64 / 1000.0,
                    _ => 0.0,
                },
            },
        })
    }
}

/// The blocks of one `candidates:` entry: what it does not name is the baseline's.
fn given_blocks(item: &Value, baseline: &Blocks) -> Result<Blocks, StepError> {
    let Value::Record(fields) = item else {
        return Err(StepError::permanent(format!("a `candidates` entry should be a record, is {item}")));
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
fn blocks_in(program: &dsl::Program, parent: &Blocks) -> Blocks {
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

#[async_trait::async_trait]
impl Step for Offline {
    fn name(&self) -> &'static str {
        "std::loops::offline"
    }

    fn version(&self) -> u32 {
        1
    }

    fn state_key(&self, env: &KeyEnv) -> Result<Option<String>, String> {
        // The loop starts from the production baseline: a launch must re-run it. Its proposals
        // come from the model the run asks (not from how it is reached or paid for).
        let production = Production::new(env.run_dir).state_key()?;
        let Some(llm) = env.llm else { return Ok(production) };
        let asked = serde_json::json!({
            "provider": llm.provider, "model": llm.model,
            "temperature": llm.temperature, "max_tokens": llm.max_tokens,
        });
        Ok(Some(format!("{} llm {asked}", production.unwrap_or_default())))
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let args = Args::read(&ctx)?;
        let mut run = Loop::start(&ctx, args).await?;
        run.given(&ctx).await?;
        run.rounds(&ctx).await?;
        run.finish(&ctx)
    }
}

/// A running fast loop.
struct Loop {
    args: Args,
    started: Instant,
    split: Artifact,
    production: Option<String>,
    /// The current starting point and its entry: one of `parents`, in turn.
    parent: (Baseline, Entry),
    /// The starting points of this round: the baseline, then the best `warm_start` so far.
    parents: Vec<(Baseline, Entry)>,
    /// Persona turns taken, to hand each the next parent.
    turns: usize,
    personas: Vec<Persona>,
    agent: Agent,
    history: Vec<HistoryEntry>,
    seen: HashSet<String>,
    entries: Vec<Entry>,
    trained: usize,
    counts: HashMap<&'static str, usize>,
    /// Where screening probes put their scratch folders: the run dir's `tmp`.
    scratch: std::path::PathBuf,
    /// Persona turns that proposed nothing (`round 2: architecture`), for the summary.
    silent: Vec<String>,
}

impl Loop {
    async fn start(ctx: &StepContext, args: Args) -> Result<Loop, StepError> {
        let run = ctx.run.clone();
        let split = ctx.input("data")?.clone();
        let production = Production::new(&run.run_dir);
        let current = production.current().map_err(|e| StepError::permanent(e.to_string()))?;
        let source = match &current {
            Some(version) => production.source(version).map_err(|e| StepError::permanent(e.to_string()))?,
            None => std::fs::read_to_string(&run.workflow)
                .map_err(|e| StepError::permanent(format!("cannot read `{}`: {e}", run.workflow)))?,
        };
        let mut baseline = Baseline::new(&run.workflow, source.clone(), Arc::new(FsLoader), run.overrides.clone())
            .map_err(|e| StepError::permanent(format!("the baseline does not compile:\n{}", e.message)))?;
        // A launched listed variant evolves the blocks it named, not the workflow's `baseline:`.
        let launched_blocks = current.as_ref().and_then(|v| v.blocks.clone());
        if let Some(b) = &launched_blocks {
            let local = |q: &str| q.rsplit("::").next().unwrap_or(q).to_string();
            baseline = baseline.with_blocks(
                Some(&local(&b.model)),
                b.optimizer.as_deref().map(local).as_deref(),
                b.reward.as_deref().map(local).as_deref(),
            );
        }
        let personas = args
            .personas
            .iter()
            .map(|name| {
                baseline
                    .persona(name)
                    .ok_or_else(|| StepError::permanent(format!("the persona `{name}` edits no kind of block")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let personas = personas.into_iter().filter(|p| p.enabled).collect();
        let past = run.journal.experiments().map_err(StepError::transient)?;
        let history: Vec<HistoryEntry> =
            past.iter().enumerate().map(|(i, e)| history_entry(e, &args.settings.metric.to_string(), i)).collect();
        let seen = past.iter().map(|e| e.key.clone()).collect();
        let key = format!("baseline-{}", &blake3::hash(source.as_bytes()).to_hex()[..16]);
        let record = ExperimentRecord {
            key: key.clone(),
            run_id: Some(run.run_id),
            round: Some(0),
            kind: Some("baseline".into()),
            explanation: Some(match &current {
                Some(v) => format!("production baseline {}", v.name),
                None => "the workflow's baseline".into(),
            }),
            status: "verified".into(),
            ..Default::default()
        };
        let blocks = blocks_in(&baseline.program, launched_blocks.as_ref().unwrap_or(&args.blocks));
        let entry = Entry { record, source: Some(source), blocks: blocks.clone(), checkpoint: None };
        let shown = ctx.int("history")?.max(0) as usize;
        let llm = LlmAgent::from_run(&run, split.dir.clone(), blocks.clone(), &args.settings, shown);
        let agent = match llm.map_err(StepError::permanent)? {
            Some(llm) => Agent::Llm(Box::new(llm)),
            None => Agent::Search(Box::new(agents::SearchAgent::new(args.seed))),
        };
        let mut lp = Loop {
            started: Instant::now(),
            split,
            production: current.map(|v| v.name),
            parent: (baseline.clone(), entry.clone()),
            parents: Vec::new(),
            turns: 0,
            personas,
            agent,
            history,
            seen,
            entries: Vec::new(),
            trained: 0,
            counts: HashMap::new(),
            scratch: run.run_dir.join("tmp"),
            silent: Vec::new(),
            args,
        };
        let entry = lp.train(ctx, entry, "baseline").await?;
        if entry.record.status != "trained" {
            return Err(StepError::permanent(format!(
                "the baseline itself does not train: {}",
                entry.record.reason.clone().unwrap_or_default()
            )));
        }
        lp.parent = (baseline, entry);
        lp.parents = vec![lp.parent.clone()];
        Ok(lp)
    }

    /// Trains the variants listed in `candidates:` as explore entries with operator `given`:
    /// the baseline's source with other blocks named (a reward, a model...), so a chosen set of
    /// variants can reach the slow loop side by side. They do not count against the budget.
    async fn given(&mut self, ctx: &StepContext) -> Result<(), StepError> {
        let parent = self.parent.1.clone();
        let source = parent.source.clone().unwrap_or_default();
        for blocks in self.args.given.clone() {
            if blocks == self.args.blocks {
                *self.counts.entry("duplicate").or_default() += 1;
                continue;
            }
            let named = format!(
                "model {}, optimizer {}, reward {}",
                blocks.model,
                blocks.optimizer.as_deref().unwrap_or("-"),
                blocks.reward.as_deref().unwrap_or("-")
            );
            let key = format!("given-{}", &blake3::hash(format!("{source}\n{named}").as_bytes()).to_hex()[..24]);
            if self.entries.iter().any(|e| e.record.key == key) {
                *self.counts.entry("duplicate").or_default() += 1;
                continue;
            }
            let record = ExperimentRecord {
                key: key.clone(),
                run_id: Some(ctx.run.run_id),
                parent: Some(parent.record.key.clone()),
                round: Some(0),
                kind: Some(ProposalKind::Explore.as_str().into()),
                operator: Some("given".into()),
                explanation: Some(format!("listed in `candidates:` ({named})")),
                program_hash: Some(blake3::hash(source.as_bytes()).to_hex()[..32].to_string()),
                ..Default::default()
            };
            let entry = Entry { record, source: parent.source.clone(), blocks, checkpoint: None };
            let name = format!("given-{}", short(&key["given-".len()..]));
            if self.seen.contains(&key) {
                // Journaled by an earlier run, maybe decided online since: its row stays as it is,
                // and the slow loop's selection skips what it decided.
                let (entry, _) = self.fit(ctx, entry, &name).await?;
                *self.counts.entry("again").or_default() += 1;
                self.entries.push(entry);
                continue;
            }
            self.train(ctx, entry, &name).await?;
        }
        Ok(())
    }

    /// The rounds, until the budget, the wall time or the rounds run out.
    async fn rounds(&mut self, ctx: &StepContext) -> Result<(), StepError> {
        for round in 1..=self.args.rounds {
            for p in 0..self.personas.len() {
                if self.exhausted() {
                    return Ok(());
                }
                let persona = self.personas[p].clone();
                // Turns take the round's parents in turn, so proposals spread over all of them.
                self.parent = self.parents[self.turns % self.parents.len()].clone();
                self.turns += 1;
                let proposals = self.propose(&persona);
                if proposals.is_empty() {
                    self.silent.push(format!("round {round}: {}", persona.name));
                }
                if let Agent::Llm(llm) = &mut self.agent {
                    if let Some(error) = llm.last_error.take() {
                        let stop = matches!(error, llm::Error::Budget(_));
                        self.llm_failed(ctx, round, &persona, &error)?;
                        if stop {
                            return Ok(());
                        }
                    }
                }
                for proposal in proposals {
                    if self.exhausted() {
                        return Ok(());
                    }
                    self.evaluate(ctx, round, &persona, proposal).await?;
                }
            }
            self.warm_start();
        }
        Ok(())
    }

    fn exhausted(&self) -> bool {
        self.trained >= self.args.budget
            || (self.args.wall_ms > 0 && self.started.elapsed().as_millis() as u64 >= self.args.wall_ms)
    }

    fn propose(&mut self, persona: &Persona) -> Vec<Proposal> {
        let request =
            ProposalRequest { persona, baseline: &self.parent.0, history: &self.history, quota: self.args.quota };
        // Proposing compiles every candidate (and may wait on an LLM): kept off the async workers.
        tokio::task::block_in_place(|| self.agent.proposer().propose(&request))
    }

    /// Journals an LLM turn that produced no proposal (malformed after repair, HTTP errors, the
    /// budget) as a failed proposal.
    fn llm_failed(
        &mut self,
        ctx: &StepContext,
        round: usize,
        persona: &Persona,
        error: &llm::Error,
    ) -> Result<(), StepError> {
        let text = error.to_string();
        let record = ExperimentRecord {
            key: format!(
                "llm-failed-{}",
                &blake3::hash(format!("{round} {} {text}", persona.name).as_bytes()).to_hex()[..24]
            ),
            run_id: Some(ctx.run.run_id),
            parent: Some(self.parent.1.record.key.clone()),
            round: Some(round as i64),
            persona: Some(persona.name.clone()),
            operator: Some("llm".into()),
            ..Default::default()
        };
        self.reject(ctx, record, "failed", format!("llm: {text}"))
    }

    /// One proposal, from Verify to its score.
    async fn evaluate(
        &mut self,
        ctx: &StepContext,
        round: usize,
        persona: &Persona,
        proposal: Proposal,
    ) -> Result<(), StepError> {
        let delta = serde_json::to_value(&proposal.delta).unwrap_or_default();
        let mut record = ExperimentRecord {
            run_id: Some(ctx.run.run_id),
            parent: Some(self.parent.1.record.key.clone()),
            round: Some(round as i64),
            persona: Some(persona.name.clone()),
            kind: Some(proposal.kind.as_str().into()),
            operator: Some(proposal.operator.clone()),
            explanation: Some(proposal.explanation.clone()),
            delta: Some(delta.clone()),
            ..Default::default()
        };
        let candidate = match tokio::task::block_in_place(|| apply_as(&self.parent.0, persona, &proposal.delta)) {
            Ok(candidate) => candidate,
            Err(e) => {
                record.key = format!("rejected-{}", &blake3::hash(delta.to_string().as_bytes()).to_hex()[..24]);
                return self.reject(ctx, record, "rejected", format!("{}: {}", e.kind.as_str(), e.message));
            }
        };
        record.key = candidate.key.0.clone();
        let blocks = blocks_in(&candidate.program, &self.parent.1.blocks);
        record.program_hash = Some(blake3::hash(candidate.source.as_bytes()).to_hex()[..32].to_string());
        if self.seen.contains(&record.key) {
            *self.counts.entry("duplicate").or_default() += 1;
            return Ok(());
        }
        let model = candidate.program.models.get(&blocks.model);
        let flops = model.map(|m| m.flops_per_example()).unwrap_or(0);
        record.cost = Some(serde_json::json!({ "flops": flops }));
        if let Some(limit) = self.args.max_flops.filter(|l| flops as i64 > *l) {
            let reason = format!("cost: {flops} FLOPs per example exceeds the limit of {limit}");
            return self.reject(ctx, record, "rejected", reason);
        }
        if persona.tools.iter().any(|t| t == "compute_loss") {
            if let Err(failure) = self.screen(&candidate.program, &blocks).await {
                return self.reject(ctx, record, "failed", format!("compute_loss: {failure}"));
            }
        }
        let entry = Entry { record, source: Some(candidate.source.clone()), blocks, checkpoint: None };
        let entry = self.train(ctx, entry, &format!("r{round}-{}", short(&candidate.key.0))).await?;
        self.trained += 1;
        let improvement = match (entry.record.offline_score, self.parent.1.record.offline_score) {
            (Some(score), Some(parent)) => Some(score - parent),
            _ => None,
        };
        self.agent.proposer().observe(&Outcome {
            key: candidate.key.clone(),
            persona: persona.name.clone(),
            operator: proposal.operator.clone(),
            improvement,
            status: entry.record.status.clone(),
        });
        Ok(())
    }

    /// A short `compute_loss` run: a candidate whose loss diverges is not worth a training.
    async fn screen(&self, program: &dsl::Program, blocks: &Blocks) -> Result<(), TrainFailure> {
        let mut req = TrainRequest::new(Arc::new(program.clone()), &blocks.model, self.split.dir.clone());
        if let Some(o) = &blocks.optimizer {
            req.optimizer = Value::Optimizer(o.clone());
        }
        req.reward = blocks.reward.clone();
        req.seed = self.args.seed;
        req.metric = self.args.settings.metric;
        req.scratch = self.scratch.clone();
        req.loss = self.args.settings.loss.clone();
        req.batch = self.args.settings.batch.max(1) as usize;
        req.device = self.args.settings.device.clone();
        let probe = tokio::task::spawn_blocking(move || compute_loss(&req, 20, 0, 20_000))
            .await
            .map_err(|e| TrainFailure::Internal(e.to_string()))??;
        if probe.curve.iter().chain([&probe.valid_loss]).any(|l| !l.is_finite()) {
            return Err(TrainFailure::Diverged { epoch: 1 });
        }
        Ok(())
    }

    /// Trains an entry as a node of the running graph and journals the result.
    async fn train(&mut self, ctx: &StepContext, entry: Entry, name: &str) -> Result<Entry, StepError> {
        let (entry, status) = self.fit(ctx, entry, name).await?;
        self.record(ctx, entry.record.clone(), status, entry.record.reason.clone())?;
        self.entries.push(entry.clone());
        Ok(entry)
    }

    /// Trains an entry as a node of the running graph: the entry with its score, and its status.
    async fn fit(&self, ctx: &StepContext, mut entry: Entry, name: &str) -> Result<(Entry, &'static str), StepError> {
        let run = &ctx.run;
        let source = entry.source.clone().unwrap_or_default();
        let args = candidate::args(
            &run.workflow,
            &run.overrides,
            &source,
            &entry.blocks,
            &self.args.data,
            &self.args.settings,
        );
        let inputs = HashMap::from([(self.args.data.clone(), self.split.clone())]);
        let artifact = ctx.spawner.run(name, CANDIDATE_STEP, args, inputs).await?;
        let meta = &artifact.meta;
        let report = TrainReport::from_meta(meta);
        let (status, reason) = if let Some(reason) = meta.get("reason").and_then(|r| r.as_str()) {
            ("failed", Some(reason.to_string()))
        } else if let Some(report) = report {
            entry.record.offline_metrics = Some(serde_json::json!({
                "valid": report.valid.values,
                "test": report.test.values,
                "protocol": report.valid.protocol,
            }));
            entry.record.offline_score = report.valid_metric(self.args.settings.metric);
            entry.record.test_score = report.test_metric(self.args.settings.metric);
            entry.record.cost = Some(serde_json::json!({
                "params": report.summary.params,
                "flops": report.summary.flops,
                "train_seconds": report.wall_seconds,
            }));
            entry.checkpoint = Some(artifact.hash.clone());
            let params = report.summary.params;
            match self.args.max_params.filter(|limit| params > *limit) {
                Some(limit) => ("rejected", Some(format!("cost: {params} parameters exceed the limit of {limit}"))),
                // A candidate is ranked by its score: one without it must say so, not vanish.
                None if entry.record.offline_score.is_none() => {
                    ("failed", Some(format!("its validation metrics have no `{}`", self.args.settings.metric)))
                }
                None => ("trained", None),
            }
        } else {
            return Err(StepError::permanent(format!("the output of `{name}` is not a training report: {meta}")));
        };
        entry.record.status = status.into();
        entry.record.reason = reason;
        Ok((entry, status))
    }

    /// Journals an experiment and adds it to the history agents see.
    fn record(
        &mut self,
        ctx: &StepContext,
        mut record: ExperimentRecord,
        status: &'static str,
        reason: Option<String>,
    ) -> Result<(), StepError> {
        record.status = status.into();
        record.reason = reason;
        *self.counts.entry(status).or_default() += 1;
        self.seen.insert(record.key.clone());
        self.history.push(history_entry(&record, &self.args.settings.metric.to_string(), self.history.len()));
        ctx.run.journal.record_experiment(record).map_err(StepError::transient)
    }

    /// Journals a proposal that never reached training.
    fn reject(
        &mut self,
        ctx: &StepContext,
        record: ExperimentRecord,
        status: &'static str,
        reason: String,
    ) -> Result<(), StepError> {
        let mut entry =
            Entry { record: record.clone(), source: None, blocks: self.args.blocks.clone(), checkpoint: None };
        (entry.record.status, entry.record.reason) = (status.into(), Some(reason.clone()));
        self.entries.push(entry);
        self.record(ctx, record, status, Some(reason))
    }

    /// The next round starts from the best candidate so far, when it beats the current start.
    /// The next round starts from the best `warm_start` candidates trained so far (the paper's
    /// warm start from the top K), each a parent in turn; with none better than the baseline,
    /// from the baseline still.
    fn warm_start(&mut self) {
        if self.args.warm_start == 0 {
            return;
        }
        let mut ranked: Vec<&Entry> =
            self.entries.iter().filter(|e| e.record.status == "trained" && e.source.is_some()).collect();
        // Stable: ties keep the order they were trained in, so a re-run picks the same parents.
        ranked.sort_by(|a, b| {
            b.record.offline_score.partial_cmp(&a.record.offline_score).unwrap_or(std::cmp::Ordering::Equal)
        });
        let root = self.parents[0].0.clone();
        let mut parents = Vec::new();
        for best in ranked.into_iter().take(self.args.warm_start) {
            let built = Baseline::new(
                &root.path,
                best.source.clone().unwrap_or_default(),
                Arc::new(FsLoader),
                root.overrides.clone(),
            );
            if let Ok(next) = built {
                let next = next.with_blocks(root.model.as_deref(), root.optimizer.as_deref(), root.reward.as_deref());
                parents.push((next, best.clone()));
            }
        }
        if !parents.is_empty() {
            self.parents = parents;
            self.turns = 0;
        }
    }

    /// Why the budget was not spent, in words; `None` when it was.
    fn shortfall(&self) -> Option<String> {
        if self.trained >= self.args.budget || self.personas.is_empty() {
            return None;
        }
        if self.args.wall_ms > 0 && self.started.elapsed().as_millis() as u64 >= self.args.wall_ms {
            return Some("the wall time ran out".into());
        }
        let count = |k: &str| self.counts.get(k).copied().unwrap_or(0);
        let mut why = vec![format!("{} round(s) ended", self.args.rounds)];
        for (n, what) in [
            (count("duplicate"), "duplicate(s) of earlier candidates"),
            (count("rejected"), "rejected by Verify"),
            (count("failed"), "failed"),
        ] {
            if n > 0 {
                why.push(format!("{n} {what}"));
            }
        }
        if !self.silent.is_empty() {
            why.push(format!("no proposal in {}", self.silent.join(", ")));
        }
        Some(why.join("; "))
    }

    fn finish(self, ctx: &StepContext) -> Result<serde_json::Value, StepError> {
        let shortfall = self.shortfall();
        let baseline = self.entries.first().map(|e| e.record.key.clone()).unwrap_or_default();
        let best = self
            .entries
            .iter()
            .filter(|e| e.record.status == "trained")
            .max_by(|a, b| a.record.offline_score.partial_cmp(&b.record.offline_score).unwrap_or(std::cmp::Ordering::Equal))
            .map(|e| serde_json::json!({ "key": e.record.key, "score": e.record.offline_score, "persona": e.record.persona }));
        let file = Experiments {
            metric: self.args.settings.metric.to_string(),
            workflow: ctx.run.workflow.clone(),
            overrides: ctx.run.overrides.clone(),
            baseline,
            production: self.production.clone(),
            entries: self.entries,
        };
        let text = serde_json::to_vec_pretty(&file).map_err(|e| StepError::permanent(e.to_string()))?;
        std::fs::write(ctx.out_dir()?.join("experiments.json"), text)
            .map_err(|e| StepError::transient(format!("cannot write experiments.json: {e}")))?;
        let agent = match &self.agent {
            Agent::Search(search) => {
                let stats = search.stats();
                serde_json::json!({ "kind": "search", "proposed": stats.proposed, "verify_failures": stats.total_failures(),
                                    "max_failure_streak": stats.max_failure_streak })
            }
            Agent::Llm(_) => serde_json::json!({ "kind": "llm" }),
        };
        let trained =
            file.entries.iter().filter(|e| e.record.status == "trained" && e.record.key != file.baseline).count();
        Ok(serde_json::json!({
            "metric": file.metric,
            "trained": trained,
            "budget": self.args.budget,
            "spent": self.trained,
            "shortfall": shortfall,
            "counts": self.counts,
            "baseline_score": file.baseline().and_then(|b| b.record.offline_score),
            "best": best,
            "production": file.production,
            "agent": agent,
            "seconds": self.started.elapsed().as_secs_f64(),
        }))
    }
}

/// Who proposes: the built-in search agent, or an LLM when evoflow.toml configures one.
enum Agent {
    Search(Box<agents::SearchAgent>),
    Llm(Box<LlmAgent>),
}

impl Agent {
    fn proposer(&mut self) -> &mut dyn Proposer {
        match self {
            Agent::Search(search) => search.as_mut(),
            Agent::Llm(llm) => llm.as_mut(),
        }
    }
}

/// An experiment as agents see it.
fn history_entry(e: &ExperimentRecord, metric: &str, time: usize) -> HistoryEntry {
    HistoryEntry {
        id: e.key.clone(),
        key: e.program_hash.as_ref().map(|_| agents::DeltaKey(e.key.clone())),
        persona: e.persona.clone().unwrap_or_default(),
        operator: e.operator.clone().unwrap_or_default(),
        kind: match e.kind.as_deref() {
            Some("exploit") => ProposalKind::Exploit,
            Some("innovate") => ProposalKind::Innovate,
            _ => ProposalKind::Explore,
        },
        explanation: e.explanation.clone().unwrap_or_default(),
        metric: metric.to_string(),
        score: e.offline_score,
        status: e.status.clone(),
        time: time as u64,
    }
}
