//! Reading proposals out of an LLM's reply: tolerant of ```json fences, prose around the JSON,
//! a single object, a list, or `{"proposals": [...]}`; strict about the schema, with errors that
//! say exactly what to fix (they go back to the model for one repair turn).

use serde_json::Value;

use crate::delta::json_kind;
use crate::proposal::Proposal;

/// The proposals in `text`, or what is wrong with it.
pub fn parse_proposals(text: &str) -> Result<Vec<Proposal>, String> {
    let body = json_text(text).ok_or_else(|| {
        "the reply holds no JSON: send a JSON list of proposals, \
         each {\"kind\": ..., \"explanation\": ..., \"delta\": ...}"
            .to_string()
    })?;
    let value: Value = serde_json::from_str(body).map_err(|e| format!("the reply is not valid JSON: {e}"))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut map) if map.contains_key("proposals") && !map.contains_key("delta") => {
            match map.remove("proposals").expect("checked above") {
                Value::Array(items) => items,
                other => return Err(format!("`proposals` must be a list, found {}", json_kind(&other))),
            }
        }
        Value::Object(map) => vec![Value::Object(map)],
        other => return Err(format!("expected a list of proposals, found {}", json_kind(&other))),
    };
    if items.is_empty() {
        return Err("the list of proposals is empty: send at least one".into());
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if !item.is_object() {
            errors.push(format!("proposal {}: expected an object, found {}", i + 1, json_kind(&item)));
            continue;
        }
        match serde_json::from_value::<Proposal>(item) {
            Ok(p) if p.explanation.trim().is_empty() => {
                errors.push(format!("proposal {}: `explanation` is empty; say why the change should help", i + 1))
            }
            Ok(p) => out.push(p),
            Err(e) => errors.push(format!("proposal {}: {e}", i + 1)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("\n"))
    }
}

/// The JSON part of a reply: the first fenced block if there is one, else from the first `[` or
/// `{` to the last `]` or `}`.
fn json_text(text: &str) -> Option<&str> {
    let text = text.trim();
    let text = match text.find("```") {
        Some(open) => {
            let after = &text[open + 3..];
            // Skip the fence's language tag (```json).
            let body_start = after.find('\n').map_or(0, |i| i + 1);
            let body = &after[body_start..];
            body.find("```").map_or(body, |close| &body[..close]).trim()
        }
        None => text,
    };
    let start = text.find(['[', '{'])?;
    let end = text.rfind([']', '}'])?;
    (end >= start).then(|| &text[start..=end])
}
