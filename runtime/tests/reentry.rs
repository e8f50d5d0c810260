//! Re-entry rules on SQLite and PostgreSQL, on a virtual clock: what a
//! second trigger does while (or after) a customer is in a journey, for
//! event and scheduled campaigns, what `camp report` says about it, that a
//! store made before the rules migrates with its journeys running on, and
//! (a property) that random event streams never give a customer two
//! running journeys of a single-journey campaign.

mod support;

use camp_runtime::binds::BindValue;
use camp_runtime::channels::Recorder;
use camp_runtime::db::CellsExt;
use camp_runtime::engine::Runner;
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::{report, Database};
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::json;
use support::t;

/// One informational reminder journey per re-entry rule: three Alimtalk
/// messages an hour apart after a cart, and an exit on purchase.
const CAMPAIGNS: &str = r##"
campaign cart_nudge {
  kind info
  channel alimtalk
  trigger on cart_add
  exit when did purchase since trigger
  wait 1h
  send nudge_1
  wait 1h
  send nudge_2
  wait 1h
  send nudge_3
}

campaign cart_restart {
  kind info
  channel alimtalk
  trigger on cart_add
  reentry restart
  exit when did purchase since trigger
  wait 1h
  send nudge_1
  wait 1h
  send nudge_2
  wait 1h
  send nudge_3
}

campaign cart_after {
  kind info
  channel alimtalk
  trigger on cart_add
  reentry after 1d
  wait 1h
  send nudge_1
  wait 1h
  send nudge_2
  wait 1h
  send nudge_3
}

campaign cart_never {
  kind info
  channel alimtalk
  trigger on cart_add
  reentry never
  exit when did purchase since trigger
  wait 1h
  send nudge_1
  wait 1h
  send nudge_2
  wait 1h
  send nudge_3
}

campaign cart_always {
  kind info
  channel alimtalk
  trigger on cart_add
  reentry always
  wait 1h
  send nudge_1
  wait 1h
  send nudge_2
  wait 1h
  send nudge_3
}

// Daily at 11:00; a journey lasts 30 hours, past the next occurrence.
campaign daily_single {
  kind info
  channel alimtalk
  trigger every day at 11:00
  wait 30h
  send nudge_1
}

campaign daily_never {
  kind info
  channel alimtalk
  trigger every day at 11:00
  reentry never
  wait 30h
  send nudge_1
}

campaign daily_after {
  kind info
  channel alimtalk
  trigger every day at 11:00
  reentry after 2d
  wait 30h
  send nudge_1
}

campaign daily_restart {
  kind info
  channel alimtalk
  trigger every day at 11:00
  reentry restart
  wait 30h
  send nudge_1
}

message nudge_1 {
  template "CART_01"
  "#{고객명}님, 장바구니에 담은 상품을 확인해 주세요."
}

message nudge_2 {
  template "CART_02"
  "#{고객명}님, 장바구니에 담은 상품이 기다리고 있어요."
}

message nudge_3 {
  template "CART_03"
  "#{고객명}님, 장바구니 상품을 마지막으로 알려드려요."
}

alimtalk template "CART_01" {
  "#{이름}님, 장바구니에 담은 상품을 확인해 주세요."
}

alimtalk template "CART_02" {
  "#{이름}님, 장바구니에 담은 상품이 기다리고 있어요."
}

alimtalk template "CART_03" {
  "#{이름}님, 장바구니 상품을 마지막으로 알려드려요."
}
"##;

/// Monday 2026-11-23 10:00 in Seoul.
fn start() -> DateTime<Utc> {
    t("2026-11-23T01:00:00Z")
}

const CUSTOMERS: u64 = 30;

async fn sqlite() -> (Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    (Database::create(&url).await.expect("sqlite"), dir)
}

async fn fill(db: &Database, analysis: &camp_compiler::Analysis) {
    let spec = SampleSpec::new(CUSTOMERS, start() - Duration::hours(1));
    sample::generate(db, &support::schema(analysis), &spec, |_| {})
        .await
        .expect("sample data");
}

async fn first_customer(db: &Database) -> i64 {
    support::count(db, "SELECT MIN(\"id\") FROM \"customers\"", &[]).await
}

fn cart(customer: i64, at: DateTime<Utc>) -> serde_json::Value {
    json!({"type": "cart_add", "customer": customer, "time": at.to_rfc3339(), "properties": {"product": 1, "price": 25_900}})
}

/// Posts the events at their instants, ticking through every due instant
/// in between, then runs on until `until`.
async fn play(runner: &Runner, events: Vec<(DateTime<Utc>, serde_json::Value)>, until: DateTime<Utc>) {
    let mut now = start();
    for (at, event) in events {
        now = support::drive(runner, now, at, vec![at]).await;
        assert_eq!(now, at);
        assert_eq!(support::post(runner, now, event).await.accepted, 1);
    }
    support::drive(runner, now, until, vec![]).await;
}

/// (state, reason) of each enrollment of a campaign, in order.
async fn journeys(db: &Database, campaign: &str) -> Vec<(String, String)> {
    let e = support::table(db, "enrollments");
    let ph = match db.backend() {
        camp_runtime::db::Backend::Sqlite => "?1",
        camp_runtime::db::Backend::Postgres => "$1",
    };
    db.rows(
        &format!("SELECT state, COALESCE(reason, '') FROM {e} WHERE campaign = {ph} ORDER BY id"),
        &[BindValue::Text(campaign.to_string())],
    )
    .await
    .expect("enrollments")
    .iter()
    .map(|r| (r.text(0).unwrap_or_default(), r.text(1).unwrap_or_default()))
    .collect()
}

/// The reasons of a campaign's ignored triggers, in order.
async fn ignored(db: &Database, campaign: &str) -> Vec<String> {
    let i = support::table(db, "ignored");
    let ph = match db.backend() {
        camp_runtime::db::Backend::Sqlite => "?1",
        camp_runtime::db::Backend::Postgres => "$1",
    };
    db.rows(
        &format!("SELECT reason FROM {i} WHERE campaign = {ph} ORDER BY id"),
        &[BindValue::Text(campaign.to_string())],
    )
    .await
    .expect("ignored triggers")
    .iter()
    .filter_map(|r| r.text(0))
    .collect()
}

fn sent_by(recorder: &Recorder, campaign: &str) -> Vec<String> {
    recorder
        .taken()
        .iter()
        .filter_map(|r| {
            let p: serde_json::Value = serde_json::from_str(&r.payload).ok()?;
            (p["campaign"] == json!(campaign)).then(|| p["message"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

fn done(n: usize) -> Vec<(String, String)> {
    vec![("done".to_string(), String::new()); n]
}

/// Every rule of an event campaign, one runner each.
async fn event_rules(db: Database) {
    let analysis = support::workspace(&[("reentry.camp", CAMPAIGNS)]);
    fill(&db, &analysis).await;
    let who = first_customer(&db).await;
    let s = start();
    let minute = Duration::minutes(1);
    let cases: Vec<(&str, Vec<DateTime<Utc>>)> = vec![
        ("cart_nudge", vec![s, s + minute, s + minute * 2]),
        ("cart_restart", vec![s, s + minute, s + minute * 2]),
        ("cart_after", vec![s, s + minute, s + Duration::hours(25)]),
        ("cart_never", vec![s, s + minute, s + Duration::days(2)]),
        ("cart_always", vec![s, s + minute, s + minute * 2]),
    ];
    for (campaign, carts) in cases {
        let recorder = Recorder::default();
        let runner = support::runner(&db, &analysis, &[campaign], s, &recorder).await;
        let events = carts.iter().map(|at| (*at, cart(who, *at))).collect();
        play(&runner, events, s + Duration::days(4)).await;
        let sent = sent_by(&recorder, campaign);
        let r = report::report(&runner.store, campaign).await.expect("report");
        let text = report::render(&r);
        match campaign {
            "cart_nudge" => {
                assert_eq!(journeys(&db, campaign).await, done(1), "one journey for three carts");
                assert_eq!(sent, ["nudge_1", "nudge_2", "nudge_3"], "3 reminders, not 9");
                assert_eq!(ignored(&db, campaign).await, ["already in the journey"; 2]);
                assert_eq!(r.not_enrolled, [("already in the journey".to_string(), 2)]);
                assert!(text.contains("not enrolled (already in the journey): 2"), "{text}");
                assert_eq!(r.arms.iter().map(|a| a.enrolled).sum::<i64>(), 1, "{text}");
            }
            "cart_restart" => {
                let restarted = ("exited".to_string(), "restarted".to_string());
                let mut want = vec![restarted.clone(), restarted];
                want.extend(done(1));
                assert_eq!(journeys(&db, campaign).await, want, "each cart restarts the journey");
                assert_eq!(
                    sent,
                    ["nudge_1", "nudge_2", "nudge_3"],
                    "only the last journey got far enough to send"
                );
                assert!(ignored(&db, campaign).await.is_empty());
                assert_eq!(r.restarted, 2);
                assert!(text.contains("journeys restarted by a new trigger: 2"), "{text}");
            }
            "cart_after" => {
                assert_eq!(journeys(&db, campaign).await, done(2), "the cart a day later enters again");
                assert_eq!(sent.len(), 6);
                assert_eq!(ignored(&db, campaign).await, ["entered less than 1d ago"]);
                assert!(text.contains("not enrolled (entered less than 1d ago): 1"), "{text}");
            }
            "cart_never" => {
                assert_eq!(journeys(&db, campaign).await, done(1), "once per customer, ever");
                assert_eq!(sent.len(), 3);
                assert_eq!(ignored(&db, campaign).await, ["already in the journey", "already entered once"]);
            }
            "cart_always" => {
                assert_eq!(journeys(&db, campaign).await, done(3), "one journey per cart");
                assert_eq!(sent.len(), 9);
                assert!(ignored(&db, campaign).await.is_empty());
                assert!(r.not_enrolled.is_empty());
            }
            _ => unreachable!(),
        }
        runner.stop().await.expect("stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_rules_on_sqlite() {
    let (db, _dir) = sqlite().await;
    event_rules(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_rules_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("reentry_events").await.expect("database");
    event_rules(Database::connect(&url).await.expect("postgres")).await;
}

/// A daily campaign whose journeys outlast a day: the default skips
/// customers still in one (and records them), `never` keeps everyone who
/// entered out, `restart` ends the running journeys and starts new ones.
async fn scheduled_rules(db: Database) {
    let analysis = support::workspace(&[("reentry.camp", CAMPAIGNS)]);
    fill(&db, &analysis).await;
    let n = CUSTOMERS as usize;
    for campaign in ["daily_single", "daily_never", "daily_after", "daily_restart"] {
        let recorder = Recorder::default();
        // Three occurrences: Monday, Tuesday and Wednesday at 11:00.
        let runner = support::runner(&db, &analysis, &[campaign], start(), &recorder).await;
        support::drive(&runner, start(), start() + Duration::days(2) + Duration::hours(2), vec![]).await;
        let states = journeys(&db, campaign).await;
        let count = |state: &str, reason: &str| states.iter().filter(|(s, r)| s == state && r == reason).count();
        let reasons = ignored(&db, campaign).await;
        let sent = sent_by(&recorder, campaign).len();
        match campaign {
            "daily_single" => {
                // Monday's journeys run until Tuesday 17:00: Tuesday's
                // occurrence skips everyone, Wednesday's enrolls them again.
                assert_eq!(states.len(), 2 * n, "{states:?}");
                assert_eq!(count("done", ""), n);
                assert_eq!(count("active", ""), n);
                assert_eq!(reasons, vec!["already in the journey"; n]);
                assert_eq!(sent, n);
            }
            "daily_never" => {
                assert_eq!(states.len(), n, "{states:?}");
                assert_eq!(count("done", ""), n);
                let mut want = vec!["already in the journey"; n];
                want.extend(vec!["already entered once"; n]);
                assert_eq!(reasons, want);
                assert_eq!(sent, n);
            }
            "daily_after" => {
                // Tuesday is within 2 days of Monday's entry, Wednesday is not.
                assert_eq!(states.len(), 2 * n, "{states:?}");
                assert_eq!(reasons, vec!["entered less than 2d ago"; n]);
                assert_eq!(sent, n);
            }
            "daily_restart" => {
                // Each occurrence ends the journeys of the one before.
                assert_eq!(states.len(), 3 * n, "{states:?}");
                assert_eq!(count("exited", "restarted"), 2 * n);
                assert_eq!(count("active", ""), n);
                assert!(reasons.is_empty());
                assert_eq!(sent, 0, "no journey lived 30 hours");
            }
            _ => unreachable!(),
        }
        assert!(doubles(&db).await.is_empty(), "never two running journeys of one customer");
        runner.stop().await.expect("stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_rules_on_sqlite() {
    let (db, _dir) = sqlite().await;
    scheduled_rules(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_rules_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("reentry_scheduled").await.expect("database");
    scheduled_rules(Database::connect(&url).await.expect("postgres")).await;
}

/// A store as a camp before re-entry rules left it, with two journeys of
/// one customer running at once: it migrates, both journeys go on to the
/// end, and a new trigger for that customer is ignored.
async fn old_store_migrates(db: Database) {
    let analysis = support::workspace(&[("reentry.camp", CAMPAIGNS)]);
    fill(&db, &analysis).await;
    let who = first_customer(&db).await;
    let recorder = Recorder::default();
    let runner = support::runner(&db, &analysis, &["cart_nudge"], start(), &recorder).await;
    let hash = support::plans(&analysis, &["cart_nudge"])[0].hash.clone();
    runner.stop().await.expect("stop");
    drop(runner);

    // Undo migration 0002.
    let t = |n: &str| support::table(&db, n);
    let sqlite = db.backend() == camp_runtime::db::Backend::Sqlite;
    let index = if sqlite {
        "DROP INDEX camp_enrollments_single".to_string()
    } else {
        "DROP INDEX \"camp\".enrollments_single".to_string()
    };
    let mut undo = vec![index];
    for column in ["single", "entered_ms", "expires_ms"] {
        undo.push(format!("ALTER TABLE {} DROP COLUMN {column}", t("enrollments")));
    }
    undo.push(format!("ALTER TABLE {} DROP COLUMN expires_ms", t("ledger")));
    undo.push(format!("DROP TABLE {}", t("ignored")));
    undo.push(format!("DELETE FROM {} WHERE version = 2", t("migrations")));
    // Two running journeys of one customer, as the old rules allowed.
    for occurrence in ["events#1", "events#2"] {
        undo.push(format!(
            "INSERT INTO {} (campaign, plan_hash, customer, occurrence, trigger_ms, trigger_props, due_ms, enrolled_ms) \
             VALUES ('cart_nudge', '{hash}', '{who}', '{occurrence}', {ms}, '{{}}', {ms}, {ms})",
            t("enrollments"),
            ms = start().timestamp_millis()
        ));
    }
    db.execute_all(&undo).await.expect("an old store");

    let runner = support::runner(&db, &analysis, &["cart_nudge"], start(), &recorder).await;
    let later = start() + Duration::minutes(10);
    play(&runner, vec![(later, cart(who, later))], start() + Duration::days(1)).await;
    assert_eq!(journeys(&db, "cart_nudge").await, done(2), "both old journeys ran to the end");
    assert_eq!(sent_by(&recorder, "cart_nudge").len(), 6);
    assert_eq!(ignored(&db, "cart_nudge").await, ["already in the journey"]);
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_store_migrates_on_sqlite() {
    let (db, _dir) = sqlite().await;
    old_store_migrates(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_store_migrates_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("reentry_migrate").await.expect("database");
    old_store_migrates(Database::connect(&url).await.expect("postgres")).await;
}

/// An event of the random streams: who, how many minutes after the start,
/// and whether it is a cart (trigger) or a purchase (exit).
type Stream = Vec<(usize, i64, bool)>;

fn streams() -> impl Strategy<Value = Stream> {
    proptest::collection::vec((0usize..4, 0i64..4 * 60, proptest::bool::weighted(0.75)), 1..24)
}

/// Customers with two running journeys of one campaign (campaign, customer, count).
async fn doubles(db: &Database) -> Vec<(String, String, i64)> {
    let e = support::table(db, "enrollments");
    db.rows(
        &format!("SELECT campaign, customer, COUNT(*) FROM {e} WHERE state = 'active' GROUP BY campaign, customer HAVING COUNT(*) > 1"),
        &[],
    )
    .await
    .expect("doubles")
    .iter()
    .map(|r| (r.text(0).unwrap_or_default(), r.text(1).unwrap_or_default(), r.int(2).unwrap_or(0)))
    .collect()
}

/// Plays a stream through the single-journey campaigns, checking the
/// store after every tick.
async fn single_journeys(db: Database, analysis: &camp_compiler::Analysis, stream: Stream) -> Result<(), String> {
    fill(&db, analysis).await;
    let first = first_customer(&db).await;
    let recorder = Recorder::default();
    let runner = support::runner(&db, analysis, &["cart_nudge", "cart_restart", "cart_never"], start(), &recorder).await;
    let mut events: Vec<(DateTime<Utc>, serde_json::Value)> = stream
        .iter()
        .enumerate()
        .map(|(i, (who, minute, is_cart))| {
            // Distinct instants keep the events' order the stream's.
            let at = start() + Duration::minutes(*minute) + Duration::seconds(i as i64);
            let customer = first + *who as i64;
            let event = if *is_cart {
                cart(customer, at)
            } else {
                json!({"type": "purchase", "customer": customer, "time": at.to_rfc3339(), "properties": {"order_id": format!("O-{i}"), "amount": 25_900}})
            };
            (at, event)
        })
        .collect();
    events.sort_by_key(|(at, _)| *at);
    let end = start() + Duration::hours(8);
    let mut now = start();
    let mut pending = events.into_iter().peekable();
    loop {
        while let Some((_, event)) = pending.next_if(|(at, _)| *at <= now) {
            support::post(&runner, now, event).await;
        }
        runner.tick(now).await.map_err(|e| e.to_string())?;
        let found = doubles(&db).await;
        if !found.is_empty() {
            return Err(format!("two running journeys at {now}: {found:?}"));
        }
        let next_due = runner.next_due(now).await.map_err(|e| e.to_string())?;
        let next_event = pending.peek().map(|(at, _)| *at);
        match [next_due, next_event].into_iter().flatten().min() {
            Some(n) if n <= end => now = n,
            _ => break,
        }
    }
    runner.stop().await.map_err(|e| e.to_string())?;
    drop(runner);
    db.close().await;
    Ok(())
}

#[test]
fn random_streams_never_give_two_running_journeys() {
    let analysis = support::workspace(&[("reentry.camp", CAMPAIGNS)]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let case = std::sync::atomic::AtomicUsize::new(0);
    let config = ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(stream in streams())| {
        let n = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let result: Result<(), String> = rt.block_on(async {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let url = format!("sqlite://{}", dir.path().join("shop.db").display());
            let db = Database::create(&url).await.map_err(|e| e.to_string())?;
            single_journeys(db, &analysis, stream.clone()).await.map_err(|e| format!("SQLite: {e}"))?;
            let url = server.create_database(&format!("reentry_prop_{n}")).await?;
            let db = Database::connect(&url).await.map_err(|e| e.to_string())?;
            single_journeys(db, &analysis, stream.clone()).await.map_err(|e| format!("PostgreSQL: {e}"))
        });
        prop_assert!(result.is_ok(), "{:?}", result);
    });
}
