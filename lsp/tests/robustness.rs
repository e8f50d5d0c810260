//! Bad input never takes the server down: malformed requests get
//! `InvalidParams`, unknown ones `MethodNotFound`, and the server goes on
//! answering. (Bad frames on the wire: tests/frames.rs.)

mod common;

use common::{pos, shop, Client};
use lsp_server::ErrorCode;
use lsp_types::request as req;
use lsp_types::{self as lsp};
use serde_json::json;

#[test]
fn malformed_and_unknown_requests_are_answered() {
    let root = shop("robust");
    let mut c = Client::start(&root);
    let (u, text) = c.open("campaigns/vip.camp", None);
    c.wait_diagnostics(&u);

    let r = c.raw("textDocument/completion", json!({"textDocument": 5}));
    assert_eq!(r.error.map(|e| e.code), Some(ErrorCode::InvalidParams as i32));
    let r = c.raw("textDocument/hover", json!(null));
    assert_eq!(r.error.map(|e| e.code), Some(ErrorCode::InvalidParams as i32));
    let r = c.raw("textDocument/unheardOf", json!({}));
    assert_eq!(r.error.map(|e| e.code), Some(ErrorCode::MethodNotFound as i32));
    // There is no request a client can make panic on purpose (a panicking
    // handler's answer is tested on the wrapper, in server.rs).
    let r = c.raw("camp/panic", json!({}));
    assert_eq!(r.error.map(|e| e.code), Some(ErrorCode::MethodNotFound as i32));

    // Still serving, state intact.
    let h = c.hover_text(&u, common::find(&text, "vip_customers and", 2));
    assert!(h.is_some_and(|h| h.contains("segment")));
    assert!(c.alive());
    c.shutdown();
}

#[test]
fn unknown_documents_and_wild_positions_are_harmless() {
    let root = shop("robust-positions");
    let mut c = Client::start(&root);
    let ghost: lsp_types::Uri = "file:///nowhere/ghost.camp".parse().expect("uri");
    assert_eq!(c.completion_labels(&ghost, pos(0, 0)), Vec::<String>::new());
    assert_eq!(c.hover_text(&ghost, pos(3, 3)), None);
    // A change to a document that is not open is logged and ignored.
    c.change(&ghost, 2, None, "segment x = y");

    let (u, _) = c.open("campaigns/rfm.camp", None);
    c.wait_diagnostics(&u);
    // Positions past the end, inside a surrogate pair, reversed ranges.
    c.change(&u, 2, Some(lsp::Range::new(pos(0, 0), pos(0, 0))), "😀고객\n");
    c.wait_diagnostics(&u);
    c.change(&u, 3, Some(lsp::Range::new(pos(0, 1), pos(0, 1))), "x");
    c.wait_diagnostics(&u);
    c.change(&u, 4, Some(lsp::Range::new(pos(999, 999), pos(0, 3))), "");
    c.wait_diagnostics(&u);
    for (line, col) in [(0, 0), (0, 1), (500, 2), (0, 9999), (u32::MAX, u32::MAX)] {
        c.completion_labels(&u, pos(line, col));
        c.hover_text(&u, pos(line, col));
    }
    // Malformed notifications: logged, the server lives.
    c.send(lsp_server::Message::Notification(lsp_server::Notification {
        method: "textDocument/didChange".into(),
        params: json!({"textDocument": {"uri": 7}}),
    }));
    let r = c
        .request::<req::DocumentSymbolRequest>(lsp::DocumentSymbolParams {
            text_document: lsp::TextDocumentIdentifier { uri: u.clone() },
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        })
        .expect("symbols");
    assert!(r.is_some());
    c.shutdown();
}

#[test]
fn requests_after_shutdown_are_refused_and_exit_ends_the_loop() {
    let root = shop("robust-shutdown");
    let mut c = Client::start(&root);
    c.request::<req::Shutdown>(()).expect("shutdown");
    let r = c.raw(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///x.camp"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r.error.map(|e| e.code), Some(ErrorCode::InvalidRequest as i32));
    c.notify::<lsp_types::notification::Exit>(());
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    while c.alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(!c.alive(), "the server should stop after exit");
}
