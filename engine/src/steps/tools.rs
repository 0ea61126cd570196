//! `std::tools`: the agents' tools as workflow steps. `run_sql_query` runs one guarded read-only
//! statement over a snapshot of the journal; `read_journal` lists the top experiments. Both
//! write `table.json` and journal the call.

use std::sync::Arc;
use std::time::Instant;

use journal::{QueryLimits, Table};

use super::run_info::{RunInfo, ToolCall};
use super::{Step, StepContext, StepError, StepErrorKind};

pub fn steps() -> Vec<Arc<dyn Step>> {
    vec![Arc::new(RunSqlQuery), Arc::new(ReadJournal)]
}

/// The SQL behind `read_journal(top: N)`, or `read_journal(key: K)` for one experiment with its
/// delta, metrics, decisions, and the LLM and tool calls of the request that proposed it.
pub fn read_journal_sql(top: i64, key: &str) -> String {
    if key.is_empty() {
        return format!(
            "SELECT key, persona, kind, operator, status, offline_score, explanation, reason \
             FROM experiments WHERE offline_score IS NOT NULL ORDER BY offline_score DESC LIMIT {top}"
        );
    }
    // A literal, quotes doubled; the statement still goes through the read-only guards.
    let key = key.replace('\'', "''");
    // The calls of the request that proposed it: linked to its first experiment, which shares
    // the run, round and persona of every other one the request produced.
    let request = "SELECT s.id FROM experiments s WHERE s.run_id = e.run_id AND s.round = e.round \
                   AND s.persona = e.persona";
    format!(
        "SELECT e.key, e.persona, e.kind, e.operator, e.status, e.offline_score, e.explanation, e.reason, \
                e.delta, e.offline_metrics, e.online_metrics, e.cost, \
                (SELECT list(d.decision || ': ' || coalesce(d.reason, '')) FROM decisions d \
                 WHERE d.experiment_key = e.key) AS decisions, \
                (SELECT list(c.status || ' ' || c.model || ' (' || c.input_tokens || '+' || c.output_tokens || ' tokens)') \
                 FROM llm_calls c WHERE c.experiment_id IN ({request})) AS llm_calls, \
                (SELECT list(t.tool || ' ' || t.status) FROM tool_calls t WHERE t.experiment_id IN ({request})) \
                 AS tool_calls \
         FROM experiments e WHERE e.key = '{key}'"
    )
}

/// Runs a guarded query for a tool and journals the call. Refusals come back as the error the
/// agent reads; the journal records them too.
pub fn query_tool(
    run: &RunInfo,
    tool: &str,
    sql: &str,
    limits: &QueryLimits,
    tables: &[(String, std::path::PathBuf)],
    experiment: Option<String>,
) -> Result<Table, String> {
    let started = Instant::now();
    let result = run.journal.query(sql, limits, tables);
    let (text, truncated, error) = match &result {
        Ok(table) => (table.to_text(), table.truncated, None),
        Err(e) => (String::new(), false, Some(e.to_string())),
    };
    run.journal.record_tool_call(ToolCall {
        experiment,
        tool: tool.to_string(),
        args: serde_json::json!({ "sql": sql, "max_rows": limits.max_rows }),
        result: text,
        truncated,
        duration_ms: started.elapsed().as_millis() as u64,
        error,
    })?;
    result.map_err(|e| e.to_string())
}

fn write_table(ctx: &StepContext, table: &Table) -> Result<serde_json::Value, StepError> {
    std::fs::write(ctx.out_dir()?.join("table.json"), table.to_json())
        .map_err(|e| StepError::transient(StepErrorKind::Io, format!("cannot write table.json: {e}")))?;
    Ok(serde_json::json!({ "columns": table.columns, "rows": table.rows.len(), "truncated": table.truncated }))
}

fn limits(max_rows: i64) -> QueryLimits {
    QueryLimits { max_rows: max_rows.max(1) as usize, ..QueryLimits::default() }
}

/// One read-only SQL statement over the journal.
struct RunSqlQuery;

#[async_trait::async_trait]
impl Step for RunSqlQuery {
    fn name(&self) -> &'static str {
        "std::tools::run_sql_query"
    }

    fn remote(&self) -> bool {
        false // It reads the journal: the driver's.
    }

    fn version(&self) -> u32 {
        1
    }

    fn state_key(&self, env: &super::KeyEnv) -> Result<Option<String>, String> {
        // The answer depends on the journal, which every run changes: never reuse it.
        Ok(Some(format!("{} {}", env.run_dir.display(), journal::now_micros())))
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let sql = ctx.str("sql")?.to_string();
        let limits = limits(ctx.int("max_rows")?);
        let run = ctx.run.clone();
        let table = tokio::task::spawn_blocking(move || query_tool(&run, "run_sql_query", &sql, &limits, &[], None))
            .await
            .map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))?
            .map_err(StepError::input)?;
        write_table(&ctx, &table)
    }
}

/// The journal's best experiments by offline score.
struct ReadJournal;

#[async_trait::async_trait]
impl Step for ReadJournal {
    fn name(&self) -> &'static str {
        "std::tools::read_journal"
    }

    fn remote(&self) -> bool {
        false // It reads the journal: the driver's.
    }

    fn version(&self) -> u32 {
        1
    }

    fn state_key(&self, env: &super::KeyEnv) -> Result<Option<String>, String> {
        Ok(Some(format!("{} {}", env.run_dir.display(), journal::now_micros())))
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let top = ctx.int("top")?;
        let sql = read_journal_sql(top, ctx.str("key")?);
        let run = ctx.run.clone();
        let table =
            tokio::task::spawn_blocking(move || query_tool(&run, "read_journal", &sql, &limits(top), &[], None))
                .await
                .map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))?
                .map_err(StepError::input)?;
        write_table(&ctx, &table)
    }
}
