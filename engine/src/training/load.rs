//! A split folder (`train.parquet`, `valid.parquet`, `test.parquet`) read through DuckDB into
//! [`trainer::Interactions`], with the positives rule applied.
//!
//! Positives rule. Training rows: with a reward, the reward is computed per row in the wasm
//! sandbox (the same path as `std::rewards::apply_reward`) and rows whose reward is > 0 are the
//! positives, weighted by the reward (label 1, sample weight = reward; for `mse` the reward is
//! the label and the weight 1). Without a reward: rows with `click = true` when the data has a
//! `click` column, else every row (for `mse`, the label is `rating` when present, else 1).
//! Validation and test positives, and the training items excluded when ranking, never depend
//! on the reward: they follow the click rule, so candidates with different rewards are scored
//! against the same ground truth. A *judge* (a reward the loop does not evolve, e.g. "liked or
//! rated 4+") replaces the click rule for validation and test positives: the rows it scores > 0.
//!
//! Ids are remapped over every row of all three parts in file order (train, valid, test),
//! positive or not, so the id maps are the same whatever the reward.

use std::path::{Path, PathBuf};

use duckdb::Connection;
use sandboxes::Sandbox;
use trainer::data::{IdMap, Part};
use trainer::loss::Loss;
use trainer::Interactions;

use super::TrainFailure;

/// The three part files of a split folder.
pub const PARTS: [&str; 3] = ["train.parquet", "valid.parquet", "test.parquet"];
/// The column the reward is written to in the scratch copy of the training part.
const REWARD_COLUMN: &str = "evo_train_reward";
/// The column the judge is written to in the scratch copies of the validation and test parts.
const JUDGE_COLUMN: &str = "evo_judge";

/// One row as read: raw ids, whether it is a ground-truth positive, and its training target.
#[derive(Clone, Copy, Debug, PartialEq)]
struct RawRow {
    user: i64,
    item: i64,
    /// The click rule (reward-independent).
    positive: bool,
    /// `rating` when the part has one.
    rating: Option<f32>,
    /// The reward, on the training part when there is one.
    reward: Option<f64>,
}

/// What was loaded, for meta and logs.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoadStats {
    /// Rows read per part (train, valid, test).
    pub rows: [usize; 3],
    /// Positives per part after the rule.
    pub positives: [usize; 3],
    /// The rule applied to training rows, in words.
    pub rule: String,
    /// The rule of validation and test positives, in words.
    #[serde(default)]
    pub truth: String,
}

/// Reads `dir`'s three parts. With `reward`, the training part is first scored into a scratch
/// Parquet file under `scratch` (removed afterwards); with `judge`, the validation and test parts.
pub fn load_split(
    dir: &Path,
    reward: Option<&Sandbox>,
    judge: Option<&Sandbox>,
    loss: Loss,
    scratch: &Path,
) -> Result<(Interactions, LoadStats), TrainFailure> {
    let conn = Connection::open_in_memory().map_err(|e| TrainFailure::Internal(format!("opening DuckDB: {e}")))?;
    let mut parts = Vec::with_capacity(3);
    for (k, name) in PARTS.iter().enumerate() {
        let file = dir.join(name);
        if !file.is_file() {
            return Err(TrainFailure::BadData(format!(
                "{} has no {name}: std::train reads the output of a split step (random_split, temporal_split, \
                 leave_one_out)",
                dir.display()
            )));
        }
        let scored = match (k, reward, judge) {
            (0, Some(sandbox), _) => Some((score(sandbox, &file, scratch, REWARD_COLUMN)?, Scored::Reward)),
            (1 | 2, _, Some(sandbox)) => Some((score(sandbox, &file, scratch, JUDGE_COLUMN)?, Scored::Judge)),
            _ => None,
        };
        let rows = match &scored {
            Some((file, how)) => read_part(&conn, file, name, Some(*how)),
            None => read_part(&conn, &file, name, None),
        };
        if let Some((s, _)) = &scored {
            let _ = std::fs::remove_file(s);
        }
        parts.push(rows?);
    }
    if let Some(judge) = judge {
        // Nothing to score against: every metric would be empty, and say nothing of why.
        let empty = parts.iter().zip(PARTS).skip(1).find(|(rows, _)| !rows.iter().any(|r| r.positive));
        if let Some((rows, name)) = empty {
            return Err(TrainFailure::BadData(format!(
                "the judge `{}` scores none of the {} rows of {name} above 0: no held-out positives to score against",
                judge.name(),
                rows.len()
            )));
        }
    }
    let clicks = if has_column(&conn, &dir.join(PARTS[0]), "click")? { "click = true" } else { "every row" };
    let rule = match reward {
        Some(s) => format!("reward `{}` > 0, weighted by the reward", s.name()),
        None => clicks.to_string(),
    };
    let truth = match judge {
        Some(s) => format!("judge `{}` > 0", s.name()),
        None => clicks.to_string(),
    };
    let (data, stats) = build(&parts, reward.is_some(), loss, rule)?;
    Ok((data, LoadStats { truth, ..stats }))
}

/// What a scratch copy of a part holds besides the part's own columns.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scored {
    /// The training reward (`REWARD_COLUMN`).
    Reward,
    /// The judge (`JUDGE_COLUMN`), which then decides the part's positives.
    Judge,
}

/// Reads `dir`'s parts for evaluating a model trained elsewhere: ids are looked up in the
/// trained model's maps (`users[k]`, `items[k]` = raw id of internal id k); rows with an id the
/// model never saw are left out and counted. Positives follow the click rule.
pub fn load_for_eval(dir: &Path, users: &[i64], items: &[i64]) -> Result<(Interactions, usize), TrainFailure> {
    let conn = Connection::open_in_memory().map_err(|e| TrainFailure::Internal(format!("opening DuckDB: {e}")))?;
    let (mut umap, mut imap) = (IdMap::default(), IdMap::default());
    users.iter().for_each(|&u| {
        umap.intern(u);
    });
    items.iter().for_each(|&i| {
        imap.intern(i);
    });
    let mut unknown = 0;
    let mut parts = Vec::with_capacity(3);
    for name in PARTS {
        let file = dir.join(name);
        if !file.is_file() {
            return Err(TrainFailure::BadData(format!("{} has no {name}", dir.display())));
        }
        let rows = read_part(&conn, &file, name, None)?;
        let mut pairs = Vec::new();
        for r in rows.iter().filter(|r| r.positive) {
            match (umap.get(r.user), imap.get(r.item)) {
                (Some(u), Some(i)) => pairs.push((u, i)),
                _ => unknown += 1,
            }
        }
        parts.push(eval_part(&pairs, umap.len()));
    }
    let test = parts.pop().expect("three parts");
    let valid = parts.pop().expect("three parts");
    let train = parts.pop().expect("three parts");
    let data = Interactions {
        train,
        valid,
        test,
        users: umap,
        items: imap,
        user_features: Default::default(),
        item_features: Default::default(),
    };
    Ok((data, unknown))
}

/// Scores `file` with a reward into a scratch copy holding one more column, `column`.
fn score(sandbox: &Sandbox, file: &Path, scratch: &Path, column: &str) -> Result<PathBuf, TrainFailure> {
    std::fs::create_dir_all(scratch).map_err(|e| TrainFailure::Internal(format!("{}: {e}", scratch.display())))?;
    // The folder is the caller's own (a node's output folder or a probe's scratch folder).
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("part");
    let out = scratch.join(format!("{stem}-scored.parquet"));
    let _ = std::fs::remove_file(&out);
    crate::steps::reward::apply(sandbox, file, &out, column).map_err(|e| TrainFailure::Reward(e.message))?;
    Ok(out)
}

/// The parts in trainer form: ids over every row, parts by the positives rule.
fn build(
    parts: &[Vec<RawRow>],
    with_reward: bool,
    loss: Loss,
    rule: String,
) -> Result<(Interactions, LoadStats), TrainFailure> {
    let (mut users, mut items) = (IdMap::default(), IdMap::default());
    for rows in parts {
        for r in rows {
            users.intern(r.user);
            items.intern(r.item);
        }
    }
    let nu = users.len();
    let ids = |r: &RawRow| (users.get(r.user).expect("interned"), items.get(r.item).expect("interned"));
    // Ground truth: the click rule, whatever the reward.
    let truth: Vec<Vec<(i64, i64)>> =
        parts.iter().map(|rows| rows.iter().filter(|r| r.positive).map(ids).collect()).collect();
    // Training rows: (ids, label, weight).
    let train_rows: Vec<((i64, i64), f32, f32)> = parts[0]
        .iter()
        .filter_map(|r| {
            let target = |label: f32, weight: f32| Some((ids(r), label, weight));
            match (with_reward, r.reward) {
                (true, Some(x)) if x > 0.0 && x.is_finite() => {
                    if loss == Loss::Mse {
                        target(x as f32, 1.0)
                    } else {
                        target(1.0, x as f32)
                    }
                }
                (true, _) => None,
                (false, _) if !r.positive => None,
                (false, _) if loss == Loss::Mse => target(r.rating.unwrap_or(1.0), 1.0),
                (false, _) => target(1.0, 1.0),
            }
        })
        .collect();
    if train_rows.is_empty() {
        return Err(TrainFailure::BadData(format!(
            "the training part has no positives ({} rows, rule: {rule})",
            parts[0].len()
        )));
    }
    let mut train = Part {
        users: train_rows.iter().map(|r| r.0 .0).collect(),
        items: train_rows.iter().map(|r| r.0 .1).collect(),
        labels: train_rows.iter().map(|r| r.1).collect(),
        weights: train_rows.iter().map(|r| r.2).collect(),
        by_user: Vec::new(),
    };
    // Excluded-when-ranking and rejected-as-negative items: the ground truth, not the reward.
    train.by_user = by_user(&truth[0], nu);
    let stats = LoadStats {
        rows: [parts[0].len(), parts[1].len(), parts[2].len()],
        positives: [train_rows.len(), truth[1].len(), truth[2].len()],
        rule,
        truth: String::new(),
    };
    let data = Interactions {
        train,
        valid: eval_part(&truth[1], nu),
        test: eval_part(&truth[2], nu),
        users,
        items,
        user_features: Default::default(),
        item_features: Default::default(),
    };
    Ok((data, stats))
}

fn eval_part(pairs: &[(i64, i64)], n_users: usize) -> Part {
    Part {
        users: pairs.iter().map(|p| p.0).collect(),
        items: pairs.iter().map(|p| p.1).collect(),
        labels: vec![1.0; pairs.len()],
        weights: vec![1.0; pairs.len()],
        by_user: by_user(pairs, n_users),
    }
}

fn by_user(pairs: &[(i64, i64)], n_users: usize) -> Vec<Vec<i64>> {
    let mut out = vec![Vec::new(); n_users];
    for &(u, i) in pairs {
        out[u as usize].push(i);
    }
    for items in &mut out {
        items.sort_unstable();
        items.dedup();
    }
    out
}

/// The columns of a Parquet file with their DuckDB types.
fn columns(conn: &Connection, file: &Path) -> Result<Vec<(String, String)>, TrainFailure> {
    let bad = |e: duckdb::Error| TrainFailure::BadData(format!("reading {}: {e}", file.display()));
    let mut stmt = conn.prepare(&format!("DESCRIBE SELECT * FROM read_parquet({})", literal(file)?)).map_err(bad)?;
    let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))).map_err(bad)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(bad)
}

fn has_column(conn: &Connection, file: &Path, name: &str) -> Result<bool, TrainFailure> {
    Ok(columns(conn, file)?.iter().any(|(n, _)| n == name))
}

fn is_integer(duck: &str) -> bool {
    matches!(duck, "TINYINT" | "SMALLINT" | "INTEGER" | "BIGINT" | "UTINYINT" | "USMALLINT" | "UINTEGER" | "UBIGINT")
}

fn is_numeric(duck: &str) -> bool {
    is_integer(duck) || matches!(duck, "FLOAT" | "DOUBLE" | "HUGEINT") || duck.starts_with("DECIMAL")
}

/// Reads one part: ids, the click rule (or the judge's, when `scored` by it), rating and (when
/// `scored` by it) the reward column.
fn read_part(conn: &Connection, file: &Path, part: &str, scored: Option<Scored>) -> Result<Vec<RawRow>, TrainFailure> {
    let cols = columns(conn, file)?;
    let present = || cols.iter().map(|(n, t)| format!("{n} ({t})")).collect::<Vec<_>>().join(", ");
    let ty = |name: &str| cols.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str());
    for id in ["user", "item"] {
        match ty(id) {
            None => {
                return Err(TrainFailure::BadData(format!(
                    "{part} has no column `{id}`; its columns are {}",
                    present()
                )))
            }
            Some(t) if !is_integer(t) => {
                return Err(TrainFailure::BadData(format!(
                    "column `{id}` of {part} is {t}; std::train needs integer ids"
                )))
            }
            _ => {}
        }
    }
    let click = match ty("click") {
        None => "true".to_string(),
        Some("BOOLEAN") => "coalesce(\"click\", false)".to_string(),
        Some(t) => return Err(TrainFailure::BadData(format!("column `click` of {part} is {t}; it must be BOOLEAN"))),
    };
    let rating = match ty("rating") {
        None => "NULL::FLOAT".to_string(),
        Some(t) if is_numeric(t) => "CAST(\"rating\" AS FLOAT)".to_string(),
        Some(t) => return Err(TrainFailure::BadData(format!("column `rating` of {part} is {t}; it must be numeric"))),
    };
    let reward = match scored {
        Some(Scored::Reward) => format!("CAST(\"{REWARD_COLUMN}\" AS DOUBLE)"),
        _ => "NULL::DOUBLE".into(),
    };
    let click = match scored {
        Some(Scored::Judge) => format!("coalesce(CAST(\"{JUDGE_COLUMN}\" AS DOUBLE) > 0, false)"),
        _ => click,
    };
    let sql = format!(
        "SELECT CAST(\"user\" AS BIGINT), CAST(\"item\" AS BIGINT), {click}, {rating}, {reward} FROM read_parquet({})",
        literal(file)?
    );
    let bad = |e: duckdb::Error| TrainFailure::BadData(format!("reading {part}: {e}"));
    let mut stmt = conn.prepare(&sql).map_err(bad)?;
    let mut rows = stmt.query([]).map_err(bad)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(bad)? {
        let n = out.len() + 1;
        let id = |k: usize, name: &str| -> Result<i64, TrainFailure> {
            row.get::<_, Option<i64>>(k)
                .map_err(bad)?
                .ok_or_else(|| TrainFailure::BadData(format!("column `{name}` of {part} is null at row {n}")))
        };
        out.push(RawRow {
            user: id(0, "user")?,
            item: id(1, "item")?,
            positive: row.get(2).map_err(bad)?,
            rating: row.get(3).map_err(bad)?,
            reward: row.get(4).map_err(bad)?,
        });
    }
    Ok(out)
}

fn literal(path: &Path) -> Result<String, TrainFailure> {
    let s = path.to_str().ok_or_else(|| TrainFailure::BadData(format!("the path {} is not UTF-8", path.display())))?;
    Ok(format!("'{}'", s.replace('\'', "''")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(user: i64, item: i64, positive: bool, reward: Option<f64>) -> RawRow {
        RawRow { user, item, positive, rating: None, reward }
    }

    #[test]
    fn reward_picks_training_positives_but_not_the_ground_truth() {
        let train = vec![row(1, 10, true, Some(2.0)), row(1, 11, false, Some(0.5)), row(2, 10, true, Some(-1.0))];
        let valid = vec![row(1, 12, true, None), row(2, 13, false, None)];
        let test = vec![row(2, 11, true, None)];
        let parts = vec![train, valid, test];
        let (data, stats) = build(&parts, true, Loss::Bpr, "r".into()).unwrap();
        // Rows with reward > 0, weighted by it, whatever their click.
        assert_eq!(data.train.weights, vec![2.0, 0.5]);
        assert_eq!(data.train.labels, vec![1.0, 1.0]);
        // Excluded items follow clicks, not the reward.
        let u2 = data.users.get(2).unwrap() as usize;
        assert_eq!(data.train.by_user[u2], vec![data.items.get(10).unwrap()]);
        assert_eq!(stats.positives, [2, 1, 1]);
        // Every row's ids are mapped, positive or not.
        assert_eq!(data.n_items(), 4);
        let (plain, _) = build(&parts, false, Loss::Bpr, "click".into()).unwrap();
        assert_eq!(plain.valid.by_user, data.valid.by_user);
        assert_eq!(plain.test.by_user, data.test.by_user);
        assert_eq!(plain.train.len(), 2);
    }

    #[test]
    fn mse_takes_the_reward_as_label() {
        let parts = vec![vec![row(1, 10, true, Some(3.0)), row(1, 11, true, Some(0.0))], vec![], vec![]];
        let (data, _) = build(&parts, true, Loss::Mse, "r".into()).unwrap();
        assert_eq!((data.train.labels.clone(), data.train.weights.clone()), (vec![3.0], vec![1.0]));
    }

    #[test]
    fn no_positives_is_bad_data() {
        let parts = vec![vec![row(1, 10, false, None)], vec![], vec![]];
        let err = build(&parts, false, Loss::Bpr, "click = true".into()).unwrap_err();
        assert_eq!(err.kind(), "bad_data");
        assert!(err.to_string().contains("no positives"), "{err}");
    }
}
