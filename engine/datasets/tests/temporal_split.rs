//! `temporal_split`: the latest rows go to test, the ones before to valid.

mod common;

use common::*;
use datasets::{temporal_split, Error};

#[test]
fn movielens_latest_rows_are_tested() {
    let dir = tempfile::tempdir().unwrap();
    let data = load_movielens(&dir.path().join("load"));
    let out = dir.path().join("split");
    let meta = temporal_split(&data, 0.1, 0.2, &out).unwrap();
    // 10% of 100,000 to valid, 20% to test.
    let c = meta.splits.unwrap();
    assert_eq!((c.train, c.valid, c.test), (70_000, 10_000, 20_000));
    assert_partition(&data, &out);
    let [train, valid, test] = parts(&out);
    let time = |agg: &str, p: &std::path::Path| -> i64 { value(&format!("SELECT {agg}(time) FROM {}", pq(p))) };
    assert!(time("max", &train) <= time("min", &valid), "train reaches past valid");
    assert!(time("max", &valid) <= time("min", &test), "valid reaches past test");
    // Same input, same bytes (there is no seed to vary).
    temporal_split(&data, 0.1, 0.2, &dir.path().join("again")).unwrap();
    for (a, b) in parts(&out).iter().zip(parts(&dir.path().join("again")).iter()) {
        assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap(), "{} differs between runs", a.display());
    }
}

#[test]
fn equal_times_count_as_later_further_down_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // Items 0..6; items 3, 4 and 5 share the latest time.
    let data = interactions(
        dir.path(),
        &[(1, 0, 1.0, 10), (1, 1, 1.0, 20), (1, 2, 1.0, 30), (1, 3, 1.0, 40), (1, 4, 1.0, 40), (1, 5, 1.0, 40)],
    );
    let out = dir.path().join("out");
    temporal_split(&data, 0.2, 0.3, &out).unwrap(); // round(1.2) = 1 valid, round(1.8) = 2 test
    let items = |p: &std::path::Path| -> Vec<i64> { column(&format!("SELECT item FROM {}", pq(p))) };
    let [train, valid, test] = parts(&out);
    assert_eq!((items(&train), items(&valid), items(&test)), (vec![0, 1, 2], vec![3], vec![4, 5]));
}

#[test]
fn needs_a_complete_time_column() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "i.csv", "u,i,t\n1,1,5\n1,2,\n2,1,\n");
    datasets::load_interactions(&src, "u", "i", None, None, &dir.path().join("no_time")).unwrap();
    let err = temporal_split(&dir.path().join("no_time").join(datasets::DATA_FILE), 0.1, 0.1, dir.path()).unwrap_err();
    assert!(
        matches!(&err, Error::ColumnNotFound { column, available, .. } if column == "time" && available == &["user", "item"]),
        "{err:?}"
    );

    datasets::load_interactions(&src, "u", "i", None, Some("t"), &dir.path().join("gaps")).unwrap();
    let err = temporal_split(&dir.path().join("gaps").join(datasets::DATA_FILE), 0.1, 0.1, dir.path()).unwrap_err();
    assert!(matches!(&err, Error::NullValues { column, count: 2, .. } if column == "time"), "{err:?}");
    assert!(err.to_string().contains("has 2 missing values; temporal_split needs a value on every row"), "{err}");
}

#[test]
fn refuses_fractions_that_leave_nothing_to_train() {
    let dir = tempfile::tempdir().unwrap();
    let data = interactions(dir.path(), &[(1, 1, 1.0, 1)]);
    assert!(matches!(temporal_split(&data, 0.7, 0.3, dir.path()), Err(Error::RatiosTooLarge { .. })));
    assert!(matches!(temporal_split(&data, 0.0, 1.0, dir.path()), Err(Error::RatioOutOfRange { name: "test", .. })));
}
