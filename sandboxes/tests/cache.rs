//! The compiled-module cache: hits on the second load, and a corrupted entry is recompiled
//! and rewritten rather than trusted.

use sandboxes::{Columns, Limits, RewardFn, SandboxEngine};

fn reward(scale: f64) -> RewardFn {
    testdata::reward_fn(&format!("reward scaled(e) -> float {{\n  e.x * {scale:?}\n}}\n"), "scaled")
}

fn score(engine: &SandboxEngine, ir: &RewardFn) -> (Vec<f64>, bool) {
    let sandbox = engine.compile(ir).unwrap();
    let xs = [1.0, -2.0, 0.5];
    let mut out = Vec::new();
    sandbox.run(&Columns::new().with("x", &xs[..]), &mut out).unwrap();
    (out, sandbox.from_cache())
}

fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

#[test]
fn second_load_comes_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let engine = SandboxEngine::with_cache(Limits::default(), dir.path()).unwrap();
    assert_eq!(score(&engine, &reward(3.0)), (vec![3.0, -6.0, 1.5], false));
    assert_eq!(score(&engine, &reward(3.0)), (vec![3.0, -6.0, 1.5], true));
    // A fresh engine with the same settings shares the entries.
    let again = SandboxEngine::with_cache(Limits::default(), dir.path()).unwrap();
    assert_eq!(score(&again, &reward(3.0)), (vec![3.0, -6.0, 1.5], true));
    // A different reward is a different entry.
    assert_eq!(score(&engine, &reward(2.0)), (vec![2.0, -4.0, 1.0], false));
    assert_eq!(entries(dir.path()).len(), 2);
}

#[test]
fn corrupted_entry_is_recompiled_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let engine = SandboxEngine::with_cache(Limits::default(), dir.path()).unwrap();
    score(&engine, &reward(3.0));
    let [path] = entries(dir.path()).try_into().unwrap();
    let good = std::fs::read(&path).unwrap();
    // Flip one byte deep inside the compiled code, then truncate, then garble the magic.
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let truncated = good[..good.len() / 3].to_vec();
    let mut bad_magic = good.clone();
    bad_magic[0] = b'X';
    for corrupt in [flipped, truncated, bad_magic, Vec::new()] {
        std::fs::write(&path, &corrupt).unwrap();
        assert_eq!(score(&engine, &reward(3.0)), (vec![3.0, -6.0, 1.5], false));
        // The entry was rewritten and is trusted again.
        assert_eq!(std::fs::read(&path).unwrap(), good);
        assert_eq!(score(&engine, &reward(3.0)), (vec![3.0, -6.0, 1.5], true));
    }
}

#[test]
fn external_modules_are_cached_too() {
    let dir = tempfile::tempdir().unwrap();
    let engine = SandboxEngine::with_cache(Limits::default(), dir.path()).unwrap();
    let wasm = sandboxes::compile::compile(&reward(5.0)).unwrap();
    let first = engine.load("ext", &wasm).unwrap();
    let second = engine.load("ext", &wasm).unwrap();
    assert!(!first.from_cache());
    assert!(second.from_cache());
}
