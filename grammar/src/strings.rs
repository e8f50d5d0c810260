//! String literals: the multi-line dedent rule and escapes.
//!
//! Dedent works on the raw source text (before escapes), so `\n` or `\t`
//! written as escapes never count as line breaks or indentation:
//! - a line break right after the opening quote is dropped;
//! - a last line of only blank space (the closing quote on its own line) is
//!   dropped with the line break before it;
//! - the smallest indentation of the non-blank continuation lines is removed
//!   from every continuation line.
//!
//! The result is a list of pieces: slices of source text to keep, and line
//! breaks (which become `\n`).

use crate::{Span, SyntaxError, SyntaxErrorKind};

/// Part of a string's value, as byte ranges of the raw text between quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Source text kept as is (escapes still to resolve).
    Text { start: usize, end: usize },
    /// A line break (`\n` or `\r\n`) kept as `\n`.
    Break { start: usize, end: usize },
}

struct Line {
    start: usize,
    /// End of the content, before any `\r\n` or `\n`.
    end: usize,
    /// Start of the next line (after the line break), or `end` for the last.
    next: usize,
}

/// The pieces of the raw string text `raw` after dedent.
pub(crate) fn dedent(raw: &str) -> Vec<Piece> {
    let lines = split_lines(raw);
    let last_index = lines.len() - 1;
    let blank = |l: &Line| raw[l.start..l.end].bytes().all(|c| c == b' ' || c == b'\t');
    let first = usize::from(last_index > 0 && lines[0].start == lines[0].end);
    let mut last = last_index;
    if last_index > 0 && last >= first && blank(&lines[last]) {
        // An empty string after dropping both ends stays empty.
        if last == first {
            return Vec::new();
        }
        last -= 1;
    }
    let indent = |l: &Line| raw[l.start..l.end].bytes().take_while(|&c| c == b' ' || c == b'\t').count();
    let continuation = if last >= 1 { &lines[1..=last] } else { &[] };
    let common = continuation.iter().filter(|l| !blank(l)).map(indent).min().unwrap_or(0);
    let mut pieces = Vec::with_capacity(2 * (last + 1 - first));
    for (n, line) in lines.iter().enumerate().take(last + 1).skip(first) {
        let cut = if n == 0 { 0 } else { indent(line).min(common) };
        if line.start + cut < line.end {
            pieces.push(Piece::Text {
                start: line.start + cut,
                end: line.end,
            });
        }
        if n < last {
            pieces.push(Piece::Break {
                start: line.end,
                end: line.next,
            });
        }
    }
    pieces
}

fn split_lines(raw: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, c) in raw.bytes().enumerate() {
        if c == b'\n' {
            let end = if i > start && raw.as_bytes()[i - 1] == b'\r' { i - 1 } else { i };
            lines.push(Line { start, end, next: i + 1 });
            start = i + 1;
        }
    }
    lines.push(Line {
        start,
        end: raw.len(),
        next: raw.len(),
    });
    lines
}

/// The char an escape `\c` stands for, if `c` is a known escape.
pub(crate) fn escape(c: char) -> Option<char> {
    match c {
        '"' => Some('"'),
        '\\' => Some('\\'),
        'n' => Some('\n'),
        't' => Some('\t'),
        '#' => Some('#'),
        _ => None,
    }
}

/// Reports the escape at `at` (the backslash, a file offset) as unknown;
/// `next` is the char after the backslash, if any on the same line.
pub(crate) fn bad_escape(at: usize, next: Option<char>) -> SyntaxError {
    let (shown, len) = match next {
        Some(c) => (format!("\\{c}"), 1 + c.len_utf8()),
        None => ("\\".to_string(), 1),
    };
    SyntaxError {
        kind: SyntaxErrorKind::Unexpected,
        span: Span::new(at, at + len),
        message: format!("unknown escape `{shown}`"),
        label: "unknown escape".to_string(),
        help: Some("the escapes are `\\\"` `\\\\` `\\n` `\\t` `\\#`; write `\\\\` for a backslash".to_string()),
    }
}

/// The value of a plain string (no placeholders): dedented, escapes
/// resolved. `raw` is the text between the quotes, starting at file offset
/// `base`; unknown escapes are reported to `errors` and kept as written.
pub(crate) fn value(raw: &str, base: usize, errors: &mut Vec<SyntaxError>) -> String {
    let mut out = String::with_capacity(raw.len());
    for piece in dedent(raw) {
        match piece {
            Piece::Break { .. } => out.push('\n'),
            Piece::Text { start, end } => unescape_into(&raw[start..end], base + start, &mut out, errors),
        }
    }
    out
}

/// Appends `text` (starting at file offset `base`) to `out` with escapes
/// resolved.
pub(crate) fn unescape_into(text: &str, base: usize, out: &mut String, errors: &mut Vec<SyntaxError>) {
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let next = chars.next().map(|(_, n)| n);
        match next.and_then(escape) {
            Some(e) => out.push(e),
            None => {
                errors.push(bad_escape(base + i, next));
                out.push('\\');
                out.extend(next);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(raw: &str) -> String {
        let mut errors = Vec::new();
        let v = value(raw, 0, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        v
    }

    #[test]
    fn dedents_continuation_lines() {
        assert_eq!(plain("(광고) a\n  b\n  c"), "(광고) a\nb\nc");
        assert_eq!(plain("a\n    b\n  c"), "a\n  b\nc");
        assert_eq!(plain("\n    a\n      b\n    "), "a\n  b");
        assert_eq!(plain("\n  a\n\n  b\n"), "a\n\nb");
        assert_eq!(plain("a\r\n  b"), "a\nb");
    }

    #[test]
    fn edge_cases() {
        assert_eq!(plain(""), "");
        assert_eq!(plain("\n"), "");
        assert_eq!(plain("  "), "  ");
        assert_eq!(plain("\n\n"), "");
        assert_eq!(plain("a\n"), "a");
        assert_eq!(plain(" a "), " a ");
    }

    #[test]
    fn escapes_do_not_count_as_lines() {
        assert_eq!(plain("a\\n  b"), "a\n  b");
        assert_eq!(plain("\\t\\\"\\\\\\#{x}"), "\t\"\\#{x}");
    }

    #[test]
    fn unknown_escape_is_reported() {
        let mut errors = Vec::new();
        assert_eq!(value("a\\qb", 10, &mut errors), "a\\qb");
        assert_eq!(errors[0].span, Span::new(11, 13));
    }
}
