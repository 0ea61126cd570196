//! The loops' records: experiments keyed by their delta, online values per day, decisions — each
//! an upsert, so a loop re-run after a kill rewrites rows instead of duplicating them.

use journal::{DecisionRecord, ExperimentRecord, ExperimentStatus, Journal, OnlineValue};

fn experiment(key: &str, status: &str) -> ExperimentRecord {
    ExperimentRecord {
        key: key.into(),
        round: Some(1),
        persona: Some("optimizer".into()),
        kind: Some("explore".into()),
        operator: Some("lr_scale".into()),
        delta: Some(serde_json::json!({"op": "set", "block": "opt", "args": {"lr": 0.05}})),
        status: ExperimentStatus::parse(status).unwrap(),
        ..Default::default()
    }
}

fn count(journal: &Journal, table: &str) -> i64 {
    journal.connection().query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0)).unwrap()
}

#[test]
fn an_experiment_written_twice_is_one_row_with_the_latest_state() {
    let mut journal = Journal::open_in_memory().unwrap();
    journal.transaction(|tx| tx.upsert_experiment(&experiment("base", "trained"))).unwrap();
    journal.transaction(|tx| tx.upsert_experiment(&experiment("k1", "verified"))).unwrap();
    let mut trained = experiment("k1", "trained");
    trained.parent = Some("base".into());
    trained.offline_score = Some(0.31);
    trained.offline_metrics = Some(serde_json::json!({"ndcg@10": 0.31}));
    journal.transaction(|tx| tx.upsert_experiment(&trained)).unwrap();
    journal.transaction(|tx| tx.upsert_experiment(&trained)).unwrap();

    assert_eq!(count(&journal, "experiments"), 2);
    let rows = journal.experiments().unwrap();
    assert_eq!(rows[1], trained);
    let parent_id: i64 =
        journal.connection().query_row("SELECT parent_id FROM experiments WHERE key = 'k1'", [], |r| r.get(0)).unwrap();
    let base_id: i64 =
        journal.connection().query_row("SELECT id FROM experiments WHERE key = 'base'", [], |r| r.get(0)).unwrap();
    assert_eq!(parent_id, base_id);
}

#[test]
fn an_unknown_status_is_refused() {
    // The type has no such status; the column refuses one written past it, by SQL.
    assert_eq!(ExperimentStatus::parse("exploded"), None);
    let journal = Journal::open_in_memory().unwrap();
    let err = journal
        .connection()
        .execute(
            "INSERT INTO experiments (key, status, created_at, updated_at) VALUES ('k', 'exploded', now()::TIMESTAMP, \
             now()::TIMESTAMP)",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("CHECK"), "{err}");
    assert_eq!(count(&journal, "experiments"), 0);
    for status in ExperimentStatus::ALL {
        assert_eq!(ExperimentStatus::parse(status.as_str()), Some(status));
    }
}

#[test]
fn a_resumed_online_day_replaces_its_values() {
    let mut journal = Journal::open_in_memory().unwrap();
    let value = |v: f64| OnlineValue {
        study: "s".into(),
        arm: "control".into(),
        day: 3,
        metric: "return_rate".into(),
        value: v,
        n: Some(100),
    };
    journal.transaction(|tx| tx.upsert_online_value(&value(0.5))).unwrap();
    journal.transaction(|tx| tx.upsert_online_value(&value(0.6))).unwrap();
    assert_eq!(journal.online_values("s").unwrap(), vec![value(0.6)]);
}

#[test]
fn one_decision_per_study_and_candidate() {
    let mut journal = Journal::open_in_memory().unwrap();
    let decision = |d: &str| DecisionRecord {
        run_id: None,
        study: "s".into(),
        experiment_key: "k1".into(),
        decision: d.into(),
        reason: None,
        offline_score: Some(0.3),
        primary_metric: "return_rate".into(),
        delta: Some(0.02),
        ci_low: Some(0.01),
        ci_high: Some(0.03),
        guardrails: serde_json::json!([]),
        days: 14,
        mde: Some(0.012),
        min_effect: Some(0.01),
        variance_reduction: Some(0.3),
        stopped_day: Some(9),
        analysis: serde_json::json!({"interval": {"kind": "always_valid", "tau": 0.01}}),
        ..Default::default()
    };
    journal.transaction(|tx| tx.upsert_decision(&decision("blocked"))).unwrap();
    journal.transaction(|tx| tx.upsert_decision(&decision("launched"))).unwrap();
    assert_eq!(count(&journal, "decisions"), 1);
    assert_eq!(journal.decisions().unwrap(), vec![decision("launched")]);
    let bad = journal.transaction(|tx| tx.upsert_decision(&decision("maybe")));
    assert!(bad.is_err());
    journal.transaction(|tx| tx.upsert_decision(&decision("underpowered"))).unwrap();
    assert_eq!(journal.decisions().unwrap(), vec![decision("underpowered")]);
}

#[test]
fn a_version_5_journal_keeps_its_decisions_and_gains_power_columns() {
    use journal::schema::{apply_migrations, MIGRATIONS};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.duckdb");
    {
        let mut conn = duckdb::Connection::open(&path).unwrap();
        apply_migrations(&mut conn, "v5", &MIGRATIONS[..5]).unwrap();
        conn.execute_batch(
            "INSERT INTO decisions (study, experiment_key, decision, primary_metric, delta, days, created_at)
             VALUES ('s', 'k', 'no_change', 'return_rate', 0.01, 14, now())",
        )
        .unwrap();
    }
    let mut journal = Journal::open(&path).unwrap();
    let old = journal.decisions().unwrap();
    assert_eq!((old.len(), old[0].decision.as_str(), old[0].delta, old[0].mde), (1, "no_change", Some(0.01), None));
    let next = DecisionRecord {
        study: "s".into(),
        experiment_key: "k2".into(),
        decision: "underpowered".into(),
        mde: Some(0.05),
        ..Default::default()
    };
    journal.transaction(|tx| tx.upsert_decision(&next)).unwrap();
    // The id sequence carries on from the copied rows.
    let ids: Vec<i64> = journal
        .connection()
        .prepare("SELECT id FROM decisions ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ids, vec![1, 2]);
}

#[test]
fn llm_and_tool_calls_point_at_their_experiment() {
    let mut journal = Journal::open_in_memory().unwrap();
    journal.transaction(|tx| tx.upsert_experiment(&experiment("k1", "verified"))).unwrap();
    let call = journal::LlmCall {
        experiment: Some("k1".into()),
        persona: "reward".into(),
        provider: "openai".into(),
        status: "ok".into(),
        input_tokens: 120,
        ..Default::default()
    };
    journal.transaction(|tx| tx.insert_llm_call(&call)).unwrap();
    let tool =
        journal::ToolCallRow { tool: "run_sql_query".into(), error: Some("refused".into()), ..Default::default() };
    journal.transaction(|tx| tx.insert_tool_call(&tool)).unwrap();
    let linked: i64 = journal
        .connection()
        .query_row("SELECT count(*) FROM llm_calls l JOIN experiments e ON e.id = l.experiment_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(linked, 1);
    let status: String = journal.connection().query_row("SELECT status FROM tool_calls", [], |r| r.get(0)).unwrap();
    assert_eq!(status, "failed");
}

#[test]
fn a_loops_history_is_the_experiments_of_runs_that_succeeded() {
    use journal::{RunStart, RunStatus};
    let mut journal = Journal::open_in_memory().unwrap();
    let run = |journal: &mut Journal, key: &str, status: Option<RunStatus>| {
        let start = RunStart {
            workflow: "w".into(),
            file: "w.evo".into(),
            params: serde_json::json!({}),
            evoflow_version: "test".into(),
        };
        let id = journal.begin_run(start).unwrap();
        let mut e = experiment(key, "trained");
        e.run_id = Some(id);
        journal.transaction(|tx| tx.upsert_experiment(&e)).unwrap();
        if let Some(status) = status {
            journal.finish_run(id, status).unwrap();
        }
    };
    run(&mut journal, "settled", Some(RunStatus::Succeeded));
    run(&mut journal, "killed", Some(RunStatus::Interrupted));
    run(&mut journal, "failed", Some(RunStatus::Failed));
    run(&mut journal, "running", None);
    let keys = |rows: Vec<ExperimentRecord>| rows.into_iter().map(|e| e.key).collect::<Vec<_>>();
    assert_eq!(keys(journal.experiments().unwrap()), ["settled", "killed", "failed", "running"]);
    // A killed, failed or running run's experiments are partial work: a loop resumed after
    // them must propose what it did the first time, so it does not see them.
    assert_eq!(keys(journal.settled_experiments().unwrap()), ["settled"]);
}
