//! A delta: edits to named blocks of the baseline workflow, never a whole program.
//!
//! ```json
//! [{"op": "replace", "block": "gated", "source": "model gated { ... }"},
//!  {"op": "set", "block": "opt", "args": {"lr": 0.05, "schedule": "cosine"}}]
//! ```
//! A single edit may stand for a list of one. See grammar/README.md, "Proposals and deltas".

use serde::{Deserialize, Serialize};

/// One edit of one named block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Replaces the block `block` with `source`, a whole declaration of the same kind and name.
    Replace { block: String, source: String },
    /// Sets (or adds) named arguments of the call that defines `block` (an optimizer, or a
    /// `let` step call); values are JSON scalars: numbers, strings, booleans.
    Set { block: String, args: serde_json::Map<String, serde_json::Value> },
}

impl Edit {
    /// The name of the block this edit changes.
    pub fn block(&self) -> &str {
        match self {
            Edit::Replace { block, .. } | Edit::Set { block, .. } => block,
        }
    }

    /// `replace` or `set`.
    pub fn op(&self) -> &'static str {
        match self {
            Edit::Replace { .. } => "replace",
            Edit::Set { .. } => "set",
        }
    }
}

/// The edits of one proposal, applied in order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Delta {
    pub edits: Vec<Edit>,
}

impl Delta {
    /// A delta of one edit.
    pub fn one(edit: Edit) -> Delta {
        Delta { edits: vec![edit] }
    }

    /// A delta replacing `block` with `source`.
    pub fn replace(block: impl Into<String>, source: impl Into<String>) -> Delta {
        Delta::one(Edit::Replace { block: block.into(), source: source.into() })
    }

    /// A delta setting arguments of `block`'s call.
    pub fn set(block: impl Into<String>, args: serde_json::Value) -> Delta {
        let args = match args {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        Delta::one(Edit::Set { block: block.into(), args })
    }
}

impl<'de> Deserialize<'de> for Delta {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Models often send one edit where a list of one is meant; both mean the same.
        let value = serde_json::Value::deserialize(deserializer)?;
        let edits = match value {
            serde_json::Value::Array(_) => {
                serde_json::from_value::<Vec<Edit>>(value).map_err(serde::de::Error::custom)?
            }
            serde_json::Value::Object(_) => {
                vec![serde_json::from_value::<Edit>(value).map_err(serde::de::Error::custom)?]
            }
            other => {
                return Err(serde::de::Error::custom(format!(
                    "a delta is an edit object or a list of them, not {}",
                    json_kind(&other)
                )));
            }
        };
        if edits.is_empty() {
            return Err(serde::de::Error::custom("a delta needs at least one edit"));
        }
        Ok(Delta { edits })
    }
}

/// "a string", "a number", ...: how a JSON value is named in error messages.
pub(crate) fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}
