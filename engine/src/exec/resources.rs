//! Resource units (`cpu`, `gpu`, `llm`) that steps hold while they run, in fractions: a step may
//! ask for `gpu: 0.25` so four share one device.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Fractions are counted in thousandths.
const SCALE: f64 = 1000.0;

/// The pools of one run.
pub struct Resources {
    pools: BTreeMap<String, (Arc<Semaphore>, u32)>,
}

impl Resources {
    /// Pools with these capacities (units → amount).
    pub fn new(capacities: &BTreeMap<String, f64>) -> Self {
        let pools = capacities
            .iter()
            .map(|(unit, amount)| {
                let permits = (amount * SCALE).round().max(1.0) as u32;
                (unit.clone(), (Arc::new(Semaphore::new(permits as usize)), permits))
            })
            .collect();
        Resources { pools }
    }

    /// Waits until every unit asked for is free and holds them until the permits drop. Units are
    /// taken in a fixed order, so two steps can never each hold what the other waits for. A
    /// request above a pool's size takes the whole pool; unknown units are not limited.
    pub async fn acquire(&self, request: &BTreeMap<String, f64>) -> Vec<OwnedSemaphorePermit> {
        let mut permits = Vec::new();
        for (unit, amount) in request {
            let Some((pool, size)) = self.pools.get(unit) else { continue };
            let want = ((amount * SCALE).round() as u32).clamp(1, *size);
            permits.push(pool.clone().acquire_many_owned(want).await.expect("pools are never closed"));
        }
        permits
    }
}
