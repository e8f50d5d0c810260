//! `camp demo`, the README's first command, as a new user runs it: it
//! builds its shop in the temporary folder, runs every example campaign,
//! and its summary agrees with what the database holds; `camp report`
//! then reads the same database.

use camp_runtime::db::CellsExt;
use camp_runtime::Database;
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_every_example_campaign_and_its_summary_matches_the_database() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_camp"))
        .arg("demo")
        .env("TMPDIR", tmp.path())
        .output()
        .expect("camp demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "camp demo fails:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db_path = tmp.path().join("camp-demo/shop.db");
    assert!(
        stdout.contains(&db_path.display().to_string()),
        "says where its database is:\n{stdout}"
    );
    let url = format!("sqlite://{}", db_path.display());
    let db = Database::connect(&url).await.expect("the demo's database");

    // The summary table: one row per example campaign, its enrolled column
    // counted again from the store.
    let campaigns: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/shop/campaigns"))
        .expect("examples")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(|l| l.strip_prefix("campaign "))
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(campaigns.len() >= 10, "the example shop has its campaigns: {campaigns:?}");
    let mut total_sent = 0;
    for name in &campaigns {
        let row = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("no summary row for {name}:\n{stdout}"));
        let cols: Vec<i64> = row.split_whitespace().skip(1).filter_map(|c| c.parse().ok()).collect();
        assert_eq!(cols.len(), 7, "{row}");
        let enrolled = db
            .rows(&format!("SELECT COUNT(*) FROM camp_enrollments WHERE campaign = '{name}'"), &[])
            .await
            .expect("count")
            .first()
            .and_then(|r| r.int(0))
            .unwrap_or(-1);
        assert_eq!(cols[0], enrolled, "{name}: enrolled");
        total_sent += cols[1];
    }
    assert!(total_sent > 100, "the demo sends messages:\n{stdout}");
    // Never a reminder about an item that is out of stock.
    let payloads = db.rows("SELECT payload FROM camp_payloads", &[]).await.expect("payloads");
    assert!(payloads.len() > 100, "{}", payloads.len());
    let zero = payloads
        .iter()
        .filter_map(|r| r.text(0))
        .filter(|p| p.contains("남은 수량은 0개"))
        .count();
    assert_eq!(zero, 0, "reminders about an out-of-stock item");
    assert!(stdout.contains("sample messages:"), "{stdout}");
    assert!(stdout.contains("(광고)"), "an ad's sample carries its label:\n{stdout}");
    assert!(stdout.contains("uplift of"), "an experiment report:\n{stdout}");

    let report = Command::new(env!("CARGO_BIN_EXE_camp"))
        .args(["report", "cart_reminder", "--database", &url])
        .output()
        .expect("camp report runs");
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(report.status.success(), "{text}{}", String::from_utf8_lossy(&report.stderr));
    assert!(text.contains("campaign cart_reminder"), "{text}");
    assert!(text.contains("holdout"), "the cart reminder keeps a holdout:\n{text}");
    assert!(text.contains("messaged"), "the arm beside the holdout is named:\n{text}");

    // A misspelt campaign is an error with a suggestion, not "no enrollments yet".
    let typo = Command::new(env!("CARGO_BIN_EXE_camp"))
        .args(["report", "cart_remindr", "--database", &url])
        .output()
        .expect("camp report runs");
    let err = String::from_utf8_lossy(&typo.stderr);
    assert_eq!(typo.status.code(), Some(1), "{err}");
    assert!(err.contains("unknown campaign `cart_remindr`"), "{err}");
    assert!(err.contains("did you mean `cart_reminder`?"), "{err}");
}
