//! Lines and their indentation. Line breaks are the author's; indentation
//! is two spaces per `{ .. }` level, plus four on a line that continues a
//! statement (`and not did ..`, `fallback lms ..`), plus two per open `(`.
//!
//! At the top level the tree says where items start, so a continuation line
//! is never put in column 0, where the parser would read it as a new item.

use crate::tokens::{Token, TokenKind};

/// One output line: tokens `first..end`, and how to indent it.
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub first: usize,
    pub end: usize,
    pub indent: usize,
    /// The indentation it had, in chars (for moving multi-line strings).
    pub old_indent: usize,
    pub blank_before: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Schema,
    Policy,
    Campaign,
    Message,
    Fields,
    Steps,
    Other,
}

const CAMPAIGN_ENTRIES: &[&str] = &[
    "kind", "channel", "trigger", "audience", "exit", "wait", "send", "if", "else", "quiet", "window", "cap", "priority", "variant",
    "holdout", "goal", "reentry",
];
const STEP_ENTRIES: &[&str] = &["wait", "send", "if", "else", "exit"];
const MESSAGE_ENTRIES: &[&str] = &["subject", "title", "image", "template", "button", "format", "item", "card", "list"];
const POLICY_ENTRIES: &[&str] = &["timezone", "sender", "optout", "quiet", "cap", "lifecycle"];
const SCHEMA_ENTRIES: &[&str] = &["customer", "table", "events", "event"];

/// Tokens that cannot end a statement: the next line continues it.
const OPEN_ENDS: &[&str] = &[
    "=", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", ",", "(", "->", "..", ".", ":", "and", "or", "not", "where", "when",
    "unless", "in", "is", "contains", "within", "since", "before", "per", "for", "fallback", "after", "via", "on", "every", "of", "did",
    "send", "wait", "goal", "audience", "channel", "least", "most", "exactly", "last", "first", "from", "key", "as", "expires", "reentry",
];

struct State<'s> {
    stack: Vec<Block>,
    paren: usize,
    /// The last token that is not a comment.
    prev_code: Option<&'s str>,
    /// The first word of the statement being read, which names the block
    /// a `{` opens.
    stmt_word: Option<&'s str>,
    expect_stmt: bool,
}

/// Splits the tokens into lines and indents each.
pub(super) fn lines(src: &str, tokens: &[Token], item_starts: &[usize]) -> Vec<Line> {
    let mut lines = split(src, tokens);
    let mut st = State {
        stack: Vec::new(),
        paren: 0,
        prev_code: None,
        stmt_word: None,
        expect_stmt: true,
    };
    // The indentation a comment line takes from the code line below it.
    let mut inner: Vec<Option<usize>> = vec![None; lines.len()];
    for (n, line) in lines.iter_mut().enumerate() {
        let Some(first) = tokens.get(line.first) else { continue };
        if first.kind == TokenKind::Comment {
            continue;
        }
        let ft = first.text(src);
        let cont = continues(src, tokens, line, &st, item_starts);
        let depth = st.stack.len();
        let (indent, inside) = match ft {
            "}" => (2 * depth.saturating_sub(1), 2 * depth),
            ")" => {
                let base = 2 * depth + 4;
                (base + 2 * st.paren.saturating_sub(1), base + 2 * st.paren)
            }
            _ => {
                let i = 2 * depth + 2 * st.paren + if cont { 4 } else { 0 };
                (i, i)
            }
        };
        line.indent = indent;
        inner[n] = Some(inside);
        if !cont {
            st.expect_stmt = true;
        }
        advance(src, tokens, line, &mut st);
    }
    // Comment lines: indented like the code below them.
    let mut next: Option<usize> = None;
    for n in (0..lines.len()).rev() {
        match inner[n] {
            Some(i) => next = Some(i),
            None => {
                let line = &mut lines[n];
                line.indent = next.unwrap_or(0);
                let text = tokens.get(line.first).map_or("", |t| t.text(src));
                let doc = text.starts_with("///") && !text.starts_with("////");
                // An indented `///` line at the top level is not a doc
                // comment; in column 0 it would become one.
                if doc && line.indent == 0 && line.old_indent > 0 {
                    line.indent = 4;
                }
            }
        }
    }
    lines
}

/// Groups tokens into source lines.
fn split(src: &str, tokens: &[Token]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut prev_end = 0;
    for (i, tok) in tokens.iter().enumerate() {
        let gap = src.get(prev_end..tok.span.start).unwrap_or("");
        let breaks = gap.matches('\n').count();
        if i == 0 || breaks > 0 {
            if let Some(last) = lines.last_mut() {
                last.end = i;
            }
            let line_start = src[..tok.span.start].rfind('\n').map_or(0, |p| p + 1);
            let old_indent = src
                .get(line_start..tok.span.start)
                .map_or(0, |s| s.trim_start_matches('\u{FEFF}').chars().count());
            let prev_text = i.checked_sub(1).and_then(|p| tokens.get(p)).map(|t| t.text(src));
            let blank_before = i > 0 && breaks >= 2 && prev_text != Some("{") && tok.text(src) != "}";
            lines.push(Line {
                first: i,
                end: i + 1,
                indent: 0,
                old_indent,
                blank_before,
            });
        }
        prev_end = tok.span.end;
    }
    if let Some(last) = lines.last_mut() {
        last.end = tokens.len();
    }
    lines
}

/// Whether `line` continues the statement of the line before.
fn continues(src: &str, tokens: &[Token], line: &Line, st: &State, item_starts: &[usize]) -> bool {
    let Some(first) = tokens.get(line.first) else {
        return false;
    };
    let ft = first.text(src);
    if ft == "}" {
        return false;
    }
    if st.paren > 0 {
        return true;
    }
    let Some(block) = st.stack.last() else {
        return item_starts.binary_search(&first.span.start).is_err();
    };
    match st.prev_code {
        Some("{" | "}") => return false,
        Some(p) if OPEN_ENDS.contains(&p) => return true,
        _ => {}
    }
    let starts = match block {
        Block::Campaign => CAMPAIGN_ENTRIES.contains(&ft),
        Block::Steps => STEP_ENTRIES.contains(&ft),
        Block::Message => matches!(first.kind, TokenKind::String { .. }) || MESSAGE_ENTRIES.contains(&ft),
        Block::Policy => POLICY_ENTRIES.contains(&ft),
        Block::Schema => SCHEMA_ENTRIES.contains(&ft),
        Block::Fields => {
            let second = tokens[line.first + 1..line.end].iter().find(|t| t.kind != TokenKind::Comment);
            // `name: type`, or `contact FIELD for channel C` (customer block).
            first.kind == TokenKind::Word && second.is_some_and(|t| t.text(src) == ":" || (ft == "contact" && t.kind == TokenKind::Word))
        }
        Block::Other => true,
    };
    !starts
}

/// Follows the brackets of one line.
fn advance<'s>(src: &'s str, tokens: &[Token], line: &Line, st: &mut State<'s>) {
    for tok in &tokens[line.first..line.end] {
        let text = tok.text(src);
        match tok.kind {
            TokenKind::Comment => continue,
            TokenKind::Word if st.expect_stmt => {
                st.stmt_word = Some(text);
                st.expect_stmt = false;
            }
            TokenKind::Punct => match text {
                "{" => {
                    st.stack.push(block_of(st.stmt_word));
                    st.expect_stmt = true;
                }
                "}" => {
                    st.stack.pop();
                    st.expect_stmt = true;
                }
                "(" => st.paren += 1,
                ")" => st.paren = st.paren.saturating_sub(1),
                _ => {}
            },
            _ => {}
        }
        st.prev_code = Some(text);
    }
}

fn block_of(word: Option<&str>) -> Block {
    match word {
        Some("schema") => Block::Schema,
        Some("policy") => Block::Policy,
        Some("campaign") => Block::Campaign,
        Some("message" | "alimtalk" | "card") => Block::Message,
        Some("customer" | "table" | "event") => Block::Fields,
        Some("variant" | "if" | "else") => Block::Steps,
        _ => Block::Other,
    }
}
