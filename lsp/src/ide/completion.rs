//! What may be typed at the cursor: keywords for the place, schema fields
//! (and their Korean aliases) after `customer.`, events after `did`/`on`,
//! properties after `trigger.` and `where`, segments, messages, channels,
//! filters after `|` in a placeholder.

use super::context::{self, Block, Context};
use camp_compiler::channel::Channel;
use camp_compiler::schema::{FieldModel, SchemaModel, TableModel};
use camp_compiler::types::FieldType;
use camp_grammar::ast::{self, Item};
use camp_grammar::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Keyword,
    Field,
    Event,
    Property,
    Segment,
    Message,
    Channel,
    Filter,
    Type,
    Value,
    Variable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: ItemKind,
    pub detail: Option<String>,
    pub doc: Option<String>,
}

/// The items, and the span of the word they replace.
#[derive(Debug, Clone, Default)]
pub struct Completions {
    pub replace: Span,
    pub items: Vec<Completion>,
}

/// Everything completion may offer from a workspace.
pub struct Names<'a> {
    pub schema: &'a SchemaModel,
    pub asts: &'a [ast::File],
}

const ITEMS: &[&str] = &["schema", "policy", "segment", "message", "campaign"];
const CAMPAIGN: &[&str] = &[
    "kind",
    "channel",
    "trigger",
    "audience",
    "exit when",
    "wait",
    "send",
    "if",
    "quiet hours",
    "window",
    "cap",
    "priority",
    "variant",
    "holdout",
    "goal",
    "reentry",
];
const STEPS: &[&str] = &["wait", "send", "if", "else", "exit"];
const MESSAGE: &[&str] = &["subject", "title", "image", "template", "button"];
const POLICY: &[&str] = &["timezone", "sender", "optout", "quiet hours", "cap", "lifecycle"];
const SCHEMA: &[&str] = &["customer from", "table", "events from", "event"];
const CONDITION: &[&str] = &[
    "did",
    "not",
    "count(",
    "sum(",
    "avg(",
    "min(",
    "max(",
    "last",
    "first",
    "days since",
    "rfm(",
    "lifecycle(",
    "interval(",
    "now",
    "true",
    "false",
];
const TYPES: &[&str] = &[
    "id",
    "text",
    "int",
    "decimal",
    "money",
    "bool",
    "timestamp",
    "date",
    "enum(",
    "phone",
    "email",
    "push_token",
    "consent",
    "tz",
    "ref",
];
const FILTERS: &[(&str, &str)] = &[
    ("won", "12,900원: a number or money with thousands separators and 원"),
    ("number", "12,900: a number with thousands separators"),
    ("date", "date(\"M월 d일\"): a date or timestamp in a pattern"),
];
const CALLS: &[&str] = &["count", "sum", "avg", "min", "max", "rfm", "lifecycle", "interval"];

pub fn complete(text: &str, offset: usize, names: &Names) -> Completions {
    let (cx, replace) = context::at(text, offset);
    let items = match cx {
        Context::Nothing => Vec::new(),
        Context::Placeholder { filter: true, .. } => FILTERS
            .iter()
            .map(|(f, d)| item(f, ItemKind::Filter, Some(d.to_string())))
            .collect(),
        Context::Placeholder { chain, .. } => placeholder(text, offset, &chain, names),
        Context::Code {
            before,
            chain,
            line_start,
            block,
        } => code(text, offset, &before, chain.as_deref(), line_start, block, names),
    };
    Completions { replace, items }
}

fn item(label: &str, kind: ItemKind, detail: Option<String>) -> Completion {
    Completion {
        label: label.to_string(),
        kind,
        detail,
        doc: None,
    }
}

fn keywords(words: &[&str]) -> Vec<Completion> {
    words.iter().map(|w| item(w, ItemKind::Keyword, None)).collect()
}

fn code(
    text: &str,
    offset: usize,
    before: &[String],
    chain: Option<&[String]>,
    line_start: bool,
    block: Block,
    names: &Names,
) -> Vec<Completion> {
    let p1 = before.last().map(String::as_str).unwrap_or("");
    let p2 = before
        .len()
        .checked_sub(2)
        .and_then(|i| before.get(i))
        .map(String::as_str)
        .unwrap_or("");
    if let Some(chain) = chain {
        return path(text, offset, chain, names);
    }
    if line_start && !continues(p1) {
        return match block {
            Block::Top => keywords(ITEMS),
            Block::Campaign => keywords(CAMPAIGN),
            Block::Steps => keywords(STEPS),
            Block::Message => keywords(MESSAGE),
            Block::Policy => keywords(POLICY),
            Block::Schema => keywords(SCHEMA),
            Block::Fields | Block::Other => Vec::new(),
        };
    }
    let schema = names.schema;
    match (p2, p1) {
        (_, "did" | "last" | "first" | "goal") | ("trigger", "on") => events(schema),
        (call, "(") if CALLS.contains(&call) => events(schema),
        (_, "send") => messages(names),
        (_, "channel" | "fallback" | "via") => Channel::names().map(|c| item(c, ItemKind::Channel, None)).collect(),
        (_, "kind") => keywords(&["ad", "info"]),
        (_, "trigger") => keywords(&["on", "at", "every"]),
        (_, "every") => keywords(camp_grammar::words::EVERY_WORDS),
        (_, "wait") => keywords(&["until"]),
        (_, "exit") => keywords(&["when"]),
        (_, "reentry") => keywords(&["never", "after", "restart", "always"]),
        (_, "expires") => keywords(&["at", "after"]),
        (_, "quiet") => keywords(&["hours"]),
        (_, "for") => keywords(&["kind", "channel"]),
        (_, ":") if block == Block::Fields => keywords(TYPES),
        (event, "where") => match schema.event(event) {
            Some(e) => props(e.props.iter(), &e.name),
            None => condition(text, offset, names),
        },
        (_, "==" | "!=") => enum_values(text, offset, before, names).unwrap_or_else(|| condition(text, offset, names)),
        (_, "=" | "audience" | "and" | "or" | "not" | "when" | "if" | "unless" | "(") => condition(text, offset, names),
        _ => Vec::new(),
    }
}

/// Whether a line ending in `word` goes on on the next line.
fn continues(word: &str) -> bool {
    matches!(
        word,
        "=" | "and" | "or" | "not" | "where" | "when" | "unless" | "," | "(" | "->" | "==" | "!=" | "<" | ">" | "<=" | ">="
    )
}

fn events(schema: &SchemaModel) -> Vec<Completion> {
    schema
        .events
        .iter()
        .map(|e| {
            let props: Vec<String> = e.props.iter().map(|p| format!("{}: {}", p.name, p.ty)).collect();
            Completion {
                label: e.name.clone(),
                kind: ItemKind::Event,
                detail: Some(format!("event {{ {} }}", props.join(", "))),
                doc: e.doc.clone(),
            }
        })
        .collect()
}

fn messages(names: &Names) -> Vec<Completion> {
    items_of(names.asts)
        .filter_map(|i| match i {
            Item::Message(m) => Some(Completion {
                label: m.name.name.clone(),
                kind: ItemKind::Message,
                detail: Some("message".to_string()),
                doc: m.doc.clone(),
            }),
            _ => None,
        })
        .collect()
}

fn segments(names: &Names) -> Vec<Completion> {
    items_of(names.asts)
        .filter_map(|i| match i {
            Item::Segment(s) => Some(Completion {
                label: s.name.name.clone(),
                kind: ItemKind::Segment,
                detail: Some("segment".to_string()),
                doc: s.doc.clone(),
            }),
            _ => None,
        })
        .collect()
}

fn items_of(asts: &[ast::File]) -> impl Iterator<Item = &Item> {
    asts.iter().flat_map(|f| &f.items)
}

/// A condition may start here: segments, `customer`, `trigger`, and the
/// condition keywords.
fn condition(text: &str, offset: usize, names: &Names) -> Vec<Completion> {
    let mut out = segments(names);
    out.push(item(
        "customer",
        ItemKind::Variable,
        Some("the customer's fields: `customer.FIELD`".into()),
    ));
    if trigger_events(text, offset, names).next().is_some() {
        out.push(item(
            "trigger",
            ItemKind::Variable,
            Some("the triggering event: `trigger.PROPERTY`".into()),
        ));
    }
    out.extend(keywords(CONDITION));
    out
}

/// Fields (and aliases) of a table.
fn fields(table: &TableModel, prefix: &str) -> Vec<Completion> {
    let mut out = Vec::new();
    for f in &table.fields {
        out.push(field_item(f, &f.name, prefix));
        if let Some(alias) = &f.alias {
            let mut alias_item = field_item(f, alias, prefix);
            alias_item.detail = Some(format!("{} (alias of `{}`)", f.ty, f.name));
            out.push(alias_item);
        }
    }
    out
}

fn field_item(f: &FieldModel, label: &str, prefix: &str) -> Completion {
    let null = if f.nullable { "?" } else { "" };
    Completion {
        label: label.to_string(),
        kind: ItemKind::Field,
        detail: Some(format!("{prefix}{}: {}{null}", f.name, f.ty)),
        doc: f.doc.clone(),
    }
}

fn props<'a>(list: impl Iterator<Item = &'a FieldModel>, event: &str) -> Vec<Completion> {
    list.map(|p| {
        let mut c = field_item(p, &p.name, &format!("{event}."));
        c.kind = ItemKind::Property;
        c
    })
    .collect()
}

/// After `a.b.`: fields, properties, or rfm scores.
fn path(text: &str, offset: usize, chain: &[String], names: &Names) -> Vec<Completion> {
    let schema = names.schema;
    let Some((first, rest)) = chain.split_first() else {
        return Vec::new();
    };
    match first.as_str() {
        ")" => keywords(&["r", "f", "m"]),
        "customer" => match schema.customer.as_ref().and_then(|c| walk(schema, c, rest)) {
            Some(t) => fields(t, "customer."),
            None => Vec::new(),
        },
        "trigger" => {
            let mut out = Vec::new();
            for event in trigger_events(text, offset, names) {
                let Some(e) = schema.event(&event) else { continue };
                match rest.split_first() {
                    None => out.extend(props(e.props.iter(), &e.name)),
                    Some((p, more)) => {
                        if let Some(FieldType::Ref(t)) = e.prop(p).map(|p| &p.ty) {
                            if let Some(t) = schema.table(t).and_then(|t| walk(schema, t, more)) {
                                out.extend(fields(t, ""));
                            }
                        }
                    }
                }
            }
            out
        }
        event if rest.is_empty() && schema.event(event).is_some() => match schema.event(event) {
            Some(e) => props(e.props.iter(), &e.name),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Follows `ref` fields named in `rest` from `table`.
fn walk<'a>(schema: &'a SchemaModel, table: &'a TableModel, rest: &[String]) -> Option<&'a TableModel> {
    let mut t = table;
    for name in rest {
        match &t.field(name)?.ty {
            FieldType::Ref(next) => t = schema.table(next)?,
            _ => return None,
        }
    }
    Some(t)
}

/// Inside `#{..}`: variables, or fields after `customer.` / `trigger.`.
fn placeholder(text: &str, offset: usize, chain: &[String], names: &Names) -> Vec<Completion> {
    let schema = names.schema;
    if !chain.is_empty() {
        if chain[0] == "customer" || chain[0] == "trigger" {
            return path(text, offset, chain, names);
        }
        // `#{alias.` through a ref field of the customer.
        let mut full = vec!["customer".to_string()];
        full.extend(chain.iter().cloned());
        return path(text, offset, &full, names);
    }
    let mut out = match &schema.customer {
        Some(c) => fields(c, "customer."),
        None => Vec::new(),
    };
    out.push(item("customer", ItemKind::Variable, None));
    if trigger_events(text, offset, names).next().is_some() {
        out.push(item("trigger", ItemKind::Variable, None));
    }
    out.push(item("sender", ItemKind::Variable, Some("the policy's sender line".into())));
    out.push(item("optout", ItemKind::Variable, Some("the policy's free opt-out line".into())));
    out
}

/// After `customer.tier ==`: the enum's values.
fn enum_values(text: &str, offset: usize, before: &[String], names: &Names) -> Option<Vec<Completion>> {
    let op = before.len().checked_sub(1)?;
    let mut words = Vec::new();
    let mut i = op;
    while i > 0 {
        i -= 1;
        match before[i].as_str() {
            "." => continue,
            w if w.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') => words.push(w.to_string()),
            _ => break,
        }
        if i == 0 || before[i - 1] != "." {
            break;
        }
    }
    words.reverse();
    let (first, rest) = words.split_first()?;
    let schema = names.schema;
    let field = match first.as_str() {
        "customer" => {
            let (last, mid) = rest.split_last()?;
            walk(schema, schema.customer.as_ref()?, mid)?.field(last)?
        }
        "trigger" => {
            let name = rest.first()?;
            let event = trigger_events(text, offset, names).next()?;
            schema.event(&event)?.prop(name)?
        }
        _ => return None,
    };
    match &field.ty {
        FieldType::Enum(values) => Some(values.iter().map(|v| item(v, ItemKind::Value, None)).collect()),
        _ => None,
    }
}

/// The trigger events of the item at `offset`: a campaign's `trigger on E`,
/// or, in a message, those of the campaigns that send it.
fn trigger_events<'a>(text: &str, offset: usize, names: &'a Names) -> impl Iterator<Item = String> + 'a {
    let item = enclosing_item(text, offset);
    let mut out: Vec<String> = Vec::new();
    if let Some((keyword, name, body)) = item {
        match keyword.as_str() {
            "campaign" => {
                let words: Vec<&str> = body.split_whitespace().collect();
                if let Some(w) = words.windows(3).find(|w| w[0] == "trigger" && w[1] == "on") {
                    out.push(w[2].trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_').to_string());
                }
            }
            "message" => {
                for item in items_of(names.asts) {
                    let Item::Campaign(c) = item else { continue };
                    let event = c.items.iter().find_map(|i| match i {
                        ast::CampaignItem::Trigger(ast::Trigger {
                            kind: ast::TriggerKind::On { event, .. },
                            ..
                        }) => Some(event.name.clone()),
                        _ => None,
                    });
                    if let Some(event) = event {
                        if sends(c, &name) && !out.contains(&event) {
                            out.push(event);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out.into_iter()
}

fn sends(c: &ast::Campaign, message: &str) -> bool {
    fn any(steps: &[ast::Step], message: &str) -> bool {
        steps.iter().any(|s| match &s.kind {
            ast::StepKind::Send { message: m, .. } => m.name == message,
            ast::StepKind::If { then, otherwise, .. } => any(then, message) || otherwise.as_deref().is_some_and(|o| any(o, message)),
            _ => false,
        })
    }
    c.items.iter().any(|i| match i {
        ast::CampaignItem::Step(s) => any(std::slice::from_ref(s), message),
        ast::CampaignItem::Variant(v) => any(&v.steps, message),
        _ => false,
    })
}

/// The top-level item around `offset`: its keyword, its name and its text
/// up to the cursor, found from the last line starting in column 0 with an
/// item keyword.
fn enclosing_item(text: &str, offset: usize) -> Option<(String, String, &str)> {
    let head = text.get(..offset)?;
    let mut start = None;
    let mut line_start = 0;
    for line in head.split_inclusive('\n') {
        if ITEMS.iter().any(|k| line.starts_with(k)) {
            start = Some(line_start);
        }
        line_start += line.len();
    }
    let start = start?;
    let body = &text[start..offset];
    let mut words = body.split_whitespace();
    let keyword = words.next()?.to_string();
    let name = words
        .next()
        .unwrap_or("")
        .trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_')
        .to_string();
    Some((keyword, name, body))
}
