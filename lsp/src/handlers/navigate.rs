//! Go to definition, find references, rename (segments and messages).

use super::doc;
use crate::ide::index::{Occurrence, Symbol};
use crate::server::{error, HandlerResult, Server};
use crate::to_proto;
use camp_grammar::ast::{CampaignItem, ExprKind, Item, StepKind};
use lsp_server::ErrorCode;
use lsp_types::{self as lsp, Uri};
use std::collections::HashMap;

/// The occurrence under the cursor of a request.
fn under_cursor<'s>(server: &'s Server, at: &lsp::TextDocumentPositionParams) -> Option<(&'s crate::world::Snapshot, &'s Occurrence)> {
    let (snap, file) = doc(server, &at.text_document.uri)?;
    let offset = to_proto::offset(snap, file, at.position);
    Some((snap, snap.index().at(file, offset)?))
}

pub fn definition(server: &Server, p: lsp::GotoDefinitionParams) -> HandlerResult<Option<lsp::GotoDefinitionResponse>> {
    let Some((snap, occ)) = under_cursor(server, &p.text_document_position_params) else {
        return Ok(None);
    };
    let Some(def) = snap.index().definition(&occ.symbol) else {
        return Ok(None);
    };
    Ok(to_proto::location(snap, def.file, def.span).map(lsp::GotoDefinitionResponse::Scalar))
}

pub fn references(server: &Server, p: lsp::ReferenceParams) -> HandlerResult<Option<Vec<lsp::Location>>> {
    let Some((snap, occ)) = under_cursor(server, &p.text_document_position) else {
        return Ok(None);
    };
    let with_def = p.context.include_declaration;
    let found = snap
        .index()
        .of(&occ.symbol)
        .filter(|o| with_def || !o.def)
        .filter_map(|o| to_proto::location(snap, o.file, o.span))
        .collect();
    Ok(Some(found))
}

pub fn prepare_rename(server: &Server, p: lsp::TextDocumentPositionParams) -> HandlerResult<Option<lsp::PrepareRenameResponse>> {
    let Some((snap, occ)) = under_cursor(server, &p) else {
        return Ok(None);
    };
    if !occ.symbol.renamable() {
        return Err(error(ErrorCode::RequestFailed, "only segments and messages can be renamed"));
    }
    let name = snap.text(occ.file).get(occ.span.start..occ.span.end).unwrap_or("").to_string();
    Ok(Some(lsp::PrepareRenameResponse::RangeWithPlaceholder {
        range: to_proto::range(snap, occ.file, occ.span),
        placeholder: name,
    }))
}

// `Uri` caches its parsed parts inside; it hashes by its text all the same.
#[allow(clippy::mutable_key_type)]
pub fn rename(server: &Server, p: lsp::RenameParams) -> HandlerResult<Option<lsp::WorkspaceEdit>> {
    let Some((snap, occ)) = under_cursor(server, &p.text_document_position) else {
        return Ok(None);
    };
    let new = p.new_name.trim();
    let taken = |s: &Symbol| snap.index().definition(s).is_some();
    let (what, clash) = match &occ.symbol {
        Symbol::Segment(_) => ("segment", taken(&Symbol::Segment(new.to_string()))),
        Symbol::Message(_) => ("message", taken(&Symbol::Message(new.to_string()))),
        _ => return Err(error(ErrorCode::RequestFailed, "only segments and messages can be renamed")),
    };
    if !valid_name(what, new) {
        return Err(error(
            ErrorCode::InvalidParams,
            format!("`{new}` cannot name a {what}: use letters, digits and `_`, not a keyword"),
        ));
    }
    if clash {
        return Err(error(ErrorCode::RequestFailed, format!("a {what} named `{new}` already exists")));
    }
    let mut changes: HashMap<Uri, Vec<lsp::TextEdit>> = HashMap::new();
    for o in snap.index().of(&occ.symbol) {
        let Some(uri) = snap.uri(o.file) else { continue };
        changes.entry(uri.clone()).or_default().push(lsp::TextEdit {
            range: to_proto::range(snap, o.file, o.span),
            new_text: new.to_string(),
        });
    }
    Ok(Some(lsp::WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }))
}

/// Words the parser would take as names but that read as keywords, beside
/// the value keywords (`camp_grammar::words::VALUE_WORDS`).
const RESERVED: &[&str] = &[
    "and", "or", "in", "is", "null", "contains", "where", "within", "since", "before", "customer", "trigger", "sender", "optout",
];

/// Whether `name` reads as a segment (in a condition) or a message (after
/// `send`) everywhere the old name stood: checked with the parser itself.
fn valid_name(what: &str, name: &str) -> bool {
    if name.is_empty()
        || name.chars().any(char::is_whitespace)
        || RESERVED.contains(&name)
        || camp_grammar::words::VALUE_WORDS.contains(&name)
    {
        return false;
    }
    let parsed = match what {
        "segment" => camp_grammar::parse(&format!("segment {name} = {name} and {name}\n")),
        _ => camp_grammar::parse(&format!("message {name} {{ \"x\" }}\ncampaign c {{\n  send {name}\n}}\n")),
    };
    if !parsed.errors.is_empty() {
        return false;
    }
    parsed.file.items.iter().all(|item| match item {
        Item::Segment(s) => {
            s.name.name == name
                && matches!(&s.cond.kind, ExprKind::And(parts) if parts.iter().all(|e| matches!(&e.kind, ExprKind::Path(p) if p.segments.len() == 1 && p.segments[0].name == name)))
        }
        Item::Message(m) => m.name.name == name,
        Item::Campaign(c) => c
            .items
            .iter()
            .all(|i| matches!(i, CampaignItem::Step(s) if matches!(&s.kind, StepKind::Send { message, via: None, .. } if message.name == name))),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names() {
        assert!(valid_name("segment", "vip_고객"));
        assert!(!valid_name("segment", "and"));
        assert!(!valid_name("segment", "did"));
        assert!(!valid_name("segment", "a b"));
        assert!(!valid_name("segment", "1x"));
        assert!(valid_name("message", "welcome_2"));
        assert!(!valid_name("message", "x.y"));
    }
}
