//! Names and calls in workflow expressions: a path to a binding, a built-in step or constructor,
//! a composite step; each step call becomes a node of the plan.

use std::collections::HashMap;

use indexmap::IndexMap;

use super::args::Param;
use super::value::Site;
use super::{Checker, Symbol};
use crate::ast::{self, Arg, Ident, Item};
use crate::builtins::{self, CallKind, Signature};
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::program::{Node, StepOptions};
use crate::shape::{InputKind, TensorOp};
use crate::span::Span;
use crate::suggest::did_you_mean;
use crate::types::{Type, Value};

impl Checker<'_> {
    pub(super) fn check_path(
        &mut self,
        module: usize,
        path: &[Ident],
        expected: Option<&Type>,
        site: &mut Site,
    ) -> (Type, Value) {
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

    pub(super) fn check_call(
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
    pub(super) fn call_builtin(
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
            .map(|p| Param {
                name: p.name.to_string(),
                ty: p.ty.clone(),
                default: p.default.clone(),
                range: p.range,
                choices: p.choices,
            })
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
        if sig.kind == CallKind::Step {
            self.check_model_inputs(&values, span);
            if sig.qualified() == builtins::WITH_FEATURES {
                self.check_feature_tables(&values, args, span);
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

    /// A model a step trains (an argument, or inside a record or list such as `offline`'s
    /// `baseline`) reads only inputs the data supplies: `user` and `item`, and the columns of the
    /// tables `with_features` attached to the split, each of a type the input can read.
    fn check_model_inputs(&mut self, values: &IndexMap<String, Value>, span: Span) {
        fn models<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
            match v {
                Value::Model(q) => out.push(q),
                Value::Record(fields) => fields.values().for_each(|f| models(f, out)),
                Value::List(items) => items.iter().for_each(|i| models(i, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        values.values().for_each(|v| models(v, &mut found));
        if found.is_empty() {
            return;
        }
        // A table whose columns are not known here is checked when the step reads it.
        let Some(supplied) = self.supplied_features(values.get("data")) else { return };
        for q in found {
            let Some(def) = self.program.models.get(q) else { continue };
            let side: Vec<(String, InputKind, Span)> = def
                .nodes
                .iter()
                .filter_map(|n| match &n.op {
                    TensorOp::Input { name, kind } if !builtins::TRAINING_INPUTS.contains(&name.as_str()) => {
                        Some((name.clone(), *kind, n.span))
                    }
                    _ => None,
                })
                .collect();
            for (input, kind, at) in side {
                match supplied.iter().find(|c| c.name == input) {
                    None => self.error(
                        Diagnostic::new(
                            ErrorKind::InputNotSupplied { model: q.to_string(), input: input.clone() },
                            span,
                        )
                        .label(at, format!("`{input}` is declared here"))
                        .help(missing_feature_help(&input, &supplied)),
                    ),
                    Some(c) if !builtins::feature_reads(&kind, &c.ty) => self.error(
                        Diagnostic::new(
                            ErrorKind::FeatureType {
                                input: input.clone(),
                                kind: kind.to_string(),
                                column: c.name.clone(),
                                ty: c.ty.clone(),
                                dataset: c.dataset.clone(),
                            },
                            at,
                        )
                        .label(span, "trained here")
                        .help(feature_type_help(&kind)),
                    ),
                    Some(_) => {}
                }
            }
        }
    }

    /// The side-feature columns the split `data` carries: none unless it is `with_features`'s
    /// output; `None` when a table's columns are not known before it is read.
    fn supplied_features(&self, data: Option<&Value>) -> Option<Vec<SuppliedColumn>> {
        let Some(Value::Node(id)) = data else { return Some(Vec::new()) };
        let Some(node) = self.program.nodes.get(id).filter(|n| n.step == builtins::WITH_FEATURES) else {
            return Some(Vec::new());
        };
        let mut out = Vec::new();
        for (arg, key) in builtins::FEATURE_TABLES {
            let Some(table) = node.args.get(arg).filter(|v| **v != Value::Unset) else { continue };
            let schema = self.schema_of(table)?;
            let dataset = match table {
                Value::Node(n) => self.dataset_nodes.get(n).unwrap_or(n).clone(),
                _ => arg.to_string(),
            };
            out.extend(schema.columns.iter().filter(|c| c.name != key).map(|c| SuppliedColumn {
                name: c.name.clone(),
                ty: c.ty.clone(),
                dataset: dataset.clone(),
            }));
        }
        Some(out)
    }

    /// `with_features(split, items:, users:)`: each table has its key column, and no column name
    /// is in both (an input reads the one column of its name).
    fn check_feature_tables(&mut self, values: &IndexMap<String, Value>, args: &[Arg], span: Span) {
        let mut seen: Vec<(String, &str)> = Vec::new();
        for (arg, key) in builtins::FEATURE_TABLES {
            let Some(table) = values.get(arg) else { continue };
            let Some(schema) = self.schema_of(table) else { continue };
            let at =
                args.iter().find(|a| a.name.as_ref().is_some_and(|n| n.name == arg)).map_or(span, |a| a.value.span);
            match schema.column(key) {
                None => {
                    let columns = schema.columns.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>();
                    self.error(
                        Diagnostic::new(ErrorKind::FeatureKey { arg: arg.to_string(), key: key.to_string() }, at).help(
                            format!(
                                "its columns are {}; declare the key, e.g. `{key}: id = \"{key}_id\"`",
                                columns.join(", ")
                            ),
                        ),
                    );
                    continue;
                }
                Some(c) if !matches!(c.ty.as_str(), "id" | "int") => {
                    self.error(
                        Diagnostic::new(ErrorKind::FeatureKey { arg: arg.to_string(), key: key.to_string() }, at).help(
                            format!("`{key}` is a {} column; the interactions' ids are whole numbers (`id`)", c.ty),
                        ),
                    );
                    continue;
                }
                Some(_) => {}
            }
            for c in schema.columns.iter().filter(|c| c.name != key) {
                if let Some((_, other)) = seen.iter().find(|(n, _)| *n == c.name) {
                    self.error(
                        Diagnostic::new(ErrorKind::DuplicateColumn { column: c.name.clone() }, at)
                            .help(format!("`{other}:` has a column `{}` too; rename one in its schema", c.name)),
                    );
                }
                seen.push((c.name.clone(), arg));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn call_composite(
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
            params.push(Param { name: p.name.name.clone(), ty, default, range: None, choices: None });
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
    pub(super) fn add_node(
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

pub(super) fn item_kind(item: &Item) -> &'static str {
    // What a diagnostic calls it: a `let` holds a value.
    match item {
        Item::Let(_) => "value",
        other => other.keyword(),
    }
}

/// A side-feature column a split carries, for checking the model inputs that read it.
struct SuppliedColumn {
    name: String,
    /// One of `builtins::COLUMN_TYPES`.
    ty: String,
    /// The dataset it comes from, for messages.
    dataset: String,
}

fn missing_feature_help(input: &str, supplied: &[SuppliedColumn]) -> String {
    if supplied.is_empty() {
        return format!(
            "training feeds a model the ids `{}` from the interactions; attach attribute tables to the split with \
             `with_features(split, items: movies, users: people)` and name the input after a column",
            builtins::TRAINING_INPUTS.join("` and `")
        );
    }
    let names = supplied.iter().map(|c| c.name.as_str());
    let list = supplied.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>().join(", ");
    match did_you_mean(input, names) {
        Some(guess) => format!("{guess} The feature tables have {list}"),
        None => format!("an input reads the column of its name; the feature tables have {list}"),
    }
}

fn feature_type_help(kind: &InputKind) -> String {
    match kind {
        InputKind::MultiHot(_) => "`multi_hot(n)` reads a str column of tokens (`\"Action Comedy\"`)".into(),
        InputKind::Dense(n) if *n > 1 => format!("a column is one number: read it as `dense(1)`, not `dense({n})`"),
        InputKind::Dense(_) => "`dense(1)` reads an int, float or bool column".into(),
        InputKind::Id | InputKind::Categorical(_) => {
            "categories come from id, int, str or bool columns; a float column is `dense(1)`".into()
        }
    }
}
