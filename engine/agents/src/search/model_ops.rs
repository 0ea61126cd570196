//! Architecture operators: each writes new structure into a model graph (width, depth, gated
//! path, DCN-v2 cross layer, layer norm, activation, embedding size, dropout, an MLP path beside
//! a dot product, LightGCN propagation of the user and item tables, a side feature added to the
//! user or item representation). `None`: not applicable. A
//! plain matrix factorisation (two embeddings and a dot) takes the last four, so the persona never
//! runs out of moves on the commonest baseline.

use dsl::builtins::TRAINING_INPUTS;
use dsl::program::SideFeature;
use dsl::shape::{Activation, InputKind, TensorOp};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::graph::{activation_name, Graph};

/// Every architecture operator's label.
pub(crate) const OPERATORS: &[&str] = &[
    "width",
    "embedding_size",
    "deeper",
    "shallower",
    "gate",
    "cross",
    "layer_norm",
    "activation",
    "dropout",
    "mlp_path",
    "propagate",
    SIDE_FEATURE,
];

/// The operator that reads a side feature the data supplies; only offered when it supplies one.
pub(crate) const SIDE_FEATURE: &str = "side_feature";

/// What a side feature's path is multiplied by where it joins an id table (see `side_feature`).
const FEATURE_SCALE: f64 = 0.1;

/// The structural ones, preferred for innovation.
pub(crate) const STRUCTURAL: &[&str] =
    &["gate", "cross", "deeper", "layer_norm", "mlp_path", "propagate", SIDE_FEATURE];

/// Propagation steps proposed, by strength (LightGCN's paper finds 2–4 best).
const STEPS: [u64; 4] = [1, 2, 3, 4];

/// Dropout rates proposed, by strength.
const DROPOUT: [f64; 4] = [0.1, 0.2, 0.3, 0.5];

/// Applies `op` at `strength` (0..1]; the new graph and what was done. `features` are the side
/// features the data supplies.
pub(crate) fn apply(
    op: &str,
    g: &Graph,
    strength: f64,
    features: &[SideFeature],
    rng: &mut ChaCha8Rng,
) -> Option<(Graph, String)> {
    let mut g = g.clone();
    let what = match op {
        "width" => scale(
            &mut g,
            strength,
            rng,
            |op| matches!(op, TensorOp::Dense { units, .. } if *units > 1),
            "hidden widths",
        )?,
        "embedding_size" => scale(&mut g, strength, rng, |op| matches!(op, TensorOp::Embed { .. }), "embedding sizes")?,
        "deeper" => deeper(&mut g, rng)?,
        "shallower" => shallower(&mut g, rng)?,
        "gate" => gate(&mut g, rng)?,
        "cross" => cross(&mut g)?,
        "layer_norm" => layer_norm(&mut g, rng)?,
        "activation" => swap_activation(&mut g, rng)?,
        "dropout" => dropout(&mut g, strength, rng)?,
        "mlp_path" => mlp_path(&mut g, strength)?,
        "propagate" => propagate(&mut g, strength, rng)?,
        SIDE_FEATURE => side_feature(&mut g, features, rng)?,
        _ => return None,
    };
    Some((g, what))
}

/// A factor of 2^k, k in 1..=2 by strength, up or down at random.
fn factor(strength: f64, rng: &mut ChaCha8Rng) -> f64 {
    let k = if strength > 0.6 { 2.0 } else { 1.0 };
    if rng.gen_bool(0.5) {
        2f64.powf(k)
    } else {
        2f64.powf(-k)
    }
}

/// Multiplies the size of every node `pick` selects by one factor, so equal widths stay equal.
fn scale(
    g: &mut Graph,
    strength: f64,
    rng: &mut ChaCha8Rng,
    pick: impl Fn(&TensorOp) -> bool,
    what: &str,
) -> Option<String> {
    let f = factor(strength, rng);
    let live = g.live_order();
    let mut changed = false;
    for i in live {
        if !pick(&g.nodes[i].op) {
            continue;
        }
        if let TensorOp::Dense { units: n, .. } | TensorOp::Embed { dim: n, .. } = &mut g.nodes[i].op {
            let new = ((*n as f64 * f).round() as u64).clamp(4, 1024);
            changed |= new != *n;
            *n = new;
        }
    }
    changed.then(|| format!("{what} ×{f}"))
}

/// Hidden activations over a dense layer: where a layer can be added or removed.
fn hidden_layers(g: &Graph) -> Vec<usize> {
    g.hidden()
        .into_iter()
        .filter(|&i| matches!(&g.nodes[i].op, TensorOp::Activation { input, .. } if matches!(g.nodes[*input].op, TensorOp::Dense { .. })))
        .collect()
}

fn deeper(g: &mut Graph, rng: &mut ChaCha8Rng) -> Option<String> {
    let &h = hidden_layers(g).choose(rng)?;
    let TensorOp::Activation { f, .. } = g.nodes[h].op else { return None };
    let w = g.width(h)?;
    let first = g.nodes.len();
    let d = g.push(TensorOp::Dense { input: h, units: w });
    let a = g.push(TensorOp::Activation { input: d, f });
    g.rewire(h, a, first);
    Some(format!("one more {}(dense(_, {w})) layer", activation_name(f)))
}

fn shallower(g: &mut Graph, rng: &mut ChaCha8Rng) -> Option<String> {
    let removable: Vec<usize> = hidden_layers(g)
        .into_iter()
        .filter(|&h| {
            let TensorOp::Activation { input, .. } = g.nodes[h].op else { return false };
            let TensorOp::Dense { input: x, .. } = g.nodes[input].op else { return false };
            g.width(x) == g.width(h) && !matches!(g.nodes[x].op, TensorOp::Input { .. })
        })
        .collect();
    let &h = removable.choose(rng)?;
    let TensorOp::Activation { input, .. } = g.nodes[h].op else { return None };
    let TensorOp::Dense { input: x, .. } = g.nodes[input].op else { return None };
    let len = g.nodes.len();
    g.rewire(h, x, len);
    Some("one dense layer fewer".into())
}

fn gate(g: &mut Graph, rng: &mut ChaCha8Rng) -> Option<String> {
    let candidates: Vec<usize> =
        g.hidden().into_iter().filter(|&i| !matches!(g.nodes[i].op, TensorOp::Embed { .. })).collect();
    let &h = candidates.choose(rng)?;
    let w = g.width(h)?;
    let first = g.nodes.len();
    let value = g.push(TensorOp::Dense { input: h, units: w });
    let gate_in = g.push(TensorOp::Dense { input: h, units: w });
    let gate = g.push(TensorOp::Activation { input: gate_in, f: Activation::Sigmoid });
    let out = g.push(TensorOp::Mul { left: value, right: gate });
    g.rewire(h, out, first);
    Some(format!("a gated path dense(h, {w}) * sigmoid(dense(h, {w}))"))
}

fn cross(g: &mut Graph) -> Option<String> {
    // The first concatenation of features is the DCN-v2 x0; stack another cross on the last one.
    let live = g.live_order();
    let x0 =
        live.iter().copied().find(|&i| matches!(g.nodes[i].op, TensorOp::Concat { .. }) && g.width(i) >= Some(2))?;
    let last = live
        .iter()
        .copied()
        .rfind(|&i| matches!(g.nodes[i].op, TensorOp::Cross { x0: a, .. } if a == x0))
        .unwrap_or(x0);
    let first = g.nodes.len();
    let c = g.push(TensorOp::Cross { x0, x: last });
    // What read the last cross (or the features themselves) now reads the new one.
    g.rewire(last, c, first);
    Some("a DCN-v2 cross layer over the input features".into())
}

fn layer_norm(g: &mut Graph, rng: &mut ChaCha8Rng) -> Option<String> {
    let normed: Vec<usize> = g
        .nodes
        .iter()
        .filter_map(|n| if let TensorOp::LayerNorm { input } = n.op { Some(input) } else { None })
        .collect();
    let candidates: Vec<usize> = g
        .hidden()
        .into_iter()
        .filter(|&i| matches!(g.nodes[i].op, TensorOp::Dense { .. }) && !normed.contains(&i))
        .collect();
    let &d = candidates.choose(rng)?;
    let first = g.nodes.len();
    let ln = g.push(TensorOp::LayerNorm { input: d });
    g.rewire(d, ln, first);
    Some("layer_norm after a hidden dense layer".into())
}

fn swap_activation(g: &mut Graph, rng: &mut ChaCha8Rng) -> Option<String> {
    let candidates: Vec<usize> = g
        .live_order()
        .into_iter()
        .filter(|&i| matches!(g.nodes[i].op, TensorOp::Activation { f, .. } if f != Activation::Sigmoid))
        .collect();
    let &i = candidates.choose(rng)?;
    let TensorOp::Activation { f, .. } = &mut g.nodes[i].op else { return None };
    let options: Vec<Activation> = [Activation::Relu, Activation::Gelu, Activation::Silu, Activation::Tanh]
        .into_iter()
        .filter(|a| a != f)
        .collect();
    let old = *f;
    *f = *options.choose(rng)?;
    Some(format!("{} in place of {}", activation_name(*f), activation_name(old)))
}

/// Dropout on the embeddings (or a hidden layer) that have none, or another rate where they do:
/// the regulariser of a factorisation model.
fn dropout(g: &mut Graph, strength: f64, rng: &mut ChaCha8Rng) -> Option<String> {
    let p = DROPOUT[((strength * 4.0) as usize).min(3)];
    let live = g.live_order();
    let existing: Vec<usize> =
        live.iter().copied().filter(|&i| matches!(g.nodes[i].op, TensorOp::Dropout { p: q, .. } if q != p)).collect();
    if !existing.is_empty() && rng.gen_bool(0.5) {
        for &i in &existing {
            if let TensorOp::Dropout { p: q, .. } = &mut g.nodes[i].op {
                *q = p;
            }
        }
        return Some(format!("dropout rate {p}"));
    }
    let covered: Vec<usize> = g
        .nodes
        .iter()
        .filter_map(|n| if let TensorOp::Dropout { input, .. } = n.op { Some(input) } else { None })
        .collect();
    // A propagated table is dropped out after its propagation: `propagate` reads the table itself.
    let embeds: Vec<usize> = live
        .iter()
        .copied()
        .filter(|&i| match g.nodes[i].op {
            TensorOp::Embed { .. } => {
                !live.iter().any(|&j| matches!(g.nodes[j].op, TensorOp::Propagate { input, .. } if input == i))
            }
            TensorOp::Propagate { .. } => true,
            _ => false,
        })
        .filter(|i| !covered.contains(i))
        .collect();
    // Every embedding at once: one rate for the user and the item side keeps them comparable.
    let targets = if embeds.is_empty() {
        let hidden: Vec<usize> = hidden_layers(g).into_iter().filter(|h| !covered.contains(h)).collect();
        vec![*hidden.choose(rng)?]
    } else {
        embeds
    };
    for &t in &targets {
        let first = g.nodes.len();
        let d = g.push(TensorOp::Dropout { input: t, p });
        g.rewire(t, d, first);
    }
    Some(format!("dropout {p} on {} value(s)", targets.len()))
}

/// NeuMF's idea on a dot-product model: beside `dot(u, i)`, an MLP over `concat(u, i)` whose
/// score is added to it, so the model keeps the factorisation and learns what it misses.
fn mlp_path(g: &mut Graph, strength: f64) -> Option<String> {
    let TensorOp::Dot { left, right } = g.nodes[g.output].op else { return None };
    let width = [16, 32, 64, 128][((strength * 4.0) as usize).min(3)];
    let dot = g.output;
    let x = g.push(TensorOp::Concat { inputs: vec![left, right] });
    let h = g.push(TensorOp::Dense { input: x, units: width });
    let a = g.push(TensorOp::Activation { input: h, f: Activation::Relu });
    let s = g.push(TensorOp::Dense { input: a, units: 1 });
    g.output = g.push(TensorOp::Add { left: dot, right: s });
    Some(format!("an MLP path relu(dense(concat(u, i), {width})) added to the dot product"))
}

/// LightGCN on a model with a user and an item table of one width: both propagated over the
/// training graph for `k` steps (by strength); a model that propagates already takes another `k`.
fn propagate(g: &mut Graph, strength: f64, rng: &mut ChaCha8Rng) -> Option<String> {
    let steps = STEPS[((strength * 4.0) as usize).min(3)];
    let live = g.live_order();
    let propagated: Vec<usize> =
        live.iter().copied().filter(|&i| matches!(g.nodes[i].op, TensorOp::Propagate { .. })).collect();
    if !propagated.is_empty() {
        let TensorOp::Propagate { steps: old, .. } = g.nodes[propagated[0]].op else { return None };
        let options: Vec<u64> = STEPS.into_iter().filter(|&k| k != old).collect();
        let k = if options.contains(&steps) { steps } else { *options.choose(rng)? };
        for i in propagated {
            if let TensorOp::Propagate { steps, .. } = &mut g.nodes[i].op {
                *steps = k;
            }
        }
        return Some(format!("{k} propagation steps in place of {old}"));
    }
    let table = |side: &str, dim: Option<u64>| {
        live.iter().copied().find(|&i| match g.nodes[i].op {
            TensorOp::Embed { input, dim: d } => {
                matches!(&g.nodes[input].op, TensorOp::Input { name, kind: InputKind::Id } if name == side)
                    && dim.is_none_or(|want| want == d)
            }
            _ => false,
        })
    };
    let user = table(TRAINING_INPUTS[0], None)?;
    let item = table(TRAINING_INPUTS[1], g.width(user))?;
    for t in [user, item] {
        let first = g.nodes.len();
        let p = g.push(TensorOp::Propagate { input: t, steps });
        g.rewire(t, p, first);
    }
    Some(format!("LightGCN: the user and item tables propagated over the training graph, {steps} steps"))
}

/// A side feature the model does not read yet, added to its owner's representation: the item
/// (or user) table, or its propagation, becomes `table + 0.1 * embed(feature, d)` (a category)
/// or `table + 0.1 * dense(feature, d)` (a number). Categories are read as `id` inputs, which
/// size themselves from the data; a column of several tokens (genres) is then one category per
/// set. The 0.1: a small table's initial weights are several times a large id table's, and added
/// at full scale a feature shared by many users swamps each one's own vector (MovieLens'
/// gender: test NDCG@10 0.18 against 0.28 scaled, BENCHMARKS.md "Side features").
fn side_feature(g: &mut Graph, features: &[SideFeature], rng: &mut ChaCha8Rng) -> Option<String> {
    let live = g.live_order();
    let read: Vec<&str> = g
        .nodes
        .iter()
        .filter_map(|n| match &n.op {
            TensorOp::Input { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let target_of = |owner: &str| -> Option<usize> {
        let table = live.iter().copied().find(|&i| match g.nodes[i].op {
            TensorOp::Embed { input, .. } => {
                matches!(&g.nodes[input].op, TensorOp::Input { name, kind: InputKind::Id } if name == owner)
            }
            _ => false,
        })?;
        // A propagated table is mixed over the graph first; the feature joins what comes out.
        let propagated = live
            .iter()
            .copied()
            .find(|&i| matches!(g.nodes[i].op, TensorOp::Propagate { input, .. } if input == table));
        Some(propagated.unwrap_or(table))
    };
    let options: Vec<(&SideFeature, usize)> = features
        .iter()
        .filter(|f| !read.contains(&f.name.as_str()))
        .filter_map(|f| target_of(f.owner).map(|t| (f, t)))
        .collect();
    let &(feature, target) = options.choose(rng)?;
    let d = g.width(target)?;
    let first = g.nodes.len();
    let (kind, layer) = if feature.ty == "float" { (InputKind::Dense(1), "dense") } else { (InputKind::Id, "embed") };
    let input = g.push(TensorOp::Input { name: feature.name.clone(), kind });
    let value = match kind {
        InputKind::Dense(_) => g.push(TensorOp::Dense { input, units: d }),
        _ => g.push(TensorOp::Embed { input, dim: d }),
    };
    let scale = g.push(TensorOp::Constant(FEATURE_SCALE));
    let scaled = g.push(TensorOp::Mul { left: scale, right: value });
    let sum = g.push(TensorOp::Add { left: target, right: scaled });
    g.rewire(target, sum, first);
    Some(format!(
        "the {} feature `{}` added to the {} representation ({FEATURE_SCALE} * {layer}, {d})",
        feature.ty, feature.name, feature.owner
    ))
}
