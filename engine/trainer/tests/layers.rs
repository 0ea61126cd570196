//! Every layer kind: output shapes, gradients reaching every weight, the factorised ranking path
//! agreeing with plain forward passes, and shape assertions reported as errors.

mod common;

use std::collections::BTreeMap;

use common::{inline, stdlib};
use dsl::shape::{Shape, TensorOp};
use tch::{Device, Kind, Tensor};
use trainer::model::{FeatureTensors, Inputs, Model, ModelError};

const B: i64 = 6;

fn vocab() -> BTreeMap<String, i64> {
    BTreeMap::from([("user".to_string(), 9), ("item".to_string(), 11)])
}

/// Inputs for a batch: ids, a categorical `genre` (5 values) and a dense `ctx` of width 3.
fn batch() -> Inputs {
    let mut m = Inputs::new();
    m.insert("user".into(), Tensor::from_slice(&[0i64, 1, 2, 3, 8, 8]));
    m.insert("item".into(), Tensor::from_slice(&[10i64, 9, 0, 1, 2, 3]));
    m.insert("genre".into(), Tensor::from_slice(&[0i64, 1, 2, 3, 4, 0]));
    m.insert(
        "ctx".into(),
        Tensor::from_slice(&[0.5f32; 18]).view([B, 3]) * Tensor::arange(3, (Kind::Float, Device::Cpu)),
    );
    m
}

/// One model per layer kind (plus broadcasting forms), each ending in a score of shape [1].
const CASES: &[(&str, &str)] = &[
    ("embed+dot", "input user: id, item: id\n s = dot(embed(user, 4), embed(item, 4))"),
    ("dense", "input user: id, item: id\n s = dense(concat(embed(user, 4), embed(item, 4)), 1)"),
    ("relu", "input user: id, item: id\n s = sum(relu(dense(embed(user, 4) * embed(item, 4), 3)))"),
    ("gelu", "input user: id, item: id\n s = sum(gelu(dense(embed(user, 4) * embed(item, 4), 3)))"),
    ("silu", "input user: id, item: id\n s = sum(silu(dense(embed(user, 4) * embed(item, 4), 3)))"),
    ("sigmoid", "input user: id, item: id\n s = sum(sigmoid(dense(embed(user, 4) * embed(item, 4), 3)))"),
    ("tanh", "input user: id, item: id\n s = sum(tanh(dense(embed(user, 4) * embed(item, 4), 3)))"),
    ("layer_norm", "input user: id, item: id\n s = dot(layer_norm(embed(user, 4)), dense(embed(item, 4), 4))"),
    ("dropout", "input user: id, item: id\n s = dot(dropout(embed(user, 4), 0.5), embed(item, 4))"),
    ("add", "input user: id, item: id\n s = sum(embed(user, 4) + embed(item, 4) * embed(item, 4))"),
    ("sub", "input user: id, item: id\n s = mean(embed(user, 4) - embed(item, 4) * embed(user, 4))"),
    ("mul [1] broadcast", "input user: id, item: id\n g = dense(embed(user, 4), 1)\n s = sum(g * embed(item, 4))"),
    ("mul scalar", "input user: id, item: id\n s = 0.5 * dot(embed(user, 4), embed(item, 4)) + 2"),
    ("mean", "input user: id, item: id\n s = mean(embed(user, 4) * embed(item, 4))"),
    ("cross", "input user: id, item: id\n x0 = concat(embed(user, 3), embed(item, 3))\n s = dense(cross(x0, cross(x0, x0)), 1)"),
    ("categorical", "input user: id, item: id, genre: categorical(5)\n s = dot(embed(user, 4), embed(item, 4) + embed(genre, 4))"),
    ("dense input", "input user: id, item: id, ctx: dense(3)\n s = dot(dense(ctx, 4) * embed(user, 4), embed(item, 4))"),
];

#[test]
fn every_layer_has_the_checked_shapes_and_passes_gradients_to_every_weight() {
    tch::set_num_threads(1);
    for (name, body) in CASES {
        let def = inline(body);
        let model = Model::new(&def, &vocab(), Device::Cpu, 3).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = model.forward(&batch(), true).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(out.size(), vec![B], "{name}: score shape");
        assert!(out.isfinite().all().int64_value(&[]) == 1, "{name}: finite scores");
        // Non-trivial upstream gradient so every path carries signal.
        (out * Tensor::from_slice(&[1.0f32, -2.0, 3.0, 0.5, 1.5, -1.0])).sum(Kind::Float).backward();
        assert!(!model.params().is_empty(), "{name}: has weights");
        for (pname, p) in model.params() {
            let g = p.grad();
            assert!(g.defined(), "{name}: `{pname}` got no gradient");
            assert_eq!(g.size(), p.size(), "{name}: `{pname}` gradient shape");
            assert!(g.isfinite().all().int64_value(&[]) == 1, "{name}: `{pname}` gradient not finite");
            assert!(g.abs().sum(Kind::Float).double_value(&[]) > 0.0, "{name}: `{pname}` gradient is all zero");
        }
    }
}

#[test]
fn parameter_counts_match_the_checker() {
    for name in ["bpr_mf", "two_tower", "neumf", "dcn_v2", "gated"] {
        let def = stdlib(name);
        let model = Model::new(&def, &vocab(), Device::Cpu, 1).unwrap();
        let ids: i64 = def.id_embeddings().iter().map(|(input, dim)| vocab()[input] * *dim as i64).sum();
        assert_eq!(model.parameters(), def.dense_parameters() as i64 + ids, "{name}");
        assert_eq!(model.flops_per_example(), def.flops_per_example());
    }
    // bpr_mf: two 64-d tables.
    assert_eq!(Model::new(&stdlib("bpr_mf"), &vocab(), Device::Cpu, 1).unwrap().parameters(), (9 + 11) * 64);
}

#[test]
fn cross_layer_computes_x0_times_wx_plus_b_plus_x() {
    let def = inline(
        "input user: id, item: id\n x0 = concat(embed(user, 2), embed(item, 2))\n c = cross(x0, x0)\n s = sum(c)",
    );
    let model = Model::new(&def, &vocab(), Device::Cpu, 5).unwrap();
    let p: BTreeMap<String, Tensor> = model.params().iter().map(|(n, t)| (n.clone(), t.detach())).collect();
    let (eu, ei) = (&p["n2_embed.weight"], &p["n3_embed.weight"]);
    let cross_w = p.iter().find(|(n, _)| n.contains("_c.weight")).unwrap().1;
    let cross_b = p.iter().find(|(n, _)| n.contains("_c.bias")).unwrap().1;
    let inputs = batch();
    let x0 = Tensor::cat(&[eu.index_select(0, &inputs["user"]), ei.index_select(0, &inputs["item"])], 1);
    let expected = (&x0 * (x0.matmul(&cross_w.tr()) + cross_b) + &x0).sum_dim_intlist(-1, false, Kind::Float);
    let got = model.forward(&inputs, false).unwrap().detach();
    assert!(got.allclose(&expected, 1e-5, 1e-6, false), "{got} vs {expected}");
}

#[test]
fn score_matrix_equals_forward_on_every_pair() {
    tch::set_num_threads(1);
    let users = Tensor::from_slice(&[0i64, 4, 8]);
    let items = Tensor::arange(11, (Kind::Int64, Device::Cpu));
    let models: Vec<_> = ["bpr_mf", "two_tower", "neumf", "dcn_v2", "gated"].iter().map(|n| stdlib(n)).collect();
    let extra =
        inline("input user: id, item: id\n u = embed(user, 4)\n s = sum(u) + dot(tanh(u), embed(item, 4)) * 0.5");
    for def in models.iter().chain(std::iter::once(&extra)) {
        let model = Model::new(def, &vocab(), Device::Cpu, 2).unwrap();
        let matrix = tch::no_grad(|| model.score_matrix(&users, &items, &FeatureTensors::empty())).unwrap();
        assert_eq!(matrix.size(), vec![3, 11], "{}", def.name);
        let pair_users = users.view([-1, 1]).expand([3, 11], false).reshape([-1]);
        let pair_items = items.view([1, -1]).expand([3, 11], false).reshape([-1]);
        let mut inputs = Inputs::new();
        inputs.insert("user".into(), pair_users);
        inputs.insert("item".into(), pair_items);
        let direct = tch::no_grad(|| model.forward(&inputs, false)).unwrap().view([3, 11]);
        assert!(matrix.allclose(&direct, 1e-4, 1e-5, false), "{}: factorised scores differ", def.name);
    }
}

#[test]
fn wrong_inputs_and_wrong_shapes_are_errors_not_panics() {
    let def = inline("input user: id, item: id, ctx: dense(3)\n s = dot(dense(ctx, 4), embed(item, 4)) + dot(embed(user, 4), embed(item, 4))");
    let model = Model::new(&def, &vocab(), Device::Cpu, 1).unwrap();
    let mut inputs = batch();
    inputs.insert("ctx".into(), Tensor::zeros([B, 5], (Kind::Float, Device::Cpu)));
    assert!(matches!(model.forward(&inputs, false), Err(ModelError::BadInput { .. })));
    inputs.remove("ctx");
    assert!(matches!(model.forward(&inputs, false), Err(ModelError::MissingInput { .. })));
    // Out-of-range ids: libtorch's error comes back as a value.
    let mut bad = batch();
    bad.insert("item".into(), Tensor::from_slice(&[99i64, 0, 0, 0, 0, 0]));
    assert!(matches!(model.forward(&bad, false), Err(ModelError::Torch(_))));
    // An id input without a vocabulary size.
    assert!(matches!(Model::new(&def, &BTreeMap::new(), Device::Cpu, 1), Err(ModelError::MissingVocab { .. })));

    // A definition whose recorded shape disagrees with what the layer produces.
    let mut wrong = stdlib("two_tower");
    let dense = wrong.nodes.iter().position(|n| matches!(n.op, TensorOp::Dense { units: 128, .. })).unwrap();
    wrong.nodes[dense].shape = Shape::Vector(127);
    let model = Model::new(&wrong, &vocab(), Device::Cpu, 1).unwrap();
    match model.forward(&batch(), false) {
        Err(ModelError::Shape { node, expected, found, .. }) => {
            assert_eq!(node, dense);
            assert_eq!(expected, vec![B, 127]);
            assert_eq!(found, vec![B, 128]);
        }
        other => panic!("expected a shape error, got {:?}", other.map(|t| t.size())),
    }
}
