//! Whether one space separates two tokens on a line. Blank space between
//! tokens never changes meaning in camp except inside the atomic forms
//! (`customer.tier`, `purchase.amount`), which get none here; so these
//! rules only decide how the file looks.

use crate::tokens::{Token, TokenKind};

/// Words written against their `(`: `count(purchase)`, `enum(a, b)`.
const CALLS: &[&str] = &[
    "enum",
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "rfm",
    "lifecycle",
    "interval",
    "recent",
    "also_bought",
    "popular",
];

/// Words after which a `-` is a sign, not a subtraction.
const OPERATOR_WORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "contains", "where", "when", "unless", "since", "audience", "if", "within", "before", "exactly",
    "least", "most", "per",
];

/// Whether a space goes between token `i - 1` and token `i`.
pub(super) fn space_before(src: &str, tokens: &[Token], i: usize) -> bool {
    let (Some(prev), Some(cur)) = (i.checked_sub(1).and_then(|p| tokens.get(p)), tokens.get(i)) else {
        return false;
    };
    let (p, c) = (prev.text(src), cur.text(src));
    if cur.kind == TokenKind::Comment {
        return true;
    }
    if prev.kind == TokenKind::Punct {
        match p {
            "(" | "." | ".." => return false,
            // `- -3`, not `--3`.
            "-" if c == "-" => return true,
            "-" if is_sign(src, tokens, i - 1) => return false,
            _ => {}
        }
    }
    if cur.kind != TokenKind::Punct {
        return true;
    }
    match c {
        ")" | "," | "." | ".." | "?" | ":" => false,
        "(" => {
            let max = tokens.get(i + 1).is_some_and(|n| n.text(src) == "max");
            let call = prev.kind == TokenKind::Word && (CALLS.contains(&p) || max);
            !call
        }
        "}" => p != "{",
        _ => true,
    }
}

/// Whether the `-` at token `j` is a sign: no value ends right before it.
fn is_sign(src: &str, tokens: &[Token], j: usize) -> bool {
    let before = tokens[..j].iter().rev().find(|t| t.kind != TokenKind::Comment);
    match before {
        None => true,
        Some(t) => match t.kind {
            TokenKind::Number | TokenKind::String { .. } => false,
            TokenKind::Word => OPERATOR_WORDS.contains(&t.text(src)),
            TokenKind::Punct => t.text(src) != ")",
            TokenKind::Comment => true,
        },
    }
}
