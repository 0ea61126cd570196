//! Random well-typed reward programs over random events (NaN, infinities, signed zeros,
//! nulls, huge values, i64 extremes): the compiled module must agree with the reference
//! interpreter bit for bit (both return the canonical NaN).

use std::sync::OnceLock;

use proptest::prelude::*;
use sandboxes::interp::Interpreter;
use sandboxes::ir::{BinaryOp, Builtin, Expr, UnaryOp};
use sandboxes::{Columns, Field, Limits, RewardIr, SandboxEngine, Type};

const ROWS: usize = 48;

fn fields() -> Vec<Field> {
    vec![
        Field::new("f0", Type::Float),
        Field::new("f1", Type::Float),
        Field::new("i0", Type::Int),
        Field::new("i1", Type::Int),
        Field::new("b0", Type::Bool),
    ]
}

/// A small deterministic generator; proptest supplies the seed, so a failure is replayable.
struct Gen {
    state: u64,
    scope: Vec<(String, Type)>,
    next_name: usize,
}

const FLOATS: [f64; 14] =
    [0.0, -0.0, 1.0, -1.5, 0.1, 4.0, 1e300, -1e-310, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, 2.5, -7.0];
const INTS: [i64; 10] = [0, 1, -1, 2, 7, -3, i64::MAX, i64::MIN, 1 << 53, 1000];

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

    fn numeric(&mut self) -> Type {
        if self.below(2) == 0 {
            Type::Float
        } else {
            Type::Int
        }
    }

    fn leaf(&mut self, ty: Type) -> Expr {
        let locals: Vec<String> = self.scope.iter().filter(|(_, t)| *t == ty).map(|(n, _)| n.clone()).collect();
        if !locals.is_empty() && self.below(3) == 0 {
            let i = self.below(locals.len());
            return Expr::local(locals[i].clone());
        }
        let field = |g: &mut Gen, index: u32, ty: Type| {
            if g.below(3) == 0 {
                // A default of the field's type, or an int for a float field.
                let dty = if ty == Type::Float && g.below(2) == 0 { Type::Int } else { ty };
                let default = g.leaf_const(dty);
                Expr::field_or(index, default)
            } else {
                Expr::field(index)
            }
        };
        match (ty, self.below(2)) {
            (Type::Float, 0) => {
                let i = self.below(2) as u32;
                field(self, i, Type::Float)
            }
            (Type::Int, 0) => {
                let i = 2 + self.below(2) as u32;
                field(self, i, Type::Int)
            }
            (Type::Bool, 0) => field(self, 4, Type::Bool),
            _ => self.leaf_const(ty),
        }
    }

    fn leaf_const(&mut self, ty: Type) -> Expr {
        match ty {
            Type::Float => Expr::Float(FLOATS[self.below(FLOATS.len())]),
            Type::Int => Expr::Int(INTS[self.below(INTS.len())]),
            Type::Bool => Expr::Bool(self.below(2) == 0),
        }
    }

    fn expr(&mut self, ty: Type, depth: u32) -> Expr {
        if depth == 0 || self.below(5) == 0 {
            return self.leaf(ty);
        }
        let d = depth - 1;
        // Shared shapes: let, if.
        match self.below(8) {
            0 => {
                let vty = match self.below(3) {
                    0 => Type::Bool,
                    _ => self.numeric(),
                };
                let value = self.expr(vty, d);
                let name = format!("v{}", self.next_name);
                self.next_name += 1;
                self.scope.push((name.clone(), vty));
                let body = self.expr(ty, d);
                self.scope.pop();
                return Expr::let_in(name, value, body);
            }
            1 => {
                let cond = self.expr(Type::Bool, d);
                // A float `if` may mix an int branch, which is promoted.
                let (t1, t2) = match (ty, self.below(3)) {
                    (Type::Float, 0) => (Type::Int, Type::Float),
                    (Type::Float, 1) => (Type::Float, Type::Int),
                    _ => (ty, ty),
                };
                let a = self.expr(t1, d);
                let b = self.expr(t2, d);
                return Expr::if_else(cond, a, b);
            }
            _ => {}
        }
        match ty {
            Type::Float => self.float_expr(d),
            Type::Int => self.int_expr(d),
            Type::Bool => self.bool_expr(d),
        }
    }

    fn float_expr(&mut self, d: u32) -> Expr {
        match self.below(4) {
            0 => {
                let op = [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul][self.below(3)];
                // At least one float operand makes the result float.
                let (ta, tb) = match self.below(3) {
                    0 => (Type::Float, Type::Int),
                    1 => (Type::Int, Type::Float),
                    _ => (Type::Float, Type::Float),
                };
                let (a, b) = (self.expr(ta, d), self.expr(tb, d));
                Expr::binary(op, a, b)
            }
            1 => {
                let (ta, tb) = (self.numeric(), self.numeric());
                let (a, b) = (self.expr(ta, d), self.expr(tb, d));
                Expr::binary(BinaryOp::Div, a, b)
            }
            2 => Expr::unary(UnaryOp::Neg, self.expr(Type::Float, d)),
            _ => {
                let func = Builtin::ALL[self.below(Builtin::ALL.len())];
                let mut args: Vec<Expr> = Vec::new();
                let mut any_float = false;
                for i in 0..func.arity() {
                    let last = i + 1 == func.arity();
                    let t = if last && !any_float && func.preserves_int() { Type::Float } else { self.numeric() };
                    any_float |= t == Type::Float;
                    args.push(self.expr(t, d));
                }
                Expr::call(func, args)
            }
        }
    }

    fn int_expr(&mut self, d: u32) -> Expr {
        match self.below(3) {
            0 => {
                let op = [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Rem][self.below(4)];
                let (a, b) = (self.expr(Type::Int, d), self.expr(Type::Int, d));
                Expr::binary(op, a, b)
            }
            1 => Expr::unary(UnaryOp::Neg, self.expr(Type::Int, d)),
            _ => {
                let func = [Builtin::Abs, Builtin::Min, Builtin::Max, Builtin::Clamp][self.below(4)];
                let args = (0..func.arity()).map(|_| self.expr(Type::Int, d)).collect();
                Expr::call(func, args)
            }
        }
    }

    fn bool_expr(&mut self, d: u32) -> Expr {
        match self.below(4) {
            0 => {
                let op =
                    [BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge][self.below(6)];
                let (ta, tb) = (self.numeric(), self.numeric());
                let (a, b) = (self.expr(ta, d), self.expr(tb, d));
                Expr::binary(op, a, b)
            }
            1 => {
                let op = [BinaryOp::Eq, BinaryOp::Ne][self.below(2)];
                let (a, b) = (self.expr(Type::Bool, d), self.expr(Type::Bool, d));
                Expr::binary(op, a, b)
            }
            2 => Expr::unary(UnaryOp::Not, self.expr(Type::Bool, d)),
            _ => {
                let op = [BinaryOp::And, BinaryOp::Or][self.below(2)];
                let (a, b) = (self.expr(Type::Bool, d), self.expr(Type::Bool, d));
                Expr::binary(op, a, b)
            }
        }
    }
}

fn program(seed: u64) -> RewardIr {
    let mut g = Gen { state: seed, scope: Vec::new(), next_name: 0 };
    let ty = g.numeric();
    RewardIr { name: format!("random_{seed:x}"), fields: fields(), body: g.expr(ty, 5) }
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
        let interp = Interpreter::new(&ir).map_err(|e| TestCaseError::fail(format!("{e}: {ir:?}")))?;
        let sandbox = engine().compile(&ir).map_err(|e| TestCaseError::fail(format!("{e}: {ir:?}")))?;
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
                "row {}: wasm {:e}, interpreter {:e}\nprogram: {:#?}",
                row, got[row], want[row], ir
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
        "NaN",
        "inf",
    ] {
        assert!(text.contains(needle), "generator never produced {needle}");
    }
    for func in Builtin::ALL {
        assert!(text.contains(&format!("{func:?}")), "generator never called {func:?}");
    }
}
