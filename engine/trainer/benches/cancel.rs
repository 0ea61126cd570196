//! How long a cancelled training attempt keeps its thread: the flag is set at a random moment of
//! training or evaluation (ML-100K, eval every epoch) and the time until `run` returns
//! `Cancelled` is measured. The anchor is one epoch (training plus its evaluation pass): what the
//! latency would be if the flag were read once per epoch.
//! `BENCH_TRIALS` sets the trials per model (default 100), `BENCH_THREADS` torch's threads (1).
//!
//! Run: `cargo bench -p trainer --bench cancel` (a plain main that prints a table).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use tch::Device;
use trainer::data::{read_recbole_inter, split_by_user, Interactions};
use trainer::optim::{OptimizerConfig, OptimizerKind};
use trainer::{TrainConfig, TrainError, Trainer};

fn stdlib(name: &str) -> dsl::shape::ModelDef {
    let text = format!("use std::models::{{{name}}}\nlet m = {name}\n");
    let program = dsl::check("bench.evo", &text, &dsl::NoFiles, &[]).result.unwrap_or_else(|_| panic!("{name} checks"));
    program.models[&format!("std::models::{name}")].clone()
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config(threads: usize) -> TrainConfig {
    TrainConfig {
        optimizer: OptimizerConfig { kind: OptimizerKind::default_for("adam").unwrap(), lr: 0.001, weight_decay: 0.0 },
        batch_size: 1024,
        epochs: 10_000,
        eval_every: 1,
        early_stopping: None,
        threads: Some(threads),
        ..TrainConfig::default()
    }
}

/// The `q` quantile (nearest rank) of sorted `xs`.
fn quantile(xs: &[f64], q: f64) -> f64 {
    xs[((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len()) - 1]
}

fn main() {
    let trials = env("BENCH_TRIALS", 100);
    let threads = env("BENCH_THREADS", 1);
    tch::set_num_threads(threads as i32);
    let rows = read_recbole_inter(&testdata::ml_100k().inter()).expect("ML-100K reads");
    let (tr, va, te) = split_by_user(&rows, [0.8, 0.1, 0.1], 2020);
    let data = Interactions::new(&tr, &va, &te).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(15);
    println!("cancellation latency on CPU, ML-100K, batch 1024, eval every epoch, {threads} torch thread(s), {trials} trials per model");
    println!(
        "{:<10} {:>13} {:>13} {:>13} {:>13} {:>16}",
        "model", "epoch (anchor)", "latency p50", "latency p99", "latency max", "p99 / epoch"
    );
    for model in ["bpr_mf", "two_tower"] {
        let def = stdlib(model);
        // The anchor: one epoch with its evaluation, after a warm-up epoch.
        let mut t = Trainer::new(&def, &data, config(threads), Device::Cpu).unwrap();
        t.run_epoch().unwrap();
        let start = Instant::now();
        t.run_epoch().unwrap();
        let epoch = start.elapsed().as_secs_f64();
        drop(t);
        let mut latencies = Vec::with_capacity(trials);
        for _ in 0..trials {
            let flag = Arc::new(AtomicBool::new(false));
            let mut trainer = Trainer::new(&def, &data, config(threads), Device::Cpu).unwrap();
            trainer.cancel_on(flag.clone());
            // Anywhere in the first two epochs: inside a batch loop or an evaluation pass.
            let delay = Duration::from_secs_f64(rng.gen_range(0.0..2.0 * epoch));
            let latency = std::thread::scope(|s| {
                let run = s.spawn(move || {
                    let result = trainer.run(None);
                    (result, Instant::now())
                });
                std::thread::sleep(delay);
                let set = Instant::now();
                flag.store(true, Ordering::Relaxed);
                let (result, stopped) = run.join().unwrap();
                assert!(matches!(result, Err(TrainError::Cancelled)), "trial ended with {result:?}");
                stopped.saturating_duration_since(set).as_secs_f64()
            });
            latencies.push(latency);
        }
        latencies.sort_by(f64::total_cmp);
        let ms = |s: f64| format!("{:.1} ms", s * 1e3);
        println!(
            "{:<10} {:>13} {:>13} {:>13} {:>13} {:>16}",
            model,
            ms(epoch),
            ms(quantile(&latencies, 0.5)),
            ms(quantile(&latencies, 0.99)),
            ms(*latencies.last().unwrap()),
            format!("{:.4}", quantile(&latencies, 0.99) / epoch)
        );
    }
}
