//! `std::sim`: the user simulator's steps. `logs` writes simulated impressions as a dataset;
//! `satisfaction` and `from_table` make the `Env` an online loop runs its experiments in: an
//! `env.json` holding a `simulator::EnvSpec`.

mod log_file;
mod metric_table;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use simulator::{EnvSpec, WorldSpec, DEFAULT_RETURN_WINDOW, ENV_FILE};

use super::{Step, StepContext, StepError, StepErrorKind};

pub use metric_table::read_metric_table;

/// The `std::sim` steps.
pub fn steps() -> Vec<Arc<dyn Step>> {
    vec![Arc::new(Logs), Arc::new(Satisfaction), Arc::new(FromTable)]
}

/// A non-negative integer argument as a size.
fn size(ctx: &StepContext, name: &str) -> Result<usize, StepError> {
    let v = ctx.int(name)?;
    usize::try_from(v)
        .ok()
        .filter(|&v| v >= 1)
        .ok_or_else(|| StepError::input(format!("`{name}` must be at least 1, got {v}")))
}

/// A day count argument.
fn days(ctx: &StepContext) -> Result<u32, StepError> {
    let v = ctx.int("days")?;
    u32::try_from(v)
        .ok()
        .filter(|&v| v >= 1)
        .ok_or_else(|| StepError::input(format!("`days` must be between 1 and {}, got {v}", u32::MAX)))
}

/// Seeds are any int; negative ones are taken as their two's-complement bits.
fn seed(ctx: &StepContext) -> Result<u64, StepError> {
    Ok(ctx.int("seed")? as u64)
}

/// Writes `env.json` into `out` and returns it as the step's value.
fn write_env(out: &Path, spec: &EnvSpec) -> Result<serde_json::Value, StepError> {
    let json =
        serde_json::to_string_pretty(spec).map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))?;
    std::fs::write(out.join(ENV_FILE), json).map_err(|e| {
        StepError::permanent(StepErrorKind::Io, format!("cannot write {}: {e}", out.join(ENV_FILE).display()))
    })?;
    serde_json::to_value(spec).map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))
}

/// `logs(users:, items:, days:, seed:)`: impressions under the logging policy, as `data.parquet`.
struct Logs;

#[async_trait::async_trait]
impl Step for Logs {
    fn name(&self) -> &'static str {
        "std::sim::logs"
    }

    fn version(&self) -> u32 {
        // 2: users differ in activity (`Params::activity_spread`).
        2
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let spec = WorldSpec::new(size(&ctx, "users")?, size(&ctx, "items")?, seed(&ctx)?);
        let days = days(&ctx)?;
        let out = ctx.out_dir()?.to_path_buf();
        let meta = tokio::task::spawn_blocking(move || {
            let world = spec.build().map_err(|e| e.to_string())?;
            log_file::write(&world, days, spec.seed, &out)
        })
        .await
        .map_err(|e| StepError::permanent(StepErrorKind::Internal, format!("the simulator task failed: {e}")))?
        .map_err(|e| StepError::permanent(StepErrorKind::Simulation, e))?;
        serde_json::to_value(meta).map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))
    }
}

/// `satisfaction(users:, items:, days:, seed:)`: a simulated population to experiment on.
struct Satisfaction;

#[async_trait::async_trait]
impl Step for Satisfaction {
    fn name(&self) -> &'static str {
        "std::sim::satisfaction"
    }

    fn version(&self) -> u32 {
        // 2: users differ in activity; `return_window:`.
        2
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let world = WorldSpec::new(size(&ctx, "users")?, size(&ctx, "items")?, seed(&ctx)?);
        let return_window = match ctx.args.get("return_window") {
            Some(dsl::types::Value::Int(_)) => u32::try_from(size(&ctx, "return_window")?)
                .map_err(|_| StepError::input("`return_window` is too large"))?,
            _ => DEFAULT_RETURN_WINDOW,
        };
        let spec = EnvSpec::Simulator { world, days: days(&ctx)?, return_window };
        write_env(ctx.out_dir()?, &spec)
    }
}

/// `from_table(path)`: metrics from a team's experiment platform. The environment points at the
/// file itself (checked here), because the platform keeps appending days to it: a daily run reads
/// what is known that day, and the changed file re-runs this step.
struct FromTable;

#[async_trait::async_trait]
impl Step for FromTable {
    fn name(&self) -> &'static str {
        "std::sim::from_table"
    }

    fn version(&self) -> u32 {
        1
    }

    fn file_args(&self) -> &'static [&'static str] {
        &["path"]
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let path = PathBuf::from(ctx.str("path")?);
        let path = std::path::absolute(&path).unwrap_or(path);
        let read = path.clone();
        let table = tokio::task::spawn_blocking(move || read_metric_table(&read))
            .await
            .map_err(|e| StepError::permanent(StepErrorKind::Internal, format!("the table task failed: {e}")))?
            .map_err(|e| StepError::permanent(StepErrorKind::Simulation, e))?;
        let rows = table.rows().len() as u64;
        let spec = EnvSpec::Table { path, return_window: DEFAULT_RETURN_WINDOW };
        let mut value = write_env(ctx.out_dir()?, &spec)?;
        value["rows"] = rows.into();
        Ok(value)
    }
}
