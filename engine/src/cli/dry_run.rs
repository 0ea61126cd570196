//! `evoflow run --dry-run`: what would run, and why.

use std::process::ExitCode;

use super::output::{emit, plural};
use crate::plan_status::{statuses, Status};
use crate::steps::Registry;
use crate::store::Store;

pub fn print(
    program: &dsl::Program,
    plan: &dsl::Plan,
    registry: &Registry,
    store: &Store,
    llm: Option<&llm::Config>,
    no_cache: bool,
    rerun: &[String],
) -> ExitCode {
    let all = statuses(program, plan, registry, store, llm, no_cache, rerun);
    let mut text = String::new();
    let mut would_run = 0;
    for s in &all {
        let line = match &s.status {
            Status::Cached { output } => format!("cached   {}  (output {})", s.node, &output[..12]),
            Status::Forced => format!("run      {}  (forced)", s.node),
            Status::Changed { diff } => format!("run      {}  (changed: {})", s.node, diff.join("; ")),
            Status::New => format!("run      {}  (new)", s.node),
            Status::AfterUpstream { upstream } => format!("run?     {}  (after `{upstream}` runs)", s.node),
            Status::Error { message } => format!("error    {}  ({message})", s.node),
        };
        if !matches!(s.status, Status::Cached { .. }) {
            would_run += 1;
        }
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&format!("{} would run or may run, {} cached\n", plural(would_run, "step"), all.len() - would_run));
    emit(&text);
    if all.iter().any(|s| matches!(s.status, Status::Error { .. })) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
