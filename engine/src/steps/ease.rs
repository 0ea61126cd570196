//! `std::train::ease(data, l2:, metrics:)`: the closed-form EASE anchor (Steck, WWW 2019),
//! scored on valid and test exactly as `evaluate` scores a trained model.

use std::sync::Arc;

use trainer::loss::Loss;
use trainer::Ease;

use super::train::{blocking, metric_names, valid_and_test};
use super::{Step, StepContext, StepError};
use crate::training::{self, TrainFailure};

pub fn steps() -> Vec<Arc<dyn Step>> {
    vec![Arc::new(EaseStep)]
}

struct EaseStep;

#[async_trait::async_trait]
impl Step for EaseStep {
    fn name(&self) -> &'static str {
        "std::train::ease"
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let split = ctx.input("data")?.dir.clone();
        let l2 = ctx.float("l2")?;
        let names = metric_names(ctx.arg("metrics")?)?;
        let scratch = ctx.run.run_dir.join("tmp");
        blocking(move || {
            let (data, stats) = training::load::load_split(&split, None, None, Loss::Bpr, &scratch)?;
            let started = std::time::Instant::now();
            let ease = Ease::fit(&data, l2).map_err(|e| TrainFailure::ModelBuild(e.to_string()))?;
            let mut out =
                valid_and_test(&names, |split, ks| ease.evaluate(&data, split, ks, "as the split step received it"))?;
            out.insert("model".into(), serde_json::json!("ease"));
            out.insert("l2".into(), serde_json::json!(l2));
            out.insert("positives".into(), serde_json::json!(stats.rule));
            out.insert("seconds".into(), serde_json::json!(started.elapsed().as_secs_f64()));
            Ok(serde_json::Value::Object(out))
        })
        .await
    }
}
