//! Side features through `evoflow run` on real MovieLens-100K: movie genres and user attributes
//! joined onto a split by `with_features`, read by a model's inputs, kept in its checkpoint (so
//! `evaluate` reproduces the training's own metrics); bad feature tables fail naming the problem.

mod support;

use support::Dir;

/// Users with 100+ ratings and movies with 20+ (fast in debug builds, still real data), with
/// RecBole's `.item` and `.user` files as feature tables.
fn workflow(model: &str) -> String {
    let ml = testdata::ml_100k();
    format!(
        r#"use std::data::{{load_interactions, filter_min, random_split, with_features}}
use std::train::{{train, evaluate}}

dataset ratings = load_interactions("{ratings}", user: "userId", item: "movieId", rating: "rating", time: "timestamp")
dataset movies = "{items}" {{
  item: id = "item_id",
  genre: str = "class",
}}
dataset people = "{users}" {{
  user: id = "user_id",
  age: int,
  gender: str,
  occupation: str,
}}
let core = filter_min(ratings, users: 100, items: 20)
let split = with_features(random_split(core, valid: 0.1, test: 0.1, seed: 1), items: movies, users: people)

{model}

let model = train(hybrid, split, optimizer: adam(lr: 0.01), epochs: 3, batch: 2048, seed: 3, device: "cpu")
let metrics = evaluate(model, split, metrics: [ndcg@10, recall@10])
"#,
        ratings = testdata::ml_100k().ratings_csv().display(),
        items = ml.items().display(),
        users = ml.users().display(),
    )
}

const HYBRID: &str = "model hybrid {
  input user: id, item: id, genre: multi_hot(19), occupation: id, gender: categorical(3), age: dense(1)
  u = embed(user, 16) + embed(occupation, 16) + embed(gender, 16) + dense(age, 16)
  i = embed(item, 16) + dense(genre, 16)
  score = dot(u, i)
}";

fn meta(dir: &Dir, node: &str) -> serde_json::Value {
    let query =
        format!("SELECT output_hash FROM steps WHERE node_id = '{node}' AND run_id = (SELECT max(id) FROM runs)");
    let out = dir.status(["journal", "f.evo", "--format", "csv", "--sql", &query], 0);
    let hash = out.stdout.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap().to_string();
    support::object_meta(&dir.path().join(".evoflow").join("f"), &hash)
}

#[test]
fn genres_and_user_attributes_train_and_evaluate_from_the_checkpoint() {
    let dir = Dir::new();
    dir.file("f.evo", &workflow(HYBRID));
    dir.status(["run", "f.evo", "-q"], 0);
    let trained = meta(&dir, "model");
    let metrics = meta(&dir, "metrics");
    let ndcg = metrics["test"]["ndcg@10"].as_f64().unwrap();
    assert!(ndcg > 0.05, "a hybrid model beats chance by far: {metrics}");
    // `evaluate` loads the model with the features it was trained on: the same scores exactly.
    let own = trained["test"]["values"]["ndcg@10"].as_f64().unwrap();
    assert!((own - ndcg).abs() < 1e-6, "train says {own}, evaluate says {ndcg}");
    // The split step's meta is the parts', as any split's.
    let split = meta(&dir, "split");
    assert!(split["splits"]["train"].as_u64().unwrap() > 10_000, "{split}");
}

#[test]
fn too_few_categories_fail_naming_the_size_needed() {
    let dir = Dir::new();
    dir.file("f.evo", &workflow(&HYBRID.replace("occupation: id", "occupation: categorical(8)")));
    let out = dir.status(["run", "f.evo"], 1);
    assert!(out.stderr.contains("occupation") && out.stderr.contains("categorical(22)"), "{}", out.stderr);
}

#[test]
fn a_repeated_key_fails_naming_the_value() {
    let dir = Dir::new();
    let ml = testdata::ml_100k();
    let text = std::fs::read_to_string(ml.items()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.push(lines[5]);
    dir.file("twice.item", &(lines.join("\n") + "\n"));
    let twice = dir.path().join("twice.item");
    dir.file("f.evo", &workflow(HYBRID).replace(&ml.items().display().to_string(), &twice.display().to_string()));
    let out = dir.status(["run", "f.evo"], 1);
    assert!(out.stderr.contains("column `item`") && out.stderr.contains("5 on 2 rows"), "{}", out.stderr);
}
