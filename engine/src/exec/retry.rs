//! Retry delays: exponential backoff with jitter, so retries of many steps do not line up.

use std::time::Duration;

use rand::Rng;

/// The first retry waits about this long; each later one twice as long as the one before.
const BASE_MS: u64 = 200;
/// No retry waits longer than this.
const CAP_MS: u64 = 30_000;

/// The delay before attempt `attempt + 1`, after `attempt` failed (attempts count from 1).
pub fn backoff(attempt: u32) -> Duration {
    let exp = BASE_MS.saturating_mul(1u64 << attempt.saturating_sub(1).min(16)).min(CAP_MS);
    let jitter = rand::thread_rng().gen_range(0.0..0.5);
    Duration::from_millis((exp as f64 * (1.0 + jitter)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        for attempt in 1..40 {
            let d = backoff(attempt).as_millis() as u64;
            let exp = (BASE_MS << (attempt - 1).min(16)).min(CAP_MS);
            assert!(d >= exp && d < exp * 3 / 2 + 1, "attempt {attempt}: {d} ms");
        }
    }
}
