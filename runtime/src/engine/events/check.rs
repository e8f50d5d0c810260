//! The door: each event checked against the schema before it can start or
//! advance anything. What one event alone shows (type, key shape, time,
//! property types, enum values, `max` bounds, NUL) is checked here per
//! event; what the database knows (the customer exists, each `ref` key
//! exists in its table) with one set-based query per batch and table.

use super::super::{KeyKind, Runner};
use crate::db::{CellsExt, DbError, Key, Raw, Tx};
use camp_compiler::lower::cond::param_type;
use camp_compiler::plan::deployment::{Field as FieldModel, Schema as SchemaModel};
use camp_compiler::types::FieldType;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value as Json};
use std::collections::{HashMap, HashSet};

/// An event read from a table or received, before it is checked.
pub struct Incoming {
    /// `TABLE#ROW` or `http`.
    pub origin: String,
    pub event: Option<String>,
    pub customer: Raw,
    pub time: Result<DateTime<Utc>, String>,
    pub props: Result<Map<String, Json>, String>,
    /// What the quarantine keeps of it.
    pub payload: String,
    /// Set when it is not an event at all.
    pub shape: Option<String>,
}

/// A checked event.
pub struct Event {
    pub name: String,
    pub customer: Key,
    pub time: DateTime<Utc>,
    pub props: Map<String, Json>,
}

impl Incoming {
    /// One item of a `POST /v1/events` body. An event without a time
    /// happened `now`; a time without an offset is in the policy's `zone`.
    pub fn of_json(item: &Json, now: DateTime<Utc>, zone: Tz) -> Incoming {
        let payload = item.to_string();
        let Json::Object(fields) = item else {
            return Incoming {
                origin: "http".into(),
                event: None,
                customer: Raw::Null,
                time: Ok(now),
                props: Ok(Map::new()),
                payload,
                shape: Some("an event must be a JSON object with `type`, `customer`, and optionally `time` and `properties`".into()),
            };
        };
        let shape = match fields.get("type") {
            None | Some(Json::Null) | Some(Json::String(_)) => None,
            Some(_) => Some("the event's `type` must be a string".to_string()),
        };
        Incoming {
            origin: "http".into(),
            event: fields.get("type").and_then(Json::as_str).map(str::to_string),
            customer: match fields.get("customer") {
                Some(Json::Number(n)) => match n.as_i64() {
                    Some(i) => Raw::Int(i),
                    None => Raw::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                Some(Json::String(s)) => Raw::Text(s.clone()),
                _ => Raw::Null,
            },
            time: match fields.get("time") {
                None | Some(Json::Null) => Ok(now),
                Some(Json::String(s)) => match crate::binds::parse_instant_in(s, zone).map(crate::binds::whole_second) {
                    None => Err(format!(
                        "the event's time `{}` is not a time (RFC 3339, or `2026-12-01 11:00` in the policy's zone)",
                        shown(s)
                    )),
                    Some(t) if t > now + chrono::Duration::minutes(5) => Err(format!(
                        "the event's time `{}` is in the future (more than 5 minutes after the daemon's clock)",
                        shown(s)
                    )),
                    Some(t) => Ok(t),
                },
                Some(other) => Err(format!("the event's time must be a string, found {other}")),
            },
            props: match fields.get("properties") {
                None | Some(Json::Null) => Ok(Map::new()),
                Some(Json::Object(m)) => Ok(m.clone()),
                Some(_) => Err("`properties` must be a JSON object".to_string()),
            },
            payload,
            shape,
        }
    }
}

/// Text for a reason: control characters (NUL among them) escaped, at
/// most 80 characters, phone numbers and emails masked.
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(80).flat_map(char::escape_debug).collect();
    if text.chars().nth(80).is_some() {
        out.push('…');
    }
    crate::logging::mask(&out)
}

fn shown_json(value: &Json) -> String {
    shown(&value.to_string())
}

const NUL: &str = "holds the NUL character (\\0), which text cannot hold";

/// A `ref` property's key, to be found in its table.
struct RefKey {
    prop: String,
    /// The lookup table's name in the schema.
    table: String,
    key: String,
}

/// Every check one event shows by itself; `zone` is the policy's zone for
/// events from HTTP (their timestamp properties without an offset are in
/// it, and are kept as UTC to the second), `None` for rows of a table
/// (stored text without an offset is UTC).
fn check(schema: &SchemaModel, kind: KeyKind, zone: Option<Tz>, incoming: &Incoming) -> Result<(Event, Vec<RefKey>), String> {
    if let Some(shape) = &incoming.shape {
        return Err(shape.clone());
    }
    let name = incoming.event.clone().ok_or("the event has no type")?;
    let Some(model) = schema.event(&name) else {
        return Err(format!("unknown event type `{}`", shown(&name)));
    };
    let customer = match &incoming.customer {
        Raw::Int(n) => Key::Int(*n),
        Raw::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Key::Int(*f as i64),
        Raw::Text(s) if s.contains('\0') => return Err(format!("the customer key {NUL}")),
        Raw::Text(s) if !s.trim().is_empty() => match (kind, s.trim().parse::<i64>()) {
            (KeyKind::Int, Ok(n)) => Key::Int(n),
            (KeyKind::Int, Err(_)) => {
                return Err(format!(
                    "the customer key `{}` is not an integer, and the customer table's keys are",
                    shown(s)
                ))
            }
            (KeyKind::Text, _) => Key::Text(s.clone()),
        },
        Raw::Float(f) => return Err(format!("the customer key {f} is not an integer or text")),
        _ => return Err("the event has no customer key".into()),
    };
    let time = incoming.time.clone()?;
    let props = incoming.props.clone()?;
    let mut kept = Map::new();
    let mut refs = Vec::new();
    for p in &model.props {
        match props.get(&p.name) {
            None | Some(Json::Null) if !p.nullable => return Err(format!("property `{}` is required", p.name)),
            None | Some(Json::Null) => {}
            Some(value) => {
                let value = property(p, value, zone)?;
                if let FieldType::Ref(table) = &p.ty {
                    refs.push(RefKey {
                        prop: p.name.clone(),
                        table: table.clone(),
                        key: match &value {
                            Json::String(s) => s.clone(),
                            other => other.to_string(),
                        },
                    });
                }
                kept.insert(p.name.clone(), value);
            }
        }
    }
    Ok((
        Event {
            name,
            customer,
            time,
            props: kept,
        },
        refs,
    ))
}

/// One property's value checked against its schema type, as kept.
fn property(p: &FieldModel, value: &Json, zone: Option<Tz>) -> Result<Json, String> {
    let wrong = |what: &str| format!("property `{}` should be {what}, found {}", p.name, shown_json(value));
    if let Json::String(s) = value {
        if s.contains('\0') {
            return Err(format!("property `{}` {NUL}", p.name));
        }
    }
    if crate::binds::prop_value(Some(value), param_type(&p.ty)).is_err() {
        return Err(wrong(param_type(&p.ty)));
    }
    match (&p.ty, value) {
        (FieldType::Text { max: Some(max) }, Json::String(s)) => {
            let n = s.chars().count() as u64;
            if n > *max {
                return Err(format!("property `{}` is {n} characters long, more than its max of {max}", p.name));
            }
        }
        (FieldType::Int { max: Some(max) } | FieldType::Money { max: Some(max) }, Json::Number(n)) => {
            if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() > *max) {
                return Err(format!("property `{}` is {i}, beyond its max of {max}", p.name));
            }
        }
        (FieldType::Enum(values), Json::String(s)) if !values.iter().any(|v| v == s) => {
            return Err(wrong(&format!("one of {}", values.join(", "))));
        }
        (FieldType::Tz, Json::String(s)) if s.trim().parse::<Tz>().is_err() => return Err(wrong("a time zone name")),
        (FieldType::Timestamp, Json::String(s)) => {
            return match zone {
                Some(zone) => crate::binds::parse_instant_in(s, zone)
                    .map(|t| Json::from(crate::binds::whole_second(t).to_rfc3339_opts(SecondsFormat::Secs, true)))
                    .ok_or_else(|| wrong("a timestamp")),
                None => Ok(value.clone()),
            };
        }
        (FieldType::Date, Json::String(s)) if NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_err() => {
            return Err(wrong("a date (YYYY-MM-DD)"));
        }
        _ => {}
    }
    Ok(value.clone())
}

/// Checks a batch: each event alone, then its customer and its `ref` keys
/// against the database, one query per table for the whole batch. The
/// fates are in the order of `incoming`.
pub async fn admit(
    runner: &Runner,
    tx: &mut Tx,
    kind: KeyKind,
    zone: Option<Tz>,
    incoming: &[Incoming],
) -> Result<Vec<Result<Event, String>>, DbError> {
    let mut fates: Vec<Result<(Event, Vec<RefKey>), String>> = incoming.iter().map(|i| check(&runner.schema, kind, zone, i)).collect();

    let keys: Vec<String> = fates.iter().flatten().map(|(e, _)| e.customer.to_string()).collect();
    let c = &runner.customer;
    let known = existing(runner, tx, &c.source, &c.key, kind, keys).await?;
    for fate in &mut fates {
        if matches!(fate, Ok((e, _)) if !known.contains(&e.customer.to_string())) {
            *fate = Err("unknown customer".into());
        }
    }

    let mut wanted: HashMap<String, Vec<String>> = HashMap::new();
    for (_, refs) in fates.iter().flatten() {
        for r in refs {
            wanted.entry(r.table.clone()).or_default().push(r.key.clone());
        }
    }
    // Per lookup table: the kind of its keys and the keys found.
    let mut found: HashMap<String, (KeyKind, HashSet<String>)> = HashMap::new();
    for (name, keys) in wanted {
        let Some(table) = runner.schema.table(&name) else { continue };
        let Some(kind) = table_key_kind(runner, tx, &table.source, &table.key).await? else {
            // An empty table: no key exists.
            found.insert(name, (KeyKind::Text, HashSet::new()));
            continue;
        };
        let keys: Vec<String> = match kind {
            KeyKind::Int => keys.into_iter().filter(|k| k.trim().parse::<i64>().is_ok()).collect(),
            KeyKind::Text => keys,
        };
        let there = existing(runner, tx, &table.source, &table.key, kind, keys).await?;
        found.insert(name, (kind, there));
    }
    Ok(fates
        .into_iter()
        .map(|fate| {
            let (mut e, refs) = fate?;
            for r in refs {
                let Some((kind, there)) = found.get(&r.table) else { continue };
                let key = match kind {
                    KeyKind::Int => r.key.trim().parse::<i64>().ok().map(|n| n.to_string()),
                    KeyKind::Text => Some(r.key.clone()),
                };
                match key.filter(|k| there.contains(k)) {
                    // Kept as the table has its keys.
                    Some(k) => {
                        let value = match kind {
                            KeyKind::Int => k.parse::<i64>().map(Json::from).unwrap_or(Json::from(k)),
                            KeyKind::Text => Json::from(k),
                        };
                        e.props.insert(r.prop.clone(), value);
                    }
                    None => return Err(format!("property `{}`: no {} with key `{}`", r.prop, r.table, shown(&r.key))),
                }
            }
            Ok(e)
        })
        .collect())
}

/// The keys among `keys` that `table` has (compared as text).
async fn existing(
    runner: &Runner,
    tx: &mut Tx,
    table: &str,
    key: &str,
    kind: KeyKind,
    mut keys: Vec<String>,
) -> Result<HashSet<String>, DbError> {
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let d = runner.store.db.dialect();
    let sql = format!(
        "SELECT {k} FROM {} WHERE {k} IN {}",
        d.quote(table),
        runner.store.sql.json_list(&runner.store.ph(1), kind == KeyKind::Int),
        k = d.quote(key)
    );
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let rows = tx.rows(&sql, &[runner.key_list(kind, &refs)]).await?;
    Ok(rows.iter().filter_map(|r| r.text(0)).collect())
}

/// How a lookup table stores its keys, read from one of its rows; `None`
/// when it has none.
async fn table_key_kind(runner: &Runner, tx: &mut Tx, table: &str, key: &str) -> Result<Option<KeyKind>, DbError> {
    if let Some(k) = runner.table_kinds.lock().ok().and_then(|k| k.get(table).copied()) {
        return Ok(Some(k));
    }
    let d = runner.store.db.dialect();
    let rows = tx
        .rows(&format!("SELECT {} FROM {} LIMIT 1", d.quote(key), d.quote(table)), &[])
        .await?;
    let kind = match rows.first().and_then(|r| r.first()) {
        Some(Raw::Int(_)) => KeyKind::Int,
        Some(_) => KeyKind::Text,
        None => return Ok(None),
    };
    if let Ok(mut k) = runner.table_kinds.lock() {
        k.insert(table.to_string(), kind);
    }
    Ok(Some(kind))
}
