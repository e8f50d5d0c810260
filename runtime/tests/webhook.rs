//! The webhook channel against a local receiver: retries with backoff on
//! 5xx and timeouts, no retry on 4xx, dead letters after the last try, a
//! hanging receiver, signatures, idempotency keys and the rate limit.

mod support;

use camp_runtime::channels::webhook::{signature, Webhook, WebhookConfig};
use camp_runtime::channels::{Channel, ChannelSet, Outcome, Outgoing};
use camp_runtime::engine::Options;
use camp_runtime::receiver::{Receiver, Reply};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::Database;
use chrono::Duration;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};
use support::t;

const PROBE: &str = r##"
campaign hook_probe {
  kind info
  channel push
  trigger on app_open
  send hook_note
}

message hook_note {
  title "캠프샵"
  "#{고객명}님, 새 소식이 있어요."
}
"##;

const SECRET: &[u8] = b"s3cret";

fn hook(url: &str, timeout_ms: u64, rate: Option<f64>) -> Webhook {
    Webhook::new(WebhookConfig {
        name: "push".into(),
        url: url.to_string(),
        secret: Some(SECRET.to_vec()),
        rate_per_second: rate,
        timeout: StdDuration::from_millis(timeout_ms),
        max_in_flight: 8,
        receipts: false,
    })
    .expect("a webhook")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn faults_are_retried_refused_or_dead_lettered() {
    // By customer: 1 fine; 2 fails twice with 500 then takes it; 3 is a
    // bad request; 4 hangs; 5 always fails.
    let receiver = Receiver::start(|hit| {
        let customer = serde_json::from_str::<serde_json::Value>(&hit.body)
            .ok()
            .and_then(|p| p["customer"].as_str().map(str::to_string))
            .unwrap_or_default();
        match customer.as_str() {
            "2" if hit.attempt <= 2 => Reply::Status(500),
            "3" => Reply::Status(400),
            "4" => Reply::After(StdDuration::from_secs(5), 200),
            "5" => Reply::Status(503),
            _ => Reply::Status(200),
        }
    })
    .await
    .expect("receiver");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::create(&format!("sqlite://{}", dir.path().join("shop.db").display()))
        .await
        .expect("sqlite");
    let analysis = support::workspace(&[("probe.camp", PROBE)]);
    sample::generate(
        &db,
        &support::schema(&analysis),
        &SampleSpec::new(20, t("2026-11-23T00:00:00Z")),
        |_| {},
    )
    .await
    .expect("sample");
    let now = t("2026-11-23T01:00:00Z");
    let mut channels = ChannelSet::new();
    channels.insert("push", Arc::new(hook(&receiver.url, 300, None)));
    let opts = Options {
        max_tries: 4,
        ..Options::default()
    };
    let runner = support::runner_with(&db, &analysis, &["hook_probe"], now, channels, opts).await;
    let events: Vec<_> = (1..=5)
        .map(|c| json!({"type": "app_open", "customer": c, "properties": {"platform": "ios"}}))
        .collect();
    assert_eq!(support::post(&runner, now, json!(events)).await.accepted, 5);
    let started = Instant::now();
    support::drive(&runner, now, now + Duration::hours(1), vec![]).await;
    assert!(
        started.elapsed() < StdDuration::from_secs(20),
        "a hanging receiver costs its timeout, not more"
    );

    let hits = receiver.hits();
    let of = |c: &str| {
        hits.iter()
            .filter(|h| h.body.contains(&format!("\"customer\":\"{c}\"")))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(of("1").len(), 1, "a 200 is sent once");
    assert_eq!(of("2").len(), 3, "two 500s, then a 200");
    assert_eq!(of("3").len(), 1, "a 400 is not retried");
    assert_eq!(of("4").len(), 4, "a hanging receiver times out on every try");
    assert_eq!(of("5").len(), 4, "503 until the last try");
    for h in &hits {
        let payload: serde_json::Value = serde_json::from_str(&h.body).expect("JSON body");
        assert_eq!(
            payload["id"].as_str(),
            Some(h.key.as_str()),
            "the idempotency key is the payload's id"
        );
        let ts = h.timestamp.clone().expect("a timestamp header");
        assert_eq!(
            h.signature.as_deref(),
            Some(signature(SECRET, &ts, &h.body).as_str()),
            "a valid signature"
        );
    }
    let retried = of("2");
    assert!(
        retried.iter().all(|h| h.key == retried[0].key && h.body == retried[0].body),
        "retries repeat the same key and body"
    );

    let l = support::table(&db, "ledger");
    let status = |c: &str| {
        let db = db.clone();
        let l = l.clone();
        let c = c.to_string();
        async move {
            let rows = db
                .rows(&format!("SELECT status FROM {l} WHERE customer = '{c}'"), &[])
                .await
                .expect("status");
            rows.first().and_then(|r| match r.first() {
                Some(camp_runtime::db::Raw::Text(s)) => Some(s.clone()),
                _ => None,
            })
        }
    };
    // No receipts from this endpoint: a 2xx is the delivery.
    assert_eq!(status("1").await.as_deref(), Some("delivered"));
    assert_eq!(status("2").await.as_deref(), Some("delivered"));
    assert_eq!(status("3").await.as_deref(), Some("dead"));
    assert_eq!(status("4").await.as_deref(), Some("dead"));
    assert_eq!(status("5").await.as_deref(), Some("dead"));
    let d = support::table(&db, "dead_letters");
    assert_eq!(support::count(&db, &format!("SELECT COUNT(*) FROM {d}"), &[]).await, 3);
    // Retries waited longer each time: 2s, 4s, 8s on the engine's clock.
    let tries = support::count(&db, &format!("SELECT MAX(tries) FROM {l}"), &[]).await;
    assert_eq!(tries, 4);
    runner.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_rate_limit_holds() {
    let receiver = Receiver::start(|_| Reply::Status(200)).await.expect("receiver");
    let channel = hook(&receiver.url, 2_000, Some(20.0));
    let batch: Vec<Outgoing> = (0..40)
        .map(|i| Outgoing {
            ledger: i,
            key: format!("camp-{i}-0-0"),
            channel: "push".into(),
            payload: json!({"id": format!("camp-{i}-0-0")}).to_string(),
            tries: 0,
        })
        .collect();
    let started = Instant::now();
    let out = channel.deliver(batch).await;
    let took = started.elapsed();
    assert!(out.iter().all(|(_, o)| *o == Outcome::Delivered));
    assert_eq!(receiver.hits().len(), 40);
    // 20 at once (the burst), then 20 more at 20 a second.
    assert!(took >= StdDuration::from_millis(900), "40 sends at 20/s took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_is_retried() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    drop(listener);
    let channel = hook(&url, 500, None);
    let out = channel
        .deliver(vec![Outgoing {
            ledger: 1,
            key: "camp-1-0-0".into(),
            channel: "push".into(),
            payload: "{}".into(),
            tries: 0,
        }])
        .await;
    assert!(matches!(out[0].1, Outcome::Retry(_)), "{:?}", out[0].1);
}
