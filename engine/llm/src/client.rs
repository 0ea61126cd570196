//! `Client`: one configured model behind HTTP, with a per-attempt timeout, retries with backoff,
//! the shared budget, and a record of every attempt for the journal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::budget::BudgetTracker;
use crate::config::{Config, ProviderKind};
use crate::error::Error;
use crate::key::ApiKey;
use crate::observer::{CallObserver, CallRecord, CallStatus, NoObserver};
use crate::providers;
use crate::retry;
use crate::types::{Part, Request, Response};

/// A client for one configured model. Cheap to share behind an `Arc`; calls may run concurrently.
#[derive(Clone)]
pub struct Client {
    config: Config,
    key: Option<ApiKey>,
    http: reqwest::Client,
    budget: BudgetTracker,
    observer: Arc<dyn CallObserver>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("key", &self.key)
            .field("budget", &self.budget.spent())
            .finish_non_exhaustive()
    }
}

/// How one attempt ended, before it becomes a record and maybe an error.
enum Attempt {
    Answered(Response),
    /// An HTTP error status, with the provider's message and any `Retry-After`.
    Status {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    TimedOut,
    Transport(String),
    Unreadable {
        status: u16,
        message: String,
    },
}

impl Client {
    /// A client whose key comes from the environment variable `config.api_key_env()`.
    pub fn new(config: Config) -> Result<Client, Error> {
        let key = ApiKey::from_env(config.api_key_env());
        Client::with_key(config, key)
    }

    /// A client with an explicit key (`None` sends none, which only OpenAI-compatible servers allow).
    pub fn with_key(config: Config, key: Option<ApiKey>) -> Result<Client, Error> {
        config.validate().map_err(Error::Config)?;
        if key.is_none() && config.provider != ProviderKind::Openai {
            return Err(Error::MissingKey { provider: config.provider.name(), env: config.api_key_env().to_string() });
        }
        let mut builder = reqwest::Client::builder().user_agent(concat!("evoflow/", env!("CARGO_PKG_VERSION")));
        if is_loopback(config.base_url()) {
            // A local server (vLLM, Ollama, a test server) is never reached through a proxy
            // named in the environment.
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client { config, key, http, budget: BudgetTracker::unlimited(), observer: Arc::new(NoObserver) })
    }

    /// The same client drawing on `budget` (share one tracker across every client of a run).
    pub fn with_budget(mut self, budget: BudgetTracker) -> Client {
        self.budget = budget;
        self
    }

    /// The same client reporting every attempt to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Client {
        self.observer = observer;
        self
    }

    /// Its settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Its budget tracker.
    pub fn budget(&self) -> &BudgetTracker {
        &self.budget
    }

    /// Sends `request` on behalf of `persona` (a label kept in the call records), retrying
    /// 429s, 5xx, timeouts and connection errors up to `max_retries` times with backoff.
    pub async fn call(&self, persona: &str, request: &Request) -> Result<Response, Error> {
        let provider = self.config.provider.name();
        let url = providers::endpoint(&self.config);
        let body = providers::encode_request(&self.config, request);
        let prompt = body.to_string();
        let attempts = self.config.max_retries + 1;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.budget.reserve().map_err(Error::Budget)?;
            let started = Instant::now();
            let outcome = self.send(&url, &body).await;
            let latency_ms = started.elapsed().as_millis() as u64;
            let last = attempt == attempts;
            let mut record = CallRecord {
                provider: provider.to_string(),
                model: self.config.model.clone(),
                persona: persona.to_string(),
                prompt: prompt.clone(),
                response: String::new(),
                tool_calls: json!([]),
                input_tokens: 0,
                output_tokens: 0,
                cost_usd: 0.0,
                latency_ms,
                status: CallStatus::Failed,
                http_status: None,
                error: None,
                attempt,
            };
            let (error, retry_after) = match outcome {
                Attempt::Answered(response) => {
                    let cost = self.config.cost_usd(response.usage);
                    self.budget.charge(cost);
                    record.status = CallStatus::Ok;
                    record.http_status = Some(200);
                    record.response = response.text();
                    record.tool_calls = tool_calls_json(&response);
                    record.input_tokens = response.usage.input_tokens;
                    record.output_tokens = response.usage.output_tokens;
                    record.cost_usd = cost;
                    self.observer.record(&record);
                    return Ok(response);
                }
                Attempt::Status { status, message, retry_after } => {
                    record.http_status = Some(status);
                    let message = self.hint_missing_key(status, message);
                    let error = Error::Http { provider, status, message, attempts: attempt };
                    if !retry::retryable_status(status) {
                        record.error = Some(error.to_string());
                        self.observer.record(&record);
                        return Err(error);
                    }
                    (error, retry_after)
                }
                Attempt::TimedOut => {
                    (Error::Timeout { provider, after: self.config.timeout(), attempts: attempt }, None)
                }
                Attempt::Transport(message) => {
                    (Error::Connect { provider, url: url.clone(), message, attempts: attempt }, None)
                }
                Attempt::Unreadable { status, message } => {
                    record.http_status = Some(status);
                    let error = Error::BadResponse { provider, message };
                    record.error = Some(error.to_string());
                    self.observer.record(&record);
                    return Err(error);
                }
            };
            record.error = Some(error.to_string());
            record.status = if last { CallStatus::Failed } else { CallStatus::Retrying };
            self.observer.record(&record);
            if last {
                return Err(error);
            }
            let wait = retry::delay(
                attempt - 1,
                Duration::from_millis(self.config.retry_base_ms),
                Duration::from_millis(self.config.retry_max_ms),
                retry_after,
                &mut rand::thread_rng(),
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One HTTP attempt, classified. Every server text is scrubbed of the key here.
    async fn send(&self, url: &str, body: &Value) -> Attempt {
        let mut builder = self.http.post(url).timeout(self.config.timeout()).json(body);
        for (name, value) in providers::auth_headers(self.config.provider, self.key.as_ref().map(ApiKey::expose)) {
            match reqwest::header::HeaderValue::from_str(&value) {
                Ok(mut value) => {
                    value.set_sensitive(true);
                    builder = builder.header(name, value);
                }
                Err(_) => return Attempt::Transport(format!("the `{name}` header value is not valid ASCII")),
            }
        }
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => return self.transport_error(e),
        };
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let retry_after =
            retry::parse_retry_after(header("retry-after-ms").as_deref(), header("retry-after").as_deref());
        let text = match response.text().await {
            Ok(t) => self.scrub(&t),
            Err(e) => return self.transport_error(e),
        };
        if !(200..300).contains(&status) {
            return Attempt::Status { status, message: providers::error_message(&text), retry_after };
        }
        let json: Value = match serde_json::from_str(&text) {
            Ok(j) => j,
            Err(e) => {
                return Attempt::Unreadable {
                    status,
                    message: format!("not JSON ({e}): {}", providers::error_message(&text)),
                }
            }
        };
        match providers::decode_response(self.config.provider, &json, &self.config.model) {
            Ok(response) => Attempt::Answered(response),
            Err(message) => Attempt::Unreadable { status, message },
        }
    }

    fn transport_error(&self, e: reqwest::Error) -> Attempt {
        if e.is_timeout() {
            return Attempt::TimedOut;
        }
        // The source chain says why (refused, reset, DNS); the top level alone is vague.
        let e = e.without_url();
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        Attempt::Transport(self.scrub(&message))
    }

    fn scrub(&self, text: &str) -> String {
        match &self.key {
            Some(key) => key.scrub(text),
            None => text.to_string(),
        }
    }

    fn hint_missing_key(&self, status: u16, message: String) -> String {
        if self.key.is_none() && (status == 401 || status == 403) {
            format!("{message} (no API key was sent: `{}` is not set)", self.config.api_key_env())
        } else {
            message
        }
    }
}

/// Whether `url`'s host is this machine.
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn tool_calls_json(response: &Response) -> Value {
    let calls: Vec<Value> = response
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolCall { id, name, arguments } => Some(json!({"id": id, "name": name, "arguments": arguments})),
            _ => None,
        })
        .collect();
    Value::Array(calls)
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts_are_recognised() {
        for url in ["http://127.0.0.1:8000/v1", "http://localhost", "http://[::1]:9/v1", "http://127.9.9.9"] {
            assert!(is_loopback(url), "{url}");
        }
        for url in ["https://api.openai.com/v1", "http://10.0.0.2:8000", "http://localhost.example.com"] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
