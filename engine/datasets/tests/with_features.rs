//! `with_features`: a split's parts with item and user tables beside them; a key that is missing,
//! repeated or shared between the tables is refused with the column (and value) named.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use datasets::{random_split, read_table, with_features, Column, ColumnType, Error};

/// A small split of `user,item` rows, and its folder.
fn split(dir: &Path) -> PathBuf {
    let csv = write(dir, "r.csv", "user,item\n1,10\n1,11\n2,10\n2,12\n3,11\n3,12\n4,10\n4,13\n");
    let data = dir.join("data");
    read_table(&csv, &[Column::new("user", ColumnType::Id), Column::new("item", ColumnType::Id)], &data).unwrap();
    let out = dir.join("split");
    random_split(&data.join(datasets::DATA_FILE), 0.25, 0.25, 1, &out).unwrap();
    out
}

fn table(dir: &Path, name: &str, text: &str, columns: &[(&str, ColumnType)]) -> PathBuf {
    let csv = write(dir, &format!("{name}.csv"), text);
    let out = dir.join(name);
    let cols: Vec<Column> = columns.iter().map(|(n, t)| Column::new(*n, *t)).collect();
    read_table(&csv, &cols, &out).unwrap();
    out.join(datasets::DATA_FILE)
}

#[test]
fn the_parts_are_kept_and_the_tables_written_beside_them() {
    let dir = tempfile::tempdir().unwrap();
    let split = split(dir.path());
    let items = table(
        dir.path(),
        "items",
        "item,genre\n10,Comedy\n11,Action Comedy\n12,Drama\n",
        &[("item", ColumnType::Id), ("genre", ColumnType::Str)],
    );
    let users =
        table(dir.path(), "users", "user,age\n1,24\n2,53\n", &[("user", ColumnType::Id), ("age", ColumnType::Int)]);
    let out = dir.path().join("out");
    let meta = with_features(&split, Some(&items), Some(&users), &out).unwrap();
    for part in [datasets::TRAIN_FILE, datasets::VALID_FILE, datasets::TEST_FILE] {
        assert_eq!(std::fs::read(split.join(part)).unwrap(), std::fs::read(out.join(part)).unwrap(), "{part}");
    }
    assert_eq!(meta.rows, 8);
    assert_eq!(meta.splits.map(|s| s.train + s.valid + s.test), Some(8));
    assert_eq!(rows(&out.join(datasets::ITEM_FEATURES_FILE)).len(), 3);
    assert_eq!(rows(&out.join(datasets::USER_FEATURES_FILE)), ["{'user': 1, 'age': 24}", "{'user': 2, 'age': 53}"]);
    // Either table alone.
    let only = dir.path().join("only");
    with_features(&split, None, Some(&users), &only).unwrap();
    assert!(!only.join(datasets::ITEM_FEATURES_FILE).exists());
}

#[test]
fn a_missing_repeated_or_shared_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let split = split(dir.path());
    let out = dir.path().join("out");
    let no_key = table(dir.path(), "a", "id,genre\n10,Comedy\n", &[("id", ColumnType::Id), ("genre", ColumnType::Str)]);
    let err = with_features(&split, Some(&no_key), None, &out).unwrap_err();
    assert!(matches!(&err, Error::ColumnNotFound { column, .. } if column == "item"), "{err}");

    let twice = table(
        dir.path(),
        "b",
        "item,genre\n10,Comedy\n11,Drama\n10,Action\n",
        &[("item", ColumnType::Id), ("genre", ColumnType::Str)],
    );
    let err = with_features(&split, Some(&twice), None, &out).unwrap_err();
    assert!(matches!(&err, Error::RepeatedKey { value: 10, rows: 2, .. }), "{err}");
    assert!(err.to_string().contains("one row per item"), "{err}");

    let items = table(dir.path(), "c", "item,name\n10,x\n", &[("item", ColumnType::Id), ("name", ColumnType::Str)]);
    let users = table(dir.path(), "d", "user,name\n1,y\n", &[("user", ColumnType::Id), ("name", ColumnType::Str)]);
    let err = with_features(&split, Some(&items), Some(&users), &out).unwrap_err();
    assert!(matches!(&err, Error::SharedFeature { column, .. } if column == "name"), "{err}");
    assert!(!out.exists(), "nothing written when the tables are refused");
}
