//! The `camp` binary as CI and users run it: exit codes, JSON output, and
//! bad input of every kind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn camp(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_camp"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("camp runs")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh folder with the fixture schema and policy, and a camp.toml.
fn workspace(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camp-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("camp.toml"), "[workspace]\nname = \"t\"\n").expect("write");
    std::fs::write(dir.join("schema.camp"), camp::fixture::SCHEMA).expect("write");
    std::fs::write(dir.join("policy.camp"), camp::fixture::POLICY).expect("write");
    dir
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn shop_example_is_clean_with_exit_0() {
    let o = camp(&["check", "examples/shop"], &repo());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("0 errors, 0 warnings"), "{}", stdout(&o));
}

#[test]
fn check_defaults_to_the_workspace_of_the_current_folder() {
    let o = camp(&["check"], &repo().join("examples/shop/campaigns"));
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn json_has_one_object_per_diagnostic_with_positions() {
    let dir = workspace("json");
    std::fs::write(
        dir.join("bad.camp"),
        "segment a = customer.teir == gold\n\nsegment b = customer.points > \"x\"\n",
    )
    .expect("write");
    let o = camp(&["check", "--format", "json"], &dir);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", stdout(&o));
    let first = &lines[0];
    assert_eq!(first["code"], "E0101");
    assert_eq!(first["file"], "bad.camp");
    assert_eq!(first["severity"], "error");
    // `teir` starts at byte 21 of line 1: column 22, and ends at column 26.
    assert_eq!((first["line"].as_u64(), first["column"].as_u64()), (Some(1), Some(22)));
    assert_eq!((first["end_line"].as_u64(), first["end_column"].as_u64()), (Some(1), Some(26)));
    assert!(first["message"].as_str().is_some_and(|m| m.contains("teir")));
    assert_eq!(lines[1]["code"], "E0201");
    assert_eq!(lines[1]["line"].as_u64(), Some(3));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn warnings_only_exit_0() {
    let dir = workspace("warn");
    std::fs::write(dir.join("empty.camp"), "").expect("write");
    let o = camp(&["check", "--format", "json"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("\"W0001\""));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn invalid_utf8_is_reported_at_the_bad_byte() {
    let dir = workspace("utf8");
    std::fs::write(dir.join("bad.camp"), b"segment a = customer.tier == gold\n\xff\xfe\n").expect("write");
    let o = camp(&["check", "--format", "json"], &dir);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap_or("")).expect("json");
    assert_eq!(v["code"], "E0002");
    assert_eq!(v["line"].as_u64(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let dir = workspace("big");
    let line = "// filler filler filler filler filler filler filler filler filler filler\n";
    let text = line.repeat(10 * 1024 * 1024 / line.len() + 1);
    std::fs::write(dir.join("big.camp"), text).expect("write");
    let o = camp(&["check", "--format", "json"], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("\"E0005\""), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let dir = workspace("deep");
    let text = format!("segment a = {}customer.points > 1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    std::fs::write(dir.join("deep.camp"), text).expect("write");
    let nots = format!("segment b = {}customer.marketing_consent\n", "not ".repeat(100_000));
    std::fs::write(dir.join("nots.camp"), nots).expect("write");
    let o = camp(&["check", "--format", "json"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o).matches("\"E0003\"").count(), 2, "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn missing_schema_is_reported() {
    let dir = std::env::temp_dir().join(format!("camp-cli-noschema-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("a.camp"), "segment a = customer.tier == gold\n").expect("write");
    let o = camp(&["check", "--format", "json", "a.camp"], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("\"E0112\""), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn unreadable_and_missing_paths_exit_2() {
    let dir = workspace("unreadable");
    let o = camp(&["check", "no-such-file.camp"], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist"));
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.join("gone"), dir.join("dangling.camp")).expect("symlink");
        let o = camp(&["check", "--format", "json"], &dir);
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(stdout(&o).contains("\"E0007\""));
        std::fs::remove_file(dir.join("dangling.camp")).expect("rm");
        // A FIFO would block a naive reader forever.
        let fifo = dir.join("pipe.camp");
        let made = Command::new("mkfifo").arg(&fifo).status().map(|s| s.success()).unwrap_or(false);
        if made {
            let o = camp(&["check", "--format", "json"], &dir);
            assert_eq!(o.status.code(), Some(2));
            assert!(stdout(&o).contains("not a regular file"));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn usage_errors_exit_2() {
    let o = camp(&["check", "--format", "xml"], &repo());
    assert_eq!(o.status.code(), Some(2));
    let o = camp(&["frobnicate"], &repo());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn explain_prints_the_page_of_a_code() {
    let o = camp(&["explain", "E0101"], &repo());
    assert_eq!(o.status.code(), Some(0));
    let page = std::fs::read_to_string(repo().join("docs/codes/E0101.md")).expect("page");
    assert_eq!(stdout(&o), page);
    let o = camp(&["explain", "w0404"], &repo());
    assert_eq!(o.status.code(), Some(0), "codes are case-insensitive");
    let o = camp(&["explain", "E9999"], &repo());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn explain_a_campaign_prints_steps_sql_and_indexes() {
    let shop = repo().join("examples/shop");
    let o = camp(&["explain", "cart_reminder"], &shop);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = stdout(&o);
    for needed in [
        "steps:",
        "send cart_remind",
        "exit when",
        "\"orders\"",
        "CREATE INDEX IF NOT EXISTS",
        "?1",
    ] {
        assert!(text.contains(needed), "missing {needed:?} in:\n{text}");
    }
    let o = camp(&["explain", "cart_reminder", "--dialect", "postgres"], &shop);
    assert!(
        stdout(&o).contains("$1::timestamptz") || stdout(&o).contains("$1"),
        "{}",
        stdout(&o)
    );
    let o = camp(&["explain", "cart_remindr"], &shop);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `cart_reminder`?"));
}
