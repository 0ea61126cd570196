//! `evoflow check FILE...`

use std::process::ExitCode;

use super::output;
use super::output::{compile, plural, Failure};
use super::{parse_set, DiagnosticFormat, EXIT_INVALID};

#[derive(clap::Args)]
pub struct Args {
    /// Workflow files to check
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Override a param: `--set budget=50` (repeatable)
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    set: Vec<(String, String)>,
    /// How to print diagnostics
    #[arg(long, value_enum, default_value_t)]
    format: DiagnosticFormat,
}

pub fn run(args: Args) -> ExitCode {
    let mut failed = false;
    let mut json_ok = Vec::new();
    for file in &args.files {
        match compile(file, &args.set, args.format) {
            Ok(program) => {
                let plan = dsl::Plan::new(&program);
                match args.format {
                    DiagnosticFormat::Human => println!(
                        "ok {file}: {}, {}, {}, {}",
                        plural(plan.len(), "step"),
                        plural(program.models.len(), "model"),
                        plural(program.rewards.len(), "reward"),
                        plural(program.personas.len(), "persona"),
                    ),
                    DiagnosticFormat::Json => json_ok.push(file.clone()),
                }
            }
            Err(Failure::Invalid(n)) => {
                failed = true;
                if args.format == DiagnosticFormat::Human {
                    output::error(format_args!("`{file}` has {}", plural(n, "error")));
                }
            }
            Err(Failure::Io) => failed = true,
        }
    }
    if args.format == DiagnosticFormat::Json && !failed {
        println!("[]");
    }
    if failed {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    }
}
