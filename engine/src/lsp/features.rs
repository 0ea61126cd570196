//! What the server answers about a document: diagnostics, hover, definitions, completions,
//! symbols and formatting. Pure functions of a [`Document`] (plus the stdlib's files on disk for
//! go-to-definition into it).

use dsl::check::index::{signature_text, Target};
use lsp_types::{
    CompletionItem, CompletionItemKind, Diagnostic, DiagnosticSeverity, DocumentSymbol, Hover, HoverContents, Location,
    MarkupContent, MarkupKind, NumberOrString, Position, Range, SymbolKind, TextEdit, Url,
};

use super::document::{range, Document};

/// The document's diagnostics, with the codes and messages `evoflow check` prints. A problem in
/// an imported file is shown at the top of this one, naming the file.
pub fn diagnostics(doc: &Document) -> Vec<Diagnostic> {
    let Err(diags) = &doc.checked.result else { return Vec::new() };
    let file = doc.file();
    diags
        .iter()
        .map(|d| {
            let here = Some(d.span.file) == file;
            let mut message = d.message();
            if let Some(help) = &d.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            if !here {
                message = format!("in {}: {message}", doc.checked.sources.get(d.span.file).name);
            }
            Diagnostic {
                range: if here { range(&doc.text, d.span) } else { Range::default() },
                severity: Some(DiagnosticSeverity::ERROR),
                code: Some(NumberOrString::String(d.code().to_string())),
                source: Some("evoflow".into()),
                message,
                ..Diagnostic::default()
            }
        })
        .collect()
}

/// What the name at `position` is: an item's kind and type (a model's shapes), a built-in's
/// signature and doc, or a model value's shape.
pub fn hover(doc: &Document, position: Position) -> Option<Hover> {
    let file = doc.file()?;
    let at = doc.offset(position);
    let index = &doc.checked.index;
    let (text, span) = if let Some(reference) = index.reference_at(file, at) {
        let text = match &reference.target {
            Target::Item(def) => item_text(doc, *def)?,
            Target::Builtin(sig) => format!("```evo\n{}\n```\n{}", signature_text(sig), sig.doc),
        };
        (text, reference.span)
    } else if let Some(item) = index.item_named_at(file, at) {
        (item_text(doc, item.span)?, item.span)
    } else {
        model_value(doc, file, at)?
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: text }),
        range: Some(range(&doc.text, span)),
    })
}

/// An item's kind, name and type; for a model, the shape of each value it names.
fn item_text(doc: &Document, def: dsl::Span) -> Option<String> {
    let item = doc.checked.index.item(def)?;
    let mut text = format!("```evo\n{} {}: {}\n```", item.kind, item.name, item.ty);
    if let Some(model) = model_in(doc, item.item_span) {
        text.push_str("\n\n| value | shape |\n| --- | --- |\n");
        for node in model.nodes.iter().filter(|n| n.binding.is_some()) {
            text.push_str(&format!("| `{}` | {} |\n", node.binding.as_deref().unwrap_or(""), node.shape));
        }
    }
    Some(text)
}

/// The checked model whose block is `item_span`.
fn model_in(doc: &Document, item_span: dsl::Span) -> Option<&dsl::shape::ModelDef> {
    let program = doc.checked.result.as_ref().ok()?;
    program.models.values().find(|m| {
        m.nodes
            .iter()
            .any(|n| n.span.file == item_span.file && n.span.start >= item_span.start && n.span.end <= item_span.end)
    })
}

/// The shape of the model value named at `at` (`u` in `u = embed(user, 32)` or where it is used).
fn model_value(doc: &Document, file: dsl::FileId, at: usize) -> Option<(String, dsl::Span)> {
    let (word, span) = word_at(&doc.text, at)?;
    let item = doc.checked.index.items.iter().find(|i| {
        i.kind == "model"
            && i.item_span.file == file
            && (i.item_span.start as usize..=i.item_span.end as usize).contains(&at)
    })?;
    let node = model_in(doc, item.item_span)?.nodes.iter().find(|n| n.binding.as_deref() == Some(word))?;
    Some((
        format!("```evo\n{word}: {}\n```\nin model `{}`", node.shape, item.name),
        dsl::Span::new(file, span.0, span.1),
    ))
}

/// The identifier around byte `at` and its byte range.
fn word_at(text: &str, at: usize) -> Option<(&str, (usize, usize))> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let at = at.min(text.len());
    let start = text[..at].char_indices().rev().take_while(|(_, c)| is_word(*c)).last().map_or(at, |(i, _)| i);
    let end = text[at..].char_indices().find(|(_, c)| !is_word(*c)).map_or(text.len(), |(i, _)| at + i);
    (start < end).then(|| (&text[start..end], (start, end)))
}

/// Where the name at `position` is defined: in this file, an imported file, or the stdlib
/// (written to `stdlib_dir` so the editor can open it).
pub fn definition(doc: &Document, position: Position, stdlib_dir: &std::path::Path) -> Option<Location> {
    let file = doc.file()?;
    let reference = doc.checked.index.reference_at(file, doc.offset(position))?;
    let Target::Item(def) = reference.target else { return None };
    let source = doc.checked.sources.get(def.file);
    let path = if source.name.starts_with(dsl::stdlib::ROOT) {
        let rel = source.name.trim_start_matches(dsl::stdlib::ROOT).trim_start_matches('/');
        let path = stdlib_dir.join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(source.text.as_str()) {
            std::fs::create_dir_all(path.parent()?).ok()?;
            std::fs::write(&path, &source.text).ok()?;
        }
        path
    } else {
        std::path::absolute(&source.name).ok()?
    };
    Some(Location { uri: Url::from_file_path(path).ok()?, range: range(&source.text, def) })
}

/// Completions at `position`: inside a built-in's parentheses, its parameters; elsewhere the
/// document's items and every built-in step and constructor.
pub fn completions(doc: &Document, position: Position) -> Vec<CompletionItem> {
    let at = doc.offset(position);
    if let Some(sig) = enclosing_call(doc, at) {
        return sig
            .params
            .iter()
            .map(|p| CompletionItem {
                label: p.name.to_string(),
                kind: Some(CompletionItemKind::FIELD),
                detail: Some(match &p.default {
                    Some(v) => format!("{}: {} = {v}", p.name, p.ty),
                    None => format!("{}: {} (required)", p.name, p.ty),
                }),
                insert_text: Some(format!("{}: ", p.name)),
                ..CompletionItem::default()
            })
            .collect();
    }
    let mut items: Vec<CompletionItem> = Vec::new();
    if let Some(file) = doc.file() {
        for item in doc.checked.index.items.iter().filter(|i| i.span.file == file) {
            items.push(CompletionItem {
                label: item.name.clone(),
                kind: Some(symbol_completion(item.kind)),
                detail: Some(format!("{} {}: {}", item.kind, item.name, item.ty)),
                ..CompletionItem::default()
            });
        }
    }
    for sig in dsl::builtins::all() {
        items.push(CompletionItem {
            label: sig.name.to_string(),
            kind: Some(CompletionItemKind::FUNCTION),
            detail: Some(signature_text(sig)),
            documentation: Some(lsp_types::Documentation::String(sig.doc.to_string())),
            ..CompletionItem::default()
        });
    }
    items
}

/// The built-in whose argument list holds byte `at`: the innermost unclosed `(` before it,
/// preceded by a name the checker resolved to a built-in.
fn enclosing_call(doc: &Document, at: usize) -> Option<&'static dsl::builtins::Signature> {
    let file = doc.file()?;
    let mut depth = 0usize;
    for (i, c) in doc.text[..at.min(doc.text.len())].char_indices().rev() {
        match c {
            ')' | ']' | '}' => depth += 1,
            '(' | '[' | '{' if depth > 0 => depth -= 1,
            '(' => {
                let name_end = doc.text[..i].trim_end().len();
                let Target::Builtin(sig) = doc.checked.index.reference_at(file, name_end)?.target else { return None };
                return Some(sig);
            }
            '[' | '{' => return None,
            _ => {}
        }
    }
    None
}

fn symbol_completion(kind: &str) -> CompletionItemKind {
    match kind {
        "model" | "reward" | "optimizer" | "persona" => CompletionItemKind::CLASS,
        "step" => CompletionItemKind::FUNCTION,
        "param" => CompletionItemKind::CONSTANT,
        _ => CompletionItemKind::VARIABLE,
    }
}

/// The document's declarations, in order (parsed, so they come even when checking fails).
pub fn symbols(doc: &Document) -> Vec<DocumentSymbol> {
    let mut sources = dsl::SourceMap::default();
    let file = sources.add(doc.path.clone(), doc.text.clone());
    let Ok(module) = dsl::parse::parse(file, &doc.text) else { return Vec::new() };
    module
        .items
        .iter()
        .filter_map(|item| {
            let name = item.name()?;
            let kind = match item.keyword() {
                "param" => SymbolKind::CONSTANT,
                "dataset" | "let" | "output" => SymbolKind::VARIABLE,
                "step" => SymbolKind::FUNCTION,
                _ => SymbolKind::CLASS,
            };
            #[allow(deprecated)] // `deprecated` is a required field of the struct
            Some(DocumentSymbol {
                name: name.name.clone(),
                detail: Some(item.keyword().to_string()),
                kind,
                tags: None,
                deprecated: None,
                range: range(&doc.text, item.span()),
                selection_range: range(&doc.text, name.span),
                children: None,
            })
        })
        .collect()
}

/// The document in canonical layout as one edit, or no edit when it is already formatted;
/// `None` when it does not parse (nothing to format safely).
pub fn format(doc: &Document) -> Option<Vec<TextEdit>> {
    let mut sources = dsl::SourceMap::default();
    let file = sources.add(doc.path.clone(), doc.text.clone());
    let module = dsl::parse::parse(file, &doc.text).ok()?;
    let formatted = dsl::fmt::format(&module, &doc.text);
    if formatted == doc.text {
        return Some(Vec::new());
    }
    let end = super::document::position(&doc.text, doc.text.len());
    Some(vec![TextEdit { range: Range::new(Position::new(0, 0), end), new_text: formatted }])
}
