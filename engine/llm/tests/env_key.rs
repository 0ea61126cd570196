//! Keys are read from the environment variable the config names. The only test in its binary,
//! because changing the environment while other threads read it is unsound.

use llm::{Client, Config, Error, ProviderKind};

const KEY: &str = "sk-test-5ecret-k3y-0123456789";

#[test]
fn keys_come_from_the_named_environment_variable() {
    let mut config = Config::new(ProviderKind::Anthropic, "m");
    config.api_key_env = Some("EVOFLOW_LLM_TEST_KEY".into());
    std::env::remove_var("EVOFLOW_LLM_TEST_KEY");
    let err = Client::new(config.clone()).unwrap_err();
    assert_eq!(err, Error::MissingKey { provider: "anthropic", env: "EVOFLOW_LLM_TEST_KEY".into() });
    assert_eq!(err.to_string(), "anthropic needs an API key: set the environment variable `EVOFLOW_LLM_TEST_KEY`");
    std::env::set_var("EVOFLOW_LLM_TEST_KEY", KEY);
    let client = Client::new(config).unwrap();
    assert!(!format!("{client:?}").contains(KEY));
    assert!(format!("{client:?}").contains("ApiKey([redacted])"));
    std::env::remove_var("EVOFLOW_LLM_TEST_KEY");
    // OpenAI-compatible local servers need no key: its absence is not an error.
    let mut local = Config::new(ProviderKind::Openai, "llama");
    local.api_key_env = Some("EVOFLOW_LLM_TEST_KEY".into());
    assert!(Client::new(local).is_ok());
}
