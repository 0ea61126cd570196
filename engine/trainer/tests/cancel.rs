//! A cancelled attempt lets its thread go within a batch or an evaluation chunk, never a whole
//! epoch or a whole evaluation pass (issue 15: a timed-out step must stop within a second).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{clustered_split, quick_config, stdlib};
use tch::Device;
use trainer::metrics::{evaluate_or_cancel, Ranking};
use trainer::model::{FeatureTensors, ModelError};
use trainer::{Split, TrainError, Trainer};

#[test]
fn a_set_flag_stops_the_next_epoch_before_its_first_batch() {
    let data = clustered_split(60, 120, 4, 16, true, 1);
    let mut trainer = Trainer::new(&stdlib("bpr_mf"), &data, quick_config(), Device::Cpu).unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    trainer.cancel_on(flag.clone());
    trainer.run_epoch().unwrap();
    flag.store(true, Ordering::Relaxed);
    assert!(matches!(trainer.run_epoch(), Err(TrainError::Cancelled)));
    assert_eq!(trainer.state().steps, quick_config_steps(&data), "no batch of the cancelled epoch ran");
}

#[test]
fn a_set_flag_stops_an_evaluation_pass() {
    let data = clustered_split(60, 120, 4, 16, true, 1);
    let mut trainer = Trainer::new(&stdlib("bpr_mf"), &data, quick_config(), Device::Cpu).unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    trainer.cancel_on(flag.clone());
    assert!(trainer.evaluate(Split::Valid).is_ok());
    flag.store(true, Ordering::Relaxed);
    assert!(matches!(trainer.evaluate(Split::Valid), Err(TrainError::Cancelled)));
}

#[test]
fn evaluation_checks_the_flag_between_chunks_of_users() {
    let data = clustered_split(60, 120, 4, 16, true, 1);
    let trained = trainer::train(&stdlib("bpr_mf"), &data, &quick_config(), Device::Cpu).unwrap();
    let features = FeatureTensors::empty();
    let run = |flag: &AtomicBool| {
        evaluate_or_cancel(&trained.model, &data, &features, Split::Test, Ranking::Full, &[10], "none", Some(flag))
    };
    assert!(run(&AtomicBool::new(false)).is_ok());
    assert!(matches!(run(&AtomicBool::new(true)), Err(ModelError::Cancelled)));
}

/// Batches of one epoch of `quick_config` on `data`.
fn quick_config_steps(data: &trainer::Interactions) -> u64 {
    data.train.len().div_ceil(quick_config().batch_size) as u64
}
