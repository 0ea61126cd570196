//! Duplicate detection: a delta's key is a hash of what it does, not of how it is written.
//! The key hashes the normal form of each edited block of the resulting program: a model's
//! operations and shapes (not its local names or layout), an optimizer's resolved constructor
//! and arguments (sorted, with those that cannot change the training put in one form), a reward's
//! typed expression (not its text). So the same change written with other whitespace, comments,
//! argument order or local names — or an optimizer that trains the same way under another
//! spelling — is one key.

use std::collections::HashSet;

use dsl::types::Value;
use dsl::Program;
use serde::{Deserialize, Serialize};

use crate::block::BlockKind;

/// The key of a delta's effect: a blake3 hex digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeltaKey(pub String);

impl DeltaKey {
    /// The key of edited blocks given as `(kind, name, normal form)`; their order does not matter.
    pub fn of(forms: &[(Option<BlockKind>, String, String)]) -> DeltaKey {
        let mut sorted: Vec<&(Option<BlockKind>, String, String)> = forms.iter().collect();
        sorted.sort_by(|a, b| a.1.cmp(&b.1));
        let mut hasher = blake3::Hasher::new();
        for (kind, name, form) in sorted {
            for part in [kind.map_or("step", BlockKind::keyword), name, form] {
                hasher.update(part.as_bytes());
                hasher.update(&[0]);
            }
        }
        DeltaKey(hasher.finalize().to_hex().to_string())
    }

    /// The first 12 hex digits, for logs and prompts.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

impl std::fmt::Display for DeltaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `key` was seen before.
pub fn is_duplicate(key: &DeltaKey, seen: &HashSet<DeltaKey>) -> bool {
    seen.contains(key)
}

/// The normal form of the program's block `qualified` (`kind` none: a step call).
pub(crate) fn normal_form(program: &Program, kind: Option<BlockKind>, qualified: &str) -> Option<String> {
    let json = match kind {
        Some(BlockKind::Model) => {
            let m = program.models.get(qualified)?;
            let ops: Vec<_> = m.nodes.iter().map(|n| (&n.op, &n.shape)).collect();
            serde_json::to_string(&(ops, m.output))
        }
        Some(BlockKind::Optimizer) => serde_json::to_string(&trains_as(&program.optimizers.get(qualified)?.value)),
        Some(BlockKind::Reward) => match program.rewards.get(qualified)? {
            dsl::reward::RewardDef::Function { dataset, function, .. } => {
                serde_json::to_string(&(dataset, &function.fields, &function.body))
            }
            dsl::reward::RewardDef::External { path, .. } => serde_json::to_string(path),
        },
        None => {
            let node = program.nodes.get(qualified)?;
            serde_json::to_string(&(&node.step, &node.args))
        }
    };
    json.ok()
}

/// An optimizer value in the one form of everything that trains the same way: `adamw` without
/// weight decay is `adam`, `sampled_softmax` is `softmax`, a loss's usual number of negatives is
/// the default (0), and only a softmax's temperature is kept (a pairwise loss learns its scale,
/// a squared one has none to scale). The numbers themselves stay as written.
fn trains_as(value: &Value) -> Value {
    let Value::Object { ctor, args } = value else {
        return value.clone();
    };
    let mut args = args.clone();
    let zero = |v: Option<&Value>| v.and_then(Value::as_f64).is_none_or(|x| x == 0.0);
    let ctor = if ctor == "adamw" && zero(args.get("weight_decay")) { "adam".to_string() } else { ctor.clone() };
    let loss = match args.get("loss") {
        Some(Value::Str(l)) if l == "sampled_softmax" => Some("softmax".to_string()),
        Some(Value::Str(l)) => Some(l.clone()),
        _ => None,
    };
    if let Some(l) = &loss {
        args.insert("loss".into(), Value::Str(l.clone()));
        if args.get("negatives").and_then(Value::as_f64) == Some(dsl::builtins::usual_negatives(l) as f64) {
            args.insert("negatives".into(), Value::Int(0));
        }
        if l != "softmax" {
            args.insert("temperature".into(), Value::Float(1.0));
        }
    }
    Value::Object { ctor, args }
}
