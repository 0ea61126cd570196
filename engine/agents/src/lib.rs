//! The provider-independent agent core: proposals and the deltas they carry, **Verify** (a delta
//! spliced into the baseline and run through the whole compiler), persona scope, duplicate keys,
//! prompts, parsing of LLM replies, and the built-in search agent. No I/O: files are read through
//! [`dsl::Loader`], models are trained elsewhere and their results come back as [`Outcome`]s.

pub mod apply;
pub mod baseline;
pub mod block;
pub mod delta;
pub mod key;
pub mod parse_output;
pub mod prompt;
pub mod proposal;
pub mod proposer;
pub mod reference;
pub mod schema;
pub mod scope;
pub mod search;
mod splice;
pub mod verify;

pub use apply::{apply, apply_as};
pub use baseline::{Baseline, Candidate};
pub use block::BlockKind;
pub use delta::{Delta, Edit};
pub use key::{is_duplicate, DeltaKey};
pub use parse_output::parse_proposals;
pub use prompt::{render_prompt, PromptContext, PromptError, PromptOptions, SortOrder, SqlResult};
pub use proposal::{Proposal, ProposalKind};
pub use proposer::{HistoryEntry, Outcome, ProposalRequest, Proposer, Quota};
pub use search::SearchAgent;
pub use verify::{VerifyError, VerifyKind};
