//! `evoflow.toml` beside a workflow: defaults for params, jobs, resources and the run dir, the
//! model LLM agents use (`[llm]`) and the run's LLM budget (`[budget]`). The command line wins
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
        let config: Config =
            toml::from_str(&text).map_err(|e| format!("`{}`: {}", path.display(), e.to_string().trim_end()))?;
        config.validate().map_err(|e| format!("`{}`: {e}", path.display()))?;
        Ok(config)
    }

    /// Checks what the types cannot: usable `[llm]` values and non-negative budgets.
    fn validate(&self) -> Result<(), String> {
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
