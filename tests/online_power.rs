//! Online decisions a team can trust, through `evoflow run`: every decision carries the study's
//! minimum detectable effect and CUPED's variance reduction; a study too small to see the
//! workflow's `min_effect` ends `underpowered` and says what would power it; a sequential study
//! looks every day with always-valid intervals; rank agreement is not claimed from few decisions.

mod support;

use serde_json::Value;
use support::Dir;

/// Two listed variants against the baseline on a small simulated population, no guardrails.
fn workflow(users: usize, online_args: &str) -> String {
    format!(
        r#"
use std::sim::{{logs, satisfaction}}
use std::data::{{random_split}}
use std::loops::{{offline, top, online}}

dataset events = logs(users: {users}, items: 80, days: 3, seed: 5)
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
  candidates: top(fast, k: 2),
  env: satisfaction(users: {users}, items: 80, days: 4, seed: 5),
  primary: return_rate,
  traffic: 30%,{online_args}
)
"#
    )
}

fn sql(dir: &Dir, query: &str) -> Vec<Value> {
    let out = dir.status(["journal", "w.evo", "--format", "json", "--sql", query], 0);
    serde_json::from_str::<Value>(&out.stdout).unwrap()["rows"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_study_too_small_for_its_min_effect_ends_underpowered_and_says_what_would_power_it() {
    let dir = Dir::new();
    dir.file("w.evo", &workflow(300, "\n  min_effect: 1%,"));
    let run = dir.status(["run", "w.evo"], 0);
    let out = format!("{}{}", run.stdout, run.stderr);
    let rows = sql(
        &dir,
        "SELECT decision, reason, mde, min_effect, variance_reduction, analysis->>'$.planned_mde' AS planned, \
                analysis->>'$.pre_days' AS pre_days FROM decisions",
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    for r in &rows {
        // 90 users an arm cannot see a 1% change in return rate.
        assert_eq!(r[0], "underpowered", "{rows:?}");
        let reason = r[1].as_str().unwrap();
        assert!(reason.contains("MDE") && reason.contains("users per arm"), "{reason}");
        assert!(r[2].as_f64().unwrap() > 0.05, "{rows:?}");
        assert_eq!(r[3].as_f64(), Some(0.01));
        assert!(r[4].as_f64().is_some(), "{rows:?}");
        let planned: f64 = r[5].as_str().unwrap().parse().unwrap();
        assert!(planned > 0.05, "planned from the pre-period: {rows:?}");
        assert_eq!(r[6], "4", "the pre-period is as long as the study unless said");
    }
    assert!(out.contains("underpowered return_rate") && out.contains("MDE"), "{out}");
    assert!(out.contains("planned MDE") && out.contains("from the pre-period (before CUPED)"), "{out}");
    // Two decisions are not enough to speak of rank agreement.
    assert!(out.contains("not estimated: 2 decisions so far, it needs at least 5"), "{out}");
}

#[test]
fn without_min_effect_an_unclear_study_is_no_change_and_cuped_can_be_turned_off() {
    let dir = Dir::new();
    dir.file("w.evo", &workflow(300, "\n  cuped: false,\n  pre_days: 0,"));
    dir.status(["run", "w.evo", "-q"], 0);
    let rows = sql(&dir, "SELECT decision, variance_reduction, min_effect FROM decisions");
    for r in &rows {
        assert_ne!(r[0], "underpowered", "{rows:?}");
        assert_eq!(r[1].as_f64(), Some(0.0), "{rows:?}");
        assert_eq!(r[2], Value::Null, "{rows:?}");
    }
}

#[test]
fn a_sequential_study_judges_with_always_valid_intervals() {
    let fixed = Dir::new();
    fixed.file("w.evo", &workflow(300, ""));
    fixed.status(["run", "w.evo", "-q"], 0);
    let sequential = Dir::new();
    sequential.file("w.evo", &workflow(300, "\n  sequential: true,"));
    sequential.status(["run", "w.evo", "-q"], 0);
    let q =
        "SELECT experiment_key, ci_high - ci_low, analysis->>'$.interval.kind' FROM decisions ORDER BY experiment_key";
    let (a, b) = (sql(&fixed, q), sql(&sequential, q));
    assert_eq!(a.len(), 2);
    for (f, s) in a.iter().zip(&b) {
        assert_eq!((f[2].as_str(), s[2].as_str()), (Some("fixed_horizon"), Some("always_valid")));
        // Valid at every look costs width at the last one.
        assert!(s[1].as_f64().unwrap() > f[1].as_f64().unwrap(), "{a:?} vs {b:?}");
    }
}

#[test]
fn a_significant_gain_that_another_candidate_beats_is_superseded_not_no_change() {
    // A team's table: both treatments lift returns clearly, the second more.
    let mut csv = String::from("arm,day,metric,value\n");
    for day in 0..10 {
        let wobble = [0.004, -0.003, 0.002, -0.001, 0.003, -0.004, 0.001, 0.0, -0.002, 0.002][day];
        for (arm, ret) in [("control", 0.50), ("treatment_1", 0.55), ("treatment_2", 0.60)] {
            csv.push_str(&format!("{arm},{day},return_rate,{}\n", ret + wobble));
        }
    }
    let dir = Dir::new();
    dir.file("platform.csv", &csv);
    dir.file(
        "w.evo",
        &workflow(300, "").replace(
            "satisfaction(users: 300, items: 80, days: 4, seed: 5)",
            r#"std::sim::from_table("platform.csv")"#,
        ),
    );
    dir.status(["run", "w.evo", "-q"], 0);
    let rows = sql(&dir, "SELECT decision, ci_low, reason FROM decisions ORDER BY delta");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0], "launched", "{rows:?}");
    assert!(rows[0][1].as_f64().unwrap() > 0.0, "significantly better too: {rows:?}");
    assert_eq!(rows[0][0], "superseded", "{rows:?}");
    assert!(rows[0][2].as_str().unwrap().contains("one launch per study"), "{rows:?}");
}
