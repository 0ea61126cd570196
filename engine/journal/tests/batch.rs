//! Batched step updates: what the engine's writer lands in one transaction reads back as if each
//! record had been written on its own.

use journal::{Artifact, Journal, RunStart, StepStatus, StepUpdate};

fn journal() -> (Journal, i64) {
    let mut j = Journal::open_in_memory().unwrap();
    let run = j
        .begin_run(RunStart {
            workflow: "w".into(),
            file: "w.evo".into(),
            params: serde_json::json!({}),
            evoflow_version: "0.1.0".into(),
        })
        .unwrap();
    (j, run)
}

fn started(node: &str, attempt: u32, at: i64) -> StepUpdate {
    StepUpdate {
        node_id: node.into(),
        step: Some("std::debug::echo".into()),
        cache_key: Some(format!("key-{node}")),
        status: StepStatus::Running,
        attempts: attempt,
        started_at: Some(at),
        finished_at: None,
        duration_ms: None,
        error: None,
        output_hash: None,
    }
}

fn finished(node: &str, at: i64) -> StepUpdate {
    StepUpdate {
        node_id: node.into(),
        step: None,
        cache_key: None,
        status: StepStatus::Done,
        attempts: 1,
        started_at: None,
        finished_at: Some(at),
        duration_ms: Some(7),
        error: None,
        output_hash: Some(format!("out-{node}")),
    }
}

fn artifact(node: &str) -> Artifact {
    Artifact { hash: format!("out-{node}"), node_id: node.into(), step: "std::debug::echo".into(), bytes: 12, files: 1 }
}

fn rows(j: &Journal, sql: &str) -> Vec<String> {
    let mut stmt = j.connection().prepare(sql).unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        out.push(row.get::<_, String>(0).unwrap());
    }
    out
}

#[test]
fn a_finish_in_a_later_batch_keeps_what_the_start_recorded() {
    let (mut j, run) = journal();
    j.transaction(|tx| tx.apply_batch(run, &[started("a", 1, 1_000_000)], &[])).unwrap();
    j.transaction(|tx| tx.apply_batch(run, &[finished("a", 3_000_000)], &[artifact("a")])).unwrap();
    let row = rows(
        &j,
        "SELECT concat_ws(' ', step, cache_key, status, attempts, epoch_us(started_at), epoch_us(finished_at),
                duration_ms, output_hash) FROM steps",
    );
    assert_eq!(row, ["std::debug::echo key-a done 1 1000000 3000000 7 out-a"]);
}

#[test]
fn thousands_of_updates_and_repeated_artifacts_land_once_each() {
    let (mut j, run) = journal();
    let starts: Vec<StepUpdate> = (0..2500).map(|i| started(&format!("n{i}"), 1, i)).collect();
    j.transaction(|tx| tx.apply_batch(run, &starts, &[])).unwrap();
    let ends: Vec<StepUpdate> = (0..2500).map(|i| finished(&format!("n{i}"), 10_000 + i)).collect();
    // Two nodes with the same output: content addressing records the artifact once.
    let mut artifacts: Vec<Artifact> = (0..2500).map(|i| artifact(&format!("n{i}"))).collect();
    artifacts.push(artifact("n7"));
    j.transaction(|tx| tx.apply_batch(run, &ends, &artifacts)).unwrap();
    j.transaction(|tx| tx.apply_batch(run, &[], &[artifact("n7")])).unwrap();
    let counts = rows(
        &j,
        "SELECT concat_ws(' ', (SELECT count(*) FROM steps WHERE status = 'done' AND started_at IS NOT NULL),
                               (SELECT count(*) FROM artifacts))",
    );
    assert_eq!(counts, ["2500 2500"]);
}

#[test]
fn a_retry_clears_what_the_failed_attempt_recorded() {
    let (mut j, run) = journal();
    let mut failed = finished("a", 2);
    failed.status = StepStatus::Failed;
    failed.output_hash = None;
    failed.error = Some("boom".into());
    j.transaction(|tx| tx.apply_batch(run, &[failed], &[])).unwrap();
    j.transaction(|tx| tx.apply_batch(run, &[started("a", 2, 5)], &[])).unwrap();
    let row = rows(&j, "SELECT concat_ws(' ', status, attempts, coalesce(error, 'no error')) FROM steps");
    assert_eq!(row, ["running 2 no error"]);
}

#[test]
fn a_batch_for_an_unknown_run_is_refused_whole() {
    let (mut j, _) = journal();
    let err = j.transaction(|tx| tx.apply_batch(99, &[started("a", 1, 0)], &[artifact("a")])).unwrap_err();
    assert!(err.to_string().contains("99"), "{err}");
    assert_eq!(rows(&j, "SELECT count(*)::VARCHAR FROM artifacts"), ["0"]);
}
