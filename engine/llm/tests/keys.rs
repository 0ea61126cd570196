//! API keys: sent in each provider's own header, read from the environment, and never found in
//! call records, errors or `Debug` output, even when a server echoes them back.

use std::sync::Arc;

use llm::testing::{ScriptedServer, Turn};
use llm::{ApiKey, Client, Error, MemoryObserver, ProviderKind, Request};

const KEY: &str = "sk-test-5ecret-k3y-0123456789";

#[tokio::test]
async fn each_provider_gets_the_key_in_its_header_and_nowhere_else() {
    let expected = [
        (ProviderKind::Openai, "authorization", format!("Bearer {KEY}")),
        (ProviderKind::Anthropic, "x-api-key", KEY.to_string()),
        (ProviderKind::Gemini, "x-goog-api-key", KEY.to_string()),
    ];
    for (provider, header, value) in expected {
        let echo = format!("invalid key {KEY} for this project");
        let server = ScriptedServer::start(provider, vec![Turn::text("hi"), Turn::error(401, echo)]).await.unwrap();
        let observer = MemoryObserver::new();
        let client = Client::with_key(server.config("m"), Some(ApiKey::new(KEY)))
            .unwrap()
            .with_observer(Arc::new(observer.clone()));
        client.call("p", &Request::new("s", "u")).await.unwrap();
        let err = client.call("p", &Request::new("s", "u")).await.unwrap_err();

        let received = server.received();
        assert_eq!(received[0].headers.get(header), Some(&value), "{provider:?}");
        let key_headers = received[0].headers.values().filter(|v| v.contains(KEY)).count();
        assert_eq!(key_headers, 1, "{provider:?}: the key is in exactly one header");
        assert!(!received[0].path.contains(KEY), "{provider:?}: key in the URL");
        assert!(!received[0].body.to_string().contains(KEY), "{provider:?}: key in the body");
        if provider == ProviderKind::Anthropic {
            assert_eq!(received[0].headers.get("anthropic-version").map(String::as_str), Some("2023-06-01"));
        }

        assert!(matches!(&err, Error::Http { status: 401, message, .. } if message.contains("[redacted]")), "{err:?}");
        for text in [format!("{err}"), format!("{err:?}"), format!("{client:?}"), format!("{:?}", observer.records())] {
            assert!(!text.contains(KEY), "{provider:?}: the key leaked: {text}");
        }
        let journaled = serde_json::to_string(&observer.records()).unwrap();
        assert!(!journaled.contains(KEY), "{provider:?}");
    }
}

#[tokio::test]
async fn a_401_without_a_key_names_the_variable_to_set() {
    let server =
        ScriptedServer::start(ProviderKind::Openai, vec![Turn::error(401, "Missing bearer token")]).await.unwrap();
    let mut config = server.config("m");
    config.api_key_env = Some("EVOFLOW_LLM_UNSET_KEY".into());
    let err = Client::with_key(config, None).unwrap().call("p", &Request::new("", "x")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "openai answered HTTP 401 after 1 attempt(s): Missing bearer token (no API key was sent: `EVOFLOW_LLM_UNSET_KEY` is not set)"
    );
    assert!(!server.received()[0].headers.contains_key("authorization"));
}
