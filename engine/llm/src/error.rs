//! What can go wrong with a model call, as data. No variant ever holds an API key: texts that
//! come from a server are scrubbed of it before they land here.

use std::time::Duration;

/// A failed call, tool loop or structured ask.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The shared budget is spent; the caller should stop cleanly, not retry.
    #[error("LLM budget reached: {0}")]
    Budget(BudgetExceeded),
    /// The provider answered with an error status: a 4xx other than 429 at once, or a 429/5xx
    /// once the retries ran out.
    #[error("{provider} answered HTTP {status} after {attempts} attempt(s): {message}")]
    Http {
        /// Provider name.
        provider: &'static str,
        /// The HTTP status.
        status: u16,
        /// The provider's own error message (or the start of the body).
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Every attempt ran past the per-call timeout.
    #[error("{provider} did not answer within {}s, {attempts} attempt(s)", .after.as_secs_f64())]
    Timeout {
        /// Provider name.
        provider: &'static str,
        /// The per-call timeout.
        after: Duration,
        /// Attempts made.
        attempts: u32,
    },
    /// The server could not be reached, or the connection broke, on every attempt.
    #[error("cannot reach {provider} at {url} ({attempts} attempt(s)): {message}")]
    Connect {
        /// Provider name.
        provider: &'static str,
        /// The endpoint called.
        url: String,
        /// The last transport error.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A 2xx answer that is not in the provider's response format.
    #[error("{provider} sent a response evoflow cannot read: {message}")]
    BadResponse {
        /// Provider name.
        provider: &'static str,
        /// What was wrong with it.
        message: String,
    },
    /// The provider needs a key and its environment variable is unset or empty.
    #[error("{provider} needs an API key: set the environment variable `{env}`")]
    MissingKey {
        /// Provider name.
        provider: &'static str,
        /// The variable the key is read from.
        env: String,
    },
    /// The settings are unusable (caught before any call).
    #[error("invalid LLM settings: {0}")]
    Config(String),
    /// The model still asked for tools after the allowed number of turns.
    #[error("the model still called tools after {max_turns} turn(s)")]
    TurnLimit {
        /// The bound that was hit.
        max_turns: usize,
    },
    /// The final answer failed validation even after the repair rounds: a failed proposal.
    #[error("the model's answer is malformed after {attempts} attempt(s): {message}")]
    Malformed {
        /// The last validation message.
        message: String,
        /// The last answer's text.
        text: String,
        /// Answers validated (the first plus repairs).
        attempts: usize,
    },
}

/// Which limit of a `Budget` stopped a call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BudgetExceeded {
    /// `max_calls` attempts were made.
    #[error("{made} of max_calls = {limit} calls made")]
    Calls {
        /// Attempts made so far.
        made: u64,
        /// The limit.
        limit: u64,
    },
    /// `max_cost_usd` was spent.
    #[error("${spent:.4} spent of max_cost_usd = ${limit}")]
    Cost {
        /// Dollars spent so far.
        spent: f64,
        /// The limit.
        limit: f64,
    },
}
