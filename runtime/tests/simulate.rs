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
