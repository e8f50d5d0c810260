//! Audience queries on a large shop: the SQL camp compiles for six typical
//! audiences against an expert's hand-written SQL for the same audience
//! (benches/audiences/{sqlite,postgres}/*.sql), on the same data with the
//! indexes `camp explain` recommends, side by side in one run.
//!
//! `cargo bench --bench audience` (release). Environment:
//! `CAMP_BENCH_CUSTOMERS` (default 1,000,000; ~10 events each),
//! `CAMP_BENCH_BACKENDS` (default `sqlite,postgres`), `CAMP_BENCH_RUNS`
//! (timed runs per query, default 7; the median is reported). The SQLite
//! file is kept in `target/camp-bench/` and reused; PostgreSQL runs on a
//! throwaway server and is filled each time.

use camp_compiler::lower::{indexes, queries, Dialect};
use camp_compiler::program::Program;
use camp_compiler::{Input, Workspace};
use camp_runtime::binds::{parse_instant, BindValue, Bindings};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const AUDIENCES: [&str; 6] = ["cart_abandoners", "vip_by_spend", "at_risk", "rfm_top", "frequent", "due_again"];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn workspace() -> Workspace {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [
        root.join("examples/shop"),
        root.join("examples/shop/campaigns"),
        root.join("benches/audiences"),
    ] {
        for entry in std::fs::read_dir(&dir).expect("bench folders exist").flatten() {
            if entry.path().extension().is_some_and(|x| x == "camp") {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    let mut ws = Workspace::new();
    for p in files {
        ws.add(p.display().to_string(), Input::Text(std::fs::read_to_string(&p).expect("readable")));
    }
    ws
}

fn main() {
    let customers = env_or("CAMP_BENCH_CUSTOMERS", 1_000_000);
    let runs = env_or("CAMP_BENCH_RUNS", 7).max(1) as usize;
    let backends = std::env::var("CAMP_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let ws = workspace();
    let analysis = camp_compiler::analyze(&ws);
    let program = Program::new(&analysis).expect("the bench workspace checks clean");
    let now = parse_instant("2026-11-23T03:00:00Z").expect("valid");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        for backend in backends.split(',') {
            let (db, _server) = match backend.trim() {
                "sqlite" => (sqlite(&program, customers, now).await, None),
                "postgres" => {
                    let server = TestPostgres::start().expect("PostgreSQL starts");
                    let url = server.create_database("bench").await.expect("database");
                    let db = Database::connect(&url).await.expect("connects");
                    fill(&db, &program, customers, now).await;
                    (db, Some(server))
                }
                other => panic!("unknown backend {other}"),
            };
            prepare(&db, &program).await;
            compare(&db, &program, now, runs).await;
            db.close().await;
        }
    });
}

async fn sqlite(program: &Program<'_>, customers: u64, now: chrono::DateTime<chrono::Utc>) -> Database {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/camp-bench");
    std::fs::create_dir_all(&dir).expect("bench folder");
    let path = dir.join(format!("shop-{customers}.db"));
    let done = dir.join(format!("shop-{customers}.done"));
    if !done.exists() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    let db = Database::create(&format!("sqlite://{}", path.display()))
        .await
        .expect("sqlite opens");
    if !done.exists() {
        fill(&db, program, customers, now).await;
        std::fs::write(&done, "").expect("marker");
    } else {
        eprintln!("sqlite: reusing {}", path.display());
    }
    db
}

async fn fill(db: &Database, program: &Program<'_>, customers: u64, now: chrono::DateTime<chrono::Utc>) {
    let started = Instant::now();
    let spec = SampleSpec::new(customers, now);
    let stats = sample::generate(db, &program.schema, &spec, |s| {
        if s.customers % 100_000 == 0 && s.customers > 0 {
            eprintln!("  {}: {} customers, {} events", db.dialect().name(), s.customers, s.events);
        }
    })
    .await
    .expect("sample data");
    eprintln!(
        "{}: generated {} customers, {} lookup rows, {} events in {:.1?}",
        db.dialect().name(),
        stats.customers,
        stats.lookup_rows,
        stats.events,
        started.elapsed()
    );
}

/// The indexes `camp explain` recommends for these audiences, then fresh
/// planner statistics.
async fn prepare(db: &Database, program: &Program<'_>) {
    let mut events = BTreeSet::new();
    for name in AUDIENCES {
        let segment = program.segments[name];
        events.extend(indexes::events_used(program, &[&segment.cond]));
    }
    let mut statements = indexes::recommend(program, db.dialect(), &events);
    statements.push("ANALYZE".into());
    for s in &statements {
        eprintln!("  {s}");
    }
    for s in statements {
        db.execute_all(&[s]).await.expect("index");
    }
}

async fn time_query(db: &Database, sql: &str, binds: &[BindValue]) -> (Duration, Vec<camp_runtime::Key>) {
    let started = Instant::now();
    let keys = db.fetch_keys(sql, binds).await.expect("query runs");
    (started.elapsed(), keys)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn compare(db: &Database, program: &Program<'_>, now: chrono::DateTime<chrono::Utc>, runs: usize) {
    let dialect: &dyn Dialect = db.dialect();
    println!("\n{} — median of {runs} runs, compiled vs hand-written", dialect.name());
    println!("{:<16} {:>9} {:>12} {:>12} {:>7}", "audience", "rows", "compiled", "hand", "ratio");
    for name in AUDIENCES {
        let segment = program.segments[name];
        let compiled = queries::audience_keys(program, dialect, Some(&segment.cond));
        let binds = Bindings::at(now).resolve(&compiled.params).expect("binds");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("benches/audiences/{}/{name}.sql", dialect.name()));
        let hand = std::fs::read_to_string(&path).expect("hand-written query");
        let hand_binds = [BindValue::Timestamp(now)];
        // Warm the cache once each, and check both give the same audience.
        let (_, a) = time_query(db, &compiled.sql, &binds).await;
        let (_, b) = time_query(db, &hand, &hand_binds).await;
        assert_eq!(a, b, "{name}: the compiled and the hand-written query disagree");
        let (mut tc, mut th) = (Vec::new(), Vec::new());
        // Alternate which goes first, so neither always runs on a warmer cache.
        for run in 0..runs {
            if run % 2 == 0 {
                tc.push(time_query(db, &compiled.sql, &binds).await.0);
                th.push(time_query(db, &hand, &hand_binds).await.0);
            } else {
                th.push(time_query(db, &hand, &hand_binds).await.0);
                tc.push(time_query(db, &compiled.sql, &binds).await.0);
            }
        }
        let (c, h) = (median(tc), median(th));
        println!(
            "{name:<16} {:>9} {:>10.1}ms {:>10.1}ms {:>6.2}x",
            a.len(),
            c.as_secs_f64() * 1e3,
            h.as_secs_f64() * 1e3,
            c.as_secs_f64() / h.as_secs_f64()
        );
    }
}
