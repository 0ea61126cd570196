use duckdb::{ffi, Config, Connection};
use std::ffi::CString;
fn main() {
    for (k, v) in [("temp_directory", ""), ("temp_directory", "''"), ("max_temp_directory_size", "0B"), ("max_temp_directory_size", "0"), ("allow_community_extensions", "false"), ("lock_configuration", "true"), ("enable_external_access", "false")] {
        let r = Config::default().with(k, v);
        println!("config {k}={v:?}: {}", r.is_ok());
    }
    let dir = std::env::temp_dir().join(format!("probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("p.duckdb");
    let w = Connection::open(&path).unwrap();
    w.execute_batch("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1),(2); CREATE SEQUENCE s;").unwrap();
    // statement types
    let con = unsafe { let mut c = std::ptr::null_mut(); let db = { let mut db = std::ptr::null_mut(); let p = CString::new(":memory:").unwrap(); ffi::duckdb_open(p.as_ptr(), &mut db); db }; ffi::duckdb_connect(db, &mut c); c };
    unsafe { let q = CString::new("CREATE TABLE t(x INTEGER); CREATE SEQUENCE s;").unwrap(); let mut r = std::mem::zeroed(); ffi::duckdb_query(con, q.as_ptr(), &mut r); }
    for sql in ["DESCRIBE t", "SHOW TABLES", "SHOW t", "SUMMARIZE t", "PRAGMA version", "PRAGMA table_info('t')", "EXPLAIN SELECT 1", "EXPLAIN ANALYZE SELECT 1", "WITH x AS (SELECT 1) INSERT INTO t VALUES (3)", "FROM t", "VALUES (1)", "TABLE t", "PIVOT t ON x", "SELECT getenv('HOME')", "SET threads=1", "CALL pragma_version()", "SELECT nextval('s')"] {
        unsafe {
            let q = CString::new(sql).unwrap();
            let mut ex = std::ptr::null_mut();
            let n = ffi::duckdb_extract_statements(con, q.as_ptr(), &mut ex);
            let mut p = std::ptr::null_mut();
            let st = if n > 0 { ffi::duckdb_prepare_extracted_statement(con, ex, 0, &mut p) } else { 1 };
            let ty = if st == 0 { ffi::duckdb_prepared_statement_type(p) as i64 } else { -1 };
            let err = if st != 0 && !p.is_null() { let e = ffi::duckdb_prepare_error(p); if e.is_null() {String::new()} else {std::ffi::CStr::from_ptr(e).to_string_lossy().into_owned()} } else { String::new() };
            println!("{sql:?}: n={n} type={ty} {err}");
            ffi::duckdb_destroy_prepare(&mut p);
            ffi::duckdb_destroy_extracted(&mut ex);
        }
    }
    // same-process read-only open while writer open
    let cfg = Config::default().access_mode(duckdb::AccessMode::ReadOnly).unwrap();
    match Connection::open_with_flags(&path, cfg) {
        Ok(r) => {
            println!("same-process read-only open: OK");
            let n: Result<i64, _> = r.query_row("SELECT count(*) FROM t", [], |r| r.get(0));
            println!("  count: {n:?}");
        }
        Err(e) => println!("same-process read-only open: ERR {e}"),
    }
    let cfg = Config::default().enable_external_access(false).unwrap();
    let m = Connection::open_in_memory_with_flags(cfg).unwrap();
    println!("getenv: {:?}", m.query_row("SELECT getenv('HOME')", [], |r| r.get::<_, String>(0)));
    println!("settings: {:?}", m.query_row("SELECT value FROM duckdb_settings() WHERE name='temp_directory'", [], |r| r.get::<_, String>(0)));
    let _ = std::fs::remove_dir_all(&dir);
}
