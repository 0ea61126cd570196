//! Random well-typed reward programs over random events (NaN, infinities, signed zeros,
//! nulls, huge values, i64 extremes): the compiled module must agree with the reference
//! interpreter bit for bit (both return the canonical NaN).
//!
//! Programs are generated as `.evo` source and checked by the dsl, so the property covers the
//! whole path a reward takes: the checker's typing and conversions, the compiler, the runtime.

use std::sync::OnceLock;

use dsl::reward::{Builtin, RType as Type, RewardFn};
use proptest::prelude::*;
use sandboxes::interp::Interpreter;
use sandboxes::{Columns, Limits, SandboxEngine};

const ROWS: usize = 48;

/// The events' columns: two floats, two ints, a bool.
const EVENTS: &str = "dataset d = \"d.csv\" { f0: float, f1: float, i0: int, i1: int, b0: bool }\n";

/// A small deterministic generator; proptest supplies the seed, so a failure is replayable.
struct Gen {
    state: u64,
    scope: Vec<(String, Type)>,
    next_name: usize,
}

const FLOATS: [f64; 14] =
    [0.0, -0.0, 1.0, -1.5, 0.1, 4.0, 1e300, -1e-310, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, 2.5, -7.0];
const INTS: [i64; 10] = [0, 1, -1, 2, 7, -3, i64::MAX, i64::MIN, 1 << 53, 1000];

/// `v` as `.evo` source: a literal, negated in parentheses, or a division for what has none.
fn float_source(v: f64) -> String {
    if v.is_nan() {
        return "(0.0 / 0.0)".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "(1.0 / 0.0)".into() } else { "(-1.0 / 0.0)".into() };
    }
    let digits = format!("{:?}", v.abs());
    let digits = if digits.contains(['.', 'e']) { digits } else { format!("{digits}.0") };
    if v.is_sign_negative() {
        format!("(-{digits})")
    } else {
        digits
    }
}

fn int_source(v: i64) -> String {
    match v {
        i64::MIN => "(-9223372036854775807 - 1)".into(),
        v if v < 0 => format!("(-{})", v.unsigned_abs()),
        v => v.to_string(),
    }
}

impl Gen {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }

    fn numeric(&mut self) -> Type {
        if self.below(2) == 0 {
            Type::Float
        } else {
            Type::Int
        }
    }

    fn leaf(&mut self, ty: Type) -> String {
        let locals: Vec<String> = self.scope.iter().filter(|(_, t)| *t == ty).map(|(n, _)| n.clone()).collect();
        if !locals.is_empty() && self.below(3) == 0 {
            return self.pick(&locals.iter().map(String::as_str).collect::<Vec<_>>()).to_string();
        }
        let field = |g: &mut Gen, name: &str, ty: Type| {
            if g.below(3) == 0 {
                // A default of the field's type, or an int for a float field.
                let dty = if ty == Type::Float && g.below(2) == 0 { Type::Int } else { ty };
                let default = g.leaf_const(dty);
                format!("(e.{name} ?? {default})")
            } else {
                format!("e.{name}")
            }
        };
        match (ty, self.below(2)) {
            (Type::Float, 0) => {
                let name = self.pick(&["f0", "f1"]);
                field(self, name, Type::Float)
            }
            (Type::Int, 0) => {
                let name = self.pick(&["i0", "i1"]);
                field(self, name, Type::Int)
            }
            (Type::Bool, 0) => field(self, "b0", Type::Bool),
            _ => self.leaf_const(ty),
        }
    }

    fn leaf_const(&mut self, ty: Type) -> String {
        match ty {
            Type::Float => float_source(self.pick(&FLOATS)),
            Type::Int => int_source(self.pick(&INTS)),
            Type::Bool => (self.below(2) == 0).to_string(),
        }
    }

    /// `{ let ... expr }`: up to two `let`s, then a value of type `ty`.
    fn block(&mut self, ty: Type, depth: u32) -> String {
        let mut text = String::from("{\n");
        let outer = self.scope.clone();
        for _ in 0..self.below(3) {
            let vty = match self.below(3) {
                0 => Type::Bool,
                _ => self.numeric(),
            };
            let value = self.expr(vty, depth);
            // Sometimes shadow a local already in scope.
            let shadow = self.below(4) == 0;
            let name = match self.scope.last() {
                Some((n, _)) if shadow => n.clone(),
                _ => {
                    self.next_name += 1;
                    format!("v{}", self.next_name)
                }
            };
            // In parentheses: `let a = b` then a line starting with `(` would read as a call of `b`.
            text.push_str(&format!("let {name} = ({value})\n"));
            // Only the innermost `let` of a name is in scope.
            self.scope.retain(|(n, _)| *n != name);
            self.scope.push((name, vty));
        }
        let result = self.expr(ty, depth);
        self.scope = outer;
        text.push_str(&result);
        text.push_str("\n}");
        text
    }

    fn expr(&mut self, ty: Type, depth: u32) -> String {
        if depth == 0 || self.below(5) == 0 {
            return self.leaf(ty);
        }
        let d = depth - 1;
        if self.below(7) == 0 {
            let cond = self.expr(Type::Bool, d);
            // A float `if` may mix an int branch, which is converted.
            let (t1, t2) = match (ty, self.below(3)) {
                (Type::Float, 0) => (Type::Int, Type::Float),
                (Type::Float, 1) => (Type::Float, Type::Int),
                _ => (ty, ty),
            };
            let a = self.block(t1, d);
            let b = self.block(t2, d);
            return format!("(if {cond} {a} else {b})");
        }
        match ty {
            Type::Float => self.float_expr(d),
            Type::Int => self.int_expr(d),
            Type::Bool => self.bool_expr(d),
        }
    }

    fn float_expr(&mut self, d: u32) -> String {
        match self.below(4) {
            0 => {
                let op = self.pick(&["+", "-", "*"]);
                // At least one float operand makes the result float.
                let (ta, tb) =
                    self.pick(&[(Type::Float, Type::Int), (Type::Int, Type::Float), (Type::Float, Type::Float)]);
                format!("({} {op} {})", self.expr(ta, d), self.expr(tb, d))
            }
            1 => {
                let (ta, tb) = (self.numeric(), self.numeric());
                format!("({} / {})", self.expr(ta, d), self.expr(tb, d))
            }
            2 => format!("(-{})", self.expr(Type::Float, d)),
            _ => {
                let func = self.pick(&Builtin::ALL);
                let args: Vec<String> = (0..func.arity())
                    .map(|_| {
                        let t = self.numeric();
                        self.expr(t, d)
                    })
                    .collect();
                format!("{}({})", func.name(), args.join(", "))
            }
        }
    }

    fn int_expr(&mut self, d: u32) -> String {
        match self.below(2) {
            0 => {
                let op = self.pick(&["+", "-", "*", "%"]);
                format!("({} {op} {})", self.expr(Type::Int, d), self.expr(Type::Int, d))
            }
            _ => format!("(-{})", self.expr(Type::Int, d)),
        }
    }

    fn bool_expr(&mut self, d: u32) -> String {
        match self.below(4) {
            0 => {
                let op = self.pick(&["==", "!=", "<", "<=", ">", ">="]);
                let (ta, tb) = (self.numeric(), self.numeric());
                format!("({} {op} {})", self.expr(ta, d), self.expr(tb, d))
            }
            1 => {
                let op = self.pick(&["==", "!="]);
                format!("({} {op} {})", self.expr(Type::Bool, d), self.expr(Type::Bool, d))
            }
            2 => format!("(!{})", self.expr(Type::Bool, d)),
            _ => {
                let op = self.pick(&["&&", "||"]);
                format!("({} {op} {})", self.expr(Type::Bool, d), self.expr(Type::Bool, d))
            }
        }
    }
}

/// A random reward's source.
fn source(seed: u64) -> String {
    let mut g = Gen { state: seed, scope: Vec::new(), next_name: 0 };
    let ty = g.numeric();
    format!("{EVENTS}reward random(e: d) -> float {}\n", g.block(ty, 5))
}

/// The random reward, checked by the dsl.
fn program(seed: u64) -> RewardFn {
    testdata::reward_fn(&source(seed), "random")
}

fn float_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => proptest::sample::select(FLOATS.to_vec()),
        2 => -1e6f64..1e6,
        1 => proptest::num::f64::ANY,
        1 => (-5i32..5).prop_map(f64::from),
    ]
}

fn int_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => proptest::sample::select(INTS.to_vec()),
        2 => -100i64..100,
        1 => any::<i64>(),
    ]
}

#[derive(Debug, Clone)]
struct Events {
    f0: Vec<f64>,
    f1: Vec<f64>,
    i0: Vec<i64>,
    i1: Vec<i64>,
    b0: Vec<bool>,
    nulls: [Vec<bool>; 5],
}

fn events() -> impl Strategy<Value = Events> {
    let nulls = || proptest::collection::vec(proptest::bool::weighted(0.15), ROWS);
    (
        proptest::collection::vec(float_value(), ROWS),
        proptest::collection::vec(float_value(), ROWS),
        proptest::collection::vec(int_value(), ROWS),
        proptest::collection::vec(int_value(), ROWS),
        proptest::collection::vec(any::<bool>(), ROWS),
        [nulls(), nulls(), nulls(), nulls(), nulls()],
    )
        .prop_map(|(f0, f1, i0, i1, b0, nulls)| Events { f0, f1, i0, i1, b0, nulls })
}

fn engine() -> &'static SandboxEngine {
    static ENGINE: OnceLock<SandboxEngine> = OnceLock::new();
    ENGINE.get_or_init(|| SandboxEngine::new(Limits::default()).expect("engine"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn compiled_matches_interpreter(seed in any::<u64>(), ev in events(), with_nulls in any::<bool>()) {
        let ir = program(seed);
        let src = source(seed);
        let interp = Interpreter::new(&ir).map_err(|e| TestCaseError::fail(format!("{e}:\n{src}")))?;
        let sandbox = engine().compile(&ir).map_err(|e| TestCaseError::fail(format!("{e}:\n{src}")))?;
        let cols = if with_nulls {
            Columns::new()
                .with_nulls("f0", &ev.f0[..], &ev.nulls[0][..])
                .with_nulls("f1", &ev.f1[..], &ev.nulls[1][..])
                .with_nulls("i0", &ev.i0[..], &ev.nulls[2][..])
                .with_nulls("i1", &ev.i1[..], &ev.nulls[3][..])
                .with_nulls("b0", &ev.b0[..], &ev.nulls[4][..])
        } else {
            Columns::new()
                .with("f0", &ev.f0[..])
                .with("f1", &ev.f1[..])
                .with("i0", &ev.i0[..])
                .with("i1", &ev.i1[..])
                .with("b0", &ev.b0[..])
        };
        let mut got = Vec::new();
        sandbox.run(&cols, &mut got).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let want = interp.run(&cols).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(got.len(), ROWS);
        for row in 0..ROWS {
            prop_assert_eq!(
                got[row].to_bits(),
                want[row].to_bits(),
                "row {}: wasm {:e}, interpreter {:e}\nprogram:\n{}",
                row, got[row], want[row], src
            );
        }
    }
}

/// The generator must reach every construct, or the property above proves less than it says.
#[test]
fn generator_covers_the_language() {
    let mut text = String::new();
    for seed in 0..400 {
        text.push_str(&format!("{:?}", program(seed)));
    }
    for needle in [
        "Let",
        "Local",
        "If",
        "Field",
        "default: Some",
        "ToFloat",
        "Rem",
        "Div",
        "Neg",
        "Not",
        "And",
        "Or",
        "Lt",
        "Ge",
        "Eq",
        "Ne",
        "Float(0.0)",
        "Float(1e300)",
        "Int(9223372036854775807)",
    ] {
        assert!(text.contains(needle), "generator never produced {needle}");
    }
    for func in Builtin::ALL {
        assert!(text.contains(&format!("{func:?}")), "generator never called {func:?}");
    }
    let sources: String = (0..400).map(source).collect();
    for needle in ["0.0 / 0.0", "1.0 / 0.0", "(-1.0 / 0.0)", "?? ", "\nlet "] {
        assert!(sources.contains(needle), "generator never wrote {needle:?}");
    }
}
