//! Bad frames on the wire, through the real transport (`run_io` over bytes,
//! as `camp lsp` runs it over stdin/stdout): each gets a JSON-RPC error
//! answer (`-32700` parse error, `-32600` invalid request; `id: null` when
//! no id can be read) or is dropped, and the request after it is answered.
//! A lone surrogate in a document's text becomes U+FFFD. The process-level
//! twin, which spawns `camp lsp`, is tests/lsp_stdio.rs at the top.

mod common;

use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The bytes a client sends.
#[derive(Default)]
struct Script(Vec<u8>);

impl Script {
    fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend_from_slice(bytes);
        self
    }
    fn frame(&mut self, body: &[u8]) -> &mut Self {
        self.raw(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes()).raw(body)
    }
    fn json(&mut self, v: Value) -> &mut Self {
        self.frame(v.to_string().as_bytes())
    }
    fn request(&mut self, id: i64, method: &str, params: Value) -> &mut Self {
        self.json(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
    }
    fn notify(&mut self, method: &str, params: Value) -> &mut Self {
        self.json(json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }
    /// A request that needs no document: its answer is `null`.
    fn probe(&mut self, id: i64) -> &mut Self {
        self.request(
            id,
            "textDocument/hover",
            json!({"textDocument": {"uri": "file:///nowhere/ghost.camp"}, "position": {"line": 0, "character": 0}}),
        )
    }
    fn initialize(&mut self, root: &std::path::Path) -> &mut Self {
        self.request(1, "initialize", json!({"rootUri": common::uri(root).as_str(), "capabilities": {}}))
            .notify("initialized", json!({}))
    }
}

/// Runs the server over `input` to its end; what it wrote, as messages.
fn serve(input: Vec<u8>) -> (Result<(), String>, Vec<Value>) {
    let sink = Sink::default();
    let out = sink.clone();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(camp_lsp::transport::run_io(std::io::Cursor::new(input), out));
    });
    let result = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("the server stops at the end of its input");
    let bytes = sink.0.lock().expect("output").clone();
    (result, parse_output(&bytes))
}

fn parse_output(mut bytes: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let text = String::from_utf8_lossy(bytes);
        let end = text.find("\r\n\r\n").expect("headers end");
        let len: usize = text[..end]
            .strip_prefix("Content-Length: ")
            .and_then(|n| n.trim().parse().ok())
            .expect("the server writes a Content-Length");
        let body = &bytes[end + 4..end + 4 + len];
        out.push(serde_json::from_slice(body).expect("the server writes JSON"));
        bytes = &bytes[end + 4 + len..];
    }
    out
}

fn answer(out: &[Value], id: Value) -> &Value {
    out.iter()
        .find(|m| m.get("id") == Some(&id) && m.get("method").is_none())
        .unwrap_or_else(|| panic!("no answer to {id}: {out:#?}"))
}

/// The error answers with `id: null`, by code, in order.
fn null_errors(out: &[Value]) -> Vec<i64> {
    out.iter()
        .filter(|m| m.get("id") == Some(&Value::Null))
        .map(|m| m["error"]["code"].as_i64().expect("an error code"))
        .collect()
}

#[test]
fn every_bad_frame_is_answered_or_dropped_and_the_next_request_is_served() {
    let root = common::small_shop("frames");
    let mut s = Script::default();
    s.initialize(&root);
    // Not JSON, not UTF-8.
    s.frame(b"{\"jsonrpc\": \"2.0\", oops").probe(10);
    s.frame(b"{\"jsonrpc\":\"2.0\",\"id\":90,\"method\":\"textDocument/hover\xff\"}")
        .probe(11);
    // JSON that is not JSON-RPC.
    s.frame(b"[1, 2]").probe(12);
    s.frame(b"42").probe(13);
    s.json(json!({"hello": "world"})).probe(14);
    s.json(json!({"jsonrpc": "2.0", "id": 91, "method": 7})).probe(15);
    s.json(json!({"jsonrpc": "2.0", "id": {"no": 1}, "method": "textDocument/hover"}))
        .probe(16);
    s.json(json!({"jsonrpc": "2.0", "id": 4_000_000_000u64, "method": "textDocument/hover"}))
        .probe(17);
    // A malformed response from the client: dropped, not answered.
    s.json(json!({"jsonrpc": "2.0", "id": [1], "result": null})).probe(18);
    // Headers: none, no Content-Length, a garbled one, a huge one.
    s.raw(br#"{"jsonrpc":"2.0","id":92,"method":"textDocument/hover"}"#).probe(19);
    s.raw(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":93,\"method\":\"x\"}")
        .probe(20);
    s.raw(b"Content-Length: twelve\r\n\r\n{\"id\":94}").probe(21);
    s.raw(b"Content-Length: 99999999999999\r\n\r\n{\"id\":95}").probe(22);
    s.raw(b"Content-Length: 18446744073709551616000\r\n\r\n{}").probe(23);
    // A declared length longer than the body: the next frame's header is
    // inside it, and that frame is read again.
    let next = {
        let mut n = Script::default();
        n.probe(24);
        n.0
    };
    s.raw(format!("Content-Length: {}\r\n\r\n{{\"id\":96}}", 9 + next.len() / 2).as_bytes())
        .raw(&next)
        .probe(25);
    // Stray blank lines between frames are harmless.
    s.raw(b"\r\n\r\n").probe(26);
    s.request(2, "shutdown", json!(null)).notify("exit", json!(null));
    let (result, out) = serve(s.0);
    assert_eq!(result, Ok(()), "{out:#?}");

    assert!(answer(&out, json!(1))["result"]["capabilities"].is_object());
    for id in 10..=26 {
        let a = answer(&out, json!(id));
        assert!(a.get("error").is_none() && a["result"].is_null(), "probe {id} answered: {a}");
    }
    let code = |id: Value| answer(&out, id)["error"]["code"].as_i64();
    assert_eq!(code(json!(91)), Some(-32600));
    assert_eq!(code(json!(4_000_000_000u64)), Some(-32600));
    // Nothing the server could not read is answered as if it had been.
    for id in [90, 92, 93, 94, 95, 96] {
        assert!(!out.iter().any(|m| m.get("id") == Some(&json!(id))), "{id} answered: {out:#?}");
    }
    assert_eq!(
        null_errors(&out),
        vec![
            -32700, -32700, // not JSON, not UTF-8
            -32600, -32600, -32600, -32600, // array, number, no method, id an object
            -32700, -32700, -32700, -32700, -32700, // no headers, no length, garbled, huge, huger
            -32700, // the body that swallowed the next frame's header
        ],
        "{out:#?}"
    );
    assert!(answer(&out, json!(2))["result"].is_null());
}

#[test]
fn a_lone_surrogate_in_a_document_becomes_a_replacement_character() {
    let root = common::small_shop("frames-surrogate");
    let path = root.join("campaigns/lone.camp");
    let uri = common::uri(&path);
    let hover = |id: i64, s: &mut Script| {
        s.request(
            id,
            "textDocument/hover",
            json!({"textDocument": {"uri": uri.as_str()}, "position": {"line": 1, "character": 9}}),
        );
    };
    let mut s = Script::default();
    s.initialize(&root);
    // Written by hand: serde_json cannot write a lone surrogate.
    let open = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"{}","languageId":"camp","version":1,"text":"/// 설명 \ud800 끝\nsegment lone_a = customer.marketing_consent\n"}}}}}}"#,
        uri.as_str()
    );
    s.frame(open.as_bytes());
    hover(10, &mut s);
    let change = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{}","version":2}},"contentChanges":[{{"text":"/// 고침 \udc00 끝\nsegment lone_b = customer.marketing_consent\n"}}]}}}}"#,
        uri.as_str()
    );
    s.frame(change.as_bytes());
    hover(11, &mut s);
    // An edit after the replacement character lands where the client put
    // it: U+FFFD is one UTF-16 unit, as the surrogate was.
    s.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri.as_str(), "version": 3},
            "contentChanges": [{"range": {"start": {"line": 0, "character": 8}, "end": {"line": 0, "character": 8}}, "text": "!"}],
        }),
    );
    hover(12, &mut s);
    let (result, out) = serve(s.0);
    assert_eq!(result, Ok(()));
    let text = |id: i64| {
        answer(&out, json!(id))["result"]["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(text(10).contains("설명 \u{fffd} 끝"), "{}", text(10));
    assert!(text(11).contains("lone_b") && text(11).contains("고침 \u{fffd} 끝"), "{}", text(11));
    assert!(text(12).contains("고침 \u{fffd}! 끝"), "{}", text(12));
    // The document checks: diagnostics were published for it, no errors.
    let diagnostics: Vec<&Value> = out
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri.as_str())
        .collect();
    assert!(!diagnostics.is_empty());
    assert!(null_errors(&out).is_empty(), "{out:#?}");
}

#[test]
fn bad_frames_before_initialize_and_a_frame_cut_by_the_end() {
    let root = common::small_shop("frames-cut");
    let mut s = Script::default();
    s.frame(b"not json at all")
        .probe(5)
        .json(json!({"jsonrpc": "2.0", "id": 6, "result": null}))
        .initialize(&root)
        .probe(10)
        .raw(b"Content-Length: 200\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":11,");
    let (result, out) = serve(s.0);
    // The end of the input, even inside a frame, is a clean stop.
    assert_eq!(result, Ok(()));
    assert_eq!(null_errors(&out), vec![-32700]);
    assert_eq!(answer(&out, json!(5))["error"]["code"], json!(-32002), "not initialized yet");
    assert!(answer(&out, json!(1))["result"]["capabilities"].is_object());
    assert!(answer(&out, json!(10))["result"].is_null());
    assert!(!out.iter().any(|m| m.get("id") == Some(&json!(11))));

    // The end of the input before any frame: a clean stop too.
    let (result, out) = serve(b"Content-Length: 10\r\n".to_vec());
    assert_eq!(result, Ok(()));
    assert!(out.is_empty());
}
