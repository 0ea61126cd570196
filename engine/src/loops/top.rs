//! `top(experiments, k)`: the best K trained candidates (those confirmed better than the baseline
//! beyond seed noise first, then by offline score), each a different model, with their models
//! copied beside them, and the control the slow loop compares them against: the production
//! baseline, or before any launch the loop's own baseline.

use std::collections::HashMap;
use std::path::Path;

use super::production::{copy_dir, Production, MODEL};
use super::{model_dir, Candidates, Entry, Experiments};
use crate::steps::{Step, StepContext, StepError, StepErrorKind};
use crate::training::Scorer;

/// Picks the slow loop's candidates.
pub struct Top;

#[async_trait::async_trait]
impl Step for Top {
    fn name(&self) -> &'static str {
        "std::loops::top"
    }

    fn version(&self) -> u32 {
        // 2: a candidate that trained to a model already chosen (or to the control's) is skipped.
        2
    }

    fn state_key(&self, env: &crate::steps::KeyEnv) -> Result<Option<String>, String> {
        Production::new(env.run_dir).state_key()
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let input = ctx.input("experiments")?;
        let text = std::fs::read(input.file("experiments.json"))
            .map_err(|e| StepError::permanent(StepErrorKind::Io, format!("cannot read experiments.json: {e}")))?;
        let experiments: Experiments = serde_json::from_slice(&text)
            .map_err(|e| StepError::permanent(StepErrorKind::Internal, format!("experiments.json: {e}")))?;
        let k = ctx.int("k")?.max(1) as usize;
        let mut trained: Vec<&Entry> = experiments
            .entries
            .iter()
            .filter(|e| e.record.status == journal::ExperimentStatus::Trained && e.record.key != experiments.baseline)
            .filter(|e| e.record.offline_score.is_some() && e.checkpoint.is_some())
            .collect();
        // Candidates the loop confirmed better than its baseline beyond seed noise come first,
        // then by score. Ties keep the loop's order (stable sort), so the choice is reproducible.
        let confirmed =
            |e: &Entry| e.record.offline_metrics.as_ref().and_then(|m| m["seeds"]["better"].as_bool()).unwrap_or(false);
        trained.sort_by(|a, b| {
            confirmed(b)
                .cmp(&confirmed(a))
                .then(b.record.offline_score.partial_cmp(&a.record.offline_score).unwrap_or(std::cmp::Ordering::Equal))
        });
        let production = Production::new(&ctx.run.run_dir);
        let store = |e: std::io::Error| StepError::permanent(StepErrorKind::Store, e.to_string());
        let (control, control_dir) = match production.current().map_err(store)? {
            Some(version) => {
                let source = production.source(&version).map_err(store)?;
                let mut entry = experiments
                    .baseline()
                    .cloned()
                    .ok_or_else(|| StepError::permanent(StepErrorKind::Internal, "no baseline entry"))?;
                entry.record.key = version.experiment.clone();
                entry.record.explanation = Some(format!("production baseline {}", version.name));
                entry.source = Some(source);
                entry.record.offline_score = version.offline_score;
                (entry, production.dir(&version).join(MODEL))
            }
            None => {
                let entry = experiments
                    .baseline()
                    .cloned()
                    .ok_or_else(|| StepError::permanent(StepErrorKind::Internal, "no baseline entry"))?;
                let Some(hash) = entry.checkpoint.as_deref() else {
                    return Err(StepError::permanent(StepErrorKind::Training, "the baseline was not trained"));
                };
                let dir = ctx.run.object(hash);
                (entry, dir)
            }
        };

        // Two candidates that trained to the same model (a change that never acted, such as
        // clipping that never triggered) would be one model in two arms: traffic spent twice on
        // one measurement, and two decisions about it. The better-ranked one stands for both; a
        // candidate that trained to the control's model is no treatment at all.
        let fingerprint = |dir: &Path| {
            Scorer::fingerprint(dir).map_err(|e| {
                StepError::transient(StepErrorKind::Io, format!("cannot read the model in {}: {e}", dir.display()))
            })
        };
        let mut seen = HashMap::from([(fingerprint(&control_dir)?, control.record.key.clone())]);
        let (mut chosen, mut same_model) = (Vec::new(), Vec::new());
        for entry in trained {
            if chosen.len() == k {
                break;
            }
            let print = fingerprint(&ctx.run.object(entry.checkpoint.as_deref().unwrap_or_default()))?;
            match seen.get(&print) {
                Some(first) => same_model.push(serde_json::json!({ "key": entry.record.key, "as": first })),
                None => {
                    seen.insert(print, entry.record.key.clone());
                    chosen.push(entry);
                }
            }
        }

        let copy = |entry: &Entry, from: &Path| -> Result<(), StepError> {
            let to = ctx.out_dir()?.join(model_dir(&entry.record.key));
            std::fs::create_dir_all(&to).and_then(|_| copy_dir(from, &to)).map_err(|e| {
                StepError::transient(StepErrorKind::Io, format!("cannot copy the model of `{}`: {e}", entry.record.key))
            })
        };
        for entry in &chosen {
            copy(entry, &ctx.run.object(entry.checkpoint.as_deref().unwrap_or_default()))?;
        }
        copy(&control, &control_dir)?;
        let file = Candidates {
            metric: experiments.metric.clone(),
            workflow: experiments.workflow.clone(),
            overrides: experiments.overrides.clone(),
            control,
            candidates: chosen.into_iter().cloned().collect(),
        };
        let text = serde_json::to_vec_pretty(&file)
            .map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))?;
        std::fs::write(ctx.out_dir()?.join("candidates.json"), text)
            .map_err(|e| StepError::transient(StepErrorKind::Io, format!("cannot write candidates.json: {e}")))?;
        Ok(serde_json::json!({
            "control": file.control.record.key,
            "candidates": file.candidates.iter().map(|c| serde_json::json!({
                "key": c.record.key, "score": c.record.offline_score, "persona": c.record.persona,
            })).collect::<Vec<_>>(),
            "same_model": same_model,
        }))
    }
}
