//! The one diagnostic type: the CLI renders it with miette or as JSON, the
//! language server turns it into LSP diagnostics.

use crate::codes::Code;
use crate::source::FileId;
use camp_grammar::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A place in a file with a short note about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub code: Code,
    /// A short lowercase fragment, names in backticks.
    pub message: String,
    /// What is wrong at the primary span.
    pub primary: Label,
    /// Related places, possibly in other files.
    pub secondary: Vec<Label>,
    /// An imperative fix.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, file: FileId, span: Span, message: impl Into<String>, label: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label {
                file,
                span,
                message: label.into(),
            },
            secondary: Vec::new(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            file,
            span,
            message: message.into(),
        });
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// Collects diagnostics during a pass.
#[derive(Debug, Default)]
pub struct Sink {
    pub diagnostics: Vec<Diagnostic>,
    /// Names the type checker resolved as segments, with where: the edges
    /// of the segment graph, for cycle detection.
    pub segment_uses: Vec<(String, Span)>,
}

impl Sink {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}
