//! `std::sim` through `evoflow run`: simulated logs become a dataset that splits and rewards
//! accept, with exactly the columns of `SIM_LOG_SCHEMA`; `satisfaction` and `from_table` make
//! environments, and a metric table without a needed column fails with the column named.

mod support;

use std::path::Path;

use duckdb::Connection;
use support::{finished, output_dir, Dir};

fn sql_path(p: &Path) -> String {
    format!("'{}'", p.to_str().unwrap().replace('\'', "''"))
}

/// (name, DuckDB type) of each column of a Parquet file.
fn columns(file: &Path) -> Vec<(String, String)> {
    let conn = Connection::open_in_memory().unwrap();
    let mut stmt = conn.prepare(&format!("DESCRIBE SELECT * FROM read_parquet({})", sql_path(file))).unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

fn count(file: &Path, filter: &str) -> i64 {
    let conn = Connection::open_in_memory().unwrap();
    conn.query_row(&format!("SELECT count(*) FROM read_parquet({}) WHERE {filter}", sql_path(file)), [], |r| r.get(0))
        .unwrap()
}

const LOGS: &str = r#"use std::sim::{logs, satisfaction}
use std::data::random_split
use std::rewards::apply_reward

dataset events = logs(users: 300, items: 80, days: 3, seed: 4)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 1)

reward engaged(e: events) -> float {
  let clicked = if e.click { 1.0 } else { 0.0 }
  clicked + 0.01 * e.watch_seconds + 0.5 * (e.survey ?? 0.0)
}

let scored = apply_reward(events, engaged)
let env = satisfaction(users: 300, items: 80, days: 5, seed: 4)
"#;

#[test]
fn simulated_logs_split_and_reward_like_any_dataset() {
    let dir = Dir::new();
    dir.file("sim.evo", LOGS);
    let out = dir.status(["run", "sim.evo", "--json"], 0);
    assert!(finished(&out.stdout).iter().all(|(_, s, _)| s == "done"), "{}", out.stdout);

    let data = output_dir(&dir, "sim.evo", "events").join("data.parquet");
    let got = columns(&data);
    let want: Vec<(String, String)> = dsl::builtins::SIM_LOG_SCHEMA
        .iter()
        .map(|(name, ty)| {
            let duck = match *ty {
                "id" | "int" | "time" => "BIGINT",
                "bool" => "BOOLEAN",
                _ => "DOUBLE",
            };
            (name.to_string(), duck.to_string())
        })
        .collect();
    assert_eq!(got, want);
    let rows = count(&data, "true");
    assert!(rows > 1000, "{rows} rows");
    assert!(count(&data, "click") > 0 && count(&data, "NOT click") > 0);
    assert!(count(&data, "survey IS NOT NULL") > 0 && count(&data, "survey IS NULL") > rows / 2);

    let split = output_dir(&dir, "sim.evo", "split");
    let parts: i64 =
        ["train", "valid", "test"].iter().map(|p| count(&split.join(format!("{p}.parquet")), "true")).sum();
    assert_eq!(parts, rows);

    let scored = output_dir(&dir, "sim.evo", "scored").join("data.parquet");
    assert_eq!(columns(&scored).last().unwrap(), &("reward".to_string(), "DOUBLE".to_string()));
    assert_eq!(count(&scored, "reward >= 1.0"), count(&data, "click"));

    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(output_dir(&dir, "sim.evo", "env").join("env.json")).unwrap())
            .unwrap();
    assert_eq!(env["kind"], "simulator");
    assert_eq!(
        (env["world"]["users"].as_u64(), env["world"]["seed"].as_u64(), env["days"].as_u64()),
        (Some(300), Some(4), Some(5))
    );
}

#[test]
fn the_same_workflow_logs_the_same_rows() {
    let (a, b) = (Dir::new(), Dir::new());
    for d in [&a, &b] {
        d.file("sim.evo", "dataset events = std::sim::logs(users: 50, items: 20, days: 2, seed: 9)\n");
        d.status(["run", "sim.evo"], 0);
    }
    let read = |d: &Dir| {
        let file = output_dir(d, "sim.evo", "events").join("data.parquet");
        let conn = Connection::open_in_memory().unwrap();
        let sql = format!(
            "SELECT count(*), string_agg(CAST(t AS VARCHAR), ';' ORDER BY day, \"user\", time, position, item) \
             FROM read_parquet({}) t",
            sql_path(&file)
        );
        conn.query_row(&sql, [], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).unwrap()
    };
    let (rows, text) = read(&a);
    assert!(rows > 20, "{rows} rows");
    assert_eq!((rows, text), read(&b));
}

#[test]
fn a_metric_table_becomes_an_environment() {
    let dir = Dir::new();
    dir.file(
        "metrics.csv",
        "arm,day,metric,value\ncontrol,0,watch_time,10.5\ntreatment_1,0,watch_time,11\ncontrol,1,return_rate,0.4\n",
    );
    dir.file("t.evo", "let env = std::sim::from_table(\"metrics.csv\")\n");
    dir.status(["run", "t.evo"], 0);
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(output_dir(&dir, "t.evo", "env").join("env.json")).unwrap())
            .unwrap();
    assert_eq!(env["kind"], "table");
    assert!(env["path"].as_str().unwrap().ends_with("metrics.csv"), "{env}");
}

#[test]
fn a_metric_table_without_a_needed_column_is_refused_by_name() {
    let dir = Dir::new();
    dir.file("metrics.csv", "arm,day,value\ncontrol,0,10.5\n");
    dir.file("t.evo", "let env = std::sim::from_table(\"metrics.csv\")\n");
    let out = dir.status(["run", "t.evo", "--json"], 1);
    let (_, status, error) = finished(&out.stdout).into_iter().find(|(n, ..)| n == "env").unwrap();
    assert_eq!(status, "failed");
    let error = error.unwrap();
    assert!(error.contains("has no column `metric`"), "{error}");
    assert!(error.contains("it has: arm, day, value"), "{error}");
}

#[test]
fn a_metric_table_with_a_bad_day_is_refused_with_its_row() {
    let dir = Dir::new();
    dir.file("metrics.csv", "arm,day,metric,value\ncontrol,0,clicks,1\ncontrol,-1,clicks,2\n");
    dir.file("t.evo", "let env = std::sim::from_table(\"metrics.csv\")\n");
    let out = dir.status(["run", "t.evo", "--json"], 1);
    let (_, _, error) = finished(&out.stdout).into_iter().find(|(n, ..)| n == "env").unwrap();
    assert!(error.as_deref().unwrap_or_default().contains("data row 2 has day -1; days count from 0"), "{error:?}");
}
