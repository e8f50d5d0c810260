//! Where `camp` finds a workspace when there is no `camp.toml`, and the
//! CLI's answers to names that do not exist.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// The example shop copied without its `camp.toml`.
fn shop_without_toml(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camp-ws-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    copy(&src, &dir);
    let _ = std::fs::remove_file(dir.join("camp.toml"));
    dir
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy(&path, &to.join(entry.file_name()));
        } else if path.extension().is_some_and(|e| e == "camp") {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy");
        }
    }
}

#[test]
fn a_file_named_in_a_folder_without_camp_toml_is_checked_with_that_folder() {
    let dir = shop_without_toml("file");
    let campaign = std::fs::read_dir(dir.join("campaigns"))
        .expect("campaigns")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "camp"))
        .expect("a campaign file");
    let rel = campaign.strip_prefix(&dir).expect("inside").to_string_lossy().into_owned();
    let o = camp(&["check", &rel], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 errors"), "{}", text(&o));
    // Named by an absolute path from elsewhere, a file in the workspace's
    // own top folder is checked with that folder.
    let schema = dir.join("schema.camp");
    let o = camp(&["check", &schema.to_string_lossy()], &std::env::temp_dir());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// A workspace of the fixture schema and policy plus `case`.
fn fixture_workspace(name: &str, case: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camp-ws-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("camp.toml"), "").expect("write");
    std::fs::write(dir.join("schema.camp"), camp::fixture::SCHEMA).expect("write");
    std::fs::write(dir.join("policy.camp"), camp::fixture::POLICY).expect("write");
    std::fs::write(dir.join("case.camp"), case).expect("write");
    dir
}

const SPLIT: &str = "campaign welcome_test {
  kind info
  channel lms
  trigger on purchase
  variant a 50% { send thanks }
  variant b 40% { send thanks }
}

message thanks {
  \"#{고객명}님, 주문해 주셔서 감사합니다.\"
}
";

#[test]
fn json_github_and_sarif_carry_the_related_places() {
    let dir = fixture_workspace("formats", SPLIT);
    let o = camp(&["check", "--format", "json"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let d: serde_json::Value = serde_json::from_str(stdout.lines().next().expect("a line")).expect("json");
    assert_eq!(d["code"], "E0305");
    assert_eq!(d["file"], "case.camp");
    assert_eq!(d["line"], 1);
    // The two variant lines behind "add up to 90%".
    let related = d["related"].as_array().expect("related labels");
    let lines: Vec<u64> = related.iter().filter_map(|r| r["line"].as_u64()).collect();
    assert_eq!(lines, vec![5, 6], "{d}");
    assert!(related.iter().all(|r| r["file"] == "case.camp" && r["column"].as_u64() > Some(0)));
    assert!(related.iter().all(|r| r["message"].as_str().is_some_and(|m| !m.is_empty())));

    let o = camp(&["check", "--format", "github"], &dir);
    assert_eq!(o.status.code(), Some(1));
    let gh = String::from_utf8_lossy(&o.stdout);
    let first = gh.lines().next().expect("an annotation");
    assert!(
        first.starts_with("::error file=case.camp,line=1,endLine=1,col=10,endColumn=22,"),
        "{first}"
    );
    assert!(first.contains("title=E0305 "), "{first}");
    assert!(first.contains("%0Acase.camp:5:"), "related places on their own lines: {first}");
    assert!(!first.contains('\n'));

    let o = camp(&["check", "--format", "sarif"], &dir);
    assert_eq!(o.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one SARIF document");
    assert_eq!(log["version"], "2.1.0");
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "E0305");
    assert_eq!(result["level"], "error");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    assert_eq!(result["relatedLocations"].as_array().map(Vec::len), Some(2));
    assert_eq!(log["runs"][0]["tool"]["driver"]["rules"][0]["id"], "E0305");
}

#[test]
fn run_that_refuses_to_start_creates_no_channel_file() {
    let dir = shop_without_toml("refuse");
    let toml = "[workspace]\nname = \"t\"\n\n".to_string()
        + &["sms", "lms", "alimtalk", "brand"]
            .iter()
            .map(|c| format!("[channels.{c}]\ntype = \"file\"\npath = \"out-{c}.jsonl\"\n\n"))
            .collect::<String>();
    std::fs::write(dir.join("camp.toml"), toml).expect("write");
    // A database in a folder that does not exist: camp run refuses.
    let o = camp(&["run", "--database", "sqlite://no/such/folder/shop.db"], &dir);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let left: Vec<String> = std::fs::read_dir(&dir)
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("out-"))
        .collect();
    assert!(left.is_empty(), "channel files left behind: {left:?}\n{}", text(&o));
}

#[test]
fn ads_on_a_provider_channel_need_a_certified_sender() {
    let dir = shop_without_toml("certified");
    let channel = |name: &str, kind: &str, certified: bool| {
        let extra = if certified { "certified = true\n" } else { "" };
        let url = if kind == "webhook" {
            "url = \"http://127.0.0.1:1/x\"\n"
        } else {
            ""
        };
        format!("[channels.{name}]\ntype = \"{kind}\"\n{url}{extra}\n")
    };
    // Every provider channel certified: clean.
    let certified = ["sms", "lms", "brand"]
        .iter()
        .map(|c| channel(c, "webhook", true))
        .collect::<String>()
        + &channel("alimtalk", "webhook", false);
    std::fs::write(dir.join("camp.toml"), &certified).expect("write");
    let o = camp(&["check", "--format", "json"], &dir);
    assert!(!text(&o).contains("E0448"), "{}", text(&o));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // `lms` goes to a provider without the certification: every ad campaign
    // that may send on it is refused at `camp check`.
    let uncertified = channel("sms", "webhook", true)
        + &channel("lms", "webhook", false)
        + &channel("brand", "webhook", true)
        + &channel("alimtalk", "webhook", false);
    std::fs::write(dir.join("camp.toml"), &uncertified).expect("write");
    let o = camp(&["check", "--format", "json"], &dir);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    let hits = out.lines().filter(|l| l.contains("\"E0448\"")).count();
    assert!(hits >= 1, "{out}");
    assert!(out.contains("ads on lms need a certified sender"), "{out}");

    // A local channel (stdout, file) is not a provider: no certification needed.
    let local = channel("sms", "stdout", false)
        + &channel("lms", "file", false)
        + &channel("brand", "stdout", false)
        + &channel("alimtalk", "stdout", false);
    std::fs::write(dir.join("camp.toml"), &local).expect("write");
    let o = camp(&["check", "--format", "json"], &dir);
    assert!(!text(&o).contains("E0448"), "{}", text(&o));

    // Without a camp.toml nothing is known about the channels: no E0448.
    let _ = std::fs::remove_file(dir.join("camp.toml"));
    let o = camp(&["check", "--format", "json"], &dir);
    assert!(!text(&o).contains("E0448"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
