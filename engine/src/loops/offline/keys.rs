//! Experiment keys: how each kind of experiment is named in the journal, in one place. A trained
//! kind's key ends with the settings tag ([`super::args::settings_tag`]), so the same candidate
//! under other settings is another experiment; a proposal that never trained has no tag.

/// What an experiment is, for its key.
pub(super) enum ExperimentKey<'a> {
    /// The loop's starting program (the workflow's source, or production's).
    Baseline { source: &'a str },
    /// A variant listed in `candidates:`: the baseline's source with these blocks named.
    Given { source: &'a str, named: &'a str },
    /// An agent's proposal, by the normalised effect of its delta.
    Proposal { delta: &'a agents::DeltaKey },
    /// A proposal Verify refused, by its delta's text.
    Rejected { delta: &'a serde_json::Value },
    /// An LLM turn that produced nothing usable.
    LlmFailed { round: usize, persona: &'a str, error: &'a str },
}

fn hash(text: &str, len: usize) -> String {
    blake3::hash(text.as_bytes()).to_hex()[..len].to_string()
}

impl ExperimentKey<'_> {
    /// The key, with `tag` on the kinds that train.
    pub(super) fn with(&self, tag: &str) -> String {
        match self {
            ExperimentKey::Baseline { source } => format!("baseline-{}-{tag}", hash(source, 16)),
            ExperimentKey::Given { source, named } => {
                format!("given-{}-{tag}", hash(&format!("{source}\n{named}"), 24))
            }
            ExperimentKey::Proposal { delta } => format!("{}-{tag}", delta.0),
            ExperimentKey::Rejected { delta } => format!("rejected-{}", hash(&delta.to_string(), 24)),
            ExperimentKey::LlmFailed { round, persona, error } => {
                format!("llm-failed-{}", hash(&format!("{round} {persona} {error}"), 24))
            }
        }
    }
}

/// The delta key of a proposal's experiment key, when it was tried under `tag`: what the agents'
/// own duplicate check compares.
pub(super) fn tried_delta(key: &str, tag: &str) -> Option<agents::DeltaKey> {
    key.strip_suffix(tag).and_then(|k| k.strip_suffix('-')).map(|k| agents::DeltaKey(k.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proposal_key_carries_its_settings_and_gives_its_delta_back_under_them_only() {
        let delta = agents::DeltaKey("ab12".into());
        let key = ExperimentKey::Proposal { delta: &delta }.with("t1");
        assert_eq!(key, "ab12-t1");
        assert_eq!(tried_delta(&key, "t1"), Some(delta));
        assert_eq!(tried_delta(&key, "t2"), None);
    }

    #[test]
    fn untrained_kinds_have_no_tag_and_trained_kinds_differ_by_it() {
        let rejected = ExperimentKey::Rejected { delta: &serde_json::json!({"op": "x"}) };
        assert_eq!(rejected.with("t1"), rejected.with("t2"));
        let baseline = ExperimentKey::Baseline { source: "model m {}" };
        assert_ne!(baseline.with("t1"), baseline.with("t2"));
        assert!(baseline.with("t1").starts_with("baseline-"));
    }
}
