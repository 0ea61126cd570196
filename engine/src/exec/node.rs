//! Running one node: its cache key, a cache hit or the attempts (with timeout and retries), the
//! commit of its output, and the records. Top-level nodes and the nodes a step adds at run time
//! go through the same path.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dsl::program::Node;
use dsl::types::Value;
use indexmap::IndexMap;
use serde_json::value::RawValue;

use super::events::{Event, Events};
use super::recorder::{Output, Recorder, StepDone};
use super::resources::Resources;
use super::retry::backoff;
use super::slurm::job::{JobDir, WorkRequest};
use super::slurm::{settings::resource_flags, JobSpec, Slurm};
use crate::cache::{CacheKey, Entry, Index};
use crate::steps::{Artifact, ErrorClass, Registry, Spawner, StepContext, StepError, StepErrorKind};
use crate::store::{Store, WorkDir};

/// What a run shares between its nodes.
pub struct Core {
    pub program: Arc<dsl::Program>,
    pub registry: Registry,
    pub store: Store,
    pub index: Index,
    pub recorder: Arc<dyn Recorder>,
    pub events: Events,
    pub resources: Resources,
    pub no_cache: bool,
    pub rerun: HashSet<String>,
    /// Check every reused object byte for byte (`run --verify`), not only the small ones.
    pub verify: bool,
    pub stdlib: String,
    /// The run around the steps (workflow, run dir, journal), handed to each.
    pub run: Arc<crate::steps::run_info::RunInfo>,
    /// The cluster the steps that may leave the driver go to, when the run has one.
    pub slurm: Option<Arc<Slurm>>,
}

/// How a node ended.
pub enum Outcome {
    Done { artifact: Artifact, cached: bool },
    Failed { error: StepError },
}

impl Core {
    /// The cache key of `node` given its inputs, or why it cannot be computed.
    pub fn key(&self, node: &Node, inputs: &HashMap<String, Artifact>) -> Result<CacheKey, StepError> {
        let env = crate::steps::KeyEnv { run_dir: self.store.root(), llm: self.run.llm.as_ref() };
        crate::cache::key_of(&self.program, &self.registry, &self.stdlib, &env, node, inputs)
    }

    /// Runs `node` (or reuses its cached output). `hold` says whether it takes resource units
    /// of its own; nodes added by a running step share their parent's.
    pub async fn execute(self: &Arc<Self>, node: Node, inputs: HashMap<String, Artifact>, hold: bool) -> Outcome {
        let started = Instant::now();
        let key = match self.key(&node, &inputs) {
            Ok(key) => key,
            Err(error) => return self.fail(&node, "", error, 0, started).await,
        };
        let (key, hash) = key.seal();
        if !self.no_cache && !self.rerun.contains(&node.id) {
            if let Some(entry) = self.index.get(&hash) {
                if let Some(artifact) = self.store.object(&entry.output) {
                    let content = self.verify || entry.bytes <= crate::store::VERIFY_CONTENT_UP_TO;
                    match self.store.verify(&artifact, content) {
                        Ok(()) => return self.cached(&node, &key, entry, artifact).await,
                        // A damaged output is never reused: said, taken out, and made again.
                        Err(damage) => {
                            crate::cli::output::warning(format_args!(
                                "the cached output of `{}` is damaged: {damage}; running the step again",
                                node.id
                            ));
                            if let Err(e) = self.store.evict(&artifact) {
                                let error = StepError::permanent(
                                    StepErrorKind::Store,
                                    format!("cannot take the damaged output `{}` out of the store: {e}", artifact.hash),
                                );
                                return self.fail(&node, &hash, error, 0, started).await;
                            }
                        }
                    }
                }
            }
        }
        let step = self.registry.get(&node.step).expect("key() checked the step exists");
        let units = self.units(&node, step.as_ref());
        let slurm = self.slurm_for(&node, step.as_ref(), &units);
        // A job holds the cluster's resources, not the driver's.
        let _permits = if hold && slurm.is_none() { self.resources.acquire(&units).await } else { Vec::new() };
        let max_attempts = node.options.retries + 1;
        let mut attempt = 1;
        loop {
            if let Err(e) = self.record_start(&node, &hash, attempt).await {
                return self.fail(&node, &hash, e, attempt, started).await;
            }
            self.events.emit(Event::StepStarted { node: node.id.clone(), step: node.step.clone(), attempt });
            let result = match slurm {
                Some(slurm) => self.job(slurm, &node, &inputs, attempt, &hash, &units).await,
                None => self.attempt(&node, &inputs, attempt, step.clone()).await,
            };
            let error = match result {
                Ok((dir, meta)) => match self.commit(&node, &key, &hash, &dir, &meta, attempt, started).await {
                    Ok(artifact) => return Outcome::Done { artifact, cached: false },
                    Err(error) => error,
                },
                Err(error) => error,
            };
            if error.class == ErrorClass::Transient && attempt < max_attempts {
                let delay = backoff(attempt);
                self.events.emit(Event::StepRetrying {
                    node: node.id.clone(),
                    attempt,
                    delay_ms: delay.as_millis() as u64,
                    error: error.message.clone(),
                    code: error.kind.code(),
                });
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            return self.fail(&node, &hash, error, attempt, started).await;
        }
    }

    async fn attempt(
        self: &Arc<Self>,
        node: &Node,
        inputs: &HashMap<String, Artifact>,
        attempt: u32,
        step: Arc<dyn crate::steps::Step>,
    ) -> Result<(Arc<WorkDir>, serde_json::Value), StepError> {
        let out_dir = Arc::new(self.store.work_dir(&node.id));
        // Dropped with this future, whether it ends, times out or the run stops: threads the
        // step started see the flag and stop instead of working on for nobody.
        let cancel = CancelOnDrop(Arc::new(std::sync::atomic::AtomicBool::new(false)));
        let ctx = StepContext {
            program: self.program.clone(),
            args: node.args.clone(),
            inputs: inputs.clone(),
            out_dir: out_dir.clone(),
            attempt,
            progress: self.events.progress(&node.id),
            spawner: Spawner::new(self.clone(), node.id.clone(), node.options.executor.clone()),
            run: self.run.clone(),
            cancel: cancel.0.clone(),
        };
        let result = within_timeout(node, step.run(ctx)).await;
        if result.is_err() {
            out_dir.discard();
        }
        result.map(|meta| (out_dir, meta))
    }

    /// Whether `node` (a node of the plan) runs as a cluster job.
    pub fn runs_remotely(&self, node: &Node) -> bool {
        if self.slurm.is_none() {
            return false; // asked for every node of every run: nothing to work out locally
        }
        let Some(step) = self.registry.get(&node.step) else { return false };
        self.slurm_for(node, step.as_ref(), &self.units(node, step.as_ref())).is_some()
    }

    /// The resource units `node` holds: its `resources:` option, or what its step asks.
    fn units(&self, node: &Node, step: &dyn crate::steps::Step) -> BTreeMap<String, f64> {
        if node.options.resources.is_empty() {
            step.resources_for(&node.args).into_iter().collect()
        } else {
            node.options.resources.iter().map(|(u, a)| (u.clone(), *a)).collect()
        }
    }

    /// Where `node` runs: the cluster's executor when the run has one and the step may leave
    /// the driver and asks to (or, unless it says otherwise, holds a GPU); `None`: here.
    pub fn slurm_for(
        &self,
        node: &Node,
        step: &dyn crate::steps::Step,
        units: &BTreeMap<String, f64>,
    ) -> Option<&Arc<Slurm>> {
        let slurm = self.slurm.as_ref()?;
        if !step.remote() {
            return None;
        }
        match node.options.executor.as_deref() {
            Some("slurm") => Some(slurm),
            Some(_) => None,
            None => units.get("gpu").is_some_and(|g| *g > 0.0).then_some(slurm),
        }
    }

    /// One attempt of `node` as a Slurm job; the job is cancelled if the attempt is abandoned
    /// (its timeout, Ctrl-C, a failure that stops the run).
    async fn job(
        &self,
        slurm: &Slurm,
        node: &Node,
        inputs: &HashMap<String, Artifact>,
        attempt: u32,
        hash: &str,
        units: &BTreeMap<String, f64>,
    ) -> Result<(Arc<WorkDir>, serde_json::Value), StepError> {
        let run = &self.run;
        let request = WorkRequest {
            workflow: run.workflow.clone(),
            overrides: run.overrides.clone(),
            run_dir: std::path::absolute(&run.run_dir).unwrap_or_else(|_| run.run_dir.clone()),
            run_id: run.run_id,
            node: node.id.clone(),
            step: node.step.clone(),
            args: node.args.clone(),
            blocks: node.blocks.clone(),
            inputs: inputs.iter().map(|(id, a)| (id.clone(), a.hash.clone())).collect(),
            attempt,
            key: hash.to_string(),
        };
        let units: Vec<(String, f64)> = units.iter().map(|(u, a)| (u.clone(), *a)).collect();
        let spec = JobSpec {
            dir: JobDir::new(&request.run_dir, &node.id, hash),
            request,
            resources: resource_flags(&units, node.options.timeout_ms),
        };
        let out = Arc::new(self.store.work_dir(&node.id));
        within_timeout(node, slurm.run(spec, out, self.recorder.as_ref())).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn commit(
        &self,
        node: &Node,
        key: &RawValue,
        hash: &str,
        dir: &WorkDir,
        meta: &serde_json::Value,
        attempts: u32,
        started: Instant,
    ) -> Result<Artifact, StepError> {
        let committed = self.store.commit(dir, meta).map_err(|e| {
            StepError::permanent(StepErrorKind::Store, format!("cannot store the output in the run dir: {e}"))
        })?;
        let entry = Entry {
            key: hash.to_string(),
            node: node.id.clone(),
            output: committed.artifact.hash.clone(),
            bytes: committed.bytes,
            files: committed.files,
        };
        self.index
            .put(&node.id, &entry, key)
            .map_err(|e| StepError::permanent(StepErrorKind::Store, format!("cannot write the cache entry: {e}")))?;
        let duration_ms = started.elapsed().as_millis() as u64;
        let done = StepDone {
            node: node.id.clone(),
            step: node.step.clone(),
            key: hash.to_string(),
            status: "done",
            attempts,
            duration_ms,
            error: None,
            output: Some(Output::of(node, &committed.artifact, committed.bytes, committed.files)),
        };
        self.record_finish(done).await?;
        self.events.emit(Event::StepFinished {
            node: node.id.clone(),
            step: node.step.clone(),
            status: "done".into(),
            attempts,
            duration_ms,
            error: None,
            code: None,
        });
        Ok(committed.artifact)
    }

    async fn cached(&self, node: &Node, key: &RawValue, entry: Entry, artifact: Artifact) -> Outcome {
        let hash = entry.key.as_str();
        if let Err(e) = self.index.put(&node.id, &entry, key) {
            let error = StepError::permanent(StepErrorKind::Store, format!("cannot write the cache entry: {e}"));
            return self.fail(node, hash, error, 0, Instant::now()).await;
        }
        let done = StepDone {
            node: node.id.clone(),
            step: node.step.clone(),
            key: hash.to_string(),
            status: "cached",
            attempts: 0,
            duration_ms: 0,
            error: None,
            output: Some(Output::of(node, &artifact, entry.bytes, entry.files)),
        };
        if let Err(error) = self.record_finish(done).await {
            return self.fail(node, hash, error, 0, Instant::now()).await;
        }
        self.events.emit(Event::StepCached {
            node: node.id.clone(),
            step: node.step.clone(),
            output: artifact.hash.clone(),
        });
        Outcome::Done { artifact, cached: true }
    }

    async fn fail(&self, node: &Node, hash: &str, error: StepError, attempts: u32, started: Instant) -> Outcome {
        let duration_ms = started.elapsed().as_millis() as u64;
        let done = StepDone {
            node: node.id.clone(),
            step: node.step.clone(),
            key: hash.to_string(),
            status: "failed",
            attempts,
            duration_ms,
            error: Some(error.coded()),
            output: None,
        };
        let error = match self.record_finish(done).await {
            Ok(()) => error,
            Err(e) => StepError::permanent(
                StepErrorKind::Journal,
                format!("{}; and the journal could not record it: {}", error.message, e.message),
            ),
        };
        self.events.emit(Event::StepFinished {
            node: node.id.clone(),
            step: node.step.clone(),
            status: "failed".into(),
            attempts,
            duration_ms,
            error: Some(error.message.clone()),
            code: Some(error.kind.code()),
        });
        Outcome::Failed { error }
    }

    // The recorder only queues (see `Recorder`), so it is called inline: a `spawn_blocking` hop
    // per record cost more than the record.
    async fn record_start(&self, node: &Node, hash: &str, attempt: u32) -> Result<(), StepError> {
        self.recorder.step_started(&node.id, &node.step, hash, attempt).map_err(|e| {
            StepError::permanent(StepErrorKind::Journal, format!("the journal cannot record the step: {e}"))
        })
    }

    /// Records how a step ended (also used for steps interrupted or skipped by the scheduler).
    pub async fn record_finish(&self, done: StepDone) -> Result<(), StepError> {
        self.recorder.step_finished(done).map_err(|e| {
            StepError::permanent(StepErrorKind::Journal, format!("the journal cannot record the step: {e}"))
        })
    }
}

impl Output {
    fn of(node: &Node, artifact: &Artifact, bytes: u64, files: u64) -> Output {
        let model = crate::model_records::from_meta(&node.id, &node.step, &artifact.hash, &artifact.meta).map(Box::new);
        let metrics = crate::model_records::metrics_from_meta(&node.id, &node.step, &artifact.hash, &artifact.meta);
        Output { hash: artifact.hash.clone(), bytes, files, model, metrics, meta: artifact.meta.to_string() }
    }
}

/// Runs `run` within `node`'s timeout, if it has one.
async fn within_timeout<T>(
    node: &Node,
    run: impl std::future::Future<Output = Result<T, StepError>>,
) -> Result<T, StepError> {
    if node.options.timeout_ms == 0 {
        return run.await;
    }
    match tokio::time::timeout(Duration::from_millis(node.options.timeout_ms), run).await {
        Ok(r) => r,
        Err(_) => Err(StepError::transient(
            StepErrorKind::Timeout,
            format!("timed out after {}", dsl::fmt::duration(node.options.timeout_ms)),
        )),
    }
}

/// A node a running step adds to the graph: `parent/name`, running where the parent's
/// `executor:` says its nodes run.
pub fn child_node(
    parent: &str,
    name: &str,
    step: &str,
    args: IndexMap<String, Value>,
    executor: Option<String>,
) -> Node {
    Node {
        id: format!("{parent}/{name}"),
        step: step.to_string(),
        args,
        options: dsl::program::StepOptions { on_error: "terminate".into(), executor, ..Default::default() },
        blocks: IndexMap::new(),
        span: dsl::Span::default(),
    }
}

/// Sets its flag when dropped: an attempt's work on other threads stops with the attempt.
struct CancelOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
