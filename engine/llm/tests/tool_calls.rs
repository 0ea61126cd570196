//! A tool call, then a final answer, in each provider's native wire format: the tool's result
//! must arrive in the next request exactly as that API expects it.

use std::sync::Arc;

use llm::testing::{ScriptedServer, Turn};
use llm::{tool_loop, ApiKey, Client, MemoryObserver, Part, ProviderKind, Request, Role, ToolHandler, ToolSpec};
use serde_json::{json, Value};

/// Answers `compute_loss` with a fixed loss and records what it was asked.
#[derive(Default)]
struct LossTool {
    calls: Vec<(String, Value)>,
}

#[async_trait::async_trait]
impl ToolHandler for LossTool {
    async fn call(&mut self, name: &str, arguments: &Value) -> Result<String, String> {
        self.calls.push((name.to_string(), arguments.clone()));
        match arguments.get("lr").and_then(Value::as_f64) {
            Some(lr) if lr > 0.0 => Ok(format!("validation loss 0.4213 at lr {lr}")),
            _ => Err("`lr` must be a positive number".to_string()),
        }
    }
}

fn request() -> Request {
    Request::new("You tune optimizers.", "Try lr 0.05 and report.").with_tools(vec![ToolSpec {
        name: "compute_loss".into(),
        description: "Validation loss of the baseline with an edited optimizer".into(),
        parameters: json!({"type": "object", "properties": {"lr": {"type": "number"}}, "required": ["lr"]}),
    }])
}

async fn run(provider: ProviderKind, args: Value) -> (ScriptedServer, llm::Conversation, LossTool, MemoryObserver) {
    let server = ScriptedServer::start(
        provider,
        vec![Turn::tool_call("call_1", "compute_loss", args), Turn::text("lr 0.05 gives loss 0.4213")],
    )
    .await
    .unwrap();
    let observer = MemoryObserver::new();
    let client = Client::with_key(server.config("m-1"), Some(ApiKey::new("test-key-123")))
        .unwrap()
        .with_observer(Arc::new(observer.clone()));
    let mut tool = LossTool::default();
    let conversation = tool_loop(&client, "optimizer", &request(), &mut tool, 4).await.unwrap();
    (server, conversation, tool, observer)
}

#[tokio::test]
async fn openai_tool_result_returns_as_a_tool_message() {
    let (server, conversation, tool, observer) = run(ProviderKind::Openai, json!({"lr": 0.05})).await;
    assert_eq!(conversation.text, "lr 0.05 gives loss 0.4213");
    assert_eq!(conversation.turns, 2);
    assert_eq!(tool.calls, vec![("compute_loss".to_string(), json!({"lr": 0.05}))]);
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].path, "/v1/chat/completions");
    let first = &received[0].body;
    assert_eq!(first["tools"][0]["type"], "function");
    assert_eq!(first["tools"][0]["function"]["name"], "compute_loss");
    assert_eq!(first["tools"][0]["function"]["parameters"]["required"], json!(["lr"]));
    let messages = received[1].body["messages"].as_array().unwrap().clone();
    assert_eq!(messages[0], json!({"role": "system", "content": "You tune optimizers."}));
    assert_eq!(messages[1], json!({"role": "user", "content": "Try lr 0.05 and report."}));
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(messages[2]["content"], Value::Null);
    let call = &messages[2]["tool_calls"][0];
    assert_eq!(call["id"], "call_1");
    assert_eq!(call["function"]["name"], "compute_loss");
    // Chat Completions carries arguments as a JSON string.
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"lr": 0.05})
    );
    assert_eq!(
        messages[3],
        json!({"role": "tool", "tool_call_id": "call_1", "content": "validation loss 0.4213 at lr 0.05"})
    );
    assert_eq!(messages.len(), 4);
    let records = observer.records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].tool_calls, json!([{"id": "call_1", "name": "compute_loss", "arguments": {"lr": 0.05}}]));
    assert_eq!(records[1].response, "lr 0.05 gives loss 0.4213");
    assert_eq!((records[1].input_tokens, records[1].output_tokens), (100, 20));
    assert_eq!(records[1].persona, "optimizer");
}

#[tokio::test]
async fn anthropic_tool_result_returns_as_a_tool_result_block() {
    let (server, conversation, _tool, _) = run(ProviderKind::Anthropic, json!({"lr": 0.05})).await;
    assert_eq!(conversation.text, "lr 0.05 gives loss 0.4213");
    let received = server.received();
    assert_eq!(received[0].path, "/v1/messages");
    assert_eq!(received[0].body["system"], "You tune optimizers.");
    assert_eq!(received[0].body["max_tokens"], 4096);
    assert_eq!(received[0].body["tools"][0]["input_schema"]["required"], json!(["lr"]));
    let messages = received[1].body["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0], json!({"role": "user", "content": [{"type": "text", "text": "Try lr 0.05 and report."}]}));
    assert_eq!(
        messages[1],
        json!({"role": "assistant",
               "content": [{"type": "tool_use", "id": "call_1", "name": "compute_loss", "input": {"lr": 0.05}}]})
    );
    assert_eq!(
        messages[2],
        json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1",
                                            "content": "validation loss 0.4213 at lr 0.05", "is_error": false}]})
    );
}

#[tokio::test]
async fn gemini_tool_result_returns_as_a_function_response() {
    let (server, conversation, _tool, _) = run(ProviderKind::Gemini, json!({"lr": 0.05})).await;
    assert_eq!(conversation.text, "lr 0.05 gives loss 0.4213");
    let received = server.received();
    assert_eq!(received[0].path, "/v1beta/models/m-1:generateContent");
    let first = &received[0].body;
    assert_eq!(first["systemInstruction"], json!({"parts": [{"text": "You tune optimizers."}]}));
    assert_eq!(first["tools"][0]["functionDeclarations"][0]["name"], "compute_loss");
    assert_eq!(first["generationConfig"]["maxOutputTokens"], 4096);
    let contents = received[1].body["contents"].as_array().unwrap().clone();
    assert_eq!(contents.len(), 3);
    assert_eq!(
        contents[1],
        json!({"role": "model", "parts": [{"functionCall": {"name": "compute_loss", "args": {"lr": 0.05}}}]})
    );
    assert_eq!(
        contents[2],
        json!({"role": "user", "parts": [{"functionResponse": {"name": "compute_loss",
                                            "response": {"result": "validation loss 0.4213 at lr 0.05"}}}]})
    );
}

#[tokio::test]
async fn a_failing_tool_goes_back_to_the_model_as_an_error_result() {
    for provider in [ProviderKind::Openai, ProviderKind::Anthropic, ProviderKind::Gemini] {
        let (server, conversation, tool, _) = run(provider, json!({"lr": -1})).await;
        assert_eq!(tool.calls.len(), 1, "{provider:?}: the handler ran");
        let result = conversation.transcript[2].parts[0].clone();
        assert_eq!(conversation.transcript[2].role, Role::User);
        assert!(
            matches!(&result, Part::ToolResult { is_error: true, content, .. } if content.contains("positive")),
            "{provider:?}: {result:?}"
        );
        let body = server.received()[1].body.clone();
        let wire = match provider {
            ProviderKind::Openai => body["messages"][3]["content"].clone(),
            ProviderKind::Anthropic => body["messages"][2]["content"][0]["is_error"].clone(),
            ProviderKind::Gemini => body["contents"][2]["parts"][0]["functionResponse"]["response"]["error"].clone(),
        };
        let expected = match provider {
            ProviderKind::Openai => json!("Error: `lr` must be a positive number"),
            ProviderKind::Anthropic => json!(true),
            ProviderKind::Gemini => json!("`lr` must be a positive number"),
        };
        assert_eq!(wire, expected, "{provider:?}");
    }
}

#[tokio::test]
async fn unknown_tools_and_non_object_arguments_never_reach_the_handler() {
    let server = ScriptedServer::start(
        ProviderKind::Openai,
        vec![
            Turn::ToolCalls(vec![
                ("a".into(), "drop_tables".into(), json!({})),
                ("b".into(), "compute_loss".into(), json!("not an object")),
            ]),
            Turn::text("done"),
        ],
    )
    .await
    .unwrap();
    let client = Client::with_key(server.config("m"), None).unwrap();
    let mut tool = LossTool::default();
    let conversation = tool_loop(&client, "optimizer", &request(), &mut tool, 3).await.unwrap();
    assert!(tool.calls.is_empty());
    let messages = server.received()[1].body["messages"].as_array().unwrap().clone();
    assert_eq!(messages[3]["content"], "Error: unknown tool `drop_tables`; available: compute_loss");
    assert!(messages[4]["content"].as_str().unwrap().contains("must be a JSON object"), "{}", messages[4]);
    assert_eq!(conversation.text, "done");
}

#[tokio::test]
async fn the_turn_bound_stops_a_model_that_keeps_calling_tools() {
    let turns = (0..3).map(|i| Turn::tool_call(&format!("c{i}"), "compute_loss", json!({"lr": 0.1}))).collect();
    let server = ScriptedServer::start(ProviderKind::Anthropic, turns).await.unwrap();
    let client = Client::with_key(server.config("m"), Some(ApiKey::new("k-anthropic"))).unwrap();
    let mut tool = LossTool::default();
    let err = tool_loop(&client, "optimizer", &request(), &mut tool, 2).await.unwrap_err();
    assert_eq!(err, llm::Error::TurnLimit { max_turns: 2 });
    assert_eq!(server.received().len(), 2);
    assert_eq!(tool.calls.len(), 2);
}

#[tokio::test]
async fn the_loops_futures_can_run_on_spawned_tasks() {
    fn assert_send<T: Send>(_: &T) {}
    let client = Client::with_key(llm::Config::new(ProviderKind::Openai, "m"), None).unwrap();
    let mut tool = LossTool::default();
    let request = request();
    let fut = tool_loop(&client, "p", &request, &mut tool, 1);
    assert_send(&fut);
    let mut no_tools = llm::NoTools;
    let fut = llm::ask_structured(&client, "p", &request, &mut no_tools, 1, llm::extract_json, 1);
    assert_send(&fut);
    let call = client.call("p", &request);
    assert_send(&call);
}
