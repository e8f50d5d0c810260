//! Message strings as templates: text and `#{path | filter("arg") ?? "default"}`
//! placeholders, with exact file spans.
//!
//! Placeholders never span lines (camp.pest lexes them that way too), so
//! each is parsed inside one dedented line piece. A malformed one is
//! reported as `BadPlaceholder` and kept as text, so the message still
//! exists for the checker.

use crate::ast::{FilterCall, ForLoop, Ident, Path, Placeholder, StringLit, Template, TemplateSegment};
use crate::lex;
use crate::strings::{self, Piece};
use crate::{Span, SyntaxError, SyntaxErrorKind};

/// Parses the string literal whose raw text (between the quotes) is `raw`,
/// starting at file offset `base`; `span` is the whole literal.
pub(crate) fn parse(raw: &str, base: usize, span: Span, errors: &mut Vec<SyntaxError>) -> Template {
    let mut out = Segments {
        segments: Vec::new(),
        text: String::new(),
        text_span: None,
        open: Vec::new(),
    };
    for piece in strings::dedent(raw) {
        match piece {
            Piece::Break { start, end } => out.push_text('\n', base + start, base + end),
            Piece::Text { start, end } => {
                let line = Scanner {
                    raw,
                    base,
                    end,
                    errors: &mut *errors,
                };
                line.scan(start, &mut out);
            }
        }
    }
    out.flush();
    // A `#{for}` without its `#{end}`: reported, and closed at the end.
    while let Some((var, list, at, outer)) = out.open.pop() {
        errors.push(SyntaxError {
            kind: SyntaxErrorKind::BadPlaceholder,
            span: at,
            message: format!("`#{{for {} in {}}}` has no `#{{end}}`", var.name, list.name),
            label: "loop not closed".to_string(),
            help: Some("close the loop with `#{end}`".to_string()),
        });
        let body = std::mem::replace(&mut out.segments, outer);
        out.segments.push(TemplateSegment::For(ForLoop {
            var,
            list,
            body,
            span: Span::new(at.start, span.end.saturating_sub(1).max(at.end)),
        }));
    }
    Template {
        segments: out.segments,
        span,
    }
}

/// What a placeholder turned out to be.
enum Parsed {
    Value(Placeholder),
    /// `#{for VAR in LIST}`
    For(Ident, Ident, Span),
    /// `#{end}`
    End(Span),
}

/// An open `#{for}`: its variable, list, span, and the segments before it.
type OpenLoop = (Ident, Ident, Span, Vec<TemplateSegment>);

/// Segments under construction: consecutive text is merged into one.
struct Segments {
    segments: Vec<TemplateSegment>,
    text: String,
    text_span: Option<Span>,
    /// Loops opened and not yet closed, outermost first.
    open: Vec<OpenLoop>,
}

impl Segments {
    fn push_text(&mut self, c: char, start: usize, end: usize) {
        self.text.push(c);
        let here = Span::new(start, end);
        self.text_span = Some(self.text_span.map_or(here, |s| s.to(here)));
    }

    /// Text whose chars are all plain (no escapes): as [`Self::push_text`]
    /// for each of them.
    fn push_str(&mut self, text: &str, start: usize, end: usize) {
        self.text.push_str(text);
        let here = Span::new(start, end);
        self.text_span = Some(self.text_span.map_or(here, |s| s.to(here)));
    }

    fn flush(&mut self) {
        if let Some(span) = self.text_span.take() {
            let text = std::mem::take(&mut self.text);
            self.segments.push(TemplateSegment::Text { text, span });
        }
    }
}

/// Scans one line piece `raw[start..end]`.
struct Scanner<'a> {
    raw: &'a str,
    base: usize,
    end: usize,
    errors: &'a mut Vec<SyntaxError>,
}

impl Scanner<'_> {
    fn scan(self, start: usize, out: &mut Segments) {
        let Scanner { raw, base, end, errors } = self;
        let mut i = start;
        while let Some(rest) = raw.get(i..end) {
            // Plain text up to the next escape or `#`, in one piece.
            let run = rest.find(['\\', '#']).unwrap_or(rest.len());
            if run > 0 {
                out.push_str(&rest[..run], base + i, base + i + run);
                i += run;
                continue;
            }
            let Some(c) = rest.chars().next() else {
                break;
            };
            let len = c.len_utf8();
            if c == '\\' {
                let next = raw.get(i + 1..end).and_then(|s| s.chars().next());
                let width = 1 + next.map_or(0, char::len_utf8);
                match next.and_then(strings::escape) {
                    Some(e) => out.push_text(e, base + i, base + i + width),
                    None => {
                        errors.push(strings::bad_escape(base + i, next));
                        for ch in raw[i..i + width].chars() {
                            out.push_text(ch, base + i, base + i + width);
                        }
                    }
                }
                i += width;
                continue;
            }
            if c == '#' && raw.as_bytes().get(i + 1) == Some(&b'{') {
                let mut p = PlaceholderParser {
                    raw,
                    base,
                    end,
                    at: i,
                    pos: i + 2,
                };
                match p.parsed() {
                    Ok(Parsed::Value(ph)) => {
                        out.flush();
                        out.segments.push(TemplateSegment::Placeholder(ph));
                        i = p.pos;
                        continue;
                    }
                    Ok(Parsed::For(var, list, at)) => {
                        out.flush();
                        let outer = std::mem::take(&mut out.segments);
                        out.open.push((var, list, at, outer));
                        i = p.pos;
                        continue;
                    }
                    Ok(Parsed::End(at)) => {
                        out.flush();
                        match out.open.pop() {
                            Some((var, list, start, outer)) => {
                                let body = std::mem::replace(&mut out.segments, outer);
                                out.segments.push(TemplateSegment::For(ForLoop {
                                    var,
                                    list,
                                    body,
                                    span: start.to(at),
                                }));
                            }
                            None => errors.push(SyntaxError {
                                kind: SyntaxErrorKind::BadPlaceholder,
                                span: at,
                                message: "`#{end}` without a `#{for ..}`".to_string(),
                                label: "nothing to close".to_string(),
                                help: Some("remove it, or open a loop with `#{for p in LIST}`".to_string()),
                            }),
                        }
                        i = p.pos;
                        continue;
                    }
                    // Keep the text as written; the error says what is wrong.
                    Err(e) => errors.push(e),
                }
            }
            out.push_text(c, base + i, base + i + len);
            i += len;
        }
    }
}

/// A recursive-descent parser for one placeholder, from `#{` at `at`.
struct PlaceholderParser<'a> {
    raw: &'a str,
    base: usize,
    /// End of the line piece: a placeholder must close before it.
    end: usize,
    at: usize,
    pos: usize,
}

type Parse<T> = Result<T, SyntaxError>;

impl<'a> PlaceholderParser<'a> {
    /// `#{for VAR in LIST}`, `#{end}`, or a placeholder.
    fn parsed(&mut self) -> Parse<Parsed> {
        let start = self.pos;
        self.blanks();
        let rest = self.rest();
        let word = lex::word_len(rest);
        let head = &rest[..word];
        let after = rest[word..].trim_start_matches([' ', '\t']);
        if head == "end" && after.starts_with('}') {
            self.pos += rest.len() - after.len() + 1;
            return Ok(Parsed::End(Span::new(self.base + self.at, self.base + self.pos)));
        }
        if head == "for" && after.chars().next().is_some_and(lex::is_word_start) {
            self.pos += word;
            self.blanks();
            let var = self.ident("a loop variable like `p` after `for`")?;
            self.blanks();
            if lex::word_len(self.rest()) != 2 || !self.rest().starts_with("in") {
                return Err(self.expected("`in` after the loop variable"));
            }
            self.pos += 2;
            self.blanks();
            let list = self.ident("a list name after `in`")?;
            self.blanks();
            if self.peek() != Some('}') {
                return Err(self.expected("`}` after the list name"));
            }
            self.pos += 1;
            return Ok(Parsed::For(var, list, Span::new(self.base + self.at, self.base + self.pos)));
        }
        self.pos = start;
        self.placeholder().map(Parsed::Value)
    }

    fn placeholder(&mut self) -> Parse<Placeholder> {
        self.blanks();
        if self.peek() == Some('}') {
            return Err(self.error(
                Span::new(self.base + self.at, self.base + self.pos + 1),
                "empty placeholder `#{}`".to_string(),
                "write a name inside, like `#{고객명}`",
            ));
        }
        let path = self.path()?;
        self.blanks();
        let mut filters = Vec::new();
        while self.peek() == Some('|') {
            self.pos += 1;
            self.blanks();
            filters.push(self.filter()?);
            self.blanks();
        }
        let mut default = None;
        if self.rest().starts_with("??") {
            self.pos += 2;
            self.blanks();
            if self.peek() != Some('"') {
                return Err(self.expected_text("a default text like `\"고객\"` after `??`"));
            }
            default = Some(self.string()?);
            self.blanks();
        }
        if self.peek() != Some('}') {
            let what = match (filters.is_empty(), default.is_some()) {
                (_, true) => "`}` after the default",
                (true, false) => "`|`, `??` or `}`",
                (false, false) => "`|`, `??` or `}` after the filter",
            };
            return Err(self.expected(what));
        }
        self.pos += 1;
        Ok(Placeholder {
            path,
            filters,
            default,
            span: Span::new(self.base + self.at, self.base + self.pos),
        })
    }

    fn path(&mut self) -> Parse<Path> {
        let mut segments = vec![self.ident("a name like `고객명` or `customer.name`")?];
        while self.peek() == Some('.') {
            self.pos += 1;
            segments.push(self.ident("a name after `.`")?);
        }
        let span = match (segments.first(), segments.last()) {
            (Some(a), Some(b)) => a.span.to(b.span),
            _ => Span::new(self.base + self.pos, self.base + self.pos),
        };
        Ok(Path { segments, span })
    }

    fn filter(&mut self) -> Parse<FilterCall> {
        let name = self.ident("a filter name like `won` after `|`")?;
        let mut span = name.span;
        let mut args = Vec::new();
        if self.peek() == Some('(') {
            self.pos += 1;
            self.blanks();
            if self.peek() == Some(')') {
                self.pos += 1;
            } else {
                loop {
                    if self.peek() != Some('"') {
                        return Err(self.expected_text("a text argument like `\"M월 d일\"`"));
                    }
                    args.push(self.string()?);
                    self.blanks();
                    match self.peek() {
                        Some(',') => {
                            self.pos += 1;
                            self.blanks();
                        }
                        Some(')') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(self.expected("`,` or `)`")),
                    }
                }
            }
            span = Span::new(span.start, self.base + self.pos);
        }
        Ok(FilterCall { name, args, span })
    }

    fn ident(&mut self, what: &str) -> Parse<Ident> {
        let start = self.pos;
        let rest = self.rest();
        let first_ok = rest.chars().next().is_some_and(lex::is_word_start);
        if !first_ok {
            return Err(self.expected(what));
        }
        let len = lex::word_len(rest);
        self.pos += len;
        Ok(Ident {
            name: rest[..len].to_string(),
            span: Span::new(self.base + start, self.base + self.pos),
        })
    }

    /// A quoted string inside the placeholder; the lexer made sure it closes
    /// on this line, but a missing quote is still an error, not a panic.
    fn string(&mut self) -> Parse<StringLit> {
        let open = self.pos;
        let bytes = self.raw.as_bytes();
        let mut j = open + 1;
        while j < self.end && bytes[j] != b'"' {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        if j >= self.end {
            return Err(self.error(
                Span::new(self.base + open, self.base + open + 1),
                "unterminated text in a placeholder".to_string(),
                "add the closing `\"`",
            ));
        }
        let mut value = String::new();
        let mut errors = Vec::new();
        strings::unescape_into(&self.raw[open + 1..j], self.base + open + 1, &mut value, &mut errors);
        if let Some(e) = errors.into_iter().next() {
            return Err(SyntaxError {
                kind: SyntaxErrorKind::BadPlaceholder,
                ..e
            });
        }
        self.pos = j + 1;
        Ok(StringLit {
            value,
            span: Span::new(self.base + open, self.base + self.pos),
        })
    }

    fn blanks(&mut self) {
        let n = self.rest().len() - self.rest().trim_start_matches([' ', '\t']).len();
        self.pos += n;
    }

    fn rest(&self) -> &'a str {
        self.raw.get(self.pos..self.end).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Like [`Self::expected`] for a quoted text; `\"` gets its own help,
    /// since the quotes of a placeholder's texts need no backslash.
    fn expected_text(&self, what: &str) -> SyntaxError {
        let mut e = self.expected(what);
        if self.peek() == Some('\\') {
            e.help = Some("inside `#{..}` write the quotes without `\\`: `#{고객명 ?? \"고객\"}`".to_string());
        }
        e
    }

    /// "expected WHAT, found X" at the current position.
    fn expected(&self, what: &str) -> SyntaxError {
        let rest = self.rest();
        if rest.is_empty() {
            // The line (or string) ended before the placeholder closed.
            return self.error(
                Span::new(self.base + self.at, self.base + self.at + 2),
                "unclosed placeholder `#{`".to_string(),
                "close it with `}`, or write `\\#{` for a literal `#{`",
            );
        }
        let token = found_token(rest);
        let span = Span::new(self.base + self.pos, self.base + self.pos + token.len());
        let shown = crate::errors::shorten(token);
        self.error(
            span,
            format!("expected {what} in the placeholder, found `{shown}`"),
            "placeholders look like `#{name}`, `#{name | won}` or `#{name ?? \"default\"}`",
        )
    }

    fn error(&self, span: Span, message: String, help: &str) -> SyntaxError {
        SyntaxError {
            kind: SyntaxErrorKind::BadPlaceholder,
            span,
            message,
            label: "malformed placeholder".to_string(),
            help: Some(help.to_string()),
        }
    }
}

/// The token at the start of `rest` for "found ..." (never empty when
/// `rest` is not).
fn found_token(rest: &str) -> &str {
    let word = lex::word_len(rest);
    if word > 0 {
        return &rest[..word];
    }
    rest.chars().next().map_or("", |c| &rest[..c.len_utf8()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(raw: &str) -> (Template, Vec<SyntaxError>) {
        let mut errors = Vec::new();
        let t = parse(raw, 1, Span::new(0, raw.len() + 2), &mut errors);
        (t, errors)
    }

    #[test]
    fn text_and_placeholders() {
        let (t, errors) = template("안녕 #{고객명}님");
        assert!(errors.is_empty());
        assert_eq!(t.segments.len(), 3);
        match &t.segments[1] {
            TemplateSegment::Placeholder(p) => {
                assert_eq!(p.path.segments[0].name, "고객명");
                assert_eq!(p.span, Span::new(1 + "안녕 ".len(), 1 + "안녕 #{고객명}".len()));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn filters_and_defaults() {
        let (t, errors) = template(r#"#{ o.at | date("M월 d일", "x") | won ?? "고객" }"#);
        assert!(errors.is_empty(), "{errors:?}");
        let TemplateSegment::Placeholder(p) = &t.segments[0] else {
            panic!()
        };
        assert_eq!(p.path.segments.len(), 2);
        assert_eq!(p.filters[0].name.name, "date");
        assert_eq!(p.filters[0].args[0].value, "M월 d일");
        assert_eq!(p.filters[0].args.len(), 2);
        assert_eq!(p.filters[1].args.len(), 0);
        assert_eq!(p.default.as_ref().unwrap().value, "고객");
    }

    #[test]
    fn malformed_placeholders() {
        for (raw, at) in [("a #{", 3), ("a #{ }", 3), ("a #{x |}", 8), ("#{x y}", 5), ("#{x ?? y}", 8)] {
            let (t, errors) = template(raw);
            assert_eq!(errors.len(), 1, "{raw}");
            assert_eq!(errors[0].kind, SyntaxErrorKind::BadPlaceholder);
            assert_eq!(errors[0].span.start, at, "{raw}: {:?}", errors[0]);
            // Kept as text.
            assert!(matches!(&t.segments[..], [TemplateSegment::Text { .. }]));
        }
    }

    #[test]
    fn lone_hash_and_escaped_hash_are_text() {
        let (t, errors) = template(r"#1 \#{x}");
        assert!(errors.is_empty());
        assert_eq!(
            t.segments,
            vec![TemplateSegment::Text {
                text: "#1 #{x}".to_string(),
                span: Span::new(1, 9)
            }]
        );
    }
}
