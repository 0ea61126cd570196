//! `filter_min`: minimum rating, then an iterative k-core over users and items.

mod common;

use std::collections::HashMap;

use common::*;
use datasets::{filter_min, Error, DATA_FILE};

type Row = (i64, i64, f64); // user, item, rating

fn read(path: &std::path::Path) -> Vec<Row> {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let mut st = conn.prepare(&format!("SELECT \"user\", item, rating FROM {}", pq(path))).unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

/// Independent reference: the k-core by plain iteration in Rust, keeping input order.
fn reference(rows: &[Row], min_user: usize, min_item: usize, min_rating: Option<f64>) -> Vec<Row> {
    let mut kept: Vec<Row> = rows.iter().copied().filter(|r| min_rating.is_none_or(|m| r.2 >= m)).collect();
    loop {
        let before = kept.len();
        let mut per_user: HashMap<i64, usize> = HashMap::new();
        kept.iter().for_each(|r| *per_user.entry(r.0).or_default() += 1);
        kept.retain(|r| per_user[&r.0] >= min_user);
        let mut per_item: HashMap<i64, usize> = HashMap::new();
        kept.iter().for_each(|r| *per_item.entry(r.1).or_default() += 1);
        kept.retain(|r| per_item[&r.1] >= min_item);
        if kept.len() == before {
            return kept;
        }
    }
}

#[test]
fn movielens_k_core_matches_a_reference_and_holds() {
    let dir = tempfile::tempdir().unwrap();
    let data = load_movielens(&dir.path().join("load"));
    let out = dir.path().join("f");
    let meta = filter_min(&data, 50, 20, Some(3.0), &out).unwrap();
    let got = read(&out.join(DATA_FILE));
    let expected = reference(&read(&data), 50, 20, Some(3.0));
    assert!(!got.is_empty() && got.len() < 100_000, "{} rows kept", got.len());
    assert_eq!(got, expected, "differs from the reference k-core (or from input order)");

    let mut per_user: HashMap<i64, usize> = HashMap::new();
    let mut per_item: HashMap<i64, usize> = HashMap::new();
    for r in &got {
        assert!(r.2 >= 3.0);
        *per_user.entry(r.0).or_default() += 1;
        *per_item.entry(r.1).or_default() += 1;
    }
    assert!(per_user.values().all(|&n| n >= 50) && per_item.values().all(|&n| n >= 20));

    let stats = meta.filter.unwrap();
    assert_eq!(stats.input_rows, 100_000);
    assert_eq!(stats.input_rows - stats.removed_by_rating - stats.removed_by_core, got.len() as u64);
    assert_eq!(stats.removed_by_rating, read(&data).iter().filter(|r| r.2 < 3.0).count() as u64);
    assert_eq!(
        (meta.rows, meta.users, meta.items),
        (got.len() as u64, Some(per_user.len() as u64), Some(per_item.len() as u64))
    );
    assert!(stats.rounds >= 2, "the last round must confirm stability");
}

#[test]
fn removals_cascade_until_stable() {
    let dir = tempfile::tempdir().unwrap();
    // 2-core: user 3 has one row; dropping it leaves item 12 with one, then user 2 with one,
    // then item 11 with one... only users 1 and 4 with items 10 and 13 survive.
    let rows = [
        (1, 10, 5.0, 1),
        (1, 13, 5.0, 2),
        (4, 10, 5.0, 3),
        (4, 13, 5.0, 4),
        (2, 11, 5.0, 5),
        (2, 12, 5.0, 6),
        (1, 11, 5.0, 7),
        (3, 12, 5.0, 8),
    ];
    let data = interactions(dir.path(), &rows);
    let out = dir.path().join("f");
    let meta = filter_min(&data, 2, 2, None, &out).unwrap();
    let got: Vec<(i64, i64)> = read(&out.join(DATA_FILE)).into_iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(got, [(1, 10), (1, 13), (4, 10), (4, 13)]);
    let stats = meta.filter.unwrap();
    assert_eq!((stats.removed_by_rating, stats.removed_by_core), (0, 4));
    assert!(stats.rounds >= 3, "took {} rounds", stats.rounds);
}

#[test]
fn no_minimum_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = interactions(dir.path(), &[(1, 1, 1.0, 1), (2, 2, 2.0, 2)]);
    let meta = filter_min(&data, 0, 1, None, &dir.path().join("f")).unwrap();
    assert_eq!(meta.rows, 2);
    let f = meta.filter.unwrap();
    assert_eq!((f.removed_by_rating, f.removed_by_core, f.rounds), (0, 0, 1));
}

#[test]
fn bad_arguments_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "i.csv", "u,i\n1,1\n");
    datasets::load_interactions(&src, "u", "i", None, None, &dir.path().join("l")).unwrap();
    let data = dir.path().join("l").join(DATA_FILE);
    let err = filter_min(&data, 1, 1, Some(3.0), dir.path()).unwrap_err();
    assert!(matches!(&err, Error::ColumnNotFound { column, .. } if column == "rating"), "{err:?}");
    assert!(matches!(
        filter_min(&data, 1, 1, Some(f64::NAN), dir.path()),
        Err(Error::NotFinite { name: "min_rating", .. })
    ));
    assert!(filter_min(&data, 5, 1, None, &dir.path().join("ok")).unwrap().rows == 0);
}
