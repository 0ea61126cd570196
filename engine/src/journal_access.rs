//! [`JournalAccess`] for the run's journal: the loops' records and the agents' read-only queries
//! go to the journal's one writer thread, in order with the executor's own records, and each
//! call waits for its answer (a loop never runs ahead of what the journal holds).

use std::path::PathBuf;

use journal::{DecisionRecord, ExperimentRecord, OnlineValue, QueryLimits, Table};

use crate::journal_recorder::JournalRecorder;
use crate::steps::run_info::{JournalAccess, ToolCall};

impl JournalAccess for JournalRecorder {
    fn settled_experiments(&self) -> Result<Vec<ExperimentRecord>, String> {
        self.call(|journal| journal.settled_experiments().map_err(|e| e.to_string()))
    }

    fn record_experiment(&self, record: ExperimentRecord) -> Result<(), String> {
        self.call(move |journal| journal.transaction(|tx| tx.upsert_experiment(&record)).map_err(|e| e.to_string()))
    }

    fn record_online(&self, values: Vec<OnlineValue>) -> Result<(), String> {
        self.call(move |journal| {
            journal
                .transaction(|tx| values.iter().try_for_each(|v| tx.upsert_online_value(v)))
                .map_err(|e| e.to_string())
        })
    }

    fn record_decision(&self, decision: DecisionRecord) -> Result<(), String> {
        self.call(move |journal| journal.transaction(|tx| tx.upsert_decision(&decision)).map_err(|e| e.to_string()))
    }

    fn decisions(&self) -> Result<Vec<DecisionRecord>, String> {
        self.call(|journal| journal.decisions().map_err(|e| e.to_string()))
    }

    fn query(&self, sql: &str, limits: &QueryLimits, tables: &[(String, PathBuf)]) -> Result<Table, journal::Error> {
        let (sql, limits, tables) = (sql.to_string(), limits.clone(), tables.to_vec());
        self.call(move |journal| Ok(journal.query_for_agents(&sql, &limits, &tables)))
            .map_err(journal::Error::InvalidInput)?
    }

    fn record_llm_call(&self, call: &llm::CallRecord) -> Result<(), String> {
        let row = journal::LlmCall {
            run_id: Some(self.run_id()),
            experiment: None,
            persona: call.persona.clone(),
            provider: call.provider.clone(),
            model: call.model.clone(),
            prompt: call.prompt.clone(),
            response: call.response.clone(),
            tool_calls: call.tool_calls.clone(),
            input_tokens: call.input_tokens as i64,
            output_tokens: call.output_tokens as i64,
            cost_usd: call.cost_usd,
            latency_ms: call.latency_ms as i64,
            status: call.status.as_str().to_string(),
            error: call.error.clone(),
        };
        self.call(move |journal| journal.transaction(|tx| tx.insert_llm_call(&row)).map_err(|e| e.to_string()))
    }

    fn link_calls(&self, experiment_key: &str, persona: &str, since: i64) -> Result<(), String> {
        let (key, persona) = (experiment_key.to_string(), persona.to_string());
        self.call(move |journal| {
            journal.transaction(|tx| tx.link_calls(&key, &persona, since)).map_err(|e| e.to_string())
        })
    }

    fn record_tool_call(&self, call: ToolCall) -> Result<(), String> {
        let row = journal::ToolCallRow {
            run_id: Some(self.run_id()),
            experiment: call.experiment,
            tool: call.tool,
            args: call.args,
            result: call.result,
            truncated: call.truncated,
            duration_ms: call.duration_ms as i64,
            error: call.error,
        };
        self.call(move |journal| journal.transaction(|tx| tx.insert_tool_call(&row)).map_err(|e| e.to_string()))
    }
}
