//! Soak: 10,000 random edits (insertions, deletions, pastes of Hangul and
//! emoji, half-typed keywords and strings) against one document, with a
//! request after each. The server never exits, always answers, and ends
//! with the same text as the client.

mod common;

use common::{pos, small_shop, Client};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{self as lsp};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const EDITS: usize = 10_000;

const SNIPPETS: &[&str] = &[
    "고객명",
    "😀",
    "🎉🎉",
    "(광고) ",
    "#{",
    "}",
    "{",
    "\"",
    "\n",
    "\n  ",
    "customer.",
    "trigger.",
    "did ",
    " and ",
    "not ",
    "(",
    ")",
    "segment x = ",
    "\nmessage m {\n  \"",
    "\ncampaign c {\n  kind ad\n",
    "24h",
    " | won",
    " ?? \"고객\"",
    "// 주석 😀\n",
    "\\",
    "\t",
    "#{고객명}님 😀",
];

/// The UTF-16 position of a byte offset (at a char boundary).
fn position(text: &str, offset: usize) -> lsp::Position {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    pos(
        before.matches('\n').count() as u32,
        text[line_start..offset].encode_utf16().count() as u32,
    )
}

fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[test]
fn ten_thousand_random_edits() {
    let root = small_shop("soak");
    let mut c = Client::start(&root);
    let paste_source = std::fs::read_to_string(root.join("schema.camp")).expect("read");
    let (u, mut text) = c.open("campaigns/cart.camp", None);
    c.wait_diagnostics(&u);
    let mut rng = SmallRng::seed_from_u64(0x00ca_4b00);
    for version in 2..EDITS as i32 + 2 {
        let a = boundary(&text, rng.gen_range(0..=text.len()));
        let (start, end, insert) = match rng.gen_range(0..10) {
            // Deletions, more of them once the text is long.
            0..=2 => (a, boundary(&text, a + rng.gen_range(0..40)), String::new()),
            n if n <= 3 || text.len() > 6_000 => (a, boundary(&text, a + rng.gen_range(0..200)), String::new()),
            4 => {
                // Paste a slice of another file.
                let s = boundary(&paste_source, rng.gen_range(0..paste_source.len()));
                let e = boundary(&paste_source, s + rng.gen_range(0..300));
                (a, a, paste_source[s..e].to_string())
            }
            5 => (
                a,
                boundary(&text, a + rng.gen_range(0..10)),
                SNIPPETS[rng.gen_range(0..SNIPPETS.len())].to_string(),
            ),
            _ => (a, a, SNIPPETS[rng.gen_range(0..SNIPPETS.len())].to_string()),
        };
        let range = lsp::Range::new(position(&text, start), position(&text, end));
        text.replace_range(start..end, &insert);
        c.change(&u, version, Some(range), &insert);
        // Every edit is followed by a request, which must be answered.
        let at = position(&text, boundary(&text, rng.gen_range(0..=text.len())));
        let doc = lsp::TextDocumentIdentifier { uri: u.clone() };
        let here = Client::at(&u, at);
        let (method, params) = match version % 6 {
            0 => (req::Completion::METHOD, serde_json::json!({"textDocument": doc, "position": at})),
            1 => (req::HoverRequest::METHOD, serde_json::to_value(&here).unwrap_or_default()),
            2 => (req::DocumentSymbolRequest::METHOD, serde_json::json!({"textDocument": doc})),
            3 => (
                req::InlayHintRequest::METHOD,
                serde_json::json!({"textDocument": doc, "range": lsp::Range::new(pos(0, 0), at)}),
            ),
            4 => (
                req::CodeActionRequest::METHOD,
                serde_json::json!({"textDocument": doc, "range": lsp::Range::new(at, at), "context": {"diagnostics": []}}),
            ),
            _ => (
                req::Formatting::METHOD,
                serde_json::json!({"textDocument": doc, "options": {"tabSize": 2, "insertSpaces": true}}),
            ),
        };
        let r = c.raw(method, params);
        if let Some(e) = &r.error {
            // Formatting refuses files with syntax errors; nothing else may fail.
            assert!(
                method == req::Formatting::METHOD && e.message.contains("syntax"),
                "edit {version}: {method}: {e:?}"
            );
        }
        assert!(c.alive(), "the server exited at edit {version}");
    }
    // The server's text is the client's: the outline matches our own parse.
    let r = c
        .request::<req::DocumentSymbolRequest>(lsp::DocumentSymbolParams {
            text_document: lsp::TextDocumentIdentifier { uri: u.clone() },
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        })
        .expect("symbols");
    let names: Vec<String> = match r {
        Some(lsp::DocumentSymbolResponse::Nested(list)) => list.into_iter().map(|s| s.name).collect(),
        // An empty list reads as either shape.
        Some(lsp::DocumentSymbolResponse::Flat(list)) if list.is_empty() => Vec::new(),
        other => panic!("{other:?}"),
    };
    let expected: Vec<String> = camp_grammar::parse(&text)
        .file
        .items
        .iter()
        .map(|i| match i {
            camp_grammar::ast::Item::Schema(_) => "schema".to_string(),
            camp_grammar::ast::Item::Policy(_) => "policy".to_string(),
            camp_grammar::ast::Item::Segment(s) => s.name.name.clone(),
            camp_grammar::ast::Item::Message(m) => m.name.name.clone(),
            camp_grammar::ast::Item::Campaign(c) => c.name.name.clone(),
            camp_grammar::ast::Item::AlimtalkTemplate(t) => t.code.value.clone(),
        })
        .collect();
    assert_eq!(names, expected);
    c.shutdown();
}
