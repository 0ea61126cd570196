//! `online(...)`: the slow loop, in the paper's five phases.
//!
//! 1. selection — candidates already decided in an earlier study are skipped;
//! 2. training — the fast loop's weights are loaded and their convergence checked (the last
//!    epochs' loss change), each arm's scores computed over the environment's users × items;
//! 3. live experiment — simulated days on a virtual clock, saved after every day, so a killed
//!    run resumes at the next day instead of counting one twice (or the team's metric table);
//! 4. metric synthesis — relative deltas with confidence intervals, guardrails, a decision per
//!    candidate, all journaled; delayed metrics count only once they are known;
//! 5. cleanup — the best launched candidate becomes the new production baseline, the saved
//!    state is removed.

use std::path::{Path, PathBuf};

use dsl::types::Value;
use journal::{DecisionRecord, OnlineValue};
use simulator::synthesis::decide;
use simulator::{
    Decision, EnvSpec, ExperimentConfig, Guardrail, GuardrailRule, Metric, MetricRow, MetricTable, Power, Verdict,
};

use super::agreement::Agreement;
use super::production::Production;
use super::study::{self, StudyRules};
use super::{model_dir, Candidates, Entry};
use crate::steps::{Step, StepContext, StepError, StepErrorKind};

/// The slow loop.
pub struct Online;

#[async_trait::async_trait]
impl Step for Online {
    fn name(&self) -> &'static str {
        "std::loops::online"
    }

    fn remote(&self) -> bool {
        false // It reads the journal and adds nodes to the graph: the driver's.
    }

    fn version(&self) -> u32 {
        2
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let candidates_dir = ctx.input("candidates")?.dir.clone();
        let text = std::fs::read(candidates_dir.join("candidates.json"))
            .map_err(|e| StepError::permanent(StepErrorKind::Io, format!("cannot read candidates.json: {e}")))?;
        let file: Candidates = serde_json::from_slice(&text)
            .map_err(|e| StepError::permanent(StepErrorKind::Internal, format!("candidates.json: {e}")))?;
        let env_text = std::fs::read(ctx.input("env")?.file(simulator::ENV_FILE))
            .map_err(|e| StepError::permanent(StepErrorKind::Io, format!("cannot read the environment: {e}")))?;
        let env: EnvSpec = serde_json::from_slice(&env_text)
            .map_err(|e| StepError::permanent(StepErrorKind::Internal, format!("env.json: {e}")))?;
        let primary = match ctx.arg("primary")? {
            Value::OnlineMetric(m) => m.clone(),
            other => {
                return Err(StepError::permanent(
                    StepErrorKind::Input,
                    format!("`primary` should be an online metric, is {other}"),
                ))
            }
        };
        let primary_metric: Metric = primary.parse().map_err(StepError::input)?;
        let guardrails = guardrails(ctx.arg("guardrails")?)?;
        let level = ctx.float("confidence")?;
        let traffic = match ctx.arg("traffic")? {
            Value::Percent(p) => p / 100.0,
            other => {
                return Err(StepError::permanent(
                    StepErrorKind::Input,
                    format!("`traffic` should be a percentage, is {other}"),
                ))
            }
        };
        let days = study_days(&ctx, &env)?;
        let rules = StudyRules {
            primary: primary_metric,
            guardrails,
            level,
            min_effect: match ctx.args.get("min_effect") {
                Some(Value::Percent(p)) => Some(p / 100.0),
                _ => None,
            },
            cuped: matches!(ctx.args.get("cuped"), Some(Value::Bool(true)) | None),
            sequential: matches!(ctx.args.get("sequential"), Some(Value::Bool(true))),
        };
        let pre_days = match ctx.args.get("pre_days") {
            Some(Value::Int(d)) => {
                u32::try_from(*d).map_err(|_| StepError::input(format!("`pre_days` {d} is out of range")))?
            }
            _ => days,
        };

        // 1. selection: what an earlier study decided is not tried again.
        let decided: Vec<String> = ctx
            .run
            .journal
            .decisions()
            .map_err(|e| StepError::transient(StepErrorKind::Journal, e))?
            .into_iter()
            .map(|d| d.experiment_key)
            .collect();
        let chosen: Vec<&Entry> = file.candidates.iter().filter(|c| !decided.contains(&c.record.key)).collect();
        let study = study_id(&file, &env, &primary, days, traffic);
        if chosen.is_empty() {
            return finish(&ctx, &study, &file, Vec::new(), None);
        }

        // 2. training: the weights, their convergence, each arm's scores.
        let notes: Vec<String> = chosen.iter().filter_map(|c| convergence_note(&candidates_dir, c)).collect();
        // 3 and 4: the experiment and its synthesis.
        let (verdicts, how) = match &env {
            EnvSpec::Simulator { world, return_window, .. } => {
                let world =
                    world.build().map_err(|e| StepError::permanent(StepErrorKind::Simulation, e.to_string()))?;
                let state_path = study::state_path(&ctx.run.run_dir, &study);
                let arms: Vec<PathBuf> = std::iter::once(&file.control)
                    .chain(chosen.iter().copied())
                    .map(|e| candidates_dir.join(model_dir(&e.record.key)))
                    .collect();
                let config = ExperimentConfig {
                    return_window: *return_window,
                    pre_days,
                    ..ExperimentConfig::new(traffic, days, study_seed(&study))
                };
                let outcome =
                    tokio::task::block_in_place(|| study::run(&ctx, world, &arms, config, &state_path, &rules))?;
                let last = outcome.days_run.saturating_sub(1);
                // What is known at the end of the last day: a return of the last days is not known yet.
                record_values(&ctx, &study, outcome.experiment.observed(last).rows())?;
                let how = serde_json::json!({
                    "interval": rules.analysis().interval,
                    "level": level,
                    "cuped": rules.cuped,
                    "pre_days": pre_days,
                    "planned_mde": outcome.planned_mde,
                    "days_run": outcome.days_run,
                });
                let verdicts = outcome.verdicts.into_iter().zip(outcome.stopped).collect();
                (verdicts, how)
            }
            EnvSpec::Table { path, return_window } => {
                // The reader's messages name the file already.
                let table = crate::steps::sim::read_metric_table(path).map_err(StepError::input)?;
                let known = table.observed(days.saturating_sub(1), *return_window);
                record_values(&ctx, &study, known.rows())?;
                // A team's table names arms by the candidates' places in `top`'s list, decided
                // or not: `treatment_k` is always the k-th candidate.
                let arms: Vec<usize> = chosen
                    .iter()
                    .map(|c| {
                        1 + file
                            .candidates
                            .iter()
                            .position(|e| e.record.key == c.record.key)
                            .expect("chosen from the file")
                    })
                    .collect();
                let verdicts = table_verdicts(&known, &arms, &rules, days)?;
                let how = serde_json::json!({ "interval": rules.analysis().interval, "level": level, "units": "days" });
                (verdicts.into_iter().map(|v| (v, None)).collect::<Vec<_>>(), how)
            }
        };
        // 5. decisions, promotion, cleanup.
        let decisions: Vec<(Entry, (Verdict, Option<u32>))> = chosen.into_iter().cloned().zip(verdicts).collect();
        let launched = decisions
            .iter()
            .filter(|(_, (v, _))| v.decision == Decision::Launch)
            .max_by(|a, b| {
                a.1 .0.primary.relative.partial_cmp(&b.1 .0.primary.relative).unwrap_or(std::cmp::Ordering::Equal)
            })
            .map(|(e, _)| e.record.key.clone());
        let version = match &launched {
            Some(key) => {
                let (entry, (verdict, _)) =
                    decisions.iter().find(|(e, _)| &e.record.key == key).expect("launched is one of them");
                let source = entry.source.clone().unwrap_or_default();
                let checkpoint = candidates_dir.join(model_dir(key));
                let version = Production::new(&ctx.run.run_dir)
                    .promote(
                        key,
                        &source,
                        &entry.blocks,
                        &checkpoint,
                        entry.record.offline_score,
                        Some(verdict.primary.relative),
                    )
                    .map_err(|e| {
                        StepError::transient(StepErrorKind::Store, format!("cannot promote `{key}` to production: {e}"))
                    })?;
                Some(version.name)
            }
            None => None,
        };
        let mut out = Vec::new();
        for (entry, (verdict, stopped)) in &decisions {
            let mut reason = verdict.reason.clone();
            let decision = match verdict.decision {
                Decision::Launch if launched.as_deref() == Some(entry.record.key.as_str()) => "launched",
                // Only one candidate replaces production per study: a significant gain that
                // another beat is said as such, never as "no change".
                Decision::Launch => {
                    let winner = launched.as_deref().unwrap_or("another candidate");
                    reason.push_str(&format!("; `{winner}` gained more, and one launch per study"));
                    "superseded"
                }
                Decision::Blocked => "blocked",
                Decision::Rejected => "rejected",
                Decision::NoSignificantChange => "no_change",
                Decision::Underpowered => "underpowered",
            };
            let mut analysis = how.clone();
            analysis["mde"] = serde_json::json!(verdict.primary.mde);
            analysis["power"] = serde_json::json!(verdict.power);
            analysis["variance_reduction"] = std::iter::once(&verdict.primary)
                .chain(verdict.guardrails.iter().map(|g| &g.delta))
                .map(|d| (d.metric.clone(), serde_json::json!(d.variance_reduction)))
                .collect::<serde_json::Map<_, _>>()
                .into();
            let record = DecisionRecord {
                run_id: Some(ctx.run.run_id),
                study: study.clone(),
                experiment_key: entry.record.key.clone(),
                decision: decision.into(),
                reason: Some(reason.clone()),
                offline_score: entry.record.offline_score,
                primary_metric: primary.clone(),
                delta: Some(verdict.primary.relative),
                ci_low: Some(verdict.primary.low),
                ci_high: Some(verdict.primary.high),
                guardrails: serde_json::to_value(&verdict.guardrails).unwrap_or_default(),
                days: i64::from(days),
                baseline: Some(file.control.record.key.clone()),
                mde: Some(verdict.primary.mde),
                min_effect: rules.min_effect,
                variance_reduction: Some(verdict.primary.variance_reduction),
                stopped_day: stopped.map(i64::from),
                analysis,
            };
            ctx.run
                .journal
                .record_decision(record.clone())
                .map_err(|e| StepError::transient(StepErrorKind::Journal, e))?;
            let mut experiment = entry.record.clone();
            experiment.run_id = experiment.run_id.or(Some(ctx.run.run_id));
            experiment.online_metrics = Some(serde_json::json!({
                "study": study, "decision": decision, "primary": verdict.primary, "guardrails": verdict.guardrails,
                "power": verdict.power,
            }));
            match decision {
                "launched" => experiment.status = journal::ExperimentStatus::Launched,
                "blocked" | "rejected" => {
                    experiment.status = journal::ExperimentStatus::Blocked;
                    experiment.reason = Some(reason);
                }
                _ => {}
            }
            ctx.run
                .journal
                .record_experiment(experiment)
                .map_err(|e| StepError::transient(StepErrorKind::Journal, e))?;
            out.push(record);
        }
        let mut value = finish(&ctx, &study, &file, out, version)?;
        value["convergence"] = serde_json::json!(notes);
        Ok(value)
    }
}

/// Verdicts from a team's metric table for the candidates at `arms` (1-based places in `top`'s
/// list, so `treatment_k` is the k-th candidate), days as units.
fn table_verdicts(
    table: &MetricTable,
    arms_of: &[usize],
    rules: &StudyRules,
    days: u32,
) -> Result<Vec<Verdict>, StepError> {
    let (primary, guardrails, level) = (rules.primary, &rules.guardrails, rules.level);
    let arms = table.arms();
    let needed = arms_of.iter().copied().max().unwrap_or(0);
    if arms.first().map(String::as_str) != Some("control") || arms.len() < needed + 1 {
        return Err(StepError::permanent(
            StepErrorKind::Simulation,
            format!("the metric table has arms {arms:?}; it needs `control` and one arm per candidate ({needed})"),
        ));
    }
    arms_of
        .iter()
        .map(|&k| {
            let arm = simulator::arm_name(k);
            let delta = |metric: &str| {
                table
                    .delta(metric, "control", &arm, level)
                    .map_err(|e| StepError::permanent(StepErrorKind::Simulation, format!("{arm}: {e}")))
            };
            let checks =
                guardrails.iter().map(|g| Ok((g.clone(), delta(&g.metric)?))).collect::<Result<_, StepError>>()?;
            let verdict = decide(delta(primary.name())?, primary.higher_is_better(), checks, GuardrailRule::default());
            Ok(match rules.min_effect {
                Some(min) => {
                    let (mde, n) = (verdict.primary.mde, verdict.primary.n_treatment);
                    verdict.with_power(Power::assess(min, mde, n, days, &[]))
                }
                None => verdict,
            })
        })
        .collect()
}

fn record_values(ctx: &StepContext, study: &str, rows: &[MetricRow]) -> Result<(), StepError> {
    let values = rows
        .iter()
        .map(|r| OnlineValue {
            study: study.to_string(),
            arm: r.arm.clone(),
            day: i64::from(r.day),
            metric: r.metric.clone(),
            value: r.value,
            n: r.n.and_then(|n| i64::try_from(n).ok()),
        })
        .collect();
    ctx.run.journal.record_online(values).map_err(|e| StepError::transient(StepErrorKind::Journal, e))
}

/// How long the study runs: `online(days:)` when given, else the environment's own length
/// (`satisfaction(days:)`, or every day a team's table holds).
fn study_days(ctx: &StepContext, env: &EnvSpec) -> Result<u32, StepError> {
    match ctx.args.get("days") {
        Some(Value::Int(days)) => Ok((*days).max(1) as u32),
        None | Some(Value::Unset) => match env {
            EnvSpec::Simulator { days, .. } => Ok((*days).max(1)),
            EnvSpec::Table { path, .. } => {
                let table = crate::steps::sim::read_metric_table(path).map_err(StepError::input)?;
                Ok(table.rows().iter().map(|r| r.day + 1).max().unwrap_or(1))
            }
        },
        Some(other) => Err(StepError::input(format!("`days` should be an int, is {other}"))),
    }
}

/// The guardrails of the `guardrails:` argument.
fn guardrails(value: &Value) -> Result<Vec<Guardrail>, StepError> {
    let Value::List(items) = value else { return Ok(Vec::new()) };
    items
        .iter()
        .map(|g| match g {
            Value::Guardrail { metric, op, bound } => {
                let percent = match bound.as_ref() {
                    Value::Percent(p) => *p,
                    Value::Float(f) => f * 100.0,
                    Value::Int(i) => *i as f64 * 100.0,
                    other => {
                        return Err(StepError::permanent(
                            StepErrorKind::Input,
                            format!("a guardrail bound should be a percentage, is {other}"),
                        ))
                    }
                };
                Guardrail::new(metric, op, percent)
                    .ok_or_else(|| StepError::input(format!("`{op}` is not a guardrail comparison")))
            }
            other => Err(StepError::input(format!("`{other}` is not a guardrail"))),
        })
        .collect()
}

/// A note when the last epochs still moved the loss by more than 5%.
fn convergence_note(dir: &Path, entry: &Entry) -> Option<String> {
    let report = std::fs::read(dir.join(model_dir(&entry.record.key)).join(crate::training::REPORT_FILE)).ok()?;
    let report: serde_json::Value = serde_json::from_slice(&report).ok()?;
    let losses: Vec<f64> = report["losses"].as_array()?.iter().filter_map(|v| v.as_f64()).collect();
    let [.., before, last] = losses.as_slice() else { return None };
    let change = (before - last).abs() / before.abs().max(1e-12);
    (change > 0.05)
        .then(|| format!("{}: not converged (last epoch changed the loss by {:.1}%)", entry.record.key, change * 100.0))
}

/// The study's identity: the arms, the environment and the settings.
fn study_id(file: &Candidates, env: &EnvSpec, primary: &str, days: u32, traffic: f64) -> String {
    // By the candidates' keys, not their artifact's hash: a trained model's files carry its
    // timings, and the same study must get the same seed (and the same saved state) on a re-run.
    let mut h = blake3::Hasher::new();
    for c in &file.candidates {
        h.update(c.record.key.as_bytes());
        h.update(b"\n");
    }
    h.update(serde_json::to_string(env).unwrap_or_default().as_bytes());
    h.update(format!("{primary} {days} {traffic} {}", file.control.record.key).as_bytes());
    format!("study-{}", &h.finalize().to_hex()[..16])
}

fn study_seed(study: &str) -> u64 {
    u64::from_str_radix(&study[study.len() - 15..], 16).unwrap_or(0)
}

/// Writes `decisions.json` and says how well the offline score predicted the online delta.
fn finish(
    ctx: &StepContext,
    study: &str,
    file: &Candidates,
    decisions: Vec<DecisionRecord>,
    launched: Option<String>,
) -> Result<serde_json::Value, StepError> {
    let all = ctx.run.journal.decisions().map_err(|e| StepError::transient(StepErrorKind::Journal, e))?;
    let pairs: Vec<(f64, f64)> = all.iter().filter_map(|d| Some((d.offline_score?, d.delta?))).collect();
    let agreement = Agreement::of(&pairs);
    let value = serde_json::json!({
        "study": study,
        "control": file.control.record.key,
        "decisions": decisions,
        "launched": launched,
        "rank_agreement": agreement,
    });
    let text =
        serde_json::to_vec_pretty(&value).map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))?;
    std::fs::write(ctx.out_dir()?.join("decisions.json"), text)
        .map_err(|e| StepError::transient(StepErrorKind::Io, format!("cannot write decisions.json: {e}")))?;
    // The saved state is only needed to resume this study.
    let _ = std::fs::remove_file(study::state_path(&ctx.run.run_dir, study));
    Ok(value)
}
