//! Go to definition, find references and rename across the workspace;
//! document symbols and inlay hints.
// `WorkspaceEdit` maps `Uri`s, which cache their parts inside; they hash
// by their text all the same.
#![allow(clippy::mutable_key_type)]

mod common;

use common::{find, shop, uri, Client};
use lsp_types::request as req;
use lsp_types::{self as lsp, Uri};

fn definition(c: &mut Client, u: &Uri, at: lsp::Position) -> Option<lsp::Location> {
    let r = c
        .request::<req::GotoDefinition>(lsp::GotoDefinitionParams {
            text_document_position_params: Client::at(u, at),
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        })
        .expect("definition");
    match r? {
        lsp::GotoDefinitionResponse::Scalar(l) => Some(l),
        other => panic!("{other:?}"),
    }
}

fn references(c: &mut Client, u: &Uri, at: lsp::Position, with_def: bool) -> Vec<lsp::Location> {
    c.request::<req::References>(lsp::ReferenceParams {
        text_document_position: Client::at(u, at),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
        context: lsp::ReferenceContext {
            include_declaration: with_def,
        },
    })
    .expect("references")
    .unwrap_or_default()
}

#[test]
fn definitions_of_segments_messages_fields_and_events() {
    let root = shop("nav-def");
    let mut c = Client::start(&root);
    let (u, text) = c.open("campaigns/vip.camp", None);
    c.wait_diagnostics(&u);
    // A segment, in the same file.
    let l = definition(&mut c, &u, find(&text, "audience vip_customers", 10)).expect("segment");
    assert_eq!((l.uri.clone(), l.range.start), (u.clone(), find(&text, "vip_customers =", 0)));
    // A message.
    let l = definition(&mut c, &u, find(&text, "send vip_points", 6)).expect("message");
    assert_eq!(l.range.start, find(&text, "message vip_points", 8));
    // A field and an event: in schema.camp.
    let schema_text = std::fs::read_to_string(root.join("schema.camp")).expect("schema");
    let schema = uri(&root.join("schema.camp"));
    let l = definition(&mut c, &u, find(&text, "customer.marketing_consent", 10)).expect("field");
    assert_eq!(
        (l.uri, l.range.start),
        (schema.clone(), find(&schema_text, "marketing_consent: consent", 0))
    );
    let l = definition(&mut c, &u, find(&text, "#{고객명}", 3)).expect("alias");
    assert_eq!(l.range.start, find(&schema_text, "name: text(max 20)", 0));
    let l = definition(&mut c, &u, find(&text, "goal purchase", 6)).expect("event");
    assert_eq!((l.uri, l.range.start), (schema, find(&schema_text, "purchase from", 0)));
    c.shutdown();
}

#[test]
fn references_across_files() {
    let root = shop("nav-refs");
    let mut c = Client::start(&root);
    let (schema, text) = c.open("schema.camp", None);
    c.wait_diagnostics(&schema);
    // `marketing_consent` is required by every ad campaign.
    let refs = references(&mut c, &schema, find(&text, "marketing_consent: consent", 2), false);
    let files: std::collections::BTreeSet<String> = refs
        .iter()
        .map(|l| l.uri.as_str().rsplit('/').next().unwrap_or("").to_string())
        .collect();
    for f in ["cart.camp", "vip.camp", "winback.camp", "birthday.camp"] {
        assert!(files.contains(f), "{f} missing from {files:?}");
    }
    assert!(!refs.iter().any(|l| l.uri == schema), "declaration excluded");
    let with_def = references(&mut c, &schema, find(&text, "marketing_consent: consent", 2), true);
    assert_eq!(with_def.len(), refs.len() + 1);
    // The `cart_add` event: `did`, `trigger on`, `since last`.
    let refs = references(&mut c, &schema, find(&text, "event cart_add", 7), false);
    assert!(refs.len() >= 2, "{refs:?}");
    c.shutdown();
}

#[test]
fn rename_segment_and_message_everywhere() {
    let root = shop("nav-rename");
    let mut c = Client::start(&root);
    let (u, text) = c.open("campaigns/vip.camp", None);
    c.wait_diagnostics(&u);
    let at = find(&text, "audience vip_customers", 12);
    let prep = c
        .request::<req::PrepareRenameRequest>(Client::at(&u, at))
        .expect("prepare")
        .expect("renamable");
    assert!(matches!(prep, lsp::PrepareRenameResponse::RangeWithPlaceholder { ref placeholder, .. } if placeholder == "vip_customers"));
    let edit = c
        .request::<req::Rename>(lsp::RenameParams {
            text_document_position: Client::at(&u, at),
            new_name: "우수_고객".to_string(),
            work_done_progress_params: Default::default(),
        })
        .expect("rename")
        .expect("edit");
    let edits = edit.changes.expect("changes");
    let mine = edits.get(&u).expect("edits in this file");
    assert_eq!(mine.len(), 2, "definition and use: {mine:?}");
    assert!(mine.iter().all(|e| e.new_text == "우수_고객"));
    // Invalid and clashing names are refused.
    for bad in ["and", "두 단어", "churned_customers"] {
        let r = c.request::<req::Rename>(lsp::RenameParams {
            text_document_position: Client::at(&u, at),
            new_name: bad.to_string(),
            work_done_progress_params: Default::default(),
        });
        assert!(r.is_err(), "{bad} accepted");
    }
    // Fields cannot be renamed.
    let r = c.request::<req::PrepareRenameRequest>(Client::at(&u, find(&text, "customer.marketing_consent", 10)));
    assert!(r.is_err());
    // A message is renamed at its definition and at every `send`.
    let edit = c
        .request::<req::Rename>(lsp::RenameParams {
            text_document_position: Client::at(&u, find(&text, "send vip_coupon", 6)),
            new_name: "vip_coupon_v2".to_string(),
            work_done_progress_params: Default::default(),
        })
        .expect("rename")
        .expect("edit");
    assert_eq!(edit.changes.expect("changes").get(&u).map(Vec::len), Some(2));
    c.shutdown();
}

#[test]
fn document_symbols_and_inlay_hints() {
    let root = shop("nav-outline");
    let mut c = Client::start(&root);
    let (schema, _) = c.open("schema.camp", None);
    c.wait_diagnostics(&schema);
    let r = c
        .request::<req::DocumentSymbolRequest>(lsp::DocumentSymbolParams {
            text_document: lsp::TextDocumentIdentifier { uri: schema.clone() },
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        })
        .expect("symbols")
        .expect("some");
    let lsp::DocumentSymbolResponse::Nested(list) = r else {
        panic!("flat")
    };
    assert_eq!(list[0].name, "schema");
    let children: Vec<&str> = list[0].children.iter().flatten().map(|s| s.name.as_str()).collect();
    assert!(
        children.contains(&"customer") && children.contains(&"cart_add") && children.contains(&"product"),
        "{children:?}"
    );

    let (u, text) = c.open("campaigns/year_end.camp", None);
    c.wait_diagnostics(&u);
    let end = common::pos(text.lines().count() as u32 + 1, 0);
    let hints = c
        .request::<req::InlayHintRequest>(lsp::InlayHintParams {
            text_document: lsp::TextDocumentIdentifier { uri: u.clone() },
            range: lsp::Range::new(common::pos(0, 0), end),
            work_done_progress_params: Default::default(),
        })
        .expect("hints")
        .expect("some");
    assert_eq!(hints.len(), 1, "{hints:?}");
    let lsp::InlayHintLabel::String(label) = &hints[0].label else {
        panic!()
    };
    assert!(
        label.contains("SMS ") && label.contains("/90 bytes") && label.contains("Brand message"),
        "{label}"
    );
    // Right after the closing quote of the text.
    let closing = find(&text, "#{optout}\"", 10);
    assert_eq!(hints[0].position, closing);
    c.shutdown();
}
