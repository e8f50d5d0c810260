//! The byte side of the protocol: frames (`Content-Length` headers, then a
//! JSON body) read by hand, so that one bad frame costs one error answer
//! and never the connection. `lsp-server` still gives the message types
//! and writes the server's messages.
//!
//! What a frame can do wrong, and what the client gets:
//! - a body that is not UTF-8 or not JSON: `-32700` (parse error), `id: null`;
//! - JSON that is not a JSON-RPC request or notification: `-32600`
//!   (invalid request), with the request's id when one can be read, else
//!   `id: null` (a malformed *response* from the client is only logged:
//!   responses are never answered);
//! - a lone UTF-16 surrogate (`\ud800`) in a string: replaced by U+FFFD
//!   (one UTF-16 unit, like the surrogate, so positions stay in step) and
//!   the message is handled;
//! - headers without a usable `Content-Length` (missing, not a number, two
//!   that differ, over [`MAX_FRAME`]), or a line that is no header: `-32700`
//!   with `id: null`, and the reader skips to the next `Content-Length`;
//! - input that ends inside a frame: logged, and the server stops as when
//!   the input ends between frames (exit code 0).

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

/// The largest body a frame may declare: 64 MiB.
pub const MAX_FRAME: usize = 64 << 20;
/// The longest header line.
const MAX_HEADER_LINE: usize = 8 << 10;
/// What the reader looks for to find the next frame after a bad one.
const HEADER: &[u8] = b"content-length";

/// One frame read from the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A body of exactly the declared length.
    Body(Vec<u8>),
    /// Headers that declare no usable frame, and why; the next read skips
    /// to the next `Content-Length` header.
    Bad(String),
    /// The input ended between frames.
    End,
    /// The input ended inside a frame, and where.
    Cut(String),
}

/// Reads frames from `inner` with its own buffer (so that bytes can be
/// looked at again when a frame turns out bad).
pub struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    resync: bool,
}

enum Line {
    /// The line at `pos` is this many bytes long, its `\n` included.
    Complete(usize),
    /// No `\n` within [`MAX_HEADER_LINE`] bytes.
    TooLong,
    /// The input ended before a `\n`.
    Eof,
}

impl<R: Read> FrameReader<R> {
    pub fn new(inner: R) -> FrameReader<R> {
        FrameReader {
            inner,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            resync: false,
        }
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Reads more input after what is buffered; `false` at the end.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        // Drop what was consumed (nothing before `pos` is looked at again,
        // except by `put_back` before the next read).
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos >= 64 << 10 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + (64 << 10), 0);
        loop {
            match self.inner.read(&mut self.buf[len..]) {
                Ok(n) => {
                    self.buf.truncate(len + n);
                    if n == 0 {
                        self.eof = true;
                    }
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        }
    }

    fn peek_line(&mut self) -> io::Result<Line> {
        let mut searched = 0;
        loop {
            if let Some(i) = self.available()[searched..].iter().position(|b| *b == b'\n') {
                let len = searched + i + 1;
                return Ok(if len > MAX_HEADER_LINE {
                    Line::TooLong
                } else {
                    Line::Complete(len)
                });
            }
            searched = self.available().len();
            if searched > MAX_HEADER_LINE {
                return Ok(Line::TooLong);
            }
            if !self.fill()? {
                return Ok(Line::Eof);
            }
        }
    }

    /// Moves to the next `Content-Length` (any case); whether one was found
    /// and how many bytes were skipped.
    fn skip_to_header(&mut self) -> io::Result<(bool, usize)> {
        let mut skipped = 0;
        loop {
            if let Some(i) = find_header(self.available()) {
                self.pos += i;
                return Ok((true, skipped + i));
            }
            // Keep a tail that may be the start of a match.
            let keep = HEADER.len() - 1;
            let avail = self.available().len();
            if avail > keep {
                skipped += avail - keep;
                self.pos += avail - keep;
            }
            if !self.fill()? {
                skipped += self.available().len();
                self.pos = self.buf.len();
                return Ok((false, skipped));
            }
        }
    }

    /// Gives back the last `n` bytes of the body just read, to be read
    /// again as the start of the next frame. Only right after `read_frame`.
    pub fn put_back(&mut self, n: usize) {
        self.pos = self.pos.saturating_sub(n);
    }

    /// The next frame; `Err` only when the input cannot be read.
    pub fn read_frame(&mut self) -> io::Result<Frame> {
        if self.resync {
            self.resync = false;
            let (found, skipped) = self.skip_to_header()?;
            if skipped > 0 {
                crate::log::log_warn!("skipped {skipped} bytes of input to find the next frame");
            }
            if !found {
                return Ok(Frame::End);
            }
        }
        let mut length: Option<usize> = None;
        let mut headers = 0;
        loop {
            let len = match self.peek_line()? {
                Line::Complete(len) => len,
                Line::TooLong => return Ok(self.bad(1, format!("a header line longer than {MAX_HEADER_LINE} bytes"))),
                Line::Eof => {
                    let rest = self.available();
                    let blank = rest.iter().all(u8::is_ascii_whitespace);
                    let at = rest.len();
                    self.pos = self.buf.len();
                    return Ok(if headers == 0 && blank {
                        Frame::End
                    } else {
                        Frame::Cut(format!(
                            "the input ended inside the headers of a frame ({at} bytes of an unfinished line)"
                        ))
                    });
                }
            };
            let line = self.available()[..len].to_vec();
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if text.is_empty() {
                self.pos += len;
                if headers == 0 {
                    // Blank lines between frames are harmless.
                    continue;
                }
                break;
            }
            headers += 1;
            let shown = String::from_utf8_lossy(&text[..text.len().min(80)]).into_owned();
            let Some(colon) = text.iter().position(|b| *b == b':') else {
                return Ok(self.bad(1, format!("`{shown}` is not a header (`Name: value`)")));
            };
            let (name, value) = (&text[..colon], &text[colon + 1..]);
            if name.is_empty() || !name.iter().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b)) {
                return Ok(self.bad(1, format!("`{shown}` is not a header (`Name: value`)")));
            }
            self.pos += len;
            if !name.eq_ignore_ascii_case(HEADER) {
                // Content-Type and anything else: not needed.
                continue;
            }
            let value = String::from_utf8_lossy(value);
            let value = value.trim();
            let n = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                // Digits only: too long for usize is over the limit too.
                value.parse::<usize>().unwrap_or(usize::MAX)
            } else {
                return Ok(self.bad(0, format!("Content-Length `{value}` is not a number of bytes")));
            };
            if n > MAX_FRAME {
                return Ok(self.bad(0, format!("a frame of {value} bytes is over the limit of {MAX_FRAME}")));
            }
            if length.is_some_and(|l| l != n) {
                return Ok(self.bad(0, "two different Content-Length headers".to_string()));
            }
            length = Some(n);
        }
        let Some(n) = length else {
            return Ok(self.bad(0, "a frame without a Content-Length header".to_string()));
        };
        while self.available().len() < n {
            if !self.fill()? {
                let got = self.available().len();
                self.pos = self.buf.len();
                return Ok(Frame::Cut(format!("the input ended {got} bytes into a frame of {n}")));
            }
        }
        let body = self.available()[..n].to_vec();
        self.pos += n;
        Ok(Frame::Body(body))
    }

    /// A bad frame: step `skip` bytes (1 to look for a header inside the
    /// line just refused) and look for the next frame on the next read.
    fn bad(&mut self, skip: usize, why: String) -> Frame {
        self.pos = (self.pos + skip).min(self.buf.len());
        self.resync = true;
        Frame::Bad(why)
    }
}

/// Where `Content-Length` (any case) starts in `bytes`.
fn find_header(bytes: &[u8]) -> Option<usize> {
    bytes.windows(HEADER.len()).position(|w| w.eq_ignore_ascii_case(HEADER))
}

/// A frame that is no message the server can handle.
#[derive(Debug)]
pub struct Rejected {
    pub code: ErrorCode,
    /// The id of the answer: the request's when it could be read, else null.
    pub id: Value,
    pub message: String,
    /// False for a malformed response from the client (never answered).
    pub answer: bool,
}

impl Rejected {
    fn parse(message: String) -> Rejected {
        Rejected {
            code: ErrorCode::ParseError,
            id: Value::Null,
            message,
            answer: true,
        }
    }

    fn invalid(id: Option<&Value>, message: String) -> Rejected {
        let id = match id {
            Some(v @ (Value::Number(_) | Value::String(_))) => v.clone(),
            _ => Value::Null,
        };
        Rejected {
            code: ErrorCode::InvalidRequest,
            id,
            message,
            answer: true,
        }
    }
}

/// A decoded message, and how many lone surrogates were replaced in it.
#[derive(Debug)]
pub struct Decoded {
    pub message: Message,
    pub replaced: usize,
}

/// A frame's body as a message.
pub fn decode(body: &[u8]) -> Result<Decoded, Rejected> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Rejected::parse(format!("the message is not UTF-8 (invalid byte at {})", e.valid_up_to())))?;
    let (value, replaced) = match serde_json::from_str::<Value>(text) {
        Ok(v) => (v, 0),
        Err(first) => {
            let (fixed, replaced) = replace_lone_surrogates(text);
            match (replaced > 0).then(|| serde_json::from_str::<Value>(&fixed)) {
                Some(Ok(v)) => (v, replaced),
                _ => return Err(Rejected::parse(format!("the message is not JSON: {first}"))),
            }
        }
    };
    classify(value).map(|message| Decoded { message, replaced })
}

/// A JSON value as a request, a notification or a response.
fn classify(value: Value) -> Result<Message, Rejected> {
    let mut o = match value {
        Value::Object(o) => o,
        Value::Array(_) => return Err(Rejected::invalid(None, "batches (JSON arrays) are not supported".into())),
        other => {
            let kind = match other {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                _ => "a string",
            };
            return Err(Rejected::invalid(None, format!("a message is a JSON object, not {kind}")));
        }
    };
    let id = o.remove("id");
    if let Some(v) = o.get("jsonrpc") {
        if v != "2.0" {
            return Err(Rejected::invalid(id.as_ref(), format!("`jsonrpc` must be \"2.0\", not {v}")));
        }
    }
    let params = o.remove("params").unwrap_or(Value::Null);
    match o.remove("method") {
        Some(Value::String(method)) => match id {
            None => Ok(Message::Notification(Notification { method, params })),
            Some(raw) => match request_id(&raw) {
                Some(id) => Ok(Message::Request(Request { id, method, params })),
                None => Err(Rejected::invalid(
                    Some(&raw),
                    format!("the id of `{method}` must be a string or an integer of 32 bits, not {raw}"),
                )),
            },
        },
        Some(other) => Err(Rejected::invalid(id.as_ref(), format!("`method` must be a string, not {other}"))),
        None if o.contains_key("result") || o.contains_key("error") => {
            let response = id.as_ref().and_then(request_id).and_then(|id| {
                let error = match o.remove("error") {
                    None | Some(Value::Null) => None,
                    Some(e) => Some(serde_json::from_value(e).ok()?),
                };
                Some(Response {
                    id,
                    result: o.remove("result"),
                    error,
                })
            });
            response.map(Message::Response).ok_or(Rejected {
                code: ErrorCode::InvalidRequest,
                id: Value::Null,
                message: "a response with no usable id or error".into(),
                answer: false,
            })
        }
        None => Err(Rejected::invalid(
            id.as_ref(),
            "neither a request nor a notification (no `method`) nor a response".into(),
        )),
    }
}

fn request_id(v: &Value) -> Option<RequestId> {
    match v {
        Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()).map(RequestId::from),
        Value::String(s) => Some(RequestId::from(s.clone())),
        _ => None,
    }
}

/// `text` (JSON) with each `\uXXXX` escape of a lone surrogate replaced by
/// `\ufffd`, and how many were.
pub fn replace_lone_surrogates(text: &str) -> (String, usize) {
    fn hex4(b: &[u8], at: usize) -> Option<u32> {
        let digits = b.get(at..at + 4)?;
        let s = std::str::from_utf8(digits).ok()?;
        u32::from_str_radix(s, 16).ok()
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied, mut replaced, mut in_string) = (0, 0, 0, false);
    while i < b.len() {
        match b[i] {
            b'"' => {
                in_string = !in_string;
                i += 1;
            }
            b'\\' if in_string => {
                let unit = (b.get(i + 1) == Some(&b'u')).then(|| hex4(b, i + 2)).flatten();
                match unit {
                    Some(0xD800..=0xDBFF)
                        if b.get(i + 6..i + 8) == Some(b"\\u".as_slice())
                            && hex4(b, i + 8).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) =>
                    {
                        i += 12;
                    }
                    Some(0xD800..=0xDFFF) => {
                        out.push_str(&text[copied..i]);
                        out.push_str("\\ufffd");
                        replaced += 1;
                        i += 6;
                        copied = i;
                    }
                    Some(_) => i += 6,
                    // `\"`, `\\` and the other escapes.
                    None => i += 2,
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied.min(text.len())..]);
    (out, replaced)
}

/// Writes one frame whose body is `body`.
fn write_frame(out: &mut dyn Write, body: &str) -> io::Result<()> {
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(body.as_bytes())?;
    out.flush()
}

fn lock<W>(out: &Mutex<W>) -> std::sync::MutexGuard<'_, W> {
    out.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads frames and hands the messages to the server; answers bad frames
/// itself (their answer may need `id: null`, which `lsp-server` cannot
/// write). `deliver` hands a message on (false: the server is gone).
/// Stops at the end of the input, after `exit`, or when the server is gone.
fn read_loop<R: Read, W: Write>(input: R, mut deliver: impl FnMut(Message) -> bool, out: &Mutex<W>) {
    let mut frames = FrameReader::new(input);
    loop {
        let frame = match frames.read_frame() {
            Ok(f) => f,
            Err(e) => {
                crate::log::log_warn!("cannot read the input ({e}); stopping");
                return;
            }
        };
        let body = match frame {
            Frame::End => {
                crate::log::log_info!("the input ended");
                return;
            }
            Frame::Cut(why) => {
                crate::log::log_warn!("{why}; stopping");
                return;
            }
            Frame::Bad(why) => {
                crate::log::log_warn!("dropped a frame: {why}");
                answer_error(out, &Value::Null, ErrorCode::ParseError, &format!("bad frame: {why}"));
                continue;
            }
            Frame::Body(body) => body,
        };
        match decode(&body) {
            Ok(Decoded { message, replaced }) => {
                let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if replaced > 0 {
                    let method = match &message {
                        Message::Request(r) => r.method.as_str(),
                        Message::Notification(n) => n.method.as_str(),
                        Message::Response(_) => "a response",
                    };
                    crate::log::log_warn!("{method}: replaced {replaced} lone UTF-16 surrogate(s) with U+FFFD");
                }
                if !deliver(message) || exit {
                    return;
                }
            }
            Err(rejected) => {
                crate::log::log_warn!("dropped a message: {}", rejected.message);
                // A declared length longer than the body swallows the next
                // frame: read again from its header.
                if matches!(rejected.code, ErrorCode::ParseError) {
                    if let Some(at) = body.get(1..).and_then(find_header) {
                        frames.put_back(body.len() - 1 - at);
                    }
                }
                if rejected.answer {
                    answer_error(out, &rejected.id, rejected.code, &rejected.message);
                }
            }
        }
    }
}

fn answer_error<W: Write>(out: &Mutex<W>, id: &Value, code: ErrorCode, message: &str) {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code as i32, "message": message},
    })
    .to_string();
    if let Err(e) = write_frame(&mut *lock(out), &body) {
        crate::log::log_warn!("cannot write to the client ({e})");
    }
}

/// Serves the protocol over `input` and `output` until `exit` or the end
/// of the input (see `run` for the result).
pub fn run_io<R, W>(input: R, output: W) -> Result<(), String>
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let out = Arc::new(Mutex::new(output));
    let (server, client) = Connection::memory();
    let Connection {
        sender: to_server,
        receiver: from_server,
    } = client;
    let writer_out = out.clone();
    let writer = std::thread::Builder::new()
        .name("camp-lsp-writer".into())
        .spawn(move || {
            for msg in from_server {
                if let Err(e) = msg.write(&mut *lock(&writer_out)) {
                    crate::log::log_warn!("cannot write to the client ({e}); stopping");
                    return;
                }
            }
        })
        .map_err(|e| format!("cannot start the writer thread: {e}"))?;
    let reader_out = out;
    std::thread::Builder::new()
        .name("camp-lsp-reader".into())
        .spawn(move || read_loop(input, |m| to_server.send(m).is_ok(), &*reader_out))
        .map_err(|e| format!("cannot start the reader thread: {e}"))?;
    let result = crate::server::run(&server);
    drop(server);
    // Everything the server sent is written; the reader may still wait on
    // input that never ends, and is not waited for.
    if writer.join().is_err() {
        crate::log::log_warn!("the writer thread failed");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut r = FrameReader::new(input);
        let mut out = Vec::new();
        loop {
            let f = r.read_frame().expect("reads");
            let end = matches!(f, Frame::End | Frame::Cut(_));
            out.push(f);
            if end {
                return out;
            }
        }
    }

    fn body(s: &str) -> Frame {
        Frame::Body(s.as_bytes().to_vec())
    }

    #[test]
    fn frames_and_what_goes_wrong_with_them() {
        let f = frames(b"Content-Length: 2\r\n\r\n{}content-length:3\nContent-Type: x\r\n\r\n[1]\r\n");
        assert_eq!(f, vec![body("{}"), body("[1]"), Frame::End]);

        // No Content-Length, a garbled one, a huge one: each is refused
        // and the reader finds the next frame.
        let f = frames(b"Content-Type: a\r\n\r\n{\"id\":1}Content-Length: 2\r\n\r\n{}");
        assert!(matches!(&f[0], Frame::Bad(w) if w.contains("without a Content-Length")), "{f:?}");
        assert_eq!(f[1..], [body("{}"), Frame::End]);
        let f = frames(b"Content-Length: 1x\r\n\r\n{}\r\nContent-Length: 2\r\n\r\n{}");
        assert!(matches!(&f[0], Frame::Bad(w) if w.contains("`1x` is not a number")), "{f:?}");
        assert_eq!(f[1..], [body("{}"), Frame::End]);
        let f = frames(b"Content-Length: 99999999999999999999999\r\n\r\n{}Content-Length: 2\r\n\r\n{}");
        assert!(matches!(&f[0], Frame::Bad(w) if w.contains("over the limit")), "{f:?}");
        assert_eq!(f[1..], [body("{}"), Frame::End]);
        let f = frames(b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}Content-Length: 2\r\n\r\n{}");
        assert!(matches!(&f[0], Frame::Bad(w) if w.contains("two different")), "{f:?}");
        assert_eq!(f[1..], [body("{}"), Frame::End]);
        // A body without headers, the next frame's header on its line.
        let f = frames(b"{\"jsonrpc\":\"2.0\"}Content-Length: 2\r\n\r\n{}");
        assert!(matches!(&f[0], Frame::Bad(w) if w.contains("is not a header")), "{f:?}");
        assert_eq!(f[1..], [body("{}"), Frame::End]);
        // A header line that never ends.
        let mut long = vec![b'x'; MAX_HEADER_LINE + 10];
        long.extend_from_slice(b"\nContent-Length: 2\r\n\r\n{}");
        let f = frames(&long);
        assert!(matches!(&f[0], Frame::Bad(w) if w.contains("longer than")), "{f:?}");
        assert_eq!(f[1..], [body("{}"), Frame::End]);
        // Garbage with no frame after it ends the input.
        let f = frames(b"Content-Length: x\r\n\r\nnothing more");
        assert!(matches!(&f[0], Frame::Bad(_)));
        assert_eq!(f[1..], [Frame::End]);
    }

    #[test]
    fn input_that_ends_inside_a_frame_is_cut() {
        assert_eq!(frames(b""), vec![Frame::End]);
        assert_eq!(frames(b"\r\n\r\n"), vec![Frame::End]);
        let f = frames(b"Content-Length: 10\r\n\r\n{\"a\"");
        assert!(matches!(&f[0], Frame::Cut(w) if w.contains("4 bytes into a frame of 10")), "{f:?}");
        let f = frames(b"Content-Length: 10\r\n");
        assert!(matches!(&f[0], Frame::Cut(_)), "{f:?}");
        let f = frames(b"Content-Len");
        assert!(matches!(&f[0], Frame::Cut(_)), "{f:?}");
    }

    #[test]
    fn a_large_frame_reads_whole_across_many_reads() {
        let text = "가".repeat(100_000);
        let json = json!({"t": text}).to_string();
        let input = format!("Content-Length: {}\r\n\r\n{json}", json.len());
        assert_eq!(frames(input.as_bytes()), vec![body(&json), Frame::End]);
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let (s, n) = replace_lone_surrogates(r#"{"a":"x\ud800y","b":"\udc00","c":"\ud83d\ude00","d":"\\ud800","e":"\ud800\u0041"}"#);
        assert_eq!(n, 3);
        assert_eq!(
            s,
            r#"{"a":"x\ufffdy","b":"\ufffd","c":"\ud83d\ude00","d":"\\ud800","e":"\ufffd\u0041"}"#
        );
        let v: Value = serde_json::from_str(&s).expect("valid now");
        assert_eq!(v["a"], "x\u{fffd}y");
        assert_eq!(v["c"], "😀");
        assert_eq!(v["d"], "\\ud800");
        // Cut escapes are left alone (and the JSON stays invalid).
        assert_eq!(replace_lone_surrogates(r#""\ud8"#).1, 0);
        assert_eq!(replace_lone_surrogates(r#""\"#).1, 0);
    }

    #[test]
    fn bodies_that_are_not_messages_are_rejected_with_the_right_code_and_id() {
        let code = |b: &[u8]| decode(b).map(|_| ()).map_err(|r| (r.code as i32, r.id, r.answer));
        let parse = Err((-32700, Value::Null, true));
        assert_eq!(code(b"{\"jsonrpc\": oops"), parse);
        assert_eq!(code(b"{\"id\":1,\"method\":\"x\xff\"}"), parse);
        assert_eq!(code(b""), parse);
        let invalid = |id: Value| Err((-32600, id, true));
        assert_eq!(code(b"[1, 2]"), invalid(Value::Null));
        assert_eq!(code(b"42"), invalid(Value::Null));
        assert_eq!(code(b"{}"), invalid(Value::Null));
        assert_eq!(code(br#"{"hello":"world"}"#), invalid(Value::Null));
        assert_eq!(code(br#"{"id":5,"method":7}"#), invalid(json!(5)));
        assert_eq!(code(br#"{"id":"a","params":{}}"#), invalid(json!("a")));
        assert_eq!(code(br#"{"id":{"x":1},"method":"m"}"#), invalid(Value::Null));
        assert_eq!(code(br#"{"id":null,"method":"m"}"#), invalid(Value::Null));
        assert_eq!(code(br#"{"id":2147483648,"method":"m"}"#), invalid(json!(2147483648u64)));
        assert_eq!(code(br#"{"jsonrpc":"1.0","id":3,"method":"m"}"#), invalid(json!(3)));
        assert_eq!(code(br#"{"id":[1],"result":1}"#), Err((-32600, Value::Null, false)));

        let ok = |b: &str| decode(b.as_bytes()).expect("a message").message;
        assert!(matches!(ok(r#"{"jsonrpc":"2.0","id":1,"method":"m"}"#), Message::Request(r) if r.id == 1.into()));
        assert!(matches!(ok(r#"{"jsonrpc":"2.0","method":"m","params":null}"#), Message::Notification(n) if n.method == "m"));
        assert!(matches!(ok(r#"{"jsonrpc":"2.0","id":"k","result":null}"#), Message::Response(_)));
        let d = decode(br#"{"jsonrpc":"2.0","method":"m","params":{"text":"a\ud800"}}"#).expect("decoded");
        assert_eq!(d.replaced, 1);
        assert!(matches!(d.message, Message::Notification(n) if n.params["text"] == "a\u{fffd}"));
    }
}
