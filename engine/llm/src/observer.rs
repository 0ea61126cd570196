//! Every HTTP attempt is reported to a `CallObserver`; the engine writes the records into the
//! journal's `llm_calls` table, whose column names these fields follow.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// Answered; the response was read.
    Ok,
    /// Failed in a way that is retried (429, 5xx, timeout, connection); another attempt follows.
    Retrying,
    /// Failed for good; the call returns an error.
    Failed,
}

impl CallStatus {
    /// The text stored in `llm_calls.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Ok => "ok",
            CallStatus::Retrying => "retrying",
            CallStatus::Failed => "failed",
        }
    }
}

/// One HTTP attempt, as journaled. Holds no API key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    /// `openai`, `anthropic` or `gemini`.
    pub provider: String,
    /// The configured model.
    pub model: String,
    /// Who called: the persona or purpose label given to the call.
    pub persona: String,
    /// The request body sent, as JSON text (the key travels in a header and is not in it).
    pub prompt: String,
    /// The answer's text (empty when it failed or held only tool calls).
    pub response: String,
    /// The tool calls the model made, as a JSON array of `{id, name, arguments}`.
    pub tool_calls: Value,
    /// Prompt tokens billed.
    pub input_tokens: u64,
    /// Output tokens billed.
    pub output_tokens: u64,
    /// Dollars, at the configured prices.
    pub cost_usd: f64,
    /// Wall time of the attempt.
    pub latency_ms: u64,
    /// How it ended.
    pub status: CallStatus,
    /// The HTTP status, when one was received.
    pub http_status: Option<u16>,
    /// What went wrong, when it did.
    pub error: Option<String>,
    /// 1 for the first attempt of a call, 2 for its first retry, ...
    pub attempt: u32,
}

/// Receives every attempt's record. Called on the calling task, so keep it quick.
pub trait CallObserver: Send + Sync {
    /// Takes one attempt's record.
    fn record(&self, record: &CallRecord);
}

/// Drops records.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl CallObserver for NoObserver {
    fn record(&self, _record: &CallRecord) {}
}

/// Keeps records in memory (for tests and summaries).
#[derive(Debug, Default, Clone)]
pub struct MemoryObserver {
    records: Arc<Mutex<Vec<CallRecord>>>,
}

impl MemoryObserver {
    /// An empty one.
    pub fn new() -> MemoryObserver {
        MemoryObserver::default()
    }

    /// A copy of the records so far, in order.
    pub fn records(&self) -> Vec<CallRecord> {
        self.records.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl CallObserver for MemoryObserver {
    fn record(&self, record: &CallRecord) {
        self.records.lock().unwrap_or_else(|e| e.into_inner()).push(record.clone());
    }
}
