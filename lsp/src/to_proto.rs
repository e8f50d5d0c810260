//! From the compiler's byte spans and diagnostics to protocol types (and
//! positions back to offsets): the one place that converts.

use crate::world::Snapshot;
use camp_compiler::{Diagnostic, FileId, Severity};
use camp_grammar::Span;
use lsp_types::{self as lsp, Position, Range, Uri};
use std::path::PathBuf;
use std::str::FromStr;

pub fn position(snap: &Snapshot, file: FileId, offset: usize) -> Position {
    let (line, character) = snap.line_index(file).position(snap.text(file), offset);
    Position { line, character }
}

pub fn range(snap: &Snapshot, file: FileId, span: Span) -> Range {
    Range {
        start: position(snap, file, span.start),
        end: position(snap, file, span.end.max(span.start)),
    }
}

pub fn offset(snap: &Snapshot, file: FileId, pos: Position) -> usize {
    snap.line_index(file).offset(snap.text(file), pos.line, pos.character)
}

pub fn location(snap: &Snapshot, file: FileId, span: Span) -> Option<lsp::Location> {
    Some(lsp::Location {
        uri: snap.uri(file)?.clone(),
        range: range(snap, file, span),
    })
}

/// Where the docs page of a code lives: a base URL from the client's
/// settings (`docsBaseUrl`), else `docs/codes/` of the source tree the
/// server was built from (when it is still there), else the pages written
/// out once to a local folder, so the link always opens something.
#[derive(Debug, Clone, Default)]
pub struct DocsLinks {
    base: Option<String>,
}

impl DocsLinks {
    /// `base` is a URL prefix to which `CODE.md` is appended.
    pub fn new(base: Option<String>) -> Self {
        let base = base.filter(|b| !b.is_empty()).or_else(source_pages).or_else(write_pages);
        DocsLinks { base }
    }

    pub fn href(&self, code: &str) -> Option<Uri> {
        let base = self.base.as_ref()?;
        let sep = if base.ends_with('/') { "" } else { "/" };
        Uri::from_str(&format!("{base}{sep}{code}.md")).ok()
    }
}

/// `docs/codes/` of the camp source tree, if this binary's is present.
fn source_pages() -> Option<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/codes");
    let dir = std::fs::canonicalize(dir).ok()?;
    let every = camp_compiler::codes::ALL.iter().all(|c| dir.join(format!("{}.md", c.id)).is_file());
    every.then(|| url::Url::from_directory_path(&dir).ok()).flatten().map(String::from)
}

/// Writes every code's page to `<temp>/camp-lsp-<version>/docs/codes/`
/// (the pages are compiled into the binary) and returns its URL; once per
/// process.
fn write_pages() -> Option<String> {
    static PAGES: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    PAGES.get_or_init(write_pages_now).clone()
}

fn write_pages_now() -> Option<String> {
    let dir: PathBuf = std::env::temp_dir()
        .join(format!("camp-lsp-{}", env!("CARGO_PKG_VERSION")))
        .join("docs")
        .join("codes");
    std::fs::create_dir_all(&dir).ok()?;
    for code in camp_compiler::codes::ALL {
        let path = dir.join(format!("{}.md", code.id));
        if std::fs::read_to_string(&path).ok().as_deref() != Some(code.page) {
            let tmp = dir.join(format!(".{}.{}.tmp", code.id, std::process::id()));
            std::fs::write(&tmp, code.page).ok()?;
            std::fs::rename(&tmp, &path).ok()?;
        }
    }
    let url = url::Url::from_directory_path(&dir).ok()?;
    Some(url.to_string())
}

/// A compiler diagnostic as the editor shows it: the same code, message,
/// labels (the primary one first, as related information) and help.
pub fn diagnostic(snap: &Snapshot, d: &Diagnostic, docs: &DocsLinks) -> lsp::Diagnostic {
    let file = d.primary.file;
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = std::iter::once(&d.primary)
        .chain(&d.secondary)
        .filter_map(|l| {
            Some(lsp::DiagnosticRelatedInformation {
                location: location(snap, l.file, l.span)?,
                message: l.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: range(snap, file, d.primary.span),
        severity: Some(match d.severity() {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.id.to_string())),
        code_description: docs.href(d.code.id).map(|href| lsp::CodeDescription { href }),
        source: Some("camp".to_string()),
        message,
        related_information: Some(related),
        tags: None,
        data: None,
    }
}
