//! The three kinds of block a delta may edit, one per persona.

use serde::{Deserialize, Serialize};

/// A kind of editable block: what a persona's `edits:` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Model,
    Optimizer,
    Reward,
}

impl BlockKind {
    /// Every kind, in a fixed order.
    pub const ALL: [BlockKind; 3] = [BlockKind::Model, BlockKind::Optimizer, BlockKind::Reward];

    /// The keyword that starts such a block in `.evo`.
    pub fn keyword(self) -> &'static str {
        match self {
            BlockKind::Model => "model",
            BlockKind::Optimizer => "optimizer",
            BlockKind::Reward => "reward",
        }
    }

    /// The keyword with its article: `a model`, `an optimizer`, `a reward`.
    pub fn a(self) -> &'static str {
        match self {
            BlockKind::Model => "a model",
            BlockKind::Optimizer => "an optimizer",
            BlockKind::Reward => "a reward",
        }
    }

    /// The kind named by a keyword (`model`, `optimizer`, `reward`).
    pub fn from_keyword(word: &str) -> Option<BlockKind> {
        BlockKind::ALL.into_iter().find(|k| k.keyword() == word)
    }

    /// The kind a top-level item declares, if it is an editable block.
    pub fn of_item(item: &dsl::ast::Item) -> Option<BlockKind> {
        match item {
            dsl::ast::Item::Model(_) => Some(BlockKind::Model),
            dsl::ast::Item::Optimizer(_) => Some(BlockKind::Optimizer),
            dsl::ast::Item::Reward(_) => Some(BlockKind::Reward),
            _ => None,
        }
    }
}

impl std::fmt::Display for BlockKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.keyword())
    }
}
