//! Reading answers as real servers send them, quirks included.

use llm::providers::{decode_response, error_message};
use llm::{Part, ProviderKind, StopReason, Usage};
use serde_json::json;

#[test]
fn openai_arguments_that_are_not_json_are_kept_as_text_and_objects_are_accepted() {
    let body = json!({
        "model": "qwen2.5",
        "choices": [{"finish_reason": "tool_calls", "message": {"role": "assistant", "content": "", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{\"x\": 1"}},
            // Some local servers send arguments as an object, and no id.
            {"type": "function", "function": {"name": "g", "arguments": {"y": 2}}}
        ]}}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3}
    });
    let r = decode_response(ProviderKind::Openai, &body, "cfg-model").unwrap();
    assert_eq!(
        r.parts,
        vec![
            Part::ToolCall { id: "a".into(), name: "f".into(), arguments: json!("{\"x\": 1") },
            Part::ToolCall { id: "call_1".into(), name: "g".into(), arguments: json!({"y": 2}) },
        ]
    );
    assert_eq!(
        (r.stop_reason, r.usage, r.model),
        (StopReason::ToolUse, Usage { input_tokens: 7, output_tokens: 3 }, "qwen2.5".into())
    );
}

#[test]
fn openai_without_usage_or_model_counts_zero_and_names_the_configured_model() {
    let body = json!({"choices": [{"message": {"content": "hi"}, "finish_reason": "length"}]});
    let r = decode_response(ProviderKind::Openai, &body, "cfg-model").unwrap();
    assert_eq!(
        (r.text(), r.stop_reason, r.usage, r.model.as_str()),
        ("hi".into(), StopReason::MaxTokens, Usage::default(), "cfg-model")
    );
    let err = decode_response(ProviderKind::Openai, &json!({"choices": []}), "m").unwrap_err();
    assert_eq!(err, "the response has no choices");
}

#[test]
fn anthropic_thinking_is_skipped_and_cached_tokens_count_as_input() {
    let body = json!({
        "model": "claude-x", "stop_reason": "end_turn",
        "content": [{"type": "thinking", "thinking": "hmm", "signature": "s"}, {"type": "text", "text": "answer"}],
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 90, "output_tokens": 5}
    });
    let r = decode_response(ProviderKind::Anthropic, &body, "m").unwrap();
    assert_eq!(r.parts, vec![Part::Text("answer".into())]);
    assert_eq!(r.usage, Usage { input_tokens: 100, output_tokens: 5 });
}

#[test]
fn gemini_thoughts_are_skipped_calls_get_ids_and_blocks_are_explained() {
    let body = json!({
        "candidates": [{"finishReason": "STOP", "content": {"role": "model", "parts": [
            {"text": "planning", "thought": true},
            {"functionCall": {"name": "f", "args": {"a": 1}}},
            {"functionCall": {"name": "f", "args": {"a": 2}}}
        ]}}],
        "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 6, "thoughtsTokenCount": 10},
        "modelVersion": "gemini-x-001"
    });
    let r = decode_response(ProviderKind::Gemini, &body, "m").unwrap();
    assert_eq!(r.tool_calls().iter().map(|c| c.0).collect::<Vec<_>>(), ["call_0", "call_1"]);
    assert_eq!((r.stop_reason, r.usage), (StopReason::ToolUse, Usage { input_tokens: 4, output_tokens: 16 }));
    let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"}});
    assert_eq!(decode_response(ProviderKind::Gemini, &blocked, "m").unwrap_err(), "the prompt was blocked (SAFETY)");
}

#[test]
fn error_messages_are_found_in_each_providers_error_body() {
    assert_eq!(error_message(r#"{"error": {"message": "bad model", "type": "invalid_request_error"}}"#), "bad model");
    assert_eq!(
        error_message(r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#),
        "Overloaded"
    );
    assert_eq!(
        error_message(r#"{"error": {"code": 429, "message": "Quota", "status": "RESOURCE_EXHAUSTED"}}"#),
        "Quota"
    );
    assert_eq!(error_message(r#"{"error": "model 'x' not found"}"#), "model 'x' not found");
    assert_eq!(error_message("<html>502 Bad Gateway</html>"), "<html>502 Bad Gateway</html>");
    assert_eq!(error_message(""), "(empty body)");
    assert_eq!(error_message(&"x".repeat(600)).len(), 503);
}
