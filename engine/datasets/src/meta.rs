//! What an operation reports about the files it wrote: small, serialisable, read back from the
//! written Parquet so it describes what is on disk rather than what was intended.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::db::{ident, path_literal, Db};
use crate::Result;

/// Summary of an operation's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Rows written, over all output files.
    pub rows: u64,
    /// Output columns, in order, with their DuckDB types.
    pub columns: Vec<ColumnMeta>,
    /// Distinct values of the `user` column, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u64>,
    /// Distinct values of the `item` column, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<u64>,
    /// Rows per part, for splits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splits: Option<SplitCounts>,
    /// What filtering removed, for [`filter_min`](crate::filter_min) and [`keep_scored`](crate::keep_scored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterStats>,
}

/// One output column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMeta {
    /// Column name.
    pub name: String,
    /// DuckDB type as DuckDB spells it (`BIGINT`, `DOUBLE`, `VARCHAR`, ...).
    #[serde(rename = "type")]
    pub ty: String,
}

/// Rows in each part of a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitCounts {
    /// Rows in `train.parquet`.
    pub train: u64,
    /// Rows in `valid.parquet`.
    pub valid: u64,
    /// Rows in `test.parquet`.
    pub test: u64,
}

/// What [`filter_min`](crate::filter_min) removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterStats {
    /// Rows in the input.
    pub input_rows: u64,
    /// Rows dropped for a rating below the minimum (or missing).
    pub removed_by_rating: u64,
    /// Rows dropped by the k-core passes.
    pub removed_by_core: u64,
    /// k-core passes run; the last one removed nothing.
    pub rounds: u32,
    /// Rows a `filter_rows` condition turned down.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub removed_by_condition: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Reads written Parquet files back and summarises them as one table.
pub(crate) fn describe(db: &Db, files: &[PathBuf]) -> Result<Meta> {
    let list = files.iter().map(|f| path_literal(f)).collect::<Result<Vec<_>>>()?.join(", ");
    let all = format!("read_parquet([{list}])");
    let columns: Vec<ColumnMeta> =
        db.columns(&all)?.into_iter().map(|c| ColumnMeta { name: c.name, ty: c.ty }).collect();
    let rows = db.value(&format!("SELECT count(*) FROM {all}"), "counting output rows")?;
    let distinct = |name: &str| -> Result<Option<u64>> {
        if columns.iter().any(|c| c.name == name) {
            db.value(&format!("SELECT count(DISTINCT {}) FROM {all}", ident(name)), "counting distinct values")
                .map(Some)
        } else {
            Ok(None)
        }
    };
    Ok(Meta { rows, users: distinct("user")?, items: distinct("item")?, columns, splits: None, filter: None })
}
