//! Crash harness: `camp run` as a child process sends a 10,000-recipient
//! campaign to a local webhook receiver and is killed with SIGKILL at
//! random points, at least 20 times, then restarted until it finishes.
//! Every recipient gets the message, no ledger row exists twice, and a
//! message delivered twice carries the same idempotency key and body. On
//! SQLite and on PostgreSQL.

mod daemon;

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

fn spawn(dir: &Path, url: &str, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_camp"))
        .arg("run")
        .arg(dir)
        .args(["--database", url, "--now", "2026-11-23T00:59:59Z"])
        .env("CAMP_TICK_MS", "50")
        .env("CAMP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("camp run starts")
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
    let hook = &receiver.url;
    daemon::workspace(
        dir.path(),
        "crash.camp",
        CAMPAIGN,
        &format!("[workspace]\nname = \"crash\"\n\n[channels.push]\ntype = \"webhook\"\nurl = \"{hook}\"\ntimeout_ms = 2000\n"),
    );
    let db = Database::create(&url).await.expect("database");
    let analysis = daemon::analysis(dir.path(), "crash.camp");
    let schema = camp_compiler::program::Program::new(&analysis).expect("checks").schema;
    let spec = SampleSpec::new(
        RECIPIENTS,
        camp_runtime::binds::parse_instant("2026-11-23T00:00:00Z").expect("instant"),
    );
    sample::generate(&db, &schema, &spec, |_| {}).await.expect("sample data");

    let log = dir.path().join("daemon.log");
    let mut rng = Lcg(0x5eed ^ u64::from(std::process::id()));
    let mut kills = 0;
    let mut sent_at_kill = Vec::new();
    let started = Instant::now();
    while kills < KILLS {
        let mut child = spawn(dir.path(), &url, &log);
        tokio::time::sleep(Duration::from_millis(300 + rng.below(3700))).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        kills += 1;
        sent_at_kill.push(receiver.hits().len());
    }
    // The last run goes to the end, then stops on SIGTERM.
    let mut child = spawn(dir.path(), &url, &log);
    let ledger = t("ledger");
    let enrollments = t("enrollments");
    loop {
        let done = count(&db, &format!("SELECT COUNT(*) FROM {ledger} WHERE status = 'delivered'")).await;
        if done == RECIPIENTS as i64 {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("the daemon exited early ({status}):\n{text}");
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the daemon did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The daemon has registered (so its SIGTERM handler is in place) before it is asked to stop.
    let daemons = t("daemons");
    let registered = format!("SELECT COUNT(*) FROM {daemons} WHERE pid = {}", child.id());
    while count(&db, &registered).await < 1 {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("the daemon exited before registering ({status}):\n{text}");
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the daemon did not register");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let exit = child.wait().expect("exit");
    assert!(exit.success(), "a clean stop on SIGTERM: {exit}");

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
    let mut bodies: HashMap<&str, &str> = HashMap::new();
    for h in &hits {
        let body = bodies.entry(h.key.as_str()).or_insert(h.body.as_str());
        assert_eq!(*body, h.body.as_str(), "a redelivery repeats the same message under the same key");
    }
    assert_eq!(bodies.len(), RECIPIENTS as usize, "every recipient's message reached the receiver");
    let customers: std::collections::HashSet<String> = hits
        .iter()
        .filter_map(|h| {
            serde_json::from_str::<serde_json::Value>(&h.body).ok()?["customer"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(customers.len(), RECIPIENTS as usize);
    eprintln!(
        "{kills} kills (receiver had {sent_at_kill:?} requests at each); {} requests for {} messages: {} delivered again with their key",
        hits.len(),
        bodies.len(),
        hits.len() - bodies.len()
    );
    assert!(
        sent_at_kill.iter().any(|n| *n > 0 && *n < RECIPIENTS as usize),
        "some kill landed mid-campaign"
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
