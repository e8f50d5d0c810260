//! The only place where SQLite and PostgreSQL are told apart at run time:
//! how a parameter is bound and how a cell is read.

use super::want::{convert, Raw, Want};
use super::{DbError, Key};
use crate::binds::{sqlite_date, sqlite_timestamp, BindValue};
use camp_compiler::templating::Value;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sqlx::query::Query;
use sqlx::{Column, Row, TypeInfo, ValueRef};
use std::borrow::Cow;

type Q<'q, DB> = Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>;

pub trait Engine: sqlx::Database {
    /// Binds one value the way this database stores its type (§3.2).
    fn bind<'q>(query: Q<'q, Self>, value: &BindValue) -> Q<'q, Self>;
    /// Reads one cell as it is stored.
    fn raw(row: &Self::Row, index: usize) -> Result<Raw, String>;
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Refuses, naming it, a value this database cannot take, before the
    /// server sees it.
    fn check(_binds: &[BindValue]) -> Result<(), DbError> {
        Ok(())
    }

    /// The statement text sent for `sql` with these values.
    fn statement<'s>(sql: &'s str, _binds: &[BindValue]) -> Cow<'s, str> {
        Cow::Borrowed(sql)
    }

    /// Reads one cell as the wanted type.
    fn read(row: &Self::Row, index: usize, want: Want) -> Result<Value, String> {
        convert(Self::raw(row, index)?, want)
    }

    /// Reads a customer key: an integer or text.
    fn read_key(row: &Self::Row, index: usize) -> Result<Key, String> {
        match Self::raw(row, index)? {
            Raw::Int(n) => Ok(Key::Int(n)),
            Raw::Text(s) => Ok(Key::Text(s)),
            other => Err(format!("a customer key must be an integer or text, found {other:?}")),
        }
    }
}

fn column_name<R: Row>(row: &R, index: usize) -> String {
    row.columns()
        .get(index)
        .map(|c| c.name().to_string())
        .unwrap_or_else(|| index.to_string())
}

impl Engine for sqlx::Sqlite {
    fn bind<'q>(query: Q<'q, Self>, value: &BindValue) -> Q<'q, Self> {
        match value {
            BindValue::Null | BindValue::TypedNull(_) => query.bind(None::<String>),
            BindValue::Int(n) => query.bind(*n),
            BindValue::Float(f) => query.bind(*f),
            BindValue::Text(s) => query.bind(s.clone()),
            BindValue::Bool(b) => query.bind(i64::from(*b)),
            BindValue::Timestamp(t) => query.bind(sqlite_timestamp(t)),
            BindValue::Date(d) => query.bind(sqlite_date(d)),
            BindValue::Json(j) => query.bind(j.to_string()),
        }
    }

    fn raw(row: &Self::Row, index: usize) -> Result<Raw, String> {
        let cell = row.try_get_raw(index).map_err(|e| e.to_string())?;
        if cell.is_null() {
            return Ok(Raw::Null);
        }
        // SQLite types values, not columns: read by the value's own class.
        let info = cell.type_info();
        let class = info.name();
        let fail = |e: sqlx::Error| format!("column `{}`: {e}", column_name(row, index));
        Ok(match class {
            "INTEGER" | "BOOLEAN" => Raw::Int(row.try_get_unchecked::<i64, _>(index).map_err(fail)?),
            "REAL" => Raw::Float(row.try_get_unchecked::<f64, _>(index).map_err(fail)?),
            "TEXT" | "DATETIME" | "DATE" | "TIME" => Raw::Text(row.try_get_unchecked::<String, _>(index).map_err(fail)?),
            other => return Err(format!("column `{}` holds a {other} value", column_name(row, index))),
        })
    }

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Whether a JSON document holds the NUL character in a string or a key.
fn json_has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(json_has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v)),
        _ => false,
    }
}

impl Engine for sqlx::Postgres {
    /// PostgreSQL text and `jsonb` cannot hold NUL (`\0`); the server would
    /// fail the query with an encoding error that does not say which value.
    fn check(binds: &[BindValue]) -> Result<(), DbError> {
        for (i, b) in binds.iter().enumerate() {
            let shown = match b {
                BindValue::Text(s) if s.contains('\0') => format!("{s:?}"),
                BindValue::Json(j) if json_has_nul(j) => j.to_string(),
                _ => continue,
            };
            return Err(DbError::data(format!(
                "PostgreSQL cannot hold the NUL character (\\0) in text, and parameter ${} is {shown}\n  \
                 help: remove the NUL from that string (a literal in a .camp file, or data sent to camp)",
                i + 1
            )));
        }
        Ok(())
    }

    /// sqlx caches a prepared statement per connection by its text, with
    /// the parameter types of its first use: the same text run again with
    /// a float where an integer was (`score < 3`, then `score < 2.5`) sends
    /// the float's bytes as a bigint and silently selects garbage, and text
    /// where an integer was fails (`insufficient data left in message`).
    /// The parameter types go in the text, so each signature is its own
    /// statement.
    fn statement<'s>(sql: &'s str, binds: &[BindValue]) -> Cow<'s, str> {
        if binds.is_empty() {
            return Cow::Borrowed(sql);
        }
        let types: String = binds
            .iter()
            .map(|b| match b {
                BindValue::Null | BindValue::TypedNull(Want::Text) | BindValue::Text(_) => 't',
                BindValue::TypedNull(Want::Int) | BindValue::Int(_) => 'i',
                BindValue::TypedNull(Want::Decimal) | BindValue::Float(_) => 'f',
                BindValue::TypedNull(Want::Bool) | BindValue::Bool(_) => 'b',
                BindValue::TypedNull(Want::Timestamp) | BindValue::Timestamp(_) => 'z',
                BindValue::TypedNull(Want::Date) | BindValue::Date(_) => 'd',
                BindValue::Json(_) => 'j',
            })
            .collect();
        Cow::Owned(format!("/* {types} */ {sql}"))
    }

    fn bind<'q>(query: Q<'q, Self>, value: &BindValue) -> Q<'q, Self> {
        match value {
            BindValue::Null | BindValue::TypedNull(Want::Text) => query.bind(None::<String>),
            BindValue::TypedNull(Want::Int) => query.bind(None::<i64>),
            BindValue::TypedNull(Want::Decimal) => query.bind(None::<f64>),
            BindValue::TypedNull(Want::Bool) => query.bind(None::<bool>),
            BindValue::TypedNull(Want::Timestamp) => query.bind(None::<DateTime<Utc>>),
            BindValue::TypedNull(Want::Date) => query.bind(None::<NaiveDate>),
            BindValue::Int(n) => query.bind(*n),
            BindValue::Float(f) => query.bind(*f),
            BindValue::Text(s) => query.bind(s.clone()),
            BindValue::Bool(b) => query.bind(*b),
            BindValue::Timestamp(t) => query.bind(*t),
            BindValue::Date(d) => query.bind(*d),
            BindValue::Json(j) => query.bind(sqlx::types::Json(j.clone())),
        }
    }

    fn raw(row: &Self::Row, index: usize) -> Result<Raw, String> {
        let cell = row.try_get_raw(index).map_err(|e| e.to_string())?;
        if cell.is_null() {
            return Ok(Raw::Null);
        }
        let ty = cell.type_info().name().to_string();
        let fail = |e: sqlx::Error| format!("column `{}`: {e}", column_name(row, index));
        Ok(match ty.as_str() {
            "INT8" => Raw::Int(row.try_get::<i64, _>(index).map_err(fail)?),
            "INT4" => Raw::Int(i64::from(row.try_get::<i32, _>(index).map_err(fail)?)),
            "INT2" => Raw::Int(i64::from(row.try_get::<i16, _>(index).map_err(fail)?)),
            "FLOAT8" => Raw::Float(row.try_get::<f64, _>(index).map_err(fail)?),
            "FLOAT4" => Raw::Float(f64::from(row.try_get::<f32, _>(index).map_err(fail)?)),
            "BOOL" => Raw::Bool(row.try_get::<bool, _>(index).map_err(fail)?),
            "TIMESTAMPTZ" => Raw::Timestamp(row.try_get::<DateTime<Utc>, _>(index).map_err(fail)?),
            // A timestamp without zone is taken as UTC (DESIGN §3.2).
            "TIMESTAMP" => Raw::Timestamp(row.try_get::<NaiveDateTime, _>(index).map_err(fail)?.and_utc()),
            "DATE" => Raw::Date(row.try_get::<NaiveDate, _>(index).map_err(fail)?),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" => Raw::Text(row.try_get::<String, _>(index).map_err(fail)?),
            "JSONB" | "JSON" => Raw::Text(row.try_get::<serde_json::Value, _>(index).map_err(fail)?.to_string()),
            other => {
                return Err(format!(
                    "column `{}` is of type {other}, which camp does not read; cast it to bigint, double precision or text",
                    column_name(row, index)
                ))
            }
        })
    }

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}
