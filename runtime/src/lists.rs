//! Lists at send time: the rows of each list of a message, from its query
//! (and, with `pad popular`, its pad query), as render values.

use crate::binds::{Bindings, TriggerEvent};
use crate::db::{convert, Cells, DbError, Key, Raw, Tx, Want};
use camp_compiler::lower::queries::ListQuery;
use camp_compiler::templating::{ListSpec, Value, Values};
use chrono::{DateTime, Utc};

/// One list's rows, as the message prints them.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRows {
    pub name: String,
    /// Each row: the key, then the printed fields (in `ListSpec::columns` order).
    pub rows: Vec<Vec<Value>>,
    /// How many of the rows came from `pad popular`.
    pub padded: usize,
}

impl ListRows {
    /// The rows as render values.
    pub fn values(&self, spec: &ListSpec) -> Vec<Values> {
        self.rows.iter().map(|r| spec.row(r.iter().skip(1).cloned())).collect()
    }
}

fn key_text(v: &Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        Value::Text(s) => s.clone(),
        Value::Decimal(x) => x.to_string(),
        other => format!("{other:?}"),
    }
}

fn convert_rows(q: &ListQuery, cells: Vec<Cells>) -> Vec<Vec<Value>> {
    cells
        .into_iter()
        .map(|row| {
            q.columns
                .iter()
                .enumerate()
                .map(|(i, col)| convert(row.get(i).cloned().unwrap_or(Raw::Null), Want::of_name(&col.ty)).unwrap_or(Value::Null))
                .collect()
        })
        .collect()
}

/// Joins a list's rows and its pad rows: pad rows whose key is already in
/// the list are skipped, and the whole is cut to `limit`.
pub fn assemble(spec: &ListSpec, q: &ListQuery, main: Vec<Cells>, pad: Vec<Cells>) -> ListRows {
    let limit = usize::try_from(spec.limit).unwrap_or(usize::MAX);
    let mut rows = convert_rows(q, main);
    rows.truncate(limit);
    let mut padded = 0;
    for r in convert_rows(q, pad) {
        if rows.len() >= limit {
            break;
        }
        let k = r.first().map(key_text);
        if rows.iter().any(|x| x.first().map(key_text) == k) {
            continue;
        }
        rows.push(r);
        padded += 1;
    }
    ListRows {
        name: spec.name.clone(),
        rows,
        padded,
    }
}

/// Where a list query runs: the send's transaction, or a pool (dry runs).
pub enum On<'a> {
    Tx(&'a mut Tx),
    Db(&'a crate::db::Database),
}

impl On<'_> {
    async fn rows(&mut self, sql: &str, binds: &[crate::binds::BindValue]) -> Result<Vec<Cells>, DbError> {
        match self {
            On::Tx(tx) => tx.rows(sql, binds).await,
            On::Db(db) => db.rows(sql, binds).await,
        }
    }
}

/// Every list of a message for one customer (and trigger) at `now`.
/// `Ok(Err(..))` when a list cannot be evaluated (no query in the plan, or
/// a trigger property missing).
pub async fn evaluate(
    mut on: On<'_>,
    lists: &[ListQuery],
    message: &str,
    specs: &[ListSpec],
    now: DateTime<Utc>,
    customer: &Key,
    trigger: Option<&TriggerEvent>,
) -> Result<Result<Vec<ListRows>, String>, DbError> {
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let Some(q) = lists.iter().find(|q| q.message == message && q.list == spec.name) else {
            return Ok(Err(format!("the plan has no query for list `{}` of `{message}`", spec.name)));
        };
        let bindings = Bindings {
            now,
            customer: Some(customer),
            trigger,
        };
        let binds = match bindings.resolve(&q.query.params) {
            Ok(b) => b,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let main = on.rows(&q.query.sql, &binds).await?;
        let limit = usize::try_from(spec.limit).unwrap_or(usize::MAX);
        let pad = match &q.pad {
            Some(p) if main.len() < limit => {
                let binds = match bindings.resolve(&p.params) {
                    Ok(b) => b,
                    Err(e) => return Ok(Err(e.to_string())),
                };
                on.rows(&p.sql, &binds).await?
            }
            _ => Vec::new(),
        };
        out.push(assemble(spec, q, main, pad));
    }
    Ok(Ok(out))
}

/// Sets each list's rows on the render values.
pub fn bind(values: &mut Values, specs: &[ListSpec], rows: &[ListRows]) {
    for (spec, r) in specs.iter().zip(rows) {
        values.set_list(&spec.name, r.values(spec));
    }
}
