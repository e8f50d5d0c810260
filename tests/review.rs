//! `camp review` and `camp send-test` as a user runs them: the binary on
//! the example shop, with a base and a head that differ (one triggered
//! campaign whose audience grows, one scheduled campaign added, one
//! removed), against a real SQLite file and a real PostgreSQL filled with
//! the shop's sample data.

use camp_compiler::program::Program;
use camp_runtime::binds::parse_instant;
use camp_runtime::receiver::{Receiver, Reply};
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::store::{Store, SCHEMA};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Noon in Seoul.
const NOW: &str = "2026-11-23T03:00:00Z";

fn shop() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop")
}

fn camp(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_camp"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("camp runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The shop's `.camp` files and camp.toml, copied into `to`.
fn copy_shop(to: &Path) {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                copy(&p, &to.join(e.file_name()));
            } else if p.extension().is_some_and(|x| x == "camp" || x == "toml") {
                std::fs::copy(&p, to.join(e.file_name())).expect("copy");
            }
        }
    }
    copy(&shop(), to);
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{} holds {from}", path.display());
    std::fs::write(path, text.replace(from, to)).expect("write");
}

const ADDED: &str = r##"
campaign winter_sale {
  kind ad
  channel lms
  trigger at 2026-12-10 11:00
  audience customer.marketing_consent and did purchase within 90d
  send winter_sale_note
}

message winter_sale_note {
  subject "겨울 세일"
  "(광고) #{sender}
  #{고객명}님, 겨울 세일이 시작됐어요.
  #{optout}"
}
"##;

/// base/ is the shop; head/ lowers the cart reminder's price floor (its
/// audience grows), adds `winter_sale` and removes `winback`. Both are
/// compiled into base.out/ and head.out/.
fn workspaces(dir: &Path) {
    copy_shop(&dir.join("base"));
    copy_shop(&dir.join("head"));
    let head = dir.join("head");
    edit(&head.join("campaigns/cart.camp"), "where price >= 10_000", "where price >= 1_000");
    std::fs::write(head.join("campaigns/winter.camp"), ADDED).expect("write");
    std::fs::remove_file(head.join("campaigns/winback.camp")).expect("remove");
    for side in ["base", "head"] {
        let out = camp(&["compile", side, "--out", &format!("{side}.out")], dir);
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

async fn fill(url: &str) {
    let loaded = camp::load::load(&[shop()]).expect("the shop loads");
    let analysis = camp_compiler::analyze(&loaded.workspace);
    let program = Program::new(&analysis).expect("the shop checks clean");
    let db = Database::create(url).await.expect("creates");
    let now = parse_instant(NOW).expect("valid");
    sample::generate(&db, &program.schema, &SampleSpec::new(600, now), |_| {})
        .await
        .expect("sample data");
    db.close().await;
}

fn audience(campaign: &str, ws: &Path, url: &str, cwd: &Path) -> Vec<Value> {
    let ws = ws.to_str().expect("utf-8");
    let out = camp(
        &["audience", campaign, ws, "--database", url, "--now", NOW, "--format", "json"],
        cwd,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    json["customers"].as_array().cloned().unwrap_or_default()
}

fn blocking(f: impl FnOnce() + Send + 'static) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(f)
}

/// The review's JSON facts agree with `camp audience` on each side.
fn review_counts(dir: &Path, url: &str) {
    std::fs::write(dir.join("camp.toml"), "[review]\nseeds = [\"1\"]\n").expect("camp.toml");
    let out = camp(
        &[
            "review",
            "--base",
            "base.out",
            "--head",
            "head.out",
            "--database",
            url,
            "--now",
            NOW,
            "--format",
            "json",
        ],
        dir,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(json["summary"]["added"], 1);
    assert_eq!(json["summary"]["changed"], 1);
    assert_eq!(json["summary"]["removed"], 1);
    assert_eq!(json["passed"], true);
    assert_eq!(json["database"], true);
    let campaigns = json["campaigns"].as_array().expect("campaigns");
    let by = |name: &str| campaigns.iter().find(|c| c["name"] == name).cloned().expect(name);
    assert_eq!(by("cart_reminder")["status"], "changed");
    assert_eq!(by("winter_sale")["status"], "added");
    assert_eq!(by("winback")["status"], "removed");
    assert_eq!(by("vip_weekly")["status"], "unchanged");

    let (base, head) = (dir.join("base"), dir.join("head"));
    let cart = by("cart_reminder");
    let before = audience("cart_reminder", &base, url, dir);
    let after = audience("cart_reminder", &head, url, dir);
    assert_eq!(cart["audience"]["base"].as_u64(), Some(before.len() as u64));
    assert_eq!(cart["audience"]["head"].as_u64(), Some(after.len() as u64));
    assert!(
        after.len() > before.len(),
        "the lower floor lets more in: {} -> {}",
        before.len(),
        after.len()
    );
    assert_eq!(cart["audience"]["delta"].as_i64(), Some(after.len() as i64 - before.len() as i64));
    let joined: Vec<&Value> = after.iter().filter(|k| !before.contains(k)).collect();
    assert_eq!(cart["audience"]["joined_count"].as_u64(), Some(joined.len() as u64));
    let sample: Vec<&Value> = cart["audience"]["joined"].as_array().expect("ids").iter().collect();
    assert_eq!(sample, joined.into_iter().take(10).collect::<Vec<_>>());
    assert_eq!(cart["blocked_by_caps"], 0, "no store yet");
    assert_eq!(cart["ad_law"]["kind"], "ad");
    assert!(cart["ad_law"]["quiet_hours"].as_array().is_some_and(|q| !q.is_empty()));
    assert!(cart["sizes"].as_array().is_some_and(|s| s.iter().any(|x| x["channel"] == "lms")));
    assert_eq!(cart["previews"][0]["customer"], "1");

    let added = by("winter_sale");
    let expected = audience("winter_sale", &head, url, dir);
    assert_eq!(added["audience"]["base"], 0);
    assert_eq!(added["audience"]["head"].as_u64(), Some(expected.len() as u64));
    let removed = by("winback");
    let expected = audience("winback", &base, url, dir);
    assert_eq!(removed["audience"]["base"].as_u64(), Some(expected.len() as u64));
    assert_eq!(removed["audience"]["head"], 0);

    // A gate that fails: exit 1, and the output says which and why.
    std::fs::write(
        dir.join("camp.toml"),
        "[review]\nfail_on = [\"removed\"]\nmax_audience_change = \"1000%\"\n",
    )
    .expect("camp.toml");
    let out = camp(
        &[
            "review",
            "--base",
            "base.out",
            "--head",
            "head.out",
            "--database",
            url,
            "--now",
            NOW,
        ],
        dir,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(md.contains("❌ `fail_on = [\"removed\"]`: removed: `winback`"), "{md}");
    assert!(md.contains("✅ `max_audience_change = \"1000%\"`"), "{md}");
    // Gates that pass: exit 0.
    std::fs::write(dir.join("camp.toml"), "[review]\nfail_on = [\"changed\"]\n").expect("camp.toml");
    let out = camp(
        &["review", "--base", "head.out", "--head", "head", "--database", url, "--now", NOW],
        dir,
    );
    assert!(
        out.status.success(),
        "a source folder against its own compilation: {}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("No campaign changed."), "{}", stdout(&out));
    // The audience gate fails when the audience grows by more than 1%.
    std::fs::write(dir.join("camp.toml"), "[review]\nmax_audience_change = \"1%\"\n").expect("camp.toml");
    let out = camp(
        &[
            "review",
            "--base",
            "base.out",
            "--head",
            "head.out",
            "--database",
            url,
            "--now",
            NOW,
        ],
        dir,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("❌ `max_audience_change = \"1%\"`: audience changed by more than 1%: `cart_reminder`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    fill(&url).await;
    let path = dir.path().to_path_buf();
    blocking(move || {
        workspaces(&path);
        review_counts(&path, &url);
        // The markdown, hashes and the temporary folder left out.
        std::fs::write(
            path.join("camp.toml"),
            "[review]\nseeds = [\"1\"]\nfail_on = [\"removed\"]\n\n[prices]\nlms = 30\nbrand = 15\nsms = 9\n",
        )
        .expect("camp.toml");
        let out = camp(
            &[
                "review",
                "--base",
                "base.out",
                "--head",
                "head.out",
                "--database",
                &url,
                "--now",
                NOW,
            ],
            &path,
        );
        assert_eq!(out.status.code(), Some(1));
        let hash = regex_lite_hashes(&stdout(&out));
        insta::assert_snapshot!("review_markdown", hash);
    })
    .await
    .expect("the review runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("review").await.expect("database");
    fill(&url).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_path_buf();
    blocking(move || {
        workspaces(&path);
        review_counts(&path, &url);
    })
    .await
    .expect("the review runs");
}

/// Every 12-hex-digit hash in backticks as `HASH`.
fn regex_lite_hashes(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('`') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let is_hash = rest.len() > 12 && rest.as_bytes()[12] == b'`' && rest[..12].bytes().all(|b| b.is_ascii_hexdigit());
        if is_hash {
            out.push_str("HASH");
            rest = &rest[12..];
        }
    }
    out.push_str(rest);
    out
}

/// The shop with every channel on `hook` and a seed group `team`: one
/// customer and one phone that is nobody's.
fn send_test_workspace(dir: &Path, hook: &str, url: &str, customer: &str) {
    copy_shop(dir);
    let mut toml = format!("[workspace]\nname = \"t\"\ndatabase = \"{url}\"\n\n");
    for c in ["sms", "lms", "mms", "alimtalk", "friendtalk", "brand", "push", "email", "rcs"] {
        // Certified senders: the shop sends ads (E0448 otherwise).
        toml.push_str(&format!(
            "[channels.{c}]\ntype = \"webhook\"\nurl = \"{hook}\"\ncertified = true\n\n"
        ));
    }
    toml.push_str(&format!(
        "[seeds.team]\ncustomers = [\"{customer}\"]\nphones = [\"010-0000-0000\"]\n"
    ));
    std::fs::write(dir.join("camp.toml"), toml).expect("camp.toml");
}

async fn ledger_rows(url: &str) -> i64 {
    let db = Database::connect(url).await.expect("connects");
    let store = Store::attach(db.clone(), SCHEMA);
    let rows = db
        .rows(&format!("SELECT COUNT(*) FROM {}", store.t.ledger), &[])
        .await
        .expect("count");
    db.close().await;
    camp_runtime::db::CellsExt::int(rows[0].as_slice(), 0).unwrap_or(-1)
}

async fn send_test(url: String) {
    fill(&url).await;
    // A store exists (a daemon ran here once): the test leaves its ledger alone.
    let db = Database::connect(&url).await.expect("connects");
    Store::open(db.clone(), SCHEMA).await.expect("store");
    db.close().await;
    let receiver = Receiver::start(|_| Reply::Status(200)).await.expect("receiver");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_path_buf();
    let ws = path.join("ws");
    let (hook, u) = (receiver.url.clone(), url.clone());
    let out = tokio::task::spawn_blocking(move || {
        let members = audience("vip_weekly", &shop(), &u, &path);
        let customer = members[0].to_string();
        send_test_workspace(&ws, &hook, &u, &customer);
        let out = camp(&["send-test", "vip_weekly", "--to", "team", "--now", NOW], &ws);
        (out, customer)
    })
    .await
    .expect("runs");
    let (out, customer) = out;
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let hits = receiver.hits();
    // vip_weekly sends one of two variants' messages: both are tested, to both seeds.
    assert_eq!(hits.len(), 4, "{hits:?}");
    for h in &hits {
        assert!(h.key.starts_with("camp-test-"), "{}", h.key);
        let body: Value = serde_json::from_str(&h.body).expect("json");
        assert_eq!(body["test"], true);
        assert_eq!(body["channel"], "lms");
        let text = body["body"].as_str().unwrap_or_default();
        assert!(text.starts_with("(광고)"), "the text is not marked: {text}");
        assert!(!text.contains("#{"), "{text}");
    }
    let to_customer = hits
        .iter()
        .filter(|h| serde_json::from_str::<Value>(&h.body).is_ok_and(|b| b["customer"] == customer.as_str()))
        .count();
    assert_eq!(to_customer, 2);
    let to_phone = hits
        .iter()
        .filter(|h| serde_json::from_str::<Value>(&h.body).is_ok_and(|b| b["to"]["phone"] == "010-0000-0000"))
        .count();
    assert_eq!(to_phone, 2);
    assert_eq!(ledger_rows(&url).await, 0, "test sends are not in the ledger: no caps, no reports");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_test_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    send_test(format!("sqlite://{}", dir.path().join("shop.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_test_on_postgres() {
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("sendtest").await.expect("database");
    send_test(url).await;
}
