//! Hostile SQL against the read-only query service: writes, DDL, host-file access, extension
//! loading, settings, multiple statements and runaway queries are all refused or interrupted,
//! and the journal file is byte-for-byte unchanged afterwards.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use journal::{query_readonly, Artifact, Journal, QueryLimits, RunStart, StepRecord, StepStatus};

/// A journal file with one finished run, two steps and an artifact; returns its path.
fn populated(dir: &Path) -> PathBuf {
    let path = dir.join("journal.duckdb");
    let mut j = Journal::open(&path).unwrap();
    let run = j
        .begin_run(RunStart {
            workflow: "w".into(),
            file: "w.evo".into(),
            params: serde_json::json!({"budget": 1}),
            evoflow_version: "v".into(),
        })
        .unwrap();
    for node in ["a", "b"] {
        j.step_started(run, node, "s", "k", 1).unwrap();
        j.step_finished(&StepRecord {
            run_id: run,
            node_id: node.into(),
            step: None,
            cache_key: None,
            status: StepStatus::Done,
            attempts: 1,
            error: None,
            output_hash: Some(format!("h-{node}")),
            duration_ms: Some(1),
        })
        .unwrap();
    }
    j.record_artifact(&Artifact {
        hash: "h-a".into(),
        node_id: "a".into(),
        step: "s".into(),
        bytes: 3,
        files: 1,
        meta: None,
    })
    .unwrap();
    j.finish_run(run, journal::RunStatus::Succeeded).unwrap();
    path
}

fn limits() -> QueryLimits {
    QueryLimits { timeout: Duration::from_secs(20), ..QueryLimits::default() }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Statements refused before anything runs, with the kind the message must name.
fn refused_statements(dir: &Path) -> Vec<(String, &'static str)> {
    let d = dir.display();
    vec![
        ("INSERT INTO artifacts VALUES ('x', 'n', 's', 1, 1, now()::TIMESTAMP, NULL)".into(), "INSERT"),
        ("UPDATE runs SET status = 'failed'".into(), "UPDATE"),
        ("DELETE FROM steps".into(), "DELETE"),
        ("CREATE TABLE evil (x INTEGER)".into(), "CREATE"),
        ("CREATE OR REPLACE MACRO m() AS 1".into(), "CREATE"),
        ("DROP TABLE runs".into(), "DROP"),
        ("ALTER TABLE runs ADD COLUMN evil INTEGER".into(), "ALTER"),
        (format!("ATTACH '{d}/evil.duckdb' AS evil"), "ATTACH"),
        ("DETACH journal".into(), "DETACH"),
        (format!("COPY runs TO '{d}/out.csv'"), "COPY"),
        (format!("COPY (SELECT * FROM runs) TO '{d}/out.parquet' (FORMAT parquet)"), "COPY"),
        ("COPY runs FROM '/etc/passwd'".into(), "COPY"),
        (format!("EXPORT DATABASE '{d}/export'"), "EXPORT"),
        (format!("IMPORT DATABASE '{d}/export'"), "IMPORT"),
        ("INSTALL httpfs".into(), "INSTALL"),
        ("LOAD httpfs".into(), "LOAD"),
        ("FORCE INSTALL httpfs".into(), "FORCE"),
        ("PRAGMA database_list".into(), "PRAGMA"),
        ("PRAGMA enable_profiling".into(), "PRAGMA"),
        ("SET enable_external_access = true".into(), "SET"),
        ("SET lock_configuration = false".into(), "SET"),
        ("RESET enable_external_access".into(), "RESET"),
        ("CALL pragma_table_info('runs')".into(), "CALL"),
        ("CHECKPOINT".into(), "CHECKPOINT"),
        ("VACUUM".into(), "VACUUM"),
        ("BEGIN TRANSACTION".into(), "BEGIN"),
        ("PREPARE p AS DELETE FROM runs".into(), "PREPARE"),
        ("EXECUTE p".into(), "EXECUTE"),
        ("USE journal".into(), "USE"),
        ("EXPLAIN ANALYZE DELETE FROM runs".into(), "DELETE"),
        ("/* SELECT */ DELETE FROM runs".into(), "DELETE"),
        ("-- SELECT\nDROP TABLE runs".into(), "DROP"),
        // Passes the keyword gate; DuckDB's own statement type catches it.
        (
            "WITH x AS (SELECT 1) INSERT INTO artifacts VALUES ('x', 'n', 's', 1, 1, now()::TIMESTAMP, NULL)".into(),
            "INSERT",
        ),
        ("WITH x AS (SELECT 1) DELETE FROM runs".into(), "DELETE"),
    ]
}

/// Reads that must fail inside DuckDB: host files, the network, sequences, nested SQL.
const FAILING_READS: &[&str] = &[
    "SELECT * FROM read_csv('/etc/passwd')",
    "FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_parquet('/etc/passwd')",
    "SELECT * FROM read_json('/etc/passwd')",
    "SELECT * FROM read_csv('https://example.com/x.csv')",
    "DESCRIBE SELECT * FROM read_csv('/etc/passwd')",
    "SUMMARIZE SELECT * FROM read_text('/etc/passwd')",
    "SELECT nextval('runs_id_seq')",
    "SELECT * FROM query('DELETE FROM runs')",
    "SELECT * FROM sqlite_scan('/etc/passwd', 'x')",
];

fn assert_refused(result: journal::Result<journal::Table>, sql: &str, kind: &str) {
    match result {
        Err(e @ journal::Error::NotReadOnly { .. }) => {
            let message = e.to_string();
            assert!(message.starts_with(kind), "{sql:?}: message {message:?} should name {kind}");
            assert!(message.contains("allowed are SELECT"), "{message}");
            assert_eq!(e.code(), "query.not_read_only");
        }
        other => panic!("{sql:?} was not refused as {kind}: {other:?}"),
    }
}

#[test]
fn hostile_sql_is_refused_and_the_file_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(dir.path());
    let before = std::fs::read(&path).unwrap();
    let files_before = listing(dir.path());

    for (sql, kind) in refused_statements(dir.path()) {
        assert_refused(query_readonly(&path, &sql, &limits()), &sql, kind);
    }
    for sql in FAILING_READS {
        let err = query_readonly(&path, sql, &limits()).expect_err(sql);
        assert!(matches!(err, journal::Error::Query(_) | journal::Error::NotReadOnly { .. }), "{sql:?}: {err:?}");
    }
    // The host-file refusals come from DuckDB's external-access switch, not from luck.
    let err = query_readonly(&path, "SELECT * FROM read_csv('/etc/passwd')", &limits()).unwrap_err();
    assert!(err.to_string().contains("disabled"), "{err}");
    for sql in ["SELECT 1; DROP TABLE runs", "SELECT ';'; DELETE FROM runs", "SELECT 1; SELECT 2", "SELECT 1;;SELECT 2"]
    {
        let err = query_readonly(&path, sql, &limits()).unwrap_err();
        assert_eq!(err.code(), "query.multiple_statements", "{sql:?}: {err}");
    }

    // The guards really are in force inside the query's instance.
    let settings = query_readonly(
        &path,
        "SELECT name, value FROM duckdb_settings() WHERE name IN \
         ('access_mode', 'enable_external_access', 'lock_configuration', \
          'autoload_known_extensions', 'autoinstall_known_extensions') ORDER BY name",
        &limits(),
    )
    .unwrap();
    let settings: Vec<(String, String)> = settings
        .rows
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_str().unwrap().to_lowercase()))
        .collect();
    let expected = [
        ("access_mode", "read_only"),
        ("autoinstall_known_extensions", "false"),
        ("autoload_known_extensions", "false"),
        ("enable_external_access", "false"),
        ("lock_configuration", "true"),
    ];
    assert_eq!(settings, expected.map(|(a, b)| (a.to_string(), b.to_string())));

    assert_eq!(std::fs::read(&path).unwrap(), before, "the journal file changed");
    assert_eq!(listing(dir.path()), files_before, "a query created or removed files");
    let j = Journal::open(&path).unwrap();
    let counts: (i64, i64, i64) = j
        .connection()
        .query_row(
            "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM steps), (SELECT count(*) FROM artifacts)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(counts, (1, 2, 1));
}

#[test]
fn hostile_sql_through_an_open_journal_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(dir.path());
    let j = Journal::open(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    for (sql, kind) in refused_statements(dir.path()) {
        assert_refused(j.query_readonly(&sql, &limits()), &sql, kind);
    }
    for sql in FAILING_READS {
        assert!(j.query_readonly(sql, &limits()).is_err(), "{sql:?} succeeded");
    }
    let err = j.query_readonly("SELECT 1; DELETE FROM runs", &limits()).unwrap_err();
    assert_eq!(err.code(), "query.multiple_statements");
    assert_eq!(std::fs::read(&path).unwrap(), before, "the journal file changed");
    let runs: i64 = j.connection().query_row("SELECT count(*) FROM runs", [], |r| r.get(0)).unwrap();
    assert_eq!(runs, 1);
    let next: i64 = j.connection().query_row("SELECT nextval('runs_id_seq')", [], |r| r.get(0)).unwrap();
    assert_eq!(next, 2, "a query advanced the journal's sequence");
}

#[test]
fn a_runaway_query_is_interrupted_at_the_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(dir.path());
    let before = std::fs::read(&path).unwrap();
    let limits = QueryLimits { timeout: Duration::from_millis(200), ..QueryLimits::default() };
    let started = Instant::now();
    let err = query_readonly(&path, "SELECT count(*) FROM range(100000000) a, range(1000) b", &limits).unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code(), "query.timeout", "{err}");
    // Well under INTERRUPT_GRACE (5 s): the interrupt stopped the query, we did not give up on it.
    assert!(took < Duration::from_secs(3), "the interrupt took {took:?}");
    // A runaway recursive CTE through the open-journal path, too.
    let j = Journal::open(&path).unwrap();
    let err = j
        .query_readonly(
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
            &limits,
        )
        .unwrap_err();
    assert_eq!(err.code(), "query.timeout", "{err}");
    drop(j);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // The service works normally right after.
    let t = query_readonly(&path, "SELECT count(*) AS n FROM steps", &QueryLimits::default()).unwrap();
    assert_eq!(t.rows, vec![vec![serde_json::json!(2)]]);
}
