//! SQL snapshots per dialect for every condition form (`tests/sql/forms.camp`),
//! and every snapshot executed against a real SQLite and a real PostgreSQL
//! (tests/sql_execute.rs runs them).

use camp_compiler::lower::{queries, Dialect, Postgres, Query, Sqlite};
use camp_compiler::program::Program;
use camp_compiler::{Input, Workspace};
use std::path::Path;

pub fn forms_workspace() -> Workspace {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ws = Workspace::new();
    for rel in ["examples/shop/schema.camp", "examples/shop/policy.camp", "tests/sql/forms.camp"] {
        let text = std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        ws.add(rel, Input::Text(text));
    }
    ws
}

/// `(segment name, query)` for every form, in file order.
pub fn form_queries(program: &Program, dialect: &dyn Dialect) -> Vec<(String, Query)> {
    let mut out: Vec<(usize, String, Query)> = program
        .segments
        .iter()
        .filter(|(name, _)| name.starts_with("f_"))
        .map(|(name, seg)| {
            (
                seg.span.start,
                name.to_string(),
                queries::audience_keys(program, dialect, Some(&seg.cond)),
            )
        })
        .collect();
    out.sort_by_key(|(at, _, _)| *at);
    out.into_iter().map(|(_, n, q)| (n, q)).collect()
}

#[test]
fn every_form_lowers_to_a_snapshot_per_dialect() {
    let ws = forms_workspace();
    let analysis = camp_compiler::analyze(&ws);
    let messages: Vec<String> = analysis
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code.id, d.message))
        .collect();
    assert!(
        analysis.diagnostics.is_empty(),
        "tests/sql/forms.camp must check clean: {messages:?}"
    );
    let program = Program::new(&analysis).expect("clean program");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    let mut count = 0;
    settings.bind(|| {
        for dialect in [&Sqlite as &dyn Dialect, &Postgres] {
            for (name, q) in form_queries(&program, dialect) {
                count += 1;
                // Literals never appear in the SQL text: only placeholders.
                assert!(!q.sql.contains("1000000") && !q.sql.contains("'gold'"), "{name}: literal in SQL");
                let params: Vec<String> = q
                    .params
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("{} = {}", dialect.placeholder(i + 1), serde_json::to_string(p).unwrap_or_default()))
                    .collect();
                insta::assert_snapshot!(format!("{}__{name}", dialect.name()), format!("{}\n\n{}", q.sql, params.join("\n")));
            }
        }
    });
    assert!(count >= 70, "{count}");
}
