//! The engine: executes deployed plans against the store and the
//! customer's data, one tick at a time. A tick reads new events, enrolls
//! (per event and per scheduled occurrence), runs every due step machine,
//! decides and records each send in one transaction with its checks, then
//! delivers what it recorded. The daemon calls [`Runner::tick`] on the
//! system clock; tests, `camp simulate` and `camp demo` on a virtual one.

pub mod caps;
pub mod contacts;
pub mod enroll;
pub mod events;
pub mod experiment;
pub mod lease;
pub mod outbox;
pub mod quiet;
pub mod send;
pub mod step;

use crate::binds::{BindValue, Bindings, TriggerEvent};
use crate::channels::ChannelSet;
use crate::db::{Backend, CellsExt, Database, DbError, Key, Tx};
use crate::metrics::Metrics;
use crate::store::{wall_ms, DaemonId, Store};
use camp_compiler::channel::{Channel, ContactKind};
use camp_compiler::lower::{CampaignQueries, Query};
use camp_compiler::plan::deployment::{Deployment, FieldType, Policy, Schema};
use camp_compiler::plan::Plan;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// How the engine works.
#[derive(Debug, Clone)]
pub struct Options {
    /// Enrollments claimed per transaction.
    pub batch: usize,
    /// Events are read by time (a replay on a virtual clock) rather than
    /// by row key from a cursor.
    pub replay: bool,
    /// Tries of a delivery before it is dead-lettered.
    pub max_tries: i64,
    /// How long a daemon's registration lives without renewal (wall
    /// clock). It is renewed five times a lifetime by a task of its own;
    /// the deliveries a daemon has claimed are its own while it is
    /// registered, and are taken back by others once it has expired.
    pub daemon_ttl_ms: i64,
    /// The PostgreSQL schema of the store.
    pub schema: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch: 1_000,
            replay: false,
            max_tries: 5,
            daemon_ttl_ms: 10_000,
            schema: crate::store::SCHEMA.to_string(),
        }
    }
}

impl Options {
    /// The defaults, with what `camp run` takes from the environment:
    /// `CAMP_BATCH` (sends claimed per transaction, 1-100000) and
    /// `CAMP_DAEMON_TTL_MS` (how long a registration lives without
    /// renewal, 200-600000 ms: how soon a dead daemon's work is taken
    /// back). Values out of range or not numbers are ignored.
    pub fn from_env() -> Options {
        let var = |name: &str, range: std::ops::RangeInclusive<i64>| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|v| range.contains(v))
        };
        let d = Options::default();
        Options {
            batch: var("CAMP_BATCH", 1..=100_000).map_or(d.batch, |b| b as usize),
            daemon_ttl_ms: var("CAMP_DAEMON_TTL_MS", 200..=600_000).unwrap_or(d.daemon_ttl_ms),
            ..d
        }
    }
}

/// The customer table as the engine reads it.
#[derive(Debug, Clone)]
pub struct CustomerInfo {
    pub source: String,
    pub key: String,
    pub zone: Option<String>,
    /// The first `phone`, `email` and `push_token` fields: the addresses a
    /// payload carries besides its channel's own.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub push_token: Option<String>,
    /// Every contact column read, each once.
    pub contact_fields: Vec<String>,
    /// Per channel name, the field it reads its address from (the schema's
    /// `contact .. for channel ..` line, else the first field of the
    /// channel's contact type). A channel not listed needs no address.
    pub reach: BTreeMap<String, String>,
    pub consents: Vec<String>,
}

impl CustomerInfo {
    fn of(schema: &Schema) -> Option<CustomerInfo> {
        let c = schema.customer.as_ref()?;
        let first = |pred: &dyn Fn(&FieldType) -> bool| c.fields.iter().find(|f| pred(&f.ty)).map(|f| f.name.clone());
        let mut reach = BTreeMap::new();
        let mut contact_fields: Vec<String> = Vec::new();
        for channel in Channel::ALL {
            if let Some(f) = schema.contact_field(channel.name()) {
                if !contact_fields.contains(&f.name) {
                    contact_fields.push(f.name.clone());
                }
                reach.insert(channel.name().to_string(), f.name.clone());
            }
        }
        let phone = first(&|t| matches!(t, FieldType::Phone));
        let email = first(&|t| matches!(t, FieldType::Email));
        let push_token = first(&|t| matches!(t, FieldType::PushToken));
        for f in [&phone, &email, &push_token].into_iter().flatten() {
            if !contact_fields.contains(f) {
                contact_fields.push(f.clone());
            }
        }
        Some(CustomerInfo {
            source: c.source.clone(),
            key: c.key.clone(),
            zone: first(&|t| matches!(t, FieldType::Tz)),
            phone,
            email,
            push_token,
            contact_fields,
            reach,
            consents: c
                .fields
                .iter()
                .filter(|f| f.ty == FieldType::Consent)
                .map(|f| f.name.clone())
                .collect(),
        })
    }

    /// The field `channel` reads its address from; None when it needs none.
    pub fn contact_for(&self, channel: &str) -> Option<&str> {
        self.reach.get(channel).map(String::as_str)
    }

    /// The field a payload's `to.phone` (`to.email`, `to.push_token`) is
    /// read from on `channel`: the channel's own when it sends to that kind
    /// of address, else the schema's first field of the kind.
    pub fn address_field(&self, channel: &str, kind: ContactKind) -> Option<&str> {
        let own = Channel::parse(channel).and_then(Channel::contact) == Some(kind);
        match (own, self.contact_for(channel)) {
            (true, Some(f)) => Some(f),
            _ => match kind {
                ContactKind::Phone => self.phone.as_deref(),
                ContactKind::Email => self.email.as_deref(),
                ContactKind::PushToken => self.push_token.as_deref(),
            },
        }
    }
}

/// How the database stores customer keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Int,
    Text,
}

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    pub events: u64,
    pub quarantined: u64,
    pub enrolled: u64,
    pub steps: u64,
    pub sends: u64,
    pub delivered: u64,
}

impl std::ops::AddAssign for Tick {
    fn add_assign(&mut self, o: Tick) {
        self.events += o.events;
        self.quarantined += o.quarantined;
        self.enrolled += o.enrolled;
        self.steps += o.steps;
        self.sends += o.sends;
        self.delivered += o.delivered;
    }
}

/// The engine over one store.
pub struct Runner {
    pub store: Store,
    /// The part of the schema the runtime reads, from the deployment.
    pub schema: Arc<Schema>,
    /// The policy facts the runtime reads, from the deployment.
    pub policy: Policy,
    /// The hash of the deployment this runner executes: every enrollment
    /// and ledger row it writes records it.
    pub deployment: String,
    pub customer: CustomerInfo,
    pub sources: Vec<events::Source>,
    /// Every plan version met, by hash.
    versions: Mutex<HashMap<String, Arc<Plan>>>,
    /// The deployed version of each campaign.
    pub current: Vec<Arc<Plan>>,
    pub channels: ChannelSet,
    pub metrics: Arc<Metrics>,
    pub id: DaemonId,
    pub opts: Options,
    key_kind: Mutex<Option<KeyKind>>,
    /// Replay mode: events up to this instant (ms) have been read.
    replayed_to: Mutex<Option<i64>>,
    /// PostgreSQL: when a gap in an events table's keys was first seen.
    gaps: Mutex<HashMap<String, (i64, std::time::Instant)>>,
    /// Results of deliveries whose marking failed (the database was out
    /// of reach): written before anything else is claimed.
    unmarked: Mutex<Vec<outbox::Marks>>,
    /// This daemon's registration, renewed by `heartbeat` on the wall clock.
    pub registration: Arc<lease::Registration>,
    heartbeat: lease::Heartbeat,
    /// One tick at a time: what this daemon holds is never delivered twice
    /// by itself.
    ticking: tokio::sync::Mutex<()>,
}

impl Runner {
    /// Opens the store (migrating it), registers this daemon and deploys
    /// the deployment's plans: new enrollments follow them, running ones
    /// go on with the plan version they began with. `now` starts the
    /// schedules of newly deployed campaigns and, outside replays, the
    /// event cursors of new tables.
    pub async fn start(
        db: Database,
        deployment: Deployment,
        channels: ChannelSet,
        opts: Options,
        now: DateTime<Utc>,
    ) -> Result<Runner, DbError> {
        let manifest = deployment.manifest().to_json();
        let format_version = deployment.format_version;
        let Deployment {
            hash: deployment,
            schema,
            policy,
            plans,
            ..
        } = deployment;
        let customer = CustomerInfo::of(&schema).ok_or_else(|| DbError::data("the schema has no customer table"))?;
        let store = Store::open(db, &opts.schema).await?;
        let id = DaemonId::new();
        let exclusive = store.db.backend() == Backend::Sqlite;
        let ttl_ms = opts.daemon_ttl_ms.max(100);
        let since = wall_ms();
        store.register(&id, exclusive, ttl_ms).await?;
        let registration = Arc::new(lease::Registration::new(since, ttl_ms));
        let heartbeat = lease::Heartbeat::spawn(store.clone(), id.clone(), registration.clone());
        let sources = events::Source::all(&schema);
        let current: Vec<Arc<Plan>> = plans.into_iter().map(Arc::new).collect();
        let runner = Runner {
            store,
            schema: Arc::new(schema),
            policy,
            deployment,
            customer,
            sources,
            versions: Mutex::new(current.iter().map(|p| (p.hash.clone(), p.clone())).collect()),
            current,
            channels,
            metrics: Arc::new(Metrics::default()),
            id,
            opts,
            key_kind: Mutex::new(None),
            replayed_to: Mutex::new(None),
            gaps: Mutex::new(HashMap::new()),
            unmarked: Mutex::new(Vec::new()),
            registration,
            heartbeat,
            ticking: tokio::sync::Mutex::new(()),
        };
        runner.deploy(&manifest, format_version, now).await?;
        if !runner.opts.replay {
            events::init_cursors(&runner).await?;
        } else if let Ok(mut r) = runner.replayed_to.lock() {
            *r = Some(crate::clock::ms(now));
        }
        Ok(runner)
    }

    /// Records the deployment, its plan versions and the schedules of new
    /// campaigns.
    async fn deploy(&self, manifest: &str, format_version: u32, now: DateTime<Utc>) -> Result<(), DbError> {
        let t = &self.store.t;
        let p = |n| self.store.ph(n);
        let mut tx = self.store.db.begin().await?;
        tx.execute(
            &format!(
                "INSERT INTO {} (hash, format_version, deployed_ms, manifest) VALUES ({}, {}, {}, {}) ON CONFLICT DO NOTHING",
                t.deployments,
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            &[
                BindValue::Text(self.deployment.clone()),
                BindValue::Int(i64::from(format_version)),
                BindValue::Int(crate::clock::ms(now)),
                BindValue::Text(manifest.to_string()),
            ],
        )
        .await?;
        for plan in &self.current {
            tx.execute(
                &format!(
                    "INSERT INTO {} (campaign, hash, plan, deployed_ms) VALUES ({}, {}, {}, {}) ON CONFLICT DO NOTHING",
                    t.plans,
                    p(1),
                    p(2),
                    p(3),
                    p(4)
                ),
                &[
                    BindValue::Text(plan.name.clone()),
                    BindValue::Text(plan.hash.clone()),
                    BindValue::Text(plan.to_json()),
                    BindValue::Int(crate::clock::ms(now)),
                ],
            )
            .await?;
            if !matches!(plan.trigger, camp_compiler::plan::Trigger::On { .. }) {
                tx.execute(
                    &format!(
                        "INSERT INTO {} (campaign, since_ms) VALUES ({}, {}) ON CONFLICT DO NOTHING",
                        t.schedules,
                        p(1),
                        p(2)
                    ),
                    &[BindValue::Text(plan.name.clone()), BindValue::Int(crate::clock::ms(now))],
                )
                .await?;
            }
        }
        tx.commit().await
    }

    /// One round of everything due at `now`.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Tick, DbError> {
        let _one = self.ticking.lock().await;
        let started = std::time::Instant::now();
        let mut tick = Tick::default();
        // What was delivered but could not be marked, first.
        outbox::flush_unmarked(self).await?;
        tick += events::poll(self, now).await?;
        tick.enrolled += enroll::scheduled(self, now).await?;
        // Until nothing is due: an enrollment that sent moves on at once
        // (its next step may be due now too); every pass moves each one
        // claimed forward, so this ends.
        for _ in 0..100_000 {
            let (claimed, done) = step::run_batch(self, now).await?;
            tick += done;
            if claimed == 0 {
                break;
            }
        }
        tick.sends += outbox::fallbacks(self, now).await?;
        tick.delivered += outbox::deliver_due(self, now).await?;
        self.metrics.tick(started.elapsed());
        Ok(tick)
    }

    /// Renews this daemon's registration now (wall clock), registering it
    /// again if it was gone; false in that case. A task does this on its
    /// own all along; this is for callers that want it done at once.
    pub async fn heartbeat(&self) -> Result<bool, DbError> {
        self.registration.renew(&self.store, &self.id).await
    }

    /// After the last tick: marks what is left to mark, stops renewing and
    /// removes the registration (releasing what it still holds).
    pub async fn stop(&self) -> Result<(), DbError> {
        let _one = self.ticking.lock().await;
        outbox::flush_unmarked(self).await?;
        self.heartbeat.stop();
        self.store.unregister(&self.id).await
    }

    /// The earliest instant after `now` at which something is due: the
    /// next enrollment step, retry, fallback or scheduled occurrence (and,
    /// in replays, the next stored event). A virtual clock jumps there.
    pub async fn next_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, DbError> {
        let t = &self.store.t;
        let n = crate::clock::ms(now);
        let sql = format!(
            "SELECT MIN(x) FROM (SELECT MIN(due_ms) AS x FROM {e} WHERE state = 'active' AND due_ms > {p1} \
             UNION ALL SELECT MIN(next_try_ms) FROM {l} WHERE status = 'pending' AND next_try_ms > {p1} \
             UNION ALL SELECT MIN(fallback_ms) FROM {l} WHERE fallback_ms IS NOT NULL AND fallback_ms > {p1}) AS d",
            e = t.enrollments,
            l = t.ledger,
            p1 = self.store.ph(1)
        );
        let rows = self.store.db.rows(&sql, &[BindValue::Int(n)]).await?;
        let mut best = rows.first().and_then(|r| r.int(0)).map(crate::clock::from_ms);
        let mut consider = |t: Option<DateTime<Utc>>| {
            if let Some(t) = t.filter(|t| *t > now) {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        };
        for plan in &self.current {
            consider(enroll::next_occurrence(plan, now));
        }
        if self.opts.replay {
            consider(events::next_event_time(self, now).await?);
        }
        Ok(best)
    }

    /// A plan version by hash, from memory or the store (read in `tx`, so
    /// that a transaction never waits for a second connection).
    pub async fn plan(&self, tx: &mut Tx, hash: &str) -> Result<Option<Arc<Plan>>, DbError> {
        if let Some(p) = self.versions.lock().ok().and_then(|v| v.get(hash).cloned()) {
            return Ok(Some(p));
        }
        let rows = tx
            .rows(
                &format!("SELECT plan FROM {} WHERE hash = {}", self.store.t.plans, self.store.ph(1)),
                &[BindValue::Text(hash.to_string())],
            )
            .await?;
        let Some(json) = rows.first().and_then(|r| r.text(0)) else {
            return Ok(None);
        };
        match Plan::from_json(&json) {
            Ok(plan) => {
                let plan = Arc::new(plan);
                if let Ok(mut v) = self.versions.lock() {
                    v.insert(hash.to_string(), plan.clone());
                }
                Ok(Some(plan))
            }
            Err(e) => {
                tracing::error!(hash, error = %e, "a stored plan cannot be read");
                Ok(None)
            }
        }
    }

    /// The plan's SQL for this database.
    pub fn queries<'p>(&self, plan: &'p Plan) -> &'p CampaignQueries {
        match self.store.db.backend() {
            Backend::Sqlite => &plan.sql.sqlite,
            Backend::Postgres => &plan.sql.postgres,
        }
    }

    pub fn backend_query<'p>(&self, q: &'p camp_compiler::plan::Dialects<Query>) -> &'p Query {
        match self.store.db.backend() {
            Backend::Sqlite => &q.sqlite,
            Backend::Postgres => &q.postgres,
        }
    }

    /// How the customer table stores keys, read from one of its rows.
    pub async fn key_kind(&self) -> Result<KeyKind, DbError> {
        if let Some(k) = self.key_kind.lock().ok().and_then(|k| *k) {
            return Ok(k);
        }
        let d = self.store.db.dialect();
        let sql = format!(
            "SELECT {} FROM {} LIMIT 1",
            d.quote(&self.customer.key),
            d.quote(&self.customer.source)
        );
        let rows = self.store.db.rows(&sql, &[]).await?;
        let kind = match rows.first().and_then(|r| r.first()) {
            Some(crate::db::Raw::Int(_)) => KeyKind::Int,
            Some(_) => KeyKind::Text,
            None => return Ok(KeyKind::Int),
        };
        if let Ok(mut k) = self.key_kind.lock() {
            *k = Some(kind);
        }
        Ok(kind)
    }

    /// A stored (text) customer key as the database has it.
    pub fn key(&self, kind: KeyKind, text: &str) -> Key {
        match (kind, text.parse::<i64>()) {
            (KeyKind::Int, Ok(n)) => Key::Int(n),
            _ => Key::Text(text.to_string()),
        }
    }

    /// Keys as one JSON array parameter, typed as the database has them.
    pub fn key_list(&self, kind: KeyKind, keys: &[&str]) -> BindValue {
        BindValue::Json(serde_json::Value::Array(
            keys.iter()
                .map(|k| match (kind, k.parse::<i64>()) {
                    (KeyKind::Int, Ok(n)) => serde_json::Value::from(n),
                    _ => serde_json::Value::from(*k),
                })
                .collect(),
        ))
    }

    /// Runs a one-customer condition query (`ok` = 1 when it holds).
    pub async fn holds(
        &self,
        tx: &mut Tx,
        query: &Query,
        now: DateTime<Utc>,
        customer: &Key,
        trigger: Option<&TriggerEvent>,
    ) -> Result<bool, DbError> {
        if query.sql.is_empty() {
            return Ok(false);
        }
        let binds = match (Bindings {
            now,
            customer: Some(customer),
            trigger,
        })
        .resolve(&query.params)
        {
            Ok(b) => b,
            Err(e) => return Err(DbError::data(e.to_string())),
        };
        let rows = tx.rows(&query.sql, &binds).await?;
        Ok(rows.first().and_then(|r| r.int(0)) == Some(1))
    }

    /// Until when deliveries claimed now are known to be this daemon's
    /// (wall clock; kept in the ledger for people reading it: the lease
    /// itself lasts as long as the registration).
    pub fn lease_until(&self) -> i64 {
        self.registration.until()
    }

    pub fn replayed_to(&self) -> Option<i64> {
        self.replayed_to.lock().ok().and_then(|r| *r)
    }

    fn set_replayed_to(&self, ms: i64) {
        if let Ok(mut r) = self.replayed_to.lock() {
            *r = Some(ms);
        }
    }
}
