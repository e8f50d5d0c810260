//! Moving a multi-line string with the line it starts on.
//!
//! The dedent rule (`strings::dedent`) removes the smallest indentation of
//! the non-blank continuation lines. Adding `n` spaces to every non-blank
//! continuation line, and to every blank one at least that indented, leaves
//! the value as it was; so does removing up to that smallest indentation
//! (from blank lines, as much of it as they have). The first line is never
//! touched, and a blank last line (the closing quote on its own line) is
//! dropped by the rule, so it simply moves with the others.

/// Appends the string literal `text` (quotes included), its continuation
/// lines moved right by `shift` columns (left when negative, as far as the
/// rule allows).
pub(super) fn string(text: &str, shift: isize, out: &mut String) {
    let raw = match text.len() {
        n if n >= 2 && text.ends_with('"') => &text[1..n - 1],
        _ => "",
    };
    if shift == 0 || !raw.contains('\n') {
        out.push_str(text);
        return;
    }
    let lines: Vec<&str> = raw.split('\n').collect();
    let last = lines.len() - 1;
    let content = |l: &str| l.strip_suffix('\r').unwrap_or(l).to_string();
    let is_blank = |l: &str| content(l).bytes().all(|c| c == b' ' || c == b'\t');
    let indent = |l: &str| l.bytes().take_while(|&c| c == b' ' || c == b'\t').count();
    let common = lines[1..].iter().filter(|l| !is_blank(l)).map(|l| indent(l)).min();
    let Some(common) = common else {
        // No text after the first line: nothing to align with.
        out.push_str(text);
        return;
    };
    out.push('"');
    out.push_str(lines[0]);
    for (k, line) in lines.iter().enumerate().skip(1) {
        out.push('\n');
        let blank = is_blank(line);
        let closing = k == last && blank;
        if shift > 0 {
            if !blank || closing || indent(line) >= common {
                for _ in 0..shift {
                    out.push(' ');
                }
            }
            out.push_str(line);
        } else {
            let limit = if closing { indent(line) } else { common };
            let cut = shift.unsigned_abs().min(limit).min(indent(line));
            out.push_str(&line[cut..]);
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(text: &str, shift: isize) -> String {
        let mut out = String::new();
        string(text, shift, &mut out);
        out
    }

    #[test]
    fn moves_right_and_left() {
        assert_eq!(moved("\"a\n  b\n\n    c\n  \"", 2), "\"a\n    b\n\n      c\n    \"");
        assert_eq!(moved("\"a\n  b\n    c\"", -4), "\"a\nb\n  c\"");
        // Blank lines keep what the rule would keep of them.
        assert_eq!(moved("\"a\n    b\n      \n    c\"", -2), "\"a\n  b\n    \n  c\"");
        assert_eq!(moved("\"a\n\"", 3), "\"a\n\"");
        assert_eq!(moved("\"one line\"", 5), "\"one line\"");
    }
}
