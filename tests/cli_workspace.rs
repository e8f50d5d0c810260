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
