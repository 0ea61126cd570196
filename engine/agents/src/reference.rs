//! What a persona may write, as the language defines it: the model operations with their shape
//! rules, or every optimizer constructor with its arguments, defaults and ranges. Rendered from
//! `dsl` (never typed twice), so the prompt cannot drift from the checker.

use dsl::builtins::{self, PRELUDE};
use dsl::types::{Type, Value};

use crate::block::BlockKind;

/// The reference section for a persona that edits `kind` blocks; `None` for rewards, whose
/// prompt carries the dataset's fields instead.
pub fn reference(kind: BlockKind) -> Option<String> {
    match kind {
        BlockKind::Model => Some(models()),
        BlockKind::Optimizer => Some(optimizers()),
        BlockKind::Reward => None,
    }
}

fn models() -> String {
    let mut out = String::from(
        "Inputs: `user` and `item`, both `id`s (training supplies no other). Every value has a \
         per-example shape, checked statically; each call is its own layer with its own weights; \
         the last line is the score, of shape `[1]`.\n\n| operation | operands | result |\n| --- | --- | --- |\n",
    );
    for (call, operands, result) in dsl::shape::REFERENCE {
        out.push_str(&format!("| {call} | {operands} | {result} |\n"));
    }
    out
}

fn optimizers() -> String {
    let ctors: Vec<_> =
        builtins::all().iter().filter(|s| s.module == PRELUDE && s.returns == Type::Optimizer).collect();
    let names: Vec<String> = ctors.iter().map(|s| format!("`{}`", s.name)).collect();
    let mut out =
        format!("Constructors: {}. Arguments (every constructor takes them unless said):\n\n", names.join(", "));
    let mut seen: Vec<&str> = Vec::new();
    for sig in &ctors {
        for p in &sig.params {
            if seen.contains(&p.name) {
                continue;
            }
            seen.push(p.name);
            let only: Vec<&str> = ctors.iter().filter(|s| s.param(p.name).is_some()).map(|s| s.name).collect();
            let only =
                if only.len() < ctors.len() { format!(" (`{}` only)", only.join("`, `")) } else { String::new() };
            let default = match &p.default {
                Some(Value::Unset) => "the step's".to_string(),
                Some(_) if p.name == "lr" => {
                    let per: Vec<String> = ctors
                        .iter()
                        .filter_map(|s| Some(format!("{} `{}`", s.param("lr")?.default.as_ref()?, s.name)))
                        .collect();
                    per.join(", ")
                }
                Some(v) => v.to_string(),
                None => "required".to_string(),
            };
            let mut line = format!("- `{}`{only}: {}, default {default}", p.name, p.ty);
            if let Some(range) = p.range {
                line.push_str(&format!(", in {range}"));
            }
            if let Some(choices) = p.choices {
                let c: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
                line.push_str(&format!(", one of {}", c.join(", ")));
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    out.push_str(
        "\n`negatives: 0` means the loss's usual number (1 for bpr and bce, 64 for softmax); scores are \
         divided by `temperature` before the loss.\n",
    );
    out
}
