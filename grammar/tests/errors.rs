//! Syntax errors: every kind, readable words, precise spans, recovery.

mod common;

use camp_grammar::ast::Item;
use camp_grammar::{parse, Span, SyntaxError, SyntaxErrorKind};
use common::*;

fn errors(src: &str) -> Vec<SyntaxError> {
    parse(src).errors
}

fn one_error(src: &str) -> SyntaxError {
    let mut e = errors(src);
    assert_eq!(e.len(), 1, "{src:?}: {e:#?}");
    e.remove(0)
}

#[test]
fn unexpected_token_reads_well() {
    let src = "campaign c {\n  wait 24x\n}\n";
    let e = one_error(src);
    assert_eq!(e.kind, SyntaxErrorKind::Unexpected);
    assert_eq!(e.message, "expected a duration like `24h`, found `24x`");
    assert_eq!(text(src, e.span), "24x");

    let e = one_error("campaign c {\n  quiet hours 21:00..8 defer\n}\n");
    assert_eq!(e.message, "expected a time like `21:00`, found `8`");
    assert_eq!(e.help.as_deref(), Some("write a time of day as `HH:MM`, like `21:00`"));

    let e = one_error("policy {\n  cap 1 per 24\n}\n");
    assert_eq!(e.message, "expected a duration like `24h`, found `24`");
    assert!(e.help.unwrap().contains("add a unit"));

    let e = one_error("campaign c {\n  wait 21:00\n}\n");
    assert_eq!(e.message, "expected a duration like `24h`, found `21:00`");
    assert_eq!(e.help.as_deref(), Some("to wait until a time of day, write `wait until 21:00`"));

    let e = one_error("segment a = customer.tier in gold\n");
    assert_eq!(e.message, "expected `(`, found `gold`");

    let e = one_error("schema {\n  customer from \"c\" key id {\n    id id\n  }\n}\n");
    assert_eq!(e.message, "expected `:`, found `id`");

    let e = one_error("segment a = did purchase at least 3\n");
    assert_eq!(e.message, "expected `times`, found end of file");
}

#[test]
fn typos_get_did_you_mean() {
    let cases = [
        ("campaign c {\n  kindd ad\n}\n", "kind"),
        ("segment a = did cart_add witin 24h\n", "within"),
        ("segmnt a = x\n", "segment"),
        ("campaign c {\n  trigger every mondy at 11:00\n}\n", "monday"),
        ("campaign c {\n  chanel sms\n}\n", "channel"),
        ("policy {\n  timezon \"Asia/Seoul\"\n}\n", "timezone"),
    ];
    for (src, word) in cases {
        let e = one_error(src);
        assert_eq!(e.help, Some(format!("did you mean `{word}`?")), "{src:?}: {e:?}");
    }
    let e = one_error("campaign c {\n  kindd ad\n}\n");
    assert_eq!(e.message, "expected `kind`, found `kindd`");
    let e = one_error("campaign c {\n  xyz ad\n}\n");
    assert_eq!(e.message, "expected a campaign setting or step, found `xyz`");
}

#[test]
fn expected_sets_stay_short() {
    for src in [
        "segment a = did cart_add witin 24h\n",
        "segment a = x y\n",
        "campaign c {\n  send a\n  ???\n}\n",
        "policy {\n  ???\n}\n",
        "message m {\n  ???\n}\n",
        "schema {\n  ???\n}\n",
    ] {
        let e = one_error(src);
        let expected = e.message.split(", found").next().unwrap();
        assert!(expected.matches(", ").count() <= 5, "{src:?}: {}", e.message);
        assert!(e.message.len() < 200, "{}", e.message);
    }
    let e = one_error("segment a = x = 3\n");
    assert_eq!(e.message, "expected an operator like `and`, `or` or `==`, found `=`");
    assert_eq!(e.help.as_deref(), Some("use `==` to compare"));
}

#[test]
fn missing_brace_points_at_the_end_of_the_item() {
    let src = "campaign c {\n  send a\n\nsegment b = x\n";
    let p = parse(src);
    assert_eq!(p.errors.len(), 1);
    let e = &p.errors[0];
    assert_eq!(e.span, Span::new(21, 21), "right after `send a`");
    assert!(e.message.ends_with("found the next item"), "{}", e.message);
    assert!(e.help.as_deref().unwrap().contains("never closed"));
    // The next item still parses.
    assert_eq!(p.file.items.len(), 1);

    let e = one_error("segment a = (x or y\n");
    assert_eq!(e.message, "expected `)` or an operator like `and`, `or` or `==`, found end of file");
    assert_eq!(e.span, Span::new(19, 19));
    let e = one_error("segment a = \n");
    assert_eq!(e.message, "expected a condition, found end of file");
}

#[test]
fn junk_in_column_zero_is_an_error() {
    let src = "segment a = x\nfoo bar\nsegment b = y\n";
    let p = parse(src);
    assert_eq!(p.errors.len(), 1);
    let e = &p.errors[0];
    assert_eq!(text(src, e.span), "foo");
    assert!(e.message.starts_with("expected a top-level item"), "{}", e.message);
    assert!(e.help.as_deref().unwrap().contains("indent"));
    assert_eq!(p.file.items.len(), 2, "both segments survive");

    let e = one_error("campaign c { kind ad } extra\n");
    assert_eq!(e.message, "expected the end of the item, found `extra`");
}

#[test]
fn recovery_keeps_good_items() {
    // Two broken items and one good one: two errors, the good item parsed.
    let src = "segment broken1 = did\ncampaign broken2 {\n  wait 24x\n}\nsegment good = customer.vip\n\
               message broken3 {\n  subject\n}\n";
    let p = parse(src);
    assert_eq!(p.errors.len(), 2, "{:#?}", p.errors);
    let names: Vec<String> = p
        .file
        .items
        .iter()
        .map(|i| match i {
            Item::Segment(s) => s.name.name.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    // `segment broken1 = did` is a (valid) reference named `did`.
    assert_eq!(names, ["broken1", "good"]);
    assert!(p.errors[0].span.start > src.find("broken2").unwrap());
    assert!(p.errors[1].span.start > src.find("broken3").unwrap());

    let src = "segment a = (\ncampaign b {\n  wait 1x\n}\nsegment ok = y\n";
    let p = parse(src);
    assert_eq!(p.errors.len(), 2);
    assert_eq!(p.file.items.len(), 1);
}

#[test]
fn errors_are_sorted_and_within_the_file() {
    let src = "segment a = (\nmessage m {\n  \"#{ } x\"\n}\nfoo\nsegment b = \"\n";
    let p = parse(src);
    let starts: Vec<usize> = p.errors.iter().map(|e| e.span.start).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted);
    for e in &p.errors {
        assert!(e.span.end <= src.len() && src.is_char_boundary(e.span.start));
    }
    let kinds: Vec<SyntaxErrorKind> = p.errors.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            SyntaxErrorKind::Unexpected,
            SyntaxErrorKind::BadPlaceholder,
            SyntaxErrorKind::Unexpected,
            SyntaxErrorKind::UnterminatedString
        ]
    );
}

#[test]
fn unterminated_strings_point_at_the_opening_quote() {
    let src = "message m {\n  \"hello\n}\nsegment b = x\n";
    let p = parse(src);
    assert_eq!(p.errors.len(), 1);
    let e = &p.errors[0];
    assert_eq!(e.kind, SyntaxErrorKind::UnterminatedString);
    assert_eq!(e.span, Span::new(14, 15));
    assert_eq!(e.message, "unterminated string");
    assert_eq!(p.file.items.len(), 1, "the segment after it parses");

    let src = "policy {\n  sender \"abc";
    let e = one_error(src);
    assert_eq!(e.kind, SyntaxErrorKind::UnterminatedString);
    assert_eq!(text(src, e.span), "\"");
    // A placeholder's own quotes do not close the string.
    let p = parse("message m {\n  \"#{x ?? \"y\"} and more\"\n}\n");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
}

#[test]
fn nesting_too_deep() {
    let deep = format!("segment s = {}x{}\n", "(".repeat(65), ")".repeat(65));
    let e = one_error(&deep);
    assert_eq!(e.kind, SyntaxErrorKind::NestingTooDeep);
    assert_eq!(e.span, Span::new(12 + 64, 12 + 65));
    assert_eq!(e.message, "nesting deeper than 64 levels");
    let nots = format!("segment s = {}x\n", "not ".repeat(65));
    let e = one_error(&nots);
    assert_eq!(e.kind, SyntaxErrorKind::NestingTooDeep);
    assert_eq!(text(&nots, e.span), "not");
    // Nots and brackets add up.
    let mixed = format!("segment s = {}x{}\n", "not (".repeat(33), ")".repeat(33));
    assert_eq!(one_error(&mixed).kind, SyntaxErrorKind::NestingTooDeep);
}

#[test]
fn file_too_large() {
    let big = "x".repeat(camp_grammar::MAX_FILE_BYTES + 1);
    let p = parse(&big);
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].kind, SyntaxErrorKind::FileTooLarge);
    assert_eq!(p.errors[0].span, Span::new(0, 0));
    assert!(p.file.items.is_empty());
}

#[test]
fn bad_placeholders_keep_the_message() {
    let src = "message m {\n  \"hi #{name | } and #{ } and #{x\"\n}\n";
    let p = parse(src);
    let got: Vec<(SyntaxErrorKind, &str)> = p.errors.iter().map(|e| (e.kind, text(src, e.span))).collect();
    assert_eq!(
        got,
        [
            (SyntaxErrorKind::BadPlaceholder, "}"),
            (SyntaxErrorKind::BadPlaceholder, "#{ }"),
            (SyntaxErrorKind::BadPlaceholder, "#{"),
        ]
    );
    assert_eq!(
        p.errors[0].message,
        "expected a filter name like `won` after `|` in the placeholder, found `}`"
    );
    assert_eq!(p.errors[1].message, "empty placeholder `#{}`");
    assert_eq!(p.errors[2].message, "unclosed placeholder `#{`");
    assert_eq!(p.file.items.len(), 1, "the message is kept");
}

#[test]
fn numbers_that_do_not_fit_are_errors_not_panics() {
    let src = "campaign c {\n  wait 99999999999999999999999h\n  priority 18446744073709551616\n}\n";
    let p = parse(src);
    assert_eq!(p.errors.len(), 1, "the first hard error drops the item");
    assert_eq!(p.errors[0].message, "number too large");
    assert_eq!(text(src, p.errors[0].span), "99999999999999999999999h");
    let p = parse("segment s = x > 18446744073709551615\n");
    assert!(p.errors.is_empty());
    let p = parse("campaign c {\n  trigger every 99999999999th of month at 10:00\n}\n");
    assert_eq!(p.errors.len(), 1);
}

#[test]
fn other_build_errors() {
    let e = one_error("segment s = sum(purchase within 3d) > 3\n");
    assert_eq!(e.message, "`sum` needs an event property, like `sum(purchase.amount)`");
    let e = one_error("schema {\n  customer from \"c\" key id { x: bool(max 3) }\n}\n");
    assert_eq!(e.message, "`bool` takes no `(max N)`");
    let e = one_error("schema {\n  events from \"e\" time a time b\n}\n");
    assert_eq!(e.message, "the `time` column is given twice");
    let src = "message m {\n  \"a \\q b\"\n}\n";
    let e = one_error(src);
    assert_eq!(e.message, "unknown escape `\\q`");
    assert_eq!(text(src, e.span), "\\q");
}

#[test]
fn else_if_chains_are_bounded() {
    let chain = format!("campaign c {{\n  if a {{ exit }}{}\n}}\n", " else if b { exit }".repeat(100));
    let e = one_error(&chain);
    assert_eq!(e.kind, SyntaxErrorKind::NestingTooDeep);
}
