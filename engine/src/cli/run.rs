//! `evoflow run FILE`: compile, plan, and execute with cache, resume and the journal.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use super::output;
use super::output::{compile, emit, plural};
use super::{parse_set, DiagnosticFormat, EXIT_INVALID};
use crate::cache::Index;
use crate::config::{merge_overrides, Config};
use crate::exec::events::{Event, Events, JsonLines, PlainLines, Quiet, Sink};
use crate::exec::node::Core;
use crate::exec::progress::Bars;
use crate::exec::resources::Resources;
use crate::exec::slurm::{ExecutorKind, Slurm};
use crate::exec::{self, RunStatus};
use crate::journal_recorder::JournalRecorder;
use crate::steps::run_info::RunInfo;
use crate::steps::Registry;
use crate::store::Store;

/// The cluster's executor when the run has one (`--executor`, else `[executor]`). Without one,
/// a workflow's `executor: "slurm"` steps run here, as the note says: the same file runs on a
/// laptop and on a cluster.
fn slurm(args: &Args, config: &Config, plan: &dsl::Plan, run_dir: &Path) -> Result<Option<Arc<Slurm>>, String> {
    let kind = args.executor.unwrap_or(config.executor.kind);
    if kind == ExecutorKind::Local {
        let asking = plan.topo_order().into_iter().find(|n| n.options.executor.as_deref() == Some("slurm"));
        if let (Some(node), false) = (asking, args.quiet || args.json) {
            output::note(format_args!(
                "`{}` asks for the Slurm executor, and this run has none: it runs here \
                 (`--executor slurm` or `[executor] kind = \"slurm\"` in evoflow.toml sends it to the cluster)",
                node.id
            ));
        }
        return Ok(None);
    }
    Slurm::start(config.executor.clone(), run_dir).map(Some)
}

/// Exit status of a run that failed.
const EXIT_FAILED: u8 = 1;
/// Exit status of a run stopped by Ctrl-C (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;
/// The stack of the runtime's threads (the main thread's size on Linux).
const WORKER_STACK: usize = 8 << 20;

/// The workflow a command works on, its param overrides, and its run dir.
#[derive(clap::Args)]
pub struct Target {
    /// The workflow file
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Override a param: `--set budget=50` (repeatable)
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// The run dir (default: `.evoflow/<workflow>` beside the file)
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
}

impl Target {
    /// Compiles the workflow and finds its run dir (see [`prepare`]).
    pub fn prepare(&self, format: DiagnosticFormat) -> Result<Prepared, ExitCode> {
        prepare(&self.file, &self.set, self.run_dir.as_deref(), format)
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,
    /// Steps running at once, at least 1 (default: evoflow.toml, else the number of CPUs)
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Print what would run and why (cached, changed, new); run nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Run every step, ignoring cached outputs
    #[arg(long)]
    pub no_cache: bool,
    /// Check every reused output byte for byte (outputs up to 256 MiB always are; larger ones
    /// otherwise by their files' sizes); a damaged one is made again
    #[arg(long)]
    pub verify: bool,
    /// Run this step again even if its output is cached (repeatable)
    #[arg(long, value_name = "STEP")]
    pub rerun: Vec<String>,
    /// One JSON event per line on stdout instead of the progress display
    #[arg(long)]
    pub json: bool,
    /// Print only errors
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print every step's progress
    #[arg(long, short)]
    pub verbose: bool,
    /// Where steps that may leave the driver run: `slurm` submits those that ask for it (and
    /// those holding a GPU) as Slurm jobs (default: `[executor]` in evoflow.toml, else local)
    #[arg(long, value_name = "KIND")]
    pub executor: Option<ExecutorKind>,
}

/// What every command that works on a run directory needs: the checked program and where its
/// run directory is.
pub struct Prepared {
    pub program: dsl::Program,
    /// The param overrides the program was compiled with (evoflow.toml, then `--set`).
    pub overrides: Vec<(String, String)>,
    pub plan: dsl::Plan,
    pub config: Config,
    pub run_dir: PathBuf,
}

/// Reads `evoflow.toml`, compiles the workflow with the merged overrides, finds the run dir.
pub fn prepare(
    file: &str,
    set: &[(String, String)],
    run_dir: Option<&Path>,
    format: DiagnosticFormat,
) -> Result<Prepared, ExitCode> {
    let dir = Path::new(file).parent().unwrap_or(Path::new("")).to_path_buf();
    let config = Config::load(&dir).map_err(|e| {
        output::error(format_args!("{e}"));
        ExitCode::from(EXIT_INVALID)
    })?;
    let overrides = merge_overrides(config.param_overrides(), set);
    let program = compile(file, &overrides, format).map_err(|_| ExitCode::from(EXIT_INVALID))?;
    let plan = dsl::Plan::new(&program);
    let run_dir = match (run_dir, &config.run_dir) {
        (Some(d), _) => d.to_path_buf(),
        (None, Some(d)) => dir.join(d),
        (None, None) => dir.join(".evoflow").join(&program.name),
    };
    Ok(Prepared { program, overrides, plan, config, run_dir })
}

pub fn run(args: Args) -> ExitCode {
    // Workers get the main thread's 8 MiB stack: loops check agents' proposals on them, and the
    // front end's nesting limits are sized for it (tests/deep_input.rs).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK)
        .build()
        .expect("a tokio runtime");
    // Listen for Ctrl-C and SIGTERM before anything else: compiling a large workflow and opening
    // the journal take a while, and a signal before the handler exists would kill the process
    // outright.
    let interrupted = {
        let _entered = runtime.enter();
        match stop_signals() {
            Ok(signals) => runtime.spawn(signals),
            Err(e) => {
                output::error(format_args!("cannot listen for Ctrl-C and SIGTERM: {e}"));
                return ExitCode::from(EXIT_FAILED);
            }
        }
    };
    let format = if args.json { DiagnosticFormat::Json } else { DiagnosticFormat::Human };
    let prepared = match args.target.prepare(format) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let registry = Registry::builtin();
    let missing: Vec<String> = {
        let mut m: Vec<String> = prepared
            .plan
            .topo_order()
            .iter()
            .filter(|n| registry.get(&n.step).is_none())
            .map(|n| format!("{} (`{}`)", n.step, n.id))
            .collect();
        m.dedup();
        m
    };
    if !missing.is_empty() {
        output::error("this workflow uses steps that are not built yet:");
        for m in missing {
            eprintln!("  {m}");
        }
        eprintln!("`evoflow check` and `evoflow graph` work on it; `run` needs every step implemented.");
        return ExitCode::from(EXIT_FAILED);
    }
    runtime.block_on(execute(args, prepared, registry, interrupted))
}

async fn execute(
    args: Args,
    prepared: Prepared,
    registry: Registry,
    interrupted: tokio::task::JoinHandle<Stop>,
) -> ExitCode {
    let Prepared { program, overrides, plan, config, run_dir } = prepared;
    let store = match Store::open(&run_dir) {
        Ok(store) => store,
        Err(e) => {
            output::error(format_args!("cannot use the run dir `{}`: {e}", run_dir.display()));
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let jobs = args
        .jobs
        .map(|j| j as usize)
        .or(config.jobs)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let mut capacities: BTreeMap<String, f64> =
        [("cpu".to_string(), jobs as f64), ("gpu".to_string(), 1.0), ("llm".to_string(), 4.0)].into();
    capacities.extend(config.resources.clone());
    if args.dry_run {
        let llm = config.llm.as_ref();
        return super::dry_run::print(&program, &plan, &registry, &store, llm, args.no_cache, &args.rerun);
    }
    if let Err(e) = store.clean_scratch() {
        output::error(format_args!("cannot clean `{}`: {e}", run_dir.join("tmp").display()));
        return ExitCode::from(EXIT_FAILED);
    }
    let slurm = match slurm(&args, &config, &plan, &run_dir) {
        Ok(slurm) => slurm,
        Err(e) => {
            output::error(format_args!("{e}"));
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let journal_path = run_dir.join("journal.duckdb");
    let params = serde_json::to_value(&program.params).expect("params serialise");
    let recorder = match JournalRecorder::start(&journal_path, &program.name, &args.target.file, params) {
        Ok(r) => Arc::new(r),
        // Another run holds this run dir: a usage conflict, not a failed step.
        Err(e @ journal::Error::Busy { .. }) => {
            output::error(format_args!(
                "{e}\n  another run is using this run dir; wait for it, or give this one its own with --run-dir"
            ));
            return ExitCode::from(EXIT_INVALID);
        }
        Err(e) => {
            output::error(format_args!("cannot open the journal `{}`: {e}", journal_path.display()));
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let sink: Arc<dyn Sink> = if args.json {
        Arc::new(JsonLines)
    } else if args.quiet {
        Arc::new(Quiet)
    } else if std::io::stderr().is_terminal() && !args.verbose {
        Arc::new(Bars::new(plan.len()))
    } else {
        Arc::new(PlainLines { verbose: args.verbose })
    };
    let events = Events::new(sink);
    events.emit(Event::RunStarted {
        workflow: program.name.clone(),
        run_id: recorder.run_id(),
        steps: plan.len(),
        run_dir: run_dir.display().to_string(),
    });
    let index = match Index::open(store.root()) {
        Ok(index) => index,
        Err(e) => {
            output::error(format_args!("cannot open the cache index in `{}`: {e}", run_dir.display()));
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let core = Arc::new(Core {
        program: Arc::new(program.clone()),
        registry,
        index,
        store,
        recorder: recorder.clone(),
        events: events.clone(),
        resources: Resources::new(&capacities),
        no_cache: args.no_cache,
        verify: args.verify,
        rerun: args.rerun.iter().cloned().collect(),
        stdlib: dsl::stdlib::version(),
        run: Arc::new(RunInfo {
            workflow: args.target.file.clone(),
            overrides,
            run_dir: run_dir.clone(),
            run_id: recorder.run_id(),
            journal: recorder.clone(),
            llm: config.llm.clone(),
            budget: llm::BudgetTracker::new(config.budget.clone()),
        }),
        slurm: slurm.clone(),
    });
    let stopped_by = Arc::new(std::sync::OnceLock::new());
    let shutdown = {
        let stopped_by = stopped_by.clone();
        async move {
            match interrupted.await {
                Ok(stop) => {
                    let _ = stopped_by.set(stop);
                }
                Err(_) => std::future::pending::<()>().await,
            }
        }
    };
    // On a worker thread, not the thread that blocks on the runtime: the steps it spawns then
    // start on that worker and their ends wake it there, with no thread hand-off per step.
    let scheduled = Arc::new(plan);
    let plan = scheduled.clone();
    let report = match tokio::spawn(async move { exec::run(core, &scheduled, jobs, shutdown).await }).await {
        Ok(report) => report,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    if let Some(slurm) = &slurm {
        slurm.close();
    }
    let journal_error = recorder.finish(report.status).err();
    events.emit(Event::RunFinished {
        status: report.status.as_str().into(),
        ran: report.ran,
        cached: report.cached,
        failed: report.failed,
        skipped: report.skipped,
        wall_ms: report.wall_ms,
        journal: journal_path.display().to_string(),
    });
    if !args.json && !args.quiet {
        let mut parts = vec![format!("{} run", plural(report.ran, "step")), format!("{} cached", report.cached)];
        if report.failed > 0 {
            parts.push(format!("{} failed", report.failed));
        }
        if report.skipped > 0 {
            parts.push(format!("{} skipped", report.skipped));
        }
        if report.interrupted > 0 {
            parts.push(format!("{} interrupted", report.interrupted));
        }
        let mut summary = format!(
            "{}: {} in {:.1}s\njournal: {}\n",
            report.status.as_str(),
            parts.join(", "),
            report.wall_ms as f64 / 1000.0,
            journal_path.display()
        );
        for line in super::loop_summary::lines(&plan, &report.outputs) {
            summary.push_str(&line);
            summary.push('\n');
        }
        emit(&summary);
    }
    if let Some(e) = journal_error {
        output::error(format_args!("the journal could not record the end of the run: {e}"));
        return ExitCode::from(EXIT_FAILED);
    }
    match report.status {
        RunStatus::Succeeded => ExitCode::SUCCESS,
        RunStatus::Failed => ExitCode::from(EXIT_FAILED),
        RunStatus::Interrupted | RunStatus::Running => {
            ExitCode::from(stopped_by.get().map_or(EXIT_INTERRUPTED, |stop| stop.exit_code()))
        }
    }
}

/// The signal that stopped a run.
#[derive(Clone, Copy, Debug)]
enum Stop {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// SIGTERM: what `timeout`, systemd, Kubernetes and Slurm send.
    Terminate,
}

impl Stop {
    /// 128 + the signal's number, as shells report a process the signal killed.
    fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => EXIT_INTERRUPTED,
            Stop::Terminate => 143,
        }
    }
}

/// Resolves on the first Ctrl-C or SIGTERM: the run then stops its steps and records them
/// interrupted. A second signal exits at once, as a person pressing Ctrl-C twice expects.
/// Registers the handlers before returning (call it inside the runtime).
fn stop_signals() -> std::io::Result<impl std::future::Future<Output = Stop>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        let stop = tokio::select! {
            _ = interrupt.recv() => Stop::Interrupt,
            _ = terminate.recv() => Stop::Terminate,
        };
        tokio::spawn(async move {
            let again = tokio::select! {
                _ = interrupt.recv() => Stop::Interrupt,
                _ = terminate.recv() => Stop::Terminate,
            };
            output::error(
                "stopped a second time: exiting now; `evoflow run` again resumes from the steps that finished",
            );
            std::process::exit(i32::from(again.exit_code()));
        });
        stop
    })
}
