//! A run with steps and artifacts round-trips through the journal, and its summary and cache
//! keys read back correctly.

use journal::{Artifact, Journal, RunStart, RunStatus, StepRecord, StepStatus};

fn start(workflow: &str) -> RunStart {
    RunStart {
        workflow: workflow.into(),
        file: format!("{workflow}.evo"),
        params: serde_json::json!({"budget": 24, "device": "cpu", "nested": {"k": [1, 2]}}),
        evoflow_version: "0.1.0".into(),
    }
}

fn finished(run_id: i64, node: &str, status: StepStatus, hash: Option<&str>) -> StepRecord {
    StepRecord {
        run_id,
        node_id: node.into(),
        step: None,
        cache_key: None,
        status,
        attempts: 1,
        error: None,
        output_hash: hash.map(str::to_string),
        duration_ms: Some(12),
    }
}

#[test]
fn a_run_with_steps_and_artifacts_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.duckdb");
    let run_id = {
        let mut j = Journal::open(&path).unwrap();
        let run_id = j.begin_run(start("quick")).unwrap();
        j.step_started(run_id, "load", "load_interactions", "key-load", 1).unwrap();
        j.step_finished(&finished(run_id, "load", StepStatus::Done, Some("h-load"))).unwrap();
        assert!(j
            .record_artifact(&Artifact {
                hash: "h-load".into(),
                node_id: "load".into(),
                step: "load_interactions".into(),
                bytes: 1234,
                files: 2,
                meta: None
            })
            .unwrap());
        j.step_started(run_id, "train", "train", "key-train", 1).unwrap();
        j.step_started(run_id, "train", "train", "key-train", 2).unwrap();
        let mut failed = finished(run_id, "train", StepStatus::Failed, None);
        failed.attempts = 2;
        failed.error = Some("loss is NaN".into());
        j.step_finished(&failed).unwrap();
        // A cached step never starts; its step name and key arrive with the outcome.
        let mut cached = finished(run_id, "split", StepStatus::Cached, Some("h-split"));
        cached.step = Some("random_split".into());
        cached.cache_key = Some("key-split".into());
        j.step_finished(&cached).unwrap();
        j.step_finished(&finished(run_id, "eval", StepStatus::Skipped, None)).unwrap();
        j.finish_run(run_id, RunStatus::Failed).unwrap();
        run_id
    };

    // Everything survives closing and reopening the file.
    let j = Journal::open(&path).unwrap();
    let run = j.run(run_id).unwrap().unwrap();
    assert_eq!(run.workflow, "quick");
    assert_eq!(run.file, "quick.evo");
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.params, start("quick").params);
    assert_eq!(run.pid, Some(i64::from(std::process::id())));
    assert!(run.host.is_some());
    assert!(run.finished_at.is_some() && run.finished_at.as_deref() >= Some(run.started_at.as_str()));

    let steps = j.steps_of_run(run_id).unwrap();
    let nodes: Vec<(&str, StepStatus)> = steps.iter().map(|s| (s.node_id.as_str(), s.status)).collect();
    assert_eq!(
        nodes,
        [
            ("eval", StepStatus::Skipped),
            ("load", StepStatus::Done),
            ("split", StepStatus::Cached),
            ("train", StepStatus::Failed)
        ]
    );
    let load = &steps[1];
    assert_eq!(load.step.as_deref(), Some("load_interactions"));
    assert_eq!(load.cache_key.as_deref(), Some("key-load"), "step_finished(None) must keep the key");
    assert_eq!(load.output_hash.as_deref(), Some("h-load"));
    assert_eq!(load.duration_ms, Some(12));
    assert!(load.started_at.is_some() && load.finished_at.is_some());
    let split = &steps[2];
    assert_eq!((split.step.as_deref(), split.cache_key.as_deref()), (Some("random_split"), Some("key-split")));
    assert_eq!(split.started_at, None);
    let train = &steps[3];
    assert_eq!((train.attempts, train.error.as_deref()), (2, Some("loss is NaN")));

    let summary = j.last_run().unwrap().unwrap();
    assert_eq!(summary.run.id, run_id);
    let counts: Vec<(StepStatus, u64)> = summary.step_counts.into_iter().collect();
    assert_eq!(
        counts,
        [(StepStatus::Done, 1), (StepStatus::Cached, 1), (StepStatus::Failed, 1), (StepStatus::Skipped, 1)]
    );
    assert!(summary.wall_ms.is_some_and(|ms| ms >= 0));
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(summary.failed[0].node_id, "train");
    assert_eq!(summary.failed[0].error.as_deref(), Some("loss is NaN"));

    let (hash, node, bytes, files): (String, String, i64, i32) = j
        .connection()
        .query_row("SELECT hash, node_id, bytes, files FROM artifacts", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    assert_eq!((hash.as_str(), node.as_str(), bytes, files), ("h-load", "load", 1234, 2));
}

#[test]
fn artifacts_are_insert_or_ignore() {
    let mut j = Journal::open_in_memory().unwrap();
    let a = Artifact { hash: "h".into(), node_id: "n1".into(), step: "s".into(), bytes: 10, files: 1, meta: None };
    assert!(j.record_artifact(&a).unwrap());
    let again = Artifact { node_id: "n2".into(), bytes: 99, ..a.clone() };
    assert!(!j.record_artifact(&again).unwrap(), "a known hash must not be recorded again");
    let (count, node): (i64, String) = j
        .connection()
        .query_row("SELECT count(*), any_value(node_id) FROM artifacts", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((count, node.as_str()), (1, "n1"));
    let huge = Artifact { bytes: u64::MAX, hash: "big".into(), ..a };
    assert_eq!(j.record_artifact(&huge).unwrap_err().code(), "journal.invalid_input");
}

#[test]
fn retries_reset_a_step_and_the_latest_done_key_wins() {
    let mut j = Journal::open_in_memory().unwrap();
    assert!(j.last_run().unwrap().is_none());
    assert!(j.latest_cache_keys().unwrap().is_empty());

    let r1 = j.begin_run(start("a")).unwrap();
    j.step_started(r1, "train", "train", "k1", 1).unwrap();
    j.step_finished(&finished(r1, "train", StepStatus::Done, Some("o1"))).unwrap();
    j.step_started(r1, "data", "load", "kd", 1).unwrap();
    j.step_finished(&finished(r1, "data", StepStatus::Done, Some("od"))).unwrap();
    j.finish_run(r1, RunStatus::Succeeded).unwrap();

    let r2 = j.begin_run(start("a")).unwrap();
    assert!(r2 > r1);
    j.step_started(r2, "train", "train", "k2", 1).unwrap();
    j.step_finished(&finished(r2, "train", StepStatus::Done, Some("o2"))).unwrap();
    // A failed later attempt must not replace the recorded key of a done step.
    j.step_started(r2, "data", "load", "kd-new", 1).unwrap();
    let mut fail = finished(r2, "data", StepStatus::Failed, None);
    fail.error = Some("boom".into());
    j.step_finished(&fail).unwrap();

    let keys = j.latest_cache_keys().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys["train"], ("k2".to_string(), "o2".to_string()));
    assert_eq!(keys["data"], ("kd".to_string(), "od".to_string()));

    // A retry clears the previous attempt's outcome.
    j.step_started(r2, "data", "load", "kd-new", 2).unwrap();
    let data = j.steps_of_run(r2).unwrap().into_iter().find(|s| s.node_id == "data").unwrap();
    assert_eq!((data.status, data.attempts, data.error, data.finished_at), (StepStatus::Running, 2, None, None));

    let summary = j.last_run().unwrap().unwrap();
    assert_eq!(summary.run.id, r2);
    assert_eq!(summary.run.status, RunStatus::Running);
    // Finishing a run leaves none of its steps running.
    j.finish_run(r2, RunStatus::Interrupted).unwrap();
    let data = j.steps_of_run(r2).unwrap().into_iter().find(|s| s.node_id == "data").unwrap();
    assert_eq!(data.status, StepStatus::Interrupted);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let mut j = Journal::open_in_memory().unwrap();
    assert_eq!(j.finish_run(42, RunStatus::Succeeded).unwrap_err().code(), "journal.unknown_run");
    assert_eq!(j.step_started(42, "n", "s", "k", 1).unwrap_err().code(), "journal.unknown_run");
    assert_eq!(j.step_finished(&finished(42, "n", StepStatus::Done, None)).unwrap_err().code(), "journal.unknown_run");
    let run = j.begin_run(start("x")).unwrap();
    assert_eq!(
        j.step_finished(&finished(run, "n", StepStatus::Running, None)).unwrap_err().code(),
        "journal.invalid_input"
    );
    assert_eq!(j.run_summary(run + 100).unwrap_err().code(), "journal.unknown_run");
    assert!(j.run(run + 100).unwrap().is_none());
    // Text with quotes, NULs and non-ASCII is data, not SQL.
    j.step_started(run, "n'; DROP TABLE runs; --", "s\0x", "ключ", 1).unwrap();
    let steps = j.steps_of_run(run).unwrap();
    assert_eq!(steps[0].node_id, "n'; DROP TABLE runs; --");
    assert_eq!(steps[0].cache_key.as_deref(), Some("ключ"));
}

#[test]
fn the_journal_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<Journal>();
    let mut j = Journal::open_in_memory().unwrap();
    let id = std::thread::spawn(move || j.begin_run(start("t")).unwrap()).join().unwrap();
    assert_eq!(id, 1);
}
