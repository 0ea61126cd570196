//! glibc's allocator tuned for libtorch's pattern: tensors of tens of MB allocated and freed at
//! every step. Above glibc's mmap threshold (dynamic, 32 MB at most) each one is mapped afresh,
//! faulted in page by page and unmapped again: a sampled softmax with 64 negatives spent more
//! time in the kernel than in its kernels (126 s, sys-dominated, against 51 s with the thresholds
//! raised; BENCHMARKS.md). Freed blocks are kept and reused instead.

/// Requests at or above this are mapped on their own; below it they come from the heap.
const MMAP_THRESHOLD: i32 = 512 << 20;
/// Free memory at the top of the heap beyond this is returned to the system.
const TRIM_THRESHOLD: i32 = 1 << 30;

/// Raises glibc's mmap and trim thresholds for this process; call once at start-up, before
/// other threads allocate. A no-op where the C library is not glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        // One arena: a thread's own arena grows in heaps of 64 MB at most, and a request larger
        // than that is mapped whatever the threshold (a softmax batch with 128 negatives is 67 MB).
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
