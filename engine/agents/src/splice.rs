//! Splices edits into source text by the syntax tree's spans: the rest of the file, comments
//! included, stays byte for byte as it was.

use dsl::ast::{ExprKind, Item, Module, UseTarget};
use dsl::FileId;

use crate::block::BlockKind;
use crate::delta::{json_kind, Edit};
use crate::verify::{VerifyError, VerifyKind};

/// A byte range of the text and what replaces it.
struct Patch {
    start: usize,
    end: usize,
    text: String,
}

/// Applies patches that do not overlap.
fn patch(text: &str, mut patches: Vec<Patch>) -> String {
    patches.sort_by_key(|p| std::cmp::Reverse(p.start));
    let mut out = text.to_string();
    for p in patches {
        out.replace_range(p.start..p.end, &p.text);
    }
    out
}

fn delta_error(message: String) -> VerifyError {
    VerifyError::new(VerifyKind::Delta, message)
}

/// Parses `text` as the main file; a failure here means an earlier edit broke the syntax.
fn parse_main(text: &str) -> Result<Module, VerifyError> {
    dsl::parse::parse(FileId(0), text).map_err(|diags| {
        let mut sources = dsl::SourceMap::default();
        sources.add("<candidate>".to_string(), text.to_string());
        VerifyError::new(VerifyKind::Compile, dsl::render::render(&diags, &sources, false))
    })
}

/// Parses a replacement declaration on its own, so its mistakes point into the replacement.
fn parse_replacement(block: &str, source: &str) -> Result<Item, VerifyError> {
    let module = dsl::parse::parse(FileId(0), source).map_err(|diags| {
        let mut sources = dsl::SourceMap::default();
        sources.add(format!("<replacement of {block}>"), source.to_string());
        VerifyError::new(VerifyKind::Compile, dsl::render::render(&diags, &sources, false))
    })?;
    match module.items.len() {
        1 => Ok(module.items.into_iter().next().expect("one item")),
        0 => Err(delta_error(format!("the replacement of `{block}` is empty: send the whole new declaration"))),
        n => Err(delta_error(format!(
            "the replacement of `{block}` holds {n} declarations; send exactly one, the new `{block}`"
        ))),
    }
}

/// Where the block an edit names lives in the main file.
pub(crate) enum Target {
    /// Item `index` of the main file.
    Local(usize),
    /// Imported under this local name, a block of `kind`.
    Imported(BlockKind),
}

/// Applies one edit to `text`; `target` says where its block is.
pub(crate) fn apply_edit(text: &str, edit: &Edit, target: Target) -> Result<String, VerifyError> {
    let module = parse_main(text)?;
    match (edit, target) {
        (Edit::Replace { block, source }, Target::Local(index)) => {
            let item = &module.items[index];
            let Some(kind) = BlockKind::of_item(item) else {
                return Err(delta_error(format!(
                    "`{block}` is a step call, not a block: change its arguments with \
                     {{\"op\": \"set\", \"block\": \"{block}\", \"args\": {{...}}}}"
                )));
            };
            check_replacement(block, kind, source)?;
            let span = item.span();
            Ok(patch(
                text,
                vec![Patch { start: span.start as usize, end: span.end as usize, text: source.trim().into() }],
            ))
        }
        (Edit::Replace { block, source }, Target::Imported(kind)) => {
            check_replacement(block, kind, source)?;
            // The block becomes the main file's own: drop it from the import, declare it here.
            let mut out = patch(text, vec![drop_import(text, &module, block)]);
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push('\n');
            out.push_str(source.trim());
            out.push('\n');
            Ok(out)
        }
        (Edit::Set { block, args }, Target::Local(index)) => {
            let call = match &module.items[index] {
                Item::Optimizer(d) => &d.value,
                Item::Let(d) => &d.value,
                Item::Model(_) | Item::Reward(_) => {
                    let kind = BlockKind::of_item(&module.items[index]).expect("an editable block");
                    return Err(delta_error(format!(
                        "`set` changes the arguments of an optimizer or a step call; `{block}` is {} \
                         block: replace it with {{\"op\": \"replace\", \"block\": \"{block}\", \"source\": \"...\"}}",
                        kind.a()
                    )));
                }
                _ => return Err(delta_error(format!("`{block}` has no call whose arguments `set` could change"))),
            };
            let ExprKind::Call { args: call_args, .. } = &call.kind else {
                return Err(delta_error(format!("`{block}` is not defined by a call, so `set` cannot change it")));
            };
            if args.is_empty() {
                return Err(delta_error(format!("`set` on `{block}` names no arguments")));
            }
            let mut patches = Vec::new();
            let mut added = String::new();
            for (name, value) in args {
                let literal = literal(name, value)?;
                match call_args.iter().find(|a| a.name.as_ref().is_some_and(|n| &n.name == name)) {
                    Some(arg) => patches.push(Patch {
                        start: arg.value.span.start as usize,
                        end: arg.value.span.end as usize,
                        text: literal,
                    }),
                    None => {
                        let sep = if call_args.is_empty() && added.is_empty() { "" } else { ", " };
                        added.push_str(&format!("{sep}{name}: {literal}"));
                    }
                }
            }
            if !added.is_empty() {
                let at = match call_args.last() {
                    Some(last) => last.span.end as usize,
                    None => text[..call.span.end as usize].rfind(')').unwrap_or(call.span.end as usize),
                };
                patches.push(Patch { start: at, end: at, text: added });
            }
            Ok(patch(text, patches))
        }
        (Edit::Set { block, .. }, Target::Imported(kind)) => Err(delta_error(format!(
            "`{block}` is an imported {} block; replace it to change it in this workflow",
            kind.keyword()
        ))),
    }
}

/// A replacement must declare one block of the same kind and name.
fn check_replacement(block: &str, kind: BlockKind, source: &str) -> Result<(), VerifyError> {
    let item = parse_replacement(block, source)?;
    let new_kind = BlockKind::of_item(&item);
    let name = item.name().map(|n| n.name.clone()).unwrap_or_default();
    if new_kind != Some(kind) {
        let found = new_kind.map_or_else(|| "something else".to_string(), |k| format!("{} block", k.a()));
        return Err(delta_error(format!(
            "`{block}` is {} block, but its replacement declares {found}; send `{} {block} ...`",
            kind.a(),
            kind.keyword()
        )));
    }
    if name != block {
        return Err(delta_error(format!(
            "a replaced block keeps its name, so the workflow's references still hold: the replacement \
             declares `{name}`, expected `{block}`"
        )));
    }
    Ok(())
}

/// The patch that removes `local` from the `use` that imports it.
fn drop_import(text: &str, module: &Module, local: &str) -> Patch {
    for item in &module.items {
        let Item::Use(u) = item else { continue };
        let UseTarget::Path(path) = &u.target else { continue };
        let whole = || {
            let end = u.span.end as usize;
            let end = if text[end..].starts_with('\n') { end + 1 } else { end };
            Patch { start: u.span.start as usize, end, text: String::new() }
        };
        match &u.names {
            None => {
                let name = u.alias.as_ref().or(path.last()).map(|i| i.name.as_str());
                if name == Some(local) {
                    return whole();
                }
            }
            Some(names) => {
                let Some(i) = names.iter().position(|n| n.alias.as_ref().unwrap_or(&n.name).name == local) else {
                    continue;
                };
                if names.len() == 1 {
                    return whole();
                }
                let end_of = |n: &dsl::ast::UseName| n.alias.as_ref().unwrap_or(&n.name).span.end as usize;
                return if i + 1 < names.len() {
                    Patch {
                        start: names[i].name.span.start as usize,
                        end: names[i + 1].name.span.start as usize,
                        text: String::new(),
                    }
                } else {
                    Patch { start: end_of(&names[i - 1]), end: end_of(&names[i]), text: String::new() }
                };
            }
        }
    }
    Patch { start: 0, end: 0, text: String::new() }
}

/// A JSON scalar as an `.evo` literal.
fn literal(name: &str, value: &serde_json::Value) -> Result<String, VerifyError> {
    Ok(match value {
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => format!("{f:?}"),
            _ => return Err(delta_error(format!("argument `{name}`: {n} is not a number `.evo` can hold"))),
        },
        serde_json::Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        other => {
            return Err(delta_error(format!(
                "argument `{name}` of a `set` is {}; values are numbers, strings or booleans",
                json_kind(other)
            )))
        }
    })
}
