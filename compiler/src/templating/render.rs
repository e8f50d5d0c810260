//! Rendering: one pass over the parts, appending to one `String` reserved
//! up front. Numbers and dates are written digit by digit; nothing is
//! formatted through an intermediate allocation.

use super::date::DateToken;
use super::{CompiledTemplate, Filter, Part, Placeholder, Source, Value, ValueType, Values, DEFAULT_ZONE};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use std::fmt;

/// Why a template could not be rendered with the values given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// No value was given for a source the template prints.
    Unbound { source: String },
    /// The value is null and the placeholder has no `??` default.
    Null { source: String },
    /// The value is not of the placeholder's type.
    TypeMismatch {
        source: String,
        expected: &'static str,
        found: &'static str,
    },
    /// A decimal that is infinite or not a number.
    NotFinite { source: String },
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::Unbound { source } => write!(f, "no value given for `{source}`"),
            RenderError::Null { source } => write!(f, "`{source}` is null and the placeholder has no `??` default"),
            RenderError::TypeMismatch { source, expected, found } => {
                write!(f, "`{source}` should be {expected} but is {found}")
            }
            RenderError::NotFinite { source } => write!(f, "`{source}` is not a finite number"),
        }
    }
}

impl std::error::Error for RenderError {}

/// Renders a template. `zone` is the customer's IANA time zone; when it is
/// missing or not a zone, the policy's zone (kept in the template) applies.
pub fn render(template: &CompiledTemplate, values: &Values, zone: Option<&str>) -> Result<String, RenderError> {
    let mut out = String::with_capacity(template.capacity);
    render_into(template, values, zone, &mut out)?;
    Ok(out)
}

/// Renders a template at the end of `out` (reserving its expected size). On
/// an error, `out` holds the text rendered up to the failing placeholder.
pub fn render_into(template: &CompiledTemplate, values: &Values, zone: Option<&str>, out: &mut String) -> Result<(), RenderError> {
    out.reserve(template.capacity);
    let mut zone = Zone {
        customer: zone,
        fallback: &template.zone,
        tz: None,
    };
    parts(&template.parts, values, None, &mut zone, out)
}

fn parts(parts_: &[Part], values: &Values, row: Option<&Values>, zone: &mut Zone, out: &mut String) -> Result<(), RenderError> {
    for part in parts_ {
        match part {
            Part::Text { text } => out.push_str(text),
            Part::Value(p) => placeholder(p, values, row, zone, out)?,
            Part::Each { list, parts: body } => {
                let Some(rows) = values.list(list) else {
                    return Err(RenderError::Unbound {
                        source: format!("list {list}"),
                    });
                };
                for r in rows {
                    parts(body, values, Some(r), zone, out)?;
                }
            }
            Part::Count { list } => {
                let Some(rows) = values.list(list) else {
                    return Err(RenderError::Unbound {
                        source: format!("list {list}"),
                    });
                };
                write_int(out, i64::try_from(rows.len()).unwrap_or(i64::MAX), false);
            }
        }
    }
    Ok(())
}

/// The value of a row's field: by list, column and hop columns.
fn item<'v>(row: Option<&'v Values>, source: &Source) -> Option<&'v Value> {
    let Source::Item { list, column, hops } = source else {
        return None;
    };
    row?.iter().find_map(|(s, v)| match s {
        Source::Item {
            list: l,
            column: c,
            hops: h,
        } if l == list && c == column && h.len() == hops.len() && h.iter().zip(hops).all(|(a, b)| a.column == b.column) => Some(v),
        _ => None,
    })
}

/// The customer's zone, parsed on first use.
struct Zone<'a> {
    customer: Option<&'a str>,
    fallback: &'a str,
    tz: Option<Tz>,
}

impl Zone<'_> {
    fn get(&mut self) -> Tz {
        if let Some(tz) = self.tz {
            return tz;
        }
        let tz = self
            .customer
            .and_then(|z| z.trim().parse::<Tz>().ok())
            .or_else(|| self.fallback.parse::<Tz>().ok())
            .unwrap_or(chrono_tz::Asia::Seoul);
        debug_assert_eq!(DEFAULT_ZONE, chrono_tz::Asia::Seoul.name());
        self.tz = Some(tz);
        tz
    }
}

#[inline]
fn placeholder(p: &Placeholder, values: &Values, row: Option<&Values>, zone: &mut Zone, out: &mut String) -> Result<(), RenderError> {
    let value = match (&p.source, p.slot) {
        (Source::Sender { text } | Source::Optout { text, .. }, _) => {
            out.push_str(text);
            return Ok(());
        }
        (source @ Source::Item { .. }, _) => item(row, source),
        (source, Some(slot)) => values.at(slot, source),
        (source, None) => values.get(source),
    };
    let Some(value) = value else {
        return Err(RenderError::Unbound {
            source: p.source.to_string(),
        });
    };
    if let Value::Null = value {
        return match &p.default {
            Some(d) => {
                out.push_str(d);
                Ok(())
            }
            None => Err(RenderError::Null {
                source: p.source.to_string(),
            }),
        };
    }
    let mismatch = || RenderError::TypeMismatch {
        source: p.source.to_string(),
        expected: expected(p.ty),
        found: value.kind(),
    };
    match (p.filters.first(), value) {
        (Some(Filter::Won), Value::Int(n)) => {
            write_int(out, *n, true);
            out.push('원');
        }
        (Some(Filter::Number), Value::Int(n)) => write_int(out, *n, true),
        (Some(Filter::Won), Value::Decimal(x)) => {
            write_decimal(out, *x, true).ok_or_else(|| not_finite(p))?;
            out.push('원');
        }
        (Some(Filter::Number), Value::Decimal(x)) => write_decimal(out, *x, true).ok_or_else(|| not_finite(p))?,
        (Some(Filter::Date { tokens, .. }), Value::Timestamp(t)) => write_pattern(out, tokens, &local(*t, zone.get())),
        (Some(Filter::Date { tokens, .. }), Value::Date(d)) => write_pattern(out, tokens, &d.and_time(NaiveTime::MIN)),
        (Some(_), _) => return Err(mismatch()),
        (None, v) => match (p.ty, v) {
            (ValueType::Int | ValueType::Money | ValueType::Decimal | ValueType::Id, Value::Int(n)) => write_int(out, *n, false),
            (ValueType::Int | ValueType::Money | ValueType::Decimal, Value::Decimal(x)) => {
                write_decimal(out, *x, false).ok_or_else(|| not_finite(p))?
            }
            (ValueType::Timestamp, Value::Timestamp(t)) => write_timestamp(out, &local(*t, zone.get())),
            (ValueType::Date, Value::Date(d)) => write_date(out, d),
            (ValueType::Id | ValueType::Text | ValueType::Enum | ValueType::Phone | ValueType::Email | ValueType::Tz, Value::Text(s)) => {
                out.push_str(s)
            }
            _ => return Err(mismatch()),
        },
    }
    Ok(())
}

fn not_finite(p: &Placeholder) -> RenderError {
    RenderError::NotFinite {
        source: p.source.to_string(),
    }
}

fn expected(ty: ValueType) -> &'static str {
    match ty {
        ValueType::Int | ValueType::Money | ValueType::Decimal => "a number",
        ValueType::Timestamp => "a timestamp",
        ValueType::Date => "a date",
        ValueType::Id => "an integer or text",
        ValueType::Text | ValueType::Enum | ValueType::Phone | ValueType::Email | ValueType::Tz => "text",
    }
}

fn local(t: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

// ---------------------------------------------------------------- numbers

/// The decimal digits of `n`, most significant first, in `buf`'s tail.
#[inline]
fn digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// ASCII digits, with a comma before each group of three when `grouped`.
#[inline]
fn push_digits(out: &mut String, ds: &[u8], grouped: bool) {
    // Digits left before the next comma: the first group may be short.
    let mut left = match ds.len() % 3 {
        0 => 3,
        r => r,
    };
    for &d in ds {
        if left == 0 {
            if grouped {
                out.push(',');
            }
            left = 3;
        }
        out.push(char::from(d));
        left -= 1;
    }
}

/// `12900` -> `12,900` (grouped), `-12,900` for negatives.
pub(super) fn write_int(out: &mut String, n: i64, grouped: bool) {
    if n < 0 {
        out.push('-');
    }
    let mut buf = [0u8; 20];
    push_digits(out, digits(n.unsigned_abs(), &mut buf), grouped);
}

/// A decimal without trailing zeros (`1.5`, `2`), grouped like integers
/// with `number`/`won`. `None` for infinities and NaN.
pub(super) fn write_decimal(out: &mut String, x: f64, grouped: bool) -> Option<()> {
    if !x.is_finite() {
        return None;
    }
    let mut buf = StackText::default();
    // `Display` for f64 prints the shortest text that reads back the same
    // value, never in exponent form and never with trailing zeros.
    if fmt::Write::write_fmt(&mut buf, format_args!("{}", x.abs())).is_err() {
        // Longer than the stack buffer (|x| >= 1e60): print it plainly.
        let text = x.abs().to_string();
        return write_decimal_text(out, x, text.as_bytes(), grouped);
    }
    write_decimal_text(out, x, buf.as_bytes(), grouped)
}

fn write_decimal_text(out: &mut String, x: f64, text: &[u8], grouped: bool) -> Option<()> {
    let (int, frac) = match text.iter().position(|&b| b == b'.') {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, &text[text.len()..]),
    };
    // `-0` and values that print as zero carry no sign.
    if x < 0.0 && text.iter().any(|&b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    push_digits(out, int, grouped);
    frac.iter().for_each(|&b| out.push(char::from(b)));
    Some(())
}

/// A small text buffer on the stack, for `Display` output.
struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        StackText { buf: [0; 64], len: 0 }
    }
}

impl StackText {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

// ---------------------------------------------------------------- dates

#[inline]
fn push2(out: &mut String, n: u32) {
    out.push(char::from(b'0' + ((n / 10) % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

#[inline]
fn push_num(out: &mut String, n: u32, pad: bool) {
    if pad || n >= 10 {
        push2(out, n);
    } else {
        out.push(char::from(b'0' + n as u8));
    }
}

fn push_year(out: &mut String, year: i32) {
    if (0..10_000).contains(&year) {
        let y = year as u32;
        push2(out, y / 100);
        push2(out, y % 100);
    } else {
        write_int(out, i64::from(year), false);
    }
}

/// `2026-11-22 11:00`
fn write_timestamp(out: &mut String, t: &NaiveDateTime) {
    write_date(out, &t.date());
    out.push(' ');
    push2(out, t.hour());
    out.push(':');
    push2(out, t.minute());
}

/// `2026-11-22`
fn write_date(out: &mut String, d: &NaiveDate) {
    push_year(out, d.year());
    out.push('-');
    push2(out, d.month());
    out.push('-');
    push2(out, d.day());
}

const WEEKDAYS: [&str; 7] = ["월", "화", "수", "목", "금", "토", "일"];

fn write_pattern(out: &mut String, tokens: &[DateToken], t: &NaiveDateTime) {
    for token in tokens {
        match token {
            DateToken::Literal(s) => out.push_str(s),
            DateToken::Year => push_year(out, t.year()),
            DateToken::Year2 => push2(out, t.year().rem_euclid(100) as u32),
            DateToken::Month { pad } => push_num(out, t.month(), *pad),
            DateToken::Day { pad } => push_num(out, t.day(), *pad),
            DateToken::Hour { pad } => push_num(out, t.hour(), *pad),
            DateToken::Hour12 { pad } => {
                let h = t.hour() % 12;
                push_num(out, if h == 0 { 12 } else { h }, *pad);
            }
            DateToken::Minute { pad } => push_num(out, t.minute(), *pad),
            DateToken::Second { pad } => push_num(out, t.second(), *pad),
            DateToken::Weekday => out.push_str(WEEKDAYS[t.weekday().num_days_from_monday() as usize % 7]),
            DateToken::AmPm => out.push_str(if t.hour() < 12 { "오전" } else { "오후" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(n: i64, grouped: bool) -> String {
        let mut s = String::new();
        write_int(&mut s, n, grouped);
        s
    }

    fn dec(x: f64, grouped: bool) -> Option<String> {
        let mut s = String::new();
        write_decimal(&mut s, x, grouped).map(|()| s)
    }

    #[test]
    fn integers() {
        assert_eq!(int(0, true), "0");
        assert_eq!(int(999, true), "999");
        assert_eq!(int(1_000, true), "1,000");
        assert_eq!(int(12_900, true), "12,900");
        assert_eq!(int(-12_900, true), "-12,900");
        assert_eq!(int(1_234_567, true), "1,234,567");
        assert_eq!(int(-100_000, true), "-100,000");
        assert_eq!(int(1_234_567, false), "1234567");
        assert_eq!(int(i64::MIN, true), "-9,223,372,036,854,775,808");
        assert_eq!(int(i64::MAX, false), "9223372036854775807");
    }

    #[test]
    fn decimals() {
        assert_eq!(dec(1.5, false).as_deref(), Some("1.5"));
        assert_eq!(dec(2.0, false).as_deref(), Some("2"));
        assert_eq!(dec(1.250, false).as_deref(), Some("1.25"));
        assert_eq!(dec(-0.0, false).as_deref(), Some("0"));
        assert_eq!(dec(-3.75, false).as_deref(), Some("-3.75"));
        assert_eq!(dec(12_345.5, true).as_deref(), Some("12,345.5"));
        assert_eq!(dec(-1_000_000.0, true).as_deref(), Some("-1,000,000"));
        assert_eq!(dec(0.001, true).as_deref(), Some("0.001"));
        assert_eq!(dec(1e21, true).as_deref(), Some("1,000,000,000,000,000,000,000"));
        assert_eq!(dec(1e100, false).map(|s| s.len()), Some(101));
        assert_eq!(dec(f64::NAN, false), None);
        assert_eq!(dec(f64::INFINITY, true), None);
    }

    #[test]
    fn patterns() {
        let t = NaiveDate::from_ymd_opt(2026, 11, 22).and_then(|d| d.and_hms_opt(0, 5, 9));
        let Some(t) = t else { return };
        let render = |p: &str| {
            let mut s = String::new();
            write_pattern(&mut s, &super::super::date::parse(p), &t);
            s
        };
        assert_eq!(render("M월 d일"), "11월 22일");
        assert_eq!(render("yyyy-MM-dd HH:mm:ss"), "2026-11-22 00:05:09");
        assert_eq!(render("yy.M.d (E) a h:mm"), "26.11.22 (일) 오전 12:05");
        assert_eq!(render("H시 m분 s초"), "0시 5분 9초");
        let mut s = String::new();
        write_timestamp(&mut s, &t);
        assert_eq!(s, "2026-11-22 00:05");
    }
}
