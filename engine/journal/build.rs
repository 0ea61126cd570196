//! Adds an rpath to the prebuilt libduckdb.so so this crate's test binaries run without
//! LD_LIBRARY_PATH. Cargo applies `rustc-link-arg` only to this package's own linked targets
//! (tests, examples); crates that depend on `journal` must add their own rpath.

fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if let Ok(dir) = std::env::var("DUCKDB_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
