//! Frequency caps, counted from the ledger inside the transaction that
//! records the sends: first come, first counted; within one batch, higher
//! `priority` first. A campaign's cap counts its own sends; a policy cap
//! counts every campaign's sends in its scope. A fallback after a send that
//! went out counts only against caps on its own channel (it repeats a
//! message already counted); a fallback after a channel that could not
//! reach the customer is the message's first send and counts as one.
//! Rows that were not sent (held, suppressed: no contact, capped, quiet
//! hours) never count.

use super::send::Candidate;
use super::Runner;
use crate::binds::BindValue;
use crate::db::{CellsExt, DbError, Tx};
use camp_compiler::plan::{Cap, Origin, Plan, Scope};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// One counter: a cap's window and filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapKey {
    pub campaign: Option<String>,
    pub scope: Scope,
    pub seconds: u64,
}

impl CapKey {
    pub fn of(plan: &Plan, cap: &Cap) -> CapKey {
        CapKey {
            campaign: match cap.origin {
                Origin::Campaign => Some(plan.name.clone()),
                Origin::Policy | Origin::Law => None,
            },
            scope: cap.scope.clone(),
            seconds: cap.seconds,
        }
    }

    /// Whether a send counts against this counter (`repeats`: an earlier
    /// attempt of its step went out).
    pub fn counts(&self, campaign: &str, kind: &str, channel: &str, repeats: bool) -> bool {
        if self.campaign.as_deref().is_some_and(|c| c != campaign) {
            return false;
        }
        match &self.scope {
            Scope::All => !repeats,
            Scope::Kind { kind: k } => !repeats && k == kind,
            Scope::Channel { channel: c } => c == channel,
        }
    }
}

/// Whether a cap applies to a send of `plan` on `channel`.
pub fn applies(cap: &Cap, plan: &Plan, channel: &str, repeats: bool) -> bool {
    match &cap.scope {
        Scope::All => !repeats,
        Scope::Kind { kind } => !repeats && kind == plan.kind.name(),
        Scope::Channel { channel: c } => c == channel,
    }
}

/// Counters for the customers of a batch.
pub struct Counters {
    /// Per customer, each counter and what it holds.
    counts: HashMap<String, Vec<(CapKey, u64)>>,
}

impl Counters {
    /// Locks the customers (PostgreSQL) and counts, per cap of any
    /// candidate's plan, what the ledger holds in each cap's window.
    pub async fn load(runner: &Runner, tx: &mut Tx, now: DateTime<Utc>, cands: &[&Candidate]) -> Result<Counters, DbError> {
        let mut counts: HashMap<String, Vec<(CapKey, u64)>> = HashMap::new();
        let mut keys: Vec<CapKey> = Vec::new();
        for c in cands {
            for cap in &c.plan.caps {
                let k = CapKey::of(&c.plan, cap);
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        if keys.is_empty() {
            return Ok(Counters { counts });
        }
        let mut customers: Vec<&str> = cands.iter().map(|c| c.customer.as_str()).collect();
        customers.sort_unstable();
        customers.dedup();
        let list = BindValue::Json(serde_json::Value::Array(
            customers.iter().map(|c| serde_json::Value::from(*c)).collect(),
        ));
        let s = &runner.store;
        if let Some(lock) = s.sql.lock_customers(&s.ph(1)) {
            tx.execute(&lock, std::slice::from_ref(&list)).await?;
        }
        let now_ms = crate::clock::ms(now);
        for key in keys {
            let mut sql = format!(
                "SELECT customer, COUNT(*) FROM {} WHERE customer IN {} AND created_ms > {} AND status NOT IN ('held', 'suppressed')",
                s.t.ledger,
                s.sql.json_list(&s.ph(1), false),
                s.ph(2)
            );
            let mut binds = vec![list.clone(), BindValue::Int(now_ms - key.seconds as i64 * 1000)];
            if let Some(c) = &key.campaign {
                binds.push(BindValue::Text(c.clone()));
                sql.push_str(&format!(" AND campaign = {}", s.ph(binds.len())));
            }
            match &key.scope {
                Scope::All => sql.push_str(" AND repeats = 0"),
                Scope::Kind { kind } => {
                    binds.push(BindValue::Text(kind.clone()));
                    sql.push_str(&format!(" AND repeats = 0 AND kind = {}", s.ph(binds.len())));
                }
                Scope::Channel { channel } => {
                    binds.push(BindValue::Text(channel.clone()));
                    sql.push_str(&format!(" AND channel = {}", s.ph(binds.len())));
                }
            }
            sql.push_str(" GROUP BY customer");
            let mut found: HashMap<String, u64> = HashMap::new();
            for row in tx.rows(&sql, &binds).await? {
                if let (Some(customer), Some(n)) = (row.text(0), row.int(1)) {
                    found.insert(customer, n.max(0) as u64);
                }
            }
            for c in &customers {
                let n = found.get(*c).copied().unwrap_or(0);
                counts.entry(c.to_string()).or_default().push((key.clone(), n));
            }
        }
        Ok(Counters { counts })
    }

    /// Takes one send if every cap that applies still has room; counts it
    /// against every counter it falls under.
    pub fn take(&mut self, c: &Candidate) -> bool {
        let kind = c.plan.kind.name();
        let Some(counters) = self.counts.get_mut(&c.customer) else {
            return true;
        };
        for cap in c.plan.caps.iter().filter(|cap| applies(cap, &c.plan, &c.channel, c.repeats)) {
            let key = CapKey::of(&c.plan, cap);
            let used = counters.iter().find(|(k, _)| *k == key).map_or(0, |(_, n)| *n);
            if used >= cap.count {
                return false;
            }
        }
        for (key, n) in counters.iter_mut() {
            if key.counts(&c.plan.name, kind, &c.channel, c.repeats) {
                *n += 1;
            }
        }
        true
    }
}
