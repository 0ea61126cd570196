//! `evoflow completions SHELL`: a completion script for the shell, generated from the command
//! line's definition so it never falls behind it.

use std::process::ExitCode;

use clap_complete::Shell;

#[derive(clap::Args)]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: Args, command: &mut clap::Command) -> ExitCode {
    clap_complete::generate(args.shell, command, "evoflow", &mut std::io::stdout());
    ExitCode::SUCCESS
}
