//! Batched step updates: what the engine's writer lands in one transaction reads back as if each
//! record had been written on its own.

use journal::{Artifact, Journal, RunStart, StepStatus, StepUpdate, StepWriter};

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
    Artifact {
        hash: format!("out-{node}"),
        node_id: node.into(),
        step: "std::debug::echo".into(),
        bytes: 12,
        files: 1,
        meta: None,
    }
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
    let mut w = StepWriter::new(&mut j, run).unwrap();
    w.write(&mut j, &[started("a", 1, 1_000_000)], &[], |_| Ok(())).unwrap();
    w.write(&mut j, &[finished("a", 3_000_000)], &[artifact("a")], |_| Ok(())).unwrap();
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
    let mut w = StepWriter::new(&mut j, run).unwrap();
    let starts: Vec<StepUpdate> = (0..2500).map(|i| started(&format!("n{i}"), 1, i)).collect();
    w.write(&mut j, &starts, &[], |_| Ok(())).unwrap();
    let ends: Vec<StepUpdate> = (0..2500).map(|i| finished(&format!("n{i}"), 10_000 + i)).collect();
    // Two nodes with the same output: content addressing records the artifact once.
    let mut artifacts: Vec<Artifact> = (0..2500).map(|i| artifact(&format!("n{i}"))).collect();
    artifacts.push(artifact("n7"));
    w.write(&mut j, &ends, &artifacts, |_| Ok(())).unwrap();
    w.write(&mut j, &[], &[artifact("n7")], |_| Ok(())).unwrap();
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
    let mut w = StepWriter::new(&mut j, run).unwrap();
    let mut failed = finished("a", 2);
    failed.status = StepStatus::Failed;
    failed.output_hash = None;
    failed.error = Some("boom".into());
    w.write(&mut j, &[failed], &[], |_| Ok(())).unwrap();
    w.write(&mut j, &[started("a", 2, 5)], &[], |_| Ok(())).unwrap();
    let row = rows(&j, "SELECT concat_ws(' ', status, attempts, coalesce(error, 'no error')) FROM steps");
    assert_eq!(row, ["running 2 no error"]);
}

#[test]
fn a_writer_for_an_unknown_run_is_refused() {
    let (mut j, _) = journal();
    let err = StepWriter::new(&mut j, 99).err().expect("run 99 does not exist");
    assert!(err.to_string().contains("99"), "{err}");
}

#[test]
fn a_batch_whose_transaction_fails_lands_nothing_and_is_not_remembered() {
    let (mut j, run) = journal();
    let mut w = StepWriter::new(&mut j, run).unwrap();
    let refused = w.write(&mut j, &[started("a", 1, 0)], &[artifact("a")], |_| {
        Err(journal::Error::InvalidInput("the models of this batch are bad".into()))
    });
    assert!(refused.is_err());
    assert_eq!(rows(&j, "SELECT count(*)::VARCHAR FROM steps"), ["0"]);
    // The rows were rolled back, so the writer must insert them again rather than update nothing.
    w.write(&mut j, &[started("a", 1, 0)], &[artifact("a")], |_| Ok(())).unwrap();
    w.write(&mut j, &[finished("a", 3)], &[artifact("a")], |_| Ok(())).unwrap();
    let counts = rows(
        &j,
        "SELECT concat_ws(' ', (SELECT string_agg(status, ',') FROM steps), (SELECT count(*) FROM artifacts))",
    );
    assert_eq!(counts, ["done 1"]);
}

#[test]
fn a_second_writer_for_the_same_run_updates_the_rows_the_first_landed() {
    let (mut j, run) = journal();
    let mut first = StepWriter::new(&mut j, run).unwrap();
    first.write(&mut j, &[started("a", 1, 0)], &[], |_| Ok(())).unwrap();
    let mut second = StepWriter::new(&mut j, run).unwrap();
    second.write(&mut j, &[finished("a", 3)], &[artifact("a")], |_| Ok(())).unwrap();
    assert_eq!(rows(&j, "SELECT concat_ws(' ', status, output_hash) FROM steps"), ["done out-a"]);
}
