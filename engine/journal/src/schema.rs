//! The journal's versioned schema: an ordered list of migrations, each applied in its own
//! transaction and recorded in `schema_version`, so a file is always at exactly one version.

use duckdb::Connection;

use crate::error::{Error, Result};

/// Version 1: runs, steps and artifacts (written by the engine now), and the tables that the
/// evolution loop fills later (experiments, llm_calls, tool_calls), created now so queries and
/// agents see one stable shape from the first run on.
///
/// Foreign keys are deliberately absent: DuckDB restricts updates of rows that other tables
/// reference, and the engine updates `runs.status` while steps point at it. The journal's own
/// API keeps the references consistent instead.
const V1: &str = r#"
CREATE SEQUENCE runs_id_seq START 1;
CREATE TABLE runs (
    id              BIGINT PRIMARY KEY DEFAULT nextval('runs_id_seq'),
    workflow        VARCHAR NOT NULL,
    file            VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    status          VARCHAR NOT NULL
                    CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    params          JSON,
    evoflow_version VARCHAR NOT NULL,
    pid             INTEGER,
    host            VARCHAR
);

CREATE TABLE steps (
    run_id      BIGINT NOT NULL,
    node_id     VARCHAR NOT NULL,
    step        VARCHAR,
    cache_key   VARCHAR,
    status      VARCHAR NOT NULL
                CHECK (status IN ('running', 'done', 'cached', 'failed', 'interrupted', 'skipped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    started_at  TIMESTAMP,
    finished_at TIMESTAMP,
    duration_ms BIGINT,
    error       VARCHAR,
    output_hash VARCHAR,
    PRIMARY KEY (run_id, node_id)
);

CREATE TABLE artifacts (
    hash       VARCHAR PRIMARY KEY,
    node_id    VARCHAR,
    step       VARCHAR,
    bytes      BIGINT NOT NULL,
    files      INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE SEQUENCE experiments_id_seq START 1;
CREATE TABLE experiments (
    id              BIGINT PRIMARY KEY DEFAULT nextval('experiments_id_seq'),
    run_id          BIGINT,
    parent_id       BIGINT,
    round           INTEGER,
    persona         VARCHAR,
    kind            VARCHAR CHECK (kind IN ('explore', 'exploit', 'innovate', 'baseline')),
    explanation     VARCHAR,
    delta           JSON,
    program_hash    VARCHAR,
    status          VARCHAR NOT NULL
                    CHECK (status IN ('proposed', 'rejected', 'verified', 'trained', 'failed',
                                      'launched', 'blocked')),
    reason          VARCHAR,
    offline_metrics JSON,
    offline_score   DOUBLE,
    online_metrics  JSON,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE SEQUENCE llm_calls_id_seq START 1;
CREATE TABLE llm_calls (
    id            BIGINT PRIMARY KEY DEFAULT nextval('llm_calls_id_seq'),
    run_id        BIGINT,
    experiment_id BIGINT,
    persona       VARCHAR,
    provider      VARCHAR,
    model         VARCHAR,
    prompt        VARCHAR,
    response      VARCHAR,
    tool_calls    JSON,
    input_tokens  BIGINT,
    output_tokens BIGINT,
    cost_usd      DOUBLE,
    latency_ms    BIGINT,
    status        VARCHAR NOT NULL,
    error         VARCHAR,
    created_at    TIMESTAMP NOT NULL
);

CREATE SEQUENCE tool_calls_id_seq START 1;
CREATE TABLE tool_calls (
    id            BIGINT PRIMARY KEY DEFAULT nextval('tool_calls_id_seq'),
    run_id        BIGINT,
    experiment_id BIGINT,
    tool          VARCHAR NOT NULL,
    args          JSON,
    result        VARCHAR,
    truncated     BOOLEAN NOT NULL DEFAULT false,
    duration_ms   BIGINT,
    status        VARCHAR NOT NULL,
    error         VARCHAR,
    created_at    TIMESTAMP NOT NULL
);
"#;

/// Version 2: what the evolution loops record. `experiments.key` identifies a candidate by the
/// normalised effect of its delta, so re-running a loop after a kill updates its rows instead
/// of adding them twice; `online_metrics` holds one value per study, arm, simulated day and
/// metric (a resumed online phase rewrites a day, never counts it twice); `decisions` holds one
/// launch decision per study and candidate, with the offline score beside the online delta.
const V2: &str = r#"
ALTER TABLE experiments ADD COLUMN key VARCHAR;
ALTER TABLE experiments ADD COLUMN operator VARCHAR;
ALTER TABLE experiments ADD COLUMN cost JSON;
CREATE UNIQUE INDEX experiments_key ON experiments (key);

CREATE TABLE online_metrics (
    study   VARCHAR NOT NULL,
    arm     VARCHAR NOT NULL,
    day     INTEGER NOT NULL,
    metric  VARCHAR NOT NULL,
    value   DOUBLE,
    n       BIGINT,
    PRIMARY KEY (study, arm, day, metric)
);

CREATE SEQUENCE decisions_id_seq START 1;
CREATE TABLE decisions (
    id              BIGINT PRIMARY KEY DEFAULT nextval('decisions_id_seq'),
    run_id          BIGINT,
    study           VARCHAR NOT NULL,
    experiment_key  VARCHAR NOT NULL,
    decision        VARCHAR NOT NULL CHECK (decision IN ('launched', 'blocked', 'rejected', 'no_change')),
    reason          VARCHAR,
    offline_score   DOUBLE,
    primary_metric  VARCHAR,
    delta           DOUBLE,
    ci_low          DOUBLE,
    ci_high         DOUBLE,
    guardrails      JSON,
    days            INTEGER,
    baseline        VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (study, experiment_key)
);
"#;

/// Version 3: one row per trained model (the `std::train::train` output, or a loop's
/// candidate), with its size and cost beside its metrics, so `SELECT model, params, flops ...`
/// answers "what did that accuracy cost" without opening any artifact.
const V3: &str = r#"
CREATE TABLE models (
    hash       VARCHAR PRIMARY KEY,
    node_id    VARCHAR,
    step       VARCHAR,
    model      VARCHAR NOT NULL,
    params     BIGINT NOT NULL,
    flops      BIGINT NOT NULL,
    device     VARCHAR,
    metrics    JSON,
    created_at TIMESTAMP NOT NULL
);
"#;

/// Version 4: offline metrics a person can query by name: one row per output, split and metric
/// (`train`'s and the loops' trained models, `evaluate`'s results), and each experiment's score
/// on test beside its validation score.
const V4: &str = r#"
CREATE TABLE metrics (
    hash       VARCHAR NOT NULL,
    node_id    VARCHAR,
    step       VARCHAR,
    split      VARCHAR NOT NULL,
    metric     VARCHAR NOT NULL,
    value      DOUBLE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (hash, split, metric)
);
ALTER TABLE experiments ADD COLUMN test_score DOUBLE;
"#;

/// Version 5: what a step said of its output, queryable: a loop's summary (how much of its
/// budget it spent, and why not all), `evaluate`'s metrics, a training report.
const V5: &str = r#"
ALTER TABLE artifacts ADD COLUMN meta JSON;
"#;

/// Version 6: decisions a team can trust. A decision may be `underpowered` (the study could not
/// have seen the effect the workflow cares about) or `superseded` (significantly better, but
/// another candidate of the same study launched with a larger gain), and carries its minimum detectable effect, the
/// `min_effect` it was judged against, the variance CUPED removed from the primary metric, the day
/// a sequential study stopped at, and the whole analysis (JSON). DuckDB cannot alter a CHECK
/// constraint, so the table is rebuilt and its rows copied.
const V6: &str = r#"
ALTER TABLE decisions RENAME TO decisions_v5;
CREATE TABLE decisions (
    id                 BIGINT PRIMARY KEY DEFAULT nextval('decisions_id_seq'),
    run_id             BIGINT,
    study              VARCHAR NOT NULL,
    experiment_key     VARCHAR NOT NULL,
    decision           VARCHAR NOT NULL
                       CHECK (decision IN ('launched', 'superseded', 'blocked', 'rejected', 'no_change',
                                           'underpowered')),
    reason             VARCHAR,
    offline_score      DOUBLE,
    primary_metric     VARCHAR,
    delta              DOUBLE,
    ci_low             DOUBLE,
    ci_high            DOUBLE,
    guardrails         JSON,
    days               INTEGER,
    baseline           VARCHAR,
    created_at         TIMESTAMP NOT NULL,
    mde                DOUBLE,
    min_effect         DOUBLE,
    variance_reduction DOUBLE,
    stopped_day        INTEGER,
    analysis           JSON,
    UNIQUE (study, experiment_key)
);
INSERT INTO decisions (id, run_id, study, experiment_key, decision, reason, offline_score, primary_metric, delta,
                       ci_low, ci_high, guardrails, days, baseline, created_at)
    SELECT id, run_id, study, experiment_key, decision, reason, offline_score, primary_metric, delta,
           ci_low, ci_high, guardrails, days, baseline, created_at
    FROM decisions_v5;
DROP TABLE decisions_v5;
"#;

/// Version 7: cluster jobs. A step an executor other than the driver ran has a row per job
/// submitted for it (a retry is another job), with the job's id and how it ended, so a person
/// can find a job's log and the scheduler's account of it.
const V7: &str = r#"
CREATE TABLE jobs (
    run_id       BIGINT,
    node_id      VARCHAR NOT NULL,
    cache_key    VARCHAR,
    attempt      INTEGER,
    executor     VARCHAR NOT NULL,
    job_id       VARCHAR NOT NULL,
    state        VARCHAR NOT NULL,
    submitted_at TIMESTAMP,
    finished_at  TIMESTAMP,
    PRIMARY KEY (executor, job_id)
);
"#;

/// The migrations in order; entry `i` brings a file from version `i` to version `i + 1`.
/// Never edit a released entry: append a new one.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7];

/// The schema version this binary writes (the number of migrations it knows).
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// The version recorded in a journal (0 for a file that has no `schema_version` table yet).
pub fn schema_version(conn: &Connection) -> Result<i64> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_tables() \
         WHERE database_name = current_database() AND schema_name = 'main' \
           AND table_name = 'schema_version'",
        [],
        |row| row.get(0),
    )?;
    if !exists {
        return Ok(0);
    }
    let version: Option<i64> = conn.query_row("SELECT max(version) FROM schema_version", [], |row| row.get(0))?;
    Ok(version.unwrap_or(0))
}

/// Brings `conn`'s database up to `migrations.len()`, one transaction per migration, and returns
/// the versions it applied (empty when already current). A file newer than the list is an
/// error, not a downgrade. Public so tests can run a deliberately failing list.
pub fn apply_migrations(conn: &mut Connection, label: &str, migrations: &[&str]) -> Result<Vec<i64>> {
    // The bookkeeping table is created outside the numbered migrations so version 0 is
    // "empty file" and every numbered migration can be recorded uniformly.
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    INTEGER PRIMARY KEY,
             applied_at TIMESTAMP NOT NULL DEFAULT (now()::TIMESTAMP)
         )",
    )?;
    let found = schema_version(conn)?;
    let supported = migrations.len() as i64;
    if found > supported {
        return Err(Error::SchemaTooNew { path: label.to_string(), found, supported });
    }
    let mut applied = Vec::new();
    for (index, sql) in migrations.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction()?;
        // A failure drops `tx`, which rolls back, so the file stays at the previous version.
        tx.execute_batch(sql).map_err(|source| Error::Migration { version, source })?;
        tx.execute("INSERT INTO schema_version (version) VALUES (?)", [version])
            .map_err(|source| Error::Migration { version, source })?;
        tx.commit().map_err(|source| Error::Migration { version, source })?;
        applied.push(version);
    }
    Ok(applied)
}
