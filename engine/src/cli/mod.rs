//! Command-line interface: argument parsing and the subcommands.

mod check;
mod completions;
mod dry_run;
mod explain;
mod fmt;
mod graph;
mod init;
mod journal;
mod loop_summary;
mod lsp;
pub mod output;
mod report;
mod run;
mod worker;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

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
    /// Start a project: a workflow over your interactions file, a commented evoflow.toml, a .gitignore
    Init(init::Args),
    /// Serve the language server protocol on stdin/stdout, for editors
    Lsp,
    /// Run one step of a run as a cluster job (what the Slurm executor submits)
    #[command(hide = true)]
    Worker(worker::Args),
    /// Print a shell completion script: `evoflow completions bash > ~/.local/share/bash-completion/completions/evoflow`
    Completions(completions::Args),
}

/// `evoflow 0.1.0 (libtorch 2.11.0+cpu, DuckDB v1.5.6)`: what `--version` prints.
fn version() -> String {
    // The DuckDB the process loaded, from the library itself; libtorch's from its build-version
    // file when the binary was built (engine/build.rs).
    // SAFETY: returns a pointer to a static, NUL-terminated string owned by libduckdb.
    let duckdb = unsafe { std::ffi::CStr::from_ptr(duckdb::ffi::duckdb_library_version()) };
    format!(
        "{} (libtorch {}, DuckDB {})",
        env!("CARGO_PKG_VERSION"),
        env!("EVOFLOW_LIBTORCH_VERSION"),
        duckdb.to_string_lossy()
    )
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
    // clap keeps its strings for the life of the process; so does this one.
    let version: &'static str = Box::leak(version().into_boxed_str());
    let parsed = Cli::command()
        .version(version)
        .long_version(version)
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
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
        Command::Init(args) => init::run(args),
        Command::Lsp => lsp::run(),
        Command::Worker(args) => worker::run(args),
        Command::Completions(args) => completions::run(args, &mut Cli::command()),
    }
}
