//! Lets the test and bench binaries find the prebuilt libduckdb.so (a dev-dependency, for the
//! DuckDB comparison in `benches/reward.rs`) without `LD_LIBRARY_PATH`: an rpath to the folder
//! named by `DUCKDB_LIB_DIR`. The library itself links nothing from DuckDB.

fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if let Ok(d) = std::env::var("DUCKDB_LIB_DIR") {
        println!("cargo:rustc-link-arg-benches=-Wl,-rpath,{d}");
        println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{d}");
    }
}
