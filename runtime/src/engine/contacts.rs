//! What the moment of sending reads about each customer, for a whole batch
//! in one query: the time zone, the consent fields, and every contact field
//! a channel reads its address from (phone, email, push token, or the
//! schema's `contact .. for channel ..` fields).

use super::{KeyKind, Runner};
use crate::db::{convert, CellsExt, DbError, Raw, Tx, Want};
use camp_compiler::channel::ContactKind;
use camp_compiler::templating::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Contact {
    pub zone: Option<String>,
    /// Contact fields by name; a null or blank value is left out.
    pub addresses: HashMap<String, String>,
    /// Every consent field, true only when stored true.
    pub consents: HashMap<String, bool>,
}

impl Contact {
    /// Whether every one of `fields` is given.
    pub fn consents_to(&self, fields: &[String]) -> bool {
        fields.iter().all(|f| self.consents.get(f).copied().unwrap_or(false))
    }

    /// The value of a contact field, when it holds one.
    pub fn address(&self, field: &str) -> Option<&str> {
        self.addresses.get(field).map(String::as_str)
    }

    /// Whether `channel` can reach this customer: the channel needs no
    /// address, or the field it reads holds one.
    pub fn reachable(&self, runner: &Runner, channel: &str) -> bool {
        match runner.customer.contact_for(channel) {
            None => true,
            Some(field) => self.address(field).is_some(),
        }
    }

    /// The address of `kind` a payload on `channel` carries.
    pub fn to(&self, runner: &Runner, channel: &str, kind: ContactKind) -> Option<&str> {
        self.address(runner.customer.address_field(channel, kind)?)
    }
}

/// The columns a contact is read from, of the customer table as `alias`:
/// the key first.
pub fn columns(runner: &Runner, alias: &str) -> Vec<String> {
    let c = &runner.customer;
    let d = runner.store.db.dialect();
    let mut columns = vec![format!("{alias}.{}", d.quote(&c.key))];
    for field in c.zone.iter().chain(&c.contact_fields) {
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
    let zone = match c.zone {
        Some(_) => {
            i += 1;
            row.text(i - 1)
        }
        None => None,
    };
    let mut addresses = HashMap::new();
    for field in &c.contact_fields {
        if let Some(v) = row.text(i).filter(|v| !v.trim().is_empty()) {
            addresses.insert(field.clone(), v);
        }
        i += 1;
    }
    let consents = c
        .consents
        .iter()
        .enumerate()
        .map(|(j, f)| {
            let raw = row.get(i + j).cloned().unwrap_or(Raw::Null);
            (f.clone(), matches!(convert(raw, Want::Bool), Ok(Value::Bool(true))))
        })
        .collect();
    Some((key, Contact { zone, addresses, consents }))
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
