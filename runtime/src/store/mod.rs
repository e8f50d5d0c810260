//! The daemon's store: its own tables beside the customer's (DESIGN §3.2),
//! created by the embedded migrations on start, and the registry of
//! running daemons (the SQLite lease).

mod sql;

pub use sql::{PostgresSql, SqliteSql, StoreSql};

use crate::binds::BindValue;
use crate::db::{Backend, CellsExt, Database, DbError};
use sqlx::migrate::Migrator;
use std::sync::Arc;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The store's tables, by full name.
#[derive(Debug, Clone)]
pub struct Tables {
    pub daemons: String,
    pub plans: String,
    pub schedules: String,
    pub occurrences: String,
    pub enrollments: String,
    pub ledger: String,
    pub payloads: String,
    pub cursors: String,
    pub quarantine: String,
    pub dead_letters: String,
    pub conversions: String,
    /// Triggers that started no journey (re-entry rules), with the reason.
    pub ignored: String,
    migrations: String,
}

/// A handle on the store.
#[derive(Clone)]
pub struct Store {
    pub db: Database,
    pub sql: Arc<dyn StoreSql>,
    pub t: Arc<Tables>,
}

/// The PostgreSQL schema of the store.
pub const SCHEMA: &str = "camp";

impl Store {
    /// Opens the store on `db`, applying any migration it lacks. `schema`
    /// names the PostgreSQL schema (`camp`; `camp simulate` uses a scratch one).
    pub async fn open(db: Database, schema: &str) -> Result<Store, DbError> {
        let store = Store::attach(db, schema);
        store.migrate(schema).await?;
        Ok(store)
    }

    /// A handle on a store without touching it (reports read an existing one).
    pub fn attach(db: Database, schema: &str) -> Store {
        let sql: Arc<dyn StoreSql> = match db.backend() {
            Backend::Sqlite => Arc::new(SqliteSql),
            Backend::Postgres => Arc::new(PostgresSql {
                schema: db.dialect().quote(schema),
            }),
        };
        let t = |n: &str| sql.table(n);
        let tables = Tables {
            daemons: t("daemons"),
            plans: t("plans"),
            schedules: t("schedules"),
            occurrences: t("occurrences"),
            enrollments: t("enrollments"),
            ledger: t("ledger"),
            payloads: t("payloads"),
            cursors: t("cursors"),
            quarantine: t("quarantine"),
            dead_letters: t("dead_letters"),
            conversions: t("conversions"),
            ignored: t("ignored"),
            migrations: t("migrations"),
        };
        Store {
            db,
            sql,
            t: Arc::new(tables),
        }
    }

    pub fn ph(&self, n: usize) -> String {
        self.sql.ph(n)
    }

    async fn migrate(&self, schema: &str) -> Result<(), DbError> {
        let mut tx = self.db.begin().await?;
        let migrator = match self.db.backend() {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => {
                let quoted = self.db.dialect().quote(schema);
                // Two daemons starting together migrate one after the other.
                tx.raw("SELECT pg_advisory_xact_lock(7417265)").await?;
                tx.raw(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}; SET LOCAL search_path TO {quoted}"))
                    .await?;
                &POSTGRES_MIGRATIONS
            }
        };
        tx.raw(&format!(
            "CREATE TABLE IF NOT EXISTS {} (version BIGINT PRIMARY KEY, description TEXT NOT NULL, checksum TEXT NOT NULL, applied_ms BIGINT NOT NULL)",
            self.t.migrations
        ))
        .await?;
        let applied = tx
            .rows(&format!("SELECT version, checksum FROM {}", self.t.migrations), &[])
            .await?;
        for m in migrator.iter() {
            let checksum: String = m.checksum.iter().map(|b| format!("{b:02x}")).collect();
            match applied.iter().find(|r| r.int(0) == Some(m.version)) {
                Some(row) if row.text(1).as_deref() == Some(checksum.as_str()) => continue,
                Some(_) => {
                    return Err(DbError::data(format!(
                        "the store's migration {} ({}) differs from this camp's; the database was set up by another camp version",
                        m.version, m.description
                    )))
                }
                None => {}
            }
            tx.raw(&m.sql).await?;
            tx.execute(
                &format!(
                    "INSERT INTO {} (version, description, checksum, applied_ms) VALUES ({}, {}, {}, {})",
                    self.t.migrations,
                    self.ph(1),
                    self.ph(2),
                    self.ph(3),
                    self.ph(4)
                ),
                &[
                    BindValue::Int(m.version),
                    BindValue::Text(m.description.to_string()),
                    BindValue::Text(checksum),
                    BindValue::Int(wall_ms()),
                ],
            )
            .await?;
        }
        tx.commit().await
    }

    /// Registers a running daemon. Rows of daemons that stopped renewing,
    /// or that ran on this host and whose process is gone, are removed
    /// (their delivery leases are released). With `exclusive` (SQLite), a
    /// live daemon refuses this one.
    pub async fn register(&self, me: &DaemonId, exclusive: bool, ttl_ms: i64) -> Result<(), DbError> {
        let now = wall_ms();
        let mut tx = self.db.begin().await?;
        let rows = tx
            .rows(&format!("SELECT name, host, pid, until_ms FROM {}", self.t.daemons), &[])
            .await?;
        for row in rows {
            let (Some(name), host, pid, until) = (row.text(0), row.text(1), row.int(2), row.int(3).unwrap_or(0)) else {
                continue;
            };
            let gone = until < now || (host.as_deref() == Some(me.host.as_str()) && pid.is_some_and(|p| !process_alive(p)));
            if gone || name == me.name {
                self.forget(&mut tx, &name).await?;
            } else if exclusive {
                tx.rollback().await?;
                return Err(DbError::data(format!(
                    "another camp daemon (`{name}`, pid {} on {}) is running on this SQLite database\n  help: stop it first; to run several daemons at once, use PostgreSQL",
                    pid.unwrap_or(0),
                    host.unwrap_or_default()
                )));
            }
        }
        tx.execute(
            &format!(
                "INSERT INTO {} (name, host, pid, started_ms, until_ms) VALUES ({}, {}, {}, {}, {})",
                self.t.daemons,
                self.ph(1),
                self.ph(2),
                self.ph(3),
                self.ph(4),
                self.ph(5)
            ),
            &[
                BindValue::Text(me.name.clone()),
                BindValue::Text(me.host.clone()),
                BindValue::Int(i64::from(me.pid)),
                BindValue::Int(now),
                BindValue::Int(now + ttl_ms),
            ],
        )
        .await?;
        tx.commit().await
    }

    async fn forget(&self, tx: &mut crate::db::Tx, name: &str) -> Result<(), DbError> {
        let p1 = self.ph(1);
        tx.execute(
            &format!("DELETE FROM {} WHERE name = {p1}", self.t.daemons),
            &[BindValue::Text(name.to_string())],
        )
        .await?;
        tx.execute(
            &format!(
                "UPDATE {} SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner = {p1}",
                self.t.ledger
            ),
            &[BindValue::Text(name.to_string())],
        )
        .await?;
        Ok(())
    }

    /// Renews a daemon's registration; other daemons that stopped renewing
    /// are forgotten. Returns false when this daemon's row was taken away.
    pub async fn heartbeat(&self, me: &DaemonId, ttl_ms: i64) -> Result<bool, DbError> {
        let now = wall_ms();
        let mut tx = self.db.begin().await?;
        let stale = tx
            .rows(
                &format!("SELECT name FROM {} WHERE until_ms < {}", self.t.daemons, self.ph(1)),
                &[BindValue::Int(now)],
            )
            .await?;
        for row in stale {
            if let Some(name) = row.text(0).filter(|n| *n != me.name) {
                self.forget(&mut tx, &name).await?;
            }
        }
        let kept = tx
            .execute(
                &format!(
                    "UPDATE {} SET until_ms = {} WHERE name = {}",
                    self.t.daemons,
                    self.ph(1),
                    self.ph(2)
                ),
                &[BindValue::Int(now + ttl_ms), BindValue::Text(me.name.clone())],
            )
            .await?;
        tx.commit().await?;
        Ok(kept == 1)
    }

    /// Removes this daemon's registration and releases its leases.
    pub async fn unregister(&self, me: &DaemonId) -> Result<(), DbError> {
        let mut tx = self.db.begin().await?;
        self.forget(&mut tx, &me.name).await?;
        tx.commit().await
    }
}

/// Who a daemon is: a unique name, its host and process.
#[derive(Debug, Clone)]
pub struct DaemonId {
    pub name: String,
    pub host: String,
    pub pid: u32,
}

impl DaemonId {
    pub fn new() -> DaemonId {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "localhost".to_string());
        let pid = std::process::id();
        let nonce: u32 = rand::random();
        DaemonId {
            name: format!("{host}-{pid}-{nonce:08x}"),
            host,
            pid,
        }
    }
}

impl Default for DaemonId {
    fn default() -> Self {
        DaemonId::new()
    }
}

/// Whether a process of this host is alive; where that cannot be told,
/// it is taken as alive (its registration then expires on its own).
fn process_alive(pid: i64) -> bool {
    let proc_root = std::path::Path::new("/proc");
    if !proc_root.join("self").exists() {
        return true;
    }
    proc_root.join(pid.to_string()).exists()
}

/// The wall clock in milliseconds (leases are about processes, not the
/// campaign clock).
pub fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
