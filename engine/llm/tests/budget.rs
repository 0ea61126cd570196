//! Budgets: once `max_calls` attempts or `max_cost_usd` dollars are used, calls are refused
//! with `Error::Budget`, before anything is sent.

use llm::testing::{ScriptedServer, Turn, INPUT_TOKENS, OUTPUT_TOKENS};
use llm::{
    ask_structured, extract_json, ApiKey, Budget, BudgetExceeded, BudgetTracker, Client, Error, NoTools, ProviderKind,
    Request,
};

#[tokio::test]
async fn max_calls_stops_the_loop_with_the_budget_error() {
    let server = ScriptedServer::start(ProviderKind::Openai, (0..5).map(|i| Turn::text(format!("a{i}"))).collect())
        .await
        .unwrap();
    let budget = BudgetTracker::new(Budget { max_cost_usd: None, max_calls: Some(3) });
    let client = Client::with_key(server.config("m"), None).unwrap().with_budget(budget.clone());
    let mut answers = Vec::new();
    let stop = loop {
        match client.call("p", &Request::new("", "next")).await {
            Ok(r) => answers.push(r.text()),
            Err(e) => break e,
        }
    };
    assert_eq!(answers, ["a0", "a1", "a2"]);
    assert_eq!(stop, Error::Budget(BudgetExceeded::Calls { made: 3, limit: 3 }));
    assert_eq!(stop.to_string(), "LLM budget reached: 3 of max_calls = 3 calls made");
    assert_eq!(server.received().len(), 3, "the refused call was sent");
}

#[tokio::test]
async fn retries_count_against_max_calls() {
    let server = ScriptedServer::start(ProviderKind::Anthropic, vec![Turn::error(500, "x"), Turn::error(500, "y")])
        .await
        .unwrap();
    let budget = BudgetTracker::new(Budget { max_cost_usd: None, max_calls: Some(2) });
    let client =
        Client::with_key(server.config("m"), Some(ApiKey::new("key-abc"))).unwrap().with_budget(budget.clone());
    let err = client.call("p", &Request::new("", "hi")).await.unwrap_err();
    assert_eq!(err, Error::Budget(BudgetExceeded::Calls { made: 2, limit: 2 }));
    assert_eq!(budget.spent().calls, 2);
}

#[tokio::test]
async fn max_cost_is_shared_by_clients_and_stops_a_structured_ask() {
    let server =
        ScriptedServer::start(ProviderKind::Gemini, (0..6).map(|_| Turn::text("not json")).collect()).await.unwrap();
    let mut config = server.config("m");
    // 100 input tokens at $1000/M + 20 output tokens at $5000/M = $0.2 per call.
    config.price_input_per_mtok = 1000.0;
    config.price_output_per_mtok = 5000.0;
    assert_eq!((INPUT_TOKENS, OUTPUT_TOKENS), (100, 20));
    let budget = BudgetTracker::new(Budget { max_cost_usd: Some(0.5), max_calls: None });
    let a = Client::with_key(config.clone(), Some(ApiKey::new("gk-1"))).unwrap().with_budget(budget.clone());
    let b = Client::with_key(config, Some(ApiKey::new("gk-1"))).unwrap().with_budget(budget.clone());
    a.call("p", &Request::new("", "1")).await.unwrap();
    b.call("p", &Request::new("", "2")).await.unwrap();
    assert!((budget.spent().cost_usd - 0.4).abs() < 1e-9, "{:?}", budget.spent());
    // The third call brings the total to $0.6; the repair round is then refused.
    let err = ask_structured(&a, "p", &Request::new("", "3"), &mut NoTools, 2, extract_json, 1).await.unwrap_err();
    match err {
        Error::Budget(BudgetExceeded::Cost { spent, limit }) => {
            assert!((spent - 0.6).abs() < 1e-9 && limit == 0.5, "{spent} {limit}")
        }
        other => panic!("expected the cost budget, got {other:?}"),
    }
    assert_eq!(server.received().len(), 3);
}
