//! The shared test fixture: UI tests, docs examples, property tests and the
//! benchmark check a case together with `tests/fixture/{schema,policy}.camp`,
//! unless the case brings its own schema or policy.

use camp_compiler::{Input, Workspace};

pub const SCHEMA: &str = include_str!("../tests/fixture/schema.camp");
pub const POLICY: &str = include_str!("../tests/fixture/policy.camp");

/// Whether `text` has a top-level item starting with `keyword` (column 0).
fn defines(text: &str, keyword: &str) -> bool {
    text.lines()
        .any(|l| l.strip_prefix(keyword).is_some_and(|rest| rest.trim_start().starts_with('{')))
}

/// A workspace holding the case (as `FileId(0)`) and what it lacks of the
/// fixture.
pub fn workspace(case_path: &str, case_text: &str) -> Workspace {
    let mut ws = Workspace::new();
    ws.add(case_path, Input::Text(case_text.to_string()));
    if !defines(case_text, "schema") {
        ws.add("tests/fixture/schema.camp", Input::Text(SCHEMA.to_string()));
    }
    if !defines(case_text, "policy") {
        ws.add("tests/fixture/policy.camp", Input::Text(POLICY.to_string()));
    }
    ws
}
