//! Document symbols and inlay hints.

use super::doc;
use crate::ide::inlay;
use crate::ide::symbols::{self, OutlineSymbol, SymbolKind};
use crate::server::{HandlerResult, Server};
use crate::to_proto;
use crate::world::Snapshot;
use camp_compiler::FileId;
use lsp_types as lsp;

pub fn document_symbols(server: &Server, p: lsp::DocumentSymbolParams) -> HandlerResult<Option<lsp::DocumentSymbolResponse>> {
    let Some((snap, file)) = doc(server, &p.text_document.uri) else {
        return Ok(None);
    };
    let Some(ast) = snap.analysis.asts.get(file.0) else {
        return Ok(None);
    };
    let list = symbols::outline(ast).into_iter().map(|s| convert(snap, file, s)).collect();
    Ok(Some(lsp::DocumentSymbolResponse::Nested(list)))
}

#[allow(deprecated)] // `deprecated` is a required field of the struct.
fn convert(snap: &Snapshot, file: FileId, s: OutlineSymbol) -> lsp::DocumentSymbol {
    let children: Vec<lsp::DocumentSymbol> = s.children.into_iter().map(|c| convert(snap, file, c)).collect();
    lsp::DocumentSymbol {
        name: s.name,
        detail: s.detail,
        kind: match s.kind {
            SymbolKind::Schema => lsp::SymbolKind::MODULE,
            SymbolKind::Policy => lsp::SymbolKind::NAMESPACE,
            SymbolKind::Table => lsp::SymbolKind::STRUCT,
            SymbolKind::Field => lsp::SymbolKind::FIELD,
            SymbolKind::Event => lsp::SymbolKind::EVENT,
            SymbolKind::Property => lsp::SymbolKind::PROPERTY,
            SymbolKind::Segment => lsp::SymbolKind::BOOLEAN,
            SymbolKind::Message => lsp::SymbolKind::STRING,
            SymbolKind::Campaign => lsp::SymbolKind::FUNCTION,
            SymbolKind::Variant => lsp::SymbolKind::ENUM_MEMBER,
        },
        tags: None,
        deprecated: None,
        range: to_proto::range(snap, file, s.span),
        selection_range: to_proto::range(snap, file, s.name_span),
        children: (!children.is_empty()).then_some(children),
    }
}

pub fn inlay_hints(server: &Server, p: lsp::InlayHintParams) -> HandlerResult<Option<Vec<lsp::InlayHint>>> {
    let Some((snap, file)) = doc(server, &p.text_document.uri) else {
        return Ok(None);
    };
    let (from, to) = (
        to_proto::offset(snap, file, p.range.start),
        to_proto::offset(snap, file, p.range.end),
    );
    let hints = inlay::hints(&super::db(snap), file)
        .into_iter()
        .filter(|h| from <= h.offset && h.offset <= to)
        .map(|h| lsp::InlayHint {
            position: to_proto::position(snap, file, h.offset),
            label: lsp::InlayHintLabel::String(h.label),
            kind: None,
            text_edits: None,
            tooltip: Some(lsp::InlayHintTooltip::String(h.tooltip)),
            padding_left: Some(true),
            padding_right: None,
            data: None,
        })
        .collect();
    Ok(Some(hints))
}
