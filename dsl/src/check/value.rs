//! Workflow-level declarations and expressions: params, datasets, `let`, `output`, optimizers,
//! composite steps, and the calls that become nodes of the plan.

use std::collections::{BTreeMap, HashMap};

use super::args::Param;
use super::{Checker, Resolved, Symbol};
use crate::ast::{self, Arg, Expr, ExprKind, Ident, Item, UnaryOp};
use crate::builtins::{self, CallKind, Signature};
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::program::{ColumnDef, DatasetDef, Node, OptimizerDef, ParamDef, Schema, StepOptions};
use crate::span::Span;
use crate::suggest::did_you_mean;
use crate::types::{Type, Value};

/// Where an expression is being checked: the node id a step call at its top takes, the step
/// options that go with it, and the locals of a composite step's body.
#[derive(Clone, Default)]
pub(crate) struct Site {
    pub id: String,
    pub top: bool,
    pub options: StepOptions,
    pub locals: HashMap<String, (Type, Value)>,
}

impl Site {
    /// The site of a top-level binding called `id`.
    pub fn binding(id: String) -> Self {
        Site { id, top: true, ..Site::default() }
    }
}

impl Checker<'_> {
    pub(super) fn check_param(&mut self, module: usize, decl: &ast::ParamDecl) -> Resolved {
        let ty = self.type_of(&decl.ty);
        if ty != Type::Error && !ty.is_param_type() {
            self.error(
                Diagnostic::new(
                    ErrorKind::NotAllowedHere { what: format!("the type `{ty}`"), context: "a param" },
                    decl.ty.span,
                )
                .help("a param is int, float, bool, str, duration, percent, metric or a list of one of these"),
            );
        }
        let mut site = Site::binding(self.qualify(module, &decl.name.name));
        let (found, mut value) = self.check_expr(module, &decl.default, Some(&ty), &mut site);
        if !ty.accepts(&found) {
            self.error(Diagnostic::new(
                ErrorKind::TypeMismatch { expected: ty.to_string(), found: found.to_string() },
                decl.default.span,
            ));
        }
        let mut overridden = false;
        if module == 0 {
            if let Some(text) = self.overrides.remove(&decl.name.name) {
                if let Some(v) = self.check_override(&decl.name, &ty, &text) {
                    value = v;
                    overridden = true;
                }
            }
        }
        if let (Type::Float, Value::Int(i)) = (&ty, &value) {
            value = Value::Float(*i as f64);
        }
        let qual = self.qualify(module, &decl.name.name);
        self.program
            .params
            .insert(qual, ParamDef { ty: ty.to_string(), value: value.clone(), overridden, span: decl.span });
        Resolved { ty, value, schema: None }
    }

    /// A type as written, or `Type::Error` after reporting it.
    pub(super) fn type_of(&mut self, t: &ast::TypeExpr) -> Type {
        let arg = t.arg.as_ref().map(|a| self.type_of(a));
        if arg == Some(Type::Error) {
            return Type::Error;
        }
        match Type::from_name(&t.name.name, arg) {
            Some(ty) => ty,
            None => {
                let help = did_you_mean(&t.name.name, Type::NAMES.iter().copied());
                self.error(
                    Diagnostic::new(ErrorKind::UnknownType { name: t.name.name.clone() }, t.name.span).maybe_help(help),
                );
                Type::Error
            }
        }
    }

    pub(super) fn check_dataset(&mut self, module: usize, decl: &ast::DatasetDecl) -> Resolved {
        let id = self.qualify(module, &decl.name.name);
        let declared = decl.schema.as_ref().map(|cols| self.check_schema(cols));
        let (ty, value) = match &decl.source.kind {
            ExprKind::Str { value: path, .. } => {
                let path = self.data_file(module, path, decl.source.span);
                let mut args = indexmap::IndexMap::new();
                args.insert("path".to_string(), Value::Str(path));
                self.add_node(&id, "std::data::read_table", args, StepOptions::default(), decl.span);
                (Type::Dataset, Value::Node(id.clone()))
            }
            _ => {
                let mut site = Site::binding(id.clone());
                self.check_expr(module, &decl.source, Some(&Type::Dataset), &mut site)
            }
        };
        if !Type::Dataset.accepts(&ty) {
            self.error(
                Diagnostic::new(ErrorKind::NotADataset { found: ty.to_string() }, decl.source.span)
                    .help("write a path (`\"data/ratings.csv\"`) or call a step such as `load_interactions(...)`"),
            );
            return Resolved::error();
        }
        let schema = declared.or_else(|| self.schema_of(&value));
        if let (Some(schema), Value::Node(node)) = (&decl.schema.as_ref().and(schema.as_ref()), &value) {
            if let Some(n) = self.program.nodes.get_mut(node) {
                n.args.insert("columns".into(), schema_value(schema));
            }
        }
        if let Value::Node(node) = &value {
            self.dataset_nodes.insert(node.clone(), id.clone());
            self.program.datasets.insert(id, DatasetDef { node: node.clone(), schema: schema.clone() });
        }
        Resolved { ty: Type::Dataset, value, schema }
    }

    fn check_schema(&mut self, cols: &[ast::Column]) -> Schema {
        let mut schema = Schema::default();
        for col in cols {
            if let Some(prev) = schema.columns.iter().position(|c| c.name == col.name.name) {
                let first = cols[prev].name.span;
                self.error(
                    Diagnostic::new(ErrorKind::DuplicateColumn { column: col.name.name.clone() }, col.name.span)
                        .label(first, "first declared here"),
                );
                continue;
            }
            if !builtins::COLUMN_TYPES.contains(&col.ty.name.as_str()) {
                let help = did_you_mean(&col.ty.name, builtins::COLUMN_TYPES.iter().copied())
                    .or_else(|| Some(format!("column types are {}", builtins::COLUMN_TYPES.join(", "))));
                self.error(
                    Diagnostic::new(ErrorKind::UnknownColumnType { ty: col.ty.name.clone() }, col.ty.span)
                        .maybe_help(help),
                );
            }
            schema.columns.push(ColumnDef {
                name: col.name.name.clone(),
                ty: col.ty.name.clone(),
                source: col.from.as_ref().map(|(s, _)| s.clone()),
            });
        }
        schema
    }

    /// The columns of the dataset a value stands for, when known.
    pub(super) fn schema_of(&self, value: &Value) -> Option<Schema> {
        let Value::Node(id) = value else { return None };
        if let Some(d) = self.dataset_nodes.get(id).and_then(|name| self.program.datasets.get(name)) {
            return d.schema.clone();
        }
        let node = self.program.nodes.get(id)?;
        let (module, name) = node.step.rsplit_once("::")?;
        let cols = builtins::lookup(module, name)?.schema.as_ref()?;
        Some(schema_from_builtin(cols))
    }

    pub(super) fn check_let(&mut self, module: usize, decl: &ast::LetDecl) -> Resolved {
        let mut site = Site::binding(self.qualify(module, &decl.name.name));
        if let Some(options) = &decl.options {
            site.options = self.check_step_options(options);
        }
        let (ty, value) = self.check_expr(module, &decl.value, None, &mut site);
        let schema = self.schema_of(&value);
        Resolved { ty, value, schema }
    }

    pub(super) fn check_output(&mut self, module: usize, decl: &ast::OutputDecl) -> Resolved {
        let mut site = Site::binding(self.qualify(module, &decl.name.name));
        let (ty, value) = self.check_expr(module, &decl.value, None, &mut site);
        if module == 0 {
            self.program.outputs.insert(decl.name.name.clone(), value.clone());
        }
        Resolved { ty, value, schema: None }
    }

    pub(super) fn check_optimizer(&mut self, module: usize, decl: &ast::OptimizerDecl) -> Resolved {
        let qual = self.qualify(module, &decl.name.name);
        let mut site = Site::binding(qual.clone());
        let (ty, value) = self.check_expr(module, &decl.value, Some(&Type::Optimizer), &mut site);
        if !Type::Optimizer.accepts(&ty) {
            self.error(
                Diagnostic::new(
                    ErrorKind::TypeMismatch { expected: "optimizer".into(), found: ty.to_string() },
                    decl.value.span,
                )
                .help("e.g. `adam(lr: 1e-3)`, `sgd(lr: 0.01, momentum: 0.9)`, `adagrad(lr: 0.1)`"),
            );
            return Resolved::error();
        }
        let source = self.canonical(&Item::Optimizer(decl.clone()));
        self.program.optimizers.insert(qual.clone(), OptimizerDef { value, source });
        Resolved { ty: Type::Optimizer, value: Value::Optimizer(qual), schema: None }
    }

    fn check_step_options(&mut self, expr: &Expr) -> StepOptions {
        let mut options = StepOptions { on_error: "terminate".into(), ..StepOptions::default() };
        let ExprKind::Record(fields) = &expr.kind else { return options };
        const OPTIONS: &[&str] = &["retries", "timeout", "on_error", "resources"];
        for (name, value) in fields {
            match (name.name.as_str(), &value.kind) {
                ("retries", ExprKind::Int(n)) if *n >= 0 => options.retries = *n as u32,
                ("timeout", ExprKind::Duration(ms)) => options.timeout_ms = *ms,
                ("on_error", ExprKind::Str { value: s, .. })
                    if ["terminate", "finish", "ignore"].contains(&s.as_str()) =>
                {
                    options.on_error = s.clone()
                }
                ("resources", ExprKind::Record(units)) => {
                    for (unit, amount) in units {
                        let amount = match amount.kind {
                            ExprKind::Int(i) if i >= 0 => i as f64,
                            ExprKind::Float(f) if f >= 0.0 => f,
                            _ => {
                                self.error(Diagnostic::new(
                                    ErrorKind::TypeMismatch {
                                        expected: "a non-negative number".into(),
                                        found: "something else".into(),
                                    },
                                    amount.span,
                                ));
                                continue;
                            }
                        };
                        if !["cpu", "gpu", "llm"].contains(&unit.name.as_str()) {
                            let help = did_you_mean(&unit.name, ["cpu", "gpu", "llm"]);
                            self.error(
                                Diagnostic::new(
                                    ErrorKind::UnknownRecordField {
                                        field: unit.name.clone(),
                                        record: "resources".into(),
                                    },
                                    unit.span,
                                )
                                .maybe_help(help.or_else(|| Some("resources are `cpu`, `gpu` and `llm`".into()))),
                            );
                            continue;
                        }
                        options.resources.insert(unit.name.clone(), amount);
                    }
                }
                (known, _) if OPTIONS.contains(&known) => {
                    let expected = match known {
                        "retries" => "a whole number of retries",
                        "timeout" => "a duration such as `10m`",
                        "on_error" => "\"terminate\", \"finish\" or \"ignore\"",
                        _ => "a record such as `{ cpu: 1, gpu: 0.25 }`",
                    };
                    self.error(Diagnostic::new(
                        ErrorKind::TypeMismatch { expected: expected.into(), found: describe_literal(value) },
                        value.span,
                    ));
                }
                (other, _) => {
                    let help = did_you_mean(other, OPTIONS.iter().copied())
                        .or_else(|| Some("step options are retries, timeout, on_error and resources".into()));
                    self.error(
                        Diagnostic::new(ErrorKind::UnknownOption { option: other.to_string() }, name.span)
                            .maybe_help(help),
                    );
                }
            }
        }
        options
    }

    /// A composite step declaration, checked once on its own with placeholder inputs.
    pub(super) fn check_step_decl(&mut self, module: usize, decl: &ast::StepDecl) -> Resolved {
        let mut locals = HashMap::new();
        for p in &decl.params {
            let ty = self.type_of(&p.ty);
            if let Some(default) = &p.default {
                let (found, _) = self.check_expr(module, default, Some(&ty), &mut Site::default());
                if !ty.accepts(&found) {
                    self.error(Diagnostic::new(
                        ErrorKind::TypeMismatch { expected: ty.to_string(), found: found.to_string() },
                        default.span,
                    ));
                }
            }
            locals.insert(p.name.name.clone(), (ty, Value::Input(p.name.name.clone())));
        }
        self.dry += 1;
        let site = Site { id: self.qualify(module, &decl.name.name), top: true, locals, ..Site::default() };
        self.check_step_body(module, decl, site);
        self.dry -= 1;
        Resolved { ty: Type::Any, value: Value::Invalid, schema: None }
    }

    fn check_step_body(&mut self, module: usize, decl: &ast::StepDecl, mut site: Site) -> (Type, Value) {
        for l in &decl.body.lets {
            let mut inner = Site {
                id: format!("{}.{}", site.id, l.name.name),
                top: true,
                locals: site.locals.clone(),
                ..Site::default()
            };
            let resolved = self.check_expr(module, &l.value, None, &mut inner);
            site.locals.insert(l.name.name.clone(), resolved);
        }
        let expected = decl.ret.as_ref().map(|t| self.type_of(t));
        let (ty, value) = self.check_expr(module, &decl.body.result, expected.as_ref(), &mut site);
        if let Some(expected) = expected {
            if !expected.accepts(&ty) {
                self.error(Diagnostic::new(
                    ErrorKind::TypeMismatch { expected: expected.to_string(), found: ty.to_string() },
                    decl.body.result.span,
                ));
            }
            return (expected, value);
        }
        (ty, value)
    }

    /// Checks a workflow expression; `expected` guides bare names (online metrics, guardrails).
    pub(crate) fn check_expr(
        &mut self,
        module: usize,
        expr: &Expr,
        expected: Option<&Type>,
        site: &mut Site,
    ) -> (Type, Value) {
        match &expr.kind {
            ExprKind::Int(v) => (Type::Int, Value::Int(*v)),
            ExprKind::Float(v) => (Type::Float, Value::Float(*v)),
            ExprKind::Bool(v) => (Type::Bool, Value::Bool(*v)),
            ExprKind::Str { value, .. } => (Type::Str, Value::Str(value.clone())),
            ExprKind::Duration(ms) => (Type::Duration, Value::Duration(*ms)),
            ExprKind::Percent(p) => (Type::Percent, Value::Percent(*p)),
            ExprKind::Metric { name, k } => self.check_metric(name, *k, expr.span),
            ExprKind::Invalid => (Type::Error, Value::Invalid),
            ExprKind::Paren(inner) => self.check_expr(module, inner, expected, site),
            ExprKind::Path(path) => self.check_path(module, path, expected, site),
            ExprKind::Call { callee, args } => self.check_call(module, callee, args, expr.span, site),
            ExprKind::List(items) => {
                // A call inside a list is not the binding's own node: it gets a derived id.
                site.top = false;
                let elem = match expected {
                    Some(Type::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut ty = elem.clone().unwrap_or(Type::Any);
                let mut values = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let (t, v) = self.check_expr(module, item, elem.as_ref(), site);
                    if let Some(e) = &elem {
                        if !e.accepts(&t) {
                            self.error(Diagnostic::new(
                                ErrorKind::TypeMismatch { expected: e.to_string(), found: t.to_string() },
                                item.span,
                            ));
                        }
                    } else if i == 0 {
                        ty = t;
                    }
                    values.push(v);
                }
                (Type::List(Box::new(ty)), Value::List(values))
            }
            ExprKind::Record(fields) => {
                site.top = false;
                self.check_record(module, fields, expected, site)
            }
            ExprKind::Unary { op: UnaryOp::Neg, operand } => {
                let (ty, value) = self.check_expr(module, operand, expected, site);
                let negated = match value {
                    Value::Int(v) => Value::Int(-v),
                    Value::Float(v) => Value::Float(-v),
                    Value::Percent(v) => Value::Percent(-v),
                    Value::Invalid => Value::Invalid,
                    _ => return self.not_here(expr, "negation of a non-number"),
                };
                (ty, negated)
            }
            ExprKind::Binary { op, left, right, .. } if op.is_comparison() && expected == Some(&Type::Guardrail) => {
                self.check_guardrail(module, op.symbol(), left, right, site)
            }
            ExprKind::Unary { .. } | ExprKind::Binary { .. } => self.not_here(expr, "arithmetic"),
            ExprKind::Field { .. } => self.not_here(expr, "field access"),
            ExprKind::If { .. } => self.not_here(expr, "`if`"),
        }
    }

    fn not_here(&mut self, expr: &Expr, what: &str) -> (Type, Value) {
        self.error(
            Diagnostic::new(
                ErrorKind::NotAllowedHere { what: what.to_string(), context: "a workflow expression" },
                expr.span,
            )
            .help("workflows pass values between steps; compute inside a `reward` or `model` block"),
        );
        (Type::Error, Value::Invalid)
    }

    fn check_metric(&mut self, name: &str, k: u32, span: Span) -> (Type, Value) {
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

    fn check_online_metric(&mut self, ident: &Ident) -> (Type, Value) {
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

    fn check_guardrail(
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

    fn check_record(
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

    fn check_path(&mut self, module: usize, path: &[Ident], expected: Option<&Type>, site: &mut Site) -> (Type, Value) {
        if let [ident] = path {
            if expected == Some(&Type::OnlineMetric) {
                return self.check_online_metric(ident);
            }
            if let Some(local) = site.locals.get(&ident.name) {
                return local.clone();
            }
        }
        let span = path[0].span.to(path[path.len() - 1].span);
        match self.lookup(module, path, "name") {
            None => (Type::Error, Value::Invalid),
            Some(Symbol::Builtin(sig)) => {
                let call = if sig.params.iter().all(|p| p.default.is_some()) { "()" } else { "(...)" };
                self.error(
                    Diagnostic::new(
                        ErrorKind::NotAllowedHere {
                            what: format!("`{}` without a call", sig.name),
                            context: "a value position",
                        },
                        span,
                    )
                    .help(format!("call it: `{}{call}`", sig.name)),
                );
                (Type::Error, Value::Invalid)
            }
            Some(Symbol::Item { module: m, index }) => {
                if let Item::Step(decl) = &self.modules.get(m).items()[index] {
                    let name = decl.name.name.clone();
                    self.error(
                        Diagnostic::new(
                            ErrorKind::NotAllowedHere {
                                what: format!("the step `{name}` without a call"),
                                context: "a value position",
                            },
                            span,
                        )
                        .help(format!("call it: `{name}(...)`")),
                    );
                    return (Type::Error, Value::Invalid);
                }
                let r = self.resolve_item(m, index, span);
                (r.ty, r.value)
            }
        }
    }

    fn check_call(
        &mut self,
        module: usize,
        callee: &[Ident],
        args: &[Arg],
        span: Span,
        site: &mut Site,
    ) -> (Type, Value) {
        let is_top = std::mem::replace(&mut site.top, false);
        let name = callee.last().unwrap().name.clone();
        let id = if is_top { site.id.clone() } else { format!("{}.{name}", site.id) };
        match self.lookup(module, callee, "step or function") {
            None => {
                for a in args {
                    self.check_expr(module, &a.value, None, site);
                }
                (Type::Error, Value::Invalid)
            }
            Some(Symbol::Builtin(sig)) => self.call_builtin(module, sig, args, span, id, is_top, site),
            Some(Symbol::Item { module: m, index }) => match self.modules.get(m).items()[index].clone() {
                Item::Step(decl) => self.call_composite(module, m, &decl, args, span, id, site),
                other => {
                    let what = item_kind(&other);
                    self.error(
                        Diagnostic::new(
                            ErrorKind::NotCallable { name, what },
                            callee[0].span.to(callee[callee.len() - 1].span),
                        )
                        .help("only steps and constructors such as `adam(...)` take arguments"),
                    );
                    (Type::Error, Value::Invalid)
                }
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn call_builtin(
        &mut self,
        module: usize,
        sig: &'static Signature,
        args: &[Arg],
        span: Span,
        id: String,
        is_top: bool,
        site: &mut Site,
    ) -> (Type, Value) {
        let params: Vec<Param> = sig
            .params
            .iter()
            .map(|p| Param { name: p.name.to_string(), ty: p.ty.clone(), default: p.default.clone(), range: p.range })
            .collect();
        let mut child =
            Site { id: id.clone(), top: false, options: StepOptions::default(), locals: site.locals.clone() };
        let mut values = self.match_args(module, sig.name, &params, args, span, &mut child);
        if sig.kind == CallKind::Step {
            // A step's `path` is relative to the `.evo` file that wrote it, like `use` and
            // `dataset d = "..."`; the engine runs from anywhere.
            if let Some(Value::Str(path)) = values.get("path") {
                let at = args
                    .iter()
                    .find(|a| a.name.as_ref().is_some_and(|n| n.name == "path"))
                    .or_else(|| args.first().filter(|a| a.name.is_none()))
                    .map_or(span, |a| a.value.span);
                let resolved = self.data_file(module, &path.clone(), at);
                values.insert("path".to_string(), Value::Str(resolved));
            }
        }
        match sig.kind {
            CallKind::Value => {
                let args = values.into_iter().filter(|(_, v)| *v != Value::Unset).collect();
                (sig.returns.clone(), Value::Object { ctor: sig.name.to_string(), args })
            }
            CallKind::Step => {
                let options = if is_top { std::mem::take(&mut site.options) } else { StepOptions::default() };
                let id = self.add_node(&id, &sig.qualified(), values, options, span);
                (sig.returns.clone(), Value::Node(id))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn call_composite(
        &mut self,
        module: usize,
        step_module: usize,
        decl: &ast::StepDecl,
        args: &[Arg],
        span: Span,
        id: String,
        site: &mut Site,
    ) -> (Type, Value) {
        let key = format!("{step_module}:{}", decl.name.name);
        if site.locals.contains_key(&format!("\0expanding:{key}")) {
            self.error(
                Diagnostic::new(ErrorKind::DataflowCycle { cycle: format!("{0} → {0}", decl.name.name) }, span)
                    .help("a composite step cannot call itself"),
            );
            return (Type::Error, Value::Invalid);
        }
        let mut params = Vec::new();
        for p in &decl.params {
            let ty = self.type_of(&p.ty);
            let default =
                p.default.as_ref().map(|d| self.check_expr(step_module, d, Some(&ty), &mut Site::default()).1);
            params.push(Param { name: p.name.name.clone(), ty, default, range: None });
        }
        let mut child =
            Site { id: id.clone(), top: false, options: StepOptions::default(), locals: site.locals.clone() };
        let values = self.match_args(module, &decl.name.name, &params, args, span, &mut child);
        let mut locals: HashMap<String, (Type, Value)> =
            params.iter().map(|p| (p.name.clone(), (p.ty.clone(), values[&p.name].clone()))).collect();
        locals.insert(format!("\0expanding:{key}"), (Type::Error, Value::Invalid));
        let body_site = Site { id, top: true, options: std::mem::take(&mut site.options), locals };
        self.check_step_body(step_module, decl, body_site)
    }

    /// Adds a node to the plan (unless checking dry) and returns its id, made unique.
    fn add_node(
        &mut self,
        id: &str,
        step: &str,
        args: indexmap::IndexMap<String, Value>,
        options: StepOptions,
        span: Span,
    ) -> String {
        let mut unique = id.to_string();
        let mut n = 2;
        while self.program.nodes.contains_key(&unique) {
            unique = format!("{id}#{n}");
            n += 1;
        }
        if self.dry == 0 {
            let options = if options.on_error.is_empty() {
                StepOptions { on_error: "terminate".into(), ..options }
            } else {
                options
            };
            self.program.nodes.insert(
                unique.clone(),
                Node { id: unique.clone(), step: step.to_string(), args, options, blocks: Default::default(), span },
            );
        }
        unique
    }
}

fn item_kind(item: &Item) -> &'static str {
    match item {
        Item::Use(_) => "use",
        Item::Param(_) => "param",
        Item::Dataset(_) => "dataset",
        Item::Let(_) => "value",
        Item::Model(_) => "model",
        Item::Reward(_) => "reward",
        Item::Optimizer(_) => "optimizer",
        Item::Persona(_) => "persona",
        Item::Step(_) => "step",
        Item::Output(_) => "output",
    }
}

fn describe_literal(expr: &Expr) -> String {
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

fn schema_value(schema: &Schema) -> Value {
    Value::List(
        schema
            .columns
            .iter()
            .map(|c| {
                let mut r = BTreeMap::new();
                r.insert("name".to_string(), Value::Str(c.name.clone()));
                r.insert("type".to_string(), Value::Str(c.ty.clone()));
                if let Some(s) = &c.source {
                    r.insert("source".to_string(), Value::Str(s.clone()));
                }
                Value::Record(r)
            })
            .collect(),
    )
}

/// A schema from a built-in step's declared columns.
pub(crate) fn schema_from_builtin(cols: &[(&str, &str)]) -> Schema {
    Schema {
        columns: cols.iter().map(|(n, t)| ColumnDef { name: n.to_string(), ty: t.to_string(), source: None }).collect(),
    }
}
