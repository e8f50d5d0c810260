//! Conditions and values to SQL, following DESIGN §3.1 exactly.
//!
//! SQL is three-valued; camp conditions are two-valued ("any comparison with
//! null is false"). In a positive position the two agree (a WHERE drops NULL
//! as it drops false), so comparisons are wrapped in `COALESCE(.., false)`
//! only under an odd number of `not`s, which keeps indexable forms where
//! they matter.

use super::{Dialect, Param};
use crate::program::Program;
use crate::schema::{EventModel, EventStorage, FieldModel};
use crate::types::{FieldType, Ty};
use camp_grammar::ast::{AggFunc, ArithOp, CmpOp, CountOp, Did, Expr, ExprKind, Path, Window, WindowKind};
use std::collections::BTreeMap;

mod grouped;
mod lists;

/// The alias of the customer row every query is about.
pub const CUSTOMER: &str = "c";

/// What bare property names refer to.
#[derive(Clone, Copy)]
pub enum Props<'x> {
    None,
    /// A row of this event under this alias (inside `did .. where`).
    Row(&'x str, &'x EventModel),
    /// The triggering event, bound as parameters (`on E where ..`).
    Trigger(&'x EventModel),
}

/// Builds one statement: parameters in order, and the CTEs it needs.
pub struct Lowerer<'p> {
    pub program: &'p Program<'p>,
    pub dialect: &'p dyn Dialect,
    pub params: Vec<Param>,
    /// `WITH` items by a key describing them, so each is computed once.
    ctes: BTreeMap<String, RfmScores>,
    aliases: usize,
    /// The event of `trigger on E`, for `trigger.*` paths.
    pub trigger: Option<&'p EventModel>,
    /// Whether `did` may become a semi-join (`key IN (SELECT ..)`): right for
    /// a population over all customers, wrong for one customer's check.
    pub semi_joins: bool,
}

impl<'p> Lowerer<'p> {
    pub fn new(program: &'p Program<'p>, dialect: &'p dyn Dialect, trigger: Option<&'p EventModel>) -> Self {
        Lowerer {
            program,
            dialect,
            params: Vec::new(),
            ctes: BTreeMap::new(),
            aliases: 0,
            trigger,
            semi_joins: false,
        }
    }

    /// The placeholder of a new parameter. Numbers are typed in the SQL
    /// text (PostgreSQL): drivers cache a prepared statement by its text, so
    /// `score < 3` and `score < 2.5` must not share one, or the second binds
    /// a float's bytes to a `bigint` parameter and silently selects garbage.
    pub fn param(&mut self, p: Param) -> String {
        let ty = match &p {
            Param::Int { .. } | Param::Seconds { .. } => Some(FieldType::Int { max: None }),
            Param::Decimal { .. } => Some(FieldType::Decimal),
            _ => None,
        };
        self.params.push(p);
        let ph = self.dialect.placeholder(self.params.len());
        match ty {
            Some(ty) => self.dialect.typed_param(&ph, &ty),
            None => ph,
        }
    }

    fn time_param(&mut self, p: Param) -> String {
        let ph = self.param(p);
        self.dialect.timestamp_param(&ph)
    }

    fn alias(&mut self, prefix: &str) -> String {
        self.aliases += 1;
        format!("{prefix}{}", self.aliases)
    }

    fn q(&self, ident: &str) -> String {
        self.dialect.quote(ident)
    }

    /// `WITH ..` for the statement, empty when none is needed.
    pub fn with_clause(&self) -> String {
        if self.ctes.is_empty() {
            return String::new();
        }
        let items: Vec<String> = self.ctes.values().map(|cte| cte.sql(self.dialect)).collect();
        format!("WITH {} ", items.join(", "))
    }

    fn customer_key(&self) -> String {
        let key = self.program.schema.customer.as_ref().map_or("id", |c| c.key.as_str());
        format!("{CUSTOMER}.{}", self.q(key))
    }

    /// A condition; `neg` is true under an odd number of `not`s.
    pub fn cond(&mut self, e: &Expr, props: Props<'_>, neg: bool) -> String {
        match &e.kind {
            ExprKind::Or(items) => self.join(items, props, neg, " OR "),
            ExprKind::And(items) => self.join(items, props, neg, " AND "),
            ExprKind::Not(inner) => format!("(NOT {})", self.cond(inner, props, !neg)),
            ExprKind::Bool(b) => self.dialect.bool_lit(*b).to_string(),
            ExprKind::Path(path)
                if path.segments.len() == 1
                    && self.program.segments.contains_key(path.segments[0].name.as_str())
                    && !is_prop(props, &path.segments[0].name) =>
            {
                let segment = self.program.segments[path.segments[0].name.as_str()];
                format!("({})", self.cond(&segment.cond, Props::None, neg))
            }
            ExprKind::Did(did) => self.did(did, props, neg),
            ExprKind::IsNull { value, negated } => {
                let (v, _) = self.value(value, props, None);
                format!("({v} IS {}NULL)", if *negated { "NOT " } else { "" })
            }
            ExprKind::Compare { op, lhs, rhs } => {
                if self.semi_joins && !neg {
                    if let Some(sql) = self.grouped_compare(*op, lhs, rhs, props) {
                        return sql;
                    }
                }
                let (l, lt, r, rt) = self.pair(lhs, rhs, props);
                // A date is midnight UTC beside a timestamp.
                let (l, r) = match (&lt, &rt) {
                    (Ty::Date, Ty::Timestamp) => (self.dialect.date_as_timestamp(&l), r),
                    (Ty::Timestamp, Ty::Date) => (l, self.dialect.date_as_timestamp(&r)),
                    _ => (l, r),
                };
                let text = matches!(lt, Ty::Text | Ty::Tz) || matches!(rt, Ty::Text | Ty::Tz);
                let order = if text && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    self.dialect.text_order()
                } else {
                    ""
                };
                let loose = self.loose_key(lhs, props) || self.loose_key(rhs, props);
                let sql = match op {
                    CmpOp::Eq if loose => format!("({})", self.dialect.loose_key_eq(&l, &r)),
                    CmpOp::Ne if loose => format!("(NOT ({}))", self.dialect.loose_key_eq(&l, &r)),
                    _ if loose => format!(
                        "({} {} {})",
                        self.dialect.key_as_number(&l),
                        cmp(*op),
                        self.dialect.key_as_number(&r)
                    ),
                    _ => format!("({l}{order} {} {r}{order})", cmp(*op)),
                };
                self.two_valued(sql, neg)
            }
            ExprKind::In { value, list, negated } => {
                let (v, vt) = self.value(value, props, None);
                let items: Vec<String> = list.iter().map(|i| self.value(i, props, Some(&vt)).0).collect();
                let sql = if self.loose_key(value, props) {
                    let any: Vec<String> = items.iter().map(|i| self.dialect.loose_key_eq(&v, i)).collect();
                    format!("({}({}))", if *negated { "NOT " } else { "" }, any.join(" OR "))
                } else {
                    format!("({v} {}IN ({}))", if *negated { "NOT " } else { "" }, items.join(", "))
                };
                self.two_valued(sql, neg)
            }
            ExprKind::Contains { value, needle } => {
                let (v, _) = self.value(value, props, None);
                let (n, _) = self.value(needle, props, None);
                let sql = self.dialect.contains(&v, &n);
                self.two_valued(sql, neg)
            }
            // A yes/no value: a bool or consent field.
            _ => {
                let (v, _) = self.value(e, props, None);
                let t = self.dialect.bool_lit(true);
                self.two_valued(format!("({v} = {t})"), neg)
            }
        }
    }

    /// Whether `e` is a key (`ref T` or `id`) read from JSON or from the
    /// triggering event: text in PostgreSQL whatever type the key has, so it
    /// is compared with [`Dialect::loose_key_eq`].
    fn loose_key(&self, e: &Expr, props: Props<'_>) -> bool {
        let ExprKind::Path(path) = &e.kind else { return false };
        let is_key = |f: &FieldModel| matches!(f.ty, FieldType::Ref(_) | FieldType::Id);
        match path.segments.as_slice() {
            [root, name] if root.name == "trigger" => self.trigger.and_then(|ev| ev.prop(&name.name)).is_some_and(is_key),
            [name] => match props {
                Props::Row(_, ev) => matches!(ev.storage, EventStorage::Shared) && ev.prop(&name.name).is_some_and(is_key),
                Props::Trigger(ev) => ev.prop(&name.name).is_some_and(is_key),
                Props::None => false,
            },
            _ => false,
        }
    }

    fn join(&mut self, items: &[Expr], props: Props<'_>, neg: bool, op: &str) -> String {
        if op == " AND " && self.semi_joins && !neg {
            if let Some(sql) = self.rfm_conjunction(items, props) {
                return sql;
            }
        }
        let mut sql = String::from("(");
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                sql.push_str(op);
            }
            let part = self.cond(item, props, neg);
            sql.push_str(&part);
        }
        sql.push(')');
        sql
    }

    fn two_valued(&self, sql: String, neg: bool) -> String {
        if neg {
            format!("COALESCE({sql}, {})", self.dialect.bool_lit(false))
        } else {
            sql
        }
    }

    /// Both sides of a comparison, a bare name typed by the other side.
    fn pair(&mut self, lhs: &Expr, rhs: &Expr, props: Props<'_>) -> (String, Ty, String, Ty) {
        let bare = |e: &Expr| matches!(&e.kind, ExprKind::Path(p) if p.segments.len() == 1);
        if bare(lhs) && !bare(rhs) {
            let (r, rt) = self.value(rhs, props, None);
            let (l, lt) = self.value(lhs, props, Some(&rt));
            (l, lt, r, rt)
        } else {
            let (l, lt) = self.value(lhs, props, None);
            let (r, rt) = self.value(rhs, props, Some(&lt));
            (l, lt, r, rt)
        }
    }

    /// A value and its type. `hint` types a bare enum value.
    pub fn value(&mut self, e: &Expr, props: Props<'_>, hint: Option<&Ty>) -> (String, Ty) {
        match &e.kind {
            ExprKind::Int(v) => {
                let v = i64::try_from(*v).unwrap_or(i64::MAX);
                (self.param(Param::Int { value: v }), Ty::Int)
            }
            ExprKind::Decimal(v) => (self.param(Param::Decimal { value: *v }), Ty::Decimal),
            ExprKind::String(s) => {
                let ph = self.param(Param::Text { value: s.clone() });
                (self.dialect.typed_param(&ph, &FieldType::Text { max: None }), Ty::Text)
            }
            ExprKind::Bool(b) => (self.dialect.bool_lit(*b).to_string(), Ty::Bool),
            ExprKind::Duration(d) => {
                let secs = i64::try_from(d.seconds()).unwrap_or(i64::MAX);
                (self.param(Param::Seconds { value: secs }), Ty::Duration)
            }
            ExprKind::Now => (self.time_param(Param::Now), Ty::Timestamp),
            ExprKind::Neg(inner) => {
                let (v, t) = self.value(inner, props, None);
                (format!("(-{v})"), t)
            }
            ExprKind::Arith { first, rest } => self.arith(first, rest, props),
            ExprKind::Path(path) => self.path(path, props, hint),
            ExprKind::Aggregate(agg) => {
                let ev = self.event(&agg.event.name);
                let Some(ev) = ev else { return ("NULL".into(), Ty::Unknown) };
                let a = self.alias("e");
                let (from, mut wheres, time) = self.event_rows(ev, &a, true);
                if let Some(w) = &agg.window {
                    wheres.extend(self.window(w, &time));
                }
                if let Some(f) = &agg.filter {
                    wheres.push(self.cond(f, Props::Row(&a, ev), false));
                }
                let prop = agg.prop.as_ref().and_then(|p| ev.prop(&p.name));
                let prop_sql = prop.map(|p| self.prop_sql(ev, &a, p)).unwrap_or_else(|| "NULL".into());
                let (select, ty) = match agg.func {
                    AggFunc::Count => ("COUNT(*)".to_string(), Ty::Int),
                    AggFunc::Sum => (
                        format!("COALESCE({}, 0)", sum(self.dialect, prop, &prop_sql)),
                        prop.map_or(Ty::Int, |p| p.ty.ty()),
                    ),
                    AggFunc::Avg => (format!("AVG({prop_sql})"), Ty::Decimal),
                    AggFunc::Min => (format!("MIN({prop_sql})"), prop.map_or(Ty::Unknown, |p| p.ty.ty())),
                    AggFunc::Max => (format!("MAX({prop_sql})"), prop.map_or(Ty::Unknown, |p| p.ty.ty())),
                };
                (format!("(SELECT {select} FROM {from} WHERE {})", wheres.join(" AND ")), ty)
            }
            ExprKind::EventTime { first, event } => {
                let Some(ev) = self.event(&event.name) else {
                    return ("NULL".into(), Ty::Unknown);
                };
                let a = self.alias("e");
                let (from, wheres, time) = self.event_rows(ev, &a, true);
                let f = if *first { "MIN" } else { "MAX" };
                (
                    format!("(SELECT {f}({time}) FROM {from} WHERE {})", wheres.join(" AND ")),
                    Ty::Timestamp,
                )
            }
            ExprKind::DaysSince(inner) => {
                let (v, _) = self.value(inner, props, None);
                let now = self.time_param(Param::Now);
                let days = self.dialect.days_between(&now, &v);
                // An event's time is never later than now; a field's may be.
                let whole = match inner.kind {
                    ExprKind::EventTime { .. } => self.dialect.whole_days(&days),
                    _ => self.dialect.floor_days(&days),
                };
                (whole, Ty::Int)
            }
            ExprKind::Interval(event) => {
                let Some(ev) = self.event(&event.name) else {
                    return ("NULL".into(), Ty::Unknown);
                };
                let a = self.alias("e");
                let (from, wheres, time) = self.event_rows(ev, &a, true);
                let span = self.dialect.days_between(&format!("MAX({time})"), &format!("MIN({time})"));
                (
                    format!(
                        "(SELECT CASE WHEN COUNT(*) >= 2 THEN {span} / (COUNT(*) - 1) END FROM {from} WHERE {})",
                        wheres.join(" AND ")
                    ),
                    Ty::Decimal,
                )
            }
            ExprKind::Lifecycle(event) => self.lifecycle(&event.name),
            ExprKind::Rfm {
                event,
                prop,
                window,
                score,
            } => self.rfm(&event.name, &prop.name, window.as_ref(), &score.name),
            // Conditions used as values (rare: `x == (a > b)`): 1/0 or TRUE/FALSE.
            _ => {
                let c = self.cond(e, props, true);
                (c, Ty::Bool)
            }
        }
    }

    fn arith(&mut self, first: &Expr, rest: &[(ArithOp, Expr)], props: Props<'_>) -> (String, Ty) {
        let (mut acc, mut acc_ty) = self.value(first, props, None);
        for (op, operand) in rest {
            let (v, t) = self.value(operand, props, None);
            let time = matches!(acc_ty, Ty::Timestamp | Ty::Date);
            (acc, acc_ty) = match (op, time, &t) {
                (ArithOp::Add, true, Ty::Duration) => (self.dialect.add_seconds(&acc, &v), Ty::Timestamp),
                (ArithOp::Sub, true, Ty::Duration) => (self.dialect.add_seconds(&acc, &format!("(-{v})")), Ty::Timestamp),
                (ArithOp::Add, false, Ty::Timestamp | Ty::Date) if acc_ty == Ty::Duration => {
                    (self.dialect.add_seconds(&v, &acc), Ty::Timestamp)
                }
                (ArithOp::Sub, true, Ty::Timestamp | Ty::Date) => (self.dialect.seconds_between(&acc, &v), Ty::Duration),
                (ArithOp::Div, _, _) => {
                    let real = matches!(acc_ty, Ty::Decimal | Ty::Money) || matches!(t, Ty::Decimal | Ty::Money);
                    let divisor = format!("NULLIF({v}, 0)");
                    let sql = if real {
                        self.dialect.real_div(&acc, &divisor)
                    } else {
                        format!("({acc} / {divisor})")
                    };
                    let ty = if acc_ty == Ty::Int && t == Ty::Int { Ty::Int } else { Ty::Decimal };
                    (sql, ty)
                }
                _ => {
                    let ty = match (&acc_ty, &t) {
                        (Ty::Int, Ty::Int) => Ty::Int,
                        (Ty::Duration, _) | (_, Ty::Duration) => Ty::Duration,
                        (Ty::Money, _) | (_, Ty::Money)
                            if *op != ArithOp::Mul || !matches!((&acc_ty, &t), (Ty::Decimal, _) | (_, Ty::Decimal)) =>
                        {
                            Ty::Money
                        }
                        _ => Ty::Decimal,
                    };
                    (format!("({acc} {} {v})", arith_op(*op)), ty)
                }
            };
        }
        (acc, acc_ty)
    }

    fn path(&mut self, path: &Path, props: Props<'_>, hint: Option<&Ty>) -> (String, Ty) {
        let names: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
        let program = self.program;
        match names.as_slice() {
            ["customer", field, rest @ ..] => {
                let Some(customer) = program.schema.customer.as_ref() else {
                    return ("NULL".into(), Ty::Unknown);
                };
                let Some(f) = customer.field(field) else {
                    return ("NULL".into(), Ty::Unknown);
                };
                let col = format!("{CUSTOMER}.{}", self.q(&f.name));
                self.follow(col, f, rest, false)
            }
            ["trigger", prop, rest @ ..] => {
                let Some(ev) = self.trigger else {
                    return ("NULL".into(), Ty::Unknown);
                };
                let Some(p) = ev.prop(prop) else {
                    return ("NULL".into(), Ty::Unknown);
                };
                let sql = self.trigger_prop(p);
                self.follow(sql, p, rest, true)
            }
            [name, rest @ ..] => {
                match props {
                    Props::Row(alias, ev) => {
                        if let Some(p) = ev.prop(name) {
                            let sql = self.prop_sql(ev, alias, p);
                            let json = matches!(ev.storage, EventStorage::Shared);
                            return self.follow(sql, p, rest, json);
                        }
                    }
                    Props::Trigger(ev) => {
                        if let Some(p) = ev.prop(name) {
                            let sql = self.trigger_prop(p);
                            return self.follow(sql, p, rest, true);
                        }
                    }
                    Props::None => {}
                }
                // A bare enum value, typed by the other side.
                let ph = self.param(Param::Text {
                    value: (*name).to_string(),
                });
                let ty = hint.cloned().unwrap_or(Ty::Text);
                (self.dialect.typed_param(&ph, &FieldType::Text { max: None }), ty)
            }
            [] => ("NULL".into(), Ty::Unknown),
        }
    }

    /// `ref` hops through lookup tables: a scalar subquery per hop. `loose`
    /// when the first key comes from JSON or a parameter as text.
    fn follow<'f>(&mut self, mut sql: String, mut field: &'f FieldModel, rest: &[&str], mut loose: bool) -> (String, Ty)
    where
        'p: 'f,
    {
        for name in rest {
            let FieldType::Ref(table) = &field.ty else { break };
            let Some(t) = self.program.schema.table(table) else { break };
            let Some(next) = t.field(name) else { break };
            let a = self.alias("t");
            let key = format!("{a}.{}", self.q(&t.key));
            let eq = if loose {
                self.dialect.key_eq(&key, &sql)
            } else {
                format!("{key} = {sql}")
            };
            sql = format!("(SELECT {a}.{} FROM {} {a} WHERE {eq})", self.q(&next.name), self.q(&t.source));
            field = next;
            loose = false;
        }
        (sql, field.ty.ty())
    }

    fn trigger_prop(&mut self, p: &FieldModel) -> String {
        let ph = self.param(Param::TriggerProp {
            name: p.name.clone(),
            ty: param_type(&p.ty).to_string(),
        });
        self.dialect.typed_param(&ph, &p.ty)
    }

    fn prop_sql(&self, ev: &EventModel, alias: &str, p: &FieldModel) -> String {
        match &ev.storage {
            EventStorage::Shared => {
                let props = self
                    .program
                    .schema
                    .events_table
                    .as_ref()
                    .map_or("properties", |t| t.props_column.as_str());
                self.dialect.json_prop(&format!("{alias}.{}", self.q(props)), &p.name, &p.ty)
            }
            EventStorage::Own { .. } => format!("{alias}.{}", self.q(&p.name)),
        }
    }

    fn event(&self, name: &str) -> Option<&'p EventModel> {
        self.program.schema.event(name)
    }

    /// `FROM` and `WHERE` parts for an event's rows up to now; correlated to
    /// the customer row when `correlated`. Returns the time column too.
    fn event_rows(&mut self, ev: &EventModel, alias: &str, correlated: bool) -> (String, Vec<String>, String) {
        let (source, customer_col, time_col, kind) = self.storage(ev);
        let time = format!("{alias}.{}", self.q(time_col));
        let mut wheres = Vec::new();
        if correlated {
            wheres.push(format!("{alias}.{} = {}", self.q(customer_col), self.customer_key()));
        }
        if let Some((type_col, name)) = kind {
            let ph = self.param(Param::Text { value: name.to_string() });
            let ph = self.dialect.typed_param(&ph, &FieldType::Text { max: None });
            wheres.push(format!("{alias}.{} = {ph}", self.q(type_col)));
        }
        let now = self.time_param(Param::Now);
        wheres.push(format!("{time} <= {now}"));
        (format!("{} {alias}", self.q(source)), wheres, time)
    }

    /// (table, customer column, time column, Some((type column, event name)) for the shared table)
    fn storage<'a>(&self, ev: &'a EventModel) -> (&'a str, &'a str, &'a str, Option<(&'a str, &'a str)>)
    where
        'p: 'a,
    {
        let program: &'p Program<'p> = self.program;
        match (&ev.storage, &program.schema.events_table) {
            (
                EventStorage::Own {
                    source,
                    customer_column,
                    time_column,
                },
                _,
            ) => (source, customer_column, time_column, None),
            (EventStorage::Shared, Some(t)) => (&t.source, &t.customer_column, &t.time_column, Some((&t.type_column, &ev.name))),
            (EventStorage::Shared, None) => ("events", "customer_id", "occurred_at", Some(("kind", &ev.name))),
        }
    }

    /// Extra `WHERE` parts of a window over `time`.
    fn window(&mut self, w: &Window, time: &str) -> Vec<String> {
        match &w.kind {
            WindowKind::Within(d) => {
                let from = self.time_param(Param::NowPlus {
                    seconds: -secs(d.seconds()),
                });
                vec![format!("{time} > {from}")]
            }
            WindowKind::Before(d) => {
                let to = self.time_param(Param::NowPlus {
                    seconds: -secs(d.seconds()),
                });
                vec![format!("{time} <= {to}")]
            }
            WindowKind::SinceTrigger => {
                let from = self.time_param(Param::TriggerTime);
                vec![format!("{time} > {from}")]
            }
            WindowKind::SinceLast(other) => match self.event(&other.name) {
                Some(ev2) => {
                    let b = self.alias("e");
                    let (from, wheres, t2) = self.event_rows(ev2, &b, true);
                    vec![format!("{time} > (SELECT MAX({t2}) FROM {from} WHERE {})", wheres.join(" AND "))]
                }
                None => vec![self.dialect.bool_lit(false).to_string()],
            },
        }
    }

    /// `did E ..`: a semi-join when positive and uncounted (so the planner can
    /// drive from the events), `EXISTS`/`COUNT` otherwise.
    fn did(&mut self, did: &Did, _props: Props<'_>, neg: bool) -> String {
        let Some(ev) = self.event(&did.event.name) else {
            return self.dialect.bool_lit(false).to_string();
        };
        let a = self.alias("e");
        let since_last = matches!(did.window.as_ref().map(|w| &w.kind), Some(WindowKind::SinceLast(_)));
        // A filter that reads the customer row would make the semi-join's
        // subquery correlated: a scan of all the events per customer.
        let uncorrelated = !did.filter.as_deref().is_some_and(|f| reads_customer(self.program, f, 0));
        if self.semi_joins && !neg && !since_last && uncorrelated {
            if let Some(sql) = self.grouped_did(did, ev) {
                return sql;
            }
        }
        let semi_join = self.semi_joins && !neg && did.count.is_none() && !since_last && uncorrelated;
        let (from, mut wheres, time) = self.event_rows(ev, &a, !semi_join);
        if let Some(w) = &did.window {
            wheres.extend(self.window(w, &time));
        }
        if let Some(f) = &did.filter {
            wheres.push(self.cond(f, Props::Row(&a, ev), false));
        }
        let body = wheres.join(" AND ");
        if semi_join {
            let (_, customer_col, _, _) = self.storage(ev);
            return format!(
                "({} IN (SELECT {a}.{} FROM {from} WHERE {body}))",
                self.customer_key(),
                self.q(customer_col)
            );
        }
        let Some(count) = &did.count else {
            return format!("(EXISTS (SELECT 1 FROM {from} WHERE {body}))");
        };
        let n = self.param(Param::Int {
            value: i64::try_from(count.n.value).unwrap_or(i64::MAX),
        });
        let op = match count.op {
            CountOp::AtLeast => ">=",
            CountOp::AtMost => "<=",
            CountOp::Exactly => "=",
        };
        let counted = format!("((SELECT COUNT(*) FROM {from} WHERE {body}) {op} {n})");
        match did.window.as_ref().map(|w| &w.kind) {
            // Without any E2 the whole `did` is false, even `at most`.
            Some(WindowKind::SinceLast(other)) => match self.event(&other.name) {
                Some(ev2) => {
                    let b = self.alias("e");
                    let (from2, wheres2, _) = self.event_rows(ev2, &b, true);
                    format!("((EXISTS (SELECT 1 FROM {from2} WHERE {})) AND {counted})", wheres2.join(" AND "))
                }
                None => self.dialect.bool_lit(false).to_string(),
            },
            _ => counted,
        }
    }

    fn lifecycle(&mut self, event: &str) -> (String, Ty) {
        let Some(ev) = self.event(event) else {
            return ("NULL".into(), Ty::Unknown);
        };
        let a = self.alias("e");
        let (from, wheres, time) = self.event_rows(ev, &a, true);
        let case = self.lifecycle_case(&time);
        (
            format!("(SELECT {case} FROM {from} WHERE {})", wheres.join(" AND ")),
            lifecycle_type(),
        )
    }

    /// The lifecycle stage (DESIGN §3.1) over a group of one customer's
    /// event rows whose time column is `time`.
    fn lifecycle_case(&mut self, time: &str) -> String {
        let lc = self.program.policy.lifecycle;
        let now = self.time_param(Param::Now);
        let new_from = self.time_param(Param::NowPlus {
            seconds: -((lc.new_days * 86_400.0).round() as i64),
        });
        let d = self.dialect.whole_days(&self.dialect.days_between(&now, &format!("MAX({time})")));
        let i = format!(
            "({} / (COUNT(*) - 1))",
            self.dialect.days_between(&format!("MAX({time})"), &format!("MIN({time})"))
        );
        let num = |v: f64, me: &mut Self| me.param(Param::Decimal { value: v });
        let active_ratio = num(lc.active_ratio, self);
        let at_risk_ratio = num(lc.at_risk_ratio, self);
        let single_active = num(lc.single_active_days, self);
        let single_at_risk = num(lc.single_at_risk_days, self);
        let stage = |me: &mut Self, s: &str| {
            let ph = me.param(Param::Text { value: s.to_string() });
            me.dialect.typed_param(&ph, &FieldType::Text { max: None })
        };
        let (never, new, active, at_risk, churned) = (
            stage(self, "never"),
            stage(self, "new"),
            stage(self, "active"),
            stage(self, "at_risk"),
            stage(self, "churned"),
        );
        format!(
            "CASE WHEN COUNT(*) = 0 THEN {never} \
             WHEN MIN({time}) > {new_from} THEN {new} \
             WHEN (COUNT(*) >= 2 AND {d} <= {active_ratio} * {i}) OR (COUNT(*) = 1 AND {d} <= {single_active}) THEN {active} \
             WHEN (COUNT(*) >= 2 AND {d} <= {at_risk_ratio} * {i}) OR (COUNT(*) = 1 AND {d} <= {single_at_risk}) THEN {at_risk} \
             ELSE {churned} END"
        )
    }

    /// Scores 1..5 over every customer with an E in the window: one CTE per
    /// (event, property, window), shared by r, f and m.
    fn rfm(&mut self, event: &str, prop: &str, window: Option<&Window>, score: &str) -> (String, Ty) {
        let Some(name) = self.rfm_cte(event, prop, window, score) else {
            return ("NULL".into(), Ty::Unknown);
        };
        let x = self.alias("r");
        let col = match score {
            "r" | "f" | "m" => score,
            _ => "r",
        };
        (
            format!(
                "(SELECT {x}.{} FROM {} {x} WHERE {x}.{} = {})",
                self.q(col),
                self.q(&name),
                self.q("customer"),
                self.customer_key()
            ),
            Ty::Int,
        )
    }
    /// The CTE of rfm scores for (event, property, window), created on
    /// first use; `None` for an unknown event.
    fn rfm_cte(&mut self, event: &str, prop: &str, window: Option<&Window>, score: &str) -> Option<String> {
        let ev = self.event(event)?;
        let window_key = match window.map(|w| &w.kind) {
            None => String::new(),
            Some(WindowKind::Within(d)) => format!("within {}", d.seconds()),
            Some(WindowKind::Before(d)) => format!("before {}", d.seconds()),
            Some(WindowKind::SinceTrigger) => "since trigger".into(),
            Some(WindowKind::SinceLast(e)) => format!("since last {}", e.name),
        };
        let key = format!("{event}.{prop}.{window_key}");
        if !self.ctes.contains_key(&key) {
            let name = format!("camp_rfm_{}", self.ctes.len() + 1);
            let a = self.alias("e");
            let (from, mut wheres, time) = self.event_rows(ev, &a, false);
            if let Some(w) = window {
                wheres.extend(self.window(w, &time));
            }
            let (_, customer_col, _, _) = self.storage(ev);
            let customer = format!("{a}.{}", self.q(customer_col));
            let p = ev.prop(prop).map(|p| self.prop_sql(ev, &a, p)).unwrap_or_else(|| "NULL".into());
            let cte = RfmScores {
                name,
                rest: format!("FROM {from} WHERE {} GROUP BY {customer}", wheres.join(" AND ")),
                metrics: [format!("MAX({time})"), "COUNT(*)".to_string(), format!("COALESCE(SUM({p}), 0)")],
                customer,
                used: [false; 3],
            };
            self.ctes.insert(key.clone(), cte);
        }
        let cte = self.ctes.get_mut(&key)?;
        let index = match score {
            "f" => 1,
            "m" => 2,
            _ => 0,
        };
        cte.used[index] = true;
        Some(cte.name.clone())
    }
}

/// The rfm scores of one (event, property, window): with n the customers
/// scored and b those whose metric is strictly lower, `1 + floor(5 * b / n)`
/// (b is `RANK() - 1` ascending). Only the scores a statement reads are
/// computed (each is a window sort).
struct RfmScores {
    name: String,
    customer: String,
    /// What r, f and m order by.
    metrics: [String; 3],
    /// `FROM .. WHERE .. GROUP BY ..`.
    rest: String,
    used: [bool; 3],
}

impl RfmScores {
    fn sql(&self, dialect: &dyn Dialect) -> String {
        let mut select = vec![format!("{} AS {}", self.customer, dialect.quote("customer"))];
        for (i, score) in ["r", "f", "m"].iter().enumerate() {
            if self.used[i] {
                // 1 + floor(5 * b / n), b = customers strictly lower:
                // equal metrics get equal scores (integer division).
                select.push(format!(
                    "1 + 5 * (RANK() OVER (ORDER BY {}) - 1) / COUNT(*) OVER () AS {}",
                    self.metrics[i],
                    dialect.quote(score)
                ));
            }
        }
        format!("{} AS (SELECT {} {})", dialect.quote(&self.name), select.join(", "), self.rest)
    }
}

/// The stages `lifecycle(E)` takes.
fn lifecycle_type() -> Ty {
    Ty::Enum(
        ["new", "active", "at_risk", "churned", "never"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    )
}

/// `SUM` of a property: an integer for int and money (PostgreSQL's `SUM`
/// of `bigint` is `numeric`, and `sum(..) / 2` would keep a fraction).
pub(super) fn sum(dialect: &dyn Dialect, prop: Option<&FieldModel>, sql: &str) -> String {
    match prop.map(|p| &p.ty) {
        Some(FieldType::Int { .. } | FieldType::Money { .. }) => dialect.int_sum(sql),
        _ => format!("SUM({sql})"),
    }
}

/// Whether a condition or value reads the customer row: a `customer.` path,
/// a segment, or an event form (each is about the customer).
pub(super) fn reads_customer(program: &Program, e: &Expr, depth: usize) -> bool {
    if depth > camp_grammar::MAX_NESTING {
        return true;
    }
    let any = |items: &[&Expr]| items.iter().any(|i| reads_customer(program, i, depth + 1));
    match &e.kind {
        ExprKind::Or(items) | ExprKind::And(items) => items.iter().any(|i| reads_customer(program, i, depth + 1)),
        ExprKind::Not(i) | ExprKind::Neg(i) => reads_customer(program, i, depth + 1),
        ExprKind::Compare { lhs, rhs, .. } => any(&[lhs, rhs]),
        ExprKind::Contains { value, needle } => any(&[value, needle]),
        ExprKind::IsNull { value, .. } => reads_customer(program, value, depth + 1),
        ExprKind::In { value, list, .. } => {
            reads_customer(program, value, depth + 1) || list.iter().any(|i| reads_customer(program, i, depth + 1))
        }
        ExprKind::Arith { first, rest } => {
            reads_customer(program, first, depth + 1) || rest.iter().any(|(_, i)| reads_customer(program, i, depth + 1))
        }
        ExprKind::Path(p) => match p.segments.first().map(|s| s.name.as_str()) {
            Some("customer") => true,
            Some(name) => p.segments.len() == 1 && program.segments.contains_key(name),
            None => false,
        },
        ExprKind::Did(_)
        | ExprKind::Aggregate(_)
        | ExprKind::EventTime { .. }
        | ExprKind::DaysSince(_)
        | ExprKind::Interval(_)
        | ExprKind::Lifecycle(_)
        | ExprKind::Rfm { .. } => true,
        ExprKind::Int(_) | ExprKind::Decimal(_) | ExprKind::String(_) | ExprKind::Bool(_) | ExprKind::Duration(_) | ExprKind::Now => false,
    }
}

fn is_prop(props: Props, name: &str) -> bool {
    match props {
        Props::Row(_, ev) | Props::Trigger(ev) => ev.prop(name).is_some(),
        Props::None => false,
    }
}

fn cmp(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn arith_op(op: ArithOp) -> &'static str {
    match op {
        ArithOp::Add => "+",
        ArithOp::Sub => "-",
        ArithOp::Mul => "*",
        ArithOp::Div => "/",
    }
}

fn secs(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}

/// The type name a `TriggerProp` parameter carries.
pub fn param_type(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::Int { .. } => "int",
        FieldType::Money { .. } => "money",
        FieldType::Decimal => "decimal",
        FieldType::Bool | FieldType::Consent => "bool",
        FieldType::Timestamp => "timestamp",
        FieldType::Date => "date",
        FieldType::Id | FieldType::Ref(_) => "id",
        FieldType::Text { .. } | FieldType::Enum(_) | FieldType::Phone | FieldType::Email | FieldType::PushToken | FieldType::Tz => "text",
    }
}
