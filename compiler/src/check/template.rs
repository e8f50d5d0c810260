//! Templates: names and types of `#{..}` placeholders, and the worst-case
//! rendered size of each part, in characters and in EUC-KR/CP949 bytes.

use super::expr::{self, Scope, Trigger};
use super::lists::ListInfo;
use super::Env;
use crate::codes;
use crate::diagnostic::{Diagnostic, Fix, Sink};
use crate::schema::TableModel;
use crate::suggest::help_for;
use crate::types::FieldType;
use camp_grammar::ast::{Ident, Placeholder, Span, Template, TemplateSegment};

/// A worst-case size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    pub chars: usize,
    /// EUC-KR/CP949 bytes; characters it cannot encode count 2.
    pub bytes: usize,
    /// UTF-16 code units (what Kakao counts on the brand message): an emoji
    /// counts 2; text of unknown content counts 2 per character.
    pub utf16: usize,
}

impl Size {
    pub fn add(self, other: Size) -> Size {
        Size {
            chars: self.chars.saturating_add(other.chars),
            bytes: self.bytes.saturating_add(other.bytes),
            utf16: self.utf16.saturating_add(other.utf16),
        }
    }
    pub fn max(self, other: Size) -> Size {
        Size {
            chars: self.chars.max(other.chars),
            bytes: self.bytes.max(other.bytes),
            utf16: self.utf16.max(other.utf16),
        }
    }
    /// `other` taken away `n` times (for swapping the policy's opt-out
    /// text for a channel's own).
    pub fn minus(self, other: Size, n: usize) -> Size {
        Size {
            chars: self.chars.saturating_sub(other.chars.saturating_mul(n)),
            bytes: self.bytes.saturating_sub(other.bytes.saturating_mul(n)),
            utf16: self.utf16.saturating_sub(other.utf16.saturating_mul(n)),
        }
    }
    /// `other` added `n` times.
    pub fn plus(self, other: Size, n: usize) -> Size {
        Size {
            chars: self.chars.saturating_add(other.chars.saturating_mul(n)),
            bytes: self.bytes.saturating_add(other.bytes.saturating_mul(n)),
            utf16: self.utf16.saturating_add(other.utf16.saturating_mul(n)),
        }
    }
    /// Digits and other ASCII only.
    fn ascii(n: usize) -> Size {
        Size {
            chars: n,
            bytes: n,
            utf16: n,
        }
    }
    /// Any character: up to 2 bytes in EUC-KR.
    fn any(n: usize) -> Size {
        Size {
            chars: n,
            bytes: n.saturating_mul(2),
            utf16: n.saturating_mul(2),
        }
    }
}

/// What checking one template found out.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub size: Size,
    /// Placeholders whose size has no bound (a `text` without `max`).
    pub unbounded: Vec<Span>,
    /// Characters EUC-KR cannot encode (emoji), with their spans.
    pub unencodable: Vec<(Span, char)>,
    pub has_sender: bool,
    pub has_optout: bool,
    /// The literal text before the first placeholder.
    pub leading_text: String,
    /// All literal text, for finding the policy's sender and opt-out lines.
    pub literal_text: String,
    /// Line breaks in the literal text.
    pub line_breaks: usize,
    /// How many `#{optout}` the template prints (their text differs per
    /// channel when the policy says so).
    pub optouts: usize,
}

/// The size of a fixed text (policy text, a button line).
pub fn text_size(text: &str) -> Size {
    measure_text(text, Span::default(), "", &mut Vec::new())
}

/// The EUC-KR/CP949 size of literal text, noting characters it cannot
/// encode. `source` is the text under `span` as written (escapes and
/// indentation included), used to point at the exact character.
pub fn measure_text(text: &str, span: Span, source: &str, unencodable: &mut Vec<(Span, char)>) -> Size {
    let mut size = Size {
        chars: text.chars().count(),
        bytes: 0,
        utf16: text.encode_utf16().count(),
    };
    if text.is_ascii() {
        size.bytes = text.len();
        return size;
    }
    // EUC-KR keeps no state between characters: the whole text is encoded
    // in a few calls, stopping only at characters it cannot encode.
    let mut encoder = encoding_rs::EUC_KR.new_encoder();
    let mut buf = [0u8; 512];
    let mut done = 0;
    while let Some(rest) = text.get(done..) {
        let (result, read, written) = encoder.encode_from_utf8_without_replacement(rest, &mut buf, false);
        size.bytes += written;
        done += read;
        match result {
            encoding_rs::EncoderResult::InputEmpty => break,
            encoding_rs::EncoderResult::OutputFull => {}
            encoding_rs::EncoderResult::Unmappable(c) => {
                size.bytes += 2;
                let i = done - c.len_utf8();
                // The k-th `c` of the text is the k-th `c` of its source: no
                // escape or indentation produces a non-ASCII character.
                let k = text[..i].matches(c).count();
                let at = source
                    .match_indices(c)
                    .nth(k)
                    .map_or(span, |(j, _)| Span::new(span.start + j, span.start + j + c.len_utf8()));
                unencodable.push((at, c));
                encoder = encoding_rs::EUC_KR.new_encoder();
            }
        }
    }
    size
}

/// What the placeholders of a template may name besides the customer, the
/// trigger and the policy: the message's lists, and inside `#{for}` its
/// loop variable (with the list, when that is known).
#[derive(Clone, Copy)]
struct Binds<'b, 'm> {
    lists: &'b [ListInfo<'m>],
    var: Option<(&'b str, Option<&'b ListInfo<'m>>)>,
}

/// Checks a template of a message with these lists; sizes count each loop
/// at its list's N rows.
pub fn check_with(env: &Env, sink: &mut Sink, scope: &Scope, template: &Template, lists: &[ListInfo]) -> Facts {
    let mut facts = Facts::default();
    let mut before_placeholder = true;
    let binds = Binds { lists, var: None };
    facts.size = segments(env, sink, scope, &template.segments, binds, &mut facts, &mut before_placeholder);
    facts
}

fn segments(
    env: &Env,
    sink: &mut Sink,
    scope: &Scope,
    segments_: &[TemplateSegment],
    binds: Binds,
    facts: &mut Facts,
    before_placeholder: &mut bool,
) -> Size {
    let mut total = Size::default();
    for segment in segments_ {
        match segment {
            TemplateSegment::Text { text, span } => {
                let source = env
                    .sources
                    .get(scope.file.0)
                    .and_then(|s| s.get(span.start..span.end))
                    .unwrap_or("");
                let size = measure_text(text, *span, source, &mut facts.unencodable);
                total = total.add(size);
                facts.literal_text.push_str(text);
                facts.line_breaks += text.matches('\n').count();
                if *before_placeholder {
                    facts.leading_text.push_str(text);
                }
            }
            TemplateSegment::Placeholder(p) => {
                *before_placeholder = false;
                let size = placeholder(env, sink, scope, p, facts, binds);
                total = total.add(size);
            }
            TemplateSegment::For(l) => {
                *before_placeholder = false;
                if binds.var.is_some() {
                    sink.push(
                        Diagnostic::new(
                            codes::NESTED_LOOP,
                            scope.file,
                            l.span,
                            "a `#{for}` loop inside another one",
                            "nested loop",
                        )
                        .with_help("print one list per loop, one loop after the other"),
                    );
                    continue;
                }
                let list = binds.lists.iter().find(|x| x.name == l.list.name);
                if list.is_none() {
                    let names = binds.lists.iter().map(|x| x.name.as_str());
                    let help = if binds.lists.is_empty() {
                        "declare the list in the message: `list viewed = recent(item_view.product, 3)`".to_string()
                    } else {
                        help_for(&l.list.name, names.clone(), "list")
                    };
                    sink.push(
                        Diagnostic::new(
                            codes::UNKNOWN_LIST,
                            scope.file,
                            l.list.span,
                            format!("unknown list `{}`", l.list.name),
                            "not a list of this message",
                        )
                        .with_help(help)
                        .with_fix(crate::suggest::did_you_mean(&l.list.name, names).map(|s| Fix::rename(l.list.span, &s))),
                    );
                }
                let inner = Binds {
                    lists: binds.lists,
                    var: Some((l.var.name.as_str(), list)),
                };
                let body = segments(env, sink, scope, &l.body, inner, facts, before_placeholder);
                let n = list.map_or(1, |x| usize::try_from(x.n).unwrap_or(usize::MAX));
                total = total.add(Size {
                    chars: body.chars.saturating_mul(n),
                    bytes: body.bytes.saturating_mul(n),
                    utf16: body.utf16.saturating_mul(n),
                });
            }
        }
    }
    total
}

/// A value about to be printed: its type (`None` for policy text) and size.
struct Value {
    ty: Option<FieldType>,
    size: Option<Size>,
    nullable: bool,
}

fn placeholder(env: &Env, sink: &mut Sink, scope: &Scope, p: &Placeholder, facts: &mut Facts, binds: Binds) -> Size {
    let Some(value) = resolve(env, sink, scope, p, facts, binds) else {
        return Size::default();
    };
    let mut ty = value.ty.clone();
    let mut size = value.size;
    for filter in &p.filters {
        let name = filter.name.name.as_str();
        if !FILTERS.contains(&name) {
            sink.push(
                Diagnostic::new(
                    codes::UNKNOWN_FILTER,
                    scope.file,
                    filter.name.span,
                    format!("unknown filter `{name}`"),
                    "no such filter",
                )
                .suggest(name, filter.name.span, FILTERS, "filter"),
            );
            return size.unwrap_or_default();
        }
        let Some(current) = &ty else {
            sink.push(
                Diagnostic::new(
                    codes::BAD_FILTER,
                    scope.file,
                    filter.span,
                    format!("`{name}` cannot format policy text"),
                    "not a value",
                )
                .with_help("remove the filter"),
            );
            return size.unwrap_or_default();
        };
        let (accepts, arity) = match name {
            "won" | "number" => (
                matches!(current, FieldType::Int { .. } | FieldType::Money { .. } | FieldType::Decimal),
                0,
            ),
            "date" => (matches!(current, FieldType::Timestamp | FieldType::Date), 1),
            _ => {
                sink.push(
                    Diagnostic::new(
                        codes::UNKNOWN_FILTER,
                        scope.file,
                        filter.name.span,
                        format!("unknown filter `{name}`"),
                        "no such filter",
                    )
                    .suggest(name, filter.name.span, FILTERS, "filter"),
                );
                return size.unwrap_or_default();
            }
        };
        if !accepts {
            let takes = if name == "date" {
                "timestamps and dates"
            } else {
                "numbers and money"
            };
            sink.push(
                Diagnostic::new(
                    codes::BAD_FILTER,
                    scope.file,
                    filter.span,
                    format!("`{name}` formats {takes}, not {current}"),
                    format!("applied to {current:#}"),
                )
                .with_label(scope.file, p.path.span, format!("this is {current:#}"))
                .with_help("remove the filter, or print a value of the right type"),
            );
            return size.unwrap_or_default();
        }
        if filter.args.len() != arity {
            let usage = if name == "date" {
                "`date(\"M월 d일\")`"
            } else {
                "it without arguments, e.g. `| won`"
            };
            sink.push(
                Diagnostic::new(
                    codes::BAD_FILTER,
                    scope.file,
                    filter.span,
                    format!("`{name}` takes {arity} argument{}", if arity == 1 { "" } else { "s" }),
                    "wrong arguments",
                )
                .with_help(format!("write {usage}")),
            );
            return size.unwrap_or_default();
        }
        if name == "date" {
            if let Some(arg) = filter.args.first() {
                check_date_pattern(sink, scope.file, arg.span, &arg.value);
            }
        }
        size = Some(match name {
            "won" => number_size(current).add(Size {
                chars: 1,
                bytes: 2,
                utf16: 1,
            }),
            "number" => number_size(current),
            _ => date_size(filter.args.first().map(|a| a.value.as_str()).unwrap_or_default()),
        });
        ty = Some(FieldType::Text { max: None });
    }
    match &p.default {
        Some(default) => {
            let mut ignored = Vec::new();
            let source = env
                .sources
                .get(scope.file.0)
                .and_then(|s| s.get(default.span.start..default.span.end))
                .unwrap_or("");
            let d = measure_text(&default.value, default.span, source, &mut ignored);
            facts.unencodable.extend(ignored);
            size = size.map(|s| s.max(d));
        }
        None if value.nullable => {
            let path = camp_path(p);
            let filters: String = p
                .filters
                .iter()
                .map(|f| {
                    let args: Vec<String> = f.args.iter().map(|a| format!("{:?}", a.value)).collect();
                    if args.is_empty() {
                        format!(" | {}", f.name.name)
                    } else {
                        format!(" | {}({})", f.name.name, args.join(", "))
                    }
                })
                .collect();
            let example = match value.ty {
                Some(FieldType::Text { .. }) => "고객",
                _ => "-",
            };
            sink.push(
                Diagnostic::new(
                    codes::NULLABLE_IN_TEMPLATE,
                    scope.file,
                    p.span,
                    format!("`{path}` may be empty, and the message would read oddly without it"),
                    "nullable value",
                )
                .with_help(format!("add a default: `#{{{path}{filters} ?? \"{example}\"}}`"))
                .with_fix(Some(Fix::new(
                    format!("add the default `?? \"{example}\"`"),
                    p.span,
                    format!("#{{{path}{filters} ?? \"{example}\"}}"),
                ))),
            );
        }
        None => {}
    }
    match size {
        Some(s) => s,
        None => {
            facts.unbounded.push(p.span);
            Size::default()
        }
    }
}

const FILTERS: [&str; 3] = ["won", "number", "date"];

fn camp_path(p: &Placeholder) -> String {
    p.path.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(".")
}

/// What a placeholder's path names: a customer field (or alias), `trigger.*`,
/// `sender` or `optout`.
fn resolve(env: &Env, sink: &mut Sink, scope: &Scope, p: &Placeholder, facts: &mut Facts, binds: Binds) -> Option<Value> {
    let first = p.path.segments.first()?;
    let rest = &p.path.segments[1..];
    if let Some((var, list)) = binds.var {
        if first.name == var {
            return item(env, sink, scope, p, list?.table?, rest);
        }
    }
    if let Some(list) = binds.lists.iter().find(|l| l.name == first.name) {
        if matches!(rest, [c] if c.name == "count") {
            return Some(Value {
                ty: Some(FieldType::Int { max: Some(list.n) }),
                size: Some(Size::ascii(digits(list.n))),
                nullable: false,
            });
        }
        sink.push(
            Diagnostic::new(
                codes::NOT_PRINTABLE,
                scope.file,
                p.path.span,
                format!("`{}` is a list, not one value", list.name),
                "a list",
            )
            .with_help(format!(
                "print its rows with `#{{for p in {0}}}#{{p.FIELD}}#{{end}}`, or how many with `#{{{0}.count}}`",
                list.name
            )),
        );
        return None;
    }
    let policy_text = |text: &Option<String>| text.as_ref().map(|t| measure_text(t, Span::default(), "", &mut Vec::new()));
    match first.name.as_str() {
        "sender" | "optout" if rest.is_empty() => {
            let is_sender = first.name == "sender";
            let text = if is_sender { &env.policy.sender } else { &env.policy.optout };
            if text.is_none() {
                sink.push(
                    Diagnostic::new(
                        codes::UNKNOWN_VARIABLE,
                        scope.file,
                        first.span,
                        format!("`{}` is not set in the policy", first.name),
                        "nothing to print",
                    )
                    .with_help(format!("add `{} \"..\"` to `policy {{ .. }}`", first.name)),
                );
            }
            if is_sender {
                facts.has_sender = true;
            } else {
                facts.has_optout = true;
                facts.optouts += 1;
            }
            Some(Value {
                ty: None,
                size: policy_text(text).or(Some(Size::default())),
                nullable: false,
            })
        }
        "customer" | "trigger" => stored(env, sink, scope, p),
        name => {
            let customer = env.schema.customer.as_ref()?;
            if customer.field(name).is_some() {
                // `#{고객명}` is `#{customer.고객명}`.
                let mut path = p.path.clone();
                path.segments.insert(
                    0,
                    camp_grammar::ast::Ident {
                        name: "customer".into(),
                        span: first.span,
                    },
                );
                let q = Placeholder { path, ..p.clone() };
                return stored(env, sink, scope, &q);
            }
            let trigger_props: Vec<&str> = match scope.trigger {
                Trigger::Event { event: Some(e), .. } => e.names().collect(),
                _ => Vec::new(),
            };
            let (help, fix) = if trigger_props.contains(&name) {
                let fixed = format!("trigger.{name}");
                let fix = Fix::new(format!("write `{fixed}`"), first.span, fixed);
                (format!("event properties need their prefix: write `trigger.{name}`"), Some(fix))
            } else {
                let candidates = customer.names().chain(["sender", "optout", "customer", "trigger"]);
                let fix = crate::suggest::did_you_mean(name, candidates.clone()).map(|s| Fix::rename(first.span, &s));
                (help_for(name, candidates, "variable"), fix)
            };
            sink.push(
                Diagnostic::new(
                    codes::UNKNOWN_VARIABLE,
                    scope.file,
                    first.span,
                    format!("unknown template variable `{name}`"),
                    "not a field, alias or policy text",
                )
                .with_help(help)
                .with_fix(fix),
            );
            None
        }
    }
}

/// `#{p.field}` inside `#{for p in LIST}`: a field of the list's table,
/// through `ref` hops.
fn item(env: &Env, sink: &mut Sink, scope: &Scope, p: &Placeholder, table: &TableModel, rest: &[Ident]) -> Option<Value> {
    let Some((name, rest)) = rest.split_first() else {
        sink.push(
            Diagnostic::new(
                codes::UNKNOWN_FIELD,
                scope.file,
                p.path.span,
                format!("`{}` is a row of `{}`: name the field to print", camp_path(p), table.name),
                "which field?",
            )
            .with_help(help_for("", table.names(), "field")),
        );
        return None;
    };
    let Some(mut field) = table.field(&name.name) else {
        sink.push(expr::unknown_field(scope.file, name, &table.name, table.names()));
        return None;
    };
    let mut nullable = field.nullable;
    for next in rest {
        let next_field = match &field.ty {
            FieldType::Ref(t) => env.schema.table(t).and_then(|t| t.field(&next.name).map(|f| (t, f))),
            _ => None,
        };
        let Some((_, f)) = next_field else {
            let (tname, names): (String, Vec<&str>) = match &field.ty {
                FieldType::Ref(t) => (t.clone(), env.schema.table(t).map(|t| t.names().collect()).unwrap_or_default()),
                _ => (field.name.clone(), Vec::new()),
            };
            sink.push(expr::unknown_field(scope.file, next, &tname, names.into_iter()));
            return None;
        };
        field = f;
        nullable |= field.nullable;
    }
    printable(sink, scope, p, field, nullable, "exclude the rows with `exclude where ..` instead")
}

fn stored(env: &Env, sink: &mut Sink, scope: &Scope, p: &Placeholder) -> Option<Value> {
    let resolved = expr::resolve_stored(env, sink, scope, &p.path)?;
    let field = resolved.field?;
    printable(
        sink,
        scope,
        p,
        field,
        resolved.nullable,
        "branch on it with `if` and write the two texts instead",
    )
}

/// The value a placeholder prints, or NOT_PRINTABLE for a yes/no field
/// (`help` says what to do instead where it stands).
fn printable(
    sink: &mut Sink,
    scope: &Scope,
    p: &Placeholder,
    field: &crate::schema::FieldModel,
    nullable: bool,
    help: &str,
) -> Option<Value> {
    if matches!(field.ty, FieldType::Bool | FieldType::Consent) {
        sink.push(
            Diagnostic::new(
                codes::NOT_PRINTABLE,
                scope.file,
                p.path.span,
                format!("`{}` is a yes/no value; it prints as `true` or `false`", field.name),
                "yes/no value",
            )
            .with_help(help),
        );
        return None;
    }
    Some(Value {
        size: value_size(&field.ty),
        ty: Some(field.ty.clone()),
        nullable,
    })
}

fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// The printed size of a value with no filter; `None` when unbounded.
pub fn value_size(ty: &FieldType) -> Option<Size> {
    Some(match ty {
        FieldType::Text { max: Some(n) } => Size::any(usize::try_from(*n).unwrap_or(usize::MAX)),
        FieldType::Text { max: None } => return None,
        // Without `max`, any 64-bit value: 19 digits and a sign.
        FieldType::Int { max } | FieldType::Money { max } => Size::ascii(max.map_or(20, digits)),
        FieldType::Decimal => Size::ascii(24),
        FieldType::Id | FieldType::Ref(_) => Size::ascii(36),
        FieldType::Timestamp => Size::ascii(16),
        FieldType::Date => Size::ascii(10),
        FieldType::Enum(values) => values
            .iter()
            .map(|v| measure_text(v, Span::default(), "", &mut Vec::new()))
            .fold(Size::default(), Size::max),
        FieldType::Bool | FieldType::Consent => Size::ascii(5),
        FieldType::Phone => Size::ascii(16),
        FieldType::Email => Size::ascii(254),
        FieldType::PushToken => Size::ascii(255),
        FieldType::Tz => Size::ascii(32),
    })
}

/// `12,900`: digits plus a comma per three.
fn number_size(ty: &FieldType) -> Size {
    match ty {
        FieldType::Int { max: Some(n) } | FieldType::Money { max: Some(n) } => {
            let d = digits(*n);
            Size::ascii(d + (d - 1) / 3)
        }
        // -9,223,372,036,854,775,808
        FieldType::Int { max: None } | FieldType::Money { max: None } => Size::ascii(26),
        _ => Size::ascii(32),
    }
}

/// Letters that look like date fields in other tools (`YYYY-MM-DD`) but
/// would print as written: the pattern letters are `y M d H h m s E a`.
fn check_date_pattern(sink: &mut Sink, file: crate::source::FileId, span: Span, pattern: &str) {
    let fixed: String = pattern
        .chars()
        .map(|c| match c {
            'Y' => 'y',
            'D' => 'd',
            'S' => 's',
            'A' => 'a',
            'e' => 'E',
            other => other,
        })
        .collect();
    let Some(bad) = pattern.chars().find(|c| "YDSAe".contains(*c)) else {
        return;
    };
    sink.push(
        Diagnostic::new(
            codes::BAD_DATE_PATTERN,
            file,
            span,
            format!("`{bad}` is not a date field and would print as written"),
            format!("`{bad}` prints as `{bad}`"),
        )
        .with_help(format!(
            "write `date(\"{fixed}\")`: the fields are `yyyy` `yy` `M` `MM` `d` `dd` `H` `HH` `h` `hh` `m` `mm` `s` `ss` `E` `a`"
        )),
    );
}

/// The widest text a `date("..")` pattern prints: `yyyy` 4, `yy` 2, `M`
/// `MM` `d` `dd` `H` `HH` `h` `hh` `m` `mm` `s` `ss` 2, `E` one Hangul
/// weekday, `a` 오전/오후; other characters print as themselves.
pub fn date_size(pattern: &str) -> Size {
    let mut size = Size::default();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        let piece = match c {
            'y' if run == 2 => Size::ascii(2),
            'y' => Size::ascii(4),
            'M' | 'd' | 'H' | 'h' | 'm' | 's' => Size::ascii(2),
            'E' => text_size("월"),
            'a' => text_size("오전"),
            _ => {
                let text: String = chars[i..i + run].iter().collect();
                measure_text(&text, Span::default(), "", &mut Vec::new())
            }
        };
        size = size.add(piece);
        i += run;
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euc_kr_bytes_and_unencodable() {
        let mut bad = Vec::new();
        let s = measure_text("(광고) 안녕 A1", Span::new(0, 18), "(광고) 안녕 A1", &mut bad);
        assert_eq!(
            s,
            Size {
                chars: 10,
                bytes: 14,
                utf16: 10
            }
        );
        assert_eq!(text_size("a😀").utf16, 3);
        assert!(bad.is_empty());
        let s = measure_text("hi😀", Span::new(10, 16), "hi😀", &mut bad);
        assert_eq!(s.chars, 3);
        assert_eq!(bad, vec![(Span::new(12, 16), '😀')]);
        // Dedented text: the source has indentation the text lacks.
        let mut bad = Vec::new();
        measure_text("a\nb😀", Span::new(0, 12), "a\n    b😀", &mut bad);
        assert_eq!(bad, vec![(Span::new(7, 11), '😀')]);
    }

    #[test]
    fn widths() {
        assert_eq!(value_size(&FieldType::Text { max: Some(20) }), Some(Size::any(20)));
        assert_eq!(value_size(&FieldType::Int { max: Some(9_999) }), Some(Size::ascii(4)));
        assert_eq!(number_size(&FieldType::Money { max: Some(10_000_000) }), Size::ascii(10));
        assert_eq!(number_size(&FieldType::Money { max: Some(999) }), Size::ascii(3));
        assert_eq!(
            date_size("M월 d일"),
            Size {
                chars: 7,
                bytes: 9,
                utf16: 7
            }
        );
        assert_eq!(date_size("yyyy-MM-dd"), Size::ascii(10));
    }
}
