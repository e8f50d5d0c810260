//! Transactions and raw rows, for the daemon's store: the same generic
//! code for both backends, dispatched once per call.

use super::want::Raw;
use super::{Database, DbError, Engine};
use crate::binds::BindValue;
use sqlx::{Executor, Row};

/// An open transaction. SQLite's begins `IMMEDIATE` (the write lock is
/// taken up front, so a read followed by a write never fails half-way);
/// PostgreSQL's is an ordinary `READ COMMITTED` transaction whose claims
/// use row locks.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// One row of raw cells.
pub type Cells = Vec<Raw>;

impl Database {
    pub async fn begin(&self) -> Result<Tx, DbError> {
        match self {
            Database::Sqlite(p) => Ok(Tx::Sqlite(
                p.begin_with("BEGIN IMMEDIATE").await.map_err(DbError::query("BEGIN IMMEDIATE"))?,
            )),
            Database::Postgres(p) => Ok(Tx::Postgres(p.begin().await.map_err(DbError::query("BEGIN"))?)),
        }
    }

    /// Runs a query outside a transaction; every cell as stored.
    pub async fn rows(&self, sql: &str, binds: &[BindValue]) -> Result<Vec<Cells>, DbError> {
        match self {
            Database::Sqlite(p) => rows_on(p, sql, binds).await,
            Database::Postgres(p) => rows_on(p, sql, binds).await,
        }
    }
}

impl Tx {
    pub async fn execute(&mut self, sql: &str, binds: &[BindValue]) -> Result<u64, DbError> {
        match self {
            Tx::Sqlite(t) => execute_on(&mut **t, sql, binds).await,
            Tx::Postgres(t) => execute_on(&mut **t, sql, binds).await,
        }
    }

    pub async fn rows(&mut self, sql: &str, binds: &[BindValue]) -> Result<Vec<Cells>, DbError> {
        match self {
            Tx::Sqlite(t) => rows_on(&mut **t, sql, binds).await,
            Tx::Postgres(t) => rows_on(&mut **t, sql, binds).await,
        }
    }

    /// Statements without parameters, one after another.
    pub async fn raw(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => sqlx::raw_sql(sql).execute(&mut **t).await.map(|_| ()),
            Tx::Postgres(t) => sqlx::raw_sql(sql).execute(&mut **t).await.map(|_| ()),
        }
        .map_err(DbError::query(sql))
    }

    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
        .map_err(DbError::query("COMMIT"))
    }

    pub async fn rollback(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.rollback().await,
            Tx::Postgres(t) => t.rollback().await,
        }
        .map_err(DbError::query("ROLLBACK"))
    }
}

async fn execute_on<'c, DB: Engine, E: Executor<'c, Database = DB>>(ex: E, sql: &str, binds: &[BindValue]) -> Result<u64, DbError>
where
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let text = super::checked_statement::<DB>(sql, binds)?;
    let query = super::bound::<DB>(&text, binds);
    let done = query.execute(ex).await.map_err(DbError::query(sql))?;
    Ok(DB::rows_affected(&done))
}

async fn rows_on<'c, DB: Engine, E: Executor<'c, Database = DB>>(ex: E, sql: &str, binds: &[BindValue]) -> Result<Vec<Cells>, DbError>
where
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let text = super::checked_statement::<DB>(sql, binds)?;
    let query = super::bound::<DB>(&text, binds);
    let rows = query.fetch_all(ex).await.map_err(DbError::query(sql))?;
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|i| {
                    DB::raw(row, i).map_err(|message| DbError::Decode {
                        sql: sql.to_string(),
                        column: i,
                        message,
                    })
                })
                .collect()
        })
        .collect()
}

/// Reading raw cells by position, without panics.
pub trait CellsExt {
    fn int(&self, i: usize) -> Option<i64>;
    fn text(&self, i: usize) -> Option<String>;
}

impl CellsExt for [Raw] {
    fn int(&self, i: usize) -> Option<i64> {
        match self.get(i)? {
            Raw::Int(n) => Some(*n),
            Raw::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            Raw::Text(s) => s.trim().parse().ok(),
            Raw::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    fn text(&self, i: usize) -> Option<String> {
        match self.get(i)? {
            Raw::Text(s) => Some(s.clone()),
            Raw::Int(n) => Some(n.to_string()),
            Raw::Float(f) => Some(f.to_string()),
            Raw::Bool(b) => Some(b.to_string()),
            Raw::Timestamp(t) => Some(t.to_rfc3339()),
            Raw::Date(d) => Some(d.to_string()),
            Raw::Null => None,
        }
    }
}
