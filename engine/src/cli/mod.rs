//! Command-line interface: argument parsing and the subcommands.

mod check;
mod fmt;
mod graph;
mod output;

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

pub fn main() -> ExitCode {
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
    }
}
