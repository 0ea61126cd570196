//! Persona scope: each persona edits only its own kind of block.

mod common;

use agents::{apply_as, Delta, VerifyKind};
use common::{baseline, LOCAL};
use serde_json::json;

#[test]
fn a_persona_edits_its_own_kind_of_block() {
    let b = baseline(LOCAL);
    let optimizer = b.persona("optimizer").unwrap();
    assert!(apply_as(&b, &optimizer, &Delta::set("opt", json!({"lr": 0.01}))).is_ok());
}

#[test]
fn an_edit_outside_the_personas_scope_is_rejected_with_the_reason() {
    let b = baseline(LOCAL);
    let cases = [
        (
            "optimizer",
            Delta::replace(
                "mlp",
                "model mlp {\n  input user: id, item: id\n  score = dot(embed(user, 8), embed(item, 8))\n}",
            ),
        ),
        ("architecture", Delta::set("opt", json!({"lr": 0.01}))),
        ("reward", Delta::set("split", json!({"seed": 8}))),
    ];
    let mut messages = Vec::new();
    for (persona, delta) in cases {
        let p = b.persona(persona).unwrap();
        let e = apply_as(&b, &p, &delta).unwrap_err();
        assert_eq!(e.kind, VerifyKind::Scope);
        messages.push(e.message);
    }
    insta::assert_snapshot!(messages.join("\n"));
}

#[test]
fn one_out_of_scope_edit_rejects_the_whole_delta() {
    let b = baseline(LOCAL);
    let delta: Delta = serde_json::from_value(json!([
        {"op": "set", "block": "opt", "args": {"lr": 0.01}},
        {"op": "replace", "block": "engaged", "source": "reward engaged(e: events) -> float {\n  log1p(e.watch_seconds)\n}"}
    ]))
    .unwrap();
    let e = apply_as(&b, &b.persona("optimizer").unwrap(), &delta).unwrap_err();
    assert_eq!(e.kind, VerifyKind::Scope);
}
