//! The request bodies each provider receives for one conversation that has a system prompt, a
//! tool, a tool call, a failed and a successful tool result, and a follow-up question.

use llm::providers::encode_request;
use llm::{Config, Message, Part, ProviderKind, Request, Role, ToolSpec};
use serde_json::json;

fn conversation() -> Request {
    Request {
        system: "You are the optimizer persona.".into(),
        messages: vec![
            Message::user("Propose one change."),
            Message {
                role: Role::Assistant,
                parts: vec![
                    Part::Text("Checking two rates.".into()),
                    Part::ToolCall { id: "c1".into(), name: "compute_loss".into(), arguments: json!({"lr": 0.1}) },
                    Part::ToolCall { id: "c2".into(), name: "compute_loss".into(), arguments: json!({"lr": -1}) },
                ],
            },
            Message {
                role: Role::User,
                parts: vec![
                    Part::ToolResult {
                        id: "c1".into(),
                        name: "compute_loss".into(),
                        content: "0.42".into(),
                        is_error: false,
                    },
                    Part::ToolResult {
                        id: "c2".into(),
                        name: "compute_loss".into(),
                        content: "lr must be positive".into(),
                        is_error: true,
                    },
                ],
            },
            Message::assistant("lr 0.1 it is."),
            Message::user("Now as JSON."),
        ],
        tools: vec![ToolSpec {
            name: "compute_loss".into(),
            description: "Validation loss".into(),
            parameters: json!({"type": "object", "properties": {"lr": {"type": "number"}}}),
        }],
        max_tokens: Some(512),
        temperature: Some(0.2),
    }
}

#[test]
fn openai_chat_completions_body() {
    insta::assert_json_snapshot!(encode_request(&Config::new(ProviderKind::Openai, "gpt-x"), &conversation()));
}

#[test]
fn anthropic_messages_body() {
    insta::assert_json_snapshot!(encode_request(&Config::new(ProviderKind::Anthropic, "claude-x"), &conversation()));
}

#[test]
fn gemini_generate_content_body() {
    insta::assert_json_snapshot!(encode_request(&Config::new(ProviderKind::Gemini, "gemini-x"), &conversation()));
}

#[test]
fn config_defaults_fill_what_the_request_leaves_open() {
    let mut config = Config::new(ProviderKind::Openai, "m");
    config.max_tokens = 99;
    config.temperature = Some(0.7);
    let body = encode_request(&config, &Request::new("", "hi"));
    assert_eq!(
        body,
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 99, "temperature": 0.7})
    );
}
