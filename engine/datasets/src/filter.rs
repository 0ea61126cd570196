//! Dropping rows: sparse users and items (an optional minimum rating, then an iterative k-core),
//! or rows a condition scored elsewhere turned down.

use std::path::Path;

use crate::db::{column_list, create_out, ident, require_column, Db, INPUT};
use crate::meta::{describe, FilterStats, Meta};
use crate::{Error, Result, DATA_FILE};

/// Keeps rows with `rating >= min_rating` (when given; rows without a rating go too), then
/// repeatedly drops users with fewer than `min_user` rows and items with fewer than `min_item`
/// rows until a pass removes nothing, and writes `out/data.parquet` in input order.
///
/// One pass filters users, then items, as RecBole does. A minimum of 0 or 1 disables that side
/// (so rows with a missing user or item survive it); otherwise such rows are dropped.
pub fn filter_min(input: &Path, min_user: u64, min_item: u64, min_rating: Option<f64>, out: &Path) -> Result<Meta> {
    if let Some(min) = min_rating.filter(|m| !m.is_finite()) {
        return Err(Error::NotFinite { name: "min_rating", value: min });
    }
    let db = Db::open()?;
    let columns = db.load_parquet(input)?;
    let (user, item, rating) = (ident("user"), ident("item"), ident("rating"));
    if min_user > 1 {
        require_column(&columns, "user", input)?;
    }
    if min_item > 1 {
        require_column(&columns, "item", input)?;
    }
    let input_rows: u64 = db.value(&format!("SELECT count(*) FROM {INPUT}"), "counting input rows")?;

    // `rowid` is carried along because filtering through semi-joins does not keep row order.
    let keep_rating = match min_rating {
        Some(min) => {
            require_column(&columns, "rating", input)?;
            // Debug formatting keeps a decimal point, so DuckDB reads the bound as a DOUBLE.
            format!("WHERE {rating} >= {min:?}")
        }
        None => String::new(),
    };
    db.exec(
        &format!("CREATE TEMP TABLE kept AS SELECT *, rowid AS {ROW} FROM {INPUT} {keep_rating}"),
        "filtering ratings",
    )?;
    let after_rating: u64 = db.value("SELECT count(*) FROM kept", "counting rows")?;

    let mut rows = after_rating;
    let mut rounds = 0u32;
    loop {
        rounds += 1;
        let users = if min_user > 1 {
            format!("WHERE {user} IN (SELECT {user} FROM kept GROUP BY {user} HAVING count(*) >= {min_user})")
        } else {
            String::new()
        };
        let items = if min_item > 1 {
            format!("WHERE {item} IN (SELECT {item} FROM by_user GROUP BY {item} HAVING count(*) >= {min_item})")
        } else {
            String::new()
        };
        db.exec(
            &format!(
                "CREATE TEMP TABLE next AS WITH by_user AS (SELECT * FROM kept {users}) SELECT * FROM by_user {items}; \
                 DROP TABLE kept; ALTER TABLE next RENAME TO kept;"
            ),
            "filtering users and items",
        )?;
        let now: u64 = db.value("SELECT count(*) FROM kept", "counting rows")?;
        if now == rows {
            break;
        }
        rows = now;
    }

    create_out(out)?;
    let file =
        db.write_parquet(&format!("SELECT {} FROM kept ORDER BY {ROW}", column_list(&columns)), out, DATA_FILE)?;
    let mut meta = describe(&db, &[file])?;
    meta.filter = Some(FilterStats {
        input_rows,
        removed_by_rating: input_rows - after_rating,
        removed_by_core: after_rating - rows,
        removed_by_condition: 0,
        rounds,
    });
    Ok(meta)
}

/// Helper column holding each row's position in the input.
const ROW: &str = "__evoflow_row";

/// Keeps the rows of `input` whose `column` is above 0 (a condition's score, added by the caller),
/// drops that column, and writes `out/data.parquet` in input order. Rows whose score is NaN or
/// missing go.
pub fn keep_scored(input: &Path, column: &str, out: &Path) -> Result<Meta> {
    let db = Db::open()?;
    let columns = db.load_parquet(input)?;
    require_column(&columns, column, input)?;
    let kept: Vec<_> = columns.iter().filter(|c| c.name != column).cloned().collect();
    let input_rows: u64 = db.value(&format!("SELECT count(*) FROM {INPUT}"), "counting input rows")?;
    create_out(out)?;
    let query = format!("SELECT {} FROM {INPUT} WHERE {} > 0 ORDER BY rowid", column_list(&kept), ident(column));
    let file = db.write_parquet(&query, out, DATA_FILE)?;
    let mut meta = describe(&db, &[file])?;
    meta.filter = Some(FilterStats {
        input_rows,
        removed_by_rating: 0,
        removed_by_core: 0,
        rounds: 0,
        removed_by_condition: input_rows - meta.rows,
    });
    Ok(meta)
}
