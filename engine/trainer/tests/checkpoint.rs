//! Checkpoints: weights round-trip through safetensors, and a resumed run equals an
//! uninterrupted one (epoch counter, optimizer moments, shuffles and negatives included).

mod common;

use common::{clustered_split, quick_config, stdlib};
use tch::{Device, Kind, Tensor};
use trainer::checkpoint::{latest, load_model, resume, save_trained};
use trainer::model::FeatureTensors;
use trainer::{train, Trainer};

fn weights(model: &trainer::Model) -> Vec<Vec<f32>> {
    model.params().iter().map(|(_, p)| Vec::<f32>::try_from(&p.detach().reshape([-1])).unwrap()).collect()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("trainer-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn weights_round_trip_and_scores_match() {
    let data = clustered_split(50, 100, 4, 12, true, 4);
    let def = stdlib("neumf");
    let trained = train(&def, &data, &quick_config(), Device::Cpu).unwrap();
    let dir = temp_dir("roundtrip");
    save_trained(&trained, &dir).unwrap();
    assert!(
        dir.join("weights.safetensors").exists() && dir.join("model.evo").exists() && dir.join("metrics.json").exists()
    );
    assert_eq!(std::fs::read_to_string(dir.join("model.evo")).unwrap(), def.source);
    let loaded = load_model(&dir, &def, &data.vocab(), Device::Cpu).unwrap();
    assert_eq!(weights(&loaded), weights(&trained.model));
    let users = Tensor::arange(5, (Kind::Int64, Device::Cpu));
    let items = Tensor::arange(100, (Kind::Int64, Device::Cpu));
    let f = FeatureTensors::empty();
    let (a, b) = tch::no_grad(|| {
        (trained.model.score_matrix(&users, &items, &f).unwrap(), loaded.score_matrix(&users, &items, &f).unwrap())
    });
    assert!(a.equal(&b));
    // Loading into another architecture fails with a message, not a panic.
    assert!(load_model(&dir, &stdlib("bpr_mf"), &data.vocab(), Device::Cpu).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_continues_exactly_where_the_run_stopped() {
    let data = clustered_split(60, 120, 4, 16, true, 6);
    let def = stdlib("two_tower");
    let mut cfg = quick_config();
    cfg.epochs = 4;
    cfg.eval_every = 1;
    cfg.early_stopping = Some(trainer::train::EarlyStopping { metric: "ndcg@10".into(), patience: 10 });
    cfg.optimizer.lr = 0.003;

    let uninterrupted = train(&def, &data, &cfg, Device::Cpu).unwrap();

    let dir = temp_dir("resume");
    let mut first = cfg.clone();
    first.checkpoint_dir = Some(dir.clone());
    let mut t = Trainer::new(&def, &data, first.clone(), Device::Cpu).unwrap();
    t.run(Some(2)).unwrap();
    drop(t);
    let ckpt = latest(&dir).unwrap().unwrap();
    assert!(ckpt.ends_with("epoch-0002"), "{}", ckpt.display());
    for f in ["weights.safetensors", "optimizer.safetensors", "model.evo", "state.json", "metrics.json"] {
        assert!(ckpt.join(f).exists(), "{f}");
    }

    let mut resumed = resume(&dir, &def, &data, first, Device::Cpu).unwrap();
    assert_eq!(resumed.state().epoch, 2, "epoch counter preserved");
    assert_eq!(resumed.state().history.len(), 2);
    resumed.run(None).unwrap();
    assert_eq!(resumed.state().epoch, 4);
    assert!(latest(&dir).unwrap().unwrap().ends_with("epoch-0004"));
    let resumed = resumed.finish().unwrap();
    assert_eq!(weights(&resumed.model), weights(&uninterrupted.model), "same weights as an uninterrupted run");
    assert_eq!(resumed.report.state, uninterrupted.report.state.clone().with_same_timing(&resumed.report.state));
    assert_eq!(resumed.report.valid.as_ref().unwrap().values, uninterrupted.report.valid.as_ref().unwrap().values);

    // Another model cannot resume this run.
    assert!(resume(&dir, &stdlib("bpr_mf"), &data, cfg, Device::Cpu).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Compares training states ignoring wall-clock seconds.
trait SameTiming {
    fn with_same_timing(self, other: &Self) -> Self;
}

impl SameTiming for trainer::train::TrainState {
    fn with_same_timing(mut self, other: &Self) -> Self {
        for (a, b) in self.history.iter_mut().zip(&other.history) {
            a.train_seconds = b.train_seconds;
        }
        self
    }
}
