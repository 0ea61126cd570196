//! `evoflow`: check, plan and format `.evo` workflows for self-evolving recommenders.

mod cli;
mod fs_loader;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
