//! Fallback and reach (DESIGN §3.3), on SQLite and PostgreSQL: a channel
//! without receipts (file, stdout, a webhook without `receipts = true`)
//! counts a write as delivered and never falls back; a channel with
//! receipts falls back when no `delivered` comes within the delay, at once
//! on a refusal or a `failed` receipt; a customer the channel cannot reach
//! (no phone) gets nothing on it, the record says why, caps are not
//! consumed, and the chain moves on at once to a channel that can.

mod support;

use camp_runtime::channels::{ChannelConfig, ChannelSet, Recorder};
use camp_runtime::engine::outbox::{self, Receipt};
use camp_runtime::engine::{Options, Runner};
use camp_runtime::receiver::{Receiver, Reply};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use support::t;

async fn sqlite() -> (Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    (Database::create(&url).await.expect("sqlite"), dir)
}

async fn postgres(server: &TestPostgres, name: &str) -> Database {
    let url = server.create_database(name).await.expect("database");
    Database::connect(&url).await.expect("postgres")
}

async fn fill(db: &Database, analysis: &camp_compiler::Analysis, customers: u64) {
    let spec = SampleSpec::new(customers, t("2026-11-23T00:00:00Z"));
    sample::generate(db, &support::schema(analysis), &spec, |_| {})
        .await
        .expect("sample data");
}

/// Parsed JSON lines of a file channel.
fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn customer_of(payload: &Value) -> String {
    payload["customer"].as_str().unwrap_or_default().to_string()
}

// ---------------------------------------------------------------- file

/// Kakao first, LMS a day later: on file channels every write is a
/// delivery, so nobody gets the LMS.
const FILED: &str = r##"
campaign filed_notice {
  kind info
  channel brand fallback lms after 24h
  trigger at 2026-11-23 12:00
  audience customer.id <= 12
  send filed_note
}

message filed_note {
  "#{고객명}님, 주문하신 상품이 오늘 출발해요."
}
"##;

async fn file_channels(db: Database, url: &str) {
    let analysis = support::workspace(&[("filed.camp", FILED)]);
    fill(&db, &analysis, 40).await;
    let out = tempfile::tempdir().expect("temp dir");
    let kakao = out.path().join("kakao.jsonl");
    let lms = out.path().join("lms.jsonl");
    let mut configs = BTreeMap::new();
    for (name, path) in [("brand", &kakao), ("lms", &lms)] {
        configs.insert(
            name.to_string(),
            ChannelConfig {
                kind: "file".into(),
                path: Some(path.display().to_string()),
                ..ChannelConfig::default()
            },
        );
    }
    let channels = ChannelSet::from_config(&configs).expect("file channels");
    let start = t("2026-11-23T01:00:00Z");
    let runner = support::runner_with(&db, &analysis, &["filed_notice"], start, channels, Options::default()).await;
    let mut sent = 0;
    let mut delivered = 0;
    let mut now = start;
    // Three days, tick by tick, as `camp run` would.
    while now <= start + Duration::days(3) {
        let tick = runner.tick(now).await.expect("tick");
        sent += tick.sends;
        delivered += tick.delivered;
        now = match runner.next_due(now).await.expect("next due") {
            Some(n) => n,
            None => now + Duration::hours(6),
        };
    }
    runner.stop().await.expect("stop");

    let written = lines(&kakao);
    assert_eq!(written.len(), 12, "one Kakao message per customer");
    let mut customers: Vec<String> = written.iter().map(customer_of).collect();
    customers.sort();
    customers.dedup();
    assert_eq!(customers.len(), 12, "each customer once");
    assert!(lines(&lms).is_empty(), "no LMS after a delivered Kakao message: {:?}", lines(&lms));
    assert_eq!((sent, delivered), (12, 12), "the ticks say what was written");

    let l = support::table(&db, "ledger");
    let count = |sql: String| {
        let db = db.clone();
        async move { support::count(&db, &sql, &[]).await }
    };
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM {l} WHERE status = 'delivered' AND delivered_ms IS NOT NULL"
        ))
        .await,
        12
    );
    assert_eq!(count(format!("SELECT COUNT(*) FROM {l} WHERE fallback_ms IS NOT NULL")).await, 0);
    assert_eq!(count(format!("SELECT COUNT(*) FROM {l} WHERE attempt > 0")).await, 0);

    // `camp report` reads the same.
    let report = camp_runtime::report::report(&runner.store, "filed_notice").await.expect("report");
    let sum = |f: fn(&camp_runtime::report::Arm) -> i64| report.arms.iter().map(f).sum::<i64>();
    assert_eq!(sum(|a| a.sends), 12);
    assert_eq!(sum(|a| a.delivered), written.len() as i64, "delivered is what was written");
    assert_eq!(report.fallbacks, 0);

    // `camp simulate` over the same days: the same twelve, Kakao only.
    camp_compiler::program::Program::new(&analysis).expect("program");
    let sim = camp_runtime::simulate::simulate(
        url,
        support::deployment(&analysis, &["filed_notice"]),
        start,
        start + Duration::days(3),
        |_, _| {},
    )
    .await
    .expect("simulate");
    assert_eq!(sim.sends.len(), 12);
    assert!(sim.sends.iter().all(|s| s.channel == "brand"), "{:?}", sim.sends);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_channels_deliver_once_and_never_fall_back_on_sqlite() {
    let (db, dir) = sqlite().await;
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    file_channels(db, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_channels_deliver_once_and_never_fall_back_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("filed").await.expect("database");
    file_channels(Database::connect(&url).await.expect("postgres"), &url).await;
}

// ---------------------------------------------------------------- receipts

/// Kakao (a webhook whose provider posts receipts) falls back to LMS after
/// an hour; SMS (a webhook without receipts) would fall back to LMS too.
const RECEIPTS: &str = r##"
campaign kakao_first {
  kind info
  channel brand fallback lms after 1h
  trigger on app_open
  send receipt_note
}

campaign sms_first {
  kind info
  channel sms fallback lms after 1h
  trigger on page_view
  send receipt_note
}

message receipt_note {
  "#{고객명}님, 주문하신 상품이 오늘 출발해요."
}
"##;

fn webhook(url: &str, receipts: bool) -> Arc<camp_runtime::channels::webhook::Webhook> {
    Arc::new(
        camp_runtime::channels::webhook::Webhook::new(camp_runtime::channels::webhook::WebhookConfig {
            name: "hook".into(),
            url: url.to_string(),
            secret: None,
            rate_per_second: None,
            timeout: std::time::Duration::from_secs(5),
            max_in_flight: 4,
            receipts,
        })
        .expect("a webhook"),
    )
}

/// The instant a payload was made.
fn created(payload: &str) -> DateTime<Utc> {
    let p: Value = serde_json::from_str(payload).expect("JSON payload");
    t(p["created_at"].as_str().expect("created_at"))
}

async fn receipts(db: Database) {
    let analysis = support::workspace(&[("receipts.camp", RECEIPTS)]);
    fill(&db, &analysis, 30).await;
    // Kakao refuses customer 3 (4xx) and takes the others; SMS takes all.
    let kakao = Receiver::start(|hit| {
        if hit.body.contains("\"customer\":\"3\"") {
            Reply::Status(400)
        } else {
            Reply::Status(200)
        }
    })
    .await
    .expect("receiver");
    let sms = Receiver::start(|_| Reply::Status(200)).await.expect("receiver");
    let lms = Recorder::default();
    let mut channels = ChannelSet::new();
    channels.insert("brand", webhook(&kakao.url, true));
    channels.insert("sms", webhook(&sms.url, false));
    channels.insert("lms", Arc::new(lms.clone()));
    let start = t("2026-11-23T01:00:00Z");
    let runner = support::runner_with(&db, &analysis, &["kakao_first", "sms_first"], start, channels, Options::default()).await;
    // Kakao to 1..4; SMS to 5 and 6.
    let mut events: Vec<Value> = (1..=4)
        .map(|c| json!({"type": "app_open", "customer": c, "time": start.to_rfc3339(), "properties": {"platform": "ios"}}))
        .collect();
    events.extend(
        (5..=6).map(|c| json!({"type": "page_view", "customer": c, "time": start.to_rfc3339(), "properties": {"category": "food"}})),
    );
    assert_eq!(support::post(&runner, start, json!(events)).await.accepted, 6);
    runner.tick(start).await.expect("tick");

    let key_of = |c: &str| {
        kakao
            .hits()
            .iter()
            .find(|h| h.body.contains(&format!("\"customer\":\"{c}\"")))
            .map(|h| h.key.clone())
            .expect("a Kakao request")
    };
    let lms_to = |c: &str| -> Vec<DateTime<Utc>> {
        lms.taken()
            .iter()
            .filter(|r| r.payload.contains(&format!("\"customer\":\"{c}\"")))
            .map(|r| created(&r.payload))
            .collect()
    };
    // A refusal falls back at once, in the same tick.
    assert_eq!(lms_to("3"), vec![start], "a 4xx falls back at once");
    assert!(lms_to("1").is_empty() && lms_to("2").is_empty() && lms_to("4").is_empty());

    // 1 is delivered; 2 is reported failed five minutes in; 4 hears nothing.
    let at = start + Duration::minutes(5);
    assert!(outbox::receipt(&runner, at, &key_of("1"), Receipt::Delivered, None)
        .await
        .expect("receipt"));
    assert!(outbox::receipt(&runner, at, &key_of("2"), Receipt::Failed, None)
        .await
        .expect("receipt"));
    support::drive(&runner, at, start + Duration::hours(4), vec![]).await;

    assert!(lms_to("1").is_empty(), "a delivered Kakao message has no fallback");
    assert_eq!(lms_to("2"), vec![at], "a failed receipt falls back at once");
    assert_eq!(lms_to("3").len(), 1, "one fallback per refusal");
    assert_eq!(
        lms_to("4"),
        vec![start + Duration::hours(1)],
        "no delivered within 1h: the LMS goes"
    );
    assert!(
        lms_to("5").is_empty() && lms_to("6").is_empty(),
        "a webhook without receipts counts its 2xx as delivered"
    );
    assert_eq!(sms.hits().len(), 2);

    let l = support::table(&db, "ledger");
    let status = |c: &str, channel: &str| {
        let db = db.clone();
        let sql = format!("SELECT status FROM {l} WHERE customer = '{c}' AND channel = '{channel}'");
        async move {
            db.rows(&sql, &[])
                .await
                .expect("status")
                .first()
                .and_then(|r| r.first().cloned())
                .and_then(|v| match v {
                    camp_runtime::db::Raw::Text(s) => Some(s),
                    _ => None,
                })
        }
    };
    assert_eq!(status("1", "brand").await.as_deref(), Some("delivered"));
    assert_eq!(status("2", "brand").await.as_deref(), Some("failed"));
    assert_eq!(status("3", "brand").await.as_deref(), Some("dead"));
    assert_eq!(status("4", "brand").await.as_deref(), Some("sent"));
    assert_eq!(status("5", "sms").await.as_deref(), Some("delivered"));
    // A late `delivered` for 4 does not bring a second fallback.
    let late = start + Duration::hours(5);
    assert!(outbox::receipt(&runner, late, &key_of("4"), Receipt::Delivered, None)
        .await
        .expect("receipt"));
    runner.tick(late).await.expect("tick");
    assert_eq!(lms.taken().len(), 3, "LMS to 2, 3 and 4 only");

    let report = camp_runtime::report::report(&runner.store, "kakao_first").await.expect("report");
    let arm = &report.arms[0];
    assert_eq!((arm.sends, arm.delivered, arm.failed), (4, 4, 0), "{report:?}");
    assert_eq!(report.fallbacks, 3);
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receipts_decide_the_fallback_on_sqlite() {
    let (db, _dir) = sqlite().await;
    receipts(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receipts_decide_the_fallback_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    receipts(postgres(&server, "receipts").await).await;
}

// ---------------------------------------------------------------- reach

/// A shop whose customers may lack a phone or an email; the policy allows
/// one SMS a day across campaigns.
const SHOP: &str = r##"
schema {
  customer from "customers" key id {
    id: id
    name: text(max 20) as 고객명
    phone: phone?
    email: email?
    marketing_consent: consent
    timezone: tz = "Asia/Seoul"
  }
  events from "events" customer customer_id type kind time occurred_at props properties
  event app_open { platform: enum(ios, android) }
  event page_view { category: enum(fashion, food) }
}

policy {
  timezone "Asia/Seoul"
  sender "캠프샵 02-1234-5678"
  optout "무료수신거부 080-123-4567"
  cap 1 per 24h for channel sms
}
"##;

/// One workspace of `texts`, checked clean.
fn own(texts: &[&str]) -> camp_compiler::Analysis {
    let mut ws = camp_compiler::Workspace::new();
    for (i, text) in texts.iter().enumerate() {
        ws.add(format!("shop{i}.camp"), camp_compiler::Input::Text(text.to_string()));
    }
    let analysis = camp_compiler::analyze(&ws);
    let errors: Vec<String> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    analysis
}

/// An SMS that falls back to email a day later; a second SMS campaign
/// with a cap of its own.
const REACH: &str = r##"
campaign reach_first {
  kind info
  channel sms fallback email after 24h
  trigger on app_open
  send reach_note
}

campaign reach_second {
  kind info
  channel sms
  trigger on page_view
  cap 1 per 24h
  send reach_note
}

message reach_note {
  "#{고객명}님, 주문하신 상품이 오늘 출발해요."
}
"##;

async fn reach(db: Database) {
    let analysis = own(&[SHOP, REACH]);
    fill(&db, &analysis, 30).await;
    // 1: no phone, an email. 2: a blank phone, no email. 3: both.
    for sql in [
        "UPDATE \"customers\" SET \"phone\" = NULL, \"email\" = 'one@example.co.kr' WHERE \"id\" = 1",
        "UPDATE \"customers\" SET \"phone\" = '', \"email\" = NULL WHERE \"id\" = 2",
        "UPDATE \"customers\" SET \"phone\" = '010-3333-3333', \"email\" = 'three@example.co.kr' WHERE \"id\" = 3",
    ] {
        db.execute(sql, &[]).await.expect("update");
    }
    let recorder = Recorder::default();
    let start = t("2026-11-23T01:00:00Z");
    let channels = ChannelSet::all(Arc::new(recorder.clone()));
    let runner = Runner::start(
        db.clone(),
        support::deployment(&analysis, &["reach_first", "reach_second"]),
        channels,
        Options::default(),
        start,
    )
    .await
    .expect("runner");
    let events: Vec<Value> = (1..=3)
        .map(|c| json!({"type": "app_open", "customer": c, "time": start.to_rfc3339(), "properties": {"platform": "ios"}}))
        .collect();
    assert_eq!(support::post(&runner, start, json!(events)).await.accepted, 3);
    runner.tick(start).await.expect("tick");

    let sent = camp_runtime::simulate::sends_of(&recorder);
    let to = |c: &str| {
        sent.iter()
            .filter(|s| s.customer == c)
            .map(|s| s.channel.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(to("1"), vec!["email"], "no phone: the email goes at once");
    assert_eq!(
        sent.iter().find(|s| s.customer == "1").map(|s| s.at),
        Some(start),
        "without waiting a day"
    );
    assert!(to("2").is_empty(), "no channel reaches 2: no payload");
    assert_eq!(to("3"), vec!["sms"]);
    for r in recorder.taken() {
        let p: Value = serde_json::from_str(&r.payload).expect("JSON");
        match r.channel.as_str() {
            "sms" => assert!(p["to"]["phone"].as_str().is_some_and(|s| !s.is_empty()), "{p}"),
            "email" => assert_eq!(p["to"]["email"], "one@example.co.kr", "{p}"),
            other => panic!("sent on {other}"),
        }
    }

    let l = support::table(&db, "ledger");
    let e = support::table(&db, "enrollments");
    let reasons = |c: &str| {
        let db = db.clone();
        let sql = format!("SELECT channel, status, COALESCE(reason, '') FROM {l} WHERE customer = '{c}' ORDER BY attempt");
        async move {
            db.rows(&sql, &[])
                .await
                .expect("rows")
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(|v| match v {
                            camp_runtime::db::Raw::Text(s) => s,
                            other => format!("{other:?}"),
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        reasons("1").await,
        vec!["sms suppressed no contact for sms", "email delivered "],
        "the record says why the SMS did not go"
    );
    assert_eq!(
        reasons("2").await,
        vec!["sms suppressed no contact for sms", "email suppressed no contact for email"]
    );
    assert_eq!(
        support::count(&db, &format!("SELECT COUNT(*) FROM {e} WHERE state = 'done'"), &[]).await,
        3,
        "every journey goes on to its end"
    );

    // 2 gives a number an hour later: the second campaign's SMS goes, as
    // neither the policy's one SMS a day nor its own cap was used by the
    // send that had no number. 3 already had today's SMS.
    let later = start + Duration::hours(1);
    db.execute("UPDATE \"customers\" SET \"phone\" = '010-2222-2222' WHERE \"id\" = 2", &[])
        .await
        .expect("update");
    let views: Vec<Value> = [2, 3]
        .iter()
        .map(|c| json!({"type": "page_view", "customer": c, "time": later.to_rfc3339(), "properties": {"category": "food"}}))
        .collect();
    assert_eq!(support::post(&runner, later, json!(views)).await.accepted, 2);
    support::drive(&runner, later, start + Duration::days(2), vec![]).await;
    let sent = camp_runtime::simulate::sends_of(&recorder);
    let second = |c: &str| sent.iter().filter(|s| s.customer == c && s.campaign == "reach_second").count();
    assert_eq!(second("2"), 1, "the cap was not consumed by the send with no contact");
    assert_eq!(second("3"), 0, "3 is capped: one SMS a day");
    assert_eq!(
        support::count(
            &db,
            &format!("SELECT COUNT(*) FROM {l} WHERE customer = '3' AND reason = 'frequency cap'"),
            &[]
        )
        .await,
        1
    );
    // No second email to 1 a day later: the email was the fallback, sent.
    assert_eq!(sent.iter().filter(|s| s.customer == "1").count(), 1);

    let report = camp_runtime::report::report(&runner.store, "reach_first").await.expect("report");
    let arm = &report.arms[0];
    assert_eq!((arm.sends, arm.delivered), (2, 2), "{report:?}");
    assert!(report.suppressed.contains(&("no contact for sms".to_string(), 2)), "{report:?}");
    assert!(report.suppressed.contains(&("no contact for email".to_string(), 1)), "{report:?}");
    let text = camp_runtime::report::render(&report);
    assert!(text.contains("not sent (no contact for sms): 2"), "{text}");
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_without_a_phone_is_not_sent_to_on_sqlite() {
    let (db, _dir) = sqlite().await;
    reach(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_without_a_phone_is_not_sent_to_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    reach(postgres(&server, "reach").await).await;
}

/// A schema line `contact FIELD for channel C` decides the address.
const OVERRIDE_SCHEMA: &str = r##"
schema {
  customer from "customers" key id {
    id: id
    name: text(max 20) as 고객명
    phone: phone?
    office: phone?
    marketing_consent: consent
    timezone: tz = "Asia/Seoul"
    contact office for channel lms
  }
  events from "events" customer customer_id type kind time occurred_at props properties
  event app_open { platform: enum(ios, android) }
}

policy {
  timezone "Asia/Seoul"
  sender "캠프샵 02-1234-5678"
  optout "무료수신거부 080-123-4567"
}

campaign office_hours {
  kind info
  channel lms fallback sms after 1h
  trigger on app_open
  send office_note
}

message office_note {
  "#{고객명}님, 주문하신 상품이 오늘 출발해요."
}
"##;

async fn contact_line(db: Database) {
    let analysis = own(&[OVERRIDE_SCHEMA]);
    fill(&db, &analysis, 10).await;
    // 1: an office number; 2: none, only a phone.
    db.execute(
        "UPDATE \"customers\" SET \"office\" = '02-111-1111', \"phone\" = '010-1111-1111' WHERE \"id\" = 1",
        &[],
    )
    .await
    .expect("update");
    db.execute(
        "UPDATE \"customers\" SET \"office\" = NULL, \"phone\" = '010-2222-2222' WHERE \"id\" = 2",
        &[],
    )
    .await
    .expect("update");
    let recorder = Recorder::default();
    let start = t("2026-11-23T01:00:00Z");
    let runner = Runner::start(
        db.clone(),
        support::deployment(&analysis, &["office_hours"]),
        ChannelSet::all(Arc::new(recorder.clone())),
        Options::default(),
        start,
    )
    .await
    .expect("runner");
    let events: Vec<Value> = (1..=2)
        .map(|c| json!({"type": "app_open", "customer": c, "time": start.to_rfc3339(), "properties": {"platform": "ios"}}))
        .collect();
    assert_eq!(support::post(&runner, start, json!(events)).await.accepted, 2);
    runner.tick(start).await.expect("tick");
    let taken = recorder.taken();
    let of = |c: &str| -> Vec<(String, Value)> {
        taken
            .iter()
            .filter(|r| r.payload.contains(&format!("\"customer\":\"{c}\"")))
            .map(|r| (r.channel.clone(), serde_json::from_str::<Value>(&r.payload).expect("JSON")))
            .collect()
    };
    let one = of("1");
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].0, "lms");
    assert_eq!(one[0].1["to"]["phone"], "02-111-1111", "LMS reads the office number");
    let two = of("2");
    assert_eq!(two.len(), 1);
    assert_eq!(two[0].0, "sms", "no office number: on to SMS at once");
    assert_eq!(two[0].1["to"]["phone"], "010-2222-2222", "SMS reads the phone");
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_line_picks_the_field_on_sqlite() {
    let (db, _dir) = sqlite().await;
    contact_line(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_line_picks_the_field_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    contact_line(postgres(&server, "contact").await).await;
}

// ---------------------------------------------------------------- upgrade

/// A store from before migration 0003, with a Kakao send waiting for its
/// receipt (its fallback timer running): after the upgrade the LMS still
/// goes out at the timer, once.
async fn upgrade(db: Database) {
    let analysis = support::workspace(&[("receipts.camp", RECEIPTS)]);
    fill(&db, &analysis, 10).await;
    let waiting = Recorder::new(|_| camp_runtime::channels::Outcome::Sent);
    let start = t("2026-11-23T01:00:00Z");
    let runner = support::runner(&db, &analysis, &["kakao_first"], start, &waiting).await;
    let event = json!({"type": "app_open", "customer": 4, "time": start.to_rfc3339(), "properties": {"platform": "ios"}});
    assert_eq!(support::post(&runner, start, event).await.accepted, 1);
    runner.tick(start).await.expect("tick");
    runner.stop().await.expect("stop");
    drop(runner);

    // Back to the store as 0001 left it: no new columns, the timer set at
    // the send.
    let l = support::table(&db, "ledger");
    let m = support::table(&db, "migrations");
    for sql in [
        format!("ALTER TABLE {l} DROP COLUMN fallback_after_ms"),
        format!("ALTER TABLE {l} DROP COLUMN repeats"),
        format!("DELETE FROM {m} WHERE version = 3"),
    ] {
        db.execute(&sql, &[]).await.expect("downgrade");
    }
    let timer = support::count(&db, &format!("SELECT fallback_ms FROM {l}"), &[]).await;
    assert_eq!(timer, camp_runtime::clock::ms(start + Duration::hours(1)));

    let lms = Recorder::default();
    let mut channels = ChannelSet::new();
    channels.insert("brand", Arc::new(waiting.clone()));
    channels.insert("lms", Arc::new(lms.clone()));
    let runner = support::runner_with(&db, &analysis, &["kakao_first"], start, channels, Options::default()).await;
    assert_eq!(
        support::count(&db, &format!("SELECT fallback_after_ms FROM {l} WHERE attempt = 0"), &[]).await,
        3_600_000,
        "the migration keeps the running chain"
    );
    support::drive(&runner, start + Duration::minutes(1), start + Duration::hours(3), vec![]).await;
    let sent = lms.taken();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(created(&sent[0].payload), start + Duration::hours(1));
    assert_eq!(
        support::count(&db, &format!("SELECT repeats FROM {l} WHERE attempt = 1"), &[]).await,
        1,
        "the LMS repeats the Kakao message"
    );
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_from_before_the_upgrade_keeps_its_fallbacks_on_sqlite() {
    let (db, _dir) = sqlite().await;
    upgrade(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_from_before_the_upgrade_keeps_its_fallbacks_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    upgrade(postgres(&server, "upgrade").await).await;
}
