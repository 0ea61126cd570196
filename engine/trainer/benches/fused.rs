//! How much horizontal fusion could buy on this machine's CPU (issue 19, before it is built):
//! K matrix-factorisation candidates (ML-100K shapes: 943 users, 1,682 items, dim 64, BPR with
//! one uniform negative, batch 1,024, Adam with a learning rate per candidate) trained as one
//! model whose tables carry a leading candidate dimension `[K, rows, dim]`, against the same K
//! candidates trained one after another with the same tensor code at K = 1 (the anchor, in the
//! same run). Both use the same hand-written Adam on tensors, as the trainer does; the fused one
//! takes its learning rates as a `[K, 1, 1]` tensor. Candidates trained per hour = K / time.
//!
//! Not the trainer: a ceiling for what fusing the trainer's models can reach here.
//! `BENCH_STEPS` (default 200) steps per measurement, `BENCH_THREADS` torch's threads (2),
//! `BENCH_REPEAT` repeats (3; best and median reported).
//!
//! Run: `cargo bench -p trainer --bench fused` (a plain main that prints a table).

use std::time::Instant;

use tch::{Device, Kind, Tensor};

const USERS: i64 = 943;
const ITEMS: i64 = 1682;
const DIM: i64 = 64;
const BATCH: i64 = 1024;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// K candidates' tables and Adam moments, trained together.
struct Fused {
    params: Vec<Tensor>,
    moments: Vec<(Tensor, Tensor)>,
    lr: Tensor,
    step: i64,
}

impl Fused {
    fn new(k: i64, seed: i64) -> Self {
        tch::manual_seed(seed);
        let table = |rows| (Tensor::randn([k, rows, DIM], (Kind::Float, Device::Cpu)) * 0.1).set_requires_grad(true);
        let params = vec![table(USERS), table(ITEMS)];
        let moments = params.iter().map(|p| (p.zeros_like(), p.zeros_like())).collect();
        // Each candidate its own learning rate: the optimizer persona's variants.
        let lr = Tensor::linspace(1e-3, 1e-2, k, (Kind::Float, Device::Cpu)).view([k, 1, 1]);
        Fused { params, moments, lr, step: 0 }
    }

    /// One BPR step on a shared batch; the loss is summed over candidates, each one's mean.
    fn train_step(&mut self, users: &Tensor, pos: &Tensor, neg: &Tensor) {
        let (u, i) = (&self.params[0], &self.params[1]);
        let eu = u.index_select(1, users);
        let (ep, en) = (i.index_select(1, pos), i.index_select(1, neg));
        let diff =
            (&eu * &ep).sum_dim_intlist(-1, false, Kind::Float) - (&eu * &en).sum_dim_intlist(-1, false, Kind::Float);
        let loss = -diff.log_sigmoid().mean_dim(-1, false, Kind::Float).sum(Kind::Float);
        for p in &mut self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
        loss.backward();
        self.step += 1;
        let t = self.step as f64;
        let (b1, b2, eps) = (0.9, 0.999, 1e-8);
        tch::no_grad(|| {
            for (p, (m, v)) in self.params.iter_mut().zip(self.moments.iter_mut()) {
                let g = p.grad();
                let _ = m.g_mul_scalar_(b1).g_add_(&(&g * (1.0 - b1)));
                let _ = v.g_mul_scalar_(b2).g_add_(&(&g * &g * (1.0 - b2)));
                let mhat = &*m / (1.0 - b1.powf(t));
                let vhat = &*v / (1.0 - b2.powf(t));
                let update = mhat / (vhat.sqrt() + eps) * &self.lr;
                let _ = p.g_sub_(&update);
            }
        });
    }
}

/// Seconds to train `k` candidates for `steps` steps: fused as one model, or one at a time.
fn time(k: i64, steps: usize, fused: bool, batches: &[(Tensor, Tensor, Tensor)]) -> f64 {
    let start = Instant::now();
    if fused {
        let mut model = Fused::new(k, 7);
        for (u, p, n) in batches.iter().cycle().take(steps) {
            model.train_step(u, p, n);
        }
    } else {
        for c in 0..k {
            let mut model = Fused::new(1, 7 + c);
            for (u, p, n) in batches.iter().cycle().take(steps) {
                model.train_step(u, p, n);
            }
        }
    }
    start.elapsed().as_secs_f64()
}

fn main() {
    tch::set_num_threads(env("BENCH_THREADS", 2) as i32);
    let steps = env("BENCH_STEPS", 200);
    let repeat = env("BENCH_REPEAT", 3);
    tch::manual_seed(1);
    let batches: Vec<(Tensor, Tensor, Tensor)> = (0..50)
        .map(|_| {
            let ids = |n| Tensor::randint(n, [BATCH], (Kind::Int64, Device::Cpu));
            (ids(USERS), ids(ITEMS), ids(ITEMS))
        })
        .collect();
    println!(
        "{steps} steps per candidate, batch {BATCH}, {} torch threads, best and median of {repeat}",
        env("BENCH_THREADS", 2)
    );
    println!("| K | one at a time s (best / median) | fused s (best / median) | fused / one at a time (best) |");
    println!("| --- | --- | --- | --- |");
    for k in [1i64, 8, 32] {
        let mut alone: Vec<f64> = (0..repeat).map(|_| time(k, steps, false, &batches)).collect();
        let mut fused: Vec<f64> = (0..repeat).map(|_| time(k, steps, true, &batches)).collect();
        alone.sort_by(f64::total_cmp);
        fused.sort_by(f64::total_cmp);
        let (a, f) = (alone[0], fused[0]);
        println!(
            "| {k} | {a:.3} / {:.3} | {f:.3} / {:.3} | {:.2}x |",
            alone[alone.len() / 2],
            fused[fused.len() / 2],
            a / f
        );
    }
}
