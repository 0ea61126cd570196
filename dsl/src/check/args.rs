//! Matching call arguments to a signature: positions, names, duplicates, missing arguments,
//! types and ranges. Shared by built-in steps, constructors and composite steps.

use indexmap::IndexMap;

use super::value::Site;
use super::Checker;
use crate::ast::{Arg, Expr};
use crate::builtins::Range;
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::span::Span;
use crate::suggest::did_you_mean;
use crate::types::{Type, Value};

/// One parameter a callee accepts.
pub(crate) struct Param {
    pub name: String,
    pub ty: Type,
    /// `None` when required.
    pub default: Option<Value>,
    pub range: Option<Range>,
    /// The only strings it accepts, when it is a closed set.
    pub choices: Option<&'static [&'static str]>,
}

impl Checker<'_> {
    /// Checks `args` against `params` and returns every parameter's value, in parameter order.
    pub(crate) fn match_args(
        &mut self,
        module: usize,
        callee: &str,
        params: &[Param],
        args: &[Arg],
        call_span: Span,
        site: &mut Site,
    ) -> IndexMap<String, Value> {
        let mut given: IndexMap<usize, (Value, Span)> = IndexMap::new();
        let mut seen_named = false;
        let mut positional = 0;
        // An argument that fits no parameter was probably meant for a missing one: say nothing
        // more about missing arguments then.
        let mut unplaced = false;
        for arg in args {
            let index = match &arg.name {
                Some(name) => {
                    seen_named = true;
                    match params.iter().position(|p| p.name == name.name) {
                        Some(i) => i,
                        None => {
                            let help = did_you_mean(&name.name, params.iter().map(|p| p.name.as_str()))
                                .or_else(|| Some(format!("`{callee}` takes {}", list_params(params))));
                            self.error(
                                Diagnostic::new(
                                    ErrorKind::UnknownArgument { callee: callee.to_string(), arg: name.name.clone() },
                                    name.span,
                                )
                                .maybe_help(help),
                            );
                            self.check_expr(module, &arg.value, None, site);
                            unplaced = true;
                            continue;
                        }
                    }
                }
                None if seen_named => {
                    self.error(
                        Diagnostic::new(ErrorKind::PositionalAfterNamed, arg.span)
                            .help("put positional arguments first, or name this one"),
                    );
                    self.check_expr(module, &arg.value, None, site);
                    unplaced = true;
                    continue;
                }
                None => {
                    positional += 1;
                    if positional > params.len() {
                        self.error(
                            Diagnostic::new(
                                ErrorKind::TooManyArguments {
                                    callee: callee.to_string(),
                                    max: params.len(),
                                    found: args.iter().filter(|a| a.name.is_none()).count(),
                                },
                                arg.span,
                            )
                            .help(format!("`{callee}` takes {}", list_params(params))),
                        );
                        continue;
                    }
                    positional - 1
                }
            };
            if let Some((_, first)) = given.get(&index) {
                let first = *first;
                self.error(
                    Diagnostic::new(ErrorKind::DuplicateArgument { arg: params[index].name.clone() }, arg.span)
                        .label(first, "first given here"),
                );
                continue;
            }
            let value = self.check_arg(module, &params[index], &arg.value, site);
            given.insert(index, (value, arg.span));
        }
        let mut out = IndexMap::new();
        for (i, param) in params.iter().enumerate() {
            let value = match given.shift_remove(&i) {
                Some((v, _)) => v,
                None => match &param.default {
                    Some(d) => d.clone(),
                    None if unplaced => Value::Invalid,
                    None => {
                        self.error(
                            Diagnostic::new(
                                ErrorKind::MissingArgument { callee: callee.to_string(), arg: param.name.clone() },
                                call_span,
                            )
                            .help(format!("add `{}: <{}>`", param.name, param.ty)),
                        );
                        Value::Invalid
                    }
                },
            };
            out.insert(param.name.clone(), value);
        }
        out
    }

    fn check_arg(&mut self, module: usize, param: &Param, expr: &Expr, site: &mut Site) -> Value {
        let (ty, value) = self.check_expr(module, expr, Some(&param.ty), site);
        if !param.ty.accepts(&ty) {
            self.error(
                Diagnostic::new(
                    ErrorKind::TypeMismatch { expected: param.ty.to_string(), found: ty.to_string() },
                    expr.span,
                )
                .help(match (&param.ty, &ty) {
                    (Type::Split, Type::Dataset) => format!(
                        "`{}` takes a split: split the dataset first, e.g. `random_split({})`",
                        param.name,
                        expr.span.text(self.sources)
                    ),
                    _ => format!("`{}` takes {}", param.name, with_article(&param.ty)),
                }),
            );
            return Value::Invalid;
        }
        if let (Some(range), Some(v)) = (param.range, value.as_f64()) {
            if !range.contains(v) {
                self.error(Diagnostic::new(
                    ErrorKind::OutOfRange {
                        what: format!("`{}`", param.name),
                        value: value.to_string(),
                        range: range.to_string(),
                    },
                    expr.span,
                ));
            }
        }
        if let (Some(choices), Value::Str(v)) = (param.choices, &value) {
            if !choices.contains(&v.as_str()) {
                self.error(
                    Diagnostic::new(
                        ErrorKind::NotOneOf { what: format!("`{}`", param.name), value: v.clone(), choices },
                        expr.span,
                    )
                    .maybe_help(did_you_mean(v, choices.iter().copied())),
                );
            }
        }
        // An int where a float is expected becomes a float, so the step sees one type.
        match (&param.ty, value) {
            (Type::Float, Value::Int(i)) => Value::Float(i as f64),
            (_, v) => v,
        }
    }
}

/// A type with its indefinite article: `an int`, `a split`.
pub(crate) fn with_article(ty: &Type) -> String {
    let name = ty.to_string();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {name}")
}

fn list_params(params: &[Param]) -> String {
    if params.is_empty() {
        return "no arguments".into();
    }
    params.iter().map(|p| format!("`{}`", p.name)).collect::<Vec<_>>().join(", ")
}
