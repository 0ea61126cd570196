//! `evoflow fmt [--check] FILE...`

use std::process::ExitCode;

use super::output;
use super::output::{print_diagnostics, read};
use super::{DiagnosticFormat, EXIT_INVALID};

#[derive(clap::Args)]
pub struct Args {
    /// Workflow files to format in place
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Change nothing; exit with 1 if a file is not formatted
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args) -> ExitCode {
    let mut invalid = false;
    let mut unformatted = false;
    for path in &args.files {
        let Ok(text) = read(path) else {
            invalid = true;
            continue;
        };
        let mut sources = dsl::SourceMap::default();
        let file = sources.add(path.clone(), text.clone());
        let module = match dsl::parse::parse(file, &text) {
            Ok(m) => m,
            Err(diags) => {
                print_diagnostics(&diags, &sources, DiagnosticFormat::Human);
                invalid = true;
                continue;
            }
        };
        let formatted = dsl::fmt::format(&module, &text);
        if formatted == text {
            continue;
        }
        if args.check {
            println!("would reformat {path}");
            unformatted = true;
        } else if let Err(e) = std::fs::write(path, &formatted) {
            output::error(format_args!("cannot write `{path}`: {e}"));
            invalid = true;
        } else {
            println!("formatted {path}");
        }
    }
    if invalid {
        ExitCode::from(EXIT_INVALID)
    } else if unformatted {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
