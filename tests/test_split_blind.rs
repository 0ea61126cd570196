//! The test split is the final report's, never the search's: two data sets that differ only in
//! their test rows give the same proposals, in the same order, with the same validation scores
//! — while their test scores differ, so the test rows really did change.

mod support;

use serde_json::Value;
use support::Dir;

/// 60 users × 15 interactions over 40 items, times increasing: `temporal_split` puts the latest
/// 10% in test. With `shift`, test rows take the item of the next test row (a rotation): the
/// same users and items everywhere, other test positives.
fn ratings(shift: bool) -> String {
    let mut rows: Vec<(u32, u32, u32)> = Vec::new();
    for t in 0..900u32 {
        let user = t % 60;
        let item = (user * 7 + t / 60 * 3 + (t * 13) % 5) % 40;
        rows.push((user, item, t));
    }
    if shift {
        let test_from = rows.len() - 90;
        let items: Vec<u32> = rows[test_from..].iter().map(|r| r.1).collect();
        for (k, row) in rows[test_from..].iter_mut().enumerate() {
            row.1 = items[(k + 1) % items.len()];
        }
    }
    let mut csv = String::from("user,item,time\n");
    for (u, i, t) in rows {
        csv.push_str(&format!("{u},{i},{t}\n"));
    }
    csv
}

const WORKFLOW: &str = r#"use std::data::{load_interactions, temporal_split}
use std::personas::{optimizer, architecture}
use std::loops::{offline}

dataset events = load_interactions("events.csv", user: "user", item: "item", time: "time")
let split = temporal_split(events, valid: 0.1, test: 0.1)

model small {
  input user: id, item: id
  score = dot(embed(user, 8), embed(item, 8))
}

optimizer opt = adam(lr: 0.01)

let fast = offline(
  baseline: { model: small, optimizer: opt },
  data: split,
  personas: [optimizer, architecture],
  quota: { explore: 1, exploit: 1, innovate: 1 },
  budget: 6,
  rounds: 2,
  epochs: 3,
  batch: 128,
  seed: 5,
  device: "cpu",
)
"#;

fn experiments(shift: bool) -> Vec<Value> {
    let dir = Dir::new();
    dir.file("events.csv", &ratings(shift)).file("w.evo", WORKFLOW);
    dir.status(["run", "w.evo", "-q"], 0);
    let out = dir.status(
        [
            "journal",
            "w.evo",
            "--format",
            "json",
            "--sql",
            "SELECT operator, explanation, status, offline_score, test_score FROM experiments ORDER BY id",
        ],
        0,
    );
    serde_json::from_str::<Value>(&out.stdout).unwrap()["rows"].as_array().cloned().unwrap()
}

#[test]
fn other_test_rows_change_nothing_the_search_sees_or_does() {
    let (a, b) = (experiments(false), experiments(true));
    assert_eq!(a.len(), b.len(), "{a:?}\n{b:?}");
    assert!(a.len() >= 7, "the baseline and six candidates: {a:?}");
    for (x, y) in a.iter().zip(&b) {
        // operator, explanation (what was proposed), status, validation score: the same.
        assert_eq!(x.as_array().unwrap()[..4], y.as_array().unwrap()[..4], "\n{x:?}\n{y:?}");
    }
    let differ = a.iter().zip(&b).filter(|(x, y)| x[4] != y[4]).count();
    assert!(differ > 0, "the test rows changed, so some test score should: {a:?}");
}
