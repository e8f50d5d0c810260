//! The cart journey end to end, on SQLite and PostgreSQL, on a virtual
//! clock: reminders at 24h, 48h and 72h after the cart, and an exit on
//! purchase at each stage.

mod support;

use camp_runtime::channels::Recorder;
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use chrono::Duration;
use serde_json::json;
use support::t;

async fn journey(db: Database) {
    let analysis = support::workspace(&[]);
    let start = t("2026-11-23T01:00:00Z"); // Monday 10:00 in Seoul
    let spec = SampleSpec::new(400, start - Duration::hours(1));
    sample::generate(&db, &support::schema(&analysis), &spec, |_| {})
        .await
        .expect("sample data");
    let recorder = Recorder::default();
    let runner = support::runner(&db, &analysis, &["cart_reminder"], start, &recorder).await;
    let people = support::consenting(&db, "cart_reminder", 10.0, 4).await;
    assert_eq!(people.len(), 4, "four customers to follow");
    let (never, early, middle, late) = (people[0], people[1], people[2], people[3]);

    // Everyone adds a 25,900원 product to the cart at 10:00.
    let carts: Vec<_> = people
        .iter()
        .map(|c| json!({"type": "cart_add", "customer": c, "time": start.to_rfc3339(), "properties": {"product": 1, "price": 25_900}}))
        .collect();
    let got = support::post(&runner, start, json!(carts)).await;
    assert_eq!(got.accepted, 4, "{got:?}");
    // A cheap item does not trigger the campaign (its filter is price >= 10,000).
    let cheap = support::post(
        &runner,
        start,
        json!({"type": "cart_add", "customer": never, "properties": {"product": 2, "price": 900}}),
    )
    .await;
    assert_eq!(cheap.accepted, 1);

    // Purchases: before the first reminder, between the first and second,
    // between the second and third.
    let buy_at = [
        (early, start + Duration::hours(12)),
        (middle, start + Duration::hours(30)),
        (late, start + Duration::hours(60)),
    ];
    let mut now = start;
    for (who, when) in buy_at {
        now = support::drive(&runner, now, when, vec![when]).await;
        assert_eq!(now, when);
        let order = json!({"type": "purchase", "customer": who, "time": when.to_rfc3339(), "properties": {"order_id": format!("O-{who}"), "amount": 25_900}});
        assert_eq!(support::post(&runner, now, order).await.accepted, 1);
    }
    support::drive(&runner, now, start + Duration::days(5), vec![]).await;

    let sent = recorder.taken();
    let of = |who: i64| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = sent
            .iter()
            .filter_map(|r| {
                let p: serde_json::Value = serde_json::from_str(&r.payload).ok()?;
                (p["customer"] == json!(who.to_string())).then(|| {
                    (
                        p["message"].as_str().unwrap_or_default().to_string(),
                        p["created_at"].as_str().unwrap_or_default().to_string(),
                    )
                })
            })
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    let at = |h: i64| (start + Duration::hours(h)).to_rfc3339();
    assert_eq!(
        of(never),
        vec![
            ("cart_remind".to_string(), at(24)),
            ("cart_free_shipping".to_string(), at(48)),
            ("cart_coupon".to_string(), at(72)),
        ],
        "no purchase: all three reminders, 24h apart"
    );
    assert_eq!(of(early), vec![], "bought before the first reminder");
    assert_eq!(of(middle), vec![("cart_remind".to_string(), at(24))], "bought after the first");
    assert_eq!(
        of(late),
        vec![("cart_remind".to_string(), at(24)), ("cart_free_shipping".to_string(), at(48))],
        "bought after the second"
    );
    assert_eq!(sent.len(), 6, "nothing else was sent");
    // The rendered text names the customer's product and price.
    let first = sent.iter().find(|r| r.payload.contains("cart_remind")).expect("a reminder");
    assert!(first.payload.contains("25,900원"), "{}", first.payload);
    assert!(first.payload.contains("(광고)"), "{}", first.payload);

    let e = support::table(&db, "enrollments");
    assert_eq!(
        support::count(&db, &format!("SELECT COUNT(*) FROM {e}"), &[]).await,
        4,
        "one enrollment per qualifying cart"
    );
    assert_eq!(
        support::count(&db, &format!("SELECT COUNT(*) FROM {e} WHERE state = 'exited'"), &[]).await,
        3,
        "three exits on purchase"
    );
    let l = support::table(&db, "ledger");
    assert_eq!(
        support::count(&db, &format!("SELECT COUNT(*) FROM {l} WHERE status = 'delivered'"), &[]).await,
        6
    );
    // Purchases after a send convert (goal: purchase within 7 days).
    let c = support::table(&db, "conversions");
    assert_eq!(support::count(&db, &format!("SELECT COUNT(*) FROM {c}"), &[]).await, 2);
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cart_journey_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    journey(Database::create(&url).await.expect("sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cart_journey_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("journey").await.expect("database");
    journey(Database::connect(&url).await.expect("postgres")).await;
}
