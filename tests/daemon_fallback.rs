//! `camp run` on file channels with a fallback: every customer gets one
//! Kakao message and no LMS, the ledger says delivered, and `camp report`
//! counts as delivered what was written. `receipts = true` on a file
//! channel is refused with a clear message. On SQLite and PostgreSQL.

mod daemon;

use camp_runtime::db::CellsExt;
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use daemon::count;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CAMPAIGN: &str = r##"
campaign parcel_notice {
  kind info
  channel brand fallback lms after 1m
  trigger at 2026-11-23 12:00
  audience customer.id <= 12
  send parcel_note
}

message parcel_note {
  "#{고객명}님, 주문하신 상품이 오늘 출발해요."
}
"##;

const CAMP_TOML: &str = "[workspace]\nname = \"parcel\"\n\n[channels.brand]\ntype = \"file\"\npath = \"kakao.jsonl\"\n\n[channels.lms]\ntype = \"file\"\npath = \"lms.jsonl\"\n";

fn camp(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_camp"))
        .args(args)
        .current_dir(dir)
        .env("CAMP_LOG", "warn")
        .output()
        .expect("camp runs")
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

async fn files(url: String, table: impl Fn(&str) -> String) {
    let dir = tempfile::tempdir().expect("temp dir");
    daemon::workspace(dir.path(), "parcel.camp", CAMPAIGN, CAMP_TOML);
    let db = Database::create(&url).await.expect("database");
    let analysis = daemon::analysis(dir.path(), "parcel.camp");
    let schema = camp_compiler::program::Program::new(&analysis).expect("checks").schema;
    let spec = SampleSpec::new(30, camp_runtime::binds::parse_instant("2026-11-23T00:00:00Z").expect("instant"));
    sample::generate(&db, &schema, &spec, |_| {}).await.expect("sample data");

    // The clock starts a second before the send. A written line is a
    // delivery: no fallback timer is left running (checked below).
    let mut child = Command::new(env!("CARGO_BIN_EXE_camp"))
        .arg("run")
        .arg(dir.path())
        .args(["--database", &url, "--now", "2026-11-23T02:59:59Z"])
        .env("CAMP_TICK_MS", "50")
        .env("CAMP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("camp run starts");
    let ledger = table("ledger");
    let started = Instant::now();
    let delivered = format!("SELECT COUNT(*) FROM {ledger} WHERE status = 'delivered'");
    // Until the daemon has made its store, the query fails: none yet.
    while db
        .rows(&delivered, &[])
        .await
        .ok()
        .and_then(|r| r.first().and_then(|r| r.int(0)))
        .unwrap_or(0)
        < 12
    {
        assert!(child.try_wait().expect("wait").is_none(), "the daemon exited early");
        assert!(started.elapsed() < Duration::from_secs(120), "the daemon did not send");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let exit = child.wait().expect("exit");
    assert!(exit.success(), "{exit}");

    let kakao = lines(&dir.path().join("kakao.jsonl"));
    assert_eq!(kakao.len(), 12, "one Kakao message each");
    assert!(lines(&dir.path().join("lms.jsonl")).is_empty(), "and no LMS");
    assert_eq!(count(&db, &format!("SELECT COUNT(*) FROM {ledger}")).await, 12);
    assert_eq!(
        count(
            &db,
            &format!("SELECT COUNT(*) FROM {ledger} WHERE delivered_ms IS NOT NULL AND fallback_ms IS NULL")
        )
        .await,
        12
    );

    let report = camp(&["report", "parcel_notice", "--database", &url], dir.path());
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(report.status.success(), "{text}{}", String::from_utf8_lossy(&report.stderr));
    // arm, enrolled, reached, sends, delivered, ...
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("everyone"))
        .unwrap_or_else(|| panic!("{text}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[1..5], ["12", "12", "12", "12"], "{text}");
    assert!(!text.contains("fallback sends"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_channels_under_camp_run_send_once_and_report_delivered_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    files(url, |n| format!("camp_{n}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_channels_under_camp_run_send_once_and_report_delivered_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("parcel").await.expect("database");
    files(url, |n| format!("\"camp\".{n}")).await;
}

#[test]
fn receipts_on_a_file_channel_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = CAMP_TOML.replace("path = \"kakao.jsonl\"\n", "path = \"kakao.jsonl\"\nreceipts = true\n");
    daemon::workspace(dir.path(), "parcel.camp", CAMPAIGN, &toml);
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    let out = camp(&["run", ".", "--database", &url], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("channel `brand`: a `file` channel gets no receipts"), "{err}");
}
