//! `std::data::filter_rows`: rows kept by a typed condition (a reward over the dataset), the
//! columns kept, the count of what went; a condition that reads a field the data lacks names it.

mod support;

use serde_json::Value;
use support::Dir;

const RATINGS: &str = "userId,movieId,rating,timestamp\n\
1,10,5.0,100\n1,11,3.0,101\n1,12,4.0,102\n2,10,2.0,103\n2,13,4.5,104\n3,11,1.0,105\n3,12,4.0,106\n";

const WORKFLOW: &str = r#"use std::data::{load_interactions, filter_rows}

dataset ratings = load_interactions("r.csv", user: "userId", item: "movieId", rating: "rating", time: "timestamp")

reward four_plus(e: ratings) -> float {
  if e.rating >= 4.0 { 1.0 } else { 0.0 }
}

dataset liked = filter_rows(ratings, keep: four_plus)

# The filtered dataset has the input's columns: a reward over it checks.
reward strong(e: liked) -> float { e.rating - 4.0 }

output kept = liked
"#;

fn sql(dir: &Dir, query: &str) -> Vec<Value> {
    let out = dir.status(["journal", "w.evo", "--format", "json", "--sql", query], 0);
    serde_json::from_str::<Value>(&out.stdout).unwrap()["rows"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_condition_keeps_its_rows_and_the_columns() {
    let dir = Dir::new();
    dir.file("r.csv", RATINGS).file("w.evo", WORKFLOW);
    dir.status(["run", "w.evo", "-q"], 0);
    let meta = sql(&dir, "SELECT meta::VARCHAR FROM artifacts WHERE step = 'std::data::filter_rows'");
    let meta: Value = serde_json::from_str(meta[0][0].as_str().unwrap()).unwrap();
    assert_eq!(meta["rows"], 4, "{meta}");
    assert_eq!(meta["filter"]["removed_by_condition"], 3, "{meta}");
    assert_eq!(meta["condition"], "four_plus");
    let columns: Vec<&str> = meta["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(columns, ["user", "item", "rating", "time"]);
}

#[test]
fn a_field_the_data_lacks_is_named() {
    let dir = Dir::new();
    let other = "dataset events = \"e.csv\" { user: id, item: id, watch_seconds: float }\n\
                 reward watched(e: events) -> float { e.watch_seconds }\n";
    let workflow = WORKFLOW.replace(
        "dataset liked = filter_rows(ratings, keep: four_plus)",
        &format!("{other}dataset liked = filter_rows(ratings, keep: watched)"),
    );
    dir.file("r.csv", RATINGS).file("e.csv", "user,item,watch_seconds\n1,2,3.0\n").file("w.evo", &workflow);
    let out = dir.status(["run", "w.evo"], 1);
    assert!(out.stderr.contains("watch_seconds"), "{}", out.stderr);
}
