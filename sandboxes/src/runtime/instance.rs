//! One live instance of a reward: a fresh store with every limit armed, the instance, and its
//! typed exports. Made per run (and once per load), so no state leaks between calls.

use wasmtime::{Instance, Memory, Module, Store, TypedFunc};

use crate::abi;
use crate::error::SandboxError;
use crate::runtime::engine::{Shared, TICK};
use crate::runtime::limits::Limiter;
use crate::runtime::trap;
use dsl::reward::RField as Field;

/// Store data: only the limiter; rewards get no host state at all.
pub(crate) struct Host {
    limiter: Limiter,
}

pub(crate) struct Live<'a> {
    pub store: Store<Host>,
    pub memory: Memory,
    alloc: TypedFunc<i32, i32>,
    pub reward: TypedFunc<(i32, i32), i32>,
    schema: TypedFunc<(), i32>,
    version: TypedFunc<(), i32>,
    shared: &'a Shared,
    name: &'a str,
}

/// A trap (or any limit) while running `name`, first unscored row `row` if known.
pub(crate) fn trap_error(name: &str, err: &wasmtime::Error, row: Option<usize>) -> SandboxError {
    SandboxError::Trap { reward: name.to_string(), kind: trap::classify(err), row }
}

fn export_error(name: &str, export: &str, err: &wasmtime::Error) -> SandboxError {
    SandboxError::Export { reward: name.to_string(), export: export.to_string(), problem: trap::describe(err) }
}

impl<'a> Live<'a> {
    /// Instantiates `module` under the engine's limits; the wall-clock deadline starts now.
    pub fn new(shared: &'a Shared, module: &Module, name: &'a str) -> Result<Self, SandboxError> {
        let limits = &shared.limits;
        let mut store = Store::new(&shared.engine, Host { limiter: Limiter::new(limits) });
        store.limiter(|host| &mut host.limiter);
        let ticks = (limits.deadline.as_nanos() / TICK.as_nanos()).max(1) as u64 + 1;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        store.set_fuel(limits.fuel_per_call).map_err(|e| SandboxError::Engine(e.to_string()))?;
        let instance = Instance::new(&mut store, module, &[]).map_err(|e| trap_error(name, &e, None))?;
        let memory = instance.get_memory(&mut store, abi::MEMORY_EXPORT).ok_or_else(|| SandboxError::Export {
            reward: name.to_string(),
            export: abi::MEMORY_EXPORT.to_string(),
            problem: "is missing".to_string(),
        })?;
        let alloc = instance
            .get_typed_func(&mut store, abi::ALLOC_EXPORT)
            .map_err(|e| export_error(name, abi::ALLOC_EXPORT, &e))?;
        let reward = instance
            .get_typed_func(&mut store, abi::REWARD_EXPORT)
            .map_err(|e| export_error(name, abi::REWARD_EXPORT, &e))?;
        let schema = instance
            .get_typed_func(&mut store, abi::SCHEMA_EXPORT)
            .map_err(|e| export_error(name, abi::SCHEMA_EXPORT, &e))?;
        let version = instance
            .get_typed_func(&mut store, abi::ABI_VERSION_EXPORT)
            .map_err(|e| export_error(name, abi::ABI_VERSION_EXPORT, &e))?;
        Ok(Live { store, memory, alloc, reward, schema, version, shared, name })
    }

    /// Arms the fuel for a call scoring `events` events.
    pub fn refuel(&mut self, events: usize) -> Result<(), SandboxError> {
        let limits = &self.shared.limits;
        let fuel = limits.fuel_per_event.saturating_mul(events as u64).saturating_add(limits.fuel_per_call);
        self.store.set_fuel(fuel).map_err(|e| SandboxError::Engine(e.to_string()))
    }

    /// Asks the module for `bytes` bytes and checks the answer lies inside its memory.
    pub fn alloc(&mut self, bytes: usize) -> Result<u32, SandboxError> {
        let fail = |problem: String| SandboxError::Alloc { reward: self.name.to_string(), bytes, problem };
        let request = i32::try_from(bytes).map_err(|_| fail("asks for more than the 32-bit ABI can address".into()))?;
        self.refuel(0)?;
        let ptr = self.alloc.call(&mut self.store, request).map_err(|e| trap_error(self.name, &e, None))? as u32;
        if ptr == 0 {
            return Err(fail("returned 0 (out of memory)".into()));
        }
        let end = ptr as usize + bytes;
        if !ptr.is_multiple_of(8) || end > self.memory.data_size(&self.store) {
            return Err(fail(format!("returned {ptr}, which is misaligned or leaves linear memory")));
        }
        Ok(ptr)
    }

    /// Checks the ABI version and reads the module's schema.
    pub fn fields(&mut self) -> Result<Vec<Field>, SandboxError> {
        let schema_error = |problem: String| SandboxError::Schema { reward: self.name.to_string(), problem };
        self.refuel(0)?;
        let version = self.version.call(&mut self.store, ()).map_err(|e| trap_error(self.name, &e, None))?;
        if version != abi::ABI_VERSION {
            return Err(SandboxError::Export {
                reward: self.name.to_string(),
                export: abi::ABI_VERSION_EXPORT.to_string(),
                problem: format!("returned {version}; this host speaks ABI version {}", abi::ABI_VERSION),
            });
        }
        let ptr = self.schema.call(&mut self.store, ()).map_err(|e| trap_error(self.name, &e, None))? as u32 as usize;
        let memory = self.memory.data(&self.store);
        let tail =
            memory.get(ptr..).ok_or_else(|| schema_error(format!("evo_schema returned {ptr}, outside memory")))?;
        let tail = &tail[..tail.len().min(abi::MAX_SCHEMA_BYTES)];
        let len = tail
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(|| schema_error(format!("no NUL terminator within {} bytes", abi::MAX_SCHEMA_BYTES)))?;
        let text =
            std::str::from_utf8(&tail[..len]).map_err(|_| schema_error("the schema string is not UTF-8".into()))?;
        abi::parse_schema(text).map_err(schema_error)
    }
}
