//! `std::rewards::apply_reward`: adds a reward column to a dataset, scored in the wasm sandbox.
//!
//! Streaming. The whole job is one DuckDB statement,
//!
//! ```sql
//! COPY (SELECT * EXCLUDE (file_row_number), evo_reward(file_row_number, CAST(f1 AS DOUBLE), ...) AS reward
//!       FROM read_parquet('in/data.parquet', file_row_number = true)) TO 'out/data.parquet' (FORMAT parquet)
//! ```
//!
//! where `evo_reward` is a scalar UDF (`duckdb::vscalar`) that hands each vector DuckDB gives it
//! (≤ 2048 rows, already flat) to [`Sandbox::run`] as borrowed [`Columns`] with null masks, and
//! writes the rewards straight into DuckDB's output vector. DuckDB reads, scores and writes
//! Parquet row group by row group on its own threads, so memory stays bounded by a few row
//! groups whatever the table's size; the event columns are never copied into Rust-owned buffers
//! (the sandbox copies each chunk once into wasm memory). DuckDB preserves the input order, and
//! the Parquet writer cuts row groups at the same places every run.
//!
//! Binding. Each field the reward reads (from its `.evo` definition, or from an external
//! module's schema) is looked up by name among the input's columns and cast to the sandbox's type:
//! a float field reads any numeric column, an int field any integer column (or a timestamp, as
//! Unix seconds), a bool field a BOOLEAN column. A missing column or any other pairing is a
//! permanent error that names the field, the column type and the columns present.
//!
//! Failures. A trap or any other sandbox error inside the UDF fails the query; the UDF keeps the
//! error with the smallest event row (global, from `file_row_number`), and the step fails
//! permanently with the sandbox's own message. Every call gets a fresh wasm instance, so nothing
//! carries over, and the process goes on.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use duckdb::arrow::array::{Array, Float64Array};
use duckdb::core::{DataChunkHandle, FlatVector, LogicalTypeHandle, LogicalTypeId};
use duckdb::vscalar::{ScalarFunctionSignature, VScalar};
use duckdb::vtab::arrow::WritableVector;
use duckdb::Connection;
use sandboxes::{ColumnData, Columns, Limits, Sandbox, SandboxEngine, SandboxError, Type};

use super::{Step, StepContext, StepError, StepErrorKind};

pub fn steps() -> Vec<Arc<dyn Step>> {
    vec![Arc::new(ApplyReward)]
}

/// The file a dataset artifact holds.
const DATA_FILE: &str = "data.parquet";
/// The UDF's name inside the step's private connection.
const UDF: &str = "evo_reward";
/// The row-number column `read_parquet` adds.
const ROW: &str = "file_row_number";

/// Scores every event of a dataset with a reward and writes the dataset back with one more column.
struct ApplyReward;

#[async_trait::async_trait]
impl Step for ApplyReward {
    fn name(&self) -> &'static str {
        "std::rewards::apply_reward"
    }

    fn version(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: StepContext) -> Result<serde_json::Value, StepError> {
        let data = ctx.input("data")?;
        let input = data.file(DATA_FILE);
        if !input.is_file() {
            return Err(StepError::permanent(
                StepErrorKind::Input,
                format!(
                    "the `data` input has no {DATA_FILE}: apply_reward scores a dataset, not a split or another output"
                ),
            ));
        }
        let column = ctx.str("column")?.to_string();
        let output = ctx.out_dir()?.join(DATA_FILE);
        let summary = score_file(&ctx, "reward", input, output, column).await?;
        Ok(summary.to_json())
    }
}

/// Scores every row of `input` with the reward the argument `arg` names and writes `output`
/// with the score in `column` ([`apply`]), in the sandbox, off the async threads.
pub(crate) async fn score_file(
    ctx: &StepContext,
    arg: &str,
    input: PathBuf,
    output: PathBuf,
    column: String,
) -> Result<Summary, StepError> {
    let name = match ctx.arg(arg)? {
        dsl::types::Value::Reward(name) => name.clone(),
        other => {
            return Err(StepError::permanent(StepErrorKind::Input, format!("`{arg}` should be a reward, is {other}")))
        }
    };
    let def = ctx
        .program
        .rewards
        .get(&name)
        .cloned()
        .ok_or_else(|| StepError::input(format!("the program defines no reward `{name}`")))?;
    let cache = module_cache(ctx.out_dir()?);
    ctx.progress.report(0, 1, "scoring");
    let summary = tokio::task::spawn_blocking(move || {
        let engine = match &cache {
            Some(dir) => SandboxEngine::with_cache(Limits::default(), dir),
            None => SandboxEngine::new(Limits::default()),
        }
        .map_err(|e| StepError::transient(StepErrorKind::Reward, format!("{e} [{}]", e.code())))?;
        let sandbox = engine.load_reward(&def).map_err(|e| {
            StepError::permanent(StepErrorKind::Reward, format!("cannot load reward `{name}`: {e} [{}]", e.code()))
        })?;
        apply(&sandbox, &input, &output, &column)
    })
    .await
    .map_err(|e| StepError::permanent(StepErrorKind::Internal, format!("the scoring task failed: {e}")))??;
    ctx.progress.report(1, 1, "scored");
    Ok(summary)
}

/// Where compiled modules are kept: `<run dir>/cache/wasm`, when `out_dir` is a scratch folder of
/// a run dir (`<run dir>/tmp/<attempt>`); otherwise no cache. Compiled code is keyed by the wasm
/// bytes and wasmtime's settings, so this step's version need not enter it.
fn module_cache(out_dir: &Path) -> Option<PathBuf> {
    let tmp = out_dir.parent()?;
    let run_dir = tmp.parent()?;
    (tmp.file_name()? == "tmp" && run_dir.join("objects").is_dir()).then(|| run_dir.join("cache").join("wasm"))
}

/// What scoring produced; becomes the step's meta.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub reward: String,
    pub column: String,
    pub rows: u64,
    /// Rewards that are NaN.
    pub nan: u64,
    /// Over the rewards that are not NaN; `None` when there are none.
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Summary {
    fn to_json(&self) -> serde_json::Value {
        // JSON has no infinities: an infinite statistic is written as a string.
        let num = |v: Option<f64>| match v {
            Some(x) if x.is_finite() => serde_json::json!(x),
            Some(x) => serde_json::json!(if x > 0.0 { "inf" } else { "-inf" }),
            None => serde_json::Value::Null,
        };
        serde_json::json!({
            "rows": self.rows,
            "reward": self.reward,
            "column": self.column,
            "mean": num(self.mean),
            "min": num(self.min),
            "max": num(self.max),
            "nan": self.nan,
        })
    }
}

/// Scores every row of the Parquet file `input` with `sandbox` and writes `output`: every input
/// column, in order, plus `column` (DOUBLE). Streams; see the module docs.
pub fn apply(sandbox: &Sandbox, input: &Path, output: &Path, column: &str) -> Result<Summary, StepError> {
    let conn = Connection::open_in_memory().map_err(db("opening DuckDB"))?;
    let source = format!("read_parquet({})", literal(input)?);
    let columns = describe(&conn, &source)?;
    let present = || columns.iter().map(|(n, t)| format!("{n} ({t})")).collect::<Vec<_>>().join(", ");
    if columns.iter().any(|(n, _)| n == column) {
        return Err(StepError::permanent(
            StepErrorKind::Data,
            format!("the data already has a column `{column}`; name the reward column with `column: \"...\"`"),
        ));
    }
    if columns.iter().any(|(n, _)| n == ROW) {
        return Err(StepError::permanent(
            StepErrorKind::Data,
            format!("the data has a column named `{ROW}`, which apply_reward reserves"),
        ));
    }
    let mut args = vec![ident(ROW)];
    for field in sandbox.fields() {
        let Some((_, duck)) = columns.iter().find(|(n, _)| *n == field.name) else {
            return Err(StepError::permanent(
                StepErrorKind::Data,
                format!(
                    "reward `{}` reads the field `{}`, but the data has no column `{}`; its columns are {}",
                    sandbox.name(),
                    field.name,
                    field.name,
                    present()
                ),
            ));
        };
        args.push(cast(&field.name, field.ty, duck).ok_or_else(|| {
            StepError::permanent(
                StepErrorKind::Data,
                format!(
                    "reward `{}` reads `{}` as {}, but the data's column `{}` is {duck}; {} needs {}",
                    sandbox.name(),
                    field.name,
                    field.ty,
                    field.name,
                    field.ty,
                    accepted(field.ty)
                ),
            )
        })?);
    }

    let state = UdfState(Arc::new(UdfShared {
        sandbox: sandbox.clone(),
        types: sandbox.fields().iter().map(|f| f.ty).collect(),
        failure: Mutex::new(None),
    }));
    conn.register_scalar_function_with_state::<RewardUdf>(UDF, &state).map_err(db("registering the reward"))?;
    let sql = format!(
        "COPY (SELECT * EXCLUDE ({row}), {UDF}({args}) AS {col} FROM read_parquet({input}, file_row_number = true)) \
         TO {output} (FORMAT parquet)",
        row = ident(ROW),
        args = args.join(", "),
        col = ident(column),
        input = literal(input)?,
        output = literal(output)?,
    );
    if let Err(e) = conn.execute_batch(&sql) {
        let _ = std::fs::remove_file(output);
        let failure = state.0.failure.lock().unwrap_or_else(|p| p.into_inner()).take();
        return Err(StepError::permanent(
            StepErrorKind::Reward,
            match failure {
                Some(f) => f.message,
                None => format!("scoring with reward `{}` failed in DuckDB: {e}", sandbox.name()),
            },
        ));
    }
    summarise(&conn, output, sandbox.name(), column)
}

/// Reads the reward column back in row order: statistics that do not depend on thread timing.
fn summarise(conn: &Connection, output: &Path, reward: &str, column: &str) -> Result<Summary, StepError> {
    let sql = format!("SELECT {} FROM read_parquet({})", ident(column), literal(output)?);
    let mut stmt = conn.prepare(&sql).map_err(db("reading the rewards back"))?;
    let batches = stmt.query_arrow([]).map_err(db("reading the rewards back"))?;
    let mut s =
        Summary { reward: reward.into(), column: column.into(), rows: 0, nan: 0, mean: None, min: None, max: None };
    // Neumaier's compensated sum, in row order.
    let (mut sum, mut comp, mut n) = (0.0f64, 0.0f64, 0u64);
    for batch in batches {
        let values = batch.column(0).as_any().downcast_ref::<Float64Array>().ok_or_else(|| {
            StepError::permanent(StepErrorKind::Data, "the reward column did not read back as DOUBLE")
        })?;
        s.rows += values.len() as u64;
        for x in values.iter().flatten() {
            if x.is_nan() {
                s.nan += 1;
                continue;
            }
            n += 1;
            s.min = Some(s.min.map_or(x, |m| m.min(x)));
            s.max = Some(s.max.map_or(x, |m| m.max(x)));
            let t = sum + x;
            comp += if sum.abs() >= x.abs() { (sum - t) + x } else { (x - t) + sum };
            sum = t;
        }
    }
    if n > 0 {
        let total = sum + comp;
        // `inf + -inf` is NaN; so is the mean then, reported as none.
        s.mean = Some(total / n as f64).filter(|m| !m.is_nan());
    }
    Ok(s)
}

/// The columns of a table expression, with their DuckDB types.
fn describe(conn: &Connection, source: &str) -> Result<Vec<(String, String)>, StepError> {
    let mut stmt =
        conn.prepare(&format!("DESCRIBE SELECT * FROM {source}")).map_err(db("reading the data's schema"))?;
    let rows = stmt
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
        .map_err(db("reading the data's schema"))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db("reading the data's schema"))
}

/// The SQL that reads column `name` (DuckDB type `duck`) as a sandbox `ty`, if that pairing is
/// allowed.
fn cast(name: &str, ty: Type, duck: &str) -> Option<String> {
    let x = ident(name);
    let integer = matches!(
        duck,
        "TINYINT"
            | "SMALLINT"
            | "INTEGER"
            | "BIGINT"
            | "HUGEINT"
            | "UTINYINT"
            | "USMALLINT"
            | "UINTEGER"
            | "UBIGINT"
            | "UHUGEINT"
    );
    let float = matches!(duck, "FLOAT" | "DOUBLE") || duck.starts_with("DECIMAL");
    let temporal = duck == "DATE" || duck.starts_with("TIMESTAMP");
    match ty {
        Type::Float if integer || float => Some(format!("CAST({x} AS DOUBLE)")),
        Type::Int if integer => Some(format!("CAST({x} AS BIGINT)")),
        Type::Int if temporal => Some(format!("CAST(floor(epoch({x})) AS BIGINT)")),
        Type::Bool if duck == "BOOLEAN" => Some(x),
        _ => None,
    }
}

fn accepted(ty: Type) -> &'static str {
    match ty {
        Type::Float => "a numeric column (integer, float or decimal)",
        Type::Int => "an integer column (or a date or timestamp, read as Unix seconds)",
        Type::Bool => "a BOOLEAN column",
    }
}

/// A DuckDB identifier, quoted.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A path as a SQL string literal.
fn literal(path: &Path) -> Result<String, StepError> {
    let s = path
        .to_str()
        .ok_or_else(|| StepError::permanent(StepErrorKind::Io, format!("the path {} is not UTF-8", path.display())))?;
    Ok(format!("'{}'", s.replace('\'', "''")))
}

fn db(what: &'static str) -> impl Fn(duckdb::Error) -> StepError {
    move |e| StepError::permanent(StepErrorKind::Data, format!("{what}: {e}"))
}

/// The first failure seen inside the UDF, by event row.
struct Failure {
    row: i64,
    message: String,
}

struct UdfShared {
    sandbox: Sandbox,
    /// The sandbox type of each argument after the row number.
    types: Vec<Type>,
    failure: Mutex<Option<Failure>>,
}

impl UdfShared {
    fn fail(&self, row: i64, message: String) {
        let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_none_or(|f| row < f.row) {
            *slot = Some(Failure { row, message });
        }
    }
}

/// DuckDB clones the state once per overload; all clones share one failure slot.
#[derive(Clone)]
struct UdfState(Arc<UdfShared>);

/// `evo_reward(row BIGINT, field...) -> DOUBLE`.
struct RewardUdf;

impl VScalar for RewardUdf {
    type State = UdfState;

    fn invoke(
        state: &Self::State,
        input: &mut DataChunkHandle,
        output: &mut dyn WritableVector,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let shared = &state.0;
        let len = input.len();
        if len == 0 {
            return Ok(());
        }
        if input.num_columns() != shared.types.len() + 1 {
            return Err(
                format!("{UDF} got {} arguments, expected {}", input.num_columns(), shared.types.len() + 1).into()
            );
        }
        let row_vec = input.flat_vector(0);
        // SAFETY: argument 0 is `file_row_number`, a BIGINT, and the chunk has `len` rows.
        let rows = unsafe { row_vec.as_slice_with_len::<i64>(len) };
        let vectors: Vec<FlatVector<'_>> = (1..=shared.types.len()).map(|i| input.flat_vector(i)).collect();
        let masks: Vec<Option<Vec<bool>>> = vectors.iter().map(|v| null_mask(v, len)).collect();
        // DuckDB does not promise 0/1 in the bytes of NULL booleans: read bytes, not `bool`s.
        let bools: Vec<Option<Vec<bool>>> = vectors
            .iter()
            .zip(&shared.types)
            .map(|(v, ty)| {
                (*ty == Type::Bool).then(|| {
                    // SAFETY: a BOOLEAN vector stores one byte per row.
                    unsafe { v.as_slice_with_len::<u8>(len) }.iter().map(|b| *b != 0).collect()
                })
            })
            .collect();
        // A reward that reads no field still scores one reward per row: the row numbers give
        // the count (no field can bind to them, the data may not have a column of that name).
        let mut columns = if shared.types.is_empty() { Columns::new().with(ROW, rows) } else { Columns::new() };
        for (i, ((v, ty), field)) in vectors.iter().zip(&shared.types).zip(shared.sandbox.fields()).enumerate() {
            // SAFETY: `cast` made argument i a DOUBLE for float fields and a BIGINT for int
            // fields; the chunk is flat with `len` rows.
            let data = match ty {
                Type::Float => ColumnData::Float(unsafe { v.as_slice_with_len::<f64>(len) }),
                Type::Int => ColumnData::Int(unsafe { v.as_slice_with_len::<i64>(len) }),
                Type::Bool => ColumnData::Bool(bools[i].as_deref().unwrap_or_default()),
            };
            columns = match &masks[i] {
                Some(mask) => columns.with_nulls(field.name.clone(), data, mask),
                None => columns.with(field.name.clone(), data),
            };
        }
        let mut scores = Vec::with_capacity(len);
        if let Err(e) = shared.sandbox.run(&columns, &mut scores) {
            let (row, message) = describe_failure(&e, rows);
            shared.fail(row, message.clone());
            return Err(message.into());
        }
        if scores.len() != len {
            return Err(format!("the reward scored {} of {len} rows", scores.len()).into());
        }
        let mut out = output.flat_vector();
        // SAFETY: the function returns DOUBLE and the output vector holds `len` rows.
        unsafe { out.as_mut_slice_with_len::<f64>(len) }.copy_from_slice(&scores);
        Ok(())
    }

    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::variadic(
            LogicalTypeHandle::from(LogicalTypeId::Any),
            LogicalTypeHandle::from(LogicalTypeId::Double),
        )]
    }

    fn volatile() -> bool {
        // Never folded into a constant, whatever its arguments.
        true
    }
}

/// `Some(mask)` when the vector has a NULL in its first `len` rows.
fn null_mask(v: &FlatVector<'_>, len: usize) -> Option<Vec<bool>> {
    let mask: Vec<bool> = (0..len as u64).map(|r| v.row_is_null(r)).collect();
    mask.contains(&true).then_some(mask)
}

/// The event row a sandbox error points at (global, through `rows`) and the step's message.
fn describe_failure(e: &SandboxError, rows: &[i64]) -> (i64, String) {
    let global = |r: usize| rows.get(r).copied().unwrap_or_else(|| rows.first().copied().unwrap_or(0));
    match e {
        SandboxError::Trap { reward, kind, row } => {
            let at = global(row.unwrap_or(0));
            let row_text = if row.is_some() { format!(" at event row {at}") } else { String::new() };
            (at, format!("reward `{reward}` {kind}{row_text} [{}: {}]", e.code(), kind.name()))
        }
        SandboxError::Failed { reward, code, first, end } => {
            let (a, b) = (global(*first), global(end.saturating_sub(1)) + 1);
            (a, format!("reward `{reward}` reported error code {code} for event rows {a}..{b} [{}]", e.code()))
        }
        other => (global(0), format!("{other} [{}]", other.code())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandboxes::interp::{Interpreter, Value};

    fn engine() -> SandboxEngine {
        SandboxEngine::new(Limits::default()).unwrap()
    }

    fn reward(src: &str, name: &str) -> dsl::reward::RewardDef {
        testdata::reward_def(src, name)
    }

    /// Writes `sql` (a query) to `dir/name` as Parquet.
    fn parquet(dir: &Path, name: &str, sql: &str) -> PathBuf {
        let path = dir.join(name);
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!("COPY ({sql}) TO {} (FORMAT parquet)", literal(&path).unwrap())).unwrap();
        path
    }

    fn read_rewards(path: &Path, column: &str) -> Vec<Option<f64>> {
        let conn = Connection::open_in_memory().unwrap();
        let sql = format!("SELECT {} FROM read_parquet({})", ident(column), literal(path).unwrap());
        let mut stmt = conn.prepare(&sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, Option<f64>>(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }

    const EVENTS: &str =
        "dataset d = \"d.csv\" { watch: float, rating: float, clicks: int, liked: bool, seen: time }\n";

    #[test]
    fn scores_every_row_with_nulls_and_keeps_the_columns() {
        let dir = tempfile::tempdir().unwrap();
        let input = parquet(
            dir.path(),
            "in.parquet",
            "SELECT * FROM (VALUES (1, 10.0, 4.5, 3, true, TIMESTAMP '2020-01-01 00:00:10'), \
             (2, NULL, 2.0, NULL, false, NULL), (3, 90.0, NULL, 7, NULL, TIMESTAMP '1970-01-01 00:00:01')) \
             t(id, watch, rating, clicks, liked, seen)",
        );
        let def = reward(
            &format!(
                "{EVENTS}reward r(e: d) -> float {{\n  let w = e.watch ?? 60.0\n  \
                 if e.liked {{ w + e.clicks }} else if e.rating >= 4.0 {{ 1.0 }} else {{ w / 100.0 + e.seen % 7 }}\n}}\n"
            ),
            "r",
        );
        let sandbox = engine().load_reward(&def).unwrap();
        let output = dir.path().join("out.parquet");
        let summary = apply(&sandbox, &input, &output, "score").unwrap();
        // Row 1: liked -> 10 + 3. Row 2: watch null -> 60, not liked, rating 2 -> 0.6 + (0 % 7).
        // Row 3: liked null -> false, rating null -> 0.0 -> 0.9 + (1 % 7).
        let expected = [10.0 + 3.0, 60.0 / 100.0 + 0.0, 90.0 / 100.0 + 1.0];
        let got = read_rewards(&output, "score");
        assert_eq!(got, expected.iter().map(|v| Some(*v)).collect::<Vec<_>>());
        assert_eq!(summary.rows, 3);
        assert_eq!(summary.nan, 0);
        assert_eq!(summary.min, Some(0.6));
        assert_eq!(summary.max, Some(13.0));
        assert!((summary.mean.unwrap() - 15.5 / 3.0).abs() < 1e-12);
        let conn = Connection::open_in_memory().unwrap();
        let cols = describe(&conn, &format!("read_parquet({})", literal(&output).unwrap())).unwrap();
        let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["id", "watch", "rating", "clicks", "liked", "seen", "score"]);
        // The interpreter agrees with what was written.
        let dsl::reward::RewardDef::Function { function, .. } = &def else { panic!("a reward written in .evo") };
        let interp = Interpreter::new(function).unwrap();
        let rows: [[Option<Value>; 5]; 3] = [
            [
                Some(Value::Float(10.0)),
                Some(Value::Float(4.5)),
                Some(Value::Int(3)),
                Some(Value::Bool(true)),
                Some(Value::Int(1577836810)),
            ],
            [None, Some(Value::Float(2.0)), None, Some(Value::Bool(false)), None],
            [Some(Value::Float(90.0)), None, Some(Value::Int(7)), None, Some(Value::Int(1))],
        ];
        let order: Vec<&str> = function.fields.iter().map(|f| f.name.as_str()).collect();
        let all = ["watch", "rating", "clicks", "liked", "seen"];
        for (row, want) in rows.iter().zip(expected) {
            let cells: Vec<Option<Value>> =
                order.iter().map(|n| row[all.iter().position(|a| a == n).unwrap()]).collect();
            assert_eq!(interp.eval_row(&cells), want);
        }
    }

    #[test]
    fn streams_many_row_groups_in_order_and_reports_nans() {
        let dir = tempfile::tempdir().unwrap();
        // 300k rows in small row groups: many vectors, several threads, order must hold.
        let path = dir.path().join("in.parquet");
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!(
            "COPY (SELECT i AS n, CASE WHEN i % 1000 = 0 THEN 'NaN'::DOUBLE ELSE i * 0.5 END AS x FROM range(300000) t(i)) \
             TO {} (FORMAT parquet, ROW_GROUP_SIZE 10000)",
            literal(&path).unwrap()
        ))
        .unwrap();
        let def = reward("reward r(e) -> float {\n  e.x * 2.0 + e.n\n}\n", "r");
        let sandbox = engine().load_reward(&def).unwrap();
        let a = dir.path().join("a.parquet");
        let summary = apply(&sandbox, &path, &a, "reward").unwrap();
        let got = read_rewards(&a, "reward");
        assert_eq!(got.len(), 300_000);
        for (i, v) in got.iter().enumerate() {
            let v = v.unwrap();
            if i % 1000 == 0 {
                assert!(v.is_nan(), "row {i}");
            } else {
                assert_eq!(v, i as f64 * 2.0, "row {i}");
            }
        }
        assert_eq!(summary.nan, 300);
        assert_eq!(summary.rows, 300_000);
        assert_eq!(summary.min, Some(2.0));
        assert_eq!(summary.max, Some(599_998.0));
        // The same input gives the same bytes (row groups do not depend on thread timing).
        let b = dir.path().join("b.parquet");
        assert_eq!(apply(&sandbox, &path, &b, "reward").unwrap(), summary);
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    }

    #[test]
    fn a_missing_field_names_the_field_and_the_columns() {
        let dir = tempfile::tempdir().unwrap();
        let input = parquet(dir.path(), "in.parquet", "SELECT 1 AS userId, 4.0 AS rating");
        let def = reward("reward r(e) -> float {\n  e.rating + e.watch_seconds\n}\n", "r");
        let sandbox = engine().load_reward(&def).unwrap();
        let err = apply(&sandbox, &input, &dir.path().join("o.parquet"), "reward").unwrap_err();
        assert_eq!(err.class, super::super::ErrorClass::Permanent);
        assert_eq!(err.kind, StepErrorKind::Data);
        assert!(err.message.contains("reads the field `watch_seconds`"), "{}", err.message);
        assert!(err.message.contains("userId (INTEGER), rating (DECIMAL(2,1))"), "{}", err.message);
        assert!(!dir.path().join("o.parquet").exists());
    }

    #[test]
    fn type_mismatches_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input =
            parquet(dir.path(), "in.parquet", "SELECT 4.5::DOUBLE AS rating, true AS liked, 'x' AS name, 3 AS n");
        let cases = [
            ("dataset d = \"d.csv\" { rating: bool }\nreward r(e: d) -> float {\n  if e.rating { 1.0 } else { 0.0 }\n}\n", "reads `rating` as bool, but the data's column `rating` is DOUBLE"),
            ("dataset d = \"d.csv\" { rating: int }\nreward r(e: d) -> float {\n  e.rating\n}\n", "reads `rating` as int, but the data's column `rating` is DOUBLE"),
            ("reward r(e) -> float {\n  e.liked\n}\n", "reads `liked` as float, but the data's column `liked` is BOOLEAN"),
            ("reward r(e) -> float {\n  e.name\n}\n", "reads `name` as float, but the data's column `name` is VARCHAR"),
        ];
        for (src, want) in cases {
            let sandbox = engine().load_reward(&reward(src, "r")).unwrap();
            let err = apply(&sandbox, &input, &dir.path().join("o.parquet"), "reward").unwrap_err();
            assert!(err.message.contains(want), "{src}: {}", err.message);
        }
        // An int column read as float is fine.
        let sandbox = engine().load_reward(&reward("reward r(e) -> float {\n  e.n / 2\n}\n", "r")).unwrap();
        apply(&sandbox, &input, &dir.path().join("ok.parquet"), "reward").unwrap();
        assert_eq!(read_rewards(&dir.path().join("ok.parquet"), "reward"), [Some(1.5)]);
    }

    #[test]
    fn an_existing_column_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = parquet(dir.path(), "in.parquet", "SELECT 1.0 AS reward");
        let sandbox = engine().load_reward(&reward("reward r(e) -> float {\n  1.0\n}\n", "r")).unwrap();
        let err = apply(&sandbox, &input, &dir.path().join("o.parquet"), "reward").unwrap_err();
        assert!(err.message.contains("already has a column `reward`"), "{}", err.message);
    }

    #[test]
    fn a_trap_names_the_reward_the_kind_and_the_global_row() {
        let dir = tempfile::tempdir().unwrap();
        let input = parquet(dir.path(), "in.parquet", "SELECT i AS x FROM range(10000) t(i)");
        // Traps (unreachable) on the event whose x is 5000, and only there.
        let wat = r#"(module
          (memory (export "memory") 2)
          (data (i32.const 0) "x:int\00")
          (func (export "evo_abi_version") (result i32) (i32.const 1))
          (func (export "evo_schema") (result i32) (i32.const 0))
          (func (export "evo_alloc") (param i32) (result i32) (i32.const 64))
          (func (export "evo_reward") (param $d i32) (param $n i32) (result i32)
            (local $r i32) (local $out i32) (local $x i32)
            (local.set $out (i32.load (local.get $d)))
            (local.set $x (i32.load offset=4 (local.get $d)))
            (block $done (loop $next
              (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
              (if (i64.eq (i64.load (i32.add (local.get $x) (i32.shl (local.get $r) (i32.const 3)))) (i64.const 5000))
                (then unreachable))
              (f64.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 3))) (f64.const 1))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br $next)))
            (i32.const 0)))"#;
        let sandbox = engine().load("picky", wat.as_bytes()).unwrap();
        let out = dir.path().join("o.parquet");
        let err = apply(&sandbox, &input, &out, "reward").unwrap_err();
        assert_eq!(err.message, "reward `picky` executed `unreachable` at event row 5000 [sandbox::trap: unreachable]",);
        assert_eq!(err.kind, StepErrorKind::Reward);
        assert!(!out.exists());
        // The same sandbox and process keep working.
        let small = parquet(dir.path(), "small.parquet", "SELECT i AS x FROM range(10) t(i)");
        assert_eq!(apply(&sandbox, &small, &out, "reward").unwrap().rows, 10);
    }

    #[test]
    fn a_reward_that_reads_no_field_scores_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let input = parquet(dir.path(), "in.parquet", "SELECT i AS x FROM range(5000) t(i)");
        let sandbox = engine().load_reward(&reward("reward r(e) -> float {\n  0.5\n}\n", "r")).unwrap();
        let out = dir.path().join("o.parquet");
        assert_eq!(apply(&sandbox, &input, &out, "reward").unwrap().mean, Some(0.5));
        assert_eq!(read_rewards(&out, "reward"), vec![Some(0.5); 5000]);
    }

    #[test]
    fn an_empty_table_gives_an_empty_column() {
        let dir = tempfile::tempdir().unwrap();
        let input = parquet(dir.path(), "in.parquet", "SELECT 1.0::DOUBLE AS x WHERE false");
        let sandbox = engine().load_reward(&reward("reward r(e) -> float {\n  e.x\n}\n", "r")).unwrap();
        let out = dir.path().join("o.parquet");
        let s = apply(&sandbox, &input, &out, "reward").unwrap();
        assert_eq!((s.rows, s.mean, s.min), (0, None, None));
        assert!(read_rewards(&out, "reward").is_empty());
    }

    #[test]
    fn the_module_cache_lives_in_the_run_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("objects")).unwrap();
        let out = dir.path().join("tmp").join("n-1-0");
        assert_eq!(module_cache(&out), Some(dir.path().join("cache").join("wasm")));
        assert_eq!(module_cache(&dir.path().join("elsewhere").join("x")), None);
    }
}
