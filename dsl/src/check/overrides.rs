//! `--set NAME=VALUE`: command-line values for the main file's params, typed like the param.

use super::value::Site;
use super::Checker;
use crate::ast::{Expr, ExprKind, Ident, Item, UnaryOp};
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::span::Span;
use crate::suggest::did_you_mean;
use crate::types::{Type, Value};

impl Checker<'_> {
    pub(super) fn apply_overrides(&mut self, overrides: &[(String, String)]) {
        for (name, value) in overrides {
            self.overrides.insert(name.clone(), value.clone());
        }
    }

    /// `--set` names that matched no param of the main file.
    pub(super) fn check_unused_overrides(&mut self) {
        let params: Vec<String> = self
            .modules
            .get(0)
            .items()
            .iter()
            .filter_map(|i| match i {
                Item::Param(p) => Some(p.name.name.clone()),
                _ => None,
            })
            .collect();
        let mut unused: Vec<String> = self.overrides.keys().cloned().collect();
        unused.sort();
        for name in unused {
            let help = did_you_mean(&name, params.iter().map(String::as_str)).or_else(|| {
                Some(if params.is_empty() {
                    "this workflow declares no params".into()
                } else {
                    format!("its params are {}", params.join(", "))
                })
            });
            self.error(Diagnostic::new(ErrorKind::UnknownParam { name }, Span::default()).maybe_help(help));
        }
        self.overrides.clear();
    }

    /// The value `text` gives the param `name` of type `ty`, or `None` after reporting why not.
    pub(super) fn check_override(&mut self, name: &Ident, ty: &Type, text: &str) -> Option<Value> {
        let bad = |reason: String| {
            Diagnostic::new(ErrorKind::BadOverride { name: name.name.clone(), reason }, name.span).help(format!(
                "e.g. `--set {}={}`",
                name.name,
                example_for(ty)
            ))
        };
        let parsed = crate::parse::parse_value(text).filter(is_literal);
        let value = match (ty, parsed) {
            (Type::Str, Some(Expr { kind: ExprKind::Str { value, .. }, .. })) => Value::Str(value),
            (Type::Str, _) => Value::Str(text.to_string()),
            (_, None) => {
                self.error(bad(format!("`{text}` is not {}", article(ty))));
                return None;
            }
            (_, Some(expr)) => {
                let before = self.diags.len();
                let (found, value) = self.check_expr(0, &expr, Some(ty), &mut Site::default());
                // Spans inside the override text mean nothing in the file: report on the param.
                let inner: Vec<Diagnostic> = self.diags.drain(before..).collect();
                if let Some(d) = inner.first() {
                    self.error(bad(format!("`{text}`: {}", d.message())));
                    return None;
                }
                if !ty.accepts(&found) {
                    self.error(bad(format!("`{text}` is {}, the param is {}", article(&found), article(ty))));
                    return None;
                }
                value
            }
        };
        Some(value)
    }
}

/// Whether a command-line value is a literal (names mean nothing there).
fn is_literal(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Str { .. }
        | ExprKind::Duration(_)
        | ExprKind::Percent(_)
        | ExprKind::Metric { .. } => true,
        ExprKind::Unary { op: UnaryOp::Neg, operand } => is_literal(operand),
        ExprKind::List(items) => items.iter().all(is_literal),
        _ => false,
    }
}

/// `an int`, `a float`.
fn article(ty: &Type) -> String {
    let name = ty.to_string();
    if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {name}")
    } else {
        format!("a {name}")
    }
}

fn example_for(ty: &Type) -> &'static str {
    match ty {
        Type::Int => "42",
        Type::Float => "0.5",
        Type::Bool => "true",
        Type::Duration => "10m",
        Type::Percent => "-1%",
        Type::Metric => "ndcg@10",
        Type::List(_) => "[1, 2, 3]",
        _ => "text",
    }
}
