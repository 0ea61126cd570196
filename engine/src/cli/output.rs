//! Shared output helpers: compiling a file for a command and printing its diagnostics.

use std::io::IsTerminal;

use super::DiagnosticFormat;
use crate::fs_loader::{io_reason, FsLoader};

/// Whether stderr gets colors.
pub fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Reads and checks one workflow. `Err` carries what was already printed.
pub fn compile(path: &str, overrides: &[(String, String)], format: DiagnosticFormat) -> Result<dsl::Program, Failure> {
    let text = read(path)?;
    let checked = dsl::check(path, &text, &FsLoader, overrides);
    match checked.result {
        Ok(program) => Ok(program),
        Err(diags) => {
            print_diagnostics(&diags, &checked.sources, format);
            Err(Failure::Invalid(diags.len()))
        }
    }
}

/// Reads a workflow file, or says why not.
pub fn read(path: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| {
        error(format_args!("cannot read `{path}`: {}", io_reason(&e)));
        Failure::Io
    })
}

/// Prints a note to stderr: something a person should know about what they are looking at.
pub fn note(message: impl std::fmt::Display) {
    eprintln!("note: {message}");
}

/// Prints a warning to stderr: something was wrong and evoflow dealt with it.
pub fn warning(message: impl std::fmt::Display) {
    if color() {
        eprintln!("\x1b[1;33mwarning\x1b[0m: {message}");
    } else {
        eprintln!("warning: {message}");
    }
}

/// Prints an error that has no source location to stderr: every command's errors outside a
/// `.evo` file (those are diagnostics, rendered by `print_diagnostics`) go through here.
pub fn error(message: impl std::fmt::Display) {
    if color() {
        eprintln!("\x1b[1;31merror\x1b[0m: {message}");
    } else {
        eprintln!("error: {message}");
    }
}

/// Prints diagnostics to stderr (human) or stdout (JSON).
pub fn print_diagnostics(diags: &[dsl::Diagnostic], sources: &dsl::SourceMap, format: DiagnosticFormat) {
    match format {
        DiagnosticFormat::Human => eprint!("{}", dsl::render::render(diags, sources, color())),
        DiagnosticFormat::Json => {
            emit(&format!("{}\n", serde_json::to_string_pretty(&dsl::render::to_json(diags, sources)).unwrap()))
        }
    }
}

/// Why a command stopped.
pub enum Failure {
    /// The program has this many errors (already printed).
    Invalid(usize),
    /// A file could not be read (already printed).
    Io,
}

/// `1 error` / `3 errors`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Writes to stdout; a closed pipe (`evoflow graph x | head`) is not an error worth a panic.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
