//! Provider-neutral requests and responses: what agents build and read, whatever API answers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One conversation sent to a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The system prompt (persona and task); empty for none.
    pub system: String,
    /// The turns so far, oldest first.
    pub messages: Vec<Message>,
    /// Tools the model may call; empty for none.
    pub tools: Vec<ToolSpec>,
    /// Cap on generated tokens; `None` takes the config's `max_tokens`.
    pub max_tokens: Option<u32>,
    /// Sampling temperature; `None` takes the config's, or the provider's default.
    pub temperature: Option<f64>,
}

impl Request {
    /// A request with a system prompt and one user message.
    pub fn new(system: impl Into<String>, user: impl Into<String>) -> Request {
        Request { system: system.into(), messages: vec![Message::user(user)], ..Request::default() }
    }

    /// The same request offering `tools`.
    pub fn with_tools(mut self, tools: Vec<ToolSpec>) -> Request {
        self.tools = tools;
        self
    }
}

/// Who speaks a message. System text travels in `Request::system`, and tool results in user
/// messages, which is how the Anthropic and Gemini APIs see them; the OpenAI wire format splits
/// them into `role: tool` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The caller (prompts, tool results).
    User,
    /// The model.
    Assistant,
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What was said, in order.
    pub parts: Vec<Part>,
}

impl Message {
    /// A user message of plain text.
    pub fn user(text: impl Into<String>) -> Message {
        Message { role: Role::User, parts: vec![Part::Text(text.into())] }
    }

    /// An assistant message of plain text.
    pub fn assistant(text: impl Into<String>) -> Message {
        Message { role: Role::Assistant, parts: vec![Part::Text(text.into())] }
    }

    /// The text parts joined, ignoring tool calls and results.
    pub fn text(&self) -> String {
        text_of(&self.parts)
    }
}

/// A piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// Plain text.
    Text(String),
    /// The model asks for a tool to run.
    ToolCall {
        /// The provider's id for the call (synthesised for Gemini, which has none).
        id: String,
        /// The tool's name.
        name: String,
        /// Its arguments, as the model wrote them (a JSON string when they were not valid JSON).
        arguments: Value,
    },
    /// A tool's answer to a call, sent back to the model.
    ToolResult {
        /// The id of the call it answers.
        id: String,
        /// The tool's name (Gemini matches results by name).
        name: String,
        /// What the tool returned, or its error message.
        content: String,
        /// Whether `content` is an error the model should react to.
        is_error: bool,
    },
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Name the model calls it by.
    pub name: String,
    /// What it does and when to use it, for the model.
    pub description: String,
    /// JSON schema of its arguments (an object schema).
    pub parameters: Value,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Text and tool calls, in order.
    pub parts: Vec<Part>,
    /// Tokens billed for this call.
    pub usage: Usage,
    /// Why generation stopped.
    pub stop_reason: StopReason,
    /// The model that answered, as the provider names it.
    pub model: String,
}

impl Response {
    /// The text parts joined.
    pub fn text(&self) -> String {
        text_of(&self.parts)
    }

    /// The tool calls, in order, as `(id, name, arguments)`.
    pub fn tool_calls(&self) -> Vec<(&str, &str, &Value)> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::ToolCall { id, name, arguments } => Some((id.as_str(), name.as_str(), arguments)),
                _ => None,
            })
            .collect()
    }
}

/// Tokens of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens (including any reasoning tokens the provider bills as output).
    pub output_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
    }
}

/// Why a model stopped generating, normalised across providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished its answer.
    EndTurn,
    /// It wants tools run.
    ToolUse,
    /// It hit `max_tokens`.
    MaxTokens,
    /// Anything else, as the provider said it (content filter, ...).
    Other(String),
}

fn text_of(parts: &[Part]) -> String {
    let texts: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            Part::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    texts.join("")
}
