//! `std::data`: reading interaction files and splitting them, through DuckDB (`datasets`).
//! Each step is a thin adapter: arguments in, one `datasets` call on a blocking thread, its
//! `Meta` out.

use std::path::PathBuf;
use std::sync::Arc;

use datasets::{Column, ColumnType, Meta};
use dsl::types::Value;

use super::{Step, StepContext, StepError, StepErrorKind};

pub fn steps() -> Vec<Arc<dyn Step>> {
    vec![
        Arc::new(ReadTable),
        Arc::new(LoadInteractions),
        Arc::new(FilterMin),
        Arc::new(Split(SplitKind::Random)),
        Arc::new(Split(SplitKind::Temporal)),
        Arc::new(Split(SplitKind::LeaveOneOut)),
        Arc::new(WithFeatures),
    ]
}

/// Runs a `datasets` call off the async threads; its errors name the file or column at fault.
async fn blocking(
    work: impl FnOnce() -> datasets::Result<Meta> + Send + 'static,
) -> Result<serde_json::Value, StepError> {
    let meta = tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StepError::permanent(StepErrorKind::Internal, format!("the data task failed: {e}")))?
        .map_err(|e| StepError::permanent(StepErrorKind::Data, e.to_string()))?;
    serde_json::to_value(meta).map_err(|e| StepError::permanent(StepErrorKind::Internal, e.to_string()))
}

/// The `data.parquet` of the dataset an argument names.
fn dataset_file(ctx: &StepContext, arg: &str) -> Result<PathBuf, StepError> {
    Ok(ctx.input(arg)?.file(datasets::DATA_FILE))
}

/// `dataset d = "file.csv" { ... }`: a file with a declared schema.
struct ReadTable;

#[async_trait::async_trait]
impl Step for ReadTable {
    fn name(&self) -> &'static str {
        "std::data::read_table"
    }

    fn version(&self) -> u32 {
        1
    }

    fn file_args(&self) -> &'static [&'static str] {
        &["path"]
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let path = PathBuf::from(ctx.str("path")?);
        let columns = match ctx.args.get("columns") {
            Some(Value::List(cols)) => cols.iter().map(column).collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };
        let out = ctx.out_dir()?.to_path_buf();
        blocking(move || datasets::read_table(&path, &columns, &out)).await
    }
}

/// One column of a checked schema (`{name, type, source}` records).
fn column(value: &Value) -> Result<Column, StepError> {
    let Value::Record(fields) = value else {
        return Err(StepError::input("a column should be a record"));
    };
    let text = |k: &str| match fields.get(k) {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let name = text("name").ok_or_else(|| StepError::input("a column has no name"))?;
    let ty: ColumnType =
        text("type").unwrap_or_default().parse().map_err(|e: datasets::Error| StepError::input(e.to_string()))?;
    let column = Column::new(name, ty);
    Ok(match text("source") {
        Some(source) => column.from_source(source),
        None => column,
    })
}

/// `load_interactions(path, user:, item:, rating:, time:)`.
struct LoadInteractions;

#[async_trait::async_trait]
impl Step for LoadInteractions {
    fn name(&self) -> &'static str {
        "std::data::load_interactions"
    }

    fn version(&self) -> u32 {
        1
    }

    fn file_args(&self) -> &'static [&'static str] {
        &["path"]
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let path = PathBuf::from(ctx.str("path")?);
        let (user, item) = (ctx.str("user")?.to_string(), ctx.str("item")?.to_string());
        let optional = |name: &str| ctx.str(name).map(|s| (!s.is_empty()).then(|| s.to_string()));
        let (rating, time) = (optional("rating")?, optional("time")?);
        let out = ctx.out_dir()?.to_path_buf();
        blocking(move || datasets::load_interactions(&path, &user, &item, rating.as_deref(), time.as_deref(), &out))
            .await
    }
}

/// `filter_min(data, users:, items:, min_rating:)`: k-core filtering.
struct FilterMin;

#[async_trait::async_trait]
impl Step for FilterMin {
    fn name(&self) -> &'static str {
        "std::data::filter_min"
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let input = dataset_file(&ctx, "data")?;
        let (users, items) = (non_negative(&ctx, "users")?, non_negative(&ctx, "items")?);
        let min_rating = Some(ctx.float("min_rating")?).filter(|m| m.is_finite());
        let out = ctx.out_dir()?.to_path_buf();
        blocking(move || datasets::filter_min(&input, users, items, min_rating, &out)).await
    }
}

fn non_negative(ctx: &StepContext, name: &str) -> Result<u64, StepError> {
    u64::try_from(ctx.int(name)?).map_err(|_| StepError::input(format!("`{name}` must not be negative")))
}

#[derive(Clone, Copy)]
enum SplitKind {
    Random,
    Temporal,
    LeaveOneOut,
}

/// The three splits; each writes train, valid and test parquet files.
struct Split(SplitKind);

#[async_trait::async_trait]
impl Step for Split {
    fn name(&self) -> &'static str {
        match self.0 {
            SplitKind::Random => "std::data::random_split",
            SplitKind::Temporal => "std::data::temporal_split",
            SplitKind::LeaveOneOut => "std::data::leave_one_out",
        }
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let input = dataset_file(&ctx, "data")?;
        let out = ctx.out_dir()?.to_path_buf();
        let seed = |ctx: &StepContext| ctx.int("seed").map(|s| s as u64);
        match self.0 {
            SplitKind::Random => {
                let (valid, test, seed) = (ctx.float("valid")?, ctx.float("test")?, seed(&ctx)?);
                // The checker admits only "row" and "user".
                if ctx.str("by")? == "user" {
                    blocking(move || datasets::random_split_by_user(&input, valid, test, seed, &out)).await
                } else {
                    blocking(move || datasets::random_split(&input, valid, test, seed, &out)).await
                }
            }
            SplitKind::Temporal => {
                let (valid, test) = (ctx.float("valid")?, ctx.float("test")?);
                blocking(move || datasets::temporal_split(&input, valid, test, &out)).await
            }
            SplitKind::LeaveOneOut => {
                let seed = seed(&ctx)?;
                blocking(move || datasets::leave_one_out(&input, seed, &out)).await
            }
        }
    }
}

/// `with_features(data, items:, users:)`: the split's parts with item and user attribute tables
/// beside them, which training reads for the model inputs named after their columns.
struct WithFeatures;

#[async_trait::async_trait]
impl Step for WithFeatures {
    fn name(&self) -> &'static str {
        dsl::builtins::WITH_FEATURES
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let split = ctx.input("data")?.dir.clone();
        let table = |arg: &str| match ctx.args.get(arg) {
            None | Some(Value::Unset) => Ok(None),
            Some(_) => dataset_file(&ctx, arg).map(Some),
        };
        let (items, users) = (table("items")?, table("users")?);
        let out = ctx.out_dir()?.to_path_buf();
        blocking(move || datasets::with_features(&split, items.as_deref(), users.as_deref(), &out)).await
    }
}
