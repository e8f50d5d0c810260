//! From command-line paths to a workspace: every `.camp` file under the
//! workspace folder (the nearest `camp.toml` upward, else the folder given).

use crate::config::Config;
use camp_compiler::{FileId, Input, Workspace};
use std::path::{Path, PathBuf};

/// A loaded workspace and which of its files the user asked about.
pub struct Loaded {
    pub workspace: Workspace,
    /// Files named on the command line (or found in a folder named there);
    /// the rest of the workspace is loaded as context.
    pub targets: Vec<FileId>,
    pub config: Config,
    pub root: PathBuf,
}

/// Why a command could not even start: a usage or IO problem (exit 2).
#[derive(Debug)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The nearest folder at or above `start` holding a `camp.toml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start.ancestors().find(|d| d.join("camp.toml").is_file()).map(Path::to_path_buf)
}

/// Every `.camp` file below `dir`, sorted, skipping hidden folders and
/// `target`. Unreadable folders are reported, not fatal.
pub fn camp_files(dir: &Path, out: &mut Vec<PathBuf>, problems: &mut Vec<(PathBuf, String)>) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                problems.push((d.clone(), e.to_string()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let hidden = name.to_string_lossy().starts_with('.');
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() && !hidden && name != "target" && name != "node_modules" {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "camp") && !kind.is_dir() {
                out.push(path);
            }
        }
    }
    out.sort();
}

/// Whether a `.camp` file directly in `dir` defines the schema.
fn holds_schema(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|e| {
        let path = e.path();
        // Regular files only: a FIFO would block the read.
        path.extension().is_some_and(|x| x == "camp")
            && e.file_type().is_ok_and(|t| t.is_file())
            && std::fs::read_to_string(&path).is_ok_and(|t| {
                t.lines()
                    .any(|l| l.strip_prefix("schema").is_some_and(|r| r.trim_start().starts_with('{')))
            })
    })
}

fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd.as_deref().and_then(|c| path.strip_prefix(c).ok()).unwrap_or(path);
    shown.to_string_lossy().into_owned()
}

fn read(path: &Path) -> Result<Input, String> {
    // Only regular files: reading a FIFO or a device could block forever.
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => Input::Text(text),
        Err(e) => {
            let valid_up_to = e.utf8_error().valid_up_to();
            Input::InvalidUtf8 {
                lossy: String::from_utf8_lossy(e.as_bytes()).into_owned(),
                valid_up_to,
            }
        }
    })
}

/// Loads the workspace for `paths` (the current workspace when empty).
pub fn load(paths: &[PathBuf]) -> Result<Loaded, LoadError> {
    let cwd = std::env::current_dir().map_err(|e| LoadError(format!("cannot read the current folder: {e}")))?;
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![find_root(&cwd).unwrap_or_else(|| cwd.clone())]
    } else {
        paths.to_vec()
    };
    for p in &paths {
        if std::fs::symlink_metadata(p).is_err() {
            return Err(LoadError(format!("`{}` does not exist", p.display())));
        }
    }
    // The workspace is found from the first path; named files outside it
    // are still checked.
    let first = &paths[0];
    let first_dir = if first.is_dir() {
        first.clone()
    } else {
        first.parent().map(Path::to_path_buf).unwrap_or_else(|| cwd.clone())
    };
    let first_dir = if first_dir.as_os_str().is_empty() { cwd.clone() } else { first_dir };
    let root = find_root(&first_dir);
    // Without a `camp.toml`, a named file's workspace is the nearest
    // folder upward (not above the current folder) that holds the schema,
    // else the file's own folder.
    let context_root = root.clone().or_else(|| {
        if first.is_dir() {
            return None;
        }
        let dir = first_dir.canonicalize().ok()?;
        let here = cwd.canonicalize().ok();
        let upward: Vec<&Path> = match &here {
            Some(h) if dir.starts_with(h) => dir.ancestors().take_while(|a| a.starts_with(h)).collect(),
            _ => vec![dir.as_path()],
        };
        let found = upward.iter().find(|d| holds_schema(d)).map(|d| d.to_path_buf());
        Some(found.unwrap_or(dir))
    });

    let mut context = Vec::new();
    let mut problems = Vec::new();
    if let Some(root) = &context_root {
        camp_files(root, &mut context, &mut problems);
    }
    let mut targets_paths = Vec::new();
    for p in &paths {
        if p.is_dir() {
            camp_files(p, &mut targets_paths, &mut problems);
        } else {
            targets_paths.push(p.clone());
        }
    }
    if let Some((dir, reason)) = problems.first() {
        return Err(LoadError(format!("cannot read `{}`: {reason}", dir.display())));
    }

    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let mut all: Vec<(PathBuf, bool)> = Vec::new();
    for p in &targets_paths {
        if !all.iter().any(|(q, _)| canon(q) == canon(p)) {
            all.push((p.clone(), true));
        }
    }
    for p in &context {
        if !all.iter().any(|(q, _)| canon(q) == canon(p)) {
            all.push((p.clone(), false));
        }
    }

    let config = match &root {
        Some(r) => {
            let path = r.join("camp.toml");
            let text = std::fs::read_to_string(&path).map_err(|e| LoadError(format!("cannot read `{}`: {e}", path.display())))?;
            Config::parse(&text).map_err(|e| LoadError(format!("`{}` is not a valid camp.toml: {e}", display(&path))))?
        }
        None => Config::default(),
    };

    let mut workspace = Workspace::new();
    if root.is_some() {
        workspace.channels = Some(channel_facts(&config));
    }
    let mut targets = Vec::new();
    for (path, is_target) in all {
        let shown = display(&path);
        let input = read(&path).unwrap_or_else(|reason| Input::Unreadable { reason });
        let id = workspace.add(shown, input);
        if is_target {
            targets.push(id);
        }
    }
    Ok(Loaded {
        workspace,
        targets,
        config,
        root: root.or(context_root).unwrap_or(first_dir),
    })
}

/// What the checker needs of each configured channel: whether it goes to
/// a provider (a webhook; `stdout` and `file` stay on this machine) and
/// whether `certified = true` says the sender is certified.
pub fn channel_facts(config: &Config) -> std::collections::BTreeMap<String, camp_compiler::ChannelFacts> {
    config
        .channels
        .iter()
        .map(|(name, table)| {
            let kind = table.get("type").and_then(|v| v.as_str()).unwrap_or("");
            let facts = camp_compiler::ChannelFacts {
                provider: !matches!(kind, "stdout" | "file"),
                certified: table.get("certified").and_then(|v| v.as_bool()).unwrap_or(false),
            };
            (name.clone(), facts)
        })
        .collect()
}

/// The `camp.toml` of a workspace folder, if it has a readable, valid one.
pub fn config_at(root: &Path) -> Option<Config> {
    let text = std::fs::read_to_string(root.join("camp.toml")).ok()?;
    Config::parse(&text).ok()
}
