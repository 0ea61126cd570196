//! Converting an input column to its declared [`ColumnType`]: picks a SQL expression by the
//! column's stored DuckDB type, then checks every value, so a bad one is reported by column, value
//! and row instead of turning silently into NULL.

use std::path::Path;

use crate::db::{ident, Db, TableColumn};
use crate::{ColumnType, Error, Result};

/// What DuckDB stored an input column as, as far as conversion cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Bool,
    Integer,
    Float,
    Text,
    Temporal,
    Other,
}

impl Family {
    fn of(duck_type: &str) -> Family {
        match duck_type {
            "BOOLEAN" => Family::Bool,
            "TINYINT" | "SMALLINT" | "INTEGER" | "BIGINT" | "HUGEINT" | "UTINYINT" | "USMALLINT" | "UINTEGER"
            | "UBIGINT" | "UHUGEINT" => Family::Integer,
            "FLOAT" | "DOUBLE" => Family::Float,
            t if t.starts_with("DECIMAL") => Family::Float,
            "VARCHAR" => Family::Text,
            t if t == "DATE" || t.starts_with("TIMESTAMP") => Family::Temporal,
            _ => Family::Other,
        }
    }
}

/// Whether DuckDB stores a column of this type as whole numbers.
pub(crate) fn is_integer(duck_type: &str) -> bool {
    Family::of(duck_type) == Family::Integer
}

/// One input column of the raw table, about to be converted.
pub(crate) struct Input<'a> {
    /// Table holding the raw values.
    pub table: &'a str,
    /// The column in that table, with its stored type.
    pub column: &'a TableColumn,
    /// The name users know it by (the file's header), for messages.
    pub shown_as: &'a str,
    /// The file it came from, for messages.
    pub file: &'a Path,
}

/// Returns a SQL expression over `input` that yields its values as `ty`, after checking that
/// every non-null value converts.
pub(crate) fn convert(db: &Db, input: &Input<'_>, ty: ColumnType) -> Result<String> {
    let x = ident(&input.column.name);
    let family = Family::of(&input.column.ty);
    // Text is trimmed because hand-written CSVs often pad after the delimiter.
    let t = format!("trim({x})");
    // `TRY_CAST('4.5' AS BIGINT)` rounds to 5 in DuckDB 1.5, so whole numbers in text are
    // recognised by pattern rather than by a cast succeeding.
    let int_from_text = format!("CASE WHEN regexp_full_match({t}, '[+-]?[0-9]+') THEN TRY_CAST({t} AS BIGINT) END");
    let d = format!("CAST({x} AS DOUBLE)");
    let int_from_float = format!("CASE WHEN isfinite({d}) AND {d} = trunc({d}) THEN TRY_CAST({d} AS BIGINT) END");
    let double_from_text = format!("TRY_CAST({t} AS DOUBLE)");

    let expr = match (ty, family) {
        (ColumnType::Str, _) => format!("CAST({x} AS VARCHAR)"),

        (ColumnType::Id | ColumnType::Int | ColumnType::Time, Family::Integer) => format!("TRY_CAST({x} AS BIGINT)"),
        (ColumnType::Id | ColumnType::Int, Family::Float) => int_from_float,
        (ColumnType::Int, Family::Bool) => format!("CAST({x} AS BIGINT)"),
        (ColumnType::Int, Family::Text) => int_from_text,
        // Ids keep their integer form when every value has one (smaller, faster joins); any
        // other text makes the whole column text, which is still a valid id.
        (ColumnType::Id, Family::Text) => {
            if first_bad(db, input, &int_from_text)?.is_none() {
                int_from_text
            } else {
                format!("CAST({x} AS VARCHAR)")
            }
        }

        (ColumnType::Float, Family::Integer | Family::Float | Family::Bool) => {
            format!("CASE WHEN isfinite({d}) THEN {d} END")
        }
        (ColumnType::Float, Family::Text) => {
            format!("CASE WHEN isfinite({double_from_text}) THEN {double_from_text} END")
        }

        (ColumnType::Bool, Family::Bool) => x.clone(),
        (ColumnType::Bool, Family::Integer | Family::Float) => {
            format!("CASE WHEN {x} = 0 THEN false WHEN {x} = 1 THEN true END")
        }
        (ColumnType::Bool, Family::Text) => format!("TRY_CAST({t} AS BOOLEAN)"),

        (ColumnType::Time, Family::Float) => format!("CASE WHEN isfinite({d}) THEN TRY_CAST(floor({d}) AS BIGINT) END"),
        (ColumnType::Time, Family::Temporal) => format!("TRY_CAST(floor(epoch({x})) AS BIGINT)"),
        // Text times are epoch seconds (whole or fractional) or anything DuckDB parses as a
        // timestamp; one without an offset is UTC (the session's time zone).
        (ColumnType::Time, Family::Text) => format!(
            "CASE WHEN regexp_full_match({t}, '[+-]?[0-9]+') THEN TRY_CAST({t} AS BIGINT) \
             WHEN isfinite({double_from_text}) THEN TRY_CAST(floor({double_from_text}) AS BIGINT) \
             ELSE TRY_CAST(floor(epoch(TRY_CAST({t} AS TIMESTAMPTZ))) AS BIGINT) END"
        ),

        _ => {
            return Err(Error::TypeMismatch {
                column: input.shown_as.to_owned(),
                file: input.file.to_owned(),
                found: input.column.ty.clone(),
                wanted: ty,
            })
        }
    };

    match first_bad(db, input, &expr)? {
        None => Ok(expr),
        Some(bad) => Err(Error::BadValue {
            column: input.shown_as.to_owned(),
            file: input.file.to_owned(),
            ty,
            value: bad.value,
            row: bad.row,
            count: bad.count,
        }),
    }
}

/// The first value (in file order) that `expr` fails to convert, and how many fail.
struct Bad {
    value: String,
    row: u64,
    count: u64,
}

/// Finds values present in the input for which `expr` yields NULL: a conversion failure.
fn first_bad(db: &Db, input: &Input<'_>, expr: &str) -> Result<Option<Bad>> {
    let x = ident(&input.column.name);
    let sql = format!(
        "SELECT CAST({x} AS VARCHAR), rowid + 1, count(*) OVER () FROM {table} \
         WHERE {x} IS NOT NULL AND ({expr}) IS NULL ORDER BY rowid LIMIT 1",
        table = input.table
    );
    db.first_row(&sql, "checking column values", |row| {
        Ok(Bad { value: row.get(0)?, row: row.get(1)?, count: row.get(2)? })
    })
}
