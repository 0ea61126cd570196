//! The executor's records, written to the DuckDB journal of the run dir by one writer thread
//! that batches them into transactions: a step's record costs the executor a channel send, not
//! a database commit.
//!
//! What a SIGKILL can lose is the last batch (tens of milliseconds); the outputs those records
//! describe are already in the store and the cache, so the next run records them as cached.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use std::collections::HashMap;

use journal::{Journal, MetricValue, ModelRecord, RunStart, StepStatus, StepUpdate, StepWriter};

use crate::exec::recorder::{Recorder, StepDone};

/// How long the writer waits to gather a batch.
const BATCH_WINDOW: Duration = Duration::from_millis(20);

/// How often a running run refreshes the copy of its journal people can read
/// ([`snapshot_path`]): DuckDB lets no other process open the journal while it writes.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(2);

/// Where a running run keeps a readable copy of `journal`: `journal.snapshot.duckdb` beside it.
pub fn snapshot_path(journal: &Path) -> std::path::PathBuf {
    journal.with_file_name("journal.snapshot.duckdb")
}

/// Answers a read-only `sql` on the journal at `path`, or, while a run holds it, on the copy
/// that run refreshes; the second value is then that copy's age.
pub fn query_or_snapshot(
    path: &Path,
    sql: &str,
    limits: &journal::QueryLimits,
) -> Result<(journal::Table, Option<Duration>), journal::Error> {
    let snapshot = snapshot_path(path);
    match journal::query_readonly(path, sql, limits) {
        Err(journal::Error::Busy { .. }) if snapshot.is_file() => {
            let age = std::fs::metadata(&snapshot)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .unwrap_or_default();
            Ok((journal::query_readonly(&snapshot, sql, limits)?, Some(age)))
        }
        other => other.map(|table| (table, None)),
    }
}

enum Record {
    Started {
        node: String,
        step: String,
        key: String,
        attempt: u32,
        at: i64,
    },
    Finished {
        done: StepDone,
        at: i64,
    },
    /// Work for the writer's journal (the loops' records, queries), after what came before it.
    Call(Box<dyn FnOnce(&mut Journal) + Send>),
}

/// A run in the journal: begun on start, finished by [`JournalRecorder::finish`].
pub struct JournalRecorder {
    sender: Mutex<Option<Sender<Record>>>,
    writer: Mutex<Option<JoinHandle<(Journal, std::path::PathBuf)>>>,
    /// The first write error, if any; every later call reports it.
    error: Arc<Mutex<Option<String>>>,
    run_id: i64,
}

impl JournalRecorder {
    /// Opens (creating or migrating) the journal, marks runs left behind by a killed process
    /// as interrupted, begins a run, and starts the writer.
    pub fn start(path: &Path, workflow: &str, file: &str, params: serde_json::Value) -> Result<Self, journal::Error> {
        let mut journal = Journal::open(path)?;
        journal.mark_interrupted_runs()?;
        let snapshot = snapshot_path(path);
        let run_id = journal.begin_run(RunStart {
            workflow: workflow.to_string(),
            file: file.to_string(),
            params,
            evoflow_version: env!("CARGO_PKG_VERSION").to_string(),
        })?;
        let steps = StepWriter::new(&mut journal, run_id)?;
        let (sender, receiver) = mpsc::channel();
        let error = Arc::new(Mutex::new(None));
        let writer_error = error.clone();
        let writer = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || write_loop(journal, steps, receiver, writer_error, snapshot))
            .map_err(|source| journal::Error::Io { path: path.to_path_buf(), source })?;
        Ok(JournalRecorder { sender: Mutex::new(Some(sender)), writer: Mutex::new(Some(writer)), error, run_id })
    }

    /// This run's id in the journal.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Writes every pending record, then how the run ended.
    pub fn finish(&self, status: journal::RunStatus) -> Result<(), String> {
        drop(self.sender.lock().unwrap().take());
        let writer = self.writer.lock().unwrap().take().ok_or("the run is already finished")?;
        let (mut journal, snapshot) = writer.join().map_err(|_| "the journal writer panicked".to_string())?;
        // The journal itself is readable once the run ends: its copy would only go stale.
        let _ = std::fs::remove_file(snapshot);
        self.check()?;
        journal.finish_run(self.run_id, status).map_err(|e| e.to_string())
    }

    fn check(&self) -> Result<(), String> {
        match &*self.error.lock().unwrap() {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Runs `f` on the writer's journal, after every record sent before, and waits for its answer.
    pub fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Journal) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let (reply, answer) = mpsc::channel();
        self.send(Record::Call(Box::new(move |journal| {
            let _ = reply.send(f(journal));
        })))?;
        answer.recv().map_err(|_| "the journal writer stopped".to_string())?
    }

    fn send(&self, record: Record) -> Result<(), String> {
        self.check()?;
        let sender = self.sender.lock().unwrap();
        let sender = sender.as_ref().ok_or("the run is already finished")?;
        sender.send(record).map_err(|_| "the journal writer stopped".to_string())
    }
}

impl Recorder for JournalRecorder {
    fn step_started(&self, node: &str, step: &str, key: &str, attempt: u32) -> Result<(), String> {
        let at = journal::now_micros();
        self.send(Record::Started { node: node.into(), step: step.into(), key: key.into(), attempt, at })
    }

    fn step_finished(&self, done: StepDone) -> Result<(), String> {
        self.send(Record::Finished { done, at: journal::now_micros() })
    }

    fn job(&self, job: journal::JobRow) -> Result<(), String> {
        // Queued like the step records, not waited for; a failure is kept and fails what follows.
        let error = self.error.clone();
        self.send(Record::Call(Box::new(move |journal| {
            if let Err(e) = journal.transaction(|tx| tx.upsert_job(&job)) {
                error.lock().unwrap().get_or_insert(format!("cannot record job {}: {e}", job.job_id));
            }
        })))
    }
}

fn write_loop(
    mut journal: Journal,
    mut steps: StepWriter,
    receiver: Receiver<Record>,
    error: Arc<Mutex<Option<String>>>,
    snapshot: std::path::PathBuf,
) -> (Journal, std::path::PathBuf) {
    let mut open = true;
    // Runs shorter than this never write a copy.
    let mut copied = std::time::Instant::now();
    while open {
        let Ok(first) = receiver.recv() else { break };
        // Sleep through the window rather than wait on the channel: a writer blocked in `recv`
        // is woken (a futex and a context switch) by every record, and records come per step.
        std::thread::sleep(BATCH_WINDOW);
        let mut batch = vec![first];
        loop {
            match receiver.try_recv() {
                Ok(r) => batch.push(r),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        // Calls run in order with the records around them: the records before a call are
        // written first.
        let mut records = Vec::new();
        for record in batch {
            match record {
                Record::Call(f) => {
                    write_batch(&mut journal, &mut steps, std::mem::take(&mut records), &error);
                    f(&mut journal);
                }
                other => records.push(other),
            }
        }
        write_batch(&mut journal, &mut steps, records, &error);
        if copied.elapsed() >= SNAPSHOT_EVERY {
            // Best effort: a copy that cannot be written leaves the run as it is.
            let _ = journal.write_snapshot(&snapshot);
            copied = std::time::Instant::now();
        }
    }
    (journal, snapshot)
}

fn write_batch(journal: &mut Journal, steps: &mut StepWriter, records: Vec<Record>, error: &Mutex<Option<String>>) {
    if records.is_empty() {
        return;
    }
    let (updates, artifacts, models, metrics) = collapse(records);
    let result = steps.write(journal, &updates, &artifacts, |tx| {
        models.iter().try_for_each(|m| tx.record_model(m).map(drop))?;
        tx.record_metrics(&metrics)
    });
    if let Err(e) = result {
        error.lock().unwrap().get_or_insert(e.to_string());
    }
}

/// One update per node: its latest start, and its end if the batch holds it; with the outputs
/// and the models and metric values among them.
fn collapse(batch: Vec<Record>) -> (Vec<StepUpdate>, Vec<journal::Artifact>, Vec<ModelRecord>, Vec<MetricValue>) {
    let mut updates: Vec<StepUpdate> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut artifacts = Vec::new();
    let mut models = Vec::new();
    let mut metrics = Vec::new();
    for record in batch {
        let node = match &record {
            Record::Started { node, .. } => node.clone(),
            Record::Finished { done, .. } => done.node.clone(),
            Record::Call(_) => continue,
        };
        let slot = *index.entry(node.clone()).or_insert_with(|| {
            updates.push(StepUpdate {
                node_id: node,
                step: None,
                cache_key: None,
                status: StepStatus::Running,
                attempts: 0,
                started_at: None,
                finished_at: None,
                duration_ms: None,
                error: None,
                output_hash: None,
            });
            updates.len() - 1
        });
        let u = &mut updates[slot];
        match record {
            Record::Started { step, key, attempt, at, .. } => {
                // A new attempt: what an earlier attempt ended with no longer holds.
                u.step = Some(step);
                u.cache_key = Some(key);
                u.status = StepStatus::Running;
                u.attempts = attempt;
                u.started_at = Some(at);
                u.finished_at = None;
                u.duration_ms = None;
                u.error = None;
                u.output_hash = None;
            }
            Record::Call(_) => {}
            Record::Finished { done, at } => {
                u.step = Some(done.step.clone());
                if !done.key.is_empty() {
                    u.cache_key = Some(done.key.clone());
                }
                u.status = StepStatus::parse(done.status).expect("the executor uses journal statuses");
                u.attempts = done.attempts;
                u.finished_at = Some(at);
                u.duration_ms = Some(done.duration_ms as i64);
                u.error = done.error.clone();
                u.output_hash = done.output.as_ref().map(|o| o.hash.clone());
                if let Some(output) = done.output {
                    artifacts.push(journal::Artifact {
                        hash: output.hash,
                        node_id: done.node,
                        step: done.step,
                        bytes: output.bytes,
                        files: output.files as u32,
                        meta: Some(output.meta),
                    });
                    models.extend(output.model.map(|m| *m));
                    metrics.extend(output.metrics);
                }
            }
        }
    }
    (updates, artifacts, models, metrics)
}
