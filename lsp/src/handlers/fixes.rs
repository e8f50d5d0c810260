//! Quick fixes: the `fix` the compiler attached to a diagnostic ("did you
//! mean", "(광고)", `#{optout}`, a `??` default), offered for diagnostics
//! under the requested range.

use super::doc;
use crate::server::{HandlerResult, Server};
use crate::to_proto;
use lsp_types as lsp;
use std::collections::HashMap;

// `Uri` caches its parsed parts inside; it hashes by its text all the same.
#[allow(clippy::mutable_key_type)]
pub fn code_actions(server: &Server, p: lsp::CodeActionParams) -> HandlerResult<Option<lsp::CodeActionResponse>> {
    let Some((snap, file)) = doc(server, &p.text_document.uri) else {
        return Ok(None);
    };
    let (from, to) = (
        to_proto::offset(snap, file, p.range.start),
        to_proto::offset(snap, file, p.range.end),
    );
    let mut actions = Vec::new();
    for d in &snap.analysis.diagnostics {
        let Some(fix) = &d.fix else { continue };
        let span = d.primary.span;
        if d.primary.file != file || span.end < from || span.start > to {
            continue;
        }
        let edit = lsp::TextEdit {
            range: to_proto::range(snap, file, fix.span),
            new_text: fix.replacement.clone(),
        };
        actions.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
            title: fix.title.clone(),
            kind: Some(lsp::CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![to_proto::diagnostic(snap, d, &server.docs)]),
            edit: Some(lsp::WorkspaceEdit {
                changes: Some(HashMap::from([(p.text_document.uri.clone(), vec![edit])])),
                ..Default::default()
            }),
            is_preferred: Some(true),
            ..Default::default()
        }));
    }
    Ok(Some(actions))
}
