//! `std::rewards::apply_reward` through `evoflow run`: real MovieLens events scored in the wasm
//! sandbox agree with the reference interpreter on every row; hostile external rewards fail their
//! own step with a clear message while the rest of the run finishes; a missing field is named.
//!
//! The input is a Parquet file the test writes with DuckDB, read by `dataset d = "x.parquet" {..}`
//! (the `std::data::read_table` step).

mod support;

use std::path::Path;

use duckdb::Connection;
use sandboxes::interp::Interpreter;
use sandboxes::Columns;
use support::{finished, output_dir, Dir};

fn sql_path(p: &Path) -> String {
    format!("'{}'", p.to_str().unwrap().replace('\'', "''"))
}

/// Runs `query` and writes its rows to `path` as Parquet.
fn write_parquet(path: &Path, query: &str) {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&format!("COPY ({query}) TO {} (FORMAT parquet)", sql_path(path))).unwrap();
}

const MOVIELENS: &str = r#"dataset ratings = "ratings.parquet" {
  user: id = "userId",
  item: id = "movieId",
  rating: float,
  time: time = "timestamp",
}

reward liked(e: ratings) -> float {
  let stars = e.rating ?? 2.5
  let recent = if e.time >= 1400000000 { 1.0 } else { 0.5 }
  let base = if stars >= 4.0 { 1.0 } else if stars >= 3.0 { 0.2 } else { -0.5 }
  base * recent + 0.1 * log1p(stars) + (e.user % 3) * 0.01 + e.item / 1000000
}

let scored = std::rewards::apply_reward(ratings, liked, column: "score")
"#;

#[test]
fn a_reward_over_real_movielens_events_matches_the_interpreter_on_every_row() {
    let csv = testdata::ml_100k().ratings_csv();
    let dir = Dir::new();
    dir.file("ml.evo", MOVIELENS);
    // The real events, with 2% of the ratings removed so `??` has nulls to fill.
    write_parquet(
        &dir.path().join("ratings.parquet"),
        &format!(
            "SELECT userId, movieId, CASE WHEN (userId * 31 + movieId) % 50 = 0 THEN NULL ELSE rating END AS rating, \
             timestamp FROM read_csv({}, header = true)",
            sql_path(&csv)
        ),
    );
    let out = dir.status(["run", "ml.evo", "--json"], 0);
    assert!(finished(&out.stdout).iter().any(|(n, s, _)| n == "scored" && s == "done"), "{}", out.stdout);

    let object = output_dir(&dir, "ml.evo", "scored");
    let conn = Connection::open_in_memory().unwrap();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT user, item, rating, time, score FROM read_parquet({})",
            sql_path(&object.join("data.parquet"))
        ))
        .unwrap();
    let rows: Vec<(i64, i64, Option<f64>, i64, f64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 100_000, "every MovieLens rating is scored");

    // The rows come out in the file's order.
    let mut stmt = conn
        .prepare(&format!("SELECT userId, movieId, timestamp FROM read_csv({}, header = true)", sql_path(&csv)))
        .unwrap();
    let original: Vec<(i64, i64, i64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
    assert!(rows.iter().zip(&original).all(|(r, o)| (r.0, r.1, r.3) == *o), "row order changed");

    let user: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let item: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let rating: Vec<f64> = rows.iter().map(|r| r.2.unwrap_or(0.0)).collect();
    let rating_null: Vec<bool> = rows.iter().map(|r| r.2.is_none()).collect();
    let time: Vec<i64> = rows.iter().map(|r| r.3).collect();
    assert!(rating_null.iter().filter(|n| **n).count() > 1000, "the test data has nulls");
    let columns = Columns::new()
        .with_nulls("rating", &rating[..], &rating_null[..])
        .with("time", &time[..])
        .with("user", &user[..])
        .with("item", &item[..]);
    let expected = Interpreter::new(&testdata::reward_fn(MOVIELENS, "liked")).unwrap().run(&columns).unwrap();
    for (i, (row, want)) in rows.iter().zip(&expected).enumerate() {
        assert_eq!(row.4.to_bits(), want.to_bits(), "row {i} {row:?}: sandbox {} interpreter {want}", row.4);
    }

    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(object.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["rows"], 100_000);
    assert_eq!(meta["column"], "score");
    assert_eq!(meta["nan"], 0);
    let mean = expected.iter().sum::<f64>() / expected.len() as f64;
    assert!((meta["mean"].as_f64().unwrap() - mean).abs() < 1e-9, "{meta}");
    // The summary's extremes pass through DuckDB's text form: equal to the last digit or so
    // (every row's bits are compared above).
    let (min, max) = expected.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    assert!((meta["min"].as_f64().unwrap() - min).abs() < 1e-12, "{meta} vs {min}");
    assert!((meta["max"].as_f64().unwrap() - max).abs() < 1e-12, "{meta} vs {max}");

    // A second run takes the output from the cache.
    let again = dir.status(["run", "ml.evo", "--json"], 0);
    assert!(support::ran(&again.stdout).is_empty(), "{}", again.stdout);
}

const HOSTILE: &str = r#"dataset d = "events.parquet" { x: float }

reward fine(e: d) -> float {
  e.x * 2.0
}
reward double = wasm("rewards/double.wat")
reward spin = wasm("rewards/loop.wat")
reward bomb = wasm("rewards/grow.wat")
reward crash = wasm("rewards/unreachable.wat")
reward leak = wasm("rewards/wasi.wat")

let ok = std::rewards::apply_reward(d, fine)
let ok_external = std::rewards::apply_reward(d, double)
let looping = std::rewards::apply_reward(d, spin) with { on_error: "ignore" }
let growing = std::rewards::apply_reward(d, bomb) with { on_error: "ignore" }
let trapping = std::rewards::apply_reward(d, crash) with { on_error: "ignore" }
let importing = std::rewards::apply_reward(d, leak) with { on_error: "ignore" }
"#;

fn fixture(dir: &Dir, name: &str) {
    let text = std::fs::read_to_string(support::repo_root().join("tests/fixtures/rewards").join(name)).unwrap();
    dir.file(&format!("rewards/{name}"), &text);
}

#[test]
fn hostile_external_rewards_fail_their_step_clearly_and_the_run_carries_on() {
    let dir = Dir::new();
    dir.file("h.evo", HOSTILE);
    for name in ["double.wat", "loop.wat", "grow.wat", "unreachable.wat", "wasi.wat"] {
        fixture(&dir, name);
    }
    write_parquet(
        &dir.path().join("events.parquet"),
        "SELECT CASE WHEN i % 10 = 3 THEN NULL ELSE i * 0.25 END AS x FROM range(5000) t(i)",
    );
    let out = dir.status(["run", "h.evo", "--json", "--jobs", "4"], 0);
    let steps = finished(&out.stdout);
    let error_of = |node: &str| {
        let (_, status, error) = steps.iter().find(|(n, ..)| n == node).unwrap_or_else(|| panic!("{}", out.stdout));
        assert_eq!(status, "failed", "{node}: {}", out.stdout);
        error.clone().unwrap()
    };
    let spin = error_of("looping");
    assert!(
        spin.starts_with("reward `spin` ran out of fuel") && spin.ends_with("[sandbox::trap: out_of_fuel]"),
        "{spin}"
    );
    assert!(spin.contains(" at event row "), "{spin}");
    let bomb = error_of("growing");
    assert!(
        bomb.starts_with("reward `bomb` tried to grow memory past the cap")
            && bomb.ends_with("[sandbox::trap: memory_limit]"),
        "{bomb}"
    );
    assert_eq!(
        error_of("trapping"),
        "reward `crash` executed `unreachable` at event row 0 [sandbox::trap: unreachable]"
    );
    let leak = error_of("importing");
    assert!(leak.contains("imports `wasi_snapshot_preview1::fd_write`"), "{leak}");
    assert!(leak.ends_with("[sandbox::import]"), "{leak}");

    // The well-behaved steps of the same run finished, with the right values.
    for node in ["ok", "ok_external", "d"] {
        assert!(steps.iter().any(|(n, s, _)| n == node && s == "done"), "{node}: {}", out.stdout);
    }
    let conn = Connection::open_in_memory().unwrap();
    let read = |node: &str| -> Vec<f64> {
        let path = output_dir(&dir, "h.evo", node).join("data.parquet");
        let mut stmt = conn.prepare(&format!("SELECT reward FROM read_parquet({})", sql_path(&path))).unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let cached = std::fs::read_dir(dir.path().join(".evoflow/h/cache/wasm")).unwrap();
    assert!(cached.filter_map(Result::ok).any(|f| f.path().extension().is_some_and(|x| x == "cwasm")));
    let want: Vec<f64> = (0..5000).map(|i| if i % 10 == 3 { 0.0 } else { i as f64 * 0.25 * 2.0 }).collect();
    assert_eq!(read("ok"), want);
    assert_eq!(read("ok_external"), want);
}

#[test]
fn a_missing_field_is_named_with_the_columns_present() {
    let dir = Dir::new();
    dir.file(
        "m.evo",
        "dataset d = \"events.parquet\" { x: float, clicks: int }\n\n\
         reward watched(e) -> float {\n  log1p(e.watch_seconds) + e.x\n}\n\n\
         let scored = std::rewards::apply_reward(d, watched)\n",
    );
    write_parquet(&dir.path().join("events.parquet"), "SELECT 1.5::DOUBLE AS x, 3 AS clicks");
    let out = dir.status(["run", "m.evo", "--json"], 1);
    let (_, status, error) = finished(&out.stdout).into_iter().find(|(n, ..)| n == "scored").unwrap();
    assert_eq!(status, "failed");
    let error = error.unwrap();
    assert!(
        error.contains("reward `watched` reads the field `watch_seconds`, but the data has no column `watch_seconds`"),
        "{error}"
    );
    assert!(error.contains("its columns are x (DOUBLE), clicks (BIGINT)"), "{error}");
}
