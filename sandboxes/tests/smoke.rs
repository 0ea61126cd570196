use sandboxes::ir::{BinaryOp, Builtin, Expr};
use sandboxes::{Columns, Field, Limits, RewardIr, SandboxEngine, Type};

#[test]
fn satisfied_reward_runs() {
    let ir = RewardIr {
        name: "satisfied".into(),
        fields: vec![Field::new("rating", Type::Float), Field::new("watch_seconds", Type::Float)],
        body: Expr::let_in(
            "long_watch",
            Expr::if_else(
                Expr::binary(BinaryOp::Ge, Expr::field(0), Expr::Float(4.0)),
                Expr::Float(1.0),
                Expr::Float(0.0),
            ),
            Expr::binary(
                BinaryOp::Add,
                Expr::local("long_watch"),
                Expr::binary(
                    BinaryOp::Mul,
                    Expr::Float(0.1),
                    Expr::call(Builtin::Log1p, vec![Expr::field_or(1, Expr::Float(0.0))]),
                ),
            ),
        ),
    };
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
