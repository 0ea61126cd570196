//! The clickbait trap (issue 7), end to end through `evoflow run`: two candidates that differ
//! only in their reward are trained on simulated logs, scored offline and sent online against
//! production. The reward that maximises immediate watch time wins offline and on the first
//! day's watch time, yet is rejected on the delayed metric (return rate); the reward built from
//! explicit satisfaction signals (likes, shares, surveys) loses offline and is launched.
//!
//! Nothing here is scripted: the simulator hides quality, clickbait and satisfaction from the
//! logs (engine/simulator/README.md), and the models only see what the rewards make of them.

mod support;

use serde_json::Value;
use support::Dir;

/// Production ranks by what the logging policy showed (every impression is a positive); the
/// candidates are the same model and optimizer with another reward, listed in `candidates:`.
const WORKFLOW: &str = r#"
use std::sim::{logs, satisfaction}
use std::data::{random_split}
use std::loops::{offline, top, online}

dataset events = logs(users: 4000, items: 1000, days: 5, seed: 7)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 7)

model mf {
  input user: id, item: id
  score = dot(embed(user, 16), embed(item, 16))
}

optimizer opt = adam(lr: 0.01)

# Production: whatever was shown.
reward shown(e: events) -> float {
  1.0
}

# Immediate engagement: the clickbait trap.
reward watch(e: events) -> float {
  log1p(e.watch_seconds)
}

# Explicit satisfaction: a like, a share, a survey answer above neutral (below it counts against).
reward satisfied(e: events) -> float {
  let liked = if e.like { 1.0 } else { 0.0 }
  let shared = if e.share { 1.0 } else { 0.0 }
  liked + shared + 0.5 * ((e.survey ?? 3.0) - 3.0)
}

let fast = offline(
  baseline: { model: mf, optimizer: opt, reward: shown },
  candidates: [{ reward: watch }, { reward: satisfied }],
  data: split,
  budget: 1,
  epochs: 5,
  seed: 7,
)

let slow = online(
  candidates: top(fast, k: 2),
  env: satisfaction(users: 4000, items: 1000, seed: 7),
  primary: return_rate,
  guardrails: [watch_time >= -1%],
  days: 14,
  traffic: 33%,
)
"#;

fn sql(dir: &Dir, query: &str) -> Vec<Value> {
    let out = dir.status(["journal", "w.evo", "--format", "json", "--sql", query], 0);
    serde_json::from_str::<Value>(&out.stdout).unwrap()["rows"].as_array().cloned().unwrap_or_default()
}

fn float(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The journaled key of the candidate trained with `reward`.
fn key_of(dir: &Dir, reward: &str) -> String {
    let rows = sql(dir, &format!("SELECT key FROM experiments WHERE explanation LIKE '%reward {reward})%'"));
    assert_eq!(rows.len(), 1, "one candidate with reward {reward}: {rows:?}");
    rows[0][0].as_str().unwrap().to_string()
}

/// `(decision, delta, ci_low, ci_high, guardrails)` of a candidate.
fn decision(dir: &Dir, key: &str) -> (String, f64, f64, f64, Value) {
    let rows = sql(
        dir,
        &format!("SELECT decision, delta, ci_low, ci_high, guardrails FROM decisions WHERE experiment_key = '{key}'"),
    );
    assert_eq!(rows.len(), 1, "one decision for {key}: {rows:?}");
    let r = &rows[0];
    let guardrails = serde_json::from_str(r[4].as_str().unwrap()).unwrap();
    (r[0].as_str().unwrap().to_string(), float(&r[1]), float(&r[2]), float(&r[3]), guardrails)
}

/// An arm's per-user watch time on the experiment's first day.
fn first_day_watch_time(dir: &Dir, arm: &str) -> f64 {
    let rows = sql(
        dir,
        &format!("SELECT value FROM online_metrics WHERE arm = '{arm}' AND day = 0 AND metric = 'watch_time'"),
    );
    float(&rows[0][0])
}

#[test]
fn a_watch_time_reward_wins_offline_and_is_rejected_online_while_a_satisfaction_aware_one_launches() {
    let dir = Dir::new();
    dir.file("w.evo", WORKFLOW);
    let out = dir.status(["run", "w.evo", "-q"], 0);
    assert!(out.stderr.is_empty(), "{}", out.stderr);

    let (watch, satisfied) = (key_of(&dir, "watch"), key_of(&dir, "satisfied"));
    let score =
        |key: &str| float(&sql(&dir, &format!("SELECT offline_score FROM experiments WHERE key = '{key}'"))[0][0]);
    let production = float(&sql(&dir, "SELECT offline_score FROM experiments WHERE kind = 'baseline'")[0][0]);

    // Offline, on held-out clicks, the watch-time reward is the best of the three.
    assert!(score(&watch) > score(&satisfied), "offline: watch {} vs satisfied {}", score(&watch), score(&satisfied));
    assert!(score(&watch) > production, "offline: watch {} vs production {production}", score(&watch));

    // Online it earns the most watch time on the first day (arms follow the offline ranking:
    // treatment_1 is the watch-time reward, treatment_2 the satisfaction-aware one)...
    let day0 = |arm| first_day_watch_time(&dir, arm);
    assert!(
        day0("treatment_1") > day0("control") && day0("treatment_1") > day0("treatment_2"),
        "first-day watch time: control {}, watch {}, satisfied {}",
        day0("control"),
        day0("treatment_1"),
        day0("treatment_2")
    );

    // ...and is rejected: fewer users come back, and the whole interval says so.
    let (verdict, delta, low, high, _) = decision(&dir, &watch);
    assert_eq!(verdict, "rejected", "watch: return_rate {delta:+.4} [{low:+.4}, {high:+.4}]");
    assert!(high < 0.0, "watch: return_rate {delta:+.4} [{low:+.4}, {high:+.4}]");

    // The satisfaction-aware reward brings users back, within the watch-time guardrail, and launches.
    let (verdict, delta, low, high, guardrails) = decision(&dir, &satisfied);
    assert_eq!(verdict, "launched", "satisfied: return_rate {delta:+.4} [{low:+.4}, {high:+.4}], {guardrails}");
    assert!(low > 0.0, "satisfied: return_rate {delta:+.4} [{low:+.4}, {high:+.4}]");
    let breached: Vec<&Value> = guardrails.as_array().unwrap().iter().filter(|g| g["breached"] == true).collect();
    assert!(breached.is_empty(), "{breached:?}");

    // It is the new production baseline.
    let root = dir.path().join(".evoflow/w/production");
    assert_eq!(std::fs::read_to_string(root.join("CURRENT")).unwrap(), "v0001");
    let version: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("v0001/version.json")).unwrap()).unwrap();
    assert_eq!(version["experiment"], satisfied.as_str());
    let query =
        format!("SELECT status FROM experiments WHERE key IN ('{watch}', '{satisfied}') ORDER BY key = '{satisfied}'");
    let statuses = sql(&dir, &query);
    assert_eq!(statuses, vec![serde_json::json!(["blocked"]), serde_json::json!(["launched"])]);

    // The launch re-runs the fast loop from production; nothing is decided twice or forgotten.
    dir.status(["run", "w.evo", "-q"], 0);
    assert_eq!(sql(&dir, "SELECT count(*) FROM decisions")[0][0], 2);
    assert_eq!(sql(&dir, &query), vec![serde_json::json!(["blocked"]), serde_json::json!(["launched"])]);
}

/// A small world: only the fast loop and `top`.
const LISTED: &str = r#"
use std::sim::{logs}
use std::data::{random_split}
use std::loops::{offline, top}

dataset events = logs(users: 200, items: 60, days: 2, seed: 3)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 3)

model mf {
  input user: id, item: id
  score = dot(embed(user, 8), embed(item, 8))
}

optimizer opt = adam(lr: 0.01)
optimizer fast_opt = adam(lr: 0.05)

reward clicked(e: events) -> float {
  if e.click { 1.0 } else { 0.0 }
}

reward liked(e: events) -> float {
  if e.like { 1.0 } else { 0.0 }
}

let fast = offline(
  baseline: { model: mf, optimizer: opt, reward: clicked },
  candidates: [{ reward: liked }, { optimizer: fast_opt }, { reward: clicked }],
  data: split,
  budget: 1,
  epochs: 1,
  seed: 3,
)

let best = top(fast, k: 5)
"#;

#[test]
fn listed_candidates_are_trained_as_given_explore_entries_of_the_baseline() {
    let dir = Dir::new();
    dir.file("w.evo", LISTED);
    dir.status(["run", "w.evo", "-q"], 0);

    let rows = sql(
        &dir,
        "SELECT e.kind, e.operator, e.status, e.parent_id = b.id, e.explanation, e.offline_score IS NOT NULL \
         FROM experiments e, experiments b WHERE b.kind = 'baseline' AND e.kind <> 'baseline' ORDER BY e.id",
    );
    // The entry naming the baseline's own blocks is the baseline: not trained twice.
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (row, named) in rows.iter().zip(["optimizer opt, reward liked", "optimizer fast_opt, reward clicked"]) {
        assert_eq!(row[0], "explore", "{row:?}");
        assert_eq!(row[1], "given", "{row:?}");
        assert_eq!(row[2], "trained", "{row:?}");
        assert_eq!(row[3], true, "the parent is the baseline: {row:?}");
        assert!(row[4].as_str().unwrap().contains(named), "{row:?}");
        assert_eq!(row[5], true, "scored: {row:?}");
    }
    // Each trained as a node of its own (and again on two more seeds, with the baseline, to
    // confirm them), and both reach `top`.
    let nodes = |like: &str| {
        sql(&dir, &format!("SELECT count(*) FROM steps WHERE step = 'std::loops::candidate' AND status = 'done' AND node_id {like} '%-seed%'"))[0][0].clone()
    };
    assert_eq!(nodes("NOT LIKE"), 3);
    assert_eq!(nodes("LIKE"), 6);
    let top = sql(&dir, "SELECT count(*) FROM steps WHERE step = 'std::loops::top' AND status = 'done'");
    assert_eq!(top[0][0], 1);
}

#[test]
fn the_trap_holds_for_another_seed_and_a_larger_population() {
    let dir = Dir::new();
    let workflow = WORKFLOW.replace("users: 4000", "users: 6000").replace("seed: 7", "seed: 11");
    dir.file("w.evo", &workflow);
    dir.status(["run", "w.evo", "-q"], 0);
    let (watch, satisfied) = (key_of(&dir, "watch"), key_of(&dir, "satisfied"));
    let score =
        |key: &str| float(&sql(&dir, &format!("SELECT offline_score FROM experiments WHERE key = '{key}'"))[0][0]);
    assert!(score(&watch) > score(&satisfied), "offline: watch {} vs satisfied {}", score(&watch), score(&satisfied));
    let (verdict, delta, low, high, _) = decision(&dir, &watch);
    assert_eq!(verdict, "rejected", "watch: return_rate {delta:+.4} [{low:+.4}, {high:+.4}]");
    let (verdict, delta, low, high, guardrails) = decision(&dir, &satisfied);
    assert_eq!(verdict, "launched", "satisfied: return_rate {delta:+.4} [{low:+.4}, {high:+.4}], {guardrails}");
}

#[test]
fn a_sequential_study_launches_the_satisfaction_aware_reward_before_its_last_day() {
    let dir = Dir::new();
    let sequential = "traffic: 33%,\n  sequential: true,\n  min_effect: 3%,";
    dir.file("w.evo", &WORKFLOW.replace("traffic: 33%,", sequential));
    dir.status(["run", "w.evo", "-q"], 0);
    let satisfied = key_of(&dir, "satisfied");
    let rows = sql(
        &dir,
        &format!(
            "SELECT decision, stopped_day, analysis->>'$.interval.kind' FROM decisions WHERE experiment_key = '{satisfied}'"
        ),
    );
    assert_eq!(rows[0][0], "launched", "{rows:?}");
    assert_eq!(rows[0][2], "always_valid", "{rows:?}");
    // Decided at a daily look, days before the 14th: an always-valid interval may be read early.
    let day = rows[0][1].as_i64().unwrap_or_else(|| panic!("no stopped_day: {rows:?}"));
    assert!(day < 13, "decided on day {day}");
}
