//! Diagnostics over the protocol: the CLI's codes, messages, labels and
//! help; UTF-16 ranges; the whole workspace re-checked when the schema
//! changes; cleared when fixed.

mod common;

use common::{find, pos, shop, Client};
use lsp_types as lsp;

#[test]
fn seeded_mistake_gets_code_range_help_labels_and_docs_link() {
    let root = shop("diag-seeded");
    let mut c = Client::start(&root);
    let text = std::fs::read_to_string(root.join("campaigns/winback.camp")).expect("read");
    let text = text.replace("audience customer.marketing_consent", "audience customer.marketing_consnet");
    let (uri, text) = c.open("campaigns/winback.camp", Some(&text));
    let diags = c.wait_diagnostics(&uri);
    let d = diags
        .iter()
        .find(|d| d.code == Some(lsp::NumberOrString::String("E0101".into())))
        .unwrap_or_else(|| panic!("{diags:#?}"));
    let start = find(&text, "marketing_consnet", 0);
    assert_eq!(d.range, lsp::Range::new(start, pos(start.line, start.character + 17)));
    assert_eq!(d.severity, Some(lsp::DiagnosticSeverity::ERROR));
    assert_eq!(d.source.as_deref(), Some("camp"));
    assert!(
        d.message.starts_with("`customer` has no field `marketing_consnet`"),
        "{}",
        d.message
    );
    assert!(d.message.contains("help: did you mean `marketing_consent`?"), "{}", d.message);
    let related = d.related_information.as_ref().expect("labels");
    assert_eq!(related[0].message, "unknown field");
    let href = d.code_description.as_ref().expect("docs link").href.as_str().to_string();
    assert!(href.ends_with("docs/codes/E0101.md"), "{href}");
    // The link opens the page of the code.
    let page = url::Url::parse(&href).ok().and_then(|u| u.to_file_path().ok()).expect("file url");
    let page = std::fs::read_to_string(page).expect("docs page written");
    assert!(page.contains("E0101"), "{page}");
    c.shutdown();
}

#[test]
fn ranges_count_utf16_units_after_hangul_and_emoji() {
    let root = shop("diag-utf16");
    let mut c = Client::start(&root);
    let text = "message utf16_test {\n  \"(광고) 😀🎉 고객님 #{고객멍}\n  #{optout}\"\n}\n";
    let (uri, _) = c.open("campaigns/utf16.camp", Some(text));
    let diags = c.wait_diagnostics(&uri);
    let d = diags
        .iter()
        .find(|d| d.code == Some(lsp::NumberOrString::String("E0109".into())))
        .unwrap_or_else(|| panic!("{diags:#?}"));
    // `  "` 3 + `(광고) ` 5 + `😀🎉 ` 2+2+1 + `고객님 ` 4 + `#{` 2 = 19 units.
    assert_eq!(d.range, lsp::Range::new(pos(1, 19), pos(1, 22)));
    c.shutdown();
}

#[test]
fn editing_the_schema_rechecks_campaigns_and_fixing_clears() {
    let root = shop("diag-schema");
    let mut c = Client::start(&root);
    let (uri, text) = c.open("schema.camp", None);
    assert!(c.wait_diagnostics(&uri).is_empty());
    // Rename the consent field in the schema: every ad campaign breaks.
    let at = find(&text, "marketing_consent: consent", 0);
    let range = lsp::Range::new(at, pos(at.line, at.character + "marketing_consent".len() as u32));
    c.change(&uri, 2, Some(range), "ad_consent");
    let schema_diags = c.wait_diagnostics(&uri);
    assert!(schema_diags.is_empty(), "{schema_diags:#?}");
    // The closed campaign files got their diagnostics too.
    let cart = common::uri(&root.join("campaigns/cart.camp"));
    let cart_diags = c.diagnostics.get(cart.as_str()).cloned().unwrap_or_default();
    assert!(
        cart_diags
            .iter()
            .any(|d| d.code == Some(lsp::NumberOrString::String("E0101".into())) && d.message.contains("marketing_consent")),
        "{cart_diags:#?}"
    );
    // Put it back: the campaign's diagnostics are cleared.
    let range = lsp::Range::new(at, pos(at.line, at.character + "ad_consent".len() as u32));
    c.change(&uri, 3, Some(range), "marketing_consent");
    c.wait_diagnostics(&uri);
    assert_eq!(c.diagnostics.get(cart.as_str()).map(Vec::len), Some(0));
    c.shutdown();
}

#[test]
fn a_new_unsaved_buffer_is_checked_alone() {
    let root = shop("diag-untitled");
    let mut c = Client::start(&root);
    let uri: lsp_types::Uri = "untitled:Untitled-1".parse().expect("uri");
    c.notify::<lsp_types::notification::DidOpenTextDocument>(lsp::DidOpenTextDocumentParams {
        text_document: lsp::TextDocumentItem {
            uri: uri.clone(),
            language_id: "camp".into(),
            version: 1,
            text: "segment x = (\n".into(),
        },
    });
    let diags = c.wait_diagnostics(&uri);
    assert!(
        diags.iter().any(|d| d.code == Some(lsp::NumberOrString::String("E0001".into()))),
        "{diags:#?}"
    );
    c.shutdown();
}
