//! The evolved block of one persona in a form operators edit, and back to source.

use dsl::program::{Schema, SideFeature};
use rand_chacha::ChaCha8Rng;

use super::graph::Graph;
use super::optimizer_ops::Opt;
use super::reward_ops::Reward;
use super::{model_ops, optimizer_ops, reward_ops};
use crate::baseline::Baseline;
use crate::block::BlockKind;

/// A block being evolved.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum State {
    Model(Graph),
    Optimizer(Opt),
    Reward(Reward),
}

impl State {
    /// The baseline's evolved block of `kind`, if it has one the operators can read.
    pub fn of_baseline(baseline: &Baseline, kind: BlockKind) -> Option<State> {
        let q = baseline.qualified(baseline.block(kind)?)?;
        let p = &baseline.program;
        match kind {
            BlockKind::Model => Some(State::Model(Graph::from_def(p.models.get(&q)?))),
            BlockKind::Optimizer => Some(State::Optimizer(Opt::from_value(&p.optimizers.get(&q)?.value)?)),
            BlockKind::Reward => Some(State::Reward(Reward::parse(p.rewards.get(&q)?.source())?)),
        }
    }

    /// The operators for this kind of block, and the structural ones among them.
    pub fn operators(kind: BlockKind) -> (&'static [&'static str], &'static [&'static str]) {
        match kind {
            BlockKind::Model => (model_ops::OPERATORS, model_ops::STRUCTURAL),
            BlockKind::Optimizer => (optimizer_ops::OPERATORS, optimizer_ops::STRUCTURAL),
            BlockKind::Reward => (reward_ops::OPERATORS, reward_ops::STRUCTURAL),
        }
    }

    /// Applies operator `op`; `None` where it does not apply to this block.
    pub fn apply(
        &self,
        op: &str,
        strength: f64,
        schema: Option<&Schema>,
        features: &[SideFeature],
        rng: &mut ChaCha8Rng,
    ) -> Option<(State, String)> {
        match self {
            State::Model(g) => model_ops::apply(op, g, strength, features, rng).map(|(g, w)| (State::Model(g), w)),
            State::Optimizer(o) => optimizer_ops::apply(op, o, strength, rng).map(|(o, w)| (State::Optimizer(o), w)),
            State::Reward(r) => reward_ops::apply(op, r, schema, strength, rng).map(|(r, w)| (State::Reward(r), w)),
        }
    }

    /// The block's source under `name`.
    pub fn emit(&self, name: &str) -> String {
        match self {
            State::Model(g) => g.emit(name),
            State::Optimizer(o) => o.emit(name),
            State::Reward(r) => r.emit(name),
        }
    }
}
