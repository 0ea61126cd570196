//! The LLM agent: Think-Code-Verify with tools. The persona's prompt (minijinja, from the
//! stdlib or the workflow) goes to the configured model with the persona's tools; its answer is
//! parsed as proposals and verified by the compiler. When nothing verifies, the diagnostics go
//! back to the model for repair (bounded), then the turn counts as failed. Every call and tool
//! call is journaled.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use agents::scope::Persona;
use agents::{
    apply_as, parse_proposals, render_prompt, Baseline, Outcome, PromptContext, PromptOptions, Proposal, SqlResult,
};
use agents::{ProposalRequest, Proposer};
use dsl::metrics::MetricAt;
use dsl::types::Value;
use journal::QueryLimits;
use serde_json::json;

use super::candidate::Settings;
use super::Blocks;
use crate::steps::run_info::{RunInfo, ToolCall};
use crate::steps::tools::query_tool;
use crate::training::{compute_eval, compute_loss, TrainRequest};

/// Tool-calling turns per proposal request.
const MAX_TURNS: usize = 8;
/// Rows and bytes of a SQL result that go back into the prompt.
const SQL_ROWS: usize = 50;
const SQL_BYTES: usize = 16 * 1024;
/// Query results carried into the next prompts ("recent SQL results" of the paper's context).
const RECENT_SQL: usize = 3;

/// An agent backed by an LLM.
pub struct LlmAgent {
    client: llm::Client,
    run: Arc<RunInfo>,
    split: PathBuf,
    blocks: Blocks,
    training: Training,
    /// Journal entries a prompt shows when the persona does not say (the loop's `history:`).
    history: usize,
    /// The latest successful queries, newest last.
    recent_sql: Vec<SqlResult>,
    /// Why the last request produced nothing, for the journal.
    pub last_error: Option<llm::Error>,
    /// The prompt's data line, from the split's meta.
    data: Option<String>,
    /// The prompt's training line, from the loop's settings.
    described: String,
}

/// The split in a line: users, items and rows per part, from its `meta.json`.
fn data_summary(split: &std::path::Path) -> Option<String> {
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(split.join("meta.json")).ok()?).ok()?;
    let n = |v: &serde_json::Value| v.as_u64().map(thousands);
    let parts = &meta["splits"];
    let mut line = match (n(&meta["users"]), n(&meta["items"])) {
        (Some(u), Some(i)) => format!("{u} users, {i} items; "),
        _ => String::new(),
    };
    line.push_str(&format!(
        "{} / {} / {} train / valid / test rows",
        n(&parts["train"])?,
        n(&parts["valid"])?,
        n(&parts["test"])?
    ));
    if let (Some(u), Some(i), Some(t)) = (meta["users"].as_u64(), meta["items"].as_u64(), parts["train"].as_u64()) {
        line.push_str(&format!(" (training density {:.2}%)", 100.0 * t as f64 / (u as f64 * i as f64).max(1.0)));
    }
    Some(line)
}

/// `80808` as `80,808`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How the tools train: the loop's own settings, so a tool's numbers match the loop's training.
#[derive(Clone)]
struct Training {
    /// The metric candidates are ranked by, which `compute_eval` reports.
    metric: MetricAt,
    /// The loop's judge of held-out positives, which `compute_eval` scores against too.
    judge: Option<String>,
    seed: u64,
    loss: String,
    batch: usize,
    device: String,
}

impl LlmAgent {
    /// An agent for the run's `[llm]` settings; `None` when there are none.
    pub fn from_run(
        run: &Arc<RunInfo>,
        split: PathBuf,
        blocks: Blocks,
        settings: &Settings,
        history: usize,
    ) -> Result<Option<LlmAgent>, String> {
        let Some(config) = run.llm.clone() else { return Ok(None) };
        let data = data_summary(&split);
        let client = llm::Client::new(config)
            .map_err(|e| format!("cannot set up the LLM client: {e}"))?
            .with_budget(run.budget.clone())
            .with_observer(Arc::new(Observer(run.clone())));
        Ok(Some(LlmAgent {
            client,
            run: run.clone(),
            split,
            blocks,
            training: Training {
                metric: settings.metric,
                judge: settings.judge.clone(),
                seed: settings.seed as u64,
                loss: settings.loss.clone(),
                batch: settings.batch.max(1) as usize,
                device: settings.device.clone(),
            },
            history,
            recent_sql: Vec::new(),
            last_error: None,
            data,
            described: format!(
                "loss {} (unless its optimizer names another), batch {}, at most {} epochs{}{}",
                settings.loss,
                settings.batch,
                settings.epochs,
                match settings.patience {
                    0 => String::new(),
                    p => format!(", early stopping on validation {} (patience {p})", settings.metric),
                },
                // What the score stands for: without it a reward designer would chase clicks.
                match &settings.judge {
                    Some(judge) => format!(
                        "; validation and test positives are the rows the reward `{judge}` scores above 0 \
                         (clicks otherwise), fixed while you change the model, optimizer or reward"
                    ),
                    None => String::new(),
                }
            ),
        }))
    }

    async fn ask(&mut self, req: &ProposalRequest<'_>) -> Result<Vec<Proposal>, llm::Error> {
        let persona = req.persona;
        let context = PromptContext {
            task: None,
            metric: self.training.metric.to_string(),
            sql_results: self.recent_sql.clone(),
            history: req.history.to_vec(),
            quota: req.quota,
            data: self.data.clone(),
            training: Some(self.described.clone()),
        };
        let mut options = PromptOptions::for_persona(persona);
        if persona.history.is_none() {
            options.history = self.history;
        }
        let prompt = render_prompt(persona, req.baseline, &context, &options).map_err(|e| llm::Error::Malformed {
            message: e.to_string(),
            text: String::new(),
            attempts: 0,
        })?;
        let mut request = llm::Request::new(persona.description.clone(), prompt);
        request.tools = tool_specs(persona);
        let mut tools = Tools {
            run: self.run.clone(),
            baseline: req.baseline.clone(),
            persona: persona.clone(),
            split: self.split.clone(),
            blocks: self.blocks.clone(),
            training: self.training.clone(),
            queries: Vec::new(),
        };
        let baseline = req.baseline.clone();
        let validate = |text: &str| -> Result<Vec<Proposal>, String> {
            let proposals = parse_proposals(text)?;
            let errors: Vec<String> = proposals
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    apply_as(&baseline, persona, &p.delta).err().map(|e| format!("proposal {}: {}", i + 1, e.message))
                })
                .collect();
            if !proposals.is_empty() && errors.len() == proposals.len() {
                return Err(format!("no proposal verified:\n{}", errors.join("\n")));
            }
            Ok(proposals)
        };
        let answer = llm::ask_structured(
            &self.client,
            &persona.name,
            &request,
            &mut tools,
            MAX_TURNS,
            validate,
            llm::DEFAULT_REPAIRS,
        )
        .await;
        // What the model looked up stays useful whether or not this answer was.
        self.recent_sql.extend(tools.queries);
        let excess = self.recent_sql.len().saturating_sub(RECENT_SQL);
        self.recent_sql.drain(..excess);
        Ok(answer?
            .value
            .into_iter()
            .map(|mut p| {
                p.persona = persona.name.clone();
                p.operator = "llm".into();
                p
            })
            .collect())
    }
}

impl Proposer for LlmAgent {
    fn propose(&mut self, req: &ProposalRequest<'_>) -> Vec<Proposal> {
        let handle = tokio::runtime::Handle::current();
        match tokio::task::block_in_place(|| handle.block_on(self.ask(req))) {
            Ok(proposals) => {
                self.last_error = None;
                proposals.into_iter().take(req.quota.total().max(1)).collect()
            }
            Err(e) => {
                self.last_error = Some(e);
                Vec::new()
            }
        }
    }

    fn observe(&mut self, _outcome: &Outcome) {
        // The journal is the LLM's memory: the next prompt shows the outcome in its history.
    }
}

/// The tools a persona may call, in the providers' tool format.
fn tool_specs(persona: &Persona) -> Vec<llm::ToolSpec> {
    let delta =
        json!({ "type": "object", "properties": { "delta": agents::schema::delta_schema() }, "required": ["delta"] });
    persona
        .tools
        .iter()
        .filter_map(|tool| match tool.as_str() {
            "run_sql_query" => Some(llm::ToolSpec {
                name: tool.clone(),
                description: "One read-only SQL statement (SELECT, WITH, DESCRIBE, SUMMARIZE, EXPLAIN) over the \
                              training logs (table `logs`) and the experiment journal (tables experiments, \
                              decisions, online_metrics). At most 50 rows come back."
                    .into(),
                parameters: json!({ "type": "object", "properties": { "sql": { "type": "string" } }, "required": ["sql"] }),
            }),
            "read_journal" => Some(llm::ToolSpec {
                name: tool.clone(),
                description: "The journal's best experiments by offline score (`top`), or one experiment by its \
                              `key` with its delta, metrics and online decisions."
                    .into(),
                parameters: json!({ "type": "object", "properties": {
                    "top": { "type": "integer", "minimum": 1 }, "key": { "type": "string" } } }),
            }),
            "compute_loss" => Some(llm::ToolSpec {
                name: tool.clone(),
                description: "Applies a delta to the baseline and runs a short training on a sample: the loss curve \
                              and the validation loss."
                    .into(),
                parameters: delta.clone(),
            }),
            "compute_eval" => Some(llm::ToolSpec {
                name: tool.clone(),
                description: "Applies a delta, trains briefly and returns validation NDCG@10 against ground truth \
                              that does not depend on the reward: comparable across rewards."
                    .into(),
                parameters: delta.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// What the model's tool calls run against.
struct Tools {
    run: Arc<RunInfo>,
    baseline: Baseline,
    persona: Persona,
    split: PathBuf,
    blocks: Blocks,
    training: Training,
    /// Successful queries of this request, for the next prompts.
    queries: Vec<SqlResult>,
}

impl Tools {
    fn request(&self, arguments: &serde_json::Value) -> Result<TrainRequest, String> {
        let delta: agents::Delta =
            serde_json::from_value(arguments["delta"].clone()).map_err(|e| format!("`delta`: {e}"))?;
        let candidate = apply_as(&self.baseline, &self.persona, &delta).map_err(|e| e.message)?;
        let mut req = TrainRequest::new(Arc::new(candidate.program), &self.blocks.model, self.split.clone());
        if let Some(o) = &self.blocks.optimizer {
            req.optimizer = Value::Optimizer(o.clone());
        }
        req.reward = self.blocks.reward.clone();
        req.seed = self.training.seed;
        req.loss = self.training.loss.clone();
        req.batch = self.training.batch;
        req.device = self.training.device.clone();
        req.epochs = 2;
        req.metric = self.training.metric;
        req.judge = self.training.judge.clone();
        req.scratch = self.run.run_dir.join("tmp");
        Ok(req)
    }
}

#[async_trait::async_trait]
impl llm::ToolHandler for Tools {
    async fn call(&mut self, name: &str, arguments: &serde_json::Value) -> Result<String, String> {
        let started = Instant::now();
        let result = match name {
            "run_sql_query" => {
                let sql = arguments["sql"].as_str().ok_or("`sql` should be a string")?.to_string();
                let (run, logs) = (self.run.clone(), self.split.join("train.parquet"));
                let limits = QueryLimits { max_rows: SQL_ROWS, max_bytes: SQL_BYTES, ..QueryLimits::default() };
                // query_tool journals the call itself.
                let query = sql.clone();
                let table = tokio::task::spawn_blocking(move || {
                    query_tool(&run, "run_sql_query", &query, &limits, &[("logs".into(), logs)], None)
                        .map(|t| t.to_text())
                })
                .await
                .map_err(|e| e.to_string())??;
                self.queries.push(SqlResult { sql, table: table.clone() });
                return Ok(table);
            }
            "read_journal" => {
                let top = arguments["top"].as_i64().unwrap_or(10).max(1);
                let sql = crate::steps::tools::read_journal_sql(top, arguments["key"].as_str().unwrap_or(""));
                let run = self.run.clone();
                let limits = QueryLimits { max_rows: top as usize, max_bytes: SQL_BYTES, ..QueryLimits::default() };
                // query_tool journals the call itself.
                return tokio::task::spawn_blocking(move || {
                    query_tool(&run, "read_journal", &sql, &limits, &[], None).map(|t| t.to_text())
                })
                .await
                .map_err(|e| e.to_string())?;
            }
            "compute_loss" => {
                let req = self.request(arguments)?;
                tokio::task::spawn_blocking(move || compute_loss(&req, 30, 0, 20_000))
                    .await
                    .map_err(|e| e.to_string())?
                    .map(|p| format!("valid_loss {:.5}; training loss curve {:?}", p.valid_loss, p.curve))
                    .map_err(|e| e.to_string())
            }
            "compute_eval" => {
                let req = self.request(arguments)?;
                let metric = req.metric;
                tokio::task::spawn_blocking(move || compute_eval(&req))
                    .await
                    .map_err(|e| e.to_string())?
                    .map(|v| format!("{metric} {v:.5}"))
                    .map_err(|e| e.to_string())
            }
            other => Err(format!("`{other}` is not one of this persona's tools")),
        };
        let call = ToolCall {
            experiment: None,
            tool: name.to_string(),
            args: arguments.clone(),
            result: result.clone().unwrap_or_default(),
            truncated: false,
            duration_ms: started.elapsed().as_millis() as u64,
            error: result.clone().err(),
        };
        self.run.journal.record_tool_call(call)?;
        result
    }
}

/// Journals every LLM call attempt.
struct Observer(Arc<RunInfo>);

impl llm::CallObserver for Observer {
    fn record(&self, record: &llm::CallRecord) {
        if let Err(e) = self.0.journal.record_llm_call(record) {
            eprintln!("warning: an LLM call could not be journaled: {e}");
        }
    }
}

#[cfg(test)]
mod data_line_tests {
    #[test]
    fn the_data_line_reads_the_splits_meta() {
        let dir = tempfile::tempdir().unwrap();
        let meta = r#"{"rows": 100000, "columns": [], "users": 943, "items": 1682,
                       "splits": {"train": 80808, "valid": 9596, "test": 9596}}"#;
        std::fs::write(dir.path().join("meta.json"), meta).unwrap();
        assert_eq!(
            super::data_summary(dir.path()).unwrap(),
            "943 users, 1,682 items; 80,808 / 9,596 / 9,596 train / valid / test rows (training density 5.09%)"
        );
        assert_eq!(super::data_summary(&dir.path().join("none")), None);
    }
}
