//! A checked `.evo` model block as a libtorch module: one layer per [`TensorNode`], weights named
//! after the node's binding, every intermediate shape asserted against what the checker inferred.
//!
//! Two ways to run it: [`Model::forward`] over a batch of (user, item) rows, and
//! [`Model::score_matrix`] over users × items for full ranking, which computes user-only and
//! item-only parts once per user / item and turns `dot(user part, item part)` into one matmul.

use std::collections::{BTreeMap, HashMap};

use dsl::shape::{graph_side, Activation, InputKind, ModelDef, Shape, TensorOp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tch::{nn, Device, Kind, Tensor};

use crate::data::{Interactions, ITEM, USER};
pub use crate::features::FeatureTensors;
use crate::graph::Graph;

/// Input tensors by model input name: ids and categories int64 `[B]`, dense f32 `[B, n]`.
pub type Inputs = HashMap<String, Tensor>;

/// Why a model could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The caller's cancel flag was set (a timed-out or interrupted attempt).
    #[error("cancelled")]
    Cancelled,
    /// An `id` input has no vocabulary size (the data has no such id column).
    #[error("input `{input}`: no vocabulary size for this id input")]
    MissingVocab {
        /// The input's name.
        input: String,
    },
    /// A model input was not supplied.
    #[error("input `{input}` was not supplied")]
    MissingInput {
        /// The input's name.
        input: String,
    },
    /// An input tensor has the wrong type or shape.
    #[error("input `{input}`: expected {expected}, got {found}")]
    BadInput {
        /// The input's name.
        input: String,
        /// What was expected.
        expected: String,
        /// What was supplied.
        found: String,
    },
    /// A node's tensor does not have the shape the checker inferred.
    #[error("node {node} (`{name}`): expected shape {expected:?}, libtorch produced {found:?}")]
    Shape {
        /// The node's index in the model.
        node: usize,
        /// Its binding, or its operation.
        name: String,
        /// The expected tch shape.
        expected: Vec<i64>,
        /// The actual tch shape.
        found: Vec<i64>,
    },
    /// The model propagates over the training graph, and none was given.
    #[error("`propagate` needs the training interactions' graph, and this model was built without one")]
    NoGraph,
    /// libtorch reported an error.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// One node's weights.
enum Layer {
    /// No weights (inputs, activations, arithmetic).
    None,
    /// A 0-d constant on the device.
    Constant(Tensor),
    /// An embedding table `[vocab, dim]`.
    Embed(Tensor),
    /// A linear layer: weight `[out, in]`, bias `[out]`.
    Dense(Tensor, Tensor),
    /// Layer norm scale and shift `[d]`.
    Norm(Tensor, Tensor),
    /// A DCN-v2 cross layer: weight `[d, d]`, bias `[d]`.
    Cross(Tensor, Tensor),
}

/// Which rows a value has during a forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// A 0-d constant: broadcasts anywhere.
    Const,
    /// One row per example of a batch.
    Batch,
    /// One row per user of a score matrix.
    User,
    /// One row per item of a score matrix.
    Item,
    /// One row per (user, item) pair, user-major.
    Pair,
}

/// A value during a forward pass.
struct Val {
    t: Tensor,
    side: Side,
}

/// Row counts of each side.
#[derive(Clone, Copy)]
struct Rows {
    batch: i64,
    users: i64,
    items: i64,
}

impl Rows {
    fn of(&self, side: Side) -> Option<i64> {
        match side {
            Side::Const => None,
            Side::Batch => Some(self.batch),
            Side::User => Some(self.users),
            Side::Item => Some(self.items),
            Side::Pair => Some(self.users * self.items),
        }
    }
}

/// A model ready to train: its definition, weights and device.
pub struct Model {
    def: ModelDef,
    vs: nn::VarStore,
    layers: Vec<Layer>,
    /// Nodes the output depends on (others keep their weights but are never computed).
    needed: Vec<bool>,
    /// Concats read only by dense layers: when scoring users × items they are never built, the
    /// dense layer applies its weight's column blocks to each part on its own side instead
    /// (`W [u; i] = W_u u + W_i i`), so a user part costs U rows, not U × I.
    split_concat: Vec<bool>,
    /// Parameters in creation order, with their VarStore names.
    params: Vec<(String, Tensor)>,
    /// The embed nodes of the user and item tables `propagate` mixes, and its deepest step.
    propagation: Option<(usize, usize, u64)>,
    /// The training graph they are propagated over ([`Model::set_graph`]).
    graph: Option<Graph>,
    /// The side features it reads, saved with it ([`Model::set_features`]).
    features: FeatureTensors,
}

impl Model {
    /// Builds the layers of `def` on `device`; `vocab` sizes the id embeddings (input name → ids).
    /// Weights are drawn from a Rust RNG seeded by `seed`, so they are identical on every device
    /// and unaffected by other trainings in the same process.
    pub fn new(def: &ModelDef, vocab: &BTreeMap<String, i64>, device: Device, seed: u64) -> Result<Model, ModelError> {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut layers = Vec::with_capacity(def.nodes.len());
        let mut params = Vec::new();
        let width = |i: usize| match def.nodes[i].shape {
            Shape::Vector(d) => d as i64,
            _ => 1,
        };
        for (idx, node) in def.nodes.iter().enumerate() {
            let path = root.sub(format!("n{idx}_{}", label(def, idx)));
            let mut var = |name: &str, dims: &[i64], values: Vec<f32>| {
                let t = Tensor::from_slice(&values).view(dims).to_device(device);
                let v = path.add(name, t, true);
                params.push((path.path(name), v.shallow_clone()));
                v
            };
            let layer = match &node.op {
                TensorOp::Input { .. } | TensorOp::Activation { .. } | TensorOp::Dropout { .. } => Layer::None,
                TensorOp::Concat { .. } | TensorOp::Add { .. } | TensorOp::Sub { .. } => Layer::None,
                TensorOp::Mul { .. } | TensorOp::Dot { .. } | TensorOp::Sum { .. } | TensorOp::Mean { .. } => {
                    Layer::None
                }
                TensorOp::Propagate { .. } => Layer::None,
                TensorOp::Constant(c) => Layer::Constant(Tensor::from(*c as f32).to_device(device)),
                TensorOp::Embed { input, dim } => {
                    let n = match &def.nodes[*input].op {
                        TensorOp::Input { kind: InputKind::Categorical(n), .. } => *n as i64,
                        TensorOp::Input { name, .. } => {
                            *vocab.get(name).ok_or_else(|| ModelError::MissingVocab { input: name.clone() })?
                        }
                        _ => 1,
                    };
                    let d = *dim as i64;
                    // Xavier normal, as RecBole initialises its embeddings.
                    let std = (2.0 / (n + d) as f64).sqrt();
                    Layer::Embed(var("weight", &[n, d], normal(&mut rng, (n * d) as usize, std)))
                }
                TensorOp::Dense { input, units } => {
                    let (i, o) = (width(*input), *units as i64);
                    // PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
                    let b = 1.0 / (i as f64).sqrt();
                    let w = var("weight", &[o, i], uniform(&mut rng, (o * i) as usize, b));
                    let bias = var("bias", &[o], uniform(&mut rng, o as usize, b));
                    Layer::Dense(w, bias)
                }
                TensorOp::Cross { x, .. } => {
                    let d = width(*x);
                    let b = 1.0 / (d as f64).sqrt();
                    let w = var("weight", &[d, d], uniform(&mut rng, (d * d) as usize, b));
                    let bias = var("bias", &[d], vec![0.0; d as usize]);
                    Layer::Cross(w, bias)
                }
                TensorOp::LayerNorm { input } => {
                    let d = width(*input);
                    Layer::Norm(var("weight", &[d], vec![1.0; d as usize]), var("bias", &[d], vec![0.0; d as usize]))
                }
            };
            layers.push(layer);
        }
        let mut needed = vec![false; def.nodes.len()];
        if !def.nodes.is_empty() {
            needed[def.output] = true;
        }
        for idx in (0..def.nodes.len()).rev() {
            if needed[idx] {
                for o in def.nodes[idx].op.operands() {
                    needed[o] = true;
                }
            }
        }
        let mut split_concat: Vec<bool> = def.nodes.iter().map(|n| matches!(n.op, TensorOp::Concat { .. })).collect();
        for node in &def.nodes {
            if !matches!(node.op, TensorOp::Dense { .. }) {
                for o in node.op.operands() {
                    split_concat[o] = false;
                }
            }
        }
        if !def.nodes.is_empty() {
            split_concat[def.output] = false;
        }
        let propagation = propagation(def, &needed);
        Ok(Model {
            def: def.clone(),
            vs,
            layers,
            needed,
            split_concat,
            params,
            propagation,
            graph: None,
            features: FeatureTensors::empty(),
        })
    }

    /// Whether the model propagates over the training graph (and so needs [`Model::set_graph`]).
    pub fn needs_graph(&self) -> bool {
        self.propagation.is_some()
    }

    /// Sets the graph `propagate` mixes the user and item tables over.
    pub fn set_graph(&mut self, graph: Graph) {
        self.graph = Some(graph);
    }

    /// Keeps the side features it was trained on, to be saved with its weights; only the ones
    /// its inputs read.
    pub fn set_features(&mut self, features: &FeatureTensors) {
        let inputs = self.inputs();
        let read = |m: &HashMap<String, Tensor>| {
            m.iter()
                .filter(|(k, _)| inputs.iter().any(|(name, _)| name == *k))
                .map(|(k, t)| (k.clone(), t.shallow_clone()))
                .collect()
        };
        self.features = FeatureTensors { user: read(&features.user), item: read(&features.item) };
    }

    /// The side features it reads (empty for a model of ids only).
    pub fn features(&self) -> &FeatureTensors {
        &self.features
    }

    /// What a checkpoint stores: the weights, the graph's edges when the model propagates, and
    /// the side features it reads.
    pub fn saved_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = self.params.iter().map(|(n, t)| (n.clone(), t.shallow_clone())).collect();
        out.extend(self.graph_edges());
        out.extend(self.features.saved());
        out
    }

    /// The graph's edge tensors (empty without one), to store beside other weights.
    pub fn graph_edges(&self) -> Vec<(String, Tensor)> {
        self.graph.as_ref().map(Graph::edges).unwrap_or_default()
    }

    /// The propagated tables, `[k]` the mean of steps `0..=k`, when the model propagates.
    fn propagated(&self) -> Result<Option<Vec<Tensor>>, ModelError> {
        let Some((user, item, steps)) = self.propagation else { return Ok(None) };
        let graph = self.graph.as_ref().ok_or(ModelError::NoGraph)?;
        let (Layer::Embed(u), Layer::Embed(i)) = (&self.layers[user], &self.layers[item]) else {
            unreachable!("propagate reads embedding tables (checked)")
        };
        Ok(Some(graph.propagate(u, i, steps)?))
    }

    /// The model's checked definition.
    pub fn def(&self) -> &ModelDef {
        &self.def
    }

    /// The device its weights live on.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// The weights' store (for saving and loading).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// Mutable access to the weights' store (loading a checkpoint).
    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// Trainable tensors with their names, in a fixed order.
    pub fn params(&self) -> &[(String, Tensor)] {
        &self.params
    }

    /// Number of trainable scalars, embeddings included.
    pub fn parameters(&self) -> i64 {
        self.params.iter().map(|(_, t)| t.numel() as i64).sum()
    }

    /// Multiply-adds per example of the dense part (from the checker's shapes).
    pub fn flops_per_example(&self) -> u64 {
        self.def.flops_per_example()
    }

    /// Names and kinds of the model's inputs.
    pub fn inputs(&self) -> Vec<(String, InputKind)> {
        self.def
            .nodes
            .iter()
            .filter_map(|n| match &n.op {
                TensorOp::Input { name, kind } => Some((name.clone(), *kind)),
                _ => None,
            })
            .collect()
    }

    /// Input tensors for rows (`users[k]`, `items[k]`): ids as given, side features gathered.
    pub fn inputs_for(&self, users: &Tensor, items: &Tensor, features: &FeatureTensors) -> Result<Inputs, ModelError> {
        let mut out = Inputs::new();
        for (name, _) in self.inputs() {
            let t = if name == USER {
                users.shallow_clone()
            } else if name == ITEM {
                items.shallow_clone()
            } else if let Some(f) = features.user.get(&name) {
                f.f_index_select(0, users)?
            } else if let Some(f) = features.item.get(&name) {
                f.f_index_select(0, items)?
            } else {
                return Err(ModelError::MissingInput { input: name });
            };
            out.insert(name, t);
        }
        Ok(out)
    }

    /// Scores a batch: `[B]`. `train` switches dropout on.
    pub fn forward(&self, inputs: &Inputs, train: bool) -> Result<Tensor, ModelError> {
        let batch = inputs.values().next().map_or(0, |t| t.size().first().copied().unwrap_or(0));
        let rows = Rows { batch, users: 0, items: 0 };
        let out = self.eval(rows, train, |name, _| {
            let t = inputs.get(name).ok_or_else(|| ModelError::MissingInput { input: name.to_string() })?;
            Ok(Val { t: t.shallow_clone(), side: Side::Batch })
        })?;
        Ok(out.t.f_reshape([-1])?)
    }

    /// Scores every pair of `users` × `items` (internal ids, int64): `[U, I]`, in eval mode.
    pub fn score_matrix(
        &self,
        users: &Tensor,
        items: &Tensor,
        features: &FeatureTensors,
    ) -> Result<Tensor, ModelError> {
        let (u, i) = (users.size()[0], items.size()[0]);
        let rows = Rows { batch: 0, users: u, items: i };
        let out = self.eval(rows, false, |name, _| {
            if name == USER {
                Ok(Val { t: users.shallow_clone(), side: Side::User })
            } else if name == ITEM {
                Ok(Val { t: items.shallow_clone(), side: Side::Item })
            } else if let Some(f) = features.user.get(name) {
                Ok(Val { t: f.f_index_select(0, users)?, side: Side::User })
            } else if let Some(f) = features.item.get(name) {
                Ok(Val { t: f.f_index_select(0, items)?, side: Side::Item })
            } else {
                Err(ModelError::MissingInput { input: name.to_string() })
            }
        })?;
        Ok(match out.side {
            Side::Pair => out.t.f_reshape([u, i])?,
            Side::User => out.t.f_reshape([u, 1])?.f_expand([u, i], false)?,
            Side::Item => out.t.f_reshape([1, i])?.f_expand([u, i], false)?,
            _ => out.t.f_reshape([1, 1])?.f_expand([u, i], false)?,
        })
    }

    /// Floats per (user, item) pair that scoring materialises (sizes chunks of users); 0 when
    /// the model factorises into a user part and an item part.
    pub fn pair_width(&self, data: &Interactions) -> u64 {
        let mut side = vec![Side::Const; self.def.nodes.len()];
        let mut total = 0;
        for (idx, node) in self.def.nodes.iter().enumerate() {
            let ops = node.op.operands();
            side[idx] = match &node.op {
                TensorOp::Input { name, .. } => {
                    if name == USER || data.user_features.contains_key(name) {
                        Side::User
                    } else {
                        Side::Item
                    }
                }
                TensorOp::Constant(_) => Side::Const,
                _ => ops.iter().fold(Side::Const, |acc, &o| join(acc, side[o])),
            };
            if side[idx] == Side::Pair && self.needed[idx] && !self.split_concat[idx] {
                total += match node.shape {
                    Shape::Vector(d) => d,
                    _ => 1,
                };
            }
        }
        total
    }

    /// Runs the needed nodes in order; `leaf` supplies each input's value.
    fn eval(
        &self,
        rows: Rows,
        train: bool,
        leaf: impl Fn(&str, InputKind) -> Result<Val, ModelError>,
    ) -> Result<Val, ModelError> {
        let mut vals: Vec<Option<Val>> = Vec::with_capacity(self.def.nodes.len());
        let propagated = self.propagated()?;
        for (idx, node) in self.def.nodes.iter().enumerate() {
            let factorised = rows.users > 0;
            if !self.needed[idx] || (factorised && self.split_concat[idx]) {
                vals.push(None);
                continue;
            }
            let get = |i: usize| vals[i].as_ref().expect("operands precede their users and are needed");
            let val = match (&node.op, &self.layers[idx]) {
                (TensorOp::Input { name, kind }, _) => {
                    let v = leaf(name, *kind)?;
                    check_input(name, *kind, &v.t)?;
                    v
                }
                (TensorOp::Constant(_), Layer::Constant(c)) => Val { t: c.shallow_clone(), side: Side::Const },
                (TensorOp::Embed { input, .. }, Layer::Embed(w)) => {
                    let x = get(*input);
                    Val { t: Tensor::f_embedding(w, &x.t, -1, false, false)?, side: x.side }
                }
                (TensorOp::Dense { input, .. }, Layer::Dense(w, b)) if factorised && self.split_concat[*input] => {
                    let TensorOp::Concat { inputs } = &self.def.nodes[*input].op else { unreachable!("split concat") };
                    let mut acc: Option<Val> = None;
                    let mut offset = 0;
                    for &part in inputs {
                        let p = get(part);
                        let width = p.t.size()[1];
                        let y = Val { t: p.t.f_linear::<Tensor>(&w.f_narrow(1, offset, width)?, None)?, side: p.side };
                        offset += width;
                        acc = Some(match acc {
                            None => y,
                            Some(a) => {
                                let side = join(a.side, y.side);
                                Val { t: to_side(&a, side, rows)?.f_add(&to_side(&y, side, rows)?)?, side }
                            }
                        });
                    }
                    let a = acc.expect("concat has at least two inputs");
                    Val { t: a.t.f_add(b)?, side: a.side }
                }
                (TensorOp::Dense { input, .. }, Layer::Dense(w, b)) => {
                    let x = get(*input);
                    Val { t: x.t.f_linear(w, Some(b))?, side: x.side }
                }
                (TensorOp::Activation { input, f }, _) => {
                    let x = get(*input);
                    let t = match f {
                        Activation::Relu => x.t.f_relu()?,
                        Activation::Gelu => x.t.f_gelu("none")?,
                        Activation::Silu => x.t.f_silu()?,
                        Activation::Sigmoid => x.t.f_sigmoid()?,
                        Activation::Tanh => x.t.f_tanh()?,
                    };
                    Val { t, side: x.side }
                }
                (TensorOp::LayerNorm { input }, Layer::Norm(w, b)) => {
                    let x = get(*input);
                    let d = w.size()[0];
                    Val { t: x.t.f_layer_norm([d], Some(w), Some(b), 1e-5, false)?, side: x.side }
                }
                (TensorOp::Dropout { input, p }, _) => {
                    let x = get(*input);
                    Val { t: x.t.f_dropout(*p, train)?, side: x.side }
                }
                (TensorOp::Concat { inputs }, _) => {
                    let side = inputs.iter().fold(Side::Const, |acc, &i| join(acc, get(i).side));
                    let parts = inputs.iter().map(|&i| to_side(get(i), side, rows)).collect::<Result<Vec<_>, _>>()?;
                    Val { t: Tensor::f_cat(&parts, -1)?, side }
                }
                (TensorOp::Add { left, right }, _)
                | (TensorOp::Sub { left, right }, _)
                | (TensorOp::Mul { left, right }, _) => {
                    let (l, r) = (get(*left), get(*right));
                    let side = join(l.side, r.side);
                    let (a, b) = (to_side(l, side, rows)?, to_side(r, side, rows)?);
                    let t = match node.op {
                        TensorOp::Add { .. } => a.f_add(&b)?,
                        TensorOp::Sub { .. } => a.f_sub(&b)?,
                        _ => a.f_mul(&b)?,
                    };
                    Val { t, side }
                }
                (TensorOp::Dot { left, right }, _) => {
                    let (l, r) = (get(*left), get(*right));
                    match (l.side, r.side) {
                        // A user part against an item part: one matmul gives every pair's score.
                        (Side::User, Side::Item) | (Side::Item, Side::User) => {
                            let (u, i) = if l.side == Side::User { (l, r) } else { (r, l) };
                            let t = u.t.f_matmul(&i.t.f_tr()?)?.f_reshape([-1, 1])?;
                            Val { t, side: Side::Pair }
                        }
                        _ => {
                            let side = join(l.side, r.side);
                            let (a, b) = (to_side(l, side, rows)?, to_side(r, side, rows)?);
                            Val { t: a.f_mul(&b)?.f_sum_dim_intlist([-1i64].as_slice(), true, Kind::Float)?, side }
                        }
                    }
                }
                (TensorOp::Sum { input }, _) => {
                    let x = get(*input);
                    Val { t: x.t.f_sum_dim_intlist([-1i64].as_slice(), true, Kind::Float)?, side: x.side }
                }
                (TensorOp::Mean { input }, _) => {
                    let x = get(*input);
                    Val { t: x.t.f_mean_dim([-1i64].as_slice(), true, Kind::Float)?, side: x.side }
                }
                (TensorOp::Cross { x0, x }, Layer::Cross(w, b)) => {
                    let (a, c) = (get(*x0), get(*x));
                    let side = join(a.side, c.side);
                    let (a, c) = (to_side(a, side, rows)?, to_side(c, side, rows)?);
                    Val { t: a.f_mul(&c.f_linear(w, Some(b))?)?.f_add(&c)?, side }
                }
                (TensorOp::Propagate { input, steps }, _) => {
                    let TensorOp::Embed { input: ids, .. } = self.def.nodes[*input].op else {
                        unreachable!("propagate reads an embedding (checked)")
                    };
                    let table = &propagated.as_ref().expect("built when the model propagates")[*steps as usize];
                    let graph = self.graph.as_ref().ok_or(ModelError::NoGraph)?;
                    let users = graph_side(&self.def.nodes, *input) == Some(USER);
                    let x = get(ids);
                    Val { t: graph.rows(table, users)?.f_index_select(0, &x.t)?, side: x.side }
                }
                (op, _) => unreachable!("layer built for every op: {op:?}"),
            };
            self.check_shape(idx, &val, rows)?;
            vals.push(Some(val));
        }
        vals.swap_remove(self.def.output).ok_or_else(|| ModelError::MissingInput { input: "(output)".into() })
    }

    /// Asserts the tch shape of node `idx` is `[rows, d]` (vectors), `[rows]` (ids) or `[]`.
    fn check_shape(&self, idx: usize, val: &Val, rows: Rows) -> Result<(), ModelError> {
        let found = val.t.size();
        let expected = match (self.def.nodes[idx].shape, rows.of(val.side)) {
            (Shape::Scalar, _) | (_, None) => vec![],
            (Shape::Ids { .. }, Some(n)) => vec![n],
            (Shape::Vector(d), Some(n)) => vec![n, d as i64],
        };
        if found != expected {
            return Err(ModelError::Shape { node: idx, name: label(&self.def, idx), expected, found });
        }
        Ok(())
    }
}

/// The node's binding, or its operation's name.
fn label(def: &ModelDef, idx: usize) -> String {
    let node = &def.nodes[idx];
    if let Some(b) = &node.binding {
        return b.clone();
    }
    match &node.op {
        TensorOp::Input { name, .. } => name.clone(),
        TensorOp::Constant(_) => "constant".into(),
        TensorOp::Embed { .. } => "embed".into(),
        TensorOp::Dense { .. } => "dense".into(),
        TensorOp::Activation { f, .. } => format!("{f:?}").to_lowercase(),
        TensorOp::LayerNorm { .. } => "layer_norm".into(),
        TensorOp::Dropout { .. } => "dropout".into(),
        TensorOp::Concat { .. } => "concat".into(),
        TensorOp::Add { .. } => "add".into(),
        TensorOp::Sub { .. } => "sub".into(),
        TensorOp::Mul { .. } => "mul".into(),
        TensorOp::Dot { .. } => "dot".into(),
        TensorOp::Sum { .. } => "sum".into(),
        TensorOp::Mean { .. } => "mean".into(),
        TensorOp::Cross { .. } => "cross".into(),
        TensorOp::Propagate { .. } => "propagate".into(),
    }
}

/// The user and item embed nodes `propagate` reads (the checker asks for one of each) and the
/// deepest step asked for; `None` when no needed node propagates.
fn propagation(def: &ModelDef, needed: &[bool]) -> Option<(usize, usize, u64)> {
    let (mut user, mut item, mut steps, mut used) = (None, None, 0, false);
    for (idx, node) in def.nodes.iter().enumerate() {
        let TensorOp::Propagate { input, steps: k } = node.op else { continue };
        match graph_side(&def.nodes, input) {
            Some(USER) => user = Some(input),
            _ => item = Some(input),
        }
        steps = steps.max(k);
        used |= needed[idx];
    }
    used.then_some((user?, item?, steps))
}

/// The side two operands meet on: equal sides stay, constants adopt the other, else pairs.
fn join(a: Side, b: Side) -> Side {
    match (a, b) {
        (Side::Const, s) | (s, Side::Const) => s,
        (x, y) if x == y => x,
        _ => Side::Pair,
    }
}

/// A value's tensor with `side`'s rows: user or item rows are repeated out to pairs.
fn to_side(v: &Val, side: Side, rows: Rows) -> Result<Tensor, ModelError> {
    if v.side == side || v.side == Side::Const {
        return Ok(v.t.shallow_clone());
    }
    let (u, i) = (rows.users, rows.items);
    let rest: Vec<i64> = v.t.size()[1..].to_vec();
    let (at, n) = match v.side {
        Side::User => (1, [u, i]),
        Side::Item => (0, [u, i]),
        _ => unreachable!("only user and item values are repeated out to pairs"),
    };
    let full: Vec<i64> = n.iter().chain(rest.iter()).copied().collect();
    let flat: Vec<i64> = std::iter::once(u * i).chain(rest.iter().copied()).collect();
    Ok(v.t.f_unsqueeze(at)?.f_expand(full.as_slice(), false)?.f_reshape(flat.as_slice())?)
}

/// Checks an input tensor's type before it reaches a layer.
fn check_input(name: &str, kind: InputKind, t: &Tensor) -> Result<(), ModelError> {
    let (ok, expected) = match kind {
        InputKind::Id | InputKind::Categorical(_) => (t.kind() == Kind::Int64 && t.dim() == 1, "int64 [B]".to_string()),
        InputKind::Dense(n) | InputKind::MultiHot(n) => {
            (t.kind() == Kind::Float && t.dim() == 2 && t.size()[1] == n as i64, format!("f32 [B, {n}]"))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(ModelError::BadInput { input: name.into(), expected, found: format!("{:?} {:?}", t.kind(), t.size()) })
    }
}

/// `n` draws from N(0, std²) (Box–Muller, so no extra crate).
fn normal(rng: &mut StdRng, n: usize, std: f64) -> Vec<f32> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let (a, b): (f64, f64) = (rng.gen::<f64>().max(f64::MIN_POSITIVE), rng.gen());
        let r = (-2.0 * a.ln()).sqrt() * std;
        out.push((r * (std::f64::consts::TAU * b).cos()) as f32);
        out.push((r * (std::f64::consts::TAU * b).sin()) as f32);
    }
    out.truncate(n);
    out
}

/// `n` draws from U(-bound, bound).
fn uniform(rng: &mut StdRng, n: usize, bound: f64) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-bound..bound) as f32).collect()
}
