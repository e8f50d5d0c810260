//! From a query's parameters ([`Param`]) to the values bound when it runs:
//! "now" from the clock, the triggering event's time and properties, the
//! customer's key, and the literals the compiler lifted out of the SQL.

use crate::db::{Key, Want};
use camp_compiler::lower::Param;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Map, Value as Json};
use std::fmt;

/// A value to bind, typed the way the backends store it (DESIGN §3.2).
#[derive(Debug, Clone, PartialEq)]
pub enum BindValue {
    Null,
    /// A null of a known type: PostgreSQL refuses an untyped (text) null
    /// in a column of another type.
    TypedNull(crate::db::Want),
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Timestamp(DateTime<Utc>),
    Date(NaiveDate),
    /// A JSON document (event properties): text in SQLite, `jsonb` in PostgreSQL.
    Json(Json),
}

/// A triggering event, as the runtime read it.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerEvent {
    pub time: DateTime<Utc>,
    pub props: Map<String, Json>,
}

/// What a query may ask for at run time.
#[derive(Debug, Clone)]
pub struct Bindings<'a> {
    pub now: DateTime<Utc>,
    pub customer: Option<&'a Key>,
    pub trigger: Option<&'a TriggerEvent>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BindError {
    NoCustomer,
    NoTrigger,
    /// A property of the triggering event does not hold its schema type.
    BadProperty {
        name: String,
        ty: String,
        found: String,
    },
    TimeOutOfRange,
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindError::NoCustomer => f.write_str("this query is about one customer, and none was given"),
            BindError::NoTrigger => f.write_str("this query reads the triggering event, and there is none"),
            BindError::BadProperty { name, ty, found } => {
                write!(f, "the event's property `{name}` should be {ty}, found {found}")
            }
            BindError::TimeOutOfRange => f.write_str("a time computed from `now` is out of range"),
        }
    }
}

impl std::error::Error for BindError {}

impl Bindings<'_> {
    pub fn at(now: DateTime<Utc>) -> Bindings<'static> {
        Bindings {
            now,
            customer: None,
            trigger: None,
        }
    }

    /// The values of `params`, in placeholder order.
    pub fn resolve(&self, params: &[Param]) -> Result<Vec<BindValue>, BindError> {
        params.iter().map(|p| self.value(p)).collect()
    }

    fn value(&self, param: &Param) -> Result<BindValue, BindError> {
        Ok(match param {
            Param::Now => BindValue::Timestamp(self.now),
            Param::NowPlus { seconds } => BindValue::Timestamp(
                Duration::try_seconds(*seconds)
                    .and_then(|d| self.now.checked_add_signed(d))
                    .ok_or(BindError::TimeOutOfRange)?,
            ),
            Param::TriggerTime => BindValue::Timestamp(self.trigger.ok_or(BindError::NoTrigger)?.time),
            Param::TriggerProp { name, ty } => {
                let trigger = self.trigger.ok_or(BindError::NoTrigger)?;
                let value = prop_value(trigger.props.get(name), ty).map_err(|found| BindError::BadProperty {
                    name: name.clone(),
                    ty: ty.clone(),
                    found,
                })?;
                // Queries take a key as text (`$n::text`; SQLite compares it
                // as text or by the key column's affinity). Bind it as text
                // whether the event held `27` or `"27"`: PostgreSQL's driver
                // caches a statement with its parameter types, and text sent
                // to one prepared for a bigint fails.
                // A missing property is a null of the property's type, for
                // the same reason.
                match (ty.as_str(), value) {
                    ("id", BindValue::Int(n)) => BindValue::Text(n.to_string()),
                    (_, BindValue::Null) => BindValue::TypedNull(Want::of_name(ty)),
                    (_, value) => value,
                }
            }
            Param::Customer => self.customer.ok_or(BindError::NoCustomer)?.bind(),
            Param::Int { value } | Param::Seconds { value } => BindValue::Int(*value),
            Param::Decimal { value } => BindValue::Float(*value),
            Param::Text { value } => BindValue::Text(value.clone()),
            Param::Bool { value } => BindValue::Bool(*value),
        })
    }
}

/// An event property (JSON) as the bind value of its schema type; `Err`
/// describes what was found instead.
pub fn prop_value(value: Option<&Json>, ty: &str) -> Result<BindValue, String> {
    let Some(value) = value else {
        return Ok(BindValue::Null);
    };
    let found = || format!("{value}");
    Ok(match (ty, value) {
        (_, Json::Null) => BindValue::Null,
        ("int" | "money", Json::Number(n)) => BindValue::Int(n.as_i64().ok_or_else(found)?),
        ("decimal", Json::Number(n)) => BindValue::Float(n.as_f64().ok_or_else(found)?),
        ("bool" | "consent", Json::Bool(b)) => BindValue::Bool(*b),
        ("timestamp", Json::String(s)) => BindValue::Timestamp(parse_instant(s).ok_or_else(found)?),
        ("date", Json::String(s)) => BindValue::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| found())?),
        // Keys are integers or text, as the database has them.
        ("id" | "ref", Json::Number(n)) => BindValue::Int(n.as_i64().ok_or_else(found)?),
        (t, Json::String(s)) if !matches!(t, "int" | "money" | "decimal" | "bool" | "consent") => BindValue::Text(s.clone()),
        _ => return Err(found()),
    })
}

/// An instant: RFC 3339, or SQLite's `2026-11-22 02:00:00[.fff]` (UTC).
/// This reads stored times (DESIGN §3.2), where text without an offset is
/// UTC; what clients send goes through [`parse_instant_in`].
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    match parse_time(text)? {
        Written::Offset(t) => Some(t),
        Written::Local(n) => Some(n.and_utc()),
    }
}

/// An instant sent by a client: with an offset or `Z` as given; without
/// one (`2026-12-01 11:00`, `2026-12-01T11:00:00`) in `zone`, the policy's
/// zone. An ambiguous local time (the hour a clock falls back) is the
/// earlier instant; one in a gap (the hour it springs forward) is read
/// with the offset after the gap.
pub fn parse_instant_in(text: &str, zone: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    match parse_time(text)? {
        Written::Offset(t) => Some(t),
        Written::Local(n) => match zone.from_local_datetime(&n) {
            chrono::LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            chrono::LocalResult::Ambiguous(a, b) => Some(a.with_timezone(&Utc).min(b.with_timezone(&Utc))),
            chrono::LocalResult::None => {
                let later = zone.from_local_datetime(&(n + Duration::hours(1))).earliest()?;
                Some(later.with_timezone(&Utc) - Duration::hours(1))
            }
        },
    }
}

/// An instant truncated to the whole second: how the runtime stores the
/// times it writes (DESIGN §3.2).
pub fn whole_second(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// A time as written: with an offset, or a wall-clock time without one.
enum Written {
    Offset(DateTime<Utc>),
    Local(chrono::NaiveDateTime),
}

fn parse_time(text: &str) -> Option<Written> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(Written::Offset(t.with_timezone(&Utc)));
    }
    // An offset without seconds, or with a space: `2026-12-01 11:00+09:00`.
    let with_offset = [
        "%Y-%m-%dT%H:%M%#z",
        "%Y-%m-%d %H:%M%#z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ];
    if let Some(t) = with_offset.iter().find_map(|f| DateTime::parse_from_str(text, f).ok()) {
        return Some(Written::Offset(t.with_timezone(&Utc)));
    }
    // `Z` written after a time without seconds.
    if let Some(local) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        if let Some(n) = naive(local) {
            return Some(Written::Offset(n.and_utc()));
        }
        return None;
    }
    naive(text).map(Written::Local)
}

fn naive(text: &str) -> Option<chrono::NaiveDateTime> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
}

/// A timestamp as SQLite's date functions write it: UTC, a fraction only
/// when there is one.
pub fn sqlite_timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.f").to_string()
}

pub fn sqlite_date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_has_a_fraction_only_when_there_is_one() {
        let t = parse_instant("2026-11-22T02:00:00Z").expect("parses");
        assert_eq!(sqlite_timestamp(&t), "2026-11-22 02:00:00");
        let t = parse_instant("2026-11-22 02:00:00.250").expect("parses");
        assert_eq!(sqlite_timestamp(&t), "2026-11-22 02:00:00.250");
    }

    #[test]
    fn client_times_without_an_offset_are_in_the_policy_zone() {
        let seoul = chrono_tz::Asia::Seoul;
        let utc = |s: &str| parse_instant(s).expect("parses");
        for local in [
            "2026-12-01 11:00",
            "2026-12-01T11:00:00",
            "2026-12-01 11:00:00.000",
            "2026-12-01T11:00",
        ] {
            assert_eq!(parse_instant_in(local, seoul), Some(utc("2026-12-01T02:00:00Z")), "{local}");
        }
        for given in [
            "2026-12-01T11:00:00+09:00",
            "2026-12-01 02:00:00Z",
            "2026-12-01T02:00Z",
            "2026-12-01 11:00+09:00",
        ] {
            assert_eq!(parse_instant_in(given, seoul), Some(utc("2026-12-01T02:00:00Z")), "{given}");
        }
        // Stored text without an offset is UTC.
        assert_eq!(parse_instant("2026-12-01 11:00"), Some(utc("2026-12-01T11:00:00Z")));
        assert_eq!(parse_instant_in("yesterday", seoul), None);
        assert_eq!(parse_instant_in("2026-12-01 11:00Zulu", seoul), None);
        // New York: the fall-back hour is the earlier instant, the spring gap
        // reads with the later offset.
        let ny = chrono_tz::America::New_York;
        assert_eq!(parse_instant_in("2026-11-01 01:30", ny), Some(utc("2026-11-01T05:30:00Z")));
        assert_eq!(parse_instant_in("2026-03-08 02:30", ny), Some(utc("2026-03-08T06:30:00Z")));
    }

    #[test]
    fn whole_seconds_drop_the_fraction() {
        let t = parse_instant("2026-12-07 05:00:14.972717749").expect("parses");
        assert_eq!(sqlite_timestamp(&whole_second(t)), "2026-12-07 05:00:14");
    }

    #[test]
    fn properties_of_the_wrong_type_are_refused() {
        assert_eq!(prop_value(Some(&Json::from(12900)), "money"), Ok(BindValue::Int(12900)));
        assert!(prop_value(Some(&Json::from("12900원")), "money").is_err());
        assert_eq!(prop_value(None, "money"), Ok(BindValue::Null));
        assert_eq!(prop_value(Some(&Json::from(7)), "ref"), Ok(BindValue::Int(7)));
    }

    #[test]
    fn trigger_keys_bind_as_text_however_the_event_held_them() {
        let param = Param::TriggerProp {
            name: "product".into(),
            ty: "id".into(),
        };
        for held in [Json::from(27), Json::from("27")] {
            let mut props = Map::new();
            props.insert("product".into(), held);
            let trigger = TriggerEvent {
                time: parse_instant("2026-11-22T02:00:00Z").expect("parses"),
                props,
            };
            let b = Bindings {
                now: trigger.time,
                customer: None,
                trigger: Some(&trigger),
            };
            assert_eq!(b.resolve(std::slice::from_ref(&param)), Ok(vec![BindValue::Text("27".into())]));
        }
        // A missing property is a null of its type, never an untyped one.
        let trigger = TriggerEvent {
            time: parse_instant("2026-11-22T02:00:00Z").expect("parses"),
            props: Map::new(),
        };
        let b = Bindings {
            now: trigger.time,
            customer: None,
            trigger: Some(&trigger),
        };
        let missing = |ty: &str| Param::TriggerProp {
            name: "qty".into(),
            ty: ty.into(),
        };
        assert_eq!(
            b.resolve(&[missing("int"), missing("id")]),
            Ok(vec![BindValue::TypedNull(Want::Int), BindValue::TypedNull(Want::Text)])
        );
    }
}
