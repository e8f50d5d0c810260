//! Several daemons on one PostgreSQL, ticking together on a virtual clock:
//! three ad campaigns due at the same instant for the same customers, a
//! policy cap of 2 ads a day and 1 SMS a day, the law's one brand message
//! a day, fallbacks from brand to SMS. No send is recorded or delivered twice and no cap is exceeded.

mod support;

use camp_runtime::channels::{ChannelSet, Outcome, Recorder};
use camp_runtime::db::CellsExt;
use camp_runtime::engine::experiment::bucket;
use camp_runtime::engine::{Options, Runner};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use chrono::Duration;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use support::t;

const FLASH: &str = r##"
campaign flash_a {
  kind ad
  channel lms
  trigger at 2026-12-04 12:00
  audience customer.marketing_consent
  priority 5
  send flash_note
}

campaign flash_b {
  kind ad
  channel brand fallback sms after 2h
  trigger at 2026-12-04 12:00
  audience customer.marketing_consent
  priority 1
  send flash_note
}

message flash_note {
  "(광고) #{sender}
  오늘 단 하루 특가!
  #{optout}"
}
"##;

async fn daemons(n: usize) {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("daemons").await.expect("database");
    let db = Database::connect(&url).await.expect("postgres");
    let analysis = support::workspace(&[("flash.camp", FLASH)]);
    let start = t("2026-12-04T02:00:00Z");
    sample::generate(&db, &support::schema(&analysis), &SampleSpec::new(2_000, start), |_| {})
        .await
        .expect("sample");
    // Most brand messages are delivered; some get no receipt and fall back to SMS.
    let recorder = Recorder::new(|o| {
        if o.channel == "brand" && bucket("receipt", &o.key) < 20.0 {
            Outcome::Sent
        } else {
            Outcome::Delivered
        }
    });
    let names = ["flash_a", "flash_b", "year_end_sale"];
    let mut runners = Vec::new();
    for _ in 0..n {
        let db = Database::connect(&url).await.expect("postgres");
        let opts = Options {
            batch: 50,
            ..Options::default()
        };
        let channels = ChannelSet::all(Arc::new(recorder.clone()));
        runners.push(Arc::new(support::runner_with(&db, &analysis, &names, start, channels, opts).await));
    }
    let mut now = start;
    let end = start + Duration::days(3);
    let mut work = vec![0u64; n];
    loop {
        let mut ticks = tokio::task::JoinSet::new();
        for (i, r) in runners.iter().enumerate() {
            let r: Arc<Runner> = r.clone();
            ticks.spawn(async move { (i, r.tick(now).await.expect("tick")) });
        }
        while let Some(done) = ticks.join_next().await {
            let (i, tick) = done.expect("tick task");
            work[i] += tick.sends;
        }
        match runners[0].next_due(now).await.expect("next due") {
            Some(next) if next <= end => now = next,
            _ => break,
        }
    }
    eprintln!("{n} daemons: sends recorded by each: {work:?}");

    let l = support::table(&db, "ledger");
    let rows = db
        .rows(&format!("SELECT customer, channel, attempt, created_ms, idempotency_key, status FROM {l} WHERE status NOT IN ('held', 'suppressed')"), &[])
        .await
        .expect("ledger");
    let delivered = recorder.taken();
    let keys: HashSet<&str> = delivered.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys.len(), delivered.len(), "no send delivered twice");
    assert_eq!(delivered.len(), rows.len(), "every recorded send delivered once");
    let mut per: BTreeMap<String, Vec<(String, i64, i64)>> = BTreeMap::new();
    for r in &rows {
        per.entry(r.text(0).expect("customer")).or_default().push((
            r.text(1).expect("channel"),
            r.int(2).expect("attempt"),
            r.int(3).expect("time"),
        ));
    }
    let day = 86_400_000;
    for (customer, sends) in &per {
        for (_, _, at) in sends {
            let ads = sends.iter().filter(|(_, a, t)| *a == 0 && *t > at - day && t <= at).count();
            assert!(ads <= 2, "customer {customer}: {ads} ads within a day");
            let sms = sends.iter().filter(|(c, _, t)| c == "sms" && *t > at - day && t <= at).count();
            assert!(sms <= 1, "customer {customer}: {sms} SMS within a day");
        }
    }
    // Every consenting customer is eligible for both flash sales: each got
    // exactly two ads, whatever the order the daemons took them in.
    let consenting = db
        .rows("SELECT \"id\" FROM \"customers\" WHERE \"marketing_consent\"", &[])
        .await
        .expect("customers");
    assert!(consenting.len() > 500);
    for c in consenting.iter().filter_map(|r| r.int(0)) {
        let ads = per.get(&c.to_string()).map_or(0, |s| s.iter().filter(|(_, a, _)| *a == 0).count());
        assert_eq!(ads, 2, "customer {c}");
    }
    let fallbacks = rows.iter().filter(|r| r.int(2).unwrap_or(0) > 0).count();
    assert!(fallbacks > 0, "some brand messages fell back to SMS");
    for r in runners {
        r.stop().await.expect("stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_daemons_share_the_work() {
    daemons(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_daemons_share_the_work() {
    daemons(4).await;
}
