//! What happens during a run, as events: one JSON object per line with `--json`, a progress
//! display on a terminal, plain lines otherwise.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

/// Something that happened in a run.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        workflow: String,
        run_id: i64,
        steps: usize,
        run_dir: String,
    },
    StepCached {
        node: String,
        step: String,
        output: String,
    },
    StepStarted {
        node: String,
        step: String,
        attempt: u32,
    },
    StepProgress {
        node: String,
        done: u64,
        total: u64,
        message: String,
    },
    StepRetrying {
        node: String,
        attempt: u32,
        delay_ms: u64,
        error: String,
        /// The error's stable code, e.g. `step::timeout`.
        code: &'static str,
    },
    StepFinished {
        node: String,
        step: String,
        status: String,
        attempts: u32,
        duration_ms: u64,
        error: Option<String>,
        /// The error's stable code, e.g. `step::data`.
        code: Option<&'static str>,
    },
    StepSkipped {
        node: String,
        because: String,
    },
    RunFinished {
        status: String,
        ran: usize,
        cached: usize,
        failed: usize,
        skipped: usize,
        wall_ms: u64,
        journal: String,
    },
}

/// Where events go.
pub trait Sink: Send + Sync {
    /// Receives one event, `t_ms` after the run started.
    fn emit(&self, t_ms: u64, event: &Event);
}

/// Fans events out to a sink with a timestamp. Cheap to clone.
#[derive(Clone)]
pub struct Events {
    start: Instant,
    sink: Arc<dyn Sink>,
}

impl Events {
    /// Events to `sink`, timed from now.
    pub fn new(sink: Arc<dyn Sink>) -> Self {
        Events { start: Instant::now(), sink }
    }

    /// Emits an event.
    pub fn emit(&self, event: Event) {
        self.sink.emit(self.start.elapsed().as_millis() as u64, &event);
    }

    /// A progress handle for one step.
    pub fn progress(&self, node: &str) -> Progress {
        Progress { node: node.to_string(), events: Some(self.clone()) }
    }
}

/// How a step reports its own progress (training epochs, rows read).
#[derive(Clone)]
pub struct Progress {
    node: String,
    events: Option<Events>,
}

impl Progress {
    /// Reports that go nowhere (a step a worker runs: the driver shows the job's state).
    pub fn silent(node: &str) -> Self {
        Progress { node: node.to_string(), events: None }
    }

    /// `done` of `total` units of work are finished.
    pub fn report(&self, done: u64, total: u64, message: &str) {
        if let Some(events) = &self.events {
            events.emit(Event::StepProgress { node: self.node.clone(), done, total, message: message.to_string() });
        }
    }
}

/// One JSON object per line on stdout.
pub struct JsonLines;

impl Sink for JsonLines {
    fn emit(&self, t_ms: u64, event: &Event) {
        let mut value = serde_json::to_value(event).expect("events serialise");
        value["t_ms"] = t_ms.into();
        crate::cli::output::emit(&format!("{value}\n"));
    }
}

/// Plain lines on stderr, for logs and pipes (progress reports are left out).
pub struct PlainLines {
    pub verbose: bool,
}

impl Sink for PlainLines {
    fn emit(&self, t_ms: u64, event: &Event) {
        let secs = t_ms as f64 / 1000.0;
        let line = match event {
            Event::RunStarted { workflow, steps, run_dir, .. } => format!("run {workflow}: {steps} steps in {run_dir}"),
            Event::StepCached { node, .. } => format!("[{secs:7.2}s] cached   {node}"),
            Event::StepStarted { node, attempt: 1, .. } => format!("[{secs:7.2}s] started  {node}"),
            Event::StepStarted { node, attempt, .. } => format!("[{secs:7.2}s] started  {node} (attempt {attempt})"),
            Event::StepRetrying { node, delay_ms, error, code, .. } => {
                format!("[{secs:7.2}s] retrying {node} in {delay_ms} ms: {error} [{code}]")
            }
            Event::StepFinished { node, status, duration_ms, error, code, .. } => match error {
                Some(e) => format!("[{secs:7.2}s] {status:<8} {node} ({duration_ms} ms): {}", coded(e, *code)),
                None => format!("[{secs:7.2}s] {status:<8} {node} ({duration_ms} ms)"),
            },
            Event::StepSkipped { node, because } => format!("[{secs:7.2}s] skipped  {node}: {because}"),
            Event::StepProgress { node, done, total, message } if self.verbose => {
                format!("[{secs:7.2}s] {node}: {message} {done}/{total}")
            }
            Event::StepProgress { .. } | Event::RunFinished { .. } => return,
        };
        eprintln!("{line}");
    }
}

/// Only errors (`-q`): a failed step and why, so a quiet run that fails still says what broke.
pub struct Quiet;

impl Sink for Quiet {
    fn emit(&self, _: u64, event: &Event) {
        if let Event::StepFinished { node, status, error: Some(e), code, .. } = event {
            if status == "failed" {
                crate::cli::output::error(format_args!("step `{node}` failed: {}", coded(e, *code)));
            }
        }
    }
}

/// An error message with its code, as every sink shows it: `message [step::data]`.
pub(crate) fn coded(message: &str, code: Option<&str>) -> String {
    match code {
        Some(code) => format!("{message} [{code}]"),
        None => message.to_string(),
    }
}
