//! Structured answers: a final text that fails validation is sent back once for repair, then
//! the ask fails with `Error::Malformed` (a failed proposal).

use llm::testing::{ScriptedServer, Turn};
use llm::{ask_structured, extract_json, ApiKey, Client, Error, NoTools, ProviderKind, Request, DEFAULT_REPAIRS};
use serde_json::{json, Value};

/// A proposal must be an object with a string `explanation` and an object `delta`.
fn proposal(text: &str) -> Result<Value, String> {
    let value = extract_json(text)?;
    match (&value["explanation"], &value["delta"]) {
        (Value::String(_), Value::Object(_)) => Ok(value),
        _ => Err("expected {\"explanation\": string, \"delta\": object}".to_string()),
    }
}

const GOOD: &str = r#"{"explanation": "lower lr", "delta": {"optimizer": "adam(lr: 0.01)"}}"#;

#[tokio::test]
async fn malformed_json_is_sent_back_for_repair_then_accepted() {
    for provider in [ProviderKind::Openai, ProviderKind::Anthropic, ProviderKind::Gemini] {
        let server =
            ScriptedServer::start(provider, vec![Turn::text("{\"explanation\": \"lower lr\", "), Turn::text(GOOD)])
                .await
                .unwrap();
        let client = Client::with_key(server.config("m"), Some(ApiKey::new("key-xyz"))).unwrap();
        let request = Request::new("Propose a delta.", "Here is the baseline.");
        let answer =
            ask_structured(&client, "optimizer", &request, &mut NoTools, 3, proposal, DEFAULT_REPAIRS).await.unwrap();
        assert_eq!(answer.value["delta"], json!({"optimizer": "adam(lr: 0.01)"}));
        assert_eq!(answer.repairs, 1);
        assert_eq!(answer.conversation.turns, 2);
        assert_eq!(answer.conversation.usage.input_tokens, 200);

        // The second request replays the bad answer and then says what was wrong with it.
        let second = server.received()[1].body.clone();
        let (bad, repair) = match provider {
            ProviderKind::Openai => {
                (second["messages"][2]["content"].clone(), second["messages"][3]["content"].clone())
            }
            ProviderKind::Anthropic => (
                second["messages"][1]["content"][0]["text"].clone(),
                second["messages"][2]["content"][0]["text"].clone(),
            ),
            ProviderKind::Gemini => {
                (second["contents"][1]["parts"][0]["text"].clone(), second["contents"][2]["parts"][0]["text"].clone())
            }
        };
        assert_eq!(bad, json!("{\"explanation\": \"lower lr\", "), "{provider:?}");
        let repair = repair.as_str().unwrap().to_string();
        assert!(repair.starts_with("Your answer could not be used: the answer is not valid JSON"), "{repair}");
    }
}

#[tokio::test]
async fn a_second_malformed_answer_is_a_failed_proposal() {
    let server = ScriptedServer::start(
        ProviderKind::Openai,
        vec![Turn::text("sure! here you go"), Turn::text(r#"{"explanation": "x", "delta": 3}"#), Turn::text(GOOD)],
    )
    .await
    .unwrap();
    let client = Client::with_key(server.config("m"), None).unwrap();
    let err =
        ask_structured(&client, "reward", &Request::new("s", "u"), &mut NoTools, 3, proposal, 1).await.unwrap_err();
    assert_eq!(
        err,
        Error::Malformed {
            message: "expected {\"explanation\": string, \"delta\": object}".into(),
            text: r#"{"explanation": "x", "delta": 3}"#.into(),
            attempts: 2,
        }
    );
    assert_eq!(server.remaining(), 1, "no third attempt after the single repair");
}

#[tokio::test]
async fn zero_repairs_fails_at_once() {
    let server =
        ScriptedServer::start(ProviderKind::Anthropic, vec![Turn::text("nope"), Turn::text(GOOD)]).await.unwrap();
    let client = Client::with_key(server.config("m"), Some(ApiKey::new("k-zero"))).unwrap();
    let err = ask_structured(&client, "p", &Request::new("s", "u"), &mut NoTools, 1, proposal, 0).await.unwrap_err();
    assert!(matches!(err, Error::Malformed { attempts: 1, .. }), "{err:?}");
    assert_eq!(server.received().len(), 1);
}

#[test]
fn json_is_found_in_fences_and_prose() {
    assert_eq!(extract_json("```json\n{\"a\": 1}\n```").unwrap(), json!({"a": 1}));
    assert_eq!(extract_json("Here it is: {\"a\": [1, 2]} hope it helps").unwrap(), json!({"a": [1, 2]}));
    assert_eq!(extract_json("  [1, 2]  ").unwrap(), json!([1, 2]));
    assert_eq!(extract_json("").unwrap_err(), "the answer is empty; a JSON object was expected");
    assert!(extract_json("{\"a\": }").unwrap_err().starts_with("the answer is not valid JSON ("));
}
