//! **Verify**: a candidate program goes through the same compiler as any workflow (parse, check,
//! plan), and what fails comes back as text an agent can read and act on.

use dsl::{Loader, Plan, Program};

/// Why a delta was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyKind {
    /// The delta itself is malformed: an unknown block, a replacement of another kind or name,
    /// `set` on a block that has no call.
    Delta,
    /// The delta edits a block outside the persona's scope.
    Scope,
    /// The edited program does not compile (syntax, names, types, shapes, reward types).
    Compile,
    /// The edited program is the baseline again.
    NoChange,
}

impl VerifyKind {
    /// A stable short name, for journals and counters.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyKind::Delta => "delta",
            VerifyKind::Scope => "scope",
            VerifyKind::Compile => "compile",
            VerifyKind::NoChange => "no_change",
        }
    }
}

/// A failed verification: its kind and the message to show the agent verbatim (for compile
/// errors, the compiler's rendered diagnostics, without colour).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    pub kind: VerifyKind,
    pub message: String,
}

impl VerifyError {
    /// An error of `kind` with `message`.
    pub fn new(kind: VerifyKind, message: impl Into<String>) -> VerifyError {
        VerifyError { kind, message: message.into() }
    }
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for VerifyError {}

/// Compiles `text` as the file `path` (imports through `loader`): the program and its plan, or
/// the rendered diagnostics.
pub fn compile(
    path: &str,
    text: &str,
    loader: &dyn Loader,
    overrides: &[(String, String)],
) -> Result<(Program, Plan), VerifyError> {
    let checked = dsl::check(path, text, loader, overrides);
    match checked.result {
        Ok(program) => {
            let plan = Plan::new(&program);
            Ok((program, plan))
        }
        Err(diags) => Err(VerifyError::new(VerifyKind::Compile, dsl::render::render(&diags, &checked.sources, false))),
    }
}
