//! Reading CSV or Parquet files into a declared schema: [`read_table`] and its interaction-shaped
//! form [`load_interactions`].

use std::collections::HashSet;
use std::path::Path;

use crate::cast::{self, Input};
use crate::db::{check_reserved, create_out, ident, path_literal, require_file, Db, Format, TableColumn};
use crate::meta::{describe, Meta};
use crate::{Column, ColumnType, Error, Result, DATA_FILE};

/// Table the selected input columns are loaded into before conversion.
const RAW: &str = "raw";

/// Reads `path` (CSV with any delimiter DuckDB detects, or Parquet, by extension) into
/// `out/data.parquet`, keeping `columns` in order, each renamed from its source and cast to its
/// type. An empty `columns` keeps every column with the types DuckDB detects.
///
/// Rows keep their file order. Column sources match the header exactly; failing that, a unique
/// RecBole-style header whose name part matches (`user_id` finds `user_id:token`).
pub fn read_table(path: &Path, columns: &[Column], out: &Path) -> Result<Meta> {
    require_file(path)?;
    let format = Format::of(path)?;
    check_declared(columns, path)?;
    // DuckDB's sniffer refuses a file whose lines end both ways: read a copy with `\n` endings.
    let normalized = match format {
        Format::Csv => lf_copy(path, out)?,
        Format::Parquet => None,
    };
    let reading = normalized.as_deref().unwrap_or(path);
    let meta = read_into(path, reading, format, columns, out);
    if let Some(copy) = normalized {
        let _ = std::fs::remove_file(copy);
    }
    meta
}

/// [`read_table`] of `reading` (the file, or its normalised copy), naming `path` in errors.
fn read_into(path: &Path, reading: &Path, format: Format, columns: &[Column], out: &Path) -> Result<Meta> {
    let db = Db::open()?;
    // With a schema, CSV is read as text so that conversion (and its error messages) is ours;
    // DuckDB's sniffer only guesses types from a sample and fails later rows with its own message.
    let reader = reader(reading, format, !columns.is_empty())?;
    let found = db.describe_reading(&reader, path)?;

    let select = if columns.is_empty() {
        check_reserved(&found, path)?;
        db.exec_reading(&format!("CREATE TEMP TABLE {RAW} AS SELECT * FROM {reader}"), path)?;
        "*".to_owned()
    } else {
        let sources = columns.iter().map(|c| resolve(&found, c.source_name(), path)).collect::<Result<Vec<_>>>()?;
        // Raw columns get positional names so that two outputs may share a source.
        let picks = sources.iter().enumerate().map(|(i, s)| format!("{} AS c{i}", ident(&s.name))).collect::<Vec<_>>();
        db.exec_reading(&format!("CREATE TEMP TABLE {RAW} AS SELECT {} FROM {reader}", picks.join(", ")), path)?;
        let raw = db.columns(RAW)?;
        let mut exprs = Vec::with_capacity(columns.len());
        for ((column, source), raw) in columns.iter().zip(&sources).zip(&raw) {
            let input = Input { table: RAW, column: raw, shown_as: &source.name, file: path };
            let expr = cast::convert(&db, &input, column.ty)?;
            exprs.push(format!("{expr} AS {}", ident(&column.name)));
        }
        exprs.join(", ")
    };

    create_out(out)?;
    let file = db.write_parquet(&format!("SELECT {select} FROM {RAW} ORDER BY rowid"), out, DATA_FILE)?;
    describe(&db, &[file])
}

/// Reads an interaction log into `out/data.parquet` with columns `user` and `item` (ids),
/// `rating` (float) and `time` (epoch seconds) when their sources are given, in that order.
pub fn load_interactions(
    path: &Path,
    user: &str,
    item: &str,
    rating: Option<&str>,
    time: Option<&str>,
    out: &Path,
) -> Result<Meta> {
    let mut columns = vec![
        Column::new("user", ColumnType::Id).from_source(user),
        Column::new("item", ColumnType::Id).from_source(item),
    ];
    if let Some(rating) = rating {
        columns.push(Column::new("rating", ColumnType::Float).from_source(rating));
    }
    if let Some(time) = time {
        columns.push(Column::new("time", ColumnType::Time).from_source(time));
    }
    read_table(path, &columns, out)
}

/// When `path` has lines ending in both `\r\n` and `\n`, a copy beside `out` with `\n` endings.
fn lf_copy(path: &Path, out: &Path) -> Result<Option<std::path::PathBuf>> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io { path: path.to_owned(), source: e })?;
    let crlf = bytes.windows(2).filter(|w| w == b"\r\n").count();
    let lf = bytes.iter().filter(|&&b| b == b'\n').count();
    if crlf == 0 || crlf == lf {
        return Ok(None);
    }
    let mut fixed = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        fixed.push(bytes[i]);
        i += 1;
    }
    create_out(out)?;
    let copy = out.join(".lf-endings.csv");
    std::fs::write(&copy, fixed).map_err(|e| Error::Io { path: copy.clone(), source: e })?;
    Ok(Some(copy))
}

/// The table function reading `path`.
fn reader(path: &Path, format: Format, as_text: bool) -> Result<String> {
    let file = path_literal(path)?;
    Ok(match format {
        // Headers are required: columns are chosen by name.
        Format::Csv => format!("read_csv({file}, header = true, all_varchar = {as_text})"),
        Format::Parquet => format!("read_parquet({file})"),
    })
}

/// Refuses schemas with repeated output names or a reserved one, before touching the file.
fn check_declared(columns: &[Column], path: &Path) -> Result<()> {
    let mut seen = HashSet::new();
    for column in columns {
        if column.name.eq_ignore_ascii_case("rowid") {
            return Err(Error::ReservedColumn { name: column.name.clone(), file: path.to_owned() });
        }
        if !seen.insert(column.name.as_str()) {
            return Err(Error::DuplicateColumn { name: column.name.clone() });
        }
    }
    Ok(())
}

/// Finds the input column named `wanted`: exactly, or else the one RecBole header
/// (`name:type`) whose name part is `wanted`.
fn resolve<'a>(found: &'a [TableColumn], wanted: &str, path: &Path) -> Result<&'a TableColumn> {
    if let Some(exact) = found.iter().find(|c| c.name == wanted) {
        return Ok(exact);
    }
    let mut recbole = found.iter().filter(|c| c.name.split_once(':').is_some_and(|(base, _)| base == wanted));
    match (recbole.next(), recbole.next()) {
        (Some(only), None) => Ok(only),
        _ => Err(Error::ColumnNotFound {
            column: wanted.to_owned(),
            file: path.to_owned(),
            available: found.iter().map(|c| c.name.clone()).collect(),
        }),
    }
}
