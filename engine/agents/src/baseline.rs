//! The baseline a delta edits: its source, its checked program, and which of its blocks are the
//! model, optimizer and reward being evolved.

use std::sync::Arc;

use dsl::ast::{Item, UseTarget};
use dsl::program::Schema;
use dsl::types::Value;
use dsl::{Loader, Program};

use crate::block::BlockKind;
use crate::key::DeltaKey;
use crate::scope::Persona;
use crate::verify::{compile, VerifyError};

/// A checked baseline workflow, ready to take deltas.
#[derive(Clone)]
pub struct Baseline {
    /// The main file's path, as the loader resolves imports against it.
    pub path: String,
    pub source: String,
    pub program: Program,
    /// `--set` overrides the program was checked with; candidates are checked with them too.
    pub overrides: Vec<(String, String)>,
    /// Names (as written in the main file) of the blocks being evolved, by kind.
    pub model: Option<String>,
    pub optimizer: Option<String>,
    pub reward: Option<String>,
    pub(crate) loader: Arc<dyn Loader + Send + Sync>,
}

/// A verified candidate: the edited source, its checked program, and its duplicate key.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub source: String,
    pub program: Program,
    pub key: DeltaKey,
    /// The blocks the delta changed: kind (none for a step call) and name.
    pub edited: Vec<(Option<BlockKind>, String)>,
}

/// Where a name of the main file comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Declared in the main file, as item `index`.
    Local { index: usize },
    /// Imported; `qualified` is its name in the program (`std::models::gated`).
    Imported { qualified: String },
}

impl Baseline {
    /// Compiles `source` (the file `path`) and takes the evolved blocks from its first
    /// `offline(baseline: { model, optimizer, reward })` call, if it has one.
    pub fn new(
        path: impl Into<String>,
        source: impl Into<String>,
        loader: Arc<dyn Loader + Send + Sync>,
        overrides: Vec<(String, String)>,
    ) -> Result<Baseline, VerifyError> {
        let path = path.into();
        let source = source.into();
        let (program, _) = compile(&path, &source, loader.as_ref(), &overrides)?;
        let mut baseline =
            Baseline { path, source, program, overrides, model: None, optimizer: None, reward: None, loader };
        let record = baseline.program.nodes.values().find_map(|n| match n.args.get("baseline") {
            Some(Value::Record(fields)) if n.step == "std::loops::offline" => Some(fields.clone()),
            _ => None,
        });
        if let Some(fields) = record {
            for (field, value) in fields {
                let qualified = match &value {
                    Value::Model(q) | Value::Optimizer(q) | Value::Reward(q) => q.clone(),
                    _ => continue,
                };
                let local = baseline.local_name(&qualified);
                match field.as_str() {
                    "model" => baseline.model = local,
                    "optimizer" => baseline.optimizer = local,
                    "reward" => baseline.reward = local,
                    _ => {}
                }
            }
        }
        Ok(baseline)
    }

    /// Names the blocks to evolve explicitly (for a workflow without an `offline` call).
    pub fn with_blocks(mut self, model: Option<&str>, optimizer: Option<&str>, reward: Option<&str>) -> Baseline {
        self.model = model.map(str::to_string);
        self.optimizer = optimizer.map(str::to_string);
        self.reward = reward.map(str::to_string);
        self
    }

    /// The name of the evolved block of `kind`.
    pub fn block(&self, kind: BlockKind) -> Option<&str> {
        match kind {
            BlockKind::Model => self.model.as_deref(),
            BlockKind::Optimizer => self.optimizer.as_deref(),
            BlockKind::Reward => self.reward.as_deref(),
        }
    }

    /// The loader imports are read through.
    pub fn loader(&self) -> &dyn Loader {
        self.loader.as_ref()
    }

    /// The persona called `name` (`optimizer` finds `std::personas::optimizer` too).
    pub fn persona(&self, name: &str) -> Option<Persona> {
        let (qualified, def) = self
            .program
            .personas
            .iter()
            .find(|(q, _)| *q == name)
            .or_else(|| self.program.personas.iter().find(|(q, _)| q.rsplit("::").next() == Some(name)))?;
        Persona::from_def(qualified, def)
    }

    /// The main file's syntax tree (it compiled, so it parses).
    pub(crate) fn ast(&self) -> dsl::ast::Module {
        dsl::parse::parse(dsl::FileId(0), &self.source).expect("a checked baseline parses")
    }

    /// Where `name` of the main file comes from, if it is declared or imported there.
    pub(crate) fn origin(&self, name: &str) -> Option<Origin> {
        let ast = self.ast();
        if let Some(index) = ast.items.iter().position(|i| i.name().is_some_and(|n| n.name == name)) {
            return Some(Origin::Local { index });
        }
        imports(&ast).into_iter().find(|(local, _)| local == name).map(|(_, qualified)| Origin::Imported { qualified })
    }

    /// The program's name for the main file's `name`.
    pub(crate) fn qualified(&self, name: &str) -> Option<String> {
        match self.origin(name)? {
            Origin::Local { .. } => Some(name.to_string()),
            Origin::Imported { qualified } => Some(qualified),
        }
    }

    /// The kind of the main file's block `name`; `None` inside for a name that is not an
    /// editable block (a step call), outer `None` for an unknown name.
    pub fn kind_of(&self, name: &str) -> Option<Option<BlockKind>> {
        match self.origin(name)? {
            Origin::Local { index } => Some(BlockKind::of_item(&self.ast().items[index])),
            Origin::Imported { qualified } => Some(kind_in_program(&self.program, &qualified)),
        }
    }

    /// The canonical source of the evolved block of `kind`.
    pub fn block_source(&self, kind: BlockKind) -> Option<String> {
        let q = self.qualified(self.block(kind)?)?;
        block_source(&self.program, kind, &q)
    }

    /// The schema of the dataset the evolved reward reads, if the reward names one.
    pub fn reward_schema(&self) -> Option<Schema> {
        let q = self.qualified(self.reward.as_deref()?)?;
        match self.program.rewards.get(&q)? {
            dsl::reward::RewardDef::Function { dataset: Some(d), .. } => self.program.datasets.get(d)?.schema.clone(),
            _ => None,
        }
    }

    /// The names the main file declares that a delta may edit, sorted.
    pub fn editable_names(&self) -> Vec<String> {
        let ast = self.ast();
        let mut names: Vec<String> = ast
            .items
            .iter()
            .filter(|i| matches!(i, Item::Model(_) | Item::Optimizer(_) | Item::Reward(_) | Item::Let(_)))
            .filter_map(|i| i.name().map(|n| n.name.clone()))
            .chain(
                imports(&ast).into_iter().filter(|(_, q)| kind_in_program(&self.program, q).is_some()).map(|(l, _)| l),
            )
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

impl std::fmt::Debug for Baseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Baseline")
            .field("path", &self.path)
            .field("model", &self.model)
            .field("optimizer", &self.optimizer)
            .field("reward", &self.reward)
            .finish_non_exhaustive()
    }
}

/// The kind of the program's block `qualified`, if it is a model, optimizer or reward.
pub(crate) fn kind_in_program(program: &Program, qualified: &str) -> Option<BlockKind> {
    if program.models.contains_key(qualified) {
        Some(BlockKind::Model)
    } else if program.optimizers.contains_key(qualified) {
        Some(BlockKind::Optimizer)
    } else if program.rewards.contains_key(qualified) {
        Some(BlockKind::Reward)
    } else {
        None
    }
}

/// The canonical source of the program's block `qualified` of `kind`.
pub(crate) fn block_source(program: &Program, kind: BlockKind, qualified: &str) -> Option<String> {
    match kind {
        BlockKind::Model => program.models.get(qualified).map(|m| m.source.clone()),
        BlockKind::Optimizer => program.optimizers.get(qualified).map(|o| o.source.clone()),
        BlockKind::Reward => program.rewards.get(qualified).map(|r| r.source().to_string()),
    }
}

/// `(local name, qualified name)` of every single item the main file imports by name.
pub(crate) fn imports(ast: &dsl::ast::Module) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for item in &ast.items {
        let Item::Use(u) = item else { continue };
        let UseTarget::Path(path) = &u.target else { continue };
        let module = dsl::ast::path_string(path);
        match &u.names {
            Some(names) => {
                for n in names {
                    let local = n.alias.as_ref().unwrap_or(&n.name).name.clone();
                    out.push((local, format!("{module}::{}", n.name.name)));
                }
            }
            None if path.len() >= 3 => {
                let local = u.alias.as_ref().unwrap_or(path.last().expect("a path has segments")).name.clone();
                out.push((local, module));
            }
            None => {}
        }
    }
    out
}

impl Baseline {
    /// The main file's name for the program's `qualified` block.
    fn local_name(&self, qualified: &str) -> Option<String> {
        if !qualified.contains("::") {
            return Some(qualified.to_string());
        }
        imports(&self.ast()).into_iter().find(|(_, q)| q == qualified).map(|(l, _)| l)
    }
}
