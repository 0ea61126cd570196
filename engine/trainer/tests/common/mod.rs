//! Helpers shared by the trainer's tests: checked models from `.evo` text and synthetic data.
#![allow(dead_code)]

use dsl::shape::ModelDef;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use trainer::data::{split_by_user, Interactions, Row};

/// Checks `text` and returns its model called `name` (`std::models::bpr_mf` for stdlib ones).
pub fn model_from(text: &str, name: &str) -> ModelDef {
    let checked = dsl::check("test.evo", text, &dsl::NoFiles, &[]);
    let program = match checked.result {
        Ok(p) => p,
        Err(d) => {
            panic!("test program does not check: {:?}", d.iter().map(|x| format!("{:?}", x.kind)).collect::<Vec<_>>())
        }
    };
    program.models.get(name).unwrap_or_else(|| panic!("no model {name}: {:?}", program.models.keys())).clone()
}

/// A stdlib model (`bpr_mf`, `two_tower`, `neumf`, `dcn_v2`, `gated`, `lightgcn`).
pub fn stdlib(name: &str) -> ModelDef {
    model_from(&format!("use std::models::{{{name}}}\nlet m = {name}\n"), &format!("std::models::{name}"))
}

/// A model block written in the test: `body` is the inside of `model m { ... }`.
pub fn inline(body: &str) -> ModelDef {
    model_from(&format!("model m {{\n{body}\n}}\n"), "m")
}

/// Planted clusters: user u and item i belong to cluster `u % k` / `i % k`; each user interacts
/// with `per_user` items of its own cluster. With `planted = false` the items are uniform.
pub fn clustered(users: i64, items: i64, k: i64, per_user: usize, planted: bool, seed: u64) -> Vec<Row> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rows = Vec::new();
    for u in 0..users {
        let mut pool: Vec<i64> =
            if planted { (0..items).filter(|i| i % k == u % k).collect() } else { (0..items).collect() };
        pool.shuffle(&mut rng);
        for &i in pool.iter().take(per_user) {
            // Raw ids far from 0..n: the trainer must remap them.
            rows.push(Row::implicit(1000 + u * 7, 50_000 + i * 3));
        }
    }
    rows.shuffle(&mut rng);
    rows
}

/// `clustered` data split 8:1:1 per user.
pub fn clustered_split(users: i64, items: i64, k: i64, per_user: usize, planted: bool, seed: u64) -> Interactions {
    let rows = clustered(users, items, k, per_user, planted, seed);
    let (tr, va, te) = split_by_user(&rows, [0.8, 0.1, 0.1], seed);
    Interactions::new(&tr, &va, &te).expect("non-empty train")
}

/// A test-friendly config: few threads, small batches, fixed seed.
pub fn quick_config() -> trainer::TrainConfig {
    trainer::TrainConfig {
        batch_size: 256,
        epochs: 5,
        threads: Some(1),
        early_stopping: None,
        eval_every: 0,
        seed: 7,
        optimizer: trainer::optim::OptimizerConfig {
            kind: trainer::optim::OptimizerKind::default_for("adam").unwrap(),
            lr: 0.01,
            weight_decay: 0.0,
        },
        ..Default::default()
    }
}

/// `def` trained for two epochs on `data` and saved (`save_trained`) in a fresh temporary folder
/// named after `name`; the caller removes the folder.
pub fn trained_and_saved(def: &ModelDef, data: &Interactions, name: &str) -> (trainer::Trained, std::path::PathBuf) {
    let mut cfg = quick_config();
    cfg.epochs = 2;
    let trained = trainer::train(def, data, &cfg, tch::Device::Cpu).unwrap();
    let dir = std::env::temp_dir().join(format!("trainer-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    trainer::checkpoint::save_trained(&trained, &dir).unwrap();
    (trained, dir)
}
