//! One handle over SQLite and PostgreSQL. What differs between them (how a
//! value is bound and read) lives behind [`Engine`]; every operation here is
//! written once, generically, and dispatched by [`Database`].

mod engine;
mod error;
mod tx;
mod want;

pub use engine::Engine;
pub use error::{redact, DbError};
pub use tx::{Cells, CellsExt, Tx};
pub use want::{convert, Raw, Want};

use crate::binds::BindValue;
use camp_compiler::lower::{Dialect, Postgres, Sqlite};
use camp_compiler::templating::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Executor, Pool};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A customer key, as the database has it (DESIGN §3.2): an integer or text.
/// Integers order numerically, before text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Key {
    Int(i64),
    Text(String),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Int(n) => write!(f, "{n}"),
            Key::Text(s) => f.write_str(s),
        }
    }
}

impl Key {
    pub fn bind(&self) -> BindValue {
        match self {
            Key::Int(n) => BindValue::Int(*n),
            Key::Text(s) => BindValue::Text(s.clone()),
        }
    }
}

/// A connection pool to the customer's database.
#[derive(Clone)]
pub enum Database {
    Sqlite(Pool<sqlx::Sqlite>),
    Postgres(Pool<sqlx::Postgres>),
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Backend, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(DbError::BadUrl { url: url.to_string() })
        }
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Database {
    /// Opens an existing database. SQLite files are never created here, so
    /// that a typo in a path is an error and not an empty database.
    pub async fn connect(url: &str) -> Result<Database, DbError> {
        Self::open(url, false).await
    }

    /// Opens a database, creating a SQLite file when there is none.
    pub async fn create(url: &str) -> Result<Database, DbError> {
        Self::open(url, true).await
    }

    async fn open(url: &str, create: bool) -> Result<Database, DbError> {
        let fail = |e: sqlx::Error| DbError::connect(url, e);
        match Backend::of_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(fail)?
                    .create_if_missing(create)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(false);
                // Writers take turns on one file: a writer may wait for
                // many others before it gets a connection.
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(120))
                    .connect_with(options)
                    .await
                    .map_err(fail)?;
                Ok(Database::Sqlite(pool))
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url).map_err(fail)?;
                // One plain connection first: the pool retries a refused
                // connection until its timeout and then reports only that
                // it timed out; this says at once what went wrong.
                match tokio::time::timeout(CONNECT_TIMEOUT, <sqlx::PgConnection as sqlx::Connection>::connect_with(&options)).await {
                    Ok(Ok(probe)) => {
                        let _ = sqlx::Connection::close(probe).await;
                    }
                    Ok(Err(e)) => return Err(fail(e)),
                    Err(_) => return Err(fail(sqlx::Error::PoolTimedOut)),
                }
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(CONNECT_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(fail)?;
                Ok(Database::Postgres(pool))
            }
        }
    }

    pub fn dialect(&self) -> &'static dyn Dialect {
        match self {
            Database::Sqlite(_) => &Sqlite,
            Database::Postgres(_) => &Postgres,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs statements without parameters (DDL), one by one, in one
    /// transaction.
    pub async fn execute_all(&self, statements: &[String]) -> Result<(), DbError> {
        match self {
            Database::Sqlite(p) => execute_all(p, statements).await,
            Database::Postgres(p) => execute_all(p, statements).await,
        }
    }

    /// Runs one statement with parameters; returns the rows affected.
    pub async fn execute(&self, sql: &str, binds: &[BindValue]) -> Result<u64, DbError> {
        match self {
            Database::Sqlite(p) => execute(p, sql, binds).await,
            Database::Postgres(p) => execute(p, sql, binds).await,
        }
    }

    /// Runs a query whose first column is a customer key and whose other
    /// columns are of the given types.
    pub async fn fetch_keyed(&self, sql: &str, binds: &[BindValue], types: &[Want]) -> Result<Vec<(Key, Vec<Value>)>, DbError> {
        match self {
            Database::Sqlite(p) => fetch_keyed(p, sql, binds, types).await,
            Database::Postgres(p) => fetch_keyed(p, sql, binds, types).await,
        }
    }

    /// Runs a query whose columns are of the given types.
    pub async fn fetch(&self, sql: &str, binds: &[BindValue], types: &[Want]) -> Result<Vec<Vec<Value>>, DbError> {
        match self {
            Database::Sqlite(p) => fetch(p, sql, binds, types).await,
            Database::Postgres(p) => fetch(p, sql, binds, types).await,
        }
    }

    /// Runs a query whose single column is a key.
    pub async fn fetch_keys(&self, sql: &str, binds: &[BindValue]) -> Result<Vec<Key>, DbError> {
        Ok(self.fetch_keyed(sql, binds, &[]).await?.into_iter().map(|(k, _)| k).collect())
    }

    pub async fn close(&self) {
        match self {
            Database::Sqlite(p) => p.close().await,
            Database::Postgres(p) => p.close().await,
        }
    }
}

async fn execute_all<DB: Engine>(pool: &Pool<DB>, statements: &[String]) -> Result<(), DbError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let mut tx = pool.begin().await.map_err(DbError::query("(begin)"))?;
    for sql in statements {
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(DbError::query(sql))?;
    }
    tx.commit().await.map_err(DbError::query("(commit)"))
}

/// The statement text this backend runs for `sql` with `binds`, after
/// refusing values it cannot store.
pub(crate) fn checked_statement<'s, DB: Engine>(sql: &'s str, binds: &[BindValue]) -> Result<std::borrow::Cow<'s, str>, DbError> {
    DB::check(binds)?;
    Ok(DB::statement(sql, binds))
}

/// `text` with every value bound, in placeholder order.
pub(crate) fn bound<'q, DB: Engine>(
    text: &'q str,
    binds: &[BindValue],
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>> {
    binds.iter().fold(sqlx::query::<DB>(text), |query, b| DB::bind(query, b))
}

async fn execute<DB: Engine>(pool: &Pool<DB>, sql: &str, binds: &[BindValue]) -> Result<u64, DbError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let text = checked_statement::<DB>(sql, binds)?;
    let query = bound::<DB>(&text, binds);
    let done = query.execute(pool).await.map_err(DbError::query(sql))?;
    Ok(DB::rows_affected(&done))
}

async fn fetch<DB: Engine>(pool: &Pool<DB>, sql: &str, binds: &[BindValue], types: &[Want]) -> Result<Vec<Vec<Value>>, DbError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let text = checked_statement::<DB>(sql, binds)?;
    let query = bound::<DB>(&text, binds);
    let rows = query.fetch_all(pool).await.map_err(DbError::query(sql))?;
    rows.iter()
        .map(|row| {
            types
                .iter()
                .enumerate()
                .map(|(i, ty)| {
                    DB::read(row, i, *ty).map_err(|e| DbError::Decode {
                        sql: sql.to_string(),
                        column: i,
                        message: e,
                    })
                })
                .collect()
        })
        .collect()
}

async fn fetch_keyed<DB: Engine>(pool: &Pool<DB>, sql: &str, binds: &[BindValue], types: &[Want]) -> Result<Vec<(Key, Vec<Value>)>, DbError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let text = checked_statement::<DB>(sql, binds)?;
    let query = bound::<DB>(&text, binds);
    let rows = query.fetch_all(pool).await.map_err(DbError::query(sql))?;
    let decode = |column: usize| {
        move |message: String| DbError::Decode {
            sql: sql.to_string(),
            column,
            message,
        }
    };
    rows.iter()
        .map(|row| {
            let key = DB::read_key(row, 0).map_err(decode(0))?;
            let values = types
                .iter()
                .enumerate()
                .map(|(i, ty)| DB::read(row, i + 1, *ty).map_err(decode(i + 1)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((key, values))
        })
        .collect()
}
