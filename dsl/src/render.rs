//! The one place diagnostics become text: miette's graphical report (file:line:col, a code
//! frame, carets, help), or JSON for tools and agents.

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::span::{SourceMap, Span};

/// Renders diagnostics for a terminal (`color`) or a log / snapshot (no color).
pub fn render(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let mut out = String::new();
    for d in diags {
        let report = Report::new(d, sources);
        handler.render_report(&mut out, &report).expect("writing to a String cannot fail");
    }
    out
}

/// One diagnostic as JSON.
#[derive(Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub labels: Vec<JsonLabel>,
    pub help: Option<String>,
}

/// A secondary location of a JSON diagnostic.
#[derive(Serialize)]
pub struct JsonLabel {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Diagnostics as a JSON array (1-based lines and columns).
pub fn to_json(diags: &[Diagnostic], sources: &SourceMap) -> serde_json::Value {
    let out: Vec<JsonDiagnostic> = diags
        .iter()
        .map(|d| {
            let (file, line, column) = locate(d.span, sources);
            let (_, end_line, end_column) = locate(Span { start: d.span.end, ..d.span }, sources);
            JsonDiagnostic {
                code: d.code(),
                severity: "error",
                message: d.message(),
                file,
                line,
                column,
                end_line,
                end_column,
                labels: d
                    .labels
                    .iter()
                    .map(|(span, message)| {
                        let (file, line, column) = locate(*span, sources);
                        JsonLabel { file, line, column, message: message.clone() }
                    })
                    .collect(),
                help: d.help.clone(),
            }
        })
        .collect();
    serde_json::to_value(out).expect("diagnostics serialise")
}

fn locate(span: Span, sources: &SourceMap) -> (String, usize, usize) {
    let file = sources.get(span.file);
    let (line, col) = file.line_col(span.start as usize);
    (file.name.clone(), line, col)
}

/// A diagnostic in the shape miette wants. Labels in other files than the primary span's are
/// folded into the help text, since one report shows one source.
#[derive(Debug)]
struct Report {
    code: &'static str,
    message: String,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
}

impl Report {
    fn new(d: &Diagnostic, sources: &SourceMap) -> Self {
        let mut help = d.help.clone();
        // A span that covers nothing at the very start stands for "no place in the file"
        // (e.g. an unknown `--set` name): show the message alone.
        if d.span.is_empty() && d.span.start == 0 && d.labels.is_empty() && d.kind.code() == "E0315" {
            return Report { code: d.code(), message: d.message(), help, source: None, labels: Vec::new() };
        }
        let file = sources.get(d.span.file);
        let mut labels = vec![LabeledSpan::new_primary_with_span(None, to_source_span(d.span))];
        for (span, note) in &d.labels {
            if span.file == d.span.file {
                labels.push(LabeledSpan::new_with_span(Some(note.clone()), to_source_span(*span)));
            } else {
                let other = sources.get(span.file);
                let (line, col) = other.line_col(span.start as usize);
                let extra = format!("{note}: {}:{line}:{col}", other.name);
                help = Some(match help {
                    Some(h) => format!("{h}\n{extra}"),
                    None => extra,
                });
            }
        }
        Report {
            code: d.code(),
            message: d.message(),
            help,
            source: Some(NamedSource::new(file.name.clone(), file.text.clone())),
            labels,
        }
    }
}

fn to_source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.clone().into_iter()))
        }
    }
}
