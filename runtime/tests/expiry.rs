//! `send M expires ..` on SQLite and PostgreSQL, on a virtual clock: a
//! flash sale that ends 3 hours after it starts ("3시간 후 종료") goes out
//! when it is due outside quiet hours, and is dropped as expired when
//! quiet hours would defer it past its end; the journey goes on.

mod support;

use camp_runtime::binds::BindValue;
use camp_runtime::channels::Recorder;
use camp_runtime::db::CellsExt;
use camp_runtime::engine::Runner;
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::{report, Database};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use support::t;

const CAMPAIGNS: &str = r##"
campaign flash_sale {
  kind ad
  channel brand
  trigger on cart_add
  audience customer.marketing_consent
  quiet hours 21:00..08:00 defer
  send flash expires after 3h
  wait 1d
  send flash_last_call
}

campaign flash_sale_long {
  kind ad
  channel brand
  trigger on cart_add
  audience customer.marketing_consent
  quiet hours 21:00..08:00 defer
  send flash expires after 12h
}

campaign flash_fallback {
  kind ad
  channel brand fallback lms after 1h
  trigger on cart_add
  audience customer.marketing_consent
  quiet hours 21:00..08:00 defer
  send flash expires after 3h
}

campaign evening_only {
  kind ad
  channel brand
  trigger on cart_add
  audience customer.marketing_consent
  wait 2h
  send flash expires at 21:00
}

message flash {
  "(광고) #{sender}
  #{고객명}님, 3시간 한정 특가가 시작됐어요.
  #{optout}"
}

message flash_last_call {
  "(광고) #{sender}
  #{고객명}님, 장바구니 상품을 다시 확인해 보세요.
  #{optout}"
}
"##;

/// Monday 2026-11-23 10:00 in Seoul.
fn start() -> DateTime<Utc> {
    t("2026-11-23T01:00:00Z")
}

/// Monday at `hour`:`minute` in Seoul (UTC+9).
fn seoul(hour: i64, minute: i64) -> DateTime<Utc> {
    start() + Duration::hours(hour - 10) + Duration::minutes(minute)
}

async fn sqlite() -> (Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    (Database::create(&url).await.expect("sqlite"), dir)
}

/// Plays carts of customers at instants through one campaign; returns
/// each customer's sends (message, instant) and the ledger's
/// (customer, message, status, reason).
async fn play(
    db: &Database,
    analysis: &camp_compiler::Analysis,
    campaign: &str,
    carts: &[(i64, DateTime<Utc>)],
    recorder: Recorder,
) -> (
    Runner,
    Recorder,
    Vec<(i64, String, DateTime<Utc>)>,
    Vec<(i64, String, String, String)>,
) {
    let runner = support::runner(db, analysis, &[campaign], start(), &recorder).await;
    let mut now = start();
    let mut carts = carts.to_vec();
    carts.sort_by_key(|(_, at)| *at);
    for (who, at) in carts {
        now = support::drive(&runner, now, at, vec![at]).await;
        let event = json!({"type": "cart_add", "customer": who, "time": at.to_rfc3339(), "properties": {"product": 1, "price": 25_900}});
        assert_eq!(support::post(&runner, now, event).await.accepted, 1);
    }
    support::drive(&runner, now, start() + Duration::days(4), vec![]).await;
    let mut sent: Vec<(i64, String, DateTime<Utc>)> = recorder
        .taken()
        .iter()
        .filter_map(|r| {
            let p: serde_json::Value = serde_json::from_str(&r.payload).ok()?;
            (p["campaign"] == json!(campaign)).then(|| {
                (
                    p["customer"].as_str().and_then(|c| c.parse().ok()).unwrap_or(-1),
                    format!(
                        "{}{}",
                        p["message"].as_str().unwrap_or_default(),
                        if p["attempt"] == json!(0) { "" } else { " (fallback)" }
                    ),
                    camp_runtime::binds::parse_instant(p["created_at"].as_str().unwrap_or_default()).unwrap_or(start()),
                )
            })
        })
        .collect();
    sent.sort();
    let l = support::table(db, "ledger");
    let ph = match db.backend() {
        camp_runtime::db::Backend::Sqlite => "?1",
        camp_runtime::db::Backend::Postgres => "$1",
    };
    let ledger = db
        .rows(
            &format!("SELECT customer, channel, status, COALESCE(reason, '') FROM {l} WHERE campaign = {ph} ORDER BY customer, id"),
            &[BindValue::Text(campaign.to_string())],
        )
        .await
        .expect("ledger")
        .iter()
        .map(|r| {
            (
                r.text(0).and_then(|c| c.parse().ok()).unwrap_or(-1),
                r.text(1).unwrap_or_default(),
                r.text(2).unwrap_or_default(),
                r.text(3).unwrap_or_default(),
            )
        })
        .collect();
    (runner, recorder, sent, ledger)
}

async fn expiry(db: Database) {
    let analysis = support::workspace(&[("expiry.camp", CAMPAIGNS)]);
    let spec = SampleSpec::new(200, start() - Duration::hours(1));
    sample::generate(&db, &support::schema(&analysis), &spec, |_| {})
        .await
        .expect("sample data");
    let people = support::consenting(&db, "flash_sale", 0.0, 8).await;
    assert_eq!(people.len(), 8);
    let (a, b, c, d, e, f, g, h) = (
        people[0], people[1], people[2], people[3], people[4], people[5], people[6], people[7],
    );
    let tuesday_8 = seoul(8 + 24, 0);

    // Due at 17:00 and 20:00: outside quiet hours, sent at once. Due at
    // 22:00: quiet hours would defer it to 08:00, 10 hours on, past its 3
    // hours: dropped as expired, and the journey goes on to its last call
    // (22:00 on Tuesday, deferred to Wednesday 08:00).
    let (runner, _rec, sent, ledger) = play(
        &db,
        &analysis,
        "flash_sale",
        &[(a, seoul(17, 0)), (b, seoul(20, 0)), (c, seoul(22, 0))],
        Recorder::default(),
    )
    .await;
    let flash: Vec<_> = sent.iter().filter(|s| s.1 == "flash").cloned().collect();
    assert_eq!(
        flash,
        [(a, "flash".to_string(), seoul(17, 0)), (b, "flash".to_string(), seoul(20, 0))],
        "{sent:?}"
    );
    assert!(
        ledger.contains(&(c, "brand".to_string(), "suppressed".to_string(), "expired".to_string())),
        "{ledger:?}"
    );
    assert!(
        sent.contains(&(c, "flash_last_call".to_string(), tuesday_8 + Duration::days(1))),
        "the journey moves on after an expired send: {sent:?}"
    );
    let r = report::report(&runner.store, "flash_sale").await.expect("report");
    assert_eq!(r.suppressed, [("expired".to_string(), 1)]);
    assert!(report::render(&r).contains("not sent (expired): 1"));
    runner.stop().await.expect("stop");

    // With 12 hours to live, the deferred send still goes at 08:00.
    let (runner, _rec, sent, _) = play(&db, &analysis, "flash_sale_long", &[(d, seoul(22, 0))], Recorder::default()).await;
    assert_eq!(sent, [(d, "flash".to_string(), tuesday_8)]);
    runner.stop().await.expect("stop");

    // `expires at 21:00`: due at 20:00 it goes; due at 21:30 (the same
    // day, after 21:00) it is dropped.
    let (runner, _rec, sent, ledger) = play(
        &db,
        &analysis,
        "evening_only",
        &[(e, seoul(18, 0)), (f, seoul(19, 30))],
        Recorder::default(),
    )
    .await;
    assert_eq!(sent, [(e, "flash".to_string(), seoul(20, 0))]);
    assert_eq!(
        ledger.iter().filter(|l| l.0 == f).cloned().collect::<Vec<_>>(),
        [(f, "brand".to_string(), "suppressed".to_string(), "expired".to_string())]
    );
    runner.stop().await.expect("stop");

    // A fallback is the same send: brand reports no delivery, so LMS
    // follows an hour later, unless quiet hours would push it past the
    // send's 3 hours (the cart at 20:30: LMS due 21:30, deferred to 08:00).
    let unconfirmed = Recorder::new(|o| {
        if o.channel == "brand" {
            camp_runtime::channels::Outcome::Sent
        } else {
            camp_runtime::channels::Outcome::Delivered
        }
    });
    let (runner, _rec, sent, ledger) = play(
        &db,
        &analysis,
        "flash_fallback",
        &[(g, seoul(17, 0)), (h, seoul(20, 30))],
        unconfirmed,
    )
    .await;
    // (A fallback re-sends the first attempt's payload, its time included.)
    let sent: Vec<(i64, String)> = sent.into_iter().map(|(who, m, _)| (who, m)).collect();
    assert_eq!(
        sent,
        [
            (g, "flash".to_string()),
            (g, "flash (fallback)".to_string()),
            (h, "flash".to_string())
        ]
    );
    assert!(
        ledger.contains(&(g, "lms".to_string(), "delivered".to_string(), String::new())),
        "{ledger:?}"
    );
    assert!(
        ledger.contains(&(h, "lms".to_string(), "suppressed".to_string(), "expired".to_string())),
        "{ledger:?}"
    );
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_on_sqlite() {
    let (db, _dir) = sqlite().await;
    expiry(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("expiry").await.expect("database");
    expiry(Database::connect(&url).await.expect("postgres")).await;
}
