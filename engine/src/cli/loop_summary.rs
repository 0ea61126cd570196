//! The lines a run's summary adds for the evolution loops: what the fast loop found, what the
//! slow loop decided, and how well the offline score predicted the online result.

use std::collections::HashMap;

use crate::loops::agreement::Agreement;
use crate::steps::Artifact;

/// One line per loop node that finished, in plan order.
pub fn lines(plan: &dsl::Plan, outputs: &HashMap<String, Artifact>) -> Vec<String> {
    let mut out = Vec::new();
    for node in plan.topo_order() {
        let Some(meta) = outputs.get(&node.id).map(|a| &a.meta) else { continue };
        match node.step.as_str() {
            "std::loops::offline" => out.push(offline(&node.id, meta)),
            "std::loops::online" => out.push(online(&node.id, meta)),
            "std::loops::top" => out.extend(top(&node.id, meta)),
            _ => {}
        }
    }
    out
}

fn score(v: &serde_json::Value) -> String {
    v.as_f64().map_or_else(|| "-".into(), |s| format!("{s:.4}"))
}

fn offline(id: &str, meta: &serde_json::Value) -> String {
    let counts = &meta["counts"];
    let count = |k: &str| counts[k].as_u64().unwrap_or(0);
    let mut line = format!(
        "{id}: {} candidates trained, {} rejected, {} failed; best {} {} (baseline {})",
        meta["trained"].as_u64().unwrap_or(0),
        count("rejected"),
        count("failed"),
        match meta["judge"].as_str() {
            Some(judge) => format!("{} (judged by `{judge}`)", meta["metric"].as_str().unwrap_or("score")),
            None => meta["metric"].as_str().unwrap_or("score").to_string(),
        },
        score(&meta["best"]["score"]),
        score(&meta["baseline_score"]),
    );
    // Chosen on validation; the test split only reports, so it is said apart.
    if meta["best"]["test"].is_f64() {
        line.push_str(&format!(
            "; on test {} (baseline {})",
            score(&meta["best"]["test"]),
            score(&meta["baseline_test"])
        ));
    }
    let confirmed = count("better_beyond_noise") + count("within_noise");
    if confirmed > 0 {
        line.push_str(&format!(
            "; {} of the best {confirmed} better than the baseline beyond seed noise ({} seeds, paired 95%)",
            count("better_beyond_noise"),
            meta["confirm"]["seeds"].as_u64().unwrap_or(0) + 1
        ));
    }
    if meta["agent"]["kind"] == "random" {
        line.push_str("; random search (the control)");
    }
    // A budget not spent is said, with why, never left for the reader to notice.
    if let Some(why) = meta["shortfall"].as_str() {
        line.push_str(&format!(
            "; {} of a budget of {} spent: {why}",
            meta["spent"].as_u64().unwrap_or(0),
            meta["budget"].as_u64().unwrap_or(0)
        ));
    }
    line
}

/// Said only when a candidate was passed over for being a model already chosen.
fn top(id: &str, meta: &serde_json::Value) -> Option<String> {
    let short = |v: &serde_json::Value| v.as_str().unwrap_or("?").chars().take(12).collect::<String>();
    let same = meta["same_model"].as_array().filter(|s| !s.is_empty())?;
    let parts: Vec<String> =
        same.iter().map(|s| format!("{} trained to the same model as {}", short(&s["key"]), short(&s["as"]))).collect();
    Some(format!("{id}: {}: each model goes online once", parts.join("; ")))
}

fn online(id: &str, meta: &serde_json::Value) -> String {
    let pct = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN) * 100.0;
    let decisions = meta["decisions"].as_array().cloned().unwrap_or_default();
    let mut parts: Vec<String> = decisions
        .iter()
        .map(|d| {
            let key = d["experiment_key"].as_str().unwrap_or("?");
            let mut part = format!(
                "{} {} {} {:+.2}% [{:+.2}%, {:+.2}%]",
                &key[..12.min(key.len())],
                d["decision"].as_str().unwrap_or("?"),
                d["primary_metric"].as_str().unwrap_or("?"),
                pct(&d["delta"]),
                pct(&d["ci_low"]),
                pct(&d["ci_high"]),
            );
            if d["mde"].is_f64() {
                part.push_str(&format!(" MDE {:.2}%", pct(&d["mde"])));
            }
            if let Some(r) = d["variance_reduction"].as_f64().filter(|r| *r > 0.0) {
                part.push_str(&format!(", CUPED -{:.0}% variance", 100.0 * r));
            }
            if let Some(day) = d["stopped_day"].as_i64() {
                part.push_str(&format!(", decided on day {}", day + 1));
            }
            part
        })
        .collect();
    if parts.is_empty() {
        parts.push("no new candidates to decide on".into());
    }
    // Power before the study: what the pre-period said it could see, before variance reduction.
    if let Some(planned) = decisions.first().and_then(|d| d["analysis"]["planned_mde"].as_f64()) {
        parts.insert(0, format!("planned MDE {:.2}% from the pre-period (before CUPED)", 100.0 * planned));
    }
    let agreement = serde_json::from_value::<Agreement>(meta["rank_agreement"].clone())
        .map_or_else(|_| "not estimated".to_string(), |a| a.sentence());
    let launched = meta["launched"].as_str().map_or_else(|| "nothing launched".into(), |v| format!("launched as {v}"));
    format!("{id}: {}; {launched}; offline/online rank agreement (Spearman): {agreement}", parts.join("; "))
}
