//! What the report shows, read from the journal alone: runs, their steps, experiments, operators,
//! decisions. This is the JSON the page's charts are drawn from (and what its tests snapshot).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::loops::agreement::Agreement;

/// Everything the page draws.
#[derive(Debug, Serialize)]
pub struct ReportData {
    /// The workflow's name (of its last run).
    pub workflow: String,
    /// Set when the journal was busy and its running copy was read: that copy's age in seconds.
    pub snapshot_age_seconds: Option<f64>,
    /// Runs, newest first.
    pub runs: Vec<Run>,
}

/// One `evoflow run`.
#[derive(Debug, Serialize)]
pub struct Run {
    pub id: i64,
    pub file: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub seconds: Option<f64>,
    pub params: Json,
    pub version: String,
    /// Steps by status (`done`, `cached`, `failed`, ...).
    pub steps: BTreeMap<String, usize>,
    /// Seconds the steps ran, summed (what the run cost in CPU-bound wall time).
    pub step_seconds: f64,
    /// Seconds the candidates spent training, summed over this run's experiments.
    pub train_seconds: f64,
    pub llm: LlmCost,
    pub timeline: Vec<StepSpan>,
    /// The fast loop's experiments; `None` (with a reason in `missing`) when the run made none.
    pub evolution: Option<Evolution>,
    /// The slow loop's decisions; `None` (with a reason in `missing`) when there were none.
    pub online: Option<Online>,
    /// Why a section is empty, by section.
    pub missing: BTreeMap<String, String>,
}

/// What the LLM calls of a run cost.
#[derive(Debug, Default, Serialize)]
pub struct LlmCost {
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
}

/// A step on the timeline, in seconds from the run's start.
#[derive(Debug, Serialize)]
pub struct StepSpan {
    pub node: String,
    pub step: String,
    pub status: String,
    pub attempts: i64,
    pub start: f64,
    pub end: f64,
    pub duration_ms: Option<i64>,
    /// Resource units the plan gives the step (`cpu`, `gpu`, `llm`), when the step is in it.
    pub resources: IndexMap<String, f64>,
    pub error: Option<String>,
}

/// The experiments of a run and what they add up to.
#[derive(Debug, Serialize)]
pub struct Evolution {
    /// The baseline's offline score, when it was trained.
    pub baseline: Option<f64>,
    pub experiments: Vec<Experiment>,
    /// Per (persona, operator): the search agent's bandit arms and the personas' moves.
    pub operators: Vec<OperatorStats>,
    /// Per persona, the same counts.
    pub personas: Vec<OperatorStats>,
}

/// One candidate.
#[derive(Debug, Serialize)]
pub struct Experiment {
    pub id: i64,
    pub parent: Option<i64>,
    pub round: Option<i64>,
    pub persona: Option<String>,
    pub kind: Option<String>,
    pub operator: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub explanation: Option<String>,
    /// The delta as the agent wrote it (blocks replaced, edits), one line per change.
    pub delta: Vec<String>,
    pub score: Option<f64>,
    pub test: Option<f64>,
    /// The best score of the run up to and including this experiment.
    pub best_so_far: Option<f64>,
    /// Seconds from the run's start to when the experiment was recorded.
    pub at: f64,
    pub train_seconds: Option<f64>,
    /// Launched, or decided `launched` online.
    pub winner: bool,
}

/// How often a persona or operator's proposals got how far.
#[derive(Debug, Serialize)]
pub struct OperatorStats {
    pub persona: String,
    pub operator: String,
    pub proposed: usize,
    pub verified: usize,
    pub trained: usize,
    /// Trained and scored above the baseline.
    pub improved: usize,
    /// The mean score change over the baseline of its trained candidates.
    pub mean_gain: Option<f64>,
}

/// The slow loop's decisions of a run.
#[derive(Debug, Serialize)]
pub struct Online {
    pub decisions: Vec<Decision>,
    pub agreement: Agreement,
    /// How a person reads the agreement.
    pub agreement_text: String,
}

/// One candidate's decision, with its primary metric and guardrails.
#[derive(Debug, Serialize)]
pub struct Decision {
    pub study: String,
    pub experiment: Option<i64>,
    pub persona: Option<String>,
    pub decision: String,
    pub reason: Option<String>,
    pub offline_score: Option<f64>,
    pub mde: Option<f64>,
    pub stopped_day: Option<i64>,
    /// The primary metric first, then each guardrail.
    pub metrics: Vec<MetricDelta>,
}

/// A relative delta with its 95% interval.
#[derive(Debug, Serialize)]
pub struct MetricDelta {
    pub metric: String,
    pub guardrail: bool,
    pub delta: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub breached: bool,
}

/// A row of a query, by column name.
type Row = Map<String, Json>;

/// Reads the journal at `path`; `resources` are the plan's resource units by node id.
pub fn read(path: &Path, resources: &BTreeMap<String, IndexMap<String, f64>>) -> Result<ReportData, String> {
    let mut age: Option<Duration> = None;
    let mut query = |sql: &str| -> Result<Vec<Row>, String> {
        let limits = journal::QueryLimits {
            max_rows: 1_000_000,
            max_bytes: 512 << 20,
            timeout: Duration::from_secs(120),
            ..journal::QueryLimits::default()
        };
        let (table, copy) =
            crate::journal_recorder::query_or_snapshot(path, sql, &limits).map_err(|e| e.to_string())?;
        age = age.or(copy);
        Ok(table.rows.into_iter().map(|row| table.columns.iter().cloned().zip(row).collect()).collect())
    };
    let runs = query(RUNS)?;
    let steps = query(STEPS)?;
    let llm = query(LLM)?;
    let experiments = query(EXPERIMENTS)?;
    let decisions = query(DECISIONS)?;
    let workflow = runs.last().and_then(|r| str_of(r, "workflow")).unwrap_or_default();
    let runs = runs
        .iter()
        .rev()
        .map(|run| {
            let id = int(run, "id").unwrap_or_default();
            let of_run =
                |rows: &[Row]| -> Vec<Row> { rows.iter().filter(|r| int(r, "run_id") == Some(id)).cloned().collect() };
            build_run(run, &of_run(&steps), &of_run(&llm), &of_run(&experiments), &of_run(&decisions), resources)
        })
        .collect();
    Ok(ReportData { workflow, snapshot_age_seconds: age.map(|a| a.as_secs_f64()), runs })
}

const RUNS: &str = "SELECT id, workflow, file, status, CAST(started_at AS VARCHAR) AS started_at, \
     CAST(finished_at AS VARCHAR) AS finished_at, epoch(started_at) AS t0, \
     epoch(finished_at) - epoch(started_at) AS seconds, params, evoflow_version FROM runs ORDER BY id";
const STEPS: &str = "SELECT run_id, node_id, step, status, attempts, epoch(started_at) AS t_start, \
     epoch(finished_at) AS t_end, duration_ms, error FROM steps \
     ORDER BY run_id, started_at NULLS LAST, node_id";
const LLM: &str = "SELECT run_id, count(*) AS calls, sum(input_tokens) AS input_tokens, \
     sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd FROM llm_calls GROUP BY run_id";
const EXPERIMENTS: &str = "SELECT id, run_id, parent_id, round, persona, kind, operator, explanation, delta, \
     status, reason, offline_score, test_score, key, cost, epoch(created_at) AS t FROM experiments ORDER BY id";
const DECISIONS: &str = "SELECT d.run_id, d.study, d.experiment_key, e.id AS experiment, e.persona, d.decision, \
     d.reason, d.offline_score, d.primary_metric, d.delta, d.ci_low, d.ci_high, d.guardrails, d.mde, \
     d.stopped_day FROM decisions d LEFT JOIN experiments e ON e.key = d.experiment_key ORDER BY d.id";

fn build_run(
    run: &Row,
    steps: &[Row],
    llm: &[Row],
    experiments: &[Row],
    decisions: &[Row],
    resources: &BTreeMap<String, IndexMap<String, f64>>,
) -> Run {
    let t0 = float(run, "t0").unwrap_or_default();
    let mut counts = BTreeMap::new();
    let timeline: Vec<StepSpan> = steps
        .iter()
        .map(|s| {
            let status = str_of(s, "status").unwrap_or_default();
            *counts.entry(status.clone()).or_insert(0) += 1;
            let start = float(s, "t_start").map_or(0.0, |t| t - t0);
            let node = str_of(s, "node_id").unwrap_or_default();
            StepSpan {
                resources: resources.get(&node).cloned().unwrap_or_default(),
                node,
                step: str_of(s, "step").unwrap_or_default(),
                status,
                attempts: int(s, "attempts").unwrap_or_default(),
                start,
                end: float(s, "t_end").map_or(start, |t| t - t0).max(start),
                duration_ms: int(s, "duration_ms"),
                error: str_of(s, "error"),
            }
        })
        .collect();
    let llm = llm.first().map_or_else(LlmCost::default, |r| LlmCost {
        calls: int(r, "calls").unwrap_or_default(),
        input_tokens: int(r, "input_tokens").unwrap_or_default(),
        output_tokens: int(r, "output_tokens").unwrap_or_default(),
        cost_usd: float(r, "cost_usd").unwrap_or_default(),
    });
    let mut missing = BTreeMap::new();
    let winners: Vec<String> = decisions
        .iter()
        .filter(|d| str_of(d, "decision").as_deref() == Some("launched"))
        .filter_map(|d| str_of(d, "experiment_key"))
        .collect();
    let evolution = if experiments.is_empty() {
        missing.insert(
            "evolution".into(),
            "this run recorded no experiments: the workflow has no offline loop, the loop was cached from an \
             earlier run (see that run), or the run stopped before the loop started"
                .into(),
        );
        None
    } else {
        Some(evolution(experiments, t0, &winners))
    };
    let online = if decisions.is_empty() {
        missing.insert(
            "online".into(),
            "this run made no online decisions: the workflow has no online stage, it was cached from an earlier \
             run, or the run stopped before a study ended"
                .into(),
        );
        None
    } else {
        Some(online(decisions))
    };
    if timeline.is_empty() {
        missing.insert("timeline".into(), "no step of this run was recorded".into());
    }
    let train_seconds =
        evolution.as_ref().map_or(0.0, |e| e.experiments.iter().filter_map(|x| x.train_seconds).sum::<f64>());
    Run {
        id: int(run, "id").unwrap_or_default(),
        file: str_of(run, "file").unwrap_or_default(),
        status: str_of(run, "status").unwrap_or_default(),
        started_at: str_of(run, "started_at").unwrap_or_default(),
        finished_at: str_of(run, "finished_at"),
        seconds: float(run, "seconds"),
        params: json_of(run, "params"),
        version: str_of(run, "evoflow_version").unwrap_or_default(),
        step_seconds: timeline.iter().filter_map(|s| s.duration_ms).sum::<i64>() as f64 / 1e3,
        steps: counts,
        train_seconds,
        llm,
        timeline,
        evolution,
        online,
        missing,
    }
}

fn evolution(rows: &[Row], t0: f64, winners: &[String]) -> Evolution {
    let baseline =
        rows.iter().find(|r| str_of(r, "kind").as_deref() == Some("baseline")).and_then(|r| float(r, "offline_score"));
    let mut best: Option<f64> = None;
    let experiments: Vec<Experiment> = rows
        .iter()
        .map(|r| {
            let score = float(r, "offline_score");
            if let Some(s) = score {
                best = Some(best.map_or(s, |b: f64| b.max(s)));
            }
            let status = str_of(r, "status").unwrap_or_default();
            let key = str_of(r, "key").unwrap_or_default();
            Experiment {
                id: int(r, "id").unwrap_or_default(),
                parent: int(r, "parent_id"),
                round: int(r, "round"),
                persona: str_of(r, "persona"),
                kind: str_of(r, "kind"),
                operator: str_of(r, "operator"),
                winner: status == "launched" || winners.contains(&key),
                status,
                reason: str_of(r, "reason"),
                explanation: str_of(r, "explanation"),
                delta: delta_lines(&json_of(r, "delta")),
                score,
                test: float(r, "test_score"),
                best_so_far: best,
                at: float(r, "t").map_or(0.0, |t| (t - t0).max(0.0)),
                train_seconds: json_of(r, "cost").get("train_seconds").and_then(Json::as_f64),
            }
        })
        .collect();
    let candidates: Vec<&Experiment> = experiments.iter().filter(|e| e.kind.as_deref() != Some("baseline")).collect();
    let stats = |key: &dyn Fn(&Experiment) -> (String, String)| -> Vec<OperatorStats> {
        let mut groups: IndexMap<(String, String), Vec<&Experiment>> = IndexMap::new();
        for e in &candidates {
            groups.entry(key(e)).or_default().push(e);
        }
        groups.sort_keys();
        groups.into_iter().map(|((persona, operator), es)| operator_stats(persona, operator, &es, baseline)).collect()
    };
    let unnamed = |s: &Option<String>| s.clone().unwrap_or_else(|| "(none)".into());
    let operators = stats(&|e| (unnamed(&e.persona), unnamed(&e.operator)));
    let personas = stats(&|e| (unnamed(&e.persona), String::new()));
    Evolution { baseline, experiments, operators, personas }
}

fn operator_stats(persona: String, operator: String, es: &[&Experiment], baseline: Option<f64>) -> OperatorStats {
    let verified = es.iter().filter(|e| !matches!(e.status.as_str(), "proposed" | "rejected")).count();
    let scored: Vec<f64> = es.iter().filter_map(|e| e.score).collect();
    let gains: Vec<f64> = baseline.map_or_else(Vec::new, |b| scored.iter().map(|s| s - b).collect());
    OperatorStats {
        persona,
        operator,
        proposed: es.len(),
        verified,
        trained: scored.len(),
        improved: gains.iter().filter(|g| **g > 0.0).count(),
        mean_gain: (!gains.is_empty()).then(|| gains.iter().sum::<f64>() / gains.len() as f64),
    }
}

fn online(rows: &[Row]) -> Online {
    let decisions: Vec<Decision> = rows
        .iter()
        .map(|r| {
            let mut metrics = vec![MetricDelta {
                metric: str_of(r, "primary_metric").unwrap_or_else(|| "primary".into()),
                guardrail: false,
                delta: float(r, "delta"),
                low: float(r, "ci_low"),
                high: float(r, "ci_high"),
                breached: false,
            }];
            if let Json::Array(guards) = json_of(r, "guardrails") {
                metrics.extend(guards.iter().map(|g| MetricDelta {
                    metric: g.pointer("/guardrail/metric").and_then(Json::as_str).unwrap_or("guardrail").to_string(),
                    guardrail: true,
                    delta: g.pointer("/delta/relative").and_then(Json::as_f64),
                    low: g.pointer("/delta/low").and_then(Json::as_f64),
                    high: g.pointer("/delta/high").and_then(Json::as_f64),
                    breached: g.get("breached").and_then(Json::as_bool).unwrap_or(false),
                }));
            }
            Decision {
                study: str_of(r, "study").unwrap_or_default(),
                experiment: int(r, "experiment"),
                persona: str_of(r, "persona"),
                decision: str_of(r, "decision").unwrap_or_default(),
                reason: str_of(r, "reason"),
                offline_score: float(r, "offline_score"),
                mde: float(r, "mde"),
                stopped_day: int(r, "stopped_day"),
                metrics,
            }
        })
        .collect();
    let pairs: Vec<(f64, f64)> =
        decisions.iter().filter_map(|d| Some((d.offline_score?, d.metrics.first()?.delta?))).collect();
    let agreement = Agreement::of(&pairs);
    Online { agreement_text: agreement.sentence(), agreement, decisions }
}

/// A delta's changes, one line each: `replace opt: optimizer opt = adam(lr: 0.01)`.
fn delta_lines(delta: &Json) -> Vec<String> {
    let Json::Array(changes) = delta else { return Vec::new() };
    changes
        .iter()
        .map(|c| {
            let op = c.get("op").and_then(Json::as_str).unwrap_or("change");
            let block = c.get("block").and_then(Json::as_str).unwrap_or("");
            let source = c.get("source").and_then(Json::as_str).map_or_else(|| c.to_string(), str::to_string);
            format!("{op} {block}: {source}")
        })
        .collect()
}

fn str_of(row: &Row, name: &str) -> Option<String> {
    match row.get(name)? {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn int(row: &Row, name: &str) -> Option<i64> {
    row.get(name)?.as_i64()
}

fn float(row: &Row, name: &str) -> Option<f64> {
    row.get(name)?.as_f64().filter(|x| x.is_finite())
}

/// A JSON column: DuckDB hands it over as text.
fn json_of(row: &Row, name: &str) -> Json {
    match row.get(name) {
        Some(Json::String(text)) => serde_json::from_str(text).unwrap_or(Json::String(text.clone())),
        Some(other) => other.clone(),
        None => Json::Null,
    }
}
