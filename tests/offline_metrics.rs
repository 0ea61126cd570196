//! `offline(metric: ...)` ranks candidates by any metric the checker accepts: every trained
//! candidate gets a score under that metric's own name and cut-off, and `top` keeps it.

mod support;

use support::Dir;

/// A tiny fast loop: the baseline and one optimizer variant, ranked by the param `metric`.
const WORKFLOW: &str = r#"
use std::sim::{logs}
use std::data::{random_split}
use std::loops::{offline, top}

param metric: metric = ndcg@10

dataset events = logs(users: 200, items: 60, days: 2, seed: 3)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 3)

model mf {
  input user: id, item: id
  score = dot(embed(user, 8), embed(item, 8))
}

optimizer opt = adam(lr: 0.01)
optimizer fast_opt = adam(lr: 0.05)

let fast = offline(
  baseline: { model: mf, optimizer: opt },
  data: split,
  candidates: [{ optimizer: fast_opt }],
  budget: 1,
  epochs: 1,
  metric: metric,
  device: "cpu",
)
let best = top(fast, k: 2)
"#;

fn rows(dir: &Dir, query: &str) -> Vec<serde_json::Value> {
    let out = dir.status(["journal", "w.evo", "--format", "json", "--sql", query], 0);
    serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()["rows"].as_array().cloned().unwrap_or_default()
}

#[test]
fn every_accepted_metric_scores_every_candidate_and_top_keeps_them() {
    for metric in ["hitrate@10", "recall@20", "mrr@5", "map@5"] {
        let dir = Dir::new();
        dir.file("w.evo", WORKFLOW);
        dir.status(["run", "w.evo", "-q", "--set", &format!("metric={metric}")], 0);
        let experiments =
            rows(&dir, "SELECT key, status, offline_score, offline_metrics, test_score FROM experiments ORDER BY key");
        assert_eq!(experiments.len(), 2, "{metric}: the baseline and one listed variant: {experiments:?}");
        for e in &experiments {
            assert_eq!(e[1], "trained", "{metric}: {e:?}");
            let score = e[2].as_f64().unwrap_or_else(|| panic!("{metric}: no score: {e:?}"));
            let metrics: serde_json::Value = serde_json::from_str(e[3].as_str().unwrap()).unwrap();
            assert_eq!(metrics["valid"][metric].as_f64(), Some(score), "{metric}: the score is the named metric");
            assert!(metrics["test"][metric].is_number(), "{metric}: test has it too: {metrics}");
            assert_eq!(e[4].as_f64(), metrics["test"][metric].as_f64(), "{metric}: a column holds the test score");
        }
        // Each trained candidate is a model in the journal, with its size and metrics (and so is
        // each training of the seed confirmation: the variant and the baseline on two more seeds).
        let models = rows(&dir, "SELECT count(*), min(params) FROM models WHERE step = 'std::loops::candidate'");
        assert_eq!(models[0][0], 2 + 4, "{metric}: {models:?}");
        assert!(models[0][1].as_i64().unwrap() > 0, "{metric}: {models:?}");
        // Every value a person may ask for, by the language's names, in the `metrics` table.
        let query = format!(
            "SELECT split, count(*) FROM metrics WHERE step = 'std::loops::candidate' AND metric = '{metric}' \
             GROUP BY split ORDER BY split"
        );
        assert_eq!(rows(&dir, &query), [serde_json::json!(["test", 6]), serde_json::json!(["valid", 6])], "{metric}");
        let top = support::object_meta(&dir.path().join(".evoflow/w"), &output_hash(&dir, "best"));
        let kept = top["candidates"].as_array().unwrap();
        assert_eq!(kept.len(), 1, "{metric}: top keeps the scored variant: {top}");
        assert!(kept[0]["score"].is_number(), "{metric}: {top}");
    }
}

fn output_hash(dir: &Dir, node: &str) -> String {
    let query = format!("SELECT output_hash FROM steps WHERE node_id = '{node}' ORDER BY run_id DESC LIMIT 1");
    rows(dir, &query)[0][0].as_str().unwrap().to_string()
}
