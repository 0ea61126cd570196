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
    Decision, EnvSpec, Experiment, ExperimentConfig, ExperimentState, Guardrail, GuardrailRule, Metric, MetricRow,
    MetricTable, ScoreTable, Verdict, World,
};

use super::production::Production;
use super::{model_dir, Candidates, Entry};
use crate::steps::{Step, StepContext, StepError, StepErrorKind};
use crate::training::Scorer;

/// The slow loop.
pub struct Online;

#[async_trait::async_trait]
impl Step for Online {
    fn name(&self) -> &'static str {
        "std::loops::online"
    }

    fn version(&self) -> u32 {
        1
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
        let verdicts = match &env {
            EnvSpec::Simulator { world, return_window, .. } => {
                let world =
                    world.build().map_err(|e| StepError::permanent(StepErrorKind::Simulation, e.to_string()))?;
                let state_path = ctx.run.run_dir.join("online").join(format!("{study}.json"));
                let arms: Vec<PathBuf> = std::iter::once(&file.control)
                    .chain(chosen.iter().copied())
                    .map(|e| candidates_dir.join(model_dir(&e.record.key)))
                    .collect();
                let config = {
                    let mut c = ExperimentConfig::new(traffic, days, study_seed(&study));
                    c.return_window = *return_window;
                    c
                };
                simulate(&ctx, &study, world, &arms, config, &state_path, primary_metric, &guardrails, level).await?
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
                table_verdicts(&known, &arms, primary_metric, &guardrails, level)?
            }
        };
        // 5. decisions, promotion, cleanup.
        let decisions: Vec<(Entry, Verdict)> = chosen.into_iter().cloned().zip(verdicts).collect();
        let launched = decisions
            .iter()
            .filter(|(_, v)| v.decision == Decision::Launch)
            .max_by(|a, b| a.1.primary.relative.partial_cmp(&b.1.primary.relative).unwrap_or(std::cmp::Ordering::Equal))
            .map(|(e, _)| e.record.key.clone());
        let version = match &launched {
            Some(key) => {
                let (entry, verdict) =
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
        for (entry, verdict) in &decisions {
            let decision = match verdict.decision {
                Decision::Launch if launched.as_deref() == Some(entry.record.key.as_str()) => "launched",
                // Only one candidate replaces production per study.
                Decision::Launch => "no_change",
                Decision::Blocked => "blocked",
                Decision::Rejected => "rejected",
                Decision::NoSignificantChange => "no_change",
            };
            let record = DecisionRecord {
                run_id: Some(ctx.run.run_id),
                study: study.clone(),
                experiment_key: entry.record.key.clone(),
                decision: decision.into(),
                reason: Some(verdict.reason.clone()),
                offline_score: entry.record.offline_score,
                primary_metric: primary.clone(),
                delta: Some(verdict.primary.relative),
                ci_low: Some(verdict.primary.low),
                ci_high: Some(verdict.primary.high),
                guardrails: serde_json::to_value(&verdict.guardrails).unwrap_or_default(),
                days: i64::from(days),
                baseline: Some(file.control.record.key.clone()),
            };
            ctx.run
                .journal
                .record_decision(record.clone())
                .map_err(|e| StepError::transient(StepErrorKind::Journal, e))?;
            let mut experiment = entry.record.clone();
            experiment.run_id = experiment.run_id.or(Some(ctx.run.run_id));
            experiment.online_metrics = Some(serde_json::json!({
                "study": study, "decision": decision, "primary": verdict.primary, "guardrails": verdict.guardrails,
            }));
            match decision {
                "launched" => experiment.status = journal::ExperimentStatus::Launched,
                "blocked" | "rejected" => {
                    experiment.status = journal::ExperimentStatus::Blocked;
                    experiment.reason = Some(verdict.reason.clone());
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

/// Runs (or resumes) the simulated experiment to its last day.
#[allow(clippy::too_many_arguments)]
async fn simulate(
    ctx: &StepContext,
    study: &str,
    world: World,
    arms: &[PathBuf],
    config: ExperimentConfig,
    state_path: &Path,
    primary: Metric,
    guardrails: &[Guardrail],
    level: f64,
) -> Result<Vec<Verdict>, StepError> {
    let (users, items) = (world.users(), world.items());
    let arms = arms.to_vec();
    let tables = tokio::task::spawn_blocking(move || -> Result<Vec<ScoreTable>, StepError> {
        let raw_users: Vec<i64> = (0..users as i64).collect();
        let raw_items: Vec<i64> = (0..items as i64).collect();
        arms.iter()
            .map(|dir| {
                let scorer = Scorer::load(dir)
                    .map_err(|e| StepError::permanent(StepErrorKind::Training, format!("{}: {e}", dir.display())))?;
                let scores = scorer
                    .scores(&raw_users, &raw_items)
                    .map_err(|e| StepError::permanent(StepErrorKind::Training, e.to_string()))?;
                ScoreTable::new(users, items, scores)
                    .map_err(|e| StepError::permanent(StepErrorKind::Training, e.to_string()))
            })
            .collect()
    })
    .await
    .map_err(|e| StepError::permanent(StepErrorKind::Simulation, e.to_string()))??;
    let mut tables = tables.into_iter();
    let control = tables.next().expect("the control arm");
    let treatments: Vec<ScoreTable> = tables.collect();
    let saved: Option<ExperimentState> = std::fs::read(state_path).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let mut experiment = match saved {
        Some(state) => Experiment::resume(world, control, treatments, state),
        None => Experiment::with_config(world, control, treatments, config),
    }
    .map_err(|e| StepError::permanent(StepErrorKind::Simulation, e.to_string()))?;
    let days = experiment.state().config.days;
    while !experiment.is_finished() {
        let day = tokio::task::block_in_place(|| experiment.step_day())
            .map_err(|e| StepError::permanent(StepErrorKind::Simulation, e.to_string()))?;
        // Saved before it is reported: a day the progress names is a day a resume will not redo.
        save_state(state_path, experiment.state())?;
        ctx.progress.report(u64::from(experiment.day()), u64::from(days), &format!("simulated day {}", day + 1));
    }
    let last = days.saturating_sub(1);
    // What is known at the end of the last day: a return of the last days is not known yet.
    record_values(ctx, study, experiment.observed(last).rows())?;
    experiment
        .verdicts(primary, guardrails, level, GuardrailRule::default(), last)
        .map_err(|e| StepError::permanent(StepErrorKind::Simulation, format!("metric synthesis: {e}")))
}

/// Verdicts from a team's metric table for the candidates at `arms` (1-based places in `top`'s
/// list, so `treatment_k` is the k-th candidate), days as units.
fn table_verdicts(
    table: &MetricTable,
    arms_of: &[usize],
    primary: Metric,
    guardrails: &[Guardrail],
    level: f64,
) -> Result<Vec<Verdict>, StepError> {
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
            Ok(decide(delta(primary.name())?, primary.higher_is_better(), checks, GuardrailRule::default()))
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

/// Writes the experiment's state after a day: to a scratch file, then renamed over the old one.
fn save_state(path: &Path, state: &ExperimentState) -> Result<(), StepError> {
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(path.parent().expect("a state file has a folder"))?;
        let scratch = path.with_extension(format!("json.{}", std::process::id()));
        std::fs::write(&scratch, serde_json::to_vec(state)?)?;
        std::fs::rename(scratch, path)
    };
    write().map_err(|e| {
        StepError::transient(StepErrorKind::Io, format!("cannot save the online state `{}`: {e}", path.display()))
    })
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
    let agreement = spearman(&pairs);
    let value = serde_json::json!({
        "study": study,
        "control": file.control.record.key,
        "decisions": decisions,
        "launched": launched,
        "rank_agreement": { "spearman": agreement, "pairs": pairs.len() },
    });
    let text =
        serde_json::to_vec_pretty(&value).map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))?;
    std::fs::write(ctx.out_dir()?.join("decisions.json"), text)
        .map_err(|e| StepError::transient(StepErrorKind::Io, format!("cannot write decisions.json: {e}")))?;
    // The saved state is only needed to resume this study.
    let _ = std::fs::remove_file(ctx.run.run_dir.join("online").join(format!("{study}.json")));
    Ok(value)
}

/// Spearman's rank correlation; `None` below three pairs.
fn spearman(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 3 {
        return None;
    }
    let ranks = |values: Vec<f64>| -> Vec<f64> {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].partial_cmp(&values[b]).unwrap_or(std::cmp::Ordering::Equal));
        let mut r = vec![0.0; values.len()];
        for (rank, &i) in order.iter().enumerate() {
            r[i] = rank as f64;
        }
        r
    };
    let a = ranks(pairs.iter().map(|p| p.0).collect());
    let b = ranks(pairs.iter().map(|p| p.1).collect());
    let n = a.len() as f64;
    let mean = (n - 1.0) / 2.0;
    let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - mean) * (y - mean)).sum();
    let var: f64 = a.iter().map(|x| (x - mean).powi(2)).sum();
    (var > 0.0).then(|| cov / var)
}

#[cfg(test)]
mod tests {
    use super::spearman;

    #[test]
    fn spearman_of_agreeing_and_opposite_ranks() {
        let up = [(0.1, 1.0), (0.2, 2.0), (0.3, 5.0)];
        assert_eq!(spearman(&up), Some(1.0));
        let down = [(0.1, 5.0), (0.2, 2.0), (0.3, 1.0)];
        assert_eq!(spearman(&down), Some(-1.0));
        assert_eq!(spearman(&up[..2]), None);
    }
}
