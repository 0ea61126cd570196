//! Workflow-level declarations: params, datasets, `let`, `output`, optimizers, step options and
//! composite steps. Names and calls are in `calls`, metrics, guardrails and records in `literals`.

use std::collections::{BTreeMap, HashMap};

use super::literals::describe_literal;
use super::{Checker, Resolved};
use crate::ast::{self, Expr, ExprKind, Item, UnaryOp};
use crate::builtins;
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::program::{ColumnDef, DatasetDef, OptimizerDef, ParamDef, Schema, StepOptions};
use crate::suggest::did_you_mean;
use crate::types::{Type, Value};

/// The executors a step's `executor:` option may name.
const EXECUTORS: &[&str] = &["local", "slurm"];

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
        let sig = builtins::lookup(module, name)?;
        if sig.keeps_schema {
            return self.schema_of(node.args.get("data")?);
        }
        Some(schema_from_builtin(sig.schema.as_ref()?))
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
        const OPTIONS: &[&str] = &["retries", "timeout", "on_error", "resources", "executor"];
        for (name, value) in fields {
            match (name.name.as_str(), &value.kind) {
                ("retries", ExprKind::Int(n)) if *n >= 0 => options.retries = *n as u32,
                ("timeout", ExprKind::Duration(ms)) => options.timeout_ms = *ms,
                ("on_error", ExprKind::Str { value: s, .. })
                    if ["terminate", "finish", "ignore"].contains(&s.as_str()) =>
                {
                    options.on_error = s.clone()
                }
                ("executor", ExprKind::Str { value: s, .. }) if EXECUTORS.contains(&s.as_str()) => {
                    options.executor = Some(s.clone())
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
                        "executor" => "\"local\" or \"slurm\"",
                        _ => "a record such as `{ cpu: 1, gpu: 0.25 }`",
                    };
                    self.error(Diagnostic::new(
                        ErrorKind::TypeMismatch { expected: expected.into(), found: describe_literal(value) },
                        value.span,
                    ));
                }
                (other, _) => {
                    let help = did_you_mean(other, OPTIONS.iter().copied())
                        .or_else(|| Some("step options are retries, timeout, on_error, resources and executor".into()));
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

    pub(super) fn check_step_body(&mut self, module: usize, decl: &ast::StepDecl, mut site: Site) -> (Type, Value) {
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
