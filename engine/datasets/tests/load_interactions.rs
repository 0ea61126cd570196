//! `load_interactions`: any interaction log into `user, item[, rating][, time]`.

mod common;

use common::*;
use datasets::{load_interactions, Error, DATA_FILE};

#[test]
fn loads_movielens_100k() {
    let dir = tempfile::tempdir().unwrap();
    let meta =
        load_interactions(&movielens_ratings(), "userId", "movieId", Some("rating"), Some("timestamp"), dir.path())
            .unwrap();
    assert_eq!((meta.rows, meta.users, meta.items), (100_000, Some(943), Some(1_682)));
    let out = dir.path().join(DATA_FILE);
    let names: Vec<String> = schema(&out).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["user", "item", "rating", "time"]);
    // Whole-star ratings from 1 to 5, and times within 1997-98 (GroupLens' README).
    let (lo, hi, odd): (f64, f64, i64) = (
        value(&format!("SELECT min(rating) FROM {}", pq(&out))),
        value(&format!("SELECT max(rating) FROM {}", pq(&out))),
        value(&format!("SELECT count(*) FROM {} WHERE rating <> round(rating)", pq(&out))),
    );
    assert_eq!((lo, hi, odd), (1.0, 5.0, 0));
    let years: Vec<i64> = column(&format!(
        "SELECT year(to_timestamp(min(time))) FROM {0} UNION ALL SELECT year(to_timestamp(max(time))) FROM {0}",
        pq(&out)
    ));
    assert_eq!(years, [1997, 1998]);
}

#[test]
fn optional_columns_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let meta = load_interactions(&movielens_ratings(), "userId", "movieId", None, None, dir.path()).unwrap();
    let names: Vec<&str> = meta.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["user", "item"]);
    assert_eq!(meta.rows, 100_000);
}

#[test]
fn recbole_headers_named_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(
        dir.path(),
        "ml-100k.inter",
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n196\t242\t3\t881250949\n22\t377\t1\t878887116\n",
    );
    let meta = load_interactions(
        &src,
        "user_id:token",
        "item_id:token",
        Some("rating:float"),
        Some("timestamp:float"),
        dir.path(),
    )
    .unwrap();
    assert_eq!((meta.rows, meta.users, meta.items), (2, Some(2), Some(2)));
    assert_eq!(rows(&dir.path().join(DATA_FILE))[1], "{'user': 22, 'item': 377, 'rating': 1.0, 'time': 878887116}");
}

#[test]
fn wrong_column_name_lists_the_real_ones() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_interactions(&movielens_ratings(), "user_id", "movieId", None, None, dir.path()).unwrap_err();
    assert!(matches!(&err, Error::ColumnNotFound { column, .. } if column == "user_id"), "{err:?}");
    assert!(err.to_string().ends_with("ratings.csv; it has: userId, movieId, rating, timestamp"), "{err}");
}
