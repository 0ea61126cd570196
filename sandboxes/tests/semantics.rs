//! What a reward written in `.evo` computes: nulls and `??`, int wrap-around and remainder by
//! zero, float division, NaN, conversions and every builtin, each checked by the dsl, compiled,
//! and compared bit for bit with the reference interpreter.

use dsl::reward::{RExprKind, RType, RewardFn};
use sandboxes::interp::Interpreter;
use sandboxes::{Columns, Limits, SandboxEngine};

fn checked(src: &str, name: &str) -> RewardFn {
    testdata::reward_fn(src, name)
}

/// Rewards from the compiled sandbox, after checking they equal the interpreter's bit for bit.
fn score(def: &RewardFn, columns: &Columns<'_>) -> Vec<f64> {
    let sandbox = SandboxEngine::new(Limits::default()).unwrap().compile(def).unwrap();
    let mut out = Vec::new();
    sandbox.run(columns, &mut out).unwrap();
    let reference = Interpreter::new(def).unwrap().run(columns).unwrap();
    assert_eq!(out.len(), reference.len());
    for (i, (a, b)) in out.iter().zip(&reference).enumerate() {
        assert_eq!(a.to_bits(), b.to_bits(), "row {i}: sandbox {a}, interpreter {b}");
    }
    out
}

fn assert_rewards(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g.to_bits() == w.to_bits(), "row {i}: got {g}, want {w}");
    }
}

const EVENTS: &str =
    "dataset d = \"d.csv\" { watch: float, rating: float, clicks: int, liked: bool, a: int, b: int }\n";

#[test]
fn defaults_and_else_if_chains() {
    let def = checked(
        &format!(
            "{EVENTS}reward r(e: d) -> float {{\n  let w = e.watch ?? 30.0\n  \
             if e.liked && w >= 60.0 {{ 2.0 }} else if e.rating >= 4.0 {{ 1.0 }} else if e.clicks > 2 {{ 0.5 }} else {{ w / 100.0 }}\n}}\n"
        ),
        "r",
    );
    let watch = [90.0, 0.0, 10.0, 10.0, f64::NAN];
    let rating = [3.0, 3.0, 4.5, 0.0, 3.0];
    let clicks = [0, 0, 5, 5, 0];
    let liked = [true, true, false, false, true];
    let cols = Columns::new()
        .with_nulls("watch", &watch[..], &[false, true, false, false, false])
        .with_nulls("rating", &rating[..], &[false, false, false, true, false])
        .with("clicks", &clicks[..])
        .with_nulls("liked", &liked[..], &[false, false, false, true, false]);
    // A null watch reads 30; a null `liked` reads false; a null rating reads 0.0; a NaN
    // watch is not null, fails every comparison and propagates.
    assert_rewards(&score(&def, &cols), &[2.0, 30.0 / 100.0, 1.0, 0.5, f64::NAN]);
}

#[test]
fn int_remainder_by_zero_is_zero() {
    let def = checked(&format!("{EVENTS}reward m(e: d) -> float {{\n  (e.a % e.b) * 10 + e.a % 0\n}}\n"), "m");
    let a = [7, -7, i64::MIN, 7, 0];
    let b = [0, 2, -1, 3, 5];
    let cols = Columns::new().with_nulls("a", &a[..], &[false, false, false, false, true]).with("b", &b[..]);
    assert_rewards(&score(&def, &cols), &[0.0, -10.0, 0.0, 10.0, 0.0]);
}

#[test]
fn division_is_float_and_by_zero_is_infinite_or_nan() {
    let def = checked(&format!("{EVENTS}reward q(e: d) -> float {{\n  e.a / e.b\n}}\n"), "q");
    let (a, b) = ([1, -1, 0, 7], [0, 0, 0, 2]);
    let cols = Columns::new().with("a", &a[..]).with("b", &b[..]);
    assert_rewards(&score(&def, &cols), &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 3.5]);
    let def = checked("reward q(e) -> float {\n  1.0 / e.x\n}\n", "q");
    let x = [0.0, -0.0, f64::INFINITY];
    assert_rewards(&score(&def, &Columns::new().with("x", &x[..])), &[f64::INFINITY, f64::NEG_INFINITY, 0.0]);
}

#[test]
fn nan_fails_comparisons_and_comes_out_canonical() {
    let def = checked(
        "reward n(e) -> float {\n  let x = e.x\n  if x >= 4.0 { 1.0 } else if x != x { -1.0 } else { 0.0 }\n}\n",
        "n",
    );
    let x = [f64::NAN, 5.0, 1.0];
    assert_rewards(&score(&def, &Columns::new().with("x", &x[..])), &[-1.0, 1.0, 0.0]);
    let def = checked("reward m(e) -> float {\n  max(e.x, 0.0) + 1.0\n}\n", "m");
    let odd = [f64::from_bits(0x7ff8_0000_0000_0123), -f64::NAN, 2.0];
    let got = score(&def, &Columns::new().with("x", &odd[..]));
    assert_eq!(got[0].to_bits(), 0x7ff8_0000_0000_0000);
    assert_eq!(got[1].to_bits(), 0x7ff8_0000_0000_0000);
    assert_eq!(got[2], 3.0);
}

#[test]
fn builtins_the_checker_made_float_stay_float() {
    // The checker converts every builtin argument: `abs` of an int is a float here, so
    // abs(i64::MIN) is 2^63, not the wrapped int i64::MIN.
    let def = checked(&format!("{EVENTS}reward a(e: d) -> float {{\n  abs(e.a) * 2.0 + min(e.a, 3)\n}}\n"), "a");
    assert!(format!("{:?}", def.body).contains("ToFloat"), "an explicit conversion: {:?}", def.body);
    let a = [i64::MIN, -5, 10];
    let got = score(&def, &Columns::new().with("a", &a[..]));
    assert_rewards(&got, &[9_223_372_036_854_775_808.0, 5.0, 23.0]);
}

#[test]
fn int_bodies_wrap_then_convert() {
    let def = checked(&format!("{EVENTS}reward c(e: d) -> float {{\n  e.a * 2 + 1\n}}\n"), "c");
    // The body is the int expression, converted once at the end.
    assert!(matches!(&def.body.kind, RExprKind::ToFloat(inner) if inner.ty == RType::Int), "{:?}", def.body);
    let a = [i64::MAX, 3, -4];
    assert_rewards(&score(&def, &Columns::new().with("a", &a[..])), &[-1.0, 7.0, -7.0]);
}

#[test]
fn int_defaults_of_float_fields_and_shadowed_locals() {
    let def = checked(
        "reward s(e) -> float {\n  let x = e.x ?? 2\n  let y = if x > 0.0 {\n    let x = 10\n    x * 2\n  } else {\n    x\n  }\n  x + y\n}\n",
        "s",
    );
    let x = [1.0, -1.0, 0.0];
    let cols = Columns::new().with_nulls("x", &x[..], &[false, false, true]);
    assert_rewards(&score(&def, &cols), &[21.0, -2.0, 22.0]);
}

#[test]
fn every_math_function_agrees_with_the_interpreter() {
    let def = checked(
        &format!(
            "{EVENTS}reward maths(e: d) -> float {{\n  let w = e.watch ?? 1.5\n  \
             let s = log(1.0 + w) + log1p(w) / 2.0 - sqrt(abs(w - 30.0))\n  \
             let b = clamp(s, -5.0, 5.0) + min(w, 10.0) * max(0.1, e.rating)\n  \
             let t = sigmoid(b) + tanh(b) + exp(-b) + pow(2.0, b) + floor(b) + ceil(-b)\n  \
             if e.liked || e.clicks % 3 == 1 {{ t - e.clicks }} else {{ -t }}\n}}\n"
        ),
        "maths",
    );
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let n = 5000;
    let specials = [0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 1e308, 5e-324];
    let watch: Vec<f64> = (0..n)
        .map(|i| if i % 17 == 0 { specials[i / 17 % specials.len()] } else { (next() % 100_000) as f64 / 77.0 - 50.0 })
        .collect();
    let watch_null: Vec<bool> = (0..n).map(|_| next() % 9 == 0).collect();
    let rating: Vec<f64> = (0..n).map(|_| (next() % 11) as f64 * 0.5).collect();
    let clicks: Vec<i64> = (0..n).map(|_| next() as i64).collect();
    let liked: Vec<bool> = (0..n).map(|_| next() % 2 == 0).collect();
    let cols = Columns::new()
        .with_nulls("watch", &watch[..], &watch_null[..])
        .with("rating", &rating[..])
        .with("clicks", &clicks[..])
        .with("liked", &liked[..]);
    let got = score(&def, &cols);
    assert!(got.iter().any(|v| v.is_finite()) && got.iter().any(|v| v.is_nan()));
}

#[test]
fn an_external_reward_whose_file_is_gone_is_an_io_error() {
    let def =
        dsl::reward::RewardDef::External { name: "ext".into(), path: "nowhere/ext.wat".into(), source: String::new() };
    let engine = SandboxEngine::new(Limits::default()).unwrap();
    let err = engine.load_reward(&def).unwrap_err();
    assert_eq!(err.code(), "sandbox::io");
    assert!(err.to_string().starts_with("nowhere/ext.wat: "), "{err}");
}
