//! The checked program: every name resolved, every type known, every model shape inferred.
//! Built only by `check`; nothing downstream of it sees source names that could fail to resolve.

use indexmap::IndexMap;
use serde::Serialize;

use crate::reward::RewardDef;
use crate::shape::ModelDef;
use crate::span::Span;
use crate::types::Value;

/// A checked `.evo` program with all its imports.
#[derive(Clone, Debug, Serialize)]
pub struct Program {
    /// The workflow's name: the main file's stem.
    pub name: String,
    pub params: IndexMap<String, ParamDef>,
    pub datasets: IndexMap<String, DatasetDef>,
    pub models: IndexMap<String, ModelDef>,
    pub rewards: IndexMap<String, RewardDef>,
    pub optimizers: IndexMap<String, OptimizerDef>,
    pub personas: IndexMap<String, PersonaDef>,
    /// Step instances in the order they were found; their arguments reference each other by id.
    pub nodes: IndexMap<String, Node>,
    /// `output` declarations.
    pub outputs: IndexMap<String, Value>,
}

/// A `param` with its final value (default, or the `--set` override).
#[derive(Clone, Debug, Serialize)]
pub struct ParamDef {
    pub ty: String,
    pub value: Value,
    pub overridden: bool,
    #[serde(skip)]
    pub span: Span,
}

/// A dataset and the columns known for it.
#[derive(Clone, Debug, Serialize)]
pub struct DatasetDef {
    /// The plan node that produces it.
    pub node: String,
    pub schema: Option<Schema>,
}

/// Named, typed columns; `source` is the column's name in the file when it differs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Schema {
    pub columns: Vec<ColumnDef>,
}

/// One column of a schema.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnDef {
    pub name: String,
    /// One of `builtins::COLUMN_TYPES`.
    pub ty: String,
    pub source: Option<String>,
}

impl Schema {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column a `with_features` step attaches to a split: a side feature a model input may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SideFeature {
    pub name: String,
    /// One of `builtins::COLUMN_TYPES`.
    pub ty: String,
    /// Whose attribute it is: `item` or `user`, the table's key.
    pub owner: &'static str,
}

impl Program {
    /// The side features the program's `with_features` steps attach (from tables whose columns
    /// are declared), each name once, in order.
    pub fn side_features(&self) -> Vec<SideFeature> {
        let mut out: Vec<SideFeature> = Vec::new();
        for node in self.nodes.values().filter(|n| n.step == crate::builtins::WITH_FEATURES) {
            for (arg, key) in crate::builtins::FEATURE_TABLES {
                let Some(Value::Node(table)) = node.args.get(arg) else { continue };
                let Some(schema) = self.datasets.values().find(|d| &d.node == table).and_then(|d| d.schema.as_ref())
                else {
                    continue;
                };
                for c in schema.columns.iter().filter(|c| c.name != key) {
                    if !out.iter().any(|f| f.name == c.name) {
                        out.push(SideFeature { name: c.name.clone(), ty: c.ty.clone(), owner: key });
                    }
                }
            }
        }
        out
    }
}

/// A named optimizer block.
#[derive(Clone, Debug, Serialize)]
pub struct OptimizerDef {
    /// Always a `Value::Object` built by an optimizer constructor.
    pub value: Value,
    /// The block as it reads in canonical form, for agents and cache keys.
    pub source: String,
}

/// A checked persona.
#[derive(Clone, Debug, Serialize)]
pub struct PersonaDef {
    /// Which kind of block it may edit: `model`, `optimizer` or `reward`.
    pub edits: String,
    pub tools: Vec<String>,
    /// The prompt template's text (minijinja), already known to parse.
    pub prompt: String,
    /// Other settings (`llm`, `history`, `sort`, `enabled`, `rank_by`, `description`).
    pub settings: IndexMap<String, Value>,
    pub source: String,
}

/// Retry, timeout and failure policy of one step, from `with { ... }`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StepOptions {
    pub retries: u32,
    /// Milliseconds; 0 is no limit.
    pub timeout_ms: u64,
    /// `terminate`, `finish` or `ignore`.
    pub on_error: String,
    /// Resource units the step holds while it runs (`cpu`, `gpu`, `llm`).
    pub resources: IndexMap<String, f64>,
    /// Where it runs, when the workflow says (`local` or `slurm`); otherwise the run's
    /// configuration decides. Not part of the cache key: a step means the same everywhere.
    pub executor: Option<String>,
}

/// One step instance of the plan.
#[derive(Clone, Debug, Serialize)]
pub struct Node {
    pub id: String,
    /// The step's qualified name, e.g. `std::loops::offline`.
    pub step: String,
    pub args: IndexMap<String, Value>,
    pub options: StepOptions,
    /// Canonical source of every block (model, reward, optimizer, persona) its arguments name,
    /// keyed by qualified name: what the cache key hashes and what agents read.
    pub blocks: IndexMap<String, String>,
    #[serde(skip)]
    pub span: Span,
}

impl Node {
    /// Ids of the nodes this one reads from, in argument order, without repeats.
    pub fn deps(&self) -> Vec<String> {
        let mut refs = Vec::new();
        for v in self.args.values() {
            v.node_refs(&mut refs);
        }
        let mut out: Vec<String> = Vec::new();
        for r in refs {
            if !out.iter().any(|o| o == r) {
                out.push(r.to_string());
            }
        }
        out
    }
}
