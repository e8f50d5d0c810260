//! `camp audience`, `preview`, `schema pull` and `check --database` as a
//! user runs them: the binary against a real SQLite file filled with the
//! shop's sample data, and the errors a user meets.

mod shopdb;

use camp_runtime::binds::parse_instant;
use camp_runtime::{BindValue, Database};
use shopdb::shop;
use std::path::Path;
use std::process::{Command, Output};

const NOW: &str = "2026-11-23T03:00:00Z";

fn camp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_camp"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("camp runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A SQLite file with 1,000 sample customers of the shop.
fn shop_database(dir: &Path) -> String {
    shopdb::shop_database(dir, 1_000, NOW)
}

fn query_keys(url: &str, sql: &str) -> Vec<i64> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let db = Database::connect(url).await.expect("connects");
        let now = parse_instant(NOW).expect("valid");
        let keys = db.fetch_keys(sql, &[BindValue::Timestamp(now)]).await.expect("query runs");
        db.close().await;
        keys.into_iter()
            .map(|k| match k {
                camp_runtime::Key::Int(n) => n,
                camp_runtime::Key::Text(t) => panic!("integer keys expected, got {t}"),
            })
            .collect()
    })
}

#[test]
fn audience_preview_and_schema_against_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = shop_database(dir.path());
    let shop = shop();
    let shop = shop.to_str().expect("utf-8 path");

    // audience --format json: the documented shape, ids ascending, and the
    // same people as a query written by hand from the segment's definition.
    let out = camp(&["audience", "vip_weekly", shop, "--database", &url, "--now", NOW, "--format", "json"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(json["campaign"], "vip_weekly");
    let ids: Vec<i64> = json["customers"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|v| v.as_i64())
        .collect();
    assert_eq!(json["count"].as_u64(), Some(ids.len() as u64));
    let by_hand = query_keys(
        &url,
        "SELECT c.id FROM customers c WHERE c.marketing_consent = 1 AND (c.tier IN ('gold', 'vip') OR \
         (SELECT COALESCE(SUM(o.amount), 0) FROM orders o WHERE o.customer_id = c.id AND o.ordered_at <= ?1 \
          AND o.ordered_at > datetime(?1, '-365 days')) >= 1000000) ORDER BY c.id",
    );
    assert!(!by_hand.is_empty(), "the sample data has VIPs");
    assert_eq!(ids, by_hand);

    // preview: the rendered message for one of them, with its size verdict.
    let first = ids[0].to_string();
    let out = camp(&[
        "preview",
        "vip_weekly",
        shop,
        "--customer",
        &first,
        "--database",
        &url,
        "--now",
        NOW,
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("(광고)") && stdout.contains("via lms") && stdout.contains("bytes"),
        "{stdout}"
    );
    assert!(!stdout.contains("#{"), "every placeholder rendered: {stdout}");
    assert!(
        stdout.contains(&format!("customer {first} is in the audience of `vip_weekly`")),
        "{stdout}"
    );
    // vip_weekly has variants: only this customer's is rendered, unless --all.
    assert!(stdout.contains("arm: variant `"), "{stdout}");
    let sends = stdout.matches("── ").count();
    let out = camp(&[
        "preview",
        "vip_weekly",
        shop,
        "--customer",
        &first,
        "--database",
        &url,
        "--now",
        NOW,
        "--all",
    ]);
    let (all, _) = text(&out);
    assert!(all.matches("── ").count() > sends, "--all renders every variant:\n{all}");

    // Someone outside the audience: said, with the part that fails.
    let outsider = (1..1_000).find(|k| !ids.contains(k)).expect("a non-member").to_string();
    let out = camp(&[
        "preview",
        "vip_weekly",
        shop,
        "--customer",
        &outsider,
        "--database",
        &url,
        "--now",
        NOW,
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(&format!("customer {outsider} is NOT in the audience of `vip_weekly`")),
        "{stdout}"
    );
    assert!(stdout.contains("vip.camp:"), "names the part that fails and where: {stdout}");

    // A customer who does not exist.
    let out = camp(&[
        "preview",
        "vip_weekly",
        shop,
        "--customer",
        "99999999",
        "--database",
        &url,
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("no customer with key `99999999`"), "{}", text(&out).1);

    // schema pull writes a schema that parses, and refuses to overwrite.
    let pulled = dir.path().join("pulled.camp");
    let pulled_s = pulled.to_str().expect("utf-8");
    let out = camp(&["schema", "pull", "--database", &url, "--out", pulled_s]);
    assert!(out.status.success(), "{}", text(&out).1);
    // Not a terminal: progress is one plain line on stderr, not a bar.
    assert!(text(&out).1.contains("reading the database's tables"), "{}", text(&out).1);
    assert!(!text(&out).1.contains('\u{1b}'), "no terminal escapes in a pipe");
    let schema = std::fs::read_to_string(&pulled).expect("written");
    assert!(schema.contains("customer from \"customers\" key id"), "{schema}");
    assert!(schema.contains("event order from \"orders\""), "{schema}");
    let mut ws = camp_compiler::Workspace::new();
    ws.add("pulled.camp", camp_compiler::Input::Text(schema));
    let analysis = camp_compiler::analyze(&ws);
    let syntax: Vec<_> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.code.id == "E0001")
        .map(|d| d.message.clone())
        .collect();
    assert!(syntax.is_empty(), "{syntax:?}");
    let out = camp(&["schema", "pull", "--database", &url, "--out", pulled_s]);
    assert_eq!(out.status.code(), Some(2));
    // The pulled schema, checked against the database it came from: no drift.
    let out = camp(&["check", pulled_s, "--database", &url, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out).0);
    assert!(text(&out).0.trim().is_empty(), "{}", text(&out).0);

    // check --database: a value the schema's enum lacks is E0504, with the
    // values listed and the enum to write.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let tier = |value: &str| {
        let url = url.clone();
        let value = value.to_string();
        rt.block_on(async move {
            let db = Database::connect(&url).await.expect("connects");
            db.execute_all(&[format!("UPDATE customers SET tier = '{value}' WHERE id IN (1, 2)")])
                .await
                .expect("updates");
            db.close().await;
        })
    };
    tier("diamond");
    let out = camp(&["check", shop, "--database", &url, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).0);
    let line = text(&out).0;
    let found: serde_json::Value = serde_json::from_str(line.lines().next().unwrap_or("")).expect("JSON line");
    assert_eq!(found["code"], "E0504", "{line}");
    assert!(found["file"].as_str().is_some_and(|f| f.ends_with("schema.camp")), "{found}");
    assert!(
        found["message"]
            .as_str()
            .is_some_and(|m| m.contains("`customers.tier`") && m.contains("`diamond`")),
        "{found}"
    );
    let out = camp(&["check", shop, "--database", &url]);
    let human = text(&out).0;
    assert!(
        human.contains("E0504") && human.contains("enum(bronze, silver, gold, vip, diamond)"),
        "{human}"
    );
    tier("gold");

    // check --database: clean against the tables made from the schema...
    let out = camp(&["check", shop, "--database", &url, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out).0);
    // ...and E0502 on the schema file once a column is gone.
    rt.block_on(async {
        let db = Database::connect(&url).await.expect("connects");
        db.execute_all(&["ALTER TABLE coupons DROP COLUMN discount".to_string()])
            .await
            .expect("drops");
        db.close().await;
    });
    let out = camp(&["check", shop, "--database", &url, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let line = text(&out).0;
    let found: serde_json::Value = serde_json::from_str(line.lines().next().unwrap_or("")).expect("JSON line");
    assert_eq!(found["code"], "E0502");
    assert!(found["file"].as_str().is_some_and(|f| f.ends_with("schema.camp")), "{found}");
}

#[test]
fn database_errors_are_clear() {
    let shop = shop();
    let shop = shop.to_str().expect("utf-8 path");
    // --now that does not parse: usage error.
    let out = camp(&["audience", "vip_weekly", shop, "--database", "sqlite://x.db", "--now", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("RFC 3339"), "{}", text(&out).1);
    // A SQLite file that is not there is not created.
    let out = camp(&[
        "audience",
        "vip_weekly",
        shop,
        "--database",
        "sqlite:///nonexistent/dir/shop.db",
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("cannot connect"), "{}", text(&out).1);
    assert!(!Path::new("/nonexistent/dir/shop.db").exists());
    // Nothing listens on port 1; the password never reaches the terminal.
    let out = camp(&[
        "audience",
        "vip_weekly",
        shop,
        "--database",
        "postgres://camp:s3cret@127.0.0.1:1/shop",
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("cannot connect") && stderr.contains("is the server running"),
        "{stderr}"
    );
    // The cause itself, not a pool's timeout.
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    // Not a database URL.
    let out = camp(&["audience", "vip_weekly", shop, "--database", "mysql://x", "--now", NOW]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("not a database URL"), "{}", text(&out).1);
    // An unknown campaign gets a suggestion.
    let out = camp(&["audience", "vip_weekkly", shop, "--database", "sqlite://x.db", "--now", NOW]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("vip_weekly"), "suggests the right name: {}", text(&out).1);
}
