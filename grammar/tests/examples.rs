//! Every example of docs/language.md and DESIGN §3 parses into the
//! expected tree (key nodes compared exactly, spans on a few).

mod common;

use camp_grammar::ast::*;
use camp_grammar::Span;
use common::*;

#[test]
fn design_schema() {
    let src = fixture("design_schema.camp");
    let file = parse_ok(&src);
    let [Item::Schema(schema)] = &file.items[..] else {
        panic!("{:?}", file.items)
    };
    assert_eq!(schema.items.len(), 6);
    let SchemaItem::Customer(customer) = &schema.items[0] else {
        panic!()
    };
    assert_eq!(customer.name.name, "customer");
    assert_eq!(customer.source.value, "customers");
    assert_eq!(customer.key.name, "id");
    let names: Vec<&str> = customer.fields.iter().map(|f| f.name.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "name",
            "phone",
            "tier",
            "points",
            "marketing_consent",
            "night_consent",
            "timezone",
            "joined_at"
        ]
    );
    let name = &customer.fields[1];
    assert_eq!(
        name.ty.kind,
        TypeKind::Text {
            max: Some(IntLit {
                value: 20,
                span: name_max_span(&src)
            })
        }
    );
    assert_eq!(name.alias.as_ref().unwrap().name, "고객명");
    assert_eq!(text(&src, name.span), "name: text(max 20) as 고객명");
    assert_eq!(text(&src, name.ty.span), "text(max 20)");
    assert!(customer.fields[2].nullable);
    assert_eq!(customer.fields[2].ty.kind, TypeKind::Phone);
    let TypeKind::Enum(values) = &customer.fields[3].ty.kind else {
        panic!()
    };
    let values: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(values, ["bronze", "silver", "gold", "vip"]);
    assert_eq!(customer.fields[5].ty.kind, TypeKind::Consent);
    let tz = &customer.fields[7];
    assert_eq!(tz.ty.kind, TypeKind::Tz);
    let Some(Literal::String(default)) = &tz.default else { panic!() };
    assert_eq!(default.value, "Asia/Seoul");
    assert_eq!(customer.fields[8].ty.kind, TypeKind::Timestamp);

    let SchemaItem::Table(product) = &schema.items[1] else { panic!() };
    assert_eq!(product.name.name, "product");
    assert_eq!(product.fields[2].alias.as_ref().unwrap().name, "수량");
    assert_eq!(product.fields[3].ty.kind, TypeKind::Money { max: None });

    let SchemaItem::Events(events) = &schema.items[2] else { panic!() };
    assert_eq!(events.source.value, "events");
    assert_eq!(events.customer.as_ref().unwrap().name, "customer_id");
    assert_eq!(events.type_column.as_ref().unwrap().name, "kind");
    assert_eq!(events.time.as_ref().unwrap().name, "occurred_at");
    assert_eq!(events.props.as_ref().unwrap().name, "properties");

    let SchemaItem::Event(cart_add) = &schema.items[3] else { panic!() };
    assert_eq!(cart_add.name.name, "cart_add");
    assert!(cart_add.table.is_none());
    let TypeKind::Ref(table) = &cart_add.props[0].ty.kind else {
        panic!()
    };
    assert_eq!(table.name, "product");
    assert_eq!(cart_add.props[1].ty.kind, TypeKind::Money { max: None });
    let SchemaItem::Event(purchase) = &schema.items[4] else { panic!() };
    assert_eq!(purchase.props[0].name.name, "order_id");
    assert_eq!(purchase.props[0].ty.kind, TypeKind::Text { max: None });
}

fn name_max_span(src: &str) -> Span {
    let at = src.find("max 20").unwrap() + 4;
    Span::new(at, at + 2)
}

#[test]
fn design_policy() {
    let src = fixture("design_policy.camp");
    let file = parse_ok(&src);
    let [Item::Policy(policy)] = &file.items[..] else { panic!() };
    let [PolicyItem::Timezone(tz), PolicyItem::Sender(sender), PolicyItem::Optout(optout), PolicyItem::QuietHours(quiet), PolicyItem::Cap(ad_cap), PolicyItem::Cap(sms_cap)] =
        &policy.items[..]
    else {
        panic!("{:#?}", policy.items)
    };
    assert_eq!(tz.value, "Asia/Seoul");
    assert_eq!(sender.value, "캠프샵 02-1234-5678");
    assert_eq!(optout.value, "무료수신거부 080-123-4567");
    assert_eq!((quiet.from.hour, quiet.from.minute, quiet.to.hour, quiet.to.minute), (21, 0, 8, 0));
    assert_eq!(
        quiet.filter,
        Some(SendFilter::Kind(Ident {
            name: "ad".into(),
            span: span_of(&src, "ad unless")
        }))
    );
    assert_eq!(sx(quiet.unless.as_ref().unwrap()), "customer.night_consent");
    assert_eq!(quiet.mode, None);
    assert_eq!(
        text(&src, quiet.span),
        "quiet hours 21:00..08:00 for kind ad unless customer.night_consent"
    );
    let limits: Vec<String> = ad_cap
        .limits
        .iter()
        .map(|l| format!("{} per {}", l.count.value, dur(&l.per)))
        .collect();
    assert_eq!(limits, ["2 per 24h", "5 per 7d"]);
    assert!(matches!(&ad_cap.filter, Some(SendFilter::Kind(k)) if k.name == "ad"));
    assert!(matches!(&sms_cap.filter, Some(SendFilter::Channel(c)) if c.name == "sms"));
}

/// The span of the first word of `needle` in `src`.
fn span_of(src: &str, needle: &str) -> Span {
    let at = src.find(needle).unwrap();
    let word = needle.split(' ').next().unwrap();
    Span::new(at, at + word.len())
}

#[test]
fn design_campaigns() {
    let src = fixture("design_cart.camp");
    let file = parse_ok(&src);
    assert_eq!(file.items.len(), 6);

    let abandoners = segment(&file, "cart_abandoners");
    assert_eq!(
        sx(&abandoners.cond),
        "(and (did cart_add within 24h) (not (did purchase since last cart_add)))"
    );
    assert_eq!(
        text(&src, abandoners.cond.span),
        "did cart_add within 24h\n    and not did purchase since last cart_add"
    );
    let ExprKind::And(parts) = &abandoners.cond.kind else { panic!() };
    assert_eq!(text(&src, parts[1].span), "not did purchase since last cart_add");
    let vip = segment(&file, "vip");
    assert_eq!(
        sx(&vip.cond),
        "(or (in customer.tier [gold vip]) (>= (sum purchase.amount within 365d) 1000000))"
    );

    let cart = campaign(&file, "cart_reminder");
    let mut rendered = Vec::new();
    for item in &cart.items {
        rendered.push(match item {
            CampaignItem::Kind(k) => format!("kind {}", k.name),
            CampaignItem::Channel(c) => {
                let fb: Vec<String> = c
                    .fallbacks
                    .iter()
                    .map(|f| format!(" fallback {} after {}", f.channel.name, dur(&f.after)))
                    .collect();
                format!("channel {}{}", c.channel.name, fb.concat())
            }
            CampaignItem::Trigger(t) => match &t.kind {
                TriggerKind::On { event, filter } => format!("trigger on {} {:?}", event.name, filter.as_ref().map(sx)),
                other => format!("{other:?}"),
            },
            CampaignItem::Audience(e) => format!("audience {}", sx(e)),
            CampaignItem::ExitWhen(e) => format!("exit when {}", sx(e)),
            CampaignItem::Step(s) => step(s),
            CampaignItem::QuietHours(q) => format!("quiet {:?}", q.mode),
            CampaignItem::Cap(c) => format!("cap {}", c.limits.len()),
            CampaignItem::Holdout(p) => format!("holdout {}", p.value),
            CampaignItem::Goal { event, within, .. } => format!("goal {} {}", event.name, dur(within)),
            other => format!("{other:?}"),
        });
    }
    assert_eq!(
        rendered,
        [
            "kind ad",
            "channel friendtalk fallback lms after 24h",
            "trigger on cart_add None",
            "audience (and customer.marketing_consent (not (did purchase since trigger)))",
            "exit when (did purchase since trigger)",
            "wait 24h",
            "send remind",
            "wait 24h",
            "send free_shipping",
            "wait 24h",
            "send coupon",
            "quiet Some(Defer)",
            "cap 1",
            "holdout 10",
            "goal purchase 7d",
        ]
    );

    let remind = message(&file, "remind");
    let [MessagePart::Body(body)] = &remind.parts[..] else { panic!() };
    assert_eq!(
        tpl(body),
        r#""(광고) " #{sender} "\n" #{고객명} "님, 장바구니에 담은 " #{trigger.product.상품명} " 재고가 " #{trigger.product.수량} "개 남았습니다.\n" #{optout}"#
    );
    let vip_a = message(&file, "vip_a");
    let [MessagePart::Subject(subject), MessagePart::Body(_), MessagePart::Button { label, url, .. }] = &vip_a.parts[..] else {
        panic!("{:#?}", vip_a.parts)
    };
    assert_eq!(tpl(subject), r#""VIP 전용 혜택""#);
    assert_eq!(tpl(label), r#""쿠폰 받기""#);
    assert_eq!(tpl(url), r#""https://shop.example/vip""#);

    let weekly = campaign(&file, "vip_weekly");
    let trigger = weekly
        .items
        .iter()
        .find_map(|i| match i {
            CampaignItem::Trigger(t) => Some(t),
            _ => None,
        })
        .unwrap();
    let TriggerKind::Every { every, at } = &trigger.kind else {
        panic!()
    };
    assert_eq!(*every, Every::DayOfWeek(0));
    assert_eq!((at.hour, at.minute), (11, 0));
    assert_eq!(text(&src, trigger.span), "trigger every monday at 11:00");
    let variants: Vec<String> = weekly
        .items
        .iter()
        .filter_map(|i| match i {
            CampaignItem::Variant(v) => Some(format!("{} {}% {{ {} }}", v.name.name, v.percent.value, steps(&v.steps))),
            _ => None,
        })
        .collect();
    assert_eq!(variants, ["a 50% { send vip_a }", "b 50% { send vip_b }"]);
}

#[test]
fn language_reference_schema() {
    let src = fixture("lang_schema.camp");
    let file = parse_ok(&src);
    let [Item::Schema(schema)] = &file.items[..] else { panic!() };
    let SchemaItem::Customer(customer) = &schema.items[0] else {
        panic!()
    };
    let name = &customer.fields[1];
    assert_eq!(name.doc.as_deref(), Some("shown in greetings"));
    assert_eq!(customer.fields[0].doc, None);
    let tier = &customer.fields[3];
    assert!(matches!(&tier.default, Some(Literal::Ident(i)) if i.name == "bronze"));
    let points = &customer.fields[4];
    assert!(matches!(
        points.ty.kind,
        TypeKind::Int {
            max: Some(IntLit { value: 10_000_000, .. })
        }
    ));
    assert_eq!(customer.fields[10].ty.kind, TypeKind::PushToken);
    let [contact] = &customer.contacts[..] else { panic!() };
    assert_eq!(
        (contact.field.name.as_str(), contact.channel.name.as_str()),
        ("office_phone", "lms")
    );
    let SchemaItem::Event(purchase) = &schema.items[4] else { panic!() };
    let table = purchase.table.as_ref().unwrap();
    assert_eq!(table.source.value, "orders");
    assert_eq!(table.customer.as_ref().unwrap().name, "customer_id");
    assert_eq!(table.time.as_ref().unwrap().name, "ordered_at");
    assert_eq!(purchase.props.len(), 2);
    assert!(matches!(
        purchase.props[0].ty.kind,
        TypeKind::Text {
            max: Some(IntLit { value: 20, .. })
        }
    ));
}

#[test]
fn language_reference_policy() {
    let src = fixture("lang_policy.camp");
    let file = parse_ok(&src);
    let [Item::Policy(policy)] = &file.items[..] else { panic!() };
    let Some(PolicyItem::Lifecycle(settings)) = policy.items.last() else {
        panic!()
    };
    let rendered: Vec<String> = settings
        .iter()
        .map(|s| match &s.value {
            LifecycleValue::Duration(d) => format!("{} {}", s.name.name, dur(d)),
            LifecycleValue::Number { value, .. } => format!("{} {value}", s.name.name),
        })
        .collect();
    assert_eq!(
        rendered,
        ["new 30d", "active 1.5", "at_risk 3", "single_active 90d", "single_at_risk 180d"]
    );
}

#[test]
fn language_reference_messages() {
    let src = fixture("lang_message.camp");
    let file = parse_ok(&src);
    let remind = message(&file, "remind");
    let [MessagePart::Body(body)] = &remind.parts[..] else { panic!() };
    // The exact text of docs/language.md.
    let mut sent = String::new();
    for s in &body.segments {
        match s {
            TemplateSegment::Text { text, .. } => sent.push_str(text),
            TemplateSegment::Placeholder(p) => sent.push_str(&format!("#{{{}}}", path(&p.path))),
            TemplateSegment::For(_) => sent.push_str("#{for}"),
        }
    }
    assert_eq!(sent, "(광고) #{sender}\n#{고객명}님, 장바구니를 확인해 보세요.\n#{optout}");

    let vip = message(&file, "vip_a");
    let kinds: Vec<&str> = vip
        .parts
        .iter()
        .map(|p| match p {
            MessagePart::Body(_) => "body",
            MessagePart::Subject(_) => "subject",
            MessagePart::Title(_) => "title",
            MessagePart::Image(_) => "image",
            MessagePart::TemplateCode(_) => "template",
            MessagePart::Button { .. } => "button",
            MessagePart::Format(_) => "format",
            MessagePart::Item { .. } => "item",
            MessagePart::Card(_) => "card",
            MessagePart::List(_) => "list",
        })
        .collect();
    assert_eq!(kinds, ["subject", "title", "image", "template", "body", "button"]);
    let MessagePart::TemplateCode(code) = &vip.parts[3] else { panic!() };
    assert_eq!(code.value, "VIP_WEEKLY_01");
    assert_eq!(text(&src, code.span), "\"VIP_WEEKLY_01\"");
}

#[test]
fn language_reference_campaign() {
    let src = fixture("lang_campaign.camp");
    let file = parse_ok(&src);
    let c = campaign(&file, "cart_reminder");
    let window = c
        .items
        .iter()
        .find_map(|i| match i {
            CampaignItem::Window { from, to, span } => Some((from, to, span)),
            _ => None,
        })
        .unwrap();
    assert_eq!((window.0.hour, window.1.hour), (9, 20));
    assert_eq!(text(&src, *window.2), "window 09:00..20:00");
    assert!(c
        .items
        .iter()
        .any(|i| matches!(i, CampaignItem::Priority(IntLit { value: 10, .. }))));
}
