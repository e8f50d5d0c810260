//! A daemon's claims and its registration, on the wall clock: ticks that
//! take longer than a registration lives (slow channels) keep their claims
//! and their registration, so no other daemon delivers what a live one
//! holds; a registration that was removed is created again, and what was
//! claimed under the old one is not delivered by its daemon; a delivered
//! batch is marked in the ledger before the next one is claimed. On SQLite
//! and on PostgreSQL.

mod support;

use camp_runtime::channels::{BoxFuture, Channel, ChannelSet, Outcome, Outgoing};
use camp_runtime::clock::{Clock, VirtualClock};
use camp_runtime::daemon::{self, DaemonOptions};
use camp_runtime::engine::{step, Options, Runner};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::store::wall_ms;
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::t;

const NOTE: &str = r##"
campaign lease_probe {
  kind info
  channel push
  trigger at 2026-11-23 10:00
  send lease_note
}

message lease_note {
  title "캠프샵"
  "#{고객명}님, 새 소식이 있어요."
}
"##;

/// Before the campaign's instant (10:00 in Seoul), and after it.
const BEFORE: &str = "2026-11-23T00:59:59Z";
const AFTER: &str = "2026-11-23T01:00:01Z";

type Probe = dyn Fn(&[Outgoing]) + Send + Sync;

/// A channel that takes `pause` for every batch (a slow provider), then
/// takes every send; it counts each key it was handed.
#[derive(Clone)]
struct Slow {
    pause: Duration,
    keys: Arc<Mutex<Vec<String>>>,
    /// Called before each batch, with the batch.
    probe: Arc<Probe>,
}

impl Slow {
    fn new(pause: Duration) -> Slow {
        Slow {
            pause,
            keys: Arc::new(Mutex::new(Vec::new())),
            probe: Arc::new(|_| {}),
        }
    }

    fn keys(&self) -> Vec<String> {
        self.keys.lock().map(|k| k.clone()).unwrap_or_default()
    }
}

impl Channel for Slow {
    fn deliver<'a>(&'a self, batch: Vec<Outgoing>) -> BoxFuture<'a, Vec<(Outgoing, Outcome)>> {
        Box::pin(async move {
            (self.probe)(&batch);
            tokio::time::sleep(self.pause).await;
            if let Ok(mut keys) = self.keys.lock() {
                keys.extend(batch.iter().map(|o| o.key.clone()));
            }
            batch.into_iter().map(|o| (o, Outcome::Sent)).collect()
        })
    }
}

async fn sqlite() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    (url, dir)
}

async fn fill(url: &str, customers: u64) -> (Database, camp_compiler::Analysis) {
    let db = Database::create(url).await.expect("database");
    let analysis = support::workspace(&[("lease.camp", NOTE)]);
    sample::generate(
        &db,
        &support::schema(&analysis),
        &SampleSpec::new(customers, t("2026-11-23T00:00:00Z")),
        |_| {},
    )
    .await
    .expect("sample data");
    (db, analysis)
}

async fn start(url: &str, analysis: &camp_compiler::Analysis, channel: &Slow, opts: Options) -> Result<Runner, String> {
    let db = Database::connect(url).await.expect("connect");
    Runner::start(
        db,
        support::deployment(analysis, &["lease_probe"]),
        ChannelSet::all(Arc::new(channel.clone())),
        opts,
        t(BEFORE),
    )
    .await
    .map_err(|e| e.to_string())
}

fn opts(ttl_ms: i64, batch: usize) -> Options {
    Options {
        batch,
        daemon_ttl_ms: ttl_ms,
        ..Options::default()
    }
}

/// Runs `runners` as daemons (`camp run`'s loop) on a clock just past the
/// campaign's instant until every one of `expected` sends is marked sent.
async fn run_until_sent(db: &Database, runners: Vec<Arc<Runner>>, expected: i64) {
    let clock = Arc::new(VirtualClock::new(t(AFTER)));
    let l = support::table(db, "ledger");
    let mut loops = tokio::task::JoinSet::new();
    let done = Arc::new(tokio::sync::Notify::new());
    for r in runners {
        let clock: Arc<dyn Clock> = clock.clone();
        let done = done.clone();
        loops.spawn(async move {
            let stop = async move { done.notified().await };
            daemon::run(
                r,
                clock,
                None,
                DaemonOptions {
                    interval: Duration::from_millis(20),
                },
                stop,
            )
            .await
            .expect("the daemon runs")
        });
    }
    let started = Instant::now();
    let sent = format!("SELECT COUNT(*) FROM {l} WHERE status = 'sent'");
    while support::count(db, &sent, &[]).await < expected {
        assert!(started.elapsed() < Duration::from_secs(120), "the daemons did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done.notify_waiters();
    // notify_waiters reaches only those waiting: keep telling until all have stopped.
    while !loops.is_empty() {
        done.notify_waiters();
        if let Ok(Some(joined)) = tokio::time::timeout(Duration::from_millis(100), loops.join_next()).await {
            joined.expect("daemon task");
        }
    }
}

/// Three daemons on one PostgreSQL, one of them on a channel so slow that
/// one batch takes twice as long as a registration lives, while the other
/// two are done and idle: neither takes the slow one's claims, so no key
/// is delivered twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_ticks_keep_their_claims_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("leases").await.expect("database");
    let customers = 360;
    let (db, analysis) = fill(&url, customers).await;
    let channel = Slow::new(Duration::from_millis(150));
    let mut runners = Vec::new();
    for pause in [1_200, 150, 150] {
        let slow = Slow {
            pause: Duration::from_millis(pause),
            ..channel.clone()
        };
        runners.push(Arc::new(start(&url, &analysis, &slow, opts(600, 30)).await.expect("starts")));
    }
    run_until_sent(&db, runners, customers as i64).await;
    let keys = channel.keys();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for k in &keys {
        *seen.entry(k.as_str()).or_default() += 1;
    }
    let twice = seen.values().filter(|n| **n > 1).count();
    assert_eq!(twice, 0, "{twice} of {} keys delivered more than once", seen.len());
    assert_eq!(seen.len(), customers as usize, "every send delivered");
}

/// One daemon whose tick takes several registration lifetimes: its
/// registration never lapses meanwhile (on SQLite a second daemon is
/// refused all along).
async fn long_tick_stays_registered(url: String) {
    let customers = 150;
    let (db, analysis) = fill(&url, customers).await;
    let mut channel = Slow::new(Duration::from_millis(600));
    let batches = Arc::new(Mutex::new(0usize));
    let seen = batches.clone();
    channel.probe = Arc::new(move |_| {
        if let Ok(mut n) = seen.lock() {
            *n += 1;
        }
    });
    let runner = Arc::new(start(&url, &analysis, &channel, opts(400, 30)).await.expect("starts"));
    let name = runner.id.name.clone();
    let checker = async {
        {
            let d = support::table(&db, "daemons");
            let until = format!("SELECT until_ms FROM {d} WHERE name = '{name}'");
            let mut checks = 0;
            // While the one long tick is delivering its batches.
            while batches.lock().map(|n| *n).unwrap_or(0) < 4 {
                if batches.lock().map(|n| *n).unwrap_or(0) >= 1 {
                    let left = support::count(&db, &until, &[]).await - wall_ms();
                    assert!(left > 0, "the registration lapsed during a tick ({left} ms)");
                    if db.backend() == camp_runtime::db::Backend::Sqlite {
                        let second = start(&url, &analysis, &channel, opts(400, 30)).await;
                        let err = second.err().unwrap_or_default();
                        assert!(err.contains("another camp daemon"), "a second daemon started: {err}");
                    }
                    checks += 1;
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            checks
        }
    };
    let ((), checks) = tokio::join!(run_until_sent(&db, vec![runner], customers as i64), checker);
    assert!(checks >= 3, "checked {checks} times during the tick");
    assert_eq!(channel.keys().len(), customers as usize, "each send delivered once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_tick_stays_registered_on_sqlite() {
    let (url, _dir) = sqlite().await;
    long_tick_stays_registered(url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_tick_stays_registered_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("longtick").await.expect("database");
    long_tick_stays_registered(url).await;
}

/// The registration row removed under a running daemon is created again
/// by its own renewal; deliveries claimed under the old one are not
/// handed to a channel by it any more, those claimed under the new one are.
async fn removed_registration_comes_back(url: String) {
    let (db, analysis) = fill(&url, 5).await;
    let runner = start(&url, &analysis, &Slow::new(Duration::ZERO), opts(300, 30))
        .await
        .expect("starts");
    let d = support::table(&db, "daemons");
    let mine = format!("SELECT COUNT(*) FROM {d} WHERE name = '{}'", runner.id.name);
    assert_eq!(support::count(&db, &mine, &[]).await, 1);
    let before = runner.registration.claim();
    assert!(runner.registration.may_deliver(before));
    db.execute(&format!("DELETE FROM {d}"), &[]).await.expect("delete");
    let started = Instant::now();
    while support::count(&db, &mine, &[]).await != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the registration was not created again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    while runner.registration.claim() == before {
        assert!(started.elapsed() < Duration::from_secs(10), "the loss was not noticed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !runner.registration.may_deliver(before),
        "claims of the lost registration are fenced"
    );
    assert!(runner.registration.may_deliver(runner.registration.claim()));
    runner.stop().await.expect("stop");
    assert_eq!(support::count(&db, &mine, &[]).await, 0, "a clean stop unregisters");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_registration_is_created_again_on_sqlite() {
    let (url, _dir) = sqlite().await;
    removed_registration_comes_back(url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_registration_is_created_again_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("reregister").await.expect("database");
    removed_registration_comes_back(url).await;
}

/// One batch of the step machine: its deliveries are marked sent before
/// anything else is claimed (a crash after it delivers nothing again).
async fn batch_marked_at_once(url: String) {
    let (db, analysis) = fill(&url, 25).await;
    let channel = Slow::new(Duration::ZERO);
    let runner = start(&url, &analysis, &channel, opts(10_000, 10)).await.expect("starts");
    // The occurrence enrolls everyone; the first batch sends ten.
    camp_runtime::engine::enroll::scheduled(&runner, t(AFTER)).await.expect("enroll");
    let (claimed, tick) = step::run_batch(&runner, t(AFTER)).await.expect("one batch");
    assert_eq!((claimed, tick.sends, tick.delivered), (10, 10, 10));
    let l = support::table(&db, "ledger");
    let by = |status: &str| format!("SELECT COUNT(*) FROM {l} WHERE status = '{status}'");
    assert_eq!(support::count(&db, &by("sent"), &[]).await, 10, "marked sent at once");
    assert_eq!(support::count(&db, &by("pending"), &[]).await, 0);
    let held = format!("SELECT COUNT(*) FROM {l} WHERE lease_owner IS NOT NULL");
    assert_eq!(support::count(&db, &held, &[]).await, 0, "no lease left behind");
    runner.tick(t(AFTER)).await.expect("tick");
    assert_eq!(support::count(&db, &by("sent"), &[]).await, 25);
    assert_eq!(channel.keys().len(), 25);
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivered_batch_is_marked_at_once_on_sqlite() {
    let (url, _dir) = sqlite().await;
    batch_marked_at_once(url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivered_batch_is_marked_at_once_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("marks").await.expect("database");
    batch_marked_at_once(url).await;
}
