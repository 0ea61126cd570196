//! Model blocks: inputs and tensor operations, with static shape inference. A mismatch is an
//! error that points at the operation and labels each operand with its shape.

use std::collections::{HashMap, HashSet};

use super::{Checker, Resolved};
use crate::ast::{self, BinaryOp, Expr, ExprKind, Item, ModelStmt};
use crate::builtins::TRAINING_INPUTS;
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::shape::{graph_side, Activation, InputKind, ModelDef, Shape, TensorNode, TensorOp};
use crate::span::Span;
use crate::suggest::did_you_mean;
use crate::types::{Type, Value};

/// Every operation a model may call, with its parameter names.
const OPS: &[(&str, &[&str])] = &[
    ("embed", &["input", "dim"]),
    ("dense", &["input", "units"]),
    ("relu", &["input"]),
    ("gelu", &["input"]),
    ("silu", &["input"]),
    ("sigmoid", &["input"]),
    ("tanh", &["input"]),
    ("layer_norm", &["input"]),
    ("dropout", &["input", "p"]),
    ("concat", &[]),
    ("dot", &["left", "right"]),
    ("sum", &["input"]),
    ("mean", &["input"]),
    ("cross", &["x0", "x"]),
    ("propagate", &["input", "steps"]),
];

/// The most propagation steps a model may take: LightGCN's embeddings smooth towards the graph's
/// stationary vector as steps grow, and its paper stops at 4.
const MAX_PROPAGATION: u64 = 8;

struct ModelChecker<'c, 'a> {
    checker: &'c mut Checker<'a>,
    nodes: Vec<TensorNode>,
    names: HashMap<String, usize>,
    /// Names whose definition was already reported as wrong: using them reports nothing more.
    failed: HashSet<String>,
    /// A `propagate` call was reported as wrong: the graph it belonged to is not checked again.
    bad_propagate: bool,
}

impl Checker<'_> {
    pub(super) fn check_model(&mut self, module: usize, decl: &ast::ModelDecl) -> Resolved {
        let qual = self.qualify(module, &decl.name.name);
        let source = self.canonical(&Item::Model(decl.clone()));
        let resolved = Resolved { ty: Type::Model, value: Value::Model(qual.clone()), schema: None };
        // Without inputs every line refers to names that do not exist: report that alone.
        if !decl.stmts.iter().any(|s| matches!(s, ModelStmt::Input { .. })) {
            self.error(
                Diagnostic::new(ErrorKind::NoInputs { model: decl.name.name.clone() }, decl.name.span)
                    .help("declare what the model reads, e.g. `input user: id, item: id`"),
            );
            return resolved;
        }
        let before = self.diags.len();
        let mut m = ModelChecker {
            checker: self,
            nodes: Vec::new(),
            names: HashMap::new(),
            failed: HashSet::new(),
            bad_propagate: false,
        };
        let mut last = None;
        for stmt in &decl.stmts {
            match stmt {
                ModelStmt::Input { inputs, .. } => {
                    for input in inputs {
                        m.input(input);
                        if !m.names.contains_key(&input.name.name) {
                            m.failed.insert(input.name.name.clone());
                        }
                    }
                }
                ModelStmt::Assign { name, value, .. } => {
                    let index = m.expr(value);
                    if m.names.contains_key(&name.name) {
                        m.checker.error(
                            Diagnostic::new(ErrorKind::Duplicate { name: name.name.clone() }, name.span)
                                .help("give each value in a model its own name"),
                        );
                    } else if let Some(i) = index {
                        if m.nodes[i].binding.is_none() {
                            m.nodes[i].binding = Some(name.name.clone());
                        }
                        m.names.insert(name.name.clone(), i);
                    } else {
                        m.failed.insert(name.name.clone());
                    }
                    last = Some((index, value.span));
                }
            }
        }
        m.check_graph();
        let nodes = std::mem::take(&mut m.nodes);
        let output = match last {
            Some((Some(i), span)) => {
                if nodes[i].shape != Shape::Vector(1) {
                    self.error(
                        Diagnostic::new(ErrorKind::ModelOutput { shape: nodes[i].shape.to_string() }, span)
                            .help("end with a score, e.g. `score = dense(x, 1)` or `score = dot(u, i)`"),
                    );
                }
                Some(i)
            }
            Some((None, _)) => None,
            None => {
                self.error(
                    Diagnostic::new(ErrorKind::ModelOutput { shape: "nothing".into() }, decl.name.span)
                        .help("a model's last line is its score, e.g. `score = dot(u, i)`"),
                );
                None
            }
        };
        if self.diags.len() > before {
            return resolved;
        }
        let def = ModelDef { name: qual.clone(), nodes, output: output.unwrap_or(0), source };
        self.program.models.insert(qual, def);
        resolved
    }
}

impl ModelChecker<'_, '_> {
    fn push(&mut self, op: TensorOp, shape: Shape, span: Span) -> usize {
        self.nodes.push(TensorNode { op, shape, binding: None, span });
        self.nodes.len() - 1
    }

    fn input(&mut self, input: &ast::InputDecl) {
        let size = match &input.size {
            Some(Expr { kind: ExprKind::Int(n), .. }) if *n > 0 => Some(*n as u64),
            Some(e) => {
                self.checker.error(Diagnostic::new(
                    ErrorKind::TypeMismatch {
                        expected: "a positive whole number".into(),
                        found: format!("`{}`", self.text(e)),
                    },
                    e.span,
                ));
                return;
            }
            None => None,
        };
        let (kind, shape) = match (input.kind.name.as_str(), size) {
            ("id", None) => (InputKind::Id, Shape::Ids { vocab: None }),
            ("categorical", Some(n)) => (InputKind::Categorical(n), Shape::Ids { vocab: Some(n) }),
            ("dense", Some(n)) => (InputKind::Dense(n), Shape::Vector(n)),
            ("multi_hot", Some(n)) => (InputKind::MultiHot(n), Shape::Vector(n)),
            ("categorical" | "dense" | "multi_hot", None) => {
                self.checker.error(Diagnostic::new(
                    ErrorKind::LayerArity {
                        op: input.kind.name.clone(),
                        expected: format!(
                            "a size, e.g. `{}`",
                            match input.kind.name.as_str() {
                                "dense" => "dense(4)",
                                "multi_hot" => "multi_hot(19)",
                                _ => "categorical(20)",
                            }
                        ),
                        found: 0,
                    },
                    input.kind.span,
                ));
                return;
            }
            ("id", Some(_)) => {
                let at = input.size.as_ref().map_or(input.span, |s| s.span);
                self.checker.error(
                    Diagnostic::new(
                        ErrorKind::LayerArity { op: "id".into(), expected: "no size".into(), found: 1 },
                        at,
                    )
                    .help("id vocabularies come from the data; use `categorical(n)` for a fixed one"),
                );
                return;
            }
            (other, _) => {
                let help = did_you_mean(other, ["id", "dense", "categorical", "multi_hot"])
                    .or_else(|| Some("inputs are `id`, `dense(n)`, `categorical(n)` or `multi_hot(n)`".into()));
                self.checker.error(
                    Diagnostic::new(ErrorKind::UnknownInputKind { kind: other.to_string() }, input.kind.span)
                        .maybe_help(help),
                );
                return;
            }
        };
        if self.names.contains_key(&input.name.name) {
            self.checker
                .error(Diagnostic::new(ErrorKind::Duplicate { name: input.name.name.clone() }, input.name.span));
            return;
        }
        let i = self.push(TensorOp::Input { name: input.name.name.clone(), kind }, shape, input.span);
        self.nodes[i].binding = Some(input.name.name.clone());
        self.names.insert(input.name.name.clone(), i);
    }

    /// The node an expression evaluates to, or `None` after reporting why it has none.
    fn expr(&mut self, expr: &Expr) -> Option<usize> {
        match &expr.kind {
            ExprKind::Path(path) if path.len() == 1 => {
                let name = &path[0];
                match self.names.get(&name.name) {
                    Some(i) => Some(*i),
                    None if self.failed.contains(&name.name) => None,
                    None => {
                        let help = did_you_mean(&name.name, self.names.keys().map(String::as_str));
                        self.checker.error(
                            Diagnostic::new(
                                ErrorKind::UnknownName { name: name.name.clone(), what: "model input or value" },
                                name.span,
                            )
                            .maybe_help(help),
                        );
                        None
                    }
                }
            }
            ExprKind::Int(v) => Some(self.push(TensorOp::Constant(*v as f64), Shape::Scalar, expr.span)),
            ExprKind::Float(v) => Some(self.push(TensorOp::Constant(*v), Shape::Scalar, expr.span)),
            ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Invalid => None,
            ExprKind::Binary { op: op @ (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul), op_span, left, right } => {
                let (l, r) = (self.expr(left), self.expr(right));
                let (l, r) = (l?, r?);
                let shape = match (self.nodes[l].shape, self.nodes[r].shape) {
                    (Shape::Vector(a), Shape::Vector(b)) if a == b => Shape::Vector(a),
                    (Shape::Vector(a), Shape::Vector(1)) | (Shape::Vector(1), Shape::Vector(a)) => Shape::Vector(a),
                    (Shape::Vector(a), Shape::Scalar) | (Shape::Scalar, Shape::Vector(a)) => Shape::Vector(a),
                    (Shape::Scalar, Shape::Scalar) => Shape::Scalar,
                    (a, b) => {
                        self.mismatch(op.symbol(), *op_span, (left.span, a), (right.span, b));
                        return None;
                    }
                };
                let op = match op {
                    BinaryOp::Add => TensorOp::Add { left: l, right: r },
                    BinaryOp::Sub => TensorOp::Sub { left: l, right: r },
                    _ => TensorOp::Mul { left: l, right: r },
                };
                Some(self.push(op, shape, expr.span))
            }
            ExprKind::Call { callee, args } if callee.len() == 1 => self.call(&callee[0], args, expr.span),
            _ => {
                let (what, at) = match &expr.kind {
                    ExprKind::Binary { op, op_span, .. } => (format!("`{}`", op.symbol()), *op_span),
                    ExprKind::Str { .. } => ("a string".into(), expr.span),
                    ExprKind::If { .. } => ("`if`".into(), expr.span),
                    _ => ("this expression".into(), expr.span),
                };
                self.checker.error(
                    Diagnostic::new(ErrorKind::NotAllowedHere { what, context: "a model block" }, at)
                        .help("models combine tensors with layers and `+`, `-`, `*`"),
                );
                None
            }
        }
    }

    fn mismatch(&mut self, op: &str, at: Span, left: (Span, Shape), right: (Span, Shape)) {
        self.checker.error(
            Diagnostic::new(
                ErrorKind::ShapeMismatch { op: op.to_string(), left: left.1.to_string(), right: right.1.to_string() },
                at,
            )
            .label(left.0, format!("this is {}", left.1))
            .label(right.0, format!("this is {}", right.1)),
        );
    }

    fn call(&mut self, callee: &ast::Ident, args: &[ast::Arg], span: Span) -> Option<usize> {
        let name = callee.name.as_str();
        let Some((_, params)) = OPS.iter().find(|(n, _)| *n == name) else {
            let help = did_you_mean(name, OPS.iter().map(|(n, _)| *n)).or_else(|| {
                let ops: Vec<&str> = OPS.iter().map(|(n, _)| *n).collect();
                Some(format!("the layers and operations are {}", ops.join(", ")))
            });
            self.checker.error(
                Diagnostic::new(ErrorKind::UnknownLayer { name: name.to_string() }, callee.span).maybe_help(help),
            );
            return None;
        };
        // Order the arguments by parameter (concat takes any number, all positional).
        let mut ordered: Vec<Option<&Expr>> = vec![None; params.len().max(args.len())];
        for (i, arg) in args.iter().enumerate() {
            let slot = match &arg.name {
                Some(n) => match params.iter().position(|p| *p == n.name) {
                    Some(s) => s,
                    None => {
                        let help = did_you_mean(&n.name, params.iter().copied()).or_else(|| {
                            Some(match params.is_empty() {
                                true => format!("`{name}` takes its inputs by position"),
                                false => format!("`{name}` takes {}", params.join(", ")),
                            })
                        });
                        self.checker.error(
                            Diagnostic::new(
                                ErrorKind::UnknownArgument { callee: name.to_string(), arg: n.name.clone() },
                                n.span,
                            )
                            .maybe_help(help),
                        );
                        return None;
                    }
                },
                None => i,
            };
            ordered[slot] = Some(&arg.value);
        }
        let expected = match name {
            "concat" => "at least 2 arguments".to_string(),
            _ => {
                format!("{} argument{} ({})", params.len(), if params.len() == 1 { "" } else { "s" }, params.join(", "))
            }
        };
        let arity_ok = if name == "concat" {
            args.len() >= 2
        } else {
            args.len() == params.len() && ordered.iter().all(Option::is_some)
        };
        if !arity_ok {
            self.checker.error(Diagnostic::new(
                ErrorKind::LayerArity { op: name.to_string(), expected, found: args.len() },
                span,
            ));
            return None;
        }
        let ordered: Vec<&Expr> = ordered.into_iter().flatten().collect();
        match name {
            "embed" => {
                let x = self.expr(ordered[0])?;
                let dim = self.positive(ordered[1])?;
                match self.nodes[x].shape {
                    Shape::Ids { .. } => Some(self.push(TensorOp::Embed { input: x, dim }, Shape::Vector(dim), span)),
                    other => {
                        self.checker.error(
                            Diagnostic::new(
                                ErrorKind::ExpectedIds { op: "embed".into(), found: other.to_string() },
                                ordered[0].span,
                            )
                            .help("embed an `id` or `categorical` input; a dense or multi-hot vector goes through `dense` instead"),
                        );
                        None
                    }
                }
            }
            "dense" => {
                let x = self.vector(name, ordered[0])?;
                let units = self.positive(ordered[1])?;
                Some(self.push(TensorOp::Dense { input: x, units }, Shape::Vector(units), span))
            }
            "relu" | "gelu" | "silu" | "sigmoid" | "tanh" => {
                let x = self.vector(name, ordered[0])?;
                let f = Activation::from_name(name).unwrap();
                Some(self.push(TensorOp::Activation { input: x, f }, self.nodes[x].shape, span))
            }
            "layer_norm" => {
                let x = self.vector(name, ordered[0])?;
                Some(self.push(TensorOp::LayerNorm { input: x }, self.nodes[x].shape, span))
            }
            "dropout" => {
                let x = self.vector(name, ordered[0])?;
                let p = match ordered[1].kind {
                    ExprKind::Float(p) if (0.0..1.0).contains(&p) => p,
                    ExprKind::Int(0) => 0.0,
                    _ => {
                        self.checker.error(Diagnostic::new(
                            ErrorKind::OutOfRange {
                                what: "the dropout rate".into(),
                                value: self.text(ordered[1]),
                                range: "[0, 1)".into(),
                            },
                            ordered[1].span,
                        ));
                        return None;
                    }
                };
                Some(self.push(TensorOp::Dropout { input: x, p }, self.nodes[x].shape, span))
            }
            "concat" => {
                let mut inputs = Vec::new();
                let mut width = 0;
                for e in &ordered {
                    let x = self.vector(name, e)?;
                    if let Shape::Vector(d) = self.nodes[x].shape {
                        width += d;
                    }
                    inputs.push(x);
                }
                Some(self.push(TensorOp::Concat { inputs }, Shape::Vector(width), span))
            }
            "dot" | "cross" => {
                let (l, r) = (self.vector(name, ordered[0]), self.vector(name, ordered[1]));
                let (l, r) = (l?, r?);
                let (a, b) = (self.nodes[l].shape, self.nodes[r].shape);
                if a != b {
                    self.mismatch(name, callee.span, (ordered[0].span, a), (ordered[1].span, b));
                    return None;
                }
                let (op, shape) = if name == "dot" {
                    (TensorOp::Dot { left: l, right: r }, Shape::Vector(1))
                } else {
                    (TensorOp::Cross { x0: l, x: r }, a)
                };
                Some(self.push(op, shape, span))
            }
            "propagate" => {
                let node = self.propagate(ordered[0], ordered[1], span);
                self.bad_propagate |= node.is_none();
                node
            }
            _ => {
                let x = self.vector(name, ordered[0])?;
                let op = if name == "sum" { TensorOp::Sum { input: x } } else { TensorOp::Mean { input: x } };
                Some(self.push(op, Shape::Vector(1), span))
            }
        }
    }

    /// `propagate(x, steps)`: `x` must embed `user` or `item`.
    fn propagate(&mut self, operand: &Expr, steps: &Expr, span: Span) -> Option<usize> {
        let x = self.expr(operand)?;
        let at = steps.span;
        let steps = self.positive(steps)?;
        if steps > MAX_PROPAGATION {
            self.checker.error(Diagnostic::new(
                ErrorKind::OutOfRange {
                    what: "the propagation steps".into(),
                    value: steps.to_string(),
                    range: format!("[1, {MAX_PROPAGATION}]"),
                },
                at,
            ));
            return None;
        }
        if graph_side(&self.nodes, x).is_none() {
            let found = format!("`{}`", self.text(operand));
            self.checker.error(
                    Diagnostic::new(ErrorKind::PropagateOperand { found }, operand.span)
                        .help("propagate the id tables themselves: `propagate(embed(user, 64), 3)` and `propagate(embed(item, 64), 3)`"),
                );
            return None;
        }
        Some(self.push(TensorOp::Propagate { input: x, steps }, self.nodes[x].shape, span))
    }

    /// Propagation is over one graph: the user table and the item table it mixes must both be
    /// propagated, one of each, of the same width.
    fn check_graph(&mut self) {
        if self.bad_propagate {
            return;
        }
        let mut tables: Vec<(usize, &str, Span)> = Vec::new();
        for node in &self.nodes {
            if let TensorOp::Propagate { input, .. } = node.op {
                let side = graph_side(&self.nodes, input).expect("checked at the call");
                if !tables.iter().any(|t| t.0 == input) {
                    tables.push((input, side, node.span));
                }
            }
        }
        let Some(&(_, _, first)) = tables.first() else { return };
        let width = |n: usize| self.nodes[n].shape.to_string();
        let side = |name: &str| tables.iter().filter(|t| t.1 == name).collect::<Vec<_>>();
        let why = match [side(TRAINING_INPUTS[0]), side(TRAINING_INPUTS[1])] {
            [users, items] if users.len() > 1 || items.len() > 1 => {
                let (side, extra) = if users.len() > 1 { ("user", users[1]) } else { ("item", items[1]) };
                Some((format!("a second {side} table is propagated"), extra.2))
            }
            [users, items] if users.is_empty() || items.is_empty() => {
                let missing = if users.is_empty() { "user" } else { "item" };
                Some((format!("no {missing} table is propagated"), first))
            }
            [users, items] if width(users[0].0) != width(items[0].0) => Some((
                format!("the user table is {}, the item table {}", width(users[0].0), width(items[0].0)),
                items[0].2,
            )),
            _ => None,
        };
        if let Some((why, at)) = why {
            self.checker.error(
                Diagnostic::new(ErrorKind::PropagatePair { why }, at).help(
                    "propagate both sides of the graph, equally wide: `u = propagate(embed(user, 64), 3)` and `i = propagate(embed(item, 64), 3)`",
                ),
            );
        }
    }

    /// An operand that must be a dense vector.
    fn vector(&mut self, op: &str, expr: &Expr) -> Option<usize> {
        let x = self.expr(expr)?;
        match self.nodes[x].shape {
            Shape::Vector(_) => Some(x),
            other => {
                let help = matches!(other, Shape::Ids { .. })
                    .then(|| "turn ids into vectors first, e.g. `embed(user, 32)`".to_string());
                self.checker.error(
                    Diagnostic::new(
                        ErrorKind::ExpectedTensor { op: op.to_string(), found: other.to_string() },
                        expr.span,
                    )
                    .maybe_help(help),
                );
                None
            }
        }
    }

    fn positive(&mut self, expr: &Expr) -> Option<u64> {
        match expr.kind {
            ExprKind::Int(n) if n > 0 => Some(n as u64),
            _ => {
                let help = match &expr.kind {
                    ExprKind::Str { value, .. } if Activation::from_name(value).is_some() => {
                        Some(format!("an activation is a layer of its own: `{value}(dense(x, 32))`"))
                    }
                    _ => None,
                };
                self.checker.error(
                    Diagnostic::new(
                        ErrorKind::TypeMismatch {
                            expected: "a positive whole number".into(),
                            found: format!("`{}`", self.text(expr)),
                        },
                        expr.span,
                    )
                    .maybe_help(help),
                );
                None
            }
        }
    }

    fn text(&self, expr: &Expr) -> String {
        expr.span.text(self.checker.sources).to_string()
    }
}

#[cfg(test)]
mod reference_tests {
    #[test]
    fn the_reference_names_every_operation() {
        let text: String = crate::shape::REFERENCE.iter().map(|r| r.0).collect();
        for (op, _) in super::OPS {
            assert!(
                text.contains(&format!("`{op}")) || text.contains(&format!(", `{op}`")),
                "`{op}` is not in the reference"
            );
        }
    }
}

#[cfg(test)]
mod graph_tests {
    /// The message of each error `body` (inside `model m { input user: id, item: id ... }`) gets.
    fn errors(body: &str) -> Vec<String> {
        let text = format!("model m {{\n  input user: id, item: id, genre: categorical(5)\n{body}\n}}\n");
        match crate::check("t.evo", &text, &crate::NoFiles, &[]).result {
            Ok(_) => vec![],
            Err(diags) => diags.iter().map(|d| format!("{}: {}", d.code(), d.kind)).collect(),
        }
    }

    #[test]
    fn both_sides_of_one_width_propagate_with_any_steps() {
        let ok = "  u = propagate(embed(user, 8), 1)\n  i = propagate(embed(item, 8), 4)\n  s = dot(u, i)";
        assert_eq!(errors(ok), Vec::<String>::new());
    }

    #[test]
    fn the_graph_takes_one_table_per_side_of_one_width() {
        let wide = errors("  u = propagate(embed(user, 8), 2)\n  i = propagate(embed(item, 16), 2)\n  s = dot(dense(u, 4), dense(i, 4))");
        assert_eq!(
            wide,
            ["E0411: `propagate` mixes one user table with one item table: the user table is [8], the item table [16]"]
        );
        let twice = errors(
            "  u = propagate(embed(user, 8), 2)\n  v = propagate(embed(user, 8), 2)\n  i = propagate(embed(item, 8), 2)\n  s = dot(u + v, i)",
        );
        assert_eq!(
            twice,
            ["E0411: `propagate` mixes one user table with one item table: a second user table is propagated"]
        );
        let genre = errors("  g = propagate(embed(genre, 8), 2)\n  s = sum(g)");
        assert_eq!(genre.len(), 1);
        assert!(genre[0].starts_with("E0410"), "{genre:?}");
        let deep = errors("  u = propagate(embed(user, 8), 9)\n  i = propagate(embed(item, 8), 2)\n  s = dot(u, i)");
        assert!(deep[0].contains("[1, 8]"), "{deep:?}");
    }

    #[test]
    fn one_table_propagated_under_two_names_is_one_table() {
        let ok = "  e = embed(user, 8)\n  u = propagate(e, 1)\n  w = propagate(e, 3)\n  i = propagate(embed(item, 8), 2)\n  s = dot(u + w, i)";
        assert_eq!(errors(ok), Vec::<String>::new());
    }
}
