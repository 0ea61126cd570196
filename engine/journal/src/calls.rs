//! What agents cost and did: one row per LLM call attempt and per tool call.

use duckdb::params;

use crate::error::Result;
use crate::journal::JournalTx;
use crate::process::now_micros;

/// One LLM call attempt. Holds no API key: the request body is recorded, the key never is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LlmCall {
    pub run_id: Option<i64>,
    /// The experiment the call worked on, by key, when there is one.
    pub experiment: Option<String>,
    pub persona: String,
    pub provider: String,
    pub model: String,
    pub prompt: String,
    pub response: String,
    pub tool_calls: serde_json::Value,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    pub latency_ms: i64,
    pub status: String,
    pub error: Option<String>,
}

/// One call of an agent tool.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToolCallRow {
    pub run_id: Option<i64>,
    pub experiment: Option<String>,
    pub tool: String,
    pub args: serde_json::Value,
    pub result: String,
    pub truncated: bool,
    pub duration_ms: i64,
    pub error: Option<String>,
}

/// The id of the experiment with `key`, if it is journaled.
fn experiment_id(tx: &JournalTx<'_>, key: &Option<String>) -> Result<Option<i64>> {
    let Some(key) = key else { return Ok(None) };
    match tx.connection().query_row("SELECT id FROM experiments WHERE key = ?", [key], |row| row.get(0)) {
        Ok(id) => Ok(Some(id)),
        Err(duckdb::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl JournalTx<'_> {
    /// Records an LLM call attempt.
    pub fn insert_llm_call(&self, c: &LlmCall) -> Result<()> {
        let experiment = experiment_id(self, &c.experiment)?;
        self.connection().execute(
            "INSERT INTO llm_calls (run_id, experiment_id, persona, provider, model, prompt, response, tool_calls,
                 input_tokens, output_tokens, cost_usd, latency_ms, status, error, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, make_timestamp(?))",
            params![
                c.run_id,
                experiment,
                c.persona,
                c.provider,
                c.model,
                c.prompt,
                c.response,
                c.tool_calls.to_string(),
                c.input_tokens,
                c.output_tokens,
                c.cost_usd,
                c.latency_ms,
                c.status,
                c.error,
                now_micros()
            ],
        )?;
        Ok(())
    }

    /// Records a tool call.
    pub fn insert_tool_call(&self, c: &ToolCallRow) -> Result<()> {
        let experiment = experiment_id(self, &c.experiment)?;
        let status = if c.error.is_some() { "failed" } else { "ok" };
        self.connection().execute(
            "INSERT INTO tool_calls (run_id, experiment_id, tool, args, result, truncated, duration_ms, status, error,
                 created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, make_timestamp(?))",
            params![
                c.run_id,
                experiment,
                c.tool,
                c.args.to_string(),
                c.result,
                c.truncated,
                c.duration_ms,
                status,
                c.error,
                now_micros()
            ],
        )?;
        Ok(())
    }

    /// Links the calls one agent request made to the experiment it produced first: its LLM
    /// attempts (by persona) and tool calls made since `since` (microseconds) in the same run,
    /// not yet linked. An agent's requests run one at a time, so the window is that request's.
    pub fn link_calls(&self, experiment_key: &str, persona: &str, since: i64) -> Result<()> {
        let Some(id) = experiment_id(self, &Some(experiment_key.to_string()))? else { return Ok(()) };
        let conn = self.connection();
        let run: Option<i64> = conn.query_row("SELECT run_id FROM experiments WHERE id = ?", [id], |row| row.get(0))?;
        conn.execute(
            "UPDATE llm_calls SET experiment_id = ? WHERE experiment_id IS NULL AND run_id IS NOT DISTINCT FROM ?
                 AND persona = ? AND created_at >= make_timestamp(?)",
            params![id, run, persona, since],
        )?;
        conn.execute(
            "UPDATE tool_calls SET experiment_id = ? WHERE experiment_id IS NULL AND run_id IS NOT DISTINCT FROM ?
                 AND created_at >= make_timestamp(?)",
            params![id, run, since],
        )?;
        Ok(())
    }
}
