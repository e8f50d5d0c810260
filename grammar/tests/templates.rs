//! Message templates: dedent, escapes, placeholders, exact spans.

mod common;

use camp_grammar::ast::*;
use camp_grammar::{parse, Span, SyntaxErrorKind};
use common::*;

/// The body template of `message m { BODY }`, and the source.
fn body(literal: &str) -> (Template, String) {
    let src = format!("message m {{\n  {literal}\n}}\n");
    let file = parse_ok(&src);
    let [MessagePart::Body(t)] = &message(&file, "m").parts[..] else {
        panic!()
    };
    (t.clone(), src)
}

fn sent(t: &Template) -> String {
    t.segments
        .iter()
        .map(|s| match s {
            TemplateSegment::Text { text, .. } => text.clone(),
            TemplateSegment::Placeholder(p) => format!("<{}>", path(&p.path)),
            TemplateSegment::For(l) => format!("[{} in {}]", l.var.name, l.list.name),
        })
        .collect()
}

#[test]
fn dedent_rules() {
    // Continuation lines lose their common indentation.
    let (t, _) = body("\"(광고) #{sender}\n  #{고객명}님, 장바구니를 확인해 보세요.\n  #{optout}\"");
    assert_eq!(sent(&t), "(광고) <sender>\n<고객명>님, 장바구니를 확인해 보세요.\n<optout>");
    // A break right after the opening quote and a blank last line are dropped.
    let (t, _) = body("\"\n    첫 줄\n      들여쓴 줄\n    \"");
    assert_eq!(sent(&t), "첫 줄\n  들여쓴 줄");
    // Blank lines inside are kept; their spaces do not count.
    let (t, _) = body("\"a\n    b\n\n    c\"");
    assert_eq!(sent(&t), "a\nb\n\nc");
    // Windows line breaks become `\n`.
    let (t, _) = body("\"a\r\n  b\"");
    assert_eq!(sent(&t), "a\nb");
    // Escapes are not lines and not indentation.
    let (t, _) = body("\"a\\n  b\\tc\"");
    assert_eq!(sent(&t), "a\n  b\tc");
}

#[test]
fn escapes() {
    let (t, _) = body(r#""q\" b\\ n\n t\t h\#{x} #{y}""#);
    assert_eq!(sent(&t), "q\" b\\ n\n t\t h#{x} <y>");
    let (t, _) = body(r#""100# and #5 and # {x}""#);
    assert_eq!(sent(&t), "100# and #5 and # {x}");
}

#[test]
fn placeholder_spans_are_exact() {
    let (t, src) = body(r#""안녕 #{ customer.name | date("M월 d일") | won ?? "고객" }님""#);
    let [TemplateSegment::Text {
        text: before,
        span: before_span,
    }, TemplateSegment::Placeholder(p), TemplateSegment::Text { text: after, .. }] = &t.segments[..]
    else {
        panic!("{:#?}", t.segments)
    };
    assert_eq!(before, "안녕 ");
    assert_eq!(text(&src, *before_span), "안녕 ");
    assert_eq!(after, "님");
    assert_eq!(text(&src, p.span), r#"#{ customer.name | date("M월 d일") | won ?? "고객" }"#);
    assert_eq!(text(&src, p.path.span), "customer.name");
    assert_eq!(text(&src, p.path.segments[1].span), "name");
    assert_eq!(text(&src, p.filters[0].span), r#"date("M월 d일")"#);
    assert_eq!(text(&src, p.filters[0].name.span), "date");
    assert_eq!(p.filters[0].args[0].value, "M월 d일");
    assert_eq!(text(&src, p.filters[0].args[0].span), r#""M월 d일""#);
    assert_eq!(text(&src, p.filters[1].span), "won");
    let default = p.default.as_ref().unwrap();
    assert_eq!(default.value, "고객");
    assert_eq!(text(&src, default.span), r#""고객""#);
    assert_eq!(
        text(&src, t.span),
        r#""안녕 #{ customer.name | date("M월 d일") | won ?? "고객" }님""#
    );
}

#[test]
fn text_spans_cover_their_source_across_lines() {
    let (t, src) = body("\"a #{x}\n  b\n  #{y}\"");
    let TemplateSegment::Text { text: middle, span } = &t.segments[2] else {
        panic!()
    };
    assert_eq!(middle, "\nb\n");
    // From the first to the last byte that contributes (dropped indentation
    // at the edges is not part of it).
    assert_eq!(text(&src, *span), "\n  b\n");
}

#[test]
fn filters_with_several_args_and_escapes() {
    let (t, _) = body(r##""#{a | f("x, y", "q\"z") | g() ?? "d\\e"}""##);
    let TemplateSegment::Placeholder(p) = &t.segments[0] else {
        panic!()
    };
    let args: Vec<&str> = p.filters[0].args.iter().map(|a| a.value.as_str()).collect();
    assert_eq!(args, ["x, y", "q\"z"]);
    assert!(p.filters[1].args.is_empty());
    assert_eq!(p.default.as_ref().unwrap().value, "d\\e");
}

#[test]
fn every_string_part_is_a_template() {
    let src =
        "message m {\n  subject \"#{a}\"\n  title \"#{b}\"\n  image \"#{c}\"\n  button \"#{d}\" -> \"#{e}\"\n  template \"#{kept}\"\n}\n";
    let file = parse_ok(src);
    let m = message(&file, "m");
    let paths: Vec<String> = m
        .parts
        .iter()
        .flat_map(|p| match p {
            MessagePart::Subject(t) | MessagePart::Title(t) | MessagePart::Image(t) | MessagePart::Body(t) => vec![tpl(t)],
            MessagePart::Button { label, url, .. } => vec![tpl(label), tpl(url)],
            MessagePart::TemplateCode(code) => vec![format!("code {:?}", code.value)],
            MessagePart::Format(f) => vec![format!("format {}", f.name)],
            MessagePart::Item { .. } | MessagePart::Card(_) => p.templates().into_iter().map(tpl).collect(),
            MessagePart::List(_) => vec![],
        })
        .collect();
    assert_eq!(paths, ["#{a}", "#{b}", "#{c}", "#{d}", "#{e}", "code \"#{kept}\""]);
}

#[test]
fn malformed_placeholders() {
    let cases: [(&str, &str, &str); 7] = [
        (r##""#{""##, "#{", "unclosed placeholder `#{`"),
        (r##""#{ }""##, "#{ }", "empty placeholder `#{}`"),
        (
            r##""#{a |}""##,
            "}",
            "expected a filter name like `won` after `|` in the placeholder, found `}`",
        ),
        (r##""#{a b}""##, "b", "expected `|`, `??` or `}` in the placeholder, found `b`"),
        (
            r##""#{a ?? b}""##,
            "b",
            "expected a default text like `\"고객\"` after `??` in the placeholder, found `b`",
        ),
        (
            r##""#{a | f(1)}""##,
            "1",
            "expected a text argument like `\"M월 d일\"` in the placeholder, found `1`",
        ),
        (
            r##""#{.x}""##,
            ".",
            "expected a name like `고객명` or `customer.name` in the placeholder, found `.`",
        ),
    ];
    for (literal, at, message) in cases {
        let src = format!("message m {{\n  {literal}\n}}\n");
        let p = parse(&src);
        assert_eq!(p.errors.len(), 1, "{literal}: {:?}", p.errors);
        let e = &p.errors[0];
        assert_eq!(e.kind, SyntaxErrorKind::BadPlaceholder);
        assert_eq!(text(&src, e.span), at, "{literal}");
        assert_eq!(e.message, message, "{literal}");
        assert_eq!(p.file.items.len(), 1);
    }
    // `\"` inside a placeholder gets a targeted hint.
    let p = parse("message m {\n  \"#{a ?? \\\"x\\\"}\"\n}\n");
    assert!(p.errors[0].help.as_deref().unwrap().contains("without"));
}

#[test]
fn plain_strings_resolve_escapes_and_dedent_too() {
    let src = "policy {\n  optout \"무료수신거부\\n080-123-4567\"\n  sender \"#{not parsed}\"\n}\n";
    let file = parse_ok(src);
    let Item::Policy(policy) = &file.items[0] else { panic!() };
    let PolicyItem::Optout(o) = &policy.items[0] else { panic!() };
    assert_eq!(o.value, "무료수신거부\n080-123-4567");
    let PolicyItem::Sender(s) = &policy.items[1] else { panic!() };
    assert_eq!(s.value, "#{not parsed}");
    assert_eq!(s.span, Span::new(src.find("\"#{").unwrap(), src.find("}\"").unwrap() + 2));
}
