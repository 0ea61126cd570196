//! `random_split_by_user`: RecBole's per-user ratio split (its default protocol, `RS` grouped by
//! user), part sizes exactly as RecBole computes them.

mod common;

use common::*;
use datasets::random_split_by_user;

/// RecBole's `_calcu_split_ids` for ratios `[1 - valid - test, valid, test]`, transcribed from its
/// Python: `(train, valid, test)` rows of a user with `n` rows.
fn recbole_counts(n: u64, valid: f64, test: f64) -> (u64, u64, u64) {
    let ratios = [1.0 - valid - test, valid, test];
    let mut cnt: Vec<u64> = ratios.iter().map(|r| (r * n as f64) as u64).collect();
    cnt[0] = n - cnt[1] - cnt[2];
    for i in 1..3 {
        if cnt[0] <= 1 {
            break;
        }
        let want = ratios[3 - i] * n as f64;
        if 0.0 < want && want < 1.0 {
            cnt[3 - i] += 1;
            cnt[0] -= 1;
        }
    }
    (cnt[0], cnt[1], cnt[2])
}

/// Rows per user in one part.
fn per_user(path: &std::path::Path) -> std::collections::BTreeMap<i64, u64> {
    let users: Vec<i64> = column(&format!("SELECT \"user\" FROM {}", pq(path)));
    let mut counts = std::collections::BTreeMap::new();
    for u in users {
        *counts.entry(u).or_insert(0) += 1;
    }
    counts
}

#[test]
fn every_users_part_sizes_are_recboles() {
    let dir = tempfile::tempdir().unwrap();
    // User n has n rows, 1 to 40: the small-group rule, the floors and the exact tenths.
    let rows: Vec<(i64, i64, f64, i64)> =
        (1..=40i64).flat_map(|n| (0..n).map(move |i| (n, 1000 * n + i, 4.0, i))).collect();
    let data = interactions(&dir.path().join("d"), &rows);
    let out = dir.path().join("s");
    let meta = random_split_by_user(&data, 0.1, 0.1, 3, &out).unwrap();
    assert_partition(&data, &out);
    let [train, valid, test] = parts(&out).map(|p| per_user(&p));
    for n in 1..=40u64 {
        let u = n as i64;
        let got = (
            train.get(&u).copied().unwrap_or(0),
            valid.get(&u).copied().unwrap_or(0),
            test.get(&u).copied().unwrap_or(0),
        );
        assert_eq!(got, recbole_counts(n, 0.1, 0.1), "user with {n} rows");
    }
    // Spot checks by hand, so the reference above cannot hide a shared mistake.
    assert_eq!(recbole_counts(2, 0.1, 0.1), (1, 0, 1));
    assert_eq!(recbole_counts(3, 0.1, 0.1), (1, 1, 1));
    assert_eq!(recbole_counts(19, 0.1, 0.1), (17, 1, 1));
    assert_eq!(recbole_counts(20, 0.1, 0.1), (16, 2, 2));
    let counts = meta.splits.unwrap();
    assert_eq!(counts.train + counts.valid + counts.test, rows.len() as u64);
}

#[test]
fn movielens_every_user_is_in_every_part_and_seeds_draw_anew() {
    let dir = tempfile::tempdir().unwrap();
    let data = load_movielens(&dir.path().join("load"));
    let run = |name: &str, seed| {
        let out = dir.path().join(name);
        random_split_by_user(&data, 0.1, 0.1, seed, &out).unwrap();
        out
    };
    let (a, b, c) = (run("a", 2020), run("b", 2020), run("c", 2021));
    assert_partition(&data, &a);
    let [train, valid, test] = parts(&a).map(|p| per_user(&p));
    assert_eq!((train.len(), valid.len(), test.len()), (943, 943, 943), "users in train, valid, test");
    for (u, n_test) in &test {
        let n = train[u] + valid[u] + n_test;
        assert_eq!((train[u], valid[u], *n_test), recbole_counts(n, 0.1, 0.1), "user {u}");
    }
    for i in 0..3 {
        let (pa, pb, pc) = (&parts(&a)[i], &parts(&b)[i], &parts(&c)[i]);
        assert!(std::fs::read(pa).unwrap() == std::fs::read(pb).unwrap(), "part {i} differs for one seed");
        assert!(rows(pa) != rows(pc), "part {i} is the same for seeds 2020 and 2021");
    }
}

#[test]
fn a_table_without_users_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "t.csv", "item,rating\n1,2.0\n");
    let column = |name: &str, ty| datasets::Column { name: name.into(), ty, source: None };
    let schema = [column("item", datasets::ColumnType::Id), column("rating", datasets::ColumnType::Float)];
    datasets::read_table(&csv, &schema, &dir.path().join("t")).unwrap();
    let err = random_split_by_user(&dir.path().join("t").join(datasets::DATA_FILE), 0.1, 0.1, 1, &dir.path().join("s"))
        .unwrap_err();
    assert!(err.to_string().contains("`user`"), "{err}");
}
