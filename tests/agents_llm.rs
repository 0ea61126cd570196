//! The LLM agent inside the fast loop, end to end: `evoflow run` talks to a scripted server on
//! 127.0.0.1 (the real client, the real wire formats), the reward persona queries the logs with
//! `run_sql_query` and proposes reward deltas, and everything lands in the journal: proposals
//! verified and trained, a malformed answer repaired, a 429 retried, an out-of-scope edit
//! rejected with its reason, a budget that stops the loop cleanly, and no API key anywhere.
//! OpenAI, Anthropic and Gemini each carry a tool's result back in their own wire format.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use llm::testing::{Received, ScriptedServer, Turn};
use llm::ProviderKind;
use serde_json::{json, Value};
use support::Dir;

/// The key the child process gets; it must reach the server and never the journal.
const KEY: &str = "sk-evoflow-test-4242-do-not-journal";
const KEY_ENV: &str = "EVOFLOW_TEST_LLM_KEY";

/// A small world whose fast loop runs the reward persona only.
fn workflow(explore: usize, rounds: usize, online: bool) -> String {
    let slow = if online {
        "let slow = online(\n  candidates: top(fast, k: 1),\n  env: satisfaction(users: 200, items: 60, seed: 3),\n  \
         primary: return_rate,\n  days: 2,\n  traffic: 20%,\n)\n"
    } else {
        ""
    };
    format!(
        r#"
use std::sim::{{logs, satisfaction}}
use std::data::{{random_split}}
use std::personas::{{reward}}
use std::loops::{{offline, top, online}}

dataset events = logs(users: 200, items: 60, days: 2, seed: 3)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 3)

model mf {{
  input user: id, item: id
  score = dot(embed(user, 8), embed(item, 8))
}}

reward watched(e: events) -> float {{
  if e.click {{ 1.0 + 0.1 * log1p(e.watch_seconds) }} else {{ 0.0 }}
}}

optimizer opt = adam(lr: 0.01)

let fast = offline(
  baseline: {{ model: mf, optimizer: opt, reward: watched }},
  data: split,
  personas: [reward],
  quota: {{ explore: {explore}, exploit: 0, innovate: 0 }},
  rounds: {rounds},
  budget: 4,
  epochs: 1,
  seed: 3,
)
{slow}"#
    )
}

/// `evoflow.toml` pointing the agents at `server`, with a per-attempt timeout and `tail`
/// appended (a `[budget]` table).
fn config(server: &ScriptedServer, provider: &str, timeout_secs: f64, tail: &str) -> String {
    format!(
        "[llm]\nprovider = \"{provider}\"\nmodel = \"scripted-model\"\nbase_url = \"{}\"\napi_key_env = \"{KEY_ENV}\"\n\
         timeout_secs = {timeout_secs:?}\nmax_retries = 2\nretry_base_ms = 10\nretry_max_ms = 50\n\
         price_input_per_mtok = 2.0\nprice_output_per_mtok = 8.0\n{tail}",
        server.base_url()
    )
}

/// `evoflow run w.evo` with the key in the environment; the server keeps answering on the
/// runtime's other workers while this thread waits for the child.
fn run(dir: &Dir) {
    let out = tokio::task::block_in_place(|| {
        Command::new(env!("CARGO_BIN_EXE_evoflow"))
            .args(["run", "w.evo", "-q"])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env(KEY_ENV, KEY)
            .output()
            .unwrap()
    });
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "evoflow run failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
}

fn sql(dir: &Dir, query: &str) -> Vec<Value> {
    let out = dir.status(["journal", "w.evo", "--format", "json", "--sql", query], 0);
    serde_json::from_str::<Value>(&out.stdout).unwrap()["rows"].as_array().cloned().unwrap_or_default()
}

/// A proposal as the model writes it.
fn proposal(block: &str, source: &str) -> Value {
    json!({
        "kind": "explore",
        "explanation": format!("rewrite `{block}` from what the logs show"),
        "delta": {"op": "replace", "block": block, "source": source},
    })
}

/// A reward that also counts likes: in scope for the reward persona, and it compiles.
const LIKED_REWARD: &str = "reward watched(e: events) -> float {\n  let liked = if e.like { 1.0 } else { 0.0 }\n  \
                            if e.click { 1.0 + 0.1 * log1p(e.watch_seconds) + liked } else { 0.0 }\n}";
/// A model rewrite: a valid block, but not the reward persona's to edit.
const WIDER_MODEL: &str = "model mf {\n  input user: id, item: id\n  score = dot(embed(user, 32), embed(item, 32))\n}";

/// The SQL the scripted model runs over the logs.
const LOG_QUERY: &str = "SELECT count(*) AS n, avg(CASE WHEN \"like\" THEN 1.0 ELSE 0.0 END) AS like_rate FROM logs";

/// Every byte the run left on disk, as text: a key must be in none of it.
fn every_file(root: &Path, into: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            every_file(&path, into);
        } else if let Ok(bytes) = std::fs::read(&path) {
            into.push((path.display().to_string(), bytes));
        }
    }
}

fn assert_key_nowhere(dir: &Dir) {
    // The journal's text columns, read back through SQL (DuckDB may compress what is on disk).
    let leaked = sql(
        dir,
        &format!(
            "SELECT count(*) FROM llm_calls WHERE prompt LIKE '%{KEY}%' OR response LIKE '%{KEY}%' \
             OR coalesce(error, '') LIKE '%{KEY}%' OR CAST(tool_calls AS VARCHAR) LIKE '%{KEY}%'"
        ),
    );
    assert_eq!(leaked[0][0], 0, "the API key is in llm_calls");
    let mut files = Vec::new();
    every_file(dir.path(), &mut files);
    for (path, bytes) in files {
        let found = bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes());
        assert!(!found, "the API key is in {path}");
    }
}

/// The request bodies, for failure messages.
fn bodies(received: &[Received]) -> Vec<Value> {
    received.iter().map(|r| r.body.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reward_persona_queries_the_logs_is_repaired_retried_and_journaled_over_openai() {
    let server = ScriptedServer::start(
        ProviderKind::Openai,
        vec![
            Turn::rate_limited(0),
            Turn::tool_call("call_sql_1", "run_sql_query", json!({ "sql": LOG_QUERY })),
            Turn::text("Likes look rare, so I would weight them more. (no JSON here)"),
            Turn::text(json!([proposal("watched", LIKED_REWARD), proposal("mf", WIDER_MODEL)]).to_string()),
        ],
    )
    .await
    .unwrap();
    let dir = Dir::new();
    dir.file("w.evo", &workflow(2, 1, true));
    dir.file("evoflow.toml", &config(&server, "openai", 20.0, ""));
    run(&dir);
    assert_eq!(server.remaining(), 0, "the script was not played to its end");

    // What the server saw: the key in the header, the tool's result in the next request as an
    // OpenAI `tool` message, and the parser's diagnostic in the repair request.
    let received = server.received();
    assert_eq!(received.len(), 4, "{:#?}", bodies(&received));
    for r in &received {
        assert_eq!(r.path, "/v1/chat/completions");
        assert_eq!(r.headers.get("authorization").map(String::as_str), Some(format!("Bearer {KEY}").as_str()));
        assert_eq!(r.body["model"], "scripted-model");
    }
    let tools: Vec<&str> =
        received[0].body["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(tools, ["run_sql_query", "compute_eval"]);
    let prompt = received[0].body["messages"].to_string();
    assert!(prompt.contains("reward watched(e: events)"), "the baseline is not in the prompt: {prompt}");
    let after_tool = received[2].body["messages"].as_array().unwrap();
    let tool_message = after_tool.iter().find(|m| m["role"] == "tool").expect("no tool message");
    assert_eq!(tool_message["tool_call_id"], "call_sql_1");
    let table = tool_message["content"].as_str().unwrap();
    assert!(table.contains("like_rate") && table.contains('n'), "{table}");
    let repair = received[3].body["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(repair["role"], "user");
    assert!(repair["content"].as_str().unwrap().contains("the reply holds no JSON"), "{repair}");

    // The journal: one LLM-proposed reward trained and scored, the model edit rejected with why.
    let llm = sql(
        &dir,
        "SELECT persona, status, offline_score, reason FROM experiments WHERE operator = 'llm' ORDER BY status",
    );
    assert_eq!(llm.len(), 2, "{llm:?}");
    let (rejected, trained) = (&llm[0], &llm[1]);
    assert_eq!(trained[0], "reward");
    assert_eq!(trained[1], "trained", "{trained:?}");
    assert!(trained[2].as_f64().is_some(), "{trained:?}");
    assert_eq!(rejected[1], "rejected", "{rejected:?}");
    let reason = rejected[3].as_str().unwrap();
    assert!(reason.contains("out of scope") && reason.contains("`reward` persona"), "{reason}");

    // Every HTTP attempt, the 429 included, with its tokens, latency and cost.
    let calls = sql(
        &dir,
        "SELECT status, input_tokens, output_tokens, latency_ms, cost_usd, persona, provider FROM llm_calls ORDER BY id",
    );
    let statuses: Vec<&str> = calls.iter().map(|c| c[0].as_str().unwrap()).collect();
    assert_eq!(statuses, ["retrying", "ok", "ok", "ok"], "{calls:?}");
    for c in &calls[1..] {
        assert_eq!((c[1].as_i64(), c[2].as_i64()), (Some(100), Some(20)), "{c:?}");
        assert!(c[3].as_i64().unwrap() >= 0, "{c:?}");
        assert!((c[4].as_f64().unwrap() - (100.0 * 2.0 + 20.0 * 8.0) / 1e6).abs() < 1e-12, "{c:?}");
        assert_eq!((c[5].as_str(), c[6].as_str()), (Some("reward"), Some("openai")));
    }
    let tool_calls = sql(&dir, "SELECT tool, args->>'sql', result, status FROM tool_calls ORDER BY id");
    assert_eq!(tool_calls.len(), 1, "{tool_calls:?}");
    assert_eq!(tool_calls[0][0], "run_sql_query");
    assert_eq!(tool_calls[0][1], LOG_QUERY);
    assert_eq!(tool_calls[0][2].as_str(), Some(table));
    assert_eq!(tool_calls[0][3], "ok");

    // The LLM's candidate went on to the slow loop like any other.
    let decisions = sql(&dir, "SELECT count(*) FROM decisions");
    assert_eq!(decisions[0][0], 1);
    assert_key_nowhere(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_anthropic_tools_run_refusals_come_back_as_errors_and_a_timeout_is_retried() {
    let refused = "DELETE FROM experiments";
    let server = ScriptedServer::start(
        ProviderKind::Anthropic,
        vec![
            // Longer than the client's timeout: the attempt is abandoned and retried.
            Turn::slow(Duration::from_secs(3), Turn::text("too late")),
            Turn::tool_call("toolu_del", "run_sql_query", json!({ "sql": refused })),
            Turn::tool_call("toolu_sql", "run_sql_query", json!({ "sql": LOG_QUERY })),
            Turn::tool_call(
                "toolu_eval",
                "compute_eval",
                json!({ "delta": {"op": "replace", "block": "watched", "source": LIKED_REWARD} }),
            ),
            Turn::text(format!("```json\n{}\n```", json!([proposal("watched", LIKED_REWARD)]))),
        ],
    )
    .await
    .unwrap();
    let dir = Dir::new();
    dir.file("w.evo", &workflow(1, 1, false));
    dir.file("evoflow.toml", &config(&server, "anthropic", 1.0, ""));
    run(&dir);
    assert_eq!(server.remaining(), 0, "the script was not played to its end");

    let received = server.received();
    assert_eq!(received.len(), 5, "{:#?}", bodies(&received));
    for r in &received {
        assert_eq!(r.path, "/v1/messages");
        assert_eq!(r.headers.get("x-api-key").map(String::as_str), Some(KEY));
        assert!(r.headers.contains_key("anthropic-version"));
    }
    let tools: Vec<&str> =
        received[0].body["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tools, ["run_sql_query", "compute_eval"]);
    // Each tool's result arrives in the next request: the assistant's `tool_use`, then a user
    // turn holding the matching `tool_result` block.
    let result_of = |request: usize, id: &str| -> Value {
        let messages = received[request].body["messages"].as_array().unwrap();
        let assistant = &messages[messages.len() - 2];
        assert_eq!(assistant["role"], "assistant");
        assert!(assistant["content"].to_string().contains(&format!("\"id\":\"{id}\"")), "{assistant}");
        let last = messages.last().unwrap();
        assert_eq!(last["role"], "user");
        let block = last["content"][0].clone();
        assert_eq!(block["type"], "tool_result");
        assert_eq!(block["tool_use_id"], id);
        block
    };
    let refusal = result_of(2, "toolu_del");
    assert_eq!(refusal["is_error"], true, "{refusal}");
    assert!(refusal["content"].to_string().to_lowercase().contains("read"), "{refusal}");
    let table = result_of(3, "toolu_sql");
    assert!(table["content"].to_string().contains("like_rate"), "{table}");
    let eval = result_of(4, "toolu_eval");
    assert!(eval["content"].as_str().unwrap().starts_with("ndcg@10 "), "{eval}");

    let llm = sql(&dir, "SELECT persona, status FROM experiments WHERE operator = 'llm'");
    assert_eq!(llm, vec![json!(["reward", "trained"])]);
    // The refused DELETE changed nothing: the baseline and the candidate are both still there.
    assert_eq!(sql(&dir, "SELECT count(*) FROM experiments")[0][0], 2);
    let calls = sql(&dir, "SELECT provider, status, input_tokens, output_tokens FROM llm_calls ORDER BY id");
    assert_eq!(calls.len(), 5, "{calls:?}");
    assert_eq!(calls[0][1], "retrying", "the timed-out attempt: {calls:?}");
    for c in &calls[1..] {
        assert_eq!(c, &json!(["anthropic", "ok", 100, 20]));
    }
    let tool_calls = sql(&dir, "SELECT tool, error IS NOT NULL, result FROM tool_calls ORDER BY id");
    assert_eq!(tool_calls.len(), 3, "{tool_calls:?}");
    assert_eq!((&tool_calls[0][0], &tool_calls[0][1]), (&json!("run_sql_query"), &json!(true)));
    assert_eq!((&tool_calls[1][0], &tool_calls[1][1]), (&json!("run_sql_query"), &json!(false)));
    assert_eq!((&tool_calls[2][0], &tool_calls[2][1]), (&json!("compute_eval"), &json!(false)));
    assert_eq!(tool_calls[2][2], eval["content"]);
    assert_key_nowhere(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_round_sees_the_last_query_and_the_journal_and_a_spent_budget_stops_the_loop() {
    // Three rounds; the calls budget holds the first two rounds' three calls only.
    let shared = "reward watched(e: events) -> float {\n  let shared = if e.share { 2.0 } else { 0.0 }\n  \
                  if e.click { 1.0 + 0.1 * log1p(e.watch_seconds) + shared } else { 0.0 }\n}";
    let server = ScriptedServer::start(
        ProviderKind::Openai,
        vec![
            Turn::tool_call("call_sql_1", "run_sql_query", json!({ "sql": LOG_QUERY })),
            Turn::text(json!([proposal("watched", LIKED_REWARD)]).to_string()),
            Turn::text(json!([proposal("watched", shared)]).to_string()),
        ],
    )
    .await
    .unwrap();
    let dir = Dir::new();
    dir.file("w.evo", &workflow(1, 3, false));
    dir.file("evoflow.toml", &config(&server, "openai", 20.0, "\n[budget]\nmax_calls = 3\n"));
    run(&dir);

    let received = server.received();
    assert_eq!(received.len(), 3, "a call went out past the budget");
    // Round 2's prompt carries round 1's query result and its trained candidate.
    let prompt = received[2].body["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("# Recent query results") && prompt.contains(LOG_QUERY), "{prompt}");
    assert!(prompt.contains("like_rate"), "{prompt}");
    assert!(prompt.contains("# Experiment journal") && prompt.contains("[reward/explore]"), "{prompt}");

    let rows = sql(&dir, "SELECT round, status, reason FROM experiments WHERE operator = 'llm' ORDER BY round");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!((rows[0][0].as_i64(), rows[0][1].as_str()), (Some(1), Some("trained")), "{rows:?}");
    assert_eq!((rows[1][0].as_i64(), rows[1][1].as_str()), (Some(2), Some("trained")), "{rows:?}");
    assert_eq!((rows[2][0].as_i64(), rows[2][1].as_str()), (Some(3), Some("failed")), "{rows:?}");
    let reason = rows[2][2].as_str().unwrap();
    assert!(reason.starts_with("llm: LLM budget reached") && reason.contains("max_calls = 3"), "{reason}");
    assert_eq!(sql(&dir, "SELECT count(*) FROM llm_calls WHERE status = 'ok'")[0][0], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_only_edits_other_blocks_is_sent_back_once_then_counts_as_failed() {
    let server = ScriptedServer::start(
        ProviderKind::Openai,
        vec![
            Turn::text(json!([proposal("mf", WIDER_MODEL)]).to_string()),
            Turn::text(json!([proposal("opt", "optimizer opt = sgd(lr: 0.1)")]).to_string()),
        ],
    )
    .await
    .unwrap();
    let dir = Dir::new();
    dir.file("w.evo", &workflow(1, 1, false));
    dir.file("evoflow.toml", &config(&server, "openai", 20.0, ""));
    run(&dir);

    let received = server.received();
    assert_eq!(received.len(), 2, "{:#?}", bodies(&received));
    let repair = received[1].body["messages"].as_array().unwrap().last().unwrap()["content"].to_string();
    assert!(repair.contains("no proposal verified") && repair.contains("out of scope"), "{repair}");
    assert!(repair.contains("`mf` is a model block"), "{repair}");

    let rows = sql(&dir, "SELECT status, reason FROM experiments WHERE operator = 'llm'");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0], "failed");
    let reason = rows[0][1].as_str().unwrap();
    assert!(
        reason.contains("malformed after 2 attempt(s)") && reason.contains("`opt` is an optimizer block"),
        "{reason}"
    );
    // Nothing was trained besides the baseline.
    assert_eq!(sql(&dir, "SELECT count(*) FROM experiments WHERE status = 'trained'")[0][0], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_gemini_the_tool_result_comes_back_as_a_function_response() {
    let server = ScriptedServer::start(
        ProviderKind::Gemini,
        vec![
            Turn::tool_call("unused-by-gemini", "run_sql_query", json!({ "sql": LOG_QUERY })),
            Turn::text(json!({"proposals": [proposal("watched", LIKED_REWARD)]}).to_string()),
        ],
    )
    .await
    .unwrap();
    let dir = Dir::new();
    dir.file("w.evo", &workflow(1, 1, false));
    dir.file("evoflow.toml", &config(&server, "gemini", 20.0, ""));
    run(&dir);

    let received = server.received();
    assert_eq!(received.len(), 2, "{:#?}", bodies(&received));
    for r in &received {
        assert_eq!(r.path, "/v1beta/models/scripted-model:generateContent");
        assert_eq!(r.headers.get("x-goog-api-key").map(String::as_str), Some(KEY));
    }
    let contents = received[1].body["contents"].as_array().unwrap();
    let part = &contents.last().unwrap()["parts"][0]["functionResponse"];
    assert_eq!(part["name"], "run_sql_query", "{contents:?}");
    assert!(part["response"]["result"].as_str().unwrap().contains("like_rate"), "{part}");
    let llm = sql(&dir, "SELECT persona, status FROM experiments WHERE operator = 'llm'");
    assert_eq!(llm, vec![json!(["reward", "trained"])]);
    assert_key_nowhere(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_needs_a_key_without_one_fails_the_loop_naming_the_variable() {
    let server = ScriptedServer::start(ProviderKind::Anthropic, vec![]).await.unwrap();
    let dir = Dir::new();
    dir.file("w.evo", &workflow(1, 1, false));
    dir.file("evoflow.toml", &config(&server, "anthropic", 20.0, ""));
    // `run` sets the key; this run goes without it (and without `-q`, which prints nothing).
    let out = tokio::task::block_in_place(|| dir.run(["run", "w.evo"]));
    assert_eq!(out.status, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(&format!("set the environment variable `{KEY_ENV}`")), "{}", out.stderr);
    assert!(server.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_another_model_reruns_the_loop_and_the_same_model_reuses_it() {
    let shared = "reward watched(e: events) -> float {\n  let shared = if e.share { 2.0 } else { 0.0 }\n  \
                  if e.click { 1.0 + 0.1 * log1p(e.watch_seconds) + shared } else { 0.0 }\n}";
    let server = ScriptedServer::start(
        ProviderKind::Openai,
        vec![
            Turn::text(json!([proposal("watched", LIKED_REWARD)]).to_string()),
            Turn::text(json!([proposal("watched", shared)]).to_string()),
        ],
    )
    .await
    .unwrap();
    let dir = Dir::new();
    dir.file("w.evo", &workflow(1, 1, false));
    dir.file("evoflow.toml", &config(&server, "openai", 20.0, ""));
    run(&dir);
    run(&dir);
    assert_eq!(server.received().len(), 1, "the same model: the loop is cached");
    dir.file("evoflow.toml", &config(&server, "openai", 20.0, "").replace("scripted-model", "scripted-model-2"));
    run(&dir);
    let received = server.received();
    assert_eq!(received.len(), 2, "{:#?}", bodies(&received));
    assert_eq!(received[1].body["model"], "scripted-model-2");
}

/// The optimizer and architecture personas of the stdlib, and one of the workflow's own that
/// reads the journal, under an LLM.
const THREE_PERSONAS: &str = r#"
use std::sim::{logs}
use std::data::{random_split}
use std::personas::{optimizer, architecture}
use std::loops::{offline}

dataset events = logs(users: 200, items: 60, days: 2, seed: 3)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 3)

model mf {
  input user: id, item: id
  score = dot(embed(user, 8), embed(item, 8))
}

optimizer opt = adam(lr: 0.01)

persona historian {
  description: "Reads what was tried before and widens the model."
  edits: model
  tools: [read_journal]
  prompt: "Widen the model; read the journal first."
}

let fast = offline(
  baseline: { model: mf, optimizer: opt },
  data: split,
  personas: [optimizer, architecture, historian],
  quota: { explore: 1, exploit: 0, innovate: 0 },
  budget: 3,
  epochs: 1,
  seed: 3,
)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimizer_and_architecture_personas_probe_the_loss_and_read_the_journal_under_an_llm() {
    let faster = "optimizer opt = adam(lr: 0.03)";
    let wider = "model mf {\n  input user: id, item: id\n  score = dot(embed(user, 16), embed(item, 16))\n}";
    let widest = "model mf {\n  input user: id, item: id\n  score = dot(embed(user, 24), embed(item, 24))\n}";
    let server = ScriptedServer::start(
        ProviderKind::Openai,
        vec![
            // optimizer: probes a learning rate with compute_loss, then proposes it.
            Turn::tool_call(
                "call_loss",
                "compute_loss",
                json!({ "delta": { "op": "replace", "block": "opt", "source": faster } }),
            ),
            Turn::text(json!([proposal("opt", faster)]).to_string()),
            // architecture: proposes a wider model at once.
            Turn::text(json!([proposal("mf", wider)]).to_string()),
            // historian: reads the journal's best, then proposes wider still.
            Turn::tool_call("call_journal", "read_journal", json!({ "top": 3 })),
            Turn::text(json!([proposal("mf", widest)]).to_string()),
        ],
    )
    .await
    .unwrap();
    let dir = Dir::new();
    dir.file("w.evo", THREE_PERSONAS);
    dir.file("evoflow.toml", &config(&server, "openai", 20.0, ""));
    run(&dir);
    assert_eq!(server.remaining(), 0, "the script was not played to its end");

    let received = server.received();
    let offered = |k: usize| -> Vec<String> {
        received[k].body["tools"]
            .as_array()
            .map(|t| t.iter().map(|t| t["function"]["name"].as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    assert_eq!(offered(0), ["compute_loss"], "the optimizer persona's tools");
    assert_eq!(offered(3), ["read_journal"], "the historian's tools");
    let loss = received[1].body["messages"].as_array().unwrap().iter().find(|m| m["role"] == "tool").unwrap().clone();
    assert!(loss["content"].as_str().unwrap().contains("valid_loss"), "{loss}");
    let journal =
        received[4].body["messages"].as_array().unwrap().iter().find(|m| m["role"] == "tool").unwrap().clone();
    assert!(journal["content"].as_str().unwrap().contains("baseline"), "the journal holds the baseline: {journal}");

    let tools = sql(&dir, "SELECT tool, status FROM tool_calls ORDER BY id");
    assert_eq!(tools, vec![json!(["compute_loss", "ok"]), json!(["read_journal", "ok"])], "{tools:?}");
    // Every call is linked to the experiment its request produced.
    let linked = sql(
        &dir,
        "SELECT e.persona, (SELECT count(*) FROM llm_calls c WHERE c.experiment_id = e.id), \
                (SELECT list(t.tool) FROM tool_calls t WHERE t.experiment_id = e.id) \
         FROM experiments e WHERE e.operator = 'llm' ORDER BY e.id",
    );
    assert_eq!(
        linked,
        vec![
            json!(["optimizer", 2, ["compute_loss"]]),
            json!(["architecture", 1, null]),
            json!(["historian", 2, ["read_journal"]])
        ],
        "{linked:?}"
    );
    assert_eq!(sql(&dir, "SELECT count(*) FROM llm_calls WHERE experiment_id IS NULL")[0][0], 0);
    let trained = sql(&dir, "SELECT persona, status FROM experiments WHERE operator = 'llm' ORDER BY id");
    assert_eq!(
        trained,
        vec![json!(["optimizer", "trained"]), json!(["architecture", "trained"]), json!(["historian", "trained"])],
        "{trained:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_with_a_judge_tells_the_persona_what_its_candidates_are_scored_against() {
    let server = ScriptedServer::start(
        ProviderKind::Openai,
        vec![Turn::text(json!([proposal("watched", LIKED_REWARD)]).to_string())],
    )
    .await
    .unwrap();
    let dir = Dir::new();
    let judged = workflow(1, 1, false)
        .replace(
            "optimizer opt = adam(lr: 0.01)",
            "reward satisfied(e: events) -> float {\n  if e.like { 1.0 } else { 0.0 }\n}\n\noptimizer opt = adam(lr: 0.01)",
        )
        .replace("  seed: 3,\n)", "  seed: 3,\n  judge: satisfied,\n)");
    assert!(judged.contains("judge: satisfied"), "{judged}");
    dir.file("w.evo", &judged);
    dir.file("evoflow.toml", &config(&server, "openai", 20.0, ""));
    run(&dir);

    let received = server.received();
    assert_eq!(received.len(), 1, "{:#?}", bodies(&received));
    let prompt = received[0].body["messages"].to_string();
    assert!(
        prompt.contains("validation and test positives are the rows the reward `satisfied` scores above 0"),
        "{prompt}"
    );
}
