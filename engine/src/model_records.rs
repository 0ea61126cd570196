//! What a step's output gives the journal besides its row: a trained model for the `models`
//! table (a [`TrainReport`]: `std::train::train`, the loops' candidates), and offline metric
//! values for the `metrics` table (those reports' and `std::train::evaluate`'s).

use journal::{MetricValue, ModelRecord};

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

/// The offline metric values a step's output meta holds, by split, named as the language names them.
pub fn metrics_from_meta(node: &str, step: &str, hash: &str, meta: &serde_json::Value) -> Vec<MetricValue> {
    let splits: Vec<(&str, serde_json::Value)> = match TrainReport::from_meta(meta) {
        Some(report) => {
            vec![("valid", serde_json::json!(report.valid.values)), ("test", serde_json::json!(report.test.values))]
        }
        None if step == "std::train::evaluate" => {
            vec![("valid", meta["valid"].clone()), ("test", meta["test"].clone())]
        }
        None => return Vec::new(),
    };
    let mut out = Vec::new();
    for (split, values) in splits {
        let Some(values) = values.as_object() else { continue };
        for (metric, value) in values {
            if let Some(value) = value.as_f64() {
                out.push(MetricValue {
                    hash: hash.to_string(),
                    node_id: node.to_string(),
                    step: step.to_string(),
                    split: split.to_string(),
                    metric: metric.clone(),
                    value,
                });
            }
        }
    }
    out
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
        let values = metrics_from_meta("m", "std::loops::candidate", "h", &report());
        let named: Vec<(&str, &str, f64)> =
            values.iter().map(|v| (v.split.as_str(), v.metric.as_str(), v.value)).collect();
        assert_eq!(
            named,
            [
                ("valid", "hitrate@10", 0.5),
                ("valid", "ndcg@10", 0.2),
                ("test", "hitrate@10", 0.5),
                ("test", "ndcg@10", 0.3)
            ]
        );
    }

    #[test]
    fn evaluate_results_are_metric_values() {
        let meta = serde_json::json!({ "valid": { "map@10": 0.1 }, "test": { "map@10": 0.2 }, "protocol": "full" });
        let values = metrics_from_meta("e", "std::train::evaluate", "h", &meta);
        assert_eq!(values.len(), 2);
        assert_eq!((values[1].split.as_str(), values[1].metric.as_str(), values[1].value), ("test", "map@10", 0.2));
        assert!(metrics_from_meta("e", "std::debug::echo", "h", &meta).is_empty());
    }

    #[test]
    fn other_outputs_are_not_models() {
        assert!(from_meta("m", "std::train::train", "h", &serde_json::json!({ "rows": 10 })).is_none());
        let failed = serde_json::json!({ "failed": "diverged", "reason": "diverged at epoch 1" });
        assert!(from_meta("m", "std::loops::candidate", "h", &failed).is_none());
    }
}
