//! Where the cursor is, read from tokens: the text is usually half-typed
//! and does not parse, so completion cannot rely on the tree.

use camp_grammar::tokens::{tokenize, Token, TokenKind};
use camp_grammar::Span;

/// The kind of `{ .. }` block the cursor is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    Top,
    Schema,
    Policy,
    Campaign,
    Message,
    Fields,
    Steps,
    Other,
}

/// What is around the cursor.
#[derive(Debug, Clone)]
pub enum Context {
    /// In a comment, or in a string outside any placeholder.
    Nothing,
    /// Inside `#{..}` in a string: `chain` is the path before the word
    /// being typed (`customer.` -> `["customer"]`), `filter` when after `|`.
    Placeholder { chain: Vec<String>, filter: bool },
    /// Code: the words and punctuation before the word being typed.
    Code {
        /// The significant tokens before the cursor, nearest last.
        before: Vec<String>,
        /// `a.b.` right before the cursor: `["a", "b"]`.
        chain: Option<Vec<String>>,
        /// Whether the word being typed starts its line.
        line_start: bool,
        block: Block,
    },
}

/// The cursor's context and the span of the word being typed (what a
/// completion replaces).
pub fn at(text: &str, offset: usize) -> (Context, Span) {
    let offset = clamp(text, offset);
    let tokens = tokenize(text);
    let n = tokens.partition_point(|t| t.span.start < offset);
    let mut word = Span::new(offset, offset);
    let mut upto = n;
    if let Some(cur) = n.checked_sub(1).and_then(|i| tokens.get(i)) {
        let inside = offset < cur.span.end;
        match cur.kind {
            TokenKind::Comment if offset <= cur.span.end => return (Context::Nothing, word),
            TokenKind::String { closed } if inside || (!closed && offset == cur.span.end) => {
                return placeholder(text, cur, offset);
            }
            TokenKind::Word | TokenKind::Number if offset <= cur.span.end => {
                word = Span::new(cur.span.start, offset);
                upto = n - 1;
            }
            _ => {}
        }
    }
    let before_tokens: Vec<&Token> = tokens[..upto].iter().filter(|t| t.kind != TokenKind::Comment).collect();
    let line_start = text[..word.start].rfind('\n').map_or(0, |i| i + 1);
    let line_start = text[line_start..word.start].trim().is_empty();
    let before: Vec<String> = before_tokens.iter().rev().take(8).rev().map(|t| t.text(text).to_string()).collect();
    let chain = chain_before(text, &before_tokens, word.start);
    let block = block_of(text, &tokens[..upto]);
    (
        Context::Code {
            before,
            chain,
            line_start,
            block,
        },
        word,
    )
}

fn clamp(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// `customer.product.` ending right at `at`: the words, in order.
fn chain_before(text: &str, before: &[&Token], at: usize) -> Option<Vec<String>> {
    let mut i = before.len().checked_sub(1)?;
    let dot = before[i];
    if dot.text(text) != "." || dot.span.end != at {
        return None;
    }
    let mut words = Vec::new();
    let mut end = dot.span.start;
    loop {
        let w = before.get(i.checked_sub(1)?)?;
        if w.span.end != end {
            break;
        }
        match w.kind {
            TokenKind::Word => words.push(w.text(text).to_string()),
            TokenKind::Punct if w.text(text) == ")" => words.push(")".to_string()),
            _ => break,
        }
        i -= 1;
        let Some(prev_dot) = i.checked_sub(1).and_then(|k| before.get(k)) else {
            break;
        };
        if prev_dot.text(text) != "." || prev_dot.span.end != w.span.start || words.last().is_some_and(|l| l == ")") {
            break;
        }
        end = prev_dot.span.start;
        i -= 1;
    }
    words.reverse();
    Some(words)
}

/// The block the tokens leave the cursor in.
fn block_of(text: &str, tokens: &[Token]) -> Block {
    let mut stack = Vec::new();
    for t in tokens {
        match (t.kind, t.text(text)) {
            (TokenKind::Punct, "{") => {
                let line_start = text[..t.span.start].rfind('\n').map_or(0, |i| i + 1);
                let first = tokenize(&text[line_start..t.span.start])
                    .into_iter()
                    .find(|w| w.kind == TokenKind::Word)
                    .map(|w| w.text(&text[line_start..t.span.start]).to_string());
                stack.push(match first.as_deref() {
                    Some("schema") => Block::Schema,
                    Some("policy") => Block::Policy,
                    Some("campaign") => Block::Campaign,
                    Some("message") => Block::Message,
                    Some("customer" | "table" | "event") => Block::Fields,
                    Some("variant" | "if" | "else") => Block::Steps,
                    _ => Block::Other,
                });
            }
            (TokenKind::Punct, "}") => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.last().copied().unwrap_or(Block::Top)
}

fn placeholder(text: &str, string: &Token, offset: usize) -> (Context, Span) {
    let raw = text.get(string.span.start + 1..offset).unwrap_or("");
    let nothing = (Context::Nothing, Span::new(offset, offset));
    let Some(open) = raw.rfind("#{") else { return nothing };
    let inner = &raw[open + 2..];
    if inner.contains('}') || inner.contains('\n') || inner.matches('"').count() % 2 == 1 {
        return nothing;
    }
    let word_len = inner.chars().rev().take_while(|c| is_word(*c)).map(char::len_utf8).sum::<usize>();
    let word = Span::new(offset - word_len, offset);
    let head = &inner[..inner.len() - word_len];
    if head.contains("??") {
        return nothing;
    }
    if let Some(bar) = head.rfind('|') {
        if head[bar + 1..].trim().is_empty() {
            return (
                Context::Placeholder {
                    chain: Vec::new(),
                    filter: true,
                },
                word,
            );
        }
        return nothing;
    }
    let head = head.trim_start();
    let chain: Vec<String> = match head.strip_suffix('.') {
        Some(path) => path.split('.').map(str::to_string).collect(),
        None if head.is_empty() => Vec::new(),
        None => return nothing,
    };
    (Context::Placeholder { chain, filter: false }, word)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> (Vec<String>, Option<Vec<String>>, bool, Block, Span) {
        let at = text.find('|').unwrap_or(text.len());
        let text = text.replacen('|', "", 1);
        match super::at(&text, at) {
            (
                Context::Code {
                    before,
                    chain,
                    line_start,
                    block,
                },
                span,
            ) => (before, chain, line_start, block, span),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn paths_words_and_blocks() {
        let (_, chain, _, block, span) = code("segment a = customer.ti| and x");
        assert_eq!(chain, Some(vec!["customer".to_string()]));
        assert_eq!(block, Block::Top);
        assert_eq!(span, Span::new(21, 23));
        let (before, chain, line_start, block, _) = code("campaign c {\n  kind ad\n  |\n}");
        assert_eq!((chain, line_start, block), (None, true, Block::Campaign));
        assert_eq!(before.last().map(String::as_str), Some("ad"));
        let (before, ..) = code("segment a = did |");
        assert_eq!(before.last().map(String::as_str), Some("did"));
        let (_, chain, ..) = code("segment a = customer.product.가|");
        assert_eq!(chain, Some(vec!["customer".to_string(), "product".to_string()]));
    }

    #[test]
    fn strings_and_placeholders() {
        let text = "message m { \"안녕 #{customer.na";
        match super::at(text, text.len()) {
            (Context::Placeholder { chain, filter }, span) => {
                assert_eq!(chain, vec!["customer".to_string()]);
                assert!(!filter);
                assert_eq!(span, Span::new(text.len() - 2, text.len()));
            }
            other => panic!("{other:?}"),
        }
        let text = "message m { \"#{trigger.price | w\" }";
        let at = text.find("w\"").unwrap_or(0) + 1;
        assert!(matches!(super::at(text, at).0, Context::Placeholder { filter: true, .. }));
        let text = "message m { \"plain text\" }";
        assert!(matches!(super::at(text, 16).0, Context::Nothing));
        assert!(matches!(super::at("// customer.", 12).0, Context::Nothing));
    }
}
