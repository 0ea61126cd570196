//! Schema creation, idempotent re-opening, refusal of newer files, and failed migrations rolling
//! back.

use duckdb::Connection;
use journal::schema::{apply_migrations, schema_version, CURRENT_VERSION, MIGRATIONS};
use journal::{Error, Journal, RunStart};

fn tables(conn: &Connection) -> Vec<String> {
    let mut stmt =
        conn.prepare("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name").unwrap();
    let rows = stmt.query_map([], |row| row.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn a_new_journal_has_every_table_at_the_current_version() {
    let journal = Journal::open_in_memory().unwrap();
    assert_eq!(journal.schema_version().unwrap(), CURRENT_VERSION);
    assert_eq!(CURRENT_VERSION, MIGRATIONS.len() as i64);
    assert_eq!(
        tables(journal.connection()),
        [
            "artifacts",
            "decisions",
            "experiments",
            "jobs",
            "llm_calls",
            "metrics",
            "models",
            "online_metrics",
            "runs",
            "schema_version",
            "steps",
            "tool_calls"
        ]
    );
    // The status columns refuse values outside their documented sets.
    let bad = journal.connection().execute(
        "INSERT INTO runs (workflow, file, started_at, status, evoflow_version) \
         VALUES ('w', 'f', now()::TIMESTAMP, 'exploded', 'v')",
        [],
    );
    assert!(bad.is_err(), "runs.status accepted 'exploded'");
    let bad = journal.connection().execute(
        "INSERT INTO experiments (status, kind, created_at, updated_at) \
         VALUES ('proposed', 'wild', now()::TIMESTAMP, now()::TIMESTAMP)",
        [],
    );
    assert!(bad.is_err(), "experiments.kind accepted 'wild'");
}

#[test]
fn reopening_migrates_nothing_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.duckdb");
    let run_id = {
        let mut journal = Journal::open(&path).unwrap();
        journal
            .begin_run(RunStart {
                workflow: "w".into(),
                file: "w.evo".into(),
                params: serde_json::json!({"budget": 3}),
                evoflow_version: "0.1.0".into(),
            })
            .unwrap()
    };
    for _ in 0..2 {
        let journal = Journal::open(&path).unwrap();
        assert_eq!(journal.schema_version().unwrap(), CURRENT_VERSION);
        let versions: i64 =
            journal.connection().query_row("SELECT count(*) FROM schema_version", [], |row| row.get(0)).unwrap();
        assert_eq!(versions, CURRENT_VERSION, "a migration was recorded twice");
        assert_eq!(journal.run(run_id).unwrap().unwrap().params["budget"], 3);
    }
    // Applying the list again by hand is a no-op as well.
    let mut conn = Connection::open(&path).unwrap();
    assert_eq!(apply_migrations(&mut conn, "again", MIGRATIONS).unwrap(), Vec::<i64>::new());
}

#[test]
fn an_older_journal_is_migrated_in_a_copy_that_keeps_its_rows_and_leaves_nothing_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.duckdb");
    {
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(apply_migrations(&mut conn, "v1", &MIGRATIONS[..1]).unwrap(), vec![1]);
        // A row that only the WAL holds when the file is opened again.
        conn.execute_batch("PRAGMA disable_checkpoint_on_shutdown").unwrap();
        conn.execute(
            "INSERT INTO runs (workflow, file, started_at, status, evoflow_version)
             VALUES ('w', 'w.evo', now()::TIMESTAMP, 'succeeded', '0.1.0')",
            [],
        )
        .unwrap();
    }
    let journal = Journal::open(&path).unwrap();
    assert_eq!(journal.schema_version().unwrap(), CURRENT_VERSION);
    let runs: i64 = journal.connection().query_row("SELECT count(*) FROM runs", [], |row| row.get(0)).unwrap();
    assert_eq!(runs, 1, "the row from before the migration is kept");
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("migrating"))
        .collect();
    assert!(left.is_empty(), "the migration copy is gone: {left:?}");
}

#[test]
fn a_file_from_a_newer_evoflow_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.duckdb");
    drop(Journal::open(&path).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", [CURRENT_VERSION + 5]).unwrap();
    }
    let err = Journal::open(&path).err().expect("a newer file must not open");
    assert_eq!(err.code(), "journal.schema_too_new");
    match &err {
        Error::SchemaTooNew { found, supported, .. } => {
            assert_eq!((*found, *supported), (CURRENT_VERSION + 5, CURRENT_VERSION));
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(err.to_string().contains("upgrade evoflow"), "{err}");
}

#[test]
fn a_failing_migration_rolls_back_entirely() {
    let mut conn = Connection::open_in_memory().unwrap();
    let good = "CREATE TABLE a (x INTEGER);";
    // The second migration creates a table and then fails: neither may survive.
    let bad = "CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;";
    let err = apply_migrations(&mut conn, "mem", &[good, bad]).unwrap_err();
    assert_eq!(err.code(), "journal.migration");
    assert!(matches!(err, Error::Migration { version: 2, .. }), "{err}");
    assert_eq!(schema_version(&conn).unwrap(), 1);
    assert_eq!(tables(&conn), ["a", "schema_version"]);
    // Fixing the list later applies just the missing migration.
    let fixed = "CREATE TABLE b (y INTEGER);";
    assert_eq!(apply_migrations(&mut conn, "mem", &[good, fixed]).unwrap(), vec![2]);
    assert_eq!(tables(&conn), ["a", "b", "schema_version"]);
}

#[test]
fn a_file_that_is_not_a_journal_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "these are not the tables you are looking for\n".repeat(200)).unwrap();
    let err = Journal::open(&path).err().expect("a text file must not open as a journal");
    assert_eq!(err.code(), "journal.db", "{err}");
    assert!(Journal::open(dir.path()).is_err(), "a directory must not open as a journal");
    // A DuckDB file without the journal's tables is adopted and migrated.
    let other = dir.path().join("other.duckdb");
    Connection::open(&other).unwrap().execute_batch("CREATE TABLE mine (x INTEGER)").unwrap();
    assert_eq!(Journal::open(&other).unwrap().schema_version().unwrap(), CURRENT_VERSION);
}
