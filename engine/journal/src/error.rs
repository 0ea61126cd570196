//! The journal's error type, with a stable code per variant for tools and agents to match on.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the journal and the read-only query service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// DuckDB refused an operation the journal itself issued (not a user query).
    #[error("journal database error: {0}")]
    Db(#[from] duckdb::Error),

    /// The file was written by a newer evoflow whose schema this binary does not know.
    #[error(
        "journal {path} has schema version {found}, but this evoflow only knows versions up to \
         {supported}; upgrade evoflow to read it"
    )]
    SchemaTooNew {
        /// The journal file.
        path: String,
        /// The version recorded in the file.
        found: i64,
        /// The newest version this binary can apply.
        supported: i64,
    },

    /// A migration failed; its transaction was rolled back, so the file keeps the older version.
    #[error("journal migration to schema version {version} failed: {source}")]
    Migration {
        /// The version being applied.
        version: i64,
        /// What DuckDB said.
        source: duckdb::Error,
    },

    /// Another process holds the journal file open for writing (DuckDB allows only one).
    #[error(
        "journal {path} is locked by another process (a run in progress?); query it through that \
         run, or wait for it to finish: {message}"
    )]
    Busy {
        /// The journal file.
        path: PathBuf,
        /// DuckDB's message, which names the holding process when it can.
        message: String,
    },

    /// A filesystem operation around the journal (snapshot copies) failed.
    #[error("journal i/o on {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A run id that the journal has no row for.
    #[error("no run with id {0} in the journal")]
    UnknownRun(i64),

    /// A value read back from the journal is not one the schema allows (a damaged file).
    #[error("journal holds an unexpected value: {0}")]
    Corrupt(String),

    /// An argument the caller passed cannot be stored (for example a NUL byte in text).
    #[error("invalid journal input: {0}")]
    InvalidInput(String),

    /// A read-only query was empty (only whitespace and comments).
    #[error("the query is empty; write one SELECT (or WITH, FROM, DESCRIBE, SUMMARIZE, SHOW, EXPLAIN) statement")]
    EmptyQuery,

    /// A read-only query held more than one statement.
    #[error(
        "the query holds {count} statements; send exactly one read-only statement, without a second one after ';'"
    )]
    MultipleStatements {
        /// How many statements DuckDB's parser found.
        count: usize,
    },

    /// A read-only query was not a read statement.
    #[error("{kind} statements are not allowed here: the journal is read-only; allowed are {allowed}")]
    NotReadOnly {
        /// The statement kind, as a keyword (INSERT, ATTACH, PRAGMA ...).
        kind: String,
        /// The allowed kinds, for the message.
        allowed: &'static str,
    },

    /// DuckDB could not parse, bind or run a read-only query (including refused host-file access).
    #[error("query failed: {0}")]
    Query(String),

    /// A read-only query ran past its time limit and was interrupted.
    #[error("query interrupted after the {} ms time limit", .limit.as_millis())]
    Timeout {
        /// The limit that was exceeded.
        limit: Duration,
    },
}

impl Error {
    /// A short, stable identifier of the error kind (for logs, tool results and tests).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Db(_) => "journal.db",
            Error::SchemaTooNew { .. } => "journal.schema_too_new",
            Error::Migration { .. } => "journal.migration",
            Error::Busy { .. } => "journal.busy",
            Error::Io { .. } => "journal.io",
            Error::UnknownRun(_) => "journal.unknown_run",
            Error::Corrupt(_) => "journal.corrupt",
            Error::InvalidInput(_) => "journal.invalid_input",
            Error::EmptyQuery => "query.empty",
            Error::MultipleStatements { .. } => "query.multiple_statements",
            Error::NotReadOnly { .. } => "query.not_read_only",
            Error::Query(_) => "query.failed",
            Error::Timeout { .. } => "query.timeout",
        }
    }
}

/// The journal's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether a DuckDB open error means another process holds the file lock.
pub(crate) fn is_lock_conflict(message: &str) -> bool {
    // DuckDB 1.x: "IO Error: Could not set lock on file "...": Conflicting lock is held in ...".
    message.contains("Could not set lock on file") || message.contains("Conflicting lock")
}
