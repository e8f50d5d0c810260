//! Deployments as operators use them: `camp compile --out DIR` writes one
//! directory (manifest and plans, all or none) whose hash follows the
//! campaigns; `camp run --plans DIR` refuses a damaged one with the path
//! and a fix, runs a good one without any `.camp` text, and sends exactly
//! what running from the sources sends. On SQLite and PostgreSQL.

mod daemon;

use camp_compiler::plan::deployment::{Deployment, Manifest};
use camp_runtime::binds::parse_instant;
use camp_runtime::channels::{ChannelSet, Recorder};
use camp_runtime::db::CellsExt;
use camp_runtime::engine::{Options, Runner};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn camp(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_camp"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("camp runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn shop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop")
}

/// A copy of the example shop's `.camp` files and `camp.toml` in `dir`.
fn copy_shop(dir: &Path) {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("folder");
        for entry in std::fs::read_dir(from).expect("readable").flatten() {
            let p = entry.path();
            let name = entry.file_name();
            if p.is_dir() {
                copy(&p, &to.join(&name));
            } else if p.extension().is_some_and(|e| e == "camp" || e == "toml") {
                std::fs::copy(&p, to.join(&name)).expect("copy");
            }
        }
    }
    copy(&shop_dir(), dir);
}

/// Every file under `dir`, by relative path, with its text.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(d).expect("readable").flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&p).expect("text file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn manifest(dir: &Path) -> Manifest {
    Manifest::from_json(&std::fs::read_to_string(dir.join("manifest.json")).expect("manifest")).expect("a valid manifest")
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "`{from}` is in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

#[test]
fn compile_writes_one_directory_whose_hash_follows_the_campaigns() {
    let ws = tempfile::tempdir().expect("temp dir");
    let ws = ws.path();
    copy_shop(ws);
    let out = ws.join("deploy");
    let o = camp(&["compile", "--out", "deploy"], ws);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let first = manifest(&out);
    assert!(text(&o).contains(&first.hash[..12]), "the hash is printed: {}", text(&o));

    // The layout: the manifest and one plan per campaign, nothing else.
    let files = tree(&out);
    assert_eq!(files.len(), 14, "{:?}", files.keys().collect::<Vec<_>>());
    assert_eq!(first.plans.len(), 13);
    let json: serde_json::Value = serde_json::from_str(&files["manifest.json"]).expect("JSON");
    for key in ["format_version", "hash", "schema", "policy", "plans"] {
        assert!(json.get(key).is_some(), "the manifest has `{key}`");
    }
    for entry in &first.plans {
        assert_eq!(entry.file, format!("plans/{}.json", entry.name));
        let plan = camp_compiler::plan::Plan::from_json(&files[&entry.file]).expect("a valid plan");
        assert_eq!((&plan.name, &plan.hash), (&entry.name, &entry.hash));
    }
    assert!(std::fs::read_dir(ws).expect("ws").flatten().all(|e| {
        let n = e.file_name().to_string_lossy().into_owned();
        !n.contains(".tmp-") && !n.contains(".old-")
    }));

    // Compiling again changes nothing, nor do comments and layout.
    let o = camp(&["compile", "--out", "deploy"], ws);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(tree(&out), files, "byte for byte");
    let cart = ws.join("campaigns/cart.camp");
    edit(&cart, "  wait 24h\n", "    wait   24h   // 하루 뒤\n\n");
    assert_eq!(camp(&["compile", "--out", "deploy"], ws).status.code(), Some(0));
    assert_eq!(manifest(&out), first, "a comment is not behaviour");

    // A changed campaign changes the whole and its own entry only.
    edit(&cart, "priority 10", "priority 11");
    assert_eq!(camp(&["compile", "--out", "deploy"], ws).status.code(), Some(0));
    let changed = manifest(&out);
    assert_ne!(changed.hash, first.hash);
    for (new, old) in changed.plans.iter().zip(&first.plans) {
        assert_eq!(new.hash == old.hash, new.name != "cart_reminder", "{}", new.name);
    }
    // A removed campaign leaves no plan behind: the directory is replaced.
    std::fs::remove_file(ws.join("campaigns/winback.camp")).expect("remove");
    assert_eq!(
        camp(&["compile", "--out", "deploy", "--dialect", "postgres"], ws).status.code(),
        Some(0)
    );
    let fewer = manifest(&out);
    assert_eq!(fewer.plans.len(), 12);
    assert_ne!(fewer.hash, changed.hash);
    assert!(!out.join("plans/winback.json").exists());

    // A workspace with errors writes nothing.
    let before = tree(&out);
    edit(&cart, "send cart_remind", "send cart_remnid");
    let o = camp(&["compile", "--out", "deploy"], ws);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(tree(&out), before, "the deployment is untouched");

    // A folder that is not a deployment is never replaced.
    edit(&cart, "send cart_remnid", "send cart_remind");
    let o = camp(&["compile", "--out", "campaigns"], ws);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is not a deployment"), "{}", text(&o));
    assert!(cart.exists(), "the folder is untouched");
}

#[test]
fn run_refuses_a_damaged_deployment_with_the_path_and_a_fix() {
    let ws = tempfile::tempdir().expect("temp dir");
    let ws = ws.path();
    copy_shop(ws);
    assert_eq!(camp(&["compile", "--out", "good"], ws).status.code(), Some(0));
    let good = tree(&ws.join("good"));
    let db = ws.join("never.db");
    let url = format!("sqlite://{}", db.display());
    let fresh = |name: &str| -> PathBuf {
        let dir = ws.join(name);
        for (file, content) in &good {
            let p = dir.join(file);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("folder");
            std::fs::write(p, content).expect("write");
        }
        dir
    };
    let refused = |dir: &str, says: &[&str]| {
        for command in ["run", "simulate"] {
            let mut args = vec![command, "--plans", dir, "--database", &url];
            if command == "simulate" {
                args.extend(["--from", "2026-11-20T00:00:00Z", "--to", "2026-11-21T00:00:00Z"]);
            }
            let o = camp(&args, ws);
            assert_eq!(o.status.code(), Some(2), "{command} {dir}: {}", text(&o));
            for s in says {
                assert!(text(&o).contains(s), "{command} {dir} says `{s}`: {}", text(&o));
            }
            assert!(text(&o).contains("help:"), "{}", text(&o));
        }
    };

    // A plan edited by hand.
    let d = fresh("edited");
    edit(&d.join("plans/cart_reminder.json"), "\"priority\": 10", "\"priority\": 99");
    refused("edited", &["edited/plans/cart_reminder.json", "hash does not match"]);
    // The manifest edited by hand.
    let d = fresh("manifest");
    edit(&d.join("manifest.json"), "\"zone\": \"Asia/Seoul\"", "\"zone\": \"Asia/Tokyo\"");
    refused("manifest", &["manifest/manifest.json", "hash does not match"]);
    // A plan missing.
    let d = fresh("missing");
    std::fs::remove_file(d.join("plans/winback.json")).expect("remove");
    refused("missing", &["missing/plans/winback.json", "cannot read"]);
    // A format this camp does not read.
    let d = fresh("future");
    edit(&d.join("manifest.json"), "\"format_version\": 1", "\"format_version\": 2");
    refused("future", &["future/manifest.json", "format version 2 is not supported"]);
    // Not a deployment at all.
    refused("campaigns", &["campaigns/manifest.json", "is missing"]);
    refused("nowhere", &["nowhere", "is not a directory"]);
    assert!(!db.exists(), "nothing touched the database");

    // Sources and a deployment at once is a usage error.
    let o = camp(&["run", ".", "--plans", "good", "--database", &url], ws);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// The example shop compiled by `camp compile`, read back as `camp run
/// --plans` reads it, and the same workspace's sources as `camp run`
/// compiles them: the same deployment, and the same sends over two
/// virtual days on two databases holding the same data.
async fn same_sends(urls: [String; 2]) {
    let ws = tempfile::tempdir().expect("temp dir");
    let ws = ws.path();
    copy_shop(ws);
    let o = camp(&["compile", "--out", "deploy"], ws);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let (_, _, from_dir) = camp::runcmd::deployment(&[], Some(&ws.join("deploy"))).expect("the directory reads");
    let (_, _, from_sources) = camp::runcmd::deployment(&[ws.to_path_buf()], None).expect("the sources compile");
    assert_eq!(from_dir.hash, from_sources.hash);
    assert_eq!(from_dir.plans.len(), 13);

    let loaded = camp::load::load(&[ws.to_path_buf()]).expect("loads");
    let analysis = camp_compiler::analyze(&loaded.workspace);
    let schema = camp_compiler::program::Program::new(&analysis).expect("checks").schema;
    let end = parse_instant("2026-12-02T00:00:00Z").expect("instant");
    let from = end - chrono::Duration::days(2);
    let mut runs = Vec::new();
    for (url, deployment) in urls.iter().zip([from_dir, from_sources]) {
        let db = Database::create(url).await.expect("database");
        sample::generate(&db, &schema, &SampleSpec::new(300, end), |_| {})
            .await
            .expect("sample data");
        let hash = deployment.hash.clone();
        runs.push((ledger(&db, deployment, from, end).await, hash));
        db.close().await;
    }
    let (dir_rows, dir_hash) = &runs[0];
    let (src_rows, src_hash) = &runs[1];
    assert!(dir_rows.len() > 20, "the run sends: {}", dir_rows.len());
    let campaigns: std::collections::BTreeSet<&str> = dir_rows.iter().filter_map(|r| r["campaign"].as_str()).collect();
    assert!(campaigns.len() >= 3, "several campaigns send: {campaigns:?}");
    assert!(
        dir_rows.iter().all(|r| r["deployment"].as_str() == Some(dir_hash.as_str())),
        "every row records the deployment"
    );
    assert_eq!(dir_hash, src_hash);
    assert_eq!(dir_rows.len(), src_rows.len());
    for (a, b) in dir_rows.iter().zip(src_rows) {
        assert_eq!(a, b);
    }
}

/// Runs `deployment` from `from` to `to` in replay mode; every ledger row
/// with its enrollment and payload, ids left out, in a stable order.
async fn ledger(db: &Database, deployment: Deployment, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<serde_json::Value> {
    let recorder = Recorder::default();
    let opts = Options {
        replay: true,
        ..Options::default()
    };
    let runner = Runner::start(db.clone(), deployment, ChannelSet::all(Arc::new(recorder.clone())), opts, from)
        .await
        .expect("the runner starts");
    let mut now = from;
    loop {
        runner.tick(now).await.expect("tick");
        match runner.next_due(now).await.expect("next due") {
            Some(next) if next <= to => now = next,
            _ => break,
        }
    }
    runner.stop().await.expect("stop");
    let (l, e, p) = (
        daemon_table(db, "ledger"),
        daemon_table(db, "enrollments"),
        daemon_table(db, "payloads"),
    );
    let columns = [
        ("e.campaign", "campaign"),
        ("e.customer", "customer"),
        ("e.occurrence", "occurrence"),
        ("e.plan_hash", "plan_hash"),
        ("e.deployment", "enrollment_deployment"),
        ("l.step", "step"),
        ("l.attempt", "attempt"),
        ("l.arm", "arm"),
        ("l.kind", "kind"),
        ("l.channel", "channel"),
        ("l.message", "message"),
        ("l.status", "status"),
        ("l.reason", "reason"),
        ("l.created_ms", "created_ms"),
        ("l.sent_ms", "sent_ms"),
        ("l.delivered_ms", "delivered_ms"),
        ("l.deployment", "deployment"),
        ("p.payload", "payload"),
    ];
    let sql = format!(
        "SELECT {} FROM {l} l JOIN {e} e ON e.id = l.enrollment LEFT JOIN {p} p ON p.ledger = l.id \
         ORDER BY e.campaign, e.customer, e.occurrence, l.step, l.attempt",
        columns
            .iter()
            .map(|(c, _)| format!("CAST({c} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows = db.rows(&sql, &[]).await.expect("ledger rows");
    rows.iter()
        .map(|r| {
            let mut row = serde_json::Map::new();
            for (i, (_, name)) in columns.iter().enumerate() {
                let value = r.text(i).map_or(serde_json::Value::Null, serde_json::Value::from);
                row.insert(name.to_string(), value);
            }
            // The payload without its id (the idempotency key, from the enrollment's id).
            if let Some(serde_json::Value::String(p)) = row.get("payload").cloned() {
                let mut payload: serde_json::Value = serde_json::from_str(&p).expect("a JSON payload");
                if let Some(o) = payload.as_object_mut() {
                    o.remove("id");
                }
                row.insert("payload".into(), payload);
            }
            serde_json::Value::Object(row)
        })
        .collect()
}

fn daemon_table(db: &Database, name: &str) -> String {
    match db.backend() {
        camp_runtime::db::Backend::Sqlite => format!("camp_{name}"),
        camp_runtime::db::Backend::Postgres => format!("\"camp\".{name}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compiled_directory_sends_what_the_sources_send_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = |n: &str| format!("sqlite://{}", dir.path().join(n).display());
    same_sends([url("from_dir.db"), url("from_sources.db")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compiled_directory_sends_what_the_sources_send_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let a = server.create_database("from_dir").await.expect("database");
    let b = server.create_database("from_sources").await.expect("database");
    same_sends([a, b]).await;
}

const PING: &str = r##"
campaign deploy_ping {
  kind info
  channel push
  trigger on app_open
  send deploy_ping_note
}

message deploy_ping_note {
  title "캠프샵"
  "#{고객명}님, 앱을 열어 주셔서 고마워요."
}
"##;

/// Noon in Seoul.
const NOW: &str = "2026-11-23T03:00:00Z";

/// `camp run --plans DIR` as a child process, in a folder that holds a
/// `camp.toml` and the compiled directory but no `.camp` file: an event
/// over HTTP enrolls and sends, and the rows record the manifest's hash.
async fn daemon_from_directory(url: String) {
    let ws = tempfile::tempdir().expect("temp dir");
    let ws = ws.path();
    let camp_toml = "[workspace]\nname = \"deploy\"\n\n[channels.push]\ntype = \"file\"\npath = \"push.jsonl\"\n";
    daemon::workspace(ws, "ping.camp", PING, camp_toml);
    let o = camp(&["compile", "--out", "deploy"], ws);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let hash = manifest(&ws.join("deploy")).hash;

    let db = Database::create(&url).await.expect("database");
    let analysis = daemon::analysis(ws, "ping.camp");
    let schema = camp_compiler::program::Program::new(&analysis).expect("checks").schema;
    sample::generate(&db, &schema, &SampleSpec::new(20, parse_instant(NOW).expect("instant")), |_| {})
        .await
        .expect("sample data");

    // The operator's folder: camp.toml and the deployment, no sources.
    let ops = ws.join("ops");
    std::fs::create_dir_all(&ops).expect("folder");
    std::fs::write(ops.join("camp.toml"), camp_toml).expect("camp.toml");
    std::fs::rename(ws.join("deploy"), ops.join("deploy")).expect("move");
    for f in ["schema.camp", "policy.camp", "campaigns/ping.camp"] {
        std::fs::remove_file(ws.join(f)).expect("remove the sources");
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let log = ops.join("daemon.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_camp"))
        .args(["run", "--plans", "deploy", "--database", &url, "--now", NOW])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .current_dir(&ops)
        .env("CAMP_TICK_MS", "50")
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log).expect("log")))
        .spawn()
        .expect("camp run starts");
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("client");
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the daemon exited ({status}):\n{}", log_text());
        }
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "never healthy:\n{}", log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = client
        .post(format!("{base}/v1/events"))
        .header("content-type", "application/json")
        .body(r#"{"type":"app_open","customer":3,"properties":{"platform":"ios"}}"#)
        .send()
        .await
        .expect("the daemon answers");
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap_or_default());
    let out = ops.join("push.jsonl");
    loop {
        if std::fs::read_to_string(&out).is_ok_and(|t| t.contains("앱을 열어 주셔서")) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "nothing was sent:\n{}", log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let exit = child.wait().expect("exit");
    assert!(exit.success(), "a clean stop: {exit}\n{}", log_text());
    assert!(log_text().contains(&hash[..12]), "the log names the deployment:\n{}", log_text());

    let (e, l, d) = (
        daemon_table(&db, "enrollments"),
        daemon_table(&db, "ledger"),
        daemon_table(&db, "deployments"),
    );
    for (table, what) in [(&e, "enrollment"), (&l, "ledger row")] {
        let n = daemon::count(&db, &format!("SELECT COUNT(*) FROM {table} WHERE deployment = '{hash}'")).await;
        assert_eq!(n, 1, "the {what} records the deployment");
    }
    assert_eq!(daemon::count(&db, &format!("SELECT COUNT(*) FROM {d}")).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camp_run_executes_a_compiled_directory_without_sources_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    daemon_from_directory(format!("sqlite://{}", dir.path().join("shop.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camp_run_executes_a_compiled_directory_without_sources_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("deploy_run").await.expect("database");
    daemon_from_directory(url).await;
}
