//! The executor: runs a plan on tokio. Ready steps run concurrently up to `--jobs` and to the
//! resource units they hold; failures follow each step's error strategy; Ctrl-C stops
//! scheduling, cancels what runs, and records it as interrupted.

pub mod events;
pub mod node;
pub mod progress;
pub mod recorder;
pub mod resources;
mod retry;
pub mod slurm;

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use dsl::Plan;
use tokio::task::JoinSet;

use self::events::Event;
use self::node::{Core, Outcome};
use self::recorder::StepDone;
use crate::steps::Artifact;

/// How a run ended: the journal's statuses (the executor never ends in `Running`).
pub use journal::RunStatus;

/// What a run did.
#[derive(Clone, Debug)]
pub struct Report {
    pub status: RunStatus,
    pub ran: usize,
    pub cached: usize,
    pub failed: usize,
    pub skipped: usize,
    pub interrupted: usize,
    pub wall_ms: u64,
    /// Outputs of the nodes that finished, by id.
    pub outputs: HashMap<String, Artifact>,
}

/// Runs the nodes of `plan`, at most `jobs` at a time, until all are done, a failure stops the
/// run, or `shutdown` resolves (Ctrl-C).
pub async fn run(core: Arc<Core>, plan: &Plan, jobs: usize, shutdown: impl Future<Output = ()>) -> Report {
    let started = Instant::now();
    let order: Vec<&dsl::program::Node> = plan.topo_order();
    let nodes: HashMap<&str, &dsl::program::Node> = order.iter().map(|n| (n.id.as_str(), *n)).collect();
    let mut waiting: HashMap<&str, usize> = order.iter().map(|n| (n.id.as_str(), n.deps().len())).collect();
    let mut dependents: HashMap<String, Vec<&str>> = HashMap::new();
    for n in &order {
        for d in n.deps() {
            dependents.entry(d).or_default().push(n.id.as_str());
        }
    }
    let mut ready = Ready::default();
    for n in order.iter().filter(|n| n.deps().is_empty()) {
        ready.push(n.id.as_str(), core.runs_remotely(n));
    }
    let remote_jobs = core.slurm.as_ref().map_or(0, |s| s.max_jobs());
    let mut remote: HashSet<String> = HashSet::new();
    let mut report = Report {
        status: RunStatus::Succeeded,
        ran: 0,
        cached: 0,
        failed: 0,
        skipped: 0,
        interrupted: 0,
        wall_ms: 0,
        outputs: HashMap::new(),
    };
    let jobs = jobs.max(1);
    let mut running: JoinSet<(String, Outcome)> = JoinSet::new();
    let mut tasks: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut stop = false;
    tokio::pin!(shutdown);

    loop {
        // A task per free job slot, not per ready node: ten thousand ready steps waiting on a
        // semaphore held ten thousand futures in memory.
        // Jobs on a cluster hold none of the driver's slots: they are bounded by the
        // executor's own limit on jobs in flight.
        loop {
            let local = in_flight.len() - remote.len();
            let Some((id, on_cluster)) = ready.pop(!stop && local < jobs, !stop && remote.len() < remote_jobs) else {
                break;
            };
            if on_cluster {
                remote.insert(id.to_string());
            }
            let node = nodes[id].clone();
            let inputs: HashMap<String, Artifact> =
                node.deps().into_iter().filter_map(|d| report.outputs.get(&d).map(|a| (d, a.clone()))).collect();
            let core = core.clone();
            in_flight.insert(node.id.clone());
            let task = running.spawn(async move {
                let id = node.id.clone();
                (id, core.execute(node, inputs, true).await)
            });
            tasks.insert(task.id(), id.to_string());
        }
        if running.is_empty() {
            break;
        }
        let (id, outcome) = tokio::select! {
            joined = running.join_next_with_id() => match joined.expect("not empty") {
                Ok((_, done)) => done,
                Err(e) => {
                    // A step that panics fails like any other; the run goes on per its strategy.
                    let id = tasks.get(&e.id()).cloned().expect("every task is known");
                    let error = crate::steps::StepError::permanent(crate::steps::StepErrorKind::Internal, format!("the step panicked: {e}"));
                    record_end(&core, nodes[id.as_str()], "failed", Some(error.coded())).await;
                    (id, Outcome::Failed { error })
                }
            },
            () = &mut shutdown => {
                report.status = RunStatus::Interrupted;
                running.abort_all();
                while running.join_next().await.is_some() {}
                report.interrupted = in_flight.len();
                for id in in_flight.drain() {
                    record_end(&core, nodes[id.as_str()], "interrupted", Some("interrupted (Ctrl-C)".into())).await;
                }
                break;
            }
        };
        in_flight.remove(&id);
        remote.remove(&id);
        match outcome {
            Outcome::Done { artifact, cached } => {
                if cached {
                    report.cached += 1;
                } else {
                    report.ran += 1;
                }
                report.outputs.insert(id.clone(), artifact);
                for &dependent in dependents.get(&id).map(Vec::as_slice).unwrap_or(&[]) {
                    let count = waiting.get_mut(dependent).expect("every node has a count");
                    *count -= 1;
                    if *count == 0 {
                        ready.push(dependent, core.runs_remotely(nodes[dependent]));
                    }
                }
            }
            Outcome::Failed { .. } => {
                report.failed += 1;
                match nodes[id.as_str()].options.on_error.as_str() {
                    "ignore" => {
                        skip_dependents(&core, &id, &dependents, &nodes, &mut waiting, &mut report).await;
                    }
                    "finish" => {
                        stop = true;
                        report.status = RunStatus::Failed;
                    }
                    _ => {
                        report.status = RunStatus::Failed;
                        running.abort_all();
                        while running.join_next().await.is_some() {}
                        report.interrupted += in_flight.len();
                        for id in in_flight.drain() {
                            let because = format!("stopped: `{id}` failed");
                            record_end(&core, nodes[id.as_str()], "interrupted", Some(because)).await;
                        }
                        break;
                    }
                }
            }
        }
    }
    report.wall_ms = started.elapsed().as_millis() as u64;
    report
}

/// Nodes whose inputs are ready, in the order they became so: those that run in the driver and
/// those that go to a cluster, each started when a slot of its own kind is free.
#[derive(Default)]
struct Ready<'a> {
    local: VecDeque<&'a str>,
    remote: VecDeque<&'a str>,
}

impl<'a> Ready<'a> {
    fn push(&mut self, id: &'a str, remote: bool) {
        if remote {
            self.remote.push_back(id);
        } else {
            self.local.push_back(id);
        }
    }

    /// The next node that has a free slot of its kind, if any, and whether it goes to a cluster.
    fn pop(&mut self, local_free: bool, remote_free: bool) -> Option<(&'a str, bool)> {
        if local_free {
            if let Some(id) = self.local.pop_front() {
                return Some((id, false));
            }
        }
        if remote_free {
            return self.remote.pop_front().map(|id| (id, true));
        }
        None
    }
}

/// Marks every node downstream of a failed one as skipped.
async fn skip_dependents<'a>(
    core: &Arc<Core>,
    failed: &str,
    dependents: &HashMap<String, Vec<&'a str>>,
    nodes: &HashMap<&'a str, &'a dsl::program::Node>,
    waiting: &mut HashMap<&'a str, usize>,
    report: &mut Report,
) {
    let mut queue: VecDeque<&str> = dependents.get(failed).cloned().unwrap_or_default().into();
    while let Some(id) = queue.pop_front() {
        if waiting.remove(id).is_none() {
            continue;
        }
        report.skipped += 1;
        let because = format!("`{failed}` failed");
        core.events.emit(Event::StepSkipped { node: id.to_string(), because: because.clone() });
        record_end(core, nodes[id], "skipped", Some(because)).await;
        queue.extend(dependents.get(id).cloned().unwrap_or_default());
    }
}

/// Records a node the scheduler ended without running it to completion. The journal is best
/// effort here: the run is already stopping, and its own status says so.
async fn record_end(core: &Arc<Core>, node: &dsl::program::Node, status: &'static str, error: Option<String>) {
    let done = StepDone {
        node: node.id.clone(),
        step: node.step.clone(),
        key: String::new(),
        status,
        attempts: 0,
        duration_ms: 0,
        error,
        output: None,
    };
    if let Err(e) = core.record_finish(done).await {
        eprintln!("warning: {e}");
    }
}
