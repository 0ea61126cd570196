//! Per-step retries, error classes, timeouts and error strategies.

mod support;

use support::{events, Dir, Test};

fn attempts_of(stdout: &str, node: &str) -> Vec<u64> {
    events(stdout)
        .iter()
        .filter(|e| e["event"] == "step_started" && e["node"] == node)
        .map(|e| e["attempt"].as_u64().unwrap())
        .collect()
}

#[test]
fn a_transient_failure_is_retried_until_it_succeeds() {
    let out = Test::new()
        .file("r.evo", "let f = std::debug::flaky(failures: 2) with { retries: 2 }\n")
        .args(["run", "r.evo", "--json"])
        .status(0);
    assert_eq!(attempts_of(&out.stdout, "f"), [1, 2, 3]);
    let retrying: Vec<_> = events(&out.stdout).into_iter().filter(|e| e["event"] == "step_retrying").collect();
    assert_eq!(retrying.len(), 2);
    assert!(retrying[1]["delay_ms"].as_u64().unwrap() >= 400, "backoff grows: {retrying:?}");
}

#[test]
fn retries_run_out() {
    let out = Test::new()
        .file("r.evo", "let f = std::debug::flaky(failures: 5) with { retries: 1 }\n")
        .args(["run", "r.evo", "--json"])
        .status(1);
    assert_eq!(attempts_of(&out.stdout, "f"), [1, 2]);
}

#[test]
fn a_permanent_failure_is_not_retried() {
    let out = Test::new()
        .file("r.evo", "let f = std::debug::flaky(failures: 0, permanent: true) with { retries: 3 }\n")
        .args(["run", "r.evo", "--json"])
        .status(1);
    assert_eq!(attempts_of(&out.stdout, "f"), [1]);
}

#[test]
fn a_timeout_is_enforced() {
    let out = Test::new()
        .file("t.evo", "let s = std::debug::sleep(5s) with { timeout: 200ms }\n")
        .args(["run", "t.evo", "--json"])
        .status(1);
    let finished = events(&out.stdout).into_iter().find(|e| e["event"] == "step_finished").unwrap();
    assert_eq!(finished["error"], "timed out after 200ms");
    assert_eq!(finished["code"], "step::timeout");
    let run_finished = events(&out.stdout).into_iter().find(|e| e["event"] == "run_finished").unwrap();
    assert!(run_finished["wall_ms"].as_u64().unwrap() < 3000, "it did not wait for the sleep: {run_finished}");
}

#[test]
fn a_timed_out_training_stops_instead_of_training_on_for_nobody() {
    // Minutes of training (1,000 epochs, no early stopping) under a 2 s timeout: before, the
    // attempt was abandoned but its thread trained on, and the process waited for it to end.
    let started = std::time::Instant::now();
    let out = Test::new()
        .file(
            "t.evo",
            "use std::sim::{logs}\nuse std::data::{random_split}\nuse std::models::{two_tower}\nuse std::train::{train}\n\
             dataset events = logs(users: 2000, items: 400, days: 6, seed: 1)\n\
             let split = random_split(events, valid: 0.1, test: 0.1, seed: 1)\n\
             let model = train(two_tower, split, epochs: 1000, patience: 0) with { timeout: 2s }\n",
        )
        .args(["run", "t.evo", "--json"])
        .status(1);
    let finished = events(&out.stdout).into_iter().find(|e| e["event"] == "step_finished" && e["node"] == "model");
    assert_eq!(finished.unwrap()["code"], "step::timeout");
    let elapsed = started.elapsed();
    assert!(elapsed.as_secs() < 60, "the process ended {elapsed:?} after it started");
}

// `bad` waits for `gate`, so `slow` has surely started when it fails (without the gate, the
// scheduler could see `bad` fail before it started `slow`: 2 runs in 5 failed so on a busy machine).
const STRATEGY: &str = r#"use std::debug::{sleep, flaky}
let gate = sleep(50ms)
let bad = flaky(failures: 0, permanent: true, after: [gate]) with { on_error: "ON_ERROR" }
let after_bad = sleep(10ms, after: [bad])
let slow = sleep(600ms)
let after_slow = sleep(10ms, after: [slow])
"#;

#[test]
fn terminate_stops_everything_finish_lets_running_steps_end_ignore_carries_on() {
    let dir = Dir::new();
    dir.file("s.evo", &STRATEGY.replace("ON_ERROR", "terminate"));
    let out = dir.status(["run", "s.evo", "--json", "--jobs", "4"], 1);
    assert_eq!(support::ran(&out.stdout), ["bad", "gate", "slow"], "terminate starts nothing new");
    let end = events(&out.stdout).into_iter().find(|e| e["event"] == "run_finished").unwrap();
    assert!(end["wall_ms"].as_u64().unwrap() < 500, "terminate does not wait for `slow`: {end}");

    let dir = Dir::new();
    dir.file("s.evo", &STRATEGY.replace("ON_ERROR", "finish"));
    let out = dir.status(["run", "s.evo", "--json", "--jobs", "4"], 1);
    let finished: Vec<_> = events(&out.stdout)
        .into_iter()
        .filter(|e| e["event"] == "step_finished" && e["status"] == "done")
        .map(|e| e["node"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(finished, ["gate", "slow"], "finish lets `slow` end but starts nothing after it");

    let dir = Dir::new();
    dir.file("s.evo", &STRATEGY.replace("ON_ERROR", "ignore"));
    let out = dir.status(["run", "s.evo", "--json", "--jobs", "4"], 0);
    assert_eq!(support::ran(&out.stdout), ["after_slow", "bad", "gate", "slow"]);
    let skipped: Vec<_> = events(&out.stdout).into_iter().filter(|e| e["event"] == "step_skipped").collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["node"], "after_bad");
}
