//! `read_table`: CSV and Parquet in, a declared schema out, and errors that name what is wrong.

mod common;

use common::*;
use datasets::{read_table, Column, ColumnType, Error, DATA_FILE};

fn movielens_schema() -> Vec<Column> {
    vec![
        Column::new("user", ColumnType::Id).from_source("userId"),
        Column::new("item", ColumnType::Id).from_source("movieId"),
        Column::new("rating", ColumnType::Float),
        Column::new("time", ColumnType::Time).from_source("timestamp"),
    ]
}

#[test]
fn reads_movielens_with_a_schema() {
    let dir = tempfile::tempdir().unwrap();
    let meta = read_table(&movielens_ratings(), &movielens_schema(), dir.path()).unwrap();
    let out = dir.path().join(DATA_FILE);
    assert_eq!(meta.rows, 100_000);
    assert_eq!(count(&out), 100_000);
    let types: Vec<(&str, &str)> = meta.columns.iter().map(|c| (c.name.as_str(), c.ty.as_str())).collect();
    assert_eq!(types, [("user", "BIGINT"), ("item", "BIGINT"), ("rating", "DOUBLE"), ("time", "BIGINT")]);
    assert_eq!(schema(&out), types.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>());
    assert_eq!(meta.users, Some(943));
    assert_eq!(meta.items, Some(1_682));
    // File order is kept: the first and last lines of ratings.csv.
    let all = rows(&out);
    assert_eq!(all[0], "{'user': 196, 'item': 242, 'rating': 3.0, 'time': 881250949}");
    assert_eq!(all[99_999], "{'user': 12, 'item': 203, 'rating': 3.0, 'time': 879959583}");
}

#[test]
fn no_schema_keeps_every_column_as_detected() {
    let dir = tempfile::tempdir().unwrap();
    let meta = read_table(&movielens_ratings(), &[], dir.path()).unwrap();
    assert_eq!(meta.rows, 100_000);
    let types: Vec<(&str, &str)> = meta.columns.iter().map(|c| (c.name.as_str(), c.ty.as_str())).collect();
    // MovieLens-100K's stars are whole numbers: detected as integers, as written.
    assert_eq!(types, [("userId", "BIGINT"), ("movieId", "BIGINT"), ("rating", "BIGINT"), ("timestamp", "BIGINT")]);
    assert_eq!(meta.users, None, "no column is called `user`");
}

#[test]
fn reads_tab_separated_recbole_files_by_exact_or_base_name() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(
        dir.path(),
        "ml.inter",
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n",
    );
    let exact = vec![
        Column::new("user", ColumnType::Id).from_source("user_id:token"),
        Column::new("item", ColumnType::Id).from_source("item_id:token"),
        Column::new("rating", ColumnType::Float).from_source("rating:float"),
        Column::new("time", ColumnType::Time).from_source("timestamp:float"),
    ];
    read_table(&src, &exact, &dir.path().join("exact")).unwrap();
    assert_eq!(
        rows(&dir.path().join("exact").join(DATA_FILE)),
        [
            "{'user': 196, 'item': 242, 'rating': 3.0, 'time': 881250949}",
            "{'user': 186, 'item': 302, 'rating': 3.5, 'time': 891717742}"
        ]
    );
    let base =
        vec![Column::new("user", ColumnType::Id).from_source("user_id"), Column::new("rating", ColumnType::Float)];
    read_table(&src, &base, &dir.path().join("base")).unwrap();
    assert_eq!(rows(&dir.path().join("base").join(DATA_FILE))[1], "{'user': 186, 'rating': 3.5}");
}

#[test]
fn ids_are_integers_only_when_every_value_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "ids.csv", "a,b\n 7,u1\n-3,007\n,x\n");
    let cols = [Column::new("a", ColumnType::Id), Column::new("b", ColumnType::Id)];
    let meta = read_table(&src, &cols, dir.path()).unwrap();
    assert_eq!(meta.columns[0].ty, "BIGINT");
    assert_eq!(meta.columns[1].ty, "VARCHAR");
    assert_eq!(rows(&dir.path().join(DATA_FILE)), ["{'a': 7, 'b': u1}", "{'a': -3, 'b': 007}", "{'a': NULL, 'b': x}"]);
}

#[test]
fn times_accept_epoch_seconds_and_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(
        dir.path(),
        "t.csv",
        "t\n1514764800\n1514764800.9\n2018-01-01 00:00:00\n2018-01-01T00:00:00+02:00\n2018-01-01\n",
    );
    read_table(&src, &[Column::new("t", ColumnType::Time)], dir.path()).unwrap();
    let got: Vec<i64> = column(&format!("SELECT t FROM {}", pq(&dir.path().join(DATA_FILE))));
    assert_eq!(got, [1514764800, 1514764800, 1514764800, 1514757600, 1514764800]);
}

#[test]
fn reads_parquet_and_converts_native_types() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("native.parquet");
    value::<i64>(&format!(
        "COPY (SELECT 5::INTEGER AS u, TIMESTAMP '2018-01-01 00:00:01' AS ts, 1::TINYINT AS flag, 2.0::DOUBLE AS n) \
         TO '{}' (FORMAT parquet)",
        src.display()
    ));
    let cols = [
        Column::new("user", ColumnType::Id).from_source("u"),
        Column::new("time", ColumnType::Time).from_source("ts"),
        Column::new("flag", ColumnType::Bool),
        Column::new("n", ColumnType::Int),
    ];
    let meta = read_table(&src, &cols, &dir.path().join("out")).unwrap();
    assert_eq!(meta.rows, 1);
    assert_eq!(
        rows(&dir.path().join("out").join(DATA_FILE)),
        ["{'user': 5, 'time': 1514764801, 'flag': true, 'n': 2}"]
    );
}

#[test]
fn same_input_gives_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    read_table(&movielens_ratings(), &movielens_schema(), &dir.path().join("a")).unwrap();
    read_table(&movielens_ratings(), &movielens_schema(), &dir.path().join("b")).unwrap();
    let a = std::fs::read(dir.path().join("a").join(DATA_FILE)).unwrap();
    let b = std::fs::read(dir.path().join("b").join(DATA_FILE)).unwrap();
    assert!(a == b, "two reads of the same file differ");
}

#[test]
fn missing_column_is_named_with_the_available_ones() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "ratings.csv", "user_id,item_id,rating,timestamp\n1,2,3.0,4\n");
    let err = read_table(&src, &[Column::new("user", ColumnType::Id).from_source("userId")], dir.path()).unwrap_err();
    assert!(matches!(&err, Error::ColumnNotFound { column, .. } if column == "userId"), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("column `userId` not found in "), "{msg}");
    assert!(msg.ends_with("ratings.csv; it has: user_id, item_id, rating, timestamp"), "{msg}");
}

#[test]
fn missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    let err = read_table(&missing, &[], dir.path()).unwrap_err();
    assert!(matches!(&err, Error::FileNotFound { path } if path == &missing), "{err:?}");
    assert_eq!(err.to_string(), format!("file not found: {}", missing.display()));
    assert!(!dir.path().join(DATA_FILE).exists());
}

#[test]
fn non_numeric_value_in_a_float_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "r.csv", "user,score\n1,4.5\n2,3\n3,abc\n4,n/a\n5,\n");
    let err =
        read_table(&src, &[Column::new("rating", ColumnType::Float).from_source("score")], dir.path()).unwrap_err();
    match &err {
        Error::BadValue { column, ty, value, row, count, .. } => {
            assert_eq!((column.as_str(), *ty, value.as_str(), *row, *count), ("score", ColumnType::Float, "abc", 3, 2));
        }
        other => panic!("expected BadValue, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.starts_with("column `score` in "), "{msg}");
    assert!(msg.ends_with("r.csv: `abc` (data row 3) is not a valid float (2 bad values in all)"), "{msg}");
}

#[test]
fn fractions_and_non_finite_values_are_not_ints_or_floats() {
    let dir = tempfile::tempdir().unwrap();
    // DuckDB's own TRY_CAST('4.5' AS BIGINT) gives 5; an `int` column must refuse it.
    let src = write(dir.path(), "n.csv", "n,x\n1,1.5\n4.5,nan\n");
    let err = read_table(&src, &[Column::new("n", ColumnType::Int)], dir.path()).unwrap_err();
    assert!(matches!(&err, Error::BadValue { value, row: 2, .. } if value == "4.5"), "{err:?}");
    let err = read_table(&src, &[Column::new("x", ColumnType::Float)], dir.path()).unwrap_err();
    assert!(matches!(&err, Error::BadValue { value, row: 2, .. } if value == "nan"), "{err:?}");
}

#[test]
fn bools_accept_the_usual_spellings() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "b.csv", "b\ntrue\nF\n1\n0\nyes\n");
    read_table(&src, &[Column::new("b", ColumnType::Bool)], dir.path()).unwrap();
    let got: Vec<bool> = column(&format!("SELECT b FROM {}", pq(&dir.path().join(DATA_FILE))));
    assert_eq!(got, [true, false, true, false, true]);
    let bad = write(dir.path(), "bad.csv", "b\ntrue\n2\n");
    let err = read_table(&bad, &[Column::new("b", ColumnType::Bool)], dir.path()).unwrap_err();
    assert!(matches!(&err, Error::BadValue { value, ty: ColumnType::Bool, .. } if value == "2"), "{err:?}");
}

#[test]
fn schema_mistakes_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "a.csv", "a,b\n1,2\n");
    let dup = [Column::new("x", ColumnType::Int).from_source("a"), Column::new("x", ColumnType::Int).from_source("b")];
    assert!(matches!(read_table(&src, &dup, dir.path()), Err(Error::DuplicateColumn { name }) if name == "x"));
    let xlsx = write(dir.path(), "a.xlsx", "");
    assert!(matches!(read_table(&xlsx, &[], dir.path()), Err(Error::UnsupportedFormat { .. })));
    let rowid = write(dir.path(), "r.csv", "rowid,b\n1,2\n");
    assert!(matches!(read_table(&rowid, &[], dir.path()), Err(Error::ReservedColumn { name, .. }) if name == "rowid"));
    let date = dir.path().join("d.parquet");
    value::<i64>(&format!("COPY (SELECT DATE '2020-01-01' AS d) TO '{}' (FORMAT parquet)", date.display()));
    let err = read_table(&date, &[Column::new("d", ColumnType::Float)], dir.path()).unwrap_err();
    assert!(matches!(&err, Error::TypeMismatch { found, .. } if found == "DATE"), "{err:?}");
    assert_eq!("float".parse::<ColumnType>().unwrap(), ColumnType::Float);
    assert!(matches!("double".parse::<ColumnType>(), Err(Error::UnknownType { .. })));
}

#[test]
fn header_only_file_gives_an_empty_table() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "empty.csv", "user,item\n");
    let meta =
        read_table(&src, &[Column::new("user", ColumnType::Id), Column::new("item", ColumnType::Id)], dir.path())
            .unwrap();
    assert_eq!(meta.rows, 0);
    assert_eq!(count(&dir.path().join(DATA_FILE)), 0);
}

#[test]
fn mixed_line_endings_are_read_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    // Rows edited on two systems: CRLF and LF lines in one file.
    let src =
        write(dir.path(), "m.csv", "userId,movieId,rating,timestamp\r\n1,2,4.0,100\n2,3,3.5,200\r\n3,4,5.0,300\n");
    read_table(&src, &movielens_schema(), dir.path()).unwrap();
    let got: Vec<f64> = column(&format!("SELECT rating FROM {}", pq(&dir.path().join(DATA_FILE))));
    assert_eq!(got, [4.0, 3.5, 5.0]);
    let times: Vec<i64> = column(&format!("SELECT time FROM {}", pq(&dir.path().join(DATA_FILE))));
    assert_eq!(times, [100, 200, 300]);
}

#[test]
fn an_unreadable_csv_or_a_damaged_parquet_is_named_in_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    // Not text: bytes that are no UTF-8 at all.
    let src = dir.path().join("q.csv");
    std::fs::write(&src, b"a,b\n1,2\n\xff\xfe\x00\x81,\xc3\x28\n").unwrap();
    let msg = read_table(&src, &[], dir.path()).unwrap_err().to_string();
    assert!(msg.starts_with(&format!("cannot read {} as CSV", src.display())), "{msg}");
    assert!(msg.lines().count() <= 2 && !msg.contains("Possible"), "a DuckDB dump: {msg}");
    // What is wrong, not the line before it (DuckDB's "Original Line" is off by one here).
    assert!(msg.contains("not utf-8 encoded") && !msg.contains("Original Line"), "{msg}");
    // Random bytes with a .parquet name: damaged, not "don't know what type".
    let pq_path = write(dir.path(), "d.parquet", "PAR1 not really a parquet file PAR1");
    let msg = read_table(&pq_path, &[], dir.path()).unwrap_err().to_string();
    assert!(msg.starts_with(&format!("{} is not a readable Parquet file", pq_path.display())), "{msg}");
}
