//! Built-in steps: Rust types behind one trait. Each has a typed signature (in `dsl::builtins`,
//! which the checker uses), a version that enters the cache key, and an async `run`.

mod data;
mod debug;
mod ease;
mod error;
mod filter_rows;
pub(crate) mod reward;
pub mod run_info;
pub(crate) mod sim;
pub mod tools;
mod train;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dsl::types::Value;
use indexmap::IndexMap;

pub use error::{ErrorClass, StepError, StepErrorKind};

use crate::exec::events::Progress;
use crate::exec::node::{child_node, Core, Outcome};

/// A step implementation.
#[async_trait::async_trait]
pub trait Step: Send + Sync {
    /// Qualified name, as in the plan: `std::data::random_split`.
    fn name(&self) -> &'static str;

    /// Bumped whenever the step's output for the same inputs changes; part of the cache key.
    fn version(&self) -> u32;

    /// Arguments naming files the step reads: their contents enter the cache key.
    fn file_args(&self) -> &'static [&'static str] {
        &[]
    }

    /// What of `args` decides the output, for a step whose arguments say more than its result
    /// depends on (a loop's candidate carries the whole workflow to compile, but its result
    /// depends only on the blocks it trains); `None`: every argument, as given.
    fn key_args(&self, _args: &IndexMap<String, Value>) -> Result<Option<KeyArgs>, String> {
        Ok(None)
    }

    /// Resource units the step holds while it runs, unless the workflow says otherwise.
    fn resources(&self) -> &'static [(&'static str, f64)] {
        &[("cpu", 1.0)]
    }

    /// The units for one call with these arguments (e.g. `gpu` when `device` is CUDA); by
    /// default [`Step::resources`].
    fn resources_for(&self, _args: &IndexMap<String, Value>) -> Vec<(String, f64)> {
        self.resources().iter().map(|(u, a)| (u.to_string(), *a)).collect()
    }

    /// Whether a worker on another machine may run it (`executor: "slurm"`): not a step that
    /// reads the journal or adds nodes to the graph, which only the driver holds.
    fn remote(&self) -> bool {
        true
    }

    /// State outside the workflow that decides the output (the production baseline a loop
    /// starts from, the model its agents ask); it enters the cache key.
    fn state_key(&self, _env: &KeyEnv) -> Result<Option<String>, String> {
        Ok(None)
    }

    /// Runs once. Output files go to `ctx.out_dir()`; the returned value describes them.
    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError>;
}

/// What outside the workflow a cache key may read: the run dir, and the LLM the run's agents ask.
#[derive(Clone, Copy)]
pub struct KeyEnv<'a> {
    /// The run's directory.
    pub run_dir: &'a Path,
    /// The `[llm]` settings, when agents ask a model.
    pub llm: Option<&'a llm::Config>,
}

/// The part of a step's arguments its cache key holds ([`Step::key_args`]).
pub struct KeyArgs {
    /// Arguments (or what they resolve to) by name.
    pub args: IndexMap<String, serde_json::Value>,
    /// Files read besides the `file_args`: their contents enter the key.
    pub files: Vec<String>,
}

/// Everything a running step may look at.
pub struct StepContext {
    /// The checked program: the model, reward, optimizer and persona blocks arguments name.
    pub program: Arc<dsl::Program>,
    pub args: IndexMap<String, Value>,
    /// Outputs of the nodes this one reads, by node id.
    pub inputs: HashMap<String, Artifact>,
    /// Where this attempt's output files go; see [`StepContext::out_dir`].
    pub(crate) out_dir: Arc<crate::store::WorkDir>,
    /// Which attempt this is, from 1.
    pub attempt: u32,
    pub progress: Progress,
    /// Adds nodes to the running graph.
    pub spawner: Spawner,
    /// The run around the step: workflow, run dir, journal.
    pub run: Arc<run_info::RunInfo>,
    /// Set once this attempt is abandoned (its timeout passed, the run was stopped): work on
    /// other threads (training) watches it and stops.
    pub cancel: Arc<std::sync::atomic::AtomicBool>,
}

impl StepContext {
    /// An empty folder for this attempt's output files, made on first use.
    pub fn out_dir(&self) -> Result<&Path, StepError> {
        self.out_dir.make().map_err(|e| {
            StepError::permanent(
                StepErrorKind::Io,
                format!("cannot create the output folder {}: {e}", self.out_dir.path().display()),
            )
        })
    }

    /// The argument `name` (the checker guarantees every declared argument is present).
    pub fn arg(&self, name: &str) -> Result<&Value, StepError> {
        self.args.get(name).ok_or_else(|| StepError::input(format!("missing argument `{name}`")))
    }

    /// An integer argument.
    pub fn int(&self, name: &str) -> Result<i64, StepError> {
        match self.arg(name)? {
            Value::Int(v) => Ok(*v),
            other => Err(StepError::input(format!("`{name}` should be an int, is {other}"))),
        }
    }

    /// A float argument (ints widen).
    pub fn float(&self, name: &str) -> Result<f64, StepError> {
        match self.arg(name)? {
            Value::Float(v) => Ok(*v),
            Value::Int(v) => Ok(*v as f64),
            other => Err(StepError::input(format!("`{name}` should be a float, is {other}"))),
        }
    }

    /// A string argument.
    pub fn str(&self, name: &str) -> Result<&str, StepError> {
        match self.arg(name)? {
            Value::Str(v) => Ok(v),
            other => Err(StepError::input(format!("`{name}` should be a string, is {other}"))),
        }
    }

    /// A duration argument, in milliseconds.
    pub fn duration_ms(&self, name: &str) -> Result<u64, StepError> {
        match self.arg(name)? {
            Value::Duration(v) => Ok(*v),
            other => Err(StepError::input(format!("`{name}` should be a duration, is {other}"))),
        }
    }

    /// The upstream output an argument refers to.
    pub fn input(&self, name: &str) -> Result<&Artifact, StepError> {
        match self.arg(name)? {
            Value::Node(id) => self.inputs.get(id).ok_or_else(|| {
                StepError::permanent(StepErrorKind::Internal, format!("the output of `{id}` is not available"))
            }),
            other => Err(StepError::permanent(
                StepErrorKind::Input,
                format!("`{name}` should be a step's output, is {other}"),
            )),
        }
    }
}

/// Lets a running step add nodes to the graph: each runs like any node (cache key, journal,
/// retries, events) as `parent/name`, sharing the parent's resource units.
#[derive(Clone)]
pub struct Spawner {
    /// `None` in a worker: nodes are added by the driver only.
    core: Option<Arc<Core>>,
    parent: String,
    /// Where the nodes it adds run (the parent's `executor:` option).
    executor: Option<String>,
}

impl Spawner {
    /// A spawner for children of `parent`.
    pub(crate) fn new(core: Arc<Core>, parent: String, executor: Option<String>) -> Self {
        Spawner { core: Some(core), parent, executor }
    }

    /// A spawner for a step a worker runs: it cannot add nodes.
    pub(crate) fn detached(parent: String) -> Self {
        Spawner { core: None, parent, executor: None }
    }

    /// How many of the nodes it would add as `step` with `args` may usefully run at once:
    /// the cluster's jobs in flight when they go there, otherwise one (they share the
    /// parent's resource units).
    pub fn parallelism(&self, step: &str, args: &IndexMap<String, Value>) -> usize {
        let Some(core) = &self.core else { return 1 };
        let Some(imp) = core.registry.get(step) else { return 1 };
        let node = child_node(&self.parent, "probe", step, args.clone(), self.executor.clone());
        let units = imp.resources_for(args).into_iter().collect();
        core.slurm_for(&node, imp.as_ref(), &units).map_or(1, |slurm| slurm.max_jobs())
    }

    /// Runs `step` as the node `parent/name`; `inputs` are the outputs its `Value::Node` args name.
    pub async fn run(
        &self,
        name: &str,
        step: &str,
        args: IndexMap<String, Value>,
        inputs: HashMap<String, Artifact>,
    ) -> Result<Artifact, StepError> {
        let Some(core) = &self.core else {
            return Err(StepError::permanent(
                StepErrorKind::Internal,
                format!("`{}` adds nodes to the graph: it runs in the driver, not in a worker", self.parent),
            ));
        };
        let node = child_node(&self.parent, name, step, args, self.executor.clone());
        match core.execute(node, inputs, false).await {
            Outcome::Done { artifact, .. } => Ok(artifact),
            Outcome::Failed { error } => Err(error),
        }
    }
}

/// A finished step's output: a folder in the object store, and what the step said about it.
#[derive(Clone, Debug)]
pub struct Artifact {
    pub hash: String,
    pub dir: PathBuf,
    pub meta: serde_json::Value,
}

impl Artifact {
    /// A file of this output.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Every step this build can run, by qualified name.
#[derive(Clone)]
pub struct Registry {
    steps: HashMap<&'static str, Arc<dyn Step>>,
}

impl Registry {
    /// The built-in steps.
    pub fn builtin() -> Self {
        let mut registry = Registry { steps: HashMap::new() };
        for step in data::steps()
            .into_iter()
            .chain(debug::steps())
            .chain(reward::steps())
            .chain(sim::steps())
            .chain(train::steps())
            .chain(ease::steps())
            .chain(filter_rows::steps())
            .chain(tools::steps())
            .chain(crate::loops::steps())
        {
            registry.steps.insert(step.name(), step);
        }
        registry
    }

    /// The implementation of `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Step>> {
        self.steps.get(name).cloned()
    }
}
