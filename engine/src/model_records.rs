//! Trained models for the journal's `models` table: a step whose output meta holds a
//! `model_summary` (`std::train::train`, the loops' candidates) is one model, with its size, cost
//! and metrics read from that meta.

use journal::ModelRecord;

/// The model a step's output meta describes, if it describes one.
pub fn from_meta(node: &str, step: &str, hash: &str, meta: &serde_json::Value) -> Option<ModelRecord> {
    let summary = meta.get("model_summary")?;
    Some(ModelRecord {
        hash: hash.to_string(),
        node_id: node.to_string(),
        step: step.to_string(),
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

    #[test]
    fn a_meta_with_a_summary_is_a_model() {
        let meta = serde_json::json!({
            "model": "bpr_mf", "device": "cpu",
            "model_summary": { "params": 640, "flops": 128 },
            "valid": { "ndcg@10": 0.2 }, "test": { "ndcg@10": 0.3 },
        });
        let m = from_meta("m", "std::train::train", "h", &meta).unwrap();
        assert_eq!((m.model.as_str(), m.params, m.flops), ("bpr_mf", 640, 128));
        assert_eq!(m.metrics["test"]["ndcg@10"], 0.3);
    }

    #[test]
    fn other_outputs_are_not_models() {
        assert!(from_meta("m", "std::train::train", "h", &serde_json::json!({ "rows": 10 })).is_none());
    }
}
