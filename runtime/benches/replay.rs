//! `camp simulate` over a week of a shop: the example shop's schema and
//! campaigns (each campaign deployed `CAMP_BENCH_COPIES` times under new
//! names, 12 x 3 = 36 by default, as a shop with a few dozen campaigns),
//! a sample history of `CAMP_BENCH_CUSTOMERS` customers, and the week
//! before its end replayed on a virtual clock. Timed two ways on the same
//! data: the replay that reads each events table once in time order, and
//! the earlier one that queried each table twice per tick
//! (`Options::replay_rescan`). The customer's tables have no index on
//! their time column, as a shop's often have not.
//!
//! `cargo bench -p camp-runtime --bench replay` (release). Environment:
//! `CAMP_BENCH_CUSTOMERS` (default 3000), `CAMP_BENCH_DAYS` (7),
//! `CAMP_BENCH_COPIES` (3), `CAMP_BENCH_EVENTS_PER_CUSTOMER` (10, over
//! three years of history), `CAMP_BENCH_BACKENDS` (`sqlite,postgres`),
//! `CAMP_BENCH_RESCAN` (`1`: also time the earlier replay; `0` skips it).

use camp_compiler::plan;
use camp_compiler::program::Program;
use camp_compiler::{Input, Workspace};
use camp_runtime::binds::parse_instant;
use camp_runtime::engine::Options;
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::{simulate, Database};
use std::path::Path;
use std::time::Instant;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The campaign blocks of `text` (from `campaign NAME {` to the `}` that
/// closes it at the start of a line), renamed `NAME_copyK`.
fn copies(text: &str, k: u64) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("campaign ") {
            if let Some((name, tail)) = rest.split_once(' ') {
                inside = true;
                out.push_str(&format!("campaign {name}_copy{k} {tail}\n"));
                continue;
            }
        }
        if inside {
            out.push_str(line);
            out.push('\n');
            if line == "}" {
                inside = false;
                out.push('\n');
            }
        }
    }
    out
}

fn workspace(copies_of_each: u64) -> camp_compiler::Analysis {
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop");
    let mut ws = Workspace::new();
    let mut files = vec!["schema.camp".to_string(), "policy.camp".to_string()];
    let mut campaigns: Vec<String> = std::fs::read_dir(shop.join("campaigns"))
        .expect("the shop's campaigns")
        .filter_map(|e| e.ok())
        .map(|e| format!("campaigns/{}", e.file_name().to_string_lossy()))
        .filter(|f| f.ends_with(".camp"))
        .collect();
    campaigns.sort();
    files.extend(campaigns.iter().cloned());
    for f in &files {
        ws.add(f.clone(), Input::Text(std::fs::read_to_string(shop.join(f)).expect("shop file")));
    }
    for k in 2..=copies_of_each {
        let text: String = campaigns
            .iter()
            .map(|f| copies(&std::fs::read_to_string(shop.join(f)).expect("shop file"), k))
            .collect();
        ws.add(format!("copies{k}.camp"), Input::Text(text));
    }
    let a = camp_compiler::analyze(&ws);
    assert!(!a.has_errors(), "the bench workspace checks");
    a
}

async fn run(url: &str, label: &str, analysis: &camp_compiler::Analysis, rescan: bool) {
    let program = Program::new(analysis).expect("program");
    let plans: Vec<_> = program.campaigns.keys().map(|n| plan::build(&program, n).expect("plan")).collect();
    let campaigns = plans.len();
    let end = parse_instant("2026-12-05T00:00:00Z").expect("instant");
    let from = end - chrono::Duration::days(env("CAMP_BENCH_DAYS", 7) as i64);
    let db = Database::create(url).await.expect("database");
    let customers = env("CAMP_BENCH_CUSTOMERS", 3_000);
    let started = Instant::now();
    let spec = SampleSpec {
        events_per_customer: env("CAMP_BENCH_EVENTS_PER_CUSTOMER", 10) as f64,
        ..SampleSpec::new(customers, end)
    };
    let stats = sample::generate(&db, &program.schema, &spec, |_| {}).await.expect("sample data");
    println!(
        "{label}: {customers} customers, {} events in all, {campaigns} campaigns (generated in {:.1}s)",
        stats.events,
        started.elapsed().as_secs_f64()
    );
    db.close().await;
    let mut ways = vec![("read once", false)];
    if rescan {
        ways.push(("rescan per tick (before)", true));
    }
    let mut first: Option<Vec<simulate::Send>> = None;
    for (way, rescan) in ways {
        let opts = Options {
            replay_rescan: rescan,
            ..Options::default()
        };
        let started = Instant::now();
        let deployment = camp_compiler::plan::deployment::Deployment::new(
            camp_compiler::plan::deployment::Schema::of(&program.schema),
            camp_compiler::plan::deployment::Policy::of(&program),
            plans.clone(),
        );
        let sim = simulate::simulate_with(url, deployment, from, end, opts, |_, _| {})
            .await
            .expect("simulation");
        let took = started.elapsed().as_secs_f64();
        println!(
            "{label}: {way:<26} {took:>8.2}s  {} ticks, {} events replayed, {} enrolled, {} sends",
            sim.ticks,
            sim.events,
            sim.enrolled,
            sim.sends.len()
        );
        match &first {
            None => first = Some(sim.sends),
            Some(sends) => assert_eq!(sends, &sim.sends, "both replays send the same"),
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let analysis = workspace(env("CAMP_BENCH_COPIES", 3));
    let rescan = env("CAMP_BENCH_RESCAN", 1) == 1;
    let backends = std::env::var("CAMP_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let dir = tempfile::tempdir().expect("temp dir");
    if backends.contains("sqlite") {
        let url = format!("sqlite://{}", dir.path().join("shop.db").display());
        run(&url, "sqlite", &analysis, rescan).await;
    }
    if backends.contains("postgres") {
        let server = TestPostgres::start().expect("PostgreSQL starts");
        let url = server.create_database("replay").await.expect("database");
        run(&url, "postgres", &analysis, rescan).await;
    }
}
