//! `evoflow explain FILE STEP`: the components of a step's cache key and, for a miss, what
//! changed since it last ran.

use std::process::ExitCode;

use super::output;
use super::output::emit;
use super::run::Target;
use super::{DiagnosticFormat, EXIT_INVALID};
use crate::plan_status::{statuses, Status};
use crate::steps::Registry;
use crate::store::Store;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// The step to explain (a node id, as `evoflow graph` shows it)
    #[arg(value_name = "STEP")]
    step: String,
}

pub fn run(args: Args) -> ExitCode {
    let prepared = match args.target.prepare(DiagnosticFormat::Human) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if prepared.plan.node(&args.step).is_none() {
        let ids: Vec<String> = prepared.plan.topo_order().iter().map(|n| n.id.clone()).collect();
        let hint = dsl::suggest::did_you_mean(&args.step, ids.iter().map(String::as_str))
            .unwrap_or_else(|| format!("its steps are {}", ids.join(", ")));
        output::error(format_args!("`{}` has no step `{}`; {hint}", args.target.file, args.step));
        return ExitCode::from(EXIT_INVALID);
    }
    let store = match Store::open(&prepared.run_dir) {
        Ok(s) => s,
        Err(e) => {
            output::error(format_args!("cannot use the run dir `{}`: {e}", prepared.run_dir.display()));
            return ExitCode::from(1);
        }
    };
    let llm = prepared.config.llm.as_ref();
    let all = statuses(&prepared.program, &prepared.plan, &Registry::builtin(), &store, llm, false, &[]);
    let mut text = String::new();
    let mut current = args.step.clone();
    loop {
        let s = all.iter().find(|s| s.node == current).expect("every node has a status");
        text.push_str(&format!("step `{}` ({})\n", s.node, s.step));
        match &s.status {
            Status::Cached { output } => {
                text.push_str(&format!("  cached: the key matches a finished run (output {output})\n"))
            }
            Status::Forced => text.push_str("  forced\n"),
            Status::New => text.push_str("  new: it has not finished in this run dir before\n"),
            Status::Changed { diff } => {
                text.push_str("  will run: its key changed since it last finished\n");
                for line in diff {
                    text.push_str(&format!("    {line}\n"));
                }
            }
            Status::Error { message } => text.push_str(&format!("  cannot compute its key: {message}\n")),
            Status::AfterUpstream { upstream } => {
                text.push_str(&format!("  will run after `{upstream}`, which will run first:\n"));
                current = upstream.clone();
                continue;
            }
        }
        if let Some(key) = &s.key {
            text.push_str(&format!(
                "key {}:\n{}\n",
                key.hash(),
                serde_json::to_string_pretty(key).expect("serialises")
            ));
        }
        break;
    }
    emit(&text);
    ExitCode::SUCCESS
}
