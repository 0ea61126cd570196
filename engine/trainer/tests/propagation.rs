//! `propagate` (LightGCN): the layer means over the normalised training graph, computed by hand
//! here and compared; gradients through the graph; full ranking on propagated tables; the graph
//! saved with the weights; a model without its graph is an error, not a panic.

mod common;

use std::collections::BTreeMap;

use common::{clustered_split, stdlib, trained_and_saved};
use tch::{Device, Kind, Tensor};
use trainer::checkpoint::load_model;
use trainer::data::Part;
use trainer::graph::Graph;
use trainer::model::{FeatureTensors, Inputs, Model, ModelError};

const USERS: i64 = 3;
const ITEMS: i64 = 4;
/// user → items: user 2 has no edge (its propagated rows are its own embedding, scaled).
const EDGES: &[(i64, i64)] = &[(0, 0), (0, 1), (1, 1), (1, 2), (1, 3), (0, 3)];

fn vocab() -> BTreeMap<String, i64> {
    BTreeMap::from([("user".to_string(), USERS), ("item".to_string(), ITEMS)])
}

fn train_part() -> Part {
    let mut by_user = vec![Vec::new(); USERS as usize];
    for &(u, i) in EDGES {
        by_user[u as usize].push(i);
    }
    Part {
        users: EDGES.iter().map(|e| e.0).collect(),
        items: EDGES.iter().map(|e| e.1).collect(),
        labels: vec![1.0; EDGES.len()],
        weights: vec![1.0; EDGES.len()],
        by_user,
    }
}

fn lightgcn(steps: u64) -> Model {
    let def = common::inline(&format!(
        "input user: id, item: id\n u = propagate(embed(user, 2), {steps})\n i = propagate(embed(item, 2), {steps})\n s = dot(u, i)"
    ));
    let mut model = Model::new(&def, &vocab(), Device::Cpu, 11).unwrap();
    model.set_graph(Graph::of_positives(&train_part(), USERS, ITEMS, Device::Cpu).unwrap());
    model
}

fn rows(t: &Tensor) -> Vec<Vec<f64>> {
    let n = t.size()[0];
    (0..n).map(|r| Vec::<f64>::try_from(&t.get(r).to_kind(Kind::Double)).unwrap()).collect()
}

/// LightGCN by hand: `e_{k+1}[v] = Σ_{w ~ v} e_k[w] / sqrt(deg v · deg w)`, then the mean of
/// `e_0..e_steps`, over the users and items stacked.
fn reference(user: &[Vec<f64>], item: &[Vec<f64>], steps: u64) -> Vec<Vec<f64>> {
    let n = (USERS + ITEMS) as usize;
    let mut deg = vec![0.0f64; n];
    for &(u, i) in EDGES {
        deg[u as usize] += 1.0;
        deg[(USERS + i) as usize] += 1.0;
    }
    let mut e: Vec<Vec<f64>> = user.iter().chain(item).cloned().collect();
    let mut sum = e.clone();
    for _ in 0..steps {
        let mut next = vec![vec![0.0; 2]; n];
        for &(u, i) in EDGES {
            let (a, b) = (u as usize, (USERS + i) as usize);
            let w = 1.0 / (deg[a] * deg[b]).sqrt();
            for d in 0..2 {
                next[a][d] += w * e[b][d];
                next[b][d] += w * e[a][d];
            }
        }
        e = next;
        for (s, x) in sum.iter_mut().zip(&e) {
            s[0] += x[0];
            s[1] += x[1];
        }
    }
    sum.iter().map(|s| s.iter().map(|x| x / (steps + 1) as f64).collect()).collect()
}

#[test]
fn propagate_scores_with_the_mean_of_each_step_over_the_normalised_graph() {
    for steps in [1, 3] {
        let model = lightgcn(steps);
        let tables: Vec<Tensor> = model.params().iter().map(|(_, p)| p.detach()).collect();
        let mixed = reference(&rows(&tables[0]), &rows(&tables[1]), steps);
        let mut inputs = Inputs::new();
        let (users, items): (Vec<i64>, Vec<i64>) = (0..USERS).flat_map(|u| (0..ITEMS).map(move |i| (u, i))).unzip();
        inputs.insert("user".into(), Tensor::from_slice(&users));
        inputs.insert("item".into(), Tensor::from_slice(&items));
        let got = Vec::<f64>::try_from(&model.forward(&inputs, false).unwrap().to_kind(Kind::Double)).unwrap();
        for (k, (&u, &i)) in users.iter().zip(&items).enumerate() {
            let (a, b) = (&mixed[u as usize], &mixed[(USERS + i) as usize]);
            let want = a[0] * b[0] + a[1] * b[1];
            assert!((got[k] - want).abs() < 1e-5, "steps {steps}, ({u}, {i}): {} vs {want}", got[k]);
        }
        // Full ranking uses the same propagated tables.
        let matrix = tch::no_grad(|| {
            model.score_matrix(
                &Tensor::arange(USERS, (Kind::Int64, Device::Cpu)),
                &Tensor::arange(ITEMS, (Kind::Int64, Device::Cpu)),
                &FeatureTensors::empty(),
            )
        })
        .unwrap();
        let direct = Tensor::from_slice(&got).to_kind(Kind::Float).view([USERS, ITEMS]);
        assert!(matrix.allclose(&direct, 1e-5, 1e-6, false), "steps {steps}: {matrix} vs {direct}");
    }
}

#[test]
fn gradients_reach_rows_the_batch_never_looked_up_through_the_graph() {
    let model = lightgcn(2);
    let mut inputs = Inputs::new();
    // One pair: user 0, item 2. Item 2's only neighbour is user 1, so user 1's row must learn.
    inputs.insert("user".into(), Tensor::from_slice(&[0i64]));
    inputs.insert("item".into(), Tensor::from_slice(&[2i64]));
    model.forward(&inputs, true).unwrap().sum(Kind::Float).backward();
    let user_grad = model.params()[0].1.grad();
    let row = |r: i64| user_grad.get(r).abs().sum(Kind::Float).double_value(&[]);
    assert!(row(1) > 0.0, "user 1 is two hops from user 0 and one from item 2");
    assert_eq!(row(2), 0.0, "user 2 has no edge and is not in the batch");
}

#[test]
fn a_propagating_model_without_its_graph_is_an_error() {
    let def = stdlib("lightgcn");
    let model = Model::new(&def, &vocab(), Device::Cpu, 1).unwrap();
    assert!(model.needs_graph());
    let mut inputs = Inputs::new();
    inputs.insert("user".into(), Tensor::from_slice(&[0i64]));
    inputs.insert("item".into(), Tensor::from_slice(&[1i64]));
    let err = model.forward(&inputs, false).unwrap_err();
    assert!(matches!(err, ModelError::NoGraph), "{err}");
    assert!(!Model::new(&stdlib("bpr_mf"), &vocab(), Device::Cpu, 1).unwrap().needs_graph());
}

#[test]
fn a_saved_lightgcn_loads_with_its_graph_and_scores_the_same() {
    let data = clustered_split(40, 80, 4, 10, true, 3);
    let def = stdlib("lightgcn");
    let (trained, dir) = trained_and_saved(&def, &data, "lightgcn");
    let loaded = load_model(&dir, &def, &data.vocab(), Device::Cpu).unwrap();
    let users = Tensor::arange(6, (Kind::Int64, Device::Cpu));
    let items = Tensor::arange(data.n_items() as i64, (Kind::Int64, Device::Cpu));
    let f = FeatureTensors::empty();
    let (a, b) = tch::no_grad(|| {
        (trained.model.score_matrix(&users, &items, &f).unwrap(), loaded.score_matrix(&users, &items, &f).unwrap())
    });
    assert!(a.allclose(&b, 1e-6, 1e-7, false), "scores differ after loading");
    std::fs::remove_dir_all(&dir).unwrap();
}
