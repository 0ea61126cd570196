//! From a checked `.evo` reward ([`dsl::reward::RewardDef`]) to the sandbox's own IR
//! ([`sandboxes::RewardIr`]), and from either kind of reward to a loaded [`sandboxes::Sandbox`].
//!
//! The two trees say the same things in slightly different ways:
//!
//! - locals: the checker numbers `let`s by slot, the sandbox binds them by name (`s0`, `s1`, ...;
//!   slots are unique within a reward, so shadowing never needs the sandbox's innermost-wins rule);
//! - int → float: the checker makes every conversion an explicit `ToFloat` node, the sandbox
//!   converts implicitly wherever an int meets a float. A `ToFloat` under a parent that converts
//!   anyway (a float operation with a float on the other side, `/`, a float-only builtin, a float
//!   field's default, the reward's result) is dropped; anywhere else, e.g. `abs(n)` whose
//!   argument the checker made float, it becomes `n + 0.0`, which is exactly `n` as a float
//!   (an int never converts to `-0.0`), so the sandbox computes in float like the checker said.
//!
//! After lowering, every node has the type the checker gave it; [`lower`] verifies the result
//! with [`sandboxes::check`].

use std::path::Path;

use dsl::reward::{Builtin as DBuiltin, RExpr, RExprKind, ROp, RType, RewardDef};
use sandboxes::ir::{BinaryOp, Builtin, Expr, UnaryOp};
use sandboxes::{Field, RewardIr, Sandbox, SandboxEngine, SandboxError, Type};

/// Lowers a reward written in `.evo` to sandbox IR. External (`wasm("...")`) rewards have no IR:
/// [`load`] reads them from their file.
pub fn lower(def: &RewardDef) -> Result<RewardIr, String> {
    let RewardDef::Function { name, fields, body, .. } = def else {
        return Err(format!("reward `{}` is an external WebAssembly module; it is loaded, not lowered", name_of(def)));
    };
    let fields = fields.iter().map(|f| Field::new(f.name.clone(), ty(f.ty))).collect();
    let ir = RewardIr { name: name.clone(), fields, body: strip(body)? };
    let found = sandboxes::check(&ir).map_err(|e| format!("reward `{name}` lowered to ill-typed sandbox IR: {e}"))?;
    let expected = if body_is_int(body) { Type::Int } else { Type::Float };
    if found != expected {
        return Err(format!("reward `{name}` lowered to a {found} body, the checker said {expected}"));
    }
    Ok(ir)
}

/// A loaded sandbox for any reward: compiled from its IR, or read from its `.wasm`/`.wat` file
/// (a path relative to the current directory, as the checker resolved it).
pub fn load(engine: &SandboxEngine, def: &RewardDef) -> Result<Sandbox, LoadError> {
    match def {
        RewardDef::Function { .. } => Ok(engine.compile(&lower(def).map_err(LoadError::Lower)?)?),
        RewardDef::External { name, path, .. } => {
            let bytes = std::fs::read(path)
                .map_err(|source| SandboxError::Io { path: Path::new(path).to_path_buf(), source })?;
            Ok(engine.load(name, &bytes)?)
        }
    }
}

/// Why a reward could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// Lowering failed (a bug: the checker and the sandbox disagree on a type).
    Lower(String),
    /// The sandbox refused the module.
    Sandbox(SandboxError),
}

impl From<SandboxError> for LoadError {
    fn from(e: SandboxError) -> Self {
        LoadError::Sandbox(e)
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Lower(msg) => f.write_str(msg),
            LoadError::Sandbox(e) => write!(f, "{e} [{}]", e.code()),
        }
    }
}

fn name_of(def: &RewardDef) -> &str {
    match def {
        RewardDef::Function { name, .. } | RewardDef::External { name, .. } => name,
    }
}

fn ty(t: RType) -> Type {
    match t {
        RType::Int => Type::Int,
        RType::Float => Type::Float,
        RType::Bool => Type::Bool,
    }
}

/// Whether the body, with a top-level `ToFloat` dropped, is an int.
fn body_is_int(body: &RExpr) -> bool {
    match &body.kind {
        RExprKind::ToFloat(inner) => inner.ty == RType::Int,
        _ => body.ty == RType::Int,
    }
}

fn is_to_float(e: &RExpr) -> bool {
    matches!(e.kind, RExprKind::ToFloat(_))
}

/// Lowers `e` where the parent converts an int to float by itself: a `ToFloat` is dropped.
fn strip(e: &RExpr) -> Result<Expr, String> {
    match &e.kind {
        RExprKind::ToFloat(inner) => expr(inner),
        _ => expr(e),
    }
}

/// Lowers `e` keeping its checked type.
fn expr(e: &RExpr) -> Result<Expr, String> {
    let b = |x: &RExpr| expr(x).map(Box::new);
    Ok(match &e.kind {
        RExprKind::Float(v) => Expr::Float(*v),
        RExprKind::Int(v) => Expr::Int(*v),
        RExprKind::Bool(v) => Expr::Bool(*v),
        RExprKind::Field { index, default } => Expr::Field {
            index: u32::try_from(*index).map_err(|_| format!("field index {index} is too large"))?,
            // A float field's int default is converted by the sandbox.
            default: default.as_deref().map(|d| strip(d).map(Box::new)).transpose()?,
        },
        RExprKind::Local(slot) => Expr::Local(local(*slot)),
        RExprKind::Let { slot, value, body } => Expr::Let { name: local(*slot), value: b(value)?, body: b(body)? },
        RExprKind::Neg(a) => Expr::Unary { op: UnaryOp::Neg, arg: b(a)? },
        RExprKind::Not(a) => Expr::Unary { op: UnaryOp::Not, arg: b(a)? },
        // A conversion no parent makes implicitly: `n + 0.0` is exactly `n` as a float.
        RExprKind::ToFloat(a) => Expr::binary(BinaryOp::Add, expr(a)?, Expr::Float(0.0)),
        RExprKind::Binary { op, left, right } => {
            let op = binary_op(*op);
            // `/` converts both sides; other operators convert an int side when the other side
            // stays a float after lowering.
            let (lhs, rhs) = if op == BinaryOp::Div {
                (strip(left)?, strip(right)?)
            } else {
                let [lhs, rhs] = pair(promoted(&[left.as_ref(), right.as_ref()])?)?;
                (lhs, rhs)
            };
            Expr::binary(op, lhs, rhs)
        }
        RExprKind::If { cond, then, otherwise } => {
            let [then, otherwise] = pair(promoted(&[then.as_ref(), otherwise.as_ref()])?)?;
            Expr::if_else(expr(cond)?, then, otherwise)
        }
        RExprKind::Call { f, args } => {
            let func = builtin(*f);
            let args = if func.preserves_int() {
                promoted(&args.iter().collect::<Vec<_>>())?
            } else {
                args.iter().map(strip).collect::<Result<Vec<_>, _>>()?
            };
            Expr::call(func, args)
        }
    })
}

/// Lowers operands the sandbox promotes together (to float as soon as one is a float): each
/// `ToFloat` is dropped, unless every operand is one — then the first stays an explicit
/// conversion, so the operation still happens in float.
fn promoted(operands: &[&RExpr]) -> Result<Vec<Expr>, String> {
    let all_converted = operands.iter().all(|o| is_to_float(o));
    operands.iter().enumerate().map(|(i, o)| if all_converted && i == 0 { expr(o) } else { strip(o) }).collect()
}

fn pair(v: Vec<Expr>) -> Result<[Expr; 2], String> {
    let n = v.len();
    v.try_into().map_err(|_| format!("expected 2 operands, found {n}"))
}

fn local(slot: usize) -> String {
    format!("s{slot}")
}

fn binary_op(op: ROp) -> BinaryOp {
    match op {
        ROp::Add => BinaryOp::Add,
        ROp::Sub => BinaryOp::Sub,
        ROp::Mul => BinaryOp::Mul,
        ROp::Div => BinaryOp::Div,
        ROp::Rem => BinaryOp::Rem,
        ROp::Eq => BinaryOp::Eq,
        ROp::Ne => BinaryOp::Ne,
        ROp::Lt => BinaryOp::Lt,
        ROp::Le => BinaryOp::Le,
        ROp::Gt => BinaryOp::Gt,
        ROp::Ge => BinaryOp::Ge,
        ROp::And => BinaryOp::And,
        ROp::Or => BinaryOp::Or,
    }
}

fn builtin(f: DBuiltin) -> Builtin {
    match f {
        DBuiltin::Log => Builtin::Log,
        DBuiltin::Log1p => Builtin::Log1p,
        DBuiltin::Exp => Builtin::Exp,
        DBuiltin::Sqrt => Builtin::Sqrt,
        DBuiltin::Abs => Builtin::Abs,
        DBuiltin::Min => Builtin::Min,
        DBuiltin::Max => Builtin::Max,
        DBuiltin::Clamp => Builtin::Clamp,
        DBuiltin::Pow => Builtin::Pow,
        DBuiltin::Sigmoid => Builtin::Sigmoid,
        DBuiltin::Tanh => Builtin::Tanh,
        DBuiltin::Floor => Builtin::Floor,
        DBuiltin::Ceil => Builtin::Ceil,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sandboxes::interp::Interpreter;
    use sandboxes::{Columns, Limits};

    /// Imports are not needed; declared data files "exist".
    struct NoFiles;

    impl dsl::Loader for NoFiles {
        fn read(&self, path: &str) -> Result<String, String> {
            Err(format!("no file `{path}` in this test"))
        }

        fn exists(&self, _: &str) -> bool {
            true
        }
    }

    /// The checked reward `name` of the program `src`.
    pub(crate) fn checked(src: &str, name: &str) -> RewardDef {
        match dsl::check("main.evo", src, &NoFiles, &[]).result {
            Ok(program) => program.rewards.get(name).cloned().unwrap_or_else(|| panic!("no reward `{name}`")),
            Err(diags) => panic!("{src}\ndoes not check: {diags:#?}"),
        }
    }

    /// Rewards from the compiled sandbox, after checking they equal the interpreter's bit for bit.
    fn score(def: &RewardDef, columns: &Columns<'_>) -> Vec<f64> {
        let ir = lower(def).unwrap();
        let sandbox = SandboxEngine::new(Limits::default()).unwrap().compile(&ir).unwrap();
        let mut out = Vec::new();
        sandbox.run(columns, &mut out).unwrap();
        let reference = Interpreter::new(&ir).unwrap().run(columns).unwrap();
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
        let ir = lower(&def).unwrap();
        assert!(format!("{:?}", ir.body).contains("Float(0.0)"), "an explicit conversion: {:?}", ir.body);
        let a = [i64::MIN, -5, 10];
        let got = score(&def, &Columns::new().with("a", &a[..]));
        assert_rewards(&got, &[9_223_372_036_854_775_808.0, 5.0, 23.0]);
    }

    #[test]
    fn int_bodies_wrap_then_convert() {
        let def = checked(&format!("{EVENTS}reward c(e: d) -> float {{\n  e.a * 2 + 1\n}}\n"), "c");
        let ir = lower(&def).unwrap();
        assert_eq!(sandboxes::check(&ir).unwrap(), Type::Int);
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
        let watch: Vec<f64> =
            (0..n)
                .map(|i| {
                    if i % 17 == 0 {
                        specials[i / 17 % specials.len()]
                    } else {
                        (next() % 100_000) as f64 / 77.0 - 50.0
                    }
                })
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
    fn external_rewards_are_loaded_not_lowered() {
        let def = RewardDef::External { name: "ext".into(), path: "nowhere/ext.wat".into(), source: String::new() };
        assert!(lower(&def).unwrap_err().contains("external WebAssembly module"));
        let engine = SandboxEngine::new(Limits::default()).unwrap();
        let err = load(&engine, &def).unwrap_err().to_string();
        assert!(err.starts_with("nowhere/ext.wat: ") && err.ends_with("[sandbox::io]"), "{err}");
    }
}
