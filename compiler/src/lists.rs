//! Lists of rows of a lookup table (DESIGN §3.4): what the checker, the
//! lowering and the template compiler agree on.
//!
//! - The purchase event is the event named `purchase`; its item is its
//!   first `ref T` property to the list's table, its order its `order_id`
//!   property (one event per line item).
//! - Default windows: `also_bought` 180 days, `popular` 90 days (and the
//!   `pad popular` fill); `recent` reads the whole visible history.

use crate::schema::{EventModel, EventStorage, FieldModel, SchemaModel, TableModel};
use crate::types::FieldType;
use camp_grammar::ast::{self, ListSource};

/// The event whose lines `also_bought`, `popular` and `exclude purchased` read.
pub const PURCHASE: &str = "purchase";
/// The purchase event's order property.
pub const ORDER: &str = "order_id";
/// The longest list a message may print.
pub const MAX_LEN: u64 = 50;
pub const ALSO_BOUGHT_DAYS: u64 = 180;
pub const POPULAR_DAYS: u64 = 90;

/// The first `ref table` property of an event.
pub fn item_prop<'s>(event: &'s EventModel, table: &str) -> Option<&'s FieldModel> {
    event.props.iter().find(|p| matches!(&p.ty, FieldType::Ref(t) if t == table))
}

/// The purchase event, its item property (a `ref` to `table`) and its
/// order property.
pub fn purchase<'s>(schema: &'s SchemaModel, table: &str) -> Option<(&'s EventModel, &'s FieldModel, &'s FieldModel)> {
    let ev = schema.event(PURCHASE)?;
    let item = item_prop(ev, table)?;
    let order = ev.prop(ORDER)?;
    Some((ev, item, order))
}

/// The table a list's rows come from, as far as it can be told from the
/// schema (`None` when a name is unknown: already reported).
pub fn table_of<'s>(schema: &'s SchemaModel, trigger: Option<&'s EventModel>, source: &ListSource) -> Option<&'s TableModel> {
    match source {
        ListSource::Recent { event, prop, .. } => {
            let FieldType::Ref(t) = &schema.event(&event.name)?.prop(&prop.name)?.ty else {
                return None;
            };
            schema.table(t)
        }
        ListSource::Popular { table, .. } => schema.table(&table.name),
        ListSource::AlsoBought { anchor, .. } => {
            let field = anchor_field(schema, trigger, anchor)?;
            let FieldType::Ref(t) = &field.ty else { return None };
            schema.table(t)
        }
    }
}

/// What `also_bought(X, ..)`'s X names: `trigger.p`, `customer.f`, through
/// `ref` hops.
pub fn anchor_field<'s>(schema: &'s SchemaModel, trigger: Option<&'s EventModel>, path: &ast::Path) -> Option<&'s FieldModel> {
    let (first, rest) = path.segments.split_first()?;
    let (mut field, rest) = match first.name.as_str() {
        "trigger" => {
            let (p, rest) = rest.split_first()?;
            (trigger?.prop(&p.name)?, rest)
        }
        "customer" => {
            let (f, rest) = rest.split_first()?;
            (schema.customer.as_ref()?.field(&f.name)?, rest)
        }
        _ => (schema.customer.as_ref()?.field(&first.name)?, rest),
    };
    for name in rest {
        let FieldType::Ref(t) = &field.ty else { return None };
        field = schema.table(t)?.field(&name.name)?;
    }
    Some(field)
}

/// A lookup table seen as an event whose properties are its fields, so
/// that conditions on an item's fields (`where stock == 0`) are checked and
/// lowered as `did E where ..` filters are.
pub fn table_as_event(t: &TableModel) -> EventModel {
    EventModel {
        name: t.name.clone(),
        storage: EventStorage::Own {
            source: t.source.clone(),
            customer_column: String::new(),
            time_column: String::new(),
        },
        props: t.fields.clone(),
        doc: None,
        file: t.file,
        span: t.span,
    }
}

/// The window of a list in seconds (`None`: the whole history).
pub fn window_seconds(source: &ListSource) -> Option<u64> {
    match source {
        ListSource::Recent { .. } => None,
        ListSource::AlsoBought { within, .. } => Some(within.map_or(ALSO_BOUGHT_DAYS * 86_400, |d| d.seconds())),
        ListSource::Popular { within, .. } => Some(within.map_or(POPULAR_DAYS * 86_400, |d| d.seconds())),
    }
}

/// The `list` parts of a message.
pub fn lists(message: &ast::Message) -> impl Iterator<Item = &ast::ListDecl> {
    message.parts.iter().filter_map(|p| match p {
        ast::MessagePart::List(l) => Some(l),
        _ => None,
    })
}

/// Whether a campaign says `pad popular`.
pub fn pads(campaign: &ast::Campaign) -> bool {
    campaign.items.iter().any(|i| matches!(i, ast::CampaignItem::PadPopular(_)))
}

/// The fields of a list's rows that the message prints (`#{p.name}`,
/// `#{p.maker.name}` inside `#{for p in NAME}`), by column path
/// (`name`, `maker.name`) with the type of the value, sorted: the list
/// query selects the key and then these, in this order.
pub fn item_columns(schema: &SchemaModel, table: &TableModel, message: &ast::Message, list: &str) -> Vec<(String, FieldType)> {
    let mut out: Vec<(String, FieldType)> = Vec::new();
    for t in templates(message) {
        loops(&t.segments, &mut |l| {
            if l.list.name != list {
                return;
            }
            placeholders(&l.body, &mut |p| {
                let Some((head, rest)) = p.path.segments.split_first() else {
                    return;
                };
                if head.name != l.var.name {
                    return;
                }
                if let Some(c) = item_path(schema, table, rest) {
                    if !out.iter().any(|(x, _)| *x == c.0) {
                        out.push(c);
                    }
                }
            });
        });
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `name`, `maker.name`: a row's field by column names, and its type.
pub fn item_path(schema: &SchemaModel, table: &TableModel, rest: &[ast::Ident]) -> Option<(String, FieldType)> {
    let (first, rest) = rest.split_first()?;
    let mut field = table.field(&first.name)?;
    let mut path = field.name.clone();
    for name in rest {
        let FieldType::Ref(t) = &field.ty else { return None };
        field = schema.table(t)?.field(&name.name)?;
        path.push('.');
        path.push_str(&field.name);
    }
    Some((path, field.ty.clone()))
}

/// Every template of a message.
pub fn templates(message: &ast::Message) -> impl Iterator<Item = &ast::Template> {
    // Items and cards included.
    message.parts.iter().flat_map(ast::MessagePart::templates)
}

/// Every `#{for}` loop, outermost first.
pub fn loops<'t>(segments: &'t [ast::TemplateSegment], f: &mut dyn FnMut(&'t ast::ForLoop)) {
    for s in segments {
        if let ast::TemplateSegment::For(l) = s {
            f(l);
            loops(&l.body, f);
        }
    }
}

/// Every placeholder, loop bodies included.
pub fn placeholders<'t>(segments: &'t [ast::TemplateSegment], f: &mut dyn FnMut(&'t ast::Placeholder)) {
    for s in segments {
        match s {
            ast::TemplateSegment::Placeholder(p) => f(p),
            ast::TemplateSegment::For(l) => placeholders(&l.body, f),
            ast::TemplateSegment::Text { .. } => {}
        }
    }
}

/// The placeholders that read the customer or the trigger (not a loop's
/// row, not a list's `count`): what the render query fetches.
pub fn row_placeholders<'t>(message: &'t ast::Message, f: &mut dyn FnMut(&'t ast::Placeholder)) {
    let names: Vec<&str> = lists(message).map(|l| l.name.name.as_str()).collect();
    fn walk<'t>(segments: &'t [ast::TemplateSegment], vars: &mut Vec<&'t str>, names: &[&str], f: &mut dyn FnMut(&'t ast::Placeholder)) {
        for s in segments {
            match s {
                ast::TemplateSegment::Placeholder(p) => {
                    let head = p.path.segments.first().map_or("", |s| s.name.as_str());
                    if !vars.contains(&head) && !names.contains(&head) {
                        f(p);
                    }
                }
                ast::TemplateSegment::For(l) => {
                    vars.push(&l.var.name);
                    walk(&l.body, vars, names, f);
                    vars.pop();
                }
                ast::TemplateSegment::Text { .. } => {}
            }
        }
    }
    for t in templates(message) {
        walk(&t.segments, &mut Vec::new(), &names, f);
    }
}
