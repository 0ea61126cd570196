//! When to retry and how long to wait: exponential backoff with jitter, or the server's
//! `Retry-After`. Pure functions, so the policy is tested without a clock.

use std::time::Duration;

use rand::Rng;

/// The longest `Retry-After` honoured; a server asking for more gets this much.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Whether an HTTP status is worth another attempt: rate limits, server errors and 408.
pub fn retryable_status(status: u16) -> bool {
    status == 429 || status == 408 || (500..=599).contains(&status)
}

/// The wait before retry number `retry` (0 for the first retry): the server's `Retry-After`
/// when it gave one (capped at `MAX_RETRY_AFTER`), else `base * 2^retry` capped at `max`,
/// scaled by a random factor in [0.5, 1] so that clients hit by the same outage spread out.
pub fn delay(retry: u32, base: Duration, max: Duration, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(MAX_RETRY_AFTER);
    }
    let exp = base.saturating_mul(2u32.saturating_pow(retry.min(31))).min(max);
    exp.mul_f64(rng.gen_range(0.5..=1.0))
}

/// Reads `retry-after-ms` (sent by some OpenAI-compatible servers) or `retry-after` in seconds.
/// HTTP-date values are not parsed and fall back to backoff.
pub fn parse_retry_after(retry_after_ms: Option<&str>, retry_after: Option<&str>) -> Option<Duration> {
    if let Some(ms) = retry_after_ms.and_then(|v| v.trim().parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0).min(MAX_RETRY_AFTER));
        }
    }
    let secs = retry_after?.trim().parse::<f64>().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64())))
}
