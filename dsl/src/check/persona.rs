//! Personas: which blocks an agent may edit, its tools, and its prompt template (parsed with
//! minijinja now, so a broken template is a compile error, not a failure mid-run).

use indexmap::IndexMap;

use super::{Checker, Resolved};
use crate::ast::{self, Expr, ExprKind, Item};
use crate::builtins::TOOLS;
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::program::PersonaDef;
use crate::span::Span;
use crate::suggest::did_you_mean;
use crate::types::{Type, Value};

const FIELDS: &[&str] = &["edits", "tools", "prompt", "llm", "history", "sort", "enabled", "rank_by", "description"];
const SCOPES: &[&str] = &["model", "optimizer", "reward"];

impl Checker<'_> {
    pub(super) fn check_persona(&mut self, module: usize, decl: &ast::PersonaDecl) -> Resolved {
        let qual = self.qualify(module, &decl.name.name);
        let resolved = Resolved { ty: Type::Persona, value: Value::Persona(qual.clone()), schema: None };
        let before = self.diags.len();
        let (mut edits, mut tools, mut prompt) = (None, Vec::new(), None);
        let mut settings = IndexMap::new();
        let mut seen: Vec<(&str, Span)> = Vec::new();
        for field in &decl.fields {
            let name = field.name.name.as_str();
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                let first = *first;
                self.error(
                    Diagnostic::new(ErrorKind::Duplicate { name: name.to_string() }, field.name.span)
                        .label(first, "first set here"),
                );
                continue;
            }
            seen.push((name, field.name.span));
            match name {
                "edits" => edits = self.scope_name(&field.value),
                "tools" => tools = self.tools(&field.value),
                "prompt" => prompt = self.prompt(module, &field.value),
                "llm" | "sort" | "rank_by" | "description" => {
                    if let Some(v) = self.setting(&field.value, Type::Str) {
                        if name == "sort"
                            && !matches!(&v, Value::Str(s) if ["score", "time", "none"].contains(&s.as_str()))
                        {
                            self.error(
                                Diagnostic::new(
                                    ErrorKind::TypeMismatch {
                                        expected: "\"score\", \"time\" or \"none\"".into(),
                                        found: v.to_string(),
                                    },
                                    field.value.span,
                                )
                                .help("the journal is shown sorted by offline score, by time, or not at all"),
                            );
                        }
                        settings.insert(name.to_string(), v);
                    }
                }
                "history" => {
                    if let Some(v) = self.setting(&field.value, Type::Int) {
                        settings.insert(name.to_string(), v);
                    }
                }
                "enabled" => {
                    if let Some(v) = self.setting(&field.value, Type::Bool) {
                        settings.insert(name.to_string(), v);
                    }
                }
                other => {
                    let help = did_you_mean(other, FIELDS.iter().copied())
                        .or_else(|| Some(format!("persona fields are {}", FIELDS.join(", "))));
                    self.error(
                        Diagnostic::new(ErrorKind::UnknownPersonaField { field: other.to_string() }, field.name.span)
                            .maybe_help(help),
                    );
                }
            }
        }
        for required in ["edits", "prompt"] {
            if !seen.iter().any(|(n, _)| *n == required) {
                let example = if required == "edits" { "edits: model" } else { "prompt: file(\"prompts/mine.j2\")" };
                self.error(
                    Diagnostic::new(ErrorKind::MissingPersonaField { field: required.into() }, decl.name.span)
                        .help(format!("add `{example}`")),
                );
            }
        }
        if self.diags.len() == before {
            if let (Some(edits), Some(prompt)) = (edits, prompt) {
                let source = self.canonical(&Item::Persona(decl.clone()));
                self.program.personas.insert(qual, PersonaDef { edits, tools, prompt, settings, source });
            }
        }
        resolved
    }

    fn scope_name(&mut self, value: &Expr) -> Option<String> {
        let name = match &value.kind {
            ExprKind::Path(p) if p.len() == 1 => p[0].name.clone(),
            _ => value.span.text(self.sources).to_string(),
        };
        if SCOPES.contains(&name.as_str()) {
            return Some(name);
        }
        let help = did_you_mean(&name, SCOPES.iter().copied());
        self.error(Diagnostic::new(ErrorKind::BadScope { value: name }, value.span).maybe_help(help));
        None
    }

    fn tools(&mut self, value: &Expr) -> Vec<String> {
        let ExprKind::List(items) = &value.kind else {
            self.error(
                Diagnostic::new(
                    ErrorKind::TypeMismatch { expected: "a list of tools".into(), found: "something else".into() },
                    value.span,
                )
                .help("e.g. `tools: [compute_loss]`"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let name = match &item.kind {
                ExprKind::Path(p) if p.len() == 1 => p[0].name.clone(),
                _ => item.span.text(self.sources).to_string(),
            };
            if TOOLS.contains(&name.as_str()) {
                out.push(name);
            } else {
                let help = did_you_mean(&name, TOOLS.iter().copied())
                    .or_else(|| Some(format!("tools are {}", TOOLS.join(", "))));
                self.error(Diagnostic::new(ErrorKind::UnknownTool { tool: name }, item.span).maybe_help(help));
            }
        }
        out
    }

    fn setting(&mut self, value: &Expr, ty: Type) -> Option<Value> {
        let (found, v) = self.check_expr(0, value, Some(&ty), &mut Default::default());
        if !ty.accepts(&found) {
            self.error(Diagnostic::new(
                ErrorKind::TypeMismatch { expected: ty.to_string(), found: found.to_string() },
                value.span,
            ));
            return None;
        }
        Some(v)
    }

    /// The prompt template's text: inline, or `file("...")` relative to the persona's file.
    fn prompt(&mut self, module: usize, value: &Expr) -> Option<String> {
        let (text, span) = match &value.kind {
            ExprKind::Str { value: text, .. } => (text.clone(), value.span),
            ExprKind::Call { callee, args } if callee.len() == 1 && callee[0].name == "file" && args.len() == 1 => {
                let ExprKind::Str { value: rel, .. } = &args[0].value.kind else {
                    self.error(Diagnostic::new(
                        ErrorKind::TypeMismatch { expected: "a path string".into(), found: "something else".into() },
                        args[0].value.span,
                    ));
                    return None;
                };
                let path = super::modules::join(&self.modules.get(module).path, rel);
                let read = if self.modules.get(module).is_std {
                    crate::stdlib::read(&path).map(str::to_string).ok_or_else(|| "not in the stdlib".to_string())
                } else {
                    self.loader.read(&path)
                };
                match read {
                    Ok(text) => (text, args[0].value.span),
                    Err(reason) => {
                        self.error(Diagnostic::new(ErrorKind::FileNotFound { path, reason }, args[0].value.span));
                        return None;
                    }
                }
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        ErrorKind::TypeMismatch {
                            expected: "a prompt template".into(),
                            found: "something else".into(),
                        },
                        value.span,
                    )
                    .help(
                        "write the template inline (`\"\"\"...\"\"\"`) or point at a file: `file(\"prompts/mine.j2\")`",
                    ),
                );
                return None;
            }
        };
        let env = minijinja::Environment::new();
        if let Err(e) = env.template_from_str(&text) {
            let detail = e.detail().unwrap_or("syntax error");
            // An inline template written without escapes maps onto the source byte for byte:
            // point at the mistake itself.
            let inner = inline_template(value, self.sources);
            if let (Some(start), Some(range)) = (inner.filter(|(_, raw)| *raw == text).map(|(s, _)| s), e.range()) {
                let end = value.span.end;
                let (from, to) = if detail.starts_with("unexpected end of input") {
                    // Something opened is never closed: the template ends at the closing quotes.
                    (start + text.len() as u32, end)
                } else {
                    let from = start + range.start as u32;
                    (from, (start + range.end as u32).max(from + 1).min(end))
                };
                let at = Span { start: from.min(to - 1), end: to, ..value.span };
                self.error(Diagnostic::new(ErrorKind::TemplateError { reason: detail.to_string() }, at));
                return None;
            }
            let reason = match e.line() {
                Some(line) => format!("line {line} of the template: {detail}"),
                None => detail.to_string(),
            };
            self.error(Diagnostic::new(ErrorKind::TemplateError { reason }, span));
            return None;
        }
        Some(text)
    }
}

/// Where the text of an inline prompt starts in the source, and that raw text (before escapes).
fn inline_template<'s>(value: &Expr, sources: &'s crate::span::SourceMap) -> Option<(u32, &'s str)> {
    let ExprKind::Str { long, .. } = &value.kind else { return None };
    let quotes = if *long { 3 } else { 1 };
    let raw = value.span.text(sources);
    let inner = raw.get(quotes..raw.len().checked_sub(quotes)?)?;
    Some((value.span.start + quotes as u32, inner))
}
