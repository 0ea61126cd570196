//! Applying a delta: splice each edit into the baseline's source, then Verify the result with
//! the whole compiler. The only way a [`Candidate`] is made.

use dsl::FileId;

use crate::baseline::{imports, kind_in_program, Baseline, Candidate};
use crate::block::BlockKind;
use crate::delta::Delta;
use crate::key::{normal_form, DeltaKey};
use crate::scope::{check_scope, Persona};
use crate::splice::{apply_edit, Target};
use crate::verify::{compile, VerifyError, VerifyKind};

/// Applies `delta` to `baseline` and verifies the edited program (syntax, names, types, shapes,
/// reward types). A delta that changes nothing is rejected too.
pub fn apply(baseline: &Baseline, delta: &Delta) -> Result<Candidate, VerifyError> {
    let mut text = baseline.source.clone();
    let mut edited: Vec<(Option<BlockKind>, String)> = Vec::new();
    for edit in &delta.edits {
        let name = edit.block();
        let target = target(baseline, &text, name)?;
        let kind = match &target {
            Target::Imported(kind) => Some(*kind),
            Target::Local(_) => baseline.kind_of(name).flatten(),
        };
        text = apply_edit(&text, edit, target)?;
        if !edited.iter().any(|(_, n)| n == name) {
            edited.push((kind, name.to_string()));
        }
    }
    let (program, _plan) = compile(&baseline.path, &text, baseline.loader(), &baseline.overrides)?;
    let mut changed = false;
    let mut forms = Vec::new();
    for (kind, name) in &edited {
        let before = baseline.qualified(name).and_then(|q| normal_form(&baseline.program, *kind, &q));
        let after = normal_form(&program, *kind, name).unwrap_or_default();
        changed |= before.as_deref() != Some(after.as_str());
        forms.push((*kind, name.clone(), after));
    }
    if !changed {
        return Err(VerifyError::new(
            VerifyKind::NoChange,
            format!("the delta changes nothing: {} compile to the baseline's own", names(&edited)),
        ));
    }
    Ok(Candidate { source: text, program, key: DeltaKey::of(&forms), edited })
}

/// [`apply`] for `persona`: an edit outside its kind of block is rejected before anything else.
pub fn apply_as(baseline: &Baseline, persona: &Persona, delta: &Delta) -> Result<Candidate, VerifyError> {
    check_scope(baseline, persona, delta)?;
    apply(baseline, delta)
}

/// Finds the block `name` in the current text: declared there, or imported.
fn target(baseline: &Baseline, text: &str, name: &str) -> Result<Target, VerifyError> {
    let module = dsl::parse::parse(FileId(0), text).map_err(|diags| {
        let mut sources = dsl::SourceMap::default();
        sources.add("<candidate>".to_string(), text.to_string());
        VerifyError::new(VerifyKind::Compile, dsl::render::render(&diags, &sources, false))
    })?;
    if let Some(index) = module.items.iter().position(|i| i.name().is_some_and(|n| n.name == name)) {
        return Ok(Target::Local(index));
    }
    if let Some((_, q)) = imports(&module).into_iter().find(|(l, _)| l == name) {
        if let Some(kind) = kind_in_program(&baseline.program, &q) {
            return Ok(Target::Imported(kind));
        }
    }
    let known = baseline.editable_names();
    let hint = dsl::suggest::did_you_mean(name, known.iter().map(String::as_str))
        .unwrap_or_else(|| format!("blocks a delta can edit here: {}", list(&known)));
    Err(VerifyError::new(VerifyKind::Delta, format!("unknown block `{name}`; {hint}")))
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    }
}

fn names(edited: &[(Option<BlockKind>, String)]) -> String {
    let names: Vec<String> = edited.iter().map(|(_, n)| n.clone()).collect();
    list(&names)
}
