//! Rendering a persona's prompt (a minijinja template that extends `base.j2`) with the paper's
//! parts: persona, task, context (baseline source, recent SQL results, the journal's top-N), an
//! example proposal, the explore / exploit / innovate request, and the output schema.

use serde::Serialize;

use crate::baseline::Baseline;
use crate::proposer::{HistoryEntry, Quota};
use crate::scope::Persona;

/// How the journal is ordered in the prompt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Best offline score first; unscored entries last.
    #[default]
    Score,
    /// Newest first.
    Time,
    /// As the journal gave them.
    None,
}

impl SortOrder {
    /// The order named `score`, `time` or `none`.
    pub fn from_name(name: &str) -> Option<SortOrder> {
        match name {
            "score" => Some(SortOrder::Score),
            "time" => Some(SortOrder::Time),
            "none" => Some(SortOrder::None),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            SortOrder::Score => "score",
            SortOrder::Time => "time",
            SortOrder::None => "none",
        }
    }
}

/// The ablation switches of the paper: history size, sort order, persona on/off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PromptOptions {
    /// Journal entries shown at most.
    pub history: usize,
    pub sort: SortOrder,
    /// Whether the persona section is shown.
    pub persona: bool,
}

impl Default for PromptOptions {
    fn default() -> Self {
        PromptOptions { history: 100, sort: SortOrder::Score, persona: true }
    }
}

impl PromptOptions {
    /// The options a persona declares (`history`, `sort`, `enabled`), defaults elsewhere.
    pub fn for_persona(persona: &Persona) -> PromptOptions {
        let d = PromptOptions::default();
        PromptOptions {
            history: persona.history.unwrap_or(d.history),
            sort: persona.sort.as_deref().and_then(SortOrder::from_name).unwrap_or(d.sort),
            persona: d.persona,
        }
    }
}

/// A recent query and its (already truncated) result table, as text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SqlResult {
    pub sql: String,
    pub table: String,
}

/// What the prompt shows besides the baseline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PromptContext {
    /// A sentence on the task; a default one names the metric.
    pub task: Option<String>,
    /// The offline metric candidates are scored on (`ndcg@10`).
    pub metric: String,
    pub sql_results: Vec<SqlResult>,
    /// The journal, in the order it was kept.
    pub history: Vec<HistoryEntry>,
    pub quota: Quota,
    /// The data candidates train on, in a line or two (users, items, rows per split).
    pub data: Option<String>,
    /// How every candidate is trained and scored (loss, batch, epochs, early stopping).
    pub training: Option<String>,
}

/// Why a prompt could not be rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptError {
    pub message: String,
}

impl std::fmt::Display for PromptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PromptError {}

#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    persona: &'a str,
    operator: &'a str,
    kind: &'static str,
    metric: &'a str,
    score: String,
    status: &'a str,
    explanation: &'a str,
    params: Option<i64>,
}

/// The journal entries the prompt shows: sorted, then cut to `options.history`.
pub fn select_history<'a>(history: &'a [HistoryEntry], options: &PromptOptions) -> Vec<&'a HistoryEntry> {
    let mut rows: Vec<&HistoryEntry> = history.iter().collect();
    match options.sort {
        SortOrder::Score => rows.sort_by(|a, b| match (a.score, b.score) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }),
        SortOrder::Time => rows.sort_by_key(|h| std::cmp::Reverse(h.time)),
        SortOrder::None => {}
    }
    rows.truncate(options.history);
    rows
}

/// Renders `persona`'s prompt for `baseline`.
pub fn render_prompt(
    persona: &Persona,
    baseline: &Baseline,
    context: &PromptContext,
    options: &PromptOptions,
) -> Result<String, PromptError> {
    let base = dsl::stdlib::read(&format!("{}/prompts/base.j2", dsl::stdlib::ROOT))
        .ok_or_else(|| PromptError { message: "the stdlib has no prompts/base.j2".into() })?;
    let mut env = minijinja::Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    let template_error = |what: &str, e: minijinja::Error| PromptError { message: format!("{what}: {e:#}") };
    env.add_template("base.j2", base).map_err(|e| template_error("the base prompt template", e))?;
    env.add_template("persona.j2", &persona.prompt)
        .map_err(|e| template_error(&format!("the `{}` persona's prompt template", persona.name), e))?;
    let rows: Vec<Row> = select_history(&context.history, options)
        .into_iter()
        .map(|h| Row {
            id: &h.id,
            persona: &h.persona,
            operator: &h.operator,
            kind: h.kind.as_str(),
            metric: &h.metric,
            score: h.score.map_or_else(|| "-".into(), |s| format!("{s:.4}")),
            status: &h.status,
            explanation: &h.explanation,
            params: h.params,
        })
        .collect();
    let block = baseline.block(persona.edits).unwrap_or("");
    let metric = if context.metric.is_empty() { "the offline metric" } else { context.metric.as_str() };
    let task = context.task.clone().unwrap_or_else(|| {
        format!("Improve the recommender's {metric} on held-out data by changing its `{}` block.", persona.edits)
    });
    // A block imported from a module is only a `use` line in the baseline: show its source.
    let imported = baseline
        .block(persona.edits)
        .and_then(|b| baseline.qualified(b))
        .filter(|q| q.contains("::"))
        .and_then(|_| baseline.block_source(persona.edits));
    let schema = serde_json::to_string_pretty(&crate::schema::output_schema()).expect("a schema serialises");
    let features: Vec<String> =
        baseline.program.side_features().iter().map(|f| format!("`{}` ({}, per {})", f.name, f.ty, f.owner)).collect();
    let template = env.get_template("persona.j2").map_err(|e| template_error("the persona prompt", e))?;
    let out = template
        .render(minijinja::context! {
            persona => persona.name,
            description => persona.description,
            show_persona => options.persona,
            edits => persona.edits.keyword(),
            block => block,
            task => task,
            metric => metric,
            baseline => baseline.source.trim_end(),
            imported => imported.as_deref().map(str::trim_end),
            reference => crate::reference::reference(persona.edits).map(|r| r.trim_end().to_string()),
            data => context.data,
            features => features,
            training => context.training,
            sql_results => context.sql_results,
            history => rows,
            history_total => context.history.len(),
            sort => options.sort.as_str(),
            explore => context.quota.explore,
            exploit => context.quota.exploit,
            innovate => context.quota.innovate,
            schema => schema,
        })
        .map_err(|e| template_error(&format!("rendering the `{}` persona's prompt", persona.name), e))?;
    Ok(out)
}
