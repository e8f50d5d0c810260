//! Crash harness: `camp run` as a child process sends a 10,000-recipient
//! campaign to a local webhook receiver and is killed with SIGKILL at
//! random points, at least 20 times, then restarted until it finishes.
//! Every recipient gets the message, no ledger row exists twice, a message
//! delivered twice carries the same idempotency key and body, and a kill
//! delivers again at most what was in flight (the webhook's batch, whose
//! results are recorded as soon as it is delivered). On SQLite and on
//! PostgreSQL.
//!
//! Several daemons on one PostgreSQL, with a receiver that always takes
//! the message but answers slowly: with none killed, every key is
//! delivered exactly once; with daemons killed and restarted, each kill
//! delivers again at most one in-flight batch.

mod daemon;

use camp_runtime::db::CellsExt;
use camp_runtime::receiver::{Receiver, Reply};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use daemon::count;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RECIPIENTS: u64 = 10_000;
const KILLS: usize = 20;
/// What the webhook hands over at once (8 rounds of its 16 requests in
/// flight): the most a kill can deliver again.
const IN_FLIGHT: usize = 128;

const CAMPAIGN: &str = r##"
campaign crash_probe {
  kind info
  channel push
  trigger at 2026-11-23 10:00
  send crash_note
}

message crash_note {
  title "캠프샵"
  "#{고객명}님, 새 소식이 있어요."
}
"##;

fn spawn(dir: &Path, url: &str, log: &Path, env: &[(&str, &str)]) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_camp"))
        .arg("run")
        .arg(dir)
        .args(["--database", url, "--now", "2026-11-23T00:59:59Z"])
        .env("CAMP_TICK_MS", "50")
        .env("CAMP_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("camp run starts")
}

/// Deliveries claimed by the daemon of process `pid` and not yet marked:
/// what a kill of it may deliver again (counted before anyone takes them).
async fn in_flight(db: &Database, t: &dyn Fn(&str) -> String, pid: u32) -> i64 {
    count(
        db,
        &format!(
            "SELECT COUNT(*) FROM {} WHERE status = 'pending' AND lease_owner IN (SELECT name FROM {} WHERE pid = {pid})",
            t("ledger"),
            t("daemons")
        ),
    )
    .await
}

/// The crash campaign's workspace in `dir`, its data in `url` (`recipients`
/// customers), sending to `hook`.
async fn setup(dir: &Path, url: &str, hook: &str, recipients: u64) -> Database {
    daemon::workspace(
        dir,
        "crash.camp",
        CAMPAIGN,
        &format!("[workspace]\nname = \"crash\"\n\n[channels.push]\ntype = \"webhook\"\nurl = \"{hook}\"\ntimeout_ms = 10000\n"),
    );
    let db = Database::create(url).await.expect("database");
    let analysis = daemon::analysis(dir, "crash.camp");
    let schema = camp_compiler::program::Program::new(&analysis).expect("checks").schema;
    let spec = SampleSpec::new(
        recipients,
        camp_runtime::binds::parse_instant("2026-11-23T00:00:00Z").expect("instant"),
    );
    sample::generate(&db, &schema, &spec, |_| {}).await.expect("sample data");
    db
}

/// SIGTERM, then a clean exit.
fn terminate(child: &mut Child, log: &Path) {
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let exit = child.wait().expect("exit");
    assert!(
        exit.success(),
        "a clean stop on SIGTERM: {exit}\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Waits until the daemon of `child` has registered (so its SIGTERM
/// handler is in place).
async fn registered(db: &Database, t: &dyn Fn(&str) -> String, child: &mut Child, log: &Path, started: Instant) {
    let registered = format!("SELECT COUNT(*) FROM {} WHERE pid = {}", t("daemons"), child.id());
    while count(db, &registered).await < 1 {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            panic!("the daemon exited before registering ({status}):\n{text}");
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the daemon did not register");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends marked sent so far (0 before the daemons have made their tables).
async fn sent(db: &Database, t: &dyn Fn(&str) -> String) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {} WHERE status = 'delivered'", t("ledger"));
    match db.rows(&sql, &[]).await {
        Ok(rows) => rows.first().and_then(|r| r.int(0)).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Waits until `n` sends are marked sent, failing if a daemon exits.
async fn all_sent(db: &Database, t: &dyn Fn(&str) -> String, n: u64, children: &mut [Child], log: &Path, started: Instant) {
    while sent(db, t).await != n as i64 {
        for child in children.iter_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                panic!("a daemon exited early ({status}):\n{text}");
            }
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the daemons did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Requests per idempotency key; every redelivery repeats the body.
fn per_key(receiver: &Receiver) -> HashMap<String, usize> {
    let mut bodies: HashMap<String, String> = HashMap::new();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for h in receiver.hits() {
        let body = bodies.entry(h.key.clone()).or_insert_with(|| h.body.clone());
        assert_eq!(*body, h.body, "a redelivery repeats the same message under the same key");
        *counts.entry(h.key).or_default() += 1;
    }
    counts
}

/// A small deterministic generator: kill points differ from kill to kill.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

async fn crash(url: String, t: impl Fn(&str) -> String) {
    let receiver = Receiver::start(|_| Reply::After(Duration::from_millis(1), 200))
        .await
        .expect("receiver");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = setup(dir.path(), &url, &receiver.url, RECIPIENTS).await;

    let log = dir.path().join("daemon.log");
    let mut rng = Lcg(0x5eed ^ u64::from(std::process::id()));
    let mut kills = 0;
    let mut sent_at_kill = Vec::new();
    let mut flying = Vec::new();
    let started = Instant::now();
    while kills < KILLS {
        let mut child = spawn(dir.path(), &url, &log, &[]);
        tokio::time::sleep(Duration::from_millis(300 + rng.below(3700))).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        kills += 1;
        sent_at_kill.push(receiver.hits().len());
        // Before the next daemon starts (it takes them back at once).
        flying.push(in_flight(&db, &t, child.id()).await);
    }
    // The last run goes to the end, then stops on SIGTERM.
    let mut child = spawn(dir.path(), &url, &log, &[]);
    let ledger = t("ledger");
    let enrollments = t("enrollments");
    all_sent(&db, &t, RECIPIENTS, std::slice::from_mut(&mut child), &log, started).await;
    registered(&db, &t, &mut child, &log, started).await;
    terminate(&mut child, &log);

    assert_eq!(
        count(&db, &format!("SELECT COUNT(*) FROM {enrollments}")).await,
        RECIPIENTS as i64,
        "one enrollment each"
    );
    assert_eq!(
        count(&db, &format!("SELECT COUNT(*) FROM {ledger}")).await,
        RECIPIENTS as i64,
        "one ledger row each"
    );
    assert_eq!(
        count(
            &db,
            &format!("SELECT COUNT(*) FROM (SELECT DISTINCT enrollment, step, attempt FROM {ledger}) AS d")
        )
        .await,
        RECIPIENTS as i64
    );
    assert_eq!(
        count(&db, &format!("SELECT COUNT(DISTINCT customer) FROM {ledger}")).await,
        RECIPIENTS as i64,
        "every recipient"
    );
    let hits = receiver.hits();
    let keys = per_key(&receiver);
    assert_eq!(keys.len(), RECIPIENTS as usize, "every recipient's message reached the receiver");
    let customers: std::collections::HashSet<String> = hits
        .iter()
        .filter_map(|h| {
            serde_json::from_str::<serde_json::Value>(&h.body).ok()?["customer"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(customers.len(), RECIPIENTS as usize);
    let again = hits.len() - keys.len();
    // What each kill could deliver again: its claims not yet marked, of
    // which at most one webhook batch had gone out.
    let bound: i64 = flying.iter().map(|n| (*n).min(IN_FLIGHT as i64)).sum();
    eprintln!(
        "{kills} kills (receiver had {sent_at_kill:?} requests at each; claims in flight {flying:?}); {} requests for {} messages: {again} delivered again with their key ({:.1} per kill, at most {bound} possible)",
        hits.len(),
        keys.len(),
        again as f64 / kills as f64
    );
    assert!(
        again as i64 <= bound,
        "{again} deliveries again, more than the {bound} in flight at the kills"
    );
    assert!(
        sent_at_kill.iter().any(|n| *n > 0 && *n < RECIPIENTS as usize),
        "some kill landed mid-campaign"
    );
}

const FLEET_ENV: &[(&str, &str)] = &[("CAMP_BATCH", "250"), ("CAMP_DAEMON_TTL_MS", "2000")];

/// Three daemons on one PostgreSQL, a receiver that takes every message
/// after `delay`; `kills` times one of them is killed and started again.
/// Returns (requests, distinct keys, kills).
async fn fleet(recipients: u64, delay: Duration, kills: usize) -> (usize, usize, usize) {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("fleet").await.expect("database");
    let t = |name: &str| format!("\"camp\".{name}");
    let receiver = Receiver::start(move |_| Reply::After(delay, 200)).await.expect("receiver");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = setup(dir.path(), &url, &receiver.url, recipients).await;
    let log = dir.path().join("daemons.log");
    let started = Instant::now();
    let mut children: Vec<Child> = (0..3).map(|_| spawn(dir.path(), &url, &log, FLEET_ENV)).collect();
    let mut rng = Lcg(0xf1ee7 ^ u64::from(std::process::id()));
    let mut flying = Vec::new();
    // Kills land while the campaign goes out.
    while kills > 0 && receiver.hits().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(120), "nothing was sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(200 + rng.below(500))).await;
        if sent(&db, &t).await >= recipients as i64 * 9 / 10 {
            break;
        }
        let i = rng.below(3) as usize;
        children[i].kill().expect("SIGKILL");
        children[i].wait().expect("reaped");
        flying.push(in_flight(&db, &t, children[i].id()).await);
        children[i] = spawn(dir.path(), &url, &log, FLEET_ENV);
    }
    all_sent(&db, &t, recipients, &mut children, &log, started).await;
    for child in children.iter_mut() {
        registered(&db, &t, child, &log, started).await;
    }
    for child in children.iter_mut() {
        terminate(child, &log);
    }
    assert_eq!(
        count(&db, &format!("SELECT COUNT(*) FROM {}", t("ledger"))).await,
        recipients as i64,
        "one ledger row each"
    );
    let keys = per_key(&receiver);
    assert_eq!(keys.len(), recipients as usize, "every recipient's message reached the receiver");
    let requests: usize = keys.values().sum();
    let twice = keys.values().filter(|n| **n > 1).count();
    eprintln!(
        "3 daemons, {} kills (claims in flight {flying:?}): {requests} requests for {} messages, {twice} keys delivered more than once",
        flying.len(),
        keys.len()
    );
    (requests, keys.len(), flying.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_daemons_deliver_every_key_once_on_postgres() {
    // Slow answers: a webhook batch takes a quarter of a registration's life.
    let (requests, keys, _) = fleet(3_000, Duration::from_millis(25), 0).await;
    assert_eq!(requests - keys, 0, "no key delivered twice while no daemon dies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_daemons_killed_deliver_again_at_most_what_was_in_flight_on_postgres() {
    let (requests, keys, kills) = fleet(6_000, Duration::from_millis(30), 6).await;
    assert!(
        requests - keys <= kills * IN_FLIGHT,
        "{} deliveries again after {kills} kills",
        requests - keys
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_nothing_and_sends_nothing_twice_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    crash(url, |name| format!("camp_{name}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_nothing_and_sends_nothing_twice_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("crash").await.expect("database");
    crash(url, |name| format!("\"camp\".{name}")).await;
}
