//! Reward sandbox: reward functions compiled to WebAssembly and run under wasmtime with hard
//! limits (fuel, wall-clock deadline, memory, stack), plus external rewards that speak the same
//! batch ABI. The semantics and the ABI are specified in `grammar/README.md`.
//!
//! Data flow: [`ir::RewardIr`] → [`ir::check`] → [`compile::compile`] (wasm bytes) →
//! [`Sandbox`] (compiled, limited, cached) → [`Sandbox::run`] over [`Columns`].
//! [`interp::Interpreter`] is the reference semantics the compiled path is tested against.

#![warn(missing_docs)]

pub mod abi;
mod columns;
pub mod compile;
mod error;
pub mod interp;
pub mod ir;
mod ir_error;
pub mod math;
mod runtime;
mod typed;

pub use columns::{Column, ColumnData, ColumnError, Columns};
pub use error::{SandboxError, TrapKind};
pub use ir::{check, Field, RewardIr, Type};
pub use ir_error::IrError;
pub use runtime::{Limits, ModuleCache, Sandbox, SandboxEngine};
