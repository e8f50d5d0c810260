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
    /// Every deployment the store has run (migration 0006).
    pub deployments: String,
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
            deployments: t("deployments"),
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
    /// (their delivery leases lapse with them). With `exclusive` (SQLite), a
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
            let dead = host.as_deref() == Some(me.host.as_str()) && pid.is_some_and(|p| !process_alive(p));
            if dead || name == me.name {
                self.forget(&mut tx, &name, None).await?;
                continue;
            }
            // Expired, unless it renewed meanwhile.
            if until < now && self.forget(&mut tx, &name, Some(now)).await? == 1 {
                continue;
            }
            if exclusive {
                tx.rollback().await?;
                return Err(DbError::data(format!(
                    "another camp daemon (`{name}`, pid {} on {}) is running on this SQLite database\n  help: stop it first; to run several daemons at once, use PostgreSQL",
                    pid.unwrap_or(0),
                    host.unwrap_or_default()
                )));
            }
        }
        self.insert_registration(&mut tx, me, now, ttl_ms).await?;
        tx.commit().await
    }

    async fn insert_registration(&self, tx: &mut crate::db::Tx, me: &DaemonId, now: i64, ttl_ms: i64) -> Result<(), DbError> {
        tx.execute(
            &format!(
                "INSERT INTO {} (name, host, pid, started_ms, until_ms) VALUES ({}, {}, {}, {}, {}) \
                 ON CONFLICT (name) DO UPDATE SET until_ms = excluded.until_ms",
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
        Ok(())
    }

    /// Removes a daemon's registration. The deliveries it had claimed are
    /// free from then on: a lease is good only while its owner is
    /// registered (see [`Store::claimable`]), so forgetting is one row and
    /// never waits for the ledger.
    /// With `expired_before`, only if it has not renewed past that instant.
    async fn forget(&self, tx: &mut crate::db::Tx, name: &str, expired_before: Option<i64>) -> Result<u64, DbError> {
        let removed = match expired_before {
            None => {
                tx.execute(
                    &format!("DELETE FROM {} WHERE name = {}", self.t.daemons, self.ph(1)),
                    &[BindValue::Text(name.to_string())],
                )
                .await?
            }
            Some(t) => {
                tx.execute(
                    &format!(
                        "DELETE FROM {} WHERE name = {} AND until_ms < {}",
                        self.t.daemons,
                        self.ph(1),
                        self.ph(2)
                    ),
                    &[BindValue::Text(name.to_string()), BindValue::Int(t)],
                )
                .await?
            }
        };
        Ok(removed)
    }

    /// The condition (on ledger rows aliased `alias`, or unqualified when
    /// empty) under which a pending delivery may be claimed by the daemon
    /// whose name is bound at `me`: nobody holds it, this daemon does, or
    /// its holder is no longer registered. A live daemon's claims are
    /// never taken, however long it takes to deliver them.
    pub fn claimable(&self, alias: &str, me: &str) -> String {
        let c = if alias.is_empty() {
            "lease_owner".to_string()
        } else {
            format!("{alias}.lease_owner")
        };
        format!("({c} IS NULL OR {c} = {me} OR {c} NOT IN (SELECT name FROM {}))", self.t.daemons)
    }

    /// Renews a daemon's registration, registering it again if its row
    /// is gone (it had expired and another daemon removed it); then other
    /// daemons that stopped renewing are forgotten. Returns false when
    /// this daemon had to be registered again.
    pub async fn heartbeat(&self, me: &DaemonId, ttl_ms: i64) -> Result<bool, DbError> {
        let now = wall_ms();
        // Alone, first: renewing never waits for anything else.
        let kept = self
            .db
            .execute(
                &format!(
                    "UPDATE {} SET until_ms = {} WHERE name = {}",
                    self.t.daemons,
                    self.ph(1),
                    self.ph(2)
                ),
                &[BindValue::Int(now + ttl_ms), BindValue::Text(me.name.clone())],
            )
            .await?
            == 1;
        if !kept {
            let mut tx = self.db.begin().await?;
            self.insert_registration(&mut tx, me, now, ttl_ms).await?;
            tx.commit().await?;
        }
        let stale = self
            .db
            .rows(
                &format!(
                    "SELECT name FROM {} WHERE until_ms < {} AND name <> {}",
                    self.t.daemons,
                    self.ph(1),
                    self.ph(2)
                ),
                &[BindValue::Int(now), BindValue::Text(me.name.clone())],
            )
            .await?;
        if !stale.is_empty() {
            let mut tx = self.db.begin().await?;
            for name in stale.iter().filter_map(|r| r.text(0)) {
                // Only if it is still expired: it may have renewed meanwhile.
                self.forget(&mut tx, &name, Some(now)).await?;
            }
            tx.commit().await?;
        }
        Ok(kept)
    }

    /// Removes this daemon's registration and releases its leases.
    pub async fn unregister(&self, me: &DaemonId) -> Result<(), DbError> {
        let mut tx = self.db.begin().await?;
        self.forget(&mut tx, &me.name, None).await?;
        tx.execute(
            &format!(
                "UPDATE {} SET lease_owner = NULL, lease_until_ms = NULL WHERE status = 'pending' AND lease_owner = {}",
                self.t.ledger,
                self.ph(1)
            ),
            &[BindValue::Text(me.name.clone())],
        )
        .await?;
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
