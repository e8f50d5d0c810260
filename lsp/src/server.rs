//! The main loop: one thread, each message handled in turn. A request gets
//! exactly one answer whatever happens: malformed parameters get
//! `InvalidParams`, a handler that panics gets `InternalError`, and the
//! loop goes on. Every change is checked at once (no debouncing) and the
//! diagnostics that changed are published.

use crate::handlers;
use crate::to_proto::DocsLinks;
use crate::world::{Doc, DocKey, World};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response, ResponseError};
use lsp_types::notification::{self as notif, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{self as lsp, Uri};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub type HandlerResult<T> = Result<T, ResponseError>;

pub fn error(code: ErrorCode, message: impl Into<String>) -> ResponseError {
    ResponseError {
        code: code as i32,
        message: message.into(),
        data: None,
    }
}

/// The server's state between messages.
pub struct Server<'c> {
    conn: &'c Connection,
    pub world: World,
    pub docs: DocsLinks,
    /// What each URI last got, so unchanged diagnostics are not re-sent.
    published: HashMap<Uri, Vec<lsp::Diagnostic>>,
    shutdown: bool,
}

/// Runs the protocol on `conn` until `exit` or until the client goes away
/// (both `Ok`); `Err` for `exit` without `shutdown` (exit code 1).
pub fn run(conn: &Connection) -> Result<(), String> {
    let Some((id, params)) = wait_initialize(conn)? else {
        crate::log::log_info!("the client went away before initialize");
        return Ok(());
    };
    let init: lsp::InitializeParams = serde_json::from_value(params).unwrap_or_else(|e| {
        crate::log::log_warn!("initialize parameters not understood ({e}); using defaults");
        lsp::InitializeParams::default()
    });
    let world = World {
        folders: folders(&init),
        ..World::default()
    };
    let docs_base = init
        .initialization_options
        .as_ref()
        .and_then(|o| o.get("docsBaseUrl"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let result = lsp::InitializeResult {
        capabilities: capabilities(),
        server_info: Some(lsp::ServerInfo {
            name: "camp".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    };
    send(conn, Response::new_ok(id, result).into());
    let mut server = Server {
        conn,
        world,
        docs: DocsLinks::new(docs_base),
        published: HashMap::new(),
        shutdown: false,
    };
    crate::log::log_info!("initialized; workspace folders {:?}", server.world.folders);
    for msg in &conn.receiver {
        match msg {
            Message::Request(r) => server.request(r),
            Message::Notification(n) if n.method == notif::Exit::METHOD => {
                return if server.shutdown {
                    Ok(())
                } else {
                    Err("exit without shutdown".to_string())
                };
            }
            Message::Notification(n) => server.notification(n),
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// Waits for `initialize`: other requests get `ServerNotInitialized`,
/// notifications and responses are dropped. `None` when the client goes
/// away first; `Err` for `exit` before `initialize`.
fn wait_initialize(conn: &Connection) -> Result<Option<(RequestId, serde_json::Value)>, String> {
    for msg in &conn.receiver {
        match msg {
            Message::Request(r) if r.method == req::Initialize::METHOD => return Ok(Some((r.id, r.params))),
            Message::Request(r) => {
                let e = error(ErrorCode::ServerNotInitialized, format!("`{}` before `initialize`", r.method));
                send(
                    conn,
                    Response {
                        id: r.id,
                        result: None,
                        error: Some(e),
                    }
                    .into(),
                );
            }
            Message::Notification(n) if n.method == notif::Exit::METHOD => {
                return Err("exit before initialize".to_string());
            }
            Message::Notification(n) => crate::log::log_info!("{} before initialize: dropped", n.method),
            Message::Response(_) => crate::log::log_info!("a response before initialize: dropped"),
        }
    }
    Ok(None)
}

fn send(conn: &Connection, msg: Message) {
    if conn.sender.send(msg).is_err() {
        crate::log::log_warn!("the client went away");
    }
}

fn folders(init: &lsp::InitializeParams) -> Vec<std::path::PathBuf> {
    let mut uris: Vec<&Uri> = init.workspace_folders.iter().flatten().map(|f| &f.uri).collect();
    #[allow(deprecated)]
    if let Some(root) = &init.root_uri {
        uris.push(root);
    }
    uris.into_iter()
        .filter_map(|u| match DocKey::of(u) {
            DocKey::Path(p) => Some(p),
            DocKey::Other(_) => None,
        })
        .collect()
}

pub fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(lsp::PositionEncodingKind::UTF16),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(lsp::TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
            save: Some(lsp::TextDocumentSyncSaveOptions::SaveOptions(lsp::SaveOptions {
                include_text: Some(true),
            })),
            ..Default::default()
        })),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![".".into(), "|".into(), "{".into()]),
            ..Default::default()
        }),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        inlay_hint_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(lsp::CodeActionOptions {
            code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
            ..Default::default()
        })),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        ..Default::default()
    }
}

impl Server<'_> {
    fn request(&mut self, r: Request) {
        let id = r.id.clone();
        let method = r.method.clone();
        if self.shutdown {
            let e = error(ErrorCode::InvalidRequest, "the server is shutting down");
            return self.reply(Response {
                id,
                result: None,
                error: Some(e),
            });
        }
        let response = answer(id, &method, || self.route(r));
        self.reply(response);
    }

    fn reply(&self, response: Response) {
        send(self.conn, response.into());
    }

    fn route(&mut self, r: Request) -> HandlerResult<serde_json::Value> {
        let p = r.params;
        match r.method.as_str() {
            req::Shutdown::METHOD => {
                self.shutdown = true;
                Ok(serde_json::Value::Null)
            }
            req::Completion::METHOD => self.on::<req::Completion>(p, handlers::completion),
            req::HoverRequest::METHOD => self.on::<req::HoverRequest>(p, handlers::hover),
            req::GotoDefinition::METHOD => self.on::<req::GotoDefinition>(p, handlers::definition),
            req::References::METHOD => self.on::<req::References>(p, handlers::references),
            req::PrepareRenameRequest::METHOD => self.on::<req::PrepareRenameRequest>(p, handlers::prepare_rename),
            req::Rename::METHOD => self.on::<req::Rename>(p, handlers::rename),
            req::DocumentSymbolRequest::METHOD => self.on::<req::DocumentSymbolRequest>(p, handlers::document_symbols),
            req::InlayHintRequest::METHOD => self.on::<req::InlayHintRequest>(p, handlers::inlay_hints),
            req::CodeActionRequest::METHOD => self.on::<req::CodeActionRequest>(p, handlers::code_actions),
            req::Formatting::METHOD => self.on::<req::Formatting>(p, handlers::formatting),
            other => Err(error(ErrorCode::MethodNotFound, format!("unknown request `{other}`"))),
        }
    }

    /// Decodes the parameters of request `R`, runs `f`, encodes the result.
    fn on<R>(&self, params: serde_json::Value, f: fn(&Server, R::Params) -> HandlerResult<R::Result>) -> HandlerResult<serde_json::Value>
    where
        R: req::Request,
        R::Params: DeserializeOwned,
        R::Result: Serialize,
    {
        let params: R::Params = serde_json::from_value(params)
            .map_err(|e| error(ErrorCode::InvalidParams, format!("invalid parameters for {}: {e}", R::METHOD)))?;
        let result = f(self, params)?;
        serde_json::to_value(result).map_err(|e| error(ErrorCode::InternalError, e.to_string()))
    }

    fn notification(&mut self, n: Notification) {
        let method = n.method.clone();
        let outcome = catch_unwind(AssertUnwindSafe(|| self.notify(n)));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => crate::log::log_warn!("{method}: {e}"),
            Err(panic) => crate::log::log_warn!("{method} failed: {}", panic_message(&panic)),
        }
    }

    fn notify(&mut self, n: Notification) -> Result<(), String> {
        fn params<P: DeserializeOwned>(n: Notification) -> Result<P, String> {
            serde_json::from_value(n.params).map_err(|e| format!("invalid parameters: {e}"))
        }
        match n.method.as_str() {
            notif::DidOpenTextDocument::METHOD => {
                let p: lsp::DidOpenTextDocumentParams = params(n)?;
                let key = DocKey::of(&p.text_document.uri);
                let doc = Doc {
                    uri: p.text_document.uri,
                    text: p.text_document.text,
                    version: p.text_document.version,
                };
                self.world.docs.insert(key.clone(), doc);
                let project = self.world.project_for(&key);
                self.recheck(&[project], Some(&key));
            }
            notif::DidChangeTextDocument::METHOD => {
                let p: lsp::DidChangeTextDocumentParams = params(n)?;
                let key = DocKey::of(&p.text_document.uri);
                let Some(doc) = self.world.docs.get_mut(&key) else {
                    return Err(format!("change to a document that is not open: {}", p.text_document.uri.as_str()));
                };
                for change in p.content_changes {
                    crate::edit::apply(&mut doc.text, change);
                }
                doc.version = p.text_document.version;
                let project = self.world.project_for(&key);
                self.recheck(&[project], Some(&key));
            }
            notif::DidCloseTextDocument::METHOD => {
                let p: lsp::DidCloseTextDocumentParams = params(n)?;
                let key = DocKey::of(&p.text_document.uri);
                self.world.docs.remove(&key);
                let mut touched = match &key {
                    DocKey::Path(path) => self.world.reload(path),
                    DocKey::Other(_) => Vec::new(),
                };
                touched.extend(self.world.find_project(&key));
                touched.sort_unstable();
                touched.dedup();
                self.recheck(&touched, None);
                if let (DocKey::Other(_), Some(uri)) = (&key, self.published.keys().find(|u| DocKey::of(u) == key).cloned()) {
                    self.publish(uri, Vec::new(), None);
                }
            }
            notif::DidSaveTextDocument::METHOD => {
                let p: lsp::DidSaveTextDocumentParams = params(n)?;
                if let DocKey::Path(path) = DocKey::of(&p.text_document.uri) {
                    self.world.reload(&path);
                }
            }
            notif::DidChangeWatchedFiles::METHOD => {
                let p: lsp::DidChangeWatchedFilesParams = params(n)?;
                let mut touched = Vec::new();
                for change in p.changes {
                    if let DocKey::Path(path) = DocKey::of(&change.uri) {
                        touched.extend(self.world.reload(&path));
                    }
                }
                touched.sort_unstable();
                touched.dedup();
                self.recheck(&touched, None);
            }
            _ => {}
        }
        Ok(())
    }

    /// Checks projects again and publishes what changed, and always the
    /// diagnostics of `edited` (the document the client just changed).
    fn recheck(&mut self, projects: &[usize], edited: Option<&DocKey>) {
        for &i in projects {
            self.world.rebuild(i);
            let Some(snapshot) = self.world.projects.get(i).and_then(|p| p.snapshot.as_ref()) else {
                continue;
            };
            let fresh = crate::diagnostics::by_file(snapshot, &self.docs);
            // Files that left the project get an empty list.
            let gone: Vec<Uri> = self
                .published
                .keys()
                .filter(|u| !fresh.iter().any(|f| &f.uri == *u) && self.world.find_project(&DocKey::of(u)) == Some(i))
                .cloned()
                .collect();
            for uri in gone {
                self.publish(uri, Vec::new(), None);
            }
            for f in fresh {
                let changed = self
                    .published
                    .get(&f.uri)
                    .map_or(!f.diagnostics.is_empty(), |old| old != &f.diagnostics);
                if changed || edited == Some(&f.key) {
                    self.publish(f.uri, f.diagnostics, f.version);
                }
            }
        }
    }

    fn publish(&mut self, uri: Uri, diagnostics: Vec<lsp::Diagnostic>, version: Option<i32>) {
        let params = lsp::PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics: diagnostics.clone(),
            version,
        };
        send(
            self.conn,
            Notification::new(notif::PublishDiagnostics::METHOD.to_string(), params).into(),
        );
        if diagnostics.is_empty() {
            self.published.remove(&uri);
        } else {
            self.published.insert(uri, diagnostics);
        }
    }
}

/// The response to request `id`: what `handle` returns, or
/// `InternalError` when it panics (logged; the server goes on).
fn answer(id: RequestId, method: &str, handle: impl FnOnce() -> HandlerResult<serde_json::Value>) -> Response {
    match catch_unwind(AssertUnwindSafe(handle)) {
        Ok(Ok(value)) => Response::new_ok(id, value),
        Ok(Err(e)) => Response {
            id,
            result: None,
            error: Some(e),
        },
        Err(panic) => {
            let why = panic_message(&panic);
            crate::log::log_warn!("{method} failed: {why}");
            Response::new_err(id, ErrorCode::InternalError as i32, format!("internal error in {method}: {why}"))
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_handler_is_answered_with_an_internal_error() {
        let r = answer(RequestId::from(7), "textDocument/hover", || panic!("a bug in hover"));
        assert_eq!(r.id, RequestId::from(7));
        assert!(r.result.is_none());
        let e = r.error.expect("an error");
        assert_eq!(e.code, ErrorCode::InternalError as i32);
        assert!(
            e.message.contains("textDocument/hover") && e.message.contains("a bug in hover"),
            "{}",
            e.message
        );

        let r = answer(RequestId::from(8), "x", || Err(error(ErrorCode::InvalidParams, "bad")));
        assert_eq!(r.error.map(|e| e.code), Some(ErrorCode::InvalidParams as i32));
        let r = answer(RequestId::from("s".to_string()), "x", || Ok(serde_json::json!(1)));
        assert_eq!(r.result, Some(serde_json::json!(1)));
    }
}
