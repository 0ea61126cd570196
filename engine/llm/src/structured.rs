//! Asking for an answer in a fixed shape: validate the final text, send the validator's message
//! back for repair a bounded number of times, then give up with `Error::Malformed`.

use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::tool_loop::{tool_loop, Conversation, ToolHandler};
use crate::types::{Message, Request, Usage};

/// A validated answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Structured<T> {
    /// What the validator made of the answer.
    pub value: T,
    /// The whole conversation, repairs included.
    pub conversation: Conversation,
    /// Repair rounds used (0 when the first answer was valid).
    pub repairs: usize,
}

/// How many repair rounds to allow unless told otherwise.
pub const DEFAULT_REPAIRS: usize = 1;

/// The message that sends a validation failure back to the model.
pub fn repair_prompt(problem: &str) -> String {
    format!(
        "Your answer could not be used: {problem}\n\
         Reply again with the corrected answer only, in exactly the requested format."
    )
}

/// Runs `tool_loop` and checks the final text with `validate`; on failure the validator's
/// message goes back to the model (`repair_prompt`) for up to `repairs` more rounds, each a
/// full tool loop of at most `max_turns` calls. Still invalid: `Error::Malformed`.
pub async fn ask_structured<T>(
    client: &Client,
    persona: &str,
    request: &Request,
    handler: &mut dyn ToolHandler,
    max_turns: usize,
    validate: impl Fn(&str) -> Result<T, String>,
    repairs: usize,
) -> Result<Structured<T>, Error> {
    let mut request = request.clone();
    let mut usage = Usage::default();
    let mut turns = 0;
    let mut round = 0;
    loop {
        let mut conversation = tool_loop(client, persona, &request, handler, max_turns).await?;
        usage += conversation.usage;
        turns += conversation.turns;
        match validate(&conversation.text) {
            Ok(value) => {
                conversation.usage = usage;
                conversation.turns = turns;
                return Ok(Structured { value, conversation, repairs: round });
            }
            Err(problem) if round == repairs => {
                return Err(Error::Malformed { message: problem, text: conversation.text, attempts: round + 1 });
            }
            Err(problem) => {
                request.messages = conversation.transcript;
                request.messages.push(Message::user(repair_prompt(&problem)));
                round += 1;
            }
        }
    }
}

/// The JSON value in a model's answer: the whole text, else a ```json fenced block, else the
/// outermost `{...}`. The error says what was wrong, for `repair_prompt`.
pub fn extract_json(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the answer is empty; a JSON object was expected".to_string());
    }
    let first_error = match serde_json::from_str::<Value>(trimmed) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    if let Some(start) = trimmed.find("```") {
        let after = &trimmed[start + 3..];
        let body = after.strip_prefix("json").unwrap_or(after);
        if let Some(end) = body.find("```") {
            if let Ok(v) = serde_json::from_str::<Value>(body[..end].trim()) {
                return Ok(v);
            }
        }
    }
    if let (Some(start), Some(end)) = (trimmed.find('{'), trimmed.rfind('}')) {
        if start < end {
            if let Ok(v) = serde_json::from_str::<Value>(&trimmed[start..=end]) {
                return Ok(v);
            }
        }
    }
    Err(format!("the answer is not valid JSON ({first_error})"))
}
