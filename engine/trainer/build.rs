//! Lets the test binaries, examples and benches find libtorch without `LD_LIBRARY_PATH`: an rpath
//! to `$LIBTORCH/lib` (cargo overrides `LD_LIBRARY_PATH` set in its own `[env]`).

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(t) = std::env::var("LIBTORCH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{t}/lib");
    }
}
