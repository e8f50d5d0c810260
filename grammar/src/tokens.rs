//! A forgiving tokenizer for tools that look at text pest may not accept:
//! the formatter (on valid files) and the language server (on half-typed
//! ones). It never fails: every non-blank byte of the input is in exactly
//! one token, and strings are lexed exactly as camp.pest lexes them
//! (see `lex`), so "inside a string" means the same thing everywhere.

use crate::lex::{self, StringEnd};
use crate::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A name or keyword: `customer`, `고객명`, `and`.
    Word,
    /// A number-like literal in one piece: `10_000`, `1.5`, `24h`, `50%`,
    /// `1st`, `21:00`, `2026-12-04 12:00`.
    Number,
    /// A string literal, quotes included; `closed` is false when it runs
    /// to the end of the text (or to the next item header).
    String { closed: bool },
    /// `// ..` or `/// ..` to the end of the line (the line break excluded).
    Comment,
    /// Punctuation: `==` `!=` `<=` `>=` `..` `->` `??` or any single char.
    Punct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl Token {
    /// The token's text in `src`.
    pub fn text<'s>(&self, src: &'s str) -> &'s str {
        src.get(self.span.start..self.span.end).unwrap_or("")
    }
}

const TWO_CHAR_PUNCT: [&str; 7] = ["==", "!=", "<=", ">=", "..", "->", "??"];

/// Every token of `src`, in order. A byte order mark at the start is skipped.
pub fn tokenize(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = if src.starts_with('\u{FEFF}') { 3 } else { 0 };
    while i < b.len() {
        let Some(c) = src.get(i..).and_then(|s| s.chars().next()) else {
            break;
        };
        let start = i;
        let kind = if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        } else if c == '/' && b.get(i + 1) == Some(&b'/') {
            i = lex::line_end(b, i);
            if i > start && b.get(i - 1) == Some(&b'\r') {
                i -= 1;
            }
            TokenKind::Comment
        } else if c == '"' {
            match lex::scan_string(src, i, true) {
                StringEnd::Closed(end) => {
                    i = end;
                    TokenKind::String { closed: true }
                }
                StringEnd::Open(stop) => {
                    i = stop.max(i + 1);
                    TokenKind::String { closed: false }
                }
            }
        } else if c.is_ascii_digit() {
            i = number_end(src, i);
            TokenKind::Number
        } else if lex::is_word_start(c) {
            i += lex::word_len(&src[i..]);
            TokenKind::Word
        } else {
            let two = src.get(i..i + 2).filter(|t| TWO_CHAR_PUNCT.contains(t));
            i += two.map_or(c.len_utf8(), str::len);
            TokenKind::Punct
        };
        out.push(Token {
            kind,
            span: Span::new(start, i),
        });
    }
    out
}

/// The end of the number-like literal starting at `i` (an ASCII digit).
fn number_end(src: &str, i: usize) -> usize {
    let b = src.as_bytes();
    if let Some(end) = date_time_end(b, i) {
        return end;
    }
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    // `21:00`, `9:30`
    let lead = digits(i);
    if (1..=2).contains(&lead) && b.get(i + lead) == Some(&b':') && digits(i + lead + 1) == 2 {
        return i + lead + 3;
    }
    let mut j = i;
    loop {
        j += src.get(j..).map_or(0, lex::word_len);
        // A decimal point only when a digit follows (`1.5`, not `1..5`).
        if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
            j += 1;
            continue;
        }
        break;
    }
    if b.get(j) == Some(&b'%') {
        j += 1;
    }
    j
}

/// `2026-12-04 12:00` (blank space between date and time as the grammar allows).
fn date_time_end(b: &[u8], i: usize) -> Option<usize> {
    let digit_at = |k: usize| b.get(k).is_some_and(u8::is_ascii_digit);
    let shape = (0..4).all(|k| digit_at(i + k))
        && b.get(i + 4) == Some(&b'-')
        && digit_at(i + 5)
        && digit_at(i + 6)
        && b.get(i + 7) == Some(&b'-')
        && digit_at(i + 8)
        && digit_at(i + 9);
    if !shape {
        return None;
    }
    let mut j = i + 10;
    let blanks = b[j..].iter().take_while(|c| **c == b' ' || **c == b'\t').count();
    if blanks == 0 {
        return None;
    }
    j += blanks;
    let hour = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=2).contains(&hour) || b.get(j + hour) != Some(&b':') {
        return None;
    }
    j += hour + 1;
    let minute = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
    (minute == 2).then_some(j + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(TokenKind, &str)> {
        tokenize(src).into_iter().map(|t| (t.kind, t.text(src))).collect()
    }

    #[test]
    fn numbers_stay_whole() {
        let src = "10_000 1.5 24h 50% 1st 21:00..08:00 2026-12-04  12:00 rfm(x).m";
        let texts: Vec<&str> = kinds(src).into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            texts,
            [
                "10_000",
                "1.5",
                "24h",
                "50%",
                "1st",
                "21:00",
                "..",
                "08:00",
                "2026-12-04  12:00",
                "rfm",
                "(",
                "x",
                ")",
                ".",
                "m"
            ]
        );
    }

    #[test]
    fn strings_comments_and_punct() {
        let src = "a == \"x #{y ?? \"z\"}\" // c\n-> ??";
        let k = kinds(src);
        assert_eq!(k[1], (TokenKind::Punct, "=="));
        assert_eq!(k[2], (TokenKind::String { closed: true }, "\"x #{y ?? \"z\"}\""));
        assert_eq!(k[3], (TokenKind::Comment, "// c"));
        assert_eq!(k[4], (TokenKind::Punct, "->"));
        assert_eq!(kinds("\"open")[0], (TokenKind::String { closed: false }, "\"open"));
        assert_eq!(kinds("고객명.😀")[2], (TokenKind::Punct, "😀"));
    }
}
