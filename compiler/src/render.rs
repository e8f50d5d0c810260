//! Diagnostics as miette reports (the binary picks the graphical handler)
//! and as the JSON objects of `camp check --format json`.

use crate::diagnostic::{Diagnostic, Label};
use crate::source::{FileId, SourceFile};
use crate::Workspace;
use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use serde::Serialize;
use std::fmt;

/// A diagnostic bound to the workspace it came from, renderable by miette.
pub struct Report<'w> {
    diagnostic: &'w Diagnostic,
    workspace: &'w Workspace,
    source: Option<Named<'w>>,
    /// Secondary labels in other files, rendered as related notes.
    related: Vec<Note<'w>>,
}

/// A secondary label in another file.
pub struct Note<'w> {
    label: &'w Label,
    file: Option<&'w SourceFile>,
    source: Option<Named<'w>>,
}

impl<'w> Report<'w> {
    pub fn new(diagnostic: &'w Diagnostic, workspace: &'w Workspace) -> Self {
        let related = diagnostic
            .secondary
            .iter()
            .filter(|l| l.file != diagnostic.primary.file)
            .map(|label| Note {
                label,
                file: workspace.file(label.file),
                source: workspace.file(label.file).map(Named),
            })
            .collect();
        Report {
            diagnostic,
            workspace,
            source: workspace.file(diagnostic.primary.file).map(Named),
            related,
        }
    }
}

fn span(s: camp_grammar::Span, file: Option<&SourceFile>) -> SourceSpan {
    let len = file.map_or(0, |f| f.text.len());
    let start = s.start.min(len);
    SourceSpan::new(start.into(), s.end.min(len).saturating_sub(start))
}

/// Wraps a file so miette shows its path beside the snippet.
struct Named<'f>(&'f SourceFile);

impl SourceCode for Named<'_> {
    fn read_span<'a>(&'a self, span: &SourceSpan, before: usize, after: usize) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.0.text.read_span(span, before, after)?;
        // miette counts the header's column in bytes; ours count characters,
        // as the JSON output and the editor do.
        let column = if before == 0 && after == 0 {
            self.0.line_col(span.offset()).column - 1
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.0.path.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report").field("code", &self.diagnostic.code.id).finish()
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diagnostic.code.id))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity() {
            crate::Severity::Error => miette::Severity::Error,
            crate::Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        None
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|n| n as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let file = self.workspace.file(self.diagnostic.primary.file);
        let primary = &self.diagnostic.primary;
        let same_file = self.diagnostic.secondary.iter().filter(move |l| l.file == primary.file);
        let labels = std::iter::once(LabeledSpan::new_primary_with_span(
            Some(primary.message.clone()),
            span(primary.span, file),
        ))
        .chain(same_file.map(move |l| LabeledSpan::new_with_span(Some(l.message.clone()), span(l.span, file))));
        Some(Box::new(labels))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|n| n as &dyn miette::Diagnostic)))
    }
}

impl fmt::Debug for Note<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label.message)
    }
}

impl fmt::Display for Note<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label.message)
    }
}

impl std::error::Error for Note<'_> {}

impl miette::Diagnostic for Note<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|n| n as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_primary_with_span(
            None,
            span(self.label.span, self.file),
        ))))
    }
}

/// One object of `camp check --format json`. Lines and columns are 1-based;
/// columns count characters. `related` holds the secondary labels (the
/// other places a diagnostic points to, possibly in other files).
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub severity: &'static str,
    pub code: &'static str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
    pub label: &'a str,
    pub related: Vec<JsonLabel<'a>>,
}

/// A place with its message, positioned as [`JsonDiagnostic`] is.
#[derive(Debug, Serialize)]
pub struct JsonLabel<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: &'a str,
}

impl<'a> JsonLabel<'a> {
    pub fn new(label: &'a crate::diagnostic::Label, workspace: &'a Workspace) -> Self {
        let file = workspace.file(label.file);
        let (start, end) = match file {
            Some(f) => (f.line_col(label.span.start), f.line_col(label.span.end)),
            None => Default::default(),
        };
        JsonLabel {
            file: file.map_or("", |f| f.path.as_str()),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            message: &label.message,
        }
    }
}

impl<'a> JsonDiagnostic<'a> {
    pub fn new(d: &'a Diagnostic, workspace: &'a Workspace) -> Self {
        let primary = JsonLabel::new(&d.primary, workspace);
        JsonDiagnostic {
            file: primary.file,
            line: primary.line,
            column: primary.column,
            end_line: primary.end_line,
            end_column: primary.end_column,
            severity: d.severity().as_str(),
            code: d.code.id,
            message: &d.message,
            help: d.help.as_deref(),
            label: primary.message,
            related: d.secondary.iter().map(|l| JsonLabel::new(l, workspace)).collect(),
        }
    }
}

impl Default for crate::LineCol {
    fn default() -> Self {
        crate::LineCol { line: 1, column: 1 }
    }
}

/// For callers that hold a file id only.
pub fn path_of(workspace: &Workspace, id: FileId) -> &str {
    workspace.file(id).map_or("", |f| f.path.as_str())
}
