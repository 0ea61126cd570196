//! Persona scope: each persona edits only its own kind of block.

use dsl::program::PersonaDef;
use dsl::types::Value;

use crate::baseline::Baseline;
use crate::block::BlockKind;
use crate::delta::Delta;
use crate::verify::{VerifyError, VerifyKind};

/// A persona as agents use it: its name, the kind of block it may edit, and its prompt options.
#[derive(Clone, Debug, PartialEq)]
pub struct Persona {
    /// The short name (`optimizer`, not `std::personas::optimizer`).
    pub name: String,
    pub edits: BlockKind,
    pub description: String,
    pub tools: Vec<String>,
    /// The prompt template (minijinja).
    pub prompt: String,
    /// Journal entries shown in the prompt, when the persona says.
    pub history: Option<usize>,
    /// `score`, `time` or `none`, when the persona says.
    pub sort: Option<String>,
    pub enabled: bool,
}

impl Persona {
    /// The persona of a checked definition; `None` if its `edits` is not a block kind (the
    /// checker has already reported that).
    pub fn from_def(qualified: &str, def: &PersonaDef) -> Option<Persona> {
        let str_setting = |k: &str| match def.settings.get(k) {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        };
        Some(Persona {
            name: qualified.rsplit("::").next().unwrap_or(qualified).to_string(),
            edits: BlockKind::from_keyword(&def.edits)?,
            description: str_setting("description").unwrap_or_default(),
            tools: def.tools.clone(),
            prompt: def.prompt.clone(),
            history: match def.settings.get("history") {
                Some(Value::Int(n)) => Some((*n).max(0) as usize),
                _ => None,
            },
            sort: str_setting("sort"),
            enabled: !matches!(def.settings.get("enabled"), Some(Value::Bool(false))),
        })
    }
}

/// Rejects a delta that edits anything but `persona`'s kind of block, saying which edit and why.
pub fn check_scope(baseline: &Baseline, persona: &Persona, delta: &Delta) -> Result<(), VerifyError> {
    for edit in &delta.edits {
        let name = edit.block();
        let what = match baseline.kind_of(name) {
            // Unknown names are the delta's own error; `apply` reports them with suggestions.
            None => continue,
            Some(Some(kind)) if kind == persona.edits => continue,
            Some(Some(kind)) => format!("`{name}` is {} block", kind.a()),
            Some(None) => format!("`{name}` is not a model, optimizer or reward block"),
        };
        let own = baseline.block(persona.edits).map_or_else(String::new, |b| format!(" (here: `{b}`)"));
        return Err(VerifyError::new(
            VerifyKind::Scope,
            format!(
                "out of scope: the `{}` persona may edit only {} blocks{own}, but {what}",
                persona.name, persona.edits
            ),
        ));
    }
    Ok(())
}
