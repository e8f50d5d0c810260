//! End to end with a real editor: a headless Neovim (Debian's `neovim`)
//! loads `editors/nvim`, opens a copy of `examples/shop/campaigns/cart.camp`
//! with a seeded mistake, and `tests/nvim/e2e.lua` reports what it saw:
//! the diagnostic (code and range, after Hangul on its line), completion
//! after `customer.`, and formatting applied to the buffer.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn has_nvim() -> bool {
    Command::new("nvim")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Neovim, installed with apt-get when missing (as the CI image allows).
fn ensure_nvim() {
    if has_nvim() {
        return;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = |args: &[&str]| {
        let mut cmd = if root { Command::new("apt-get") } else { Command::new("sudo") };
        if !root {
            cmd.args(["-n", "apt-get"]);
        }
        cmd.args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
    };
    if apt(&["install", "-y", "neovim"]).map_or(true, |s| !s.success()) {
        let _ = apt(&["update"]);
        let _ = apt(&["install", "-y", "neovim"]);
    }
    assert!(
        has_nvim(),
        "this test needs Neovim: `nvim` is not on PATH and `apt-get install -y neovim` did not work; install it and run again"
    );
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

/// 0-based line and byte column of `needle` (Neovim columns are bytes).
fn line_col(text: &str, needle: &str) -> (u64, u64) {
    let at = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not found"));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (text[..at].matches('\n').count() as u64, (at - line_start) as u64)
}

#[test]
fn neovim_gets_diagnostics_completion_and_formatting() {
    ensure_nvim();
    let dir = std::env::temp_dir().join(format!("camp-nvim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy(&repo().join("examples/shop"), &dir);
    let path = dir.join("campaigns/cart.camp");
    let original = std::fs::read_to_string(&path).expect("read");
    // The seeded mistake: a product field misspelled after Hangul text.
    let seeded = original.replacen("#{trigger.product.상품명}, 아직", "#{trigger.product.상품멍}, 아직", 1);
    assert_ne!(seeded, original);
    // And a line out of the canonical layout.
    let seeded = seeded.replacen("  kind ad\n", "      kind     ad\n", 1);
    std::fs::write(&path, &seeded).expect("write");
    let (cl, cc) = line_col(&seeded, "customer.marketing_consent");

    let out = dir.join("nvim-result.json");
    let mut child = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", repo().join("tests/nvim/e2e.lua").display()))
        .env("CAMP_BIN", env!("CARGO_BIN_EXE_camp"))
        .env("CAMP_RTP", repo().join("editors/nvim"))
        .env("CAMP_FILE", &path)
        .env("CAMP_COMPLETE_LINE", cl.to_string())
        .env("CAMP_COMPLETE_COL", (cc + "customer.".len() as u64).to_string())
        .env("CAMP_OUT", &out)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nvim starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let result = std::fs::read_to_string(&out).unwrap_or_else(|e| {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err);
        panic!("no result from nvim ({e}): {err}")
    });
    let r: serde_json::Value = serde_json::from_str(&result).expect("JSON result");
    for step in r["steps"].as_array().expect("steps") {
        assert_eq!(step["ok"], true, "step failed: {step}\n{r:#}");
    }
    assert_eq!(r["filetype"], "camp");

    // The diagnostic: E0101 on `상품멍`, its range in bytes as Neovim has it.
    let diags = r["diagnostics"].as_array().expect("diagnostics");
    let d = diags
        .iter()
        .find(|d| d["code"] == "E0101")
        .unwrap_or_else(|| panic!("no E0101 in {diags:#?}"));
    let (line, col) = line_col(&seeded, "상품멍");
    assert_eq!((d["lnum"].as_u64(), d["col"].as_u64()), (Some(line), Some(col)), "{d}");
    assert_eq!(
        (d["end_lnum"].as_u64(), d["end_col"].as_u64()),
        (Some(line), Some(col + "상품멍".len() as u64)),
        "{d}"
    );
    assert!(d["message"].as_str().is_some_and(|m| m.contains("상품명")), "{d}");
    assert!(d["href"].as_str().is_some_and(|h| h.ends_with("docs/codes/E0101.md")), "{d}");

    // Completion after `customer.`: the schema's fields and aliases.
    let labels: Vec<&str> = r["completion"]
        .as_array()
        .expect("completion")
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    for want in ["marketing_consent", "tier", "고객명", "night_consent"] {
        assert!(labels.contains(&want), "`{want}` not offered: {labels:?}");
    }
    assert!(r["hover"].as_str().is_some_and(|h| h.contains("consent")), "{}", r["hover"]);

    // Formatting: the buffer is back in the canonical layout.
    let expected = camp_grammar::format::format(&seeded).expect("formats");
    assert_eq!(r["formatted"].as_str(), Some(expected.as_str()));
    assert!(expected.contains("\n  kind ad\n"));
}
