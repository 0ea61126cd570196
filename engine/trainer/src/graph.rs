//! The training interactions as a graph, for `propagate` (LightGCN, He et al., SIGIR 2020): the
//! symmetric normalised adjacency `D^-1/2 A D^-1/2` of the user–item bipartite graph, and the
//! propagation of the user and item tables over it.

use tch::{Device, Kind, Tensor};

use crate::data::Part;

/// Names of the edge tensors a checkpoint stores beside the weights, so a loaded model propagates
/// over the graph it was trained on.
pub const EDGE_TENSORS: [&str; 2] = ["graph.users", "graph.items"];

/// The user–item graph of one training split.
pub struct Graph {
    /// Edge endpoints (internal ids), one entry per distinct (user, item) pair.
    users: Tensor,
    items: Tensor,
    /// `[U + I, U + I]` sparse COO, users first, then items. (CSR multiplies 1.5x faster on the
    /// CPU, but libtorch prints a "beta" warning to stderr on every run that makes one.)
    adj: Tensor,
    n_users: i64,
}

impl Graph {
    /// The graph of the rows of `train` the model learns to score high (a positive label and a
    /// positive weight), over tables of `n_users` and `n_items` rows.
    pub fn of_positives(train: &Part, n_users: i64, n_items: i64, device: Device) -> Result<Graph, tch::TchError> {
        let mut pairs: Vec<(i64, i64)> = (0..train.len())
            .filter(|&k| train.labels[k] > 0.0 && train.weights[k] > 0.0)
            .map(|k| (train.users[k], train.items[k]))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let users: Vec<i64> = pairs.iter().map(|p| p.0).collect();
        let items: Vec<i64> = pairs.iter().map(|p| p.1).collect();
        Graph::new(&Tensor::from_slice(&users), &Tensor::from_slice(&items), n_users, n_items, device)
    }

    /// The graph with edges `users[k]`–`items[k]` (distinct pairs, internal ids).
    pub fn new(
        users: &Tensor,
        items: &Tensor,
        n_users: i64,
        n_items: i64,
        device: Device,
    ) -> Result<Graph, tch::TchError> {
        let n = n_users + n_items;
        let ones = Tensor::f_ones([users.size()[0]], (Kind::Float, Device::Cpu))?;
        let deg_u = Tensor::f_zeros([n_users], (Kind::Float, Device::Cpu))?.f_index_add(0, users, &ones)?;
        let deg_i = Tensor::f_zeros([n_items], (Kind::Float, Device::Cpu))?.f_index_add(0, items, &ones)?;
        // Every edge has degree ≥ 1 at both ends, so the weights are finite.
        let w = deg_u.f_index_select(0, users)?.f_mul(&deg_i.f_index_select(0, items)?)?.f_rsqrt()?;
        let shifted = items.f_add_scalar(n_users)?;
        let rows = Tensor::f_cat(&[users, &shifted], 0)?;
        let cols = Tensor::f_cat(&[&shifted, users], 0)?;
        let indices = Tensor::f_stack(&[rows, cols], 0)?;
        let values = Tensor::f_cat(&[&w, &w], 0)?;
        let adj =
            Tensor::f_sparse_coo_tensor_indices_size(&indices, &values, [n, n], (Kind::Float, Device::Cpu), false)?
                .f_coalesce()?
                .f_to_device(device)?;
        Ok(Graph { users: users.shallow_clone(), items: items.shallow_clone(), adj, n_users })
    }

    /// The edge tensors a checkpoint stores ([`EDGE_TENSORS`]).
    pub fn edges(&self) -> Vec<(String, Tensor)> {
        vec![(EDGE_TENSORS[0].into(), self.users.shallow_clone()), (EDGE_TENSORS[1].into(), self.items.shallow_clone())]
    }

    /// Propagates `user` `[U, d]` and `item` `[I, d]` for `steps` steps: `out[k]` is the mean of
    /// steps `0..=k` (users first, then items), so each side reads its own depth.
    pub fn propagate(&self, user: &Tensor, item: &Tensor, steps: u64) -> Result<Vec<Tensor>, tch::TchError> {
        let mut e = Tensor::f_cat(&[user, item], 0)?;
        let mut sum = e.shallow_clone();
        let mut out = vec![sum.shallow_clone()];
        for k in 1..=steps as i64 {
            e = self.adj.f_mm(&e)?;
            sum = sum.f_add(&e)?;
            out.push(sum.f_div_scalar((k + 1) as f64)?);
        }
        Ok(out)
    }

    /// Rows of the users (`true`) or the items in a propagated table.
    pub fn rows(&self, table: &Tensor, users: bool) -> Result<Tensor, tch::TchError> {
        let n = table.size()[0];
        if users {
            table.f_narrow(0, 0, self.n_users)
        } else {
            table.f_narrow(0, self.n_users, n - self.n_users)
        }
    }
}
