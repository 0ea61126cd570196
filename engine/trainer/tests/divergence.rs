//! A learning rate of 1e6 is a failed candidate (`TrainError::Diverged`), not a crash.

mod common;

use common::{clustered_split, quick_config, stdlib};
use tch::Device;
use trainer::optim::OptimizerKind;
use trainer::{compute_loss, train, TrainError};

#[test]
fn huge_learning_rate_is_reported_as_divergence() {
    let data = clustered_split(60, 120, 4, 16, true, 1);
    for (model, opt) in [("bpr_mf", "sgd"), ("two_tower", "adam"), ("dcn_v2", "sgd")] {
        let mut cfg = quick_config();
        cfg.optimizer.kind = OptimizerKind::default_for(opt).unwrap();
        cfg.optimizer.lr = 1e6;
        cfg.epochs = 20;
        cfg.batch_size = 64;
        match train(&stdlib(model), &data, &cfg, Device::Cpu) {
            Err(TrainError::Diverged { epoch, step }) => {
                assert!(epoch < 20 && step < 20 * 16, "{model}: epoch {epoch} step {step}");
                let text = TrainError::Diverged { epoch, step }.to_string();
                assert!(text.contains("diverged"), "{text}");
            }
            Err(other) => panic!("{model}/{opt}: expected divergence, got {other}"),
            Ok(t) => panic!("{model}/{opt}: trained to loss {:?}", t.report.state.history.last().map(|e| e.loss)),
        }
        // The compute_loss probe reports it the same way.
        assert!(matches!(
            compute_loss(&stdlib(model), &data, &cfg, 200, Device::Cpu),
            Err(TrainError::Diverged { .. })
        ));
    }
    // A sane learning rate does not trip the check.
    let cfg = quick_config();
    assert!(train(&stdlib("bpr_mf"), &data, &cfg, Device::Cpu).is_ok());
}
