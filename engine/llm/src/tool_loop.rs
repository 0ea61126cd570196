//! The tool loop: the model calls tools, the handler runs them, results go back, until the
//! model answers in text or the turn bound is reached.

use async_trait::async_trait;
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::types::{Message, Part, Request, Role, Usage};

/// Runs the tools a model calls. An `Err` is sent back to the model as an error result (so it
/// can correct itself); it does not stop the loop.
#[async_trait]
pub trait ToolHandler: Send {
    /// Runs tool `name` with the model's `arguments` (a JSON object) and returns its output.
    async fn call(&mut self, name: &str, arguments: &Value) -> Result<String, String>;
}

/// A handler for requests that offer no tools: every call is answered with an error.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTools;

#[async_trait]
impl ToolHandler for NoTools {
    async fn call(&mut self, name: &str, _arguments: &Value) -> Result<String, String> {
        Err(format!("no tools are available here (called `{name}`)"))
    }
}

/// A finished conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// The model's final text answer.
    pub text: String,
    /// Every message: the request's, then each assistant turn and each batch of tool results.
    pub transcript: Vec<Message>,
    /// Tokens over all of its calls.
    pub usage: Usage,
    /// Model calls made.
    pub turns: usize,
}

/// Sends `request`, runs the tools the model calls through `handler` and sends their results
/// back, for at most `max_turns` model calls; the answer is the first reply without tool calls.
/// Calls of tools not in `request.tools`, and arguments that are not a JSON object, are
/// answered with an error result without reaching the handler.
pub async fn tool_loop(
    client: &Client,
    persona: &str,
    request: &Request,
    handler: &mut dyn ToolHandler,
    max_turns: usize,
) -> Result<Conversation, Error> {
    let mut request = request.clone();
    let mut usage = Usage::default();
    for turn in 1..=max_turns {
        let response = client.call(persona, &request).await?;
        usage += response.usage;
        let calls: Vec<(String, String, Value)> = response
            .tool_calls()
            .into_iter()
            .map(|(id, name, args)| (id.to_string(), name.to_string(), args.clone()))
            .collect();
        let text = response.text();
        request.messages.push(Message { role: Role::Assistant, parts: response.parts });
        if calls.is_empty() {
            return Ok(Conversation { text, transcript: request.messages, usage, turns: turn });
        }
        let mut results = Vec::with_capacity(calls.len());
        for (id, name, arguments) in calls {
            let outcome = if !request.tools.iter().any(|t| t.name == name) {
                let known: Vec<&str> = request.tools.iter().map(|t| t.name.as_str()).collect();
                Err(format!("unknown tool `{name}`; available: {}", list(&known)))
            } else if !arguments.is_object() {
                Err(format!("the arguments of `{name}` must be a JSON object, got: {arguments}"))
            } else {
                handler.call(&name, &arguments).await
            };
            let (content, is_error) = match outcome {
                Ok(content) => (content, false),
                Err(message) => (message, true),
            };
            results.push(Part::ToolResult { id, name, content, is_error });
        }
        request.messages.push(Message { role: Role::User, parts: results });
    }
    Err(Error::TurnLimit { max_turns })
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}
