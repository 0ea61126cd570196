//! Trained models for the journal's `models` table: a step whose output meta is a
//! [`TrainReport`] (`std::train::train`, the loops' candidates) is one model, with its size,
//! cost and metrics read from that report.

use journal::ModelRecord;

use crate::training::TrainReport;

/// The model a step's output meta describes, if it describes one.
pub fn from_meta(node: &str, step: &str, hash: &str, meta: &serde_json::Value) -> Option<ModelRecord> {
    let report = TrainReport::from_meta(meta)?;
    Some(ModelRecord {
        hash: hash.to_string(),
        node_id: node.to_string(),
        step: step.to_string(),
        model: report.summary.model,
        params: u64::try_from(report.summary.params).unwrap_or(0),
        flops: report.summary.flops,
        device: report.summary.device,
        metrics: serde_json::json!({ "valid": report.valid.values, "test": report.test.values }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report as `train` and the loops write it: metrics, summary, data.
    fn report() -> serde_json::Value {
        let metrics = |v: f64| {
            serde_json::json!({
                "protocol": { "split": "valid", "excluded": ["train"], "ranking": { "mode": "full" },
                              "users": "with a positive", "items": 50, "filtering": "none" },
                "users": 10, "values": { "ndcg@10": v, "hitrate@10": 0.5 },
            })
        };
        serde_json::json!({
            "valid": metrics(0.2), "test": metrics(0.3), "final_loss": 0.5, "losses": [0.7, 0.5],
            "epochs": 2, "best_epoch": 2,
            "summary": { "model": "bpr_mf", "params": 640, "flops": 128, "device": "cpu" },
            "data": { "rows": [8, 1, 1], "positives": [8, 1, 1], "rule": "every row" },
            "wall_seconds": 1.0, "examples_per_second": 100.0,
        })
    }

    #[test]
    fn a_train_report_is_a_model() {
        let m = from_meta("m", "std::loops::candidate", "h", &report()).unwrap();
        assert_eq!((m.model.as_str(), m.params, m.flops, m.device.as_str()), ("bpr_mf", 640, 128, "cpu"));
        assert_eq!(m.metrics["test"]["ndcg@10"], 0.3);
        assert_eq!(m.metrics["valid"]["hitrate@10"], 0.5);
    }

    #[test]
    fn other_outputs_are_not_models() {
        assert!(from_meta("m", "std::train::train", "h", &serde_json::json!({ "rows": 10 })).is_none());
        let failed = serde_json::json!({ "failed": "diverged", "reason": "diverged at epoch 1" });
        assert!(from_meta("m", "std::loops::candidate", "h", &failed).is_none());
    }
}
