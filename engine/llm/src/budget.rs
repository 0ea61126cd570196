//! The budget shared by every client of a run: counts attempts and dollars, refuses once a
//! limit is reached.

use std::sync::{Arc, Mutex};

use crate::config::Budget;
use crate::error::BudgetExceeded;

/// A cloneable handle on one budget; clones share the same counters.
#[derive(Debug, Clone, Default)]
pub struct BudgetTracker {
    inner: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    limits: Budget,
    calls: u64,
    cost_usd: f64,
}

/// What a budget has used so far.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Spent {
    /// HTTP attempts made.
    pub calls: u64,
    /// Dollars spent, at the configured prices.
    pub cost_usd: f64,
}

impl BudgetTracker {
    /// A fresh tracker for `limits`.
    pub fn new(limits: Budget) -> BudgetTracker {
        BudgetTracker { inner: Arc::new(Mutex::new(State { limits, calls: 0, cost_usd: 0.0 })) }
    }

    /// A tracker with no limits.
    pub fn unlimited() -> BudgetTracker {
        BudgetTracker::default()
    }

    /// Reserves one attempt, or says which limit is reached. Reserving and checking happen under
    /// one lock, so concurrent callers never exceed `max_calls`. Cost is known only after an
    /// answer, so concurrent calls in flight can overshoot `max_cost_usd` by their own cost.
    pub fn reserve(&self) -> Result<(), BudgetExceeded> {
        let mut s = self.lock();
        if let Some(limit) = s.limits.max_cost_usd {
            if s.cost_usd >= limit {
                return Err(BudgetExceeded::Cost { spent: s.cost_usd, limit });
            }
        }
        if let Some(limit) = s.limits.max_calls {
            if s.calls >= limit {
                return Err(BudgetExceeded::Calls { made: s.calls, limit });
            }
        }
        s.calls += 1;
        Ok(())
    }

    /// Adds the cost of an answered attempt.
    pub fn charge(&self, cost_usd: f64) {
        self.lock().cost_usd += cost_usd;
    }

    /// What was used so far.
    pub fn spent(&self) -> Spent {
        let s = self.lock();
        Spent { calls: s.calls, cost_usd: s.cost_usd }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the counters inconsistent (each update
        // is one assignment), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
