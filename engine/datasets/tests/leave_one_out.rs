//! `leave_one_out`: each user's latest interaction to test, the one before to valid.

mod common;

use std::collections::HashMap;

use common::*;
use datasets::{leave_one_out, Error, TEST_FILE, VALID_FILE};

type Row = (i64, i64, i64); // user, item, time

fn read(path: &std::path::Path) -> Vec<Row> {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let mut st = conn.prepare(&format!("SELECT \"user\", item, time FROM {}", pq(path))).unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn movielens_each_users_latest_is_tested() {
    let dir = tempfile::tempdir().unwrap();
    let data = load_movielens(&dir.path().join("load"));
    let out = dir.path().join("split");
    let meta = leave_one_out(&data, 3, &out).unwrap();
    // Every MovieLens-100K user has at least 20 ratings.
    let c = meta.splits.unwrap();
    assert_eq!((c.train, c.valid, c.test), (100_000 - 2 * 943, 943, 943));
    assert_partition(&data, &out);

    let [train, valid, test] = parts(&out).map(|p| read(&p));
    let mut latest: HashMap<i64, i64> = HashMap::new();
    for &(u, _, t) in read(&data).iter() {
        let e = latest.entry(u).or_insert(t);
        *e = (*e).max(t);
    }
    let test_time: HashMap<i64, i64> = test.iter().map(|&(u, _, t)| (u, t)).collect();
    let valid_time: HashMap<i64, i64> = valid.iter().map(|&(u, _, t)| (u, t)).collect();
    assert_eq!(test_time.len(), 943, "one test row per user");
    assert_eq!(valid_time.len(), 943, "one valid row per user");
    for (u, t) in &test_time {
        assert_eq!(latest[u], *t, "user {u}'s test row is not their latest");
        assert!(valid_time[u] <= *t);
    }
    for &(u, _, t) in &train {
        assert!(t <= valid_time[&u], "user {u} trains on a row after their valid row");
    }
}

#[test]
fn users_with_fewer_than_three_keep_everything_in_train() {
    let dir = tempfile::tempdir().unwrap();
    let data = interactions(
        dir.path(),
        &[(1, 10, 1.0, 5), (1, 11, 1.0, 6), (2, 10, 1.0, 1), (2, 11, 1.0, 2), (2, 12, 1.0, 3), (3, 10, 1.0, 9)],
    );
    let out = dir.path().join("out");
    let meta = leave_one_out(&data, 0, &out).unwrap();
    let c = meta.splits.unwrap();
    assert_eq!((c.train, c.valid, c.test), (4, 1, 1));
    assert_eq!(read(&out.join(TEST_FILE)), [(2, 12, 3)]);
    assert_eq!(read(&out.join(VALID_FILE)), [(2, 11, 2)]);
}

#[test]
fn ties_are_broken_by_the_seed_reproducibly() {
    let dir = tempfile::tempdir().unwrap();
    // One user, five interactions at the same latest time: which one is tested is up to the seed.
    let mut rows: Vec<(i64, i64, f64, i64)> = (0..5).map(|i| (1, i, 1.0, 100)).collect();
    rows.push((1, 99, 1.0, 1));
    let data = interactions(dir.path(), &rows);
    let tested = |seed: u64| -> (Vec<u8>, Row) {
        let out = dir.path().join(format!("s{seed}"));
        leave_one_out(&data, seed, &out).unwrap();
        (std::fs::read(out.join(TEST_FILE)).unwrap(), read(&out.join(TEST_FILE))[0])
    };
    let (bytes, first) = tested(11);
    let (again_bytes, again) = tested(11);
    assert!(bytes == again_bytes && first == again, "same seed, different test file");
    assert_eq!(first.2, 100, "the tested row is one of the latest");
    let picked: std::collections::HashSet<i64> = (0..20).map(|s| tested(s).1 .1).collect();
    assert!(picked.len() > 1, "20 seeds all tested item {picked:?}: ties are not seeded");
    assert!(!picked.contains(&99), "the older interaction was tested");
}

#[test]
fn needs_user_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "i.csv", "u,i\n1,1\n");
    datasets::load_interactions(&src, "u", "i", None, None, &dir.path().join("l")).unwrap();
    let err = leave_one_out(&dir.path().join("l").join(datasets::DATA_FILE), 0, dir.path()).unwrap_err();
    assert!(matches!(&err, Error::ColumnNotFound { column, .. } if column == "time"), "{err:?}");
}
