//! Parses one chunk (at most one top-level item) with pest and builds it.

use crate::ast::Item;
use crate::build::{self, Ctx};
use crate::grammar::{CampParser, Rule};
use crate::lex::{self, StringEnd};
use crate::recover::Chunk;
use crate::{errors, SyntaxError};
use pest::Parser;
use std::borrow::Cow;

/// The item of `chunk` (if it holds one and it parsed), recording errors.
pub(crate) fn parse_chunk(src: &str, chunk: &Chunk, errors_out: &mut Vec<SyntaxError>) -> Option<Item> {
    let text = src.get(chunk.start..chunk.end)?;
    let seen = blank_comments(text);
    let pairs = match CampParser::parse(Rule::chunk, &seen) {
        Ok(pairs) => pairs,
        Err(e) => {
            errors_out.push(errors::from_pest(&e, src, chunk.start, chunk.end));
            return None;
        }
    };
    let root = pairs.into_iter().next()?;
    let mut cx = Ctx {
        text,
        base: chunk.start,
        errors: errors_out,
    };
    match build::item(&mut cx, root) {
        Ok(Some((item, _end))) => Some(item),
        Ok(None) | Err(build::Fail) => None,
    }
}

/// The chunk as pest reads it: every `//` comment outside strings replaced
/// by as many spaces as it has bytes. Offsets do not move, no token
/// changes (tokens never hold a comment), and pest, whose blank-space rule
/// then needs no comment branch, skips blank space far more cheaply. The
/// builder and the error wording read the original text.
///
/// Pest takes `//` as a comment exactly where this scan does: between
/// tokens, never inside a string (lex.rs mirrors the string rules), and no
/// other token contains `/` followed by `/`.
fn blank_comments(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    if !text.contains("//") {
        return Cow::Borrowed(text);
    }
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while let Some(n) = b.get(i..).and_then(|rest| rest.iter().position(|&c| c == b'"' || c == b'/')) {
        i += n;
        if b[i] == b'"' {
            i = match lex::scan_string(text, i, false) {
                StringEnd::Closed(end) | StringEnd::Open(end) => end,
            };
        } else if b.get(i + 1) == Some(&b'/') {
            let end = lex::line_end(b, i);
            if let Some(comment) = out.get_or_insert_with(|| b.to_vec()).get_mut(i..end) {
                comment.fill(b' ');
            }
            i = end;
        } else {
            i += 1;
        }
    }
    match out {
        // A comment runs from `//` to a `\n` or the end: whole chars.
        Some(bytes) => String::from_utf8(bytes).map_or(Cow::Borrowed(text), Cow::Owned),
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::blank_comments;

    #[test]
    fn blanks_comments_but_not_strings() {
        let text = "segment a = x // 고객 \"\n  and y // z\nmessage m { \"http://a // b\" } //";
        let seen = blank_comments(text);
        assert_eq!(seen.len(), text.len());
        assert_eq!(seen.replace(' ', ""), "segmenta=x\nandy\nmessagem{\"http://a//b\"}");
        assert!(matches!(blank_comments("a / b"), std::borrow::Cow::Borrowed(_)));
    }
}
