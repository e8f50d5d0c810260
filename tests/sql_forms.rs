//! SQL snapshots per dialect for every condition form (`tests/sql/forms.camp`),
//! and every snapshot executed against a real SQLite file and a real
//! PostgreSQL server holding the same sample data: each query must run and
//! both databases must return the same rows.

use camp_compiler::lower::queries::{self, CampaignQueries, Column};
use camp_compiler::lower::{Dialect, Postgres, Query, Sqlite};
use camp_compiler::program::Program;
use camp_compiler::templating::Value;
use camp_compiler::{Input, Workspace};
use camp_runtime::binds::{Bindings, TriggerEvent};
use camp_runtime::db::Want;
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::{Database, Key};
use serde_json::{Map, Value as Json};
use std::path::Path;

pub fn forms_workspace() -> Workspace {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ws = Workspace::new();
    for rel in ["examples/shop/schema.camp", "examples/shop/policy.camp", "tests/sql/forms.camp"] {
        let text = std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        ws.add(rel, Input::Text(text));
    }
    ws
}

/// `(segment name, query)` for every form, in file order.
pub fn form_queries(program: &Program, dialect: &dyn Dialect) -> Vec<(String, Query)> {
    let mut out: Vec<(usize, String, Query)> = program
        .segments
        .iter()
        .filter(|(name, _)| name.starts_with("f_"))
        .map(|(name, seg)| {
            (
                seg.span.start,
                name.to_string(),
                queries::audience_keys(program, dialect, Some(&seg.cond)),
            )
        })
        .collect();
    out.sort_by_key(|(at, _, _)| *at);
    out.into_iter().map(|(_, n, q)| (n, q)).collect()
}

/// `(campaign name, queries)` for every campaign form.
pub fn campaign_forms(program: &Program, dialect: &dyn Dialect) -> Vec<(String, CampaignQueries)> {
    program
        .campaigns
        .iter()
        .filter(|(name, _)| name.starts_with("f_"))
        .map(|(name, (_, campaign))| (name.to_string(), queries::campaign_queries(program, campaign, dialect)))
        .collect()
}

/// One campaign's queries about one customer, named for snapshots.
fn per_customer(q: &CampaignQueries) -> Vec<(String, &Query)> {
    let mut out = Vec::new();
    if let Some(c) = &q.check {
        out.push(("check".to_string(), c));
    }
    if let Some(e) = &q.exit {
        out.push(("exit".to_string(), e));
    }
    for (i, b) in q.branches.iter().enumerate() {
        out.push((format!("branch{i}"), b));
    }
    out.push(("render".to_string(), &q.render));
    out
}

fn checked_program(analysis: &camp_compiler::Analysis) -> Program<'_> {
    let messages: Vec<String> = analysis
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code.id, d.message))
        .collect();
    assert!(
        analysis.diagnostics.is_empty(),
        "tests/sql/forms.camp must check clean: {messages:?}"
    );
    Program::new(analysis).expect("clean program")
}

fn snapshot_text(dialect: &dyn Dialect, q: &Query) -> String {
    let params: Vec<String> = q
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{} = {}", dialect.placeholder(i + 1), serde_json::to_string(p).unwrap_or_default()))
        .collect();
    format!("{}\n\n{}", q.sql, params.join("\n"))
}

#[test]
fn every_form_lowers_to_a_snapshot_per_dialect() {
    let ws = forms_workspace();
    let analysis = camp_compiler::analyze(&ws);
    let program = checked_program(&analysis);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    let mut count = 0;
    settings.bind(|| {
        for dialect in [&Sqlite as &dyn Dialect, &Postgres] {
            for (name, q) in form_queries(&program, dialect) {
                count += 1;
                // Literals never appear in the SQL text: only placeholders.
                assert!(!q.sql.contains("1000000") && !q.sql.contains("'gold'"), "{name}: literal in SQL");
                let params: Vec<String> = q
                    .params
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("{} = {}", dialect.placeholder(i + 1), serde_json::to_string(p).unwrap_or_default()))
                    .collect();
                insta::assert_snapshot!(format!("{}__{name}", dialect.name()), format!("{}\n\n{}", q.sql, params.join("\n")));
            }
            for (name, queries) in campaign_forms(&program, dialect) {
                for (what, q) in per_customer(&queries) {
                    count += 1;
                    assert!(!q.sql.contains("10000") && !q.sql.contains("'beauty'"), "{name}: literal in SQL");
                    insta::assert_snapshot!(format!("{}__{name}__{what}", dialect.name()), snapshot_text(dialect, q));
                }
            }
        }
    });
    assert!(count >= 80, "{count}");
}

fn now() -> chrono::DateTime<chrono::Utc> {
    camp_runtime::binds::parse_instant("2026-11-23T03:00:00Z").expect("a valid instant")
}

fn json_of(value: Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Int(n) => Json::from(n),
        Value::Decimal(f) => Json::from(f),
        Value::Text(s) => Json::from(s),
        Value::Bool(b) => Json::from(b),
        Value::Timestamp(t) => Json::from(t.to_rfc3339()),
        Value::Date(d) => Json::from(d.format("%Y-%m-%d").to_string()),
    }
}

/// The customer's latest `event` at or before now, as the trigger; the same
/// on both databases.
async fn latest_trigger(db: &Database, program: &Program<'_>, event: &str, key: &Key) -> Option<TriggerEvent> {
    let model = program.schema.event(event)?;
    let (query, columns) = queries::latest_event(program, db.dialect(), model)?;
    let binds = Bindings {
        now: now(),
        customer: Some(key),
        trigger: None,
    }
    .resolve(&query.params)
    .expect("binds");
    let mut wants = vec![Want::Timestamp];
    wants.extend(columns.iter().map(|c| Want::of_name(&c.ty)));
    let rows = db.fetch(&query.sql, &binds, &wants).await.expect("latest event reads");
    let mut values = rows.into_iter().next()?.into_iter();
    let Some(Value::Timestamp(time)) = values.next() else {
        panic!("the event's time is a timestamp");
    };
    let props: Map<String, Json> = columns
        .iter()
        .zip(values)
        .map(|(c, v)| (c.path.trim_start_matches("trigger.").to_string(), json_of(v)))
        .collect();
    Some(TriggerEvent { time, props })
}

async fn run(db: &Database, name: &str, q: &Query, wants: &[Want], key: Option<&Key>, trigger: Option<&TriggerEvent>) -> Vec<Vec<Value>> {
    let binds = Bindings {
        now: now(),
        customer: key,
        trigger,
    }
    .resolve(&q.params)
    .unwrap_or_else(|e| panic!("{name}: cannot bind: {e}"));
    db.fetch(&q.sql, &binds, wants)
        .await
        .unwrap_or_else(|e| panic!("{name} fails on {}: {e}", db.dialect().name()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_runs_on_sqlite_and_postgres_with_the_same_rows() {
    let ws = forms_workspace();
    let analysis = camp_compiler::analyze(&ws);
    let program = checked_program(&analysis);
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Database::create(&format!("sqlite://{}", dir.path().join("forms.db").display()))
        .await
        .expect("sqlite opens");
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("forms").await.expect("database created");
    let postgres = Database::connect(&url).await.expect("postgres connects");
    let spec = SampleSpec::new(400, now());
    let a = sample::generate(&sqlite, &program.schema, &spec, |_| {})
        .await
        .expect("sqlite sample");
    let b = sample::generate(&postgres, &program.schema, &spec, |_| {})
        .await
        .expect("postgres sample");
    assert_eq!(a, b, "the same seed writes the same rows");
    let dbs = [(&sqlite, &Sqlite as &dyn Dialect), (&postgres, &Postgres)];

    // Populations: every key, ascending, the same on both.
    let mut selective = 0;
    let sqlite_forms = form_queries(&program, &Sqlite);
    let postgres_forms = form_queries(&program, &Postgres);
    assert_eq!(sqlite_forms.len(), postgres_forms.len());
    for ((name, q_sqlite), (_, q_postgres)) in sqlite_forms.iter().zip(&postgres_forms) {
        let mut found = Vec::new();
        for (db, q) in [(&sqlite, q_sqlite), (&postgres, q_postgres)] {
            let rows = run(db, name, q, &[Want::Int], None, None).await;
            let keys: Vec<i64> = rows
                .iter()
                .map(|r| match r.first() {
                    Some(Value::Int(k)) => *k,
                    other => panic!("{name}: a key, not {other:?}"),
                })
                .collect();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "{name}: keys ascending and unique");
            found.push(keys);
        }
        assert_eq!(found[0], found[1], "{name}: SQLite and PostgreSQL disagree");
        if !found[0].is_empty() && found[0].len() < 400 {
            selective += 1;
        }
    }
    assert!(
        selective * 4 >= sqlite_forms.len() * 3,
        "most forms select some customers but not all ({selective} of {})",
        sqlite_forms.len()
    );

    // Campaign queries: for customers who had the triggering event, with
    // their latest one as the trigger.
    let mut checked = 0;
    let mut admitted = 0;
    for (name, (_, campaign)) in program.campaigns.iter().filter(|(n, _)| n.starts_with("f_")) {
        let Some(event) = camp_compiler::templating::trigger_event(campaign) else {
            panic!("{name}: a campaign form is triggered by an event");
        };
        let model = program.schema.event(event).expect("the trigger's event");
        let candidates = queries::event_customers(&program, &Sqlite, model).expect("a candidates query");
        let binds = Bindings::at(now()).resolve(&candidates.params).expect("binds");
        let keys = sqlite.fetch_keys(&candidates.sql, &binds).await.expect("candidates");
        assert!(keys.len() >= 20, "{name}: the sample has customers with `{event}`");
        let per_dialect: Vec<CampaignQueries> = dbs.iter().map(|(_, d)| queries::campaign_queries(&program, campaign, *d)).collect();
        for key in keys.iter().step_by(keys.len() / 20) {
            let mut results = Vec::new();
            for ((db, _), q) in dbs.iter().zip(&per_dialect) {
                let trigger = latest_trigger(db, &program, event, key).await.expect("a latest event");
                // The same event as it arrives in JSON, keys as numbers: the
                // same answers, on the same cached statements.
                let mut numeric = trigger.clone();
                for value in numeric.props.values_mut() {
                    if let Some(n) = value.as_str().and_then(|t| t.parse::<i64>().ok()) {
                        *value = Json::from(n);
                    }
                }
                let mut answers = Vec::new();
                for t in [&trigger, &numeric, &trigger] {
                    let mut got = Vec::new();
                    for (what, query) in per_customer(q) {
                        let wants: Vec<Want> = if what == "render" {
                            q.columns.iter().map(|c: &Column| Want::of_name(&c.ty)).collect()
                        } else {
                            vec![Want::Int]
                        };
                        let rows = run(db, &format!("{name} {what}"), query, &wants, Some(key), Some(t)).await;
                        assert_eq!(rows.len(), 1, "{name} {what}: one row for customer {key}");
                        got.push((what, rows));
                    }
                    answers.push(got);
                }
                assert_eq!(answers[0], answers[1], "{name} on {}: keys as text or numbers", db.dialect().name());
                assert_eq!(answers[0], answers[2], "{name} on {}: again with keys as text", db.dialect().name());
                let got = answers.swap_remove(0);
                results.push((trigger, got));
            }
            assert_eq!(results[0].0, results[1].0, "{name}: the same trigger for {key}");
            assert_eq!(results[0].1, results[1].1, "{name}: SQLite and PostgreSQL disagree for {key}");
            checked += 1;
            if results[0].1.iter().any(|(w, r)| *w == "check" && r[0][0] == Value::Int(1)) {
                admitted += 1;
            }
        }
    }
    assert!(checked >= 40, "{checked}");
    assert!(
        admitted > 0 && admitted < checked,
        "the check admits some customers, not all ({admitted} of {checked})"
    );
    sqlite.close().await;
    postgres.close().await;
}

/// On PostgreSQL a `ref` hop from a trigger property compares the lookup
/// table's key as text (it may be an integer or a text column); the index
/// `camp explain` recommends for it must be one the planner can use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recommended_key_text_index_serves_trigger_lookups_on_postgres() {
    let ws = forms_workspace();
    let analysis = camp_compiler::analyze(&ws);
    let program = checked_program(&analysis);
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("lookups").await.expect("database created");
    let db = Database::connect(&url).await.expect("postgres connects");
    sample::generate(&db, &program.schema, &SampleSpec::new(50, now()), |_| {})
        .await
        .expect("sample data");
    let Some((_, (_, campaign))) = program.campaigns.iter().find(|(name, _)| **name == "f_trigger") else {
        panic!("tests/sql/forms.camp has f_trigger");
    };
    let queries = queries::campaign_queries(&program, campaign, &Postgres);
    let recommended: Vec<String> = queries.indexes.iter().filter(|i| i.contains("key_text")).cloned().collect();
    assert_eq!(
        recommended,
        vec![r#"CREATE INDEX IF NOT EXISTS "camp_products_key_text" ON "products" (("id"::text));"#.to_string()],
        "{:?}",
        queries.indexes
    );
    let check = queries.check.expect("an event-triggered campaign has a check query");
    let mut props = Map::new();
    props.insert("product".into(), Json::from(1));
    props.insert("price".into(), Json::from(20_000));
    let trigger = TriggerEvent { time: now(), props };
    let key = Key::Int(1);
    let binds = Bindings {
        now: now(),
        customer: Some(&key),
        trigger: Some(&trigger),
    }
    .resolve(&check.params)
    .expect("binds");
    let plan = |db: Database, binds: Vec<camp_runtime::binds::BindValue>, sql: String| async move {
        let mut tx = db.begin().await.expect("begin");
        // A small table is scanned whatever the indexes: ask whether the index can serve.
        tx.execute("SET LOCAL enable_seqscan = off", &[]).await.expect("set");
        let rows = tx.rows(&format!("EXPLAIN {sql}"), &binds).await.expect("explain");
        rows.iter()
            .filter_map(|r| r.first().cloned())
            .map(|c| format!("{c:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let before = plan(db.clone(), binds.clone(), check.sql.clone()).await;
    assert!(!before.contains("camp_products_key_text"), "{before}");
    assert!(before.contains("Seq Scan on products"), "without the index, a scan: {before}");
    db.execute_all(&recommended).await.expect("the recommended index");
    let after = plan(db.clone(), binds, check.sql.clone()).await;
    assert!(after.contains("camp_products_key_text"), "the index serves the lookup: {after}");
}
