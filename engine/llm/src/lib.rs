//! LLM clients for evoflow's agents: OpenAI-compatible Chat Completions, Anthropic Messages and
//! Gemini `generateContent`, each in its native wire format with native tool calling.
//!
//! - [`Request`] / [`Response`] are provider-neutral; [`providers`] maps them to and from each
//!   API's JSON (pure functions).
//! - [`Client::call`] sends one request: per-attempt timeout, retries with backoff and jitter on
//!   429 / 5xx / timeouts / connection errors (honouring `Retry-After`), never on other 4xx; a
//!   shared [`BudgetTracker`]; every attempt reported to a [`CallObserver`] as a [`CallRecord`].
//! - [`tool_loop`] runs tool calls through a [`ToolHandler`] for a bounded number of turns;
//!   [`ask_structured`] validates the final answer and asks for repairs before giving up with
//!   [`Error::Malformed`].
//! - Keys come only from the environment ([`ApiKey::from_env`]) and never appear in records,
//!   errors or `Debug` output.
//!
//! With the `testing` feature, [`testing::ScriptedServer`] is a loopback HTTP server speaking
//! all three protocols with scripted turns.

mod budget;
mod client;
mod config;
mod error;
mod key;
mod observer;
pub mod providers;
pub mod retry;
mod structured;
mod tool_loop;
mod types;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use budget::{BudgetTracker, Spent};
pub use client::Client;
pub use config::{Budget, Config, ProviderKind};
pub use error::{BudgetExceeded, Error};
pub use key::ApiKey;
pub use observer::{CallObserver, CallRecord, CallStatus, MemoryObserver, NoObserver};
pub use structured::{ask_structured, extract_json, repair_prompt, Structured, DEFAULT_REPAIRS};
pub use tool_loop::{tool_loop, Conversation, NoTools, ToolHandler};
pub use types::{Message, Part, Request, Response, Role, StopReason, ToolSpec, Usage};
