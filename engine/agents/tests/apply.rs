//! Applying deltas: splice into the source, then Verify with the whole compiler.

mod common;

use agents::{apply, BlockKind, Delta, VerifyKind};
use common::{baseline, workflow_with_std_model, LOCAL};
use serde_json::json;

#[test]
fn the_baseline_names_its_evolved_blocks() {
    let b = baseline(LOCAL);
    assert_eq!(b.block(BlockKind::Model), Some("mlp"));
    assert_eq!(b.block(BlockKind::Optimizer), Some("opt"));
    assert_eq!(b.block(BlockKind::Reward), Some("engaged"));
}

#[test]
fn replacing_a_model_block_keeps_the_rest_of_the_file() {
    let b = baseline(LOCAL);
    let new = "model mlp {\n  input user: id, item: id\n  x = concat(embed(user, 16), embed(item, 16))\n  h = relu(dense(x, 64))\n  score = dense(dense(h, 16) * sigmoid(dense(h, 16)), 1)\n}";
    let c = apply(&b, &Delta::replace("mlp", new)).unwrap();
    assert!(c.source.contains(new));
    assert!(c.source.contains("# A small MLP over two embeddings."), "comments outside the block stay");
    assert_eq!(
        c.program.models["mlp"].nodes.iter().filter(|n| matches!(n.op, dsl::shape::TensorOp::Dense { .. })).count(),
        4
    );
}

#[test]
fn replacing_an_imported_stdlib_model_declares_it_in_the_workflow() {
    let b = baseline(&workflow_with_std_model("dcn_v2"));
    assert_eq!(b.block(BlockKind::Model), Some("dcn_v2"));
    let new = "model dcn_v2 {\n  input user: id, item: id\n  x0 = concat(embed(user, 16), embed(item, 16))\n  score = dense(cross(x0, x0), 1)\n}";
    let c = apply(&b, &Delta::replace("dcn_v2", new)).unwrap();
    assert!(!c.source.contains("use std::models"), "the import is dropped:\n{}", c.source);
    assert!(c.program.models.contains_key("dcn_v2"));
    assert!(!c.program.models.contains_key("std::models::dcn_v2"));
}

#[test]
fn setting_optimizer_arguments_changes_and_adds_them() {
    let b = baseline(LOCAL);
    let c = apply(&b, &Delta::set("opt", json!({"lr": 0.05, "clip": 1.0, "schedule": "cosine"}))).unwrap();
    assert!(
        c.source.contains("optimizer opt = adam(lr: 0.05, weight_decay: 1e-6, clip: 1.0, schedule: \"cosine\")"),
        "{}",
        c.source
    );
}

#[test]
fn several_edits_apply_in_order() {
    let b = baseline(LOCAL);
    let delta: Delta = serde_json::from_value(json!([
        {"op": "replace", "block": "opt", "source": "optimizer opt = sgd(lr: 0.01)"},
        {"op": "set", "block": "opt", "args": {"momentum": 0.9}}
    ]))
    .unwrap();
    let c = apply(&b, &delta).unwrap();
    assert!(c.source.contains("optimizer opt = sgd(lr: 0.01, momentum: 0.9)"), "{}", c.source);
}

#[test]
fn a_shape_error_comes_back_as_the_compilers_diagnostic() {
    let b = baseline(LOCAL);
    let bad = "model mlp {\n  input user: id, item: id\n  score = embed(user, 8) * embed(item, 16)\n}";
    let e = apply(&b, &Delta::replace("mlp", bad)).unwrap_err();
    assert_eq!(e.kind, VerifyKind::Compile);
    insta::assert_snapshot!(e.message);
}

#[test]
fn a_reward_type_error_is_reported() {
    let b = baseline(LOCAL);
    let bad = "reward engaged(e: events) -> float {\n  e.watchtime + 1.0\n}";
    let e = apply(&b, &Delta::replace("engaged", bad)).unwrap_err();
    assert_eq!(e.kind, VerifyKind::Compile);
    assert!(e.message.contains("E0501"), "{}", e.message);
}

#[test]
fn a_syntax_error_points_into_the_replacement() {
    let b = baseline(LOCAL);
    let e = apply(&b, &Delta::replace("opt", "optimizer opt = adam(lr: )")).unwrap_err();
    assert_eq!(e.kind, VerifyKind::Compile);
    insta::assert_snapshot!(e.message);
}

#[test]
fn malformed_deltas_say_what_is_wrong() {
    let b = baseline(LOCAL);
    let cases = [
        Delta::replace("mpl", "model mpl { input user: id\n score = sum(embed(user, 4)) }"),
        Delta::replace("mlp", "model other {\n  input user: id\n  score = sum(embed(user, 4))\n}"),
        Delta::replace("mlp", "optimizer mlp = adam()"),
        Delta::replace("opt", "optimizer opt = adam()\noptimizer more = sgd()"),
        Delta::set("mlp", json!({"width": 3})),
        Delta::set("opt", json!({"lr": [1, 2]})),
        Delta::replace("split", "let split = 3"),
    ];
    let messages: Vec<String> = cases
        .iter()
        .map(|d| {
            let e = apply(&b, d).unwrap_err();
            assert_eq!(e.kind, VerifyKind::Delta, "{e}");
            e.message
        })
        .collect();
    insta::assert_snapshot!(messages.join("\n"));
}

#[test]
fn a_delta_that_changes_nothing_is_rejected() {
    let b = baseline(LOCAL);
    let e = apply(&b, &Delta::set("opt", json!({"lr": 0.001}))).unwrap_err();
    assert_eq!(e.kind, VerifyKind::NoChange, "{e}");
}

#[test]
fn an_unknown_argument_is_the_checkers_error() {
    let b = baseline(LOCAL);
    let e = apply(&b, &Delta::set("opt", json!({"learning_rate": 0.1}))).unwrap_err();
    assert_eq!(e.kind, VerifyKind::Compile);
    assert!(e.message.contains("has no argument `learning_rate`"), "{}", e.message);
}
