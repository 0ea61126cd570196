//! The sandbox's gate: a reward tree the dsl's checker produced passes; a hand-built tree whose
//! types do not follow the rules gets a precise error (never a panic), and the compiler and the
//! interpreter refuse it too.

use dsl::reward::{Builtin, RExpr, RExprKind, RField, ROp, RType, RewardFn};
use sandboxes::{check, IrError};

fn node(kind: RExprKind, ty: RType) -> RExpr {
    RExpr { kind, ty, span: Default::default() }
}

fn float(v: f64) -> RExpr {
    node(RExprKind::Float(v), RType::Float)
}

fn int(v: i64) -> RExpr {
    node(RExprKind::Int(v), RType::Int)
}

/// Field `index` of `reward`'s fields (`x: float`, `n: int`, `ok: bool`), typed as declared.
fn field(index: usize) -> RExpr {
    let ty = [RType::Float, RType::Int, RType::Bool].get(index).copied().unwrap_or(RType::Float);
    node(RExprKind::Field { index, default: None }, ty)
}

fn binary(op: ROp, left: RExpr, right: RExpr, ty: RType) -> RExpr {
    node(RExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, ty)
}

fn reward(body: RExpr, locals: usize) -> RewardFn {
    RewardFn {
        name: "r".into(),
        fields: vec![RField::new("x", RType::Float), RField::new("n", RType::Int), RField::new("ok", RType::Bool)],
        locals,
        body,
    }
}

/// The reason `body` is refused; the compiler and the interpreter give the same one.
fn err(body: RExpr, locals: usize) -> String {
    let r = reward(body, locals);
    let e = check(&r).expect_err("must not pass the check");
    assert_eq!(sandboxes::compile::compile(&r).expect_err("the compiler must refuse too"), e);
    assert_eq!(sandboxes::interp::Interpreter::new(&r).expect_err("the interpreter must refuse too"), e);
    e.to_string()
}

#[test]
fn what_the_dsl_checker_produces_passes() {
    let src = "dataset d = \"d.csv\" { x: float, n: int, ok: bool }\n\
               reward r(e: d) -> float {\n  let a = clamp(e.x, 0, 1.0)\n  let k = e.n % 3 + (e.n ?? 2)\n  \
               let a = if e.ok && k != 0 { a } else { -1 }\n  a / k + (if !e.ok { k } else { 1 }) + log(e.x ?? 1)\n}\n";
    check(&testdata::reward_fn(src, "r")).unwrap();
}

#[test]
fn ill_typed_trees_are_rejected_with_the_reason() {
    use RType::*;
    let to_float = |e: RExpr| node(RExprKind::ToFloat(Box::new(e)), Float);
    assert!(err(field(2), 0).contains("the reward's result expects float, found bool"));
    assert!(err(field(1), 0).contains("the reward's result expects float, found int"));
    assert!(
        err(node(RExprKind::Float(1.0), Int), 0).contains("the result of a float constant expects float, found int")
    );
    assert!(err(binary(ROp::Rem, field(0), float(2.0), Float), 0).contains("`%` expects int, found float"));
    assert!(err(binary(ROp::Add, field(0), int(1), Float), 0).contains("`+` expects float, found int"));
    assert!(err(binary(ROp::Add, field(2), field(2), Float), 0).contains("`+` expects int or float, found bool"));
    assert!(err(binary(ROp::Div, to_float(field(1)), float(2.0), Int), 0).contains("the result of `/` expects float"));
    let cond_int = node(
        RExprKind::If { cond: Box::new(field(1)), then: Box::new(float(1.0)), otherwise: Box::new(float(2.0)) },
        Float,
    );
    assert!(err(cond_int, 0).contains("condition of `if` expects bool, found int"));
    let branches = node(
        RExprKind::If { cond: Box::new(field(2)), then: Box::new(float(1.0)), otherwise: Box::new(int(2)) },
        Float,
    );
    assert!(err(branches, 0).contains("the `else` branch expects float, found int"));
    assert!(err(to_float(node(RExprKind::Not(Box::new(int(1))), Bool)), 0).contains("`!` expects bool, found int"));
    assert!(err(to_float(to_float(float(1.0))), 0).contains("a conversion to float expects int, found float"));
    let pow = node(RExprKind::Call { f: Builtin::Pow, args: vec![float(1.0)] }, Float);
    assert!(err(pow, 0).contains("`pow` takes 2 arguments, found 1"));
    // Builtins take floats: an int argument must arrive converted.
    let sqrt = node(RExprKind::Call { f: Builtin::Sqrt, args: vec![int(4)] }, Float);
    assert!(err(sqrt, 0).contains("`sqrt` expects float, found int"));
    assert!(err(field(7), 0).contains("reads field #7 but declares only 3 fields"));
    assert!(err(node(RExprKind::Local(0), Float), 1).contains("reads local #0 outside its `let`"));
    let default = node(RExprKind::Field { index: 1, default: Some(Box::new(float(1.0))) }, Int);
    assert!(err(to_float(default), 0).contains("default of field `n` expects int, found float"));
    // A local is not visible outside its `let`, and a slot is bound once.
    let let_a =
        |body: RExpr| node(RExprKind::Let { slot: 0, value: Box::new(float(1.0)), body: Box::new(body) }, Float);
    let escaped = binary(ROp::Add, let_a(node(RExprKind::Local(0), Float)), node(RExprKind::Local(0), Float), Float);
    assert!(err(escaped, 1).contains("reads local #0 outside its `let`"));
    assert!(err(let_a(let_a(float(0.0))), 1).contains("binds local #0 twice or past its count"));
    assert!(err(let_a(float(0.0)), 0).contains("binds local #0 twice or past its count"));
}

#[test]
fn bad_field_names_are_rejected() {
    let mut bad = reward(float(1.0), 0);
    bad.fields.push(RField::new("x", RType::Int));
    assert!(matches!(check(&bad), Err(IrError::FieldName { problem: "declared twice", .. })));
    bad.fields.pop();
    bad.fields.push(RField::new("has,comma", RType::Int));
    assert!(matches!(check(&bad), Err(IrError::FieldName { problem: "not an identifier", .. })));
}

#[test]
fn absurd_nesting_is_an_error_not_a_stack_overflow() {
    let mut e = float(1.0);
    for _ in 0..100_000 {
        e = node(RExprKind::Neg(Box::new(e)), RType::Float);
    }
    let r = reward(e, 0);
    assert!(matches!(check(&r), Err(IrError::TooDeep { .. })));
    // Dropping a 100k-deep Box chain recurses too; leak it rather than test the allocator.
    std::mem::forget(r);
}
