//! Differential test of the SQL lowering: thousands of generated conditions
//! over every form of DESIGN §3.1, each checked, lowered for both dialects,
//! run on a real SQLite file and a real PostgreSQL server holding the same
//! generated rows, and compared with an evaluator over the rows in memory
//! that follows DESIGN §3.1 (tests/common/differential/world.rs).
//!
//! `CAMP_DIFF_SEED=N` reruns another seed (a failure prints its seed);
//! `CAMP_DIFF_CASES=N` changes the number of conditions.
//!
//! sqlx opens every PostgreSQL session with `TimeZone = UTC`, so the
//! runtime's queries see dates as midnight UTC on both databases, as the
//! evaluator does.

#[path = "common/differential/mod.rs"]
mod model;

use camp_compiler::lower::{queries, Dialect, Postgres, Query, Sqlite};
use camp_compiler::program::Program;
use camp_compiler::templating::Value;
use camp_compiler::{Analysis, Input, Workspace};
use camp_runtime::binds::{BindValue, Bindings, TriggerEvent};
use camp_runtime::db::Want;
use camp_runtime::testing::TestPostgres;
use camp_runtime::{Database, Key};
use model::conds::{Cond, Gen, Val};
use model::world::{self, World};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;

const DEFAULT_SEED: u64 = 20_261_123;
const DEFAULT_CASES: usize = 2_400;
const CUSTOMERS: i64 = 200;
const BATCH: usize = 300;
/// Share of conditions that read the triggering event.
const TRIGGERED: f64 = 0.08;
/// Customers each triggered case is checked for, one query each.
const CHECKED_CUSTOMERS: usize = 12;
const IN_FLIGHT: usize = 8;

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// One generated case that passed the checker.
struct Case {
    name: String,
    source: String,
    kind: CaseKind,
}

enum CaseKind {
    /// A segment: the population query, keys of everyone it holds for.
    Population { sql: [Query; 2], expected: Vec<i64> },
    /// A campaign triggered `on cart_add`: its check query per customer.
    Check {
        sql: [Query; 2],
        trigger: Arc<TriggerEvent>,
        expected: Vec<(i64, bool)>,
    },
}

/// What the generator made, before the checker saw it.
struct Draft {
    name: String,
    cond: Cond,
    /// `on cart_add where ..` for campaigns.
    filter: Option<Cond>,
    triggered: bool,
    item: String,
}

fn workspace(base: &str, batch: &str) -> Workspace {
    let mut ws = Workspace::new();
    ws.add("schema.camp", Input::Text(world::SCHEMA.to_string()));
    ws.add("policy.camp", Input::Text(world::POLICY.to_string()));
    ws.add("base.camp", Input::Text(base.to_string()));
    if !batch.is_empty() {
        ws.add("batch.camp", Input::Text(batch.to_string()));
    }
    ws
}

fn errors(analysis: &Analysis) -> Vec<&camp_compiler::Diagnostic> {
    analysis.diagnostics.iter().filter(|d| d.is_error()).collect()
}

const BASE_MESSAGES: &str = "message m_info { \"안내 메시지입니다.\" }\n";

fn render_item(d: &Draft) -> String {
    if d.triggered {
        let filter = d.filter.as_ref().map(|f| format!(" where {}", f.render())).unwrap_or_default();
        format!(
            "campaign {} {{\n  kind info\n  channel sms\n  trigger on cart_add{filter}\n  audience {}\n  send m_info\n}}\n",
            d.name,
            d.cond.render()
        )
    } else {
        format!("segment {} = {}\n", d.name, d.cond.render())
    }
}

/// Checks the drafts together; drops those with errors (counted by code)
/// until the rest check clean. Returns the clean batch text.
fn check_batch(base: &str, drafts: &mut Vec<Draft>, rejected: &mut BTreeMap<String, usize>) -> (String, Analysis) {
    for _ in 0..6 {
        let mut text = String::new();
        let mut spans = Vec::new();
        for d in drafts.iter() {
            let start = text.len();
            text.push_str(&d.item);
            spans.push((start, text.len()));
        }
        let analysis = camp_compiler::analyze(&workspace(base, &text));
        let errs = errors(&analysis);
        if errs.is_empty() {
            return (text, analysis);
        }
        let mut bad = vec![false; drafts.len()];
        for e in &errs {
            assert_eq!(
                e.primary.file.0, 3,
                "an error outside the generated conditions: {} {}",
                e.code.id, e.message
            );
            let at = e.primary.span.start;
            let i = spans.partition_point(|(_, end)| *end <= at);
            if i < bad.len() && !bad[i] {
                bad[i] = true;
                *rejected.entry(format!("{} {}", e.code.id, e.message)).or_default() += 1;
            }
        }
        let mut i = 0;
        drafts.retain(|_| {
            i += 1;
            !bad[i - 1]
        });
    }
    panic!("the generated batch does not come clean after dropping the rejected conditions");
}

fn binds(q: &Query, now: chrono::DateTime<chrono::Utc>, customer: Option<&Key>, trigger: Option<&TriggerEvent>) -> Vec<BindValue> {
    Bindings { now, customer, trigger }
        .resolve(&q.params)
        .unwrap_or_else(|e| panic!("cannot bind {:?}: {e}", q.params))
}

fn diff(a: &[i64], b: &[i64]) -> Vec<i64> {
    a.iter().filter(|k| !b.contains(k)).copied().collect()
}

/// Runs one case on both databases; `Err` describes any disagreement.
async fn run_case(case: Arc<Case>, dbs: Arc<[Database; 2]>, now: chrono::DateTime<chrono::Utc>) -> Result<(), String> {
    let t = Instant::now();
    let r = run_case_inner(&case, &dbs, now).await;
    if t.elapsed() > std::time::Duration::from_secs(2) {
        eprintln!("slow case {:.1?}: {}", t.elapsed(), case.source);
    }
    r
}

async fn run_case_inner(case: &Case, dbs: &[Database; 2], now: chrono::DateTime<chrono::Utc>) -> Result<(), String> {
    let names = ["sqlite", "postgres"];
    match &case.kind {
        CaseKind::Population { sql, expected } => {
            let mut got: Vec<Vec<i64>> = Vec::new();
            for (i, db) in dbs.iter().enumerate() {
                let b = binds(&sql[i], now, None, None);
                let keys = db
                    .fetch_keys(&sql[i].sql, &b)
                    .await
                    .map_err(|e| format!("{} fails on {}: {e}\n  SQL: {}", case.name, names[i], sql[i].sql))?;
                let keys: Vec<i64> = keys
                    .into_iter()
                    .map(|k| match k {
                        Key::Int(n) => n,
                        Key::Text(t) => t.parse().unwrap_or(-1),
                    })
                    .collect();
                got.push(keys);
            }
            let mut report = String::new();
            for (i, keys) in got.iter().enumerate() {
                let mut sorted = keys.clone();
                sorted.sort_unstable();
                if sorted != *expected {
                    let _ = write!(
                        report,
                        "\n  {}: only in SQL {:?}, only in the evaluator {:?}\n  SQL: {}\n  params: {:?}",
                        names[i],
                        diff(&sorted, expected),
                        diff(expected, &sorted),
                        sql[i].sql,
                        sql[i].params
                    );
                }
            }
            if report.is_empty() {
                Ok(())
            } else {
                Err(format!("{}: {}{report}", case.name, case.source))
            }
        }
        CaseKind::Check { sql, trigger, expected } => {
            let mut report = String::new();
            for (id, want) in expected {
                let key = Key::Int(*id);
                for (i, db) in dbs.iter().enumerate() {
                    let b = binds(&sql[i], now, Some(&key), Some(trigger));
                    let rows = db
                        .fetch(&sql[i].sql, &b, &[Want::Int])
                        .await
                        .map_err(|e| format!("{} fails on {}: {e}\n  SQL: {}", case.name, names[i], sql[i].sql))?;
                    let got = match rows.first().and_then(|r| r.first()) {
                        Some(Value::Int(1)) => true,
                        Some(Value::Int(0)) => false,
                        other => return Err(format!("{}: unexpected check result {other:?} on {}", case.name, names[i])),
                    };
                    if got != *want {
                        let _ = write!(
                            report,
                            "\n  {} says {got} for customer {id}, the evaluator {want}\n  SQL: {}\n  params: {:?}",
                            names[i], sql[i].sql, sql[i].params
                        );
                    }
                }
            }
            if report.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{}: {}\n  trigger: {} {:?}{report}",
                    case.name,
                    case.source,
                    trigger.time,
                    serde_json::Value::Object(trigger.props.clone())
                ))
            }
        }
    }
}

async fn databases(world: &World, program: &Program<'_>) -> (Arc<[Database; 2]>, tempfile::TempDir, TestPostgres) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}", dir.path().join("diff.db").display());
    let sqlite = Database::create(&sqlite_url).await.expect("sqlite opens");
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("diff").await.expect("database created");
    let postgres = Database::connect(&url).await.expect("postgres connects");
    for db in [&sqlite, &postgres] {
        camp_runtime::sample::create_tables(db, &program.schema)
            .await
            .expect("tables created");
        world.write(db).await;
    }
    // The same rows on both.
    for table in ["customers", "products", "events", "orders"] {
        let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
        let a = sqlite.fetch(&sql, &[], &[Want::Int]).await.expect("counts");
        let b = postgres.fetch(&sql, &[], &[Want::Int]).await.expect("counts");
        assert_eq!(a, b, "{table}: both databases hold the same rows");
    }
    (Arc::new([sqlite, postgres]), dir, server)
}

/// Base segments that generated conditions name: generated too, each
/// checked on its own, later ones may name earlier ones.
fn base_segments(rng: &mut SmallRng, world: &mut World) -> String {
    let mut base = BASE_MESSAGES.to_string();
    let mut names: Vec<String> = Vec::new();
    for attempt in 0..200 {
        if names.len() == 6 {
            break;
        }
        let cond = Gen {
            rng,
            segments: names.clone(),
            trigger: false,
            used_trigger: false,
        }
        .cond(2);
        let name = format!("s_{attempt}");
        let candidate = format!("{base}segment {name} = {}\n", cond.render());
        let analysis = camp_compiler::analyze(&workspace(&candidate, ""));
        if errors(&analysis).is_empty() {
            base = candidate;
            world.segments.insert(name.clone(), cond);
            names.push(name);
        }
    }
    assert_eq!(names.len(), 6, "base segments generated");
    base
}

struct ShrinkCx<'a> {
    world: &'a World,
    base: &'a str,
    dbs: Arc<[Database; 2]>,
}

/// Simpler conditions than `c`: a part of it in its place, or a clause
/// dropped. The checker decides which of them still make sense.
fn simpler(c: &Cond, world: &World) -> Vec<Cond> {
    let mut out = Vec::new();
    match c {
        Cond::Truth(_) | Cond::Flag(_) => {}
        Cond::Segment(name) => out.push(world.segments[name].clone()),
        Cond::And(items) | Cond::Or(items) => {
            let rebuild = |items: Vec<Cond>| match c {
                Cond::And(_) => Cond::And(items),
                _ => Cond::Or(items),
            };
            out.extend(items.iter().cloned());
            for i in 0..items.len() {
                if items.len() > 2 {
                    let mut rest = items.clone();
                    rest.remove(i);
                    out.push(rebuild(rest));
                }
                for s in simpler(&items[i], world) {
                    let mut next = items.clone();
                    next[i] = s;
                    out.push(rebuild(next));
                }
            }
        }
        Cond::Not(inner) => {
            out.push((**inner).clone());
            out.extend(simpler(inner, world).into_iter().map(|s| Cond::Not(Box::new(s))));
        }
        Cond::Cmp(l, op, r) => {
            out.extend(simpler_val(l, world).into_iter().map(|l| Cond::Cmp(l, *op, r.clone())));
            out.extend(simpler_val(r, world).into_iter().map(|r| Cond::Cmp(l.clone(), *op, r)));
        }
        Cond::In(v, list, negated) => {
            if list.len() > 1 {
                out.extend(list.iter().map(|i| Cond::In(v.clone(), vec![i.clone()], *negated)));
            }
            out.extend(simpler_val(v, world).into_iter().map(|v| Cond::In(v, list.clone(), *negated)));
        }
        Cond::IsNull(v, negated) => out.extend(simpler_val(v, world).into_iter().map(|v| Cond::IsNull(v, *negated))),
        Cond::Contains(h, n) => out.extend(simpler_val(h, world).into_iter().map(|h| Cond::Contains(h, n.clone()))),
        Cond::Did {
            event,
            filter,
            count,
            window,
        } => {
            let did = |filter: Option<Box<Cond>>, count, window| Cond::Did {
                event,
                filter,
                count,
                window,
            };
            if filter.is_some() {
                out.push(did(None, *count, window.clone()));
            }
            if count.is_some() {
                out.push(did(filter.clone(), None, window.clone()));
            }
            if window.is_some() {
                out.push(did(filter.clone(), *count, None));
            }
            if let Some(f) = filter {
                for s in simpler(f, world) {
                    out.push(did(Some(Box::new(s)), *count, window.clone()));
                }
            }
        }
    }
    out
}

fn simpler_val(v: &Val, world: &World) -> Vec<Val> {
    let mut out = Vec::new();
    match v {
        Val::Bin(a, op, b) => {
            out.push((**a).clone());
            out.push((**b).clone());
            out.extend(simpler_val(a, world).into_iter().map(|a| Val::Bin(Box::new(a), *op, b.clone())));
            out.extend(simpler_val(b, world).into_iter().map(|b| Val::Bin(a.clone(), *op, Box::new(b))));
        }
        Val::Neg(inner) => out.push((**inner).clone()),
        Val::DaysSince(inner) => out.extend(simpler_val(inner, world).into_iter().map(|i| Val::DaysSince(Box::new(i)))),
        Val::Agg {
            func,
            event,
            prop,
            filter,
            window,
        } => {
            let agg = |filter: Option<Box<Cond>>, window: Option<model::conds::Win>| Val::Agg {
                func: *func,
                event,
                prop: *prop,
                filter,
                window,
            };
            if filter.is_some() {
                out.push(agg(None, window.clone()));
            }
            if window.is_some() {
                out.push(agg(filter.clone(), None));
            }
            if let Some(f) = filter {
                for s in simpler(f, world) {
                    out.push(agg(Some(Box::new(s)), window.clone()));
                }
            }
        }
        Val::Rfm {
            event,
            prop,
            window: Some(_),
            score,
        } => out.push(Val::Rfm {
            event,
            prop,
            window: None,
            score: *score,
        }),
        _ => {}
    }
    out
}

/// Whether `cond` as a segment checks clean and still disagrees; the report.
async fn disagreement(cond: &Cond, cx: &ShrinkCx<'_>) -> Option<String> {
    let item = format!("segment shrunk = {}\n", cond.render());
    let analysis = camp_compiler::analyze(&workspace(cx.base, &item));
    let program = Program::new(&analysis)?;
    let segment = program.segments.get("shrunk")?;
    let dialects: [&dyn Dialect; 2] = [&Sqlite, &Postgres];
    let case = Case {
        name: "shrunk".into(),
        source: item.trim_end().to_string(),
        kind: CaseKind::Population {
            sql: dialects.map(|d| queries::audience_keys(&program, d, Some(&segment.cond))),
            expected: cx.world.audience(cond, None),
        },
    };
    run_case_inner(&case, &cx.dbs, cx.world.now_utc()).await.err()
}

/// Shrinks a disagreeing condition, step by step, to a smallest one that
/// still disagrees; its report.
async fn shrink(cond: Cond, cx: &ShrinkCx<'_>) -> Option<String> {
    let mut report = disagreement(&cond, cx).await?;
    let mut current = cond;
    let mut budget = 400;
    'smaller: while budget > 0 {
        for candidate in simpler(&current, cx.world) {
            budget -= 1;
            if budget == 0 {
                break 'smaller;
            }
            if let Some(r) = disagreement(&candidate, cx).await {
                current = candidate;
                report = r;
                continue 'smaller;
            }
        }
        break;
    }
    Some(report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lowering_agrees_with_the_evaluator_on_sqlite_and_postgres() {
    let started = Instant::now();
    let seed = env_number("CAMP_DIFF_SEED").unwrap_or(DEFAULT_SEED);
    let total = env_number("CAMP_DIFF_CASES").map_or(DEFAULT_CASES, |n| n as usize);
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut world = World::generate(&mut rng, CUSTOMERS);
    let now = world.now_utc();
    let missing: Vec<String> = world
        .coverage()
        .into_iter()
        .filter(|(_, held)| !held)
        .map(|(what, _)| what)
        .collect();
    assert!(missing.is_empty(), "seed {seed}: the generated rows lack edge cases: {missing:?}");

    let schema_analysis = camp_compiler::analyze(&workspace(BASE_MESSAGES, ""));
    let messages: Vec<String> = errors(&schema_analysis).iter().map(|d| d.message.clone()).collect();
    assert!(messages.is_empty(), "the test schema checks clean: {messages:?}");
    let schema_program = Program::new(&schema_analysis).expect("clean");
    let (dbs, _dir, _server) = databases(&world, &schema_program).await;
    let base = base_segments(&mut rng, &mut world);
    eprintln!(
        "seed {seed}: now {now}, {} customers, {} events; setup {:.1?}",
        world.customers.len(),
        world.event_count(),
        started.elapsed()
    );

    let mut rejected: BTreeMap<String, usize> = BTreeMap::new();
    let (mut generated, mut accepted, mut populations, mut checks, mut queries_run) = (0usize, 0usize, 0usize, 0usize, 0usize);
    let mut selective = 0usize;
    // Accepted conditions that read an rfm score, and those of them that
    // select some customers but not all.
    let (mut with_rfm, mut selective_rfm) = (0usize, 0usize);
    let mut failures: Vec<String> = Vec::new();
    // Population conditions by case name, to shrink those that fail.
    let mut conds: BTreeMap<String, Cond> = BTreeMap::new();
    let mut tasks: JoinSet<Result<(), String>> = JoinSet::new();
    let segment_names: Vec<String> = world.segments.keys().cloned().collect();
    let mut next = 0usize;
    let (mut t_check, mut t_lower, mut t_eval, mut t_wait) = (
        std::time::Duration::ZERO,
        std::time::Duration::ZERO,
        std::time::Duration::ZERO,
        std::time::Duration::ZERO,
    );
    while generated < total {
        let trigger = Arc::new(world::trigger_event(&mut rng, world.now));
        let mut drafts = Vec::new();
        while drafts.len() < BATCH && generated < total {
            let triggered = rng.gen_bool(TRIGGERED);
            let mut g = Gen {
                rng: &mut rng,
                segments: segment_names.clone(),
                trigger: triggered,
                used_trigger: false,
            };
            let cond = g.cond(3);
            let filter = (triggered && g.rng.gen_bool(0.4)).then(|| g.prop_cond(world::event_spec("cart_add")));
            let used_trigger = g.used_trigger;
            next += 1;
            generated += 1;
            let mut d = Draft {
                name: format!("g_{next}"),
                cond,
                filter,
                triggered: triggered && (used_trigger || rng.gen_bool(0.5)),
                item: String::new(),
            };
            d.item = render_item(&d);
            drafts.push(d);
        }
        let t = Instant::now();
        let (_, analysis) = check_batch(&base, &mut drafts, &mut rejected);
        let program = Program::new(&analysis).expect("a clean batch");
        t_check += t.elapsed();
        let dialects: [&dyn Dialect; 2] = [&Sqlite, &Postgres];
        for d in drafts {
            accepted += 1;
            let kind = if d.triggered {
                let (_, campaign) = program.campaigns[d.name.as_str()];
                let sql = dialects.map(|dialect| {
                    queries::campaign_queries(&program, campaign, dialect)
                        .check
                        .expect("a triggered campaign has a check query")
                });
                let mut sample: Vec<i64> = (0..CHECKED_CUSTOMERS).map(|_| rng.gen_range(1..=CUSTOMERS)).collect();
                sample.sort_unstable();
                sample.dedup();
                let expected = sample
                    .iter()
                    .map(|id| {
                        let pass = d.filter.as_ref().is_none_or(|f| world.trigger_filter_holds(f, *id, &trigger))
                            && world.holds(&d.cond, *id, Some(&trigger));
                        (*id, pass)
                    })
                    .collect::<Vec<_>>();
                checks += 1;
                queries_run += 2 * expected.len();
                CaseKind::Check {
                    sql,
                    trigger: trigger.clone(),
                    expected,
                }
            } else {
                let segment = program.segments[d.name.as_str()];
                let t = Instant::now();
                let sql = dialects.map(|dialect| queries::audience_keys(&program, dialect, Some(&segment.cond)));
                t_lower += t.elapsed();
                let t = Instant::now();
                let expected = world.audience(&d.cond, None);
                t_eval += t.elapsed();
                let some = !expected.is_empty() && expected.len() < world.customers.len();
                if some {
                    selective += 1;
                }
                if d.item.contains("rfm(") {
                    with_rfm += 1;
                    selective_rfm += usize::from(some);
                }
                populations += 1;
                queries_run += 2;
                conds.insert(d.name.clone(), d.cond.clone());
                CaseKind::Population { sql, expected }
            };
            let case = Arc::new(Case {
                name: d.name,
                source: d.item.trim_end().to_string(),
                kind,
            });
            let t = Instant::now();
            while tasks.len() >= IN_FLIGHT {
                if let Some(done) = tasks.join_next().await {
                    if let Err(e) = done.expect("the case task ends") {
                        failures.push(e);
                    }
                }
            }
            t_wait += t.elapsed();
            tasks.spawn(run_case(case, dbs.clone(), now));
        }
    }
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done.expect("the case task ends") {
            failures.push(e);
        }
    }
    // The smallest condition that still disagrees, for the first few.
    let mut shrunk = Vec::new();
    for failure in failures.iter().take(4) {
        let name = failure.split(':').next().unwrap_or_default().split(' ').next().unwrap_or_default();
        if let Some(cond) = conds.get(name) {
            let cx = ShrinkCx {
                world: &world,
                base: &base,
                dbs: dbs.clone(),
            };
            if let Some(report) = shrink(cond.clone(), &cx).await {
                shrunk.push(report);
            }
        }
    }
    for db in dbs.iter() {
        db.close().await;
    }

    let rejected_total: usize = rejected.values().sum();
    eprintln!(
        "seed {seed}: {generated} conditions generated, {accepted} accepted ({rejected_total} rejected by the checker), \
         {populations} populations ({selective} neither empty nor everyone), {checks} triggered checks, \
         {queries_run} queries run, {} disagreements, {:.1?}; {with_rfm} populations read rfm scores \
         ({selective_rfm} neither empty nor everyone)",
        failures.len(),
        started.elapsed()
    );
    eprintln!("  time: checking {t_check:.1?}, lowering {t_lower:.1?}, evaluating {t_eval:.1?}, waiting for the databases {t_wait:.1?}");
    for (reason, n) in rejected.iter().rev().take(12) {
        eprintln!("  rejected {n}x: {reason}");
    }
    if !failures.is_empty() {
        let shown: Vec<&String> = failures.iter().take(8).collect();
        panic!(
            "seed {seed} (rerun with CAMP_DIFF_SEED={seed}): {} of {accepted} conditions disagree:\n\n{}\n\nshrunk:\n\n{}",
            failures.len(),
            shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n\n"),
            shrunk.join("\n\n")
        );
    }
    assert!(
        accepted * 10 >= generated * 9,
        "the checker accepts most generated conditions ({accepted} of {generated}): {rejected:?}"
    );
    assert!(
        selective * 2 >= populations,
        "most conditions select some customers but not all ({selective} of {populations})"
    );
}

/// The driver caches a prepared statement by its text: the same text run
/// with parameters of other types must still give the right answers (a
/// float where an integer was, text where an integer was, a null of either).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_statement_text_takes_parameters_of_any_type() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Database::create(&format!("sqlite://{}", dir.path().join("types.db").display()))
        .await
        .expect("sqlite opens");
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let postgres = Database::connect(&server.create_database("types").await.expect("database created"))
        .await
        .expect("postgres connects");
    for db in [&sqlite, &postgres] {
        db.execute_all(&[
            "CREATE TABLE t (id BIGINT PRIMARY KEY, score DOUBLE PRECISION, code TEXT)".to_string(),
            "INSERT INTO t VALUES (1, 1.0, '1'), (2, 2.5, '2'), (3, 10.0, 'x')".to_string(),
        ])
        .await
        .expect("table");
        let d = db.dialect();
        let below = format!("SELECT id FROM t WHERE score < {} ORDER BY id", d.placeholder(1));
        let key = format!(
            "SELECT id FROM t WHERE CAST(code AS TEXT) = CAST({} AS TEXT) ORDER BY id",
            d.placeholder(1)
        );
        let cases: [(&str, BindValue, Vec<i64>); 8] = [
            (&below, BindValue::Int(3), vec![1, 2]),
            (&below, BindValue::Float(2.5), vec![1]),
            (&below, BindValue::Int(3), vec![1, 2]),
            (&below, BindValue::TypedNull(Want::Int), vec![]),
            (&below, BindValue::Float(10.5), vec![1, 2, 3]),
            (&key, BindValue::Int(2), vec![2]),
            (&key, BindValue::Text("x".into()), vec![3]),
            (&key, BindValue::Null, vec![]),
        ];
        for _ in 0..3 {
            for (sql, bind, want) in &cases {
                let rows = db.fetch_keys(sql, std::slice::from_ref(bind)).await;
                let got: Vec<i64> = rows
                    .unwrap_or_else(|e| panic!("{} with {bind:?}: {e}", d.name()))
                    .into_iter()
                    .map(|k| match k {
                        Key::Int(n) => n,
                        Key::Text(t) => t.parse().unwrap_or(-1),
                    })
                    .collect();
                assert_eq!(&got, want, "{} {sql} with {bind:?}", d.name());
            }
        }
    }
}
