//! `evoflow lsp`: a language server over stdio for `.evo` files — diagnostics as you type (the
//! codes and messages of `evoflow check`), hover, go to definition (into the stdlib too),
//! completion of step names and arguments, formatting and document symbols.

mod document;
mod features;

use std::collections::HashMap;
use std::path::PathBuf;

use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    CompletionOptions, OneOf, PublishDiagnosticsParams, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind, Url,
};

use document::Document;

/// Serves one editor on stdin/stdout until it asks the server to exit.
pub fn serve() -> Result<(), String> {
    let (connection, io) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["(".into(), ",".into(), ":".into()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    };
    let caps = serde_json::to_value(capabilities).map_err(|e| e.to_string())?;
    connection.initialize(caps).map_err(|e| e.to_string())?;
    let mut server = Server { documents: HashMap::new(), stdlib_dir: stdlib_dir() };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request).map_err(|e| e.to_string())? {
                    break;
                }
                let response = server.answer(request);
                connection.sender.send(Message::Response(response)).map_err(|e| e.to_string())?;
            }
            Message::Notification(note) => {
                if let Some(publish) = server.notice(note) {
                    connection.sender.send(Message::Notification(publish)).map_err(|e| e.to_string())?;
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(connection);
    io.join().map_err(|e| e.to_string())
}

/// Where stdlib modules are written for go-to-definition: one folder per stdlib version.
fn stdlib_dir() -> PathBuf {
    let cache = std::env::var_os("EVOFLOW_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/evoflow")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("stdlib").join(dsl::stdlib::version())
}

struct Server {
    documents: HashMap<Url, Document>,
    stdlib_dir: PathBuf,
}

impl Server {
    /// Answers a request about an open document (`null` for one it does not have).
    fn answer(&self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            HoverRequest::METHOD => self
                .with::<HoverRequest>(request, |doc, p| features::hover(doc, p.text_document_position_params.position)),
            GotoDefinition::METHOD => self.with::<GotoDefinition>(request, |doc, p| {
                features::definition(doc, p.text_document_position_params.position, &self.stdlib_dir)
                    .map(lsp_types::GotoDefinitionResponse::Scalar)
            }),
            Completion::METHOD => self.with::<Completion>(request, |doc, p| {
                Some(lsp_types::CompletionResponse::Array(features::completions(
                    doc,
                    p.text_document_position.position,
                )))
            }),
            Formatting::METHOD => self.with::<Formatting>(request, |doc, _| features::format(doc)),
            DocumentSymbolRequest::METHOD => self.with::<DocumentSymbolRequest>(request, |doc, _| {
                Some(lsp_types::DocumentSymbolResponse::Nested(features::symbols(doc)))
            }),
            other => {
                return Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("evoflow lsp does not answer `{other}`"),
                )
            }
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err(message) => Response::new_err(id, lsp_server::ErrorCode::InvalidParams as i32, message),
        }
    }

    /// Decodes `request` as `R` and answers it with `f` on its document (`null` for a document
    /// the editor has not opened).
    fn with<R>(
        &self,
        request: Request,
        f: impl FnOnce(&Document, &R::Params) -> R::Result,
    ) -> Result<serde_json::Value, String>
    where
        R: lsp_types::request::Request,
        R::Params: HasDocument,
    {
        let params: R::Params = serde_json::from_value(request.params).map_err(|e| e.to_string())?;
        match self.documents.get(params.uri()) {
            Some(doc) => serde_json::to_value(f(doc, &params)).map_err(|e| e.to_string()),
            None => Ok(serde_json::Value::Null),
        }
    }

    /// Keeps open documents up to date; returns their diagnostics to publish.
    fn notice(&mut self, note: Notification) -> Option<Notification> {
        let (uri, text) = match note.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let p: lsp_types::DidOpenTextDocumentParams = serde_json::from_value(note.params).ok()?;
                (p.text_document.uri, p.text_document.text)
            }
            DidChangeTextDocument::METHOD => {
                let p: lsp_types::DidChangeTextDocumentParams = serde_json::from_value(note.params).ok()?;
                // Full sync: the last change is the whole text.
                (p.text_document.uri, p.content_changes.into_iter().last()?.text)
            }
            DidCloseTextDocument::METHOD => {
                let p: lsp_types::DidCloseTextDocumentParams = serde_json::from_value(note.params).ok()?;
                self.documents.remove(&p.text_document.uri);
                let cleared =
                    PublishDiagnosticsParams { uri: p.text_document.uri, diagnostics: Vec::new(), version: None };
                return Some(Notification::new(PublishDiagnostics::METHOD.into(), cleared));
            }
            _ => return None,
        };
        let path = uri.to_file_path().map_or_else(|_| uri.path().to_string(), |p| p.display().to_string());
        let doc = Document::new(path, text);
        let diagnostics = features::diagnostics(&doc);
        self.documents.insert(uri.clone(), doc);
        let params = PublishDiagnosticsParams { uri, diagnostics, version: None };
        Some(Notification::new(PublishDiagnostics::METHOD.into(), params))
    }
}

/// Request parameters that name a document.
trait HasDocument {
    fn uri(&self) -> &Url;
}

impl HasDocument for lsp_types::HoverParams {
    fn uri(&self) -> &Url {
        &self.text_document_position_params.text_document.uri
    }
}

impl HasDocument for lsp_types::GotoDefinitionParams {
    fn uri(&self) -> &Url {
        &self.text_document_position_params.text_document.uri
    }
}

impl HasDocument for lsp_types::CompletionParams {
    fn uri(&self) -> &Url {
        &self.text_document_position.text_document.uri
    }
}

impl HasDocument for lsp_types::DocumentFormattingParams {
    fn uri(&self) -> &Url {
        &self.text_document.uri
    }
}

impl HasDocument for lsp_types::DocumentSymbolParams {
    fn uri(&self) -> &Url {
        &self.text_document.uri
    }
}
