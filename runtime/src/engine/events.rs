//! Events in. The daemon reads each events table from a cursor over its
//! integer row key (`lower::ddl::EVENT_ROW_ID`), in row-key order; a replay
//! (`camp simulate`, `camp demo`) reads them by time as its virtual clock
//! passes. `POST /v1/events` checks an event and stores it in its table,
//! and the next read takes it like any other. An event that is malformed,
//! of an unknown type, for an unknown customer or with a property of the
//! wrong type is quarantined with its reason; nothing stops the daemon.

use super::{enroll, KeyKind, Runner, Tick};
use crate::binds::{prop_value, BindValue, TriggerEvent};
use crate::clock::ms;
use crate::db::{convert, Backend, CellsExt, DbError, Key, Raw, Tx, Want};
use camp_compiler::lower::cond::param_type;
use camp_compiler::lower::ddl::EVENT_ROW_ID;
use camp_compiler::plan::deployment::{EventStorage, Field, Schema};
use camp_compiler::templating::Value;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value as Json};
use std::collections::HashSet;

/// Rows read per transaction.
const BATCH: i64 = 500;

/// A table events are read from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The shared table: a type column and a JSON properties column.
    Shared {
        table: String,
        customer: String,
        kind: String,
        time: String,
        props: String,
    },
    /// An event with a table of its own: a column per property.
    Own {
        event: String,
        table: String,
        customer: String,
        time: String,
        props: Vec<Field>,
    },
}

impl Source {
    pub fn all(schema: &Schema) -> Vec<Source> {
        let mut out = Vec::new();
        if let Some(t) = &schema.events_table {
            out.push(Source::Shared {
                table: t.source.clone(),
                customer: t.customer_column.clone(),
                kind: t.type_column.clone(),
                time: t.time_column.clone(),
                props: t.props_column.clone(),
            });
        }
        for e in &schema.events {
            if let EventStorage::Own {
                source,
                customer_column,
                time_column,
            } = &e.storage
            {
                out.push(Source::Own {
                    event: e.name.clone(),
                    table: source.clone(),
                    customer: customer_column.clone(),
                    time: time_column.clone(),
                    props: e.props.clone(),
                });
            }
        }
        out
    }

    pub fn table(&self) -> &str {
        match self {
            Source::Shared { table, .. } | Source::Own { table, .. } => table,
        }
    }

    fn time(&self) -> &str {
        match self {
            Source::Shared { time, .. } | Source::Own { time, .. } => time,
        }
    }

    fn select(&self, runner: &Runner) -> String {
        let d = runner.store.db.dialect();
        let q = |s: &str| d.quote(s);
        match self {
            Source::Shared {
                table,
                customer,
                kind,
                time,
                props,
            } => format!(
                "SELECT {}, {}, {}, {}, {} FROM {}",
                q(EVENT_ROW_ID),
                q(customer),
                q(time),
                q(kind),
                q(props),
                q(table)
            ),
            Source::Own {
                table,
                customer,
                time,
                props,
                ..
            } => {
                let mut cols = vec![q(EVENT_ROW_ID), q(customer), q(time)];
                cols.extend(props.iter().map(|p| q(&p.name)));
                format!("SELECT {} FROM {}", cols.join(", "), q(table))
            }
        }
    }
}

/// An event read from a table or received, before it is checked.
struct Incoming {
    origin: String,
    event: Option<String>,
    customer: Raw,
    time: Option<DateTime<Utc>>,
    props: Result<Map<String, Json>, String>,
}

/// A checked event.
pub struct Event {
    pub name: String,
    pub customer: Key,
    pub time: DateTime<Utc>,
    pub props: Map<String, Json>,
}

/// Starts the cursor of each table never read at its current end: the
/// daemon reacts to events from its first start on, not to history.
pub async fn init_cursors(runner: &Runner) -> Result<(), DbError> {
    let s = &runner.store;
    let d = s.db.dialect();
    for source in &runner.sources {
        let max = format!("SELECT MAX({}) FROM {}", d.quote(EVENT_ROW_ID), d.quote(source.table()));
        let last = match s.db.rows(&max, &[]).await {
            Ok(rows) => rows.first().and_then(|r| r.int(0)).unwrap_or(0),
            Err(e) => {
                tracing::warn!(table = source.table(), error = %e, "this events table cannot be read from a cursor; only POST /v1/events reaches it");
                continue;
            }
        };
        s.db.execute(
            &format!(
                "INSERT INTO {} (source, last_id) VALUES ({}, {}) ON CONFLICT DO NOTHING",
                s.t.cursors,
                s.ph(1),
                s.ph(2)
            ),
            &[BindValue::Text(source.table().to_string()), BindValue::Int(last)],
        )
        .await?;
    }
    Ok(())
}

/// Reads and takes every new event.
pub async fn poll(runner: &Runner, now: DateTime<Utc>) -> Result<Tick, DbError> {
    let mut tick = Tick::default();
    if runner.opts.replay {
        let from = runner.replayed_to().unwrap_or(ms(now));
        if ms(now) <= from {
            return Ok(tick);
        }
        for source in &runner.sources {
            tick += replay(runner, source, from, now).await?;
        }
        runner.set_replayed_to(ms(now));
        return Ok(tick);
    }
    for source in &runner.sources {
        for _ in 0..100 {
            let (read, done) = read_batch(runner, source, now).await?;
            tick += done;
            if read < BATCH as usize {
                break;
            }
        }
    }
    Ok(tick)
}

/// The time of the first stored event after `now` (replays).
pub async fn next_event_time(runner: &Runner, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, DbError> {
    let d = runner.store.db.dialect();
    let mut best: Option<DateTime<Utc>> = None;
    for source in &runner.sources {
        let sql = format!(
            "SELECT MIN({t}) FROM {} WHERE {t} > {}",
            d.quote(source.table()),
            d.timestamp_param(&d.placeholder(1)),
            t = d.quote(source.time())
        );
        let rows = runner
            .store
            .db
            .fetch(&sql, &[BindValue::Timestamp(now)], &[Want::Timestamp])
            .await?;
        if let Some(Value::Timestamp(t)) = rows.first().and_then(|r| r.first()) {
            best = Some(best.map_or(*t, |b| b.min(*t)));
        }
    }
    Ok(best)
}

async fn replay(runner: &Runner, source: &Source, from: i64, now: DateTime<Utc>) -> Result<Tick, DbError> {
    let d = runner.store.db.dialect();
    let t = d.quote(source.time());
    let sql = format!(
        "{} WHERE {t} > {} AND {t} <= {} ORDER BY {t}, {}",
        source.select(runner),
        d.timestamp_param(&d.placeholder(1)),
        d.timestamp_param(&d.placeholder(2)),
        d.quote(EVENT_ROW_ID)
    );
    let rows = runner
        .store
        .db
        .rows(
            &sql,
            &[BindValue::Timestamp(crate::clock::from_ms(from)), BindValue::Timestamp(now)],
        )
        .await?;
    let kind = runner.key_kind().await?;
    let mut tx = runner.store.db.begin().await?;
    let incoming: Vec<(i64, Incoming)> = rows.iter().filter_map(|r| Some((r.int(0)?, read_row(source, r)))).collect();
    let tick = take(runner, &mut tx, kind, now, incoming).await?;
    tx.commit().await?;
    Ok(tick)
}

/// One batch from the cursor, in one transaction with the cursor's move.
async fn read_batch(runner: &Runner, source: &Source, now: DateTime<Utc>) -> Result<(usize, Tick), DbError> {
    let s = &runner.store;
    let d = s.db.dialect();
    let kind = runner.key_kind().await?;
    let mut tx = s.db.begin().await?;
    let cursor = tx
        .rows(
            &format!(
                "SELECT last_id FROM {} WHERE source = {}{}",
                s.t.cursors,
                s.ph(1),
                s.sql.skip_locked()
            ),
            &[BindValue::Text(source.table().to_string())],
        )
        .await?;
    let Some(last) = cursor.first().and_then(|r| r.int(0)) else {
        // Held by another daemon, or a table that cannot be read.
        tx.rollback().await?;
        return Ok((0, Tick::default()));
    };
    let sql = format!(
        "{} WHERE {id} > {} ORDER BY {id} LIMIT {}",
        source.select(runner),
        d.placeholder(1),
        d.placeholder(2),
        id = d.quote(EVENT_ROW_ID)
    );
    let rows = tx.rows(&sql, &[BindValue::Int(last), BindValue::Int(BATCH)]).await?;
    let read = rows.len();
    let mut taken = Vec::new();
    let mut expected = last + 1;
    for row in &rows {
        let Some(id) = row.int(0) else { continue };
        if id != expected && s.db.backend() == Backend::Postgres && !gap_expired(runner, source.table(), expected) {
            // A lower key may still commit: wait a little for it.
            break;
        }
        let incoming = read_row(source, row);
        if let Some(t) = incoming.time {
            if t > now && t <= now + Duration::days(1) {
                // Not yet: events later than now are invisible.
                break;
            }
        }
        taken.push((id, incoming));
        expected = id + 1;
    }
    let new_last = taken.last().map(|(id, _)| *id).unwrap_or(last);
    let tick = take(runner, &mut tx, kind, now, taken).await?;
    tx.execute(
        &format!("UPDATE {} SET last_id = {} WHERE source = {}", s.t.cursors, s.ph(1), s.ph(2)),
        &[BindValue::Int(new_last), BindValue::Text(source.table().to_string())],
    )
    .await?;
    tx.commit().await?;
    Ok((if new_last == last { 0 } else { read }, tick))
}

/// Whether a gap in the row keys before `expected` has been open long
/// enough to be a rolled-back insert rather than one still committing.
fn gap_expired(runner: &Runner, table: &str, expected: i64) -> bool {
    let Ok(mut gaps) = runner.gaps.lock() else { return true };
    match gaps.get(table) {
        Some((at, since)) if *at == expected => since.elapsed() > std::time::Duration::from_secs(3),
        _ => {
            gaps.insert(table.to_string(), (expected, std::time::Instant::now()));
            false
        }
    }
}

fn read_row(source: &Source, row: &[Raw]) -> Incoming {
    let origin = format!("{}#{}", source.table(), row.int(0).unwrap_or(0));
    let customer = row.get(1).cloned().unwrap_or(Raw::Null);
    let time = match row.get(2) {
        Some(Raw::Timestamp(t)) => Some(*t),
        Some(Raw::Text(s)) => crate::binds::parse_instant(s),
        _ => None,
    };
    match source {
        Source::Shared { .. } => {
            let event = row.text(3);
            let props = match row.get(4) {
                Some(Raw::Text(s)) => match serde_json::from_str::<Json>(s) {
                    Ok(Json::Object(m)) => Ok(m),
                    Ok(Json::Null) => Ok(Map::new()),
                    Ok(_) => Err("the properties are not a JSON object".to_string()),
                    Err(e) => Err(format!("the properties are not JSON: {e}")),
                },
                Some(Raw::Null) | None => Ok(Map::new()),
                Some(other) => Err(format!("the properties are not JSON text: {other:?}")),
            };
            Incoming {
                origin,
                event,
                customer,
                time,
                props,
            }
        }
        Source::Own { event, props, .. } => {
            let mut map = Map::new();
            let mut problem = None;
            for (i, p) in props.iter().enumerate() {
                let raw = row.get(3 + i).cloned().unwrap_or(Raw::Null);
                match convert(raw, Want::of_name(param_type(&p.ty))) {
                    Ok(v) => {
                        map.insert(p.name.clone(), json_of(v));
                    }
                    Err(e) => problem = Some(format!("property `{}`: {e}", p.name)),
                }
            }
            Incoming {
                origin,
                event: Some(event.clone()),
                customer,
                time,
                props: problem.map_or(Ok(map), Err),
            }
        }
    }
}

pub fn json_of(value: Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Int(n) => Json::from(n),
        Value::Decimal(f) => Json::from(f),
        Value::Text(s) => Json::from(s),
        Value::Bool(b) => Json::from(b),
        Value::Timestamp(t) => Json::from(t.to_rfc3339()),
        Value::Date(d) => Json::from(d.format("%Y-%m-%d").to_string()),
    }
}

/// Checks an event against the schema (not yet the customer).
fn check(schema: &Schema, incoming: &Incoming) -> Result<Event, String> {
    let name = incoming.event.clone().ok_or("the event has no type")?;
    let Some(model) = schema.event(&name) else {
        return Err(format!("unknown event type `{}`", crate::logging::mask(&name)));
    };
    let customer = match &incoming.customer {
        Raw::Int(n) => Key::Int(*n),
        Raw::Text(s) if !s.trim().is_empty() => Key::Text(s.clone()),
        _ => return Err("the event has no customer key".into()),
    };
    let time = incoming.time.ok_or("the event has no valid time")?;
    let props = incoming.props.clone()?;
    let mut kept = Map::new();
    for p in &model.props {
        let value = props.get(&p.name);
        if let Err(found) = prop_value(value, param_type(&p.ty)) {
            return Err(format!(
                "property `{}` should be {}, found {}",
                p.name,
                param_type(&p.ty),
                crate::logging::mask(&found)
            ));
        }
        if let Some(v) = value {
            kept.insert(p.name.clone(), v.clone());
        }
    }
    Ok(Event {
        name,
        customer,
        time,
        props: kept,
    })
}

/// The keys among `keys` that are customers.
async fn existing(runner: &Runner, tx: &mut Tx, kind: KeyKind, keys: &[String]) -> Result<HashSet<String>, DbError> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let d = runner.store.db.dialect();
    let c = &runner.customer;
    let sql = format!(
        "SELECT {k} FROM {} WHERE {k} IN {}",
        d.quote(&c.source),
        runner.store.sql.json_list(&runner.store.ph(1), kind == KeyKind::Int),
        k = d.quote(&c.key)
    );
    // Where keys are integers, a key that is not one is nobody (and would
    // fail PostgreSQL's cast for the whole batch).
    let refs: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| kind == KeyKind::Text || k.parse::<i64>().is_ok())
        .collect();
    if refs.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = tx.rows(&sql, &[runner.key_list(kind, &refs)]).await?;
    Ok(rows.iter().filter_map(|r| r.text(0)).collect())
}

/// Checks and takes events: quarantine, enrollments, conversions.
async fn take(runner: &Runner, tx: &mut Tx, kind: KeyKind, now: DateTime<Utc>, incoming: Vec<(i64, Incoming)>) -> Result<Tick, DbError> {
    let mut tick = Tick::default();
    if incoming.is_empty() {
        return Ok(tick);
    }
    let mut checked = Vec::new();
    for (_, inc) in incoming {
        match check(&runner.schema, &inc) {
            Ok(e) => checked.push((inc, e)),
            Err(reason) => {
                tick.quarantined += 1;
                quarantine(runner, tx, now, &inc.origin, &format!("{:?}", inc.customer), &reason).await?;
            }
        }
    }
    let keys: Vec<String> = checked.iter().map(|(_, e)| e.customer.to_string()).collect();
    let known = existing(runner, tx, kind, &keys).await?;
    for (inc, e) in checked {
        if !known.contains(&e.customer.to_string()) {
            tick.quarantined += 1;
            quarantine(runner, tx, now, &inc.origin, &e.customer.to_string(), "unknown customer").await?;
            continue;
        }
        tick.events += 1;
        let key = runner.key(kind, &e.customer.to_string());
        let trigger = TriggerEvent {
            time: e.time,
            props: e.props.clone(),
        };
        tick.enrolled += enroll::for_event(runner, tx, now, &e.name, &inc.origin, &key, &trigger).await?;
        enroll::conversions(runner, tx, &e.name, &key, e.time).await?;
    }
    runner.metrics.events(tick.events, tick.quarantined, tick.enrolled);
    Ok(tick)
}

pub async fn quarantine(
    runner: &Runner,
    tx: &mut Tx,
    now: DateTime<Utc>,
    origin: &str,
    payload: &str,
    reason: &str,
) -> Result<(), DbError> {
    tracing::warn!(origin, reason = %crate::logging::mask(reason), "event quarantined");
    let s = &runner.store;
    let payload: String = payload.chars().take(65_536).collect();
    tx.execute(
        &format!(
            "INSERT INTO {} (received_ms, origin, payload, reason) VALUES ({}, {}, {}, {})",
            s.t.quarantine,
            s.ph(1),
            s.ph(2),
            s.ph(3),
            s.ph(4)
        ),
        &[
            BindValue::Int(ms(now)),
            BindValue::Text(origin.to_string()),
            BindValue::Text(payload),
            BindValue::Text(reason.to_string()),
        ],
    )
    .await?;
    Ok(())
}

/// What `POST /v1/events` did with a body.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Ingested {
    pub accepted: usize,
    pub quarantined: Vec<Rejected>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Rejected {
    pub index: usize,
    pub reason: String,
}

/// Checks the events of a JSON body (one object or an array) and stores
/// the good ones in their tables; the rest go to quarantine.
pub async fn ingest(runner: &Runner, now: DateTime<Utc>, body: &[u8]) -> Result<Ingested, DbError> {
    let mut out = Ingested::default();
    let kind = runner.key_kind().await?;
    let mut tx = runner.store.db.begin().await?;
    let items = match serde_json::from_slice::<Json>(body) {
        Ok(Json::Array(items)) => items,
        Ok(item @ Json::Object(_)) => vec![item],
        Ok(_) => {
            reject(
                runner,
                &mut tx,
                now,
                &mut out,
                0,
                &String::from_utf8_lossy(body),
                "the body must be an event object or an array of them",
            )
            .await?;
            tx.commit().await?;
            return Ok(out);
        }
        Err(e) => {
            reject(
                runner,
                &mut tx,
                now,
                &mut out,
                0,
                &String::from_utf8_lossy(body),
                &format!("the body is not JSON: {e}"),
            )
            .await?;
            tx.commit().await?;
            return Ok(out);
        }
    };
    let mut good = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let incoming = Incoming {
            origin: "http".to_string(),
            event: item.get("type").and_then(Json::as_str).map(str::to_string),
            customer: match item.get("customer") {
                Some(Json::Number(n)) => n.as_i64().map(Raw::Int).unwrap_or(Raw::Null),
                Some(Json::String(s)) => match (kind, s.trim().parse::<i64>()) {
                    (KeyKind::Int, Ok(n)) => Raw::Int(n),
                    _ => Raw::Text(s.clone()),
                },
                _ => Raw::Null,
            },
            time: match item.get("time") {
                None | Some(Json::Null) => Some(now),
                Some(Json::String(s)) => crate::binds::parse_instant(s),
                Some(_) => None,
            },
            props: match item.get("properties") {
                None | Some(Json::Null) => Ok(Map::new()),
                Some(Json::Object(m)) => Ok(m.clone()),
                Some(_) => Err("`properties` must be a JSON object".to_string()),
            },
        };
        let checked = check(&runner.schema, &incoming).and_then(|e| {
            if e.time > now + Duration::minutes(5) {
                Err("the event's time is in the future".to_string())
            } else {
                Ok(e)
            }
        });
        match checked {
            Ok(e) => good.push((index, item, e)),
            Err(reason) => reject(runner, &mut tx, now, &mut out, index, &item.to_string(), &reason).await?,
        }
    }
    let keys: Vec<String> = good.iter().map(|(_, _, e)| e.customer.to_string()).collect();
    let known = existing(runner, &mut tx, kind, &keys).await?;
    for (index, item, e) in good {
        if !known.contains(&e.customer.to_string()) {
            reject(runner, &mut tx, now, &mut out, index, &item.to_string(), "unknown customer").await?;
            continue;
        }
        store_event(runner, &mut tx, kind, &e).await?;
        out.accepted += 1;
    }
    tx.commit().await?;
    Ok(out)
}

async fn reject(
    runner: &Runner,
    tx: &mut Tx,
    now: DateTime<Utc>,
    out: &mut Ingested,
    index: usize,
    payload: &str,
    reason: &str,
) -> Result<(), DbError> {
    quarantine(runner, tx, now, "http", payload, reason).await?;
    runner.metrics.events(0, 1, 0);
    out.quarantined.push(Rejected {
        index,
        reason: reason.to_string(),
    });
    Ok(())
}

/// Writes a checked event into the table the schema keeps it in.
async fn store_event(runner: &Runner, tx: &mut Tx, kind: KeyKind, e: &Event) -> Result<(), DbError> {
    let d = runner.store.db.dialect();
    let q = |s: &str| d.quote(s);
    let key = runner.key(kind, &e.customer.to_string()).bind();
    let Some(model) = runner.schema.event(&e.name) else {
        return Ok(());
    };
    let (table, columns, values): (String, Vec<String>, Vec<BindValue>) = match (&model.storage, &runner.schema.events_table) {
        (EventStorage::Shared, Some(t)) => (
            t.source.clone(),
            vec![q(&t.customer_column), q(&t.type_column), q(&t.time_column), q(&t.props_column)],
            vec![
                key,
                BindValue::Text(e.name.clone()),
                BindValue::Timestamp(e.time),
                BindValue::Json(Json::Object(e.props.clone())),
            ],
        ),
        (
            EventStorage::Own {
                source,
                customer_column,
                time_column,
            },
            _,
        ) => {
            let mut columns = vec![q(customer_column), q(time_column)];
            let mut values = vec![key, BindValue::Timestamp(e.time)];
            for p in &model.props {
                columns.push(q(&p.name));
                let ty = param_type(&p.ty);
                values.push(match prop_value(e.props.get(&p.name), ty) {
                    Ok(BindValue::Null) | Err(_) => BindValue::TypedNull(Want::of_name(ty)),
                    Ok(v) => v,
                });
            }
            (source.clone(), columns, values)
        }
        (EventStorage::Shared, None) => return Ok(()),
    };
    let placeholders: Vec<String> = (1..=values.len()).map(|i| d.placeholder(i)).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        q(&table),
        columns.join(", "),
        placeholders.join(", ")
    );
    tx.execute(&sql, &values).await?;
    Ok(())
}
