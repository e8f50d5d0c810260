//! Error recovery by chunks: the file is cut before every line that starts
//! in column 0 with something other than blank space, a comment, a bracket
//! or a quote. Each chunk holds at most one top-level item and is parsed on
//! its own, so a broken item costs only its own chunk.
//!
//! `///` lines right above such a line go with the item below (they are its
//! doc comment). Strings are skipped as pest lexes them, so a column-0 line
//! inside a multi-line string does not cut; a string that never closes is
//! reported here, and stops at the next line that looks like an item header.

use crate::lex::{self, StringEnd};
use crate::{Span, SyntaxError, SyntaxErrorKind};

/// A byte range of the file holding at most one item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chunk {
    pub start: usize,
    pub end: usize,
    /// Set when the chunk cannot be given to pest (an unterminated string).
    pub problem: Option<SyntaxError>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LineKind {
    /// Starts a new chunk.
    ItemStart,
    /// A column-0 `///` line: may belong to the item below.
    Doc,
    /// Anything that continues the current chunk.
    Continuation,
}

/// Splits `src` into chunks covering it entirely, in order.
pub(crate) fn split(src: &str) -> Vec<Chunk> {
    let b = src.as_bytes();
    let mut chunks = Vec::new();
    // A UTF-8 byte order mark is not part of any chunk.
    let first = if src.starts_with('\u{FEFF}') { 3 } else { 0 };
    let mut current = Chunk {
        start: first,
        end: first,
        problem: None,
    };
    let mut doc_run: Option<usize> = None;
    let mut i = first;
    let mut at_line_start = true;
    while i < b.len() {
        if at_line_start {
            at_line_start = false;
            match line_kind(b, i) {
                LineKind::ItemStart => {
                    let cut = doc_run.take().unwrap_or(i);
                    if cut > current.start {
                        current.end = cut;
                        let next = Chunk {
                            start: cut,
                            end: cut,
                            problem: None,
                        };
                        chunks.push(std::mem::replace(&mut current, next));
                    }
                }
                LineKind::Doc => {
                    doc_run.get_or_insert(i);
                }
                LineKind::Continuation => doc_run = None,
            }
        }
        match b[i] {
            b'\n' => {
                i += 1;
                at_line_start = true;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => i = lex::line_end(b, i),
            b'"' => match lex::scan_string(src, i, true) {
                StringEnd::Closed(end) => {
                    // A string spanning lines breaks any run of doc lines.
                    doc_run = None;
                    i = end;
                }
                StringEnd::Open(stop) => {
                    current.problem.get_or_insert_with(|| unterminated(i));
                    doc_run = None;
                    i = stop;
                    at_line_start = stop < b.len();
                }
            },
            _ => i += 1,
        }
    }
    current.end = b.len();
    if current.end > current.start || chunks.is_empty() {
        chunks.push(current);
    }
    chunks
}

fn line_kind(b: &[u8], i: usize) -> LineKind {
    match b.get(i) {
        None => LineKind::Continuation,
        Some(b' ' | b'\t' | b'\r' | b'\n' | b'{' | b'}' | b'(' | b')' | b'[' | b']' | b'"') => LineKind::Continuation,
        Some(b'/') if b.get(i + 1) == Some(&b'/') => {
            let doc = b.get(i + 2) == Some(&b'/') && b.get(i + 3) != Some(&b'/');
            if doc {
                LineKind::Doc
            } else {
                LineKind::Continuation
            }
        }
        Some(_) => LineKind::ItemStart,
    }
}

fn unterminated(quote: usize) -> SyntaxError {
    SyntaxError {
        kind: SyntaxErrorKind::UnterminatedString,
        span: Span::new(quote, quote + 1),
        message: "unterminated string".to_string(),
        label: "this string is never closed".to_string(),
        help: Some("add the closing `\"`".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(src: &str) -> Vec<(usize, usize, bool)> {
        split(src).into_iter().map(|c| (c.start, c.end, c.problem.is_some())).collect()
    }

    #[test]
    fn cuts_before_column_zero_items() {
        let src = "segment a = x\n  and y\n}\nsegment b = z\n";
        assert_eq!(ranges(src), vec![(0, 24, false), (24, src.len(), false)]);
    }

    #[test]
    fn doc_lines_go_with_the_item_below() {
        let src = "segment a = x\n/// about b\nsegment b = z\n";
        assert_eq!(ranges(src), vec![(0, 14, false), (14, src.len(), false)]);
    }

    #[test]
    fn strings_spanning_column_zero_do_not_cut() {
        let src = "message m {\n  \"hello\nworld\"\n}\nsegment b = z\n";
        let at = src.find("segment").unwrap();
        assert_eq!(ranges(src), vec![(0, at, false), (at, src.len(), false)]);
    }

    #[test]
    fn unterminated_string_stops_at_next_header() {
        let src = "message m {\n  \"hello\n}\nsegment b = z\n";
        let at = src.find("segment").unwrap();
        assert_eq!(ranges(src), vec![(0, at, true), (at, src.len(), false)]);
        let err = split(src).remove(0).problem.unwrap();
        assert_eq!(err.span, Span::new(14, 15));
    }

    #[test]
    fn empty_file_is_one_empty_chunk() {
        assert_eq!(ranges(""), vec![(0, 0, false)]);
    }
}
