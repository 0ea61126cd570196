//! Simulated impressions into `data.parquet` through DuckDB, with the columns of
//! `dsl::builtins::SIM_LOG_SCHEMA` and a `datasets::Meta` read back from the written file.

use std::path::Path;

use datasets::{ColumnMeta, Meta, DATA_FILE};
use duckdb::{params, Connection};
use simulator::{Impression, World};

/// The table's DDL: the schema's columns with their DuckDB types, quoted (`like` is a keyword).
const CREATE: &str = "CREATE TABLE impressions (\"user\" BIGINT, \"item\" BIGINT, \"time\" BIGINT, \"day\" BIGINT, \
     \"position\" BIGINT, \"click\" BOOLEAN, \"watch_seconds\" DOUBLE, \"like\" BOOLEAN, \"share\" BOOLEAN, \
     \"survey\" DOUBLE)";

/// Generates `days` days of logs of `world` and writes them to `out/data.parquet`.
pub fn write(world: &World, days: u32, seed: u64, out: &Path) -> Result<Meta, String> {
    let conn = Connection::open_in_memory().map_err(duck("opening a database"))?;
    conn.execute_batch(
        "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false; \
         SET preserve_insertion_order = true;",
    )
    .map_err(duck("configuring the session"))?;
    conn.execute_batch(CREATE).map_err(duck("creating the table"))?;
    {
        let mut app = conn.appender("impressions").map_err(duck("opening an appender"))?;
        let mut failure = None;
        simulator::logs(world, days, seed, |r: &Impression| {
            if failure.is_none() {
                let row = params![
                    i64::from(r.user),
                    i64::from(r.item),
                    r.time,
                    i64::from(r.day),
                    i64::from(r.position),
                    r.click,
                    f64::from(r.watch_seconds),
                    r.like,
                    r.share,
                    r.survey.map(f64::from),
                ];
                failure = app.append_row(row).err();
            }
        });
        if let Some(e) = failure {
            return Err(duck("appending impressions")(e));
        }
        app.flush().map_err(duck("flushing impressions"))?;
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let (dest, partial) = (out.join(DATA_FILE), out.join(format!(".{DATA_FILE}.partial")));
    // Generation order is (day, user, time, position); the ORDER BY pins it in the file.
    let copy = format!(
        "COPY (SELECT * FROM impressions ORDER BY \"day\", \"user\", \"time\", \"position\", rowid) TO {} (FORMAT parquet)",
        literal(&partial)?
    );
    conn.execute_batch(&copy).map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
    std::fs::rename(&partial, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    describe(&conn, &dest)
}

/// Turns a DuckDB error into a message saying what was being done.
fn duck(doing: &'static str) -> impl Fn(duckdb::Error) -> String {
    move |e| format!("DuckDB failed while {doing}: {e}")
}

/// What was written, read back from the file.
fn describe(conn: &Connection, file: &Path) -> Result<Meta, String> {
    let src = format!("read_parquet({})", literal(file)?);
    let wrap = |e: duckdb::Error| format!("DuckDB failed while describing {}: {e}", file.display());
    let mut stmt = conn.prepare(&format!("DESCRIBE SELECT * FROM {src}")).map_err(wrap)?;
    let columns = stmt
        .query_map([], |row| Ok(ColumnMeta { name: row.get(0)?, ty: row.get(1)? }))
        .map_err(wrap)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(wrap)?;
    let (rows, users, items): (u64, u64, u64) = conn
        .query_row(
            &format!("SELECT count(*), count(DISTINCT \"user\"), count(DISTINCT \"item\") FROM {src}"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(wrap)?;
    Ok(Meta { rows, columns, users: Some(users), items: Some(items), splits: None, filter: None })
}

/// A path as a SQL string literal.
pub(super) fn literal(path: &Path) -> Result<String, String> {
    let text = path.to_str().ok_or_else(|| format!("path {} is not valid UTF-8", path.display()))?;
    Ok(format!("'{}'", text.replace('\'', "''")))
}
