//! `evoflow journal FILE`: a summary of the last run, or a read-only SQL query.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::ValueEnum;

use super::output;
use super::output::emit;
use super::run::{Prepared, Target};
use super::DiagnosticFormat;

#[derive(Clone, Copy, Default, ValueEnum)]
enum TableFormat {
    /// Aligned columns
    #[default]
    Table,
    Csv,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// A read-only query (SELECT, WITH, DESCRIBE, SUMMARIZE, EXPLAIN, SHOW)
    #[arg(long, value_name = "QUERY")]
    sql: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: TableFormat,
}

pub fn run(args: Args) -> ExitCode {
    let (_, path) = match existing_journal(&args.target) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let queries = match &args.sql {
        Some(sql) => vec![sql.as_str()],
        None => vec![LAST_RUN, LAST_RUN_STEPS],
    };
    let limits = journal::QueryLimits {
        max_rows: 100_000,
        max_bytes: 64 << 20,
        timeout: Duration::from_secs(60),
        ..journal::QueryLimits::default()
    };
    let mut noted = false;
    for sql in queries {
        let answer = crate::journal_recorder::query_or_snapshot(&path, sql, &limits).map(|(table, copy)| {
            // A run holds the journal: these rows are the copy it refreshes; say so once.
            if let (Some(age), false) = (copy, noted) {
                output::note(format_args!(
                    "a run is writing this journal: these rows are its copy from {:.0} s ago (refreshed every 2 s while it runs)",
                    age.as_secs_f64()
                ));
                noted = true;
            }
            table
        });
        match answer {
            Ok(table) => emit(&match args.format {
                TableFormat::Table => format!("{}\n", table.to_text()),
                TableFormat::Csv => table.to_csv(),
                TableFormat::Json => format!("{}\n", table.to_json()),
            }),
            Err(e) => {
                output::error(format_args!("{e}"));
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}

/// The compiled workflow of `target` and its journal's path; an error said (exit 1) when the
/// workflow has not run there yet.
pub(super) fn existing_journal(target: &Target) -> Result<(Prepared, PathBuf), ExitCode> {
    let prepared = target.prepare(DiagnosticFormat::Human)?;
    let path = prepared.run_dir.join("journal.duckdb");
    if !path.is_file() {
        output::error(format_args!("no journal at `{}`: the workflow has not run there yet", path.display()));
        return Err(ExitCode::from(1));
    }
    Ok((prepared, path))
}

/// The default view: the last run ...
const LAST_RUN: &str = "SELECT id AS run, workflow, status, started_at, finished_at, \
     round(epoch(finished_at) - epoch(started_at), 2) AS seconds FROM runs ORDER BY id DESC LIMIT 1";

/// ... and its steps.
const LAST_RUN_STEPS: &str = "SELECT node_id AS step, status, attempts, duration_ms, coalesce(error, '') AS error \
     FROM steps WHERE run_id = (SELECT max(id) FROM runs) ORDER BY started_at NULLS LAST, node_id";
