//! The `[llm]` and `[budget]` settings (e.g. in `evoflow.toml`). Keys never live here: only the
//! name of the environment variable that holds one.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible Chat Completions (OpenAI, vLLM, Ollama, llama.cpp server, ...).
    Openai,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini `generateContent`.
    Gemini,
}

impl ProviderKind {
    /// The name used in config files and call records.
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
        }
    }

    /// The provider's public endpoint, used when `base_url` is not set.
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::Openai => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com",
            ProviderKind::Gemini => "https://generativelanguage.googleapis.com",
        }
    }

    /// The environment variable read for the key when `api_key_env` is not set.
    pub fn default_api_key_env(self) -> &'static str {
        match self {
            ProviderKind::Openai => "OPENAI_API_KEY",
            ProviderKind::Anthropic => "ANTHROPIC_API_KEY",
            ProviderKind::Gemini => "GEMINI_API_KEY",
        }
    }
}

/// How to reach one model. Unknown keys are errors, so a typo is not silently ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `openai` (any OpenAI-compatible server), `anthropic` or `gemini`.
    pub provider: ProviderKind,
    /// The model name the provider expects.
    pub model: String,
    /// API root; defaults to the provider's public endpoint (`https://api.openai.com/v1`,
    /// `https://api.anthropic.com`, `https://generativelanguage.googleapis.com`). For a local
    /// server give its root, e.g. `http://127.0.0.1:8000/v1` for vLLM.
    pub base_url: Option<String>,
    /// Environment variable holding the key; defaults to `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`
    /// or `GEMINI_API_KEY`. When it is unset, OpenAI-compatible calls go without a key (local
    /// servers need none); Anthropic and Gemini calls are refused before sending.
    pub api_key_env: Option<String>,
    /// Seconds one HTTP attempt may take, body included.
    #[serde(default = "defaults::timeout_secs")]
    pub timeout_secs: f64,
    /// Further attempts after a 429, a 5xx, a timeout or a connection error.
    #[serde(default = "defaults::max_retries")]
    pub max_retries: u32,
    /// First backoff delay in milliseconds; it doubles per retry, with jitter.
    #[serde(default = "defaults::retry_base_ms")]
    pub retry_base_ms: u64,
    /// Longest backoff delay in milliseconds (a server's `Retry-After` is honoured up to 5 minutes).
    #[serde(default = "defaults::retry_max_ms")]
    pub retry_max_ms: u64,
    /// Output cap for requests that set none.
    #[serde(default = "defaults::max_tokens")]
    pub max_tokens: u32,
    /// Temperature for requests that set none; unset leaves the provider's default.
    pub temperature: Option<f64>,
    /// US dollars per million input tokens, for cost accounting and `max_cost_usd`.
    #[serde(default)]
    pub price_input_per_mtok: f64,
    /// US dollars per million output tokens.
    #[serde(default)]
    pub price_output_per_mtok: f64,
}

impl Config {
    /// A config with every optional setting at its default.
    pub fn new(provider: ProviderKind, model: impl Into<String>) -> Config {
        Config {
            provider,
            model: model.into(),
            base_url: None,
            api_key_env: None,
            timeout_secs: defaults::timeout_secs(),
            max_retries: defaults::max_retries(),
            retry_base_ms: defaults::retry_base_ms(),
            retry_max_ms: defaults::retry_max_ms(),
            max_tokens: defaults::max_tokens(),
            temperature: None,
            price_input_per_mtok: 0.0,
            price_output_per_mtok: 0.0,
        }
    }

    /// The API root in use, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.base_url.as_deref().unwrap_or(self.provider.default_base_url()).trim_end_matches('/')
    }

    /// The environment variable the key is read from.
    pub fn api_key_env(&self) -> &str {
        self.api_key_env.as_deref().unwrap_or(self.provider.default_api_key_env())
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_secs)
    }

    /// Dollars for `usage` at this config's prices.
    pub fn cost_usd(&self, usage: crate::Usage) -> f64 {
        (usage.input_tokens as f64 * self.price_input_per_mtok
            + usage.output_tokens as f64 * self.price_output_per_mtok)
            / 1e6
    }

    /// Checks values serde cannot: a usable model name, timeout, prices and URL.
    pub fn validate(&self) -> Result<(), String> {
        if self.model.trim().is_empty() {
            return Err("`model` is empty".into());
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0) {
            return Err(format!("`timeout_secs` must be a positive number of seconds, not {}", self.timeout_secs));
        }
        for (name, price) in
            [("price_input_per_mtok", self.price_input_per_mtok), ("price_output_per_mtok", self.price_output_per_mtok)]
        {
            if !(price.is_finite() && price >= 0.0) {
                return Err(format!("`{name}` must be zero or more, not {price}"));
            }
        }
        let url = self.base_url();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("`base_url` must start with http:// or https://, not `{url}`"));
        }
        Ok(())
    }
}

/// Limits shared by every call of a run; reaching one stops the loop with `Error::Budget`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Refuse further calls once this many dollars are spent (at the configured prices).
    pub max_cost_usd: Option<f64>,
    /// Refuse further calls once this many HTTP attempts were made (retries count).
    pub max_calls: Option<u64>,
}

mod defaults {
    pub fn timeout_secs() -> f64 {
        120.0
    }
    pub fn max_retries() -> u32 {
        3
    }
    pub fn retry_base_ms() -> u64 {
        500
    }
    pub fn retry_max_ms() -> u64 {
        30_000
    }
    pub fn max_tokens() -> u32 {
        4096
    }
}
