//! The math helpers: accuracy against the platform libm, and bit-exact agreement between the
//! compiled (wasm) and interpreted paths over many inputs.

use dsl::reward::Builtin;
use proptest::prelude::*;
use sandboxes::{math, Columns, Limits, SandboxEngine};

/// Distance in units in the last place; 0 when both are NaN.
fn ulps(a: f64, b: f64) -> u64 {
    if a.is_nan() && b.is_nan() {
        return 0;
    }
    if a.is_nan() || b.is_nan() {
        return u64::MAX;
    }
    let ord = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 {
            i64::MIN - bits
        } else {
            bits
        }
    };
    ord(a).abs_diff(ord(b))
}

fn specials() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        2.0,
        10.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        709.782712893384,
        709.79,
        -745.13,
        -745.14,
        -708.4,
        1e-300,
        0.34657359027997264,
        1.0397207708399179,
        20.0,
        19.999,
        -1.0 + 1e-16,
        1e308,
        3.0,
        -3.0,
        0.9999999999999999,
        1.0000000000000002,
    ];
    v.extend((-40..40).map(|i| f64::from(i) * 0.37));
    v
}

fn check_unary(name: &str, ours: fn(f64) -> f64, std: fn(f64) -> f64, tol: u64) {
    for x in specials() {
        let (a, b) = (ours(x), std(x));
        assert!(ulps(a, b) <= tol, "{name}({x:e}) = {a:e}, libm says {b:e}");
    }
}

#[test]
fn helpers_are_accurate_on_special_values() {
    check_unary("log", math::log, f64::ln, 1);
    check_unary("log1p", math::log1p, f64::ln_1p, 1);
    check_unary("exp", math::exp, f64::exp, 1);
    check_unary("expm1", math::expm1, f64::exp_m1, 1);
    check_unary("tanh", math::tanh, f64::tanh, 2);
    check_unary("sigmoid", math::sigmoid, |x| 1.0 / (1.0 + (-x).exp()), 4);
    for x in specials() {
        for y in specials() {
            let (a, b) = (math::pow(x, y), x.powf(y));
            assert!(ulps(a, b) <= 1, "pow({x:e}, {y:e}) = {a:e}, libm says {b:e}");
        }
    }
}

#[test]
fn pow_is_exact_on_integer_powers() {
    for b in -12i32..=12 {
        for e in 0..=20 {
            let exact = f64::from(b).powi(e);
            if exact.abs() < 2f64.powi(53) {
                assert_eq!(math::pow(f64::from(b), f64::from(e)), exact, "{b}^{e}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn unary_helpers_within_tolerance(x in proptest::num::f64::ANY) {
        prop_assert!(ulps(math::log(x), x.ln()) <= 1);
        prop_assert!(ulps(math::log1p(x), x.ln_1p()) <= 1);
        prop_assert!(ulps(math::exp(x), x.exp()) <= 1);
        prop_assert!(ulps(math::expm1(x), x.exp_m1()) <= 1);
        prop_assert!(ulps(math::tanh(x), x.tanh()) <= 2);
    }

    #[test]
    fn moderate_inputs_within_tolerance(x in -50.0f64..50.0, y in -30.0f64..30.0) {
        prop_assert!(ulps(math::exp(x), x.exp()) <= 1);
        prop_assert!(ulps(math::tanh(x), x.tanh()) <= 2);
        let sig = math::sigmoid(x);
        let want = 1.0 / (1.0 + (-x).exp());
        // Both sides round three times (exp, 1 + e, the division), so they may differ by 4.
        prop_assert!(ulps(sig, want) <= 4, "sigmoid({}) = {:e}, want {:e}, {} ulps", x, sig, want, ulps(sig, want));
        let b = x.abs();
        prop_assert!(ulps(math::log(b), b.ln()) <= 1);
        prop_assert!(ulps(math::pow(b, y), b.powf(y)) <= 1, "pow({}, {})", b, y);
    }
}

/// Runs `func` over `xs` (and `ys` for binary helpers) in wasm and in the interpreter.
fn wasm_matches_interp(func: Builtin, xs: &[f64], ys: &[f64]) {
    let args = ["e.x", "e.y", "3.0"][..func.arity()].join(", ");
    let name = format!("helper_{}", func.name());
    let ir = testdata::reward_fn(&format!("reward {name}(e) -> float {{\n  {}({args})\n}}\n", func.name()), &name);
    let engine = SandboxEngine::new(Limits::default()).unwrap();
    let sandbox = engine.compile(&ir).unwrap();
    let cols = Columns::new().with("x", xs).with("y", ys);
    let mut out = Vec::new();
    sandbox.run(&cols, &mut out).unwrap();
    let want = sandboxes::interp::Interpreter::new(&ir).unwrap().run(&cols).unwrap();
    for (i, (a, b)) in out.iter().zip(&want).enumerate() {
        assert_eq!(
            a.to_bits(),
            b.to_bits(),
            "{}({:e}, {:e}): wasm {a:e}, interpreter {b:e}",
            func.name(),
            xs[i],
            ys[i]
        );
    }
}

#[test]
fn compiled_helpers_match_interpreter_bit_for_bit() {
    // Deterministic pseudo-random bit patterns (xorshift) plus the specials, all paired.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let sp = specials();
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for a in &sp {
        for b in &sp {
            xs.push(*a);
            ys.push(*b);
        }
    }
    for _ in 0..20_000 {
        xs.push(f64::from_bits(next()));
        ys.push(f64::from_bits(next()));
        // Moderate magnitudes exercise the main paths, not only the overflow branches.
        xs.push((next() % 2_000_000) as f64 / 1000.0 - 1000.0);
        ys.push((next() % 200_000) as f64 / 1000.0 - 100.0);
    }
    for func in Builtin::ALL {
        wasm_matches_interp(func, &xs, &ys);
    }
}
