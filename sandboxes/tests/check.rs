//! The IR type checker: well-typed programs get their type, ill-typed ones a precise error
//! (never a panic), and the compiler refuses them too.

use sandboxes::ir::{check, BinaryOp, Builtin, Expr, UnaryOp};
use sandboxes::{Field, IrError, RewardIr, Type};

fn ir(body: Expr) -> RewardIr {
    RewardIr {
        name: "r".into(),
        fields: vec![Field::new("x", Type::Float), Field::new("n", Type::Int), Field::new("ok", Type::Bool)],
        body,
    }
}

fn err(body: Expr) -> String {
    let ir = ir(body);
    let e = check(&ir).expect_err("must not type-check");
    let compiled = sandboxes::compile::compile(&ir).expect_err("compiler must refuse too");
    assert_eq!(e, compiled);
    e.to_string()
}

#[test]
fn well_typed_programs_have_their_type() {
    let int_sum = Expr::binary(BinaryOp::Add, Expr::field(1), Expr::Int(2));
    assert_eq!(check(&ir(int_sum)), Ok(Type::Int));
    let mixed = Expr::binary(BinaryOp::Add, Expr::field(1), Expr::Float(2.0));
    assert_eq!(check(&ir(mixed)), Ok(Type::Float));
    let div = Expr::binary(BinaryOp::Div, Expr::Int(1), Expr::Int(2));
    assert_eq!(check(&ir(div)), Ok(Type::Float));
    let int_max = Expr::call(Builtin::Max, vec![Expr::field(1), Expr::Int(0)]);
    assert_eq!(check(&ir(int_max)), Ok(Type::Int));
    let log_of_int = Expr::call(Builtin::Log, vec![Expr::field(1)]);
    assert_eq!(check(&ir(log_of_int)), Ok(Type::Float));
    let branches = Expr::if_else(Expr::field(2), Expr::Int(1), Expr::Float(0.5));
    assert_eq!(check(&ir(branches)), Ok(Type::Float));
    let defaulted = Expr::field_or(0, Expr::Int(3));
    assert_eq!(check(&ir(defaulted)), Ok(Type::Float));
}

#[test]
fn ill_typed_programs_are_rejected_with_the_reason() {
    assert!(err(Expr::field(2)).contains("the reward's result expects float or int, found bool"));
    assert!(err(Expr::binary(BinaryOp::Rem, Expr::field(0), Expr::Int(2))).contains("`%` expects int, found float"));
    assert!(
        err(Expr::binary(BinaryOp::Add, Expr::field(2), Expr::Int(1))).contains("`+` expects int or float, found bool")
    );
    assert!(err(Expr::if_else(Expr::field(1), Expr::Int(1), Expr::Int(2)))
        .contains("condition of `if` expects bool, found int"));
    assert!(err(Expr::if_else(Expr::field(2), Expr::Bool(true), Expr::Int(2))).contains("a branch of `if`"));
    assert!(err(Expr::unary(UnaryOp::Not, Expr::Int(1))).contains("`!` expects bool"));
    assert!(err(Expr::binary(BinaryOp::Eq, Expr::field(2), Expr::Int(1))).contains("`==` expects bool, found int"));
    assert!(err(Expr::call(Builtin::Pow, vec![Expr::Float(1.0)])).contains("`pow` takes 2 arguments, found 1"));
    assert!(err(Expr::call(Builtin::Sqrt, vec![Expr::Bool(true)])).contains("`sqrt` expects int or float, found bool"));
    assert!(err(Expr::field(7)).contains("reads field #7 but declares only 3 fields"));
    assert!(err(Expr::local("nope")).contains("unbound local `nope`"));
    assert!(err(Expr::field_or(1, Expr::Float(1.0))).contains("default of field `n` expects int, found float"));
    // A local is not visible outside its `let`.
    let escaped = Expr::binary(BinaryOp::Add, Expr::let_in("a", Expr::Int(1), Expr::local("a")), Expr::local("a"));
    assert!(err(escaped).contains("unbound local `a`"));
}

#[test]
fn bad_field_names_are_rejected() {
    let mut bad = ir(Expr::Int(1));
    bad.fields.push(Field::new("x", Type::Int));
    assert!(matches!(check(&bad), Err(IrError::FieldName { problem: "declared twice", .. })));
    bad.fields.pop();
    bad.fields.push(Field::new("has,comma", Type::Int));
    assert!(matches!(check(&bad), Err(IrError::FieldName { problem: "not an identifier", .. })));
}

#[test]
fn absurd_nesting_is_an_error_not_a_stack_overflow() {
    let mut e = Expr::Float(1.0);
    for _ in 0..100_000 {
        e = Expr::unary(UnaryOp::Neg, e);
    }
    let r = ir(e);
    assert!(matches!(check(&r), Err(IrError::TooDeep { .. })));
    // Dropping a 100k-deep Box chain recurses too; leak it rather than test the allocator.
    std::mem::forget(r);
}

#[test]
fn ir_round_trips_through_json() {
    let original = ir(Expr::let_in(
        "a",
        Expr::call(Builtin::Clamp, vec![Expr::field(0), Expr::Int(0), Expr::Float(1.0)]),
        Expr::if_else(Expr::field(2), Expr::local("a"), Expr::Float(-1.0)),
    ));
    let json = serde_json::to_string(&original).unwrap();
    let back: RewardIr = serde_json::from_str(&json).unwrap();
    assert_eq!(back, original);
}
