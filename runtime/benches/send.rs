//! A scheduled campaign to 1,000,000 recipients, end to end: the population
//! query enrolls everyone (`INSERT .. SELECT`), the step machines run, every
//! send is decided and recorded in the ledger with its rendered message,
//! and delivered on the `file` channel (JSON lines, synced per batch).
//! Against it, in the same run: a plain batched insert of rows of the same
//! shape into a table like the ledger. SQLite, then PostgreSQL with one and
//! with two daemons. Prints messages/s, the ratio to the plain insert and
//! the process's peak RSS.
//!
//! `cargo bench -p camp-runtime --bench send` (release). Environment:
//! `CAMP_BENCH_RECIPIENTS` (default 1000000), `CAMP_BENCH_BACKENDS`
//! (`sqlite,postgres`).

use camp_compiler::plan::Deployment;
use camp_compiler::program::Program;
use camp_compiler::{Input, Workspace};
use camp_runtime::binds::{parse_instant, BindValue};
use camp_runtime::channels::file::FileChannel;
use camp_runtime::channels::ChannelSet;
use camp_runtime::db::CellsExt;
use camp_runtime::engine::{Options, Runner};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const CAMPAIGN: &str = r##"
campaign bench_broadcast {
  kind info
  channel push
  trigger at 2026-11-23 10:00
  audience customer.points >= 0
  send bench_note
}

message bench_note {
  title "캠프샵 적립금 안내"
  "#{고객명}님, 적립금 #{customer.points | number}P가 쌓여 있어요.
  이번 주 일요일까지 적립금 2배 이벤트가 열려요. 앱에서 확인해 보세요."
}
"##;

fn analysis() -> camp_compiler::Analysis {
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop");
    let mut ws = Workspace::new();
    for f in ["schema.camp", "policy.camp"] {
        ws.add(
            f.to_string(),
            Input::Text(std::fs::read_to_string(shop.join(f)).expect("shop file")),
        );
    }
    ws.add("bench.camp".to_string(), Input::Text(CAMPAIGN.to_string()));
    let a = camp_compiler::analyze(&ws);
    assert!(!a.has_errors(), "the bench campaign checks");
    a
}

/// Peak resident set of this process (VmHWM), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn count(db: &Database, sql: &str) -> i64 {
    db.rows(sql, &[]).await.expect(sql).first().and_then(|r| r.int(0)).unwrap_or(-1)
}

/// Runs the campaign with `daemons` runners on `url`, store in `schema`;
/// returns seconds from the first tick to the last delivery.
async fn engine(url: &str, schema: &str, daemons: usize, out: &Path, n: u64) -> f64 {
    let a = analysis();
    let program = Program::new(&a).expect("program");
    let deployment = Deployment::build(&program).expect("deployment");
    let due = parse_instant("2026-11-23T01:00:00Z").expect("instant");
    let file = Arc::new(FileChannel::open(out).expect("output file"));
    let mut runners = Vec::new();
    for _ in 0..daemons {
        let db = Database::connect(url).await.expect("connect");
        let mut channels = ChannelSet::new();
        channels.insert("push", file.clone());
        let opts = Options {
            batch: 2_000,
            schema: schema.to_string(),
            ..Options::default()
        };
        let r = Runner::start(db, deployment.clone(), channels, opts, due - chrono::Duration::seconds(1))
            .await
            .expect("runner");
        runners.push(Arc::new(r));
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for r in &runners {
        let r = r.clone();
        tasks.spawn(async move { r.tick(due).await.expect("tick") });
    }
    while let Some(t) = tasks.join_next().await {
        t.expect("tick task");
    }
    // A daemon that finished early may have left sends the other recorded: deliver all.
    for r in &runners {
        r.tick(due).await.expect("tick");
    }
    let took = started.elapsed().as_secs_f64();
    let db = Database::connect(url).await.expect("connect");
    let ledger = match db.backend() {
        camp_runtime::db::Backend::Sqlite => "camp_ledger".to_string(),
        camp_runtime::db::Backend::Postgres => format!("\"{schema}\".ledger"),
    };
    let sent = count(&db, &format!("SELECT COUNT(*) FROM {ledger} WHERE status IN ('sent', 'delivered')")).await;
    assert_eq!(sent, n as i64, "every recipient's send recorded and delivered");
    for r in runners {
        r.stop().await.expect("stop");
    }
    took
}

/// The same rows the engine writes for each message (a ledger row and its
/// payload row), inserted by a client in multi-row batches into tables
/// with the ledger's columns and indexes, 2,000 messages a transaction.
async fn plain(db: &Database, n: u64) -> f64 {
    let d = db.dialect();
    let (id, int) = match db.backend() {
        camp_runtime::db::Backend::Sqlite => ("INTEGER PRIMARY KEY", "INTEGER"),
        camp_runtime::db::Backend::Postgres => ("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BIGINT"),
    };
    db.execute_all(&[
        "DROP TABLE IF EXISTS plain_ledger".to_string(),
        "DROP TABLE IF EXISTS plain_payloads".to_string(),
        format!("CREATE TABLE plain_payloads (ledger {int} PRIMARY KEY, payload TEXT NOT NULL)"),
        format!(
            "CREATE TABLE plain_ledger (id {id}, enrollment {int} NOT NULL, step {int} NOT NULL, attempt {int} NOT NULL, campaign TEXT NOT NULL, \
             customer TEXT NOT NULL, arm TEXT, kind TEXT NOT NULL, channel TEXT NOT NULL, message TEXT NOT NULL, status TEXT NOT NULL, \
             reason TEXT, idempotency_key TEXT NOT NULL, created_ms {int} NOT NULL, tries {int} NOT NULL DEFAULT 0, \
             next_try_ms {int}, lease_owner TEXT, lease_until_ms {int}, sent_ms {int}, fallback_ms {int}, UNIQUE (enrollment, step, attempt))"
        ),
        "CREATE INDEX plain_ledger_caps ON plain_ledger (customer, created_ms)".to_string(),
        "CREATE INDEX plain_ledger_outbox ON plain_ledger (next_try_ms) WHERE status = 'pending'".to_string(),
    ])
    .await
    .expect("plain table");
    let columns = [
        "id",
        "enrollment",
        "step",
        "attempt",
        "campaign",
        "customer",
        "kind",
        "channel",
        "message",
        "status",
        "idempotency_key",
        "created_ms",
        "tries",
        "sent_ms",
    ];
    let per_statement = 9_000 / columns.len();
    let per_tx = 2_000u64;
    let started = Instant::now();
    let mut payloads: Vec<(i64, String)> = Vec::new();
    let mut i = 0u64;
    while i < n {
        let end = (i + per_tx).min(n);
        let mut tx = db.begin().await.expect("begin");
        let mut row = i;
        while row < end {
            let last = (row + per_statement as u64).min(end);
            let mut sql = format!("INSERT INTO plain_ledger ({}) VALUES ", columns.join(", "));
            let mut binds = Vec::new();
            for r in row..last {
                if r > row {
                    sql.push_str(", ");
                }
                sql.push('(');
                for c in 0..columns.len() {
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    // Anonymous `?` in SQLite, as the engine's inserts.
                    match db.backend() {
                        camp_runtime::db::Backend::Sqlite => sql.push('?'),
                        camp_runtime::db::Backend::Postgres => sql.push_str(&d.placeholder(binds.len() + c + 1)),
                    }
                }
                sql.push(')');
                let key = format!("camp-{r}-0-0");
                let payload = format!(
                    "{{\"id\":\"{key}\",\"campaign\":\"bench_broadcast\",\"message\":\"bench_note\",\"channel\":\"push\",\"kind\":\"info\",\"customer\":\"{r}\",\"variant\":null,\"attempt\":0,\"to\":{{\"phone\":\"010-0000-{:04}\",\"email\":\"customer{r}@example.co.kr\"}},\"subject\":null,\"title\":\"캠프샵 적립금 안내\",\"body\":\"김민서님, 적립금 {r}P가 쌓여 있어요.\\n이번 주 일요일까지 적립금 2배 이벤트가 열려요. 앱에서 확인해 보세요.\",\"image\":null,\"template_code\":null,\"buttons\":[],\"created_at\":\"2026-11-23T01:00:00+00:00\"}}",
                    r % 10_000
                );
                payloads.push((r as i64 + 1, payload));
                binds.extend([
                    BindValue::Int(r as i64 + 1),
                    BindValue::Int(r as i64),
                    BindValue::Int(0),
                    BindValue::Int(0),
                    BindValue::Text("bench_broadcast".into()),
                    BindValue::Text(r.to_string()),
                    BindValue::Text("info".into()),
                    BindValue::Text("push".into()),
                    BindValue::Text("bench_note".into()),
                    BindValue::Text("sent".into()),
                    BindValue::Text(key),
                    BindValue::Int(1_795_395_600_000),
                    BindValue::Int(1),
                    BindValue::Int(1_795_395_600_000),
                ]);
            }
            tx.execute(&sql, &binds).await.expect("insert");
            row = last;
        }
        for chunk in payloads.chunks(4_000) {
            let mut sql = "INSERT INTO plain_payloads (ledger, payload) VALUES ".to_string();
            let mut binds = Vec::new();
            for (j, (id, payload)) in chunk.iter().enumerate() {
                if j > 0 {
                    sql.push_str(", ");
                }
                match db.backend() {
                    camp_runtime::db::Backend::Sqlite => sql.push_str("(?, ?)"),
                    camp_runtime::db::Backend::Postgres => sql.push_str(&format!("(${}, ${})", binds.len() + 1, binds.len() + 2)),
                }
                binds.push(BindValue::Int(*id));
                binds.push(BindValue::Text(payload.clone()));
            }
            tx.execute(&sql, &binds).await.expect("insert payloads");
        }
        payloads.clear();
        tx.commit().await.expect("commit");
        i = end;
    }
    started.elapsed().as_secs_f64()
}

async fn setup(db: &Database, n: u64) {
    let a = analysis();
    let schema = Program::new(&a).expect("program").schema;
    let mut spec = SampleSpec::new(n, parse_instant("2026-11-23T00:00:00Z").expect("instant"));
    spec.events_per_customer = 0.0;
    let started = Instant::now();
    sample::generate(db, &schema, &spec, |_| {}).await.expect("sample data");
    eprintln!("  setup: {n} customers in {:.1}s", started.elapsed().as_secs_f64());
}

fn report(name: &str, n: u64, engine: f64, plain: f64) {
    let rate = n as f64 / engine;
    let base = n as f64 / plain;
    println!(
        "{name}: {n} messages in {engine:.2}s = {rate:.0} messages/s; plain batched insert of the same rows {base:.0} rows/s; ratio {:.2}",
        rate / base
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: then a small run.
    let bench = std::env::args().any(|a| a == "--bench");
    let n: u64 = std::env::var("CAMP_BENCH_RECIPIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench { 1_000_000 } else { 2_000 });
    let backends = std::env::var("CAMP_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let dir = tempfile::tempdir().expect("temp dir");
    if backends.contains("sqlite") {
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let db = Database::create(&url).await.expect("sqlite");
        eprintln!("SQLite, {n} recipients");
        setup(&db, n).await;
        let e = engine(&url, "camp", 1, &dir.path().join("sqlite.jsonl"), n).await;
        let p = plain(&db, n).await;
        report("sqlite", n, e, p);
        println!("  peak RSS so far: {:.0} MB", peak_rss_mb());
    }
    if backends.contains("postgres") {
        let server = match TestPostgres::start() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("PostgreSQL skipped: {e}");
                return;
            }
        };
        let url = server.create_database("bench").await.expect("database");
        let db = Database::connect(&url).await.expect("postgres");
        eprintln!("PostgreSQL, {n} recipients");
        setup(&db, n).await;
        let one = engine(&url, "camp", 1, &dir.path().join("pg1.jsonl"), n).await;
        let two = engine(&url, "camp_two", 2, &dir.path().join("pg2.jsonl"), n).await;
        let p = plain(&db, n).await;
        report("postgres, one daemon", n, one, p);
        report("postgres, two daemons", n, two, p);
        println!("  two daemons over one: {:.2}x", one / two);
        println!("  peak RSS so far: {:.0} MB", peak_rss_mb());
    }
}
