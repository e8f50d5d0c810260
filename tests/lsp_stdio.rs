//! `camp lsp` as an editor starts it: bad frames written to its stdin one
//! at a time, each followed by a valid request that must be answered while
//! the process keeps running; then a frame cut by the end of the input,
//! after which it exits with code 0. (Every kind of bad frame, in process:
//! lsp/tests/frames.rs.)

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

struct Lsp {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    seen: Vec<Value>,
}

/// Splits the server's stdout into messages, on a thread.
fn read_messages(mut stdout: impl Read + Send + 'static) -> Receiver<Value> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let Some(len) = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .and_then(|n| n.trim().parse::<usize>().ok())
                else {
                    return;
                };
                if buf.len() < end + 4 + len {
                    break;
                }
                let body: Vec<u8> = buf.drain(..end + 4 + len).skip(end + 4).collect();
                let Ok(v) = serde_json::from_slice::<Value>(&body) else {
                    return;
                };
                if tx.send(v).is_err() {
                    return;
                }
            }
            match stdout.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    });
    rx
}

impl Lsp {
    fn start(root: &Path) -> Lsp {
        let mut child = Command::new(env!("CARGO_BIN_EXE_camp"))
            .arg("lsp")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("camp lsp starts");
        let stdin = child.stdin.take();
        let messages = read_messages(child.stdout.take().expect("stdout"));
        Lsp {
            child,
            stdin,
            messages,
            seen: Vec::new(),
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("the server reads its input");
        stdin.flush().expect("flush");
    }

    fn frame(&mut self, body: &[u8]) {
        self.write(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        self.write(body);
    }

    fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        self.frame(body.as_bytes());
        self.wait(|m| m.get("id") == Some(&json!(id)) && m.get("method").is_none())
    }

    /// A hover on a document nobody opened: answered with `null`.
    fn probe(&mut self, id: i64) {
        let a = self.request(
            id,
            "textDocument/hover",
            json!({"textDocument": {"uri": "file:///nowhere/ghost.camp"}, "position": {"line": 0, "character": 0}}),
        );
        assert!(a.get("error").is_none() && a["result"].is_null(), "{a}");
        assert!(self.running(), "still running after probe {id}");
    }

    fn wait(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let m = self
                .messages
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no such message from camp lsp; seen {:#?}", self.seen));
            self.seen.push(m.clone());
            if want(&m) {
                return m;
            }
        }
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

fn shop() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camp-lsp-stdio-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    std::fs::create_dir_all(dir.join("campaigns")).expect("mkdir");
    for f in ["camp.toml", "schema.camp", "policy.camp", "campaigns/cart.camp"] {
        std::fs::copy(from.join(f), dir.join(f)).expect("copy");
    }
    dir
}

#[test]
fn camp_lsp_answers_bad_frames_and_keeps_serving() {
    let root = shop();
    let mut lsp = Lsp::start(&root);
    let root_uri = format!("file://{}", root.display());
    let init = lsp.request(1, "initialize", json!({"rootUri": root_uri, "capabilities": {}}));
    assert!(init["result"]["capabilities"].is_object(), "{init}");
    lsp.frame(
        json!({"jsonrpc": "2.0", "method": "initialized", "params": {}})
            .to_string()
            .as_bytes(),
    );

    let null_error = |code: i64| move |m: &Value| m.get("id") == Some(&Value::Null) && m["error"]["code"] == json!(code);
    // Not JSON.
    lsp.frame(b"{\"jsonrpc\": \"2.0\", \"id\": 50, oops");
    lsp.wait(null_error(-32700));
    lsp.probe(10);
    // Not UTF-8.
    lsp.frame(b"{\"jsonrpc\":\"2.0\",\"id\":51,\"method\":\"\xff\xfe\"}");
    lsp.wait(null_error(-32700));
    lsp.probe(11);
    // JSON, not JSON-RPC.
    lsp.frame(b"[\"not\", \"rpc\"]");
    lsp.wait(null_error(-32600));
    lsp.probe(12);
    lsp.frame(br#"{"jsonrpc":"2.0","id":52,"method":{"not":"a string"}}"#);
    let a = lsp.wait(|m| m.get("id") == Some(&json!(52)));
    assert_eq!(a["error"]["code"], json!(-32600), "{a}");
    lsp.probe(13);
    // A lone surrogate in a document's text.
    let uri = format!("{root_uri}/campaigns/lone.camp");
    lsp.frame(
        format!(
            r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"{uri}","languageId":"camp","version":1,"text":"/// 메모 \ud800\nsegment lone = customer.marketing_consent\n"}}}}}}"#
        )
        .as_bytes(),
    );
    let hover = lsp.request(
        14,
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 9}}),
    );
    let text = hover["result"]["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.contains("메모 \u{fffd}"), "{hover}");
    // Headers: missing, garbled, huge.
    lsp.write(b"Content-Type: application/json\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":53,\"method\":\"shutdown\"}");
    lsp.wait(null_error(-32700));
    lsp.probe(15);
    lsp.write(b"Content-Length: lots\r\n\r\n{}");
    lsp.wait(null_error(-32700));
    lsp.probe(16);
    lsp.write(b"Content-Length: 999999999999999999\r\n\r\n{}");
    lsp.wait(null_error(-32700));
    lsp.probe(17);
    assert!(
        !lsp.seen.iter().any(|m| m.get("id") == Some(&json!(53))),
        "a skipped frame is not answered"
    );

    // A frame cut by the end of the input: a clean exit.
    lsp.write(b"Content-Length: 100\r\n\r\n{\"jsonrpc\":\"2.0\",");
    drop(lsp.stdin.take());
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = lsp.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "camp lsp did not exit at the end of its input");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut e) = lsp.child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(
        stderr.contains("dropped a frame") && stderr.contains("ended"),
        "the log says why: {stderr}"
    );
    let _ = std::fs::remove_dir_all(&root);
}
