//! "Means the same": equal syntax trees once byte spans are set aside.
//! Spans move whenever blank space does; everything else in the tree
//! (names, values, string values after dedent, doc comments) is meaning.

use crate::ast::File;

/// The tree as text with every span removed: two files mean the same
/// exactly when their shapes are equal.
pub fn shape(file: &File) -> String {
    strip_spans(&format!("{file:?}"))
}

/// Whether two parsed files mean the same.
pub fn same_meaning(a: &File, b: &File) -> bool {
    a.items.len() == b.items.len() && shape(a) == shape(b)
}

/// Removes `Span { start: N, end: M }` from a `Debug` rendering, outside
/// the string literals of the rendering (where `Debug` escapes `"` and `\\`,
/// so a string's end is always seen).
fn strip_spans(debug: &str) -> String {
    const OPEN: &str = "Span { start: ";
    let mut out = String::with_capacity(debug.len());
    let mut in_string = false;
    let mut i = 0;
    let b = debug.as_bytes();
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => {
                    out.push_str(debug.get(i..i + 2).unwrap_or(""));
                    i += 2;
                    continue;
                }
                b'"' => in_string = false,
                _ => {}
            }
        } else if c == b'"' {
            in_string = true;
        } else if debug[i..].starts_with(OPEN) {
            if let Some(close) = debug[i..].find(" }") {
                out.push_str("Span");
                i += close + 2;
                continue;
            }
        }
        // Copy one whole char.
        let len = debug[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&debug[i..i + len]);
        i += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn blank_space_is_not_meaning() {
        let a = parse("segment a = x and y\n").file;
        let b = parse("segment   a =\n    x\n    and y\n").file;
        let c = parse("segment a = x or y\n").file;
        assert!(same_meaning(&a, &b));
        assert!(!same_meaning(&a, &c));
        let s = parse("message m { \"Span { start: 1, end: 2 }\" }").file;
        assert!(shape(&s).contains("text: \"Span { start: 1, end: 2 }\""), "{}", shape(&s));
        assert!(!shape(&s).contains("Span { start: 13"));
    }
}
