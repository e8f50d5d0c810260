//! The template engine: `#{..}` placeholders compiled against a checked
//! [`Program`] into a [`CompiledTemplate`] that renders with no lookups by
//! name and no allocation beyond the output string.
//!
//! Compiling resolves every placeholder once: where its value comes from (a
//! customer column, through `ref` hops; a property of the triggering event;
//! the policy's sender or opt-out text), the value's schema type, its filter
//! (with `date("..")` patterns parsed to tokens) and its `??` default. The
//! compiled form is serde data: it goes into the plan, and the runtime and
//! `camp preview` render from it.
//!
//! Rendering takes [`Values`], which map each stored [`Source`] of the
//! template to a [`Value`], and the customer's time zone.

mod date;
mod render;

pub use date::DateToken;
pub use render::{render, render_into, RenderError};

use crate::program::Program;
use crate::schema::{EventModel, FieldModel, TableModel};
use crate::types::FieldType;
use camp_grammar::ast::{self, MessagePart, Span, TemplateSegment};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The zone used when neither the customer nor the policy names a valid one.
pub const DEFAULT_ZONE: &str = "Asia/Seoul";

/// One `ref` hop: the lookup table reached, its key column, and the column
/// read there (or followed further).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hop {
    /// The schema's name of the lookup table (`product`).
    pub table: String,
    /// The database table (`products`).
    pub source: String,
    /// Its key column, matched against the value of the previous step.
    pub key: String,
    /// The column read in that table.
    pub column: String,
}

/// Where a placeholder's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Source {
    /// A column of the customer table; with hops, the column reached by
    /// following `ref` fields from it (`customer.favorite.name`).
    Customer { column: String, hops: Vec<Hop> },
    /// A property of the triggering event (a JSON key of the shared events
    /// table, or a column of the event's own table), then `ref` hops.
    Trigger { event: String, prop: String, hops: Vec<Hop> },
    /// A field of the current row of a list, inside `#{for p in LIST}`
    /// (`column` of the list's table, then `ref` hops).
    Item { list: String, column: String, hops: Vec<Hop> },
    /// The policy's sender text, fixed when the template is compiled.
    Sender { text: String },
    /// The policy's opt-out text, fixed when the template is compiled;
    /// `by_channel` holds the channels' own texts (`optout ".." for
    /// channel brand`), printed in place of `text` on those channels.
    Optout {
        text: String,
        #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        by_channel: std::collections::BTreeMap<String, String>,
    },
}

impl Source {
    /// Whether the value is read from the database (not policy text).
    pub fn is_stored(&self) -> bool {
        matches!(self, Source::Customer { .. } | Source::Trigger { .. } | Source::Item { .. })
    }

    /// The canonical path by column names (`customer.name`,
    /// `trigger.product.name`): the name of the render query's column that
    /// holds this value (`lower::Column::path`).
    pub fn path(&self) -> String {
        self.to_string()
    }
}

/// `customer.name`, `trigger.product.name`, `sender`: the path by column
/// names, for messages.
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, first, hops) = match self {
            Source::Customer { column, hops } => ("customer", column, hops),
            Source::Trigger { prop, hops, .. } => ("trigger", prop, hops),
            Source::Item { list, column, hops } => {
                write!(f, "{list}[].{column}")?;
                for hop in hops {
                    write!(f, ".{}", hop.column)?;
                }
                return Ok(());
            }
            Source::Sender { .. } => return f.write_str("sender"),
            Source::Optout { .. } => return f.write_str("optout"),
        };
        write!(f, "{head}.{first}")?;
        for hop in hops {
            write!(f, ".{}", hop.column)?;
        }
        Ok(())
    }
}

/// The schema type of a printed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    Id,
    Text,
    Int,
    Decimal,
    Money,
    Timestamp,
    Date,
    Enum,
    Phone,
    Email,
    Tz,
}

impl ValueType {
    /// The printable type of a schema field; `None` for yes/no values.
    pub fn of(ty: &FieldType) -> Option<ValueType> {
        Some(match ty {
            FieldType::Id | FieldType::Ref(_) => ValueType::Id,
            FieldType::Text { .. } | FieldType::PushToken => ValueType::Text,
            FieldType::Int { .. } => ValueType::Int,
            FieldType::Decimal => ValueType::Decimal,
            FieldType::Money { .. } => ValueType::Money,
            FieldType::Timestamp => ValueType::Timestamp,
            FieldType::Date => ValueType::Date,
            FieldType::Enum(_) => ValueType::Enum,
            FieldType::Phone => ValueType::Phone,
            FieldType::Email => ValueType::Email,
            FieldType::Tz => ValueType::Tz,
            FieldType::Bool | FieldType::Consent => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ValueType::Id => "id",
            ValueType::Text => "text",
            ValueType::Int => "int",
            ValueType::Decimal => "decimal",
            ValueType::Money => "money",
            ValueType::Timestamp => "timestamp",
            ValueType::Date => "date",
            ValueType::Enum => "enum",
            ValueType::Phone => "phone",
            ValueType::Email => "email",
            ValueType::Tz => "tz",
        }
    }

    fn is_numeric(self) -> bool {
        matches!(self, ValueType::Int | ValueType::Money | ValueType::Decimal)
    }
}

/// A formatting filter, ready to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FilterWire", into = "FilterWire")]
pub enum Filter {
    /// `12,900원`
    Won,
    /// `12,900`
    Number,
    /// `date("M월 d일")`: the pattern as written and its tokens.
    Date { pattern: String, tokens: Vec<DateToken> },
}

/// How a filter is written in a plan: its name and, for `date`, the pattern.
#[derive(Serialize, Deserialize)]
struct FilterWire {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pattern: Option<String>,
}

impl From<Filter> for FilterWire {
    fn from(f: Filter) -> Self {
        match f {
            Filter::Won => FilterWire {
                name: "won".into(),
                pattern: None,
            },
            Filter::Number => FilterWire {
                name: "number".into(),
                pattern: None,
            },
            Filter::Date { pattern, .. } => FilterWire {
                name: "date".into(),
                pattern: Some(pattern),
            },
        }
    }
}

impl TryFrom<FilterWire> for Filter {
    type Error = String;
    fn try_from(w: FilterWire) -> Result<Self, String> {
        match (w.name.as_str(), w.pattern) {
            ("won", None) => Ok(Filter::Won),
            ("number", None) => Ok(Filter::Number),
            ("date", Some(pattern)) => Ok(Filter::date(pattern)),
            (name, _) => Err(format!("unknown filter `{name}` or wrong arguments")),
        }
    }
}

impl Filter {
    /// `date(pattern)` with its tokens parsed.
    pub fn date(pattern: String) -> Filter {
        let tokens = date::parse(&pattern);
        Filter::Date { pattern, tokens }
    }
}

/// `#{path | filter ?? "default"}`, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placeholder {
    pub source: Source,
    /// The value's schema type (`text` for policy text).
    #[serde(rename = "type")]
    pub ty: ValueType,
    /// At most one in a checked program: every filter prints text, and no
    /// filter takes text.
    pub filters: Vec<Filter>,
    /// Printed as written (no filter) when the value is null.
    pub default: Option<String>,
    /// The index of `source` in the template's `inputs`; `None` for policy text.
    pub slot: Option<usize>,
}

/// A piece of a compiled template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "part", rename_all = "snake_case")]
pub enum Part {
    Text {
        text: String,
    },
    Value(Placeholder),
    /// `#{for p in LIST}..#{end}`: `parts` once per row of the list.
    Each {
        list: String,
        parts: Vec<Part>,
    },
    /// `#{LIST.count}`: the number of rows.
    Count {
        list: String,
    },
}

/// A template compiled against the schema and policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledTemplate {
    pub parts: Vec<Part>,
    /// The stored values the template prints, each once, in order of first
    /// use; a placeholder's `slot` indexes this list.
    pub inputs: Vec<Source>,
    /// The policy's zone, for customers whose own zone is missing or invalid.
    pub zone: String,
    /// The output's expected size in bytes (literal text plus the typical
    /// width of each value), reserved before rendering.
    pub capacity: usize,
}

impl CompiledTemplate {
    /// The template without any values: literal text only.
    pub fn is_constant(&self) -> bool {
        self.inputs.is_empty()
    }
}

/// A value read for one placeholder source.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Decimal(f64),
    Text(String),
    Bool(bool),
    Timestamp(DateTime<Utc>),
    Date(NaiveDate),
}

impl Value {
    /// A value from its text form as SQLite stores it (DESIGN §3.2):
    /// timestamps `2026-11-22 02:00:00` (UTC, optional fraction, or RFC
    /// 3339), dates `2026-11-22`, numbers in decimal. `None` when the text
    /// is not of the type.
    pub fn parse(ty: ValueType, text: &str) -> Option<Value> {
        let text = text.trim();
        Some(match ty {
            ValueType::Int | ValueType::Money => match text.parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => Value::Decimal(text.parse::<f64>().ok().filter(|f| f.is_finite())?),
            },
            ValueType::Decimal => Value::Decimal(text.parse::<f64>().ok().filter(|f| f.is_finite())?),
            ValueType::Timestamp => Value::Timestamp(parse_timestamp(text)?),
            ValueType::Date => Value::Date(NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?),
            ValueType::Id | ValueType::Text | ValueType::Enum | ValueType::Phone | ValueType::Email | ValueType::Tz => {
                Value::Text(text.to_string())
            }
        })
    }

    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "an integer",
            Value::Decimal(_) => "a decimal",
            Value::Text(_) => "text",
            Value::Bool(_) => "a yes/no value",
            Value::Timestamp(_) => "a timestamp",
            Value::Date(_) => "a date",
        }
    }
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .map(|n| n.and_utc())
}

/// The values a render reads: one per stored source.
///
/// Lookups follow the template's slots: a `Values` filled in the order of
/// [`CompiledTemplate::inputs`] (as [`Values::for_template`] does) finds
/// each value at its slot with one comparison; any other order still works,
/// by search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values {
    entries: Vec<(Source, Value)>,
    /// The rows of each list, by list name: each row's values are keyed by
    /// [`Source::Item`].
    lists: Vec<(String, Vec<Values>)>,
}

impl Values {
    pub fn new() -> Self {
        Self::default()
    }

    /// One `Null` entry per input of the template, in slot order.
    pub fn for_template(template: &CompiledTemplate) -> Self {
        Values {
            entries: template.inputs.iter().map(|s| (s.clone(), Value::Null)).collect(),
            lists: Vec::new(),
        }
    }

    /// Sets the rows of a list, replacing earlier ones.
    pub fn set_list(&mut self, name: &str, rows: Vec<Values>) {
        match self.lists.iter_mut().find(|(n, _)| n == name) {
            Some((_, r)) => *r = rows,
            None => self.lists.push((name.to_string(), rows)),
        }
    }

    /// The rows of a list, when given.
    pub fn list(&self, name: &str) -> Option<&[Values]> {
        self.lists.iter().find(|(n, _)| n == name).map(|(_, r)| r.as_slice())
    }

    /// Sets the value of a source, replacing an earlier one.
    pub fn insert(&mut self, source: Source, value: Value) {
        match self.entries.iter_mut().find(|(s, _)| *s == source) {
            Some((_, v)) => *v = value,
            None => self.entries.push((source, value)),
        }
    }

    pub fn get(&self, source: &Source) -> Option<&Value> {
        self.entries.iter().find(|(s, _)| s == source).map(|(_, v)| v)
    }

    /// The value of `source`, looked for first at `slot`.
    #[inline]
    fn at(&self, slot: usize, source: &Source) -> Option<&Value> {
        match self.entries.get(slot) {
            Some((s, v)) if s == source => Some(v),
            _ => self.get(source),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Source, &Value)> {
        self.entries.iter().map(|(s, v)| (s, v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromIterator<(Source, Value)> for Values {
    fn from_iter<I: IntoIterator<Item = (Source, Value)>>(iter: I) -> Self {
        let mut values = Values::new();
        for (s, v) in iter {
            values.insert(s, v);
        }
        values
    }
}

/// Why a template does not compile. A checked program never gives one; the
/// checker reports the same problems with codes and help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    /// The placeholder (or part of it) at fault, in the template's file.
    pub span: Span,
}

impl TemplateError {
    fn new(span: Span, message: impl Into<String>) -> Self {
        TemplateError {
            message: message.into(),
            span,
        }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

/// What a template is compiled in: the program, and the event that
/// `trigger.*` refers to (the campaign's `trigger on E`), if any.
#[derive(Clone, Copy)]
pub struct Context<'p> {
    pub program: &'p Program<'p>,
    pub trigger: Option<&'p EventModel>,
    /// The campaign says `pad popular`.
    pub pad: bool,
}

impl<'p> Context<'p> {
    /// A context for a campaign's messages: `trigger.*` is its event, if it
    /// has `trigger on E`.
    pub fn for_campaign(program: &'p Program<'p>, campaign: &ast::Campaign) -> Self {
        Context {
            program,
            trigger: trigger_event(campaign).and_then(|e| program.schema.event(e)),
            pad: crate::lists::pads(campaign),
        }
    }

    /// A context without a triggering event.
    pub fn new(program: &'p Program<'p>) -> Self {
        Context {
            program,
            trigger: None,
            pad: false,
        }
    }
}

/// The event of a campaign's `trigger on E`.
pub fn trigger_event(campaign: &ast::Campaign) -> Option<&str> {
    campaign.items.iter().find_map(|item| match item {
        ast::CampaignItem::Trigger(ast::Trigger {
            kind: ast::TriggerKind::On { event, .. },
            ..
        }) => Some(event.name.as_str()),
        _ => None,
    })
}

/// Compiles one template.
pub fn compile(cx: &Context, template: &ast::Template) -> Result<CompiledTemplate, TemplateError> {
    compile_in(cx, template, &[])
}

fn compile_in(cx: &Context, template: &ast::Template, lists: &[ListRef]) -> Result<CompiledTemplate, TemplateError> {
    let zone = cx
        .program
        .policy
        .timezone
        .as_deref()
        .filter(|z| z.parse::<chrono_tz::Tz>().is_ok())
        .unwrap_or(DEFAULT_ZONE)
        .to_string();
    let mut out = CompiledTemplate {
        parts: Vec::with_capacity(template.segments.len()),
        inputs: Vec::new(),
        zone,
        capacity: 0,
    };
    let parts = segments(cx, &template.segments, lists, None, &mut out)?;
    out.parts = parts;
    Ok(out)
}

/// A list of the message, as templates see it: its name and table.
#[derive(Clone, Copy)]
struct ListRef<'p> {
    name: &'p str,
    table: &'p TableModel,
}

fn segments(
    cx: &Context,
    segments_: &[TemplateSegment],
    lists: &[ListRef],
    var: Option<(&str, ListRef)>,
    out: &mut CompiledTemplate,
) -> Result<Vec<Part>, TemplateError> {
    let mut parts: Vec<Part> = Vec::with_capacity(segments_.len());
    for segment in segments_ {
        match segment {
            TemplateSegment::Text { text, .. } => {
                out.capacity += text.len();
                // Keep literal runs in one part.
                match parts.last_mut() {
                    Some(Part::Text { text: last }) => last.push_str(text),
                    _ => parts.push(Part::Text { text: text.clone() }),
                }
            }
            TemplateSegment::For(l) => {
                if var.is_some() {
                    return Err(TemplateError::new(l.span, "a loop inside a loop"));
                }
                let Some(list) = lists.iter().find(|x| x.name == l.list.name) else {
                    return Err(TemplateError::new(l.list.span, format!("unknown list `{}`", l.list.name)));
                };
                let body = self::segments(cx, &l.body, lists, Some((&l.var.name, *list)), out)?;
                parts.push(Part::Each {
                    list: list.name.to_string(),
                    parts: body,
                });
            }
            TemplateSegment::Placeholder(p) => {
                let head = p.path.segments.first().map_or("", |s| s.name.as_str());
                let rest = p.path.segments.get(1..).unwrap_or_default();
                if let Some(list) = lists.iter().find(|x| x.name == head) {
                    if matches!(rest, [c] if c.name == "count") && p.filters.is_empty() {
                        out.capacity += 2;
                        parts.push(Part::Count {
                            list: list.name.to_string(),
                        });
                        continue;
                    }
                    return Err(TemplateError::new(p.path.span, format!("`{head}` is a list, not one value")));
                }
                let item = match var {
                    Some((v, list)) if v == head => Some(item_source(cx, list, rest, p.path.span)?),
                    _ => None,
                };
                let mut placeholder = placeholder(cx, p, item)?;
                out.capacity += width(cx, &placeholder, p);
                if placeholder.source.is_stored() && !matches!(placeholder.source, Source::Item { .. }) {
                    let slot = match out.inputs.iter().position(|s| *s == placeholder.source) {
                        Some(i) => i,
                        None => {
                            out.inputs.push(placeholder.source.clone());
                            out.inputs.len() - 1
                        }
                    };
                    placeholder.slot = Some(slot);
                }
                parts.push(Part::Value(placeholder));
            }
        }
    }
    Ok(parts)
}

/// `p.name`, `p.maker.name` inside `#{for p in LIST}`.
fn item_source(cx: &Context, list: ListRef, rest: &[ast::Ident], span: Span) -> Result<(Source, ValueType), TemplateError> {
    let Some((name, rest)) = rest.split_first() else {
        return Err(TemplateError::new(span, "a row needs a field"));
    };
    let Some(field) = list.table.field(&name.name) else {
        return Err(TemplateError::new(
            name.span,
            format!("table `{}` has no field `{}`", list.table.name, name.name),
        ));
    };
    let (hops, ty) = follow(cx, field, rest)?;
    Ok((
        Source::Item {
            list: list.name.to_string(),
            column: field.name.clone(),
            hops,
        },
        ty,
    ))
}

fn placeholder(cx: &Context, p: &ast::Placeholder, item: Option<(Source, ValueType)>) -> Result<Placeholder, TemplateError> {
    let (source, ty) = match item {
        Some(found) => found,
        None => resolve(cx, &p.path)?,
    };
    let mut filters = Vec::with_capacity(p.filters.len());
    for f in &p.filters {
        if !filters.is_empty() {
            return Err(TemplateError::new(
                f.span,
                format!("`{}` cannot format the text of another filter", f.name.name),
            ));
        }
        let policy_text = !source.is_stored();
        let filter = match (f.name.name.as_str(), f.args.as_slice()) {
            (_, _) if policy_text => {
                return Err(TemplateError::new(f.span, format!("`{}` cannot format policy text", f.name.name)));
            }
            ("won", []) if ty.is_numeric() => Filter::Won,
            ("number", []) if ty.is_numeric() => Filter::Number,
            ("date", [pattern]) if matches!(ty, ValueType::Timestamp | ValueType::Date) => Filter::date(pattern.value.clone()),
            ("won" | "number" | "date", _) => {
                return Err(TemplateError::new(
                    f.span,
                    format!("`{}` cannot format {} value this way", f.name.name, ty.name()),
                ));
            }
            (other, _) => return Err(TemplateError::new(f.name.span, format!("unknown filter `{other}`"))),
        };
        filters.push(filter);
    }
    Ok(Placeholder {
        source,
        ty,
        filters,
        default: p.default.as_ref().map(|d| d.value.clone()),
        slot: None,
    })
}

/// What a placeholder path names, and the type of the value.
fn resolve(cx: &Context, path: &ast::Path) -> Result<(Source, ValueType), TemplateError> {
    let Some((first, rest)) = path.segments.split_first() else {
        return Err(TemplateError::new(path.span, "empty placeholder"));
    };
    let policy = &cx.program.policy;
    match first.name.as_str() {
        "sender" | "optout" if rest.is_empty() => {
            let text = if first.name == "sender" { &policy.sender } else { &policy.optout };
            let Some(t) = text else {
                return Err(TemplateError::new(first.span, format!("`{}` is not set in the policy", first.name)));
            };
            let source = if first.name == "sender" {
                Source::Sender { text: t.clone() }
            } else {
                Source::Optout {
                    text: t.clone(),
                    by_channel: policy.optout_by_channel.iter().cloned().collect(),
                }
            };
            Ok((source, ValueType::Text))
        }
        "trigger" => {
            let Some(event) = cx.trigger else {
                return Err(TemplateError::new(first.span, "`trigger` has no meaning here: no triggering event"));
            };
            let Some((name, rest)) = rest.split_first() else {
                return Err(TemplateError::new(first.span, "`trigger` needs a property"));
            };
            let Some(prop) = event.prop(&name.name) else {
                return Err(TemplateError::new(
                    name.span,
                    format!("event `{}` has no property `{}`", event.name, name.name),
                ));
            };
            let (hops, ty) = follow(cx, prop, rest)?;
            Ok((
                Source::Trigger {
                    event: event.name.clone(),
                    prop: prop.name.clone(),
                    hops,
                },
                ty,
            ))
        }
        head => {
            let customer = customer(cx, first.span)?;
            // `#{고객명}` is `#{customer.고객명}`.
            let (name, rest) = if head == "customer" {
                match rest.split_first() {
                    Some(split) => split,
                    None => return Err(TemplateError::new(first.span, "`customer` needs a field")),
                }
            } else {
                (first, rest)
            };
            let Some(field) = customer.field(&name.name) else {
                return Err(TemplateError::new(name.span, format!("unknown template variable `{}`", name.name)));
            };
            let (hops, ty) = follow(cx, field, rest)?;
            Ok((
                Source::Customer {
                    column: field.name.clone(),
                    hops,
                },
                ty,
            ))
        }
    }
}

fn customer<'p>(cx: &Context<'p>, span: Span) -> Result<&'p TableModel, TemplateError> {
    cx.program
        .schema
        .customer
        .as_ref()
        .ok_or_else(|| TemplateError::new(span, "the workspace has no customer table"))
}

/// Follows `ref` fields through lookup tables.
fn follow<'p>(cx: &Context<'p>, mut field: &'p FieldModel, rest: &[ast::Ident]) -> Result<(Vec<Hop>, ValueType), TemplateError> {
    let mut hops = Vec::with_capacity(rest.len());
    for name in rest {
        let FieldType::Ref(table_name) = &field.ty else {
            return Err(TemplateError::new(name.span, format!("`{}` has no fields", field.name)));
        };
        let Some(table) = cx.program.schema.table(table_name) else {
            return Err(TemplateError::new(name.span, format!("unknown table `{table_name}`")));
        };
        let Some(next) = table.field(&name.name) else {
            return Err(TemplateError::new(
                name.span,
                format!("table `{table_name}` has no field `{}`", name.name),
            ));
        };
        hops.push(Hop {
            table: table.name.clone(),
            source: table.source.clone(),
            key: table.key.clone(),
            column: next.name.clone(),
        });
        field = next;
    }
    match ValueType::of(&field.ty) {
        Some(ty) => Ok((hops, ty)),
        None => Err(TemplateError::new(
            rest.last().map_or(Span::default(), |n| n.span),
            format!("`{}` is a yes/no value and cannot be printed", field.name),
        )),
    }
}

/// The typical width in bytes of a printed placeholder (the reservation,
/// not a bound: a longer value only costs a reallocation).
fn width(cx: &Context, p: &Placeholder, ast: &ast::Placeholder) -> usize {
    const TEXT: usize = 24;
    let value = match (&p.source, p.filters.first()) {
        (Source::Sender { text } | Source::Optout { text, .. }, _) => text.len(),
        (_, Some(Filter::Date { tokens, .. })) => tokens.iter().map(DateToken::width).sum(),
        (_, Some(Filter::Won)) => 14,
        (_, Some(Filter::Number)) => 11,
        (_, None) => match p.ty {
            ValueType::Text => text_max(cx, ast).map_or(TEXT, |n| n.saturating_mul(3).min(4 * TEXT)),
            ValueType::Int | ValueType::Money | ValueType::Id => 8,
            ValueType::Decimal => 12,
            ValueType::Timestamp => 16,
            ValueType::Date => 10,
            ValueType::Enum | ValueType::Phone | ValueType::Tz => 16,
            ValueType::Email => TEXT,
        },
    };
    value.max(p.default.as_ref().map_or(0, String::len))
}

/// `max N` of a text placeholder's field, when declared.
fn text_max(cx: &Context, p: &ast::Placeholder) -> Option<usize> {
    let field = resolve_field(cx, &p.path)?;
    match field.ty {
        FieldType::Text { max: Some(n) } => usize::try_from(n).ok(),
        _ => None,
    }
}

fn resolve_field<'p>(cx: &Context<'p>, path: &ast::Path) -> Option<&'p FieldModel> {
    let (first, rest) = path.segments.split_first()?;
    let (mut field, rest) = match first.name.as_str() {
        "trigger" => {
            let (name, rest) = rest.split_first()?;
            (cx.trigger?.prop(&name.name)?, rest)
        }
        "customer" => {
            let (name, rest) = rest.split_first()?;
            (cx.program.schema.customer.as_ref()?.field(&name.name)?, rest)
        }
        _ => (cx.program.schema.customer.as_ref()?.field(&first.name)?, rest),
    };
    for name in rest {
        let FieldType::Ref(t) = &field.ty else { return None };
        field = cx.program.schema.table(t)?.field(&name.name)?;
    }
    Some(field)
}

/// A button: its label and its link, both templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledButton {
    pub label: CompiledTemplate,
    pub url: CompiledTemplate,
}

/// Every part of a message, compiled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledMessage {
    pub name: String,
    pub body: Option<CompiledTemplate>,
    pub subject: Option<CompiledTemplate>,
    pub title: Option<CompiledTemplate>,
    pub image: Option<CompiledTemplate>,
    /// The pre-approved Alimtalk template code.
    pub template_code: Option<String>,
    pub buttons: Vec<CompiledButton>,
    /// `format wide`: the brand message or RCS layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// A wide list's items (`label` is the item's text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<CompiledButton>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<CompiledCard>,
    /// The lists the texts iterate, evaluated at send time (their SQL is
    /// in the plan's queries, by message and list name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<ListSpec>,
}

/// One card of a carousel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledCard {
    pub title: Option<CompiledTemplate>,
    pub body: Option<CompiledTemplate>,
    pub image: Option<CompiledTemplate>,
    pub buttons: Vec<CompiledButton>,
}

/// One card, rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedCard {
    pub title: Option<String>,
    pub body: Option<String>,
    pub image: Option<String>,
    pub buttons: Vec<RenderedButton>,
}

/// A list of a message: its name, table, bound, and the fields of its rows
/// that the texts print (the list query selects the key, then these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListSpec {
    pub name: String,
    /// The schema's name of the table.
    pub table: String,
    /// At most this many rows.
    pub limit: u64,
    /// Each printed field: `name`, `maker.name`, with its `ValueType`.
    pub columns: Vec<ListColumn>,
    /// Short lists are filled from `popular(..)` (`pad popular`).
    #[serde(default)]
    pub pad: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListColumn {
    pub path: String,
    #[serde(rename = "type")]
    pub ty: ValueType,
}

impl ListSpec {
    /// The values of one row from the list query's cells after the key
    /// (in `columns` order), for rendering.
    pub fn row(&self, cells: impl IntoIterator<Item = Value>) -> Values {
        let mut v = Values::new();
        for (col, value) in self.columns.iter().zip(cells) {
            let mut parts = col.path.split('.');
            let column = parts.next().unwrap_or_default().to_string();
            let hops = parts
                .map(|c| Hop {
                    table: String::new(),
                    source: String::new(),
                    key: String::new(),
                    column: c.to_string(),
                })
                .collect();
            v.insert(
                Source::Item {
                    list: self.name.clone(),
                    column,
                    hops,
                },
                value,
            );
        }
        v
    }
}

/// A message rendered for one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedMessage {
    pub body: String,
    pub subject: Option<String>,
    pub title: Option<String>,
    pub image: Option<String>,
    pub template_code: Option<String>,
    pub buttons: Vec<RenderedButton>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<RenderedButton>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<RenderedCard>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedButton {
    pub label: String,
    pub url: String,
}

impl CompiledMessage {
    /// Every template of the message, body first.
    pub fn templates(&self) -> impl Iterator<Item = &CompiledTemplate> {
        [&self.body, &self.subject, &self.title, &self.image]
            .into_iter()
            .flatten()
            .chain(self.buttons.iter().chain(&self.items).flat_map(|b| [&b.label, &b.url]))
            .chain(self.cards.iter().flat_map(|c| {
                [&c.title, &c.body, &c.image]
                    .into_iter()
                    .flatten()
                    .chain(c.buttons.iter().flat_map(|b| [&b.label, &b.url]))
            }))
    }

    /// The stored values any part of the message prints, each once, in
    /// order of first use: what a render query must fetch.
    pub fn inputs(&self) -> Vec<&Source> {
        let mut out: Vec<&Source> = Vec::new();
        for s in self.templates().flat_map(|t| &t.inputs) {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// Values for this message from `(path, value)` pairs, such as a row of
    /// the render query (its columns are named by [`Source::path`]). Pairs
    /// for paths the message does not print are ignored; sources without a
    /// pair stay unbound.
    pub fn values<'v>(&self, row: impl IntoIterator<Item = (&'v str, Value)>) -> Values {
        let inputs = self.inputs();
        let paths: Vec<String> = inputs.iter().map(|s| s.path()).collect();
        let mut found: Vec<Option<Value>> = vec![None; inputs.len()];
        for (path, value) in row {
            if let Some(i) = paths.iter().position(|p| p == path) {
                found[i] = Some(value);
            }
        }
        // In input order, so the body finds each value at its slot.
        inputs
            .into_iter()
            .zip(found)
            .filter_map(|(s, v)| v.map(|v| (s.clone(), v)))
            .collect()
    }

    /// Renders every part with the same values.
    pub fn render(&self, values: &Values, zone: Option<&str>) -> Result<RenderedMessage, RenderError> {
        let part = |t: &Option<CompiledTemplate>| t.as_ref().map(|t| render(t, values, zone)).transpose();
        let buttons = |list: &[CompiledButton]| {
            list.iter()
                .map(|b| {
                    Ok(RenderedButton {
                        label: render(&b.label, values, zone)?,
                        url: render(&b.url, values, zone)?,
                    })
                })
                .collect::<Result<Vec<_>, RenderError>>()
        };
        Ok(RenderedMessage {
            body: part(&self.body)?.unwrap_or_default(),
            subject: part(&self.subject)?,
            title: part(&self.title)?,
            image: part(&self.image)?,
            template_code: self.template_code.clone(),
            buttons: buttons(&self.buttons)?,
            format: self.format.clone(),
            items: buttons(&self.items)?,
            cards: self
                .cards
                .iter()
                .map(|c| {
                    Ok(RenderedCard {
                        title: part(&c.title)?,
                        body: part(&c.body)?,
                        image: part(&c.image)?,
                        buttons: buttons(&c.buttons)?,
                    })
                })
                .collect::<Result<_, RenderError>>()?,
        })
    }

    /// Renders the message as `channel` carries it: the channel's own
    /// opt-out text in place of the policy's, and on a channel without
    /// buttons (an LMS fallback) each button printed as `label: url` on its
    /// own line at the end of the text.
    pub fn render_on(&self, channel: &str, values: &Values, zone: Option<&str>) -> Result<RenderedMessage, RenderError> {
        let own_optout = self.templates().flat_map(|t| &t.parts).any(
            |p| matches!(p, Part::Value(Placeholder { source: Source::Optout { by_channel, .. }, .. }) if by_channel.contains_key(channel)),
        );
        let mut rendered = if own_optout {
            let mut copy = self.clone();
            copy.for_each_template(|t| {
                for part in &mut t.parts {
                    if let Part::Value(Placeholder {
                        source: Source::Optout { text, by_channel },
                        ..
                    }) = part
                    {
                        if let Some(own) = by_channel.get(channel) {
                            *text = own.clone();
                        }
                    }
                }
            });
            copy.render(values, zone)?
        } else {
            self.render(values, zone)?
        };
        let takes_buttons = crate::channel::Channel::parse(channel).is_none_or(|c| c.limits().buttons > 0);
        if !takes_buttons {
            for b in std::mem::take(&mut rendered.buttons) {
                rendered.body.push('\n');
                rendered.body.push_str(&b.label);
                rendered.body.push_str(": ");
                rendered.body.push_str(&b.url);
            }
        }
        Ok(rendered)
    }

    fn for_each_template(&mut self, mut f: impl FnMut(&mut CompiledTemplate)) {
        for t in [&mut self.body, &mut self.subject, &mut self.title, &mut self.image]
            .into_iter()
            .flatten()
        {
            f(t);
        }
        for b in self.buttons.iter_mut().chain(self.items.iter_mut()) {
            f(&mut b.label);
            f(&mut b.url);
        }
        for c in &mut self.cards {
            for t in [&mut c.title, &mut c.body, &mut c.image].into_iter().flatten() {
                f(t);
            }
            for b in &mut c.buttons {
                f(&mut b.label);
                f(&mut b.url);
            }
        }
    }
}

/// Compiles every part of a message.
pub fn compile_message(cx: &Context, message: &ast::Message) -> Result<CompiledMessage, TemplateError> {
    let mut out = CompiledMessage {
        name: message.name.name.clone(),
        body: None,
        subject: None,
        title: None,
        image: None,
        template_code: None,
        buttons: Vec::new(),
        format: None,
        items: Vec::new(),
        cards: Vec::new(),
        lists: Vec::new(),
    };
    let schema = &cx.program.schema;
    let mut refs: Vec<ListRef> = Vec::new();
    for decl in crate::lists::lists(message) {
        let Some(table) = crate::lists::table_of(schema, cx.trigger, &decl.list.source) else {
            return Err(TemplateError::new(decl.span, format!("list `{}` has no table", decl.name.name)));
        };
        refs.push(ListRef {
            name: &decl.name.name,
            table,
        });
        let columns = crate::lists::item_columns(schema, table, message, &decl.name.name)
            .into_iter()
            .filter_map(|(path, ty)| ValueType::of(&ty).map(|ty| ListColumn { path, ty }))
            .collect();
        out.lists.push(ListSpec {
            name: decl.name.name.clone(),
            table: table.name.clone(),
            limit: decl.list.source.n().value.clamp(1, crate::lists::MAX_LEN),
            columns,
            pad: cx.pad,
        });
    }
    let compile = |t: &ast::Template| compile_in(cx, t, &refs);
    for part in &message.parts {
        match part {
            MessagePart::Format(f) => out.format = Some(f.name.clone()),
            MessagePart::Item { text, url, .. } => out.items.push(CompiledButton {
                label: compile(text)?,
                url: compile(url)?,
            }),
            MessagePart::Card(card) => {
                let mut c = CompiledCard {
                    title: None,
                    body: None,
                    image: None,
                    buttons: Vec::new(),
                };
                for p in &card.parts {
                    match p {
                        MessagePart::Title(t) => c.title = Some(compile(t)?),
                        MessagePart::Body(t) => c.body = Some(compile(t)?),
                        MessagePart::Image(t) => c.image = Some(compile(t)?),
                        MessagePart::Button { label, url, .. } => c.buttons.push(CompiledButton {
                            label: compile(label)?,
                            url: compile(url)?,
                        }),
                        _ => {}
                    }
                }
                out.cards.push(c);
            }
            MessagePart::Body(t) => out.body = Some(compile(t)?),
            MessagePart::Subject(t) => out.subject = Some(compile(t)?),
            MessagePart::Title(t) => out.title = Some(compile(t)?),
            MessagePart::Image(t) => out.image = Some(compile(t)?),
            MessagePart::TemplateCode(code) => out.template_code = Some(code.value.clone()),
            MessagePart::Button { label, url, .. } => out.buttons.push(CompiledButton {
                label: compile(label)?,
                url: compile(url)?,
            }),
            MessagePart::List(_) => {}
        }
    }
    Ok(out)
}

/// Compiles the message named `name` of the program.
pub fn compile_named(cx: &Context, name: &str) -> Result<CompiledMessage, TemplateError> {
    match cx.program.messages.get(name) {
        Some(m) => compile_message(cx, m),
        None => Err(TemplateError::new(Span::default(), format!("unknown message `{name}`"))),
    }
}
