//! The built-in search agent: the honest AutoML baseline, and the default when no LLM is
//! configured. Per persona it edits the evolved block with operators chosen by a UCB1 bandit fed
//! with the journal's results, under the explore / exploit / innovate quotas. Every proposal it
//! returns has passed Verify; failures are retried with another operator and counted.

mod bandit;
mod graph;
mod model_ops;
mod optimizer_ops;
mod reward_ops;
mod state;

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use bandit::Bandit;

use crate::apply::apply_as;
use crate::delta::Delta;
use crate::key::DeltaKey;
use crate::proposal::{Proposal, ProposalKind};
use crate::proposer::{Outcome, ProposalRequest, Proposer};
use state::State;

/// What the search agent has done so far: proposals made, and what failed on the way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    pub proposed: usize,
    /// Operators that did not apply to the block (nothing to change).
    pub not_applicable: usize,
    /// Operator results that failed Verify, by operator.
    pub failures: BTreeMap<String, usize>,
    /// Results that were duplicates of the journal or of earlier proposals.
    pub duplicates: usize,
    /// Proposals asked for but not found within the attempt limit.
    pub shortfall: usize,
    /// The most failures in a row (each was retried).
    pub max_failure_streak: usize,
}

impl SearchStats {
    /// All verification failures.
    pub fn total_failures(&self) -> usize {
        self.failures.values().sum()
    }
}

/// The built-in search agent. Deterministic for a seed and a sequence of calls.
pub struct SearchAgent {
    rng: ChaCha8Rng,
    bandits: HashMap<String, Bandit>,
    /// Keys this agent proposed: never proposed twice.
    proposed: HashSet<DeltaKey>,
    /// The state each proposed key stands for, for exploitation from the best ones.
    states: HashMap<DeltaKey, (String, State)>,
    /// Per persona: the best improvement seen and its key.
    best: HashMap<String, (f64, DeltaKey)>,
    stats: SearchStats,
    /// Tries per proposal before giving up on it.
    pub max_attempts: usize,
    /// The last verification errors (newest last, at most 16), for logs.
    pub recent_errors: Vec<(String, crate::verify::VerifyError)>,
    /// Random search: every proposal an operator drawn uniformly, at a uniform strength, from
    /// the parent it is given; nothing learnt from results. The control the agent must beat.
    uniform: bool,
}

impl SearchAgent {
    /// An agent whose choices follow from `seed`.
    pub fn new(seed: u64) -> SearchAgent {
        SearchAgent {
            rng: ChaCha8Rng::seed_from_u64(seed),
            bandits: HashMap::new(),
            proposed: HashSet::new(),
            states: HashMap::new(),
            best: HashMap::new(),
            stats: SearchStats::default(),
            max_attempts: 24,
            recent_errors: Vec::new(),
            uniform: false,
        }
    }

    /// The random-search control with the same operators: whatever the quota asks, each
    /// proposal applies one operator drawn uniformly (two for an innovation, as the agent's do)
    /// at a strength drawn uniformly, to the parent as given, and results change nothing.
    pub fn uniform(seed: u64) -> SearchAgent {
        SearchAgent { uniform: true, ..SearchAgent::new(seed) }
    }

    /// Counters of what happened so far.
    pub fn stats(&self) -> &SearchStats {
        &self.stats
    }

    /// The bandit of `persona`, if it has seen anything.
    pub fn bandit(&self, persona: &str) -> Option<&Bandit> {
        self.bandits.get(persona)
    }

    /// One proposal of `kind`, verified, or `None` after `max_attempts` tries.
    fn one(
        &mut self,
        req: &ProposalRequest<'_>,
        kind: ProposalKind,
        baseline_state: &State,
        seen: &HashSet<DeltaKey>,
    ) -> Option<Proposal> {
        let persona = req.persona;
        let block = req.baseline.block(persona.edits)?.to_string();
        let schema = req.baseline.reward_schema();
        let features = req.baseline.program.side_features();
        // Reading a side feature is a move only where the data supplies one; elsewhere it is not
        // drawn at all, so a workflow without features searches exactly as before.
        let offered = |ops: &'static [&'static str]| -> Vec<&'static str> {
            ops.iter().copied().filter(|&o| o != model_ops::SIDE_FEATURE || !features.is_empty()).collect()
        };
        let (every, every_structural) = State::operators(persona.edits);
        let (every, every_structural) = (offered(every), offered(every_structural));
        // Operators found to have nothing to change on this start are not drawn again for this
        // proposal: the attempts go to those that can still produce something new.
        let mut inapplicable: Vec<&str> = Vec::new();
        let mut streak = 0;
        for attempt in 0..self.max_attempts {
            let all: Vec<&str> = every.iter().copied().filter(|o| !inapplicable.contains(o)).collect();
            if all.is_empty() {
                break;
            }
            let structural: Vec<&str> = match every_structural.iter().copied().filter(|o| all.contains(o)).collect() {
                s if Vec::is_empty(&s) => all.clone(),
                s => s,
            };
            let (all, structural) = (all.as_slice(), structural.as_slice());
            let bandit = self.bandits.entry(persona.name.clone()).or_default();
            // Later attempts of an exploit or innovation fall back to random operators, so one
            // operator that keeps failing cannot use up every try.
            let fallback = attempt >= 4;
            let (ops, start, strength): (Vec<&str>, State, f64) = match kind {
                _ if self.uniform => {
                    let n = if kind == ProposalKind::Innovate { 2 } else { 1 };
                    let mut ops: Vec<&str> = (0..n).filter_map(|_| all.choose(&mut self.rng).copied()).collect();
                    ops.dedup();
                    (ops, baseline_state.clone(), self.rng.gen_range(0.05..=1.0))
                }
                ProposalKind::Explore => {
                    // Once single edits of the baseline keep coming back as duplicates (a small
                    // model has few), explore pairs of edits: the space grows from n to n².
                    let mut ops = vec![*all.choose(&mut self.rng)?];
                    if attempt >= self.max_attempts / 3 {
                        ops.push(*all.choose(&mut self.rng)?);
                        ops.dedup();
                    }
                    (ops, baseline_state.clone(), self.rng.gen_range(0.2..=1.0))
                }
                ProposalKind::Exploit => {
                    // UCB1 until every operator was tried once, then the best so far: exploring
                    // is the explore quota's job.
                    let tried = all.iter().all(|o| bandit.pulls(o) > 0);
                    let op = if fallback {
                        all.choose(&mut self.rng).copied()
                    } else if tried {
                        bandit.best(all)
                    } else {
                        bandit.choose(all)
                    }?;
                    let start = self
                        .best
                        .get(&persona.name)
                        .and_then(|(_, k)| self.states.get(k))
                        .map_or_else(|| baseline_state.clone(), |(_, s)| s.clone());
                    (vec![op], start, self.rng.gen_range(0.05..=0.3))
                }
                ProposalKind::Innovate => {
                    let first =
                        if fallback { structural.choose(&mut self.rng).copied() } else { bandit.best(structural) }?;
                    let second = *all.choose(&mut self.rng)?;
                    let ops = if second == first { vec![first] } else { vec![first, second] };
                    (ops, baseline_state.clone(), self.rng.gen_range(0.3..=0.7))
                }
            };
            let mut state = start;
            let mut what = Vec::new();
            for op in &ops {
                match state.apply(op, strength, schema.as_ref(), &features, &mut self.rng) {
                    Some((next, w)) => {
                        state = next;
                        what.push(w);
                    }
                    None => {
                        // Nothing to change (a temperature without a softmax): a pull that paid
                        // nothing, so an operator that never applies is tried once, not forever.
                        self.bandits.entry(persona.name.clone()).or_default().observe(op, None);
                        inapplicable.push(op);
                        what.clear();
                        break;
                    }
                }
            }
            if what.is_empty() {
                self.stats.not_applicable += 1;
                continue;
            }
            let label = ops.join("+");
            let delta = Delta::replace(&block, state.emit(&block));
            match apply_as(req.baseline, persona, &delta) {
                Ok(candidate) => {
                    if seen.contains(&candidate.key) || self.proposed.contains(&candidate.key) {
                        self.stats.duplicates += 1;
                        continue;
                    }
                    self.proposed.insert(candidate.key.clone());
                    self.states.insert(candidate.key.clone(), (label.clone(), state));
                    self.stats.proposed += 1;
                    return Some(Proposal {
                        kind,
                        explanation: format!("{}: {}", persona.name, what.join("; ")),
                        delta,
                        persona: persona.name.clone(),
                        operator: label,
                    });
                }
                Err(e) => {
                    // Counted, kept for the logs, and retried with another operator.
                    streak += 1;
                    self.stats.max_failure_streak = self.stats.max_failure_streak.max(streak);
                    *self.stats.failures.entry(label.clone()).or_default() += 1;
                    self.bandits.entry(persona.name.clone()).or_default().observe(&label, None);
                    self.recent_errors.push((label, e));
                    if self.recent_errors.len() > 16 {
                        self.recent_errors.remove(0);
                    }
                }
            }
        }
        self.stats.shortfall += 1;
        None
    }
}

impl Proposer for SearchAgent {
    fn propose(&mut self, req: &ProposalRequest<'_>) -> Vec<Proposal> {
        let Some(baseline_state) = State::of_baseline(req.baseline, req.persona.edits) else {
            self.stats.shortfall += req.quota.total();
            return Vec::new();
        };
        let seen: HashSet<DeltaKey> = req.history.iter().filter_map(|h| h.key.clone()).collect();
        let kinds = std::iter::repeat_n(ProposalKind::Explore, req.quota.explore)
            .chain(std::iter::repeat_n(ProposalKind::Exploit, req.quota.exploit))
            .chain(std::iter::repeat_n(ProposalKind::Innovate, req.quota.innovate));
        let mut out = Vec::new();
        for kind in kinds {
            if let Some(p) = self.one(req, kind, &baseline_state, &seen) {
                out.push(p);
            }
        }
        out
    }

    fn observe(&mut self, outcome: &Outcome) {
        if self.uniform {
            return;
        }
        self.bandits.entry(outcome.persona.clone()).or_default().observe(&outcome.operator, outcome.improvement);
        if let Some(x) = outcome.improvement.filter(|x| x.is_finite()) {
            let better = self.best.get(&outcome.persona).is_none_or(|(b, _)| x > *b);
            if x > 0.0 && better && self.states.contains_key(&outcome.key) {
                self.best.insert(outcome.persona.clone(), (x, outcome.key.clone()));
            }
        }
    }
}
