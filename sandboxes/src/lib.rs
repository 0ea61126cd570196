//! Reward sandbox: reward functions compiled to WebAssembly and run under wasmtime with hard
//! limits (fuel, wall-clock deadline, memory, stack), plus external rewards that speak the same
//! batch ABI. The semantics and the ABI are specified in `grammar/README.md`.
//!
//! Data flow: the dsl's checked reward ([`dsl::reward::RewardFn`]) → [`check()`] →
//! [`compile::compile`] (wasm bytes) → [`Sandbox`] (compiled, limited, cached) →
//! [`Sandbox::run`] over [`Columns`]. [`interp::Interpreter`] is the reference semantics the
//! compiled path is tested against. The sandbox has no tree of its own: it compiles the one the
//! dsl's checker produces.

#![warn(missing_docs)]

pub mod abi;
mod check;
mod columns;
pub mod compile;
mod error;
pub mod interp;
mod ir_error;
pub mod math;
mod runtime;

pub use check::check;
pub use columns::{Column, ColumnData, ColumnError, Columns};
pub use dsl::reward::{RField as Field, RType as Type, RewardFn};
pub use error::{SandboxError, TrapKind};
pub use ir_error::IrError;
pub use runtime::{Limits, ModuleCache, Sandbox, SandboxEngine};
