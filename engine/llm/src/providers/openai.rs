//! OpenAI-compatible Chat Completions: `role: tool` messages carry results, `tool_calls` on the
//! assistant message carry calls, with arguments as a JSON string.

use serde_json::{json, Map, Value};

use super::{count, field};
use crate::config::Config;
use crate::types::{Message, Part, Request, Response, Role, StopReason, Usage};

pub(super) fn encode(config: &Config, request: &Request) -> Value {
    let mut messages = Vec::new();
    if !request.system.is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    for message in &request.messages {
        encode_message(message, &mut messages);
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(config.model));
    body.insert("messages".into(), Value::Array(messages));
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function",
                       "function": {"name": t.name, "description": t.description, "parameters": t.parameters}})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    body.insert("max_tokens".into(), json!(request.max_tokens.unwrap_or(config.max_tokens)));
    if let Some(t) = request.temperature.or(config.temperature) {
        body.insert("temperature".into(), json!(t));
    }
    Value::Object(body)
}

fn encode_message(message: &Message, out: &mut Vec<Value>) {
    match message.role {
        Role::User => {
            // Tool results must directly follow the assistant's calls, so they go first.
            let mut text = String::new();
            for part in &message.parts {
                match part {
                    Part::ToolResult { id, content, is_error, .. } => {
                        let content = if *is_error { format!("Error: {content}") } else { content.clone() };
                        out.push(json!({"role": "tool", "tool_call_id": id, "content": content}));
                    }
                    Part::Text(t) => text.push_str(t),
                    Part::ToolCall { .. } => {}
                }
            }
            if !text.is_empty() {
                out.push(json!({"role": "user", "content": text}));
            }
        }
        Role::Assistant => {
            let text = message.text();
            let calls: Vec<Value> = message
                .parts
                .iter()
                .filter_map(|p| match p {
                    Part::ToolCall { id, name, arguments } => {
                        let arguments = match arguments {
                            Value::String(raw) => raw.clone(),
                            other => other.to_string(),
                        };
                        Some(json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}))
                    }
                    _ => None,
                })
                .collect();
            let mut m = Map::new();
            m.insert("role".into(), json!("assistant"));
            m.insert("content".into(), if text.is_empty() { Value::Null } else { json!(text) });
            if !calls.is_empty() {
                m.insert("tool_calls".into(), Value::Array(calls));
            }
            out.push(Value::Object(m));
        }
    }
}

pub(super) fn decode(body: &Value) -> Result<Response, String> {
    let choice =
        field(body, "choices", "the response")?.get(0).ok_or_else(|| "the response has no choices".to_string())?;
    let message = field(choice, "message", "choice 0")?;
    let mut parts = Vec::new();
    match message.get("content") {
        Some(Value::String(text)) if !text.is_empty() => parts.push(Part::Text(text.clone())),
        // Some servers send content as an array of `{type: "text", text}` parts.
        Some(Value::Array(items)) => {
            for item in items {
                if let Some(text) = item.get("text").and_then(Value::as_str) {
                    parts.push(Part::Text(text.to_string()));
                }
            }
        }
        _ => {}
    }
    if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
        for (i, call) in calls.iter().enumerate() {
            let function = field(call, "function", "a tool call")?;
            let name = field(function, "name", "a tool call")?.as_str().unwrap_or_default().to_string();
            let id = call.get("id").and_then(Value::as_str).map_or_else(|| format!("call_{i}"), str::to_string);
            let arguments = match function.get("arguments") {
                // The API sends a JSON string; keep the raw text when the model wrote invalid JSON.
                Some(Value::String(raw)) if raw.trim().is_empty() => json!({}),
                Some(Value::String(raw)) => serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.clone())),
                Some(Value::Null) | None => json!({}),
                Some(other) => other.clone(),
            };
            parts.push(Part::ToolCall { id, name, arguments });
        }
    }
    let stop_reason = match choice.get("finish_reason").and_then(Value::as_str).unwrap_or("stop") {
        "stop" => StopReason::EndTurn,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "length" => StopReason::MaxTokens,
        other => StopReason::Other(other.to_string()),
    };
    let usage = body.get("usage").cloned().unwrap_or(Value::Null);
    Ok(Response {
        parts,
        usage: Usage {
            input_tokens: count(&usage, "prompt_tokens"),
            output_tokens: count(&usage, "completion_tokens"),
        },
        stop_reason,
        model: body.get("model").and_then(Value::as_str).unwrap_or_default().to_string(),
    })
}
