//! `offline(...)`: the fast loop. Per round and persona, the agent proposes (explore / exploit /
//! innovate quotas); each delta is verified by the compiler, checked against the journal for
//! duplicates and against the declared cost, screened with `compute_loss`, then trained as a
//! node of its own and scored on the offline metric. Everything is journaled as it happens;
//! the next round starts from the best K candidates so far (warm start). Its parts: `args`
//! (what the loop was asked), `rounds` (proposals to scores), `fit` (a candidate as a node of
//! the graph, and its journal row).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use agents::scope::Persona;
use agents::{apply_as, Baseline, HistoryEntry, Outcome, Proposal, ProposalKind, ProposalRequest, Proposer, Quota};
use dsl::metrics::MetricAt;
use dsl::types::Value;
use journal::{ExperimentRecord, ExperimentStatus};

use super::candidate::{self, Settings, CANDIDATE_STEP};
use super::llm_agent::LlmAgent;
use super::production::Production;
use super::{short, Blocks, Entry, Experiments};
use crate::fs_loader::FsLoader;
use crate::steps::{Artifact, KeyEnv, Step, StepContext, StepError, StepErrorKind};
use crate::training::{compute_loss, TrainFailure, TrainReport, TrainRequest};

/// The fast loop.
pub struct Offline;

mod args;
mod confirm;
mod fit;
mod keys;
mod rounds;

use args::{blocks_in, settings_tag, Args};
use keys::{tried_delta, ExperimentKey};

#[async_trait::async_trait]
impl Step for Offline {
    fn name(&self) -> &'static str {
        "std::loops::offline"
    }

    fn remote(&self) -> bool {
        false // It reads the journal and adds nodes to the graph: the driver's.
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
        run.confirm(&ctx).await?;
        run.finish(&ctx)
    }
}

/// A starting point proposals are made from: the program agents edit, and its journal entry.
#[derive(Clone)]
struct Parent {
    program: Baseline,
    entry: Entry,
}

/// A running fast loop.
struct Loop {
    args: Args,
    started: Instant,
    split: Artifact,
    production: Option<String>,
    /// The current starting point and its entry: one of `parents`, in turn.
    parent: Parent,
    /// The starting points of this round: the baseline, then the best `warm_start` so far.
    parents: Vec<Parent>,
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
    /// The settings every experiment key of this loop ends with ([`settings_tag`]).
    tag: String,
    /// Keys journaled before this run started: their rows (decided online since, maybe) stay.
    earlier: HashSet<String>,
}
impl Loop {
    async fn start(ctx: &StepContext, args: Args) -> Result<Loop, StepError> {
        let run = ctx.run.clone();
        let split = ctx.input("data")?.clone();
        let production = Production::new(&run.run_dir);
        let current = production.current().map_err(|e| StepError::permanent(StepErrorKind::Store, e.to_string()))?;
        let source = match &current {
            Some(version) => {
                production.source(version).map_err(|e| StepError::permanent(StepErrorKind::Store, e.to_string()))?
            }
            None => std::fs::read_to_string(&run.workflow)
                .map_err(|e| StepError::permanent(StepErrorKind::Io, format!("cannot read `{}`: {e}", run.workflow)))?,
        };
        let mut baseline = Baseline::new(&run.workflow, source.clone(), Arc::new(FsLoader), run.overrides.clone())
            .map_err(|e| StepError::input(format!("the baseline does not compile:\n{}", e.message)))?;
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
                    .ok_or_else(|| StepError::input(format!("the persona `{name}` edits no kind of block")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let personas = personas.into_iter().filter(|p| p.enabled).collect();
        let past = run.journal.settled_experiments().map_err(|e| StepError::transient(StepErrorKind::Journal, e))?;
        let judge = match &args.settings.judge {
            Some(name) => Some(candidate::meaning(
                baseline
                    .program
                    .rewards
                    .get(name)
                    .ok_or_else(|| StepError::input(format!("the judge `{name}` is no reward of the workflow")))?,
            )),
            None => None,
        };
        let tag = settings_tag(&args, &split, judge);
        let metric = args.settings.metric.to_string();
        let history: Vec<HistoryEntry> =
            past.iter().enumerate().map(|(i, e)| history_entry(e, &metric, &tag, i)).collect();
        let seen: HashSet<String> = past.iter().map(|e| e.key.clone()).collect();
        let key = ExperimentKey::Baseline { source: &source }.with(&tag);
        let record = ExperimentRecord {
            key: key.clone(),
            run_id: Some(run.run_id),
            round: Some(0),
            kind: Some("baseline".into()),
            explanation: Some(match &current {
                Some(v) => format!("production baseline {}", v.name),
                None => "the workflow's baseline".into(),
            }),
            status: ExperimentStatus::Verified,
            ..Default::default()
        };
        let blocks = blocks_in(&baseline.program, launched_blocks.as_ref().unwrap_or(&args.blocks));
        let entry = Entry { record, source: Some(source), blocks: blocks.clone(), checkpoint: None };
        let shown = ctx.int("history")?.max(0) as usize;
        let agent = if args.random {
            Agent::Search(Box::new(agents::SearchAgent::uniform(args.seed)))
        } else {
            let llm = LlmAgent::from_run(&run, split.dir.clone(), blocks.clone(), &args.settings, shown);
            match llm.map_err(|e| StepError::permanent(StepErrorKind::Agent, e))? {
                Some(llm) => Agent::Llm(Box::new(llm)),
                None => Agent::Search(Box::new(agents::SearchAgent::new(args.seed))),
            }
        };
        let mut lp = Loop {
            started: Instant::now(),
            split,
            production: current.map(|v| v.name),
            parent: Parent { program: baseline.clone(), entry: entry.clone() },
            parents: Vec::new(),
            turns: 0,
            personas,
            agent,
            history,
            seen: seen.clone(),
            entries: Vec::new(),
            trained: 0,
            counts: HashMap::new(),
            scratch: run.run_dir.join("tmp"),
            silent: Vec::new(),
            tag,
            earlier: seen.clone(),
            args,
        };
        let entry = lp.train(ctx, entry, "baseline").await?;
        if entry.record.status != ExperimentStatus::Trained {
            return Err(StepError::permanent(
                StepErrorKind::Training,
                format!("the baseline itself does not train: {}", entry.record.reason.clone().unwrap_or_default()),
            ));
        }
        lp.parent = Parent { program: baseline, entry };
        lp.parents = vec![lp.parent.clone()];
        Ok(lp)
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
            .filter(|e| e.record.status == ExperimentStatus::Trained)
            .max_by(|a, b| {
                a.record.offline_score.partial_cmp(&b.record.offline_score).unwrap_or(std::cmp::Ordering::Equal)
            })
            .map(|e| {
                serde_json::json!({ "key": e.record.key, "score": e.record.offline_score, "test": e.record.test_score,
                                    "persona": e.record.persona })
            });
        let file = Experiments {
            metric: self.args.settings.metric.to_string(),
            workflow: ctx.run.workflow.clone(),
            overrides: ctx.run.overrides.clone(),
            baseline,
            production: self.production.clone(),
            entries: self.entries,
        };
        let text = serde_json::to_vec_pretty(&file)
            .map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))?;
        std::fs::write(ctx.out_dir()?.join("experiments.json"), text)
            .map_err(|e| StepError::transient(StepErrorKind::Io, format!("cannot write experiments.json: {e}")))?;
        let agent = match &self.agent {
            Agent::Search(search) => {
                let stats = search.stats();
                let kind = if self.args.random { "random" } else { "search" };
                serde_json::json!({ "kind": kind, "proposed": stats.proposed, "verify_failures": stats.total_failures(),
                                    "max_failure_streak": stats.max_failure_streak })
            }
            Agent::Llm(_) => serde_json::json!({ "kind": "llm" }),
        };
        let trained = file
            .entries
            .iter()
            .filter(|e| e.record.status == ExperimentStatus::Trained && e.record.key != file.baseline)
            .count();
        Ok(serde_json::json!({
            "metric": file.metric,
            "judge": self.args.settings.judge,
            "trained": trained,
            "budget": self.args.budget,
            "spent": self.trained,
            "shortfall": shortfall,
            "counts": self.counts,
            "baseline_score": file.baseline().and_then(|b| b.record.offline_score),
            "baseline_test": file.baseline().and_then(|b| b.record.test_score),
            "confirm": { "seeds": self.args.confirm_seeds, "top": self.args.confirm_top },
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

/// An experiment as agents see it. Its delta's key counts as tried only under the same
/// settings (`tag`): under others, proposing it again is worth a training.
fn history_entry(e: &ExperimentRecord, metric: &str, tag: &str, time: usize) -> HistoryEntry {
    HistoryEntry {
        id: e.key.clone(),
        key: e.program_hash.as_ref().and_then(|_| tried_delta(&e.key, tag)),
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
        status: e.status.to_string(),
        time: time as u64,
        params: e.cost.as_ref().and_then(|c| c["params"].as_i64()),
    }
}
