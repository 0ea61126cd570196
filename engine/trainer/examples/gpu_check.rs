//! GPU check: trains the same model with the same seed on CUDA and on the CPU, checks that the
//! test metrics agree within a stated tolerance, and prints training throughput for one candidate
//! and for K candidates trained concurrently on one device (one thread each).
//!
//! ```text
//! cargo build --release -p trainer --example gpu_check
//! # on the GPU machine, beside the binary and ml-100k.inter:
//! LD_LIBRARY_PATH=$(python3 -c 'import os,torch;print(os.path.dirname(torch.__file__))')/lib \
//!   ./gpu_check [PATH/ml-100k.inter] [--epochs 40] [--tolerance 0.01] [--max-k 8]
//! ```
//!
//! Without a data path (or when the file is missing) it uses random interactions of ML-100K's
//! size. Without CUDA it runs the CPU half and says so. Exits 1 when the metrics disagree.

use std::path::PathBuf;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use tch::Device;
use trainer::data::{read_recbole_inter, split_by_user, Interactions, Row};
use trainer::device::{choose, DeviceChoice};
use trainer::metrics::{evaluate, Ranking};
use trainer::model::FeatureTensors;
use trainer::optim::{OptimizerConfig, OptimizerKind};
use trainer::{Split, TrainConfig, Trainer};

fn stdlib(name: &str) -> dsl::shape::ModelDef {
    let text = format!("use std::models::{{{name}}}\nlet m = {name}\n");
    let program =
        dsl::check("gpu_check.evo", &text, &dsl::NoFiles, &[]).result.unwrap_or_else(|_| panic!("{name} checks"));
    program.models[&format!("std::models::{name}")].clone()
}

struct Args {
    data: Option<PathBuf>,
    epochs: usize,
    tolerance: f64,
    max_k: usize,
}

fn args() -> Args {
    let mut a = Args { data: None, epochs: 40, tolerance: 0.01, max_k: 8 };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut num = |name: &str| {
            it.next().and_then(|v| v.parse::<f64>().ok()).unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match x.as_str() {
            "--epochs" => a.epochs = num("--epochs") as usize,
            "--tolerance" => a.tolerance = num("--tolerance"),
            "--max-k" => a.max_k = num("--max-k") as usize,
            path => a.data = Some(PathBuf::from(path)),
        }
    }
    a
}

fn load(path: Option<&PathBuf>) -> (Interactions, String) {
    let rows = match path.map(|p| (p, read_recbole_inter(p))) {
        Some((p, Ok(rows))) => {
            let n = rows.len();
            (rows, format!("{} ({n} rows)", p.display()))
        }
        other => {
            if let Some((p, Err(e))) = other {
                println!("cannot read {}: {e}; using random data", p.display());
            }
            let mut rng = rand::rngs::StdRng::seed_from_u64(1);
            let rows = (0..100_000).map(|_| Row::implicit(rng.gen_range(0..943), rng.gen_range(0..1682))).collect();
            (rows, "random 943 users x 1682 items, 100,000 rows".to_string())
        }
    };
    let (tr, va, te) = split_by_user(&rows.0, [0.8, 0.1, 0.1], 2020);
    (Interactions::new(&tr, &va, &te).expect("rows"), rows.1)
}

fn config(batch: usize, epochs: usize) -> TrainConfig {
    TrainConfig {
        optimizer: OptimizerConfig { kind: OptimizerKind::default_for("adam").unwrap(), lr: 0.001, weight_decay: 0.0 },
        batch_size: batch,
        epochs,
        eval_every: 0,
        early_stopping: None,
        seed: 2020,
        ..TrainConfig::default()
    }
}

/// Trains `epochs` epochs of bpr_mf and returns (test NDCG@10, Recall@10, first-epoch loss, seconds).
fn agreement_run(data: &Interactions, device: Device, epochs: usize) -> (f64, f64, f64, f64) {
    let start = Instant::now();
    let mut t = Trainer::new(&stdlib("bpr_mf"), data, config(2048, epochs), device).unwrap();
    t.run(None).unwrap();
    let first_loss = t.state().history[0].loss;
    let trained = t.finish().unwrap();
    let f = FeatureTensors::new(data, device);
    let m = evaluate(&trained.model, data, &f, Split::Test, Ranking::Full, &[10], "none").unwrap();
    (m.get("ndcg@10").unwrap(), m.get("recall@10").unwrap(), first_loss, start.elapsed().as_secs_f64())
}

/// Examples/s of one candidate: one warm-up epoch, then `epochs` measured ones.
fn throughput(data: &Interactions, model: &str, batch: usize, device: Device, epochs: usize) -> f64 {
    let mut t = Trainer::new(&stdlib(model), data, config(batch, epochs + 1), device).unwrap();
    t.run_epoch().unwrap();
    let (mut secs, mut n) = (0.0, 0);
    for _ in 0..epochs {
        let log = t.run_epoch().unwrap();
        secs += log.train_seconds;
        n += log.examples;
    }
    n as f64 / secs
}

/// Aggregate examples/s of `k` candidates trained at once on `device`, one thread each.
fn concurrent(data: &Interactions, model: &str, batch: usize, device: Device, k: usize, epochs: usize) -> f64 {
    let def = stdlib(model);
    // Trainer construction (milliseconds) is inside the timed part; CUDA is already initialised.
    let start = Instant::now();
    let examples: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..k)
            .map(|c| {
                let def = &def;
                s.spawn(move || {
                    let mut cfg = config(batch, epochs);
                    cfg.seed = 2020 + c as u64;
                    let mut t = Trainer::new(def, data, cfg, device).unwrap();
                    let mut n = 0;
                    for _ in 0..epochs {
                        n += t.run_epoch().unwrap().examples;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
    examples as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    // Choose (and dlopen libtorch_cuda.so) before any other torch call.
    let chosen = choose(DeviceChoice::Auto).unwrap();
    println!("device: {}", chosen.reason);
    let a = args();
    let (data, source) = load(a.data.as_ref());
    println!("data: {source}; {} train / {} valid / {} test rows", data.train.len(), data.valid.len(), data.test.len());
    let cpu_threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(8);
    tch::set_num_threads(cpu_threads as i32);

    println!("\n== agreement: bpr_mf, BPR + Adam lr 0.001, batch 2048, {} epochs, seed 2020 ==", a.epochs);
    let cpu = agreement_run(&data, Device::Cpu, a.epochs);
    println!(
        "cpu ({cpu_threads} threads): test NDCG@10 {:.4} Recall@10 {:.4} epoch-0 loss {:.6} ({:.1}s)",
        cpu.0, cpu.1, cpu.2, cpu.3
    );
    let mut ok = true;
    if chosen.device != Device::Cpu {
        let gpu = agreement_run(&data, chosen.device, a.epochs);
        println!(
            "{:?}: test NDCG@10 {:.4} Recall@10 {:.4} epoch-0 loss {:.6} ({:.1}s)",
            chosen.device, gpu.0, gpu.1, gpu.2, gpu.3
        );
        let (dn, dr) = ((gpu.0 - cpu.0).abs(), (gpu.1 - cpu.1).abs());
        // Same init and samples on both; only float summation order differs, so metrics drift a
        // little over epochs: the tolerance is absolute, on NDCG@10 and Recall@10.
        ok = dn <= a.tolerance && dr <= a.tolerance && (gpu.2 - cpu.2).abs() <= 1e-3 * cpu.2.abs().max(1.0);
        println!(
            "|ΔNDCG@10| {dn:.4}, |ΔRecall@10| {dr:.4}, |Δloss₀| {:.2e}: {} (tolerance {} absolute)",
            (gpu.2 - cpu.2).abs(),
            if ok { "AGREE" } else { "DISAGREE" },
            a.tolerance
        );
    } else {
        println!("no CUDA device: skipped the CUDA run");
    }

    println!("\n== throughput, one candidate (examples/s, BPR + Adam, 1 negative) ==");
    println!("{:<10} {:>6} {:>14} {:>14}", "model", "batch", "cpu", format!("{:?}", chosen.device));
    for model in ["bpr_mf", "two_tower"] {
        for batch in [1024, 8192] {
            let c = throughput(&data, model, batch, Device::Cpu, 2);
            let g =
                if chosen.device != Device::Cpu { throughput(&data, model, batch, chosen.device, 5) } else { f64::NAN };
            println!("{model:<10} {batch:>6} {c:>14.0} {g:>14.0}");
        }
    }

    if chosen.device != Device::Cpu {
        println!(
            "\n== K concurrent candidates on {:?} (threads, default CUDA stream; aggregate examples/s) ==",
            chosen.device
        );
        println!("{:<10} {:>6} {:>4} {:>14} {:>8}", "model", "batch", "K", "examples/s", "vs K=1");
        for model in ["two_tower", "bpr_mf"] {
            for batch in [1024, 8192] {
                let mut base = 0.0;
                let mut k = 1;
                while k <= a.max_k {
                    let rate = concurrent(&data, model, batch, chosen.device, k, 3);
                    if k == 1 {
                        base = rate;
                    }
                    println!("{model:<10} {batch:>6} {k:>4} {rate:>14.0} {:>7.2}x", rate / base);
                    k *= 2;
                }
            }
        }
    }
    if !ok {
        std::process::exit(1);
    }
}
