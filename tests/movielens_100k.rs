//! `workflows/movielens_100k.evo` as CI can afford it: one split seed, four candidates, one
//! extra confirmation seed, at most 20 epochs. The workflow's real protocol (RecBole's per-user
//! 8:1:1 split of every rating) and its EASE anchor; the test fails when the best candidate does
//! not beat its baseline on validation. The full figures are `benches/search_vs_random.sh`'s.

mod support;

use serde_json::Value;
use support::{repo_root, Dir};

fn sql(dir: &Dir, query: &str) -> Vec<Value> {
    let workflow = repo_root().join("workflows/movielens_100k.evo");
    let args = ["journal", workflow.to_str().unwrap(), "--run-dir", "run", "--format", "json", "--sql", query];
    let out = dir.status(args, 0);
    serde_json::from_str::<Value>(&out.stdout).unwrap()["rows"].as_array().cloned().unwrap_or_default()
}

#[test]
fn the_movielens_workflow_beats_its_baseline_on_validation() {
    let dir = Dir::new();
    let workflow = repo_root().join("workflows/movielens_100k.evo");
    let csv = format!("ratings_csv={}", testdata::ml_100k().ratings_csv().display());
    let out = dir.status(
        [
            "run",
            workflow.to_str().unwrap(),
            "--run-dir",
            "run",
            "--set",
            &csv,
            "--set",
            "budget=4",
            "--set",
            "rounds=1",
            "--set",
            "epochs=20",
            "--set",
            "confirm_seeds=1",
        ],
        0,
    );
    assert!(out.stdout.contains("; on test "), "{}", out.stdout);

    // RecBole's protocol: every user in every part, 8:1:1 of each user's ratings.
    let meta = sql(&dir, "SELECT meta::VARCHAR FROM artifacts WHERE step = 'std::data::random_split'");
    let meta: Value = serde_json::from_str(meta[0][0].as_str().unwrap()).unwrap();
    assert_eq!(meta["splits"], serde_json::json!({"train": 80808, "valid": 9596, "test": 9596}), "{meta}");

    let score = |filter: &str| -> (f64, f64) {
        let rows = sql(
            &dir,
            &format!(
                "SELECT offline_score, test_score FROM experiments WHERE status = 'trained' AND {filter} \
                 ORDER BY offline_score DESC LIMIT 1"
            ),
        );
        (rows[0][0].as_f64().unwrap(), rows[0][1].as_f64().unwrap())
    };
    let (baseline, _) = score("kind = 'baseline'");
    let (best, _) = score("kind <> 'baseline'");
    assert!(best > baseline, "the best candidate {best:.4} does not beat its baseline {baseline:.4} on validation");

    // The anchor ran on the same split and is far above an untrained model.
    let ease =
        sql(&dir, "SELECT CAST(meta->>'$.test.\"ndcg@10\"' AS DOUBLE) FROM artifacts WHERE step = 'std::train::ease'");
    assert!(ease[0][0].as_f64().unwrap() > 0.3, "EASE test NDCG@10 {:?}", ease[0][0]);
}
