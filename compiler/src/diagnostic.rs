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
    /// The same fix as an edit a tool can apply, when there is exactly one.
    pub fix: Option<Fix>,
}

/// A machine-applicable edit resolving a diagnostic: replace `span` (in the
/// primary label's file) with `replacement`. Editors offer it as a quick fix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fix {
    /// What the edit does, for a menu: "replace with `tier`".
    pub title: String,
    pub span: Span,
    pub replacement: String,
}

impl Fix {
    pub fn new(title: impl Into<String>, span: Span, replacement: impl Into<String>) -> Self {
        Fix {
            title: title.into(),
            span,
            replacement: replacement.into(),
        }
    }

    /// Replaces a misspelled name with the suggested one.
    pub fn rename(span: Span, suggestion: &str) -> Self {
        Fix::new(format!("replace with `{suggestion}`"), span, suggestion)
    }
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
            fix: None,
        }
    }

    pub fn with_fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix;
        self
    }

    /// `help:` with the closest name ("did you mean `tier`?", or what
    /// exists), and the matching fix that writes it in place of `span`.
    pub fn suggest<'a, I>(self, name: &str, span: Span, candidates: I, what: &str) -> Self
    where
        I: IntoIterator<Item = &'a str> + Clone,
    {
        let fix = crate::suggest::did_you_mean(name, candidates.clone()).map(|s| Fix::rename(span, &s));
        self.with_help(crate::suggest::help_for(name, candidates, what)).with_fix(fix)
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
    /// What the checks measured, for tools.
    pub facts: crate::facts::Facts,
}

impl Sink {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}
