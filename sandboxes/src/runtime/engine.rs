//! [`SandboxEngine`]: one wasmtime engine configured for rewards, plus the epoch ticker that
//! gives every call a wall-clock deadline.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::SandboxError;
use crate::runtime::cache::ModuleCache;
use crate::runtime::limits::Limits;
use crate::runtime::load;
use crate::runtime::sandbox::Sandbox;
use dsl::reward::{RewardDef, RewardFn};

/// How often the epoch advances; the granularity of deadlines.
pub(crate) const TICK: Duration = Duration::from_millis(5);

/// State shared by an engine and every sandbox it made.
pub(crate) struct Shared {
    pub engine: wasmtime::Engine,
    pub limits: Limits,
    pub cache: Option<ModuleCache>,
    _ticker: Ticker,
}

/// Compiles and loads rewards; cheap to share, safe to use from many threads.
#[derive(Clone)]
pub struct SandboxEngine {
    shared: Arc<Shared>,
}

impl SandboxEngine {
    /// An engine whose rewards run under `limits`, without a module cache.
    pub fn new(limits: Limits) -> Result<Self, SandboxError> {
        Self::build(limits, None)
    }

    /// An engine that keeps compiled modules in `dir` (see [`ModuleCache`]).
    pub fn with_cache(limits: Limits, dir: impl AsRef<Path>) -> Result<Self, SandboxError> {
        Self::build(limits, Some(ModuleCache::new(dir.as_ref())))
    }

    fn build(limits: Limits, cache: Option<ModuleCache>) -> Result<Self, SandboxError> {
        let mut config = wasmtime::Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(limits.max_stack_bytes)
            .cranelift_opt_level(wasmtime::OptLevel::Speed);
        let engine = wasmtime::Engine::new(&config).map_err(|e| SandboxError::Engine(e.to_string()))?;
        let ticker = Ticker::start(engine.clone())?;
        Ok(SandboxEngine { shared: Arc::new(Shared { engine, limits, cache, _ticker: ticker }) })
    }

    /// The limits rewards run under.
    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// Checks and compiles a reward written in `.evo`.
    pub fn compile(&self, reward: &RewardFn) -> Result<Sandbox, SandboxError> {
        let wasm = crate::compile::compile(reward)?;
        load::load(&self.shared, &reward.name, &wasm)
    }

    /// Loads an external reward from `.wasm` or `.wat` bytes; `name` is used in errors.
    pub fn load(&self, name: &str, bytes: &[u8]) -> Result<Sandbox, SandboxError> {
        load::load(&self.shared, name, bytes)
    }

    /// Loads an external reward from a `.wasm` or `.wat` file, named after the file stem.
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<Sandbox, SandboxError> {
        let path = path.as_ref();
        let name =
            path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
        self.load(&name, &read(path)?)
    }

    /// Any checked reward: compiled from its tree, or read from its `.wasm`/`.wat` file (a path
    /// relative to the current directory, as the checker resolved it).
    pub fn load_reward(&self, def: &RewardDef) -> Result<Sandbox, SandboxError> {
        match def {
            RewardDef::Function { function, .. } => self.compile(function),
            RewardDef::External { name, path, .. } => self.load(name, &read(Path::new(path))?),
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, SandboxError> {
    std::fs::read(path).map_err(|source| SandboxError::Io { path: path.to_path_buf(), source })
}

/// Advances the engine's epoch every [`TICK`] until dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: wasmtime::Engine) -> Result<Self, SandboxError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("evoflow-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::park_timeout(TICK);
                    engine.increment_epoch();
                }
            })
            .map_err(|e| SandboxError::Engine(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Ticker { stop, handle: Some(handle) })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            // The thread only sleeps and ticks; a join error would mean it panicked, and
            // there is nothing left to clean up either way.
            let _ = handle.join();
        }
    }
}
