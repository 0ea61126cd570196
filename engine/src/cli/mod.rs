//! Command-line interface: argument parsing and the subcommands.

mod check;
mod dry_run;
mod explain;
mod fmt;
mod graph;
mod journal;
mod loop_summary;
pub mod output;
mod report;
mod run;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit status: the program is invalid, or the command line is.
pub const EXIT_INVALID: u8 = 2;

#[derive(Parser)]
#[command(name = "evoflow", version, about = "A workflow engine for self-evolving recommender systems", long_about = None)]
#[command(propagate_version = true, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check workflows: syntax, names, types, model shapes, rewards, data flow
    Check(check::Args),
    /// Print a workflow's plan: the DAG of steps and their data dependencies
    Graph(graph::Args),
    /// Format workflows in the canonical layout (keeps comments)
    Fmt(fmt::Args),
    /// Run a workflow: cached steps are reused, the rest run, everything lands in the journal
    Run(run::Args),
    /// Explain a step's cache key and, for a miss, what changed since it last ran
    Explain(explain::Args),
    /// Show the journal: a summary of the last run, or a read-only SQL query
    Journal(journal::Args),
    /// Write a self-contained HTML report of the journal: scores, operators, lineage, decisions
    Report(report::Args),
}

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// Code frames with carets, for people
    #[default]
    Human,
    /// One JSON array, for tools and agents
    Json,
}

/// `--set NAME=VALUE`, parsed.
pub fn parse_set(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_string(), value.to_string())),
        _ => Err(format!("expected NAME=VALUE, found `{s}`")),
    }
}

/// Stack for the command's thread: checking a 10,000-step chain declared last-first recurses
/// once per step.
const STACK_BYTES: usize = 256 << 20;

pub fn main() -> ExitCode {
    std::thread::Builder::new()
        .name("evoflow".into())
        .stack_size(STACK_BYTES)
        .spawn(dispatch)
        .expect("a thread for the command")
        .join()
        .unwrap_or(ExitCode::from(101))
}

fn dispatch() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_INVALID } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Run(args) => run::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Journal(args) => journal::run(args),
        Command::Report(args) => report::run(args),
    }
}
