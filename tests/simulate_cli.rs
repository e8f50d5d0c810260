//! `camp simulate` as a user runs it: JSON output, `--limit`, a cut that
//! says so, and customers in numeric order.

mod shopdb;

use shopdb::shop;
use std::process::Command;

fn shop_database(dir: &std::path::Path, now: &str) -> String {
    shopdb::shop_database(dir, 400, now)
}

#[test]
fn json_limit_and_numeric_customer_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = shop_database(dir.path(), "2026-11-30T00:00:00Z");
    let shop = shop();
    let shop = shop.to_str().expect("utf-8 path");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "simulate",
            shop,
            "--database",
            &url,
            "--from",
            "2026-11-23 00:00",
            "--to",
            "2026-11-30 00:00",
        ];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_camp")).args(&args).output().expect("camp runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let all: serde_json::Value = serde_json::from_str(run(&["--format", "json"]).trim()).expect("one JSON document");
    let sends = all["sends"].as_array().expect("sends");
    let total = all["total"].as_u64().expect("total") as usize;
    assert_eq!(sends.len(), total, "json lists every send by default");
    assert!(total > 10, "a week of the shop sends: {total}");
    let per: u64 = all["per_campaign"]
        .as_object()
        .expect("per campaign")
        .values()
        .filter_map(|v| v.as_u64())
        .sum();
    assert_eq!(per as usize, total);
    // Within one instant and campaign, customers in numeric order.
    for w in sends.windows(2) {
        if w[0]["at"] == w[1]["at"] && w[0]["campaign"] == w[1]["campaign"] {
            let a: i64 = w[0]["customer"].as_str().and_then(|c| c.parse().ok()).expect("integer key");
            let b: i64 = w[1]["customer"].as_str().and_then(|c| c.parse().ok()).expect("integer key");
            assert!(a <= b, "{a} before {b}");
        }
    }

    let cut: serde_json::Value = serde_json::from_str(run(&["--format", "json", "--limit", "3"]).trim()).expect("json");
    assert_eq!(cut["shown"], 3);
    assert_eq!(cut["total"].as_u64(), Some(total as u64));
    assert_eq!(cut["sends"].as_array().map(Vec::len), Some(3));
    assert_eq!(cut["sends"][0], sends[0]);

    let human = run(&["--limit", "2"]);
    assert!(
        human.contains(&format!("… {} more sends not shown", total - 2)),
        "a cut says so:\n{human}"
    );
}
