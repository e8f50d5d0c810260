//! `schema { .. }`: tables, fields and events.

use super::{child, kids, only, rel_end, rel_start, Build, Ctx, P};
use crate::ast::{
    ContactDecl, EventDecl, EventTable, EventsTable, Field, Ident, Literal, Schema, SchemaItem, TableDecl, TypeExpr, TypeKind,
};
use crate::grammar::Rule;

pub(super) fn schema(cx: &mut Ctx, p: &P) -> Build<Schema> {
    let span = cx.span(p);
    let mut items = Vec::new();
    let mut prev_end = rel_start(p);
    for k in kids(p) {
        if k.as_rule() == Rule::schema_entry {
            let entry = only(cx, &k)?;
            items.push(schema_item(cx, &entry, prev_end)?);
        }
        prev_end = rel_end(cx, &k);
    }
    Ok(Schema { items, span })
}

fn schema_item(cx: &mut Ctx, p: &P, prev_end: usize) -> Build<SchemaItem> {
    Ok(match p.as_rule() {
        Rule::customer_decl => SchemaItem::Customer(table(cx, p)?),
        Rule::table_decl => SchemaItem::Table(table(cx, p)?),
        Rule::events_decl => SchemaItem::Events(events(cx, p)?),
        Rule::event_decl => {
            let doc = cx.doc(prev_end, rel_start(p));
            SchemaItem::Event(event(cx, p, doc)?)
        }
        _ => return Err(cx.internal(cx.span(p), "schema entry")),
    })
}

/// `customer from "T" key K { .. }` (named by its keyword) or `table N from "T" key K { .. }`.
fn table(cx: &mut Ctx, p: &P) -> Build<TableDecl> {
    let span = cx.span(p);
    let mut idents = Vec::new();
    let (mut name, mut source, mut fields) = (None, None, None);
    let mut contacts = Vec::new();
    for k in kids(p) {
        match k.as_rule() {
            Rule::kw_customer => name = Some(cx.ident(&k)),
            Rule::ident => idents.push(cx.ident(&k)),
            Rule::string => source = Some(cx.string(&k)),
            Rule::field_block => fields = Some(field_block(cx, &k)?),
            Rule::customer_block => {
                let (f, c) = customer_block(cx, &k)?;
                fields = Some(f);
                contacts = c;
            }
            _ => {}
        }
    }
    // `table NAME .. key KEY` has two names; `customer .. key KEY` has one.
    let key = idents.pop();
    let name = name.or_else(|| idents.pop());
    Ok(TableDecl {
        name: cx.need(name, span, "table name")?,
        source: cx.need(source, span, "table source")?,
        key: cx.need(key, span, "key column")?,
        fields: cx.need(fields, span, "fields")?,
        contacts,
        span,
    })
}

/// The customer's `{ .. }`: fields and `contact .. for channel ..` lines.
fn customer_block(cx: &mut Ctx, p: &P) -> Build<(Vec<Field>, Vec<ContactDecl>)> {
    let mut fields = Vec::new();
    let mut contacts = Vec::new();
    let mut prev_end = rel_start(p);
    for k in kids(p) {
        match k.as_rule() {
            Rule::field => {
                let doc = cx.doc(prev_end, rel_start(&k));
                fields.push(field(cx, &k, doc)?);
            }
            Rule::contact_decl => contacts.push(contact(cx, &k)?),
            _ => {}
        }
        prev_end = rel_end(cx, &k);
    }
    Ok((fields, contacts))
}

/// `contact FIELD for channel CHANNEL`
fn contact(cx: &mut Ctx, p: &P) -> Build<ContactDecl> {
    let span = cx.span(p);
    let idents: Vec<Ident> = kids(p).filter(|k| k.as_rule() == Rule::ident).map(|k| cx.ident(&k)).collect();
    let mut idents = idents.into_iter();
    let field = idents.next();
    let channel = idents.next();
    Ok(ContactDecl {
        field: cx.need(field, span, "contact field")?,
        channel: cx.need(channel, span, "channel")?,
        span,
    })
}

pub(super) fn field_block(cx: &mut Ctx, p: &P) -> Build<Vec<Field>> {
    let mut fields = Vec::new();
    let mut prev_end = rel_start(p);
    for k in kids(p) {
        if k.as_rule() == Rule::field {
            let doc = cx.doc(prev_end, rel_start(&k));
            fields.push(field(cx, &k, doc)?);
        }
        prev_end = rel_end(cx, &k);
    }
    Ok(fields)
}

fn field(cx: &mut Ctx, p: &P, doc: Option<String>) -> Build<Field> {
    let span = cx.span(p);
    let (mut name, mut ty, mut nullable, mut default, mut alias) = (None, None, false, None, None);
    let mut after_as = false;
    for k in kids(p) {
        match k.as_rule() {
            Rule::ident if after_as => alias = Some(cx.ident(&k)),
            Rule::ident => name = Some(cx.ident(&k)),
            Rule::type_expr => ty = Some(type_expr(cx, &k)?),
            Rule::question => nullable = true,
            Rule::literal => default = Some(literal(cx, &k)?),
            Rule::kw_as => after_as = true,
            _ => {}
        }
    }
    Ok(Field {
        doc,
        name: cx.need(name, span, "field name")?,
        ty: cx.need(ty, span, "type")?,
        nullable,
        default,
        alias,
        span,
    })
}

fn type_expr(cx: &mut Ctx, p: &P) -> Build<TypeExpr> {
    let span = cx.span(p);
    let idents: Vec<Ident> = kids(p).filter(|k| k.as_rule() == Rule::ident).map(|k| cx.ident(&k)).collect();
    let kind = if child(p, Rule::kw_enum).is_some() {
        TypeKind::Enum(idents)
    } else if child(p, Rule::kw_ref).is_some() {
        TypeKind::Ref(cx.need(idents.into_iter().next(), span, "table name")?)
    } else {
        let name = cx.need(idents.into_iter().next(), span, "type name")?;
        let max = match child(p, Rule::type_max).and_then(|m| child(&m, Rule::int)) {
            Some(n) => Some(cx.int(&n)?),
            None => None,
        };
        let type_name = name.name.clone();
        match type_name.as_str() {
            "text" => TypeKind::Text { max },
            "int" => TypeKind::Int { max },
            "money" => TypeKind::Money { max },
            _ if max.is_some() => {
                return Err(cx.fail(
                    span,
                    format!("`{}` takes no `(max N)`", name.name),
                    "no maximum here",
                    Some("only `text`, `int` and `money` have a maximum"),
                ))
            }
            "id" => TypeKind::Id,
            "decimal" => TypeKind::Decimal,
            "bool" => TypeKind::Bool,
            "timestamp" => TypeKind::Timestamp,
            "date" => TypeKind::Date,
            "phone" => TypeKind::Phone,
            "email" => TypeKind::Email,
            "push_token" => TypeKind::PushToken,
            "consent" => TypeKind::Consent,
            "tz" => TypeKind::Tz,
            _ => TypeKind::Unknown(name),
        }
    };
    Ok(TypeExpr { kind, span })
}

fn literal(cx: &mut Ctx, p: &P) -> Build<Literal> {
    let span = cx.span(p);
    let inner = only(cx, p)?;
    Ok(match inner.as_rule() {
        Rule::int => Literal::Int(cx.int(&inner)?),
        Rule::decimal => Literal::Decimal {
            value: cx.decimal(&inner)?,
            span,
        },
        Rule::string => Literal::String(cx.string(&inner)),
        Rule::kw_true => Literal::Bool { value: true, span },
        Rule::kw_false => Literal::Bool { value: false, span },
        Rule::ident => Literal::Ident(cx.ident(&inner)),
        _ => return Err(cx.internal(span, "value")),
    })
}

fn events(cx: &mut Ctx, p: &P) -> Build<EventsTable> {
    let span = cx.span(p);
    let source = child(p, Rule::string).map(|s| cx.string(&s));
    let mut table = EventsTable {
        source: cx.need(source, span, "events source")?,
        customer: None,
        type_column: None,
        time: None,
        props: None,
        span,
    };
    for clause in kids(p).filter(|k| k.as_rule() == Rule::events_clause) {
        let (word, column) = clause_parts(cx, &clause)?;
        let slot = match word.as_str() {
            "customer" => &mut table.customer,
            "type" => &mut table.type_column,
            "time" => &mut table.time,
            _ => &mut table.props,
        };
        set_once(cx, slot, column, &word);
    }
    Ok(table)
}

fn event(cx: &mut Ctx, p: &P, doc: Option<String>) -> Build<EventDecl> {
    let span = cx.span(p);
    let name = child(p, Rule::ident).map(|n| cx.ident(&n));
    let table = match child(p, Rule::event_table) {
        Some(t) => Some(event_table(cx, &t)?),
        None => None,
    };
    let props = match child(p, Rule::field_block) {
        Some(b) => field_block(cx, &b)?,
        None => Vec::new(),
    };
    Ok(EventDecl {
        doc,
        name: cx.need(name, span, "event name")?,
        table,
        props,
        span,
    })
}

fn event_table(cx: &mut Ctx, p: &P) -> Build<EventTable> {
    let span = cx.span(p);
    let source = child(p, Rule::string).map(|s| cx.string(&s));
    let mut table = EventTable {
        source: cx.need(source, span, "event source")?,
        customer: None,
        time: None,
        span,
    };
    for clause in kids(p).filter(|k| k.as_rule() == Rule::event_table_clause) {
        let (word, column) = clause_parts(cx, &clause)?;
        let slot = match word.as_str() {
            "customer" => &mut table.customer,
            _ => &mut table.time,
        };
        set_once(cx, slot, column, &word);
    }
    Ok(table)
}

/// `customer customer_id` -> ("customer", ident)
fn clause_parts(cx: &mut Ctx, p: &P) -> Build<(String, Ident)> {
    let span = cx.span(p);
    let word = kids(p).next().map(|k| k.as_str().to_string());
    let column = child(p, Rule::ident).map(|k| cx.ident(&k));
    Ok((cx.need(word, span, "clause")?, cx.need(column, span, "column")?))
}

/// Fills a clause slot; a second clause of the same kind is an error.
fn set_once(cx: &mut Ctx, slot: &mut Option<Ident>, column: Ident, word: &str) {
    if slot.is_some() {
        // Reported, not fatal: the first clause stands.
        let _ = cx.fail(
            column.span,
            format!("the `{word}` column is given twice"),
            "second definition",
            Some("keep one of the two clauses"),
        );
        return;
    }
    *slot = Some(column);
}
