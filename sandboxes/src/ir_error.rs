//! Why a reward tree was rejected.

use dsl::reward::RType as Type;

/// An ill-formed or ill-typed reward tree (see [`crate::check`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IrError {
    /// A field read points past the reward's field list.
    #[error("reward `{reward}` reads field #{index} but declares only {count} fields")]
    FieldIndex {
        /// The reward.
        reward: String,
        /// The bad index.
        index: usize,
        /// How many fields exist.
        count: usize,
    },
    /// Two fields share a name, or a name is not an identifier.
    #[error("reward `{reward}` declares field `{name}`: {problem}")]
    FieldName {
        /// The reward.
        reward: String,
        /// The offending name.
        name: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A local is read outside any `let` binding it.
    #[error("reward `{reward}` reads local #{slot} outside its `let`")]
    UnboundLocal {
        /// The reward.
        reward: String,
        /// The local's slot.
        slot: usize,
    },
    /// A `let` binds a slot past the reward's count, or one another `let` already bound.
    #[error("reward `{reward}` binds local #{slot} twice or past its count of locals")]
    Slot {
        /// The reward.
        reward: String,
        /// The slot.
        slot: usize,
    },
    /// An operand or argument has the wrong type.
    #[error("reward `{reward}`: {context} expects {expected}, found {found}")]
    Type {
        /// The reward.
        reward: String,
        /// Where, e.g. "`%`" or "the condition of `if`".
        context: String,
        /// What would have been accepted.
        expected: &'static str,
        /// What was found.
        found: Type,
    },
    /// A builtin is called with the wrong number of arguments.
    #[error("reward `{reward}`: `{func}` takes {expected} arguments, found {found}")]
    Arity {
        /// The reward.
        reward: String,
        /// The builtin.
        func: &'static str,
        /// Its arity.
        expected: usize,
        /// Arguments given.
        found: usize,
    },
    /// The expression tree nests deeper than the sandbox accepts.
    #[error("reward `{reward}` nests deeper than {limit} levels")]
    TooDeep {
        /// The reward.
        reward: String,
        /// The limit.
        limit: usize,
    },
}
