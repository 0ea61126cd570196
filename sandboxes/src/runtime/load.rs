//! From bytes to a checked [`Sandbox`]: recognise wasm or WAT, compile (or fetch from the
//! cache), reject imports and bad exports before anything runs, then read the schema.

use std::borrow::Cow;
use std::sync::Arc;

use wasmtime::{ExternType, FuncType, Module, ValType};

use crate::abi;
use crate::error::SandboxError;
use crate::runtime::engine::Shared;
use crate::runtime::instance::Live;
use crate::runtime::sandbox::Sandbox;
use crate::runtime::trap;

/// Loads reward `name` from wasm or WAT `bytes`.
pub(crate) fn load(shared: &Arc<Shared>, name: &str, bytes: &[u8]) -> Result<Sandbox, SandboxError> {
    let wasm = to_binary(name, bytes)?;
    let compile = || {
        Module::new(&shared.engine, &wasm)
            .map_err(|e| SandboxError::Invalid { reward: name.to_string(), reason: trap::describe(&e) })
    };
    let (module, from_cache) = match &shared.cache {
        Some(cache) => cache.get_or_compile(&shared.engine, &wasm, compile)?,
        None => (compile()?, false),
    };
    inspect(name, &module)?;
    let fields = Live::new(shared, &module, name)?.fields()?;
    Ok(Sandbox::new(Arc::clone(shared), module, name.to_string(), fields, from_cache))
}

/// A wasm binary as is, WAT text assembled; anything else is [`SandboxError::NotWasm`].
fn to_binary<'a>(name: &str, bytes: &'a [u8]) -> Result<Cow<'a, [u8]>, SandboxError> {
    if bytes.starts_with(b"\0asm") {
        return Ok(Cow::Borrowed(bytes));
    }
    let not_wasm = |reason: String| SandboxError::NotWasm { reward: name.to_string(), reason };
    match std::str::from_utf8(bytes) {
        Ok(text) if looks_like_wat(text) => {
            wat::parse_str(text).map(Cow::Owned).map_err(|e| not_wasm(format!("invalid WAT text: {e}")))
        }
        _ => Err(not_wasm(format!(
            "expected a wasm binary (starting with `\\0asm`) or WAT text, found {:02x?}",
            &bytes[..bytes.len().min(8)]
        ))),
    }
}

fn looks_like_wat(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('(') || t.starts_with(";;")
}

/// Rejects imports and checks every export the ABI needs.
fn inspect(name: &str, module: &Module) -> Result<(), SandboxError> {
    if let Some(import) = module.imports().next() {
        return Err(SandboxError::Import {
            reward: name.to_string(),
            module: import.module().to_string(),
            name: import.name().to_string(),
        });
    }
    let export_error = |export: &str, problem: String| SandboxError::Export {
        reward: name.to_string(),
        export: export.to_string(),
        problem,
    };
    match module.get_export(abi::MEMORY_EXPORT) {
        Some(ExternType::Memory(m)) if !m.is_64() && !m.is_shared() => {}
        Some(ExternType::Memory(_)) => {
            return Err(export_error(abi::MEMORY_EXPORT, "must be a 32-bit, unshared memory".into()))
        }
        Some(other) => {
            return Err(export_error(abi::MEMORY_EXPORT, format!("is a {}, expected a memory", kind(&other))))
        }
        None => {
            return Err(export_error(abi::MEMORY_EXPORT, "is missing; the module must export its linear memory".into()))
        }
    }
    let funcs: [(&str, usize); 4] =
        [(abi::ABI_VERSION_EXPORT, 0), (abi::SCHEMA_EXPORT, 0), (abi::ALLOC_EXPORT, 1), (abi::REWARD_EXPORT, 2)];
    for (export, params) in funcs {
        let expected = format!("func({}) -> i32", vec!["i32"; params].join(", "));
        match module.get_export(export) {
            Some(ExternType::Func(ty)) if is_i32_sig(&ty, params) => {}
            Some(ExternType::Func(ty)) => {
                return Err(export_error(export, format!("has type `{}`, expected `{expected}`", render(&ty))))
            }
            Some(other) => return Err(export_error(export, format!("is a {}, expected `{expected}`", kind(&other)))),
            None => return Err(export_error(export, format!("is missing; expected `{expected}`"))),
        }
    }
    Ok(())
}

fn is_i32_sig(ty: &FuncType, params: usize) -> bool {
    let i32s = |mut it: Box<dyn ExactSizeIterator<Item = ValType> + '_>, n: usize| {
        it.len() == n && it.all(|v| matches!(v, ValType::I32))
    };
    i32s(Box::new(ty.params()), params) && i32s(Box::new(ty.results()), 1)
}

fn render(ty: &FuncType) -> String {
    let list = |it: &mut dyn Iterator<Item = ValType>| it.map(|v| v.to_string()).collect::<Vec<_>>().join(", ");
    format!("func({}) -> ({})", list(&mut ty.params()), list(&mut ty.results()))
}

fn kind(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Func(_) => "function",
        ExternType::Global(_) => "global",
        ExternType::Table(_) => "table",
        ExternType::Memory(_) => "memory",
        _ => "non-core item",
    }
}
