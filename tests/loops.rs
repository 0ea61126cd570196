//! The two loops end to end through `evoflow run`: simulated logs, the built-in agent's
//! candidates verified, trained and journaled; the slow loop's decisions with confidence
//! intervals; guardrails that block; a launch that becomes the baseline the next fast round
//! reads; and a kill during the online phase that loses no decision and counts no day twice.

mod support;

use serde_json::Value;
use support::Dir;

/// A small world: a few hundred users, a handful of candidates, a short experiment.
fn workflow(env: &str, budget: usize, days: usize) -> String {
    workflow_with(env, budget, days, "")
}

/// The same, with extra `offline` arguments.
fn workflow_with(env: &str, budget: usize, days: usize, extra: &str) -> String {
    format!(
        r#"
use std::sim::{{logs, satisfaction, from_table}}
use std::data::{{random_split}}
use std::personas::{{optimizer, architecture}}
use std::loops::{{offline, top, online}}

dataset events = logs(users: 300, items: 80, days: 3, seed: 5)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 5)

model mf {{
  input user: id, item: id
  score = dot(embed(user, 16), embed(item, 16))
}}

reward watched(e: events) -> float {{
  if e.click {{ 1.0 + 0.1 * log1p(e.watch_seconds) }} else {{ 0.0 }}
}}

optimizer opt = adam(lr: 0.01)

let fast = offline(
  baseline: {{ model: mf, optimizer: opt, reward: watched }},
  data: split,
  personas: [optimizer, architecture],
  quota: {{ explore: 2, exploit: 0, innovate: 0 }},
  budget: {budget},
  epochs: 2,
  seed: 5,{extra}
)

let slow = online(
  candidates: top(fast, k: 2),
  env: {env},
  primary: return_rate,
  guardrails: [watch_time >= -1%],
  days: {days},
  traffic: 20%,
)
"#
    )
}

fn sql(dir: &Dir, query: &str) -> Vec<Value> {
    let out = dir.status(["journal", "w.evo", "--format", "json", "--sql", query], 0);
    serde_json::from_str::<Value>(&out.stdout).unwrap()["rows"].as_array().cloned().unwrap_or_default()
}

fn count(dir: &Dir, query: &str) -> i64 {
    sql(dir, query)[0][0].as_i64().unwrap()
}

#[test]
fn the_fast_loop_journals_verified_trained_candidates_and_the_slow_loop_decides_with_intervals() {
    let dir = Dir::new();
    dir.file("w.evo", &workflow("satisfaction(users: 300, items: 80, seed: 5)", 4, 6));
    let out = dir.status(["run", "w.evo", "-q"], 0);
    assert!(out.stderr.is_empty(), "{}", out.stderr);

    // The baseline plus four trained candidates, each with its persona, operator and score.
    let trained = count(&dir, "SELECT count(*) FROM experiments WHERE status IN ('trained', 'launched', 'blocked')");
    assert_eq!(trained, 5, "{:?}", sql(&dir, "SELECT key, status, reason FROM experiments"));
    let unscored = count(&dir, "SELECT count(*) FROM experiments WHERE offline_score IS NULL AND status <> 'rejected'");
    assert_eq!(unscored, 0);
    let personas = count(&dir, "SELECT count(DISTINCT persona) FROM experiments WHERE kind <> 'baseline'");
    assert_eq!(personas, 2, "both configured personas proposed");
    // Every candidate trained as a node of its own, recorded like any step (and the best three
    // with the baseline again on two more seeds, to confirm them: 4 × 2 nodes more).
    let nodes = count(&dir, "SELECT count(*) FROM steps WHERE step = 'std::loops::candidate' AND status = 'done'");
    assert_eq!(nodes, 5 + 8);

    // One decision per candidate sent online, each with its interval around its delta.
    let decisions = sql(&dir, "SELECT decision, delta, ci_low, ci_high, guardrails FROM decisions");
    assert_eq!(decisions.len(), 2);
    for d in &decisions {
        let (delta, low, high) = (d[1].as_f64().unwrap(), d[2].as_f64().unwrap(), d[3].as_f64().unwrap());
        assert!(low <= delta && delta <= high, "{d:?}");
        let guardrails: Value = serde_json::from_str(d[4].as_str().unwrap()).unwrap();
        let breached = guardrails.as_array().unwrap().iter().any(|g| g["breached"] == Value::Bool(true));
        assert!(!(breached && d[0] == "launched"), "a breached guardrail launched: {d:?}");
    }
    // Delayed metrics: the last days' returns are not known when the experiment ends.
    let last_return_day = count(&dir, "SELECT max(day) FROM online_metrics WHERE metric = 'return_rate'");
    let last_day = count(&dir, "SELECT max(day) FROM online_metrics WHERE metric = 'watch_time'");
    assert!(last_return_day < last_day, "return_rate known on day {last_return_day}, the last day is {last_day}");

    // Nothing changed: the second run reuses everything, except what reads the production
    // baseline when a launch moved it (the loops and their candidates, never the data).
    let launched = count(&dir, "SELECT count(*) FROM decisions WHERE decision = 'launched'");
    let again = dir.status(["run", "w.evo", "--json"], 0);
    let ran = support::ran(&again.stdout);
    if launched == 0 {
        assert_eq!(ran, Vec::<String>::new(), "{}", again.stdout);
    } else {
        assert!(ran.contains(&"fast".to_string()), "a launch re-runs the fast loop: {ran:?}");
        assert!(!ran.iter().any(|n| n == "events" || n == "split"), "the data does not read production: {ran:?}");
    }
}

/// A team's experiment table: `treatment_1` lifts returns within the guardrail, `treatment_2`
/// lifts them more but costs watch time.
fn platform_table() -> String {
    let mut csv = String::from("arm,day,metric,value\n");
    for day in 0..10 {
        let wobble = [0.004, -0.003, 0.002, -0.001, 0.003, -0.004, 0.001, 0.0, -0.002, 0.002][day];
        for (arm, ret, watch) in [("control", 0.50, 100.0), ("treatment_1", 0.55, 100.5), ("treatment_2", 0.57, 95.0)] {
            csv.push_str(&format!("{arm},{day},return_rate,{}\n", ret + wobble));
            csv.push_str(&format!("{arm},{day},watch_time,{}\n", watch + 100.0 * wobble));
        }
    }
    csv
}

#[test]
fn a_guardrail_breach_blocks_and_a_launch_becomes_the_baseline_the_next_round_reads() {
    let dir = Dir::new();
    dir.file("platform.csv", &platform_table());
    dir.file("w.evo", &workflow(r#"from_table("platform.csv")"#, 2, 10));
    dir.status(["run", "w.evo", "-q"], 0);

    let decisions = sql(&dir, "SELECT decision, reason FROM decisions ORDER BY id");
    assert_eq!(decisions.len(), 2, "{decisions:?}");
    assert_eq!(decisions[0][0], "launched", "{decisions:?}");
    assert_eq!(decisions[1][0], "blocked", "{decisions:?}");
    assert!(decisions[1][1].as_str().unwrap().contains("watch_time"), "{decisions:?}");
    let launched_key = sql(&dir, "SELECT experiment_key FROM decisions WHERE decision = 'launched'")[0][0].clone();
    let key = launched_key.as_str().unwrap();
    let status = sql(&dir, &format!("SELECT status FROM experiments WHERE key = '{key}'"));
    assert_eq!(status[0][0], "launched");

    // The launch is a versioned production baseline...
    let root = dir.path().join(".evoflow/w/production");
    assert_eq!(std::fs::read_to_string(root.join("CURRENT")).unwrap(), "v0001");
    assert!(root.join("v0001/workflow.evo").is_file() && root.join("v0001/model").is_dir());

    // ...that the next fast round starts from, and the next slow round compares against.
    dir.status(["run", "w.evo", "-q"], 0);
    let starts = sql(&dir, "SELECT explanation FROM experiments WHERE kind = 'baseline' ORDER BY id");
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert_eq!(starts[1][0], "production baseline v0001");
    let baselines = sql(&dir, "SELECT DISTINCT baseline FROM decisions WHERE run_id = (SELECT max(id) FROM runs)");
    for b in baselines {
        assert_eq!(b[0], launched_key);
    }
}

#[test]
fn killing_the_online_phase_loses_no_decision_and_counts_no_day_twice() {
    let env = "satisfaction(users: 300, items: 80, seed: 5)";
    let whole = Dir::new();
    whole.file("w.evo", &workflow(env, 2, 8));
    whole.status(["run", "w.evo", "-q"], 0);

    let killed = Dir::new();
    killed.file("w.evo", &workflow(env, 2, 8));
    let (mut child, lines) = killed.spawn_json("w.evo");
    for line in lines {
        if line.unwrap().contains("simulated day 4") {
            child.kill().unwrap();
            break;
        }
    }
    child.wait().unwrap();
    assert_eq!(count(&killed, "SELECT count(*) FROM decisions"), 0, "decided before the kill");
    killed.status(["run", "w.evo", "-q"], 0);

    let query = "SELECT experiment_key, decision, round(delta, 9), round(ci_low, 9), round(ci_high, 9) \
                 FROM decisions ORDER BY experiment_key";
    assert_eq!(sql(&killed, query), sql(&whole, query));
    let values = "SELECT arm, day, metric, round(value, 9) FROM online_metrics ORDER BY arm, day, metric";
    assert_eq!(sql(&killed, values), sql(&whole, values));
}

#[test]
fn a_candidate_over_the_declared_cost_is_rejected_before_training_with_the_reason() {
    let dir = Dir::new();
    let env = "satisfaction(users: 300, items: 80, seed: 5)";
    dir.file("w.evo", &workflow_with(env, 2, 4, "\n  cost: { flops: 10 },"));
    dir.status(["run", "w.evo", "-q"], 0);
    let rejected = sql(&dir, "SELECT reason FROM experiments WHERE status = 'rejected'");
    assert!(!rejected.is_empty());
    for r in &rejected {
        assert!(r[0].as_str().unwrap().contains("FLOPs per example exceeds the limit of 10"), "{r:?}");
    }
    // Nothing over the limit reached the trainer (the baseline is the starting point, not a
    // candidate; an optimizer change keeps its size).
    let over = count(
        &dir,
        "SELECT count(*) FROM experiments WHERE kind <> 'baseline' AND status <> 'rejected' \
         AND CAST(cost->>'flops' AS BIGINT) > 10",
    );
    assert_eq!(over, 0);
}

/// Two listed variants (no personas, so every run trains exactly these), `top` keeping `k`.
fn listed_variants(env: &str, extra_online: &str) -> String {
    format!(
        r#"
use std::sim::{{logs, satisfaction, from_table}}
use std::data::{{random_split}}
use std::loops::{{offline, top, online}}

param k: int = 2

dataset events = logs(users: 300, items: 80, days: 3, seed: 5)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 5)

model mf {{
  input user: id, item: id
  score = dot(embed(user, 16), embed(item, 16))
}}

optimizer opt = adam(lr: 0.01)
optimizer quick = adam(lr: 0.05)
optimizer slow = sgd(lr: 0.05)

let fast = offline(
  baseline: {{ model: mf, optimizer: opt }},
  data: split,
  candidates: [{{ optimizer: quick }}, {{ optimizer: slow }}],
  budget: 1,
  epochs: 2,
  seed: 5,
)

let decided = online(
  candidates: top(fast, k: k),
  env: {env},
  primary: return_rate,
  guardrails: [watch_time >= -1%],
  traffic: 20%,{extra_online}
)
"#
    )
}

#[test]
fn a_team_table_gives_each_candidate_its_own_arm_after_an_earlier_decision() {
    // `treatment_1` changes nothing; `treatment_2` lifts returns and costs watch time.
    let mut csv = String::from("arm,day,metric,value,n\n");
    for day in 0..10 {
        let wobble = [0.004, -0.003, 0.002, -0.001, 0.003, -0.004, 0.001, 0.0, -0.002, 0.002][day];
        let arms =
            [("control", 0.50, 100.0, 1.0), ("treatment_1", 0.50, 100.0, -1.0), ("treatment_2", 0.57, 95.0, 1.0)];
        for (arm, ret, watch, sign) in arms {
            csv.push_str(&format!("{arm},{day},return_rate,{},1000\n", ret + sign * wobble));
            csv.push_str(&format!("{arm},{day},watch_time,{},1000\n", watch + sign * 100.0 * wobble));
        }
    }
    let dir = Dir::new();
    dir.file("platform.csv", &csv);
    dir.file("w.evo", &listed_variants(r#"from_table("platform.csv")"#, ""));
    // The best variant alone first: it is `treatment_1`, and nothing changes.
    dir.status(["run", "w.evo", "-q", "--set", "k=1"], 0);
    let first = sql(&dir, "SELECT experiment_key, decision FROM decisions");
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0][1], "no_change", "{first:?}");
    // Then both: the second is `treatment_2` whatever was decided before, and it is blocked.
    dir.status(["run", "w.evo", "-q", "--set", "k=2"], 0);
    let second = sql(&dir, "SELECT experiment_key, decision, reason FROM decisions ORDER BY id");
    assert_eq!(second.len(), 2, "{second:?}");
    assert_ne!(second[1][0], first[0][0], "{second:?}");
    assert_eq!(second[1][1], "blocked", "the second candidate read another arm: {second:?}");
    // The team's `n` column is journaled with each value.
    assert_eq!(count(&dir, "SELECT count(*) FROM online_metrics WHERE n IS DISTINCT FROM 1000"), 0);
}

#[test]
fn an_online_study_lasts_the_environments_days_unless_it_says_and_counts_its_users() {
    let dir = Dir::new();
    dir.file("w.evo", &listed_variants("satisfaction(users: 300, items: 80, days: 3, seed: 5)", ""));
    dir.status(["run", "w.evo", "-q"], 0);
    // Watch time is known on the day: the last day recorded is the environment's third.
    assert_eq!(count(&dir, "SELECT max(day) FROM online_metrics WHERE metric = 'watch_time'"), 2);
    // Every value says how many users it stands for; a per-user metric, all of the arm's.
    assert_eq!(count(&dir, "SELECT count(*) FROM online_metrics WHERE n IS NULL OR n <= 0"), 0);
    let arms = sql(&dir, "SELECT arm, min(n), max(n) FROM online_metrics WHERE metric = 'watch_time' GROUP BY arm");
    for arm in &arms {
        assert_eq!(arm[1], arm[2], "watch time is per user, over the arm's users: {arms:?}");
    }
    let total: i64 = arms.iter().map(|a| a[1].as_i64().unwrap()).sum();
    assert!(total > 0 && total <= 300, "{arms:?}");

    // `online(days:)` wins over the environment's.
    let given = Dir::new();
    given.file("w.evo", &listed_variants("satisfaction(users: 300, items: 80, days: 3, seed: 5)", "\n  days: 5,"));
    given.status(["run", "w.evo", "-q"], 0);
    assert_eq!(count(&given, "SELECT max(day) FROM online_metrics WHERE metric = 'watch_time'"), 4);
}

#[test]
fn the_next_round_starts_from_the_best_k_with_proposals_spread_over_them() {
    let dir = Dir::new();
    let env = "satisfaction(users: 300, items: 80, seed: 5)";
    dir.file("w.evo", &workflow_with(env, 8, 2, "\n  rounds: 2,\n  warm_start: 2,"));
    let out = dir.status(["run", "w.evo"], 0);
    // The summary names what the loop did.
    assert!(out.stdout.contains("fast: ") && out.stdout.contains("candidates trained"), "{}", out.stdout);
    let parents = sql(
        &dir,
        "SELECT DISTINCT p.key, p.round FROM experiments e JOIN experiments p ON e.parent_id = p.id WHERE e.round = 2",
    );
    assert_eq!(parents.len(), 2, "two parents in round 2: {parents:?}");
    // The best two of round 1 (or the baseline among them), not the workflow's baseline alone.
    let best = sql(
        &dir,
        "SELECT key FROM experiments WHERE status IN ('trained', 'launched', 'blocked') AND round <= 1 \
         ORDER BY offline_score DESC, id LIMIT 2",
    );
    let mut got: Vec<&Value> = parents.iter().map(|p| &p[0]).collect();
    let mut want: Vec<&Value> = best.iter().map(|b| &b[0]).collect();
    got.sort_by_key(|v| v.to_string());
    want.sort_by_key(|v| v.to_string());
    assert_eq!(got, want);
}

#[test]
fn a_budget_not_spent_is_said_and_journaled_with_why() {
    let dir = Dir::new();
    let env = "satisfaction(users: 300, items: 80, seed: 5)";
    // One round of two personas asking two proposals each cannot spend twelve.
    dir.file("w.evo", &workflow(env, 12, 2));
    let out = dir.status(["run", "w.evo"], 0);
    assert!(out.stdout.contains("of a budget of 12 spent: 1 round(s) ended"), "{}", out.stdout);
    let said =
        sql(&dir, "SELECT meta->>'$.shortfall', meta->>'$.budget' FROM artifacts WHERE step = 'std::loops::offline'");
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0][0].as_str().unwrap().starts_with("1 round(s) ended"), "{said:?}");
    assert_eq!(said[0][1], "12");
}

/// Runs `listed_variants` with one more optimizer, `name = value`, listed before `slow`; k = 3.
fn run_with_listed_optimizer(name: &str, value: &str) -> (Dir, support::Output) {
    let dir = Dir::new();
    let workflow = listed_variants("satisfaction(users: 300, items: 80, days: 3, seed: 5)", "")
        .replace(
            "optimizer slow = sgd(lr: 0.05)",
            &format!("optimizer slow = sgd(lr: 0.05)\noptimizer {name} = {value}"),
        )
        .replace("{ optimizer: slow }]", &format!("{{ optimizer: {name} }}, {{ optimizer: slow }}]"));
    dir.file("w.evo", &workflow);
    let out = dir.status(["run", "w.evo", "--set", "k=3"], 0);
    (dir, out)
}

#[test]
fn a_candidate_that_trained_to_a_model_already_chosen_goes_online_once() {
    // `clipped` is `quick` with a clipping threshold no gradient reaches: another key, the same
    // weights. Sent online twice it would take two arms' traffic for one measurement, and get two
    // decisions that differ only by noise.
    let (dir, out) = run_with_listed_optimizer("clipped", "adam(lr: 0.05, clip: 1000.0)");
    let key_of = |variant: &str| {
        let rows = sql(&dir, &format!("SELECT key FROM experiments WHERE explanation LIKE '%optimizer {variant},%'"));
        assert_eq!(rows.len(), 1, "{variant}: {rows:?}");
        rows[0][0].as_str().unwrap().to_string()
    };
    let (quick, clipped, slow) = (key_of("quick"), key_of("clipped"), key_of("slow"));
    let scores = sql(&dir, &format!("SELECT offline_score FROM experiments WHERE key IN ('{quick}', '{clipped}')"));
    assert_eq!(scores[0], scores[1], "the clipping changed the training: {scores:?}");

    let mut decided: Vec<String> =
        sql(&dir, "SELECT experiment_key FROM decisions").iter().map(|r| r[0].as_str().unwrap().to_string()).collect();
    decided.sort();
    let mut want = vec![quick.clone(), slow];
    want.sort();
    assert_eq!(decided, want, "{}", out.stdout);
    let said = format!("{} trained to the same model as {}", &clipped[..12], &quick[..12]);
    assert!(out.stdout.contains(&said), "{}", out.stdout);
}

#[test]
fn a_candidate_that_trained_to_the_controls_model_is_no_treatment() {
    // `same` is the baseline's optimizer with a clipping threshold no gradient reaches.
    let (dir, out) = run_with_listed_optimizer("same", "adam(lr: 0.01, clip: 1000.0)");
    let same = sql(&dir, "SELECT key FROM experiments WHERE explanation LIKE '%optimizer same,%'");
    let same = same[0][0].as_str().unwrap();
    let decided = sql(&dir, &format!("SELECT count(*) FROM decisions WHERE experiment_key = '{same}'"));
    assert_eq!(decided[0][0], 0, "{}", out.stdout);
    assert_eq!(count(&dir, "SELECT count(*) FROM decisions"), 2, "{}", out.stdout);
    let said = format!("{} trained to the same model as baseline-", &same[..12]);
    assert!(out.stdout.contains(&said), "{}", out.stdout);
}

/// `workflow` with a judge, `satisfied` (whose body is `judge`), declared and named in `offline`.
fn judged(judge: &str) -> String {
    workflow_with(
        "satisfaction(users: 300, items: 80, seed: 5)",
        2,
        3,
        "\n  judge: satisfied,\n  confirm: { seeds: 0 },",
    )
    .replace(
        "optimizer opt = adam(lr: 0.01)",
        &format!("reward satisfied(e: events) -> float {{\n  {judge}\n}}\n\noptimizer opt = adam(lr: 0.01)"),
    )
}

/// The baseline experiments' keys, scores and held-out positives, oldest first.
fn baselines(dir: &Dir) -> Vec<Value> {
    sql(
        dir,
        "SELECT key, offline_score, offline_metrics->'protocol'->>'positives' FROM experiments \
         WHERE kind = 'baseline' ORDER BY id",
    )
}

#[test]
fn a_judge_decides_the_held_out_positives_and_a_new_judge_is_a_new_experiment() {
    let dir = Dir::new();
    dir.file(
        "w.evo",
        &workflow_with("satisfaction(users: 300, items: 80, seed: 5)", 2, 3, "\n  confirm: { seeds: 0 },"),
    );
    dir.status(["run", "w.evo", "-q"], 0);
    dir.file("w.evo", &judged("if e.like { 1.0 } else { 0.0 }"));
    let out = dir.status(["run", "w.evo"], 0);
    assert!(out.stdout.contains("best ndcg@10 (judged by `satisfied`)"), "{}", out.stdout);
    // Another judge's definition: other positives, so other experiments (never a cached score).
    dir.file("w.evo", &judged("if e.share { 1.0 } else { 0.0 }"));
    dir.status(["run", "w.evo", "-q"], 0);

    let rows = baselines(&dir);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let positives: Vec<&str> = rows.iter().map(|r| r[2].as_str().unwrap_or("")).collect();
    assert_eq!(positives, ["click = true", "judge `satisfied` > 0", "judge `satisfied` > 0"]);
    let scores: Vec<f64> = rows.iter().map(|r| r[1].as_f64().unwrap()).collect();
    assert!(scores[0] != scores[1] && scores[1] != scores[2], "the same scores against other positives: {scores:?}");
}

#[test]
fn a_judge_that_picks_no_held_out_row_fails_the_loop_saying_so() {
    let dir = Dir::new();
    dir.file("w.evo", &judged("0.0 * log1p(e.watch_seconds)"));
    let out = dir.status(["run", "w.evo"], 1);
    assert!(out.stderr.contains("the judge `satisfied` scores none of the"), "{}", out.stderr);
    assert!(out.stderr.contains("rows of valid.parquet above 0"), "{}", out.stderr);
}

#[test]
fn a_judge_that_is_the_reward_being_evolved_is_refused() {
    let dir = Dir::new();
    dir.file("w.evo", &workflow_with("satisfaction(users: 300, items: 80, seed: 5)", 2, 3, "\n  judge: watched,"));
    let out = dir.status(["run", "w.evo"], 1);
    assert!(out.stderr.contains("`judge: watched` is the reward the loop evolves"), "{}", out.stderr);
    assert_eq!(count(&dir, "SELECT count(*) FROM experiments"), 0);
}
