//! The engine's write handle on a journal file: runs, steps and artifacts, each write a DuckDB
//! transaction of its own unless grouped with [`Journal::transaction`].

use std::path::{Path, PathBuf};

use duckdb::{params, Connection};

use crate::error::{is_lock_conflict, Error, Result};
use crate::model::{Artifact, RunStart, RunStatus, StepRecord, StepStatus};
use crate::process::{current_pid, hostname, now_micros, pid_alive};
use crate::registry::{self, Registration};
use crate::schema::{apply_migrations, MIGRATIONS};

/// An open journal (one DuckDB database). `Send` but not `Sync`: the engine keeps it behind a
/// mutex and calls it from `spawn_blocking`, since every call blocks on DuckDB.
pub struct Journal {
    // Field order is drop order: the connection closes before the registration is released.
    pub(crate) conn: Connection,
    pub(crate) path: Option<PathBuf>,
    _registration: Option<Registration>,
}

/// The journal inside one DuckDB transaction, handed to the closure of [`Journal::transaction`].
pub struct JournalTx<'a> {
    conn: &'a Connection,
}

impl Journal {
    /// Opens the journal file at `path`, creating it or migrating it to the current schema.
    /// Fails with [`Error::Busy`] when another process, or another `Journal` in this process,
    /// holds it, and with [`Error::SchemaTooNew`] when a newer evoflow wrote it.
    pub fn open(path: &Path) -> Result<Journal> {
        let registration = registry::register(path).ok_or_else(|| Error::Busy {
            path: path.to_path_buf(),
            message: "this process already has the journal open".into(),
        })?;
        if !path.exists() {
            migrate_aside(path, None)?;
        }
        let mut conn = Connection::open(path).map_err(|e| open_error(path, e))?;
        let found = crate::schema::schema_version(&conn)?;
        let supported = MIGRATIONS.len() as i64;
        if found > supported {
            return Err(Error::SchemaTooNew { path: path.display().to_string(), found, supported });
        }
        if found < supported {
            // Fold the WAL (plain rows, which replay) into the file before copying it.
            conn.execute_batch("CHECKPOINT")?;
            drop(conn);
            migrate_aside(path, Some(found))?;
            conn = Connection::open(path).map_err(|e| open_error(path, e))?;
        }
        Journal::init(conn, Some(path.to_path_buf()), Some(registration))
    }

    /// Opens a fresh journal that lives only in memory (for tests and dry runs).
    pub fn open_in_memory() -> Result<Journal> {
        let mut conn = Connection::open_in_memory()?;
        apply_migrations(&mut conn, ":memory:", MIGRATIONS)?;
        Journal::init(conn, None, None)
    }

    /// A journal on `conn`, which is at the current schema.
    fn init(conn: Connection, path: Option<PathBuf>, registration: Option<Registration>) -> Result<Journal> {
        // Room for every statement the batch writer prepares (see `batch`), and some.
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Journal { conn, path, _registration: registration })
    }

    /// The journal file, or `None` for an in-memory journal.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version of the open journal.
    pub fn schema_version(&self) -> Result<i64> {
        crate::schema::schema_version(&self.conn)
    }

    /// The underlying connection, for engine features that write their own tables
    /// (experiments, llm_calls, tool_calls). Never hand it to user or agent SQL.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Records a new run as `running`, with this process's pid and host; returns its id.
    pub fn begin_run(&mut self, start: RunStart) -> Result<i64> {
        let params = serde_json::to_string(&start.params)
            .map_err(|e| Error::InvalidInput(format!("run params are not serialisable: {e}")))?;
        let id = self.conn.query_row(
            "INSERT INTO runs (workflow, file, started_at, status, params, evoflow_version, pid, host)
             VALUES (?, ?, make_timestamp(?), 'running', ?::JSON, ?, ?, ?)
             RETURNING id",
            params![start.workflow, start.file, now_micros(), params, start.evoflow_version, current_pid(), hostname()],
            |row| row.get(0),
        )?;
        Ok(id)
    }

    /// Marks a run finished with `status` (see [`JournalTx::finish_run`]).
    pub fn finish_run(&mut self, run_id: i64, status: RunStatus) -> Result<()> {
        self.transaction(|tx| tx.finish_run(run_id, status))
    }

    /// Records that a step began an attempt (see [`JournalTx::step_started`]).
    pub fn step_started(
        &mut self,
        run_id: i64,
        node_id: &str,
        step: &str,
        cache_key: &str,
        attempt: u32,
    ) -> Result<()> {
        JournalTx { conn: &self.conn }.step_started(run_id, node_id, step, cache_key, attempt)
    }

    /// Records a step's outcome (see [`JournalTx::step_finished`]).
    pub fn step_finished(&mut self, record: &StepRecord) -> Result<()> {
        JournalTx { conn: &self.conn }.step_finished(record)
    }

    /// Records an artifact unless its hash is already known; returns whether it was new.
    pub fn record_artifact(&mut self, artifact: &Artifact) -> Result<bool> {
        JournalTx { conn: &self.conn }.record_artifact(artifact)
    }

    /// Runs `f` inside one DuckDB transaction: it commits when `f` returns `Ok` and rolls back
    /// when `f` returns an error (or panics), so a step's outcome and its artifact land together
    /// or not at all.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&JournalTx<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction()?;
        // Dropping `tx` without commit (the `?` below, or unwinding) rolls back.
        let value = f(&JournalTx { conn: &tx })?;
        tx.commit()?;
        Ok(value)
    }

    /// Marks runs left `running` by a process that no longer exists as `interrupted`, with their
    /// `running` steps; returns how many runs changed.
    ///
    /// Only runs recorded on this host are judged (a pid means nothing on another machine), and
    /// a run whose pid is alive, including this process's own, is left alone.
    pub fn mark_interrupted_runs(&mut self) -> Result<usize> {
        let here = hostname();
        let mut dead = Vec::new();
        {
            let mut stmt =
                self.conn.prepare("SELECT id, pid::BIGINT, host FROM runs WHERE status = 'running' ORDER BY id")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                let pid: Option<i64> = row.get(1)?;
                let host: Option<String> = row.get(2)?;
                if host != here {
                    continue;
                }
                // A run without a pid cannot be alive anywhere we can check.
                if pid.is_none_or(|pid| !pid_alive(pid)) {
                    dead.push(id);
                }
            }
        }
        let count = dead.len();
        self.transaction(|tx| {
            for id in dead {
                tx.finish_run(id, RunStatus::Interrupted)?;
            }
            Ok(())
        })?;
        Ok(count)
    }
}

impl JournalTx<'_> {
    /// The connection inside the transaction, for writes the journal has no method for yet.
    pub fn connection(&self) -> &Connection {
        self.conn
    }

    /// Marks a run finished with `status` at the current time. Steps of the run still `running`
    /// become `interrupted`: once the run is over nothing of it can still be executing.
    pub fn finish_run(&self, run_id: i64, status: RunStatus) -> Result<()> {
        let now = now_micros();
        let changed = self.conn.execute(
            "UPDATE runs SET status = ?, finished_at = make_timestamp(?) WHERE id = ?",
            params![status.as_str(), now, run_id],
        )?;
        if changed == 0 {
            return Err(Error::UnknownRun(run_id));
        }
        self.conn.execute(
            "UPDATE steps SET status = 'interrupted', finished_at = make_timestamp(?)
             WHERE run_id = ? AND status = 'running'",
            params![now, run_id],
        )?;
        Ok(())
    }

    /// Records that a step began attempt `attempt` (1-based): inserts the step, or resets it to
    /// `running` for a retry, clearing the previous attempt's outcome. `started_at` is the
    /// current attempt's start.
    pub fn step_started(&self, run_id: i64, node_id: &str, step: &str, cache_key: &str, attempt: u32) -> Result<()> {
        self.require_run(run_id)?;
        self.conn.execute(
            "INSERT INTO steps (run_id, node_id, step, cache_key, status, attempts, started_at)
             VALUES (?, ?, ?, ?, 'running', ?, make_timestamp(?))
             ON CONFLICT (run_id, node_id) DO UPDATE SET
                 step = excluded.step, cache_key = excluded.cache_key, status = 'running',
                 attempts = excluded.attempts, started_at = excluded.started_at,
                 finished_at = NULL, duration_ms = NULL, error = NULL, output_hash = NULL",
            params![run_id, node_id, step, cache_key, attempt, now_micros()],
        )?;
        Ok(())
    }

    /// Records a step's outcome. Works with or without a prior `step_started` (a cached or
    /// skipped step never starts); `step` and `cache_key` left `None` keep their stored values.
    pub fn step_finished(&self, record: &StepRecord) -> Result<()> {
        if record.status == StepStatus::Running {
            return Err(Error::InvalidInput(format!(
                "step_finished for node {:?} with status running; use step_started",
                record.node_id
            )));
        }
        self.require_run(record.run_id)?;
        self.conn.execute(
            "INSERT INTO steps (run_id, node_id, step, cache_key, status, attempts, finished_at,
                                duration_ms, error, output_hash)
             VALUES (?, ?, ?, ?, ?, ?, make_timestamp(?), ?, ?, ?)
             ON CONFLICT (run_id, node_id) DO UPDATE SET
                 step = COALESCE(excluded.step, steps.step),
                 cache_key = COALESCE(excluded.cache_key, steps.cache_key),
                 status = excluded.status, attempts = excluded.attempts,
                 finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
                 error = excluded.error, output_hash = excluded.output_hash",
            params![
                record.run_id,
                record.node_id,
                record.step,
                record.cache_key,
                record.status.as_str(),
                record.attempts,
                now_micros(),
                record.duration_ms,
                record.error,
                record.output_hash
            ],
        )?;
        Ok(())
    }

    /// Records an artifact unless its hash is already known (content addressing makes the first
    /// record as good as any later one); returns whether it was new.
    pub fn record_artifact(&self, artifact: &Artifact) -> Result<bool> {
        let bytes = i64::try_from(artifact.bytes).map_err(|_| {
            Error::InvalidInput(format!("artifact {} size {} overflows BIGINT", artifact.hash, artifact.bytes))
        })?;
        let inserted = self.conn.execute(
            "INSERT INTO artifacts (hash, node_id, step, bytes, files, created_at, meta)
             VALUES (?, ?, ?, ?, ?, make_timestamp(?), ?)
             ON CONFLICT (hash) DO NOTHING",
            params![artifact.hash, artifact.node_id, artifact.step, bytes, artifact.files, now_micros(), artifact.meta],
        )?;
        Ok(inserted > 0)
    }

    pub(crate) fn require_run(&self, run_id: i64) -> Result<()> {
        let exists: bool =
            self.conn.query_row("SELECT count(*) > 0 FROM runs WHERE id = ?", [run_id], |row| row.get(0))?;
        if exists {
            Ok(())
        } else {
            Err(Error::UnknownRun(run_id))
        }
    }
}

/// Turns a failed open into `Busy` when another process holds the file lock.
/// Brings the journal at `path` (at version `found`, or absent) to the current schema in a copy
/// beside it, checkpointed, then moves the copy into place. Why not in place: DuckDB 1.5 cannot
/// replay a WAL that holds the migrations' DDL (an `ALTER TABLE` of a table whose defaults call
/// `nextval`), so a SIGKILL between a migration and the next checkpoint left a file that would
/// not open. Now a kill at any moment leaves the old file or the new one, both whole.
fn migrate_aside(path: &Path, found: Option<i64>) -> Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".migrating-{}", std::process::id()));
    let staged = path.with_file_name(name);
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let _ = std::fs::remove_file(&staged);
    if found.is_some() {
        std::fs::copy(path, &staged).map_err(io)?;
    }
    let result = (|| {
        let mut conn = Connection::open(&staged)?;
        apply_migrations(&mut conn, &path.display().to_string(), MIGRATIONS)?;
        conn.execute_batch("CHECKPOINT")?;
        drop(conn);
        match found {
            Some(_) => std::fs::rename(&staged, path).map_err(io),
            // A link, not a rename, for a new file: it fails if another process created the
            // journal meanwhile, whose file then stands.
            None => match std::fs::hard_link(&staged, path) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(io(e)),
                _ => Ok(()),
            },
        }
    })();
    let _ = std::fs::remove_file(&staged);
    result
}

pub(crate) fn open_error(path: &Path, error: duckdb::Error) -> Error {
    let message = error.to_string();
    if is_lock_conflict(&message) {
        Error::Busy { path: path.to_path_buf(), message }
    } else {
        Error::Db(error)
    }
}
