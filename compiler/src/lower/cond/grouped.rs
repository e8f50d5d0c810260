//! Population queries compare per-customer aggregates as one grouped
//! semi-join instead of a correlated subquery per customer:
//!
//! `sum(purchase.amount within 365d) >= 1000000` becomes
//! `c.id IN (SELECT customer_id FROM orders WHERE .. GROUP BY customer_id
//! HAVING COALESCE(SUM(amount), 0) >= ?)`: one pass over the events, as an
//! expert writes it, instead of an index probe for every customer.
//!
//! This is exact only when a customer without matching events fails the
//! comparison (those customers are absent from the group). The value of
//! each side over zero rows is known (`count` and `sum` are 0, `lifecycle`
//! is `never`, the rest null), so that is decided here, at compile time;
//! otherwise the caller lowers the comparison as before.

use super::{lifecycle_type, Lowerer, Props};
use crate::lower::Param;
use crate::schema::EventModel;
use crate::types::Ty;
use camp_grammar::ast::{AggFunc, CmpOp, CountOp, Did, Expr, ExprKind, Window, WindowKind};
use std::cmp::Ordering;

/// Which rows a per-customer aggregate reads: two sides can share one
/// group only if they read the same rows.
#[derive(PartialEq)]
struct Rows<'e> {
    event: &'e str,
    /// The same filter node (filters are not compared structurally).
    filter: Option<*const Expr>,
    window: Option<String>,
}

/// A side's value over zero rows.
enum Zero {
    Num(f64),
    Null,
    Text(&'static str),
}

/// A literal side's value, for deciding the zero-row outcome.
enum Lit<'e> {
    Num(f64),
    Text(&'e str),
}

fn window_key(w: Option<&Window>) -> Option<Option<String>> {
    Some(match w.map(|w| &w.kind) {
        None => None,
        Some(WindowKind::Within(d)) => Some(format!("within {}", d.seconds())),
        Some(WindowKind::Before(d)) => Some(format!("before {}", d.seconds())),
        // Per-customer bounds: leave those to the correlated form.
        Some(WindowKind::SinceTrigger) | Some(WindowKind::SinceLast(_)) => return None,
    })
}

/// The rows and zero value of a per-customer aggregate, `None` for other
/// expressions.
fn aggregate(e: &Expr) -> Option<(Rows<'_>, Zero)> {
    match &e.kind {
        ExprKind::Aggregate(a) => {
            let zero = match a.func {
                AggFunc::Count | AggFunc::Sum => Zero::Num(0.0),
                AggFunc::Avg | AggFunc::Min | AggFunc::Max => Zero::Null,
            };
            let rows = Rows {
                event: &a.event.name,
                filter: a.filter.as_deref().map(|f| f as *const Expr),
                window: window_key(a.window.as_ref())?,
            };
            Some((rows, zero))
        }
        ExprKind::EventTime { event, .. } | ExprKind::Interval(event) => Some((plain(&event.name), Zero::Null)),
        ExprKind::DaysSince(inner) => match &inner.kind {
            ExprKind::EventTime { event, .. } => Some((plain(&event.name), Zero::Null)),
            _ => None,
        },
        ExprKind::Lifecycle(event) => Some((plain(&event.name), Zero::Text("never"))),
        _ => None,
    }
}

fn plain(event: &str) -> Rows<'_> {
    Rows {
        event,
        filter: None,
        window: None,
    }
}

fn literal(e: &Expr) -> Option<Lit<'_>> {
    match &e.kind {
        ExprKind::Int(v) => Some(Lit::Num(*v as f64)),
        ExprKind::Decimal(v) => Some(Lit::Num(*v)),
        ExprKind::Neg(inner) => match literal(inner)? {
            Lit::Num(n) => Some(Lit::Num(-n)),
            Lit::Text(_) => None,
        },
        ExprKind::String(s) => Some(Lit::Text(s)),
        // A bare name: an enum value such as `at_risk`.
        ExprKind::Path(p) if p.segments.len() == 1 => Some(Lit::Text(&p.segments[0].name)),
        _ => None,
    }
}

/// Whether `zero op lit` can hold, i.e. customers without rows might match.
fn zero_may_hold(zero: &Zero, op: CmpOp, lit: Option<&Lit>) -> bool {
    let ordering = match (zero, lit) {
        (Zero::Null, _) => return false,
        (Zero::Num(z), Some(Lit::Num(n))) => z.partial_cmp(n),
        (Zero::Text(z), Some(Lit::Text(t))) => Some((*z).cmp(*t)),
        // Against another aggregate or an unknown literal: assume it may.
        _ => return true,
    };
    let Some(o) = ordering else { return true };
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
    }
}

impl Lowerer<'_> {
    /// The comparison as a grouped semi-join, when that is exact.
    pub(super) fn grouped_compare(&mut self, op: CmpOp, lhs: &Expr, rhs: &Expr, props: Props<'_>) -> Option<String> {
        if let Some(sql) = self.rfm_compare(op, lhs, rhs) {
            return Some(sql);
        }
        // A filter reading the customer row would correlate the group.
        let correlated = |e: &Expr| match &e.kind {
            ExprKind::Aggregate(a) => a.filter.as_deref().is_some_and(|f| super::reads_customer(self.program, f, 0)),
            _ => false,
        };
        if correlated(lhs) || correlated(rhs) {
            return None;
        }
        let left = aggregate(lhs);
        let right = aggregate(rhs);
        let rows = match (&left, &right) {
            (Some((l, lz)), Some((r, rz))) => {
                // Both null-on-empty keeps it exact; anything else falls back.
                if l != r || !matches!((lz, rz), (Zero::Null, _) | (_, Zero::Null)) {
                    return None;
                }
                l
            }
            (Some((l, zero)), None) => {
                if zero_may_hold(zero, op, Some(&literal(rhs)?)) {
                    return None;
                }
                l
            }
            (None, Some((r, zero))) => {
                if zero_may_hold(zero, flip(op), Some(&literal(lhs)?)) {
                    return None;
                }
                r
            }
            (None, None) => return None,
        };
        let ev = self.event(rows.event)?;
        let a = self.alias("e");
        let (from, mut wheres, time) = self.event_rows(ev, &a, false);
        let agg_expr = match (&left, &right) {
            (Some(_), _) => lhs,
            _ => rhs,
        };
        let (filter, window) = match &agg_expr.kind {
            ExprKind::Aggregate(agg) => (agg.filter.as_deref(), agg.window.as_ref()),
            _ => (None, None),
        };
        if let Some(w) = window {
            wheres.extend(self.window(w, &time));
        }
        if let Some(f) = filter {
            wheres.push(self.cond(f, Props::Row(&a, ev), false));
        }
        let (l, lt) = match &left {
            Some(_) => self.group_value(lhs, &a, &time)?,
            None => self.value(lhs, props, None),
        };
        let (r, _) = match &right {
            Some(_) => self.group_value(rhs, &a, &time)?,
            None => self.value(rhs, props, Some(&lt)),
        };
        let (_, customer_col, _, _) = self.storage(ev);
        let cust = format!("{a}.{}", self.q(customer_col));
        // An interval needs two events: say so first, so that the database
        // skips the arithmetic for one-time buyers (the CASE inside keeps it
        // exact whatever order it evaluates in).
        let reads_interval = [lhs, rhs].iter().any(|e| matches!(e.kind, ExprKind::Interval(_)));
        let guard = if reads_interval { "COUNT(*) >= 2 AND " } else { "" };
        Some(format!(
            "({} IN (SELECT {cust} FROM {from} WHERE {} GROUP BY {cust} HAVING {guard}{l} {} {r}))",
            self.customer_key(),
            wheres.join(" AND "),
            super::cmp(op),
        ))
    }

    /// `did E at least N times ..` (N >= 1) as a grouped semi-join: a
    /// customer without rows has count 0 and fails it.
    pub(super) fn grouped_did(&mut self, did: &Did, ev: &EventModel) -> Option<String> {
        let count = did.count.as_ref()?;
        let op = match count.op {
            CountOp::AtLeast if count.n.value >= 1 => ">=",
            CountOp::Exactly if count.n.value >= 1 => "=",
            _ => return None,
        };
        let a = self.alias("e");
        let (from, mut wheres, time) = self.event_rows(ev, &a, false);
        if let Some(w) = &did.window {
            wheres.extend(self.window(w, &time));
        }
        if let Some(f) = &did.filter {
            wheres.push(self.cond(f, Props::Row(&a, ev), false));
        }
        let n = self.param(Param::Int {
            value: i64::try_from(count.n.value).unwrap_or(i64::MAX),
        });
        let (_, customer_col, _, _) = self.storage(ev);
        let cust = format!("{a}.{}", self.q(customer_col));
        Some(format!(
            "({} IN (SELECT {cust} FROM {from} WHERE {} GROUP BY {cust} HAVING COUNT(*) {op} {n}))",
            self.customer_key(),
            wheres.join(" AND ")
        ))
    }

    /// A per-customer aggregate over the group's rows (alias `a`, time
    /// column `time`).
    fn group_value(&mut self, e: &Expr, a: &str, time: &str) -> Option<(String, Ty)> {
        Some(match &e.kind {
            ExprKind::Aggregate(agg) => {
                let ev = self.event(&agg.event.name)?;
                let prop = agg.prop.as_ref().and_then(|p| ev.prop(&p.name));
                let p = prop.map(|p| self.prop_sql(ev, a, p)).unwrap_or_else(|| "NULL".into());
                match agg.func {
                    AggFunc::Count => ("COUNT(*)".to_string(), Ty::Int),
                    AggFunc::Sum => (
                        format!("COALESCE({}, 0)", super::sum(self.dialect, prop, &p)),
                        prop.map_or(Ty::Int, |p| p.ty.ty()),
                    ),
                    AggFunc::Avg => (format!("AVG({p})"), Ty::Decimal),
                    AggFunc::Min => (format!("MIN({p})"), prop.map_or(Ty::Unknown, |p| p.ty.ty())),
                    AggFunc::Max => (format!("MAX({p})"), prop.map_or(Ty::Unknown, |p| p.ty.ty())),
                }
            }
            ExprKind::EventTime { first, .. } => (format!("{}({time})", if *first { "MIN" } else { "MAX" }), Ty::Timestamp),
            ExprKind::DaysSince(inner) => {
                let (t, _) = self.group_value(inner, a, time)?;
                let now = self.time_param(Param::Now);
                let days = self.dialect.days_between(&now, &t);
                (self.dialect.whole_days(&days), Ty::Int)
            }
            ExprKind::Interval(_) => {
                let span = self.dialect.days_between(&format!("MAX({time})"), &format!("MIN({time})"));
                (format!("(CASE WHEN COUNT(*) >= 2 THEN {span} / (COUNT(*) - 1) END)"), Ty::Decimal)
            }
            ExprKind::Lifecycle(_) => (format!("({})", self.lifecycle_case(time)), lifecycle_type()),
            _ => return None,
        })
    }

    /// `rfm(..).r >= 4 and rfm(..).m >= 4` over the same scores as one
    /// semi-join with both tests, as an expert writes it. `None` unless two
    /// or more conjuncts test the same scores.
    pub(super) fn rfm_conjunction(&mut self, items: &[Expr], props: Props<'_>) -> Option<String> {
        let key = |e: &Expr| -> Option<String> {
            let ExprKind::Compare { lhs, rhs, .. } = &e.kind else { return None };
            let (rfm, lit) = match (&lhs.kind, &rhs.kind) {
                (ExprKind::Rfm { .. }, _) => (lhs, rhs),
                (_, ExprKind::Rfm { .. }) => (rhs, lhs),
                _ => return None,
            };
            literal(lit)?;
            let ExprKind::Rfm { event, prop, window, .. } = &rfm.kind else {
                return None;
            };
            Some(format!("{}.{}.{:?}", event.name, prop.name, window_key(window.as_ref())?))
        };
        let keys: Vec<Option<String>> = items.iter().map(key).collect();
        let shared = |k: &String| keys.iter().flatten().filter(|x| *x == k).count() >= 2;
        if !keys.iter().flatten().any(shared) {
            return None;
        }
        let mut parts = Vec::new();
        let mut done = vec![false; items.len()];
        for i in 0..items.len() {
            if done[i] {
                continue;
            }
            let Some(k) = keys[i].as_ref().filter(|k| shared(k)) else {
                parts.push(self.cond(&items[i], props, false));
                continue;
            };
            let members: Vec<usize> = (i..items.len()).filter(|j| keys[*j].as_ref() == Some(k)).collect();
            let x = self.alias("r");
            let mut tests = Vec::new();
            let mut cte = None;
            for j in members {
                done[j] = true;
                let ExprKind::Compare { op, lhs, rhs } = &items[j].kind else {
                    continue;
                };
                let (rfm, lit, op) = match &lhs.kind {
                    ExprKind::Rfm { .. } => (&**lhs, &**rhs, *op),
                    _ => (&**rhs, &**lhs, flip(*op)),
                };
                let ExprKind::Rfm {
                    event,
                    prop,
                    window,
                    score,
                } = &rfm.kind
                else {
                    continue;
                };
                cte = self.rfm_cte(&event.name, &prop.name, window.as_ref(), &score.name);
                let (value, _) = self.value(lit, Props::None, Some(&Ty::Int));
                let col = match score.name.as_str() {
                    s @ ("r" | "f" | "m") => s,
                    _ => "r",
                };
                tests.push(format!("{x}.{} {} {value}", self.q(col), super::cmp(op)));
            }
            let cte = cte?;
            parts.push(format!(
                "({} IN (SELECT {x}.{} FROM {} {x} WHERE {}))",
                self.customer_key(),
                self.q("customer"),
                self.q(&cte),
                tests.join(" AND ")
            ));
        }
        Some(format!("({})", parts.join(" AND ")))
    }

    /// `rfm(..).r >= 4` as a semi-join on the scores: customers without
    /// events in the window have null scores and never match.
    fn rfm_compare(&mut self, op: CmpOp, lhs: &Expr, rhs: &Expr) -> Option<String> {
        let (rfm, lit, op) = match (&lhs.kind, &rhs.kind) {
            (ExprKind::Rfm { .. }, _) => (lhs, rhs, op),
            (_, ExprKind::Rfm { .. }) => (rhs, lhs, flip(op)),
            _ => return None,
        };
        literal(lit)?;
        let ExprKind::Rfm {
            event,
            prop,
            window,
            score,
        } = &rfm.kind
        else {
            return None;
        };
        let name = self.rfm_cte(&event.name, &prop.name, window.as_ref(), &score.name)?;
        let (value, _) = self.value(lit, Props::None, Some(&Ty::Int));
        let col = match score.name.as_str() {
            s @ ("r" | "f" | "m") => s,
            _ => "r",
        };
        let x = self.alias("r");
        Some(format!(
            "({} IN (SELECT {x}.{} FROM {} {x} WHERE {x}.{} {} {value}))",
            self.customer_key(),
            self.q("customer"),
            self.q(&name),
            self.q(col),
            super::cmp(op)
        ))
    }
}

/// `a op b` as `b flip(op) a`.
fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}
