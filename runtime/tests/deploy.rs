//! Deployments on SQLite and PostgreSQL: a daemon restarted with a new
//! deployment keeps running enrollments on the plan they began with, new
//! enrollments follow the new plans, a removed campaign's journeys finish,
//! every enrollment and ledger row records the deployment that made it,
//! and rolling back is starting the old deployment again.

mod support;

use camp_compiler::plan::deployment::Manifest;
use camp_compiler::plan::Deployment;
use camp_runtime::binds::BindValue;
use camp_runtime::channels::Recorder;
use camp_runtime::db::CellsExt;
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::{simulate, Database};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use support::t;

/// Version 1: a welcome an hour after an app open, and a second campaign
/// that version 2 removes.
const V1: &str = r##"
campaign deploy_welcome {
  kind info
  channel lms
  trigger on app_open
  wait 1h
  send deploy_welcome_note
}

message deploy_welcome_note {
  "#{고객명}님, 첫 번째 안내입니다."
}

campaign deploy_gone {
  kind info
  channel lms
  trigger on app_open
  wait 2h
  send deploy_gone_note
}

message deploy_gone_note {
  "#{고객명}님, 곧 사라질 캠페인의 안내입니다."
}
"##;

/// Version 2: the welcome's copy changed, `deploy_gone` removed.
const V2: &str = r##"
campaign deploy_welcome {
  kind info
  channel lms
  trigger on app_open
  wait 1h
  send deploy_welcome_note
}

message deploy_welcome_note {
  "#{고객명}님, 두 번째 안내입니다."
}
"##;

fn deployment_of(text: &str, names: &[&str]) -> Deployment {
    let analysis = support::workspace(&[("deploy.camp", text)]);
    support::deployment(&analysis, names)
}

async fn runner(db: &Database, d: Deployment, now: DateTime<Utc>, recorder: &Recorder) -> camp_runtime::engine::Runner {
    camp_runtime::engine::Runner::start(
        db.clone(),
        d,
        camp_runtime::channels::ChannelSet::all(std::sync::Arc::new(recorder.clone())),
        camp_runtime::engine::Options::default(),
        now,
    )
    .await
    .expect("the runner starts")
}

async fn open_app(r: &camp_runtime::engine::Runner, now: DateTime<Utc>, customer: i64) {
    let got = support::post(
        r,
        now,
        json!({"type": "app_open", "customer": customer, "time": now.to_rfc3339(), "properties": {"platform": "ios"}}),
    )
    .await;
    assert_eq!(got.accepted, 1, "{:?}", got.quarantined);
}

/// (campaign, plan_hash, deployment) of each enrollment of `customer`, by campaign.
async fn enrollments(db: &Database, customer: i64) -> Vec<(String, String, Option<String>)> {
    let e = support::table(db, "enrollments");
    let ph = match db.backend() {
        camp_runtime::db::Backend::Sqlite => "?1",
        camp_runtime::db::Backend::Postgres => "$1",
    };
    db.rows(
        &format!("SELECT campaign, plan_hash, deployment FROM {e} WHERE customer = {ph} ORDER BY campaign, id"),
        &[BindValue::Text(customer.to_string())],
    )
    .await
    .expect("enrollments")
    .iter()
    .map(|r| (r.text(0).unwrap_or_default(), r.text(1).unwrap_or_default(), r.text(2)))
    .collect()
}

async fn restart(db: Database) {
    let analysis = support::workspace(&[("deploy.camp", V1)]);
    sample::generate(
        &db,
        &support::schema(&analysis),
        &SampleSpec::new(20, t("2026-11-23T00:00:00Z")),
        |_| {},
    )
    .await
    .expect("sample data");
    let v1 = deployment_of(V1, &["deploy_welcome", "deploy_gone"]);
    let v2 = deployment_of(V2, &["deploy_welcome"]);
    assert_ne!(v1.hash, v2.hash);
    let welcome = |d: &Deployment| d.plan("deploy_welcome").map(|p| p.hash.clone()).unwrap_or_default();
    let gone = v1.plan("deploy_gone").map(|p| p.hash.clone()).unwrap_or_default();
    assert_ne!(welcome(&v1), welcome(&v2), "the changed copy is a new plan version");

    // Version 1 enrolls customer 3 in both campaigns, then stops before sending.
    let t0 = t("2026-11-23T01:00:00Z");
    let first = Recorder::default();
    let r1 = runner(&db, v1.clone(), t0, &first).await;
    open_app(&r1, t0, 3).await;
    r1.tick(t0).await.expect("tick");
    r1.stop().await.expect("stop");
    assert!(first.taken().is_empty(), "nothing was due yet");

    // Version 2: customer 3's journeys go on as they began; customer 5 is new.
    let t1 = t0 + Duration::minutes(10);
    let second = Recorder::default();
    let r2 = runner(&db, v2.clone(), t1, &second).await;
    open_app(&r2, t1, 5).await;
    support::drive(&r2, t1, t0 + Duration::hours(3), vec![]).await;
    r2.stop().await.expect("stop");

    let sends = simulate::sends_of(&second);
    let bodies = |customer: &str, campaign: &str| -> Vec<String> {
        sends
            .iter()
            .filter(|s| s.customer == customer && s.campaign == campaign)
            .map(|s| s.body.clone())
            .collect()
    };
    let c3 = bodies("3", "deploy_welcome");
    assert_eq!(c3.len(), 1, "{sends:?}");
    assert!(c3[0].contains("첫 번째 안내"), "a running enrollment keeps its plan: {c3:?}");
    let c5 = bodies("5", "deploy_welcome");
    assert_eq!(c5.len(), 1, "{sends:?}");
    assert!(c5[0].contains("두 번째 안내"), "a new enrollment takes the new plan: {c5:?}");
    assert_eq!(bodies("3", "deploy_gone").len(), 1, "a removed campaign's running journey finishes");
    assert!(bodies("5", "deploy_gone").is_empty(), "a removed campaign enrolls nobody new");

    // Each enrollment records its plan and the deployment that made it.
    assert_eq!(
        enrollments(&db, 3).await,
        vec![
            ("deploy_gone".to_string(), gone.clone(), Some(v1.hash.clone())),
            ("deploy_welcome".to_string(), welcome(&v1), Some(v1.hash.clone())),
        ]
    );
    assert_eq!(
        enrollments(&db, 5).await,
        vec![("deploy_welcome".to_string(), welcome(&v2), Some(v2.hash.clone()))]
    );
    // Every ledger row was made by the second daemon, whatever plan it followed.
    let l = support::table(&db, "ledger");
    let ledger = db
        .rows(
            &format!("SELECT customer, campaign, deployment FROM {l} ORDER BY customer, campaign"),
            &[],
        )
        .await
        .expect("ledger");
    let ledger: Vec<(String, String, Option<String>)> = ledger
        .iter()
        .map(|r| (r.text(0).unwrap_or_default(), r.text(1).unwrap_or_default(), r.text(2)))
        .collect();
    assert_eq!(
        ledger,
        vec![
            ("3".into(), "deploy_gone".into(), Some(v2.hash.clone())),
            ("3".into(), "deploy_welcome".into(), Some(v2.hash.clone())),
            ("5".into(), "deploy_welcome".into(), Some(v2.hash.clone())),
        ]
    );

    // Rolling back is starting version 1 again: new enrollments follow it.
    let t2 = t0 + Duration::hours(4);
    let third = Recorder::default();
    let r3 = runner(&db, v1.clone(), t2, &third).await;
    open_app(&r3, t2, 7).await;
    support::drive(&r3, t2, t2 + Duration::hours(3), vec![]).await;
    r3.stop().await.expect("stop");
    assert_eq!(
        enrollments(&db, 7).await,
        vec![
            ("deploy_gone".to_string(), gone, Some(v1.hash.clone())),
            ("deploy_welcome".to_string(), welcome(&v1), Some(v1.hash.clone())),
        ]
    );
    let after = simulate::sends_of(&third);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.iter().any(|s| s.body.contains("첫 번째 안내")), "{after:?}");

    // The store keeps each deployment once, with its manifest.
    let d = support::table(&db, "deployments");
    let rows = db
        .rows(
            &format!("SELECT hash, format_version, deployed_ms, manifest FROM {d} ORDER BY deployed_ms"),
            &[],
        )
        .await
        .expect("deployments");
    assert_eq!(rows.len(), 2, "version 1 is recorded once, from its first start");
    for (row, (dep, at)) in rows.iter().zip([(&v1, t0), (&v2, t1)]) {
        assert_eq!(row.text(0).as_deref(), Some(dep.hash.as_str()));
        assert_eq!(row.int(1), Some(1));
        assert_eq!(row.int(2), Some(at.timestamp_millis()));
        let manifest = Manifest::from_json(&row.text(3).unwrap_or_default()).expect("a valid manifest");
        assert_eq!(manifest, dep.manifest());
    }
    let p = support::table(&db, "plans");
    assert_eq!(support::count(&db, &format!("SELECT COUNT(*) FROM {p}"), &[]).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_deployment_leaves_running_enrollments_on_their_plan_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    restart(Database::create(&url).await.expect("sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_deployment_leaves_running_enrollments_on_their_plan_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("deploy").await.expect("database");
    restart(Database::connect(&url).await.expect("postgres")).await;
}

/// A store made before migration 0006, with a journey running: it
/// migrates on start, the journey goes on, and its row keeps a NULL
/// deployment while the rows made from then on record theirs.
async fn old_store(db: Database) {
    let analysis = support::workspace(&[("deploy.camp", V1)]);
    sample::generate(
        &db,
        &support::schema(&analysis),
        &SampleSpec::new(10, t("2026-11-23T00:00:00Z")),
        |_| {},
    )
    .await
    .expect("sample data");
    let v1 = deployment_of(V1, &["deploy_welcome"]);
    let t0 = t("2026-11-23T01:00:00Z");
    let recorder = Recorder::default();
    let r = runner(&db, v1.clone(), t0, &recorder).await;
    open_app(&r, t0, 3).await;
    r.tick(t0).await.expect("tick");
    r.stop().await.expect("stop");
    // Take the store back to before migration 0006.
    let (e, l, d, m) = (
        support::table(&db, "enrollments"),
        support::table(&db, "ledger"),
        support::table(&db, "deployments"),
        support::table(&db, "migrations"),
    );
    for sql in [
        format!("DROP TABLE {d}"),
        format!("ALTER TABLE {e} DROP COLUMN deployment"),
        format!("ALTER TABLE {l} DROP COLUMN deployment"),
        format!("DELETE FROM {m} WHERE version = 6"),
    ] {
        db.execute(&sql, &[]).await.expect(&sql);
    }
    let t1 = t0 + Duration::minutes(1);
    let r = runner(&db, v1.clone(), t1, &recorder).await;
    open_app(&r, t1, 5).await;
    support::drive(&r, t1, t0 + Duration::hours(2), vec![]).await;
    r.stop().await.expect("stop");
    assert_eq!(simulate::sends_of(&recorder).len(), 2, "the old journey and the new one send");
    let plan = v1.plan("deploy_welcome").map(|p| p.hash.clone()).unwrap_or_default();
    assert_eq!(enrollments(&db, 3).await, vec![("deploy_welcome".to_string(), plan.clone(), None)]);
    assert_eq!(
        enrollments(&db, 5).await,
        vec![("deploy_welcome".to_string(), plan, Some(v1.hash.clone()))]
    );
    assert_eq!(
        support::count(&db, &format!("SELECT COUNT(*) FROM {l} WHERE deployment = '{}'", v1.hash), &[]).await,
        2,
        "both sends were recorded after the migration"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_from_before_deployments_migrates_and_goes_on_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    old_store(Database::create(&url).await.expect("sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_from_before_deployments_migrates_and_goes_on_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("deploy_old").await.expect("database");
    old_store(Database::connect(&url).await.expect("postgres")).await;
}
