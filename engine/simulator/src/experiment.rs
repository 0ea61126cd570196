//! Online experiments: users split between a control and treatment arms by a hash of (user,
//! seed), each arm showing its users items in the order of its [`Ranker`], one day at a time
//! on a virtual clock. An optional pre-period runs first with every user on the control, as
//! production was before the study: each user's pre-period value of a metric is the covariate
//! CUPED adjusts by, and the pre-period is the A/A day power is planned from. The state after
//! any day serialises, so a caller can checkpoint daily and resume without simulating a day twice.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::rng::{stream, unit_hash, Purpose};
use crate::synthesis::{
    decide, deltas, estimate, Analysis, Delta, Guardrail, GuardrailRule, SynthesisError, Units, Verdict,
};
use crate::table::{MetricRow, MetricTable};
use crate::visit::{visit, SlateSource};
use crate::{Metric, Population, Ranker, SimError, World};

/// Days after a visit within which coming back counts as a return, unless configured.
pub const DEFAULT_RETURN_WINDOW: u32 = 1;
/// How deep each user's ranked list goes, unless configured.
pub const DEFAULT_RANKED: usize = 200;

/// The name of arm `k`: `control`, then `treatment_1`, `treatment_2`, ...
pub fn arm_name(k: usize) -> String {
    if k == 0 {
        "control".to_string()
    } else {
        format!("treatment_{k}")
    }
}

/// How an experiment runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentConfig {
    /// Share of all users in each arm (control and every treatment); the rest are not simulated.
    pub traffic_share: f64,
    /// Days to run.
    pub days: u32,
    /// Seed of the arm split and of every user's behaviour.
    pub seed: u64,
    /// A visit on day d counts as returned if the user visits again on d+1..=d+window; so day d's
    /// `return_rate` is known only `window` days later.
    pub return_window: u32,
    /// Items in each user's ranked list; slates walk down it and wrap around.
    pub ranked: usize,
    /// Days before the study with every user on the control (0: none).
    #[serde(default)]
    pub pre_days: u32,
}

impl ExperimentConfig {
    /// A config with the default return window and list depth, and no pre-period.
    pub fn new(traffic_share: f64, days: u32, seed: u64) -> Self {
        ExperimentConfig {
            traffic_share,
            days,
            seed,
            return_window: DEFAULT_RETURN_WINDOW,
            ranked: DEFAULT_RANKED,
            pre_days: 0,
        }
    }

    /// Days simulated in all: the pre-period and the study.
    pub fn total_days(&self) -> u32 {
        self.pre_days + self.days
    }
}

/// What one user did on one day of the experiment.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    /// The day.
    pub day: u32,
    /// Sessions.
    pub sessions: u32,
    /// Slates seen.
    pub slates: u32,
    /// Clicks.
    pub clicks: u32,
    /// Likes.
    pub likes: u32,
    /// Shares.
    pub shares: u32,
    /// Seconds watched.
    pub watch: f32,
    /// Sum of survey answers.
    pub survey_sum: f32,
    /// Survey answers.
    pub survey_n: u32,
    /// Hidden satisfaction at the end of the visit.
    pub satisfaction: f32,
    /// Left for good after it.
    pub left: bool,
}

/// Everything an experiment needs to go on, besides the world and the score tables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentState {
    /// How it runs.
    pub config: ExperimentConfig,
    /// Days simulated so far, the pre-period's included: the next `step_day` simulates day `day`.
    pub day: u32,
    /// Arm of each simulated user, by slot.
    arm: Vec<u16>,
    population: Population,
    /// Visits of each simulated user, by slot, in day order.
    visits: Vec<Vec<Visit>>,
    world_fingerprint: u64,
    arm_fingerprints: Vec<u64>,
}

/// A running experiment.
pub struct Experiment {
    world: World,
    /// Control first.
    arms: Vec<Box<dyn Ranker>>,
    /// slots × ranked, each user's list in the order of the arm they see now.
    rankings: Vec<u32>,
    ranked: usize,
    state: ExperimentState,
}

impl Experiment {
    /// An experiment of `days` days where each arm gets `traffic_share` of the users.
    pub fn new<R: Ranker + 'static>(
        world: World,
        control: R,
        treatments: Vec<R>,
        traffic_share: f64,
        days: u32,
        seed: u64,
    ) -> Result<Experiment, SimError> {
        Experiment::with_config(world, control, treatments, ExperimentConfig::new(traffic_share, days, seed))
    }

    /// An experiment with every setting given.
    pub fn with_config<R: Ranker + 'static>(
        world: World,
        control: R,
        treatments: Vec<R>,
        config: ExperimentConfig,
    ) -> Result<Experiment, SimError> {
        Experiment::with_rankers(world, boxed(control, treatments), config)
    }

    /// An experiment over arms of any kind, control first.
    pub fn with_rankers(
        world: World,
        arms: Vec<Box<dyn Ranker>>,
        config: ExperimentConfig,
    ) -> Result<Experiment, SimError> {
        check_shapes(&world, &arms)?;
        let share = config.traffic_share;
        if !(share > 0.0 && share * arms.len() as f64 <= 1.0 + 1e-9) {
            return Err(SimError::Traffic { share, arms: arms.len() });
        }
        if config.ranked == 0 {
            return Err(SimError::Empty { what: "ranked", value: 0 });
        }
        let (mut users, mut arm) = (Vec::new(), Vec::new());
        for u in 0..world.users() as u32 {
            let k = (unit_hash(config.seed, Purpose::Arms, u64::from(u)) / share) as usize;
            if k < arms.len() {
                users.push(u);
                arm.push(k as u16);
            }
        }
        let population = Population::new(&world, users, config.seed);
        let depth = config.ranked.min(world.items());
        let state = ExperimentState {
            day: 0,
            visits: vec![Vec::new(); population.len()],
            arm,
            population,
            world_fingerprint: world.fingerprint(),
            arm_fingerprints: arms.iter().map(|a| a.fingerprint(depth)).collect::<Result<_, _>>()?,
            config,
        };
        Experiment::assemble(world, arms, state)
    }

    /// Goes on from a saved state, given the same world and arms it started with.
    pub fn resume<R: Ranker + 'static>(
        world: World,
        control: R,
        treatments: Vec<R>,
        state: ExperimentState,
    ) -> Result<Experiment, SimError> {
        Experiment::resume_rankers(world, boxed(control, treatments), state)
    }

    /// [`Experiment::resume`] over arms of any kind, control first.
    pub fn resume_rankers(
        world: World,
        arms: Vec<Box<dyn Ranker>>,
        state: ExperimentState,
    ) -> Result<Experiment, SimError> {
        check_shapes(&world, &arms)?;
        if state.world_fingerprint != world.fingerprint() {
            return Err(SimError::Resume("the world differs from the one the experiment started with".into()));
        }
        let depth = state.config.ranked.min(world.items());
        let fingerprints: Vec<u64> = arms.iter().map(|a| a.fingerprint(depth)).collect::<Result<_, _>>()?;
        if fingerprints != state.arm_fingerprints {
            return Err(SimError::Resume("the score tables differ from the ones the experiment started with".into()));
        }
        let slots = state.population.len();
        if state.arm.len() != slots || state.visits.len() != slots || state.day > state.config.total_days() {
            return Err(SimError::Resume("the saved state is inconsistent".into()));
        }
        Experiment::assemble(world, arms, state)
    }

    fn assemble(world: World, arms: Vec<Box<dyn Ranker>>, state: ExperimentState) -> Result<Experiment, SimError> {
        let ranked = state.config.ranked.min(world.items());
        let mut exp = Experiment { world, arms, rankings: vec![0; state.population.len() * ranked], ranked, state };
        let pre = exp.state.day < exp.state.config.pre_days;
        exp.rank_slots(|_| true, pre)?;
        Ok(exp)
    }

    /// Fills the rankings of the slots whose arm `which` selects: from the control during the
    /// pre-period (`pre`), else from their own arm. A block of users at a time, so a ranker that
    /// scores with a model never holds every user's scores.
    fn rank_slots(&mut self, which: impl Fn(usize) -> bool, pre: bool) -> Result<(), SimError> {
        const BLOCK: usize = 4096;
        let depth = self.ranked;
        let mut buf = Vec::new();
        for arm in (0..self.arms.len()).filter(|&a| which(a)) {
            let slots: Vec<usize> = (0..self.state.arm.len())
                .filter(|&s| if pre { true } else { self.state.arm[s] as usize == arm })
                .collect();
            let source = if pre { 0 } else { arm };
            for block in slots.chunks(BLOCK) {
                let users: Vec<u32> = block.iter().map(|&s| self.state.population.users[s]).collect();
                buf.clear();
                self.arms[source].rank(&users, depth, &mut buf)?;
                if buf.len() != users.len() * depth {
                    return Err(SimError::Resume(format!(
                        "{} ranked {} items for {} users at depth {depth}",
                        arm_name(source),
                        buf.len(),
                        users.len()
                    )));
                }
                for (k, &slot) in block.iter().enumerate() {
                    self.rankings[slot * depth..(slot + 1) * depth].copy_from_slice(&buf[k * depth..(k + 1) * depth]);
                }
            }
            if pre {
                break;
            }
        }
        Ok(())
    }

    /// The state to save; [`Experiment::resume`] takes it back.
    pub fn state(&self) -> &ExperimentState {
        &self.state
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// Days simulated so far, the pre-period's included.
    pub fn day(&self) -> u32 {
        self.state.day
    }

    /// Days of the study (after the pre-period) simulated so far.
    pub fn study_days_done(&self) -> u32 {
        self.state.day.saturating_sub(self.state.config.pre_days)
    }

    /// Whether every day has been simulated.
    pub fn is_finished(&self) -> bool {
        self.state.day >= self.state.config.total_days()
    }

    /// Number of arms, control included.
    pub fn arms(&self) -> usize {
        self.state.arm_fingerprints.len()
    }

    /// Simulated users in each arm.
    pub fn arm_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.arms()];
        for &a in &self.state.arm {
            sizes[a as usize] += 1;
        }
        sizes
    }

    /// Simulates the next day; returns its number (the pre-period's days first).
    pub fn step_day(&mut self) -> Result<u32, SimError> {
        if self.is_finished() {
            return Err(SimError::Finished { days: self.state.config.total_days() });
        }
        let day = self.state.day;
        let mut source =
            Ranked { rankings: &self.rankings, ranked: self.ranked, slate_size: self.world.params().slate_size };
        let pop = &mut self.state.population;
        for slot in 0..pop.len() {
            if pop.next_visit[slot] != day {
                continue;
            }
            let mut rng =
                stream(self.state.config.seed, Purpose::Experiment, u64::from(day), u64::from(pop.users[slot]));
            let t = visit(&self.world, pop, slot, day, &mut rng, &mut source, &mut |_| {});
            self.state.visits[slot].push(Visit {
                day,
                sessions: t.sessions,
                slates: t.slates,
                clicks: t.clicks,
                likes: t.likes,
                shares: t.shares,
                watch: t.watch,
                survey_sum: t.survey_sum,
                survey_n: t.survey_n,
                satisfaction: t.satisfaction,
                left: t.left,
            });
        }
        self.state.day += 1;
        if self.state.day == self.state.config.pre_days && day + 1 == self.state.config.pre_days {
            // The study starts: treated users switch to their arm, and every user's list starts
            // from its top, so the arms differ in what they show and in nothing else.
            self.rank_slots(|arm| arm != 0, false)?;
            self.state.population.cursor.iter_mut().for_each(|c| *c = 0);
        }
        Ok(day)
    }

    /// Runs the remaining days.
    pub fn run_to_end(&mut self) -> Result<(), SimError> {
        while !self.is_finished() {
            self.step_day()?;
        }
        Ok(())
    }

    /// The last absolute day whose immediate metrics are known at the end of study day `as_of`.
    fn last_known(&self, as_of: u32) -> Option<u32> {
        let pre = self.state.config.pre_days;
        self.study_days_done().checked_sub(1).map(|last| pre + last.min(as_of))
    }

    /// Per-arm, per-day metrics as known at the end of study day `as_of`: immediate metrics for
    /// days up to `as_of`, `return_rate` of day d only once d + return_window ≤ as_of. Days are
    /// counted from the study's first; the pre-period is not reported.
    pub fn observed(&self, as_of: u32) -> MetricTable {
        let Some(last) = self.last_known(as_of) else { return MetricTable::default() };
        let pre = self.state.config.pre_days;
        let window = self.state.config.return_window;
        let mut rows = Vec::new();
        for arm in 0..self.arms() {
            let slots: Vec<usize> = (0..self.state.arm.len()).filter(|&s| self.state.arm[s] as usize == arm).collect();
            let n = slots.len() as f64;
            for day in pre..=last {
                let mut day_units = [(0.0f64, 0.0f64); Metric::ALL.len()];
                // Users whose visits of the day gave a ratio metric a non-zero denominator.
                let mut contributors = [0u64; Metric::ALL.len()];
                for &slot in &slots {
                    let visits = &self.state.visits[slot];
                    let mut user_x = [0.0f64; Metric::ALL.len()];
                    for (k, v) in visits.iter().enumerate().filter(|(_, v)| v.day == day) {
                        for ((m, acc), ux) in Metric::ALL.iter().zip(day_units.iter_mut()).zip(user_x.iter_mut()) {
                            if let Some((y, x)) = visit_units(*m, visits, k, v, window, last) {
                                acc.0 += y;
                                acc.1 += x;
                                *ux += x;
                            }
                        }
                    }
                    for (c, ux) in contributors.iter_mut().zip(user_x) {
                        *c += u64::from(ux > 0.0);
                    }
                }
                for ((m, (y, x)), contributed) in Metric::ALL.iter().zip(day_units).zip(contributors) {
                    if day + m.delay(window) > last {
                        continue;
                    }
                    let (value, users) = match m {
                        Metric::ActiveUsers => (y, slots.len() as u64),
                        _ if per_user(*m) => (y / n, slots.len() as u64),
                        _ if x > 0.0 => (y / x, contributed),
                        _ => continue,
                    };
                    if value.is_finite() {
                        let metric = m.name().to_string();
                        rows.push(MetricRow { arm: arm_name(arm), day: day - pre, metric, value, n: Some(users) });
                    }
                }
            }
        }
        MetricTable::from_known(rows)
    }

    /// Per-user (numerator, denominator) of `metric` in each arm, over the study days known at
    /// the end of study day `as_of`: the units metric synthesis works on.
    pub fn units(&self, metric: Metric, as_of: u32) -> Vec<Units> {
        match self.last_known(as_of) {
            Some(last) => self.units_between(metric, self.state.config.pre_days, last),
            None => vec![Units::default(); self.arms()],
        }
    }

    /// The same users' `metric` over the pre-period (every user on the control), as far as it is
    /// known before the study starts; `None` without a pre-period or before it has run.
    pub fn pre_units(&self, metric: Metric) -> Option<Vec<Units>> {
        let pre = self.state.config.pre_days;
        (pre > 0 && self.state.day >= pre).then(|| self.units_between(metric, 0, pre - 1))
    }

    /// Per-user units of `metric` over absolute days `first..=last`.
    fn units_between(&self, metric: Metric, first: u32, last: u32) -> Vec<Units> {
        let mut out = vec![Units::default(); self.arms()];
        let window = self.state.config.return_window;
        for (slot, visits) in self.state.visits.iter().enumerate() {
            let (mut y, mut x) = (0.0, if per_user(metric) { 1.0 } else { 0.0 });
            for (k, v) in visits.iter().enumerate().filter(|(_, v)| (first..=last).contains(&v.day)) {
                if let Some((vy, vx)) = visit_units(metric, visits, k, v, window, last) {
                    y += vy;
                    if !per_user(metric) {
                        x += vx;
                    }
                }
            }
            let arm = &mut out[self.state.arm[slot] as usize];
            arm.num.push(y);
            arm.den.push(x);
        }
        out
    }

    /// The relative delta of each treatment vs control on `metric`, as known at the end of study
    /// day `as_of`, at `level` with fixed-horizon intervals and CUPED when there is a pre-period.
    pub fn deltas(&self, metric: Metric, level: f64, as_of: u32) -> Result<Vec<Delta>, SynthesisError> {
        self.analyse(metric, &Analysis::fixed(level), as_of)
    }

    /// The relative delta of each treatment vs control on `metric` under `analysis`.
    pub fn analyse(&self, metric: Metric, analysis: &Analysis, as_of: u32) -> Result<Vec<Delta>, SynthesisError> {
        let units = self.units(metric, as_of);
        let pre = if analysis.cuped { self.pre_units(metric) } else { None };
        deltas(metric.name(), &units, pre.as_deref(), analysis)
    }

    /// The per-user coefficient of variation of `metric` in the pre-period, over every arm's
    /// users (all on the control then): what power is planned from before the study.
    pub fn pre_period_cv(&self, metric: Metric) -> Result<Option<f64>, SynthesisError> {
        let Some(pre) = self.pre_units(metric) else { return Ok(None) };
        let pooled = Units {
            num: pre.iter().flat_map(|u| u.num.iter().copied()).collect(),
            den: pre.iter().flat_map(|u| u.den.iter().copied()).collect(),
        };
        let e = estimate(metric.name(), "control", &pooled)?;
        Ok((e.value != 0.0).then(|| (e.variance * e.n as f64).sqrt() / e.value.abs()))
    }

    /// A decision for each treatment on `primary` under `guardrails`, as known at the end of
    /// study day `as_of`.
    pub fn verdicts(
        &self,
        primary: Metric,
        guardrails: &[Guardrail],
        analysis: &Analysis,
        rule: GuardrailRule,
        as_of: u32,
    ) -> Result<Vec<Verdict>, SynthesisError> {
        let primary_deltas = self.analyse(primary, analysis, as_of)?;
        let mut per_guardrail = Vec::new();
        for g in guardrails {
            let metric: Metric = g
                .metric
                .parse()
                .map_err(|problem: String| SynthesisError::BadUnits { metric: g.metric.clone(), problem })?;
            per_guardrail.push(self.analyse(metric, analysis, as_of)?);
        }
        Ok(primary_deltas
            .into_iter()
            .enumerate()
            .map(|(t, p)| {
                let checks = guardrails.iter().cloned().zip(per_guardrail.iter().map(|d| d[t].clone())).collect();
                decide(p, primary.higher_is_better(), checks, rule)
            })
            .collect())
    }
}

impl std::fmt::Debug for Experiment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Experiment").field("arms", &self.arms.len()).field("day", &self.state.day).finish()
    }
}

/// Control first, as boxed rankers.
fn boxed<R: Ranker + 'static>(control: R, treatments: Vec<R>) -> Vec<Box<dyn Ranker>> {
    std::iter::once(control).chain(treatments).map(|r| Box::new(r) as Box<dyn Ranker>).collect()
}

/// Whether a metric is a per-user mean (denominator: the user) rather than a ratio of sums.
fn per_user(metric: Metric) -> bool {
    matches!(
        metric,
        Metric::WatchTime
            | Metric::Clicks
            | Metric::Likes
            | Metric::Shares
            | Metric::Sessions
            | Metric::LeaveRate
            | Metric::ActiveUsers
    )
}

/// What visit `k` (`v`) of a user adds to `metric`'s (numerator, denominator); `None` when it
/// adds nothing yet (a return not known by day `last`).
fn visit_units(metric: Metric, visits: &[Visit], k: usize, v: &Visit, window: u32, last: u32) -> Option<(f64, f64)> {
    Some(match metric {
        Metric::WatchTime => (f64::from(v.watch), 1.0),
        Metric::Clicks => (f64::from(v.clicks), 1.0),
        Metric::Likes => (f64::from(v.likes), 1.0),
        Metric::Shares => (f64::from(v.shares), 1.0),
        Metric::Sessions => (f64::from(v.sessions), 1.0),
        Metric::SessionLength => (f64::from(v.slates), f64::from(v.sessions)),
        Metric::Survey => (f64::from(v.survey_sum), f64::from(v.survey_n)),
        Metric::Satisfaction => (f64::from(v.satisfaction), 1.0),
        Metric::LeaveRate => (f64::from(u8::from(v.left)), 1.0),
        Metric::ActiveUsers => (1.0, 1.0),
        Metric::ReturnRate => {
            if v.day + window > last {
                return None;
            }
            let returned = visits.get(k + 1).is_some_and(|next| next.day <= v.day + window);
            (f64::from(u8::from(returned)), 1.0)
        }
    })
}

/// Each arm must match the world's shape.
fn check_shapes(world: &World, arms: &[Box<dyn Ranker>]) -> Result<(), SimError> {
    for (k, a) in arms.iter().enumerate() {
        let (users, items) = a.shape();
        if users != world.users() || items != world.items() {
            return Err(SimError::ShapeMismatch {
                what: format!("the score table of {}", arm_name(k)),
                users,
                items,
                world_users: world.users(),
                world_items: world.items(),
            });
        }
    }
    Ok(())
}

/// Slates from each user's ranked list, walking down it.
struct Ranked<'a> {
    rankings: &'a [u32],
    ranked: usize,
    slate_size: usize,
}

impl SlateSource for Ranked<'_> {
    fn fill(&mut self, slot: usize, cursor: &mut u32, _rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        let list = &self.rankings[slot * self.ranked..(slot + 1) * self.ranked];
        for _ in 0..self.slate_size.min(self.ranked) {
            out.push(list[*cursor as usize % self.ranked]);
            *cursor = (*cursor + 1) % self.ranked as u32;
        }
    }
}
