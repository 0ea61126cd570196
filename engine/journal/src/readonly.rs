//! The read-only query service behind `evoflow journal --sql` and the agents' `run_sql_query`
//! tool: one statement, read-only, no host files, bounded in time, rows and bytes.
//!
//! Gates, outermost first:
//! 1. the leading keyword must be a read statement (`guard`), for a clear early refusal;
//! 2. DuckDB's own parser must find exactly one statement, and its prepared statement type must
//!    be SELECT or EXPLAIN (`rawdb`), so nothing is ever executed before it is classified;
//! 3. the query runs on its own database instance opened `access_mode=READ_ONLY` with
//!    `enable_external_access=false`, extension autoload/autoinstall off, no spilling to disk,
//!    and `lock_configuration=true`, so even a statement that slipped past 1 and 2 could neither
//!    write the journal nor read or write host files, nor turn those settings back on.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use duckdb::types::Value;
use duckdb::InterruptHandle;

use crate::error::{Error, Result};
use crate::guard::check_leading_keyword;
use crate::journal::Journal;
use crate::rawdb::RawDb;
use crate::table::{value_to_json, Table};

/// Bounds on one read-only query.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    /// At most this many rows come back; more set `truncated`.
    pub max_rows: usize,
    /// At most about this many bytes of row data (measured as JSON) come back.
    pub max_bytes: usize,
    /// Wall-clock limit for opening, running and reading; the query is interrupted after it.
    pub timeout: Duration,
    /// DuckDB's memory limit for the query's database instance, in MiB. Nothing spills to disk,
    /// so a query needing more fails instead of writing temporary files.
    pub memory_mb: u64,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits { max_rows: 1000, max_bytes: 256 * 1024, timeout: Duration::from_secs(10), memory_mb: 1024 }
    }
}

/// How long to keep interrupting a query that has not stopped yet before giving up on it (its
/// thread then finishes on its own and frees its own database instance).
const INTERRUPT_GRACE: Duration = Duration::from_secs(5);

/// Runs one read-only SQL statement against the journal file at `db_path` on a separate,
/// read-only, no-external-access DuckDB instance. Fails with [`Error::Busy`] while another
/// process holds the file for writing (DuckDB allows no readers beside a writing process), or
/// while this process does (use [`Journal::query_readonly`] then).
pub fn query_readonly(db_path: &Path, sql: &str, limits: &QueryLimits) -> Result<Table> {
    check_leading_keyword(sql)?;
    if crate::registry::is_open(db_path) {
        // A second instance beside our own writer would open (DuckDB's lock is per process)
        // and read a file being checkpointed under it; see `registry`.
        return Err(Error::Busy {
            path: db_path.to_path_buf(),
            message: "this process has the journal open for writing; use Journal::query_readonly".into(),
        });
    }
    if !db_path.is_file() {
        return Err(Error::Io {
            path: db_path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no journal file here"),
        });
    }
    let (path, sql, worker_limits) = (db_path.to_path_buf(), sql.to_string(), limits.clone());
    run_with_deadline(limits.timeout, move |cancel| run_query(&path, &sql, &worker_limits, &cancel))
}

impl Journal {
    /// Runs one guarded read-only statement against this journal while it is open for writing.
    ///
    /// DuckDB lets one process hold a file for writing and no second instance open it safely
    /// meanwhile, and a second connection on this instance would share its write access. So the
    /// query runs on a snapshot: the journal is copied (one consistent transaction, `COPY FROM
    /// DATABASE`) into a temporary file, which is then queried exactly like
    /// [`query_readonly`] queries a file, and deleted. Cost: one copy of the journal per query.
    pub fn query_readonly(&self, sql: &str, limits: &QueryLimits) -> Result<Table> {
        self.query_readonly_with(sql, limits, &[])
    }

    /// Like [`Journal::query_readonly`], with Parquet files loaded into the snapshot as tables
    /// beside the journal's own (`logs` for the agents' `run_sql_query`): the query reads them
    /// with external access still disabled, because they are copied in before it runs.
    pub fn query_readonly_with(&self, sql: &str, limits: &QueryLimits, tables: &[(String, PathBuf)]) -> Result<Table> {
        check_leading_keyword(sql)?;
        check_table_names(tables)?;
        let snapshot = Snapshot::create(self, tables, false)?;
        query_readonly(&snapshot.path, sql, limits)
    }

    /// [`Journal::query_readonly_with`] as the agents see the journal: without the test split.
    /// Test scores, test metrics and the test parts of reports are removed from the snapshot
    /// before the query runs, so no proposal can depend on data the final report is judged on.
    pub fn query_for_agents(&self, sql: &str, limits: &QueryLimits, tables: &[(String, PathBuf)]) -> Result<Table> {
        check_leading_keyword(sql)?;
        check_table_names(tables)?;
        let snapshot = Snapshot::create(self, tables, true)?;
        query_readonly(&snapshot.path, sql, limits)
    }
}

/// Refuses a table name that is not a plain identifier.
fn check_table_names(tables: &[(String, PathBuf)]) -> Result<()> {
    for (name, _) in tables {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::InvalidInput(format!("{name:?} is not a plain table name")));
        }
    }
    Ok(())
}

/// What the agents' view removes (see [`Journal::query_for_agents`]), run in the snapshot.
/// A JSON merge patch with `null` deletes the key.
const WITHOUT_TEST: &str = r#"
UPDATE {db}.main.experiments SET test_score = NULL,
    offline_metrics = json_merge_patch(offline_metrics, '{"test": null}')
    WHERE test_score IS NOT NULL OR offline_metrics IS NOT NULL;
DELETE FROM {db}.main.metrics WHERE split = 'test';
UPDATE {db}.main.models SET metrics = json_merge_patch(metrics, '{"test": null}') WHERE metrics IS NOT NULL;
UPDATE {db}.main.artifacts SET meta = json_merge_patch(meta, '{"test": null, "test_users": null}')
    WHERE meta IS NOT NULL;
UPDATE {db}.main.artifacts SET meta = json_merge_patch(meta, '{"best": {"test": null}, "baseline_test": null}')
    WHERE step = 'std::loops::offline' AND meta IS NOT NULL;
"#;

/// Settings of the query's database instance (see the module docs for why each).
fn instance_settings(limits: &QueryLimits) -> Vec<(&'static str, String)> {
    vec![
        // Before enable_external_access=false, which makes DuckDB refuse temp_directory changes.
        // Empty means no spilling at all: a query never writes temporary files into the run dir.
        ("temp_directory", String::new()),
        ("access_mode", "READ_ONLY".into()),
        ("enable_external_access", "false".into()),
        ("autoload_known_extensions", "false".into()),
        ("autoinstall_known_extensions", "false".into()),
        ("allow_community_extensions", "false".into()),
        ("allow_unsigned_extensions", "false".into()),
        ("max_memory", format!("{}MB", limits.memory_mb.max(16))),
        ("lock_configuration", "true".into()),
    ]
}

/// Shared between the caller and the query thread: whether the deadline passed, and the
/// running connection's interrupt handle once there is one. One mutex so the thread cannot
/// register its handle just after the caller looked and missed it.
#[derive(Default)]
struct Cancel {
    state: Mutex<(bool, Option<Arc<InterruptHandle>>)>,
}

impl Cancel {
    /// Registers the handle; false when the deadline already passed (the thread should stop).
    fn register(&self, handle: Arc<InterruptHandle>) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.0 {
            return false;
        }
        state.1 = Some(handle);
        true
    }

    fn cancelled(&self) -> bool {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    fn cancel(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0 = true;
        if let Some(handle) = &state.1 {
            handle.interrupt();
        }
    }
}

/// Runs `work` on its own thread; past `timeout` it interrupts the query (repeatedly, since an
/// interrupt that lands between statements is forgotten by DuckDB) and reports a timeout.
fn run_with_deadline<F>(timeout: Duration, work: F) -> Result<Table>
where
    F: FnOnce(Arc<Cancel>) -> Result<Table> + Send + 'static,
{
    let cancel = Arc::new(Cancel::default());
    let (tx, rx) = mpsc::channel();
    let worker_cancel = cancel.clone();
    let spawned = std::thread::Builder::new().name("journal-query".into()).spawn(move || {
        // The receiver may be gone after a timeout; nothing else needs the result then.
        let _ = tx.send(work(worker_cancel));
    });
    if let Err(e) = spawned {
        return Err(Error::Query(format!("could not start the query thread: {e}")));
    }
    match rx.recv_timeout(timeout) {
        Ok(result) => return result,
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            return Err(Error::Query("the query thread stopped without a result".into()))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {}
    }
    let give_up = Instant::now() + INTERRUPT_GRACE;
    loop {
        cancel.cancel();
        match rx.recv_timeout(Duration::from_millis(20)) {
            // Whatever it returned (usually DuckDB's "Interrupted"), the caller asked for a limit.
            Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() >= give_up => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    Err(Error::Timeout { limit: timeout })
}

/// The query thread's work: open the guarded instance, classify, execute, read within limits.
fn run_query(path: &Path, sql: &str, limits: &QueryLimits, cancel: &Cancel) -> Result<Table> {
    let db = RawDb::open(path, &instance_settings(limits))?;
    let kind = db.classify(sql)?;
    if !kind.is_read() {
        return Err(Error::NotReadOnly { kind: kind.name().to_string(), allowed: crate::guard::ALLOWED });
    }
    // Declared after `db`, so it is dropped (disconnected) before the instance closes.
    let conn = db.connection()?;
    if !conn_register(&conn, cancel) {
        return Err(Error::Timeout { limit: limits.timeout });
    }
    // Safe to hand to `prepare` now: the text holds exactly one statement, so the crate's
    // "execute all but the last statement" path has nothing to execute.
    let mut stmt = conn.prepare(sql).map_err(query_error)?;
    // Streaming execution, so only the rows we read are ever produced; the returned iterator
    // would panic on a fetch error, so rows are read through the fallible `raw_query` instead.
    drop(stmt.stream_arrow([]).map_err(query_error)?);
    let columns = stmt.column_names();
    let mut rows_out = Vec::new();
    let mut bytes = 0usize;
    let mut note = None;
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(query_error)? {
        if rows_out.len() >= limits.max_rows {
            note =
                Some(format!("(truncated: more than {} rows; showing the first {})", limits.max_rows, limits.max_rows));
            break;
        }
        let values: Vec<serde_json::Value> = (0..columns.len())
            .map(|i| match row.get::<_, Value>(i) {
                Ok(v) => value_to_json(v),
                // One exotic column should not sink the whole answer.
                Err(e) => serde_json::Value::String(format!("<unreadable: {e}>")),
            })
            .collect();
        let size = serde_json::to_string(&values).map_or(0, |s| s.len()) + 1;
        if bytes + size > limits.max_bytes {
            note = Some(format!(
                "(truncated: the result exceeds {} bytes; showing the first {} rows)",
                limits.max_bytes,
                rows_out.len()
            ));
            break;
        }
        bytes += size;
        rows_out.push(values);
        if cancel.cancelled() {
            return Err(Error::Timeout { limit: limits.timeout });
        }
    }
    Ok(Table { columns, truncated: note.is_some(), rows: rows_out, note })
}

fn conn_register(conn: &duckdb::Connection, cancel: &Cancel) -> bool {
    cancel.register(conn.interrupt_handle())
}

fn query_error(e: duckdb::Error) -> Error {
    Error::Query(e.to_string())
}

/// A temporary copy of an open journal, deleted on drop.
struct Snapshot {
    path: PathBuf,
}

impl Snapshot {
    fn create(journal: &Journal, tables: &[(String, PathBuf)], without_test: bool) -> Result<Snapshot> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "evoflow-journal-snapshot-{}-{n}-{}.duckdb",
            std::process::id(),
            crate::process::now_micros()
        ));
        // Own it before DuckDB creates anything, so every exit path below cleans up.
        let snapshot = Snapshot { path };
        copy_into(journal, &snapshot.path, tables, without_test)?;
        Ok(snapshot)
    }
}

/// Copies the journal (and `tables`, loaded from Parquet) into a new database file at `path`,
/// without the test split's numbers when `without_test`.
fn copy_into(journal: &Journal, path: &Path, tables: &[(String, PathBuf)], without_test: bool) -> Result<()> {
    {
        let conn = &journal.conn;
        let source: String = conn.query_row("SELECT current_database()", [], |row| row.get(0))?;
        let target = "evoflow_query_snapshot";
        let file = path.to_string_lossy().replace('\'', "''");
        conn.execute_batch(&format!("ATTACH '{file}' AS {target}"))?;
        let copied = conn
            .execute_batch(&format!("COPY FROM DATABASE \"{}\" TO {target}", source.replace('"', "\"\"")))
            .and_then(|_| {
                tables.iter().try_for_each(|(name, path)| {
                    let path = path.to_string_lossy().replace('\'', "''");
                    conn.execute_batch(&format!(
                        "CREATE TABLE {target}.main.{name} AS SELECT * FROM read_parquet('{path}')"
                    ))
                })
            })
            .and_then(|_| match without_test {
                true => conn.execute_batch(&WITHOUT_TEST.replace("{db}", target)),
                false => Ok(()),
            });
        // Detach even when the copy failed, so the write instance is left as it was.
        let detached = conn.execute_batch(&format!("DETACH {target}"));
        copied?;
        detached?;
        Ok(())
    }
}

impl Journal {
    /// Writes a copy of the journal to `to` (replacing it in one rename), for people who want to
    /// look at a run while it writes: DuckDB lets no other process open the journal itself.
    pub fn write_snapshot(&self, to: &Path) -> Result<()> {
        let mut tmp = to.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let _ = std::fs::remove_file(&tmp);
        copy_into(self, &tmp, &[], false)?;
        std::fs::rename(&tmp, to).map_err(|source| Error::Io { path: to.to_path_buf(), source })
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        // Best effort: the file sits in the temp dir, and a leftover is harmless.
        let _ = std::fs::remove_file(&self.path);
        let mut wal = self.path.clone().into_os_string();
        wal.push(".wal");
        let _ = std::fs::remove_file(PathBuf::from(wal));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The third gate on its own: even statements the first two gates would refuse cannot write
    /// the file, touch host files or re-enable anything on the query's instance.
    #[test]
    fn the_query_instance_refuses_writes_and_setting_changes_by_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.duckdb");
        drop(Journal::open(&path).unwrap());
        let before = std::fs::read(&path).unwrap();
        let db = RawDb::open(&path, &instance_settings(&QueryLimits::default())).unwrap();
        let conn = db.connection().unwrap();
        let out = dir.path().join("out.csv");
        for sql in [
            "SET enable_external_access = true".to_string(),
            "SET lock_configuration = false".to_string(),
            "SET autoload_known_extensions = true".to_string(),
            "INSERT INTO runs (workflow, file, started_at, status, evoflow_version) \
             VALUES ('w', 'f', now()::TIMESTAMP, 'running', 'v')"
                .to_string(),
            "CREATE TABLE evil (x INTEGER)".to_string(),
            format!("COPY (SELECT 1) TO '{}'", out.display()),
            format!("ATTACH '{}' AS evil", dir.path().join("evil.duckdb").display()),
            "SELECT * FROM read_text('/etc/passwd')".to_string(),
            "INSTALL httpfs".to_string(),
            "LOAD httpfs".to_string(),
            "SELECT nextval('runs_id_seq')".to_string(),
        ] {
            assert!(conn.execute_batch(&sql).is_err(), "the instance accepted {sql:?}");
        }
        drop(conn);
        drop(db);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(!out.exists() && !dir.path().join("evil.duckdb").exists());
    }
}
