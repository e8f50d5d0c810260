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

async fn http(url: String, t: impl Fn(&str) -> String) {
    let dir = tempfile::tempdir().expect("temp dir");
    daemon::workspace(
        dir.path(),
        "ping.camp",
        CAMPAIGN,
        "[workspace]\nname = \"http\"\n\n[channels.push]\ntype = \"file\"\npath = \"push.jsonl\"\n",
    );
    let db = Database::create(&url).await.expect("database");
    let analysis = daemon::analysis(dir.path(), "ping.camp");
    let schema = camp_compiler::program::Program::new(&analysis).expect("checks").schema;
    let spec = SampleSpec::new(50, camp_runtime::binds::parse_instant(NOW).expect("instant"));
    sample::generate(&db, &schema, &spec, |_| {}).await.expect("sample data");
    let product = db
        .rows("SELECT id, name FROM products ORDER BY id LIMIT 1", &[])
        .await
        .expect("a product");
    let (Some(product_id), Some(product_name)) = (product[0].int(0), product[0].text(1)) else {
        panic!("the sample data has products");
    };
    let customer = db
        .rows("SELECT id, name FROM customers ORDER BY id LIMIT 1", &[])
        .await
        .expect("a customer");
    let (Some(customer_id), Some(customer_name)) = (customer[0].int(0), customer[0].text(1)) else {
        panic!("the sample data has customers");
    };

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = dir.path().join("daemon.log");
    let log_file = std::fs::File::create(&log).expect("log file");
    let mut daemon = Daemon {
        child: Command::new(env!("CARGO_BIN_EXE_camp"))
            .arg("run")
            .arg(dir.path())
            .args(["--database", &url, "--now", NOW, "--listen", &format!("127.0.0.1:{port}")])
            .env("CAMP_TICK_MS", "50")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("camp run starts"),
        log,
    };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("client");

    // Up: /healthz answers.
    let started = Instant::now();
    loop {
        daemon.assert_running("before it listened");
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            assert_eq!(r.status().as_u16(), 200);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the daemon never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // What a broken client or a stranger may send: each refused with 400 and a reason.
    let events = format!("{base}/v1/events");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"hello".to_vec()),
        ("invalid UTF-8", vec![0xff, 0xfe, b'{', 0xc3]),
        ("a bare number", b"42".to_vec()),
        ("100,000 nested arrays", deep.into_bytes()),
        ("an unknown event type", br#"{"type":"teleport","customer":1}"#.to_vec()),
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
        assert_eq!(status, 400, "{what}: {text}");
        assert!(text.contains("reason") || text.contains("error"), "{what}: says why: {text}");
        daemon.assert_running(&format!("after {what}"));
    }
    let quarantine = t("quarantine");
    assert_eq!(
        count(&db, &format!("SELECT COUNT(*) FROM {quarantine}")).await,
        bad.len() as i64,
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
    assert_eq!(status, 202, "{text}");
    let reply: serde_json::Value = serde_json::from_str(&text).expect("a JSON reply");
    assert_eq!(reply["accepted"], 2, "{text}");

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
    assert!(metrics.contains("camp_events_quarantined_total 9"), "{metrics}");
    assert!(metrics.contains("camp_receipts_total 1"), "{metrics}");

    // A clean stop.
    let term = Command::new("kill")
        .args(["-TERM", &daemon.child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let exit = daemon.child.wait().expect("exit");
    assert!(exit.success(), "a clean stop on SIGTERM: {exit}\n{}", daemon.log());
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
