//! The experiment journal: one DuckDB database per run directory that the engine writes
//! transactionally (runs, steps, artifacts; later experiments, LLM and tool calls), and the
//! guarded read-only query service that people (`evoflow journal --sql`) and agents
//! (`run_sql_query`) use to read it.
//!
//! The `duckdb` crate links the prebuilt `libduckdb.so` named by `DUCKDB_LIB_DIR`; binaries that
//! use this crate need an rpath to that folder (this crate's `build.rs` adds one only for its
//! own tests).

mod batch;
mod calls;
mod error;
mod experiments;
mod guard;
mod jobs;
mod journal;
mod metrics;
mod model;
mod models;
mod process;
mod rawdb;
mod readonly;
mod registry;
pub mod schema;
mod summary;
mod table;

pub use batch::{StepUpdate, StepWriter};
pub use calls::{LlmCall, ToolCallRow};
pub use error::{Error, Result};
pub use experiments::{DecisionRecord, ExperimentRecord, ExperimentStatus, OnlineValue};
pub use guard::ALLOWED as READ_ONLY_STATEMENTS;
pub use jobs::JobRow;
pub use journal::{Journal, JournalTx};
pub use metrics::MetricValue;
pub use model::{Artifact, FailedStep, RunRow, RunStart, RunStatus, RunSummary, StepRecord, StepRow, StepStatus};
pub use models::ModelRecord;
pub use process::{now_micros, pid_alive};
pub use readonly::{query_readonly, QueryLimits};
pub use table::Table;
