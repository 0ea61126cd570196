//! Resource limits applied to every call, and the store limiter that enforces the caps.

use std::time::Duration;

/// Limits every reward runs under. Exhausting any of them is a [`crate::TrapKind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Fuel (roughly, wasm instructions) each event may use; a chunk of `n` events gets
    /// `n * fuel_per_event + fuel_per_call`.
    pub fuel_per_event: u64,
    /// Fuel for a call's fixed work: instantiation, `evo_alloc`, `evo_schema`.
    pub fuel_per_call: u64,
    /// Wall-clock budget of one [`crate::Sandbox::run`] call (or one load).
    pub deadline: Duration,
    /// Largest linear memory, in bytes.
    pub max_memory_bytes: usize,
    /// Largest table, in elements.
    pub max_table_elements: usize,
    /// Largest wasm stack, in bytes.
    pub max_stack_bytes: usize,
    /// Events handed to the module per call; bounds the memory a run needs.
    pub chunk_rows: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel_per_event: 100_000,
            fuel_per_call: 10_000_000,
            deadline: Duration::from_secs(30),
            max_memory_bytes: 256 << 20,
            max_table_elements: 10_000,
            max_stack_bytes: 512 << 10,
            chunk_rows: 16_384,
        }
    }
}

/// The error a limiter raises; it turns the offending `memory.grow` into a trap the host can
/// recognise (rather than a silent `-1`), so a runaway module is stopped and reported.
#[derive(Debug, thiserror::Error)]
#[error("{what} would grow to {desired}, past the cap of {cap}")]
pub(crate) struct CapExceeded {
    what: &'static str,
    desired: usize,
    cap: usize,
}

/// Per-store caps on memory, tables and instance counts.
pub(crate) struct Limiter {
    max_memory: usize,
    max_table: usize,
}

impl Limiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Limiter { max_memory: limits.max_memory_bytes, max_table: limits.max_table_elements }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            return Err(wasmtime::Error::new(CapExceeded { what: "memory", desired, cap: self.max_memory }));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_table {
            return Err(wasmtime::Error::new(CapExceeded { what: "a table", desired, cap: self.max_table }));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        4
    }

    fn memories(&self) -> usize {
        1
    }
}
