//! Golden diagnostics: every `tests/ui/<area>/<case>.camp` is checked with the
//! fixture; its `// expect: CODE` comments (on the line they mark, or
//! `// expect: CODE@LINE` anywhere) must match the codes and lines found
//! exactly, and the colourless rendering must match its snapshot.

use camp::{fixture, output};
use camp_compiler::FileId;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut out = Vec::new();
    let mut problems = Vec::new();
    camp::load::camp_files(&root, &mut out, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    out
}

/// `(code, line)` pairs the case announces.
fn expectations(text: &str) -> BTreeSet<(String, usize)> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("// expect:") {
            rest = &rest[at + "// expect:".len()..];
            for word in rest.split_whitespace().take_while(|w| !w.starts_with("//")) {
                let word = word.trim_end_matches(',');
                match word.split_once('@') {
                    Some((code, n)) => {
                        let n: usize = n.parse().unwrap_or_else(|_| panic!("bad line number in `{word}`"));
                        out.insert((code.to_string(), n));
                    }
                    None => {
                        out.insert((word.to_string(), i + 1));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn ui_cases_match_expectations_and_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = cases();
    assert!(cases.len() >= 40, "expected a UI case per code, found {}", cases.len());
    let mut failures = Vec::new();
    let mut rendered = Vec::new();
    for path in &cases {
        let rel = path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let ws = fixture::workspace(&rel, &text);
        let analysis = camp_compiler::analyze(&ws);
        let case = FileId(0);
        let expected = expectations(&text);
        if expected.is_empty() {
            failures.push(format!("{rel}: no `// expect:` comment"));
        }
        let mut found = BTreeSet::new();
        for d in &analysis.diagnostics {
            if d.primary.file != case {
                failures.push(format!("{rel}: diagnostic {} in fixture file: {}", d.code.id, d.message));
                continue;
            }
            let line = ws.files[0].line_col(d.primary.span.start).line;
            found.insert((d.code.id.to_string(), line));
        }
        if found != expected {
            failures.push(format!("{rel}:\n  expected {expected:?}\n  found    {found:?}"));
        }
        let text: String = analysis.diagnostics.iter().map(|d| output::human(d, &ws, false)).collect();
        let name = rel.trim_start_matches("tests/ui/").trim_end_matches(".camp").replace('/', "__");
        rendered.push((name, text));
    }
    assert!(failures.is_empty(), "{} UI cases failed:\n{}", failures.len(), failures.join("\n"));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join("tests/ui/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (name, text) in rendered {
            insta::assert_snapshot!(name, text);
        }
    });
}

#[test]
fn every_code_has_a_ui_case() {
    let mut covered = BTreeSet::new();
    for path in cases() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        covered.extend(expectations(&text).into_iter().map(|(c, _)| c));
    }
    // Codes about the input itself are covered by tests/cli.rs instead, and
    // the schema-against-database codes (E05xx) by tests/dbcli.rs and
    // runtime/tests/dryrun.rs, which need a database. E0448 needs a
    // camp.toml (tests/cli_workspace.rs); E0405 is retired, never emitted.
    let input_level = [
        "E0002", "E0005", "E0007", "E0501", "E0502", "E0503", "E0504", "E0901", "E0405", "E0448",
    ];
    let missing: Vec<&str> = camp_compiler::codes::ALL
        .iter()
        .map(|c| c.id)
        .filter(|id| !covered.contains(*id) && !input_level.contains(id))
        .collect();
    assert!(missing.is_empty(), "codes without a UI case: {missing:?}");
}
