//! `evoflow worker REQUEST`: runs one step of a run on a cluster node, from the request the
//! driver wrote into the shared run dir (see `exec::slurm`). It computes the step's cache key
//! itself and refuses a step that would mean something else here; it writes the step's output
//! files and its result into the job's folder, and the driver commits and journals them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::exec::events::Progress;
use crate::exec::slurm::job::{JobDir, WorkRequest, WorkResult};
use crate::steps::run_info::{JournalAccess, RunInfo, ToolCall};
use crate::steps::{KeyEnv, Registry, Spawner, StepContext, StepError, StepErrorKind};
use crate::store::{Store, WorkDir};

#[derive(clap::Args)]
pub struct Args {
    /// The job's `request.json`
    #[arg(value_name = "REQUEST")]
    pub request: PathBuf,
}

pub fn run(args: Args) -> ExitCode {
    let Some(folder) = args.request.parent().filter(|p| !p.as_os_str().is_empty()) else {
        eprintln!("evoflow worker: `{}` is not a job's request.json", args.request.display());
        return ExitCode::from(2);
    };
    let job = JobDir { path: folder.to_path_buf() };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let result = match read_request(&args.request) {
        Ok(request) => runtime.block_on(work(request, &job)),
        Err(e) => WorkResult::from(e),
    };
    if let WorkResult::Failed { message, .. } = &result {
        eprintln!("evoflow worker: the step failed: {message}");
    }
    match job.write_result(&result) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("evoflow worker: cannot write the result into `{}`: {e}", job.path.display());
            ExitCode::FAILURE
        }
    }
}

fn read_request(path: &Path) -> Result<WorkRequest, StepError> {
    let bytes = std::fs::read(path)
        .map_err(|e| StepError::permanent(StepErrorKind::Io, format!("cannot read `{}`: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        StepError::permanent(
            StepErrorKind::Internal,
            format!("`{}` is not a request of this evoflow: {e}", path.display()),
        )
    })
}

/// Runs the requested step; every failure becomes the result the driver reads.
async fn work(request: WorkRequest, job: &JobDir) -> WorkResult {
    match prepare_and_run(request, job).await {
        Ok(meta) => WorkResult::Done { meta },
        Err(e) => e.into(),
    }
}

async fn prepare_and_run(request: WorkRequest, job: &JobDir) -> Result<serde_json::Value, StepError> {
    let text = std::fs::read_to_string(&request.workflow).map_err(|e| {
        StepError::permanent(
            StepErrorKind::Io,
            format!("cannot read the workflow `{}` on this node: {e}", request.workflow),
        )
    })?;
    let program = crate::loops::candidate::compile(&request.workflow, &text, &request.overrides).map_err(|shown| {
        StepError::permanent(StepErrorKind::Input, format!("the workflow does not compile on this node:\n{shown}"))
    })?;
    let registry = Registry::builtin();
    let step = registry.get(&request.step).ok_or_else(|| {
        StepError::permanent(StepErrorKind::Internal, format!("this evoflow has no step `{}`", request.step))
    })?;
    let store = Store::open(&request.run_dir).map_err(|e| {
        StepError::permanent(
            StepErrorKind::Store,
            format!("cannot use the run dir `{}`: {e}", request.run_dir.display()),
        )
    })?;
    let mut inputs = HashMap::new();
    for (node, hash) in &request.inputs {
        let artifact = store.object(hash).ok_or_else(|| {
            StepError::permanent(
                StepErrorKind::Store,
                format!(
                    "the output `{hash}` of `{node}` is not in `{}`: is the run dir on a filesystem every node sees?",
                    request.run_dir.display()
                ),
            )
        })?;
        inputs.insert(node.clone(), artifact);
    }
    let node = dsl::program::Node {
        id: request.node.clone(),
        step: request.step.clone(),
        args: request.args.clone(),
        options: Default::default(),
        blocks: request.blocks.clone(),
        span: Default::default(),
    };
    let env = KeyEnv { run_dir: &request.run_dir, llm: None };
    let key = crate::cache::key_of(&program, &registry, &dsl::stdlib::version(), &env, &node, &inputs)?;
    let (_, hash) = key.seal();
    if hash != request.key {
        return Err(StepError::permanent(
            StepErrorKind::Internal,
            format!(
                "`{}` has another cache key on this node ({hash}, the driver's is {}): the evoflow build \
                 (here {}) or the files the step reads differ between the driver and the node",
                request.node,
                request.key,
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    let ctx = StepContext {
        program: Arc::new(program),
        args: request.args,
        inputs,
        out_dir: Arc::new(WorkDir::at(job.out())),
        attempt: request.attempt,
        progress: Progress::silent(&request.node),
        spawner: Spawner::detached(request.node.clone()),
        run: Arc::new(RunInfo {
            workflow: request.workflow,
            overrides: request.overrides,
            run_dir: request.run_dir,
            run_id: request.run_id,
            journal: Arc::new(DriversJournal),
            llm: None,
            budget: llm::BudgetTracker::new(Default::default()),
        }),
        cancel: Arc::new(std::sync::atomic::AtomicBool::new(false)),
    };
    step.run(ctx).await
}

/// The journal as a worker sees it: the driver's alone (steps that need it never leave it).
struct DriversJournal;

fn drivers<T>() -> Result<T, String> {
    Err("the journal belongs to the driver: this step cannot run in a worker".into())
}

impl JournalAccess for DriversJournal {
    fn settled_experiments(&self) -> Result<Vec<journal::ExperimentRecord>, String> {
        drivers()
    }
    fn record_experiment(&self, _: journal::ExperimentRecord) -> Result<(), String> {
        drivers()
    }
    fn record_online(&self, _: Vec<journal::OnlineValue>) -> Result<(), String> {
        drivers()
    }
    fn record_decision(&self, _: journal::DecisionRecord) -> Result<(), String> {
        drivers()
    }
    fn decisions(&self) -> Result<Vec<journal::DecisionRecord>, String> {
        drivers()
    }
    fn query(
        &self,
        _: &str,
        _: &journal::QueryLimits,
        _: &[(String, PathBuf)],
    ) -> Result<journal::Table, journal::Error> {
        Err(journal::Error::InvalidInput("the journal belongs to the driver: this step cannot run in a worker".into()))
    }
    fn record_llm_call(&self, _: &llm::CallRecord) -> Result<(), String> {
        drivers()
    }
    fn record_tool_call(&self, _: ToolCall) -> Result<(), String> {
        drivers()
    }
    fn link_calls(&self, _: &str, _: &str, _: i64) -> Result<(), String> {
        drivers()
    }
}
