//! `Journal::transaction` writes a step's outcome and its artifact together or not at all.

use journal::{Artifact, Error, Journal, RunStart, StepRecord, StepStatus};

fn setup() -> (Journal, i64) {
    let mut j = Journal::open_in_memory().unwrap();
    let run = j
        .begin_run(RunStart {
            workflow: "w".into(),
            file: "w.evo".into(),
            params: serde_json::Value::Null,
            evoflow_version: "0.1.0".into(),
        })
        .unwrap();
    j.step_started(run, "train", "train", "key", 1).unwrap();
    (j, run)
}

fn done(run_id: i64) -> StepRecord {
    StepRecord {
        run_id,
        node_id: "train".into(),
        step: None,
        cache_key: None,
        status: StepStatus::Done,
        attempts: 1,
        error: None,
        output_hash: Some("h1".into()),
        duration_ms: Some(5),
    }
}

fn artifact() -> Artifact {
    Artifact { hash: "h1".into(), node_id: "train".into(), step: "train".into(), bytes: 1, files: 1, meta: None }
}

fn state(j: &Journal, run: i64) -> (StepStatus, i64) {
    let status = j.steps_of_run(run).unwrap()[0].status;
    let artifacts: i64 = j.connection().query_row("SELECT count(*) FROM artifacts", [], |r| r.get(0)).unwrap();
    (status, artifacts)
}

#[test]
fn a_committed_transaction_writes_both() {
    let (mut j, run) = setup();
    let value = j
        .transaction(|tx| {
            tx.step_finished(&done(run))?;
            tx.record_artifact(&artifact())
        })
        .unwrap();
    assert!(value);
    assert_eq!(state(&j, run), (StepStatus::Done, 1));
}

#[test]
fn an_error_mid_transaction_leaves_nothing() {
    let (mut j, run) = setup();
    let err = j
        .transaction(|tx| {
            tx.step_finished(&done(run))?;
            tx.record_artifact(&artifact())?;
            // A real failure from DuckDB after both writes: an unknown run id.
            tx.step_started(run + 1, "x", "x", "x", 1)
        })
        .unwrap_err();
    assert!(matches!(err, Error::UnknownRun(_)), "{err}");
    assert_eq!(state(&j, run), (StepStatus::Running, 0));

    // The same with a DuckDB-level error (a CHECK constraint) as the failing write.
    let err = j
        .transaction(|tx| {
            tx.step_finished(&done(run))?;
            tx.record_artifact(&artifact())?;
            tx.connection().execute("UPDATE runs SET status = 'exploded'", [])?;
            Ok(())
        })
        .unwrap_err();
    assert_eq!(err.code(), "journal.db");
    assert_eq!(state(&j, run), (StepStatus::Running, 0));

    // The journal is still usable afterwards.
    j.transaction(|tx| tx.step_finished(&done(run))).unwrap();
    assert_eq!(state(&j, run), (StepStatus::Done, 0));
}

#[test]
fn a_panic_mid_transaction_leaves_nothing() {
    let (mut j, run) = setup();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = j.transaction(|tx| -> journal::Result<()> {
            tx.step_finished(&done(run))?;
            tx.record_artifact(&artifact())?;
            panic!("engine bug");
        });
    }));
    assert!(outcome.is_err());
    assert_eq!(state(&j, run), (StepStatus::Running, 0));
}

#[test]
fn a_file_journal_keeps_no_trace_of_a_rolled_back_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.duckdb");
    let run = {
        let mut j = Journal::open(&path).unwrap();
        let run = j
            .begin_run(RunStart {
                workflow: "w".into(),
                file: "w.evo".into(),
                params: serde_json::json!({}),
                evoflow_version: "v".into(),
            })
            .unwrap();
        j.step_started(run, "train", "train", "key", 1).unwrap();
        let _ = j.transaction(|tx| -> journal::Result<()> {
            tx.step_finished(&done(run))?;
            tx.record_artifact(&artifact())?;
            Err(Error::InvalidInput("stop".into()))
        });
        run
    };
    let j = Journal::open(&path).unwrap();
    assert_eq!(state(&j, run), (StepStatus::Running, 0));
}
