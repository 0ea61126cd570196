//! `std::train` through `evoflow run` on real MovieLens ratings: train BPR-MF, evaluate it with
//! full ranking, get every step from the cache the second time, the same metrics from the same
//! seed, a clear failure from a diverging optimizer, and the model's size and cost in the
//! journal.

mod support;

use support::{events, Dir};

/// MovieLens-100K, cut to users with at least 100 ratings and movies with at least 20 (fast in
/// debug builds, still real data).
fn workflow(extra: &str) -> String {
    let csv = testdata::ml_100k().ratings_csv();
    format!(
        r#"use std::models::{{bpr_mf}}
use std::data::{{load_interactions, filter_min, random_split}}
use std::train::{{train, evaluate}}

param seed: int = 3

dataset ratings = load_interactions("{}", user: "userId", item: "movieId", rating: "rating", time: "timestamp")
let core = filter_min(ratings, users: 100, items: 20)
let split = random_split(core, valid: 0.1, test: 0.1, seed: 1)
let model = train(bpr_mf, split, optimizer: adam(lr: 0.01), epochs: 4, batch: 2048, seed: seed, device: "cpu")
let metrics = evaluate(model, split, metrics: [ndcg@10, recall@10, hitrate@10, mrr@10, map@10])
{extra}"#,
        csv.display()
    )
}

/// The meta of `node`'s output in the latest run of `file` under `run_dir`.
fn meta(dir: &Dir, file: &str, run_dir: &str, node: &str) -> serde_json::Value {
    let query =
        format!("SELECT output_hash FROM steps WHERE node_id = '{node}' AND run_id = (SELECT max(id) FROM runs)");
    let out = dir.status(["journal", file, "--run-dir", run_dir, "--format", "csv", "--sql", &query], 0);
    let hash = out.stdout.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap().to_string();
    support::object_meta(&dir.path().join(run_dir), &hash)
}

fn statuses(stdout: &str) -> Vec<(String, String)> {
    events(stdout)
        .into_iter()
        .filter(|e| e["event"] == "step_finished")
        .map(|e| (e["node"].as_str().unwrap().to_string(), e["status"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn bpr_mf_trains_on_movielens_beats_chance_is_cached_and_reproducible() {
    let dir = Dir::new();
    dir.file("t.evo", &workflow(""));
    let first = dir.status(["run", "t.evo", "--json", "--run-dir", "a"], 0);
    assert!(statuses(&first.stdout).iter().all(|(_, s)| s == "done"), "{}", first.stdout);
    let progress =
        events(&first.stdout).into_iter().filter(|e| e["event"] == "step_progress" && e["node"] == "model").count();
    assert!(progress >= 4, "one progress event per epoch: {}", first.stdout);

    let trained = meta(&dir, "t.evo", "a", "model");
    let metrics = meta(&dir, "t.evo", "a", "metrics");
    for name in ["ndcg@10", "recall@10", "hitrate@10", "mrr@10", "map@10"] {
        assert!(metrics["test"][name].is_f64(), "no test {name}: {metrics}");
        assert!(metrics["valid"][name].is_f64(), "no valid {name}: {metrics}");
    }
    // Chance is far lower: 10 guesses among about a thousand movies seldom hit a user's test movies.
    let items = trained["data"]["rows"][0].as_u64().unwrap();
    assert!(items > 10_000, "the filtered data is real: {trained}");
    let hit = metrics["test"]["hitrate@10"].as_f64().unwrap();
    let ndcg = metrics["test"]["ndcg@10"].as_f64().unwrap();
    assert!(hit > 0.5 && ndcg > 0.05, "BPR-MF should beat chance by far: hit@10 {hit}, ndcg@10 {ndcg}");
    // The step's own test metrics and evaluate's agree: same weights, same protocol.
    let own = trained["test"]["values"]["ndcg@10"].as_f64().unwrap();
    assert!((own - ndcg).abs() < 1e-6, "train says {own}, evaluate says {ndcg}");
    assert!(trained["summary"]["params"].as_i64().unwrap() > 10_000, "{trained}");
    assert!(trained["summary"]["flops"].as_i64().unwrap() > 0, "{trained}");

    // Second run: everything from the cache.
    let second = dir.status(["run", "t.evo", "--json", "--run-dir", "a"], 0);
    let kinds: Vec<String> = events(&second.stdout)
        .into_iter()
        .filter(|e| e["node"].is_string())
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.len() == 5 && kinds.iter().all(|k| k == "step_cached"), "{}", second.stdout);

    // A fresh run dir, same seed: identical metrics.
    dir.status(["run", "t.evo", "--json", "--run-dir", "b"], 0);
    assert_eq!(meta(&dir, "t.evo", "b", "metrics")["test"], metrics["test"]);
    assert_eq!(meta(&dir, "t.evo", "b", "model")["losses"], trained["losses"]);

    // The model's size and cost are in the journal.
    let out = dir.status(
        [
            "journal",
            "t.evo",
            "--run-dir",
            "a",
            "--format",
            "csv",
            "--sql",
            "SELECT model, params, flops, CAST(metrics->>'$.test.\"ndcg@10\"' AS DOUBLE) > 0 FROM models",
        ],
        0,
    );
    let params = trained["summary"]["params"].as_i64().unwrap();
    assert!(out.stdout.contains(&format!("bpr_mf,{params},")), "{}", out.stdout);
    assert!(out.stdout.trim_end().ends_with("true"), "{}", out.stdout);

    // evaluate()'s results are queryable by name, beside the training's own.
    let query =
        "SELECT node_id, metric, value FROM metrics WHERE split = 'test' AND metric = 'map@10' ORDER BY node_id";
    let out = dir.status(["journal", "t.evo", "--run-dir", "a", "--format", "csv", "--sql", query], 0);
    let map = metrics["test"]["map@10"].as_f64().unwrap();
    let journaled: f64 = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("metrics,map@10,"))
        .unwrap_or_else(|| panic!("no map@10 of `metrics`: {}", out.stdout))
        .parse()
        .unwrap();
    assert!((journaled - map).abs() < 1e-12, "{journaled} vs {map}");
    let query = "SELECT count(*) FROM metrics WHERE node_id = 'model' AND metric = 'hitrate@10'";
    let out = dir.status(["journal", "t.evo", "--run-dir", "a", "--format", "csv", "--sql", query], 0);
    assert!(out.stdout.trim_end().ends_with('2'), "valid and test: {}", out.stdout);
}

#[test]
fn a_diverging_optimizer_fails_its_step_with_a_clear_message() {
    let dir = Dir::new();
    let text = workflow(
        "let wild = train(bpr_mf, split, optimizer: sgd(lr: 10.0, momentum: 0.9), loss: \"mse\", epochs: 3, device: \"cpu\")\n",
    )
    .replace("let metrics = evaluate", "# let metrics = evaluate")
    .replace("let model = train", "# let model = train");
    dir.file("d.evo", &text);
    let out = dir.status(["run", "d.evo"], 1);
    assert!(out.stderr.contains("diverged at epoch"), "{}", out.stderr);
    assert!(out.stderr.contains("wild"), "the failed step is named: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn text_item_ids_are_refused_with_the_column_named() {
    let dir = Dir::new();
    dir.file(
        "s.evo",
        r#"use std::models::{bpr_mf}
dataset d = "d.parquet" { user: id, item: id }
let s = std::data::random_split(d)
let m = std::train::train(bpr_mf, s, epochs: 1, device: "cpu")
"#,
    );
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let file = dir.path().join("d.parquet");
    conn.execute_batch(&format!(
        "COPY (SELECT range % 7 AS user, 'x' || range AS item FROM range(50)) TO '{}' (FORMAT parquet)",
        file.display()
    ))
    .unwrap();
    let out = dir.status(["run", "s.evo"], 1);
    assert!(out.stderr.contains("column `item` of train.parquet is VARCHAR"), "{}", out.stderr);
}

#[test]
fn an_optimizers_loss_decides_the_training_and_its_clip_rate_is_reported() {
    let dir = Dir::new();
    let text = workflow(
        "let by_optimizer = train(bpr_mf, split, optimizer: adam(lr: 0.01, loss: \"mse\"), epochs: 2, batch: 2048, device: \"cpu\")\n\
         let by_step = train(bpr_mf, split, optimizer: adam(lr: 0.01), loss: \"mse\", epochs: 2, batch: 2048, device: \"cpu\")\n\
         let never = train(bpr_mf, split, optimizer: adam(lr: 0.01, clip: 1000000.0), epochs: 2, batch: 2048, device: \"cpu\")\n\
         let always = train(bpr_mf, split, optimizer: adam(lr: 0.01, clip: 0.000001), epochs: 2, batch: 2048, device: \"cpu\")\n",
    )
    .replace("let metrics = evaluate", "# let metrics = evaluate")
    .replace("let model = train", "# let model = train");
    dir.file("l.evo", &text);
    dir.status(["run", "l.evo", "-q"], 0);
    let run_dir = ".evoflow/l";
    // The same training whichever says `mse`: ratings as targets, the same losses.
    let (a, b) = (meta(&dir, "l.evo", run_dir, "by_optimizer"), meta(&dir, "l.evo", run_dir, "by_step"));
    assert_eq!(a["losses"], b["losses"], "optimizer's mse {} vs step's mse {}", a["losses"], b["losses"]);
    assert!(a.get("clip_rate").is_none(), "no clipping, no rate: {a}");
    // A threshold no step reaches changes nothing, and says so; one every step reaches, too.
    assert_eq!(meta(&dir, "l.evo", run_dir, "never")["clip_rate"], 0.0);
    assert_eq!(meta(&dir, "l.evo", run_dir, "always")["clip_rate"], 1.0);
}
