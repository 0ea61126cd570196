//! Turns a wasmtime error from a call into a [`TrapKind`].

use crate::error::TrapKind;
use crate::runtime::limits::CapExceeded;

/// Classifies an error raised while instantiating or calling a reward.
pub(crate) fn classify(err: &wasmtime::Error) -> TrapKind {
    if err.downcast_ref::<CapExceeded>().is_some() || err.chain().any(|e| e.downcast_ref::<CapExceeded>().is_some()) {
        return TrapKind::MemoryLimit;
    }
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => TrapKind::OutOfFuel,
        Some(wasmtime::Trap::Interrupt) => TrapKind::Deadline,
        Some(wasmtime::Trap::StackOverflow) => TrapKind::StackOverflow,
        Some(wasmtime::Trap::UnreachableCodeReached) => TrapKind::Unreachable,
        Some(wasmtime::Trap::MemoryOutOfBounds) | Some(wasmtime::Trap::HeapMisaligned) => TrapKind::OutOfBounds,
        Some(wasmtime::Trap::IntegerOverflow)
        | Some(wasmtime::Trap::IntegerDivisionByZero)
        | Some(wasmtime::Trap::BadConversionToInteger) => TrapKind::Arithmetic,
        Some(wasmtime::Trap::TableOutOfBounds)
        | Some(wasmtime::Trap::IndirectCallToNull)
        | Some(wasmtime::Trap::BadSignature) => TrapKind::IndirectCall,
        Some(other) => TrapKind::Other(other.to_string()),
        None => TrapKind::Other(describe(err)),
    }
}

/// The whole cause chain on one line.
pub(crate) fn describe(err: &wasmtime::Error) -> String {
    err.chain().map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
}
