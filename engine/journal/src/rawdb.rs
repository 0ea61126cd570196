//! The few DuckDB C API calls the `duckdb` crate does not expose: opening a database with a
//! raw handle we own, and asking DuckDB's own parser how many statements a text holds and what
//! kind the statement is, without executing anything. All `unsafe` of the crate lives here.

use std::ffi::{CStr, CString};
use std::path::Path;
use std::ptr;

use duckdb::ffi;

use crate::error::{is_lock_conflict, Error, Result};

/// A database instance opened through the C API, closed on drop. Connections made from it with
/// [`RawDb::connection`] must be dropped first (field order in the owner takes care of that).
pub(crate) struct RawDb {
    db: ffi::duckdb_database,
}

// SAFETY: a duckdb_database is a handle to a thread-safe DatabaseInstance; we only move it.
unsafe impl Send for RawDb {}

impl RawDb {
    /// Opens `path` with the given settings, each applied before the database starts (so
    /// settings that DuckDB only accepts at startup, and `lock_configuration`, take effect).
    pub(crate) fn open(path: &Path, settings: &[(&str, String)]) -> Result<RawDb> {
        use std::os::unix::ffi::OsStrExt;
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| Error::InvalidInput(format!("path {} contains a NUL byte", path.display())))?;
        let mut config: ffi::duckdb_config = ptr::null_mut();
        // SAFETY: out-pointer to a local; the config is destroyed below on every path.
        if unsafe { ffi::duckdb_create_config(&mut config) } != ffi::DuckDBSuccess {
            return Err(Error::Query("DuckDB could not create a configuration".into()));
        }
        let result = (|| {
            for (key, value) in settings {
                let (k, v) = (cstring(key)?, cstring(value)?);
                // SAFETY: config is live; the strings outlive the call.
                if unsafe { ffi::duckdb_set_config(config, k.as_ptr(), v.as_ptr()) } != ffi::DuckDBSuccess {
                    return Err(Error::Query(format!("DuckDB refused the setting {key}={value}")));
                }
            }
            let mut db: ffi::duckdb_database = ptr::null_mut();
            let mut err: *mut std::os::raw::c_char = ptr::null_mut();
            // SAFETY: all pointers are live; `err`, when set, is freed with duckdb_free.
            let state = unsafe { ffi::duckdb_open_ext(c_path.as_ptr(), &mut db, config, &mut err) };
            if state != ffi::DuckDBSuccess {
                let message = if err.is_null() {
                    "DuckDB could not open the database".to_string()
                } else {
                    // SAFETY: DuckDB returns a NUL-terminated string it allocated.
                    let m = unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned();
                    unsafe { ffi::duckdb_free(err.cast()) };
                    m
                };
                if !db.is_null() {
                    // SAFETY: a partially opened handle is still ours to close.
                    unsafe { ffi::duckdb_close(&mut db) };
                }
                return Err(if is_lock_conflict(&message) {
                    Error::Busy { path: path.to_path_buf(), message }
                } else {
                    Error::Query(message)
                });
            }
            Ok(RawDb { db })
        })();
        // SAFETY: created above, destroyed exactly once; duckdb_open_ext copied what it needs.
        unsafe { ffi::duckdb_destroy_config(&mut config) };
        result
    }

    /// A `duckdb` crate connection to this instance (it does not close the instance on drop).
    pub(crate) fn connection(&self) -> Result<duckdb::Connection> {
        // SAFETY: self.db is a live database; the crate keeps it open but never closes it
        // (open_from_raw sets close_on_drop = false), and our owner drops it before `self`.
        Ok(unsafe { duckdb::Connection::open_from_raw(self.db) }?)
    }

    /// Parses `sql` with DuckDB's parser and, when it holds exactly one statement, prepares (binds,
    /// never executes) it and returns its kind. Errors: no statement, several, or a parse/bind
    /// error (which includes DuckDB refusing host-file access while binding).
    pub(crate) fn classify(&self, sql: &str) -> Result<StatementKind> {
        let c_sql = CString::new(sql).map_err(|_| Error::Query("the query contains a NUL byte".into()))?;
        let conn = RawConn::connect(self.db)?;
        let mut extracted: ffi::duckdb_extracted_statements = ptr::null_mut();
        // SAFETY: live connection; `extracted` is destroyed by the guard on every path.
        let count = unsafe { ffi::duckdb_extract_statements(conn.0, c_sql.as_ptr(), &mut extracted) };
        let _guard = Extracted(extracted);
        if count == 0 {
            // SAFETY: the error string belongs to `extracted` and lives until the guard drops.
            let err = unsafe { ffi::duckdb_extract_statements_error(extracted) };
            if err.is_null() {
                return Err(Error::EmptyQuery);
            }
            let message = unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned();
            return Err(Error::Query(message));
        }
        if count > 1 {
            return Err(Error::MultipleStatements { count: count as usize });
        }
        let mut prepared: ffi::duckdb_prepared_statement = ptr::null_mut();
        // SAFETY: index 0 exists; `prepared` is destroyed by its guard even when preparing fails.
        let state = unsafe { ffi::duckdb_prepare_extracted_statement(conn.0, extracted, 0, &mut prepared) };
        let prepared = Prepared(prepared);
        if state != ffi::DuckDBSuccess {
            // SAFETY: the message belongs to `prepared` and lives until its guard drops.
            let err = unsafe { ffi::duckdb_prepare_error(prepared.0) };
            let message = if err.is_null() {
                "DuckDB could not prepare the query".to_string()
            } else {
                unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned()
            };
            return Err(Error::Query(message));
        }
        // SAFETY: a successfully prepared statement.
        let kind = unsafe { ffi::duckdb_prepared_statement_type(prepared.0) };
        Ok(StatementKind(kind))
    }
}

impl Drop for RawDb {
    fn drop(&mut self) {
        // SAFETY: opened by us, closed exactly once; connections were dropped before us.
        unsafe { ffi::duckdb_close(&mut self.db) };
    }
}

/// DuckDB's statement type of a prepared statement (`duckdb_statement_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatementKind(ffi::duckdb_statement_type);

impl StatementKind {
    /// Whether executing this kind can only read: plain queries and EXPLAIN of them.
    pub(crate) fn is_read(self) -> bool {
        matches!(
            self.0,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SELECT
                | ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPLAIN
        )
    }

    /// The kind as an SQL keyword, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self.0 {
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SELECT => "SELECT",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_INSERT => "INSERT",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_UPDATE => "UPDATE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPLAIN => "EXPLAIN",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DELETE => "DELETE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_PREPARE => "PREPARE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CREATE => "CREATE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXECUTE => "EXECUTE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ALTER => "ALTER",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_TRANSACTION => "TRANSACTION",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_COPY => "COPY",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ANALYZE => "ANALYZE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_VARIABLE_SET => "SET VARIABLE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CREATE_FUNC => "CREATE FUNCTION",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DROP => "DROP",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPORT => "EXPORT",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_PRAGMA => "PRAGMA",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_VACUUM => "VACUUM",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CALL => "CALL",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SET => "SET",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_LOAD => "LOAD",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ATTACH => "ATTACH",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DETACH => "DETACH",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_COPY_DATABASE => "COPY DATABASE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_UPDATE_EXTENSIONS => "UPDATE EXTENSIONS",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_MERGE_INTO => "MERGE INTO",
            _ => "this kind of",
        }
    }
}

fn cstring(text: &str) -> Result<CString> {
    CString::new(text).map_err(|_| Error::InvalidInput(format!("{text:?} contains a NUL byte")))
}

/// A raw connection, disconnected on drop.
struct RawConn(ffi::duckdb_connection);

impl RawConn {
    fn connect(db: ffi::duckdb_database) -> Result<RawConn> {
        let mut con: ffi::duckdb_connection = ptr::null_mut();
        // SAFETY: db is live; on failure DuckDB leaves `con` null or disconnectable.
        if unsafe { ffi::duckdb_connect(db, &mut con) } != ffi::DuckDBSuccess {
            unsafe { ffi::duckdb_disconnect(&mut con) };
            return Err(Error::Query("DuckDB could not connect to the database".into()));
        }
        Ok(RawConn(con))
    }
}

impl Drop for RawConn {
    fn drop(&mut self) {
        // SAFETY: connected by us, disconnected exactly once.
        unsafe { ffi::duckdb_disconnect(&mut self.0) };
    }
}

struct Extracted(ffi::duckdb_extracted_statements);

impl Drop for Extracted {
    fn drop(&mut self) {
        // SAFETY: DuckDB requires destroying extracted statements even when extraction failed.
        unsafe { ffi::duckdb_destroy_extracted(&mut self.0) };
    }
}

struct Prepared(ffi::duckdb_prepared_statement);

impl Drop for Prepared {
    fn drop(&mut self) {
        // SAFETY: DuckDB requires destroying a prepared statement even when preparing failed.
        unsafe { ffi::duckdb_destroy_prepare(&mut self.0) };
    }
}
