//! A scripted LLM server for tests: a real HTTP/1.1 server on 127.0.0.1 (hyper) that answers
//! each request with the next scripted [`Turn`], rendered in the chosen provider's wire format,
//! and keeps every request it received for assertions. Reusable from the engine's tests through
//! the `testing` feature.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::config::{Config, ProviderKind};

/// Input tokens every scripted answer reports.
pub const INPUT_TOKENS: u64 = 100;
/// Output tokens every scripted answer reports.
pub const OUTPUT_TOKENS: u64 = 20;

/// One scripted answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// A final text answer.
    Text(String),
    /// Tool calls as `(id, name, arguments)`.
    ToolCalls(Vec<(String, String, Value)>),
    /// An error in the provider's error format, with an optional `Retry-After` in seconds.
    Error {
        /// HTTP status.
        status: u16,
        /// The provider's message.
        message: String,
        /// `Retry-After` seconds, if any.
        retry_after: Option<u64>,
    },
    /// A raw body with a status, for answers no provider would send.
    Raw {
        /// HTTP status.
        status: u16,
        /// Body text.
        body: String,
    },
    /// Waits `delay` before answering `then` (a client with a shorter timeout gives up first).
    Slow {
        /// How long to wait.
        delay: Duration,
        /// What to answer afterwards.
        then: Box<Turn>,
    },
}

impl Turn {
    /// A final text answer.
    pub fn text(text: impl Into<String>) -> Turn {
        Turn::Text(text.into())
    }

    /// One tool call.
    pub fn tool_call(id: &str, name: &str, arguments: Value) -> Turn {
        Turn::ToolCalls(vec![(id.to_string(), name.to_string(), arguments)])
    }

    /// An error status with the provider's error body.
    pub fn error(status: u16, message: impl Into<String>) -> Turn {
        Turn::Error { status, message: message.into(), retry_after: None }
    }

    /// A 429 asking the client to wait `secs` seconds.
    pub fn rate_limited(secs: u64) -> Turn {
        Turn::Error { status: 429, message: "rate limit reached, slow down".into(), retry_after: Some(secs) }
    }

    /// `then`, after `delay`.
    pub fn slow(delay: Duration, then: Turn) -> Turn {
        Turn::Slow { delay, then: Box::new(then) }
    }
}

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (a JSON string holding the raw text when it was not JSON).
    pub body: Value,
}

#[derive(Debug)]
struct State {
    provider: ProviderKind,
    turns: VecDeque<Turn>,
    received: Vec<Received>,
}

/// The running server; it stops when dropped.
#[derive(Debug)]
pub struct ScriptedServer {
    addr: SocketAddr,
    provider: ProviderKind,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedServer {
    /// Starts a server on an ephemeral port of 127.0.0.1 answering `turns` in order in
    /// `provider`'s format. Requests to another path get a 404; requests after the script ends
    /// get a 400 saying so (not retried, so a test fails clearly). Call within a tokio runtime.
    pub async fn start(provider: ProviderKind, turns: Vec<Turn>) -> std::io::Result<ScriptedServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State { provider, turns: turns.into(), received: Vec::new() }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(state.clone(), req));
                    // A client that gives up mid-answer (a timeout test) ends the connection; fine.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(ScriptedServer { addr, provider, state, task })
    }

    /// The `base_url` to configure: `http://127.0.0.1:PORT/v1` for OpenAI (whose base URLs
    /// include the version), `http://127.0.0.1:PORT` for the others.
    pub fn base_url(&self) -> String {
        match self.provider {
            ProviderKind::Openai => format!("http://{}/v1", self.addr),
            _ => format!("http://{}", self.addr),
        }
    }

    /// A config pointing at this server, with short timeouts and backoff fit for tests.
    pub fn config(&self, model: &str) -> Config {
        let mut config = Config::new(self.provider, model);
        config.base_url = Some(self.base_url());
        config.timeout_secs = 5.0;
        config.retry_base_ms = 10;
        config.retry_max_ms = 50;
        config
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    /// Scripted turns not yet answered.
    pub fn remaining(&self) -> usize {
        lock(&self.state).turns.len()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

type Reply = hyper::Response<Full<Bytes>>;

async fn answer(state: Arc<Mutex<State>>, req: hyper::Request<Incoming>) -> Result<Reply, Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let headers: BTreeMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let bytes = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    let (provider, turn, n) = {
        let mut s = lock(&state);
        s.received.push(Received { method: method.clone(), path: path.clone(), headers, body });
        (s.provider, s.turns.pop_front(), s.received.len())
    };
    if method != "POST" || !path_fits(provider, &path) {
        return Ok(error_reply(provider, 404, &format!("scripted server: no route for {method} {path}"), None));
    }
    let mut turn = match turn {
        Some(turn) => turn,
        None => {
            return Ok(error_reply(
                provider,
                400,
                &format!("scripted server: the script has no turn for request {n}"),
                None,
            ))
        }
    };
    while let Turn::Slow { delay, then } = turn {
        tokio::time::sleep(delay).await;
        turn = *then;
    }
    Ok(match turn {
        Turn::Text(text) => json_reply(200, &success(provider, Some(&text), &[])),
        Turn::ToolCalls(calls) => json_reply(200, &success(provider, None, &calls)),
        Turn::Error { status, message, retry_after } => error_reply(provider, status, &message, retry_after),
        Turn::Raw { status, body } => reply(status, body, None),
        // Unwrapped by the loop above; kept total rather than panicking.
        Turn::Slow { .. } => reply(500, "scripted server: nested slow turn".into(), None),
    })
}

fn path_fits(provider: ProviderKind, path: &str) -> bool {
    match provider {
        ProviderKind::Openai => path == "/v1/chat/completions",
        ProviderKind::Anthropic => path == "/v1/messages",
        ProviderKind::Gemini => path.starts_with("/v1beta/models/") && path.ends_with(":generateContent"),
    }
}

/// A successful answer in `provider`'s format: text, or tool calls.
pub fn success(provider: ProviderKind, text: Option<&str>, calls: &[(String, String, Value)]) -> Value {
    match provider {
        ProviderKind::Openai => {
            let tool_calls: Vec<Value> = calls
                .iter()
                .map(|(id, name, args)| {
                    json!({"id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}})
                })
                .collect();
            let mut message = json!({"role": "assistant", "content": text});
            if !tool_calls.is_empty() {
                message["tool_calls"] = Value::Array(tool_calls);
            }
            let finish = if calls.is_empty() { "stop" } else { "tool_calls" };
            json!({
                "id": "chatcmpl-scripted", "object": "chat.completion", "model": "scripted-model",
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": INPUT_TOKENS, "completion_tokens": OUTPUT_TOKENS,
                          "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS}
            })
        }
        ProviderKind::Anthropic => {
            let mut content: Vec<Value> = text.map(|t| json!({"type": "text", "text": t})).into_iter().collect();
            content.extend(
                calls.iter().map(|(id, name, args)| json!({"type": "tool_use", "id": id, "name": name, "input": args})),
            );
            let stop = if calls.is_empty() { "end_turn" } else { "tool_use" };
            json!({
                "id": "msg_scripted", "type": "message", "role": "assistant", "model": "scripted-model",
                "content": content, "stop_reason": stop, "stop_sequence": null,
                "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS}
            })
        }
        ProviderKind::Gemini => {
            let mut parts: Vec<Value> = text.map(|t| json!({"text": t})).into_iter().collect();
            parts.extend(calls.iter().map(|(_, name, args)| json!({"functionCall": {"name": name, "args": args}})));
            json!({
                "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": INPUT_TOKENS, "candidatesTokenCount": OUTPUT_TOKENS,
                                  "totalTokenCount": INPUT_TOKENS + OUTPUT_TOKENS},
                "modelVersion": "scripted-model"
            })
        }
    }
}

/// An error body in `provider`'s format.
pub fn error_body(provider: ProviderKind, status: u16, message: &str) -> Value {
    match provider {
        ProviderKind::Openai => json!({"error": {"message": message, "type": "scripted_error", "code": status}}),
        ProviderKind::Anthropic => {
            let kind = match status {
                429 => "rate_limit_error",
                400 => "invalid_request_error",
                401 => "authentication_error",
                s if s >= 500 => "api_error",
                _ => "invalid_request_error",
            };
            json!({"type": "error", "error": {"type": kind, "message": message}})
        }
        ProviderKind::Gemini => {
            let status_text = match status {
                429 => "RESOURCE_EXHAUSTED",
                400 => "INVALID_ARGUMENT",
                s if s >= 500 => "INTERNAL",
                _ => "FAILED_PRECONDITION",
            };
            json!({"error": {"code": status, "message": message, "status": status_text}})
        }
    }
}

fn error_reply(provider: ProviderKind, status: u16, message: &str, retry_after: Option<u64>) -> Reply {
    reply(status, error_body(provider, status, message).to_string(), retry_after)
}

fn json_reply(status: u16, body: &Value) -> Reply {
    reply(status, body.to_string(), None)
}

fn reply(status: u16, body: String, retry_after: Option<u64>) -> Reply {
    let mut builder = hyper::Response::builder().status(status).header("content-type", "application/json");
    if let Some(secs) = retry_after {
        builder = builder.header("retry-after", secs.to_string());
    }
    builder.body(Full::new(Bytes::from(body))).unwrap_or_else(|_| {
        // Only an invalid status code can fail here; answer 500 so the test sees it.
        let mut fallback = hyper::Response::new(Full::new(Bytes::from("scripted server: invalid status")));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}
