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

/// The contacts of `customers` (stored key text); a customer missing from
/// the result no longer exists.
pub async fn fetch(runner: &Runner, tx: &mut Tx, kind: KeyKind, customers: &[&str]) -> Result<HashMap<String, Contact>, DbError> {
    let mut out = HashMap::new();
    if customers.is_empty() {
        return Ok(out);
    }
    let c = &runner.customer;
    let d = runner.store.db.dialect();
    let mut columns = vec![d.quote(&c.key)];
    let optional = [&c.zone, &c.phone, &c.email];
    for field in optional.iter().copied().flatten() {
        columns.push(d.quote(field));
    }
    columns.extend(c.consents.iter().map(|f| d.quote(f)));
    let sql = format!(
        "SELECT {} FROM {} WHERE {} IN {}",
        columns.join(", "),
        d.quote(&c.source),
        d.quote(&c.key),
        runner.store.sql.json_list(&runner.store.ph(1), kind == KeyKind::Int)
    );
    let rows = tx.rows(&sql, &[runner.key_list(kind, customers)]).await?;
    for row in rows {
        let Some(key) = row.text(0) else { continue };
        let mut i = 1;
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
        out.insert(
            key,
            Contact {
                zone,
                phone,
                email,
                consents,
            },
        );
    }
    Ok(out)
}
