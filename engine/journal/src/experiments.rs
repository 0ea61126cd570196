//! What the evolution loops write: experiments (one per candidate, keyed by the normalised
//! effect of its delta), online metrics per simulated day, and launch decisions. Every write is
//! an upsert on a natural key, so a loop re-run after a kill rewrites its rows instead of
//! duplicating them.

use duckdb::params;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::journal::{Journal, JournalTx};
use crate::process::now_micros;

/// One candidate of the fast loop, as journaled.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExperimentRecord {
    /// Stable identity: the normalised delta's key (or, for a rejected proposal, its text's hash).
    pub key: String,
    pub run_id: Option<i64>,
    /// The key of the experiment it was derived from (`None` for a baseline).
    pub parent: Option<String>,
    pub round: Option<i64>,
    pub persona: Option<String>,
    /// `explore`, `exploit`, `innovate` or `baseline`.
    pub kind: Option<String>,
    /// The search operator (built-in agent) or the model that proposed it.
    pub operator: Option<String>,
    pub explanation: Option<String>,
    pub delta: Option<serde_json::Value>,
    pub program_hash: Option<String>,
    /// Where it got to.
    pub status: ExperimentStatus,
    pub reason: Option<String>,
    pub offline_metrics: Option<serde_json::Value>,
    pub offline_score: Option<f64>,
    /// The same metric on the test split (never used to choose).
    #[serde(default)]
    pub test_score: Option<f64>,
    pub online_metrics: Option<serde_json::Value>,
    /// Parameters, FLOPs per example, training seconds.
    pub cost: Option<serde_json::Value>,
}

/// Where an experiment got to: the one set of statuses the loops write and the journal's
/// `experiments.status` column accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExperimentStatus {
    /// Proposed, not yet verified.
    #[default]
    Proposed,
    /// Verify (or the cost check) refused it.
    Rejected,
    /// It compiles and checks; not trained yet.
    Verified,
    /// Trained and scored.
    Trained,
    /// It could not be trained, screened or proposed.
    Failed,
    /// It won its online study and became the production baseline.
    Launched,
    /// Its online study decided against it.
    Blocked,
}

impl ExperimentStatus {
    /// Every status, in the order a candidate may pass through them.
    pub const ALL: [ExperimentStatus; 7] = [
        ExperimentStatus::Proposed,
        ExperimentStatus::Rejected,
        ExperimentStatus::Verified,
        ExperimentStatus::Trained,
        ExperimentStatus::Failed,
        ExperimentStatus::Launched,
        ExperimentStatus::Blocked,
    ];

    /// The name the journal stores.
    pub fn as_str(self) -> &'static str {
        match self {
            ExperimentStatus::Proposed => "proposed",
            ExperimentStatus::Rejected => "rejected",
            ExperimentStatus::Verified => "verified",
            ExperimentStatus::Trained => "trained",
            ExperimentStatus::Failed => "failed",
            ExperimentStatus::Launched => "launched",
            ExperimentStatus::Blocked => "blocked",
        }
    }

    /// The status a stored name stands for.
    pub fn parse(name: &str) -> Option<ExperimentStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for ExperimentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value of an online study: an arm's metric on a simulated day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnlineValue {
    pub study: String,
    pub arm: String,
    pub day: i64,
    pub metric: String,
    pub value: f64,
    /// Users behind the value; `None` when the source (a team's table) does not say.
    pub n: Option<i64>,
}

/// A launch decision of the slow loop.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub run_id: Option<i64>,
    pub study: String,
    pub experiment_key: String,
    /// `launched`, `superseded`, `blocked`, `rejected`, `no_change` or `underpowered`.
    pub decision: String,
    pub reason: Option<String>,
    pub offline_score: Option<f64>,
    pub primary_metric: String,
    pub delta: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub guardrails: serde_json::Value,
    pub days: i64,
    /// The production baseline the candidate was compared against.
    pub baseline: Option<String>,
    /// The primary metric's minimum detectable effect (relative, 95% confidence, 80% power).
    #[serde(default)]
    pub mde: Option<f64>,
    /// The smallest effect the workflow cares about (`online(min_effect:)`), relative.
    #[serde(default)]
    pub min_effect: Option<f64>,
    /// The share of the primary metric's variance CUPED removed.
    #[serde(default)]
    pub variance_reduction: Option<f64>,
    /// The study day a sequential study concluded on, for a candidate that stopped early.
    #[serde(default)]
    pub stopped_day: Option<i64>,
    /// How the decision was reached: intervals, pre-period, planned and achieved power.
    #[serde(default)]
    pub analysis: serde_json::Value,
}

impl JournalTx<'_> {
    /// Inserts the experiment, or updates the row with the same key (keeping its id, first run
    /// and creation time).
    pub fn upsert_experiment(&self, e: &ExperimentRecord) -> Result<()> {
        let json = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
        let now = now_micros();
        let conn = self.connection();
        // An UPDATE, then an INSERT when nothing matched: DuckDB's ON CONFLICT ... DO UPDATE on a
        // table with several indexes can report false duplicates, a plain update cannot.
        let parent_id: Option<i64> = match &e.parent {
            Some(p) => conn
                .query_row("SELECT id FROM experiments WHERE key = ?", [p], |row| row.get(0))
                .map(Some)
                .or_else(|e| if matches!(e, duckdb::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })?,
            None => None,
        };
        let updated = conn.execute(
            "UPDATE experiments SET parent_id = ?, round = ?, persona = ?, kind = ?, operator = ?,
                 explanation = ?, delta = ?, program_hash = ?, status = ?, reason = ?,
                 offline_metrics = ?, offline_score = ?, test_score = ?, online_metrics = COALESCE(?, online_metrics),
                 cost = ?, updated_at = make_timestamp(?)
             WHERE key = ?",
            params![
                parent_id,
                e.round,
                e.persona,
                e.kind,
                e.operator,
                e.explanation,
                json(&e.delta),
                e.program_hash,
                e.status.as_str(),
                e.reason,
                json(&e.offline_metrics),
                e.offline_score,
                e.test_score,
                json(&e.online_metrics),
                json(&e.cost),
                now,
                e.key
            ],
        )?;
        if updated == 0 {
            conn.execute(
                "INSERT INTO experiments (key, run_id, parent_id, round, persona, kind, operator, explanation,
                     delta, program_hash, status, reason, offline_metrics, offline_score, test_score,
                     online_metrics, cost, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, make_timestamp(?), make_timestamp(?))",
                params![
                    e.key,
                    e.run_id,
                    parent_id,
                    e.round,
                    e.persona,
                    e.kind,
                    e.operator,
                    e.explanation,
                    json(&e.delta),
                    e.program_hash,
                    e.status.as_str(),
                    e.reason,
                    json(&e.offline_metrics),
                    e.offline_score,
                    e.test_score,
                    json(&e.online_metrics),
                    json(&e.cost),
                    now,
                    now
                ],
            )?;
        }
        Ok(())
    }

    /// Records (or rewrites) one online value.
    pub fn upsert_online_value(&self, v: &OnlineValue) -> Result<()> {
        self.connection().execute(
            "INSERT INTO online_metrics (study, arm, day, metric, value, n) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (study, arm, day, metric) DO UPDATE SET value = excluded.value, n = excluded.n",
            params![v.study, v.arm, v.day, v.metric, v.value, v.n],
        )?;
        Ok(())
    }

    /// Records a decision, replacing an earlier one for the same study and candidate.
    pub fn upsert_decision(&self, d: &DecisionRecord) -> Result<()> {
        let conn = self.connection();
        conn.execute(
            "DELETE FROM decisions WHERE study = ? AND experiment_key = ?",
            params![d.study, d.experiment_key],
        )?;
        conn.execute(
            "INSERT INTO decisions (run_id, study, experiment_key, decision, reason, offline_score, primary_metric,
                 delta, ci_low, ci_high, guardrails, days, baseline, created_at, mde, min_effect,
                 variance_reduction, stopped_day, analysis)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, make_timestamp(?), ?, ?, ?, ?, ?)",
            params![
                d.run_id,
                d.study,
                d.experiment_key,
                d.decision,
                d.reason,
                d.offline_score,
                d.primary_metric,
                d.delta,
                d.ci_low,
                d.ci_high,
                d.guardrails.to_string(),
                d.days,
                d.baseline,
                now_micros(),
                d.mde,
                d.min_effect,
                d.variance_reduction,
                d.stopped_day,
                (!d.analysis.is_null()).then(|| d.analysis.to_string()),
            ],
        )?;
        Ok(())
    }
}

impl Journal {
    /// Every journaled experiment, oldest first.
    pub fn experiments(&self) -> Result<Vec<ExperimentRecord>> {
        self.experiments_where("TRUE")
    }

    /// The experiments of runs that succeeded, oldest first: what a loop starts from. A killed,
    /// failed or still running run's experiments are partial work, and a loop that saw them
    /// would propose differently when it resumes than it did the first time; once the run
    /// that resumes it succeeds, its experiments are settled too.
    pub fn settled_experiments(&self) -> Result<Vec<ExperimentRecord>> {
        self.experiments_where("(e.run_id IS NULL OR e.run_id IN (SELECT id FROM runs WHERE status = 'succeeded'))")
    }

    fn experiments_where(&self, condition: &str) -> Result<Vec<ExperimentRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT e.key, e.run_id, p.key, e.round, e.persona, e.kind, e.operator, e.explanation,
                    e.delta::VARCHAR, e.program_hash, e.status, e.reason, e.offline_metrics::VARCHAR,
                    e.offline_score, e.online_metrics::VARCHAR, e.cost::VARCHAR, e.test_score
             FROM experiments e LEFT JOIN experiments p ON p.id = e.parent_id
             WHERE e.key IS NOT NULL AND {condition} ORDER BY e.id"
        ))?;
        let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        let rows = stmt.query_map([], |row| {
            Ok(ExperimentRecord {
                key: row.get(0)?,
                run_id: row.get(1)?,
                parent: row.get(2)?,
                round: row.get(3)?,
                persona: row.get(4)?,
                kind: row.get(5)?,
                operator: row.get(6)?,
                explanation: row.get(7)?,
                delta: json(row.get(8)?),
                program_hash: row.get(9)?,
                status: {
                    let name: String = row.get(10)?;
                    ExperimentStatus::parse(&name).ok_or_else(|| {
                        duckdb::Error::FromSqlConversionFailure(10, duckdb::types::Type::Text, name.into())
                    })?
                },
                reason: row.get(11)?,
                offline_metrics: json(row.get(12)?),
                offline_score: row.get(13)?,
                online_metrics: json(row.get(14)?),
                cost: json(row.get(15)?),
                test_score: row.get(16)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Every launch decision, oldest first.
    pub fn decisions(&self) -> Result<Vec<DecisionRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT run_id, study, experiment_key, decision, reason, offline_score, primary_metric, delta, ci_low,
                    ci_high, guardrails::VARCHAR, days, baseline, mde, min_effect, variance_reduction, stopped_day,
                    analysis::VARCHAR
             FROM decisions ORDER BY id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(DecisionRecord {
                run_id: row.get(0)?,
                study: row.get(1)?,
                experiment_key: row.get(2)?,
                decision: row.get(3)?,
                reason: row.get(4)?,
                offline_score: row.get(5)?,
                primary_metric: row.get(6)?,
                delta: row.get(7)?,
                ci_low: row.get(8)?,
                ci_high: row.get(9)?,
                guardrails: row
                    .get::<_, Option<String>>(10)?
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_default(),
                days: row.get(11)?,
                baseline: row.get(12)?,
                mde: row.get(13)?,
                min_effect: row.get(14)?,
                variance_reduction: row.get(15)?,
                stopped_day: row.get(16)?,
                analysis: row
                    .get::<_, Option<String>>(17)?
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The online values of `study`.
    pub fn online_values(&self, study: &str) -> Result<Vec<OnlineValue>> {
        let mut stmt = self.conn.prepare(
            "SELECT study, arm, day, metric, value, n FROM online_metrics WHERE study = ? ORDER BY day, arm, metric",
        )?;
        let rows = stmt.query_map([study], |row| {
            Ok(OnlineValue {
                study: row.get(0)?,
                arm: row.get(1)?,
                day: row.get(2)?,
                metric: row.get(3)?,
                value: row.get(4)?,
                n: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}
