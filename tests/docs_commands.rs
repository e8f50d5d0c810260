//! Every `camp` command that the README and `docs/` show in a shell block
//! runs as written, in a copy of the example shop with a sample SQLite
//! database beside it (`shop.db`, the database its `camp.toml` names). A
//! PostgreSQL URL in a command is read as that database, and a deployment a
//! command rolls back to is compiled first, as the docs assume it exists.

mod shopdb;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `(file, command line)` for every line starting with `camp ` in a
/// ```sh block, without its trailing comment.
fn documented() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        let mut in_sh = false;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("```") {
                in_sh = !in_sh && matches!(t, "```sh" | "```bash" | "```shell");
                continue;
            }
            if in_sh && t.starts_with("camp ") {
                let command = t.split(" #").next().unwrap_or(t).trim().to_string();
                out.push((f.file_name().unwrap_or_default().to_string_lossy().into_owned(), command));
            }
        }
    }
    out
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy");
        }
    }
}

/// The binary, with the example shop's webhook secrets set (as
/// docs/deploy.md says they must be).
fn camp() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_camp"));
    c.env("NO_COLOR", "1")
        .env("CAMP_SMS_SECRET", "docs-test")
        .env("CAMP_KAKAO_SECRET", "docs-test");
    c
}

#[test]
fn every_documented_command_runs_as_written() {
    let commands = documented();
    assert!(commands.len() >= 8, "the docs show their commands: {commands:?}");
    let tmp = tempfile::tempdir().expect("temp dir");
    let shop = tmp.path().join("shop");
    copy(&shopdb::shop(), &shop);
    shopdb::shop_database(&shop, 300, "2026-11-23T03:00:00Z");
    let url = format!("sqlite://{}", shop.join("shop.db").display());
    // `camp schema pull` writes `schema.camp`: run where there is none yet.
    let pull = tmp.path().join("pull");
    std::fs::create_dir_all(&pull).expect("mkdir");
    shopdb::shop_database(&pull, 100, "2026-11-23T03:00:00Z");

    let mut failures = Vec::new();
    for (file, line) in &commands {
        let (line, redirect) = match line.split_once(" > ") {
            Some((c, f)) => (c.trim(), Some(f.trim())),
            None => (line.as_str(), None),
        };
        let args: Vec<String> = line
            .split_whitespace()
            .skip(1)
            .map(|a| if a.starts_with("postgres://") { url.clone() } else { a.to_string() })
            .collect();
        let dir = if args.first().map(String::as_str) == Some("schema") {
            &pull
        } else {
            &shop
        };
        if let Some(i) = args.iter().position(|a| a == "--plans") {
            let plans = dir.join(&args[i + 1]);
            if !plans.exists() {
                let o = camp()
                    .args(["compile", "--out"])
                    .arg(&plans)
                    .current_dir(dir)
                    .output()
                    .expect("compile");
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            }
        }
        let what = format!("{file}: `{line}`");
        if args.first().map(String::as_str) == Some("run") {
            // The daemon: it starts, registers, and stops cleanly on SIGTERM.
            let mut child = camp()
                .args(&args)
                .current_dir(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("camp run starts");
            let started = Instant::now();
            let mut alive = true;
            while started.elapsed() < Duration::from_secs(3) {
                if let Ok(Some(_)) = child.try_wait() {
                    alive = false;
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if !alive {
                let o = child.wait_with_output().expect("output");
                failures.push(format!("{what} exited: {}", String::from_utf8_lossy(&o.stderr)));
                continue;
            }
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let o = child.wait_with_output().expect("stops");
            if o.status.code() != Some(0) {
                failures.push(format!("{what} did not stop cleanly: {}", String::from_utf8_lossy(&o.stderr)));
            }
            continue;
        }
        let o = camp().args(&args).current_dir(dir).output().expect("camp runs");
        if let Some(f) = redirect {
            std::fs::write(dir.join(f), &o.stdout).expect("redirect");
        }
        if !o.status.success() {
            failures.push(format!(
                "{what} exited {:?}:\n{}{}",
                o.status.code(),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
