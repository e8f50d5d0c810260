//! The formatter's promises, on every example and on generated files:
//! `fmt(fmt(x)) == fmt(x)`, and `parse(fmt(x))` means what `parse(x)` does
//! (same tree once spans are set aside).

use camp_grammar::format::{format, same_meaning, shape, FormatError};
use camp_grammar::parse;
use camp_grammar::tokens::{tokenize, TokenKind};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn camp_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            camp_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "camp") {
            out.push(path);
        }
    }
    out.sort();
}

fn examples() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    camp_files(&root.join("../examples"), &mut paths);
    camp_files(&root.join("tests/fixtures"), &mut paths);
    assert!(paths.len() >= 20, "examples not found: {paths:?}");
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, text)
        })
        .collect()
}

/// Formats and checks both promises; returns the formatted text.
fn check_promises(src: &str) -> String {
    let once = format(src).unwrap_or_else(|e| panic!("{e}\n--- input ---\n{src}"));
    let twice = format(&once).unwrap_or_else(|e| panic!("{e}\n--- once ---\n{once}"));
    assert_eq!(twice, once, "not idempotent\n--- input ---\n{src}");
    let (a, b) = (parse(src), parse(&once));
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    assert_eq!(
        shape(&a.file),
        shape(&b.file),
        "meaning changed\n--- input ---\n{src}\n--- output ---\n{once}"
    );
    once
}

#[test]
fn every_example_keeps_its_meaning_and_is_stable() {
    for (path, text) in examples() {
        let out = check_promises(&text);
        // The shop is written in the canonical layout already.
        if path.to_string_lossy().contains("examples") {
            assert_eq!(out, text, "{} is not formatted", path.display());
        }
    }
}

#[test]
fn syntax_errors_are_refused() {
    for bad in ["segment x = (a", "message m { \"open }", "campaign { }"] {
        assert!(matches!(format(bad), Err(FormatError::Syntax(_))), "{bad}");
    }
}

#[test]
fn comments_survive() {
    let src = "// a\nsegment s = // b\n    x // c\n    // d\n    and y\n/// e\ncampaign c { // f\n  send m // g\n  // h\n}\n// i\n";
    let out = check_promises(src);
    for c in ["// a", "// b", "// c", "// d", "/// e", "// f", "// g", "// h", "// i"] {
        assert!(out.contains(c), "{c} lost:\n{out}");
    }
}

/// Blank space the generator may put between two tokens.
#[derive(Debug, Clone)]
enum Gap {
    Spaces(usize),
    Tab,
    Newline(usize),
    Tight,
}

fn gap() -> impl Strategy<Value = Gap> {
    prop_oneof![
        4 => (1usize..3).prop_map(Gap::Spaces),
        1 => Just(Gap::Tab),
        2 => (1usize..9).prop_map(Gap::Newline),
        2 => Just(Gap::Tight),
    ]
}

/// `src` with the blank space between its tokens replaced by `gaps`,
/// wherever that cannot change what it means: never inside the atomic
/// `a.b` forms, never after a comment, never before an item (which must
/// stay in column 0), never gluing two tokens into one.
fn respace(src: &str, gaps: &[Gap]) -> String {
    let tokens = tokenize(src);
    let items: Vec<usize> = parse(src).file.items.iter().map(|i| i.span().start).collect();
    let mut out = String::new();
    let mut prev_end = 0;
    for (i, tok) in tokens.iter().enumerate() {
        let original = &src[prev_end..tok.span.start];
        let prev = i.checked_sub(1).map(|p| tokens[p]);
        let text = tok.text(src);
        let keep = prev.is_none()
            || prev.is_some_and(|p| p.kind == TokenKind::Comment || p.text(src) == ".")
            || tok.kind == TokenKind::Comment
            || text == "."
            || items.contains(&tok.span.start)
            || original.contains("//");
        if keep {
            out.push_str(original);
        } else {
            let p = prev.map(|p| p.text(src)).unwrap_or("");
            let bracket = |t: &str| matches!(t, "(" | ")" | "{" | "}" | ",");
            match &gaps[i % gaps.len()] {
                Gap::Spaces(n) => out.push_str(&" ".repeat(*n)),
                Gap::Tab => out.push('\t'),
                Gap::Newline(n) => {
                    out.push('\n');
                    out.push_str(&" ".repeat(*n));
                }
                Gap::Tight if bracket(p) || bracket(text) => {}
                Gap::Tight => out.push(' '),
            }
        }
        out.push_str(text);
        prev_end = tok.span.end;
    }
    out.push_str(&src[prev_end..]);
    out
}

/// A random condition, written with random spacing by `respace` later.
fn condition() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("customer.tier == gold".to_string()),
        Just("customer.points >= -3 * (2 - -1)".to_string()),
        Just("did cart_add where price > 10_000 at least 2 times within 24h".to_string()),
        Just("not did purchase since last cart_add".to_string()),
        Just("count(purchase where amount > 3 within 90d) >= 3".to_string()),
        Just("sum(purchase.amount within 365d) >= 1_000_000".to_string()),
        Just("rfm(purchase.amount within 365d).m >= 4".to_string()),
        Just("days since last purchase >= 1.2 * interval(purchase)".to_string()),
        Just("lifecycle(purchase) != churned".to_string()),
        Just("customer.tier not in (gold, vip,)".to_string()),
        Just("customer.email is not null".to_string()),
        Just("customer.name contains \"김\"".to_string()),
        Just("vip".to_string()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.clone().prop_map(|a| format!("not ({a})")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

/// A string whose lines the dedent rule treats differently: deeper lines,
/// blank lines longer and shorter than the common indentation, a tab.
const TRICKY: &str = "message tricky {\n\"first\n      deeper\n    base\n        \n  \t\n\n    end\n  \"\n  subject \"a\n    b\"\n}\n";

fn file() -> impl Strategy<Value = String> {
    (condition(), condition()).prop_map(|(a, b)| {
        format!(
            "// generated\n/// doc\nsegment one = {a}\n\ncampaign c {{\n  kind ad\n  audience {b}\n  if {a} {{ send m }} else {{ exit }}\n  send m\n}}\n{TRICKY}"
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn respaced_examples_format_back(which in any::<usize>(), gaps in prop::collection::vec(gap(), 1..64)) {
        let all = examples();
        let (_, src) = &all[which % all.len()];
        let messy = respace(src, &gaps);
        let (a, b) = (parse(src), parse(&messy));
        prop_assert!(b.errors.is_empty(), "generator broke the file: {:?}\n{messy}", b.errors);
        prop_assert!(same_meaning(&a.file, &b.file), "generator changed the meaning:\n{messy}");
        check_promises(&messy);
    }

    #[test]
    fn generated_conditions_format(src in file(), gaps in prop::collection::vec(gap(), 1..64)) {
        prop_assert!(parse(&src).errors.is_empty(), "{:?}\n{src}", parse(&src).errors);
        check_promises(&src);
        let messy = respace(&src, &gaps);
        prop_assert!(parse(&messy).errors.is_empty(), "{messy}");
        check_promises(&messy);
    }
}

#[test]
fn contact_lines_are_entries_of_the_customer_block() {
    let src = "schema {\n  customer from \"c\" key id {\n    id: id\n    office: phone?\n    contact: text?\n       contact office for channel lms\n  }\n}\n";
    let out = check_promises(src);
    assert!(out.contains("\n    contact office for channel lms\n"), "{out}");
}
