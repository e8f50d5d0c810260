//! No phone number or email reaches the daemon's log, at any level:
//! `camp run` with `CAMP_LOG=trace`, customers whose phones and emails are
//! spelled every way people write them, a webhook that refuses (400) or
//! fails (500) with answers that quote the recipient, and events over HTTP
//! that carry phones and emails (in their type, properties and customer
//! key). Everything the daemon writes to standard error is then searched
//! for any of them unmasked. On SQLite and on PostgreSQL.

mod daemon;

use camp_runtime::db::CellsExt;
use camp_runtime::receiver::{Receiver, Reply};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use daemon::count;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CAMPAIGN: &str = r##"
campaign cart_ping {
  kind info
  channel push
  trigger on cart_add where price >= 10_000
  send cart_ping_note
}

message cart_ping_note {
  title "캠프샵"
  "#{고객명}님, 장바구니에 #{trigger.product.상품명}을 담으셨어요."
}
"##;

/// Noon in Seoul: no quiet hours apply.
const NOW: &str = "2026-11-23T03:00:00Z";

/// Phones as people write them: (spelling, the digits a mask must hide).
const PHONES: &[(&str, &str)] = &[
    ("010.2074.1182", "0102074"),
    ("010 - 2259 - 1637", "0102259"),
    ("+82 10-4321-8765", "82104321"),
    ("+82 (0)10 5813 2134", "820105813"),
    ("01093417720", "0109341"),
    ("010-6180-3398", "0106180"),
];

/// Emails as people write them: (spelling, its local part).
const EMAILS: &[(&str, &str)] = &[
    ("name@한국.kr", "name"),
    ("user@localhost", "user"),
    ("kim.minsu@example.com", "kim.minsu"),
    ("홍길동@회사.한국", "홍길동"),
    ("jiwoo.park+shop@example.co.kr", "jiwoo.park+shop"),
    ("lee_01@mail.example", "lee_01"),
];

/// What a provider answers to a bad request: the recipient, quoted, late
/// enough that a 200-character excerpt cuts through it.
const REFUSAL: &str = "{\"error\":\"invalid_recipient\",\"detail\":\"the recipient cannot take this message; \
    check the number and the address and try again later\",\"recipient\":{\"phone\":\"010 - 2259 - 1637\",\
    \"backup\":\"+82 (0)10 5813 2134\",\"email\":\"kim.minsu@example.com\",\"alt\":\"user@localhost\"}}";

async fn masked_logs(url: String, t: impl Fn(&str) -> String) {
    // Customer 1 quoted in a refusal; 2.. refused or failed with their own request echoed.
    let receiver = Receiver::start(|hit| {
        let customer = serde_json::from_str::<serde_json::Value>(&hit.body)
            .ok()
            .and_then(|p| p["customer"].as_str().and_then(|c| c.parse::<u32>().ok()))
            .unwrap_or(0);
        match customer % 3 {
            0 => Reply::Echo(500),
            1 => Reply::Body(400, REFUSAL),
            _ => Reply::Echo(400),
        }
    })
    .await
    .expect("receiver");
    let dir = tempfile::tempdir().expect("temp dir");
    daemon::workspace(
        dir.path(),
        "ping.camp",
        CAMPAIGN,
        &format!(
            "[workspace]\nname = \"logs\"\n\n[channels.push]\ntype = \"webhook\"\nurl = \"{}\"\ntimeout_ms = 5000\n",
            receiver.url
        ),
    );
    let db = Database::create(&url).await.expect("database");
    let analysis = daemon::analysis(dir.path(), "ping.camp");
    let schema = camp_compiler::program::Program::new(&analysis).expect("checks").schema;
    let spec = SampleSpec::new(20, camp_runtime::binds::parse_instant(NOW).expect("instant"));
    sample::generate(&db, &schema, &spec, |_| {}).await.expect("sample data");
    // Customers 1..=6 get the spellings.
    for (i, ((phone, _), (email, _))) in PHONES.iter().zip(EMAILS).enumerate() {
        db.execute(
            &format!("UPDATE customers SET phone = '{phone}', email = '{email}' WHERE id = {}", i + 1),
            &[],
        )
        .await
        .expect("update customer");
    }
    let product = db.rows("SELECT id FROM products ORDER BY id LIMIT 1", &[]).await.expect("product")[0]
        .int(0)
        .expect("a product");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let log = dir.path().join("daemon.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_camp"))
        .arg("run")
        .arg(dir.path())
        .args(["--database", &url, "--now", NOW, "--listen", &format!("127.0.0.1:{port}")])
        .env("CAMP_TICK_MS", "50")
        .env("CAMP_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log).expect("log file")))
        .spawn()
        .expect("camp run starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("client");
    let started = Instant::now();
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the daemon exited ({status}):\n{}", read_log());
        }
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the daemon did not come up:\n{}",
            read_log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Good events for customers 1..=9, and events that carry phones and emails.
    let mut events: Vec<serde_json::Value> = (1..=9)
        .map(|c| serde_json::json!({"type": "cart_add", "customer": c, "properties": {"product": product, "price": 15000}}))
        .collect();
    for (phone, _) in PHONES {
        events.push(serde_json::json!({"type": format!("call {phone}"), "customer": 1}));
        events.push(serde_json::json!({"type": "cart_add", "customer": phone, "properties": {"product": product, "price": 15000}}));
        events.push(serde_json::json!({"type": "cart_add", "customer": 2, "properties": {"product": phone, "price": phone}}));
    }
    for (email, _) in EMAILS {
        events.push(serde_json::json!({"type": "cart_add", "customer": email, "properties": {"product": product, "price": 15000}}));
        events.push(serde_json::json!({"type": email, "customer": email}));
        events
            .push(serde_json::json!({"type": "cart_add", "customer": 3, "properties": {"product": email, "price": email}, "time": email}));
    }
    for e in &events {
        let r = client
            .post(format!("{base}/v1/events"))
            .header("content-type", "application/json")
            .body(e.to_string())
            .send()
            .await
            .expect("the daemon answers");
        assert!(r.status().as_u16() < 500, "{e}: {}", r.status());
    }
    // Every send reached the webhook, and the refusals are dead letters.
    let d = t("dead_letters");
    let refused = format!("SELECT COUNT(*) FROM {d}");
    while receiver.hits().len() < 9 || count(&db, &refused).await < 6 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the daemon exited ({status}):\n{}", read_log());
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sends did not go out ({} requests):\n{}",
            receiver.hits().len(),
            read_log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let exit = child.wait().expect("exit");
    let text = read_log();
    assert!(exit.success(), "a clean stop on SIGTERM: {exit}\n{text}");

    // The paths that quote recipients did log.
    assert!(text.contains("delivery dead-lettered"), "{text}");
    assert!(text.contains("event quarantined"), "{text}");
    assert!(text.contains("TRACE") || text.contains("DEBUG"), "logs at every level");
    // The provider's answers did quote them (the receiver saw the phones in the payloads).
    let bodies: String = receiver.hits().iter().map(|h| h.body.clone()).collect();
    assert!(bodies.contains("010.2074.1182") && bodies.contains("name@한국.kr"));

    let mut leaks = Vec::new();
    for line in text.lines() {
        for (phone, digits) in PHONES {
            if line.contains(phone) || digit_runs(line).iter().any(|run| run.contains(digits)) {
                leaks.push(format!("phone {phone}: {line}"));
            }
        }
        for (email, local) in EMAILS {
            if line.contains(email) || line.contains(&format!("{local}@")) {
                leaks.push(format!("email {email}: {line}"));
            }
        }
        // Any address: something other than a mask right before an `@`.
        let chars: Vec<char> = line.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if *c == '@' && i > 0 && chars[i - 1].is_alphanumeric() && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric()) {
                leaks.push(format!("an address: {line}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{} log lines leak:\n{}", leaks.len(), leaks.join("\n"));
    let lines = text.lines().count();
    eprintln!("{lines} log lines at trace, none with a phone or an email");
}

/// The digits of each run of digits and phone separators in `line`
/// (a masked digit ends a run).
fn digit_runs(line: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut run = String::new();
    for c in line.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else if !" -.()+/".contains(c) && !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_phone_or_email_reaches_the_log_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("logs.db").display());
    masked_logs(url, |name| format!("camp_{name}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_phone_or_email_reaches_the_log_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("logs").await.expect("database");
    masked_logs(url, |name| format!("\"camp\".{name}")).await;
}
