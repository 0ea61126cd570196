//! The analyzer: parsed modules → checked [`Program`]. It loads imports, resolves names, checks
//! types, infers model shapes, types rewards, finds data-flow cycles, and reports every error it
//! can in one pass.

mod args;
mod calls;
pub mod index;
mod literals;
mod model;
mod modules;
mod overrides;
mod paths;
mod persona;
mod reward;
mod value;

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::ast::{Ident, Item};
use crate::builtins::Signature;
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::program::{Program, Schema};
use crate::span::{SourceMap, Span};
use crate::types::{Type, Value};

use index::Index;
use modules::ModuleSet;
pub use modules::{Loader, NoFiles};

/// What `check` produced: the sources (to render diagnostics) and the program, or the errors.
pub struct Checked {
    pub sources: SourceMap,
    pub result: Result<Program, Vec<Diagnostic>>,
    /// Names and what they resolved to, for editors; filled even when there are errors.
    pub index: Index,
}

/// Checks the program whose main file is `main_path` with text `main_text`. Imports are read
/// through `loader`; `overrides` are `--set NAME=VALUE` pairs for the main file's params.
pub fn check(main_path: &str, main_text: &str, loader: &dyn Loader, overrides: &[(String, String)]) -> Checked {
    let mut sources = SourceMap::default();
    let mut diags = Vec::new();
    let modules = ModuleSet::load(main_path, main_text, loader, &mut sources, &mut diags);
    let name = std::path::Path::new(main_path)
        .file_stem()
        .map_or_else(|| "workflow".to_string(), |s| s.to_string_lossy().into_owned());
    let mut checker = Checker::new(name, modules, loader, &sources, diags);
    checker.apply_overrides(overrides);
    checker.run();
    let index = checker.take_index();
    let Checker { program, mut diags, .. } = checker;
    diags.sort_by_key(|d| (d.span.file, d.span.start, d.span.end));
    diags.dedup_by(|a, b| a.span == b.span && a.kind == b.kind);
    let result = if diags.is_empty() { Ok(program) } else { Err(diags) };
    Checked { sources, result, index }
}

/// What a name in scope refers to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Symbol {
    /// An item of a loaded module.
    Item { module: usize, index: usize },
    /// A built-in step or constructor.
    Builtin(&'static Signature),
}

/// A resolved item: its type and value, and the columns of a dataset when known.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub ty: Type,
    pub value: Value,
    pub schema: Option<Schema>,
}

impl Resolved {
    fn error() -> Self {
        Resolved { ty: Type::Error, value: Value::Invalid, schema: None }
    }
}

pub(crate) struct Checker<'a> {
    pub modules: ModuleSet,
    pub loader: &'a dyn Loader,
    pub sources: &'a SourceMap,
    pub diags: Vec<Diagnostic>,
    pub program: Program,
    resolved: HashMap<(usize, usize), Resolved>,
    /// Items being resolved, innermost last, with the span of the reference that led in.
    in_progress: Vec<((usize, usize), String)>,
    overrides: HashMap<String, String>,
    /// Which dataset each dataset-producing node is, by node id.
    dataset_nodes: HashMap<String, String>,
    /// Above zero while checking a composite step's body without a call site: no nodes are made.
    pub dry: usize,
    /// Every resolved name, for editors.
    references: Vec<index::Reference>,
}

impl<'a> Checker<'a> {
    fn new(
        name: String,
        modules: ModuleSet,
        loader: &'a dyn Loader,
        sources: &'a SourceMap,
        diags: Vec<Diagnostic>,
    ) -> Self {
        Checker {
            modules,
            loader,
            sources,
            diags,
            program: Program {
                name,
                params: IndexMap::new(),
                datasets: IndexMap::new(),
                models: IndexMap::new(),
                rewards: IndexMap::new(),
                optimizers: IndexMap::new(),
                personas: IndexMap::new(),
                nodes: IndexMap::new(),
                outputs: IndexMap::new(),
            },
            resolved: HashMap::new(),
            in_progress: Vec::new(),
            overrides: HashMap::new(),
            dataset_nodes: HashMap::new(),
            dry: 0,
            references: Vec::new(),
        }
    }

    /// The index of names: the references recorded while checking and every resolved item.
    fn take_index(&mut self) -> Index {
        let mut items = Vec::new();
        for (&(module, index), resolved) in &self.resolved {
            let item = &self.modules.get(module).items()[index];
            let Some(name) = item.name() else { continue };
            items.push(index::ItemInfo {
                name: name.name.clone(),
                kind: item.keyword(),
                ty: resolved.ty.to_string(),
                span: name.span,
                item_span: item.span(),
            });
        }
        items.sort_by_key(|i| (i.span.file, i.span.start));
        Index { references: std::mem::take(&mut self.references), items }
    }

    pub fn error(&mut self, diag: Diagnostic) {
        self.diags.push(diag);
    }

    /// Resolves every item of every user module (stdlib items resolve when used).
    fn run(&mut self) {
        for module in 0..self.modules.len() {
            if self.modules.get(module).is_std {
                continue;
            }
            let count = self.modules.get(module).items().len();
            for index in 0..count {
                if matches!(self.modules.get(module).items()[index], Item::Use(_)) {
                    continue;
                }
                let span = self.modules.get(module).items()[index].span();
                self.resolve_item(module, index, span);
            }
        }
        self.check_unused_overrides();
        self.attach_blocks();
    }

    /// The qualified name of item `name` of `module`: bare in the main file.
    pub fn qualify(&self, module: usize, name: &str) -> String {
        let m = self.modules.get(module);
        if module == 0 {
            name.to_string()
        } else {
            format!("{}::{name}", m.name)
        }
    }

    /// Resolves an item, once; `at` is the reference that asked for it (for cycle reports).
    pub fn resolve_item(&mut self, module: usize, index: usize, at: Span) -> Resolved {
        let key = (module, index);
        if let Some(r) = self.resolved.get(&key) {
            return r.clone();
        }
        let item = self.modules.get(module).items()[index].clone();
        let name = item.name().map_or_else(String::new, |n| n.name.clone());
        if let Some(pos) = self.in_progress.iter().position(|(k, _)| *k == key) {
            let mut chain: Vec<String> = self.in_progress[pos..].iter().map(|(_, n)| n.clone()).collect();
            chain.push(name.clone());
            let def = item.name().map(|n| n.span).unwrap_or(at);
            self.error(
                Diagnostic::new(ErrorKind::DataflowCycle { cycle: chain.join(" → ") }, at)
                    .label(def, format!("`{name}` is defined here"))
                    .help("a step cannot depend on its own output; break the cycle"),
            );
            return Resolved::error();
        }
        self.in_progress.push((key, name));
        let resolved = self.check_item(module, &item);
        self.in_progress.pop();
        self.resolved.insert(key, resolved.clone());
        resolved
    }

    /// Looks up a path written in `module`: one segment in scope, or a qualified `std::m::name`.
    pub fn lookup(&mut self, module: usize, path: &[Ident], what: &'static str) -> Option<Symbol> {
        let found = self.modules.lookup(module, path);
        if let (Some(symbol), Some(first), Some(last)) = (found, path.first(), path.last()) {
            let target = match symbol {
                Symbol::Item { module, index } => {
                    self.modules.get(module).items()[index].name().map(|n| index::Target::Item(n.span))
                }
                Symbol::Builtin(sig) => Some(index::Target::Builtin(sig)),
            };
            if let Some(target) = target {
                self.references.push(index::Reference { span: first.span.to(last.span), target });
            }
        }
        if found.is_none() {
            let last = path.last().unwrap();
            let full = crate::ast::path_string(path);
            let help = if path.len() == 1 {
                let names = self.modules.names_in_scope(module);
                crate::suggest::did_you_mean(&last.name, names.iter().map(String::as_str))
                    .or_else(|| self.modules.suggest_import(&last.name))
            } else {
                let module_path = crate::ast::path_string(&path[..path.len() - 1]);
                match self.modules.names_in_module(&module_path) {
                    Some(names) => crate::suggest::did_you_mean(&last.name, names.iter().map(String::as_str)),
                    None => {
                        let span = path[0].span.to(path[path.len() - 2].span);
                        self.error(Diagnostic::new(ErrorKind::UnknownModule { path: module_path }, span));
                        return None;
                    }
                }
            };
            let span = path[0].span.to(last.span);
            self.error(Diagnostic::new(ErrorKind::UnknownName { name: full, what }, span).maybe_help(help));
        }
        found
    }

    fn check_item(&mut self, module: usize, item: &Item) -> Resolved {
        match item {
            Item::Use(_) => Resolved::error(),
            Item::Param(p) => self.check_param(module, p),
            Item::Dataset(d) => self.check_dataset(module, d),
            Item::Let(l) => self.check_let(module, l),
            Item::Output(o) => self.check_output(module, o),
            Item::Model(m) => self.check_model(module, m),
            Item::Reward(r) => self.check_reward(module, r),
            Item::Optimizer(o) => self.check_optimizer(module, o),
            Item::Persona(p) => self.check_persona(module, p),
            Item::Step(s) => self.check_step_decl(module, s),
        }
    }

    /// The canonical text of an item, for cache keys and agents.
    pub fn canonical(&self, item: &Item) -> String {
        crate::fmt::item_canonical(item, self.sources)
    }

    /// Records, on every node, the canonical source of the blocks its arguments name.
    fn attach_blocks(&mut self) {
        let program = &mut self.program;
        for node in program.nodes.values_mut() {
            let mut blocks = IndexMap::new();
            for value in node.args.values() {
                collect_blocks(
                    value,
                    &program.models,
                    &program.rewards,
                    &program.optimizers,
                    &program.personas,
                    &mut blocks,
                );
            }
            node.blocks = blocks;
        }
    }
}

fn collect_blocks(
    value: &Value,
    models: &IndexMap<String, crate::shape::ModelDef>,
    rewards: &IndexMap<String, crate::reward::RewardDef>,
    optimizers: &IndexMap<String, crate::program::OptimizerDef>,
    personas: &IndexMap<String, crate::program::PersonaDef>,
    out: &mut IndexMap<String, String>,
) {
    match value {
        Value::Model(n) => {
            if let Some(m) = models.get(n) {
                out.insert(n.clone(), m.source.clone());
            }
        }
        Value::Reward(n) => {
            if let Some(r) = rewards.get(n) {
                out.insert(n.clone(), r.source().to_string());
            }
        }
        Value::Optimizer(n) => {
            if let Some(o) = optimizers.get(n) {
                out.insert(n.clone(), o.source.clone());
            }
        }
        Value::Persona(n) => {
            if let Some(p) = personas.get(n) {
                out.insert(n.clone(), p.source.clone());
            }
        }
        Value::List(items) => items.iter().for_each(|v| collect_blocks(v, models, rewards, optimizers, personas, out)),
        Value::Record(fields) => {
            fields.values().for_each(|v| collect_blocks(v, models, rewards, optimizers, personas, out))
        }
        Value::Object { args, .. } => {
            args.values().for_each(|v| collect_blocks(v, models, rewards, optimizers, personas, out))
        }
        _ => {}
    }
}
