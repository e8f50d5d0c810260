//! Printing diagnostics: miette's graphical report, JSON lines, GitHub
//! Actions annotations or one SARIF log.

use camp_compiler::render::{JsonDiagnostic, Report};
use camp_compiler::{Diagnostic, Severity, Workspace};
use miette::{GraphicalReportHandler, GraphicalTheme};

/// The human rendering of one diagnostic. `color` for terminals; tests use
/// the colourless form.
pub fn human(d: &Diagnostic, workspace: &Workspace, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let mut out = String::new();
    let report = Report::new(d, workspace);
    if handler.render_report(&mut out, &report).is_err() {
        // Rendering into a String cannot fail short of a formatter bug;
        // fall back to the plain message rather than losing it.
        out = format!("{}[{}]: {}\n", d.severity().as_str(), d.code.id, d.message);
    }
    out
}

/// One JSON object on one line.
pub fn json(d: &Diagnostic, workspace: &Workspace) -> String {
    serde_json::to_string(&JsonDiagnostic::new(d, workspace)).unwrap_or_default()
}

/// "2 errors, 1 warning"
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.severity() == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}

/// A GitHub Actions workflow command: the diagnostic shows as an
/// annotation on the pull request's diff.
pub fn github(d: &Diagnostic, workspace: &Workspace) -> String {
    let j = JsonDiagnostic::new(d, workspace);
    let level = d.severity().as_str();
    let mut text = format!("{} ({})", j.message, j.label);
    for r in &j.related {
        text.push_str(&format!("\n{}:{}:{}: {}", r.file, r.line, r.column, r.message));
    }
    if let Some(help) = j.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    format!(
        "::{level} file={},line={},endLine={},col={},endColumn={},title={}::{}\n",
        property(j.file),
        j.line,
        j.end_line,
        j.column,
        j.end_column,
        property(&format!("{} {}", j.code, d.code.title)),
        data(&text)
    )
}

/// Escapes of a workflow command's message.
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes of a workflow command's property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The whole check as one SARIF 2.1.0 log (for code-scanning tools).
/// Columns count Unicode code points, as the human and JSON output do.
pub fn sarif(diagnostics: &[Diagnostic], workspace: &Workspace) -> String {
    use serde_json::json;
    let mut rules: Vec<&camp_compiler::codes::Code> = diagnostics.iter().map(|d| &d.code).collect();
    rules.sort_by_key(|c| c.id);
    rules.dedup_by_key(|c| c.id);
    let region = |line: usize, column: usize, end_line: usize, end_column: usize| json!({"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column});
    let results: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            let j = JsonDiagnostic::new(d, workspace);
            let mut message = format!("{} ({})", j.message, j.label);
            if let Some(help) = j.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            json!({
                "ruleId": j.code,
                "level": j.severity,
                "message": {"text": message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": j.file},
                    "region": region(j.line, j.column, j.end_line, j.end_column),
                }}],
                "relatedLocations": j.related.iter().enumerate().map(|(i, r)| json!({
                    "id": i,
                    "message": {"text": r.message},
                    "physicalLocation": {
                        "artifactLocation": {"uri": r.file},
                        "region": region(r.line, r.column, r.end_line, r.end_column),
                    },
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "camp",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|c| json!({
                    "id": c.id,
                    "shortDescription": {"text": c.title},
                    "fullDescription": {"text": c.page},
                    "defaultConfiguration": {"level": c.severity.as_str()},
                })).collect::<Vec<_>>(),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    format!("{log}\n")
}
