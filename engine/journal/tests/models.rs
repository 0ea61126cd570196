//! Trained models in the journal: recorded once per weights artifact and queryable with SQL,
//! including from a journal created before the `models` table existed.

use journal::schema::{apply_migrations, MIGRATIONS};
use journal::{Journal, ModelRecord};

fn record(hash: &str, params: u64) -> ModelRecord {
    ModelRecord {
        hash: hash.into(),
        node_id: "model".into(),
        step: "std::train::train".into(),
        model: "bpr_mf".into(),
        params,
        flops: 128,
        device: "cpu".into(),
        metrics: serde_json::json!({"test": {"ndcg@10": 0.25}}),
    }
}

#[test]
fn a_model_is_recorded_once_and_read_back_with_sql() {
    let mut journal = Journal::open_in_memory().unwrap();
    let first = journal.transaction(|tx| tx.record_model(&record("h1", 1000))).unwrap();
    let again = journal.transaction(|tx| tx.record_model(&record("h1", 9999))).unwrap();
    assert!(first && !again, "the same weights are one model");
    let row: (String, i64, i64, f64) = journal
        .connection()
        .query_row(
            "SELECT model, params, flops, CAST(metrics->>'$.test.ndcg@10' AS DOUBLE) FROM models WHERE hash = 'h1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(row, ("bpr_mf".to_string(), 1000, 128, 0.25));
}

#[test]
fn a_version_2_journal_gains_the_models_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.duckdb");
    {
        let mut conn = duckdb::Connection::open(&path).unwrap();
        assert_eq!(apply_migrations(&mut conn, "v2", &MIGRATIONS[..2]).unwrap(), vec![1, 2]);
    }
    let mut journal = Journal::open(&path).unwrap();
    assert_eq!(journal.schema_version().unwrap(), journal::schema::CURRENT_VERSION);
    assert!(journal.transaction(|tx| tx.record_model(&record("h2", 5))).unwrap());
}

#[test]
fn a_count_that_does_not_fit_is_refused() {
    let mut journal = Journal::open_in_memory().unwrap();
    let err = journal.transaction(|tx| tx.record_model(&record("h3", u64::MAX))).unwrap_err();
    assert!(err.to_string().contains("overflows BIGINT"), "{err}");
}
