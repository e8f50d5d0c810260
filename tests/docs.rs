//! Every code has a page; every page's ```camp example, checked with the
//! fixture, emits exactly its own code.

use camp::fixture;
use camp_compiler::codes;
use std::collections::BTreeSet;
use std::path::Path;

/// The first ```camp block of a page.
fn example(page: &str) -> Option<String> {
    let start = page.find("```camp\n")? + "```camp\n".len();
    let end = page[start..].find("```")? + start;
    Some(page[start..end].to_string())
}

/// Codes about the input itself (bytes, size, IO, internal) cannot be shown
/// as a `.camp` example; tests/cli.rs covers them.
// E0405 is retired (never emitted).
const NO_CAMP_EXAMPLE: [&str; 9] = ["E0002", "E0005", "E0007", "E0501", "E0502", "E0503", "E0504", "E0901", "E0405"];
/// Codes whose example needs a camp.toml (tests/cli_workspace.rs checks them).
const NEEDS_CAMP_TOML: [&str; 1] = ["E0448"];

#[test]
fn every_page_example_emits_exactly_its_code() {
    let mut failures = Vec::new();
    for code in codes::ALL {
        let page = code.page;
        if !page.starts_with(&format!("# {}: ", code.id)) {
            failures.push(format!("{}: page must start with `# {}: title`", code.id, code.id));
        }
        for section in ["## Example", "## Why", "## Fix"] {
            if !page.contains(section) {
                failures.push(format!("{}: page lacks a `{section}` section", code.id));
            }
        }
        if NEEDS_CAMP_TOML.contains(&code.id) {
            continue;
        }
        let Some(text) = example(page) else {
            if !NO_CAMP_EXAMPLE.contains(&code.id) {
                failures.push(format!("{}: page has no ```camp example", code.id));
            }
            continue;
        };
        let ws = fixture::workspace(&format!("docs/codes/{}.md", code.id), &text);
        let analysis = camp_compiler::analyze(&ws);
        let found: BTreeSet<&str> = analysis.diagnostics.iter().map(|d| d.code.id).collect();
        if found != BTreeSet::from([code.id]) {
            let msgs: Vec<String> = analysis
                .diagnostics
                .iter()
                .map(|d| format!("{} {}", d.code.id, d.message))
                .collect();
            failures.push(format!("{}: example emits {found:?}: {msgs:?}", code.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_page_belongs_to_a_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/codes");
    for entry in std::fs::read_dir(dir).expect("docs/codes exists").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_suffix(".md") else { continue };
        assert!(codes::lookup(id).is_some(), "docs/codes/{name} documents no registered code");
    }
}

#[test]
fn codes_are_unique_and_well_formed() {
    let mut seen = BTreeSet::new();
    for c in codes::ALL {
        assert!(codes::looks_like_code(c.id), "{}", c.id);
        assert!(seen.insert(c.id), "{} registered twice", c.id);
        let warning = c.id.starts_with('W');
        assert_eq!(
            warning,
            c.severity == camp_compiler::Severity::Warning,
            "{}: the letter says the severity",
            c.id
        );
    }
}
