//! Training throughput (examples/s) of the stdlib two-tower and MF with BPR + Adam at batch 1024
//! and 8192, and the time of one full-ranking evaluation over ML-100K (943 users × 1,682 items).
//! CPU only; `BENCH_THREADS` sets torch's threads (default 2), `BENCH_EPOCHS` the measured epochs
//! (default 2). ML-100K comes from `scripts/fetch-data.sh` (run on first use).
//!
//! Run: `cargo bench -p trainer --bench throughput` (a plain main that prints a table).

use std::time::Instant;

use tch::Device;
use trainer::data::{read_recbole_inter, split_by_user, Interactions};
use trainer::metrics::{evaluate, Ranking};
use trainer::model::FeatureTensors;
use trainer::optim::{OptimizerConfig, OptimizerKind};
use trainer::{Split, TrainConfig, Trainer};

fn stdlib(name: &str) -> dsl::shape::ModelDef {
    let text = format!("use std::models::{{{name}}}\nlet m = {name}\n");
    let program = dsl::check("bench.evo", &text, &dsl::NoFiles, &[]).result.unwrap_or_else(|_| panic!("{name} checks"));
    program.models[&format!("std::models::{name}")].clone()
}

fn data() -> (Interactions, &'static str) {
    let rows = read_recbole_inter(&testdata::ml_100k().inter()).expect("ML-100K reads");
    let (tr, va, te) = split_by_user(&rows, [0.8, 0.1, 0.1], 2020);
    (Interactions::new(&tr, &va, &te).unwrap(), "ML-100K")
}

fn main() {
    let threads: usize = std::env::var("BENCH_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let epochs: usize = std::env::var("BENCH_EPOCHS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    tch::set_num_threads(threads as i32);
    let (data, source) = data();
    println!("trainer throughput on CPU, {threads} torch threads, data {source} ({} training rows)", data.train.len());
    println!("{:<10} {:>6} {:>14} {:>10}", "model", "batch", "examples/s", "ms/step");
    for model in ["two_tower", "bpr_mf"] {
        let def = stdlib(model);
        for batch in [1024usize, 8192] {
            let cfg = TrainConfig {
                optimizer: OptimizerConfig {
                    kind: OptimizerKind::default_for("adam").unwrap(),
                    lr: 0.001,
                    weight_decay: 0.0,
                },
                batch_size: batch,
                epochs: epochs + 1,
                eval_every: 0,
                early_stopping: None,
                threads: Some(threads),
                ..TrainConfig::default()
            };
            let mut t = Trainer::new(&def, &data, cfg, Device::Cpu).unwrap();
            t.run_epoch().unwrap(); // warm-up: allocator, first-touch
            let (mut secs, mut examples, mut steps) = (0.0, 0usize, 0usize);
            for _ in 0..epochs {
                let log = t.run_epoch().unwrap();
                secs += log.train_seconds;
                examples += log.examples;
                steps += log.examples.div_ceil(batch);
            }
            println!(
                "{:<10} {:>6} {:>14.0} {:>10.2}",
                model,
                batch,
                examples as f64 / secs,
                1000.0 * secs / steps as f64
            );
        }
    }
    println!("\nfull-ranking evaluation (test split, train+valid excluded, NDCG/Recall/Hit/MRR/Precision@10,20)");
    for model in ["bpr_mf", "two_tower", "neumf"] {
        let def = stdlib(model);
        let m = trainer::Model::new(&def, &data.vocab(), Device::Cpu, 1).unwrap();
        let f = FeatureTensors::empty();
        let _ = evaluate(&m, &data, &f, Split::Test, Ranking::Full, &[10, 20], "none").unwrap();
        let reps = 3;
        let start = Instant::now();
        for _ in 0..reps {
            let _ = evaluate(&m, &data, &f, Split::Test, Ranking::Full, &[10, 20], "none").unwrap();
        }
        println!("{:<10} {:>8.1} ms per evaluation", model, 1000.0 * start.elapsed().as_secs_f64() / reps as f64);
    }
}
