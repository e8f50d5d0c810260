//! The outline of one file: items, and inside the schema its tables,
//! fields, events and properties.

use camp_grammar::ast::{self, Item, SchemaItem};
use camp_grammar::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Schema,
    Policy,
    Table,
    Field,
    Event,
    Property,
    Segment,
    Message,
    Campaign,
    Variant,
}

/// A symbol of the outline: `span` covers it all, `name_span` its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineSymbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    pub span: Span,
    pub name_span: Span,
    pub children: Vec<OutlineSymbol>,
}

fn leaf(name: &str, kind: SymbolKind, span: Span, name_span: Span, detail: Option<String>) -> OutlineSymbol {
    OutlineSymbol {
        name: name.to_string(),
        detail,
        kind,
        span,
        name_span,
        children: Vec::new(),
    }
}

pub fn outline(file: &ast::File) -> Vec<OutlineSymbol> {
    file.items.iter().map(item).collect()
}

fn keyword(span: Span, len: usize) -> Span {
    Span::new(span.start, (span.start + len).min(span.end))
}

fn item(item: &Item) -> OutlineSymbol {
    match item {
        Item::Schema(s) => {
            let mut sym = leaf("schema", SymbolKind::Schema, s.span, keyword(s.span, 6), None);
            sym.children = s.items.iter().filter_map(schema_item).collect();
            sym
        }
        Item::Policy(p) => leaf("policy", SymbolKind::Policy, p.span, keyword(p.span, 6), None),
        Item::Segment(s) => leaf(&s.name.name, SymbolKind::Segment, s.span, s.name.span, Some("segment".into())),
        Item::Message(m) => leaf(&m.name.name, SymbolKind::Message, m.span, m.name.span, Some("message".into())),
        Item::AlimtalkTemplate(t) => leaf(
            &t.code.value,
            SymbolKind::Message,
            t.span,
            t.code.span,
            Some("alimtalk template".into()),
        ),
        Item::Campaign(c) => {
            let mut sym = leaf(&c.name.name, SymbolKind::Campaign, c.span, c.name.span, Some("campaign".into()));
            sym.children = c
                .items
                .iter()
                .filter_map(|i| match i {
                    ast::CampaignItem::Variant(v) => Some(leaf(
                        &v.name.name,
                        SymbolKind::Variant,
                        v.span,
                        v.name.span,
                        Some(format!("variant {}%", v.percent.value)),
                    )),
                    _ => None,
                })
                .collect();
            sym
        }
    }
}

fn fields(list: &[ast::Field], kind: SymbolKind) -> Vec<OutlineSymbol> {
    list.iter()
        .map(|f| {
            let detail = f.alias.as_ref().map(|a| format!("as {}", a.name));
            leaf(&f.name.name, kind, f.span, f.name.span, detail)
        })
        .collect()
}

fn schema_item(i: &SchemaItem) -> Option<OutlineSymbol> {
    Some(match i {
        SchemaItem::Customer(t) | SchemaItem::Table(t) => {
            let mut sym = leaf(
                &t.name.name,
                SymbolKind::Table,
                t.span,
                t.name.span,
                Some(format!("from {:?}", t.source.value)),
            );
            sym.children = fields(&t.fields, SymbolKind::Field);
            sym
        }
        SchemaItem::Event(e) => {
            let mut sym = leaf(&e.name.name, SymbolKind::Event, e.span, e.name.span, Some("event".into()));
            sym.children = fields(&e.props, SymbolKind::Property);
            sym
        }
        SchemaItem::Events(_) => return None,
    })
}
