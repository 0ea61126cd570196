//! The Slurm executor: a step the run sends to the cluster becomes one `sbatch` job running
//! `evoflow worker` on the shared run dir. The driver keeps the cache key, the commit into the
//! object store and the journal, so a step's record is the same wherever it ran; one poller
//! asks the scheduler about every job in flight with a single `squeue` per interval.

pub mod job;
pub mod scheduler;
pub mod settings;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, Semaphore};

use self::job::{JobDir, WorkRequest};
use self::scheduler::{in_queue, JobEnd, Scheduler};
pub use self::settings::{ExecutorConfig, ExecutorKind};
use super::recorder::Recorder;
use crate::steps::{StepError, StepErrorKind};
use crate::store::WorkDir;

/// What the poller reports for a job that left the queue: how it ended, when the controller
/// still knows.
type Ended = Option<JobEnd>;

/// The driver's side of the cluster: submits, watches and cancels jobs.
pub struct Slurm {
    config: ExecutorConfig,
    scheduler: Arc<Scheduler>,
    /// Jobs in flight at most.
    slots: Arc<Semaphore>,
    /// Jobs being waited for, by id.
    watched: Arc<Mutex<HashMap<String, oneshot::Sender<Ended>>>>,
    /// The binary jobs run (`evoflow worker`), and the folder they start in.
    exe: PathBuf,
    cwd: PathBuf,
    log: Arc<SchedulerLog>,
    poller: tokio::task::AbortHandle,
}

/// One step to run as a job.
pub struct JobSpec {
    pub dir: JobDir,
    pub request: WorkRequest,
    /// `--cpus-per-task`, `--gres`, `--time` for this step.
    pub resources: Vec<String>,
}

impl Slurm {
    /// An executor for the run in `run_dir`; starts the poller on the current runtime.
    pub fn start(config: ExecutorConfig, run_dir: &Path) -> Result<Arc<Slurm>, String> {
        let poll = config.poll_interval()?;
        // Said before anything runs, not as the first job's error.
        match std::process::Command::new("sbatch").arg("--version").output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => return Err(format!("`sbatch --version` failed: {}", String::from_utf8_lossy(&out.stderr).trim())),
            Err(e) => {
                return Err(format!(
                    "the Slurm executor needs `sbatch` on the PATH ({e}): run on a Slurm login node, or without `--executor slurm`"
                ))
            }
        }
        let exe = std::env::current_exe().map_err(|e| format!("cannot find the evoflow binary: {e}"))?;
        let cwd = std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
        std::fs::create_dir_all(run_dir.join("slurm"))
            .map_err(|e| format!("cannot create `{}`: {e}", run_dir.join("slurm").display()))?;
        let log = Arc::new(SchedulerLog::open(&run_dir.join("slurm").join("scheduler.log"))?);
        let scheduler = Arc::new(Scheduler::default());
        let watched: Arc<Mutex<HashMap<String, oneshot::Sender<Ended>>>> = Arc::default();
        let poller = tokio::spawn(poll_loop(scheduler.clone(), watched.clone(), log.clone(), poll)).abort_handle();
        Ok(Arc::new(Slurm {
            slots: Arc::new(Semaphore::new(config.max_jobs())),
            config,
            scheduler,
            watched,
            exe,
            cwd,
            log,
            poller,
        }))
    }

    /// Jobs that may be in flight at once.
    pub fn max_jobs(&self) -> usize {
        self.config.max_jobs()
    }

    /// Runs one step as a job — or, when a driver before this one submitted it, waits for that
    /// job — and hands back its output folder (moved to `out`) and its description.
    pub async fn run(
        &self,
        spec: JobSpec,
        out: Arc<WorkDir>,
        journal: &dyn Recorder,
    ) -> Result<(Arc<WorkDir>, serde_json::Value), StepError> {
        let _slot = self.slots.clone().acquire_owned().await.expect("the job slots are never closed");
        let dir = &spec.dir;
        let record = |id: &str, state: &str| {
            let r = &spec.request;
            let row = journal::JobRow {
                run_id: r.run_id,
                node_id: r.node.clone(),
                cache_key: r.key.clone(),
                attempt: r.attempt,
                executor: "slurm".into(),
                job_id: id.to_string(),
                state: state.to_string(),
            };
            journal.job(row).map_err(|e| StepError::permanent(StepErrorKind::Journal, e))
        };
        if let Some(id) = self.reattachable(dir, &spec.request) {
            let node = &spec.request.node;
            if dir.result().is_none() {
                self.log.line(format_args!("reattached to job {id} for `{node}`"));
                record(&id, "reattached")?;
                let guard = Cancel::new(&id, &self.scheduler);
                let end = self.wait(&id).await?;
                guard.disarm();
                record(&id, &state_of(&end))?;
            } else {
                self.log.line(format_args!("collected job {id} of `{node}`: it finished while no driver ran"));
            }
            if dir.result().is_some() {
                return collect(dir, &id, None, out);
            }
            self.log.line(format_args!("job {id} ended without a result; submitting `{node}` again"));
        }
        dir.prepare(&spec.request, &self.exe).map_err(|e| {
            StepError::permanent(
                StepErrorKind::Io,
                format!("cannot write the job's files in `{}`: {e}", dir.path.display()),
            )
        })?;
        let id = self.submit(&spec).await?;
        record(&id, "submitted")?;
        let guard = Cancel::new(&id, &self.scheduler);
        let end = self.wait(&id).await?;
        guard.disarm();
        record(&id, &state_of(&end))?;
        collect(dir, &id, end, out)
    }

    /// The id of a job an earlier driver submitted for this very request and that is still
    /// the scheduler's or left a result: waiting for it beats submitting a duplicate.
    fn reattachable(&self, dir: &JobDir, request: &WorkRequest) -> Option<String> {
        let id = dir.job_id()?;
        let earlier: WorkRequest = serde_json::from_slice(&std::fs::read(dir.request()).ok()?).ok()?;
        (earlier.key == request.key).then_some(id)
    }

    async fn submit(&self, spec: &JobSpec) -> Result<String, StepError> {
        let dir = &spec.dir;
        let name: String = format!("evo-{}", spec.request.node).chars().take(120).collect();
        let mut flags = vec![
            format!("--job-name={name}"),
            format!("--output={}", dir.path.join("slurm-%j.out").display()),
            format!("--chdir={}", self.cwd.display()),
            // A failed node is a transient error the step's retry policy handles, not a silent
            // requeue that would hide it from the journal.
            "--no-requeue".to_string(),
        ];
        flags.extend(spec.resources.iter().cloned());
        flags.extend(self.config.common_flags());
        let id = self
            .scheduler
            .submit(&dir.script(), &flags)
            .await
            .map_err(|e| StepError::transient(StepErrorKind::Scheduler, format!("cannot submit the job: {e}")))?;
        // Written before anything else can fail: a driver killed from here on reattaches.
        if let Err(e) = dir.set_job_id(&id) {
            self.scheduler.cancel(std::slice::from_ref(&id)).await;
            return Err(StepError::permanent(StepErrorKind::Io, format!("cannot record job {id}'s id: {e}")));
        }
        self.log.line(format_args!("submitted `{}` as job {id}: sbatch {}", spec.request.node, flags.join(" ")));
        Ok(id)
    }

    /// Waits until job `id` leaves the queue.
    async fn wait(&self, id: &str) -> Result<Ended, StepError> {
        let (tx, rx) = oneshot::channel();
        self.watched.lock().expect("the watch list").insert(id.to_string(), tx);
        rx.await.map_err(|_| {
            StepError::transient(
                StepErrorKind::Scheduler,
                format!("lost track of job {id}: the scheduler did not answer"),
            )
        })
    }

    /// Writes what the run asked the scheduler, command by command, at the end of the log.
    pub fn close(&self) {
        let c = &self.scheduler.calls;
        let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        self.log.line(format_args!(
            "driver {} finished: {} sbatch, {} squeue, {} scontrol, {} scancel",
            std::process::id(),
            get(&c.sbatch),
            get(&c.squeue),
            get(&c.scontrol),
            get(&c.scancel)
        ));
    }
}

impl Drop for Slurm {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

/// How a job ended, for the journal.
fn state_of(end: &Ended) -> String {
    end.as_ref().map_or_else(|| "UNKNOWN".to_string(), |e| e.state.clone())
}

/// The outcome of a job that left the queue: its result, or why it has none.
fn collect(
    dir: &JobDir,
    id: &str,
    end: Ended,
    out: Arc<WorkDir>,
) -> Result<(Arc<WorkDir>, serde_json::Value), StepError> {
    // A result is whole or absent (written atomically): if the worker left one, the step ran to
    // its end, whatever happened to the job afterwards.
    if let Some(result) = dir.result() {
        let meta = result.into_result()?;
        out.adopt(&dir.out()).map_err(|e| {
            StepError::permanent(StepErrorKind::Store, format!("cannot move job {id}'s output into the run dir: {e}"))
        })?;
        let _ = std::fs::remove_dir_all(&dir.path);
        return Ok((out, meta));
    }
    Err(ended_without_result(dir, id, end))
}

/// Why a job that left no result failed, as an error the step's retry policy understands.
fn ended_without_result(dir: &JobDir, id: &str, end: Ended) -> StepError {
    let log = dir.log(id);
    let tail = dir.log_tail(id, 5);
    let see = if tail.is_empty() {
        format!("its log: {}", log.display())
    } else {
        format!("the end of its log ({}):\n{tail}", log.display())
    };
    let Some(end) = end else {
        return StepError::transient(
            StepErrorKind::Scheduler,
            format!("job {id} left the queue without a result and the scheduler no longer knows it; {see}"),
        );
    };
    let transient = |what: &str| StepError::transient(StepErrorKind::Scheduler, format!("job {id} {what}; {see}"));
    match end.state.as_str() {
        "CANCELLED" => transient("was cancelled outside evoflow (scancel, or an administrator)"),
        "NODE_FAIL" | "BOOT_FAIL" => transient(&format!("ended {}: its node failed", end.state)),
        "PREEMPTED" => transient("was preempted"),
        "TIMEOUT" | "DEADLINE" => StepError::transient(
            StepErrorKind::Timeout,
            format!("job {id} ran past its time limit ({}); {see}", end.state),
        ),
        "OUT_OF_MEMORY" => StepError::permanent(
            StepErrorKind::Scheduler,
            format!("job {id} ran out of memory: give it more with `mem` in [executor]; {see}"),
        ),
        // The worker always leaves a result when it can: without one, its process died
        // (killed, or its node lost it).
        state => transient(&format!("ended {state} (exit code {}) without a result", end.exit_code)),
    }
}

/// Cancels a job when dropped armed: the attempt waiting for it was abandoned (a timeout,
/// Ctrl-C, a failure elsewhere that stops the run).
struct Cancel {
    id: String,
    scheduler: Arc<Scheduler>,
    armed: bool,
}

impl Cancel {
    fn new(id: &str, scheduler: &Arc<Scheduler>) -> Self {
        Cancel { id: id.to_string(), scheduler: scheduler.clone(), armed: true }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        if self.armed {
            self.scheduler.cancel_now(&self.id);
        }
    }
}

/// One `squeue` per interval for every job in flight; `scontrol show job` only for those that
/// left the queue. A job whose end the controller cannot tell yet stays watched.
async fn poll_loop(
    scheduler: Arc<Scheduler>,
    watched: Arc<Mutex<HashMap<String, oneshot::Sender<Ended>>>>,
    log: Arc<SchedulerLog>,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut polls = 0u64;
    let mut failures = 0u32;
    loop {
        tick.tick().await;
        let ids: Vec<String> = watched.lock().expect("the watch list").keys().cloned().collect();
        if ids.is_empty() {
            continue;
        }
        polls += 1;
        let queue = match scheduler.queue().await {
            Ok(queue) => {
                failures = 0;
                queue
            }
            Err(e) => {
                failures += 1;
                log.line(format_args!("poll {polls}: squeue failed ({failures} in a row): {e}"));
                // A controller down for long: the jobs' attempts fail (transiently) rather
                // than wait forever; their retries reattach when it is back.
                if failures >= 30 {
                    watched.lock().expect("the watch list").clear();
                }
                continue;
            }
        };
        let mut left = 0;
        for id in &ids {
            if queue.get(id).is_some_and(|state| in_queue(state)) {
                continue;
            }
            let end = match scheduler.end_of(id).await {
                Ok(end) => end,
                Err(e) => {
                    log.line(format_args!("poll {polls}: job {id}: {e}"));
                    continue;
                }
            };
            left += 1;
            if let Some(tx) = watched.lock().expect("the watch list").remove(id) {
                let _ = tx.send(end);
            }
        }
        log.line(format_args!("poll {polls}: 1 squeue for {} jobs in flight, {left} left the queue", ids.len()));
    }
}

/// `<run dir>/slurm/scheduler.log`: every submission and poll, for a person (and the tests)
/// to see what the driver asked the scheduler.
struct SchedulerLog {
    file: Mutex<std::fs::File>,
    start: std::time::Instant,
}

impl SchedulerLog {
    fn open(path: &Path) -> Result<Self, String> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open `{}`: {e}", path.display()))?;
        let log = SchedulerLog { file: Mutex::new(file), start: std::time::Instant::now() };
        log.line(format_args!("driver {} started", std::process::id()));
        Ok(log)
    }

    fn line(&self, text: std::fmt::Arguments) {
        let secs = self.start.elapsed().as_secs_f64();
        let mut file = self.file.lock().expect("the scheduler log");
        let _ = writeln!(file, "[{secs:9.3}s] {text}");
    }
}
