//! `camp fmt [PATHS..] [--check]`: the canonical layout of `.camp` files
//! (`camp_grammar::format`, which the language server uses too).
//!
//! A file with syntax errors is refused and left untouched; others are
//! rewritten through a temporary file and a rename, so an interrupted run
//! never leaves half a file.

use crate::load;
use camp_compiler::SourceFile;
use camp_grammar::format::{format, FormatError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_CHANGES_OR_ERRORS: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// What became of one file.
enum Outcome {
    Unchanged,
    Changed(String),
    Refused(String),
}

/// Formats (or with `check`, lists) every `.camp` file under `paths`
/// (the current workspace when empty).
pub fn run(paths: &[PathBuf], check: bool) -> ExitCode {
    let files = match files(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let (mut changed, mut refused, mut io_failed) = (0usize, 0usize, false);
    let cwd = std::env::current_dir().unwrap_or_default();
    for path in &files {
        // Paths as the user would type them: relative to where they are.
        let shown = path.strip_prefix(&cwd).unwrap_or(path).display();
        let text = match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                eprintln!("error: {shown}: not valid UTF-8; not formatted");
                refused += 1;
                continue;
            }
            Err(e) => {
                eprintln!("error: cannot read {shown}: {e}");
                io_failed = true;
                continue;
            }
        };
        match outcome(path.strip_prefix(&cwd).unwrap_or(path), &text) {
            Outcome::Unchanged => {}
            Outcome::Refused(why) => {
                eprint!("{why}");
                refused += 1;
            }
            Outcome::Changed(_) if check => {
                println!("would reformat {shown}");
                changed += 1;
            }
            Outcome::Changed(new) => match write_atomically(path, &new) {
                Ok(()) => {
                    println!("formatted {shown}");
                    changed += 1;
                }
                Err(e) => {
                    eprintln!("error: cannot write {shown}: {e}");
                    io_failed = true;
                }
            },
        }
    }
    if check && changed > 0 {
        eprintln!(
            "{changed} file{} would be reformatted; run `camp fmt` to fix",
            if changed == 1 { "" } else { "s" }
        );
    }
    if io_failed {
        ExitCode::from(EXIT_USAGE)
    } else if refused > 0 || (check && changed > 0) {
        ExitCode::from(EXIT_CHANGES_OR_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}

fn outcome(path: &Path, text: &str) -> Outcome {
    match format(text) {
        Ok(new) if new == text => Outcome::Unchanged,
        Ok(new) => Outcome::Changed(new),
        Err(FormatError::Syntax(errors)) => {
            let file = SourceFile::new(path.display().to_string(), text);
            let mut why = format!(
                "error: {}: cannot format a file with syntax errors; it was left as it is\n",
                path.display()
            );
            for e in &errors {
                let at = file.line_col(e.span.start);
                why.push_str(&format!("  {}:{}:{}: {}\n", path.display(), at.line, at.column, e.message));
            }
            Outcome::Refused(why)
        }
        Err(e @ FormatError::Unstable(_)) => Outcome::Refused(format!("error: {}: {e}\n", path.display())),
    }
}

/// The `.camp` files named by `paths`, or every one in the workspace.
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
    let roots: Vec<PathBuf> = if paths.is_empty() {
        vec![load::find_root(&cwd).unwrap_or(cwd)]
    } else {
        paths.to_vec()
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for p in &roots {
        if p.is_dir() {
            load::camp_files(p, &mut out, &mut problems);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("`{}` does not exist", p.display()));
        }
    }
    if let Some((dir, why)) = problems.first() {
        return Err(format!("cannot read `{}`: {why}", dir.display()));
    }
    out.dedup();
    Ok(out)
}

/// Writes `text` next to `path` and renames it over `path`, keeping the
/// file's permissions.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.camp-fmt.{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, text).and_then(|()| {
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
