//! A snapshot's diagnostics grouped by the file they point into.

use crate::to_proto::{self, DocsLinks};
use crate::world::{DocKey, Snapshot};
use lsp_types::{self as lsp, Uri};

/// One file's diagnostics: its URI, key, version (if open) and list.
pub struct FileDiagnostics {
    pub uri: Uri,
    pub key: DocKey,
    pub version: Option<i32>,
    pub diagnostics: Vec<lsp::Diagnostic>,
}

/// Every file of the snapshot, with its diagnostics (possibly none).
pub fn by_file(snapshot: &Snapshot, docs: &DocsLinks) -> Vec<FileDiagnostics> {
    let mut out: Vec<FileDiagnostics> = snapshot
        .files
        .iter()
        .map(|f| FileDiagnostics {
            uri: f.uri.clone(),
            key: f.key.clone(),
            version: f.version,
            diagnostics: Vec::new(),
        })
        .collect();
    for d in &snapshot.analysis.diagnostics {
        if let Some(slot) = out.get_mut(d.primary.file.0) {
            slot.diagnostics.push(to_proto::diagnostic(snapshot, d, docs));
        }
    }
    out
}
