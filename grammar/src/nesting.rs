//! The depth guard that runs on a chunk before pest does. Pest recurses once
//! per bracket, and the tree builder nests one node per `not` or unary `-`,
//! so both are bounded by [`MAX_NESTING`] here, whatever the input.
//!
//! Depth counts open brackets plus the run of `not`/`-` right before each
//! one: in `not not (not x)` the inner `not` is at depth 4.

use crate::lex::{self, StringEnd};
use crate::{Span, SyntaxError, SyntaxErrorKind, MAX_NESTING};

/// The first place in `text` nested deeper than [`MAX_NESTING`], as an
/// error with file offsets (`base` is where `text` starts in the file).
pub(crate) fn check(text: &str, base: usize) -> Option<SyntaxError> {
    let b = text.as_bytes();
    // Depth outside each open bracket, so `)` restores it.
    let mut outer: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    // Consecutive `not`s and `-`s seen since the last other token.
    let mut run = 0usize;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                run = 0;
                i = match lex::scan_string(text, i, false) {
                    StringEnd::Closed(end) | StringEnd::Open(end) => end,
                };
            }
            b'/' if b.get(i + 1) == Some(&b'/') => i = lex::line_end(b, i),
            b'(' | b'{' | b'[' => {
                let inner = depth + run + 1;
                if inner > MAX_NESTING {
                    return Some(too_deep(base + i, "this bracket"));
                }
                outer.push(depth);
                depth = inner;
                run = 0;
                i += 1;
            }
            b')' | b'}' | b']' => {
                depth = outer.pop().unwrap_or(0);
                run = 0;
                i += 1;
            }
            b'-' => {
                run += 1;
                if depth + run > MAX_NESTING {
                    return Some(too_deep(base + i, "this `-`"));
                }
                i += 1;
            }
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            _ => {
                let len = word_at(text, i);
                if len == 0 {
                    run = 0;
                    // Step over one whole char (not a word char).
                    i += text[i..].chars().next().map_or(1, char::len_utf8);
                    continue;
                }
                if &text[i..i + len] == "not" {
                    run += 1;
                    if depth + run > MAX_NESTING {
                        return Some(too_deep(base + i, "this `not`"));
                    }
                } else {
                    run = 0;
                }
                i += len;
            }
        }
    }
    None
}

/// The byte length of the word starting at `i` (0 when none starts there).
fn word_at(text: &str, i: usize) -> usize {
    text.get(i..).map_or(0, lex::word_len)
}

fn too_deep(at: usize, what: &str) -> SyntaxError {
    let len = match what {
        "this `not`" => 3,
        _ => 1,
    };
    SyntaxError {
        kind: SyntaxErrorKind::NestingTooDeep,
        span: Span::new(at, at + len),
        message: format!("nesting deeper than {MAX_NESTING} levels"),
        label: format!("{what} is nested too deeply"),
        help: Some("split the condition into named segments".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_brackets_and_not_runs() {
        let ok = format!("{}x{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert_eq!(check(&ok, 0), None);
        let deep = format!("{}x{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
        assert_eq!(check(&deep, 10).unwrap().span, Span::new(10 + MAX_NESTING, 11 + MAX_NESTING));
        let nots = "not ".repeat(MAX_NESTING + 1);
        assert_eq!(check(&nots, 0).unwrap().span.start, 4 * MAX_NESTING);
        // Sequential `not`s in an `and` chain are not nested.
        let flat = "not a and ".repeat(1000);
        assert_eq!(check(&flat, 0), None);
        // Brackets inside strings and comments do not count.
        let quoted = format!("\"{}\" // {}", "(".repeat(100), "{".repeat(100));
        assert_eq!(check(&quoted, 0), None);
        assert_eq!(check("notice notify", 0), None);
    }
}
