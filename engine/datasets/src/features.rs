//! Side features: item and user attribute tables attached to a split, one row per item or user,
//! whose columns training reads as model inputs of the same name.

use std::path::Path;

use crate::db::{create_out, ident, path_literal, require_column, Db, TableColumn, INPUT};
use crate::meta::{describe, Meta};
use crate::{Error, Result, ITEM_FEATURES_FILE, TEST_FILE, TRAIN_FILE, USER_FEATURES_FILE, VALID_FILE};

/// Copies the split in `split` (its three parts) to `out` and writes beside them the item table
/// `items` as [`ITEM_FEATURES_FILE`] and the user table `users` as [`USER_FEATURES_FILE`].
///
/// Each table is keyed by an integer `item` (or `user`) column with a value on every row and no
/// value twice, and the two tables share no other column name: a model input reads the one column
/// of its name. Rows keep their order; the meta describes the parts, as a split's does.
pub fn with_features(split: &Path, items: Option<&Path>, users: Option<&Path>, out: &Path) -> Result<Meta> {
    let mut seen: Vec<(String, &Path)> = Vec::new();
    let mut tables = Vec::new();
    for (table, key, file) in [(items, "item", ITEM_FEATURES_FILE), (users, "user", USER_FEATURES_FILE)] {
        let Some(table) = table else { continue };
        let db = Db::open()?;
        let columns = db.load_parquet(table)?;
        check_key(&db, &columns, key, table)?;
        for c in columns.iter().filter(|c| c.name != key) {
            if let Some((_, other)) = seen.iter().find(|(name, _)| *name == c.name) {
                return Err(Error::SharedFeature {
                    column: c.name.clone(),
                    first: other.to_path_buf(),
                    second: table.to_owned(),
                });
            }
            seen.push((c.name.clone(), table));
        }
        tables.push((db, file));
    }
    create_out(out)?;
    let mut parts = Vec::with_capacity(3);
    for name in [TRAIN_FILE, VALID_FILE, TEST_FILE] {
        let from = split.join(name);
        let to = out.join(name);
        std::fs::copy(&from, &to).map_err(|source| Error::Io { path: from.clone(), source })?;
        parts.push(to);
    }
    for (db, file) in &tables {
        db.write_parquet(&format!("SELECT * FROM {INPUT} ORDER BY rowid"), out, file)?;
    }
    let db = Db::open()?;
    let mut meta = describe(&db, &parts)?;
    let count = |p: &Path| -> Result<u64> {
        db.value(&format!("SELECT count(*) FROM read_parquet({})", path_literal(p)?), "counting part rows")
    };
    meta.splits =
        Some(crate::SplitCounts { train: count(&parts[0])?, valid: count(&parts[1])?, test: count(&parts[2])? });
    Ok(meta)
}

/// The key column exists, holds whole numbers, and has one row per value.
fn check_key(db: &Db, columns: &[TableColumn], key: &str, file: &Path) -> Result<()> {
    let column = require_column(columns, key, file)?;
    if !crate::cast::is_integer(&column.ty) {
        return Err(Error::TypeMismatch {
            column: key.into(),
            file: file.to_owned(),
            found: column.ty.clone(),
            wanted: crate::ColumnType::Id,
        });
    }
    let k = ident(key);
    let nulls: u64 = db.value(&format!("SELECT count(*) FROM {INPUT} WHERE {k} IS NULL"), "counting missing keys")?;
    if nulls > 0 {
        return Err(Error::NullValues {
            column: key.into(),
            file: file.to_owned(),
            count: nulls,
            operation: "joining features",
        });
    }
    let twice = db.first_row(
        &format!("SELECT {k}, count(*) FROM {INPUT} GROUP BY {k} HAVING count(*) > 1 ORDER BY {k} LIMIT 1"),
        "looking for repeated keys",
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, u64>(1)?)),
    )?;
    match twice {
        Some((value, rows)) => Err(Error::RepeatedKey { column: key.into(), file: file.to_owned(), value, rows }),
        None => Ok(()),
    }
}
