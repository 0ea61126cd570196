//! The wasmtime side: an engine with hard limits, module loading and inspection, the
//! compiled-module cache, and batch execution.

mod cache;
mod engine;
mod instance;
mod layout;
pub(crate) mod limits;
mod load;
mod sandbox;
mod trap;

pub use cache::ModuleCache;
pub use engine::SandboxEngine;
pub use limits::Limits;
pub use sandbox::Sandbox;
