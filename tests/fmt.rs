//! `camp fmt` as users run it: `--check` lists and exits 1, a plain run
//! rewrites in place, and a file with syntax errors is refused untouched.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn camp(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_camp"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("camp runs")
}

/// A copy of the example shop in a fresh folder.
fn shop(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camp-fmt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    copy(&src, &dir);
    dir
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn the_shop_is_already_formatted() {
    let dir = shop("clean");
    let o = camp(&["fmt", "--check"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn check_lists_and_rewrite_fixes() {
    let dir = shop("messy");
    let path = dir.join("campaigns/winback.camp");
    let original = std::fs::read_to_string(&path).expect("read");
    let messy = original
        .replace("  kind ad", "\tkind   ad")
        .replace("cap 1 per 30d", "cap 1   per 30d  // 한 달에 한 번");
    std::fs::write(&path, &messy).expect("write");

    let o = camp(&["fmt", "--check"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("would reformat campaigns/winback.camp"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), messy, "--check must not write");

    let o = camp(&["fmt"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let fixed = std::fs::read_to_string(&path).expect("read");
    assert_eq!(fixed, original.replace("cap 1 per 30d", "cap 1 per 30d // 한 달에 한 번"));
    let o = camp(&["fmt", "--check", "campaigns/winback.camp"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("campaigns"))
        .expect("read dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn syntax_errors_are_refused_and_the_file_is_untouched() {
    let dir = shop("broken");
    let path = dir.join("campaigns/broken.camp");
    let broken = "segment   = customer.tier ==gold\n";
    std::fs::write(&path, broken).expect("write");
    let o = camp(&["fmt", "campaigns/broken.camp"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot format a file with syntax errors"), "{err}");
    assert!(err.contains("campaigns/broken.camp:1:"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), broken);
}
