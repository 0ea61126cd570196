//! Duplicate detection: one key per effect, however the delta is written.

mod common;

use std::collections::HashSet;

use agents::{apply, is_duplicate, Delta};
use common::{baseline, LOCAL};
use serde_json::json;

#[test]
fn the_same_model_written_differently_is_one_key() {
    let b = baseline(LOCAL);
    let a = "model mlp {\n  input user: id, item: id\n  x = concat(embed(user, 16), embed(item, 16))\n  h = relu(dense(x, 64))\n  score = dense(h, 1)\n}";
    let other_layout = "model mlp {\n  input user: id,   item: id\n  # the features\n  feats = concat(embed(user, 16),\n                 embed(item, 16))\n  score = dense(relu(dense(feats, 64)), 1)  # inline\n}";
    let ka = apply(&b, &Delta::replace("mlp", a)).unwrap().key;
    let kb = apply(&b, &Delta::replace("mlp", other_layout)).unwrap().key;
    assert_eq!(ka, kb);
    let seen: HashSet<_> = [ka.clone()].into();
    assert!(is_duplicate(&kb, &seen));
}

#[test]
fn a_set_and_the_equivalent_replace_are_one_key() {
    let b = baseline(LOCAL);
    let set = apply(&b, &Delta::set("opt", json!({"lr": 0.01}))).unwrap().key;
    let replace = apply(&b, &Delta::replace("opt", "optimizer opt = adam(weight_decay: 1e-6, lr: 1e-2)")).unwrap().key;
    assert_eq!(set, replace);
}

#[test]
fn a_reward_with_other_local_names_and_comments_is_one_key() {
    let b = baseline(LOCAL);
    let a = "reward engaged(e: events) -> float {\n  let liked = if e.like { 1.0 } else { 0.0 }\n  0.5 * log1p(e.watch_seconds) + liked\n}";
    let c = "reward engaged(e: events) -> float {\n  # explicit signal\n  let l = if e.like { 1.0 } else { 0.0 }\n  0.5 * log1p(e.watch_seconds) + l\n}";
    assert_eq!(
        apply(&b, &Delta::replace("engaged", a)).unwrap().key,
        apply(&b, &Delta::replace("engaged", c)).unwrap().key
    );
}

#[test]
fn different_changes_are_different_keys() {
    let b = baseline(LOCAL);
    let keys: HashSet<_> =
        [json!({"lr": 0.01}), json!({"lr": 0.02}), json!({"clip": 1.0}), json!({"schedule": "cosine"})]
            .into_iter()
            .map(|args| apply(&b, &Delta::set("opt", args)).unwrap().key)
            .collect();
    assert_eq!(keys.len(), 4);
}

#[test]
fn optimizers_that_train_the_same_way_are_one_key() {
    let b = baseline(LOCAL);
    let key = |src: &str| apply(&b, &Delta::replace("opt", src)).unwrap().key;
    // AdamW without weight decay is Adam: the decoupled decay is all that differs.
    assert_eq!(key("optimizer opt = adamw(lr: 0.01)"), key("optimizer opt = adam(lr: 0.01)"));
    assert_eq!(key("optimizer opt = adamw(lr: 0.01, weight_decay: 0)"), key("optimizer opt = adam(lr: 0.01)"));
    assert_ne!(
        key("optimizer opt = adamw(lr: 0.01, weight_decay: 0.1)"),
        key("optimizer opt = adam(lr: 0.01, weight_decay: 0.1)")
    );
    // A loss's usual number of negatives, said or not, and its other spelling.
    assert_eq!(
        key("optimizer opt = adam(lr: 0.01, loss: \"softmax\", negatives: 64)"),
        key("optimizer opt = adam(lr: 0.01, loss: \"sampled_softmax\")")
    );
    assert_eq!(
        key("optimizer opt = adam(lr: 0.01, loss: \"bpr\", negatives: 1)"),
        key("optimizer opt = adam(lr: 0.01, loss: \"bpr\")")
    );
    assert_ne!(
        key("optimizer opt = adam(lr: 0.01, loss: \"bpr\", negatives: 4)"),
        key("optimizer opt = adam(lr: 0.01, loss: \"bpr\")")
    );
    // A pairwise or squared loss has no temperature to speak of... but a softmax does.
    assert_eq!(
        key("optimizer opt = adam(lr: 0.01, loss: \"mse\", temperature: 0.2)"),
        key("optimizer opt = adam(lr: 0.01, loss: \"mse\")")
    );
    assert_ne!(
        key("optimizer opt = adam(lr: 0.01, loss: \"softmax\", temperature: 0.2)"),
        key("optimizer opt = adam(lr: 0.01, loss: \"softmax\")")
    );
}
