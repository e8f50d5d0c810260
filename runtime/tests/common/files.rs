//! The folder walk and clean check both test support modules use.

use camp_compiler::{Analysis, Input, Workspace};
use std::path::Path;

/// Every `.camp` file under `dir`, sorted, as a workspace.
pub fn camp_workspace(dir: &Path) -> Workspace {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable folder").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "camp") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut ws = Workspace::new();
    for p in files {
        ws.add(
            p.display().to_string(),
            Input::Text(std::fs::read_to_string(&p).expect("readable file")),
        );
    }
    ws
}

/// The error diagnostics of `analysis`, as `CODE message` lines.
pub fn errors(analysis: &Analysis) -> Vec<String> {
    analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code.id, d.message))
        .collect()
}
