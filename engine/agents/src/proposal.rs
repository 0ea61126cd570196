//! A proposal: what an agent (LLM or search) offers, `{kind, explanation, delta}`.

use serde::{Deserialize, Serialize};

use crate::delta::Delta;

/// Which part of the request a proposal answers (paper, section 3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalKind {
    /// Something the journal has not tried.
    #[default]
    Explore,
    /// A refinement of the best entries so far.
    Exploit,
    /// A structural idea, not a numeric tweak.
    Innovate,
}

impl ProposalKind {
    /// `explore`, `exploit` or `innovate`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalKind::Explore => "explore",
            ProposalKind::Exploit => "exploit",
            ProposalKind::Innovate => "innovate",
        }
    }
}

/// One proposal. `persona` and `operator` are filled in by whoever made it (an LLM's reply
/// leaves them out; the caller sets the persona, and the operator is `llm`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    #[serde(default)]
    pub kind: ProposalKind,
    pub explanation: String,
    pub delta: Delta,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub persona: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator: String,
}
