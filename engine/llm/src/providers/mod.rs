//! Each provider's wire format as pure functions: a neutral `Request` to the JSON body it
//! expects, and its JSON answer back to a neutral `Response`. No I/O here; `Client` does that.

mod anthropic;
mod gemini;
mod openai;

use serde_json::Value;

use crate::config::{Config, ProviderKind};
use crate::types::{Request, Response};

/// The URL a request for `config` is posted to.
pub fn endpoint(config: &Config) -> String {
    let base = config.base_url();
    match config.provider {
        ProviderKind::Openai => format!("{base}/chat/completions"),
        ProviderKind::Anthropic => format!("{base}/v1/messages"),
        ProviderKind::Gemini => format!("{base}/v1beta/models/{}:generateContent", config.model),
    }
}

/// The JSON body of `request` in `config`'s provider's format.
pub fn encode_request(config: &Config, request: &Request) -> Value {
    match config.provider {
        ProviderKind::Openai => openai::encode(config, request),
        ProviderKind::Anthropic => anthropic::encode(config, request),
        ProviderKind::Gemini => gemini::encode(config, request),
    }
}

/// Reads a successful answer of `provider`; `model` names the answer when the body does not.
pub fn decode_response(provider: ProviderKind, body: &Value, model: &str) -> Result<Response, String> {
    let mut response = match provider {
        ProviderKind::Openai => openai::decode(body),
        ProviderKind::Anthropic => anthropic::decode(body),
        ProviderKind::Gemini => gemini::decode(body),
    }?;
    if response.model.is_empty() {
        response.model = model.to_string();
    }
    Ok(response)
}

/// The headers that carry `key` (and the API version where one is required).
pub fn auth_headers(provider: ProviderKind, key: Option<&str>) -> Vec<(&'static str, String)> {
    let mut headers = Vec::new();
    match provider {
        ProviderKind::Openai => {
            if let Some(key) = key {
                headers.push(("authorization", format!("Bearer {key}")));
            }
        }
        ProviderKind::Anthropic => {
            headers.push(("anthropic-version", ANTHROPIC_VERSION.to_string()));
            if let Some(key) = key {
                headers.push(("x-api-key", key.to_string()));
            }
        }
        ProviderKind::Gemini => {
            if let Some(key) = key {
                headers.push(("x-goog-api-key", key.to_string()));
            }
        }
    }
    headers
}

/// The Messages API version this client speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The provider's own message from an error body: `{"error": {"message": ...}}` in all three
/// APIs, `{"error": "..."}` in some OpenAI-compatible servers; else the start of the body.
pub fn error_message(body: &str) -> String {
    if let Ok(json) = serde_json::from_str::<Value>(body) {
        let found = match &json["error"] {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_string),
            _ => json.get("message").and_then(Value::as_str).map(str::to_string),
        };
        if let Some(message) = found {
            return message;
        }
    }
    let body = body.trim();
    if body.is_empty() {
        return "(empty body)".to_string();
    }
    let cut: String = body.chars().take(500).collect();
    if cut.len() < body.len() {
        format!("{cut}...")
    } else {
        cut
    }
}

/// `value` as an object's field, or an error naming what is missing.
fn field<'a>(value: &'a Value, name: &str, what: &str) -> Result<&'a Value, String> {
    value.get(name).filter(|v| !v.is_null()).ok_or_else(|| format!("{what} has no `{name}`"))
}

/// A token count, absent meaning 0.
fn count(value: &Value, name: &str) -> u64 {
    value.get(name).and_then(Value::as_u64).unwrap_or(0)
}
