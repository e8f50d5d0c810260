//! Quick fixes and formatting: the edits the server proposes, applied as
//! an editor would, remove the diagnostic / give the canonical layout.
// `WorkspaceEdit` maps `Uri`s, which cache their parts inside; they hash
// by their text all the same.
#![allow(clippy::mutable_key_type)]

mod common;

use common::{find, pos, shop, Client};
use lsp_types::request as req;
use lsp_types::{self as lsp, Uri};

/// Applies text edits (UTF-16 ranges) to `text`, last first.
fn apply(text: &str, edits: &[lsp::TextEdit]) -> String {
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| (e.range.start.line, e.range.start.character));
    let mut out = text.to_string();
    for e in edits.iter().rev() {
        let (a, b) = (offset(&out, e.range.start), offset(&out, e.range.end));
        out.replace_range(a..b, &e.new_text);
    }
    out
}

fn offset(text: &str, p: lsp::Position) -> usize {
    let line_start: usize = text.split_inclusive('\n').take(p.line as usize).map(str::len).sum();
    let line = &text[line_start..];
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= p.character as usize || c == '\n' {
            return line_start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

fn actions(c: &mut Client, u: &Uri, range: lsp::Range) -> Vec<lsp::CodeAction> {
    c.request::<req::CodeActionRequest>(lsp::CodeActionParams {
        text_document: lsp::TextDocumentIdentifier { uri: u.clone() },
        range,
        context: lsp::CodeActionContext::default(),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    })
    .expect("code actions")
    .unwrap_or_default()
    .into_iter()
    .map(|a| match a {
        lsp::CodeActionOrCommand::CodeAction(a) => a,
        other => panic!("{other:?}"),
    })
    .collect()
}

/// Opens `text`, takes the quick fix for `code` and applies it; returns
/// the new text and its diagnostics.
fn fix(c: &mut Client, rel: &str, text: &str, code: &str) -> (String, Vec<lsp::Diagnostic>) {
    let (u, _) = c.open(rel, Some(text));
    let diags = c.wait_diagnostics(&u);
    let d = diags
        .iter()
        .find(|d| d.code == Some(lsp::NumberOrString::String(code.into())))
        .unwrap_or_else(|| panic!("no {code}: {diags:#?}"));
    let found = actions(c, &u, d.range);
    let action = found
        .iter()
        .find(|a| a.diagnostics.iter().flatten().any(|x| x.code == d.code))
        .unwrap_or_else(|| panic!("no fix for {code}: {found:#?}"));
    assert_eq!(action.kind, Some(lsp::CodeActionKind::QUICKFIX));
    let edits = action
        .edit
        .as_ref()
        .and_then(|e| e.changes.as_ref())
        .and_then(|c| c.get(&u))
        .expect("edits");
    let fixed = apply(text, edits);
    c.change(&u, 2, None, &fixed);
    let after = c.wait_diagnostics(&u);
    (fixed, after)
}

fn codes(diags: &[lsp::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter_map(|d| match &d.code {
            Some(lsp::NumberOrString::String(s)) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

const CAMPAIGN: &str = "campaign fix_test {\n  kind ad\n  channel lms\n  trigger on cart_add\n  audience customer.marketing_consent\n  send fix_message\n}\n\n";

#[test]
fn did_you_mean_is_applied() {
    let root = shop("fix-name");
    let mut c = Client::start(&root);
    let text = std::fs::read_to_string(root.join("campaigns/winback.camp")).expect("read");
    let seeded = text.replace("audience customer.marketing_consent", "audience customer.marketing_consnet");
    let (fixed, after) = fix(&mut c, "campaigns/winback.camp", &seeded, "E0101");
    assert_eq!(fixed, text);
    assert!(after.is_empty(), "{after:#?}");
    c.shutdown();
}

#[test]
fn ad_prefix_optout_and_default_are_added() {
    let root = shop("fix-ad");
    let mut c = Client::start(&root);
    let no_prefix = format!("{CAMPAIGN}message fix_message {{\n  \"#{{sender}} 😀 없음\n  #{{고객명}}님\n  #{{optout}}\"\n}}\n");
    let (fixed, after) = fix(&mut c, "campaigns/fix.camp", &no_prefix, "E0410");
    assert!(fixed.contains("\"(광고) #{sender}"), "{fixed}");
    assert!(!codes(&after).contains(&"E0410".to_string()), "{after:#?}");

    let no_optout = format!("{CAMPAIGN}message fix_message {{\n  \"(광고) #{{sender}}\n  #{{고객명}}님 안녕하세요\"\n}}\n");
    let (fixed, after) = fix(&mut c, "campaigns/fix.camp", &no_optout, "E0412");
    assert!(fixed.contains("안녕하세요\n  #{optout}\""), "{fixed}");
    assert!(after.is_empty(), "{after:#?}");

    let nullable = format!(
        "{CAMPAIGN}message fix_message {{\n  \"(광고) #{{sender}}\n  #{{customer.birthday | date(\"M월 d일\")}}\n  #{{optout}}\"\n}}\n"
    );
    let (fixed, after) = fix(&mut c, "campaigns/fix.camp", &nullable, "E0206");
    assert!(fixed.contains("#{customer.birthday | date(\"M월 d일\") ?? \"-\"}"), "{fixed}");
    assert!(after.is_empty(), "{after:#?}");
    c.shutdown();
}

#[test]
fn formatting_gives_the_canonical_layout_and_refuses_broken_files() {
    let root = shop("fmt");
    let mut c = Client::start(&root);
    let canonical = std::fs::read_to_string(root.join("campaigns/cart.camp")).expect("read");
    let messy = canonical
        .replace("  kind ad", "      kind   ad")
        .replace("cap 1 per 24h", "cap 1 per 24h  // 😀 하루 한 번");
    let (u, _) = c.open("campaigns/cart.camp", Some(&messy));
    c.wait_diagnostics(&u);
    let params = lsp::DocumentFormattingParams {
        text_document: lsp::TextDocumentIdentifier { uri: u.clone() },
        options: lsp::FormattingOptions {
            tab_size: 2,
            insert_spaces: true,
            ..Default::default()
        },
        work_done_progress_params: Default::default(),
    };
    let edits = c.request::<req::Formatting>(params.clone()).expect("formatting").expect("edits");
    let formatted = apply(&messy, &edits);
    assert_eq!(formatted, canonical.replace("cap 1 per 24h", "cap 1 per 24h // 😀 하루 한 번"));
    // Already formatted: no edits.
    c.change(&u, 2, None, &formatted);
    c.wait_diagnostics(&u);
    assert_eq!(c.request::<req::Formatting>(params.clone()).expect("formatting"), Some(vec![]));
    // A syntax error: refused with a message, the text untouched.
    c.change(&u, 3, Some(lsp::Range::new(pos(0, 0), pos(0, 0))), "segment = (\n");
    c.wait_diagnostics(&u);
    let e = c.request::<req::Formatting>(params).expect_err("refused");
    assert!(e.message.contains("syntax error"), "{}", e.message);
    c.shutdown();
}

#[test]
fn quick_fixes_only_for_the_requested_range() {
    let root = shop("fix-range");
    let mut c = Client::start(&root);
    let text = std::fs::read_to_string(root.join("campaigns/winback.camp")).expect("read");
    let seeded = text.replace("audience customer.marketing_consent", "audience customer.marketing_consnet");
    let (u, _) = c.open("campaigns/winback.camp", Some(&seeded));
    c.wait_diagnostics(&u);
    let far = lsp::Range::new(pos(0, 0), pos(0, 1));
    assert!(actions(&mut c, &u, far).is_empty());
    let at = find(&seeded, "marketing_consnet", 2);
    assert_eq!(actions(&mut c, &u, lsp::Range::new(at, at)).len(), 1);
    c.shutdown();
}
