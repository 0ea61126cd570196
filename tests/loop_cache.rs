//! The cache of a loop's candidates: a candidate's key covers everything its result depends on
//! (an imported module's blocks, an external reward's bytes) and nothing it does not (the loop's
//! budget), so a change retrains exactly the candidates it reaches.

mod support;

use support::{ran, Dir};

/// A fast loop over an imported model: the baseline and one listed variant, one epoch each.
const WORKFLOW: &str = r#"
use std::sim::{logs}
use std::data::{random_split}
use std::loops::{offline}
use "./lib.evo"

param budget: int = 1
param epochs: int = 1

dataset events = logs(users: 150, items: 40, days: 2, seed: 4)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 4)

optimizer opt = adam(lr: 0.01)
optimizer quick = adam(lr: 0.05)

let fast = offline(
  baseline: { model: mf, optimizer: opt, reward: doubled },
  data: split,
  candidates: [{ optimizer: quick }],
  budget: budget,
  epochs: epochs,
  device: "cpu",
)
"#;

const LIB: &str = r#"
model mf {
  input user: id, item: id
  score = dot(embed(user, 8), embed(item, 8))
}

reward doubled = wasm("double.wat")
"#;

/// The fixture reward `2 * x`, reading the logs' `watch_seconds` as its `x`.
fn reward_module() -> String {
    let wat = std::fs::read_to_string(support::repo_root().join("tests/fixtures/rewards/double.wat")).unwrap();
    wat.replace(r#""x:float\00""#, r#""watch_seconds:float\00""#)
}

fn setup() -> Dir {
    let dir = Dir::new();
    dir.file("w.evo", WORKFLOW).file("lib.evo", LIB).file("double.wat", &reward_module());
    let first = ran(&dir.status(["run", "w.evo", "--json"], 0).stdout);
    assert!(first.iter().any(|n| n == "fast/baseline"), "{first:?}");
    dir
}

/// The candidate nodes (`fast/...`) a run trained.
fn trained(dir: &Dir, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["run", "w.evo", "--json"];
    args.extend(extra);
    // Not the confirmations of the best on more seeds (`...-seedN`): the candidates themselves.
    ran(&dir.status(args, 0).stdout).into_iter().filter(|n| n.starts_with("fast/") && !n.contains("-seed")).collect()
}

#[test]
fn a_change_in_an_imported_module_retrains_the_candidates_that_use_it() {
    let dir = setup();
    assert_eq!(trained(&dir, &[]), Vec::<String>::new(), "nothing changed");
    dir.file("lib.evo", &LIB.replace("embed(user, 8), embed(item, 8)", "embed(user, 16), embed(item, 16)"));
    let again = trained(&dir, &[]);
    assert!(again.contains(&"fast/baseline".to_string()), "the baseline's model changed: {again:?}");
    assert_eq!(again.len(), 2, "both candidates use the model: {again:?}");
}

#[test]
fn a_change_in_an_external_rewards_bytes_retrains_the_candidates_that_use_it() {
    let dir = setup();
    dir.file("double.wat", &format!("{}\n;; the same module, other bytes\n", reward_module()));
    assert_eq!(trained(&dir, &[]).len(), 2);
}

#[test]
fn another_budget_or_a_comment_retrains_nothing_already_trained() {
    let dir = setup();
    assert_eq!(trained(&dir, &["--set", "budget=2"]), Vec::<String>::new());
    dir.file("w.evo", &format!("# a comment\n{WORKFLOW}"));
    assert_eq!(trained(&dir, &[]), Vec::<String>::new());
}

#[test]
fn a_candidate_tried_under_other_settings_is_a_new_experiment_and_the_same_settings_a_duplicate() {
    let dir = setup();
    let count = |dir: &Dir| -> i64 {
        let out = dir.status(["journal", "w.evo", "--format", "csv", "--sql", "SELECT count(*) FROM experiments"], 0);
        out.stdout.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap().parse().unwrap()
    };
    assert_eq!(count(&dir), 2, "the baseline and the listed variant");
    // Trained for longer, both are new experiments with rows of their own.
    assert_eq!(trained(&dir, &["--set", "epochs=2"]).len(), 2);
    assert_eq!(count(&dir), 4);
    // Back to one epoch: the same experiments as the first run, from the cache, no new rows.
    assert_eq!(trained(&dir, &[]), Vec::<String>::new());
    assert_eq!(count(&dir), 4);
}
