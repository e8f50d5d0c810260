//! `camp simulate` and `camp report` on a stored history: the replay sends
//! what the engine would have sent, leaves the database as it was, and the
//! report counts what a run recorded.

mod support;

use camp_runtime::channels::Recorder;
use camp_runtime::db::CellsExt;
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::{report, simulate, store, Database};
use chrono::Duration;
use support::t;

/// The replay reads each events table once, in time order, and sends what
/// the earlier replay (two queries per table and tick) sent, to the
/// second; an event written while a replay runs is taken when the clock
/// reaches it.
async fn replay_once(url: &str) {
    let db = Database::create(url).await.expect("database");
    let analysis = support::workspace(&[]);
    let end = t("2026-12-05T00:00:00Z");
    sample::generate(&db, &support::schema(&analysis), &SampleSpec::new(400, end), |_| {})
        .await
        .expect("sample data");
    let names = [
        "cart_reminder",
        "coupon_expiry_reminder",
        "first_purchase_onboarding",
        "price_drop_alert",
        "restock_alert",
        "winback",
    ];
    let from = end - Duration::days(6);
    let run = |rescan: bool, chunk: i64| {
        let analysis = &analysis;
        async move {
            let opts = camp_runtime::engine::Options {
                replay_rescan: rescan,
                replay_chunk: chunk,
                ..Default::default()
            };
            simulate::simulate_with(url, support::deployment(analysis, &names), from, end, opts, |_, _| {})
                .await
                .expect("simulation")
        }
    };
    let once = run(false, 50_000).await;
    let rescan = run(true, 0).await;
    // Chunks of 7 rows: many resumptions after the last row read.
    let small = run(false, 7).await;
    assert_eq!(small.sends, once.sends, "chunks of any size give the same replay");
    assert_eq!(small.events, once.events);
    assert!(once.events > 50, "events were replayed: {}", once.events);
    assert!(once.sends.len() > 20, "sends: {}", once.sends.len());
    assert!(once.sends.iter().any(|s| s.campaign != "winback"), "event-triggered campaigns sent");
    assert_eq!(
        (once.events, once.quarantined, once.enrolled),
        (rescan.events, rescan.quarantined, rescan.enrolled)
    );
    assert_eq!(once.sends, rescan.sends, "the same sends, at the same instants");
    assert!(once.ticks <= rescan.ticks, "no more ticks than before");

    // A kept replay: a cart written at the start for half an hour later is
    // taken at that time and enrolls.
    let opts = camp_runtime::engine::Options {
        replay: true,
        ..Default::default()
    };
    let channels = camp_runtime::channels::ChannelSet::all(std::sync::Arc::new(Recorder::default()));
    let runner = support::runner_with(&db, &analysis, &["restock_alert"], from, channels, opts).await;
    runner.tick(from).await.expect("tick");
    let later = from + Duration::minutes(30);
    let customer = support::consenting(&db, "restock_alert", 0.0, 1).await[0];
    let d = db.dialect();
    let props = match db.backend() {
        camp_runtime::db::Backend::Sqlite => d.placeholder(4),
        camp_runtime::db::Backend::Postgres => format!("{}::jsonb", d.placeholder(4)),
    };
    db.execute(
        &format!(
            "INSERT INTO \"events\" (\"customer_id\", \"kind\", \"occurred_at\", \"properties\") VALUES ({}, {}, {}, {props})",
            d.placeholder(1),
            d.placeholder(2),
            d.timestamp_param(&d.placeholder(3))
        ),
        &[
            camp_runtime::binds::BindValue::Int(customer),
            camp_runtime::binds::BindValue::Text("restock".into()),
            camp_runtime::binds::BindValue::Timestamp(later),
            camp_runtime::binds::BindValue::Text(r#"{"product": 1, "quantity": 5}"#.into()),
        ],
    )
    .await
    .expect("an event row");
    let next = runner.next_due(from).await.expect("next due");
    assert!(next.is_some_and(|n| n <= later), "the clock stops at the new event: {next:?}");
    let e = support::table(&db, "enrollments");
    let enrolled = format!(
        "SELECT COUNT(*) FROM {e} WHERE customer = '{customer}' AND trigger_ms = {}",
        later.timestamp_millis()
    );
    support::drive(&runner, from, later + Duration::minutes(1), vec![]).await;
    assert_eq!(
        support::count(&db, &enrolled, &[]).await,
        1,
        "the event written during the replay enrolled"
    );
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_reads_once_and_sends_the_same_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    replay_once(&format!("sqlite://{}", dir.path().join("shop.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_reads_once_and_sends_the_same_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("replay").await.expect("database");
    replay_once(&url).await;
}

async fn replay(url: &str) {
    let db = Database::create(url).await.expect("database");
    let analysis = support::workspace(&[]);
    let end = t("2026-12-05T00:00:00Z");
    sample::generate(&db, &support::schema(&analysis), &SampleSpec::new(600, end), |_| {})
        .await
        .expect("sample data");
    let names = ["cart_reminder", "winback", "year_end_sale", "restock_alert"];
    let from = end - Duration::days(6);
    let sim = simulate::simulate(url, support::deployment(&analysis, &names), from, end, |_, _| {})
        .await
        .expect("simulation");
    assert!(sim.events > 0, "events were replayed");
    let per = |c: &str| sim.sends.iter().filter(|s| s.campaign == c).count();
    assert!(per("winback") > 0, "Monday's winback ran");
    assert!(per("year_end_sale") > 0, "the year-end sale ran");
    assert!(sim.sends.windows(2).all(|w| w[0].at <= w[1].at), "in time order");
    assert!(sim.sends.iter().all(|s| s.at >= from && s.at <= end));
    // Quiet hours: no ad went out between 21:00 and 08:00 in Seoul to a Seoul customer.
    let text = simulate::render(&sim, "Asia/Seoul", 5);
    assert!(text.contains("sends:"), "{text}");
    // The database has no store of its own afterwards.
    let tables = match db.backend() {
        camp_runtime::db::Backend::Sqlite => db
            .rows("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'camp\\_%' ESCAPE '\\'", &[])
            .await
            .expect("tables"),
        camp_runtime::db::Backend::Postgres => db
            .rows(
                "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE 'camp%'",
                &[],
            )
            .await
            .expect("schemas"),
    };
    assert_eq!(tables.first().and_then(|r| r.int(0)), Some(0), "simulate leaves no trace");

    // The same replay through a runner that keeps its store, then the report.
    let recorder = Recorder::default();
    let opts = camp_runtime::engine::Options {
        replay: true,
        ..Default::default()
    };
    let channels = camp_runtime::channels::ChannelSet::all(std::sync::Arc::new(recorder.clone()));
    let runner = support::runner_with(&db, &analysis, &names, from, channels, opts).await;
    support::drive(&runner, from, end, vec![]).await;
    runner.stop().await.expect("stop");
    let kept = simulate::sends_of(&recorder);
    assert_eq!(kept.len(), sim.sends.len(), "simulate and a kept run agree");
    let r = report::report(&store::Store::attach(db.clone(), store::SCHEMA), "winback")
        .await
        .expect("report");
    let sends: i64 = r.arms.iter().map(|a| a.sends).sum();
    assert_eq!(sends as usize, per("winback"));
    assert!(report::render(&r).contains("campaign winback"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    replay(&format!("sqlite://{}", dir.path().join("shop.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("simulate").await.expect("database");
    replay(&url).await;
}
