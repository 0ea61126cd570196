//! `evoflow.toml` beside a workflow: defaults for params, jobs, resources and the run dir, the
//! model LLM agents use (`[llm]`), the run's LLM budget (`[budget]`) and the executor
//! (`[executor]`). The command line wins
//! over the file, the file over built-in defaults.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The file's contents. Unknown keys are errors, so a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Values for the workflow's params, as `--set` would give them.
    #[serde(default)]
    pub params: toml::Table,
    /// Steps running at once.
    pub jobs: Option<usize>,
    /// Capacity of each resource unit (`cpu`, `gpu`, `llm`).
    #[serde(default)]
    pub resources: BTreeMap<String, f64>,
    /// Where runs keep their outputs, cache and journal.
    pub run_dir: Option<String>,
    /// The model LLM agents call; absent, agents fall back to the built-in search agent.
    pub llm: Option<llm::Config>,
    /// Limits on a run's LLM calls and spending.
    #[serde(default)]
    pub budget: llm::Budget,
    /// Where steps that may leave the driver run (`[executor] kind = "slurm"`).
    #[serde(default)]
    pub executor: crate::exec::slurm::ExecutorConfig,
}

impl Config {
    /// Reads `evoflow.toml` from `dir`; an absent file is the defaults.
    pub fn load(dir: &Path) -> Result<Config, String> {
        let path = dir.join("evoflow.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
        };
        let config: Config = toml::from_str(&text).map_err(|e| toml_error(&path, &text, &e))?;
        config.validate().map_err(|e| format!("`{}`: {e}", path.display()))?;
        Ok(config)
    }

    /// Checks what the types cannot: usable `[llm]` values and non-negative budgets.
    fn validate(&self) -> Result<(), String> {
        if self.jobs == Some(0) {
            return Err("`jobs` must be at least 1 (the steps that may run at once)".into());
        }
        self.executor.validate()?;
        if let Some(llm) = &self.llm {
            llm.validate().map_err(|e| format!("[llm]: {e}"))?;
        }
        if let Some(max) = self.budget.max_cost_usd {
            if !(max.is_finite() && max >= 0.0) {
                return Err(format!("[budget]: `max_cost_usd` must be zero or more, not {max}"));
            }
        }
        Ok(())
    }

    /// The file's params as `NAME=VALUE` overrides, in the syntax `--set` takes.
    pub fn param_overrides(&self) -> Vec<(String, String)> {
        self.params.iter().map(|(k, v)| (k.clone(), value_text(v))).collect()
    }
}

/// A TOML error with its line, but never a secret: the README promises keys live only in the
/// environment, so a key pasted into the file must not be printed back by the error about it.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim_end();
    let Some(span) = e.span() else { return format!("`{}`: {message}", path.display()) };
    let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or_default();
    let (shown, message) = match secret(line) {
        Some((key, value)) => (format!("{key}= \"<redacted>\""), message.replace(value, "<redacted>")),
        None => (line.to_string(), message.to_string()),
    };
    format!("`{}`, line {line_no}: {message}\n  {line_no} | {shown}", path.display())
}

/// The key and the value of a `key = value` line when the key names a secret or the value looks
/// like one (a provider key's `sk-` prefix, or a long unbroken token).
fn secret(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once('=')?;
    let name = key.trim().to_ascii_lowercase();
    let secret_name = ["key", "token", "secret", "password", "auth", "credential"].iter().any(|w| name.contains(w))
        && !name.ends_with("_env");
    let bare = value.trim().trim_matches(['"', '\'']);
    let secret_value = bare.starts_with("sk-")
        || (bare.len() >= 20 && !bare.contains(char::is_whitespace) && !bare.contains(['/', '.', ':']));
    (secret_name || secret_value).then_some((key, bare)).filter(|(_, v)| !v.is_empty())
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    toml::Value::String(s) => format!("{s:?}"),
                    other => value_text(other),
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
        toml::Value::Float(f) => format!("{f:?}"),
        other => other.to_string(),
    }
}

/// The overrides of the file, then those of the command line, later ones winning.
pub fn merge_overrides(file: Vec<(String, String)>, cli: &[(String, String)]) -> Vec<(String, String)> {
    let mut merged: Vec<(String, String)> = Vec::new();
    for (name, value) in file.into_iter().chain(cli.iter().cloned()) {
        merged.retain(|(n, _)| *n != name);
        merged.push((name, value));
    }
    merged
}
