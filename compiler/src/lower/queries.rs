//! The three query shapes of a campaign (DESIGN §5): the population of a
//! scheduled campaign, the check of one customer for one triggering event
//! (audience, exit and branch conditions), and the render query.

use super::cond::{param_type, Lowerer, Props, CUSTOMER};
use super::{indexes, Dialect, Param, Query};
use crate::program::Program;
use crate::schema::{EventModel, FieldModel};
use crate::types::FieldType;
use camp_grammar::ast::{self, CampaignItem, Expr, ExprKind, Step, StepKind, TriggerKind, WindowKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A value the messages print, selected under its canonical path
/// (`customer.name`, `customer.favorite.name`, `trigger.product.name`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Column {
    pub path: String,
    /// `int`, `money`, `decimal`, `text`, `bool`, `timestamp`, `date`, `id`.
    pub ty: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignQueries {
    /// Everyone in the audience now: the key first, then `columns`; ordered
    /// by key. Absent when the audience depends on a triggering event.
    pub population: Option<Query>,
    /// One customer (`Param::Customer`) and one triggering event: a row with
    /// `1` when the trigger filter and the audience hold, `0` otherwise.
    pub check: Option<Query>,
    /// One customer: `1` when any `exit when` condition holds.
    pub exit: Option<Query>,
    /// One customer: each `if` condition, in step order (top-level steps,
    /// then each variant's, depth first).
    pub branches: Vec<Query>,
    /// One customer: `columns`.
    pub render: Query,
    pub columns: Vec<Column>,
    /// `CREATE INDEX` statements these queries want.
    pub indexes: Vec<String>,
    /// The lists of the messages, each one statement run per send.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<ListQuery>,
    /// Event-triggered campaigns: who had the triggering event, and one
    /// customer's latest ones, so that a dry run on the plan alone (`camp
    /// review`) finds each customer's trigger. Absent in plans of earlier
    /// camps (they still read) and for scheduled campaigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers: Option<TriggerQueries>,
}

/// The queries that find the triggering events of an event-triggered
/// campaign, for dry runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerQueries {
    /// The customers with at least one triggering event at or before now,
    /// keys ascending.
    pub candidates: Query,
    /// One customer's triggering events at or before now, latest first:
    /// the time, then `columns` (the event's properties as `trigger.P`).
    pub latest: Query,
    pub columns: Vec<Column>,
}

/// One list of one message: rows for one customer (and trigger) at now,
/// the key first, then `columns`, in rank order, at most N.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    pub message: String,
    pub list: String,
    pub query: Query,
    /// `pad popular`: `popular(T, N)` with the list's exclusions, whose
    /// rows fill a list shorter than N (keys already in it skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad: Option<Query>,
    /// The key, then each printed field, with its type.
    pub columns: Vec<Column>,
}

/// The list queries of the named messages.
pub fn message_lists(program: &Program, dialect: &dyn Dialect, trigger: Option<&EventModel>, names: &[&str], pad: bool) -> Vec<ListQuery> {
    let mut out = Vec::new();
    for name in names {
        let Some(message) = program.messages.get(*name) else { continue };
        if out.iter().any(|q: &ListQuery| q.message == *name) {
            continue;
        }
        for decl in crate::lists::lists(message) {
            let Some(table) = crate::lists::table_of(&program.schema, trigger, &decl.list.source) else {
                continue;
            };
            let item_columns = crate::lists::item_columns(&program.schema, table, message, &decl.name.name);
            let run = |pad: bool| {
                let mut l = Lowerer::new(program, dialect, trigger);
                let sql = l.list_query(&decl.list, table, &item_columns, pad)?;
                Some(Query {
                    sql,
                    params: std::mem::take(&mut l.params),
                })
            };
            let Some(query) = run(false) else { continue };
            let key_ty = table.field(&table.key).map_or("id", |f| param_type(&f.ty));
            let mut columns = vec![Column {
                path: "key".into(),
                ty: key_ty.into(),
            }];
            columns.extend(item_columns.iter().map(|(path, ty)| Column {
                path: path.clone(),
                ty: param_type(ty).into(),
            }));
            out.push(ListQuery {
                message: (*name).to_string(),
                list: decl.name.name.clone(),
                query,
                pad: if pad { run(true) } else { None },
                columns,
            });
        }
    }
    out
}

/// Whether a condition reads the triggering event.
fn uses_trigger(program: &Program, e: &Expr, depth: usize) -> bool {
    if depth > camp_grammar::MAX_NESTING {
        return false;
    }
    let any = |items: &[&Expr]| items.iter().any(|i| uses_trigger(program, i, depth + 1));
    match &e.kind {
        ExprKind::Or(items) | ExprKind::And(items) => items.iter().any(|i| uses_trigger(program, i, depth + 1)),
        ExprKind::Not(i) | ExprKind::Neg(i) | ExprKind::DaysSince(i) => uses_trigger(program, i, depth + 1),
        ExprKind::Compare { lhs, rhs, .. } => any(&[lhs, rhs]),
        ExprKind::In { value, list, .. } => {
            uses_trigger(program, value, depth + 1) || list.iter().any(|i| uses_trigger(program, i, depth + 1))
        }
        ExprKind::IsNull { value, .. } => uses_trigger(program, value, depth + 1),
        ExprKind::Contains { value, needle } => any(&[value, needle]),
        ExprKind::Arith { first, rest } => {
            uses_trigger(program, first, depth + 1) || rest.iter().any(|(_, i)| uses_trigger(program, i, depth + 1))
        }
        ExprKind::Did(d) => {
            matches!(d.window.as_ref().map(|w| &w.kind), Some(WindowKind::SinceTrigger))
                || d.filter.as_deref().is_some_and(|f| uses_trigger(program, f, depth + 1))
        }
        ExprKind::Aggregate(a) => {
            matches!(a.window.as_ref().map(|w| &w.kind), Some(WindowKind::SinceTrigger))
                || a.filter.as_deref().is_some_and(|f| uses_trigger(program, f, depth + 1))
        }
        ExprKind::Rfm { window, .. } => matches!(window.as_ref().map(|w| &w.kind), Some(WindowKind::SinceTrigger)),
        ExprKind::Path(p) => match p.segments.first().map(|s| s.name.as_str()) {
            Some("trigger") => true,
            Some(name) if p.segments.len() == 1 => program
                .segments
                .get(name)
                .is_some_and(|s| uses_trigger(program, &s.cond, depth + 1)),
            _ => false,
        },
        _ => false,
    }
}

fn trigger_event<'p, 'c>(program: &'p Program, campaign: &'c ast::Campaign) -> (Option<&'p EventModel>, Option<&'c Expr>) {
    for item in &campaign.items {
        if let CampaignItem::Trigger(ast::Trigger {
            kind: TriggerKind::On { event, filter },
            ..
        }) = item
        {
            return (program.schema.event(&event.name), filter.as_ref());
        }
    }
    (None, None)
}

/// A `SELECT CASE WHEN cond THEN 1 ELSE 0 END` for one customer.
fn check_query(program: &Program, dialect: &dyn Dialect, trigger: Option<&EventModel>, conds: &[(&Expr, bool)]) -> Query {
    let mut l = Lowerer::new(program, dialect, trigger);
    let parts: Vec<String> = conds
        .iter()
        .map(|(e, is_trigger_filter)| {
            let props = match (is_trigger_filter, trigger) {
                (true, Some(ev)) => Props::Trigger(ev),
                _ => Props::None,
            };
            l.cond(e, props, false)
        })
        .collect();
    let cond = if parts.is_empty() {
        dialect.bool_lit(true).to_string()
    } else {
        parts.join(" AND ")
    };
    finish_one(&mut l, format!("CASE WHEN {cond} THEN 1 ELSE 0 END AS {}", dialect.quote("ok")))
}

/// `SELECT <select> FROM customers c WHERE c.key = :customer`.
fn finish_one(l: &mut Lowerer, select: String) -> Query {
    let Some(customer) = l.program.schema.customer.as_ref() else {
        return Query {
            sql: String::new(),
            params: Vec::new(),
        };
    };
    let key = format!("{CUSTOMER}.{}", l.dialect.quote(&customer.key));
    // The runtime binds the key in the column's own type, so the primary
    // key index serves the lookup.
    let ph = l.param(Param::Customer);
    let eq = format!("{key} = {ph}");
    let sql = format!(
        "{}SELECT {select} FROM {} {CUSTOMER} WHERE {eq}",
        l.with_clause(),
        l.dialect.quote(&customer.source)
    );
    Query {
        sql,
        params: std::mem::take(&mut l.params),
    }
}

/// All queries of one campaign in one dialect.
pub fn campaign_queries(program: &Program, campaign: &ast::Campaign, dialect: &dyn Dialect) -> CampaignQueries {
    let (trigger, trigger_filter) = trigger_event(program, campaign);
    let mut audience: Option<&Expr> = None;
    let mut exits: Vec<&Expr> = Vec::new();
    let mut steps: Vec<&Step> = Vec::new();
    let mut variant_steps: Vec<&Step> = Vec::new();
    for item in &campaign.items {
        match item {
            CampaignItem::Audience(a) => audience = Some(a),
            CampaignItem::ExitWhen(e) => exits.push(e),
            CampaignItem::Step(s) => steps.push(s),
            CampaignItem::Variant(v) => variant_steps.extend(v.steps.iter()),
            _ => {}
        }
    }
    let mut branches_src: Vec<&Expr> = Vec::new();
    collect_ifs(steps.iter().copied().chain(variant_steps.iter().copied()), &mut branches_src);

    let mut conds: Vec<(&Expr, bool)> = Vec::new();
    if let Some(f) = trigger_filter {
        conds.push((f, true));
    }
    if let Some(a) = audience {
        conds.push((a, false));
    }
    let event_triggered = trigger.is_some();
    let check = event_triggered.then(|| check_query(program, dialect, trigger, &conds));
    let exit = (!exits.is_empty()).then(|| {
        let mut l = Lowerer::new(program, dialect, trigger);
        let parts: Vec<String> = exits.iter().map(|e| l.cond(e, Props::None, false)).collect();
        finish_one(
            &mut l,
            format!("CASE WHEN {} THEN 1 ELSE 0 END AS {}", parts.join(" OR "), dialect.quote("ok")),
        )
    });
    let branches = branches_src
        .iter()
        .map(|e| check_query(program, dialect, trigger, &[(e, false)]))
        .collect();

    let columns = columns(program, campaign, trigger);
    let render = {
        let mut l = Lowerer::new(program, dialect, trigger);
        let select = select_columns(&mut l, &columns);
        finish_one(&mut l, select)
    };
    let population = if audience.is_some_and(|a| uses_trigger(program, a, 0)) {
        None
    } else {
        Some(population(program, dialect, audience, &columns))
    };
    let mut all: Vec<&Expr> = conds.iter().map(|(e, _)| *e).collect();
    all.extend(exits.iter().copied());
    all.extend(branches_src.iter().copied());
    let used = indexes::events_used(program, &all);
    let mut indexes = indexes::recommend(program, dialect, &used);
    let mut loose: Vec<(&Expr, bool)> = conds.clone();
    loose.extend(exits.iter().chain(&branches_src).map(|e| (*e, false)));
    let render_paths: Vec<&str> = columns.iter().map(|c| c.path.as_str()).collect();
    for (table, key) in indexes::loose_lookups(program, trigger, &loose, &render_paths) {
        indexes.extend(dialect.key_text_index(table, key));
    }
    let mut sends = Vec::new();
    collect_sends(steps.iter().copied().chain(variant_steps.iter().copied()), &mut sends);
    let lists = message_lists(program, dialect, trigger, &sends, crate::lists::pads(campaign));
    let triggers = trigger.and_then(|event| {
        let candidates = event_customers(program, dialect, event)?;
        let (latest, columns) = latest_event(program, dialect, event)?;
        Some(TriggerQueries {
            candidates,
            latest,
            columns,
        })
    });
    CampaignQueries {
        population,
        check,
        exit,
        branches,
        render,
        columns,
        indexes,
        lists,
        triggers,
    }
}

/// One part of who a campaign takes, for explaining why a customer is not
/// in it: the trigger's `where`, or one top-level `and` part of the
/// audience, with where it was written.
#[derive(Debug, Clone)]
pub struct AudiencePart {
    pub span: camp_grammar::ast::Span,
    /// `1` when the part holds for one customer (and trigger).
    pub query: Query,
}

/// The trigger's `where` and each `and` part of the audience, each as its
/// own one-customer check.
pub fn audience_parts(program: &Program, campaign: &ast::Campaign, dialect: &dyn Dialect) -> Vec<AudiencePart> {
    let (trigger, trigger_filter) = trigger_event(program, campaign);
    let mut parts = Vec::new();
    if let Some(f) = trigger_filter {
        parts.push(AudiencePart {
            span: f.span,
            query: check_query(program, dialect, trigger, &[(f, true)]),
        });
    }
    for item in &campaign.items {
        if let CampaignItem::Audience(a) = item {
            let conjuncts: Vec<&Expr> = match &a.kind {
                camp_grammar::ast::ExprKind::And(items) => items.iter().collect(),
                _ => vec![a],
            };
            for c in conjuncts {
                parts.push(AudiencePart {
                    span: c.span,
                    query: check_query(program, dialect, trigger, &[(c, false)]),
                });
            }
        }
    }
    parts
}

/// Who is in a campaign's audience now, keys only, ascending.
pub fn audience_keys(program: &Program, dialect: &dyn Dialect, audience: Option<&Expr>) -> Query {
    population(program, dialect, audience, &[])
}

fn population(program: &Program, dialect: &dyn Dialect, audience: Option<&Expr>, columns: &[Column]) -> Query {
    let mut l = Lowerer::new(program, dialect, None);
    l.semi_joins = true;
    let cond = match audience {
        Some(a) => l.cond(a, Props::None, false),
        None => dialect.bool_lit(true).to_string(),
    };
    let Some(customer) = program.schema.customer.as_ref() else {
        return Query {
            sql: String::new(),
            params: Vec::new(),
        };
    };
    let key = format!("{CUSTOMER}.{}", dialect.quote(&customer.key));
    let mut select = format!("{key} AS {}", dialect.quote("customer"));
    if !columns.is_empty() {
        select.push_str(", ");
        select.push_str(&select_columns(&mut l, columns));
    }
    let sql = format!(
        "{}SELECT {select} FROM {} {CUSTOMER} WHERE {cond} ORDER BY {key}",
        l.with_clause(),
        dialect.quote(&customer.source)
    );
    Query { sql, params: l.params }
}

fn collect_ifs<'a>(steps: impl Iterator<Item = &'a Step>, out: &mut Vec<&'a Expr>) {
    for step in steps {
        if let StepKind::If { cond, then, otherwise } = &step.kind {
            out.push(cond);
            collect_ifs(then.iter(), out);
            if let Some(o) = otherwise {
                collect_ifs(o.iter(), out);
            }
        }
    }
}

/// The select list for columns, each under its path.
fn select_columns(l: &mut Lowerer, columns: &[Column]) -> String {
    let mut parts = Vec::new();
    for c in columns {
        let segments: Vec<camp_grammar::ast::Ident> = c
            .path
            .split('.')
            .map(|s| camp_grammar::ast::Ident {
                name: s.to_string(),
                span: Default::default(),
            })
            .collect();
        let path = ast::Path {
            segments,
            span: Default::default(),
        };
        let e = Expr {
            kind: ExprKind::Path(path),
            span: Default::default(),
        };
        let (sql, _) = l.value(&e, Props::None, None);
        parts.push(format!("{sql} AS {}", l.dialect.quote(&c.path)));
    }
    parts.join(", ")
}

/// Every stored value the campaign's messages print, plus the customer's
/// time zone, in canonical form.
fn columns(program: &Program, campaign: &ast::Campaign, trigger: Option<&EventModel>) -> Vec<Column> {
    let mut out = BTreeSet::new();
    if let Some(tz) = program.schema.timezone_field() {
        out.insert(Column {
            path: format!("customer.{}", tz.name),
            ty: param_type(&tz.ty).into(),
        });
    }
    let mut sends = Vec::new();
    let mut steps: Vec<&Step> = Vec::new();
    for item in &campaign.items {
        match item {
            CampaignItem::Step(s) => steps.push(s),
            CampaignItem::Variant(v) => steps.extend(v.steps.iter()),
            _ => {}
        }
    }
    collect_sends(steps.into_iter(), &mut sends);
    message_columns(program, trigger, &sends, &mut out);
    out.into_iter().collect()
}

/// The stored values the named messages print, in canonical form.
fn message_columns(program: &Program, trigger: Option<&EventModel>, names: &[&str], out: &mut BTreeSet<Column>) {
    for name in names {
        let Some(message) = program.messages.get(*name) else { continue };
        crate::lists::row_placeholders(message, &mut |p| {
            let names: Vec<&str> = p.path.segments.iter().map(|s| s.name.as_str()).collect();
            if let Some(c) = canonical(program, trigger, &names) {
                out.insert(c);
            }
        });
    }
}

/// The render query of one message on its own (`camp preview MESSAGE`),
/// with the triggering event `trigger` when its text reads `trigger.*`.
pub fn message_render(program: &Program, dialect: &dyn Dialect, message: &str, trigger: Option<&EventModel>) -> (Query, Vec<Column>) {
    let mut set = BTreeSet::new();
    if let Some(tz) = program.schema.timezone_field() {
        set.insert(Column {
            path: format!("customer.{}", tz.name),
            ty: param_type(&tz.ty).into(),
        });
    }
    message_columns(program, trigger, &[message], &mut set);
    let columns: Vec<Column> = set.into_iter().collect();
    let mut l = Lowerer::new(program, dialect, trigger);
    let select = select_columns(&mut l, &columns);
    (finish_one(&mut l, select), columns)
}

/// The customers who had `event` at or before now, keys ascending: the
/// candidates of an event-triggered campaign's dry run.
pub fn event_customers(program: &Program, dialect: &dyn Dialect, event: &EventModel) -> Option<Query> {
    let q = |s: &str| dialect.quote(s);
    let mut params = Vec::new();
    let (source, customer, time, kind) = match &event.storage {
        crate::schema::EventStorage::Shared => {
            let t = program.schema.events_table.as_ref()?;
            params.push(Param::Text { value: event.name.clone() });
            let kind = format!(" AND {} = {}", q(&t.type_column), dialect.placeholder(1));
            (&t.source, &t.customer_column, &t.time_column, kind)
        }
        crate::schema::EventStorage::Own {
            source,
            customer_column,
            time_column,
        } => (source, customer_column, time_column, String::new()),
    };
    params.push(Param::Now);
    let now = dialect.timestamp_param(&dialect.placeholder(params.len()));
    let sql = format!(
        "SELECT DISTINCT {} FROM {} WHERE {} <= {now}{kind} ORDER BY 1",
        q(customer),
        q(source),
        q(time)
    );
    Some(Query { sql, params })
}

/// The latest event `event` of one customer at or before now: its time,
/// then each property (typed), for `camp preview` and the runtime, which
/// render with it as the trigger. `None` without a customer table.
pub fn latest_event(program: &Program, dialect: &dyn Dialect, event: &EventModel) -> Option<(Query, Vec<Column>)> {
    let q = |s: &str| dialect.quote(s);
    let mut params = Vec::new();
    let ph = |p: Param, params: &mut Vec<Param>| {
        params.push(p);
        dialect.placeholder(params.len())
    };
    let mut columns = Vec::new();
    let (source, customer_col, time_col, mut select, type_filter) = match &event.storage {
        crate::schema::EventStorage::Shared => {
            let t = program.schema.events_table.as_ref()?;
            let props: Vec<String> = event
                .props
                .iter()
                .map(|p| {
                    format!(
                        "{} AS {}",
                        dialect.json_prop(&format!("e.{}", q(&t.props_column)), &p.name, &p.ty),
                        q(&p.name)
                    )
                })
                .collect();
            let kind = ph(Param::Text { value: event.name.clone() }, &mut params);
            (
                t.source.clone(),
                t.customer_column.clone(),
                t.time_column.clone(),
                props,
                format!(" AND e.{} = {kind}", q(&t.type_column)),
            )
        }
        crate::schema::EventStorage::Own {
            source,
            customer_column,
            time_column,
        } => {
            let props: Vec<String> = event.props.iter().map(|p| format!("e.{} AS {}", q(&p.name), q(&p.name))).collect();
            (source.clone(), customer_column.clone(), time_column.clone(), props, String::new())
        }
    };
    for p in &event.props {
        columns.push(Column {
            path: format!("trigger.{}", p.name),
            ty: param_type(&p.ty).into(),
        });
    }
    select.insert(0, format!("e.{} AS {}", q(&time_col), q("time")));
    let customer = ph(Param::Customer, &mut params);
    let now = ph(Param::Now, &mut params);
    let sql = format!(
        "SELECT {} FROM {} e WHERE e.{} = {customer}{type_filter} AND e.{} <= {} ORDER BY e.{} DESC LIMIT 1000",
        select.join(", "),
        q(&source),
        q(&customer_col),
        q(&time_col),
        dialect.timestamp_param(&now),
        q(&time_col),
    );
    Some((Query { sql, params }, columns))
}

fn collect_sends<'a>(steps: impl Iterator<Item = &'a Step>, out: &mut Vec<&'a str>) {
    for step in steps {
        match &step.kind {
            StepKind::Send { message, .. } => out.push(&message.name),
            StepKind::If { then, otherwise, .. } => {
                collect_sends(then.iter(), out);
                if let Some(o) = otherwise {
                    collect_sends(o.iter(), out);
                }
            }
            _ => {}
        }
    }
}

/// `고객명` -> `customer.name`; `trigger.product.상품명` -> `trigger.product.name`.
pub fn canonical(program: &Program, trigger: Option<&EventModel>, names: &[&str]) -> Option<Column> {
    let customer = program.schema.customer.as_ref()?;
    let (root, first, rest): (&str, &FieldModel, &[&str]) = match names {
        ["sender"] | ["optout"] => return None,
        ["customer", f, rest @ ..] => ("customer", customer.field(f)?, rest),
        ["trigger", p, rest @ ..] => ("trigger", trigger?.prop(p)?, rest),
        [f, rest @ ..] => ("customer", customer.field(f)?, rest),
        [] => return None,
    };
    let mut path = format!("{root}.{}", first.name);
    let mut field = first;
    for name in rest {
        let FieldType::Ref(t) = &field.ty else { return None };
        let next = program.schema.table(t)?.field(name)?;
        path.push('.');
        path.push_str(&next.name);
        field = next;
    }
    Some(Column {
        path,
        ty: param_type(&field.ty).into(),
    })
}
