//! Printing diagnostics: miette's graphical report or JSON lines.

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
