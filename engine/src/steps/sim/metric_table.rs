//! Experiment-platform tables (arm, day, metric, value) in CSV or Parquet, read through DuckDB.
//! Columns are checked by name first, so a missing one is named in the error rather than
//! surfacing as a binder error.

use std::path::Path;

use duckdb::Connection;
use simulator::{MetricRow, MetricTable};

use super::log_file::literal;

/// The columns a metric table must have, in the order they are read (an `n` column, the users
/// behind each value, is read when present).
pub const COLUMNS: [&str; 4] = ["arm", "day", "metric", "value"];

/// Reads a metric table, checking columns and values: arm and metric as text, day a whole
/// number ≥ 0, value a finite number, no missing values, no (arm, day, metric) twice.
pub fn read_metric_table(path: &Path) -> Result<MetricTable, String> {
    let conn = open()?;
    let query = normalised(&conn, path)?;
    let wrap = |e: duckdb::Error| format!("cannot read {}: {e}", path.display());
    let mut stmt = conn.prepare(&query).map_err(wrap)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<f64>>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })
        .map_err(wrap)?;
    let mut out = Vec::new();
    for (k, row) in rows.enumerate() {
        let (arm, day, metric, value, n) = row.map_err(wrap)?;
        let missing = |col: &str| {
            let what = if col == "day" { "a whole number" } else { "a number" };
            let what =
                if col == "arm" || col == "metric" { "a value".to_string() } else { format!("a value that is {what}") };
            format!("{}: data row {} has no `{col}` ({what} is needed)", path.display(), k + 1)
        };
        let arm = arm.ok_or_else(|| missing("arm"))?;
        let metric = metric.ok_or_else(|| missing("metric"))?;
        let value = value.ok_or_else(|| missing("value"))?;
        let day = day.ok_or_else(|| missing("day"))?;
        let day = u32::try_from(day)
            .map_err(|_| format!("{}: data row {} has day {day}; days count from 0", path.display(), k + 1))?;
        let n = n.and_then(|n| u64::try_from(n).ok());
        out.push(MetricRow { arm, day, metric, value, n });
    }
    MetricTable::new(out).map_err(|e| format!("{}: {e}", path.display()))
}

fn open() -> Result<Connection, String> {
    let conn = Connection::open_in_memory().map_err(|e| format!("DuckDB failed to open: {e}"))?;
    conn.execute_batch(
        "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false; \
         SET preserve_insertion_order = true;",
    )
    .map_err(|e| format!("DuckDB failed to configure: {e}"))?;
    Ok(conn)
}

/// The query selecting the four columns with their types, in file order, after checking
/// that the file exists and has them.
fn normalised(conn: &Connection, path: &Path) -> Result<String, String> {
    if !path.is_file() {
        return Err(format!("file not found: {}", path.display()));
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_ascii_lowercase();
    let file = literal(path)?;
    let reader = if name.ends_with(".parquet") || name.ends_with(".pq") {
        format!("read_parquet({file})")
    } else if [".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz"].iter().any(|ext| name.ends_with(ext)) {
        format!("read_csv({file}, header = true)")
    } else {
        return Err(format!("cannot read {}: expected a .csv, .tsv or .parquet file", path.display()));
    };
    let wrap = |e: duckdb::Error| format!("cannot read {}: {e}", path.display());
    let mut stmt = conn.prepare(&format!("DESCRIBE SELECT * FROM {reader}")).map_err(wrap)?;
    let found: Vec<String> =
        stmt.query_map([], |r| r.get::<_, String>(0)).map_err(wrap)?.collect::<Result<_, _>>().map_err(wrap)?;
    for col in COLUMNS {
        if !found.iter().any(|f| f == col) {
            return Err(format!(
                "{} has no column `{col}`; a metric table needs arm, day, metric, value (it has: {})",
                path.display(),
                found.join(", ")
            ));
        }
    }
    // `n`, the users behind a value, is optional: platforms that export it have it journaled.
    let n = if found.iter().any(|f| f == "n") { "TRY_CAST(n AS BIGINT)" } else { "NULL::BIGINT" };
    Ok(format!(
        "SELECT CAST(arm AS VARCHAR) AS arm, TRY_CAST(day AS BIGINT) AS day, CAST(metric AS VARCHAR) AS metric, \
         TRY_CAST(value AS DOUBLE) AS value, {n} AS n FROM {reader}"
    ))
}
