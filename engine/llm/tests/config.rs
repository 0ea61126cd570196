//! Settings: TOML with defaults, unknown keys refused, values checked; the retry policy's
//! delays stay within their bounds.

use std::time::Duration;

use llm::retry::{delay, parse_retry_after, retryable_status, MAX_RETRY_AFTER};
use llm::{Budget, Config, ProviderKind};
use proptest::prelude::*;
use rand::SeedableRng;

#[test]
fn a_minimal_table_takes_the_documented_defaults() {
    let config: Config = toml::from_str("provider = \"anthropic\"\nmodel = \"claude-x\"\n").unwrap();
    assert_eq!(config, Config::new(ProviderKind::Anthropic, "claude-x"));
    assert_eq!(config.base_url(), "https://api.anthropic.com");
    assert_eq!(config.api_key_env(), "ANTHROPIC_API_KEY");
    assert_eq!((config.timeout_secs, config.max_retries, config.max_tokens), (120.0, 3, 4096));
    assert_eq!(llm::providers::endpoint(&config), "https://api.anthropic.com/v1/messages");
    let gemini = Config::new(ProviderKind::Gemini, "gemini-x");
    assert_eq!(
        llm::providers::endpoint(&gemini),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-x:generateContent"
    );
    let mut local = Config::new(ProviderKind::Openai, "qwen");
    local.base_url = Some("http://127.0.0.1:8000/v1/".into());
    assert_eq!(llm::providers::endpoint(&local), "http://127.0.0.1:8000/v1/chat/completions");
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    let err = toml::from_str::<Config>("provider = \"openai\"\nmodel = \"m\"\napi_key = \"sk-...\"\n").unwrap_err();
    assert!(err.to_string().contains("unknown field `api_key`"), "{err}");
    let err = toml::from_str::<Config>("provider = \"mistral\"\nmodel = \"m\"\n").unwrap_err();
    assert!(err.to_string().contains("unknown variant `mistral`"), "{err}");
    let err = toml::from_str::<Budget>("max_cost = 3\n").unwrap_err();
    assert!(err.to_string().contains("unknown field `max_cost`"), "{err}");
    let mut config = Config::new(ProviderKind::Openai, "m");
    config.timeout_secs = 0.0;
    assert_eq!(config.validate().unwrap_err(), "`timeout_secs` must be a positive number of seconds, not 0");
    config.timeout_secs = 1.0;
    config.base_url = Some("localhost:8000".into());
    assert_eq!(config.validate().unwrap_err(), "`base_url` must start with http:// or https://, not `localhost:8000`");
    assert!(matches!(llm::Client::with_key(config, None), Err(llm::Error::Config(_))));
}

#[test]
fn cost_follows_the_prices_per_million_tokens() {
    let mut config = Config::new(ProviderKind::Openai, "m");
    config.price_input_per_mtok = 3.0;
    config.price_output_per_mtok = 15.0;
    let cost = config.cost_usd(llm::Usage { input_tokens: 2_000_000, output_tokens: 100_000 });
    assert!((cost - 7.5).abs() < 1e-12, "{cost}");
}

#[test]
fn only_rate_limits_timeouts_and_server_errors_are_retried() {
    let retried: Vec<u16> = (100..600).filter(|&s| retryable_status(s)).collect();
    assert_eq!(retried.len(), 102);
    assert!(retried.contains(&429) && retried.contains(&408) && retried.contains(&500) && retried.contains(&529));
    assert!(!retried.contains(&400) && !retried.contains(&401) && !retried.contains(&404));
}

#[test]
fn retry_after_headers_are_read() {
    assert_eq!(parse_retry_after(None, Some("2")), Some(Duration::from_secs(2)));
    assert_eq!(parse_retry_after(Some("150"), Some("2")), Some(Duration::from_millis(150)));
    assert_eq!(parse_retry_after(None, Some("86400")), Some(MAX_RETRY_AFTER));
    assert_eq!(parse_retry_after(None, Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    assert_eq!(parse_retry_after(None, Some("-1")), None);
}

proptest! {
    #[test]
    fn backoff_stays_between_half_and_all_of_the_capped_exponential(
        retry in 0u32..40, base_ms in 1u64..2_000, max_ms in 1u64..60_000, seed: u64,
    ) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let base = Duration::from_millis(base_ms);
        let max = Duration::from_millis(max_ms);
        let cap = base.saturating_mul(2u32.saturating_pow(retry)).min(max);
        let d = delay(retry, base, max, None, &mut rng);
        prop_assert!(d <= cap && d >= cap / 2, "{d:?} outside [{:?}, {cap:?}]", cap / 2);
    }

    #[test]
    fn a_servers_retry_after_wins_up_to_the_cap(secs in 0u64..1_000, seed: u64) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let wait = Duration::from_secs(secs);
        let d = delay(3, Duration::from_millis(10), Duration::from_millis(20), Some(wait), &mut rng);
        prop_assert_eq!(d, wait.min(MAX_RETRY_AFTER));
    }
}
