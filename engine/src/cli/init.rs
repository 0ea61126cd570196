//! `evoflow init [DIR]`: a new project from a template — a workflow over the user's own
//! interactions file, an `evoflow.toml` with every key commented, a `.gitignore` for run dirs —
//! that `evoflow check` passes at once.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use minijinja::{context, Environment};

use super::{output, EXIT_INVALID};

#[derive(clap::Args)]
pub struct Args {
    /// The project folder (created if missing)
    #[arg(value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    /// The interactions file (CSV or Parquet); asked for when missing and stdin is a terminal
    #[arg(long, value_name = "PATH")]
    data: Option<String>,
    /// Its user id column
    #[arg(long, value_name = "COLUMN")]
    user: Option<String>,
    /// Its item id column
    #[arg(long, value_name = "COLUMN")]
    item: Option<String>,
    /// Its rating column, if it has one
    #[arg(long, value_name = "COLUMN")]
    rating: Option<String>,
    /// Its timestamp column, if it has one
    #[arg(long, value_name = "COLUMN")]
    time: Option<String>,
    /// The workflow's file name
    #[arg(long, value_name = "FILE", default_value = "pipeline.evo")]
    name: String,
    /// Overwrite files that exist
    #[arg(long)]
    force: bool,
}

const PIPELINE: &str = include_str!("init/pipeline.evo.j2");
const CONFIG: &str = include_str!("init/evoflow.toml.j2");
const GITIGNORE: &str = include_str!("init/gitignore.j2");

pub fn run(args: Args) -> ExitCode {
    let answers = match answers(&args) {
        Ok(a) => a,
        Err(message) => {
            output::error(message);
            return ExitCode::from(EXIT_INVALID);
        }
    };
    if !args.name.ends_with(".evo") || args.name.contains('/') {
        output::error(format_args!("--name must be a file name ending in `.evo`, not `{}`", args.name));
        return ExitCode::from(EXIT_INVALID);
    }
    let files = match render(&args, &answers) {
        Ok(files) => files,
        Err(e) => {
            output::error(format_args!("cannot render the template: {e}"));
            return ExitCode::from(1);
        }
    };
    let existing: Vec<String> =
        files.iter().filter(|(name, _)| args.dir.join(name).exists()).map(|(name, _)| name.clone()).collect();
    if !existing.is_empty() && !args.force {
        output::error(format_args!(
            "{} already has {}: nothing was written (--force overwrites)",
            args.dir.display(),
            existing.join(", ")
        ));
        return ExitCode::from(1);
    }
    if let Err(e) = std::fs::create_dir_all(&args.dir) {
        output::error(format_args!("cannot create {}: {e}", args.dir.display()));
        return ExitCode::from(1);
    }
    for (name, text) in &files {
        if let Err(e) = std::fs::write(args.dir.join(name), text) {
            output::error(format_args!("cannot write {}: {e}", args.dir.join(name).display()));
            return ExitCode::from(1);
        }
    }
    let workflow = args.dir.join(&args.name);
    eprintln!(
        "created {} ({})",
        args.dir.display(),
        files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
    );
    eprintln!("next:\n  evoflow check {0}\n  evoflow run {0}\n  evoflow report {0} --open", workflow.display());
    ExitCode::SUCCESS
}

/// What the template needs to know about the user's data.
struct Answers {
    data: String,
    user: String,
    item: String,
    rating: String,
    time: String,
}

/// The flags, and for what they leave out, questions when a person is at the terminal.
fn answers(args: &Args) -> Result<Answers, String> {
    let interactive = std::io::stdin().is_terminal();
    let ask = |question: &str, given: &Option<String>, default: &str| -> Result<String, String> {
        if let Some(v) = given {
            return Ok(v.clone());
        }
        if !interactive {
            return Ok(default.to_string());
        }
        let shown = if default.is_empty() { "none".to_string() } else { default.to_string() };
        eprint!("{question} [{shown}]: ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
        let line = line.trim();
        Ok(if line.is_empty() { default.to_string() } else { line.to_string() })
    };
    let data = match (&args.data, interactive) {
        (Some(d), _) => d.clone(),
        (None, true) => ask("Interactions file (CSV or Parquet)", &None, "")?,
        (None, false) => {
            return Err(
                "give the interactions file with --data PATH (CSV or Parquet, with user and item id columns)".into()
            )
        }
    };
    if data.is_empty() {
        return Err("an interactions file is needed: --data PATH".into());
    }
    Ok(Answers {
        data: relative_to(&args.dir, &data),
        user: ask("User id column", &args.user, "user_id")?,
        item: ask("Item id column", &args.item, "item_id")?,
        rating: ask("Rating column (empty: none)", &args.rating, "")?,
        time: ask("Timestamp column (empty: none)", &args.time, "")?,
    })
}

/// `data` as the workflow in `dir` should name it: relative paths are given from the current
/// folder, and the workflow resolves them from its own.
fn relative_to(dir: &Path, data: &str) -> String {
    let path = Path::new(data);
    if path.is_absolute() || data.starts_with('~') || data.starts_with('$') {
        return data.to_string();
    }
    let (Ok(file), Ok(dir)) = (std::path::absolute(path), std::path::absolute(dir)) else {
        return data.to_string();
    };
    // Up from `dir` to the deepest folder it shares with the file, then down to the file.
    let (file, dir): (Vec<_>, Vec<_>) = (file.components().collect(), dir.components().collect());
    let common = file.iter().zip(&dir).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..dir.len() {
        rel.push("..");
    }
    rel.extend(&file[common..]);
    rel.display().to_string()
}

/// The project's files: (name, text).
fn render(args: &Args, a: &Answers) -> Result<Vec<(String, String)>, minijinja::Error> {
    let env = Environment::new();
    let name = std::path::absolute(&args.dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "project".into());
    // Values go inside `.evo` string literals.
    let quoted = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let ctx = context! {
        name => name, file => args.name, data => quoted(&a.data), user => quoted(&a.user), item => quoted(&a.item),
        rating => quoted(&a.rating), time => quoted(&a.time),
    };
    Ok(vec![
        (args.name.clone(), env.render_str(PIPELINE, &ctx)?),
        ("evoflow.toml".into(), env.render_str(CONFIG, &ctx)?),
        (".gitignore".into(), env.render_str(GITIGNORE, &ctx)?),
    ])
}
