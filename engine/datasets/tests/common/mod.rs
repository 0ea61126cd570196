//! Helpers shared by the feature tests: where the real data is, scratch files, and reading
//! Parquet outputs back through a separate DuckDB connection.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use duckdb::types::FromSql;
use duckdb::Connection;

/// MovieLens-100K `ratings.csv`: 100,000 ratings by 943 users of 1,682 movies.
pub fn movielens_ratings() -> PathBuf {
    testdata::ml_100k().ratings_csv()
}

/// Writes `contents` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Runs `sql` on a fresh connection and returns its single column.
pub fn column<T: FromSql>(sql: &str) -> Vec<T> {
    let conn = Connection::open_in_memory().unwrap();
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.collect::<Result<Vec<T>, _>>().unwrap()
}

/// Runs `sql` on a fresh connection and returns its single value.
pub fn value<T: FromSql>(sql: &str) -> T {
    column(sql).into_iter().next().expect("a row")
}

/// `read_parquet('path')` for use inside SQL.
pub fn pq(path: &Path) -> String {
    format!("read_parquet('{}')", path.display())
}

/// Rows in a Parquet file.
pub fn count(path: &Path) -> u64 {
    value(&format!("SELECT count(*) FROM {}", pq(path)))
}

/// Every row of a Parquet file as text (`{'user': 1, ...}`), in file order.
pub fn rows(path: &Path) -> Vec<String> {
    column(&format!("SELECT CAST(t AS VARCHAR) FROM {} t", pq(path)))
}

/// Column names and DuckDB types of a Parquet file.
pub fn schema(path: &Path) -> Vec<(String, String)> {
    let names: Vec<String> = column(&format!("SELECT column_name FROM (DESCRIBE SELECT * FROM {})", pq(path)));
    let types: Vec<String> = column(&format!("SELECT column_type FROM (DESCRIBE SELECT * FROM {})", pq(path)));
    names.into_iter().zip(types).collect()
}

/// The three split files in `dir`.
pub fn parts(dir: &Path) -> [PathBuf; 3] {
    [dir.join(datasets::TRAIN_FILE), dir.join(datasets::VALID_FILE), dir.join(datasets::TEST_FILE)]
}

/// Asserts that the parts hold exactly the input's rows: each row once, none lost, none added.
pub fn assert_partition(input: &Path, out: &Path) {
    let mut expected = rows(input);
    let mut got: Vec<String> = parts(out).iter().flat_map(|p| rows(p)).collect();
    assert_eq!(got.len(), expected.len(), "row count of train + valid + test");
    expected.sort();
    got.sort();
    assert!(got == expected, "train + valid + test is not the input's rows");
}

/// Loads MovieLens ratings into `dir/data.parquet` as `user, item, rating, time`.
pub fn load_movielens(dir: &Path) -> PathBuf {
    datasets::load_interactions(&movielens_ratings(), "userId", "movieId", Some("rating"), Some("timestamp"), dir)
        .unwrap();
    dir.join(datasets::DATA_FILE)
}

/// Writes a small interaction table as CSV and loads it to Parquet in `dir`; `rows` are
/// `(user, item, rating, time)`.
pub fn interactions(dir: &Path, rows: &[(i64, i64, f64, i64)]) -> PathBuf {
    let mut csv = String::from("user,item,rating,time\n");
    for (u, i, r, t) in rows {
        csv.push_str(&format!("{u},{i},{r},{t}\n"));
    }
    std::fs::create_dir_all(dir).unwrap();
    let src = write(dir, "interactions.csv", &csv);
    let out = dir.join("loaded");
    datasets::load_interactions(&src, "user", "item", Some("rating"), Some("time"), &out).unwrap();
    out.join(datasets::DATA_FILE)
}
