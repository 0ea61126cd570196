//! Splitting interactions into `train.parquet`, `valid.parquet` and `test.parquet`.
//!
//! Each split ranks the rows with a total order (ties end at the row's position in its file), so
//! the same input and seed give the same files bit for bit. Seeded order comes from DuckDB's
//! `hash`, a pure function of its arguments, unlike `random()`, whose sequence depends on how
//! rows are spread over threads. See [`seeded_key`] for why the seed is not simply one more
//! argument of `hash`.

use std::path::Path;

use crate::db::{
    column_list, create_out, ident, path_literal, require_column, require_no_nulls, Db, TableColumn, INPUT,
};
use crate::meta::{describe, Meta, SplitCounts};
use crate::{Error, Result, TEST_FILE, TRAIN_FILE, VALID_FILE};

/// Splits all rows at random: `round(n * test)` rows to test, `round(n * valid)` to valid, the
/// rest to train (rounding half away from zero).
///
/// This is RecBole's `RS` ordering with a ratio split over the whole table (its default, not
/// grouped by user): 8:1:1 is `valid = 0.1, test = 0.1`. A row's place depends only on its
/// values and `seed`, not on its position, so exact duplicate rows stay together.
pub fn random_split(input: &Path, valid: f64, test: f64, seed: u64, out: &Path) -> Result<Meta> {
    check_ratios(valid, test)?;
    let db = Db::open()?;
    let columns = db.load_parquet(input)?;
    let (n_valid, n_test) = part_sizes(&db, valid, test)?;
    let order = format!("{}, rowid", seeded_key(&columns, seed));
    let ranked = format!("SELECT *, rowid AS {ROW}, row_number() OVER (ORDER BY {order}) AS {POS} FROM {INPUT}");
    write_parts(&db, &columns, &by_position(&ranked, n_valid, n_test), out)
}

/// Splits each user's rows at random by ratio, as RecBole's `RS` split grouped by user (its
/// default protocol, e.g. 8:1:1 per user): of a user's `n` rows, `floor(n * test)` go to test and
/// `floor(n * valid)` to valid, and a ratio that would round to no row gets one while training
/// keeps more than one (test first, then valid). So every user with 3 rows or more is in all
/// three parts. Requires a `user` column.
pub fn random_split_by_user(input: &Path, valid: f64, test: f64, seed: u64, out: &Path) -> Result<Meta> {
    check_ratios(valid, test)?;
    let db = Db::open()?;
    let columns = db.load_parquet(input)?;
    require_column(&columns, "user", input)?;
    let user = ident("user");
    let ranked = format!(
        "SELECT *, rowid AS {ROW}, \
         row_number() OVER (PARTITION BY {user} ORDER BY {}, rowid) AS {POS}, \
         count(*) OVER (PARTITION BY {user}) AS {COUNT} FROM {INPUT}",
        seeded_key(&columns, seed)
    );
    // RecBole's `_calcu_split_ids`, one user at a time.
    let (v, t) = (format!("{valid:?}::DOUBLE * {COUNT}"), format!("{test:?}::DOUBLE * {COUNT}"));
    let bump = |x: &str, train: &str| format!("({train} > 1 AND {x} > 0 AND {x} < 1)::INTEGER");
    let n_test = format!("floor({t}) + {}", bump(&t, &format!("{COUNT} - floor({v}) - floor({t})")));
    let n_valid = format!("floor({v}) + {}", bump(&v, &format!("{COUNT} - floor({v}) - {N_TEST}")));
    let counted = format!("SELECT *, {n_test} AS {N_TEST} FROM ({ranked})");
    let counted = format!("SELECT *, {n_valid} AS {N_VALID} FROM ({counted})");
    let parted = format!(
        "SELECT *, CASE WHEN {POS} <= {COUNT} - {N_VALID} - {N_TEST} THEN 'train' \
         WHEN {POS} <= {COUNT} - {N_TEST} THEN 'valid' ELSE 'test' END AS {PART} FROM ({counted})"
    );
    write_parts(&db, &columns, &parted, out)
}

/// Splits by the `time` column: the latest `round(n * test)` rows go to test, the
/// `round(n * valid)` before them to valid, the rest to train. Rows with equal times count as
/// later the further down the file they are.
pub fn temporal_split(input: &Path, valid: f64, test: f64, out: &Path) -> Result<Meta> {
    check_ratios(valid, test)?;
    let db = Db::open()?;
    let columns = db.load_parquet(input)?;
    require_column(&columns, "time", input)?;
    require_no_nulls(&db, "time", input, "temporal_split")?;
    let (n_valid, n_test) = part_sizes(&db, valid, test)?;
    let ranked = format!(
        "SELECT *, rowid AS {ROW}, row_number() OVER (ORDER BY {time} DESC, rowid DESC) AS {POS} FROM {INPUT}",
        time = ident("time")
    );
    write_parts(&db, &columns, &by_position(&ranked, n_valid, n_test), out)
}

/// Holds out each user's last interaction (by `time`) for test and the one before for valid;
/// users with fewer than 3 interactions keep them all in train. Interactions at the same time
/// are ordered by a hash of the row's values and `seed`.
pub fn leave_one_out(input: &Path, seed: u64, out: &Path) -> Result<Meta> {
    let db = Db::open()?;
    let columns = db.load_parquet(input)?;
    require_column(&columns, "user", input)?;
    require_column(&columns, "time", input)?;
    require_no_nulls(&db, "time", input, "leave_one_out")?;
    let (user, time) = (ident("user"), ident("time"));
    let latest_first = format!("{time} DESC, {} DESC, rowid DESC", seeded_key(&columns, seed));
    let ranked = format!(
        "SELECT *, rowid AS {ROW}, \
         row_number() OVER (PARTITION BY {user} ORDER BY {latest_first}) AS {POS}, \
         count(*) OVER (PARTITION BY {user}) AS {COUNT} FROM {INPUT}"
    );
    let parted = format!(
        "SELECT *, CASE WHEN {COUNT} < 3 THEN 'train' WHEN {POS} = 1 THEN 'test' WHEN {POS} = 2 THEN 'valid' \
         ELSE 'train' END AS {PART} FROM ({ranked})"
    );
    write_parts(&db, &columns, &parted, out)
}

// Helper columns; prefixed so that they cannot clash with data columns in practice.
const ROW: &str = "__evoflow_row";
const POS: &str = "__evoflow_pos";
const COUNT: &str = "__evoflow_count";
const PART: &str = "__evoflow_part";
const N_VALID: &str = "__evoflow_n_valid";
const N_TEST: &str = "__evoflow_n_test";

/// A pseudo-random UBIGINT per row, fixed by the row's values and `seed`.
///
/// `hash(a, b, seed)` would be the obvious choice, but DuckDB 1.5.6 combines argument hashes so
/// weakly that orders under neighbouring seeds are nearly the same (rank correlation 0.90 between
/// seeds 42 and 43 on MovieLens, 75% of a 20% test set shared). Hashing the combined value again
/// after mixing in the seed decorrelates them (0.002, overlap as expected by chance).
fn seeded_key(columns: &[TableColumn], seed: u64) -> String {
    format!("hash(xor(hash({}), {seed}::UBIGINT))", column_list(columns))
}

/// Refuses fractions that are not in `[0, 1)` or that leave no training data.
fn check_ratios(valid: f64, test: f64) -> Result<()> {
    for (name, value) in [("valid", valid), ("test", test)] {
        // `contains` is false for NaN, which is refused too.
        if !(0.0..1.0).contains(&value) {
            return Err(Error::RatioOutOfRange { name, value });
        }
    }
    if valid + test >= 1.0 {
        return Err(Error::RatiosTooLarge { valid, test });
    }
    Ok(())
}

/// Rows for valid and test out of the [`INPUT`] table's `n`: `round(n * fraction)`, capped so that
/// the parts never exceed `n`.
fn part_sizes(db: &Db, valid: f64, test: f64) -> Result<(u64, u64)> {
    let n: u64 = db.value(&format!("SELECT count(*) FROM {INPUT}"), "counting input rows")?;
    // Exact for n below 2^53, far beyond any interaction log held in memory.
    let n_test = ((n as f64 * test).round() as u64).min(n);
    let n_valid = ((n as f64 * valid).round() as u64).min(n - n_test);
    Ok((n_valid, n_test))
}

/// Assigns parts by rank in `ranked`: the first `n_test` to test, the next `n_valid` to valid.
fn by_position(ranked: &str, n_valid: u64, n_test: u64) -> String {
    let valid_end = n_test + n_valid;
    format!(
        "SELECT *, CASE WHEN {POS} <= {n_test} THEN 'test' WHEN {POS} <= {valid_end} THEN 'valid' ELSE 'train' END \
         AS {PART} FROM ({ranked})"
    )
}

/// Writes the three parts of `parted` (the input's columns plus the row position and the part),
/// each in input order.
fn write_parts(db: &Db, columns: &[TableColumn], parted: &str, out: &Path) -> Result<Meta> {
    db.exec(&format!("CREATE TEMP TABLE parted AS {parted}"), "assigning rows to parts")?;
    create_out(out)?;
    let mut files = Vec::with_capacity(3);
    let mut counts = [0u64; 3];
    for (i, (part, name)) in [("train", TRAIN_FILE), ("valid", VALID_FILE), ("test", TEST_FILE)].into_iter().enumerate()
    {
        let query = format!("SELECT {} FROM parted WHERE {PART} = '{part}' ORDER BY {ROW}", column_list(columns));
        let file = db.write_parquet(&query, out, name)?;
        counts[i] =
            db.value(&format!("SELECT count(*) FROM read_parquet({})", path_literal(&file)?), "counting part rows")?;
        files.push(file);
    }
    let mut meta = describe(db, &files)?;
    meta.splits = Some(SplitCounts { train: counts[0], valid: counts[1], test: counts[2] });
    Ok(meta)
}
