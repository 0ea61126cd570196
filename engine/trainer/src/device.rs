//! Where training runs: `auto`, `cpu`, `cuda` or `cuda:N`, and a sentence saying why.
//!
//! Rust links with `--as-needed`, so `libtorch_cuda.so` is never a dependency of our binaries even
//! where it exists: CUDA kernels register only if the process `dlopen`s that library itself, before
//! the first torch call. On machines without it the `dlopen` fails harmlessly and we stay on CPU.

use std::str::FromStr;
use std::sync::OnceLock;

/// The device a run asked for (the `.evo` `device` param, or `--device`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceChoice {
    /// CUDA device 0 when it can be used, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device N; an error if it cannot be used.
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(DeviceChoice::Cuda(n)),
                _ => Err(DeviceError::Unknown(s.to_string())),
            },
        }
    }
}

/// Why a device could not be chosen.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeviceError {
    /// The text is not `auto`, `cpu`, `cuda` or `cuda:N`.
    #[error("unknown device `{0}`: use auto, cpu, cuda or cuda:N")]
    Unknown(String),
    /// CUDA was asked for explicitly and cannot be used.
    #[error("device cuda:{index} is not usable: {reason}")]
    CudaUnavailable {
        /// The requested device index.
        index: usize,
        /// What was found instead.
        reason: String,
    },
}

/// The chosen device and a sentence explaining the choice (for logs and the journal).
#[derive(Clone, Debug)]
pub struct Chosen {
    /// The tch device to put tensors on.
    pub device: tch::Device,
    /// Why this device, in one sentence.
    pub reason: String,
}

/// Loads `libtorch_cuda.so` once per process (RTLD_NOW | RTLD_GLOBAL) so CUDA kernels register.
/// Returns the `dlerror` text when it cannot be loaded. Call before any other torch call.
pub fn load_cuda_library() -> Result<(), String> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let name = c"libtorch_cuda.so";
            // SAFETY: dlopen with a valid C string; the handle is deliberately leaked so the library
            // stays loaded for the life of the process (torch keeps pointers into it).
            let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
            if handle.is_null() {
                // SAFETY: dlerror returns a thread-local C string or null.
                let err = unsafe { libc::dlerror() };
                let text = if err.is_null() {
                    "dlopen failed".to_string()
                } else {
                    // SAFETY: non-null dlerror result is a valid NUL-terminated string.
                    unsafe { std::ffi::CStr::from_ptr(err) }.to_string_lossy().into_owned()
                };
                Err(text)
            } else {
                Ok(())
            }
        })
        .clone()
}

/// Resolves a choice to a device, loading the CUDA library first when CUDA may be used.
pub fn choose(choice: DeviceChoice) -> Result<Chosen, DeviceError> {
    match choice {
        DeviceChoice::Cpu => Ok(Chosen { device: tch::Device::Cpu, reason: "cpu: requested explicitly".into() }),
        DeviceChoice::Auto => match cuda_status(0) {
            Ok(count) => Ok(Chosen {
                device: tch::Device::Cuda(0),
                reason: format!("cuda:0: libtorch_cuda.so loaded and {count} CUDA device(s) available"),
            }),
            Err(why) => Ok(Chosen { device: tch::Device::Cpu, reason: format!("cpu: {why}") }),
        },
        DeviceChoice::Cuda(index) => match cuda_status(index) {
            Ok(count) => Ok(Chosen {
                device: tch::Device::Cuda(index),
                reason: format!("cuda:{index}: requested, {count} CUDA device(s) available"),
            }),
            Err(reason) => Err(DeviceError::CudaUnavailable { index, reason }),
        },
    }
}

/// The number of CUDA devices when device `index` is usable, else why not.
fn cuda_status(index: usize) -> Result<i64, String> {
    load_cuda_library().map_err(|e| format!("libtorch_cuda.so cannot be loaded ({e})"))?;
    if !tch::Cuda::is_available() {
        return Err("libtorch_cuda.so loaded but no CUDA device is available".into());
    }
    let count = tch::Cuda::device_count();
    if index as i64 >= count {
        return Err(format!("only {count} CUDA device(s) present"));
    }
    Ok(count)
}

/// Sets torch's intra-op thread count (process-wide); on shared machines use 1 or 2.
pub fn set_threads(n: usize) {
    tch::set_num_threads(n.max(1) as i32);
}
