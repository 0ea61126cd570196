//! `evoflow lsp`: the language server, for editors (see `editors/vscode`).

use std::process::ExitCode;

use super::output;

pub fn run() -> ExitCode {
    match crate::lsp::serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(format_args!("language server: {e}"));
            ExitCode::from(1)
        }
    }
}
