//! Retries: 429 (honouring Retry-After) and 5xx are retried, other 4xx never, timeouts and
//! connection errors are retried and then fail clearly; every attempt is recorded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use llm::testing::{ScriptedServer, Turn};
use llm::{ApiKey, CallStatus, Client, Error, MemoryObserver, ProviderKind, Request};

fn ask() -> Request {
    Request::new("sys", "hello")
}

async fn client_for(server: &ScriptedServer, max_retries: u32) -> (Client, MemoryObserver) {
    let mut config = server.config("m");
    config.max_retries = max_retries;
    let observer = MemoryObserver::new();
    let client =
        Client::with_key(config, Some(ApiKey::new("retry-key"))).unwrap().with_observer(Arc::new(observer.clone()));
    (client, observer)
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_succeeds() {
    for provider in [ProviderKind::Openai, ProviderKind::Anthropic, ProviderKind::Gemini] {
        let server = ScriptedServer::start(provider, vec![Turn::rate_limited(1), Turn::text("ok")]).await.unwrap();
        let (client, observer) = client_for(&server, 2).await;
        let started = Instant::now();
        let response = client.call("p", &ask()).await.unwrap();
        // The backoff alone would be 10-50 ms; only Retry-After explains a one-second wait.
        assert!(started.elapsed() >= Duration::from_secs(1), "{provider:?}: {:?}", started.elapsed());
        assert_eq!(response.text(), "ok");
        let records = observer.records();
        assert_eq!(records.len(), 2);
        assert_eq!(
            (records[0].status, records[0].http_status, records[0].attempt),
            (CallStatus::Retrying, Some(429), 1)
        );
        assert!(records[0].error.as_deref().unwrap().contains("rate limit reached"), "{:?}", records[0].error);
        assert_eq!((records[1].status, records[1].attempt), (CallStatus::Ok, 2));
    }
}

#[tokio::test]
async fn a_500_is_retried_then_succeeds() {
    let server =
        ScriptedServer::start(ProviderKind::Anthropic, vec![Turn::error(500, "overloaded"), Turn::text("fine")])
            .await
            .unwrap();
    let (client, observer) = client_for(&server, 1).await;
    assert_eq!(client.call("p", &ask()).await.unwrap().text(), "fine");
    assert_eq!(server.received().len(), 2);
    assert_eq!(observer.records()[0].status, CallStatus::Retrying);
}

#[tokio::test]
async fn server_errors_past_the_retries_fail_with_the_last_status() {
    let server =
        ScriptedServer::start(ProviderKind::Openai, vec![Turn::error(503, "down"), Turn::error(502, "still down")])
            .await
            .unwrap();
    let (client, observer) = client_for(&server, 1).await;
    let err = client.call("p", &ask()).await.unwrap_err();
    assert_eq!(err, Error::Http { provider: "openai", status: 502, message: "still down".into(), attempts: 2 });
    assert_eq!(err.to_string(), "openai answered HTTP 502 after 2 attempt(s): still down");
    assert_eq!(observer.records()[1].status, CallStatus::Failed);
}

#[tokio::test]
async fn a_400_is_not_retried_and_carries_the_providers_message() {
    for provider in [ProviderKind::Openai, ProviderKind::Anthropic, ProviderKind::Gemini] {
        let server =
            ScriptedServer::start(provider, vec![Turn::error(400, "max_tokens: too large"), Turn::text("never")])
                .await
                .unwrap();
        let (client, observer) = client_for(&server, 3).await;
        let err = client.call("p", &ask()).await.unwrap_err();
        assert_eq!(
            err,
            Error::Http {
                provider: provider.name(),
                status: 400,
                message: "max_tokens: too large".into(),
                attempts: 1
            }
        );
        assert_eq!(server.received().len(), 1, "{provider:?} retried a 400");
        assert_eq!(server.remaining(), 1);
        let records = observer.records();
        assert_eq!((records.len(), records[0].status), (1, CallStatus::Failed));
    }
}

#[tokio::test]
async fn a_timeout_is_retried_then_fails_clearly() {
    let slow = || Turn::slow(Duration::from_millis(1500), Turn::text("too late"));
    let server = ScriptedServer::start(ProviderKind::Gemini, vec![slow(), slow()]).await.unwrap();
    let mut config = server.config("m");
    config.timeout_secs = 0.2;
    config.max_retries = 1;
    let observer = MemoryObserver::new();
    let client =
        Client::with_key(config, Some(ApiKey::new("k1234"))).unwrap().with_observer(Arc::new(observer.clone()));
    let started = Instant::now();
    let err = client.call("p", &ask()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "the client waited for the server: {:?}",
        started.elapsed()
    );
    assert_eq!(err, Error::Timeout { provider: "gemini", after: Duration::from_millis(200), attempts: 2 });
    assert_eq!(err.to_string(), "gemini did not answer within 0.2s, 2 attempt(s)");
    assert_eq!(server.received().len(), 2);
    let records = observer.records();
    assert_eq!(records.iter().map(|r| r.status).collect::<Vec<_>>(), [CallStatus::Retrying, CallStatus::Failed]);
    assert!(records.iter().all(|r| r.latency_ms >= 200), "{records:?}");
}

#[tokio::test]
async fn a_slow_first_answer_then_a_quick_one_succeeds() {
    let server = ScriptedServer::start(
        ProviderKind::Openai,
        vec![Turn::slow(Duration::from_millis(800), Turn::text("late")), Turn::text("quick")],
    )
    .await
    .unwrap();
    let mut config = server.config("m");
    config.timeout_secs = 0.2;
    let client = Client::with_key(config, None).unwrap();
    assert_eq!(client.call("p", &ask()).await.unwrap().text(), "quick");
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_named() {
    // Bind then drop a listener: the port is free, so connecting is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = llm::Config::new(ProviderKind::Openai, "m");
    config.base_url = Some(format!("http://127.0.0.1:{port}/v1"));
    config.max_retries = 2;
    config.retry_base_ms = 1;
    let observer = MemoryObserver::new();
    let client = Client::with_key(config, None).unwrap().with_observer(Arc::new(observer.clone()));
    let err = client.call("p", &ask()).await.unwrap_err();
    match &err {
        Error::Connect { provider: "openai", url, attempts: 3, .. } => {
            assert_eq!(url, &format!("http://127.0.0.1:{port}/v1/chat/completions"))
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    assert!(err.to_string().starts_with("cannot reach openai at http://127.0.0.1:"), "{err}");
    assert_eq!(observer.records().len(), 3);
}

#[tokio::test]
async fn a_success_that_is_not_the_providers_format_is_a_bad_response() {
    let server = ScriptedServer::start(
        ProviderKind::Anthropic,
        vec![Turn::Raw { status: 200, body: "<html>proxy login</html>".into() }, Turn::text("unused")],
    )
    .await
    .unwrap();
    let (client, _) = client_for(&server, 3).await;
    let err = client.call("p", &ask()).await.unwrap_err();
    assert!(
        matches!(&err, Error::BadResponse { provider: "anthropic", message } if message.contains("not JSON")),
        "{err:?}"
    );
    assert_eq!(server.received().len(), 1);
}
