//! The DuckDB session each operation opens: settings that make results reproducible, SQL quoting,
//! loading inputs and writing Parquet outputs.

use std::path::{Path, PathBuf};

use duckdb::types::FromSql;
use duckdb::Connection;

use crate::{Error, Result};

/// Name of the temporary table an input file is loaded into.
pub(crate) const INPUT: &str = "input";

/// A column of a loaded table: its name and DuckDB type (`BIGINT`, `VARCHAR`, ...).
#[derive(Debug, Clone)]
pub(crate) struct TableColumn {
    pub name: String,
    pub ty: String,
}

/// An in-memory DuckDB connection owned by one operation.
pub(crate) struct Db {
    conn: Connection,
}

impl Db {
    /// Opens a fresh in-memory database with reproducible settings.
    pub fn open() -> Result<Db> {
        let conn = Connection::open_in_memory()
            .map_err(|source| Error::DuckDb { doing: "opening an in-memory database".into(), source })?;
        let db = Db { conn };
        // Parquet, JSON and ICU are linked into the prebuilt 1.5.6 library; never reach the
        // network for extensions. UTC so that timestamps without an offset mean the same on
        // every machine. Insertion order is what makes `rowid` the row's position in its file.
        db.exec(
            "SET autoinstall_known_extensions = false; \
             SET autoload_known_extensions = false; \
             SET TimeZone = 'UTC'; \
             SET preserve_insertion_order = true;",
            "configuring the session",
        )?;
        Ok(db)
    }

    /// Runs statements that return nothing of interest.
    pub fn exec(&self, sql: &str, doing: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(|source| Error::DuckDb { doing: doing.into(), source })
    }

    /// Runs statements, reporting a failure as a failure to read `path`.
    pub fn exec_reading(&self, sql: &str, path: &Path) -> Result<()> {
        self.conn.execute_batch(sql).map_err(|source| Error::Read { path: path.to_owned(), source })
    }

    /// Runs a query returning exactly one value.
    pub fn value<T: FromSql>(&self, sql: &str, doing: &str) -> Result<T> {
        self.conn.query_row(sql, [], |row| row.get(0)).map_err(|source| Error::DuckDb { doing: doing.into(), source })
    }

    /// Runs a query returning rows of two values.
    pub fn pairs<A: FromSql, B: FromSql>(&self, sql: &str, doing: &str) -> Result<Vec<(A, B)>> {
        let wrap = |source| Error::DuckDb { doing: doing.into(), source };
        let mut stmt = self.conn.prepare(sql).map_err(wrap)?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).map_err(wrap)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(wrap)
    }

    /// Runs a query and maps its first row, if any.
    pub fn first_row<T>(
        &self,
        sql: &str,
        doing: &str,
        f: impl FnOnce(&duckdb::Row<'_>) -> duckdb::Result<T>,
    ) -> Result<Option<T>> {
        let wrap = |source| Error::DuckDb { doing: doing.into(), source };
        let mut stmt = self.conn.prepare(sql).map_err(wrap)?;
        let mut rows = stmt.query([]).map_err(wrap)?;
        match rows.next().map_err(wrap)? {
            Some(row) => f(row).map(Some).map_err(wrap),
            None => Ok(None),
        }
    }

    /// The columns and types of a relation (a table name or a parenthesised query).
    pub fn columns(&self, relation: &str) -> Result<Vec<TableColumn>> {
        let pairs: Vec<(String, String)> =
            self.pairs(&format!("DESCRIBE SELECT * FROM {relation}"), "describing a table")?;
        Ok(pairs.into_iter().map(|(name, ty)| TableColumn { name, ty }).collect())
    }

    /// The columns of a table function reading `path`, reporting a failure as a failure to read it.
    pub fn describe_reading(&self, reader: &str, path: &Path) -> Result<Vec<TableColumn>> {
        let wrap = |source| Error::Read { path: path.to_owned(), source };
        let mut stmt = self.conn.prepare(&format!("DESCRIBE SELECT * FROM {reader}")).map_err(wrap)?;
        let rows = stmt.query_map([], |row| Ok(TableColumn { name: row.get(0)?, ty: row.get(1)? })).map_err(wrap)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(wrap)
    }

    /// Loads a Parquet file produced by an earlier step into the [`INPUT`] table.
    ///
    /// Splits and filters only take Parquet: it keeps the column types `read_table` decided,
    /// and its row order is the order the earlier step wrote.
    pub fn load_parquet(&self, path: &Path) -> Result<Vec<TableColumn>> {
        require_file(path)?;
        if Format::of(path)? != Format::Parquet {
            return Err(Error::UnsupportedFormat {
                path: path.to_owned(),
                expected: "expected a .parquet file written by an earlier step",
            });
        }
        let sql = format!("CREATE TEMP TABLE {INPUT} AS SELECT * FROM read_parquet({})", path_literal(path)?);
        self.exec_reading(&sql, path)?;
        let columns = self.columns(INPUT)?;
        check_reserved(&columns, path)?;
        Ok(columns)
    }

    /// Writes the result of `query` (which must end in an `ORDER BY` that fixes the row order)
    /// to `out/name` as Parquet.
    ///
    /// Goes through a temporary name and a rename, so a crash never leaves a half-written file
    /// under the final name for a cache to trust.
    pub fn write_parquet(&self, query: &str, out: &Path, name: &str) -> Result<PathBuf> {
        let dest = out.join(name);
        let partial = out.join(format!(".{name}.partial"));
        let sql = format!("COPY ({query}) TO {} (FORMAT parquet)", path_literal(&partial)?);
        if let Err(source) = self.conn.execute_batch(&sql) {
            // Best effort: the write error is the one worth reporting.
            let _ = std::fs::remove_file(&partial);
            return Err(Error::Write { path: dest, source });
        }
        std::fs::rename(&partial, &dest).map_err(|source| Error::Io { path: dest.clone(), source })?;
        Ok(dest)
    }
}

/// Input formats, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Delimited text; DuckDB's sniffer finds the delimiter (comma, tab, ...).
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The format of `path`, by extension; a trailing `.gz`/`.zst` is looked through for text.
    pub fn of(path: &Path) -> Result<Format> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_ascii_lowercase();
        let ext = |name: &str| name.rsplit_once('.').map(|(_, ext)| ext.to_owned()).unwrap_or_default();
        if matches!(ext(&name).as_str(), "parquet" | "pq") {
            return Ok(Format::Parquet);
        }
        // DuckDB decompresses text files by their suffix itself.
        let text = name.strip_suffix(".gz").or_else(|| name.strip_suffix(".zst")).unwrap_or(&name);
        match ext(text).as_str() {
            // RecBole's atomic files (`.inter`, `.item`, `.user`) are tab-separated with a header.
            "csv" | "tsv" | "tab" | "txt" | "inter" | "item" | "user" => Ok(Format::Csv),
            _ => Err(Error::UnsupportedFormat {
                path: path.to_owned(),
                expected: "expected .csv, .tsv, .txt, .inter/.item/.user (RecBole) or .parquet",
            }),
        }
    }
}

/// Fails with [`Error::FileNotFound`] unless `path` is an existing regular file.
///
/// Checked up front because DuckDB's own message ("No files found that match the pattern")
/// talks about globs the user never wrote.
pub(crate) fn require_file(path: &Path) -> Result<()> {
    if path.is_file() {
        Ok(())
    } else {
        Err(Error::FileNotFound { path: path.to_owned() })
    }
}

/// Refuses inputs with a column called `rowid`: it would shadow the pseudo-column that records
/// each row's position in its file, which every ordering here falls back on.
pub(crate) fn check_reserved(columns: &[TableColumn], file: &Path) -> Result<()> {
    match columns.iter().find(|c| c.name.eq_ignore_ascii_case("rowid")) {
        Some(c) => Err(Error::ReservedColumn { name: c.name.clone(), file: file.to_owned() }),
        None => Ok(()),
    }
}

/// Fails with [`Error::ColumnNotFound`] unless the table has a column named exactly `name`.
pub(crate) fn require_column<'a>(columns: &'a [TableColumn], name: &str, file: &Path) -> Result<&'a TableColumn> {
    columns.iter().find(|c| c.name == name).ok_or_else(|| Error::ColumnNotFound {
        column: name.to_owned(),
        file: file.to_owned(),
        available: columns.iter().map(|c| c.name.clone()).collect(),
    })
}

/// Fails with [`Error::NullValues`] if `column` of the [`INPUT`] table has missing values.
pub(crate) fn require_no_nulls(db: &Db, column: &str, file: &Path, operation: &'static str) -> Result<()> {
    let nulls: u64 =
        db.value(&format!("SELECT count(*) FROM {INPUT} WHERE {} IS NULL", ident(column)), "counting missing values")?;
    if nulls == 0 {
        Ok(())
    } else {
        Err(Error::NullValues { column: column.to_owned(), file: file.to_owned(), count: nulls, operation })
    }
}

/// Creates the output folder.
pub(crate) fn create_out(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|source| Error::Io { path: out.to_owned(), source })
}

/// Quotes an identifier for SQL (`a"b` → `"a""b"`).
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal for SQL (`it's` → `'it''s'`).
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Quotes a path as a SQL string literal.
pub(crate) fn path_literal(path: &Path) -> Result<String> {
    path.to_str().map(literal).ok_or_else(|| Error::NonUtf8Path { path: path.to_owned() })
}

/// A comma-separated list of quoted column names.
pub(crate) fn column_list(columns: &[TableColumn]) -> String {
    columns.iter().map(|c| ident(&c.name)).collect::<Vec<_>>().join(", ")
}
