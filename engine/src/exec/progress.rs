//! The terminal display: one overall bar and a line per running step (indicatif).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::events::{Event, Sink};

/// Progress bars on stderr.
pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    running: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    /// A display for a run of `steps` steps.
    pub fn new(steps: usize) -> Self {
        let multi = MultiProgress::new();
        let overall = multi.add(ProgressBar::new(steps as u64));
        overall.set_style(
            ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {pos}/{len} steps  {elapsed}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        overall.set_prefix("evoflow");
        Bars { multi, overall, running: Mutex::new(HashMap::new()) }
    }

    fn line(&self, node: &str) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(ProgressStyle::with_template("  {spinner} {prefix} {elapsed} {msg}").expect("valid template"));
        bar.set_prefix(node.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }
}

impl Sink for Bars {
    fn emit(&self, _: u64, event: &Event) {
        let mut running = self.running.lock().unwrap();
        match event {
            Event::StepStarted { node, attempt, .. } => {
                let bar = running.entry(node.clone()).or_insert_with(|| self.line(node));
                if *attempt > 1 {
                    bar.set_message(format!("attempt {attempt}"));
                }
            }
            Event::StepProgress { node, done, total, message } => {
                if let Some(bar) = running.get(node) {
                    bar.set_message(format!("{message} {done}/{total}"));
                }
            }
            Event::StepRetrying { node, delay_ms, error, code, .. } => {
                if let Some(bar) = running.get(node) {
                    bar.set_message(format!("retrying in {delay_ms} ms: {error} [{code}]"));
                }
            }
            Event::StepFinished { node, status, error, code, .. } => {
                if let Some(bar) = running.remove(node) {
                    bar.finish_and_clear();
                }
                self.overall.inc(1);
                if let Some(e) = error {
                    self.multi.suspend(|| eprintln!("{status} {node}: {}", super::events::coded(e, *code)));
                }
            }
            Event::StepCached { .. } | Event::StepSkipped { .. } => self.overall.inc(1),
            Event::RunFinished { .. } => self.overall.finish_and_clear(),
            Event::RunStarted { .. } => {}
        }
    }
}
