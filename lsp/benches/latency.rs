//! What an editor feels, measured on the real server process over stdio
//! (run with `cargo bench -p camp-lsp --bench latency`, a release build):
//!
//! - `didChange` -> `publishDiagnostics` on a 2,000-line file, one edit at a
//!   time with no debouncing: p95 <= 50 ms, p99 <= 100 ms;
//! - completion after `customer.` in that file: p95 <= 20 ms;
//! - resident memory (VmRSS of the server process) with a 100-file
//!   workspace open: < 100 MB.
//!
//! The bench binary is its own server: started with `--serve` it runs
//! `camp_lsp::run_stdio()`, like `camp lsp` does. Exits 1 if a budget is
//! missed. Without `--bench` (as `cargo test --all-targets` runs it, in a
//! debug build) it only goes through the motions, a few times each.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const EDITS: usize = 400;
const COMPLETIONS: usize = 400;
const WARMUP: usize = 20;
const TIMEOUT: Duration = Duration::from_secs(60);

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        std::process::exit(match camp_lsp::run_stdio() {
            Ok(()) => 0,
            Err(_) => 1,
        });
    }
    let measuring = std::env::args().any(|a| a == "--bench");
    let (edits, completions, warmup) = if measuring { (EDITS, COMPLETIONS, WARMUP) } else { (10, 10, 2) };
    let mut ok = true;
    let root = workspace("latency", 0);
    let big = big_file(2_000);
    std::fs::write(root.join("campaigns/big.camp"), &big).expect("write big file");
    let mut server = Server::start(&root);
    let uri = server.open(&root.join("campaigns/big.camp"), &big);

    // didChange -> publishDiagnostics: type one character, then delete it.
    let at = big.find("기다려요").expect("a message line");
    let (line, col) = position(&big, at);
    let mut change = Vec::with_capacity(edits);
    for i in 0..edits + warmup {
        let edit = if i % 2 == 0 {
            json!({"range": range(line, col, line, col), "text": "가"})
        } else {
            json!({"range": range(line, col, line, col + 1), "text": ""})
        };
        let started = Instant::now();
        server.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": i + 2}, "contentChanges": [edit]}),
        );
        server.wait_diagnostics(&uri);
        if i >= warmup {
            change.push(started.elapsed());
        }
    }
    ok &= report("didChange -> publishDiagnostics (2,000 lines)", &mut change, 50.0, 100.0);

    // Completion after `customer.`.
    let at = big.find("customer.tier").expect("a path") + "customer.".len();
    let (line, col) = position(&big, at);
    let mut completion = Vec::with_capacity(completions);
    for i in 0..completions + warmup {
        let started = Instant::now();
        let r = server.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": col}}),
        );
        if i >= warmup {
            completion.push(started.elapsed());
        }
        let labels = r["items"].as_array().map_or(0, Vec::len);
        assert!(labels > 5, "completion offers the fields: {r}");
    }
    ok &= report("completion after `customer.` (2,000 lines)", &mut completion, 20.0, f64::INFINITY);
    server.stop();

    // Memory with 100 files.
    let root = workspace("memory", 98);
    let files = world_files(&root);
    assert_eq!(files, 100, "the memory workspace has 100 files");
    let mut server = Server::start(&root);
    let path = root.join("campaigns/generated_0.camp");
    let text = std::fs::read_to_string(&path).expect("read");
    let uri = server.open(&path, &text);
    for i in 0..50 {
        let text = format!("{text}\n// edit {i}\n");
        server.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": i + 2}, "contentChanges": [{"text": text}]}),
        );
        server.wait_diagnostics(&uri);
    }
    let rss = server.rss_kib();
    let mb = rss as f64 / 1024.0;
    println!("resident memory, 100-file workspace: {mb:.1} MB (budget < 100 MB)");
    ok &= mb < 100.0;
    server.stop();

    if !measuring {
        println!("(not a release `cargo bench` run: budgets not enforced)");
    } else if !ok {
        eprintln!("a latency or memory budget was missed");
        std::process::exit(1);
    }
}

fn range(l1: usize, c1: usize, l2: usize, c2: usize) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

/// Prints p50/p95/p99 and checks them against budgets (ms).
fn report(what: &str, samples: &mut [Duration], p95_budget: f64, p99_budget: f64) -> bool {
    samples.sort();
    let pick = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1000.0
    };
    let (p50, p95, p99) = (pick(0.50), pick(0.95), pick(0.99));
    let max = samples.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!(
        "{what}: n={} p50 {p50:.2} ms, p95 {p95:.2} ms, p99 {p99:.2} ms, max {max:.2} ms (budget p95 <= {p95_budget} ms{})",
        samples.len(),
        if p99_budget.is_finite() {
            format!(", p99 <= {p99_budget} ms")
        } else {
            String::new()
        }
    );
    p95 <= p95_budget && p99 <= p99_budget
}

/// The 0-based line and UTF-16 column of a byte offset.
fn position(text: &str, at: usize) -> (usize, usize) {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (text[..at].matches('\n').count(), text[line_start..at].encode_utf16().count())
}

/// A copy of the shop's schema and policy with `extra` generated campaign
/// files (and, for `extra == 0`, the shop's own campaigns).
fn workspace(name: &str, extra: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camp-lsp-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("campaigns")).expect("mkdir");
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop");
    for f in ["camp.toml", "schema.camp", "policy.camp"] {
        std::fs::copy(shop.join(f), dir.join(f)).expect("copy");
    }
    if extra == 0 {
        for entry in std::fs::read_dir(shop.join("campaigns")).expect("read").flatten() {
            std::fs::copy(entry.path(), dir.join("campaigns").join(entry.file_name())).expect("copy");
        }
    }
    for i in 0..extra {
        let text: String = (0..3).map(|k| block(&format!("f{i}_{k}"))).collect();
        std::fs::write(dir.join(format!("campaigns/generated_{i}.camp")), text).expect("write");
    }
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

fn world_files(root: &Path) -> usize {
    camp_lsp::world::camp_files(root, true).len()
}

/// One segment, message and campaign (21 lines), named after `id`.
fn block(id: &str) -> String {
    format!(
        "/// 장바구니 이탈 고객 {id}
segment seg_{id} =
    customer.tier in (gold, vip)
    and did cart_add where price >= 10_000 within 7d
    and not did purchase since last cart_add

message msg_{id} {{
  \"(광고) #{{sender}}
  #{{고객명}}님, 장바구니에 담은 상품이 기다려요. ({id})
  #{{optout}}\"
}}

campaign campaign_{id} {{
  kind ad
  channel lms
  trigger every day at 10:00
  audience customer.marketing_consent and seg_{id}
  cap 1 per 24h
  send msg_{id}
}}

"
    )
}

/// Blocks until `lines` lines (the last ones comments).
fn big_file(lines: usize) -> String {
    let mut out = String::new();
    let mut i = 0;
    while out.lines().count() + 21 <= lines {
        out.push_str(&block(&format!("b{i}")));
        i += 1;
    }
    while out.lines().count() < lines {
        out.push_str("// 여백\n");
    }
    out
}

/// The server process and the messages it sends.
struct Server {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn start(root: &Path) -> Server {
        let exe = std::env::current_exe().expect("bench binary");
        let mut child = Command::new(exe)
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("server starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(msg) = read_message(&mut reader) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            stdin,
            incoming,
            next_id: 0,
        };
        let root_uri = url::Url::from_directory_path(root).expect("uri").to_string();
        server.request("initialize", json!({"capabilities": {}, "rootUri": root_uri}));
        server.notify("initialized", json!({}));
        server
    }

    fn write(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.write(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.write(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let msg = self.incoming.recv_timeout(TIMEOUT).expect("the server answers");
            if msg["id"] == json!(id) {
                return msg["result"].clone();
            }
        }
    }

    fn open(&mut self, path: &Path, text: &str) -> String {
        let uri = url::Url::from_file_path(path).expect("uri").to_string();
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "camp", "version": 1, "text": text}}),
        );
        self.wait_diagnostics(&uri);
        uri
    }

    fn wait_diagnostics(&mut self, uri: &str) -> Value {
        loop {
            let msg = self.incoming.recv_timeout(TIMEOUT).expect("diagnostics arrive");
            if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri {
                return msg["params"]["diagnostics"].clone();
            }
        }
    }

    /// VmRSS of the server process, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("VmRSS")
    }

    fn stop(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let _ = self.child.wait();
    }
}

/// One `Content-Length` framed message.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length:") {
            length = n.trim().parse().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}
