//! Every form of the language parses into the expected shape: the
//! all-forms fixture, precedence, keywords as names, Hangul identifiers.

mod common;

use camp_grammar::ast::*;
use camp_grammar::{parse, Span};
use common::*;

fn segments(src: &str) -> Vec<(String, String)> {
    parse_ok(src)
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Segment(s) => Some((s.name.name.clone(), sx(&s.cond))),
            _ => None,
        })
        .collect()
}

#[test]
fn conditions_of_every_form() {
    let src = fixture("all_forms.camp");
    let expected = [
        (
            "vip",
            "(or (in customer.tier [gold vip]) (>= (sum purchase.amount within 365d) 1000000))",
        ),
        (
            "complex",
            "(or (not (not (and (== a 1) (!= b 2.5)))) (and (< c (- 3)) (<= d ((4 * 5) + (6 / 7) - 8))) (> e 1) (>= f 2))",
        ),
        ("lists", "(and (not-in x [a b]) (is-null y) (is-not-null z) (contains name \"김\"))"),
        (
            "dids",
            "(and (did cart_add where (> price 10000) at-least 3 within 7d) (did view at-most 2 before 30d) \
             (did view exactly 1 since trigger) (did view where (and (== a 1) (== b 2)) since last purchase))",
        ),
        (
            "aggs",
            "(and (> (count purchase) 1) (>= (count purchase where (> amount 3) within 90d) 3) \
             (> (avg purchase.amount) 1) (> (min purchase.amount before 7d) 0) (< (max purchase.amount since trigger) 9))",
        ),
        (
            "times",
            "(and (< (last purchase) (now - 7d)) (> (first purchase) (now - 365d)) \
             (>= (days-since (last purchase)) (1.2 * (interval purchase))) (< (days-since customer.joined_at) 30))",
        ),
        (
            "metrics",
            "(and (>= (rfm purchase.amount within 365d).r 4) (== (rfm purchase.amount).m 5) (== (lifecycle purchase) at_risk))",
        ),
        ("bools", "(and (== customer.marketing_consent true) (!= customer.x false))"),
        ("hangul", "(and (== customer.등급 골드) (contains 고객명 \"님\"))"),
        (
            "kw_names",
            "(and (== customer.kind \"a\") (== customer.type \"b\") (> customer.time now) (== order_id \"x\") notice)",
        ),
        ("neg", "(and (< (- x) (- (- 3))) (> (- (a + b)) 0))"),
    ];
    let got = segments(&src);
    assert_eq!(got.len(), expected.len());
    for ((name, cond), (want_name, want)) in got.iter().zip(expected) {
        assert_eq!(name, want_name);
        assert_eq!(cond, want, "segment {name}");
    }
    let file = parse_ok(&src);
    assert_eq!(segment(&file, "vip").doc.as_deref(), Some("the vip segment\nsecond line"));
}

#[test]
fn precedence() {
    let cases = [
        ("a or b and c", "(or a (and b c))"),
        ("a and b or c", "(or (and a b) c)"),
        ("not a and b", "(and (not a) b)"),
        ("not a == b", "(not (== a b))"),
        ("(a or b) and c", "(and (or a b) c)"),
        ("a + b * c - d / e", "(a + (b * c) - (d / e))"),
        ("a * b + c", "((a * b) + c)"),
        ("a - b - c", "(a - b - c)"),
        ("a * (b + c)", "(a * (b + c))"),
        ("-a * b", "((- a) * b)"),
        ("a--b", "(a - (- b))"),
        ("(((x)))", "x"),
        ("x not in (1, 2,)", "(not-in x [1 2])"),
        ("x is not null", "(is-not-null x)"),
        ("did a where x > 1 and did b", "(and (did a where (> x 1)) (did b))"),
        ("did a where not x", "(did a where (not x))"),
        // `where` takes a whole condition on the event's properties.
        (
            "did a where x > 1 and y == 2 within 7d",
            "(did a where (and (> x 1) (== y 2)) within 7d)",
        ),
        (
            "did a where x > 1 or y in (1, 2) and not z == 3 at least 2 times within 7d and customer.p > 1",
            "(and (did a where (or (> x 1) (and (in y [1 2]) (not (== z 3)))) at-least 2 within 7d) (> customer.p 1))",
        ),
        (
            "did a where x > 1 and customer.p > 1",
            "(and (did a where (> x 1)) (> customer.p 1))",
        ),
        ("did a where x > 1 and vip", "(and (did a where (> x 1)) vip)"),
        (
            "did a where x > 1 and did b where y > 2 and z > 3",
            "(and (did a where (> x 1)) (did b where (and (> y 2) (> z 3))))",
        ),
        ("days since last a + 1 > 2", "(> ((days-since (last a)) + 1) 2)"),
        ("count(e where a or b) > 0", "(> (count e where (or a b)) 0)"),
        ("1_000_000 < 2.5", "(< 1000000 2.5)"),
    ];
    for (cond, want) in cases {
        let file = parse_ok(&format!("segment s = {cond}\n"));
        assert_eq!(sx(&segment(&file, "s").cond), want, "{cond}");
    }
}

#[test]
fn condition_spans_are_exact() {
    let src = "segment s = not (a or b) and -(c + d) * 2 > 1 // note\n";
    let file = parse_ok(src);
    let cond = &segment(&file, "s").cond;
    assert_eq!(text(src, cond.span), "not (a or b) and -(c + d) * 2 > 1");
    let ExprKind::And(parts) = &cond.kind else { panic!() };
    assert_eq!(text(src, parts[0].span), "not (a or b)");
    let ExprKind::Not(inner) = &parts[0].kind else { panic!() };
    assert_eq!(text(src, inner.span), "a or b");
    assert_eq!(text(src, parts[1].span), "-(c + d) * 2 > 1");
    let ExprKind::Compare { lhs, .. } = &parts[1].kind else { panic!() };
    assert_eq!(text(src, lhs.span), "-(c + d) * 2");
    let ExprKind::Arith { first, .. } = &lhs.kind else { panic!() };
    assert_eq!(text(src, first.span), "-(c + d)");
}

#[test]
fn spans_never_include_trailing_comments() {
    let src = "campaign c {\n  quiet hours 21:00..08:00 // night\n  send m // go\n}\n";
    let file = parse_ok(src);
    let c = campaign(&file, "c");
    let spans: Vec<&str> = c
        .items
        .iter()
        .map(|i| match i {
            CampaignItem::QuietHours(q) => text(src, q.span),
            CampaignItem::Step(s) => text(src, s.span),
            _ => "",
        })
        .collect();
    assert_eq!(spans, ["quiet hours 21:00..08:00", "send m"]);
    // At the very end of a file, too.
    let src = "segment s = did a within 1d // trailing";
    let file = parse_ok(src);
    assert_eq!(text(src, segment(&file, "s").cond.span), "did a within 1d");
}

#[test]
fn campaign_settings_and_steps() {
    let src = fixture("all_forms.camp");
    let file = parse_ok(&src);
    let c = campaign(&file, "c");
    assert_eq!(c.doc.as_deref(), Some("a campaign"));
    let mut steps_seen = Vec::new();
    for item in &c.items {
        match item {
            CampaignItem::Step(s) => steps_seen.push(step(s)),
            CampaignItem::Channel(ch) => {
                let fb: Vec<String> = ch
                    .fallbacks
                    .iter()
                    .map(|f| format!("{} {}", f.channel.name, dur(&f.after)))
                    .collect();
                assert_eq!(
                    (ch.channel.name.as_str(), fb),
                    ("alimtalk", vec!["sms 30m".to_string(), "lms 2w".to_string()])
                );
            }
            CampaignItem::Trigger(t) => {
                let TriggerKind::On { event, filter } = &t.kind else { panic!() };
                assert_eq!(event.name, "cart_add");
                assert_eq!(sx(filter.as_ref().unwrap()), "(and (> price 10000) (< product.stock 5))");
            }
            CampaignItem::QuietHours(q) if q.unless.is_some() => {
                assert_eq!(q.mode, Some(QuietMode::Skip));
                assert!(matches!(&q.filter, Some(SendFilter::Channel(c)) if c.name == "sms"));
                assert_eq!((q.to.hour, q.to.minute), (8, 0));
            }
            CampaignItem::Cap(cap) => {
                assert_eq!(cap.limits.len(), 2);
                assert_eq!(dur(&cap.limits[1].per), "1w");
                assert!(matches!(&cap.filter, Some(SendFilter::Kind(k)) if k.name == "ad"));
            }
            CampaignItem::Variant(v) if v.name.name == "a" => {
                assert_eq!(v.percent.value, 45.5);
                assert_eq!(steps(&v.steps), "send m; wait 1d; send m");
            }
            CampaignItem::Holdout(p) => assert_eq!(p.value, 12.5),
            _ => {}
        }
    }
    assert_eq!(
        steps_seen,
        [
            "wait until 10:00",
            "send m via sms",
            "if (did purchase since trigger) { exit } else { if x { send m } else { if y { wait 1h } else { send m } } }",
        ]
    );
}

#[test]
fn triggers() {
    let src = fixture("all_forms.camp");
    let file = parse_ok(&src);
    let trigger = |name: &str| {
        campaign(&file, name)
            .items
            .iter()
            .find_map(|i| match i {
                CampaignItem::Trigger(t) => Some(t.kind.clone()),
                _ => None,
            })
            .unwrap()
    };
    let TriggerKind::At(at) = trigger("t1") else { panic!() };
    assert_eq!((at.year, at.month, at.day, at.hour, at.minute), (2026, 12, 1, 11, 0));
    assert_eq!(text(&src, at.span), "2026-12-01 11:00");
    let every = |name: &str| match trigger(name) {
        TriggerKind::Every { every, at } => (every, at.hour, at.minute),
        other => panic!("{other:?}"),
    };
    assert_eq!(every("t2"), (Every::Day, 9, 0));
    assert_eq!(every("t3"), (Every::Weekday, 9, 30));
    assert!(matches!(every("t4"), (Every::DayOfMonth { day: 1, .. }, 10, 0)));
    assert!(matches!(every("t5"), (Every::DayOfMonth { day: 22, .. }, 10, 0)));
    assert_eq!(every("t6"), (Every::DayOfWeek(6), 10, 0));
}

#[test]
fn message_parts() {
    let src = fixture("all_forms.camp");
    let file = parse_ok(&src);
    let m = message(&file, "m");
    assert_eq!(m.doc.as_deref(), Some("a message"));
    let rendered: Vec<String> = m
        .parts
        .iter()
        .map(|p| match p {
            MessagePart::Body(t) => format!("body {}", tpl(t)),
            MessagePart::Subject(t) => format!("subject {}", tpl(t)),
            MessagePart::Title(t) => format!("title {}", tpl(t)),
            MessagePart::Image(t) => format!("image {}", tpl(t)),
            MessagePart::TemplateCode(c) => format!("template {:?}", c.value),
            MessagePart::Button { label, url, .. } => format!("button {} -> {}", tpl(label), tpl(url)),
            MessagePart::Format(f) => format!("format {}", f.name),
            MessagePart::Item { text, url, .. } => format!("item {} -> {}", tpl(text), tpl(url)),
            MessagePart::Card(c) => format!("card of {}", c.parts.len()),
            MessagePart::List(l) => format!("list {}", l.name.name),
        })
        .collect();
    assert_eq!(
        rendered,
        [
            r#"subject #{고객명??"고객"} "님""#,
            r#"title "t""#,
            r#"image "https://x/" #{customer.id} ".png""#,
            r#"template "CODE_01""#,
            r#"body "(광고) " #{sender} "\n" #{trigger.product.price|won} " " #{customer.joined_at|date("M월 d일")} " " #{x|a|b("1","2")??"d"} "\n#{not a placeholder} #1\n" #{optout}"#,
            r#"button #{고객명} " 보기" -> "https://x/" #{customer.id}"#,
        ]
    );
}

#[test]
fn schema_forms() {
    let src = fixture("all_forms.camp");
    let file = parse_ok(&src);
    let Some(Item::Schema(schema)) = file.items.iter().find(|i| matches!(i, Item::Schema(_))) else {
        panic!()
    };
    let SchemaItem::Customer(customer) = &schema.items[0] else {
        panic!()
    };
    // Keywords elsewhere are plain names here.
    let names: Vec<&str> = customer.fields.iter().map(|f| f.name.name.as_str()).collect();
    assert_eq!(names, ["id", "kind", "type", "time"]);
    assert!(customer.fields[2].nullable);
    assert_eq!(customer.fields[3].alias.as_ref().unwrap().name, "시간");
    let events: Vec<&EventDecl> = schema
        .items
        .iter()
        .filter_map(|i| match i {
            SchemaItem::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(events[0].name.name, "signup");
    assert!(events[0].props.is_empty() && events[0].table.is_none());
    assert!(matches!(
        events[1].props[0].ty.kind,
        TypeKind::Money {
            max: Some(IntLit { value: 1_000_000, .. })
        }
    ));
    let e2 = events[2];
    let table = e2.table.as_ref().unwrap();
    assert_eq!(
        (
            table.time.as_ref().unwrap().name.as_str(),
            table.customer.as_ref().unwrap().name.as_str()
        ),
        ("at", "cid")
    );
    let kinds: Vec<String> = e2.props.iter().map(|f| format!("{:?}", f.ty.kind)).collect();
    assert_eq!(kinds[0], "Decimal");
    assert_eq!(kinds[1], "Bool");
    assert!(matches!(&e2.props[1].default, Some(Literal::Bool { value: true, .. })));
    assert!(matches!(
        e2.props[4].ty.kind,
        TypeKind::Int {
            max: Some(IntLit { value: 5, .. })
        }
    ));
    assert!(matches!(&e2.props[5].default, Some(Literal::Decimal { value, .. }) if *value == 1.5));
    assert!(matches!(&e2.props[6].ty.kind, TypeKind::Unknown(i) if i.name == "weird"));
    assert_eq!(events[3].doc.as_deref(), Some("doc on event"));
    let Some(SchemaItem::Events(ev)) = schema.items.last() else {
        panic!()
    };
    assert_eq!(
        (
            ev.props.as_ref().unwrap().name.as_str(),
            ev.time.as_ref().unwrap().name.as_str(),
            ev.type_column.as_ref().unwrap().name.as_str(),
            ev.customer.as_ref().unwrap().name.as_str()
        ),
        ("p", "t", "ty", "c")
    );
}

#[test]
fn keywords_are_whole_words() {
    let cases = [
        ("order_id == 1", "(== order_id 1)"),
        ("android", "android"),
        ("notice and noted", "(and notice noted)"),
        ("index in (1)", "(in index [1])"),
        ("island is null", "(is-null island)"),
        ("didn == 1", "(== didn 1)"),
        ("counter > 1", "(> counter 1)"),
        ("nowhere", "nowhere"),
        ("truest", "truest"),
        ("customer.or.and", "customer.or.and"),
        ("did e where count > 1", "(did e where (> count 1))"),
        ("did e where last == 1", "(did e where (== last 1))"),
    ];
    for (cond, want) in cases {
        let file = parse_ok(&format!("segment s = {cond}\n"));
        assert_eq!(sx(&segment(&file, "s").cond), want, "{cond}");
    }
    // Campaign and policy keywords are usable as names where no keyword is expected.
    let file = parse_ok("campaign kind {\n  send wait\n  kind ad\n}\nsegment kind = type == time\n");
    assert_eq!(campaign(&file, "kind").items.len(), 2);
    assert_eq!(sx(&segment(&file, "kind").cond), "(== type time)");
}

#[test]
fn hangul_identifiers() {
    let src = "/// 고객 세그먼트\nsegment 단골 = customer.등급 in (골드, 브이아이피) and 고객명 != \"\"\n\
               message 안내 {\n  \"#{고객명}님 #{trigger.상품.상품명}\"\n}\n\
               campaign 장바구니 {\n  trigger on 담기\n  send 안내\n}\n";
    let file = parse_ok(src);
    let s = segment(&file, "단골");
    assert_eq!(s.doc.as_deref(), Some("고객 세그먼트"));
    assert_eq!(sx(&s.cond), "(and (in customer.등급 [골드 브이아이피]) (!= 고객명 \"\"))");
    assert_eq!(text(src, s.name.span), "단골");
    let [MessagePart::Body(body)] = &message(&file, "안내").parts[..] else {
        panic!()
    };
    assert_eq!(tpl(body), "#{고객명} \"님 \" #{trigger.상품.상품명}");
    let TemplateSegment::Placeholder(p) = &body.segments[2] else {
        panic!()
    };
    assert_eq!(text(src, p.span), "#{trigger.상품.상품명}");
    assert_eq!(text(src, p.path.segments[2].span), "상품명");
    assert_eq!(campaign(&file, "장바구니").items.len(), 2);
}

#[test]
fn doc_comments_attach_to_the_next_item() {
    let src = "/// one\n/// two\nsegment a = x\n\n/// detached\n\nsegment b = y\n//// not a doc\nsegment c = z\n\
               schema {\n  customer from \"c\" key id {\n    /// the key\n    id: id\n    // plain\n    x: int\n  }\n}\n";
    let file = parse_ok(src);
    assert_eq!(segment(&file, "a").doc.as_deref(), Some("one\ntwo"));
    assert_eq!(segment(&file, "b").doc, None);
    assert_eq!(segment(&file, "c").doc, None);
    let Some(Item::Schema(schema)) = file.items.last() else { panic!() };
    let SchemaItem::Customer(t) = &schema.items[0] else { panic!() };
    assert_eq!(t.fields[0].doc.as_deref(), Some("the key"));
    assert_eq!(t.fields[1].doc, None);
}

#[test]
fn empty_and_comment_only_files() {
    for src in ["", "\n\n", "// just a note\n", "\u{FEFF}", "\u{FEFF}segment a = x\n"] {
        let p = parse(src);
        assert!(p.errors.is_empty(), "{src:?}: {:?}", p.errors);
    }
    let p = parse("\u{FEFF}segment a = x\n");
    assert_eq!(p.file.items[0].span(), Span::new(3, 16));
}

#[test]
fn spans_of_items() {
    let src = "segment a = x\n\ncampaign c {\n  send m\n}\n// tail\n";
    let file = parse_ok(src);
    assert_eq!(text(src, file.items[0].span()), "segment a = x");
    assert_eq!(text(src, file.items[1].span()), "campaign c {\n  send m\n}");
}

#[test]
fn formats_items_cards_channel_optouts_and_alimtalk_templates_parse() {
    let src = r##"
policy {
  optout "무료수신거부 080-123-4567"
  optout "채널 차단" for channel brand
}

message picks {
  format wide_list
  title "추천"
  item "하나" -> "https://a"
  item "둘" -> "https://b"
  card {
    title "카드"
    "내용"
    image "https://i"
    button "보기" -> "https://c"
  }
}

alimtalk template "ORDER_01" {
  title "주문"
  "#{이름}님, 주문이 접수되었습니다."
  button "조회" -> "https://t"
}
"##;
    let parsed = camp_grammar::parse(src);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let items = &parsed.file.items;
    let Item::Policy(p) = &items[0] else { panic!("policy") };
    let PolicyItem::ChannelOptout { text, channel, .. } = &p.items[1] else {
        panic!("channel optout")
    };
    assert_eq!((text.value.as_str(), channel.name.as_str()), ("채널 차단", "brand"));
    let Item::Message(m) = &items[1] else { panic!("message") };
    assert!(matches!(&m.parts[0], MessagePart::Format(f) if f.name == "wide_list"));
    assert!(matches!(&m.parts[2], MessagePart::Item { .. }));
    let MessagePart::Card(card) = &m.parts[4] else { panic!("card") };
    assert_eq!(card.parts.len(), 4);
    let Item::AlimtalkTemplate(t) = &items[2] else {
        panic!("alimtalk template")
    };
    assert_eq!(t.code.value, "ORDER_01");
    assert_eq!(t.parts.len(), 3);
}

#[test]
fn contact_lines_in_the_customer_block() {
    let file = parse_ok(&fixture("contacts.camp"));
    let Some(Item::Schema(schema)) = file.items.first() else { panic!() };
    let SchemaItem::Customer(customer) = &schema.items[0] else {
        panic!()
    };
    // `contact: text` stays a field.
    let names: Vec<&str> = customer.fields.iter().map(|f| f.name.name.as_str()).collect();
    assert_eq!(names, ["id", "phone", "office", "device", "contact"]);
    assert_eq!(customer.fields[3].ty.kind, TypeKind::PushToken);
    let lines: Vec<(&str, &str)> = customer
        .contacts
        .iter()
        .map(|c| (c.field.name.as_str(), c.channel.name.as_str()))
        .collect();
    assert_eq!(lines, [("office", "lms"), ("device", "push")]);
    let src = fixture("contacts.camp");
    let c = &customer.contacts[0];
    assert_eq!(&src[c.span.start..c.span.end], "contact office for channel lms");
    // Only the customer block has them.
    let errors =
        camp_grammar::parse("schema {\n  table t from \"t\" key id {\n    id: id\n    contact id for channel sms\n  }\n}\n").errors;
    assert!(!errors.is_empty());
}

#[test]
fn reentry_rules_and_expiring_sends() {
    let src = fixture("journeys.camp");
    let file = parse_ok(&src);
    let rule = |name: &str| {
        campaign(&file, name)
            .items
            .iter()
            .find_map(|i| match i {
                CampaignItem::Reentry(r) => Some(match &r.rule {
                    ReentryRule::Never => "never".to_string(),
                    ReentryRule::After(d) => format!("after {}", dur(d)),
                    ReentryRule::Restart => "restart".to_string(),
                    ReentryRule::Always => "always".to_string(),
                }),
                _ => None,
            })
            .unwrap_or_default()
    };
    let sends = |name: &str| {
        let steps: Vec<Step> = campaign(&file, name)
            .items
            .iter()
            .filter_map(|i| match i {
                CampaignItem::Step(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        common::steps(&steps)
    };
    assert_eq!(rule("once"), "never");
    assert_eq!(rule("weekly"), "after 7d");
    assert_eq!(rule("again"), "restart");
    assert_eq!(rule("receipts"), "always");
    assert_eq!(sends("once"), "send m expires at 21:00");
    assert_eq!(sends("weekly"), "send m via sms expires after 3h");
    assert_eq!(sends("again"), "send m expires after 90m");
    assert_eq!(sends("receipts"), "send m");
    // The span of a re-entry rule is the whole clause.
    let c = campaign(&file, "weekly");
    let Some(CampaignItem::Reentry(r)) = c.items.first() else {
        panic!("a re-entry rule first")
    };
    assert_eq!(&src[r.span.start..r.span.end], "reentry after 7d");
    // Neither word is reserved elsewhere: `never` and `expires` stay names.
    parse_ok("segment never = customer.expires == 1\n");
}

#[test]
fn lists_and_loops() {
    let file = parse_ok(
        r##"message m {
  list seen = recent(item_view.product, 3) exclude purchased, trigger, where stock == 0
  list more = also_bought(trigger.product, 4 within 365d)
  list top = popular(product where category == beauty within 30d, 5)
  "#{for p in seen}#{p.name} #{end}#{seen.count}"
}
campaign c {
  pad popular
}"##,
    );
    let m = message(&file, "m");
    let lists: Vec<&ListDecl> = m
        .parts
        .iter()
        .filter_map(|p| match p {
            MessagePart::List(l) => Some(l),
            _ => None,
        })
        .collect();
    assert_eq!(lists.len(), 3);
    match &lists[0].list.source {
        ListSource::Recent { event, prop, n } => {
            assert_eq!((event.name.as_str(), prop.name.as_str(), n.value), ("item_view", "product", 3));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        &lists[0].list.exclude[..],
        [Exclusion::Purchased(_), Exclusion::Trigger(_), Exclusion::Where(_)]
    ));
    match &lists[1].list.source {
        ListSource::AlsoBought { anchor, n, within } => {
            assert_eq!(anchor.segments.len(), 2);
            assert_eq!(n.value, 4);
            assert_eq!(within.map(|d| d.seconds()), Some(365 * 86_400));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&lists[2].list.source, ListSource::Popular { filter: Some(_), within: Some(_), n, .. } if n.value == 5));
    let body = m
        .parts
        .iter()
        .find_map(|p| match p {
            MessagePart::Body(t) => Some(t),
            _ => None,
        })
        .expect("a body");
    assert_eq!(tpl(body), r#"for(p in seen: #{p.name} " ") #{seen.count}"#);
    let c = campaign(&file, "c");
    assert!(matches!(c.items[..], [CampaignItem::PadPopular(_)]));
}

#[test]
fn unclosed_and_stray_loops_are_errors() {
    for src in ["message m {\n  \"#{for p in seen}#{p.name}\"\n}", "message m {\n  \"#{end}\"\n}"] {
        let parsed = camp_grammar::parse(src);
        assert_eq!(parsed.errors.len(), 1, "{src}: {:?}", parsed.errors);
        assert_eq!(parsed.errors[0].kind, camp_grammar::SyntaxErrorKind::BadPlaceholder);
    }
}
