//! Byte-level scanning that runs before pest: where strings and comments
//! start and end. It mirrors the `string`, `placeholder_raw` and
//! `inner_string` rules of camp.pest exactly, so the chunker and the nesting
//! scan agree with pest about what is code and what is text.
//!
//! Every delimiter is ASCII, so scanning bytes is safe: a UTF-8 continuation
//! byte never equals a delimiter, and every position returned is just after
//! an ASCII byte (or the end), hence on a char boundary.

/// Where a string that opens at a `"` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StringEnd {
    /// Just after the closing quote.
    Closed(usize),
    /// The string never closes; scanning stopped here (the end of the text,
    /// or the start of a line that looks like a new top-level item).
    Open(usize),
}

/// Scans the string whose opening quote is at `open`. With `stop_at_item`,
/// a line inside the string that looks like the header of a top-level item
/// (`segment x =`, `message x {`, ...) ends the scan: far more likely a
/// missing quote than text, and stopping there keeps the next item parseable.
pub(crate) fn scan_string(src: &str, open: usize, stop_at_item: bool) -> StringEnd {
    let b = src.as_bytes();
    let mut i = open + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => return StringEnd::Closed(i + 1),
            // `\` takes the next char whatever it is; the builder reports
            // unknown escapes. Skipping one byte of a multi-byte char is fine.
            b'\\' => i += 2,
            b'#' if b.get(i + 1) == Some(&b'{') => i = placeholder_end(b, i).unwrap_or(i + 1),
            b'\n' => {
                i += 1;
                if stop_at_item && item_header_at(src, i) {
                    return StringEnd::Open(i);
                }
            }
            _ => i += 1,
        }
    }
    StringEnd::Open(b.len())
}

/// The end (after `}`) of the placeholder starting with `#{` at `at`, or
/// `None` when it does not close on its line: then the `#` is plain text.
pub(crate) fn placeholder_end(b: &[u8], at: usize) -> Option<usize> {
    let mut j = at + 2;
    loop {
        match *b.get(j)? {
            b'}' => return Some(j + 1),
            b'\n' => return None,
            b'#' if b.get(j + 1) == Some(&b'{') => return None,
            b'"' => j = inner_string_end(b, j)?,
            _ => j += 1,
        }
    }
}

/// The end (after the closing quote) of a string inside a placeholder,
/// which must close on its own line.
fn inner_string_end(b: &[u8], open: usize) -> Option<usize> {
    let mut j = open + 1;
    loop {
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            b'\n' => return None,
            b'\\' => match *b.get(j + 1)? {
                b'\n' => return None,
                _ => j += 2,
            },
            _ => j += 1,
        }
    }
}

/// The position of the next `\n` at or after `from`, or the end.
pub(crate) fn line_end(b: &[u8], from: usize) -> usize {
    b.get(from..)
        .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
        .map_or(b.len(), |n| from + n)
}

pub(crate) const ITEM_KEYWORDS: [&str; 6] = ["schema", "policy", "segment", "message", "campaign", "alimtalk"];

/// Does the line starting at `at` look like an item header:
/// `schema {`, `policy {`, `segment NAME =`, `message NAME {`, `campaign NAME {`?
pub(crate) fn item_header_at(src: &str, at: usize) -> bool {
    let Some(rest) = src.get(at..) else {
        return false;
    };
    let blanks: &[char] = &[' ', '\t'];
    for kw in ITEM_KEYWORDS {
        let Some(after) = rest.strip_prefix(kw) else {
            continue;
        };
        let trimmed = after.trim_start_matches(blanks);
        if kw == "schema" || kw == "policy" {
            return trimmed.starts_with('{');
        }
        if kw == "alimtalk" {
            // `alimtalk template "CODE" {`
            return trimmed.len() < after.len()
                && trimmed
                    .strip_prefix("template")
                    .is_some_and(|t| t.trim_start_matches(blanks).starts_with('"'));
        }
        if trimmed.len() == after.len() {
            return false; // `segments`, not `segment x`
        }
        let name_len = word_len(trimmed);
        if name_len == 0 {
            return false;
        }
        let tail = trimmed[name_len..].trim_start_matches(blanks);
        return tail.starts_with('=') || tail.starts_with('{');
    }
    false
}

/// The byte length of the identifier-like word at the start of `s`.
pub(crate) fn word_len(s: &str) -> usize {
    s.char_indices().find(|&(_, c)| !is_word_char(c)).map_or(s.len(), |(i, _)| i)
}

/// A char that may continue an identifier (Unicode XID_Continue).
pub(crate) fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        pest::unicode::XID_CONTINUE(c)
    }
}

/// A char that may start an identifier (XID_Start or `_`).
pub(crate) fn is_word_start(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic() || c == '_'
    } else {
        pest::unicode::XID_START(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_close_and_skip_escapes_and_placeholders() {
        let s = r#""a \" b" tail"#;
        assert_eq!(scan_string(s, 0, false), StringEnd::Closed(8));
        let s = r#""hi #{x ?? "고객"} there" tail"#;
        assert_eq!(scan_string(s, 0, false), StringEnd::Closed(s.len() - 5));
        // An unclosed placeholder is text: its quote closes the string.
        let s = r#""hi #{x "tail"#;
        assert_eq!(scan_string(s, 0, false), StringEnd::Closed(9));
    }

    #[test]
    fn unterminated_strings_stop_at_item_headers() {
        let s = "\"abc\nsegment x = y\n";
        assert_eq!(scan_string(s, 0, true), StringEnd::Open(5));
        assert_eq!(scan_string(s, 0, false), StringEnd::Open(s.len()));
        let s = "\"abc\nsegments are nice\"";
        assert_eq!(scan_string(s, 0, true), StringEnd::Closed(s.len()));
    }

    #[test]
    fn headers() {
        assert!(item_header_at("schema {", 0));
        assert!(item_header_at("policy{", 0));
        assert!(item_header_at("segment 고객 = x", 0));
        assert!(item_header_at("campaign c {", 0));
        assert!(!item_header_at("message me later", 0));
        assert!(!item_header_at("messages {", 0));
        assert!(!item_header_at("x", 5));
    }
}
