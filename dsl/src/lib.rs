//! The `.evo` language: source → [`ast::Module`] → checked [`Program`] → [`Plan`].
//!
//! This crate does no I/O. Imports are read through the [`Loader`] trait; the standard library
//! is embedded at build time.

pub mod ast;
pub mod builtins;
pub mod check;
pub mod diagnostic;
pub mod fmt;
pub mod metrics;
pub mod parse;
pub mod plan;
pub mod program;
pub mod render;
pub mod reward;
mod scan;
pub use parse::MAX_EXPR_DEPTH;
pub use scan::MAX_NESTING;
pub mod shape;
pub mod span;
pub mod stdlib;
pub mod suggest;
pub mod types;

pub use check::{check, Checked, Loader, NoFiles};
pub use diagnostic::{Diagnostic, ErrorKind};
pub use plan::Plan;
pub use program::Program;
pub use span::{FileId, SourceMap, Span};
