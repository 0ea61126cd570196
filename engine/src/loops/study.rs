//! A simulated online study, day by day: the candidates' models rank each user's items, a
//! pre-period runs with every user on the control (the covariate CUPED adjusts by, and what power
//! is planned from), then the study itself, saved after every day. With `sequential`, each day is
//! a look with always-valid intervals and a candidate stops once it is decided; otherwise only the
//! last day is looked at, with fixed-horizon intervals.

use std::path::{Path, PathBuf};

use simulator::power::{mde, planned_se, DEFAULT_POWER};
use simulator::sequential::{Looks, DEFAULT_TAU};
use simulator::{
    Analysis, Experiment, ExperimentConfig, ExperimentState, Guardrail, GuardrailRule, Interval, Metric, Power, Ranker,
    SimError, Verdict, World,
};

use crate::steps::{StepContext, StepError, StepErrorKind};
use crate::training::Scorer;

/// How a study is judged: the `online(...)` arguments that shape the analysis.
#[derive(Clone, Debug)]
pub struct StudyRules {
    /// The metric decisions are made on.
    pub primary: Metric,
    /// Limits on other metrics.
    pub guardrails: Vec<Guardrail>,
    /// Confidence level of every interval.
    pub level: f64,
    /// The smallest relative effect worth detecting, if the workflow states one.
    pub min_effect: Option<f64>,
    /// Adjust by the pre-period.
    pub cuped: bool,
    /// Daily looks with always-valid intervals.
    pub sequential: bool,
}

impl StudyRules {
    /// The analysis of the study's looks.
    pub fn analysis(&self) -> Analysis {
        let interval = if self.sequential {
            Interval::AlwaysValid { tau: self.min_effect.unwrap_or(DEFAULT_TAU) }
        } else {
            Interval::FixedHorizon
        };
        Analysis { level: self.level, interval, cuped: self.cuped }
    }
}

/// What a study concluded, per treatment, and how.
pub struct Outcome {
    /// One verdict per treatment, in arm order, with its power when `min_effect` is set.
    pub verdicts: Vec<Verdict>,
    /// The study day each treatment was decided on, for those a sequential study stopped early.
    pub stopped: Vec<Option<u32>>,
    /// Planned from the pre-period: the primary metric's MDE before variance reduction.
    pub planned_mde: Option<f64>,
    /// Study days simulated.
    pub days_run: u32,
    /// The experiment, for the metric table the journal keeps.
    pub experiment: Experiment,
}

/// A candidate's model as an arm: it scores a block of users against every item and keeps each
/// user's best items, so no users × items matrix is ever held.
struct ModelRanker {
    scorer: Scorer,
    users: usize,
    items: Vec<i64>,
}

impl Ranker for ModelRanker {
    fn shape(&self) -> (usize, usize) {
        (self.users, self.items.len())
    }

    fn rank(&self, users: &[u32], depth: usize, out: &mut Vec<u32>) -> Result<(), SimError> {
        // Users per block: a pairwise model's intermediates (users × items × ~64 floats) stay
        // near 16 MB, under glibc's mmap threshold, so each block reuses the last one's memory
        // instead of faulting in fresh pages (which cost more than the arithmetic).
        let block_size = ((1usize << 22) / (self.items.len() * 64).max(1)).clamp(16, 1024);
        for block in users.chunks(block_size) {
            let raw: Vec<i64> = block.iter().map(|&u| i64::from(u)).collect();
            let scores = self
                .scorer
                .scores(&raw, &self.items)
                .map_err(|e| SimError::Rank(format!("{}: {e}", self.scorer.dir().display())))?;
            if let Some(bad) = scores.iter().position(|s| !s.is_finite()) {
                return Err(SimError::NotFinite {
                    what: format!("{}'s scores", self.scorer.dir().display()),
                    index: bad,
                });
            }
            for row in scores.chunks(self.items.len()) {
                out.extend(simulator::top_of(row, depth));
            }
        }
        Ok(())
    }
}

/// Runs (or resumes from `state_path`) the study of `arms` (control first) to its end, or to the
/// day a sequential study has decided every candidate.
pub fn run(
    ctx: &StepContext,
    world: World,
    arms: &[PathBuf],
    config: ExperimentConfig,
    state_path: &Path,
    rules: &StudyRules,
) -> Result<Outcome, StepError> {
    let sim = |e: SimError| StepError::permanent(StepErrorKind::Simulation, e.to_string());
    let rankers = arms
        .iter()
        .map(|dir| {
            let scorer = Scorer::load(dir)
                .map_err(|e| StepError::permanent(StepErrorKind::Training, format!("{}: {e}", dir.display())))?;
            let items = (0..world.items() as i64).collect();
            Ok(Box::new(ModelRanker { scorer, users: world.users(), items }) as Box<dyn Ranker>)
        })
        .collect::<Result<Vec<_>, StepError>>()?;
    // A state that does not decode (torn, or from another version) is a study started afresh.
    let saved: Option<ExperimentState> = std::fs::read(state_path).ok().and_then(|b| postcard::from_bytes(&b).ok());
    let mut experiment = match saved {
        Some(state) => Experiment::resume_rankers(world, rankers, state),
        None => Experiment::with_rankers(world, rankers, config),
    }
    .map_err(sim)?;
    let cfg = experiment.state().config.clone();
    let analysis = rules.analysis();
    let treatments = experiment.arms() - 1;
    let mut looks = Looks::new(treatments);
    let look = |exp: &Experiment, looks: &mut Looks, as_of: u32| {
        // A look before the primary metric is known (a return needs its window) decides nothing.
        if let Ok(v) = exp.verdicts(rules.primary, &rules.guardrails, &analysis, GuardrailRule::default(), as_of) {
            looks.look(as_of, v);
        }
    };
    if rules.sequential {
        // A resumed study looks again at the days it already ran: the same looks, the same stops.
        for as_of in 0..experiment.study_days_done() {
            look(&experiment, &mut looks, as_of);
        }
    }
    let total = cfg.total_days();
    let decided = |looks: &Looks| rules.sequential && treatments > 0 && looks.all_concluded();
    let mut saver = Saver::new(state_path);
    while !(experiment.is_finished() || decided(&looks)) {
        let day = experiment.step_day().map_err(sim)?;
        // Saved before it is reported (while saving is cheap): a day the progress names is a day
        // a resume will not redo.
        saver.after_day(experiment.state(), experiment.is_finished())?;
        let phase = match day.checked_sub(cfg.pre_days) {
            None => format!("pre-period day {} of {}", day + 1, cfg.pre_days),
            Some(d) => format!("study day {} of {}", d + 1, cfg.days),
        };
        let mut label = format!("simulated day {} of {total}: {phase}", day + 1);
        if day + 1 == cfg.pre_days {
            if let Some(m) = planned(&experiment, rules)? {
                label.push_str(&format!("; planned MDE {:.2}% on {} (before CUPED)", 100.0 * m, rules.primary));
            }
        }
        ctx.progress.report(u64::from(experiment.day()), u64::from(total), &label);
        if rules.sequential && day >= cfg.pre_days {
            look(&experiment, &mut looks, day - cfg.pre_days);
        }
    }
    let days_run = experiment.study_days_done();
    let last = days_run.saturating_sub(1);
    let synthesis = |e: simulator::synthesis::SynthesisError| {
        StepError::permanent(StepErrorKind::Simulation, format!("metric synthesis: {e}"))
    };
    let finals = experiment
        .verdicts(rules.primary, &rules.guardrails, &analysis, GuardrailRule::default(), last)
        .map_err(synthesis)?;
    let (verdicts, stopped): (Vec<Verdict>, Vec<Option<u32>>) =
        if rules.sequential { looks.finish(finals).into_iter().unzip() } else { (finals, vec![None; treatments]) };
    let planned_mde = planned(&experiment, rules)?;
    let verdicts = match rules.min_effect {
        Some(min_effect) => {
            // How the standard error falls with days, from a look halfway and the last one.
            let fixed = Analysis { interval: Interval::FixedHorizon, ..analysis };
            let se_at = |as_of: u32| -> Vec<Option<f64>> {
                match experiment.analyse(rules.primary, &fixed, as_of) {
                    Ok(d) => d.into_iter().map(|d| Some(d.se)).collect(),
                    Err(_) => vec![None; treatments],
                }
            };
            let (half, full) = (se_at(last / 2), se_at(last));
            // Days whose primary metric is known at a look (a return needs its window).
            let known = |as_of: u32| (as_of + 1).saturating_sub(rules.primary.delay(cfg.return_window));
            verdicts
                .into_iter()
                .enumerate()
                .map(|(t, v)| {
                    let mut looks: Vec<(u32, f64)> = Vec::new();
                    if last / 2 < last {
                        looks.extend(half[t].map(|se| (known(last / 2), se)));
                    }
                    looks.extend(full[t].map(|se| (known(last), se)));
                    let power = Power::assess(min_effect, v.primary.mde, v.primary.n_treatment, days_run, &looks);
                    v.with_power(power)
                })
                .collect()
        }
        None => verdicts,
    };
    Ok(Outcome { verdicts, stopped, planned_mde, days_run, experiment })
}

/// The primary metric's MDE planned from the pre-period, before variance reduction.
fn planned(experiment: &Experiment, rules: &StudyRules) -> Result<Option<f64>, StepError> {
    let cv = experiment
        .pre_period_cv(rules.primary)
        .map_err(|e| StepError::permanent(StepErrorKind::Simulation, format!("the pre-period: {e}")))?;
    let sizes = experiment.arm_sizes();
    Ok(cv.map(|cv| {
        let smallest = sizes[1..].iter().copied().min().unwrap_or(0);
        mde(planned_se(cv, sizes[0], smallest), rules.level, DEFAULT_POWER)
    }))
}

/// Where a study's state is saved between days.
pub fn state_path(run_dir: &Path, study: &str) -> PathBuf {
    run_dir.join("online").join(format!("{study}.state"))
}

/// Saves the state after the days of a study: after every day while a save is cheap; once a save
/// takes longer than [`Saver::CHEAP`] (a population of hundreds of thousands), at most once per ten
/// times its cost, and after the last day, so saving stays a tenth of the work. A day not saved
/// is simulated again on resume, with the same draws, so it counts once either way.
struct Saver<'a> {
    path: &'a Path,
    last: std::time::Instant,
    cost: std::time::Duration,
}

impl<'a> Saver<'a> {
    const CHEAP: std::time::Duration = std::time::Duration::from_millis(100);

    fn new(path: &'a Path) -> Self {
        Saver { path, last: std::time::Instant::now(), cost: std::time::Duration::ZERO }
    }

    fn after_day(&mut self, state: &ExperimentState, last_day: bool) -> Result<(), StepError> {
        if last_day || self.cost < Self::CHEAP || self.last.elapsed() >= self.cost * 10 {
            let started = std::time::Instant::now();
            save_state(self.path, state)?;
            self.cost = started.elapsed();
            self.last = std::time::Instant::now();
        }
        Ok(())
    }
}

/// Writes the experiment's state after a day (postcard: at 30,000 users × 56 days the JSON of
/// it was tens of megabytes a day): to a scratch file, then renamed over the old one.
fn save_state(path: &Path, state: &ExperimentState) -> Result<(), StepError> {
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(path.parent().expect("a state file has a folder"))?;
        let scratch = path.with_extension(format!("state.{}", std::process::id()));
        let bytes = postcard::to_stdvec(state).map_err(std::io::Error::other)?;
        std::fs::write(&scratch, bytes)?;
        std::fs::rename(scratch, path)
    };
    write().map_err(|e| {
        StepError::transient(StepErrorKind::Io, format!("cannot save the online state `{}`: {e}", path.display()))
    })
}
