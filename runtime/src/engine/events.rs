//! Events in. The daemon reads each events table from a cursor over its
//! integer row key (`lower::ddl::EVENT_ROW_ID`), in row-key order; a replay
//! (`camp simulate`, `camp demo`) reads them by time as its virtual clock
//! passes (module [`replay`]). `POST /v1/events` checks an event and
//! stores it in its table, and the next read takes it like any other.
//!
//! Every event is checked at the door against the schema, from a table or
//! from HTTP alike: a known type, a customer key of the customer table's
//! kind that exists, a valid time, and every property of its type (present
//! unless nullable, enum values among the enum's, `max` bounds, `ref` keys
//! that exist in their table, no NUL character). One that fails is
//! quarantined with its reason and starts or advances nothing; the others
//! of its batch go on. Nothing stops the daemon.

mod check;
pub mod replay;

use super::{enroll, KeyKind, Runner, Tick};
use crate::binds::{prop_value, BindValue, TriggerEvent};
use crate::clock::ms;
use crate::db::{convert, Backend, CellsExt, DbError, Raw, Tx, Want};
use camp_compiler::lower::cond::param_type;
use camp_compiler::lower::ddl::EVENT_ROW_ID;
use camp_compiler::plan::deployment::{EventStorage, Field, Schema};
use camp_compiler::templating::Value;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value as Json};

pub use check::Event;
use check::{admit, Incoming};

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

    /// The column that holds each event's time.
    pub fn time(&self) -> &str {
        match self {
            Source::Shared { time, .. } | Source::Own { time, .. } => time,
        }
    }

    /// `SELECT` row key, customer, time, then the type and properties
    /// column (shared table) or a column per property.
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
    if runner.opts.replay {
        return replay::poll(runner, now).await;
    }
    let mut tick = Tick::default();
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
    replay::next_event_time(runner, now).await
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
        if let Ok(t) = incoming.time {
            if t > now && t <= now + Duration::days(1) {
                // Not yet: events later than now are invisible.
                break;
            }
        }
        taken.push(incoming);
        expected = id + 1;
    }
    let new_last = if taken.is_empty() { last } else { expected - 1 };
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

/// An events table's row, before it is checked. Text without an offset in
/// a table is UTC (DESIGN §3.2).
fn read_row(source: &Source, row: &[Raw]) -> Incoming {
    let origin = format!("{}#{}", source.table(), row.int(0).unwrap_or(0));
    let customer = row.get(1).cloned().unwrap_or(Raw::Null);
    let time = match row.get(2) {
        Some(Raw::Timestamp(t)) => Some(*t),
        Some(Raw::Text(s)) => crate::binds::parse_instant(s),
        _ => None,
    }
    .ok_or_else(|| "the event has no valid time".to_string());
    let shown = |raw: Option<&Raw>| match raw {
        None | Some(Raw::Null) => Json::Null,
        Some(Raw::Int(n)) => Json::from(*n),
        Some(Raw::Float(f)) => Json::from(*f),
        Some(Raw::Bool(b)) => Json::from(*b),
        Some(Raw::Text(s)) => Json::from(s.clone()),
        Some(Raw::Timestamp(t)) => Json::from(t.to_rfc3339()),
        Some(Raw::Date(d)) => Json::from(d.to_string()),
    };
    let (event, props, shown_props) = match source {
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
            (event, props, shown(row.get(4)))
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
                    Err(e) => problem = problem.or(Some(format!("property `{}`: {e}", p.name))),
                }
            }
            let shown_props = Json::Object(
                props
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.name.clone(), shown(row.get(3 + i))))
                    .collect(),
            );
            (Some(event.clone()), problem.map_or(Ok(map), Err), shown_props)
        }
    };
    let payload = json!({
        "type": event,
        "customer": shown(row.get(1)),
        "time": shown(row.get(2)),
        "properties": shown_props,
    })
    .to_string();
    Incoming {
        origin,
        event,
        customer,
        time,
        props,
        payload,
        shape: None,
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

/// Checks and takes events: quarantine, enrollments, conversions.
async fn take(runner: &Runner, tx: &mut Tx, kind: KeyKind, now: DateTime<Utc>, incoming: Vec<Incoming>) -> Result<Tick, DbError> {
    let mut tick = Tick::default();
    if incoming.is_empty() {
        return Ok(tick);
    }
    let fates = admit(runner, tx, kind, None, &incoming).await?;
    for (inc, fate) in incoming.iter().zip(fates) {
        let e = match fate {
            Ok(e) => e,
            Err(reason) => {
                tick.quarantined += 1;
                quarantine(runner, tx, now, &inc.origin, &inc.payload, &reason).await?;
                continue;
            }
        };
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

/// Text as PostgreSQL can hold it: a NUL character written `\0`.
fn without_nul(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\\0"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

pub async fn quarantine(
    runner: &Runner,
    tx: &mut Tx,
    now: DateTime<Utc>,
    origin: &str,
    payload: &str,
    reason: &str,
) -> Result<(), DbError> {
    let (origin, payload, reason) = (without_nul(origin), without_nul(payload), without_nul(reason));
    tracing::warn!(origin = %origin, reason = %crate::logging::mask(&reason), "event quarantined");
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
            BindValue::Text(origin.into_owned()),
            BindValue::Text(payload),
            BindValue::Text(reason.into_owned()),
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
    /// Each event's fate, in input order.
    pub events: Vec<Fate>,
    /// Set when nothing in the body is an event (not JSON, or no JSON
    /// object in it): HTTP answers 400.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Rejected {
    pub index: usize,
    pub reason: String,
}

/// What became of one event of a body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fate {
    pub index: usize,
    /// `accepted` or `quarantined`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Ingested {
    fn accept(&mut self, index: usize) {
        self.accepted += 1;
        self.events.push(Fate {
            index,
            status: "accepted",
            reason: None,
        });
    }

    fn reject(&mut self, index: usize, reason: &str) {
        self.quarantined.push(Rejected {
            index,
            reason: reason.to_string(),
        });
        self.events.push(Fate {
            index,
            status: "quarantined",
            reason: Some(reason.to_string()),
        });
    }
}

/// Checks the events of a JSON body (one object or an array) and stores
/// the good ones in their tables; the rest go to quarantine. Only a
/// database that does not answer is an error: whatever the body holds,
/// each event is answered by its index.
pub async fn ingest(runner: &Runner, now: DateTime<Utc>, body: &[u8]) -> Result<Ingested, DbError> {
    let mut out = Ingested::default();
    let kind = runner.key_kind().await?;
    let zone = runner.zone();
    let now = crate::binds::whole_second(now);
    let mut tx = runner.store.db.begin().await?;
    let not_events = |reason: String| (String::from_utf8_lossy(body).into_owned(), reason);
    let items = match serde_json::from_slice::<Json>(body) {
        Ok(Json::Array(items)) => Ok(items),
        Ok(item @ Json::Object(_)) => Ok(vec![item]),
        Ok(_) => Err(not_events("the body must be an event object or an array of them".into())),
        Err(e) => Err(not_events(format!("the body is not JSON: {e}"))),
    };
    let items = match items {
        Ok(items) => items,
        Err((payload, reason)) => {
            quarantine(runner, &mut tx, now, "http", &payload, &reason).await?;
            runner.metrics.events(0, 1, 0);
            tx.commit().await?;
            out.reject(0, &reason);
            out.error = Some(reason);
            return Ok(out);
        }
    };
    let incoming: Vec<Incoming> = items.iter().map(|item| Incoming::of_json(item, now, zone)).collect();
    let fates = admit(runner, &mut tx, kind, Some(zone), &incoming).await?;
    for (index, (inc, fate)) in incoming.iter().zip(fates).enumerate() {
        let refused = match fate {
            Ok(e) => store_event(runner, &mut tx, kind, &e).await?,
            Err(reason) => Some(reason),
        };
        match refused {
            None => out.accept(index),
            Some(reason) => {
                quarantine(runner, &mut tx, now, "http", &inc.payload, &reason).await?;
                runner.metrics.events(0, 1, 0);
                out.reject(index, &reason);
            }
        }
    }
    tx.commit().await?;
    if !items.is_empty() && !items.iter().any(Json::is_object) {
        out.error = Some("nothing in the body is an event object".into());
    }
    Ok(out)
}

/// Writes a checked event into the table the schema keeps it in. `Some`
/// with the database's reason when it refuses the row (a value its column
/// cannot hold): the event is quarantined and the batch goes on. A
/// database that does not answer is an error.
async fn store_event(runner: &Runner, tx: &mut Tx, kind: KeyKind, e: &Event) -> Result<Option<String>, DbError> {
    let d = runner.store.db.dialect();
    let q = |s: &str| d.quote(s);
    let key = runner.key(kind, &e.customer.to_string()).bind();
    let Some(model) = runner.schema.event(&e.name) else {
        return Ok(Some(format!("unknown event type `{}`", e.name)));
    };
    let time = BindValue::Timestamp(crate::binds::whole_second(e.time));
    let (table, columns, values): (String, Vec<String>, Vec<BindValue>) = match (&model.storage, &runner.schema.events_table) {
        (EventStorage::Shared, Some(t)) => {
            let mut props = e.props.clone();
            for p in &model.props {
                // Timestamps in the JSON as the backend's own functions
                // compare them (SQLite: `2026-11-22 02:00:00`).
                if let (Some(Json::String(text)), "timestamp") = (props.get(&p.name), param_type(&p.ty)) {
                    if let (Some(t), Backend::Sqlite) = (crate::binds::parse_instant(text), runner.store.db.backend()) {
                        props.insert(p.name.clone(), Json::from(crate::binds::sqlite_timestamp(&t)));
                    }
                }
            }
            (
                t.source.clone(),
                vec![q(&t.customer_column), q(&t.type_column), q(&t.time_column), q(&t.props_column)],
                vec![key, BindValue::Text(e.name.clone()), time, BindValue::Json(Json::Object(props))],
            )
        }
        (
            EventStorage::Own {
                source,
                customer_column,
                time_column,
            },
            _,
        ) => {
            let mut columns = vec![q(customer_column), q(time_column)];
            let mut values = vec![key, time];
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
        (EventStorage::Shared, None) => return Ok(Some("the schema has no events table for this event".into())),
    };
    let placeholders: Vec<String> = (1..=values.len()).map(|i| d.placeholder(i)).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        q(&table),
        columns.join(", "),
        placeholders.join(", ")
    );
    // A refused row must not abort the transaction (PostgreSQL fails every
    // statement after an error until a rollback): each insert under a
    // savepoint. That the rollback to it works shows the database is up.
    tx.execute("SAVEPOINT camp_event", &[]).await?;
    match tx.execute(&sql, &values).await {
        Ok(_) => {
            tx.execute("RELEASE SAVEPOINT camp_event", &[]).await?;
            Ok(None)
        }
        Err(refused) => match tx.execute("ROLLBACK TO SAVEPOINT camp_event", &[]).await {
            Ok(_) => {
                tx.execute("RELEASE SAVEPOINT camp_event", &[]).await?;
                let why = refused.to_string();
                let first = why
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("the database refused a query: ");
                Ok(Some(format!("the database refused the event: {first}")))
            }
            Err(_) => Err(refused),
        },
    }
}
