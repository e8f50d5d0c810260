//! Request handlers: protocol parameters in, `ide` features in byte
//! offsets, protocol results out. A document the server does not know
//! answers "nothing here" rather than an error.

mod fixes;
mod format;
mod navigate;
mod outline;

pub use fixes::code_actions;
pub use format::formatting;
pub use navigate::{definition, prepare_rename, references, rename};
pub use outline::{document_symbols, inlay_hints};

use crate::ide::completion::{self, ItemKind, Names};
use crate::ide::{hover as ide_hover, Db};
use crate::server::{HandlerResult, Server};
use crate::to_proto;
use crate::world::Snapshot;
use camp_compiler::FileId;
use lsp_types::{self as lsp, Uri};

/// The snapshot and file of a document, if the server has checked it.
fn doc<'s>(server: &'s Server, uri: &Uri) -> Option<(&'s Snapshot, FileId)> {
    server.world.lookup(uri)
}

fn db(snap: &Snapshot) -> Db<'_> {
    Db {
        workspace: &snap.workspace,
        analysis: &snap.analysis,
        schema: &snap.schema,
        index: snap.index(),
    }
}

pub fn completion(server: &Server, p: lsp::CompletionParams) -> HandlerResult<Option<lsp::CompletionResponse>> {
    let at = p.text_document_position;
    let Some((snap, file)) = doc(server, &at.text_document.uri) else {
        return Ok(None);
    };
    let offset = to_proto::offset(snap, file, at.position);
    let names = Names {
        schema: &snap.schema,
        asts: &snap.analysis.asts,
    };
    let found = completion::complete(snap.text(file), offset, &names);
    let range = to_proto::range(snap, file, found.replace);
    let items = found
        .items
        .into_iter()
        .map(|c| lsp::CompletionItem {
            label: c.label.clone(),
            kind: Some(kind(c.kind)),
            detail: c.detail,
            documentation: c.doc.map(|d| {
                lsp::Documentation::MarkupContent(lsp::MarkupContent {
                    kind: lsp::MarkupKind::Markdown,
                    value: d,
                })
            }),
            text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit { range, new_text: c.label })),
            ..Default::default()
        })
        .collect();
    Ok(Some(lsp::CompletionResponse::List(lsp::CompletionList {
        is_incomplete: false,
        items,
    })))
}

fn kind(k: ItemKind) -> lsp::CompletionItemKind {
    match k {
        ItemKind::Keyword => lsp::CompletionItemKind::KEYWORD,
        ItemKind::Field => lsp::CompletionItemKind::FIELD,
        ItemKind::Event => lsp::CompletionItemKind::EVENT,
        ItemKind::Property => lsp::CompletionItemKind::PROPERTY,
        ItemKind::Segment => lsp::CompletionItemKind::VARIABLE,
        ItemKind::Message => lsp::CompletionItemKind::TEXT,
        ItemKind::Channel => lsp::CompletionItemKind::ENUM_MEMBER,
        ItemKind::Filter => lsp::CompletionItemKind::FUNCTION,
        ItemKind::Type => lsp::CompletionItemKind::TYPE_PARAMETER,
        ItemKind::Value => lsp::CompletionItemKind::ENUM_MEMBER,
        ItemKind::Variable => lsp::CompletionItemKind::VARIABLE,
    }
}

pub fn hover(server: &Server, p: lsp::HoverParams) -> HandlerResult<Option<lsp::Hover>> {
    let at = p.text_document_position_params;
    let Some((snap, file)) = doc(server, &at.text_document.uri) else {
        return Ok(None);
    };
    let offset = to_proto::offset(snap, file, at.position);
    Ok(ide_hover::hover(&db(snap), file, offset).map(|(span, markdown)| lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(to_proto::range(snap, file, span)),
    }))
}
