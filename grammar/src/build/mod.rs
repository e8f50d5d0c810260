//! From pest pairs to the AST, one chunk (one top-level item) at a time.
//!
//! The grammar fixes the shape of every pair, but nothing here unwraps:
//! a missing child becomes an internal error, values that do not fit
//! (`99999999999999999999999h`) become syntax errors. Errors that make a
//! node impossible to build are "hard" ([`Fail`]): the item is dropped.
//! Errors inside strings (escapes, placeholders) are reported but the item
//! is kept, so one typo in a text does not cascade into "unknown message".

mod campaign;
mod expr;
mod policy;
mod schema;
mod top;

pub(crate) use top::item;

use crate::ast::{DateTime, Duration, DurationUnit, Ident, IntLit, Percent, StringLit, Template, TimeOfDay};
use crate::grammar::Rule;
use crate::{strings, template, Span, SyntaxError, SyntaxErrorKind, MAX_NESTING};
use pest::iterators::Pair;

pub(crate) type P<'i> = Pair<'i, Rule>;

/// A hard error, already recorded in [`Ctx::errors`].
#[derive(Debug)]
pub(crate) struct Fail;

pub(crate) type Build<T> = Result<T, Fail>;

/// What every builder needs: the chunk text, where it starts in the file,
/// and where to put errors.
pub(crate) struct Ctx<'a> {
    /// The chunk as written (comments included, for doc comments).
    pub text: &'a str,
    pub base: usize,
    pub errors: &'a mut Vec<SyntaxError>,
}

impl Ctx<'_> {
    pub fn span(&self, p: &P) -> Span {
        Span::new(self.base + p.as_span().start(), self.base + self.end(p))
    }

    /// Where `p` really ends (chunk offset). Pest lets a rule that ends in
    /// an absent `x?` or `x*` keep the blank space (and blanked comments)
    /// it skipped while looking for `x`. Tokens never end in blank space,
    /// and in the text pest read comments are blank space, so the true end
    /// is where that trailing blank space starts.
    pub fn end(&self, p: &P) -> usize {
        let (start, end) = (p.as_span().start(), p.as_span().end());
        let inner = p.as_str();
        if !inner.ends_with(|c: char| c.is_whitespace()) {
            return end;
        }
        start + inner.trim_end().len()
    }

    pub fn ident(&self, p: &P) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(p),
        }
    }

    /// Records a hard syntax error.
    pub fn fail(&mut self, span: Span, message: String, label: &str, help: Option<&str>) -> Fail {
        self.errors.push(SyntaxError {
            kind: SyntaxErrorKind::Unexpected,
            span,
            message,
            label: label.to_string(),
            help: help.map(str::to_string),
        });
        Fail
    }

    /// A child the grammar guarantees is missing: a bug, reported as an
    /// error instead of a panic.
    pub fn internal(&mut self, span: Span, what: &str) -> Fail {
        self.fail(
            span,
            format!("internal parser error: no {what} here"),
            "the parser could not read this",
            Some("please report this with the file that causes it"),
        )
    }

    pub fn need<T>(&mut self, value: Option<T>, span: Span, what: &str) -> Build<T> {
        value.ok_or_else(|| self.internal(span, what))
    }

    /// Checks a nesting depth reached while building (chains of `else if`).
    pub fn depth(&mut self, depth: usize, span: Span) -> Build<()> {
        if depth <= MAX_NESTING {
            return Ok(());
        }
        self.errors.push(SyntaxError {
            kind: SyntaxErrorKind::NestingTooDeep,
            span,
            message: format!("nesting deeper than {MAX_NESTING} levels"),
            label: "nested too deeply".to_string(),
            help: Some("split the steps into fewer levels".to_string()),
        });
        Err(Fail)
    }

    /// The text between the quotes of a `string` pair, and its file offset.
    fn raw<'p>(&self, p: &P<'p>) -> (&'p str, usize) {
        let s = p.as_str();
        let inner = s.get(1..s.len().saturating_sub(1)).unwrap_or("");
        (inner, self.base + p.as_span().start() + 1)
    }

    pub fn string(&mut self, p: &P) -> StringLit {
        let (raw, at) = self.raw(p);
        StringLit {
            value: strings::value(raw, at, self.errors),
            span: self.span(p),
        }
    }

    pub fn template(&mut self, p: &P) -> Template {
        let (raw, at) = self.raw(p);
        let span = self.span(p);
        template::parse(raw, at, span, self.errors)
    }

    /// A whole number (`1_000_000`), or an error when it does not fit.
    pub fn int(&mut self, p: &P) -> Build<IntLit> {
        let span = self.span(p);
        let value = self.number(p.as_str(), span)?;
        Ok(IntLit { value, span })
    }

    fn number(&mut self, digits: &str, span: Span) -> Build<u64> {
        let mut value: u64 = 0;
        for c in digits.bytes().filter(|c| *c != b'_') {
            let digit = u64::from(c.wrapping_sub(b'0'));
            if digit > 9 {
                return Err(self.internal(span, "digit"));
            }
            value = match value.checked_mul(10).and_then(|v| v.checked_add(digit)) {
                Some(v) => v,
                None => {
                    return Err(self.fail(
                        span,
                        "number too large".to_string(),
                        "this does not fit in 64 bits",
                        Some("the largest whole number is 18446744073709551615"),
                    ))
                }
            };
        }
        Ok(value)
    }

    pub fn float(&mut self, text: &str, span: Span) -> Build<f64> {
        let clean: String = text.chars().filter(|c| *c != '_').collect();
        match clean.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.fail(span, "number too large".to_string(), "this number is out of range", None)),
        }
    }

    pub fn decimal(&mut self, p: &P) -> Build<f64> {
        let span = self.span(p);
        self.float(p.as_str(), span)
    }

    pub fn duration(&mut self, p: &P) -> Build<Duration> {
        let span = self.span(p);
        let text = p.as_str();
        let (digits, unit) = text.split_at(text.len().saturating_sub(1));
        let unit = match unit {
            "m" => DurationUnit::Minutes,
            "h" => DurationUnit::Hours,
            "d" => DurationUnit::Days,
            "w" => DurationUnit::Weeks,
            _ => return Err(self.internal(span, "duration unit")),
        };
        let value = self.number(digits, span)?;
        Ok(Duration { value, unit, span })
    }

    pub fn percent(&mut self, p: &P) -> Build<Percent> {
        let span = self.span(p);
        let text = p.as_str().trim_end_matches('%');
        let value = self.float(text, span)?;
        Ok(Percent { value, span })
    }

    pub fn time_of_day(&mut self, p: &P) -> Build<TimeOfDay> {
        let span = self.span(p);
        self.clock(p.as_str(), span)
    }

    fn clock(&mut self, text: &str, span: Span) -> Build<TimeOfDay> {
        let (h, m) = text.split_once(':').ok_or_else(|| self.internal(span, "time"))?;
        Ok(TimeOfDay {
            hour: self.small(h, span)?,
            minute: self.small(m, span)?,
            span,
        })
    }

    /// A short run of digits the grammar bounded (at most four).
    fn small(&mut self, digits: &str, span: Span) -> Build<u32> {
        digits.parse::<u32>().map_err(|_| self.internal(span, "number"))
    }

    pub fn date_time(&mut self, p: &P) -> Build<DateTime> {
        let span = self.span(p);
        let text = p.as_str();
        let (date, time) = text.split_once([' ', '\t']).ok_or_else(|| self.internal(span, "date"))?;
        let mut parts = date.splitn(3, '-');
        let (y, mo, d) = match (parts.next(), parts.next(), parts.next()) {
            (Some(y), Some(mo), Some(d)) => (y, mo, d),
            _ => return Err(self.internal(span, "date")),
        };
        let clock = self.clock(time.trim(), span)?;
        let year = self.small(y, span)?;
        Ok(DateTime {
            year: i32::try_from(year).map_err(|_| self.internal(span, "year"))?,
            month: self.small(mo, span)?,
            day: self.small(d, span)?,
            hour: clock.hour,
            minute: clock.minute,
            span,
        })
    }

    /// The `///` lines right above chunk offset `start` and after `lower`,
    /// without the slashes and one space; `None` when there are none.
    pub fn doc(&self, lower: usize, start: usize) -> Option<String> {
        let region = self.text.get(lower..start)?;
        let mut lines = region.rsplit('\n');
        // The item must begin its line.
        if !lines.next()?.trim().is_empty() {
            return None;
        }
        let mut docs: Vec<&str> = Vec::new();
        for line in lines {
            match line.trim().strip_prefix("///") {
                Some(rest) if !rest.starts_with('/') => docs.push(rest.strip_prefix(' ').unwrap_or(rest)),
                _ => break,
            }
        }
        if docs.is_empty() {
            return None;
        }
        docs.reverse();
        Some(docs.join("\n"))
    }
}

/// The children of `p`, skipping nothing: builders match on the rules they need.
pub(crate) fn kids<'i>(p: &P<'i>) -> impl Iterator<Item = P<'i>> {
    p.clone().into_inner()
}

/// The first child of `p` with `rule`.
pub(crate) fn child<'i>(p: &P<'i>, rule: Rule) -> Option<P<'i>> {
    kids(p).find(|k| k.as_rule() == rule)
}

/// The first child of `p` (for wrapper rules like `campaign_entry`).
pub(crate) fn only<'i>(cx: &mut Ctx, p: &P<'i>) -> Build<P<'i>> {
    let span = cx.span(p);
    let first = kids(p).next();
    cx.need(first, span, "entry")
}

/// Start offset of `p` relative to its chunk (for doc comments).
pub(crate) fn rel_start(p: &P) -> usize {
    p.as_span().start()
}

/// End of `p` relative to its chunk, without trailing blank space.
pub(crate) fn rel_end(cx: &Ctx, p: &P) -> usize {
    cx.end(p)
}
