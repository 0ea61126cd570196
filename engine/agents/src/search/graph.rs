//! A checked model as an editable graph of operations, and back to model-block source.

use dsl::shape::{Activation, InputKind, ModelDef, TensorOp};

/// One operation and the name it was bound to, if any.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GNode {
    pub op: TensorOp,
    pub binding: Option<String>,
}

/// A model as operations over earlier operations; `output` is the score.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Graph {
    pub nodes: Vec<GNode>,
    pub output: usize,
}

impl Graph {
    /// The graph of a checked model.
    pub fn from_def(def: &ModelDef) -> Graph {
        Graph {
            nodes: def.nodes.iter().map(|n| GNode { op: n.op.clone(), binding: n.binding.clone() }).collect(),
            output: def.output,
        }
    }

    /// Adds an operation; its index.
    pub fn push(&mut self, op: TensorOp) -> usize {
        self.nodes.push(GNode { op, binding: None });
        self.nodes.len() - 1
    }

    /// Makes every node before `first_new` that read `from` read `to` instead.
    /// A `propagate` keeps reading its table: it mixes the table itself, nothing computed from it.
    pub fn rewire(&mut self, from: usize, to: usize, first_new: usize) {
        for node in self.nodes[..first_new].iter_mut().filter(|n| !matches!(n.op, TensorOp::Propagate { .. })) {
            for operand in operands_mut(&mut node.op) {
                if *operand == from {
                    *operand = to;
                }
            }
        }
        if self.output == from {
            self.output = to;
        }
    }

    /// The per-example width of a node's value: `None` for ids and written numbers.
    pub fn width(&self, i: usize) -> Option<u64> {
        match &self.nodes[i].op {
            TensorOp::Input { kind: InputKind::Dense(n) | InputKind::MultiHot(n), .. } => Some(*n),
            TensorOp::Input { .. } | TensorOp::Constant(_) => None,
            TensorOp::Embed { dim, .. } => Some(*dim),
            TensorOp::Dense { units, .. } => Some(*units),
            TensorOp::Activation { input, .. }
            | TensorOp::LayerNorm { input }
            | TensorOp::Dropout { input, .. }
            | TensorOp::Propagate { input, .. } => self.width(*input),
            TensorOp::Concat { inputs } => inputs.iter().map(|&j| self.width(j)).sum(),
            TensorOp::Add { left, right } | TensorOp::Sub { left, right } | TensorOp::Mul { left, right } => {
                self.width(*left).max(self.width(*right))
            }
            TensorOp::Dot { .. } | TensorOp::Sum { .. } | TensorOp::Mean { .. } => Some(1),
            TensorOp::Cross { x, .. } => self.width(*x),
        }
    }

    /// Nodes the score depends on, each after its operands.
    pub fn live_order(&self) -> Vec<usize> {
        let mut seen = vec![false; self.nodes.len()];
        let mut order = Vec::new();
        self.visit(self.output, &mut seen, &mut order);
        order
    }

    fn visit(&self, i: usize, seen: &mut [bool], order: &mut Vec<usize>) {
        if seen[i] {
            return;
        }
        seen[i] = true;
        for j in self.nodes[i].op.operands() {
            self.visit(j, seen, order);
        }
        order.push(i);
    }

    /// Live hidden vectors: nodes of width ≥ 2 that are neither inputs nor the score.
    pub fn hidden(&self) -> Vec<usize> {
        self.live_order()
            .into_iter()
            .filter(|&i| i != self.output)
            .filter(|&i| !matches!(self.nodes[i].op, TensorOp::Input { .. } | TensorOp::Constant(_)))
            .filter(|&i| self.width(i).is_some_and(|w| w >= 2))
            .collect()
    }

    /// The model block `model NAME { ... }`: inputs, one line per named value, the score last.
    pub fn emit(&self, name: &str) -> String {
        let order = self.live_order();
        let mut uses = vec![0usize; self.nodes.len()];
        for &i in &order {
            for j in self.nodes[i].op.operands() {
                uses[j] += 1;
            }
        }
        let mut names: Vec<Option<String>> = vec![None; self.nodes.len()];
        let mut taken: Vec<String> = Vec::new();
        let mut inputs = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if let TensorOp::Input { name, kind } = &n.op {
                names[i] = Some(name.clone());
                taken.push(name.clone());
                inputs.push(format!("{name}: {kind}"));
            }
        }
        for &i in &order {
            if names[i].is_some() {
                continue;
            }
            let named = self.nodes[i].binding.is_some() || uses[i] >= 2 || i == self.output;
            if !named {
                continue;
            }
            let base =
                self.nodes[i].binding.clone().unwrap_or_else(|| if i == self.output { "score" } else { "t" }.into());
            let mut candidate = base.clone();
            let mut n = 1;
            while taken.contains(&candidate) || (self.nodes[i].binding.is_none() && candidate == "t") {
                candidate = format!("{base}{n}");
                n += 1;
            }
            taken.push(candidate.clone());
            names[i] = Some(candidate);
        }
        let mut out = format!("model {name} {{\n  input {}\n", inputs.join(", "));
        for &i in &order {
            if matches!(self.nodes[i].op, TensorOp::Input { .. }) {
                continue;
            }
            if let Some(n) = &names[i] {
                out.push_str(&format!("  {n} = {}\n", self.expr(i, &names)));
            }
        }
        out.push('}');
        out
    }

    /// The expression of node `i`, naming named operands.
    fn expr(&self, i: usize, names: &[Option<String>]) -> String {
        let arg = |j: usize| names[j].clone().unwrap_or_else(|| self.expr(j, names));
        // A binary operand that is itself an unnamed binary gets parentheses.
        let operand = |j: usize| {
            let text = arg(j);
            let binary = matches!(self.nodes[j].op, TensorOp::Add { .. } | TensorOp::Sub { .. } | TensorOp::Mul { .. });
            if names[j].is_none() && binary {
                format!("({text})")
            } else {
                text
            }
        };
        match &self.nodes[i].op {
            TensorOp::Input { name, .. } => name.clone(),
            TensorOp::Constant(v) => format!("{v:?}"),
            TensorOp::Embed { input, dim } => format!("embed({}, {dim})", arg(*input)),
            TensorOp::Dense { input, units } => format!("dense({}, {units})", arg(*input)),
            TensorOp::Activation { input, f } => format!("{}({})", activation_name(*f), arg(*input)),
            TensorOp::LayerNorm { input } => format!("layer_norm({})", arg(*input)),
            TensorOp::Dropout { input, p } => format!("dropout({}, {p:?})", arg(*input)),
            TensorOp::Concat { inputs } => {
                format!("concat({})", inputs.iter().map(|&j| arg(j)).collect::<Vec<_>>().join(", "))
            }
            TensorOp::Add { left, right } => format!("{} + {}", operand(*left), operand(*right)),
            TensorOp::Sub { left, right } => format!("{} - {}", operand(*left), operand(*right)),
            TensorOp::Mul { left, right } => format!("{} * {}", operand(*left), operand(*right)),
            TensorOp::Dot { left, right } => format!("dot({}, {})", arg(*left), arg(*right)),
            TensorOp::Sum { input } => format!("sum({})", arg(*input)),
            TensorOp::Mean { input } => format!("mean({})", arg(*input)),
            TensorOp::Cross { x0, x } => format!("cross({}, {})", arg(*x0), arg(*x)),
            TensorOp::Propagate { input, steps } => format!("propagate({}, {steps})", arg(*input)),
        }
    }
}

/// The name an activation is written with.
pub(crate) fn activation_name(f: Activation) -> &'static str {
    match f {
        Activation::Relu => "relu",
        Activation::Gelu => "gelu",
        Activation::Silu => "silu",
        Activation::Sigmoid => "sigmoid",
        Activation::Tanh => "tanh",
    }
}

fn operands_mut(op: &mut TensorOp) -> Vec<&mut usize> {
    match op {
        TensorOp::Input { .. } | TensorOp::Constant(_) => vec![],
        TensorOp::Embed { input, .. }
        | TensorOp::Dense { input, .. }
        | TensorOp::Activation { input, .. }
        | TensorOp::LayerNorm { input }
        | TensorOp::Dropout { input, .. }
        | TensorOp::Sum { input }
        | TensorOp::Mean { input }
        | TensorOp::Propagate { input, .. } => vec![input],
        TensorOp::Concat { inputs } => inputs.iter_mut().collect(),
        TensorOp::Add { left, right }
        | TensorOp::Sub { left, right }
        | TensorOp::Mul { left, right }
        | TensorOp::Dot { left, right } => vec![left, right],
        TensorOp::Cross { x0, x } => vec![x0, x],
    }
}
