//! `list NAME = LIST` parts of a message: the event, property, table and
//! anchor they name, their length, and their exclusions.

use super::expr::{self, Scope, Trigger};
use super::Env;
use crate::codes;
use crate::diagnostic::{Diagnostic, Sink};
use crate::lists;
use crate::schema::TableModel;
use crate::types::FieldType;
use camp_grammar::ast::{self, Exclusion, ListSource, Span};

/// A list a message's texts may iterate: its name, the table of its rows,
/// and its bound N.
#[derive(Debug, Clone)]
pub struct ListInfo<'m> {
    pub name: String,
    /// `None` when the list itself is wrong (already reported).
    pub table: Option<&'m TableModel>,
    pub n: u64,
    pub span: Span,
}

/// Checks the message's lists; returns every one of them.
pub fn check<'m>(env: &'m Env, sink: &mut Sink, scope: &Scope<'m>, message: &ast::Message) -> Vec<ListInfo<'m>> {
    let mut out: Vec<ListInfo<'m>> = Vec::new();
    let trigger = match scope.trigger {
        Trigger::Event { event, .. } => event,
        _ => None,
    };
    for decl in lists::lists(message) {
        if let Some(first) = out.iter().find(|l| l.name == decl.name.name) {
            sink.push(
                Diagnostic::new(
                    codes::DUPLICATE,
                    scope.file,
                    decl.name.span,
                    format!("the message has two lists named `{}`", decl.name.name),
                    "second list",
                )
                .with_label(scope.file, first.span, "first defined here")
                .with_help("rename one of them"),
            );
            continue;
        }
        let n = decl.list.source.n();
        if n.value == 0 || n.value > lists::MAX_LEN {
            sink.push(
                Diagnostic::new(
                    codes::BAD_LIST_LENGTH,
                    scope.file,
                    n.span,
                    format!("a list holds 1 to {} items, not {}", lists::MAX_LEN, n.value),
                    "length out of range",
                )
                .with_help("write how many items the message shows, e.g. `3`"),
            );
        }
        let table = source(env, sink, scope, &decl.list.source);
        if let Some(table) = table {
            for x in &decl.list.exclude {
                exclusion(env, sink, scope, trigger, table, &decl.list.source, x);
            }
        }
        out.push(ListInfo {
            name: decl.name.name.clone(),
            table,
            n: n.value.clamp(1, lists::MAX_LEN),
            span: decl.name.span,
        });
    }
    out
}

fn source<'m>(env: &'m Env, sink: &mut Sink, scope: &Scope<'m>, source: &ListSource) -> Option<&'m TableModel> {
    match source {
        ListSource::Recent { event, prop, .. } => {
            let ev = expr::event(env, sink, scope.file, event)?;
            let Some(p) = ev.prop(&prop.name) else {
                sink.push(expr::unknown_property(scope.file, prop, ev));
                return None;
            };
            let FieldType::Ref(t) = &p.ty else {
                let refs: Vec<&str> = ev
                    .props
                    .iter()
                    .filter(|p| matches!(p.ty, FieldType::Ref(_)))
                    .map(|p| p.name.as_str())
                    .collect();
                let help = match refs.first() {
                    Some(r) => format!("list the items of a `ref` property, e.g. `recent({}.{r}, 3)`", ev.name),
                    None => format!("`{}` has no `ref` property: declare one like `product: ref product`", ev.name),
                };
                sink.push(
                    Diagnostic::new(
                        codes::NOT_AN_ITEM,
                        scope.file,
                        prop.span,
                        format!("`{}.{}` is {:#}, not a `ref` to a table", ev.name, p.name, p.ty),
                        "not an item",
                    )
                    .with_help(help),
                );
                return None;
            };
            env.schema.table(t)
        }
        ListSource::Popular { table, filter, .. } => {
            let Some(t) = env.schema.table(&table.name) else {
                sink.push(
                    Diagnostic::new(
                        codes::UNKNOWN_TABLE,
                        scope.file,
                        table.span,
                        format!("unknown table `{}`", table.name),
                        "not declared in the schema",
                    )
                    .suggest(&table.name, table.span, env.schema.tables.iter().map(|t| t.name.as_str()), "table"),
                );
                return None;
            };
            purchase(env, sink, scope, t, table.span, "popular(..)");
            if let Some(f) = filter {
                item_condition(env, sink, scope, t, f);
            }
            Some(t)
        }
        ListSource::AlsoBought { anchor, .. } => {
            let resolved = expr::resolve_stored(env, sink, scope, anchor);
            let field = resolved.as_ref().and_then(|r| r.field);
            let Some(field) = field else {
                if resolved.is_none() {
                    sink.push(
                        Diagnostic::new(
                            codes::BAD_ANCHOR,
                            scope.file,
                            anchor.span,
                            "`also_bought` needs an item, like `trigger.product`",
                            "not an item",
                        )
                        .with_help("name a `ref` field or property: `trigger.product` or `customer.favorite`"),
                    );
                }
                return None;
            };
            let FieldType::Ref(t) = &field.ty else {
                sink.push(
                    Diagnostic::new(
                        codes::BAD_ANCHOR,
                        scope.file,
                        anchor.span,
                        format!("`{}` is {:#}, not a `ref` to a table", field.name, field.ty),
                        "not an item",
                    )
                    .with_help("name a `ref` field or property: `trigger.product` or `customer.favorite`"),
                );
                return None;
            };
            let table = env.schema.table(t)?;
            purchase(env, sink, scope, table, anchor.span, "also_bought(..)");
            Some(table)
        }
    }
}

/// The purchase lines a list reads: `purchase` with `order_id` and a `ref` to the table.
fn purchase(env: &Env, sink: &mut Sink, scope: &Scope, table: &TableModel, span: Span, what: &str) {
    if lists::purchase(&env.schema, &table.name).is_some() {
        return;
    }
    let missing = match env.schema.event(lists::PURCHASE) {
        None => "the schema has no `purchase` event".to_string(),
        Some(ev) if ev.prop(lists::ORDER).is_none() => "the `purchase` event has no `order_id` property".to_string(),
        Some(_) => format!("the `purchase` event has no `ref {}` property", table.name),
    };
    sink.push(
        Diagnostic::new(
            codes::NO_PURCHASE_LINES,
            scope.file,
            span,
            format!("{what} counts purchase lines of `{}`, but {missing}", table.name),
            "no purchase lines to count",
        )
        .with_help(format!(
            "declare one event per order line: `event purchase {{ order_id: text, {}: ref {}, .. }}`",
            table.name, table.name
        )),
    );
}

fn item_condition<'m>(env: &'m Env, sink: &mut Sink, scope: &Scope<'m>, table: &TableModel, e: &ast::Expr) {
    let row = lists::table_as_event(table);
    let inner = Scope {
        file: scope.file,
        trigger: scope.trigger,
        event: Some(&row),
    };
    expr::condition(env, sink, &inner, e);
}

fn exclusion<'m>(
    env: &'m Env,
    sink: &mut Sink,
    scope: &Scope<'m>,
    trigger: Option<&crate::schema::EventModel>,
    table: &TableModel,
    source: &ListSource,
    x: &Exclusion,
) {
    match x {
        Exclusion::Purchased(span) => {
            if !matches!(source, ListSource::Popular { .. } | ListSource::AlsoBought { .. }) {
                purchase(env, sink, scope, table, *span, "`exclude purchased`");
            }
        }
        Exclusion::Trigger(span) => match scope.trigger {
            Trigger::Event { event: Some(ev), .. } if lists::item_prop(ev, &table.name).is_none() => {
                sink.push(
                    Diagnostic::new(
                        codes::NO_TRIGGER_ITEM,
                        scope.file,
                        *span,
                        format!("the trigger `{}` carries no `{}` to exclude", ev.name, table.name),
                        "no item in the trigger",
                    )
                    .with_help(format!(
                        "remove `trigger`, or trigger on an event with a `ref {}` property",
                        table.name
                    )),
                );
            }
            Trigger::Event { .. } => {}
            _ => {
                let _ = trigger;
                expr::no_trigger(sink, scope, *span);
            }
        },
        Exclusion::Where(e) => item_condition(env, sink, scope, table, e),
    }
}
