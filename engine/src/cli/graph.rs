//! `evoflow graph FILE`

use std::process::ExitCode;

use clap::ValueEnum;

use super::output::{compile, emit};
use super::{parse_set, DiagnosticFormat, EXIT_INVALID};

#[derive(Clone, Copy, Default, ValueEnum)]
enum GraphFormat {
    /// Graphviz
    #[default]
    Dot,
    /// Mermaid flowchart
    Mermaid,
    /// Nodes with resolved arguments, and edges
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The workflow file
    #[arg(value_name = "FILE")]
    file: String,
    /// Override a param: `--set budget=50` (repeatable)
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    set: Vec<(String, String)>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: GraphFormat,
}

pub fn run(args: Args) -> ExitCode {
    let diag_format = match args.format {
        GraphFormat::Json => DiagnosticFormat::Json,
        _ => DiagnosticFormat::Human,
    };
    let Ok(program) = compile(&args.file, &args.set, diag_format) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let plan = dsl::Plan::new(&program);
    match args.format {
        GraphFormat::Dot => emit(&plan.to_dot()),
        GraphFormat::Mermaid => emit(&plan.to_mermaid()),
        GraphFormat::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&plan.to_json()).unwrap())),
    }
    ExitCode::SUCCESS
}
