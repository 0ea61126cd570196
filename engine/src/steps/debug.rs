//! `std::debug`: small steps for trying a workflow's plumbing — concurrency, retries, timeouts —
//! without data: sleep, fail a number of times, echo a value.

use std::sync::Arc;

use super::{Step, StepContext, StepError, StepErrorKind};

pub fn steps() -> Vec<Arc<dyn Step>> {
    vec![Arc::new(Sleep), Arc::new(Flaky), Arc::new(Echo), Arc::new(FanOut)]
}

/// Waits for a while, then outputs its `value`.
struct Sleep;

#[async_trait::async_trait]
impl Step for Sleep {
    fn name(&self) -> &'static str {
        "std::debug::sleep"
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let ms = ctx.duration_ms("duration")?;
        let steps = 10u64;
        for i in 0..steps {
            tokio::time::sleep(std::time::Duration::from_millis(ms / steps)).await;
            ctx.progress.report(i + 1, steps, "sleeping");
        }
        Ok(serde_json::json!({ "slept_ms": ms, "value": ctx.int("value")? }))
    }
}

/// Fails its first `failures` attempts (transiently, or for good with `permanent: true`).
struct Flaky;

#[async_trait::async_trait]
impl Step for Flaky {
    fn name(&self) -> &'static str {
        "std::debug::flaky"
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let failures = ctx.int("failures")?;
        let permanent = matches!(ctx.arg("permanent")?, dsl::types::Value::Bool(true));
        if permanent {
            return Err(StepError::permanent(StepErrorKind::Debug, "failed on purpose (permanent: true)"));
        }
        if i64::from(ctx.attempt) <= failures {
            return Err(StepError::transient(
                StepErrorKind::Debug,
                format!("failed on purpose (attempt {} of {failures} failing)", ctx.attempt),
            ));
        }
        Ok(serde_json::json!({ "attempts": ctx.attempt }))
    }
}

/// Outputs its argument, as JSON.
struct Echo;

#[async_trait::async_trait]
impl Step for Echo {
    fn name(&self) -> &'static str {
        "std::debug::echo"
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        // An upstream output echoes as what it holds, so a change upstream changes this output.
        let value = match ctx.arg("value")? {
            dsl::types::Value::Node(_) => ctx.input("value")?.meta.clone(),
            other => {
                serde_json::to_value(other).map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))?
            }
        };
        Ok(serde_json::json!({ "value": value }))
    }
}

/// Adds `count` sleeping nodes to the running graph and waits for all of them.
struct FanOut;

#[async_trait::async_trait]
impl Step for FanOut {
    fn name(&self) -> &'static str {
        "std::debug::fan_out"
    }

    fn remote(&self) -> bool {
        false // It adds nodes to the graph: the driver's.
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let count = ctx.int("count")?;
        let mut children = tokio::task::JoinSet::new();
        for i in 0..count {
            let spawner = ctx.spawner.clone();
            let mut args = indexmap::IndexMap::new();
            args.insert("duration".to_string(), ctx.arg("duration")?.clone());
            args.insert("value".to_string(), dsl::types::Value::Int(i));
            args.insert("after".to_string(), dsl::types::Value::List(vec![]));
            children.spawn(
                async move { spawner.run(&format!("{i}"), "std::debug::sleep", args, Default::default()).await },
            );
        }
        let mut outputs = Vec::new();
        while let Some(done) = children.join_next().await {
            let artifact =
                done.map_err(|e| StepError::permanent(StepErrorKind::Internal, format!("a child task failed: {e}")))??;
            outputs.push(artifact.hash);
        }
        outputs.sort();
        Ok(serde_json::json!({ "children": outputs }))
    }
}
