//! The checks at the moment of sending, on SQLite and PostgreSQL: caps
//! under a flood of concurrent events, consent withdrawn after enrolling,
//! several daemons sharing the work without a second send.

mod support;

use camp_runtime::channels::{ChannelSet, Recorder};
use camp_runtime::engine::{Options, Runner};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use chrono::Duration;
use serde_json::json;
use std::sync::Arc;
use support::t;

/// Sends an informational push on every app open (one journey per open,
/// even while another runs), at most 3 a day.
const CAPPED: &str = r##"
campaign app_hello {
  kind info
  channel push
  trigger on app_open
  reentry always
  cap 3 per 24h
  send app_hello_note
}

message app_hello_note {
  title "캠프샵"
  "#{고객명}님, 오늘도 캠프샵을 찾아주셔서 고마워요."
}
"##;

async fn sqlite() -> (Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    (Database::create(&url).await.expect("sqlite"), dir)
}

async fn fill(db: &Database, analysis: &camp_compiler::Analysis, customers: u64) {
    let spec = SampleSpec::new(customers, t("2026-11-23T00:00:00Z"));
    sample::generate(db, &support::schema(analysis), &spec, |_| {})
        .await
        .expect("sample data");
}

/// 1,000 app opens of one customer, posted concurrently, processed by
/// `daemons` runners ticking concurrently: exactly 3 sends.
async fn flood(urls: Vec<String>, daemons: usize) {
    let analysis = support::workspace(&[("capped.camp", CAPPED)]);
    let first = Database::connect(&urls[0]).await.expect("connect");
    fill(&first, &analysis, 50).await;
    let now = t("2026-11-23T01:00:00Z");
    let recorder = Recorder::default();
    let mut runners = Vec::new();
    for i in 0..daemons {
        let db = Database::connect(&urls[i % urls.len()]).await.expect("connect");
        let opts = Options {
            batch: 25,
            ..Options::default()
        };
        runners.push(Arc::new(
            support::runner_with(
                &db,
                &analysis,
                &["app_hello"],
                now,
                ChannelSet::all(Arc::new(recorder.clone())),
                opts,
            )
            .await,
        ));
    }
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..1_000 {
        let r = runners[i % runners.len()].clone();
        posts.spawn(async move {
            let body = json!({"type": "app_open", "customer": 7, "time": now.to_rfc3339(), "properties": {"platform": "ios"}});
            support::post(&r, now, body).await.accepted
        });
    }
    let mut accepted = 0;
    while let Some(n) = posts.join_next().await {
        accepted += n.expect("post task");
    }
    assert_eq!(accepted, 1_000);
    let mut ticks = tokio::task::JoinSet::new();
    for r in &runners {
        for k in 0..3 {
            let r = r.clone();
            ticks.spawn(async move { r.tick(now + Duration::seconds(k)).await.expect("tick") });
        }
    }
    while let Some(t) = ticks.join_next().await {
        t.expect("tick task");
    }
    for r in &runners {
        r.tick(now + Duration::seconds(5)).await.expect("tick");
    }
    let l = support::table(&first, "ledger");
    let e = support::table(&first, "enrollments");
    assert_eq!(
        support::count(&first, &format!("SELECT COUNT(*) FROM {e}"), &[]).await,
        1_000,
        "one enrollment per event"
    );
    assert_eq!(
        support::count(
            &first,
            &format!("SELECT COUNT(*) FROM {l} WHERE status IN ('pending', 'sent', 'delivered')"),
            &[]
        )
        .await,
        3,
        "the cap allows 3 a day"
    );
    assert_eq!(
        support::count(
            &first,
            &format!("SELECT COUNT(*) FROM {l} WHERE status = 'suppressed' AND reason = 'frequency cap'"),
            &[]
        )
        .await,
        997
    );
    assert_eq!(recorder.taken().len(), 3, "3 deliveries");
    assert_eq!(
        support::count(&first, &format!("SELECT COUNT(*) FROM {e} WHERE state = 'active'"), &[]).await,
        0
    );
    // A day later the cap has room again.
    let later = now + Duration::hours(25);
    let body = json!({"type": "app_open", "customer": 7, "time": later.to_rfc3339(), "properties": {"platform": "android"}});
    support::post(&runners[0], later, body).await;
    runners[0].tick(later).await.expect("tick");
    assert_eq!(recorder.taken().len(), 4);
    for r in runners {
        r.stop().await.expect("stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_events_for_one_customer_give_three_sends_on_sqlite() {
    let (_db, dir) = sqlite().await;
    flood(vec![format!("sqlite://{}", dir.path().join("shop.db").display())], 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_events_for_one_customer_give_three_sends_on_postgres_with_four_daemons() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("flood").await.expect("database");
    flood(vec![url], 4).await;
}

/// Enrolled with consent, withdrawn before the first reminder: nothing is sent.
async fn withdrawn(db: Database) {
    let analysis = support::workspace(&[]);
    fill(&db, &analysis, 200).await;
    let start = t("2026-11-23T01:00:00Z");
    let recorder = Recorder::default();
    let runner = support::runner(&db, &analysis, &["cart_reminder"], start, &recorder).await;
    let people = support::consenting(&db, "cart_reminder", 10.0, 2).await;
    let (keeps, withdraws) = (people[0], people[1]);
    // A product in stock: the reminder exits when the product sells out.
    let product = support::count(&db, "SELECT MIN(\"id\") FROM \"products\" WHERE \"stock\" > 0", &[]).await;
    assert!(product > 0, "a product in stock");
    for who in [keeps, withdraws] {
        let cart = json!({"type": "cart_add", "customer": who, "properties": {"product": product, "price": 19_000}});
        assert_eq!(support::post(&runner, start, cart).await.accepted, 1);
    }
    let now = support::drive(&runner, start, start + Duration::hours(12), vec![start + Duration::hours(12)]).await;
    let off = match db.backend() {
        camp_runtime::db::Backend::Sqlite => "0",
        camp_runtime::db::Backend::Postgres => "FALSE",
    };
    db.execute(
        &format!("UPDATE \"customers\" SET \"marketing_consent\" = {off} WHERE \"id\" = {withdraws}"),
        &[],
    )
    .await
    .expect("withdraw consent");
    support::drive(&runner, now, start + Duration::days(4), vec![]).await;
    let to = |who: i64| {
        recorder
            .taken()
            .iter()
            .filter(|r| r.payload.contains(&format!("\"customer\":\"{who}\"")))
            .count()
    };
    assert_eq!(to(keeps), 3, "the other customer gets all three");
    assert_eq!(to(withdraws), 0, "no message after consent is withdrawn");
    let l = support::table(&db, "ledger");
    assert_eq!(
        support::count(
            &db,
            &format!("SELECT COUNT(*) FROM {l} WHERE reason = 'no consent at the moment of sending'"),
            &[]
        )
        .await,
        3
    );
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_withdrawn_after_enrolling_stops_sends_on_sqlite() {
    let (db, _dir) = sqlite().await;
    withdrawn(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_withdrawn_after_enrolling_stops_sends_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("consent").await.expect("database");
    withdrawn(Database::connect(&url).await.expect("postgres")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_one_sqlite_file_is_refused() {
    let (db, dir) = sqlite().await;
    let analysis = support::workspace(&[]);
    fill(&db, &analysis, 20).await;
    let now = t("2026-11-23T01:00:00Z");
    let first = support::runner(&db, &analysis, &["cart_reminder"], now, &Recorder::default()).await;
    let again = Database::connect(&format!("sqlite://{}", dir.path().join("shop.db").display()))
        .await
        .expect("connect");
    let second = Runner::start(
        again,
        support::deployment(&analysis, &["cart_reminder"]),
        ChannelSet::new(),
        Options::default(),
        now,
    )
    .await;
    let err = second.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("another camp daemon"), "{err}");
    first.stop().await.expect("stop");
    // Once the first has stopped, a new one may start.
    let third = support::runner(&db, &analysis, &["cart_reminder"], now, &Recorder::default()).await;
    third.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_are_quarantined_and_the_rest_taken() {
    let (db, _dir) = sqlite().await;
    let analysis = support::workspace(&[]);
    fill(&db, &analysis, 20).await;
    let now = t("2026-11-23T01:00:00Z");
    let runner = support::runner(&db, &analysis, &["cart_reminder"], now, &Recorder::default()).await;
    let body = json!([
        {"type": "cart_add", "customer": 3, "properties": {"product": 1, "price": 12_000}},
        {"type": "cart_dance", "customer": 3},
        {"type": "cart_add", "customer": 999_999, "properties": {"product": 1, "price": 12_000}},
        {"type": "cart_add", "customer": 3, "properties": {"product": 1, "price": "12,000원"}},
        {"type": "cart_add", "customer": 3, "properties": [1, 2]},
        {"type": "cart_add"},
        "not an event",
    ]);
    let got = support::post(&runner, now, body).await;
    assert_eq!(got.accepted, 1);
    let reasons: Vec<&str> = got.quarantined.iter().map(|q| q.reason.as_str()).collect();
    assert_eq!(reasons.len(), 6, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("unknown event type")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("unknown customer")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("property `price` should be money")),
        "{reasons:?}"
    );
    let garbage = camp_runtime::engine::events::ingest(&runner, now, b"{\"type\": \"cart_add\", \"customer\": ")
        .await
        .expect("ingest");
    assert_eq!(garbage.accepted, 0);
    assert_eq!(garbage.quarantined.len(), 1);
    // Bad rows in the events table itself are quarantined by the poller.
    db.execute(
        "INSERT INTO \"events\" (\"customer_id\", \"kind\", \"occurred_at\", \"properties\") VALUES (3, 'cart_add', '2026-11-23 01:00:00', 'not json')",
        &[],
    )
    .await
    .expect("insert");
    let tick = runner.tick(now).await.expect("the daemon keeps going");
    assert_eq!(tick.events, 1);
    assert_eq!(tick.quarantined, 1);
    let q = support::table(&db, "quarantine");
    assert_eq!(support::count(&db, &format!("SELECT COUNT(*) FROM {q}"), &[]).await, 8);
    runner.stop().await.expect("stop");
}

/// Three ad campaigns due at the same instant; the policy allows 2 ads a
/// day. Whatever batches the work is cut into, the two higher priorities
/// are sent and the lowest is capped.
const RANKED: &str = r##"
campaign ranked_low {
  kind ad
  channel lms
  trigger at 2026-12-01 12:00
  audience customer.marketing_consent
  priority 1
  send ranked_note
}

campaign ranked_mid {
  kind ad
  channel lms
  trigger at 2026-12-01 12:00
  audience customer.marketing_consent
  priority 2
  send ranked_note
}

campaign ranked_high {
  kind ad
  channel lms
  trigger at 2026-12-01 12:00
  audience customer.marketing_consent
  priority 9
  send ranked_note
}

message ranked_note {
  "(광고) #{sender}
  오늘의 특가를 확인하세요.
  #{optout}"
}
"##;

async fn ranked(db: Database) {
    let analysis = support::workspace(&[("ranked.camp", RANKED)]);
    fill(&db, &analysis, 120).await;
    let start = t("2026-12-01T02:00:00Z");
    let recorder = Recorder::default();
    let opts = Options {
        batch: 7,
        ..Options::default()
    };
    let channels = ChannelSet::all(Arc::new(recorder.clone()));
    // Deployed lowest first: the lowest priority's enrollments come first by row key.
    let runner = support::runner_with(&db, &analysis, &["ranked_low", "ranked_mid", "ranked_high"], start, channels, opts).await;
    support::drive(&runner, start, start + Duration::hours(6), vec![]).await;
    let sent = camp_runtime::simulate::sends_of(&recorder);
    let per = |c: &str| sent.iter().filter(|s| s.campaign == c).count();
    assert!(per("ranked_high") > 50, "{}", per("ranked_high"));
    assert_eq!(per("ranked_high"), per("ranked_mid"), "both higher priorities go to everyone");
    assert_eq!(per("ranked_low"), 0, "the lowest priority is the one capped");
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn higher_priority_first_on_sqlite() {
    let (db, _dir) = sqlite().await;
    ranked(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn higher_priority_first_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("ranked").await.expect("database");
    ranked(Database::connect(&url).await.expect("postgres")).await;
}
