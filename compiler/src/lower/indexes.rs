//! The indexes the lowered queries want, as `CREATE INDEX` statements the
//! user can apply (`camp explain` prints them).

use super::Dialect;
use crate::program::Program;
use crate::schema::{EventModel, EventStorage};
use crate::types::FieldType;
use camp_grammar::ast::{Expr, ExprKind, WindowKind};
use std::collections::BTreeSet;

/// Events named anywhere in the conditions (segments followed).
pub fn events_used(program: &Program, exprs: &[&Expr]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<&Expr> = exprs.to_vec();
    let mut seen_segments = BTreeSet::new();
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Or(items) | ExprKind::And(items) => stack.extend(items),
            ExprKind::Not(i) | ExprKind::Neg(i) | ExprKind::DaysSince(i) => stack.push(i),
            ExprKind::Compare { lhs, rhs, .. } => stack.extend([&**lhs, &**rhs]),
            ExprKind::In { value, list, .. } => {
                stack.push(value);
                stack.extend(list);
            }
            ExprKind::IsNull { value, .. } => stack.push(value),
            ExprKind::Contains { value, needle } => stack.extend([&**value, &**needle]),
            ExprKind::Arith { first, rest } => {
                stack.push(first);
                stack.extend(rest.iter().map(|(_, e)| e));
            }
            ExprKind::Did(d) => {
                out.insert(d.event.name.clone());
                if let Some(WindowKind::SinceLast(e2)) = d.window.as_ref().map(|w| &w.kind) {
                    out.insert(e2.name.clone());
                }
                stack.extend(d.filter.as_deref());
            }
            ExprKind::Aggregate(a) => {
                out.insert(a.event.name.clone());
                if let Some(WindowKind::SinceLast(e2)) = a.window.as_ref().map(|w| &w.kind) {
                    out.insert(e2.name.clone());
                }
                stack.extend(a.filter.as_deref());
            }
            ExprKind::EventTime { event, .. } | ExprKind::Lifecycle(event) | ExprKind::Interval(event) | ExprKind::Rfm { event, .. } => {
                out.insert(event.name.clone());
            }
            ExprKind::Path(p) if p.segments.len() == 1 => {
                let name = p.segments[0].name.as_str();
                if let Some(seg) = program.segments.get(name) {
                    if seen_segments.insert(name.to_string()) {
                        stack.push(&seg.cond);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// `CREATE INDEX` statements for the events the conditions read: by
/// customer then type then time (correlated lookups), and by type then time
/// then customer (semi-joins that start from recent events).
pub fn recommend(program: &Program, dialect: &dyn Dialect, events: &BTreeSet<String>) -> Vec<String> {
    let mut out = BTreeSet::new();
    for name in events {
        let Some(ev) = program.schema.event(name) else { continue };
        match (&ev.storage, &program.schema.events_table) {
            (EventStorage::Shared, Some(t)) => {
                let q = |c: &str| dialect.quote(c);
                out.insert(dialect.create_index(
                    &format!("camp_{}_customer_type_time", t.source),
                    &t.source,
                    &[q(&t.customer_column), q(&t.type_column), q(&t.time_column)],
                ));
                out.insert(dialect.create_index(
                    &format!("camp_{}_type_time_customer", t.source),
                    &t.source,
                    &[q(&t.type_column), q(&t.time_column), q(&t.customer_column)],
                ));
            }
            (
                EventStorage::Own {
                    source,
                    customer_column,
                    time_column,
                },
                _,
            ) => {
                let q = |c: &str| dialect.quote(c);
                out.insert(dialect.create_index(
                    &format!("camp_{source}_customer_time"),
                    source,
                    &[q(customer_column), q(time_column)],
                ));
                out.insert(dialect.create_index(
                    &format!("camp_{source}_time_customer"),
                    source,
                    &[q(time_column), q(customer_column)],
                ));
            }
            (EventStorage::Shared, None) => {}
        }
    }
    out.into_iter().collect()
}

/// Lookup tables reached through a key that is not a column: a trigger
/// property (`trigger.product.name`), or a JSON property of the shared
/// events table (`did cart_add where product.category == beauty`). Those
/// keys may be integers or text (DESIGN §3.2), so PostgreSQL compares them
/// as text, which only an index on the key's text serves. `conds` pairs each
/// condition with whether bare names in it are trigger properties (the
/// trigger's `where`).
pub fn loose_lookups<'p>(
    program: &'p Program,
    trigger: Option<&EventModel>,
    conds: &[(&Expr, bool)],
    render_paths: &[&str],
) -> BTreeSet<(&'p str, &'p str)> {
    let mut out = BTreeSet::new();
    let hop = |event: Option<&EventModel>, prop: &str, out: &mut BTreeSet<(&'p str, &'p str)>| {
        let Some(FieldType::Ref(table)) = event.and_then(|e| e.prop(prop)).map(|f| &f.ty) else {
            return;
        };
        if let Some(t) = program.schema.table(table) {
            out.insert((t.source.as_str(), t.key.as_str()));
        }
    };
    for path in render_paths {
        let segments: Vec<&str> = path.split('.').collect();
        if let ["trigger", prop, _, ..] = segments.as_slice() {
            hop(trigger, prop, &mut out);
        }
    }
    // (expression, the event whose properties bare names are)
    let mut stack: Vec<(&Expr, Option<&EventModel>)> = conds
        .iter()
        .map(|(e, trigger_props)| (*e, if *trigger_props { trigger } else { None }))
        .collect();
    let mut seen_segments = BTreeSet::new();
    let shared = |name: &str| program.schema.event(name).filter(|e| matches!(e.storage, EventStorage::Shared));
    while let Some((e, props)) = stack.pop() {
        match &e.kind {
            ExprKind::Or(items) | ExprKind::And(items) => stack.extend(items.iter().map(|i| (i, props))),
            ExprKind::Not(i) | ExprKind::Neg(i) | ExprKind::DaysSince(i) => stack.push((i, props)),
            ExprKind::Compare { lhs, rhs, .. } => stack.extend([(&**lhs, props), (&**rhs, props)]),
            ExprKind::In { value, list, .. } => {
                stack.push((value, props));
                stack.extend(list.iter().map(|i| (i, props)));
            }
            ExprKind::IsNull { value, .. } => stack.push((value, props)),
            ExprKind::Contains { value, needle } => stack.extend([(&**value, props), (&**needle, props)]),
            ExprKind::Arith { first, rest } => {
                stack.push((first, props));
                stack.extend(rest.iter().map(|(_, i)| (i, props)));
            }
            ExprKind::Did(d) => {
                if let Some(f) = d.filter.as_deref() {
                    stack.push((f, shared(&d.event.name)));
                }
            }
            ExprKind::Aggregate(a) => {
                if let Some(f) = a.filter.as_deref() {
                    stack.push((f, shared(&a.event.name)));
                }
            }
            ExprKind::Path(p) => match p.segments.as_slice() {
                [root, prop, _, ..] if root.name == "trigger" => hop(trigger, &prop.name, &mut out),
                [prop, _, ..] => hop(props, &prop.name, &mut out),
                [name] => {
                    if let Some(seg) = program.segments.get(name.name.as_str()) {
                        if seen_segments.insert(name.name.as_str()) {
                            stack.push((&seg.cond, None));
                        }
                    }
                }
                [] => {}
            },
            _ => {}
        }
    }
    out
}
