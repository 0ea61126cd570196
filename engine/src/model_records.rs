//! Trained models for the journal's `models` table: a step whose output meta holds a
//! `model_summary` (`std::train::train`, the loops' candidates) is one model, with its size, cost
//! and metrics read from that meta.

use std::path::Path;

use journal::{Artifact, ModelRecord};

/// The models among `artifacts`, for a journal at `journal_path` (the run dir is its folder).
pub fn of_artifacts(journal_path: Option<&Path>, artifacts: &[Artifact]) -> Vec<ModelRecord> {
    let Some(run_dir) = journal_path.and_then(Path::parent) else { return Vec::new() };
    artifacts.iter().filter_map(|a| from_artifact(run_dir, a)).collect()
}

/// The model an output artifact holds, if it holds one: read from `<run dir>/objects/<hash>/meta.json`.
pub fn from_artifact(run_dir: &Path, artifact: &Artifact) -> Option<ModelRecord> {
    let path = run_dir.join("objects").join(&artifact.hash).join("meta.json");
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    from_meta(artifact, &meta)
}

/// The model a step's meta describes, if it describes one.
pub fn from_meta(artifact: &Artifact, meta: &serde_json::Value) -> Option<ModelRecord> {
    let summary = meta.get("model_summary")?;
    Some(ModelRecord {
        hash: artifact.hash.clone(),
        node_id: artifact.node_id.clone(),
        step: artifact.step.clone(),
        model: meta.get("model").and_then(|m| m.as_str()).unwrap_or("?").to_string(),
        params: summary.get("params")?.as_u64()?,
        flops: summary.get("flops")?.as_u64()?,
        device: meta.get("device").and_then(|d| d.as_str()).unwrap_or_default().to_string(),
        metrics: serde_json::json!({ "valid": meta.get("valid"), "test": meta.get("test") }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact() -> Artifact {
        Artifact { hash: "h".into(), node_id: "m".into(), step: "std::train::train".into(), bytes: 1, files: 1 }
    }

    #[test]
    fn a_meta_with_a_summary_is_a_model() {
        let meta = serde_json::json!({
            "model": "bpr_mf", "device": "cpu",
            "model_summary": { "params": 640, "flops": 128 },
            "valid": { "ndcg@10": 0.2 }, "test": { "ndcg@10": 0.3 },
        });
        let m = from_meta(&artifact(), &meta).unwrap();
        assert_eq!((m.model.as_str(), m.params, m.flops), ("bpr_mf", 640, 128));
        assert_eq!(m.metrics["test"]["ndcg@10"], 0.3);
    }

    #[test]
    fn other_outputs_are_not_models() {
        assert!(from_meta(&artifact(), &serde_json::json!({ "rows": 10 })).is_none());
    }
}
