//! Lists (DESIGN §3.4) to one statement each: the key of every row, then
//! the fields the message prints, in rank order, at most N rows, for one
//! customer (and trigger) at now.
//!
//! Item keys are compared as text (`CAST(.. AS TEXT)`), so an event that
//! stores `27` and one that stores `"27"` name the same product; a list
//! orders keys as numbers when they are made of digits, else as text.

use super::{secs, Lowerer, Props, CUSTOMER};
use crate::lists;
use crate::lower::Param;
use crate::schema::{EventModel, TableModel};
use crate::types::FieldType;
use camp_grammar::ast::{Exclusion, Expr, ExprKind, ListExpr, ListSource};

/// The alias of the list's table row.
const ROW: &str = "t";

impl<'p> Lowerer<'p> {
    /// `SELECT key, columns.. FROM .. ORDER BY rank LIMIT N` for one list;
    /// `pad` lowers `popular(T, N)` with the list's exclusions instead.
    /// `None` when the schema lacks what the list reads (already reported
    /// by the checker).
    pub fn list_query(&mut self, list: &ListExpr, table: &'p TableModel, columns: &[(String, FieldType)], pad: bool) -> Option<String> {
        let n = list.source.n().value.clamp(1, lists::MAX_LEN);
        let key = format!("{ROW}.{}", self.q(&table.key));
        let mut select = vec![format!("{key} AS {}", self.q("key"))];
        for (path, _) in columns {
            let names: Vec<&str> = path.split('.').collect();
            let Some((first, rest)) = names.split_first() else { continue };
            let field = table.field(first)?;
            let col = format!("{ROW}.{}", self.q(&field.name));
            let (sql, _) = self.follow(col, field, rest, false);
            select.push(format!("{sql} AS {}", self.q(path)));
        }
        let own_window = lists::window_seconds(&list.source);
        let mut ctes: Vec<String> = Vec::new();
        let (from, order) = if pad {
            self.popular(table, Some(lists::POPULAR_DAYS * 86_400))?
        } else {
            match &list.source {
                ListSource::Recent { event, prop, .. } => {
                    let ev = self.program.schema.event(&event.name)?;
                    let p = ev.prop(&prop.name)?;
                    let a = self.alias("e");
                    let (src, mut wheres, time) = self.event_rows(ev, &a, false);
                    wheres.insert(0, self.customer_is(ev, &a));
                    let item = self.text(&self.prop_sql(ev, &a, p));
                    wheres.push(format!("{item} IS NOT NULL"));
                    (
                        format!(
                            "(SELECT {item} AS {i}, MAX({time}) AS {at} FROM {src} WHERE {} GROUP BY {item}) v",
                            wheres.join(" AND "),
                            i = self.q("item"),
                            at = self.q("at"),
                        ),
                        format!("v.{} DESC", self.q("at")),
                    )
                }
                ListSource::Popular { .. } => self.popular(table, own_window)?,
                ListSource::AlsoBought { anchor, .. } => {
                    let (ev, item_p, order_p) = lists::purchase(&self.program.schema, &table.name)?;
                    let anchor_expr = Expr {
                        kind: ExprKind::Path(anchor.clone()),
                        span: anchor.span,
                    };
                    let a = self.alias("e");
                    let (src, mut wheres, time) = self.event_rows(ev, &a, false);
                    wheres.extend(self.since(&time, own_window));
                    let item = self.text(&self.prop_sql(ev, &a, item_p));
                    let order = self.text(&self.prop_sql(ev, &a, order_p));
                    wheres.push(format!("{order} IS NOT NULL"));
                    wheres.push(format!("{item} IS NOT NULL"));
                    let (i, o) = (self.q("item"), self.q("o"));
                    ctes.push(format!(
                        "{} AS (SELECT DISTINCT {order} AS {o}, {item} AS {i} FROM {src} WHERE {})",
                        self.q("list_lines"),
                        wheres.join(" AND ")
                    ));
                    let (anchor_sql, _) = self.value(&anchor_expr, Props::None, None);
                    let anchor1 = self.text(&anchor_sql);
                    ctes.push(format!(
                        "{} AS (SELECT l.{o} AS {o} FROM {} l WHERE l.{i} = {anchor1})",
                        self.q("list_anchor"),
                        self.q("list_lines")
                    ));
                    let (anchor_sql, _) = self.value(&anchor_expr, Props::None, None);
                    let anchor2 = self.text(&anchor_sql);
                    let two = self.param(Param::Int { value: 2 });
                    let (nab, nb) = (self.q("nab"), self.q("nb"));
                    ctes.push(format!(
                        "{} AS (SELECT l.{i} AS {i}, COUNT(*) AS {nab} FROM {} l JOIN {} x ON l.{o} = x.{o} WHERE l.{i} <> {anchor2} GROUP BY l.{i} HAVING COUNT(*) >= {two})",
                        self.q("list_pairs"),
                        self.q("list_lines"),
                        self.q("list_anchor"),
                    ));
                    ctes.push(format!(
                        "{} AS (SELECT l.{i} AS {i}, COUNT(*) AS {nb} FROM {} l JOIN {} q ON l.{i} = q.{i} GROUP BY l.{i})",
                        self.q("list_counts"),
                        self.q("list_lines"),
                        self.q("list_pairs"),
                    ));
                    // lift = n_ab * T / (n_a * n_b): T and n_a are the same
                    // for every candidate, so the order is n_ab / n_b's.
                    // Counts are small integers, whose quotients round
                    // (correctly) to distinct doubles exactly when the
                    // fractions differ, so ties compare exactly.
                    let lift = self.dialect.real_div(&format!("v.{nab}"), &format!("w.{nb}"));
                    (
                        format!("{} v JOIN {} w ON w.{i} = v.{i}", self.q("list_pairs"), self.q("list_counts")),
                        format!("{lift} DESC, v.{nab} DESC"),
                    )
                }
            }
        };
        let customer = self.program.schema.customer.as_ref()?;
        let item = format!("v.{}", self.q("item"));
        let join = self.dialect.key_eq(&key, &item);
        let me = self.param(Param::Customer);
        let mut wheres = vec![format!("{CUSTOMER}.{} = {me}", self.q(&customer.key))];
        let row = lists::table_as_event(table);
        for x in &list.exclude {
            wheres.push(self.exclusion(x, table, &row, &key, own_window)?);
        }
        if !pad {
            if let ListSource::Popular { filter: Some(f), .. } = &list.source {
                wheres.push(self.cond(f, Props::Row(ROW, &row), false));
            }
        }
        let limit = self.param(Param::Int {
            value: i64::try_from(n).unwrap_or(50),
        });
        let mut with = self.with_clause();
        if !ctes.is_empty() {
            with = match with.strip_prefix("WITH ") {
                Some(rest) => format!("WITH {}, {rest}", ctes.join(", ")),
                None => format!("WITH {} ", ctes.join(", ")),
            };
        }
        Some(format!(
            "{with}SELECT {} FROM {from} JOIN {} {ROW} ON {join} CROSS JOIN {} {CUSTOMER} WHERE {} ORDER BY {order}, {} LIMIT {limit}",
            select.join(", "),
            self.q(&table.source),
            self.q(&customer.source),
            wheres.join(" AND "),
            self.dialect.key_order(&key),
        ))
    }

    /// Items of `table` by purchase lines in the window: `(FROM, ORDER BY)`.
    fn popular(&mut self, table: &TableModel, window: Option<u64>) -> Option<(String, String)> {
        let (ev, item_p, _) = lists::purchase(&self.program.schema, &table.name)?;
        let a = self.alias("e");
        let (src, mut wheres, time) = self.event_rows(ev, &a, false);
        wheres.extend(self.since(&time, window));
        let item = self.text(&self.prop_sql(ev, &a, item_p));
        wheres.push(format!("{item} IS NOT NULL"));
        let from = format!(
            "(SELECT {item} AS {i}, COUNT(*) AS {n} FROM {src} WHERE {} GROUP BY {item}) v",
            wheres.join(" AND "),
            i = self.q("item"),
            n = self.q("n"),
        );
        let order = format!("v.{} DESC", self.q("n"));
        Some((from, order))
    }

    /// One `exclude` part, as a condition that keeps the row.
    fn exclusion(&mut self, x: &Exclusion, table: &TableModel, row: &EventModel, key: &str, window: Option<u64>) -> Option<String> {
        Some(match x {
            Exclusion::Purchased(_) => {
                let (ev, item_p, _) = lists::purchase(&self.program.schema, &table.name)?;
                let a = self.alias("e");
                let (src, mut wheres, time) = self.event_rows(ev, &a, false);
                wheres.insert(0, self.customer_is(ev, &a));
                wheres.extend(self.since(&time, window));
                let item = self.text(&self.prop_sql(ev, &a, item_p));
                wheres.push(self.dialect.key_eq(key, &item));
                format!("NOT EXISTS (SELECT 1 FROM {src} WHERE {})", wheres.join(" AND "))
            }
            Exclusion::Trigger(_) => {
                let ev = self.trigger?;
                let p = lists::item_prop(ev, &table.name)?;
                let value = self.trigger_prop(p);
                let eq = self.dialect.key_eq(key, &value);
                format!("(NOT COALESCE({eq}, {}))", self.dialect.bool_lit(false))
            }
            Exclusion::Where(e) => format!("(NOT {})", self.cond(e, Props::Row(ROW, row), true)),
        })
    }

    /// `alias.customer = :customer` for the one customer of the send.
    fn customer_is(&mut self, ev: &EventModel, alias: &str) -> String {
        let (_, customer_col, _, _) = self.storage(ev);
        let customer_col = self.q(customer_col);
        let me = self.param(Param::Customer);
        format!("{alias}.{customer_col} = {me}")
    }

    /// `time > now - window`, when there is a window.
    fn since(&mut self, time: &str, window: Option<u64>) -> Option<String> {
        let w = window?;
        let from = self.time_param(Param::NowPlus { seconds: -secs(w) });
        Some(format!("{time} > {from}"))
    }

    fn text(&self, sql: &str) -> String {
        format!("CAST({sql} AS TEXT)")
    }
}
