//! What a caller wants a column read as, and the one conversion from what a
//! database returned to that, shared by both backends.

use camp_compiler::templating::Value;
use chrono::{DateTime, NaiveDate, Utc};

/// The type a column is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Int,
    Decimal,
    Text,
    Bool,
    Timestamp,
    Date,
}

impl Want {
    /// From a lowered column's type name (`lower::Column::ty`) or a
    /// parameter's (`Param::TriggerProp::ty`).
    pub fn of_name(name: &str) -> Want {
        match name {
            "int" | "money" => Want::Int,
            "decimal" => Want::Decimal,
            "bool" | "consent" => Want::Bool,
            "timestamp" => Want::Timestamp,
            "date" => Want::Date,
            _ => Want::Text,
        }
    }
}

/// A value as a backend returned it, before conversion.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Timestamp(DateTime<Utc>),
    Date(NaiveDate),
}

/// Converts what the database holds to what the caller wants; an error
/// says what was found.
pub fn convert(raw: Raw, want: Want) -> Result<Value, String> {
    let wrong = |found: &str| Err(format!("expected {} but found {found}", want_name(want)));
    Ok(match (raw, want) {
        (Raw::Null, _) => Value::Null,
        (Raw::Int(n), Want::Int) => Value::Int(n),
        (Raw::Int(n), Want::Decimal) => Value::Decimal(n as f64),
        (Raw::Float(f), Want::Decimal) => Value::Decimal(f),
        (Raw::Float(f), Want::Int) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Int(f as i64),
        (Raw::Int(n), Want::Bool) => Value::Bool(n != 0),
        (Raw::Bool(b), Want::Bool) => Value::Bool(b),
        (Raw::Int(n), Want::Text) => Value::Text(n.to_string()),
        (Raw::Text(s), Want::Text) => Value::Text(s),
        (Raw::Timestamp(t), Want::Timestamp) => Value::Timestamp(t),
        (Raw::Date(d), Want::Date) => Value::Date(d),
        (Raw::Timestamp(t), Want::Date) => Value::Date(t.date_naive()),
        (Raw::Text(s), Want::Int) => match s.trim().parse::<i64>() {
            Ok(n) => Value::Int(n),
            Err(_) => return wrong(&format!("the text {s:?}")),
        },
        (Raw::Text(s), Want::Decimal) => match s.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Value::Decimal(f),
            _ => return wrong(&format!("the text {s:?}")),
        },
        (Raw::Text(s), Want::Bool) => match s.trim() {
            "1" | "true" | "t" => Value::Bool(true),
            "0" | "false" | "f" => Value::Bool(false),
            _ => return wrong(&format!("the text {s:?}")),
        },
        (Raw::Text(s), Want::Timestamp) => match crate::binds::parse_instant(&s) {
            Some(t) => Value::Timestamp(t),
            None => return wrong(&format!("the text {s:?}")),
        },
        (Raw::Text(s), Want::Date) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(d) => Value::Date(d),
            Err(_) => return wrong(&format!("the text {s:?}")),
        },
        (Raw::Float(f), _) => return wrong(&format!("the number {f}")),
        (Raw::Int(n), _) => return wrong(&format!("the integer {n}")),
        (Raw::Bool(b), _) => return wrong(&format!("the boolean {b}")),
        (Raw::Timestamp(t), _) => return wrong(&format!("the timestamp {t}")),
        (Raw::Date(d), _) => return wrong(&format!("the date {d}")),
    })
}

fn want_name(want: Want) -> &'static str {
    match want {
        Want::Int => "an integer",
        Want::Decimal => "a number",
        Want::Text => "text",
        Want::Bool => "a boolean",
        Want::Timestamp => "a timestamp",
        Want::Date => "a date",
    }
}
