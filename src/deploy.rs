//! Deployment directories on disk: `camp compile --out DIR` writes one
//! (`DIR/manifest.json` and `DIR/plans/<campaign>.json`, all or none), and
//! `camp run --plans DIR` / `camp simulate --plans DIR` read one back,
//! verifying every hash. The checks themselves live with the deployment
//! type (`camp_compiler::plan::deployment`); this module does the IO.

use camp_compiler::plan::deployment::{self, Deployment};
use std::io;
use std::path::{Path, PathBuf};

/// Writes `d` as the directory `out`: first complete in a temporary
/// directory beside it, then renamed into place, so a reader finds the old
/// deployment or the new one, never a mix. An existing `out` is replaced
/// only when it is a deployment (or an earlier camp's folder of
/// `.plan.json` files, or empty): anything else is refused.
pub fn write(out: &Path, d: &Deployment) -> Result<(), String> {
    let shown = out.display();
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("`{shown}` does not name a directory; pass `--out DIR` with a folder name such as `deploy`"))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if out.exists() {
        replaceable(out)?;
    }
    std::fs::create_dir_all(&parent).map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    let pid = std::process::id();
    let staged = parent.join(format!(".{name}.tmp-{pid}"));
    let _ = std::fs::remove_dir_all(&staged);
    if let Err(e) = stage(&staged, d) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(format!("cannot write the deployment next to `{shown}`: {e}"));
    }
    let result = if out.exists() {
        // A directory cannot be renamed over a full one: move the old one
        // aside, put the new one in, then drop the old (or put it back).
        let old = parent.join(format!(".{name}.old-{pid}"));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(out, &old).and_then(|()| match std::fs::rename(&staged, out) {
            Ok(()) => {
                let _ = std::fs::remove_dir_all(&old);
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::rename(&old, out);
                Err(e)
            }
        })
    } else {
        std::fs::rename(&staged, out)
    };
    result.map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        format!("cannot move the deployment into `{shown}`: {e}")
    })
}

fn stage(dir: &Path, d: &Deployment) -> io::Result<()> {
    std::fs::create_dir_all(dir.join(deployment::PLANS_DIR))?;
    for (file, text) in d.files() {
        std::fs::write(dir.join(file), text)?;
    }
    Ok(())
}

/// Whether `out` may be replaced by a new deployment.
fn replaceable(out: &Path) -> Result<(), String> {
    let shown = out.display();
    if !out.is_dir() {
        return Err(format!(
            "`{shown}` exists and is not a directory\n  help: pass `--out` a new folder, or the folder of an earlier `camp compile`"
        ));
    }
    if out.join(deployment::MANIFEST).is_file() {
        return Ok(());
    }
    let entries = std::fs::read_dir(out).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".plan.json") && !name.starts_with('.') {
            return Err(format!(
                "`{shown}` holds other files (`{name}`) and is not a deployment (no {})\n  help: pass `--out` a new folder, or the folder of an earlier `camp compile`; camp replaces the whole folder",
                deployment::MANIFEST
            ));
        }
    }
    Ok(())
}

/// Reads and verifies the deployment in `dir`: the manifest's format
/// version and hash, and each plan file against its hash in the manifest.
/// The error names the file and the fix.
pub fn read(dir: &Path) -> Result<Deployment, String> {
    let shown = dir.display();
    if !dir.is_dir() {
        return Err(format!(
            "`{shown}` is not a directory\n  help: `camp run --plans DIR` takes the folder that `camp compile --out DIR` wrote"
        ));
    }
    let manifest_path = dir.join(deployment::MANIFEST);
    let manifest = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let old_plans = std::fs::read_dir(dir)
                .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".plan.json")))
                .unwrap_or(false);
            let what = if old_plans {
                "holds plans of an earlier camp but no manifest"
            } else {
                "is not a deployment"
            };
            return Err(format!(
                "`{}` is missing: `{shown}` {what}\n  help: compile the workspace into it: `camp compile --out {shown}`",
                manifest_path.display()
            ));
        }
        Err(e) => return Err(format!("cannot read `{}`: {e}", manifest_path.display())),
    };
    Deployment::load(&manifest, |file| std::fs::read_to_string(dir.join(file)).map_err(|e| e.to_string())).map_err(|e| {
        format!(
            "`{}`: {}\n  help: {}",
            dir.join(&e.file).display(),
            e.message,
            e.help.replace("`camp compile --out DIR`", &format!("`camp compile --out {shown}`"))
        )
    })
}
