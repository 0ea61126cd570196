//! Literals with meaning of their own in workflow expressions: ranking and online metrics,
//! guardrails and records, and what a workflow may not compute.

use std::collections::BTreeMap;

use super::value::Site;
use super::Checker;
use crate::ast::{self, Expr, ExprKind, Ident};
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::span::Span;
use crate::suggest::did_you_mean;
use crate::types::{Type, Value};

impl Checker<'_> {
    pub(super) fn not_here(&mut self, expr: &Expr, what: &str) -> (Type, Value) {
        self.error(
            Diagnostic::new(
                ErrorKind::NotAllowedHere { what: what.to_string(), context: "a workflow expression" },
                expr.span,
            )
            .help("workflows pass values between steps; compute inside a `reward` or `model` block"),
        );
        (Type::Error, Value::Invalid)
    }

    pub(super) fn check_metric(&mut self, name: &str, k: u32, span: Span) -> (Type, Value) {
        use crate::metrics::RankingMetric;
        if RankingMetric::from_name(name).is_none() {
            let help = did_you_mean(name, RankingMetric::names()).or_else(|| {
                Some(format!("ranking metrics are {}", RankingMetric::names().collect::<Vec<_>>().join(", ")))
            });
            self.error(Diagnostic::new(ErrorKind::UnknownMetric { name: name.to_string() }, span).maybe_help(help));
            return (Type::Error, Value::Invalid);
        }
        if k == 0 {
            self.error(Diagnostic::new(
                ErrorKind::OutOfRange { what: "the cut-off".into(), value: "0".into(), range: "[1, ∞)".into() },
                span,
            ));
        }
        (Type::Metric, Value::Metric { name: name.to_string(), k })
    }

    pub(super) fn check_online_metric(&mut self, ident: &Ident) -> (Type, Value) {
        use crate::metrics::OnlineMetric;
        if ident.name.parse::<OnlineMetric>().is_err() {
            let help = did_you_mean(&ident.name, OnlineMetric::names()).or_else(|| {
                Some(format!("online metrics are {}", OnlineMetric::names().collect::<Vec<_>>().join(", ")))
            });
            self.error(
                Diagnostic::new(ErrorKind::UnknownMetric { name: ident.name.clone() }, ident.span).maybe_help(help),
            );
            return (Type::Error, Value::Invalid);
        }
        (Type::OnlineMetric, Value::OnlineMetric(ident.name.clone()))
    }

    pub(super) fn check_guardrail(
        &mut self,
        module: usize,
        op: &str,
        left: &Expr,
        right: &Expr,
        site: &mut Site,
    ) -> (Type, Value) {
        let metric = match left.as_path() {
            Some([ident]) => self.check_online_metric(ident).1,
            _ => {
                self.error(
                    Diagnostic::new(
                        ErrorKind::TypeMismatch {
                            expected: "an online metric name".into(),
                            found: describe_literal(left),
                        },
                        left.span,
                    )
                    .help("a guardrail reads `metric >= -1%`"),
                );
                Value::Invalid
            }
        };
        let (ty, bound) = self.check_expr(module, right, None, site);
        if !matches!(ty, Type::Percent | Type::Int | Type::Float | Type::Error) {
            self.error(
                Diagnostic::new(
                    ErrorKind::TypeMismatch { expected: "a percent or a number".into(), found: ty.to_string() },
                    right.span,
                )
                .help("a guardrail bounds the relative change, e.g. `watch_time >= -1%`"),
            );
        }
        match metric {
            Value::OnlineMetric(metric) => {
                (Type::Guardrail, Value::Guardrail { metric, op: op.to_string(), bound: Box::new(bound) })
            }
            _ => (Type::Error, Value::Invalid),
        }
    }

    pub(super) fn check_record(
        &mut self,
        module: usize,
        fields: &[(Ident, Expr)],
        expected: Option<&Type>,
        site: &mut Site,
    ) -> (Type, Value) {
        let known = match expected {
            Some(Type::Record(known)) if !known.is_empty() => Some(known.clone()),
            _ => None,
        };
        let mut out = BTreeMap::new();
        for (name, value) in fields {
            if out.contains_key(&name.name) {
                self.error(Diagnostic::new(ErrorKind::DuplicateArgument { arg: name.name.clone() }, name.span));
                continue;
            }
            let field_ty = match &known {
                Some(known) => match known.iter().find(|(n, _)| *n == name.name) {
                    Some((_, t)) => Some(t.clone()),
                    None => {
                        let help = did_you_mean(&name.name, known.iter().map(|(n, _)| *n)).or_else(|| {
                            Some(format!(
                                "its fields are {}",
                                known.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                            ))
                        });
                        self.error(
                            Diagnostic::new(
                                ErrorKind::UnknownRecordField {
                                    field: name.name.clone(),
                                    record: "this record".into(),
                                },
                                name.span,
                            )
                            .maybe_help(help),
                        );
                        continue;
                    }
                },
                None => None,
            };
            let (ty, v) = self.check_expr(module, value, field_ty.as_ref(), site);
            if let Some(expected) = &field_ty {
                if !expected.accepts(&ty) {
                    self.error(
                        Diagnostic::new(
                            ErrorKind::TypeMismatch { expected: expected.to_string(), found: ty.to_string() },
                            value.span,
                        )
                        .help(format!(
                            "`{}` takes {}",
                            name.name,
                            super::args::with_article(expected)
                        )),
                    );
                }
            }
            out.insert(name.name.clone(), v);
        }
        (expected.cloned().unwrap_or(Type::Record(Vec::new())), Value::Record(out))
    }
}

pub(super) fn describe_literal(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Int(_) => "an int".into(),
        ExprKind::Float(_) => "a float".into(),
        ExprKind::Bool(_) => "a bool".into(),
        ExprKind::Str { value, .. } => format!("the string {value:?}"),
        ExprKind::Duration(_) => "a duration".into(),
        ExprKind::Percent(_) => "a percent".into(),
        ExprKind::Path(p) => format!("the name `{}`", ast::path_string(p)),
        _ => "an expression".into(),
    }
}
