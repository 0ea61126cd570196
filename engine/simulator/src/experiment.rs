//! Online experiments: users split between a control and treatment arms by a hash of (user,
//! seed), each arm showing its users items in the order of its [`ScoreTable`], one day at a time
//! on a virtual clock. The state after any day serialises, so a caller can checkpoint daily and
//! resume without simulating a day twice.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::rng::{stream, unit_hash, Purpose};
use crate::synthesis::{decide, relative_delta, Delta, Guardrail, GuardrailRule, SynthesisError, Units, Verdict};
use crate::table::{MetricRow, MetricTable};
use crate::visit::{visit, SlateSource};
use crate::{Metric, Population, ScoreTable, SimError, World};

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
}

impl ExperimentConfig {
    /// A config with the default return window and list depth.
    pub fn new(traffic_share: f64, days: u32, seed: u64) -> Self {
        ExperimentConfig { traffic_share, days, seed, return_window: DEFAULT_RETURN_WINDOW, ranked: DEFAULT_RANKED }
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
    /// Days simulated so far: the next `step_day` simulates day `day`.
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
#[derive(Clone, Debug)]
pub struct Experiment {
    world: World,
    /// slots × ranked, each user's list in their arm's order.
    rankings: Vec<u32>,
    ranked: usize,
    state: ExperimentState,
}

impl Experiment {
    /// An experiment of `days` days where each arm gets `traffic_share` of the users.
    pub fn new(
        world: World,
        control: ScoreTable,
        treatments: Vec<ScoreTable>,
        traffic_share: f64,
        days: u32,
        seed: u64,
    ) -> Result<Experiment, SimError> {
        Experiment::with_config(world, control, treatments, ExperimentConfig::new(traffic_share, days, seed))
    }

    /// An experiment with every setting given.
    pub fn with_config(
        world: World,
        control: ScoreTable,
        treatments: Vec<ScoreTable>,
        config: ExperimentConfig,
    ) -> Result<Experiment, SimError> {
        let tables = arms(&world, control, treatments)?;
        let share = config.traffic_share;
        if !(share > 0.0 && share * tables.len() as f64 <= 1.0 + 1e-9) {
            return Err(SimError::Traffic { share, arms: tables.len() });
        }
        if config.ranked == 0 {
            return Err(SimError::Empty { what: "ranked", value: 0 });
        }
        let (mut users, mut arm) = (Vec::new(), Vec::new());
        for u in 0..world.users() as u32 {
            let k = (unit_hash(config.seed, Purpose::Arms, u64::from(u)) / share) as usize;
            if k < tables.len() {
                users.push(u);
                arm.push(k as u16);
            }
        }
        let population = Population::new(&world, users, config.seed);
        let state = ExperimentState {
            day: 0,
            visits: vec![Vec::new(); population.len()],
            arm,
            population,
            world_fingerprint: world.fingerprint(),
            arm_fingerprints: tables.iter().map(ScoreTable::fingerprint).collect(),
            config,
        };
        Ok(Experiment::assemble(world, &tables, state))
    }

    /// Goes on from a saved state, given the same world and score tables it started with.
    pub fn resume(
        world: World,
        control: ScoreTable,
        treatments: Vec<ScoreTable>,
        state: ExperimentState,
    ) -> Result<Experiment, SimError> {
        let tables = arms(&world, control, treatments)?;
        if state.world_fingerprint != world.fingerprint() {
            return Err(SimError::Resume("the world differs from the one the experiment started with".into()));
        }
        let fingerprints: Vec<u64> = tables.iter().map(ScoreTable::fingerprint).collect();
        if fingerprints != state.arm_fingerprints {
            return Err(SimError::Resume("the score tables differ from the ones the experiment started with".into()));
        }
        let slots = state.population.len();
        if state.arm.len() != slots || state.visits.len() != slots || state.day > state.config.days {
            return Err(SimError::Resume("the saved state is inconsistent".into()));
        }
        Ok(Experiment::assemble(world, &tables, state))
    }

    fn assemble(world: World, tables: &[ScoreTable], state: ExperimentState) -> Experiment {
        let ranked = state.config.ranked.min(world.items());
        let mut rankings = Vec::with_capacity(state.population.len() * ranked);
        for (slot, &u) in state.population.users.iter().enumerate() {
            rankings.extend(tables[state.arm[slot] as usize].top(u as usize, ranked));
        }
        Experiment { world, rankings, ranked, state }
    }

    /// The state to save; [`Experiment::resume`] takes it back.
    pub fn state(&self) -> &ExperimentState {
        &self.state
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// Days simulated so far.
    pub fn day(&self) -> u32 {
        self.state.day
    }

    /// Whether every day has been simulated.
    pub fn is_finished(&self) -> bool {
        self.state.day >= self.state.config.days
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

    /// Simulates the next day; returns its number.
    pub fn step_day(&mut self) -> Result<u32, SimError> {
        if self.is_finished() {
            return Err(SimError::Finished { days: self.state.config.days });
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
        Ok(day)
    }

    /// Runs the remaining days.
    pub fn run_to_end(&mut self) -> Result<(), SimError> {
        while !self.is_finished() {
            self.step_day()?;
        }
        Ok(())
    }

    /// The last day whose immediate metrics are known at the end of day `as_of`, if any.
    fn last_known(&self, as_of: u32) -> Option<u32> {
        self.state.day.checked_sub(1).map(|last| last.min(as_of))
    }

    /// Per-arm, per-day metrics as known at the end of day `as_of`: immediate metrics for days up
    /// to `as_of`, `return_rate` of day d only once d + return_window ≤ as_of.
    pub fn observed(&self, as_of: u32) -> MetricTable {
        let Some(last) = self.last_known(as_of) else { return MetricTable::default() };
        let window = self.state.config.return_window;
        let mut rows = Vec::new();
        for arm in 0..self.arms() {
            let slots: Vec<usize> = (0..self.state.arm.len()).filter(|&s| self.state.arm[s] as usize == arm).collect();
            let n = slots.len() as f64;
            for day in 0..=last {
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
                        rows.push(MetricRow { arm: arm_name(arm), day, metric, value, n: Some(users) });
                    }
                }
            }
        }
        MetricTable::from_known(rows)
    }

    /// Per-user (numerator, denominator) of `metric` in each arm, over the days known at the end
    /// of day `as_of`: the units metric synthesis works on.
    pub fn units(&self, metric: Metric, as_of: u32) -> Vec<Units> {
        let mut out = vec![Units::default(); self.arms()];
        let Some(last) = self.last_known(as_of) else { return out };
        let window = self.state.config.return_window;
        for (slot, visits) in self.state.visits.iter().enumerate() {
            let (mut y, mut x) = (0.0, if per_user(metric) { 1.0 } else { 0.0 });
            for (k, v) in visits.iter().enumerate().filter(|(_, v)| v.day <= last) {
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

    /// The relative delta of each treatment vs control on `metric`, as known at the end of `as_of`.
    pub fn deltas(&self, metric: Metric, level: f64, as_of: u32) -> Result<Vec<Delta>, SynthesisError> {
        let units = self.units(metric, as_of);
        units[1..].iter().map(|t| relative_delta(metric.name(), &units[0], t, level)).collect()
    }

    /// A decision for each treatment on `primary` under `guardrails`, as known at the end of `as_of`.
    pub fn verdicts(
        &self,
        primary: Metric,
        guardrails: &[Guardrail],
        level: f64,
        rule: GuardrailRule,
        as_of: u32,
    ) -> Result<Vec<Verdict>, SynthesisError> {
        let primary_deltas = self.deltas(primary, level, as_of)?;
        let mut per_guardrail = Vec::new();
        for g in guardrails {
            let metric: Metric = g
                .metric
                .parse()
                .map_err(|problem: String| SynthesisError::BadUnits { metric: g.metric.clone(), problem })?;
            per_guardrail.push(self.deltas(metric, level, as_of)?);
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

/// Control first, then treatments; each must match the world's shape.
fn arms(world: &World, control: ScoreTable, treatments: Vec<ScoreTable>) -> Result<Vec<ScoreTable>, SimError> {
    let tables: Vec<ScoreTable> = std::iter::once(control).chain(treatments).collect();
    for (k, t) in tables.iter().enumerate() {
        if t.users() != world.users() || t.items() != world.items() {
            return Err(SimError::ShapeMismatch {
                what: format!("the score table of {}", arm_name(k)),
                users: t.users(),
                items: t.items(),
                world_users: world.users(),
                world_items: world.items(),
            });
        }
    }
    Ok(tables)
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
