//! Side features for training: a model's inputs other than `user` and `item`, read from the
//! feature tables `with_features` put beside the split's parts, and encoded as each input
//! declares it.
//!
//! - `categorical(n)` and `id`: code 0 is "no value" (an item without a row, a null); the
//!   distinct values, in sorted order, are 1, 2, ...; `categorical(n)` must have room for them.
//! - `multi_hot(n)`: a string of tokens separated by spaces, `|` or `,` (`"Action Comedy"`),
//!   n floats with 1 for each token present, tokens in sorted order; at most n distinct tokens.
//! - `dense(1)`: the number, standardised over the table (mean 0, standard deviation 1), so that
//!   an age and a price train alike; 0 for a missing value.

use std::collections::BTreeSet;
use std::path::Path;

use datasets::{ITEM_FEATURES_FILE, USER_FEATURES_FILE};
use dsl::builtins::TRAINING_INPUTS;
use dsl::shape::{InputKind, ModelDef, TensorOp};
use duckdb::Connection;
use trainer::data::{FeatureValue, Owner};
use trainer::Interactions;

use super::TrainFailure;

/// Adds to `data` every side feature `def` reads, from the tables in the split folder `dir`.
pub fn attach(dir: &Path, def: &ModelDef, data: &mut Interactions) -> Result<(), TrainFailure> {
    let inputs: Vec<(&str, InputKind)> = def
        .nodes
        .iter()
        .filter_map(|n| match &n.op {
            TensorOp::Input { name, kind } if !TRAINING_INPUTS.contains(&name.as_str()) => Some((name.as_str(), *kind)),
            _ => None,
        })
        .collect();
    if inputs.is_empty() {
        return Ok(());
    }
    let conn = Connection::open_in_memory().map_err(|e| TrainFailure::Internal(format!("opening DuckDB: {e}")))?;
    let tables: Vec<Table> = [(Owner::Item, "item", ITEM_FEATURES_FILE), (Owner::User, "user", USER_FEATURES_FILE)]
        .into_iter()
        .filter(|(_, _, file)| dir.join(file).is_file())
        .map(|(owner, key, file)| Table::open(&conn, owner, key, &dir.join(file)))
        .collect::<Result<_, _>>()?;
    for (input, kind) in inputs {
        let Some(table) = tables.iter().find(|t| t.columns.iter().any(|(c, _)| c == input)) else {
            return Err(TrainFailure::BadData(missing(input, &tables)));
        };
        let values = table.encode(&conn, input, kind)?;
        data.add_feature(table.owner, input, &values)
            .map_err(|e| TrainFailure::BadData(format!("side feature `{input}`: {e}")))?;
    }
    Ok(())
}

fn missing(input: &str, tables: &[Table]) -> String {
    if tables.is_empty() {
        return format!(
            "the model reads the input `{input}`, and the split has no feature tables: attach them with \
             `with_features(split, items: ..., users: ...)`"
        );
    }
    let have: Vec<String> = tables.iter().flat_map(|t| t.columns.iter().map(|(c, _)| format!("`{c}`"))).collect();
    format!(
        "the model reads the input `{input}`, which is not a column of the split's feature tables ({})",
        have.join(", ")
    )
}

/// One feature table: whose rows, its key column and its columns with their DuckDB types.
struct Table {
    owner: Owner,
    key: &'static str,
    file: String,
    columns: Vec<(String, String)>,
}

impl Table {
    fn open(conn: &Connection, owner: Owner, key: &'static str, path: &Path) -> Result<Table, TrainFailure> {
        let file = path.to_str().ok_or_else(|| TrainFailure::BadData(format!("{} is not UTF-8", path.display())))?;
        let file = format!("read_parquet('{}')", file.replace('\'', "''"));
        let columns: Vec<(String, String)> = query(conn, &format!("DESCRIBE SELECT * FROM {file}"), path)?
            .into_iter()
            .filter(|(name, _)| name != key)
            .collect();
        Ok(Table { owner, key, file, columns })
    }

    /// `(raw id, value)` for every row with a value, encoded for `kind`.
    fn encode(
        &self,
        conn: &Connection,
        input: &str,
        kind: InputKind,
    ) -> Result<Vec<(i64, FeatureValue)>, TrainFailure> {
        let (key, col) = (format!("CAST(\"{}\" AS BIGINT)", self.key), format!("\"{}\"", input.replace('"', "\"\"")));
        let ty = self.columns.iter().find(|(c, _)| c == input).map_or("", |(_, t)| t.as_str()).to_string();
        let bad = |why: String| TrainFailure::BadData(format!("side feature `{input}: {kind}` ({ty} column): {why}"));
        match kind {
            InputKind::Id | InputKind::Categorical(_) => {
                let sql = format!(
                    "SELECT {key}, CAST(dense_rank() OVER (ORDER BY {col}) AS VARCHAR) FROM {} WHERE {col} IS NOT NULL",
                    self.file
                );
                let rows = query(conn, &sql, Path::new(input))?;
                let codes: Vec<(i64, i64)> =
                    rows.iter().map(|(k, c)| Ok((parse(k)?, parse(c)?))).collect::<Result<_, TrainFailure>>()?;
                let distinct = codes.iter().map(|(_, c)| *c).max().unwrap_or(0);
                if let InputKind::Categorical(n) = kind {
                    if distinct as u64 + 1 > n {
                        return Err(bad(format!(
                            "{distinct} distinct values and code 0 for none need `categorical({})`",
                            distinct + 1
                        )));
                    }
                }
                Ok(codes.into_iter().map(|(k, c)| (k, FeatureValue::Category(c))).collect())
            }
            InputKind::MultiHot(n) => {
                let sql = format!("SELECT {key}, CAST({col} AS VARCHAR) FROM {} WHERE {col} IS NOT NULL", self.file);
                let rows = query(conn, &sql, Path::new(input))?;
                let split = |s: &str| -> Vec<String> {
                    s.split(|c: char| c.is_whitespace() || c == '|' || c == ',')
                        .filter(|t| !t.is_empty())
                        .map(str::to_string)
                        .collect()
                };
                let vocab: BTreeSet<String> = rows.iter().flat_map(|(_, v)| split(v)).collect();
                if vocab.len() as u64 > n {
                    return Err(bad(format!("{} distinct tokens need `multi_hot({})`", vocab.len(), vocab.len())));
                }
                let vocab: Vec<String> = vocab.into_iter().collect();
                rows.iter()
                    .map(|(k, v)| {
                        let mut x = vec![0f32; n as usize];
                        for t in split(v) {
                            x[vocab.binary_search(&t).expect("in the vocabulary")] = 1.0;
                        }
                        Ok((parse(k)?, FeatureValue::Vector(x)))
                    })
                    .collect()
            }
            InputKind::Dense(1) => {
                let sql = format!(
                    "SELECT {key}, CAST((CAST({col} AS DOUBLE) - avg(CAST({col} AS DOUBLE)) OVER ()) / \
                     coalesce(nullif(stddev_pop(CAST({col} AS DOUBLE)) OVER (), 0), 1) AS VARCHAR) FROM {} \
                     WHERE {col} IS NOT NULL",
                    self.file
                );
                let rows = query(conn, &sql, Path::new(input)).map_err(|e| bad(format!("not a number: {e}")))?;
                rows.iter()
                    .map(|(k, v)| {
                        let x: f32 = v.parse().map_err(|_| bad(format!("`{v}` is not a number")))?;
                        Ok((parse(k)?, FeatureValue::Vector(vec![x])))
                    })
                    .collect()
            }
            InputKind::Dense(n) => Err(bad(format!("a column is one number: read it as `dense(1)`, not `dense({n})`"))),
        }
    }
}

fn parse(text: &str) -> Result<i64, TrainFailure> {
    text.parse().map_err(|_| TrainFailure::Internal(format!("`{text}` is not a whole number")))
}

/// Rows of two text columns (`NULL` as empty).
fn query(conn: &Connection, sql: &str, about: &Path) -> Result<Vec<(String, String)>, TrainFailure> {
    let bad = |e: duckdb::Error| TrainFailure::BadData(format!("reading {}: {e}", about.display()));
    let mut stmt = conn.prepare(sql).map_err(bad)?;
    let rows = stmt
        .query_map([], |row| {
            let text = |i: usize| -> duckdb::Result<String> {
                Ok(match row.get_ref(i)? {
                    duckdb::types::ValueRef::Null => String::new(),
                    duckdb::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    duckdb::types::ValueRef::BigInt(n) => n.to_string(),
                    other => format!("{other:?}"),
                })
            };
            Ok((text(0)?, text(1)?))
        })
        .map_err(bad)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(bad)
}
