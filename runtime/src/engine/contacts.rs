//! What the moment of sending reads about each customer, for a whole batch
//! in one query: the time zone, the consent fields, the phone and email.

use super::{KeyKind, Runner};
use crate::db::{convert, CellsExt, DbError, Raw, Tx, Want};
use camp_compiler::templating::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Contact {
    pub zone: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Every consent field, true only when stored true.
    pub consents: HashMap<String, bool>,
}

impl Contact {
    /// Whether every one of `fields` is given.
    pub fn consents_to(&self, fields: &[String]) -> bool {
        fields.iter().all(|f| self.consents.get(f).copied().unwrap_or(false))
    }
}

/// The columns a contact is read from, of the customer table as `alias`:
/// the key first.
pub fn columns(runner: &Runner, alias: &str) -> Vec<String> {
    let c = &runner.customer;
    let d = runner.store.db.dialect();
    let mut columns = vec![format!("{alias}.{}", d.quote(&c.key))];
    for field in [&c.zone, &c.phone, &c.email].into_iter().flatten() {
        columns.push(format!("{alias}.{}", d.quote(field)));
    }
    columns.extend(c.consents.iter().map(|f| format!("{alias}.{}", d.quote(f))));
    columns
}

/// A contact from `row`, whose cells from `offset` on are [`columns`].
pub fn parse(runner: &Runner, row: &[Raw], offset: usize) -> Option<(String, Contact)> {
    let c = &runner.customer;
    let key = row.text(offset)?;
    let mut i = offset + 1;
    let mut next_text = |present: bool| {
        if !present {
            return None;
        }
        let v = row.text(i);
        i += 1;
        v
    };
    let zone = next_text(c.zone.is_some());
    let phone = next_text(c.phone.is_some());
    let email = next_text(c.email.is_some());
    let consents = c
        .consents
        .iter()
        .enumerate()
        .map(|(j, f)| {
            let raw = row.get(i + j).cloned().unwrap_or(Raw::Null);
            (f.clone(), matches!(convert(raw, Want::Bool), Ok(Value::Bool(true))))
        })
        .collect();
    Some((
        key,
        Contact {
            zone,
            phone,
            email,
            consents,
        },
    ))
}

/// The contacts of `customers` (stored key text); a customer missing from
/// the result no longer exists.
pub async fn fetch(runner: &Runner, tx: &mut Tx, kind: KeyKind, customers: &[&str]) -> Result<HashMap<String, Contact>, DbError> {
    let mut out = HashMap::new();
    if customers.is_empty() {
        return Ok(out);
    }
    let c = &runner.customer;
    let d = runner.store.db.dialect();
    let sql = format!(
        "SELECT {} FROM {} c WHERE c.{} IN {}",
        columns(runner, "c").join(", "),
        d.quote(&c.source),
        d.quote(&c.key),
        runner.store.sql.json_list(&runner.store.ph(1), kind == KeyKind::Int)
    );
    let rows = tx.rows(&sql, &[runner.key_list(kind, customers)]).await?;
    for row in rows {
        if let Some((key, contact)) = parse(runner, &row, 0) {
            out.insert(key, contact);
        }
    }
    Ok(out)
}
