//! Reward blocks: a small typed expression language over event fields. Fields are checked
//! against the dataset's schema when the reward names one (`reward r(e: logs) -> float`).

use super::{Checker, Resolved, Symbol};
use crate::ast::{self, BinaryOp, Block, Else, Expr, ExprKind, Item, RewardBody, UnaryOp};
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::program::Schema;
use crate::reward::{Builtin, RExpr, RExprKind, RField, ROp, RType, RewardDef, RewardFn};
use crate::suggest::did_you_mean;
use crate::types::{Type, Value};

struct RewardChecker<'c, 'a> {
    checker: &'c mut Checker<'a>,
    event: String,
    dataset: Option<(String, Schema)>,
    fields: Vec<RField>,
    /// Locals in scope, innermost last: (name, slot, type).
    scope: Vec<(String, usize, RType)>,
    slots: usize,
}

impl Checker<'_> {
    pub(super) fn check_reward(&mut self, module: usize, decl: &ast::RewardDecl) -> Resolved {
        let qual = self.qualify(module, &decl.name.name);
        let source = self.canonical(&Item::Reward(decl.clone()));
        let value = Value::Reward(qual.clone());
        let ok = Resolved { ty: Type::Reward, value, schema: None };
        match &decl.body {
            RewardBody::External(expr) => {
                let (ty, v) = self.check_expr(module, expr, Some(&Type::Reward), &mut Default::default());
                let path = match v {
                    Value::Object { ctor, args } if ctor == "wasm" => match args.get("path") {
                        Some(Value::Str(p)) => p.clone(),
                        _ => return ok,
                    },
                    _ => {
                        if ty != Type::Error {
                            self.error(
                                Diagnostic::new(
                                    ErrorKind::TypeMismatch {
                                        expected: "`wasm(\"path\")`".into(),
                                        found: ty.to_string(),
                                    },
                                    expr.span,
                                )
                                .help(
                                    "an external reward is a WebAssembly module: `reward r = wasm(\"rewards/r.wasm\")`",
                                ),
                            );
                        }
                        return ok;
                    }
                };
                // Point at the path itself when it is written as `wasm("...")`.
                let at = match &expr.kind {
                    ExprKind::Call { args, .. } if args.len() == 1 => args[0].value.span,
                    _ => expr.span,
                };
                let joined = self.data_path(module, &path, at);
                if !self.loader.exists(&joined) {
                    self.error(Diagnostic::new(
                        ErrorKind::FileNotFound { path: joined.clone(), reason: "no such file".into() },
                        at,
                    ));
                    return ok;
                }
                self.program.rewards.insert(qual.clone(), RewardDef::External { name: qual, path: joined, source });
                ok
            }
            RewardBody::Function { event, dataset, ret, body } => {
                if ret.name.name != "float" || ret.arg.is_some() {
                    self.error(
                        Diagnostic::new(ErrorKind::UnsupportedReturnType { declared: ret.name.name.clone() }, ret.span)
                            .help("write `-> float`"),
                    );
                }
                let before = self.diags.len();
                let dataset = dataset.as_ref().and_then(|d| self.reward_schema(module, d));
                // Without the events' columns, the body's field types are guesses: checking it
                // would only report the consequences of the mistake just reported.
                if self.diags.len() > before {
                    return ok;
                }
                let mut r = RewardChecker {
                    checker: self,
                    event: event.name.clone(),
                    dataset,
                    fields: Vec::new(),
                    scope: Vec::new(),
                    slots: 0,
                };
                let body_expr = r.block(body);
                let (fields, slots, dataset) =
                    (std::mem::take(&mut r.fields), r.slots, r.dataset.take().map(|(n, _)| n));
                let Some(mut body_expr) = body_expr else { return ok };
                match body_expr.ty {
                    RType::Float => {}
                    RType::Int => body_expr = to_float(body_expr),
                    RType::Bool => {
                        self.error(
                            Diagnostic::new(
                                ErrorKind::ReturnType { declared: "float".into(), found: "bool".into() },
                                body.result.span,
                            )
                            .help("turn it into a number: `if cond { 1.0 } else { 0.0 }`"),
                        );
                        return ok;
                    }
                }
                if self.diags.len() == before {
                    self.program.rewards.insert(
                        qual.clone(),
                        RewardDef::Function {
                            dataset,
                            function: RewardFn { name: qual, fields, locals: slots, body: body_expr },
                            source,
                        },
                    );
                }
                ok
            }
        }
    }

    /// The schema named in `reward r(e: NAME)`: a dataset, or a built-in step with known columns.
    fn reward_schema(&mut self, module: usize, name: &ast::Ident) -> Option<(String, Schema)> {
        match self.lookup(module, std::slice::from_ref(name), "dataset")? {
            Symbol::Builtin(sig) => match &sig.schema {
                Some(cols) => Some((sig.qualified(), super::value::schema_from_builtin(cols))),
                None => {
                    self.error(Diagnostic::new(
                        ErrorKind::NotADataset { found: format!("the step `{}`", sig.name) },
                        name.span,
                    ));
                    None
                }
            },
            Symbol::Item { module: m, index } => {
                let resolved = self.resolve_item(m, index, name.span);
                if resolved.ty == Type::Error {
                    return None;
                }
                if resolved.ty != Type::Dataset {
                    self.error(Diagnostic::new(ErrorKind::NotADataset { found: resolved.ty.to_string() }, name.span));
                    return None;
                }
                resolved.schema.map(|s| (self.qualify(m, &name.name), s))
            }
        }
    }
}

fn to_float(e: RExpr) -> RExpr {
    if e.ty == RType::Float {
        return e;
    }
    let span = e.span;
    RExpr { kind: RExprKind::ToFloat(Box::new(e)), ty: RType::Float, span }
}

impl RewardChecker<'_, '_> {
    fn block(&mut self, block: &Block) -> Option<RExpr> {
        let depth = self.scope.len();
        let mut lets = Vec::new();
        for l in &block.lets {
            let value = self.expr(&l.value);
            let slot = self.slots;
            self.slots += 1;
            let ty = value.as_ref().map_or(RType::Float, |v| v.ty);
            self.scope.push((l.name.name.clone(), slot, ty));
            lets.push((slot, value));
        }
        let result = self.expr(&block.result);
        self.scope.truncate(depth);
        let mut result = result?;
        for (slot, value) in lets.into_iter().rev() {
            let value = value?;
            let span = value.span.to(result.span);
            let ty = result.ty;
            result = RExpr { kind: RExprKind::Let { slot, value: Box::new(value), body: Box::new(result) }, ty, span };
        }
        Some(result)
    }

    fn error(&mut self, d: Diagnostic) -> Option<RExpr> {
        self.checker.error(d);
        None
    }

    fn expr(&mut self, expr: &Expr) -> Option<RExpr> {
        let span = expr.span;
        let (kind, ty) = match &expr.kind {
            ExprKind::Int(v) => (RExprKind::Int(*v), RType::Int),
            ExprKind::Float(v) => (RExprKind::Float(*v), RType::Float),
            ExprKind::Bool(v) => (RExprKind::Bool(*v), RType::Bool),
            ExprKind::Paren(inner) => return self.expr(inner),
            ExprKind::Invalid => return None,
            ExprKind::Path(path) if path.len() == 1 => {
                let name = &path[0].name;
                if let Some((_, slot, ty)) = self.scope.iter().rev().find(|(n, ..)| n == name) {
                    (RExprKind::Local(*slot), *ty)
                } else if *name == self.event {
                    return self.error(
                        Diagnostic::new(
                            ErrorKind::NotAllowedHere {
                                what: format!("the whole event `{name}`"),
                                context: "a reward expression",
                            },
                            span,
                        )
                        .help(format!("read one of its fields, e.g. `{name}.watch_seconds`")),
                    );
                } else {
                    let mut names: Vec<&str> = self.scope.iter().map(|(n, ..)| n.as_str()).collect();
                    names.push(&self.event);
                    let help = did_you_mean(name, names);
                    return self.error(
                        Diagnostic::new(ErrorKind::UnknownName { name: name.clone(), what: "value" }, span)
                            .maybe_help(help),
                    );
                }
            }
            ExprKind::Field { base, field } => return self.field(base, field, None, span),
            ExprKind::Binary { op: BinaryOp::Coalesce, left, right, op_span } => {
                let ExprKind::Field { base, field } = &left.kind else {
                    return self.error(
                        Diagnostic::new(
                            ErrorKind::NotAllowedHere {
                                what: "`??` after something that is never missing".into(),
                                context: "a reward expression",
                            },
                            *op_span,
                        )
                        .help("`??` gives a default for a missing event field: `e.survey ?? 0.0`"),
                    );
                };
                let default = self.expr(right);
                return self.field(base, field, Some((default?, right.span)), span);
            }
            ExprKind::Unary { op, operand } => {
                let inner = self.expr(operand)?;
                match (op, inner.ty) {
                    (UnaryOp::Neg, t) if t.is_numeric() => (RExprKind::Neg(Box::new(inner)), t),
                    (UnaryOp::Not, RType::Bool) => (RExprKind::Not(Box::new(inner)), RType::Bool),
                    (op, t) => {
                        let sym = if *op == UnaryOp::Neg { "-" } else { "!" };
                        return self.error(Diagnostic::new(
                            ErrorKind::RewardTypeError { op: sym.into(), left: t.to_string(), right: String::new() },
                            span,
                        ));
                    }
                }
            }
            ExprKind::Binary { op, op_span, left, right } => {
                let (l, r) = (self.expr(left), self.expr(right));
                let (l, r) = (l?, r?);
                return self.binary(*op, *op_span, l, r, span, (left.span, right.span));
            }
            ExprKind::If { cond, then, otherwise } => {
                let c = self.expr(cond);
                let t = self.block(then);
                let o = match otherwise {
                    Else::Block(b) => self.block(b),
                    Else::If(e) => self.expr(e),
                };
                let (c, t, o) = (c?, t?, o?);
                if c.ty != RType::Bool {
                    return self.error(
                        Diagnostic::new(ErrorKind::ConditionNotBool { found: c.ty.to_string() }, cond.span)
                            .help("compare it, e.g. `e.rating >= 4.0`"),
                    );
                }
                let (t, o, ty) = match (t.ty, o.ty) {
                    (a, b) if a == b => (t, o, a),
                    (a, b) if a.is_numeric() && b.is_numeric() => (to_float(t), to_float(o), RType::Float),
                    (a, b) => {
                        return self.error(Diagnostic::new(
                            ErrorKind::BranchMismatch { then: a.to_string(), otherwise: b.to_string() },
                            span,
                        ));
                    }
                };
                (RExprKind::If { cond: Box::new(c), then: Box::new(t), otherwise: Box::new(o) }, ty)
            }
            ExprKind::Call { callee, args } if callee.len() == 1 => {
                let name = &callee[0];
                let Some(f) = Builtin::lookup(&name.name) else {
                    let help = did_you_mean(&name.name, Builtin::ALL.map(Builtin::name)).or_else(|| {
                        let names = Builtin::ALL.map(Builtin::name);
                        Some(format!("the functions are {}", names.join(", ")))
                    });
                    return self.error(
                        Diagnostic::new(ErrorKind::UnknownFunction { name: name.name.clone() }, name.span)
                            .maybe_help(help),
                    );
                };
                if let Some(named) = args.iter().find_map(|a| a.name.as_ref()) {
                    return self.error(
                        Diagnostic::new(
                            ErrorKind::NotAllowedHere {
                                what: "a named argument".into(),
                                context: "a call of a reward function",
                            },
                            named.span,
                        )
                        .help(format!("pass the arguments of `{}` by position", name.name)),
                    );
                }
                if args.len() != f.arity() {
                    return self.error(Diagnostic::new(
                        ErrorKind::FunctionArity { name: name.name.clone(), expected: f.arity(), found: args.len() },
                        span,
                    ));
                }
                let mut out = Vec::new();
                for a in args {
                    let v = self.expr(&a.value)?;
                    if !v.ty.is_numeric() {
                        return self.error(Diagnostic::new(
                            ErrorKind::RewardTypeError {
                                op: name.name.clone(),
                                left: v.ty.to_string(),
                                right: String::new(),
                            },
                            a.value.span,
                        ));
                    }
                    out.push(to_float(v));
                }
                (RExprKind::Call { f, args: out }, RType::Float)
            }
            _ => {
                let what = match &expr.kind {
                    ExprKind::Str { .. } => "a string",
                    ExprKind::Duration(_) => "a duration",
                    ExprKind::Percent(_) => "a percent",
                    ExprKind::Metric { .. } => "a metric",
                    ExprKind::List(_) => "a list",
                    ExprKind::Record(_) => "a record",
                    _ => "this expression",
                };
                return self.error(
                    Diagnostic::new(
                        ErrorKind::NotAllowedHere { what: what.into(), context: "a reward expression" },
                        span,
                    )
                    .help("rewards compute with numbers and bools over event fields"),
                );
            }
        };
        Some(RExpr { kind, ty, span })
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        op_span: crate::Span,
        l: RExpr,
        r: RExpr,
        span: crate::Span,
        spans: (crate::Span, crate::Span),
    ) -> Option<RExpr> {
        let Some(rop) = ROp::from_syntax(op) else { unreachable!("`??` is handled by the caller") };
        let bad = |this: &mut Self, l: RType, r: RType| {
            this.error(
                Diagnostic::new(
                    ErrorKind::RewardTypeError { op: op.symbol().into(), left: l.to_string(), right: r.to_string() },
                    op_span,
                )
                .label(spans.0, format!("this is {l}"))
                .label(spans.1, format!("this is {r}")),
            )
        };
        let (lt, rt) = (l.ty, r.ty);
        let (l, r, ty) = match rop {
            ROp::And | ROp::Or => {
                if lt != RType::Bool || rt != RType::Bool {
                    return bad(self, lt, rt);
                }
                (l, r, RType::Bool)
            }
            ROp::Eq | ROp::Ne if lt == RType::Bool && rt == RType::Bool => (l, r, RType::Bool),
            ROp::Rem => {
                if lt != RType::Int || rt != RType::Int {
                    return bad(self, lt, rt);
                }
                (l, r, RType::Int)
            }
            _ if !lt.is_numeric() || !rt.is_numeric() => return bad(self, lt, rt),
            ROp::Div => (to_float(l), to_float(r), RType::Float),
            ROp::Add | ROp::Sub | ROp::Mul if lt == RType::Int && rt == RType::Int => (l, r, RType::Int),
            ROp::Add | ROp::Sub | ROp::Mul => (to_float(l), to_float(r), RType::Float),
            _ if lt == RType::Int && rt == RType::Int => (l, r, RType::Bool),
            _ => (to_float(l), to_float(r), RType::Bool),
        };
        Some(RExpr { kind: RExprKind::Binary { op: rop, left: Box::new(l), right: Box::new(r) }, ty, span })
    }

    /// `e.field`, optionally with a `??` default.
    fn field(
        &mut self,
        base: &Expr,
        field: &ast::Ident,
        default: Option<(RExpr, crate::Span)>,
        span: crate::Span,
    ) -> Option<RExpr> {
        match base.as_path() {
            Some([b]) if b.name == self.event => {}
            Some([b]) => {
                return self.error(Diagnostic::new(
                    ErrorKind::NotTheEvent { name: b.name.clone(), event: self.event.clone() },
                    b.span,
                ));
            }
            _ => {
                return self.error(Diagnostic::new(
                    ErrorKind::NotTheEvent { name: "this expression".into(), event: self.event.clone() },
                    base.span,
                ));
            }
        }
        let ty = match &self.dataset {
            Some((dataset, schema)) => match schema.column(&field.name) {
                Some(col) => RType::of_column(&col.ty),
                None => {
                    let help =
                        did_you_mean(&field.name, schema.columns.iter().map(|c| c.name.as_str())).or_else(|| {
                            Some(format!(
                                "its columns are {}",
                                schema.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                            ))
                        });
                    let dataset = dataset.clone();
                    return self.error(
                        Diagnostic::new(ErrorKind::UnknownField { field: field.name.clone(), dataset }, field.span)
                            .maybe_help(help),
                    );
                }
            },
            None => RType::Float,
        };
        let index = match self.fields.iter().position(|f| f.name == field.name) {
            Some(i) => i,
            None => {
                self.fields.push(RField { name: field.name.clone(), ty });
                self.fields.len() - 1
            }
        };
        let default = match default {
            None => None,
            Some((d, _)) if d.ty == ty => Some(Box::new(d)),
            Some((d, _)) if ty == RType::Float && d.ty == RType::Int => Some(Box::new(to_float(d))),
            Some((d, dspan)) => {
                return self.error(Diagnostic::new(
                    ErrorKind::TypeMismatch {
                        expected: format!("a {ty} default for `{}`", field.name),
                        found: d.ty.to_string(),
                    },
                    dspan,
                ));
            }
        };
        Some(RExpr { kind: RExprKind::Field { index, default }, ty, span })
    }
}
