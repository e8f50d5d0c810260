//! Dry runs on plans alone, for `camp review`: who is in a campaign's
//! audience now, how many of its sends the caps would block given the
//! store's ledger, and the rendered messages of one customer. Unlike
//! [`crate::dryrun`] nothing here needs the `.camp` sources: a compiled
//! deployment directory is enough. Nothing is written.

use crate::binds::{BindValue, Bindings, TriggerEvent};
use crate::db::{Backend, CellsExt, Database, DbError, Key, Want};
use crate::dryrun::{self, DryRunError, Preview};
use crate::engine::caps::{applies, CapKey};
use crate::store::{Store, SCHEMA};
use camp_compiler::lower::{CampaignQueries, Query};
use camp_compiler::plan::deployment::Schema;
use camp_compiler::plan::{Op, Plan, Scope, Trigger};
use camp_compiler::templating::Value;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeSet, HashMap};

/// How many of a customer's latest events are tried against the trigger's
/// `where` before giving up on finding one that passes.
const TRIGGER_SCAN: usize = 1_000;

fn queries<'p>(db: &Database, plan: &'p Plan) -> &'p CampaignQueries {
    match db.backend() {
        Backend::Sqlite => &plan.sql.sqlite,
        Backend::Postgres => &plan.sql.postgres,
    }
}

fn trigger_filter<'p>(db: &Database, plan: &'p Plan) -> Option<&'p Query> {
    match &plan.trigger {
        Trigger::On { filter: Some(f), .. } => Some(match db.backend() {
            Backend::Sqlite => &f.sqlite,
            Backend::Postgres => &f.postgres,
        }),
        _ => None,
    }
}

fn earlier_plan(plan: &Plan) -> DryRunError {
    DryRunError::Db(DbError::data(format!(
        "the plan of `{}` was compiled by an earlier camp and lacks the trigger queries a dry run needs\n  help: compile the workspace again: `camp compile --out DIR`",
        plan.name
    )))
}

async fn holds(db: &Database, query: &Query, binds: Bindings<'_>) -> Result<bool, DryRunError> {
    if query.sql.is_empty() {
        return Ok(true);
    }
    let binds = binds.resolve(&query.params)?;
    let rows = db.fetch(&query.sql, &binds, &[Want::Int]).await?;
    Ok(matches!(rows.first().and_then(|r| r.first()), Some(Value::Int(1))))
}

/// Everyone in the plan's audience at `now`, keys ascending: the population
/// of a scheduled campaign; for an event-triggered one, the customers whose
/// latest triggering event (that passes the trigger's `where`), taken as
/// the trigger, passes the audience. The same people as `camp audience`.
pub async fn audience(db: &Database, plan: &Plan, now: DateTime<Utc>) -> Result<Vec<Key>, DryRunError> {
    let q = queries(db, plan);
    if !matches!(plan.trigger, Trigger::On { .. }) {
        let Some(population) = &q.population else {
            return Ok(Vec::new());
        };
        if population.sql.is_empty() {
            return Ok(Vec::new());
        }
        let binds = Bindings::at(now).resolve(&population.params)?;
        let mut keys = db.fetch_keys(&population.sql, &binds).await?;
        keys.sort();
        keys.dedup();
        return Ok(keys);
    }
    let Some(triggers) = &q.triggers else {
        return Err(earlier_plan(plan));
    };
    let binds = Bindings::at(now).resolve(&triggers.candidates.params)?;
    let candidates = db.fetch_keys(&triggers.candidates.sql, &binds).await?;
    let mut keys = Vec::new();
    for key in candidates {
        let Some(trigger) = latest_trigger(db, plan, &key, now).await? else {
            continue;
        };
        let admitted = match &q.check {
            Some(check) => {
                holds(
                    db,
                    check,
                    Bindings {
                        now,
                        customer: Some(&key),
                        trigger: Some(&trigger),
                    },
                )
                .await?
            }
            None => true,
        };
        if admitted {
            keys.push(key);
        }
    }
    keys.sort();
    Ok(keys)
}

/// The customer's latest triggering event at or before now that passes the
/// trigger's `where`; `None` for scheduled plans or when there is none.
pub async fn latest_trigger(db: &Database, plan: &Plan, key: &Key, now: DateTime<Utc>) -> Result<Option<TriggerEvent>, DryRunError> {
    if !matches!(plan.trigger, Trigger::On { .. }) {
        return Ok(None);
    }
    let Some(triggers) = &queries(db, plan).triggers else {
        return Err(earlier_plan(plan));
    };
    let binds = Bindings {
        now,
        customer: Some(key),
        trigger: None,
    }
    .resolve(&triggers.latest.params)?;
    let mut wants = vec![Want::Timestamp];
    wants.extend(triggers.columns.iter().map(|c| Want::of_name(&c.ty)));
    let rows = db.fetch(&triggers.latest.sql, &binds, &wants).await?;
    let filter = trigger_filter(db, plan);
    for row in rows.into_iter().take(TRIGGER_SCAN) {
        let mut values = row.into_iter();
        let Some(Value::Timestamp(time)) = values.next() else {
            continue;
        };
        let props: Map<String, Json> = triggers
            .columns
            .iter()
            .zip(values)
            .map(|(c, v)| (c.path.trim_start_matches("trigger.").to_string(), dryrun::json_of(v)))
            .collect();
        let trigger = TriggerEvent { time, props };
        let Some(filter) = filter else { return Ok(Some(trigger)) };
        let passes = holds(
            db,
            filter,
            Bindings {
                now,
                customer: Some(key),
                trigger: Some(&trigger),
            },
        )
        .await?;
        if passes {
            return Ok(Some(trigger));
        }
    }
    Ok(None)
}

/// The customer's key as the database has it: an integer when the text is
/// one and such a customer exists, else the text.
pub async fn find_customer(db: &Database, schema: &Schema, key: &str) -> Result<Key, DryRunError> {
    let Some(customer) = schema.customer.as_ref() else {
        return Err(DryRunError::Db(DbError::data("the schema has no customer table")));
    };
    dryrun::find_customer_in(db, &customer.source, &customer.key, key).await
}

/// Every message the plan sends (every branch and variant), rendered for
/// one customer at `now` on its channel and each fallback.
pub async fn previews(db: &Database, schema: &Schema, plan: &Plan, key: &Key, now: DateTime<Utc>) -> Result<Vec<Preview>, DryRunError> {
    let trigger = latest_trigger(db, plan, key, now).await?;
    if let (Trigger::On { event, .. }, None) = (&plan.trigger, &trigger) {
        let reads_trigger = plan.messages.values().any(|m| {
            m.inputs()
                .iter()
                .any(|s| matches!(s, camp_compiler::templating::Source::Trigger { .. }))
        });
        if reads_trigger {
            return Err(DryRunError::NoTrigger {
                customer: key.to_string(),
                event: event.clone(),
            });
        }
    }
    let q = queries(db, plan);
    let row = dryrun::render_row(db, &q.render, &q.columns, key, trigger.as_ref(), now).await?;
    let zone = schema.timezone_field().and_then(|tz| {
        let path = format!("customer.{}", tz.name);
        row.iter().find_map(|(p, v)| match v {
            Value::Text(zone) if *p == path => Some(zone.clone()),
            _ => None,
        })
    });
    let mut out: Vec<Preview> = Vec::new();
    for step in &plan.steps {
        let Op::Send { message, channels, .. } = &step.op else { continue };
        if out.iter().any(|p| &p.message == message) {
            continue;
        }
        let Some(compiled) = plan.messages.get(message) else { continue };
        let lists = dryrun::message_lists(db, q, compiled, key, trigger.as_ref(), now).await?;
        out.push(dryrun::render_chain(compiled, channels, &row, &lists, zone.as_deref())?);
    }
    Ok(out)
}

/// Whether the database holds a camp store (its ledger).
pub async fn store_exists(db: &Database) -> Result<bool, DbError> {
    let (sql, binds) = match db.backend() {
        Backend::Sqlite => (
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1".to_string(),
            vec![BindValue::Text("camp_ledger".into())],
        ),
        Backend::Postgres => (
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2".to_string(),
            vec![BindValue::Text(SCHEMA.into()), BindValue::Text("ledger".into())],
        ),
    };
    let rows = db.rows(&sql, &binds).await?;
    Ok(rows.first().and_then(|r| r.int(0)).unwrap_or(0) > 0)
}

/// The channel of the plan's first send (in step order), if it sends.
pub fn first_channel(plan: &Plan) -> Option<&str> {
    plan.steps.iter().find_map(|s| match &s.op {
        Op::Send { channels, .. } => Some(channels.primary.as_str()),
        _ => None,
    })
}

/// How many of `customers` the plan's caps would refuse a send right now:
/// one send each, on the channel of the plan's first send, against every
/// cap of the plan that applies to it, counted from the store's ledger in
/// each cap's window (as the engine counts: neither held nor suppressed
/// rows). 0 without a store.
pub async fn blocked_by_caps(db: &Database, plan: &Plan, customers: &[Key], now: DateTime<Utc>) -> Result<u64, DbError> {
    let Some(channel) = first_channel(plan) else {
        return Ok(0);
    };
    let caps: Vec<_> = plan.caps.iter().filter(|c| applies(c, plan, channel, false)).collect();
    if caps.is_empty() || customers.is_empty() || !store_exists(db).await? {
        return Ok(0);
    }
    let store = Store::attach(db.clone(), SCHEMA);
    let now_ms = crate::clock::ms(now);
    let mut full: BTreeSet<String> = BTreeSet::new();
    for cap in caps {
        let key = CapKey::of(plan, cap);
        let mut binds = vec![BindValue::Int(now_ms - (key.seconds.min(i64::MAX as u64 / 1000) as i64) * 1000)];
        let mut sql = format!(
            "SELECT customer, COUNT(*) FROM {} WHERE created_ms > {} AND status NOT IN ('held', 'suppressed')",
            store.t.ledger,
            store.ph(1)
        );
        if let Some(c) = &key.campaign {
            binds.push(BindValue::Text(c.clone()));
            sql.push_str(&format!(" AND campaign = {}", store.ph(binds.len())));
        }
        match &key.scope {
            Scope::All => sql.push_str(" AND attempt = 0"),
            Scope::Kind { kind } => {
                binds.push(BindValue::Text(kind.clone()));
                sql.push_str(&format!(" AND attempt = 0 AND kind = {}", store.ph(binds.len())));
            }
            Scope::Channel { channel } => {
                binds.push(BindValue::Text(channel.clone()));
                sql.push_str(&format!(" AND channel = {}", store.ph(binds.len())));
            }
        }
        sql.push_str(" GROUP BY customer");
        let counts: HashMap<String, u64> = db
            .rows(&sql, &binds)
            .await?
            .into_iter()
            .filter_map(|r| Some((r.text(0)?, r.int(1)?.max(0) as u64)))
            .collect();
        full.extend(counts.into_iter().filter(|(_, n)| *n >= cap.count).map(|(c, _)| c));
    }
    Ok(customers.iter().filter(|k| full.contains(&k.to_string())).count() as u64)
}
