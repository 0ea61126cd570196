//! Anthropic Messages: content blocks, `tool_use` in assistant turns and `tool_result` in user
//! turns; `max_tokens` is required.

use serde_json::{json, Map, Value};

use super::{count, field};
use crate::config::Config;
use crate::types::{Part, Request, Response, Role, StopReason, Usage};

pub(super) fn encode(config: &Config, request: &Request) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            // Tool results must come first in their user turn; empty text blocks are refused.
            let mut blocks: Vec<Value> = Vec::new();
            for part in m.parts.iter().filter(|p| matches!(p, Part::ToolResult { .. })) {
                blocks.push(block(part));
            }
            for part in m.parts.iter().filter(|p| !matches!(p, Part::ToolResult { .. })) {
                if !matches!(part, Part::Text(t) if t.is_empty()) {
                    blocks.push(block(part));
                }
            }
            if blocks.is_empty() {
                // The API refuses empty turns; an empty answer replayed in a repair is one.
                blocks.push(json!({"type": "text", "text": "(empty)"}));
            }
            json!({"role": role, "content": blocks})
        })
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), json!(config.model));
    if !request.system.is_empty() {
        body.insert("system".into(), json!(request.system));
    }
    body.insert("messages".into(), Value::Array(messages));
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    body.insert("max_tokens".into(), json!(request.max_tokens.unwrap_or(config.max_tokens)));
    if let Some(t) = request.temperature.or(config.temperature) {
        body.insert("temperature".into(), json!(t));
    }
    Value::Object(body)
}

fn block(part: &Part) -> Value {
    match part {
        Part::Text(text) => json!({"type": "text", "text": text}),
        Part::ToolCall { id, name, arguments } => {
            // `input` must be an object; arguments that were not valid JSON cannot be replayed.
            let input = if arguments.is_object() { arguments.clone() } else { json!({}) };
            json!({"type": "tool_use", "id": id, "name": name, "input": input})
        }
        Part::ToolResult { id, content, is_error, .. } => {
            json!({"type": "tool_result", "tool_use_id": id, "content": content, "is_error": is_error})
        }
    }
}

pub(super) fn decode(body: &Value) -> Result<Response, String> {
    let content = field(body, "content", "the response")?
        .as_array()
        .ok_or_else(|| "the response's `content` is not a list".to_string())?;
    let mut parts = Vec::new();
    for block in content {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                parts.push(Part::Text(block.get("text").and_then(Value::as_str).unwrap_or_default().to_string()))
            }
            Some("tool_use") => parts.push(Part::ToolCall {
                id: field(block, "id", "a tool_use block")?.as_str().unwrap_or_default().to_string(),
                name: field(block, "name", "a tool_use block")?.as_str().unwrap_or_default().to_string(),
                arguments: block.get("input").cloned().unwrap_or_else(|| json!({})),
            }),
            // Thinking and other blocks are not part of the answer.
            _ => {}
        }
    }
    let stop_reason = match body.get("stop_reason").and_then(Value::as_str).unwrap_or("end_turn") {
        "end_turn" | "stop_sequence" => StopReason::EndTurn,
        "tool_use" => StopReason::ToolUse,
        "max_tokens" => StopReason::MaxTokens,
        other => StopReason::Other(other.to_string()),
    };
    let usage = body.get("usage").cloned().unwrap_or(Value::Null);
    // Cached prompt tokens are billed as input too (at other rates, which this client does not model).
    let input = count(&usage, "input_tokens")
        + count(&usage, "cache_creation_input_tokens")
        + count(&usage, "cache_read_input_tokens");
    Ok(Response {
        parts,
        usage: Usage { input_tokens: input, output_tokens: count(&usage, "output_tokens") },
        stop_reason,
        model: body.get("model").and_then(Value::as_str).unwrap_or_default().to_string(),
    })
}
