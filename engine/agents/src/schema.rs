//! The output schema as JSON Schema values, for prompts and for LLM tool / response-format specs.

use serde_json::{json, Value};

/// The JSON Schema of one edit.
pub fn edit_schema() -> Value {
    json!({
        "oneOf": [
            {
                "type": "object",
                "description": "Replace a block with a new declaration of the same kind and name.",
                "properties": {
                    "op": {"const": "replace"},
                    "block": {"type": "string", "description": "The block's name in the baseline."},
                    "source": {"type": "string", "description": "The whole new declaration, in .evo."}
                },
                "required": ["op", "block", "source"],
                "additionalProperties": false
            },
            {
                "type": "object",
                "description": "Set or add named arguments of an optimizer (or step) call.",
                "properties": {
                    "op": {"const": "set"},
                    "block": {"type": "string", "description": "The block's name in the baseline."},
                    "args": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {"type": ["number", "string", "boolean"]}
                    }
                },
                "required": ["op", "block", "args"],
                "additionalProperties": false
            }
        ]
    })
}

/// The JSON Schema of a delta: one edit, or a non-empty list of edits applied in order.
pub fn delta_schema() -> Value {
    json!({
        "oneOf": [
            edit_schema(),
            {"type": "array", "minItems": 1, "items": edit_schema()}
        ]
    })
}

/// The JSON Schema of one proposal.
pub fn proposal_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "kind": {"enum": ["explore", "exploit", "innovate"]},
            "explanation": {"type": "string", "description": "Why this change should help, in a sentence or two."},
            "delta": delta_schema()
        },
        "required": ["kind", "explanation", "delta"],
        "additionalProperties": false
    })
}

/// The JSON Schema of an agent's reply: a list of proposals.
pub fn output_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "proposals",
        "type": "array",
        "items": proposal_schema()
    })
}
