//! The read-only query service's normal use: the allowed statement kinds, truncation by rows
//! and bytes, the three renderings, querying an open journal, and a file locked by another
//! process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use journal::{query_readonly, Journal, QueryLimits, RunStart};
use serde_json::json;

fn journal_with_runs(dir: &Path, runs: usize) -> PathBuf {
    let path = dir.join("journal.duckdb");
    let mut j = Journal::open(&path).unwrap();
    for i in 0..runs {
        j.begin_run(RunStart {
            workflow: format!("wf{i}"),
            file: "w.evo".into(),
            params: json!({"i": i}),
            evoflow_version: "v".into(),
        })
        .unwrap();
    }
    path
}

#[test]
fn the_allowed_statement_kinds_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_runs(dir.path(), 3);
    let l = QueryLimits::default();
    let t = query_readonly(&path, "SELECT id, workflow FROM runs ORDER BY id", &l).unwrap();
    assert_eq!(t.columns, ["id", "workflow"]);
    assert_eq!(t.rows, vec![vec![json!(1), json!("wf0")], vec![json!(2), json!("wf1")], vec![json!(3), json!("wf2")]]);
    assert!(!t.truncated && t.note.is_none());

    let t = query_readonly(&path, "  -- comment\n/* c */ FROM runs SELECT count(*) AS n;", &l).unwrap();
    assert_eq!(t.rows, vec![vec![json!(3)]]);
    let t = query_readonly(&path, "WITH w AS (SELECT * FROM runs WHERE id > 1) SELECT count(*) FROM w", &l).unwrap();
    assert_eq!(t.rows, vec![vec![json!(2)]]);
    let t = query_readonly(&path, "(SELECT 'a;b' AS s /* ; DROP TABLE runs */)", &l).unwrap();
    assert_eq!(t.rows, vec![vec![json!("a;b")]]);
    let t = query_readonly(&path, "DESCRIBE steps", &l).unwrap();
    assert!(t.rows.iter().any(|r| r[0] == json!("cache_key")), "{}", t.to_text());
    let t = query_readonly(&path, "SHOW TABLES", &l).unwrap();
    assert!(t.rows.iter().any(|r| r[0] == json!("experiments")), "{}", t.to_text());
    let t = query_readonly(&path, "SUMMARIZE runs", &l).unwrap();
    assert!(t.columns.contains(&"column_name".to_string()));
    let t = query_readonly(&path, "EXPLAIN SELECT * FROM runs", &l).unwrap();
    assert!(!t.rows.is_empty());
    let t = query_readonly(&path, "VALUES (1, 'x')", &l).unwrap();
    assert_eq!(t.rows, vec![vec![json!(1), json!("x")]]);
    // Values of many types come back as JSON.
    let t = query_readonly(
        &path,
        "SELECT params, 1.50::DECIMAL(4,2) AS d, TIMESTAMP '2026-01-02 03:04:05' AS ts, DATE '2000-02-29' AS day, \
         [1, 2] AS l, {'a': 1} AS st, NULL AS n, 9007199254740993::BIGINT AS big, 'NaN'::DOUBLE AS nan, true AS b \
         FROM runs WHERE id = 2",
        &l,
    )
    .unwrap();
    assert_eq!(
        t.rows[0],
        vec![
            json!("{\"i\":1}"),
            json!("1.50"),
            json!("2026-01-02 03:04:05"),
            json!("2000-02-29"),
            json!([1, 2]),
            json!({"a": 1}),
            json!(null),
            json!("9007199254740993"),
            json!("NaN"),
            json!(true)
        ]
    );
}

#[test]
fn results_are_cut_at_the_row_and_byte_limits() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_runs(dir.path(), 1);
    let rows = QueryLimits { max_rows: 10, ..QueryLimits::default() };
    let t = query_readonly(&path, "SELECT range AS i FROM range(1000000)", &rows).unwrap();
    assert_eq!(t.rows.len(), 10);
    assert!(t.truncated);
    assert!(t.note.as_deref().unwrap().contains("more than 10 rows"));
    assert_eq!(t.rows[9], vec![json!(9)]);
    // Exactly at the limit is not truncated.
    let t = query_readonly(&path, "SELECT range AS i FROM range(10)", &rows).unwrap();
    assert_eq!((t.rows.len(), t.truncated), (10, false));

    let bytes = QueryLimits { max_bytes: 1000, ..QueryLimits::default() };
    let t = query_readonly(&path, "SELECT repeat('x', 100) AS s FROM range(100)", &bytes).unwrap();
    assert!(t.truncated);
    let size: usize = t.rows.iter().map(|r| serde_json::to_string(r).unwrap().len() + 1).sum();
    assert!(size <= 1000 && !t.rows.is_empty(), "{} rows, {size} bytes", t.rows.len());
    assert!(t.rows.len() < 100);
    assert!(t.note.as_deref().unwrap().contains("1000 bytes"));
    assert!(t.to_text().ends_with(&format!("{}\n", t.note.as_deref().unwrap())));
}

#[test]
fn tables_render_as_text_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_runs(dir.path(), 2);
    let t = query_readonly(&path, "SELECT id, workflow, NULL AS note FROM runs ORDER BY id", &QueryLimits::default())
        .unwrap();
    assert_eq!(
        t.to_text(),
        "id | workflow | note\n---+----------+-----\n 1 | wf0      | NULL\n 2 | wf1      | NULL\n(2 rows)\n"
    );
    assert_eq!(t.to_csv(), "id,workflow,note\n1,wf0,\n2,wf1,\n");
    let parsed: serde_json::Value = serde_json::from_str(&t.to_json()).unwrap();
    assert_eq!(
        parsed,
        json!({"columns": ["id", "workflow", "note"], "rows": [[1, "wf0", null], [2, "wf1", null]],
               "truncated": false, "note": null})
    );
}

#[test]
fn an_open_journal_answers_through_a_snapshot_that_is_removed_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_runs(dir.path(), 2);
    let mut j = Journal::open(&path).unwrap();
    // Uncommitted-to-disk state (still in the WAL) is visible: the snapshot is transactional.
    j.begin_run(RunStart {
        workflow: "late".into(),
        file: "f".into(),
        params: json!(null),
        evoflow_version: "v".into(),
    })
    .unwrap();
    let snapshots = || {
        std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name().to_string_lossy().into_owned();
                name.starts_with(&format!("evoflow-journal-snapshot-{}-", std::process::id()))
            })
            .count()
    };
    let t = j.query_readonly("SELECT workflow FROM runs ORDER BY id", &QueryLimits::default()).unwrap();
    assert_eq!(t.rows, vec![vec![json!("wf0")], vec![json!("wf1")], vec![json!("late")]]);
    assert_eq!(snapshots(), 0, "a snapshot file was left behind");
    // The journal keeps working, and an in-memory journal can be queried the same way.
    j.begin_run(RunStart {
        workflow: "after".into(),
        file: "f".into(),
        params: json!(null),
        evoflow_version: "v".into(),
    })
    .unwrap();
    let mem = Journal::open_in_memory().unwrap();
    let t = mem.query_readonly("SELECT count(*) FROM runs", &QueryLimits::default()).unwrap();
    assert_eq!(t.rows, vec![vec![json!(0)]]);
    let err = mem.query_readonly("DROP TABLE runs", &QueryLimits::default()).unwrap_err();
    assert_eq!(err.code(), "query.not_read_only");
}

#[test]
fn a_missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.duckdb");
    let err = query_readonly(&missing, "SELECT 1", &QueryLimits::default()).unwrap_err();
    assert_eq!(err.code(), "journal.io");
    assert!(!missing.exists(), "a read-only query must not create the file");
    for empty in ["", "   ", "-- nothing\n", "/* */ ;"] {
        let err = query_readonly(&missing, empty, &QueryLimits::default()).unwrap_err();
        assert_eq!(err.code(), "query.empty", "{empty:?}");
    }
}

/// Not a test by itself: run by `a_file_held_by_another_process_is_busy` in a child process, it
/// holds the journal open for writing until its stdin closes.
#[test]
#[ignore = "a child-process helper for a_file_held_by_another_process_is_busy, not a test"]
fn hold_journal_open_helper() {
    let Ok(path) = std::env::var("JOURNAL_HOLD_PATH") else { return };
    let _j = Journal::open(Path::new(&path)).unwrap();
    println!("HOLDING");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[test]
fn a_file_held_by_another_process_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_runs(dir.path(), 1);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hold_journal_open_helper", "--ignored", "--nocapture", "--test-threads=1"])
        .env("JOURNAL_HOLD_PATH", &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("HOLDING") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the helper exited before holding the journal");
    }
    let l = QueryLimits { timeout: Duration::from_secs(20), ..QueryLimits::default() };
    let err = query_readonly(&path, "SELECT 1", &l).unwrap_err();
    assert_eq!(err.code(), "journal.busy", "{err}");
    let err = Journal::open(&path).err().expect("a second writer must be refused");
    assert_eq!(err.code(), "journal.busy", "{err}");
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    // Released: both work again.
    assert_eq!(query_readonly(&path, "SELECT count(*) FROM runs", &l).unwrap().rows, vec![vec![json!(1)]]);
    Journal::open(&path).unwrap();
}

#[test]
fn this_process_cannot_open_a_second_instance_of_its_own_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_runs(dir.path(), 1);
    let j = Journal::open(&path).unwrap();
    // DuckDB itself would allow both (its file lock is per process); the journal refuses.
    let err = query_readonly(&path, "SELECT 1", &QueryLimits::default()).unwrap_err();
    assert_eq!(err.code(), "journal.busy");
    assert!(err.to_string().contains("Journal::query_readonly"), "{err}");
    let other_spelling = dir.path().join(".").join("journal.duckdb");
    assert_eq!(Journal::open(&other_spelling).err().unwrap().code(), "journal.busy");
    drop(j);
    assert_eq!(
        query_readonly(&path, "SELECT count(*) FROM runs", &QueryLimits::default()).unwrap().rows,
        vec![vec![json!(1)]]
    );
    drop(Journal::open(&other_spelling).unwrap());
}

#[test]
fn parquet_tables_join_the_snapshot_while_host_files_stay_out_of_reach() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs.parquet");
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let file = logs.to_string_lossy().to_string();
    conn.execute_batch(&format!(
        "COPY (SELECT i AS user, i % 3 = 0 AS click FROM range(30) t(i)) TO '{file}' (FORMAT parquet)"
    ))
    .unwrap();
    let journal = Journal::open(&dir.path().join("j.duckdb")).unwrap();
    let limits = QueryLimits::default();
    let tables = [("logs".to_string(), logs.clone())];
    let table =
        journal.query_readonly_with("SELECT count(*) AS clicks FROM logs WHERE click", &limits, &tables).unwrap();
    assert_eq!(table.rows, vec![vec![json!(10)]]);
    // The file itself is still not readable from the query.
    let direct = journal.query_readonly_with(&format!("SELECT * FROM read_parquet('{file}')"), &limits, &tables);
    assert!(direct.is_err(), "read a host file: {direct:?}");
    let bad = journal.query_readonly_with("SELECT 1", &limits, &[("x; DROP TABLE runs".to_string(), logs)]);
    assert!(bad.is_err());
}

#[test]
fn the_agents_view_has_no_test_split() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(&dir.path().join("j.duckdb")).unwrap();
    let metrics = json!({"valid": {"ndcg@10": 0.21}, "test": {"ndcg@10": 0.29}});
    let experiment = journal::ExperimentRecord {
        key: "e1".into(),
        status: journal::ExperimentStatus::Trained,
        offline_metrics: Some(metrics.clone()),
        offline_score: Some(0.21),
        test_score: Some(0.29),
        ..Default::default()
    };
    journal.transaction(|tx| tx.upsert_experiment(&experiment)).unwrap();
    let value = |split: &str, v| journal::MetricValue {
        hash: "h".into(),
        node_id: "train".into(),
        step: "std::train::train".into(),
        split: split.into(),
        metric: "ndcg@10".into(),
        value: v,
    };
    journal.transaction(|tx| tx.record_metrics(&[value("valid", 0.21), value("test", 0.29)])).unwrap();
    let meta = json!({"valid": {"ndcg@10": 0.21}, "test": {"ndcg@10": 0.29}, "test_users": 9}).to_string();
    let artifact = |hash: &str, step: &str, meta: String| journal::Artifact {
        hash: hash.into(),
        node_id: "n".into(),
        step: step.into(),
        bytes: 1,
        files: 1,
        meta: Some(meta),
    };
    journal.record_artifact(&artifact("a1", "std::train::train", meta)).unwrap();
    let summary = json!({"best": {"score": 0.21, "test": 0.29}, "baseline_test": 0.28, "baseline_score": 0.2});
    journal.record_artifact(&artifact("a2", "std::loops::offline", summary.to_string())).unwrap();

    let limits = QueryLimits::default();
    let all =
        "SELECT (SELECT to_json(list(e)) FROM experiments e) AS e, (SELECT to_json(list(m)) FROM metrics m) AS m, \
               (SELECT to_json(list(a.meta)) FROM artifacts a) AS a";
    let seen = journal.query_for_agents(all, &limits, &[]).unwrap().to_text();
    assert!(!seen.contains("0.29") && !seen.contains("0.28") && !seen.contains("\"test\""), "{seen}");
    assert!(seen.contains("0.21"), "validation stays: {seen}");
    // People see everything: the journal itself is untouched.
    let people = journal.query_readonly(all, &limits).unwrap().to_text();
    assert!(people.contains("0.29") && people.contains("0.28"), "{people}");
}
