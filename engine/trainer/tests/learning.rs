//! Training learns a planted signal, and cannot beat chance when the signal is removed.

mod common;

use common::{clustered_split, quick_config, stdlib};
use tch::Device;
use trainer::metrics::{evaluate, Ranking};
use trainer::model::FeatureTensors;
use trainer::{train, Split};

/// Expected Recall@10 of a random ranking: 10 slots over the candidates a user has left.
fn chance_recall(data: &trainer::Interactions) -> f64 {
    let mut sum = 0.0;
    let mut users = 0;
    for u in 0..data.n_users() {
        if data.test.by_user[u].is_empty() {
            continue;
        }
        let seen = data.train.by_user[u].len() + data.valid.by_user[u].len();
        sum += 10.0 / (data.n_items() - seen) as f64;
        users += 1;
    }
    sum / users as f64
}

fn test_recall(model_name: &str, planted: bool, epochs: usize) -> (f64, f64) {
    // 120 users, 240 items in 6 clusters, 20 items per user.
    let data = clustered_split(120, 240, 6, 20, planted, 11);
    let mut cfg = quick_config();
    cfg.epochs = epochs;
    let trained = train(&stdlib(model_name), &data, &cfg, Device::Cpu).unwrap();
    let m =
        evaluate(&trained.model, &data, &FeatureTensors::empty(), Split::Test, Ranking::Full, &[10], "none").unwrap();
    let (recall, chance) = (m.get("recall@10").unwrap(), chance_recall(&data));
    eprintln!("{model_name} planted={planted}: recall@10 {recall:.4}, chance {chance:.4}");
    (recall, chance)
}

#[test]
fn mf_learns_planted_clusters() {
    let (recall, chance) = test_recall("bpr_mf", true, 15);
    // Within its cluster a user has 40 items, 16 in train: the test items are among the ~22 left.
    assert!(recall > 4.0 * chance && recall > 0.3, "recall@10 {recall:.3} vs chance {chance:.3}");
}

#[test]
fn deep_model_learns_planted_clusters() {
    let (recall, chance) = test_recall("gated", true, 15);
    assert!(recall > 3.0 * chance, "recall@10 {recall:.3} vs chance {chance:.3}");
}

#[test]
fn without_the_signal_nothing_beats_chance() {
    let (recall, chance) = test_recall("bpr_mf", false, 15);
    // Items are uniform per user, so no ranking can do better than chance beyond noise.
    assert!(recall < 2.0 * chance, "recall@10 {recall:.3} vs chance {chance:.3} on random data");
}

#[test]
fn early_stopping_keeps_the_best_epoch() {
    let data = clustered_split(120, 240, 6, 20, true, 5);
    let mut cfg = quick_config();
    cfg.epochs = 40;
    cfg.eval_every = 1;
    cfg.early_stopping = Some(trainer::train::EarlyStopping { metric: "ndcg@10".into(), patience: 2 });
    // A learning rate that overshoots after the first epochs makes validation peak early.
    cfg.optimizer.lr = 0.05;
    let trained = train(&stdlib("bpr_mf"), &data, &cfg, Device::Cpu).unwrap();
    let state = &trained.report.state;
    let (best_epoch, best) = state.best.unwrap();
    eprintln!(
        "best epoch {best_epoch} ({best:.4}), stopped early: {}, epochs run {}",
        state.stopped_early, state.epoch
    );
    assert!(state.history.iter().all(|e| e.valid.unwrap() <= best));
    if state.stopped_early {
        assert_eq!(state.epoch, best_epoch + 1 + 2, "stops after `patience` evaluations without improvement");
    }
    // The kept weights are the best epoch's: re-evaluating gives the best value.
    let valid = trained.report.valid.as_ref().unwrap().get("ndcg@10").unwrap();
    assert!((valid - best).abs() < 1e-9, "kept weights score {valid}, best was {best}");
}

#[test]
fn compute_loss_returns_a_falling_curve_and_a_validation_loss() {
    let data = clustered_split(120, 240, 6, 20, true, 3);
    let cfg = quick_config();
    let curve = trainer::compute_loss(&stdlib("bpr_mf"), &data, &cfg, 25, Device::Cpu).unwrap();
    assert_eq!(curve.train.len(), 25);
    assert_eq!(curve.steps, 25);
    let first: f64 = curve.train[..5].iter().sum::<f64>() / 5.0;
    let last: f64 = curve.train[20..].iter().sum::<f64>() / 5.0;
    assert!(last < first, "loss fell from {first} to {last}");
    assert!(curve.valid.is_finite() && curve.valid > 0.0 && curve.valid < 0.7, "valid {}", curve.valid);
    // Same seed, same curve.
    let again = trainer::compute_loss(&stdlib("bpr_mf"), &data, &cfg, 25, Device::Cpu).unwrap();
    assert_eq!(curve, again);
}

#[test]
fn every_loss_and_optimizer_trains() {
    use trainer::loss::Loss;
    use trainer::optim::OptimizerKind;
    let data = clustered_split(60, 120, 4, 16, true, 8);
    for (loss, opt, lr) in [
        (Loss::Bpr, "sgd", 0.5),
        (Loss::Bce, "adamw", 0.01),
        (Loss::SampledSoftmax, "adagrad", 0.1),
        (Loss::Bpr, "rmsprop", 0.005),
    ] {
        let mut cfg = quick_config();
        cfg.loss = loss;
        cfg.negatives = 4;
        cfg.epochs = 3;
        cfg.optimizer.kind = OptimizerKind::default_for(opt).unwrap();
        cfg.optimizer.lr = lr;
        cfg.optimizer.weight_decay = 1e-5;
        cfg.clip_grad_norm = Some(5.0);
        cfg.schedule = trainer::schedule::Schedule::Cosine { warmup_steps: 2, min_factor: 0.1 };
        let curve = trainer::compute_loss(&stdlib("bpr_mf"), &data, &cfg, 30, Device::Cpu).unwrap();
        let (first, last) = (curve.train[..5].iter().sum::<f64>(), curve.train[25..].iter().sum::<f64>());
        assert!(last < first, "{loss:?} + {opt}: loss {first} -> {last}");
    }
    // MSE on explicit ratings (no negatives).
    let rows: Vec<trainer::Row> = (0..400)
        .map(|k| trainer::Row { user: k % 20, item: k % 17, label: ((k % 20) % 5) as f32, weight: 1.0 })
        .collect();
    let data = trainer::Interactions::new(&rows, &rows[..40], &[]).unwrap();
    let mut cfg = quick_config();
    cfg.loss = Loss::Mse;
    cfg.negatives = 0;
    cfg.optimizer.lr = 0.05;
    let mse = trainer::compute_loss(&stdlib("neumf"), &data, &cfg, 40, Device::Cpu).unwrap();
    assert!(mse.train[39] < 0.5 * mse.train[0], "mse {} -> {}", mse.train[0], mse.train[39]);
}

#[test]
fn pointwise_auc_sees_a_planted_click_signal_and_only_chance_without_it() {
    use trainer::loss::Loss;
    use trainer::metrics::evaluate_pointwise;
    use trainer::Row;
    // Clicks: 1 when user and item share a cluster (mod 3), else 0; `planted = false` draws
    // every label independently at random, which no model can carry to unseen pairs.
    let auc_of = |planted: bool| {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(99);
        let mut rows = Vec::new();
        for u in 0..60i64 {
            for i in 0..45i64 {
                let hit = (u % 3 == i % 3) as i32 as f32;
                let label = if planted { hit } else { rng.gen_bool(1.0 / 3.0) as i32 as f32 };
                rows.push(Row { user: u, item: i, label, weight: 1.0 });
            }
        }
        let (tr, va, te) = trainer::data::split_random(&rows, [0.8, 0.1, 0.1], 4);
        let data = trainer::Interactions::new(&tr, &va, &te).unwrap();
        let mut cfg = quick_config();
        cfg.loss = Loss::Bce;
        cfg.negatives = 0;
        cfg.epochs = 15;
        let trained = train(&stdlib("gated"), &data, &cfg, Device::Cpu).unwrap();
        let m = evaluate_pointwise(&trained.model, &data, &FeatureTensors::empty(), Split::Test).unwrap();
        eprintln!("planted={planted}: AUC {:?} logloss {:.4}", m.auc, m.logloss);
        assert_eq!(m.rows, data.test.len());
        assert!(m.logloss.is_finite());
        m.auc.unwrap()
    };
    assert!(auc_of(true) > 0.9);
    let chance = auc_of(false);
    assert!((0.35..0.65).contains(&chance), "AUC {chance} on random labels");
}

#[test]
fn sampled_ranking_is_easier_than_full_and_says_so() {
    let data = clustered_split(120, 240, 6, 20, true, 12);
    let trained = train(&stdlib("bpr_mf"), &data, &quick_config(), Device::Cpu).unwrap();
    let f = FeatureTensors::empty();
    let full = evaluate(&trained.model, &data, &f, Split::Test, Ranking::Full, &[10], "none").unwrap();
    let sampled = Ranking::Sampled { negatives: 20, seed: 3 };
    let s = evaluate(&trained.model, &data, &f, Split::Test, sampled, &[10], "none").unwrap();
    assert_eq!(full.protocol.ranking, Ranking::Full);
    assert_eq!(s.protocol.ranking, sampled);
    assert_eq!(full.protocol.excluded, vec![Split::Train, Split::Valid]);
    assert!(s.get("recall@10").unwrap() >= full.get("recall@10").unwrap());
    // With only 20 negatives + 2 positives per user, 10 slots catch most positives.
    assert!(s.get("hitrate@10").unwrap() > 0.9, "{:?}", s.values);
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"mode\":\"sampled\"") && json.contains("\"negatives\":20"), "{json}");
}
