//! Arbitrary input never panics the parser or the checker (a checker panic
//! would surface as E0901, so that is asserted absent too), and every
//! diagnostic points inside its file.

use camp::fixture;
use proptest::prelude::*;

/// Pieces of the language, so generated files get deep into the grammar.
const TOKENS: &[&str] = &[
    "schema",
    "policy",
    "segment",
    "message",
    "campaign",
    "customer",
    "trigger",
    "{",
    "}",
    "(",
    ")",
    "=",
    "==",
    ">=",
    "<",
    "and",
    "or",
    "not",
    "did",
    "cart_add",
    "purchase",
    "where",
    "within",
    "24h",
    "7d",
    "since",
    "last",
    "at least",
    "times",
    "3",
    "1_000",
    "1.5",
    "\"(광고) #{sender} #{고객명} #{optout}\"",
    "\"#{trigger.product.상품명 | won ?? \\\"x\\\"}\"",
    "kind ad",
    "channel sms",
    "fallback lms after 2h",
    "on",
    "every monday at 11:00",
    "at 2026-12-01 11:00",
    "send",
    "wait",
    "exit",
    "if",
    "else",
    "variant a 50%",
    "holdout 10%",
    "goal purchase within 3d",
    "quiet hours 21:00..08:00",
    "cap 0 per 24h",
    "sum(purchase.amount within 365d)",
    "count(cart_add)",
    "rfm(purchase.amount).r",
    "lifecycle(purchase)",
    "interval(purchase)",
    "days since last purchase",
    "customer.tier",
    "in",
    "(gold, vip)",
    "is null",
    "contains",
    "\n",
    " ",
    "고객명",
    "😀",
    "#{",
    "\"",
    "//",
    "///",
    ":",
    ",",
    ".",
    "|",
    "??",
    "-",
    "+",
    "*",
    "/",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..120).prop_map(|t| t.join(" "))
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let ws = fixture::workspace("p.camp", text);
    let analysis = camp_compiler::analyze(&ws);
    for d in &analysis.diagnostics {
        prop_assert!(d.code.id != "E0901", "checker panicked on {text:?}");
        let file = &ws.files[d.primary.file.0];
        prop_assert!(
            d.primary.span.start <= d.primary.span.end && d.primary.span.end <= file.text.len(),
            "{} span out of file",
            d.code.id
        );
        prop_assert!(file.text.is_char_boundary(d.primary.span.start) && file.text.is_char_boundary(d.primary.span.end));
        // Rendering must not panic either.
        let _ = camp::output::human(d, &ws, false);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(text in soup()) {
        check(&text)?;
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        check(&text)?;
    }

    #[test]
    fn mutated_examples_never_panic(cut in 0usize..4000, insert in prop::sample::select(TOKENS), which in 0usize..12) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
        let mut files = Vec::new();
        camp::load::camp_files(&root, &mut files, &mut Vec::new());
        let path = &files[which % files.len()];
        let mut text = std::fs::read_to_string(path).unwrap_or_default();
        let mut at = cut.min(text.len());
        while !text.is_char_boundary(at) { at -= 1; }
        text.insert_str(at, insert);
        check(&text)?;
    }
}
