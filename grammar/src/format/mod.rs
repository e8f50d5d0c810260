//! The canonical layout of a `.camp` file, shared by `camp fmt` and the
//! language server.
//!
//! The formatter works on tokens, not on the tree, so that every comment
//! stays where the author put it. It keeps the author's line breaks
//! (collapsing runs of blank lines to one) and decides only two things:
//! the indentation of each line (`layout`) and the spacing between tokens
//! on a line (`spacing`). Strings are kept byte for byte, except that the
//! continuation lines of a multi-line string move with the line it starts
//! on, by an amount the dedent rule provably ignores (`reindent`).
//!
//! It refuses files with syntax errors, and it checks its own output: the
//! result must parse to the same tree (spans aside, `meaning`), or the
//! original is returned untouched with an error.

mod layout;
mod meaning;
mod reindent;
mod spacing;

pub use meaning::{same_meaning, shape};

use crate::tokens::{tokenize, Token, TokenKind};
use crate::{parse, SyntaxError};

/// Why a file was not formatted.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatError {
    /// The file does not parse; formatting it could change what it means.
    Syntax(Vec<SyntaxError>),
    /// The formatter's output would not mean the same (a formatter bug).
    Unstable(String),
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::Syntax(errors) => {
                let n = errors.len();
                write!(
                    f,
                    "the file has {n} syntax error{}; fix {} first",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "it" } else { "them" }
                )
            }
            FormatError::Unstable(why) => write!(f, "internal formatter error: {why}; the file was left as it is"),
        }
    }
}

impl std::error::Error for FormatError {}

/// The canonical form of `src`, or why there is none.
pub fn format(src: &str) -> Result<String, FormatError> {
    let before = parse(src);
    if !before.errors.is_empty() {
        return Err(FormatError::Syntax(before.errors));
    }
    let item_starts: Vec<usize> = before.file.items.iter().map(|i| i.span().start).collect();
    let tokens = tokenize(src);
    let mut out = String::with_capacity(src.len() + src.len() / 8);
    if src.starts_with('\u{FEFF}') {
        out.push('\u{FEFF}');
    }
    let lines = layout::lines(src, &tokens, &item_starts);
    render(src, &tokens, &lines, &mut out);
    let after = parse(&out);
    if !after.errors.is_empty() {
        return Err(FormatError::Unstable("the formatted text does not parse".to_string()));
    }
    if !same_meaning(&before.file, &after.file) {
        return Err(FormatError::Unstable("the formatted text would mean something else".to_string()));
    }
    Ok(out)
}

/// Writes the lines: indentation, then tokens with canonical spacing.
fn render(src: &str, tokens: &[Token], lines: &[layout::Line], out: &mut String) {
    for (n, line) in lines.iter().enumerate() {
        if n > 0 {
            out.push('\n');
            if line.blank_before {
                out.push('\n');
            }
        }
        for _ in 0..line.indent {
            out.push(' ');
        }
        let shift = line.indent as isize - line.old_indent as isize;
        for i in line.first..line.end {
            let Some(tok) = tokens.get(i) else { break };
            if i > line.first && spacing::space_before(src, tokens, i) {
                out.push(' ');
            }
            let text = tok.text(src);
            match tok.kind {
                TokenKind::Comment => out.push_str(text.trim_end()),
                TokenKind::String { .. } => reindent::string(text, shift, out),
                _ => out.push_str(text),
            }
        }
    }
    if !lines.is_empty() {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(src: &str) -> String {
        format(src).unwrap_or_else(|e| panic!("{e}: {src}"))
    }

    #[test]
    fn indents_blocks_and_continuations() {
        let src = "segment a =\n  did x within 7d\n        and not did y\ncampaign c {\n kind ad\n    channel sms fallback lms after 2h\n  send m\n}\n";
        assert_eq!(
            fmt(src),
            "segment a =\n    did x within 7d\n    and not did y\ncampaign c {\n  kind ad\n  channel sms fallback lms after 2h\n  send m\n}\n"
        );
    }

    #[test]
    fn spacing_is_canonical() {
        let src = "segment a = customer.tier in(gold,vip)and count( purchase )>=3 or -x<- 1 or - -y > 0\n";
        assert_eq!(
            fmt(src),
            "segment a = customer.tier in (gold, vip) and count(purchase) >= 3 or -x < -1 or - -y > 0\n"
        );
        let src = "schema {\n customer from \"c\" key id { id : id , name:text( max 20 )? as 이름 }\n}\n";
        assert_eq!(
            fmt(src),
            "schema {\n  customer from \"c\" key id { id: id, name: text(max 20)? as 이름 }\n}\n"
        );
    }

    #[test]
    fn keeps_comments_and_one_blank_line() {
        let src = "// head\n\n\n\n/// doc\nsegment a = x // trailing  \n\n\ncampaign c {\n\n  // inside\n  send m\n\n  // last\n\n}\n";
        assert_eq!(
            fmt(src),
            "// head\n\n/// doc\nsegment a = x // trailing\n\ncampaign c {\n  // inside\n  send m\n\n  // last\n}\n"
        );
    }

    #[test]
    fn moves_multi_line_strings_with_their_line() {
        let src = "message m {\n\"(광고) a\n    b\n  c\"\n}\n";
        let out = fmt(src);
        assert_eq!(out, "message m {\n  \"(광고) a\n      b\n    c\"\n}\n");
        let src = "message m {\n        \"a\n        b\"\n}\n";
        assert_eq!(fmt(src), "message m {\n  \"a\n  b\"\n}\n");
    }

    #[test]
    fn refuses_syntax_errors() {
        assert!(matches!(format("segment = x"), Err(FormatError::Syntax(_))));
    }

    #[test]
    fn is_idempotent_on_steps() {
        let src = "campaign c {\n  if a {\n  send m\n  }\n  else {\n  exit }\n  variant a 50% { send m }\n}\n";
        let once = fmt(src);
        assert_eq!(
            once,
            "campaign c {\n  if a {\n    send m\n  }\n  else {\n    exit }\n  variant a 50% { send m }\n}\n"
        );
        assert_eq!(fmt(&once), once);
    }
}
