//! Lets test binaries find the prebuilt libduckdb.so from `scripts/setup.sh` without
//! `LD_LIBRARY_PATH`: an rpath to the folder named by `DUCKDB_LIB_DIR`.

fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if let Ok(dir) = std::env::var("DUCKDB_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
