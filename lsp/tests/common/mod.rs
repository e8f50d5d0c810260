//! A scripted client for protocol tests: the server runs on a thread over
//! an in-memory connection, and the test plays the editor.
#![allow(dead_code)]

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as notif, Notification as _};
use lsp_types::request as req;
use lsp_types::{self as lsp, Uri};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::thread::JoinHandle;
use std::time::Duration;

pub const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Client {
    conn: Connection,
    server: Option<JoinHandle<Result<(), String>>>,
    next_id: i32,
    /// The last diagnostics published for each URI.
    pub diagnostics: HashMap<String, Vec<lsp::Diagnostic>>,
    /// URIs published since the last `take_published`.
    pub published: Vec<String>,
    pub root: PathBuf,
}

/// A fresh copy of the example shop in a temporary folder.
pub fn shop(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camp-lsp-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop"), &dir);
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// The shop's schema and policy and one campaign file, nothing else.
pub fn small_shop(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camp-lsp-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop");
    std::fs::create_dir_all(dir.join("campaigns")).expect("mkdir");
    for f in ["camp.toml", "schema.camp", "policy.camp", "campaigns/cart.camp"] {
        std::fs::copy(shop.join(f), dir.join(f)).expect("copy");
    }
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

pub fn uri(path: &Path) -> Uri {
    let url = url::Url::from_file_path(path).expect("absolute path");
    Uri::from_str(url.as_str()).expect("uri")
}

pub fn pos(line: u32, character: u32) -> lsp::Position {
    lsp::Position { line, character }
}

/// The 0-based line and UTF-16 column of the first `needle` in `text`
/// (plus `plus` UTF-16 units).
pub fn find(text: &str, needle: &str, plus: u32) -> lsp::Position {
    let at = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in text"));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count() as u32;
    let col = text[line_start..at].encode_utf16().count() as u32;
    pos(line, col + plus)
}

impl Client {
    pub fn start(root: &Path) -> Client {
        let (server_side, client_side) = Connection::memory();
        let server = std::thread::spawn(move || camp_lsp::run(&server_side));
        let mut client = Client {
            conn: client_side,
            server: Some(server),
            next_id: 0,
            diagnostics: HashMap::new(),
            published: Vec::new(),
            root: root.to_path_buf(),
        };
        #[allow(deprecated)]
        let init = lsp::InitializeParams {
            root_uri: Some(uri(root)),
            ..Default::default()
        };
        let result = client.request::<req::Initialize>(init).expect("initialize");
        assert!(result.capabilities.completion_provider.is_some());
        client.notify::<notif::Initialized>(lsp::InitializedParams {});
        client
    }

    pub fn send(&self, msg: Message) {
        self.conn.sender.send(msg).expect("server alive");
    }

    /// Sends a request with raw parameters and waits for its response.
    pub fn raw(&mut self, method: &str, params: Value) -> Response {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.send(Message::Request(Request {
            id: id.clone(),
            method: method.to_string(),
            params,
        }));
        loop {
            match self.recv() {
                Message::Response(r) if r.id == id => return r,
                Message::Response(r) => panic!("unexpected response {r:?}"),
                _ => {}
            }
        }
    }

    pub fn request<R: req::Request>(&mut self, params: R::Params) -> Result<R::Result, lsp_server::ResponseError> {
        let r = self.raw(R::METHOD, serde_json::to_value(params).expect("params"));
        match (r.result, r.error) {
            (_, Some(e)) => Err(e),
            (Some(v), None) => Ok(serde_json::from_value(v).expect("result shape")),
            (None, None) => Ok(serde_json::from_value(Value::Null).expect("null result")),
        }
    }

    pub fn notify<N: notif::Notification>(&self, params: N::Params) {
        self.send(Message::Notification(Notification {
            method: N::METHOD.to_string(),
            params: serde_json::to_value(params).expect("params"),
        }));
    }

    /// The next message from the server; notifications are recorded.
    pub fn recv(&mut self) -> Message {
        let msg = self.conn.receiver.recv_timeout(TIMEOUT).expect("the server answers in time");
        if let Message::Notification(n) = &msg {
            if n.method == notif::PublishDiagnostics::METHOD {
                let p: lsp::PublishDiagnosticsParams = serde_json::from_value(n.params.clone()).expect("diagnostics");
                self.published.push(p.uri.as_str().to_string());
                self.diagnostics.insert(p.uri.as_str().to_string(), p.diagnostics);
            }
        }
        msg
    }

    /// Waits for the next diagnostics published for `uri`.
    pub fn wait_diagnostics(&mut self, uri: &Uri) -> Vec<lsp::Diagnostic> {
        loop {
            if let Message::Notification(n) = self.recv() {
                if n.method == notif::PublishDiagnostics::METHOD {
                    let p: lsp::PublishDiagnosticsParams = serde_json::from_value(n.params).expect("diagnostics");
                    if p.uri == *uri {
                        return p.diagnostics;
                    }
                }
            }
        }
    }

    /// Opens a file of the workspace with `text` (its disk text if `None`).
    pub fn open(&mut self, rel: &str, text: Option<&str>) -> (Uri, String) {
        let path = self.root.join(rel);
        let text = match text {
            Some(t) => t.to_string(),
            None => std::fs::read_to_string(&path).expect("read"),
        };
        let u = uri(&path);
        self.notify::<notif::DidOpenTextDocument>(lsp::DidOpenTextDocumentParams {
            text_document: lsp::TextDocumentItem {
                uri: u.clone(),
                language_id: "camp".to_string(),
                version: 1,
                text: text.clone(),
            },
        });
        (u, text)
    }

    /// Replaces a range with text.
    pub fn change(&self, uri: &Uri, version: i32, range: Option<lsp::Range>, text: &str) {
        self.notify::<notif::DidChangeTextDocument>(lsp::DidChangeTextDocumentParams {
            text_document: lsp::VersionedTextDocumentIdentifier { uri: uri.clone(), version },
            content_changes: vec![lsp::TextDocumentContentChangeEvent {
                range,
                range_length: None,
                text: text.to_string(),
            }],
        });
    }

    pub fn at(uri: &Uri, position: lsp::Position) -> lsp::TextDocumentPositionParams {
        lsp::TextDocumentPositionParams {
            text_document: lsp::TextDocumentIdentifier { uri: uri.clone() },
            position,
        }
    }

    pub fn completion_labels(&mut self, uri: &Uri, position: lsp::Position) -> Vec<String> {
        let r = self
            .request::<req::Completion>(lsp::CompletionParams {
                text_document_position: Client::at(uri, position),
                work_done_progress_params: Default::default(),
                partial_result_params: Default::default(),
                context: None,
            })
            .expect("completion");
        match r {
            Some(lsp::CompletionResponse::List(l)) => l.items.into_iter().map(|i| i.label).collect(),
            Some(lsp::CompletionResponse::Array(a)) => a.into_iter().map(|i| i.label).collect(),
            None => Vec::new(),
        }
    }

    pub fn hover_text(&mut self, uri: &Uri, position: lsp::Position) -> Option<String> {
        let h = self
            .request::<req::HoverRequest>(lsp::HoverParams {
                text_document_position_params: Client::at(uri, position),
                work_done_progress_params: Default::default(),
            })
            .expect("hover")?;
        match h.contents {
            lsp::HoverContents::Markup(m) => Some(m.value),
            other => panic!("{other:?}"),
        }
    }

    /// Says `shutdown` and `exit`, and checks the server ended cleanly.
    pub fn shutdown(mut self) {
        self.request::<req::Shutdown>(()).expect("shutdown");
        self.notify::<notif::Exit>(());
        let server = self.server.take().expect("server thread");
        let result = server.join().expect("server thread did not panic");
        assert_eq!(result, Ok(()));
    }

    /// Whether the server thread is still running.
    pub fn alive(&self) -> bool {
        self.server.as_ref().is_some_and(|s| !s.is_finished())
    }
}
