//! `evoflow`: check, plan and format `.evo` workflows for self-evolving recommenders.

mod cache;
mod cli;
mod config;
mod exec;
mod fs_loader;
mod journal_access;
mod journal_recorder;
mod jsonl;
mod loops;
mod lsp;
mod model_records;
mod plan_status;
mod report;
mod steps;
mod store;
mod training;

use std::process::ExitCode;

fn main() -> ExitCode {
    trainer::allocator::keep_freed_memory();
    cli::main()
}
