//! Events at the door, on SQLite and PostgreSQL: every event, from
//! `POST /v1/events` and from the events tables alike, is checked against
//! the schema; an invalid one is quarantined with its reason and starts or
//! advances nothing, the others of its batch go on. HTTP answers each
//! event's fate by index, 200 once the body is read, 400 when nothing in
//! it is an event. Times that clients send without an offset are in the
//! policy's zone; stored times have no fraction.

mod support;

use camp_runtime::binds::BindValue;
use camp_runtime::channels::Recorder;
use camp_runtime::clock::{Clock, VirtualClock};
use camp_runtime::db::{Backend, CellsExt, Raw};
use camp_runtime::engine::Runner;
use camp_runtime::http::{router, AppState};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value as Json};
use std::sync::Arc;
use support::t;

/// Two reminders an hour apart after every cart, ended by a purchase,
/// which is also the goal.
const DOOR: &str = r##"
campaign door_cart {
  kind info
  channel lms
  trigger on cart_add
  exit when did purchase since trigger
  wait 1h
  send door_first
  wait 1h
  send door_second
  goal purchase within 1d
}

message door_first {
  subject "캠프샵"
  "#{고객명}님, 장바구니에 담은 상품을 확인해 보세요."
}

message door_second {
  subject "캠프샵"
  "#{고객명}님, 장바구니에 담은 상품이 아직 기다리고 있어요."
}
"##;

/// Noon in Seoul, with a fraction of a second as the system clock has one.
fn now() -> DateTime<Utc> {
    t("2026-11-23T03:00:00.972717749Z")
}

async fn sqlite() -> (Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    (Database::create(&url).await.expect("sqlite"), dir)
}

async fn shop(db: &Database) -> (camp_compiler::Analysis, Recorder, Arc<Runner>) {
    let analysis = support::workspace(&[("door.camp", DOOR)]);
    let spec = SampleSpec::new(40, t("2026-11-23T00:00:00Z"));
    sample::generate(db, &support::schema(&analysis), &spec, |_| {})
        .await
        .expect("sample data");
    let recorder = Recorder::default();
    let runner = support::runner(db, &analysis, &["door_cart"], now(), &recorder).await;
    (analysis, recorder, Arc::new(runner))
}

/// The HTTP side of `runner` on a free port, its clock at `now()`; its
/// base URL and its clock.
async fn serve(runner: Arc<Runner>) -> (String, VirtualClock) {
    let virtual_clock = VirtualClock::new(now());
    let clock: Arc<dyn Clock> = Arc::new(virtual_clock.clone());
    let app = router(AppState {
        runner,
        clock,
        wake: Arc::new(tokio::sync::Notify::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, virtual_clock)
}

async fn post(base: &str, body: impl Into<reqwest::Body>) -> (u16, Json) {
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/events"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("an answer");
    let status = r.status().as_u16();
    let text = r.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Json::String(text)))
}

async fn count(db: &Database, sql: &str) -> i64 {
    support::count(db, sql, &[]).await
}

/// The reasons in the quarantine, oldest first.
async fn reasons(db: &Database) -> Vec<String> {
    let q = support::table(db, "quarantine");
    db.rows(&format!("SELECT reason FROM {q} ORDER BY id"), &[])
        .await
        .expect("quarantine")
        .iter()
        .filter_map(|r| r.text(0))
        .collect()
}

/// A stored time cell as UTC text, exactly as held: SQLite's text, or
/// PostgreSQL's timestamptz with its microseconds.
fn stored(cell: Option<&Raw>) -> String {
    match cell {
        Some(Raw::Text(s)) => s.clone(),
        Some(Raw::Timestamp(t)) => t.format("%Y-%m-%d %H:%M:%S%.f").to_string(),
        other => format!("{other:?}"),
    }
}

/// Every rule, over HTTP: one batch with a good event of each kind and a
/// bad one per rule; each answered by its index.
async fn http_batch(db: Database) {
    let (_analysis, _recorder, runner) = shop(&db).await;
    let (base, _clock) = serve(runner.clone()).await;
    let long = "가".repeat(300);
    let batch = json!([
        {"type": "cart_add", "customer": 3, "properties": {"product": 1, "price": 15_000}},
        {"type": "cart_add", "customer": 4, "properties": {"product": 99_999, "price": 15_000}},
        {"type": "cart_add", "customer": 4, "properties": {"product": 1}},
        {"type": "cart_add", "customer": 4, "properties": {"product": 1, "price": "a lot"}},
        {"type": "page_view", "customer": 4, "properties": {"category": "cooking"}},
        {"type": "purchase", "customer": 4, "properties": {"order_id": long, "amount": 39_000}},
        {"type": "restock", "customer": 4, "properties": {"product": 1, "quantity": 12_000}},
        {"type": "cart_add", "customer": "abc", "properties": {"product": 1, "price": 15_000}},
        {"type": "cart_add", "customer": 4, "properties": {"product": "1\u{0}", "price": 15_000}},
        {"type": "cart\u{0}add", "customer": 4, "properties": {"product": 1, "price": 15_000}},
        {"type": "purchase", "customer": 5, "time": "2026-11-23 11:00", "properties": {"order_id": "A-1", "amount": 39_000}},
        {"type": "cart_add", "customer": 4, "properties": {"product": "abc", "price": 15_000}},
        {"type": "page_view", "customer": 6, "time": "2026-11-23T02:30:00Z", "properties": {"category": "beauty"}},
        {"type": "cart_add", "customer": 987_654_321, "properties": {"product": 1, "price": 15_000}},
        {"type": "app_open", "customer": 7, "time": "2026-11-23T11:30:00+09:00", "properties": {"platform": "ios"}},
        42,
        {"type": "app_open", "customer": 7, "time": "2026-11-23 12:10", "properties": {"platform": "ios"}},
    ]);
    let (status, reply) = post(&base, batch.to_string()).await;
    assert_eq!(status, 200, "the body was read: {reply}");
    let fates = reply["events"].as_array().expect("a fate per event");
    assert_eq!(fates.len(), 17, "{reply}");
    let expect: [(usize, &str); 17] = [
        (0, ""),
        (1, "property `product`: no product with key `99999`"),
        (2, "property `price` is required"),
        (3, "property `price` should be money"),
        (4, "property `category` should be one of fashion, beauty, food, living, digital"),
        (5, "property `order_id` is 300 characters long, more than its max of 20"),
        (6, "property `quantity` is 12000, beyond its max of 9999"),
        (7, "the customer key `abc` is not an integer"),
        (8, "property `product` holds the NUL character"),
        (9, "unknown event type `cart\\0add`"),
        (10, ""),
        (11, "property `product`: no product with key `abc`"),
        (12, ""),
        (13, "unknown customer"),
        (14, ""),
        (15, "an event must be a JSON object"),
        (16, "is in the future"),
    ];
    for ((index, reason), fate) in expect.iter().zip(fates) {
        assert_eq!(fate["index"], json!(index), "{fate}");
        if reason.is_empty() {
            assert_eq!(fate["status"], "accepted", "event {index}: {fate}");
        } else {
            assert_eq!(fate["status"], "quarantined", "event {index}: {fate}");
            let got = fate["reason"].as_str().unwrap_or_default();
            assert!(got.contains(reason), "event {index}: `{got}` should say `{reason}`");
        }
    }
    assert_eq!(reply["accepted"], 4, "{reply}");
    assert_eq!(reply["quarantined"].as_array().map(Vec::len), Some(13), "{reply}");
    assert_eq!(reasons(&db).await.len(), 13, "each quarantined with its reason");

    // What was stored: the good ones only, times to the second, and
    // without an offset in the policy's zone (Seoul).
    let times = |sql: &str| {
        let db = db.clone();
        let sql = sql.to_string();
        async move {
            db.rows(&sql, &[])
                .await
                .expect("stored events")
                .iter()
                .map(|r| stored(r.first()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        times("SELECT \"occurred_at\" FROM \"events\" WHERE \"id\" > (SELECT MAX(\"id\") - 3 FROM \"events\") ORDER BY \"id\"").await,
        ["2026-11-23 03:00:00", "2026-11-23 02:30:00", "2026-11-23 02:30:00"],
        "the cart at now without its fraction, the page view as given in UTC, the app open at 11:30 in Seoul"
    );
    assert_eq!(
        times("SELECT \"ordered_at\" FROM \"orders\" WHERE \"order_id\" = 'A-1'").await,
        ["2026-11-23 02:00:00"],
        "11:00 without an offset is 11:00 in Seoul"
    );
    let long_orders = count(&db, "SELECT COUNT(*) FROM \"orders\" WHERE LENGTH(\"order_id\") > 20").await;
    assert_eq!(long_orders, 0, "the 300-character order id never reached the shop's table");
    let cooking = count(
        &db,
        "SELECT COUNT(*) FROM \"events\" WHERE \"kind\" = 'page_view' AND CAST(\"properties\" AS TEXT) LIKE '%cooking%'",
    )
    .await;
    assert_eq!(cooking, 0, "an unknown enum value is not written into the shop's table");

    // The cursor takes the stored ones; only the good cart enrolls.
    let tick = runner.tick(now()).await.expect("tick");
    assert_eq!((tick.events, tick.quarantined, tick.enrolled), (4, 0, 1), "{tick:?}");

    // Bodies with no event at all: 400, and why.
    for body in ["hello", "42", "[1, \"two\"]", "{\"type\": "] {
        let (status, reply) = post(&base, body.to_string()).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert!(reply["error"].as_str().is_some(), "{body}: says why: {reply}");
        assert_eq!(reply["events"][0]["status"], "quarantined", "{reply}");
    }
    let (status, reply) = post(&base, "[]").await;
    assert_eq!((status, reply["accepted"].clone()), (200, json!(0)), "an empty batch: {reply}");
    // A raw NUL byte in a body that is not JSON is kept in the quarantine too.
    let (status, _) = post(&base, b"\0not json".to_vec()).await;
    assert_eq!(status, 400);

    // A row the database itself refuses (here by a rule of the shop's) is
    // quarantined with the database's reason; the rest of its batch is
    // stored, and the client is not told to retry.
    // The shop's table refuses one order id.
    match db.backend() {
        Backend::Sqlite => db
            .execute(
                "CREATE TRIGGER refuse_order BEFORE INSERT ON \"orders\" WHEN NEW.\"order_id\" = 'REFUSED' \
                 BEGIN SELECT RAISE(ABORT, 'order refused by the shop'); END",
                &[],
            )
            .await
            .expect("trigger"),
        Backend::Postgres => db
            .execute(
                "ALTER TABLE \"orders\" ADD CONSTRAINT refuse_order CHECK (\"order_id\" <> 'REFUSED')",
                &[],
            )
            .await
            .expect("constraint"),
    };
    let orders = json!([
        {"type": "purchase", "customer": 5, "properties": {"order_id": "REFUSED", "amount": 39_000}},
        {"type": "purchase", "customer": 5, "properties": {"order_id": "C-5", "amount": 39_000}},
    ]);
    let (status, reply) = post(&base, orders.to_string()).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["events"][0]["status"], "quarantined", "{reply}");
    let refused = reply["events"][0]["reason"].as_str().unwrap_or_default();
    assert!(refused.contains("the database refused the event"), "{refused}");
    assert_eq!(reply["events"][1]["status"], "accepted", "{reply}");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM \"orders\" WHERE \"order_id\" = 'C-5'").await, 1);
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_at_the_http_door_on_sqlite() {
    let (db, _dir) = sqlite().await;
    http_batch(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_at_the_http_door_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("door").await.expect("database");
    http_batch(Database::connect(&url).await.expect("postgres")).await;
}

/// Writes an event row into the shared events table as a shop would.
async fn insert(db: &Database, customer: BindValue, kind: &str, time: DateTime<Utc>, props: &str) {
    let d = db.dialect();
    let p = |n| d.placeholder(n);
    let props_ph = match db.backend() {
        Backend::Sqlite => p(4),
        Backend::Postgres => format!("{}::jsonb", p(4)),
    };
    db.execute(
        &format!(
            "INSERT INTO \"events\" (\"customer_id\", \"kind\", \"occurred_at\", \"properties\") VALUES ({}, {}, {}, {props_ph})",
            p(1),
            p(2),
            d.timestamp_param(&p(3))
        ),
        &[
            customer,
            BindValue::Text(kind.into()),
            BindValue::Timestamp(time),
            BindValue::Text(props.into()),
        ],
    )
    .await
    .expect("an event row");
}

/// The same rules for rows the shop writes into its own tables: the
/// cursor quarantines each bad row with its reason and takes the rest.
async fn cursor_batch(db: Database) {
    let (_analysis, _recorder, runner) = shop(&db).await;
    let at = now() - Duration::minutes(1);
    let n = BindValue::Int;
    insert(&db, n(3), "cart_add", at, r#"{"product": 1, "price": 15000}"#).await;
    insert(&db, n(4), "cart_add", at, r#"{"product": 1, "price": "a lot"}"#).await;
    insert(&db, n(4), "cart_add", at, r#"{"product": 99999, "price": 15000}"#).await;
    insert(&db, n(4), "cart_add", at, r#"{"product": 1}"#).await;
    insert(&db, n(4), "page_view", at, r#"{"category": "cooking"}"#).await;
    insert(&db, n(4), "restock", at, r#"{"product": 1, "quantity": 12000}"#).await;
    insert(&db, n(987_654_321), "cart_add", at, r#"{"product": 1, "price": 15000}"#).await;
    insert(&db, n(5), "coupon_issued", at, r#"{"coupon": 1}"#).await;
    let mut expected = vec![
        "property `price` should be money",
        "property `product`: no product with key `99999`",
        "property `price` is required",
        "property `category` should be one of",
        "property `quantity` is 12000, beyond its max of 9999",
        "unknown customer",
    ];
    if db.backend() == Backend::Sqlite {
        // SQLite keeps text in an integer column; PostgreSQL cannot.
        insert(
            &db,
            BindValue::Text("abc".into()),
            "cart_add",
            at,
            r#"{"product": 1, "price": 15000}"#,
        )
        .await;
        expected.push("the customer key `abc` is not an integer");
    }
    // A purchase with its own table and a 300-character order id.
    let d = db.dialect();
    db.execute(
        &format!(
            "INSERT INTO \"orders\" (\"customer_id\", \"ordered_at\", \"order_id\", \"amount\") VALUES ({}, {}, {}, {})",
            d.placeholder(1),
            d.timestamp_param(&d.placeholder(2)),
            d.placeholder(3),
            d.placeholder(4)
        ),
        &[n(4), BindValue::Timestamp(at), BindValue::Text("x".repeat(300)), n(39_000)],
    )
    .await
    .expect("an order row");
    expected.push("property `order_id` is 300 characters long, more than its max of 20");

    let tick = runner.tick(now()).await.expect("the daemon keeps going");
    assert_eq!(tick.events, 2, "the good cart and the coupon: {tick:?}");
    assert_eq!(tick.quarantined, expected.len() as u64, "{tick:?}");
    assert_eq!(tick.enrolled, 1, "only the good cart enrolls");
    let got = reasons(&db).await;
    for want in &expected {
        assert!(got.iter().any(|r| r.contains(want)), "`{want}` among {got:?}");
    }
    let e = support::table(&db, "enrollments");
    assert_eq!(
        count(&db, &format!("SELECT COUNT(*) FROM {e} WHERE customer <> '3'")).await,
        0,
        "a quarantined event never enrolls"
    );
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_at_the_table_door_on_sqlite() {
    let (db, _dir) = sqlite().await;
    cursor_batch(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_at_the_table_door_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("cursor").await.expect("database");
    cursor_batch(Database::connect(&url).await.expect("postgres")).await;
}

/// A quarantined purchase neither converts nor exits a running journey; a
/// good one does both.
async fn journeys(db: Database) {
    let (_analysis, recorder, runner) = shop(&db).await;
    let (base, clock) = serve(runner.clone()).await;
    let start = now();
    let carts = json!([
        {"type": "cart_add", "customer": 3, "properties": {"product": 1, "price": 15_000}},
        {"type": "cart_add", "customer": 4, "properties": {"product": 1, "price": 15_000}},
    ]);
    assert_eq!(post(&base, carts.to_string()).await.1["accepted"], 2);
    let first = start + Duration::hours(1);
    support::drive(&runner, start, first, vec![first]).await;
    assert_eq!(recorder.taken().len(), 2, "both first reminders went out");

    let buy = start + Duration::minutes(70);
    clock.set(buy);
    let orders = json!([
        {"type": "purchase", "customer": 3, "time": buy.to_rfc3339(), "properties": {"order_id": "가".repeat(21), "amount": 39_000}},
        {"type": "purchase", "customer": 4, "time": buy.to_rfc3339(), "properties": {"order_id": "B-4", "amount": 39_000}},
    ]);
    let (status, reply) = post(&base, orders.to_string()).await;
    assert_eq!(status, 200, "{reply}");
    let fates: Vec<&str> = reply["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["status"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fates, ["quarantined", "accepted"], "{reply}");
    support::drive(&runner, buy, start + Duration::hours(3), vec![buy]).await;

    let conversions = support::table(&db, "conversions");
    let converted = |c: &str| format!("SELECT COUNT(*) FROM {conversions} WHERE customer = '{c}'");
    assert_eq!(count(&db, &converted("3")).await, 0, "a quarantined purchase converts nothing");
    assert_eq!(count(&db, &converted("4")).await, 1, "a good purchase is the goal");
    let sent = camp_runtime::simulate::sends_of(&recorder);
    let second = |c: &str| sent.iter().filter(|s| s.customer == c && s.message == "door_second").count();
    assert_eq!(second("3"), 1, "a quarantined purchase does not exit the journey");
    assert_eq!(second("4"), 0, "a good purchase exits it");
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantined_events_advance_no_journey_on_sqlite() {
    let (db, _dir) = sqlite().await;
    journeys(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantined_events_advance_no_journey_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("journeys").await.expect("database");
    journeys(Database::connect(&url).await.expect("postgres")).await;
}
