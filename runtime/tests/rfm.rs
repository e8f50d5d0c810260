//! rfm scores and ties, on a real SQLite file and a real PostgreSQL server:
//! with n the customers scored and b those whose metric is strictly lower,
//! a score is `1 + floor(5 * b / n)`, so customers with equal metrics get
//! equal scores (NTILE split them by key), and customers without the event
//! in the window have none.

use camp_compiler::lower::{queries, Dialect, Postgres, Sqlite};
use camp_compiler::program::Program;
use camp_compiler::{Input, Workspace};
use camp_runtime::binds::{BindValue, Bindings};
use camp_runtime::testing::TestPostgres;
use camp_runtime::{Database, Key};
use chrono::{DateTime, Duration, Utc};

const SCHEMA: &str = r#"
schema {
  customer from "customers" key id {
    id: id
    name: text
    marketing_consent: consent
    timezone: tz = "Asia/Seoul"
  }
  event purchase from "orders" customer customer_id time ordered_at { order_id: text, amount: money }
}
policy {
  timezone "Asia/Seoul"
  sender "테스트샵 02-000-0000"
  optout "무료수신거부 080-000-0000"
}
"#;

fn now() -> DateTime<Utc> {
    camp_runtime::binds::parse_instant("2026-11-23T03:00:00.250Z").expect("a valid instant")
}

/// (customer, purchases as (days ago, amount)).
fn histories() -> Vec<(i64, Vec<(i64, i64)>)> {
    let mut out = Vec::new();
    // Ten customers with identical histories: one purchase each.
    for id in 1..=10 {
        out.push((id, vec![(30, 1_000)]));
    }
    out.push((11, vec![(40, 2_000), (20, 2_000)]));
    out.push((12, vec![(50, 1_000), (30, 1_000), (10, 1_000)]));
    out.push((13, vec![(9, 10_000), (7, 10_000), (5, 10_000), (3, 10_000), (1, 10_000)]));
    // No purchase at all, and one outside the window only.
    out.push((14, vec![]));
    out.push((15, vec![(400, 5_000)]));
    out
}

/// The expected [r, f, m] per customer; n = 13 scored.
fn expected(id: i64) -> Option<[i64; 3]> {
    match id {
        // b = 0 in every metric.
        1..=10 => Some([1, 1, 1]),
        // r: b = 10 (1 + 50/13 = 4); f: b = 10; m (4,000): b = 11 (1 + 55/13 = 5).
        11 => Some([4, 4, 5]),
        // r: b = 11; f: b = 11; m (3,000): b = 10.
        12 => Some([5, 5, 4]),
        13 => Some([5, 5, 5]),
        _ => None,
    }
}

async fn write(db: &Database) {
    let d = db.dialect();
    let ph = |n: usize| d.placeholder(n);
    for (id, purchases) in histories() {
        db.execute(
            &format!(
                "INSERT INTO customers (id, name, marketing_consent, timezone) VALUES ({}, {}, {}, {})",
                ph(1),
                ph(2),
                ph(3),
                ph(4)
            ),
            &[
                BindValue::Int(id),
                BindValue::Text(format!("고객 {id}")),
                BindValue::Bool(true),
                BindValue::Text("Asia/Seoul".into()),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("customer {id}: {e}"));
        for (i, (days, amount)) in purchases.iter().enumerate() {
            db.execute(
                &format!(
                    "INSERT INTO orders (customer_id, ordered_at, order_id, amount) VALUES ({}, {}, {}, {})",
                    ph(1),
                    ph(2),
                    ph(3),
                    ph(4)
                ),
                &[
                    BindValue::Int(id),
                    BindValue::Timestamp(now() - Duration::days(*days)),
                    BindValue::Text(format!("O{id}-{i}")),
                    BindValue::Int(*amount),
                ],
            )
            .await
            .unwrap_or_else(|e| panic!("order of {id}: {e}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equal_histories_get_equal_scores_on_both_databases() {
    // Every score value through the grouped semi-join (`== v`), through a
    // value the SQL computes per customer (`+ 0`), and `is null`.
    let mut source = String::new();
    for s in ["r", "f", "m"] {
        for v in 1..=5 {
            source.push_str(&format!("segment {s}_{v} = rfm(purchase.amount within 365d).{s} == {v}\n"));
            source.push_str(&format!(
                "segment {s}_{v}_value = rfm(purchase.amount within 365d).{s} + 0 == {v}\n"
            ));
        }
        source.push_str(&format!("segment {s}_none = rfm(purchase.amount within 365d).{s} is null\n"));
    }
    source.push_str("segment top = rfm(purchase.amount within 365d).r >= 4 and rfm(purchase.amount within 365d).m >= 4\n");
    let mut ws = Workspace::new();
    ws.add("schema.camp", Input::Text(SCHEMA.to_string()));
    ws.add("cases.camp", Input::Text(source));
    let analysis = camp_compiler::analyze(&ws);
    let errors: Vec<String> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code.id, d.message))
        .collect();
    assert!(errors.is_empty(), "the cases check clean: {errors:?}");
    let program = Program::new(&analysis).expect("clean");

    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Database::create(&format!("sqlite://{}", dir.path().join("rfm.db").display()))
        .await
        .expect("sqlite opens");
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("rfm").await.expect("database created");
    let postgres = Database::connect(&url).await.expect("postgres connects");
    for db in [&sqlite, &postgres] {
        camp_runtime::sample::create_tables(db, &program.schema)
            .await
            .expect("tables created");
        write(db).await;
    }

    let ids: Vec<i64> = histories().iter().map(|(id, _)| *id).collect();
    let want = |f: &dyn Fn(Option<[i64; 3]>) -> bool| -> Vec<i64> { ids.iter().copied().filter(|id| f(expected(*id))).collect() };
    let mut cases: Vec<(String, Vec<i64>)> = Vec::new();
    for (slot, s) in ["r", "f", "m"].iter().enumerate() {
        for v in 1..=5 {
            let members = want(&|e| e.is_some_and(|e| e[slot] == v));
            cases.push((format!("{s}_{v}"), members.clone()));
            cases.push((format!("{s}_{v}_value"), members));
        }
        cases.push((format!("{s}_none"), want(&|e| e.is_none())));
    }
    cases.push(("top".into(), want(&|e| e.is_some_and(|e| e[0] >= 4 && e[2] >= 4))));
    // The ten equal customers are all in `f_1`, not spread over 1..5.
    assert!(cases.iter().any(|(n, m)| n == "f_1" && m == &(1..=10).collect::<Vec<_>>()));

    for (db, dialect) in [(&sqlite, &Sqlite as &dyn Dialect), (&postgres, &Postgres)] {
        for (name, members) in &cases {
            let q = queries::audience_keys(&program, dialect, Some(&program.segments[name.as_str()].cond));
            let binds = Bindings::at(now()).resolve(&q.params).expect("binds");
            let mut got: Vec<i64> = db
                .fetch_keys(&q.sql, &binds)
                .await
                .unwrap_or_else(|e| panic!("{name} on {}: {e}", dialect.name()))
                .into_iter()
                .map(|k| match k {
                    Key::Int(n) => n,
                    Key::Text(t) => panic!("an integer key, not {t:?}"),
                })
                .collect();
            got.sort_unstable();
            assert_eq!(&got, members, "{name} on {}", dialect.name());
        }
    }
}
