use sandboxes::{Columns, Limits, SandboxEngine};

#[test]
fn satisfied_reward_runs() {
    let ir = testdata::reward_fn(
        "reward satisfied(e) -> float {\n  let long_watch = if e.rating >= 4.0 { 1.0 } else { 0.0 }\n  \
         long_watch + 0.1 * log1p(e.watch_seconds ?? 0.0)\n}\n",
        "satisfied",
    );
    let engine = SandboxEngine::new(Limits::default()).unwrap();
    let sb = engine.compile(&ir).unwrap();
    let rating = [5.0, 3.0, 4.0];
    let watch = [10.0, 0.0, 100.0];
    let nulls = [false, false, true];
    let cols = Columns::new().with("rating", &rating[..]).with_nulls("watch_seconds", &watch[..], &nulls[..]);
    let mut out = Vec::new();
    sb.run(&cols, &mut out).unwrap();
    let interp = sandboxes::interp::Interpreter::new(&ir).unwrap().run(&cols).unwrap();
    assert_eq!(out, interp);
    assert!((out[0] - (1.0 + 0.1 * 11f64.ln())).abs() < 1e-12, "{out:?}");
    assert_eq!(out[1], 0.0);
    assert_eq!(out[2], 1.0);
}
