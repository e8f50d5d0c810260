//! The customer schema, resolved from `schema { .. }`: tables, fields with
//! their types, events and where they are stored.

use crate::channel::{Channel, ContactKind};
use crate::codes;
use crate::diagnostic::{Diagnostic, Sink};
use crate::source::FileId;
use crate::suggest::help_for;
use crate::types::FieldType;
use camp_grammar::ast::{self, Literal, Span, TypeKind};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct FieldModel {
    pub name: String,
    pub alias: Option<String>,
    pub ty: FieldType,
    pub nullable: bool,
    pub default: Option<Literal>,
    pub doc: Option<String>,
    pub file: FileId,
    /// The field's name where it is declared.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableModel {
    pub name: String,
    /// The database table.
    pub source: String,
    pub key: String,
    pub fields: Vec<FieldModel>,
    pub file: FileId,
    pub span: Span,
}

impl TableModel {
    /// A field by name or alias.
    pub fn field(&self, name: &str) -> Option<&FieldModel> {
        self.fields.iter().find(|f| f.name == name || f.alias.as_deref() == Some(name))
    }

    /// Every name a field answers to, for suggestions.
    pub fn names(&self) -> impl Iterator<Item = &str> + Clone {
        self.fields
            .iter()
            .flat_map(|f| std::iter::once(f.name.as_str()).chain(f.alias.as_deref()))
    }
}

/// The shared events table's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsTableModel {
    pub source: String,
    pub customer_column: String,
    pub type_column: String,
    pub time_column: String,
    pub props_column: String,
    pub file: FileId,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventStorage {
    /// Rows of the shared events table, properties in its JSON column.
    Shared,
    /// A table of its own; properties are columns.
    Own {
        source: String,
        customer_column: String,
        time_column: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventModel {
    pub name: String,
    pub storage: EventStorage,
    pub props: Vec<FieldModel>,
    pub doc: Option<String>,
    pub file: FileId,
    pub span: Span,
}

impl EventModel {
    pub fn prop(&self, name: &str) -> Option<&FieldModel> {
        self.props.iter().find(|f| f.name == name || f.alias.as_deref() == Some(name))
    }
    pub fn names(&self) -> impl Iterator<Item = &str> + Clone {
        self.props
            .iter()
            .flat_map(|f| std::iter::once(f.name.as_str()).chain(f.alias.as_deref()))
    }
}

/// `contact FIELD for channel CHANNEL` in the customer block: the field
/// that channel reads its address from.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactModel {
    /// The channel's name, as the plan names it (`sms`, `friendtalk`).
    pub channel: String,
    /// The customer field (its name, not an alias).
    pub field: String,
    pub file: FileId,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaModel {
    pub customer: Option<TableModel>,
    pub tables: Vec<TableModel>,
    pub events_table: Option<EventsTableModel>,
    pub events: Vec<EventModel>,
    /// The customer block's `contact .. for channel ..` lines (checked).
    pub contacts: Vec<ContactModel>,
}

impl SchemaModel {
    pub fn table(&self, name: &str) -> Option<&TableModel> {
        self.tables.iter().find(|t| t.name == name)
    }
    pub fn event(&self, name: &str) -> Option<&EventModel> {
        self.events.iter().find(|e| e.name == name)
    }
    pub fn event_names(&self) -> impl Iterator<Item = &str> + Clone {
        self.events.iter().map(|e| e.name.as_str())
    }
    pub fn table_names(&self) -> impl Iterator<Item = &str> + Clone {
        self.tables.iter().map(|t| t.name.as_str())
    }
    /// The customer field a channel reads its address from: the schema's
    /// `contact FIELD for channel C` line for it (Kakao's `friendtalk` and
    /// `brand` share one), else the first customer field of the channel's
    /// contact type (`phone` for SMS, LMS, MMS, Kakao and RCS, `email`,
    /// `push_token`). None when the channel needs no address (a webhook
    /// without a `contact` line) or the schema has no such field.
    pub fn contact_field(&self, channel: &str) -> Option<&FieldModel> {
        let customer = self.customer.as_ref()?;
        let parsed = Channel::parse(channel);
        let kakao = |c: &str| matches!(Channel::parse(c), Some(Channel::Friendtalk | Channel::Brand));
        let line = self
            .contacts
            .iter()
            .find(|c| c.channel == channel)
            .or_else(|| self.contacts.iter().find(|c| kakao(channel) && kakao(&c.channel)));
        if let Some(line) = line {
            return customer.fields.iter().find(|f| f.name == line.field);
        }
        let want = parsed?.contact()?.field_type();
        customer.fields.iter().find(|f| f.ty == want)
    }

    /// The customer field that holds the time zone, if any.
    pub fn timezone_field(&self) -> Option<&FieldModel> {
        self.customer.as_ref()?.fields.iter().find(|f| f.ty == FieldType::Tz)
    }
}

/// Type names from other languages, and camp's name for them.
const SYNONYMS: &[(&str, &str)] = &[
    ("string", "text"),
    ("varchar", "text"),
    ("str", "text"),
    ("integer", "int"),
    ("number", "int"),
    ("bigint", "int"),
    ("long", "int"),
    ("boolean", "bool"),
    ("datetime", "timestamp"),
    ("timestamptz", "timestamp"),
    ("float", "decimal"),
    ("double", "decimal"),
    ("numeric", "decimal"),
    ("currency", "money"),
    ("krw", "money"),
    ("uuid", "id"),
    ("timezone", "tz"),
];

const TYPE_NAMES: &[&str] = &[
    "id",
    "text",
    "int",
    "decimal",
    "money",
    "bool",
    "timestamp",
    "date",
    "enum",
    "phone",
    "email",
    "push_token",
    "consent",
    "tz",
    "ref",
];

/// Builds the schema model from every `schema { .. }` block (there should be
/// one; more are reported as duplicates and merged so checking goes on).
pub fn build(schemas: &[(FileId, &ast::Schema)], sink: &mut Sink) -> SchemaModel {
    let mut model = SchemaModel::default();
    let mut first_schema: Option<(FileId, Span)> = None;
    for &(file, schema) in schemas {
        if let Some((first_file, first_span)) = first_schema {
            sink.push(
                Diagnostic::new(
                    codes::DUPLICATE,
                    file,
                    keyword_span(schema.span, "schema"),
                    "the workspace has two schemas",
                    "second `schema`",
                )
                .with_label(first_file, keyword_span(first_span, "schema"), "first `schema` here")
                .with_help("merge them into one `schema { .. }` block"),
            );
        } else {
            first_schema = Some((file, schema.span));
        }
        for item in &schema.items {
            collect_item(file, item, &mut model, sink);
        }
    }
    check_references(&model, sink);
    model
}

fn keyword_span(span: Span, keyword: &str) -> Span {
    Span::new(span.start, (span.start + keyword.len()).min(span.end))
}

fn collect_item(file: FileId, item: &ast::SchemaItem, model: &mut SchemaModel, sink: &mut Sink) {
    match item {
        ast::SchemaItem::Customer(decl) => {
            let table = table(file, decl, sink);
            if let Some(first) = &model.customer {
                sink.push(duplicate(file, decl.name.span, "customer table", "customer", first));
            } else {
                model.contacts = contacts(file, decl, &table, sink);
                model.customer = Some(table);
            }
        }
        ast::SchemaItem::Table(decl) => {
            let table = table(file, decl, sink);
            if let Some(first) = model.table(&table.name) {
                let d = duplicate(file, decl.name.span, "table", &table.name, first);
                sink.push(d);
            } else {
                model.tables.push(table);
            }
        }
        ast::SchemaItem::Events(decl) => {
            if let Some(first) = &model.events_table {
                sink.push(
                    Diagnostic::new(
                        codes::DUPLICATE,
                        file,
                        keyword_span(decl.span, "events"),
                        "the schema declares the shared events table twice",
                        "second `events` table",
                    )
                    .with_label(first.file, keyword_span(first.span, "events"), "first one here")
                    .with_help(
                        "keep one `events from ..` line; give other events a table of their own with `event NAME from \"TABLE\" ..`",
                    ),
                );
                return;
            }
            let mut missing = Vec::new();
            let mut column = |c: &Option<ast::Ident>, clause: &'static str| match c {
                Some(ident) => ident.name.clone(),
                None => {
                    missing.push(clause);
                    String::new()
                }
            };
            let events_table = EventsTableModel {
                source: decl.source.value.clone(),
                customer_column: column(&decl.customer, "customer COLUMN"),
                type_column: column(&decl.type_column, "type COLUMN"),
                time_column: column(&decl.time, "time COLUMN"),
                props_column: column(&decl.props, "props COLUMN"),
                file,
                span: decl.span,
            };
            if !missing.is_empty() {
                sink.push(
                    Diagnostic::new(
                        codes::EVENT_STORAGE,
                        file,
                        decl.span,
                        "the shared events table does not say where its columns are",
                        format!("missing {}", missing.join(", ")),
                    )
                    .with_help(format!(
                        "add {}",
                        missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" and ")
                    )),
                );
            }
            model.events_table = Some(events_table);
        }
        ast::SchemaItem::Event(decl) => {
            let props = fields(file, &decl.props, "property", sink);
            let storage = match &decl.table {
                None => EventStorage::Shared,
                Some(t) => {
                    let mut missing = Vec::new();
                    if t.customer.is_none() {
                        missing.push("customer COLUMN");
                    }
                    if t.time.is_none() {
                        missing.push("time COLUMN");
                    }
                    if !missing.is_empty() {
                        sink.push(
                            Diagnostic::new(
                                codes::EVENT_STORAGE,
                                file,
                                t.span,
                                format!("event `{}` does not say where its customer and time columns are", decl.name.name),
                                format!("missing {}", missing.join(", ")),
                            )
                            .with_help(format!(
                                "add {}",
                                missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" and ")
                            )),
                        );
                    }
                    EventStorage::Own {
                        source: t.source.value.clone(),
                        customer_column: t.customer.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
                        time_column: t.time.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
                    }
                }
            };
            let event = EventModel {
                name: decl.name.name.clone(),
                storage,
                props,
                doc: decl.doc.clone(),
                file,
                span: decl.name.span,
            };
            if let Some(first) = model.event(&event.name) {
                sink.push(
                    Diagnostic::new(
                        codes::DUPLICATE,
                        file,
                        decl.name.span,
                        format!("event `{}` is defined twice", event.name),
                        "second definition",
                    )
                    .with_label(first.file, first.span, "first defined here")
                    .with_help("remove one of them or rename it"),
                );
            } else {
                model.events.push(event);
            }
        }
    }
}

fn duplicate(file: FileId, span: Span, what: &str, name: &str, first: &TableModel) -> Diagnostic {
    Diagnostic::new(
        codes::DUPLICATE,
        file,
        span,
        format!("{what} `{name}` is defined twice"),
        "second definition",
    )
    .with_label(first.file, first.span, "first defined here")
    .with_help("remove one of them or rename it")
}

fn table(file: FileId, decl: &ast::TableDecl, sink: &mut Sink) -> TableModel {
    let fields = fields(file, &decl.fields, "field", sink);
    let table = TableModel {
        name: decl.name.name.clone(),
        source: decl.source.value.clone(),
        key: decl.key.name.clone(),
        fields,
        file,
        span: decl.name.span,
    };
    if table.fields.iter().all(|f| f.name != decl.key.name) {
        sink.push(
            Diagnostic::new(
                codes::BAD_KEY,
                file,
                decl.key.span,
                format!("key `{}` is not a field of `{}`", decl.key.name, table.name),
                "no such field",
            )
            .suggest(&decl.key.name, decl.key.span, table.fields.iter().map(|f| f.name.as_str()), "field"),
        );
    }
    table
}

/// The `contact FIELD for channel C` lines: a known channel, a customer
/// field, of the type the channel reads, one line per channel.
fn contacts(file: FileId, decl: &ast::TableDecl, table: &TableModel, sink: &mut Sink) -> Vec<ContactModel> {
    let mut out: Vec<ContactModel> = Vec::new();
    for line in &decl.contacts {
        let Some(channel) = Channel::parse(&line.channel.name) else {
            sink.push(
                Diagnostic::new(
                    codes::UNKNOWN_CHANNEL,
                    file,
                    line.channel.span,
                    format!("unknown channel `{}`", line.channel.name),
                    "not a channel",
                )
                .suggest(&line.channel.name, line.channel.span, Channel::names(), "channel"),
            );
            continue;
        };
        let Some(field) = table.field(&line.field.name) else {
            sink.push(
                Diagnostic::new(
                    codes::UNKNOWN_FIELD,
                    file,
                    line.field.span,
                    format!("`customer` has no field `{}`", line.field.name),
                    "no such field",
                )
                .suggest(&line.field.name, line.field.span, table.names(), "field"),
            );
            continue;
        };
        if let Some(kind) = channel.contact() {
            if field.ty != kind.field_type() {
                sink.push(wrong_contact_type(file, line, field, channel, kind, table));
                continue;
            }
        }
        if let Some(first) = out.iter().find(|c| c.channel == channel.name()) {
            sink.push(
                Diagnostic::new(
                    codes::DUPLICATE,
                    file,
                    line.span,
                    format!("channel `{}` is given a contact field twice", channel.name()),
                    "second `contact` line",
                )
                .with_label(first.file, first.span, "first one here")
                .with_help("keep one `contact .. for channel ..` line per channel"),
            );
            continue;
        }
        out.push(ContactModel {
            channel: channel.name().to_string(),
            field: field.name.clone(),
            file,
            span: line.span,
        });
    }
    out
}

fn wrong_contact_type(
    file: FileId,
    line: &ast::ContactDecl,
    field: &FieldModel,
    channel: Channel,
    kind: ContactKind,
    table: &TableModel,
) -> Diagnostic {
    let want = kind.field_type();
    let what = match kind {
        ContactKind::Phone => "a phone number",
        ContactKind::Email => "an email address",
        ContactKind::PushToken => "a push token",
    };
    let others: Vec<&str> = table.fields.iter().filter(|f| f.ty == want).map(|f| f.name.as_str()).collect();
    let help = match others.first() {
        Some(other) => format!(
            "name {} `{want}` field such as `{other}`, or declare `{}: {want}`",
            crate::types::article(&want.to_string()),
            field.name
        ),
        None => format!("declare the field as `{}: {want}`", field.name),
    };
    Diagnostic::new(
        codes::CONTACT_TYPE,
        file,
        line.field.span,
        format!(
            "`{}` is {:#}, but channel `{}` sends to {what}",
            field.name,
            field.ty,
            channel.name()
        ),
        format!("not {want:#} field"),
    )
    .with_label(field.file, field.span, format!("declared {:#} here", field.ty))
    .with_help(help)
}

fn fields(file: FileId, decls: &[ast::Field], what: &str, sink: &mut Sink) -> Vec<FieldModel> {
    let mut out: Vec<FieldModel> = Vec::with_capacity(decls.len());
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for decl in decls {
        let names = std::iter::once(&decl.name).chain(decl.alias.as_ref());
        for ident in names {
            if let Some(first) = seen.get(ident.name.as_str()) {
                sink.push(
                    Diagnostic::new(
                        codes::DUPLICATE,
                        file,
                        ident.span,
                        format!("{what} name `{}` is used twice", ident.name),
                        "second use",
                    )
                    .with_label(file, *first, "first used here")
                    .with_help("give each field and alias a name of its own"),
                );
            } else {
                seen.insert(&ident.name, ident.span);
            }
        }
        let Some(ty) = field_type(file, &decl.ty, sink) else {
            continue;
        };
        if let Some(default) = &decl.default {
            check_default(file, &ty, default, sink);
        }
        out.push(FieldModel {
            name: decl.name.name.clone(),
            alias: decl.alias.as_ref().map(|a| a.name.clone()),
            ty,
            nullable: decl.nullable,
            default: decl.default.clone(),
            doc: decl.doc.clone(),
            file,
            span: decl.name.span,
        });
    }
    out
}

fn field_type(file: FileId, ty: &ast::TypeExpr, sink: &mut Sink) -> Option<FieldType> {
    Some(match &ty.kind {
        TypeKind::Id => FieldType::Id,
        TypeKind::Text { max } => FieldType::Text { max: max.map(|m| m.value) },
        TypeKind::Int { max } => FieldType::Int { max: max.map(|m| m.value) },
        TypeKind::Decimal => FieldType::Decimal,
        TypeKind::Money { max } => FieldType::Money { max: max.map(|m| m.value) },
        TypeKind::Bool => FieldType::Bool,
        TypeKind::Timestamp => FieldType::Timestamp,
        TypeKind::Date => FieldType::Date,
        TypeKind::Enum(values) => {
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for v in values {
                if let Some(first) = seen.insert(&v.name, v.span) {
                    sink.push(
                        Diagnostic::new(
                            codes::DUPLICATE,
                            file,
                            v.span,
                            format!("enum value `{}` is listed twice", v.name),
                            "second time",
                        )
                        .with_label(file, first, "first here")
                        .with_help("remove the repeated value"),
                    );
                }
            }
            FieldType::Enum(values.iter().map(|v| v.name.clone()).collect())
        }
        TypeKind::Phone => FieldType::Phone,
        TypeKind::Email => FieldType::Email,
        TypeKind::PushToken => FieldType::PushToken,
        TypeKind::Consent => FieldType::Consent,
        TypeKind::Tz => FieldType::Tz,
        TypeKind::Ref(table) => FieldType::Ref(table.name.clone()),
        TypeKind::Unknown(name) => {
            let mut fix = None;
            let help = match SYNONYMS.iter().find(|(s, _)| s.eq_ignore_ascii_case(&name.name)) {
                Some((_, t)) => {
                    fix = Some(crate::diagnostic::Fix::rename(name.span, t));
                    format!("camp calls this type `{t}`")
                }
                None => match crate::suggest::did_you_mean(&name.name, TYPE_NAMES.iter().copied()) {
                    Some(t) => {
                        fix = Some(crate::diagnostic::Fix::rename(name.span, &t));
                        format!("did you mean `{t}`?")
                    }
                    None => format!(
                        "field types are {}",
                        TYPE_NAMES.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
                    ),
                },
            };
            sink.push(
                Diagnostic::new(
                    codes::UNKNOWN_TYPE,
                    file,
                    name.span,
                    format!("unknown type `{}`", name.name),
                    "not a field type",
                )
                .with_help(help)
                .with_fix(fix),
            );
            return None;
        }
    })
}

fn check_default(file: FileId, ty: &FieldType, default: &Literal, sink: &mut Sink) {
    let ok = match (ty, default) {
        (FieldType::Int { .. } | FieldType::Money { .. }, Literal::Int(_)) => true,
        (FieldType::Decimal, Literal::Int(_) | Literal::Decimal { .. }) => true,
        (FieldType::Bool | FieldType::Consent, Literal::Bool { .. }) => true,
        (FieldType::Text { .. } | FieldType::Phone | FieldType::Email | FieldType::PushToken | FieldType::Id, Literal::String(_)) => true,
        (FieldType::Id, Literal::Int(_)) => true,
        (FieldType::Tz, Literal::String(s)) => {
            if s.value.parse::<chrono_tz::Tz>().is_err() {
                sink.push(crate::check::timing::unknown_zone(file, s.span, &s.value));
            }
            true
        }
        (FieldType::Enum(values), Literal::Ident(v)) => {
            if !values.contains(&v.name) {
                sink.push(
                    Diagnostic::new(
                        codes::UNKNOWN_ENUM_VALUE,
                        file,
                        v.span,
                        format!("`{}` is not a value of this enum", v.name),
                        "not in the list",
                    )
                    .suggest(&v.name, v.span, values.iter().map(String::as_str), "value"),
                );
            }
            true
        }
        (FieldType::Enum(values), Literal::String(s)) => values.contains(&s.value),
        _ => false,
    };
    if !ok {
        sink.push(
            Diagnostic::new(
                codes::BAD_DEFAULT,
                file,
                default.span(),
                format!("default does not fit type `{ty}`"),
                "wrong kind of value",
            )
            .with_help(format!("write {ty:#} value, or remove the default")),
        );
    }
}

/// `ref T` must name a lookup table; events need somewhere to live.
fn check_references(model: &SchemaModel, sink: &mut Sink) {
    let all_fields = model
        .customer
        .iter()
        .chain(&model.tables)
        .flat_map(|t| &t.fields)
        .chain(model.events.iter().flat_map(|e| &e.props));
    for field in all_fields {
        if let FieldType::Ref(target) = &field.ty {
            if model.table(target).is_none() {
                sink.push(
                    Diagnostic::new(
                        codes::UNKNOWN_TABLE,
                        field.file,
                        field.span,
                        format!("`{}` refers to unknown table `{target}`", field.name),
                        "ref to a table that is not defined",
                    )
                    .with_help(help_for(target, model.table_names(), "table")),
                );
            }
        }
    }
    if model.events_table.is_none() {
        for event in &model.events {
            if event.storage == EventStorage::Shared {
                sink.push(
                    Diagnostic::new(
                        codes::EVENT_STORAGE,
                        event.file,
                        event.span,
                        format!("event `{}` has no table and there is no shared events table", event.name),
                        "stored nowhere",
                    )
                    .with_help("add `events from \"events\" customer customer_id type kind time occurred_at props properties` to the schema, or give the event a table with `from \"TABLE\" customer COL time COL`"),
                );
            }
        }
    }
}
