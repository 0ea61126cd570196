//! Gemini `generateContent`: `functionDeclarations`, `functionCall` parts from the model and
//! `functionResponse` parts back, matched by name (calls carry no id, so ids are synthesised).

use serde_json::{json, Map, Value};

use super::{count, field};
use crate::config::Config;
use crate::types::{Part, Request, Response, Role, StopReason, Usage};

pub(super) fn encode(config: &Config, request: &Request) -> Value {
    let contents: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "model",
            };
            let mut parts: Vec<Value> = m
                .parts
                .iter()
                .filter(|p| !matches!(p, Part::Text(t) if t.is_empty()))
                .map(|p| match p {
                    Part::Text(text) => json!({"text": text}),
                    Part::ToolCall { name, arguments, .. } => {
                        let args = if arguments.is_object() { arguments.clone() } else { json!({}) };
                        json!({"functionCall": {"name": name, "args": args}})
                    }
                    Part::ToolResult { name, content, is_error, .. } => {
                        // `response` must be an object.
                        let key = if *is_error { "error" } else { "result" };
                        json!({"functionResponse": {"name": name, "response": {key: content}}})
                    }
                })
                .collect();
            if parts.is_empty() {
                // The API refuses empty turns; an empty answer replayed in a repair is one.
                parts.push(json!({"text": "(empty)"}));
            }
            json!({"role": role, "parts": parts})
        })
        .collect();
    let mut body = Map::new();
    if !request.system.is_empty() {
        body.insert("systemInstruction".into(), json!({"parts": [{"text": request.system}]}));
    }
    body.insert("contents".into(), Value::Array(contents));
    if !request.tools.is_empty() {
        let declarations: Vec<Value> = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "parameters": t.parameters}))
            .collect();
        body.insert("tools".into(), json!([{"functionDeclarations": declarations}]));
    }
    let mut generation = Map::new();
    generation.insert("maxOutputTokens".into(), json!(request.max_tokens.unwrap_or(config.max_tokens)));
    if let Some(t) = request.temperature.or(config.temperature) {
        generation.insert("temperature".into(), json!(t));
    }
    body.insert("generationConfig".into(), Value::Object(generation));
    Value::Object(body)
}

pub(super) fn decode(body: &Value) -> Result<Response, String> {
    let Some(candidate) = body.get("candidates").and_then(|c| c.get(0)) else {
        let reason = body.pointer("/promptFeedback/blockReason").and_then(Value::as_str);
        return Err(match reason {
            Some(reason) => format!("the prompt was blocked ({reason})"),
            None => "the response has no candidates".to_string(),
        });
    };
    let mut parts = Vec::new();
    let empty = Vec::new();
    let items = candidate.pointer("/content/parts").and_then(Value::as_array).unwrap_or(&empty);
    for item in items {
        if item.get("thought").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        if let Some(text) = item.get("text").and_then(Value::as_str) {
            parts.push(Part::Text(text.to_string()));
        } else if let Some(call) = item.get("functionCall") {
            let name = field(call, "name", "a functionCall")?.as_str().unwrap_or_default().to_string();
            let n = parts.iter().filter(|p| matches!(p, Part::ToolCall { .. })).count();
            let id = call.get("id").and_then(Value::as_str).map_or_else(|| format!("call_{n}"), str::to_string);
            parts.push(Part::ToolCall { id, name, arguments: call.get("args").cloned().unwrap_or_else(|| json!({})) });
        }
    }
    let has_calls = parts.iter().any(|p| matches!(p, Part::ToolCall { .. }));
    // Gemini reports STOP for function calls too.
    let stop_reason = match candidate.get("finishReason").and_then(Value::as_str).unwrap_or("STOP") {
        "STOP" if has_calls => StopReason::ToolUse,
        "STOP" => StopReason::EndTurn,
        "MAX_TOKENS" => StopReason::MaxTokens,
        other => StopReason::Other(other.to_string()),
    };
    let usage = body.get("usageMetadata").cloned().unwrap_or(Value::Null);
    Ok(Response {
        parts,
        usage: Usage {
            input_tokens: count(&usage, "promptTokenCount"),
            // Thinking tokens are billed as output.
            output_tokens: count(&usage, "candidatesTokenCount") + count(&usage, "thoughtsTokenCount"),
        },
        stop_reason,
        model: body.get("modelVersion").and_then(Value::as_str).unwrap_or_default().to_string(),
    })
}
