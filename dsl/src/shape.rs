//! Checked models: a flat list of tensor operations with the per-example shape of each,
//! inferred statically. The trainer builds one libtorch layer per node and asserts these shapes.

use serde::Serialize;

use crate::builtins::TRAINING_INPUTS;
use crate::span::Span;

/// The per-example shape of a value inside a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Integer ids into a vocabulary; the size is known only for `categorical(n)` inputs.
    Ids { vocab: Option<u64> },
    /// A dense vector of `n` floats.
    Vector(u64),
    /// A number written in the model (`0.5 * x`): broadcasts to any vector.
    Scalar,
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shape::Ids { vocab: Some(n) } => write!(f, "ids (vocabulary {n})"),
            Shape::Ids { vocab: None } => write!(f, "ids"),
            Shape::Vector(n) => write!(f, "[{n}]"),
            Shape::Scalar => write!(f, "a scalar"),
        }
    }
}

/// An activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Gelu,
    Silu,
    Sigmoid,
    Tanh,
}

impl Activation {
    /// The activation called `name`.
    pub fn from_name(name: &str) -> Option<Activation> {
        Some(match name {
            "relu" => Activation::Relu,
            "gelu" => Activation::Gelu,
            "silu" => Activation::Silu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            _ => return None,
        })
    }
}

/// One operation of a model; operands are indices of earlier nodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TensorOp {
    /// A model input, fed from the data column of the same name.
    Input {
        name: String,
        kind: InputKind,
    },
    /// A number written in the model.
    Constant(f64),
    /// An embedding table of `dim` columns over the ids of `input`.
    Embed {
        input: usize,
        dim: u64,
    },
    /// A linear layer with bias.
    Dense {
        input: usize,
        units: u64,
    },
    Activation {
        input: usize,
        f: Activation,
    },
    LayerNorm {
        input: usize,
    },
    Dropout {
        input: usize,
        p: f64,
    },
    Concat {
        inputs: Vec<usize>,
    },
    Add {
        left: usize,
        right: usize,
    },
    Sub {
        left: usize,
        right: usize,
    },
    Mul {
        left: usize,
        right: usize,
    },
    Dot {
        left: usize,
        right: usize,
    },
    Sum {
        input: usize,
    },
    Mean {
        input: usize,
    },
    /// A DCN-v2 cross layer: `x0 * (W x + b) + x`.
    Cross {
        x0: usize,
        x: usize,
    },
    /// LightGCN (He et al., SIGIR 2020): the embedding table of `input` (an `embed` of `user` or
    /// `item`) propagated with the other side's over the training interactions for `steps`
    /// normalised, weightless steps, and the mean of every step taken.
    Propagate {
        input: usize,
        steps: u64,
    },
}

/// What a model input carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// Entity ids (user, item), vocabulary from the data.
    Id,
    /// A categorical feature with `n` values.
    Categorical(u64),
    /// `n` float features.
    Dense(u64),
    /// A set of up to `n` categories (a movie's genres): `n` floats, 1 where a category is present.
    MultiHot(u64),
}

impl std::fmt::Display for InputKind {
    /// As declared: `id`, `categorical(20)`, `dense(4)`, `multi_hot(19)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputKind::Id => write!(f, "id"),
            InputKind::Categorical(n) => write!(f, "categorical({n})"),
            InputKind::Dense(n) => write!(f, "dense({n})"),
            InputKind::MultiHot(n) => write!(f, "multi_hot({n})"),
        }
    }
}

/// One node of a checked model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TensorNode {
    pub op: TensorOp,
    pub shape: Shape,
    /// The name it was bound to in the model block, if any.
    pub binding: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

/// A checked model block.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelDef {
    pub name: String,
    pub nodes: Vec<TensorNode>,
    /// Index of the node that yields the score (shape `[1]`).
    pub output: usize,
    /// The block in canonical form.
    pub source: String,
}

impl TensorOp {
    /// The nodes this operation reads, in order.
    pub fn operands(&self) -> Vec<usize> {
        match self {
            TensorOp::Input { .. } | TensorOp::Constant(_) => vec![],
            TensorOp::Embed { input, .. }
            | TensorOp::Dense { input, .. }
            | TensorOp::Activation { input, .. }
            | TensorOp::LayerNorm { input }
            | TensorOp::Dropout { input, .. }
            | TensorOp::Sum { input }
            | TensorOp::Mean { input }
            | TensorOp::Propagate { input, .. } => vec![*input],
            TensorOp::Concat { inputs } => inputs.clone(),
            TensorOp::Add { left, right }
            | TensorOp::Sub { left, right }
            | TensorOp::Mul { left, right }
            | TensorOp::Dot { left, right } => vec![*left, *right],
            TensorOp::Cross { x0, x } => vec![*x0, *x],
        }
    }
}

/// `user` or `item` when `nodes[node]` embeds that training input: a table `propagate` may mix.
/// The checker and the trainer ask the same question of the same nodes.
pub fn graph_side(nodes: &[TensorNode], node: usize) -> Option<&'static str> {
    let TensorOp::Embed { input, .. } = &nodes[node].op else { return None };
    match &nodes[*input].op {
        TensorOp::Input { name, kind: InputKind::Id } => TRAINING_INPUTS.iter().copied().find(|side| side == name),
        _ => None,
    }
}

impl ModelDef {
    /// Parameters that do not depend on the data: dense, cross and layer-norm weights, and
    /// embedding tables of categorical inputs. Id embeddings add `vocab * dim` each.
    pub fn dense_parameters(&self) -> u64 {
        self.nodes
            .iter()
            .map(|n| match &n.op {
                TensorOp::Dense { input, units } => (self.width(*input) + 1) * units,
                TensorOp::Cross { x, .. } => {
                    let d = self.width(*x);
                    d * d + d
                }
                TensorOp::LayerNorm { input } => 2 * self.width(*input),
                TensorOp::Embed { input, dim } => match self.nodes[*input].shape {
                    Shape::Ids { vocab: Some(v) } => v * dim,
                    _ => 0,
                },
                _ => 0,
            })
            .sum()
    }

    /// `(input name, dim)` of every embedding over id inputs: their size depends on the data.
    pub fn id_embeddings(&self) -> Vec<(String, u64)> {
        self.nodes
            .iter()
            .filter_map(|n| match &n.op {
                TensorOp::Embed { input, dim } => match &self.nodes[*input].op {
                    TensorOp::Input { name, kind: InputKind::Id } => Some((name.clone(), *dim)),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// Multiply-adds per example of the dense part (embedding look-ups are free).
    pub fn flops_per_example(&self) -> u64 {
        self.nodes
            .iter()
            .map(|n| match &n.op {
                TensorOp::Dense { input, units } => 2 * self.width(*input) * units,
                TensorOp::Cross { x, .. } => {
                    let d = self.width(*x);
                    2 * d * d + 2 * d
                }
                _ => match n.shape {
                    Shape::Vector(d) => d,
                    _ => 0,
                },
            })
            .sum()
    }

    fn width(&self, node: usize) -> u64 {
        match self.nodes[node].shape {
            Shape::Vector(d) => d,
            _ => 1,
        }
    }
}

/// The model operations with their operand and result shapes, as (call, operands, result): the
/// reference agents are shown and the language guide's table (grammar/README.md) repeats.
pub const REFERENCE: &[(&str, &str, &str)] = &[
    ("`embed(x, dim)`", "ids", "`[dim]`"),
    ("`dense(x, units)`", "`[n]`", "`[units]`"),
    ("`relu`, `gelu`, `silu`, `sigmoid`, `tanh`, `layer_norm`", "`[n]`", "`[n]`"),
    ("`dropout(x, p)`, `0 <= p < 1`", "`[n]`", "`[n]`"),
    ("`concat(a, b, ...)`", "`[n]`, `[m]`, ...", "`[n + m + ...]`"),
    ("`a + b`, `a - b`, `a * b`", "`[n]` and `[n]`, `[1]` or a number", "`[n]`"),
    ("`dot(a, b)`", "`[n]`, `[n]`", "`[1]`"),
    ("`sum(x)`, `mean(x)`", "`[n]`", "`[1]`"),
    ("`cross(x0, x)` (DCN-v2: `x0 * (W x + b) + x`)", "`[n]`, `[n]`", "`[n]`"),
    ("`propagate(e, steps)` (LightGCN: `e` an `embed` of `user` or `item`, mixed over the training graph; propagate both, equally wide)", "`[d]`", "`[d]`"),
];
