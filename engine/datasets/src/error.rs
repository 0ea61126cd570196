//! Errors of the data operations: one variant per way data or arguments can be wrong, each naming
//! the file and column involved so the message alone tells the user what to fix.

use std::path::PathBuf;

use crate::ColumnType;

/// Result of a data operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a data operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input file does not exist (or is not a regular file).
    #[error("file not found: {}", path.display())]
    FileNotFound {
        /// The path as given.
        path: PathBuf,
    },

    /// The file's extension is not one this crate reads.
    #[error("cannot read {}: {expected}", path.display())]
    UnsupportedFormat {
        /// The path as given.
        path: PathBuf,
        /// What would have been accepted.
        expected: &'static str,
    },

    /// DuckDB takes paths inside SQL text, so they must be UTF-8.
    #[error("path {} is not valid UTF-8", path.display())]
    NonUtf8Path {
        /// The offending path.
        path: PathBuf,
    },

    /// A requested input column is not in the file.
    #[error("column `{column}` not found in {}; it has: {}", file.display(), available.join(", "))]
    ColumnNotFound {
        /// The column asked for.
        column: String,
        /// The file searched.
        file: PathBuf,
        /// The columns the file does have, in file order.
        available: Vec<String>,
    },

    /// Two output columns would have the same name.
    #[error("output column `{name}` is declared more than once")]
    DuplicateColumn {
        /// The repeated name.
        name: String,
    },

    /// A column name this crate uses internally.
    #[error("column name `{name}` in {} is reserved by DuckDB; rename it", file.display())]
    ReservedColumn {
        /// The reserved name.
        name: String,
        /// Where it appeared (the input, or the declared output of a read).
        file: PathBuf,
    },

    /// Values of a column do not convert to the declared type.
    #[error(
        "column `{column}` in {}: `{value}` (data row {row}) is not a valid {ty}{}",
        file.display(),
        if *count > 1 { format!(" ({count} bad values in all)") } else { String::new() }
    )]
    BadValue {
        /// The input column.
        column: String,
        /// The input file.
        file: PathBuf,
        /// The declared type.
        ty: ColumnType,
        /// The first bad value, as text.
        value: String,
        /// Its 1-based data row (header not counted).
        row: u64,
        /// How many values of the column are bad.
        count: u64,
    },

    /// A column's stored type cannot be read as the declared type at all (say a date as `float`).
    #[error("column `{column}` in {} has type {found}, which cannot be read as {wanted}", file.display())]
    TypeMismatch {
        /// The input column.
        column: String,
        /// The input file.
        file: PathBuf,
        /// Its DuckDB type.
        found: String,
        /// The declared type.
        wanted: ColumnType,
    },

    /// A column that an operation orders or groups by has missing values.
    #[error("column `{column}` in {} has {count} missing values; {operation} needs a value on every row", file.display())]
    NullValues {
        /// The column.
        column: String,
        /// The input file.
        file: PathBuf,
        /// How many rows lack a value.
        count: u64,
        /// The operation that needs the values.
        operation: &'static str,
    },

    /// A split fraction outside `[0, 1)` (or not a number).
    #[error("the {name} fraction must be at least 0 and below 1, got {value}")]
    RatioOutOfRange {
        /// `valid` or `test`.
        name: &'static str,
        /// The value given.
        value: f64,
    },

    /// Split fractions that leave nothing to train on.
    #[error("valid ({valid}) + test ({test}) must be below 1, or nothing is left to train on")]
    RatiosTooLarge {
        /// The validation fraction.
        valid: f64,
        /// The test fraction.
        test: f64,
    },

    /// A numeric argument that must be a finite number.
    #[error("{name} must be a finite number, got {value}")]
    NotFinite {
        /// The argument.
        name: &'static str,
        /// The value given.
        value: f64,
    },

    /// A type name that is not one of [`ColumnType::ALL`].
    #[error("unknown column type `{given}`; expected one of: id, int, float, bool, str, time")]
    UnknownType {
        /// The name given.
        given: String,
    },

    /// DuckDB could not read an input file (malformed CSV, not Parquet, ...).
    #[error("{}", read_message(path, source))]
    Read {
        /// The input file.
        path: PathBuf,
        /// DuckDB's explanation.
        source: duckdb::Error,
    },

    /// DuckDB could not write an output file.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// DuckDB's explanation.
        source: duckdb::Error,
    },

    /// A file-system operation around the outputs failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The operating system's explanation.
        source: std::io::Error,
    },

    /// A feature table's key has a value on more than one row.
    #[error("column `{column}` in {} has {value} on {rows} rows; a feature table has one row per {column}", file.display())]
    RepeatedKey {
        /// The key column (`item` or `user`).
        column: String,
        /// The table's file.
        file: PathBuf,
        /// The first repeated value.
        value: i64,
        /// How many rows have it.
        rows: u64,
    },

    /// The item and user feature tables both have a column of this name.
    #[error(
        "both feature tables have a column `{column}` ({} and {}); a model input reads the one column of its name, so rename one",
        first.display(),
        second.display()
    )]
    SharedFeature {
        /// The column.
        column: String,
        /// The table that has it first.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },

    /// Any other DuckDB failure; a bug here rather than bad data.
    #[error("DuckDB failed while {doing}: {source}")]
    DuckDb {
        /// What was being done.
        doing: String,
        /// DuckDB's explanation.
        source: duckdb::Error,
    },
}

/// What a person can act on when DuckDB cannot read a file: the file, what kind of trouble, and
/// the first line of DuckDB's explanation (not its list of reader options the step does not take).
fn read_message(path: &std::path::Path, source: &duckdb::Error) -> String {
    let text = source.to_string();
    let first = text.lines().next().unwrap_or_default().trim();
    let first = first.split_once("Error: ").map_or(first, |(_, rest)| rest);
    let parquet = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    if parquet {
        return format!("{} is not a readable Parquet file (damaged, or not Parquet): {first}", path.display());
    }
    let why = if first.starts_with("Error when sniffing file") {
        "its delimiter, quoting and header could not be told apart".to_string()
    } else if first.starts_with("CSV Error on Line") {
        // The line number, then what is wrong with it; DuckDB's "Original Line" may show the
        // line before the bad one (with bytes that are not UTF-8), so it is left out.
        let detail = text
            .lines()
            .skip(1)
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("Original Line"))
            .unwrap_or_default();
        format!("{first}: {detail}")
    } else {
        first.to_string()
    };
    format!(
        "cannot read {} as CSV: {why}\n  a CSV needs a header line, one delimiter (`,` `;` `|` or tab) and the same number of fields on every line",
        path.display()
    )
}
