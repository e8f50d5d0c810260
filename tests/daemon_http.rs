//! `camp run --listen` as a user runs it: a child process with an HTTP side.
//! Whatever a client sends to `POST /v1/events` and `POST /v1/receipts`
//! gets a status and the daemon keeps going; a good event is stored,
//! enrolls, and its message lands on the `file` channel with the product's
//! name read from the database; a receipt marks the send delivered;
//! `/healthz` and `/metrics` answer; SIGTERM stops it cleanly. On SQLite
//! and on PostgreSQL.

mod daemon;

use camp_runtime::db::CellsExt;
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use daemon::count;
use std::path::Path;
use std::process::{Child, Command, Stdio};
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

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Daemon {
    child: Child,
    log: std::path::PathBuf,
}

impl Daemon {
    /// `camp run` on the workspace in `dir`, listening on a free port; the
    /// daemon and its base URL.
    fn spawn(dir: &Path, url: &str) -> (Daemon, String) {
        let port = free_port();
        let log = dir.join("daemon.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_camp"))
            .arg("run")
            .arg(dir)
            .args(["--database", url, "--now", NOW, "--listen", &format!("127.0.0.1:{port}")])
            .env("CAMP_TICK_MS", "50")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("camp run starts");
        (Daemon { child, log }, format!("http://127.0.0.1:{port}"))
    }

    /// Waits until `/healthz` answers with `status`.
    async fn wait_for_health(&mut self, client: &reqwest::Client, base: &str, status: u16) {
        let started = Instant::now();
        loop {
            self.assert_running(&format!("before /healthz said {status}"));
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
                if r.status().as_u16() == status {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "/healthz never said {status}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then a clean exit.
    fn stop(mut self) {
        let term = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(term.success());
        let exit = self.child.wait().expect("exit");
        assert!(exit.success(), "a clean stop on SIGTERM: {exit}\n{}", self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails the test with the daemon's log if it has exited.
    fn assert_running(&mut self, when: &str) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the daemon exited {when} ({status}):\n{}", self.log());
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("client")
}

async fn status_of(client: &reqwest::Client, url: &str, body: Vec<u8>) -> (u16, String) {
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the daemon answers");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}

/// The shop with 50 sample customers, the campaign in `dir`, and the first
/// product and customer.
struct Shop {
    db: Database,
    product_id: i64,
    product_name: String,
    customer_id: i64,
    customer_name: String,
}

impl Shop {
    async fn prepare(dir: &Path, url: &str) -> Shop {
        daemon::workspace(
            dir,
            "ping.camp",
            CAMPAIGN,
            "[workspace]\nname = \"http\"\n\n[channels.push]\ntype = \"file\"\npath = \"push.jsonl\"\n",
        );
        let db = Database::create(url).await.expect("database");
        let analysis = daemon::analysis(dir, "ping.camp");
        let schema = camp_compiler::program::Program::new(&analysis).expect("checks").schema;
        let spec = SampleSpec::new(50, camp_runtime::binds::parse_instant(NOW).expect("instant"));
        sample::generate(&db, &schema, &spec, |_| {}).await.expect("sample data");
        let first = |table: &str| {
            let db = db.clone();
            let sql = format!("SELECT id, name FROM {table} ORDER BY id LIMIT 1");
            async move {
                let rows = db.rows(&sql, &[]).await.expect(&sql);
                let (Some(id), Some(name)) = (rows[0].int(0), rows[0].text(1)) else {
                    panic!("the sample data has {sql}");
                };
                (id, name)
            }
        };
        let (product_id, product_name) = first("products").await;
        let (customer_id, customer_name) = first("customers").await;
        Shop {
            db,
            product_id,
            product_name,
            customer_id,
            customer_name,
        }
    }

    /// A cart event that triggers the campaign.
    fn cart_event(&self) -> Vec<u8> {
        format!(
            r#"{{"type":"cart_add","customer":{},"properties":{{"product":{},"price":15000}}}}"#,
            self.customer_id, self.product_id
        )
        .into_bytes()
    }
}

async fn http(url: String, t: impl Fn(&str) -> String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let Shop {
        db,
        product_id,
        product_name,
        customer_id,
        customer_name,
    } = Shop::prepare(dir.path(), &url).await;

    let (mut daemon, base) = Daemon::spawn(dir.path(), &url);
    let client = client();
    let started = Instant::now();
    daemon.wait_for_health(&client, &base, 200).await;

    // What a broken client or a stranger may send. A body with no event
    // in it: 400 and why.
    let events = format!("{base}/v1/events");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let not_events: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"hello".to_vec()),
        ("invalid UTF-8", vec![0xff, 0xfe, b'{', 0xc3]),
        ("a bare number", b"42".to_vec()),
        ("100,000 nested arrays", deep.into_bytes()),
    ];
    for (what, body) in &not_events {
        let (status, text) = status_of(&client, &events, body.clone()).await;
        assert_eq!(status, 400, "{what}: {text}");
        assert!(text.contains("error"), "{what}: says why: {text}");
        daemon.assert_running(&format!("after {what}"));
    }
    // Events that fail the door: 200 (the body was read), each event's
    // fate and reason by index; a client does not retry them.
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("an unknown event type", br#"{"type":"teleport","customer":1}"#.to_vec()),
        ("a NUL in the type", br#"{"type":"cart\u0000add","customer":1}"#.to_vec()),
        (
            "a NUL in a property",
            format!(r#"{{"type":"cart_add","customer":{customer_id},"properties":{{"product":"1\u0000","price":15000}}}}"#).into_bytes(),
        ),
        (
            "a customer key that is not an integer",
            format!(r#"{{"type":"cart_add","customer":"abc","properties":{{"product":{product_id},"price":15000}}}}"#).into_bytes(),
        ),
        (
            "an unknown customer",
            format!(r#"{{"type":"cart_add","customer":987654321,"properties":{{"product":{product_id},"price":15000}}}}"#).into_bytes(),
        ),
        (
            "a property of the wrong type",
            format!(r#"{{"type":"cart_add","customer":{customer_id},"properties":{{"product":{product_id},"price":"a lot"}}}}"#)
                .into_bytes(),
        ),
        (
            "properties that are not an object",
            br#"{"type":"cart_add","customer":1,"properties":[1]}"#.to_vec(),
        ),
        (
            "a time that is not a time",
            br#"{"type":"cart_add","customer":1,"time":"yesterday"}"#.to_vec(),
        ),
    ];
    for (what, body) in &bad {
        let (status, text) = status_of(&client, &events, body.clone()).await;
        assert_eq!(status, 200, "{what}: {text}");
        let reply: serde_json::Value = serde_json::from_str(&text).expect("a JSON reply");
        assert_eq!(reply["events"][0]["index"], 0, "{what}: {text}");
        assert_eq!(reply["events"][0]["status"], "quarantined", "{what}: {text}");
        assert!(reply["events"][0]["reason"].is_string(), "{what}: says why: {text}");
        daemon.assert_running(&format!("after {what}"));
    }
    let quarantine = t("quarantine");
    assert_eq!(
        count(&db, &format!("SELECT COUNT(*) FROM {quarantine}")).await,
        (not_events.len() + bad.len()) as i64,
        "every bad event is quarantined with its reason"
    );
    let receipts = format!("{base}/v1/receipts");
    for body in [
        &b"[]{"[..],
        br#"{"id":"camp-1-0-0"}"#,
        br#"{"id":"camp-999-0-0","status":"delivered"}"#,
    ] {
        let (status, text) = status_of(&client, &receipts, body.to_vec()).await;
        assert_eq!(status, 400, "receipt {}: {text}", String::from_utf8_lossy(body));
    }
    daemon.assert_running("after bad receipts");

    // A good event, and one below the trigger's price filter.
    let good = format!(
        r#"[{{"type":"cart_add","customer":{customer_id},"properties":{{"product":{product_id},"price":15000}}}},
            {{"type":"cart_add","customer":"{customer_id}","properties":{{"product":{product_id},"price":5000}}}}]"#
    );
    let (status, text) = status_of(&client, &events, good.into_bytes()).await;
    assert_eq!(status, 200, "{text}");
    let reply: serde_json::Value = serde_json::from_str(&text).expect("a JSON reply");
    assert_eq!(reply["accepted"], 2, "{text}");
    assert_eq!(
        reply["events"],
        serde_json::json!([{"index": 0, "status": "accepted"}, {"index": 1, "status": "accepted"}]),
        "{text}"
    );

    // The message lands on the file channel.
    let out = dir.path().join("push.jsonl");
    let line = loop {
        daemon.assert_running("before sending");
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if let Some(line) = text.lines().next() {
            break line.to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(120), "nothing was sent:\n{}", daemon.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let sent: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(sent["campaign"], "cart_ping");
    assert_eq!(sent["customer"], customer_id.to_string());
    assert_eq!(sent["body"], format!("{customer_name}님, 장바구니에 {product_name}을 담으셨어요."));
    let key = sent["id"].as_str().expect("an idempotency key").to_string();

    // Its receipt.
    let (status, text) = status_of(&client, &receipts, format!(r#"{{"id":"{key}","status":"delivered"}}"#).into_bytes()).await;
    assert_eq!(status, 200, "{text}");
    let ledger = t("ledger");
    let delivered = format!("SELECT COUNT(*) FROM {ledger} WHERE idempotency_key = '{key}' AND status = 'delivered'");
    while count(&db, &delivered).await != 1 {
        daemon.assert_running("before the receipt was applied");
        assert!(started.elapsed() < Duration::from_secs(120), "the receipt was not applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        count(&db, &format!("SELECT COUNT(*) FROM {ledger}")).await,
        1,
        "one send: the 5,000 won cart is below the trigger's filter"
    );

    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    assert!(metrics.contains("camp_events_quarantined_total 12"), "{metrics}");
    assert!(metrics.contains("camp_receipts_total 1"), "{metrics}");

    // A clean stop.
    daemon.stop();
    let daemons = t("daemons");
    assert_eq!(
        count(&db, &format!("SELECT COUNT(*) FROM {daemons}")).await,
        0,
        "the daemon's registration is released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_side_survives_bad_input_and_sends_on_good_events_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("http.db").display());
    http(url, |name| format!("camp_{name}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_side_survives_bad_input_and_sends_on_good_events_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("http").await.expect("database");
    http(url, |name| format!("\"camp\".{name}")).await;
}

/// The database goes away under a running daemon: it keeps running, says
/// so on `/healthz` and refuses events with 503 (the client retries); once
/// the server is back it is healthy again and sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_rides_out_a_postgres_outage() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("outage").await.expect("database");
    let dir = tempfile::tempdir().expect("temp dir");
    let shop = Shop::prepare(dir.path(), &url).await;
    let (mut daemon, base) = Daemon::spawn(dir.path(), &url);
    let client = client();
    daemon.wait_for_health(&client, &base, 200).await;

    server.halt().expect("PostgreSQL stops");
    daemon.wait_for_health(&client, &base, 503).await;
    let events = format!("{base}/v1/events");
    let (status, text) = status_of(&client, &events, shop.cart_event()).await;
    assert_eq!(status, 503, "an event that cannot be stored is refused, not lost: {text}");
    // Several failed ticks later, still there.
    tokio::time::sleep(Duration::from_secs(2)).await;
    daemon.assert_running("during the outage");

    server.resume().expect("PostgreSQL starts again");
    daemon.wait_for_health(&client, &base, 200).await;
    let (status, text) = status_of(&client, &events, shop.cart_event()).await;
    assert_eq!(status, 200, "{text}");
    let out = dir.path().join("push.jsonl");
    let started = Instant::now();
    while std::fs::read_to_string(&out).unwrap_or_default().lines().count() < 1 {
        daemon.assert_running("after the outage");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing was sent after the outage:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line = std::fs::read_to_string(&out).unwrap_or_default();
    let sent: serde_json::Value = serde_json::from_str(line.lines().next().unwrap_or_default()).expect("a JSON line");
    assert_eq!(
        sent["body"],
        format!("{}님, 장바구니에 {}을 담으셨어요.", shop.customer_name, shop.product_name)
    );
    daemon.stop();
    drop(shop);
}
