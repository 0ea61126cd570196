//! Everything that can go wrong in the sandbox, each kind with a stable code.

use std::path::PathBuf;

use crate::columns::ColumnError;
use crate::ir_error::IrError;

/// What stopped a reward mid-run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrapKind {
    /// The per-event fuel budget ran out (usually an endless loop).
    OutOfFuel,
    /// The wall-clock deadline passed.
    Deadline,
    /// The module tried to grow memory (or a table) past the cap.
    MemoryLimit,
    /// The wasm stack limit was hit (usually runaway recursion).
    StackOverflow,
    /// An `unreachable` instruction ran.
    Unreachable,
    /// A load or store outside linear memory.
    OutOfBounds,
    /// Integer division by zero or overflow, or a bad float-to-int conversion.
    Arithmetic,
    /// A bad indirect call.
    IndirectCall,
    /// Any other trap, with wasmtime's description.
    Other(String),
}

impl TrapKind {
    /// A short stable name, e.g. `out_of_fuel`.
    pub fn name(&self) -> &'static str {
        match self {
            TrapKind::OutOfFuel => "out_of_fuel",
            TrapKind::Deadline => "deadline",
            TrapKind::MemoryLimit => "memory_limit",
            TrapKind::StackOverflow => "stack_overflow",
            TrapKind::Unreachable => "unreachable",
            TrapKind::OutOfBounds => "out_of_bounds",
            TrapKind::Arithmetic => "arithmetic",
            TrapKind::IndirectCall => "indirect_call",
            TrapKind::Other(_) => "other",
        }
    }
}

impl std::fmt::Display for TrapKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrapKind::OutOfFuel => f.write_str("ran out of fuel (per-event budget exceeded)"),
            TrapKind::Deadline => f.write_str("exceeded its wall-clock deadline"),
            TrapKind::MemoryLimit => f.write_str("tried to grow memory past the cap"),
            TrapKind::StackOverflow => f.write_str("overflowed the wasm stack"),
            TrapKind::Unreachable => f.write_str("executed `unreachable`"),
            TrapKind::OutOfBounds => f.write_str("accessed memory out of bounds"),
            TrapKind::Arithmetic => f.write_str("hit an integer arithmetic trap"),
            TrapKind::IndirectCall => f.write_str("made a bad indirect call"),
            TrapKind::Other(msg) => write!(f, "trapped: {msg}"),
        }
    }
}

/// A sandbox failure. The host is never poisoned by one: the engine keeps serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The reward tree is ill-typed (only a tree built outside the dsl's checker can be).
    #[error(transparent)]
    Ir(#[from] IrError),
    /// The bytes are neither a wasm binary nor valid WAT text.
    #[error("reward `{reward}` is not a WebAssembly module: {reason}")]
    NotWasm {
        /// The reward.
        reward: String,
        /// Why.
        reason: String,
    },
    /// The module is wasm but does not validate or compile.
    #[error("reward `{reward}` is invalid WebAssembly: {reason}")]
    Invalid {
        /// The reward.
        reward: String,
        /// Why.
        reason: String,
    },
    /// The module imports something; rewards get no imports at all (no WASI).
    #[error(
        "reward `{reward}` imports `{module}::{name}`, but rewards run with no imports (no WASI, no host functions)"
    )]
    Import {
        /// The reward.
        reward: String,
        /// The import's module, e.g. `wasi_snapshot_preview1`.
        module: String,
        /// The import's name, e.g. `fd_write`.
        name: String,
    },
    /// A required export is missing or has the wrong signature.
    #[error("reward `{reward}`: export `{export}` {problem}")]
    Export {
        /// The reward.
        reward: String,
        /// The export's name.
        export: String,
        /// What is wrong, including the expected signature.
        problem: String,
    },
    /// The module's schema string is malformed.
    #[error("reward `{reward}` declares a bad schema: {problem}")]
    Schema {
        /// The reward.
        reward: String,
        /// What is wrong.
        problem: String,
    },
    /// The columns do not fit the reward's fields.
    #[error("reward `{reward}`: {source}")]
    Columns {
        /// The reward.
        reward: String,
        /// The mismatch.
        source: ColumnError,
    },
    /// The module trapped (including every exhausted limit).
    #[error("reward `{reward}` {kind}{}", row.map(|r| format!(" at event row {r}")).unwrap_or_default())]
    Trap {
        /// The reward.
        reward: String,
        /// What happened.
        kind: TrapKind,
        /// The first event row that had not been scored, when known.
        row: Option<usize>,
    },
    /// `evo_reward` returned a non-zero status.
    #[error("reward `{reward}` reported error code {code} for event rows {first}..{end}")]
    Failed {
        /// The reward.
        reward: String,
        /// The status it returned.
        code: i32,
        /// First row of the failing chunk.
        first: usize,
        /// One past its last row.
        end: usize,
    },
    /// `evo_alloc` returned 0 or a region outside memory.
    #[error("reward `{reward}`: evo_alloc({bytes}) {problem}")]
    Alloc {
        /// The reward.
        reward: String,
        /// Bytes requested.
        bytes: usize,
        /// What went wrong.
        problem: String,
    },
    /// Reading a reward file or the compiled-module cache failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// wasmtime could not be configured.
    #[error("cannot set up the wasm engine: {0}")]
    Engine(String),
}

impl SandboxError {
    /// A stable machine-readable code, e.g. `sandbox::trap`.
    pub fn code(&self) -> &'static str {
        match self {
            SandboxError::Ir(_) => "sandbox::ir",
            SandboxError::NotWasm { .. } => "sandbox::not_wasm",
            SandboxError::Invalid { .. } => "sandbox::invalid",
            SandboxError::Import { .. } => "sandbox::import",
            SandboxError::Export { .. } => "sandbox::export",
            SandboxError::Schema { .. } => "sandbox::schema",
            SandboxError::Columns { .. } => "sandbox::columns",
            SandboxError::Trap { .. } => "sandbox::trap",
            SandboxError::Failed { .. } => "sandbox::failed",
            SandboxError::Alloc { .. } => "sandbox::alloc",
            SandboxError::Io { .. } => "sandbox::io",
            SandboxError::Engine(_) => "sandbox::engine",
        }
    }

    /// The trap kind, if this is a trap.
    pub fn trap_kind(&self) -> Option<&TrapKind> {
        match self {
            SandboxError::Trap { kind, .. } => Some(kind),
            _ => None,
        }
    }
}
