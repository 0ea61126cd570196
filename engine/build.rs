//! Lets the binary find the shared libraries installed by `scripts/setup.sh` without
//! `LD_LIBRARY_PATH`: an rpath to each; and records the libtorch version for `--version`.

fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(dir) = std::env::var("DUCKDB_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    let mut torch_version = "unknown".to_string();
    if let Ok(torch) = std::env::var("LIBTORCH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{torch}/lib");
        let file = format!("{torch}/build-version");
        println!("cargo:rerun-if-changed={file}");
        if let Ok(v) = std::fs::read_to_string(&file) {
            torch_version = v.trim().to_string();
        }
    }
    // What `evoflow --version` says it links.
    println!("cargo:rustc-env=EVOFLOW_LIBTORCH_VERSION={torch_version}");
}
