//! `std::data::filter_rows(data, keep: condition)`: keeps the rows a condition scores above 0.
//! The condition is a reward over the dataset's events (`if e.rating >= 4.0 { 1.0 } else { 0.0 }`),
//! so it is typed against the dataset's schema when the workflow is checked and runs in the
//! same sandbox as every reward; a field the data lacks is an error that names it.

use std::sync::Arc;

use super::reward::score_file;
use super::{Step, StepContext, StepError, StepErrorKind};

pub fn steps() -> Vec<Arc<dyn Step>> {
    vec![Arc::new(FilterRows)]
}

/// The scores' column in the scratch file; dropped from the output.
const KEEP: &str = "__evoflow_keep";

struct FilterRows;

#[async_trait::async_trait]
impl Step for FilterRows {
    fn name(&self) -> &'static str {
        "std::data::filter_rows"
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let input = ctx.input("data")?.file(datasets::DATA_FILE);
        if !input.is_file() {
            return Err(StepError::input(format!(
                "the `data` input has no {}: filter_rows keeps rows of a dataset, not of a split",
                datasets::DATA_FILE
            )));
        }
        let out = ctx.out_dir()?.to_path_buf();
        let scored = tempfile::Builder::new()
            .prefix("scored-")
            .suffix(".parquet")
            .tempfile_in(&out)
            .map_err(|e| StepError::transient(StepErrorKind::Io, format!("scratch file in {}: {e}", out.display())))?
            .into_temp_path();
        let summary = score_file(&ctx, "keep", input, scored.to_path_buf(), KEEP.into()).await?;
        let from = scored.to_path_buf();
        let meta = tokio::task::spawn_blocking(move || datasets::keep_scored(&from, KEEP, &out))
            .await
            .map_err(|e| StepError::permanent(StepErrorKind::Internal, format!("the filter task failed: {e}")))?
            .map_err(|e| StepError::permanent(StepErrorKind::Data, e.to_string()))?;
        drop(scored);
        let mut json =
            serde_json::to_value(meta).map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))?;
        json["condition"] = serde_json::json!(summary.reward);
        Ok(json)
    }
}
