//! `evoflow report FILE`: the journal of a workflow's runs as one self-contained HTML file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use super::output;
use super::run::Target;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Where to write the page (default: `report.html` in the run dir)
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Open the page in the default browser once written
    #[arg(long)]
    open: bool,
}

pub fn run(args: Args) -> ExitCode {
    let started = Instant::now();
    let (prepared, path) = match super::journal::existing_journal(&args.target) {
        Ok(found) => found,
        Err(code) => return code,
    };
    // The plan says what each step holds; loop candidates are not in it and show none.
    let resources: BTreeMap<String, _> =
        prepared.plan.topo_order().iter().map(|n| (n.id.clone(), n.options.resources.clone())).collect();
    let data = match crate::report::read(&path, &resources) {
        Ok(data) => data,
        Err(e) => {
            output::error(format_args!("cannot read the journal `{}`: {e}", path.display()));
            return ExitCode::from(1);
        }
    };
    if data.snapshot_age_seconds.is_some() {
        output::note("a run is writing this journal: the report shows the copy it refreshes every 2 s");
    }
    let page = match crate::report::render(&data, &path.display().to_string()) {
        Ok(page) => page,
        Err(e) => {
            output::error(format_args!("cannot render the report: {e}"));
            return ExitCode::from(1);
        }
    };
    let out = args.output.unwrap_or_else(|| prepared.run_dir.join("report.html"));
    if let Err(e) = std::fs::write(&out, &page) {
        output::error(format_args!("cannot write `{}`: {e}", out.display()));
        return ExitCode::from(1);
    }
    let experiments: usize = data.runs.iter().filter_map(|r| r.evolution.as_ref()).map(|e| e.experiments.len()).sum();
    eprintln!(
        "wrote {} ({} KB): {} run(s), {experiments} experiment(s), in {:.2} s",
        out.display(),
        page.len() / 1024,
        data.runs.len(),
        started.elapsed().as_secs_f64()
    );
    if args.open {
        open(&out);
    }
    ExitCode::SUCCESS
}

/// Hands the page to the desktop's opener; says so when there is none (a server, a container).
fn open(page: &std::path::Path) {
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    match std::process::Command::new(opener).arg(page).spawn() {
        Ok(_) => {}
        Err(e) => output::warning(format_args!(
            "cannot open a browser with `{opener}` ({e}): open {} by hand",
            page.display()
        )),
    }
}
