//! Loading example workspaces for the compiler's tests.

#![allow(dead_code)]

use camp_compiler::{analyze, Analysis, Input, Workspace};
use std::path::{Path, PathBuf};

/// The folder of the example shop.
pub fn shop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop")
}

/// Every `.camp` file under `dir`, by path relative to it, sorted.
pub fn files(dir: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("readable folder")
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "camp") {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path).expect("UTF-8 file")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// Checks files given as (path, text); panics on errors.
pub fn analyze_files(files: &[(String, String)]) -> Analysis {
    let mut ws = Workspace::new();
    for (path, text) in files {
        ws.add(path.clone(), Input::Text(text.clone()));
    }
    let analysis = analyze(&ws);
    let errors: Vec<String> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {} ({:?})", d.code.id, d.message, d.primary))
        .collect();
    assert!(errors.is_empty(), "the workspace has errors:\n{}", errors.join("\n"));
    analysis
}

pub fn shop_files() -> Vec<(String, String)> {
    files(&shop_dir())
}

/// The shop's files with one file's text replaced (or added).
pub fn with_file(mut files: Vec<(String, String)>, path: &str, text: &str) -> Vec<(String, String)> {
    match files.iter_mut().find(|(p, _)| p == path) {
        Some(f) => f.1 = text.to_string(),
        None => files.push((path.to_string(), text.to_string())),
    }
    files
}
