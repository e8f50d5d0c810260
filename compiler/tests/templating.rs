//! The template engine on the shop's messages and on edge cases: exact
//! texts, checked by hand against the `.camp` sources.

mod common;

use camp_compiler::program::Program;
use camp_compiler::templating::{
    self, compile_named, render, CompiledMessage, CompiledTemplate, Context, Part, RenderError, RenderedMessage, Source, Value, ValueType,
    Values,
};
use chrono::{NaiveDate, TimeZone, Utc};

const SENDER: &str = "캠프샵 02-1234-5678";
const OPTOUT: &str = "무료수신거부 080-123-4567";

/// The campaign that sends each shop message (for its `trigger.*`).
const SENDERS: &[(&str, &str)] = &[
    ("birthday_greeting", "birthday_coupon"),
    ("beauty_picks", "beauty_browse_nudge"),
    ("cart_remind", "cart_reminder"),
    ("cart_free_shipping", "cart_reminder"),
    ("cart_coupon", "cart_reminder"),
    ("cart_digest_list", "cart_digest"),
    ("coupon_expiry_notice", "coupon_expiry_reminder"),
    ("onboarding_thanks", "first_purchase_onboarding"),
    ("onboarding_second_order", "first_purchase_onboarding"),
    ("onboarding_app_install", "first_purchase_onboarding"),
    ("price_drop_notice", "price_drop_alert"),
    ("repurchase_nudge", "repurchase_reminder"),
    ("restock_notice", "restock_alert"),
    ("top_spender_gift", "top_spender_thanks"),
    ("vip_coupon", "vip_weekly"),
    ("vip_points", "vip_weekly"),
    ("winback_coupon", "winback"),
    ("year_end_open", "year_end_sale"),
];

/// Sample values by canonical path.
fn sample() -> Vec<(&'static str, Value)> {
    let date = |y, m, d| Value::Date(NaiveDate::from_ymd_opt(y, m, d).expect("a real date"));
    vec![
        ("customer.name", Value::Text("김민지".into())),
        ("customer.points", Value::Int(12_345)),
        ("trigger.product.name", Value::Text("무선 이어폰".into())),
        ("trigger.product.stock", Value::Int(3)),
        ("trigger.product.price", Value::Int(25_900)),
        ("trigger.price", Value::Int(12_900)),
        ("trigger.quantity", Value::Int(1_200)),
        ("trigger.old_price", Value::Int(39_000)),
        ("trigger.new_price", Value::Int(32_000)),
        ("trigger.order_id", Value::Text("A-1001".into())),
        ("trigger.amount", Value::Int(45_000)),
        ("trigger.coupon.name", Value::Text("생일 축하 쿠폰".into())),
        ("trigger.coupon.discount", Value::Int(10_000)),
        ("trigger.coupon.valid_until", date(2026, 11, 30)),
    ]
}

fn compiled(program: &Program, campaign: &str, message: &str) -> CompiledMessage {
    let (_, c) = program.campaigns[campaign];
    compile_named(&Context::for_campaign(program, c), message).expect("the message compiles")
}

fn render_shop(program: &Program, message: &str) -> RenderedMessage {
    let campaign = SENDERS.iter().find(|(m, _)| *m == message).map(|(_, c)| *c).expect("a sender");
    let m = compiled(program, campaign, message);
    let values = m.values(sample());
    for input in m.inputs() {
        assert!(values.get(input).is_some(), "{message}: no sample value for {input}");
    }
    m.render(&values, Some("Asia/Seoul")).expect("the message renders")
}

fn body(program: &Program, message: &str) -> String {
    render_shop(program, message).body
}

#[test]
fn every_shop_message_renders_exactly() {
    let analysis = common::analyze_files(&common::shop_files());
    let program = Program::new(&analysis).expect("a checked program");
    let ad = |lines: &[&str]| format!("(광고) {SENDER}\n{}\n{OPTOUT}", lines.join("\n"));

    assert_eq!(
        body(&program, "cart_remind"),
        ad(&[
            "김민지님, 장바구니에 담아두신 무선 이어폰, 아직 고민 중이신가요?",
            "담으실 때 가격 12,900원 그대로, 지금 남은 수량은 3개예요.",
            "",
            "장바구니 바로가기: https://shop.example/cart",
        ])
    );
    assert_eq!(
        body(&program, "cart_free_shipping"),
        ad(&[
            "김민지님, 장바구니에 담아두신 무선 이어폰 기억하시나요?",
            "오늘 주문하시면 배송비 없이 무료배송으로 보내드려요.",
            "",
            "장바구니 바로가기: https://shop.example/cart",
        ])
    );
    assert_eq!(
        body(&program, "cart_coupon"),
        ad(&[
            "김민지님, 마지막으로 한 번 더 알려드려요.",
            "무선 이어폰, 지금 10% 할인 쿠폰으로 만나보세요.",
            "",
            "- 쿠폰 코드: CART10",
            "- 사용 기간: 오늘부터 3일",
            "- 장바구니 바로가기: https://shop.example/cart",
        ])
    );
    assert_eq!(
        body(&program, "birthday_greeting"),
        ad(&[
            "김민지님, 생일 진심으로 축하드려요!",
            "특별한 하루를 위해 생일 축하 쿠폰 10,000원을 준비했어요.",
            "",
            "- 사용 기간: 오늘부터 7일",
            "- 3만원 이상 구매 시 사용 가능",
            "- 쿠폰함 확인: https://shop.example/coupons",
            "",
            "행복한 생일 보내세요.",
        ])
    );
    assert_eq!(
        body(&program, "beauty_picks"),
        ad(&[
            "김민지님, 요즘 뷰티 상품을 눈여겨보고 계시네요.",
            "이번 주 뷰티 인기 상품을 모아 최대 30% 할인해 드려요.",
            "",
            "뷰티 기획전 보기: https://shop.example/beauty",
        ])
    );
    assert_eq!(
        body(&program, "coupon_expiry_notice"),
        ad(&[
            "김민지님, 받아두신 쿠폰을 잊지 않으셨죠?",
            "",
            "생일 축하 쿠폰",
            "- 할인 금액: 10,000원",
            "- 사용 기한: 11월 30일까지",
            "",
            "기한이 지나면 쿠폰이 사라져요.",
            "https://shop.example/coupons",
        ])
    );
    assert_eq!(
        body(&program, "onboarding_thanks"),
        ad(&[
            "김민지님, 캠프샵에서의 첫 주문 감사합니다!",
            "주문하신 상품(주문번호 A-1001, 결제 금액 45,000원)은 정성껏 준비해 보내드릴게요.",
            "",
            "첫 구매 고객님께 드리는 혜택",
            "- 두 번째 주문 5,000원 할인 쿠폰 (30일간 사용 가능)",
            "- 쿠폰함 확인: https://shop.example/coupons",
        ])
    );
    assert_eq!(
        body(&program, "onboarding_second_order"),
        ad(&[
            "김민지님, 첫 주문은 잘 받아보셨나요?",
            "앱에서 두 번째 주문을 하시면 5,000원 할인에 무료배송까지 챙겨드려요.",
            "쿠폰은 앱 쿠폰함에 담아 두었어요.",
        ])
    );
    assert_eq!(
        body(&program, "onboarding_app_install"),
        ad(&[
            "김민지님, 첫 주문은 잘 받아보셨나요?",
            "캠프샵 앱을 설치하시면 앱 전용 3,000원 할인 쿠폰을 바로 드려요.",
            "",
            "앱 설치하기: https://shop.example/app",
        ])
    );
    assert_eq!(
        body(&program, "price_drop_notice"),
        ad(&[
            "김민지님, 눈여겨보신 상품의 가격이 내려갔어요!",
            "",
            "무선 이어폰",
            "39,000원에서 32,000원으로 내려갔어요.",
            "",
            "할인가는 재고가 떨어지면 끝날 수 있어요.",
            "https://shop.example/cart",
        ])
    );
    assert_eq!(
        body(&program, "repurchase_nudge"),
        ad(&[
            "김민지님, 평소 주문하시던 때가 돌아왔어요.",
            "자주 쓰시던 상품, 떨어지기 전에 미리 채워두세요.",
            "",
            "- 최근 주문 상품 다시 담기: https://shop.example/orders",
            "- 재구매 고객 포인트 2배 적립 (3일간)",
        ])
    );
    assert_eq!(
        body(&program, "vip_points"),
        ad(&[
            "김민지님, 이번 주는 VIP 고객님께 포인트를 2배로 적립해 드려요.",
            "현재 보유 포인트: 12,345P",
            "",
            "일요일 자정까지 구매하시면 자동으로 2배 적립됩니다.",
            "https://shop.example/vip",
        ])
    );
    assert_eq!(
        body(&program, "winback_coupon"),
        ad(&[
            "김민지님, 오랜만이에요. 그동안 잘 지내셨나요?",
            "다시 찾아주시면 드리려고 15% 할인 쿠폰을 준비해 두었어요.",
            "",
            "- 쿠폰 코드: COMEBACK15",
            "- 사용 기간: 받으신 날부터 14일",
            "- 새로 들어온 상품 보기: https://shop.example/new",
            "",
            "보유 포인트 12,345P도 함께 쓰실 수 있어요.",
        ])
    );
    assert_eq!(body(&program, "year_end_open"), ad(&["연말 감사제 전 상품 최대 50%"]));

    // Parts beyond the body.
    let vip = render_shop(&program, "vip_coupon");
    assert_eq!(vip.subject.as_deref(), Some("VIP 전용 15% 쿠폰이 도착했어요"));
    assert_eq!(
        vip.body,
        ad(&[
            "김민지님, 이번 주 VIP 전용 15% 할인 쿠폰이 도착했어요.",
            "",
            "- 사용 기간: 받으신 날부터 7일",
            "- 최대 할인: 30,000원",
            "- 쿠폰함에서 바로 확인: https://shop.example/vip",
            "",
            "언제나 캠프샵을 찾아주셔서 감사합니다.",
        ])
    );
    let gift = render_shop(&program, "top_spender_gift");
    assert_eq!(gift.subject.as_deref(), Some("[캠프샵] 감사의 마음을 담아"));
    assert!(gift.body.starts_with("(광고) 캠프샵 02-1234-5678\n김민지님, 지난 1년 동안"));
    let restock = render_shop(&program, "restock_notice");
    assert_eq!(restock.template_code.as_deref(), Some("RESTOCK_01"));
    assert_eq!(restock.buttons.len(), 1);
    assert_eq!(restock.buttons[0].label, "상품 보러가기");
    assert_eq!(restock.buttons[0].url, "https://shop.example/restock");
    assert_eq!(
        restock.body,
        [
            "[캠프샵] 재입고 알림",
            "",
            "김민지님, 재입고 알림을 신청하신 상품이 입고되었습니다.",
            "",
            "- 상품명: 무선 이어폰",
            "- 판매가: 25,900원",
            "- 입고 수량: 1,200개",
            "",
            "수량이 한정되어 있어 조기 품절될 수 있습니다.",
            "",
            "※ 이 메시지는 고객님이 신청하신 재입고 알림에 따라 발송되었습니다.",
        ]
        .join("\n")
    );

    // A list, with the rows its query returns (the printed fields of each
    // item): the count, one line per row, then the rest of the text.
    let digest = compiled(&program, "cart_digest", "cart_digest_list");
    let spec = &digest.lists[0];
    let row = |name: &str, price: i64| {
        spec.row(spec.columns.iter().map(|c| match c.path.as_str() {
            "name" => Value::Text(name.into()),
            "price" => Value::Int(price),
            other => panic!("an unexpected column {other}"),
        }))
    };
    let mut values = digest.values(sample());
    values.set_list("carts", vec![row("무선 이어폰", 25_900), row("수분 크림", 14_600)]);
    let r = digest.render(&values, Some("Asia/Seoul")).expect("renders");
    assert_eq!(r.subject.as_deref(), Some("장바구니에 담아두신 상품"));
    assert_eq!(
        r.body,
        ad(&[
            "김민지님, 장바구니에 담아두신 상품 2개를 모아 보여드려요.",
            "- 무선 이어폰 25,900원",
            "- 수분 크림 14,600원",
            "",
            "장바구니 바로가기: https://shop.example/cart",
        ])
    );

    // Every message of the shop is covered above.
    assert_eq!(program.messages.len(), SENDERS.len());
    for name in program.messages.keys().filter(|n| **n != "cart_digest_list") {
        render_shop(&program, name);
    }
}

#[test]
fn placeholders_resolve_to_typed_sources() {
    let analysis = common::analyze_files(&common::shop_files());
    let program = Program::new(&analysis).expect("a checked program");
    let m = compiled(&program, "cart_reminder", "cart_remind");
    let body = m.body.as_ref().expect("a body");
    let values: Vec<&templating::Placeholder> = body
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::Value(v) => Some(v),
            Part::Text { .. } | Part::Each { .. } | Part::Count { .. } => None,
        })
        .collect();
    assert_eq!(values.len(), 6);
    assert_eq!(values[0].source, Source::Sender { text: SENDER.into() });
    assert_eq!(
        values[1].source,
        Source::Customer {
            column: "name".into(),
            hops: vec![]
        }
    );
    assert_eq!(values[1].ty, ValueType::Text);
    let Source::Trigger { event, prop, hops } = &values[2].source else {
        panic!("trigger.product.상품명 is a trigger property")
    };
    assert_eq!((event.as_str(), prop.as_str()), ("cart_add", "product"));
    assert_eq!(hops.len(), 1);
    assert_eq!(
        (
            hops[0].table.as_str(),
            hops[0].source.as_str(),
            hops[0].key.as_str(),
            hops[0].column.as_str()
        ),
        ("product", "products", "id", "name")
    );
    assert_eq!(values[3].ty, ValueType::Money);
    assert_eq!(values[3].filters, vec![templating::Filter::Won]);
    assert_eq!(values[4].ty, ValueType::Int);
    assert_eq!(
        values[5].source,
        Source::Optout {
            text: OPTOUT.into(),
            by_channel: Default::default()
        }
    );
    // Stored inputs, each once, named as the render query names its columns.
    let paths: Vec<String> = body.inputs.iter().map(Source::path).collect();
    assert_eq!(
        paths,
        ["customer.name", "trigger.product.name", "trigger.price", "trigger.product.stock"]
    );
    // The capacity hint covers the rendered text, so rendering never grows the string.
    let text = render(body, &m.values(sample()), None).expect("renders");
    assert!(body.capacity >= text.len(), "capacity {} < {}", body.capacity, text.len());
}

/// The shop's schema and policy plus a campaign printing dates, defaults
/// and optional fields.
const PROFILE: &str = r##"
campaign profile_digest {
  kind info
  channel email
  trigger every day at 10:00
  send profile
}

message profile {
  subject "#{고객명}님의 회원 정보"
  "가입: #{customer.joined_at}
  가입일: #{customer.joined_at | date("yyyy년 M월 d일 (E) a h시 mm분")}
    생일: #{customer.birthday | date("M월 d일") ?? "미등록"}
  이메일: #{customer.email ?? "없음"}
  적립금: #{customer.points | won} (#{customer.points}점)
  등급: #{customer.tier}"
}
"##;

fn profile_message() -> (CompiledMessage, CompiledTemplate) {
    let files = common::with_file(common::shop_files(), "campaigns/profile.camp", PROFILE);
    let analysis = common::analyze_files(&files);
    let program = Program::new(&analysis).expect("a checked program");
    let m = compiled(&program, "profile_digest", "profile");
    let body = m.body.clone().expect("a body");
    (m, body)
}

fn profile_values(joined: chrono::DateTime<Utc>, birthday: Value, email: Value) -> Vec<(&'static str, Value)> {
    vec![
        ("customer.name", Value::Text("이서준".into())),
        ("customer.joined_at", Value::Timestamp(joined)),
        ("customer.birthday", birthday),
        ("customer.email", email),
        ("customer.points", Value::Int(-1_500)),
        ("customer.tier", Value::Text("gold".into())),
    ]
}

#[test]
fn timestamps_print_in_the_customers_zone() {
    let (m, body) = profile_message();
    // 15:30 UTC on Sunday 22 November is 00:30 on Monday 23 November in Seoul.
    let joined = Utc.with_ymd_and_hms(2026, 11, 22, 15, 30, 0).single().expect("a real instant");
    let birthday = Value::Date(NaiveDate::from_ymd_opt(1990, 3, 7).expect("a real date"));
    let values = m.values(profile_values(joined, birthday, Value::Text("seojun@example.com".into())));

    let seoul = [
        "가입: 2026-11-23 00:30",
        "가입일: 2026년 11월 23일 (월) 오전 12시 30분",
        "  생일: 3월 7일",
        "이메일: seojun@example.com",
        "적립금: -1,500원 (-1500점)",
        "등급: gold",
    ]
    .join("\n");
    assert_eq!(render(&body, &values, Some("Asia/Seoul")).as_deref(), Ok(seoul.as_str()));
    let utc = [
        "가입: 2026-11-22 15:30",
        "가입일: 2026년 11월 22일 (일) 오후 3시 30분",
        "  생일: 3월 7일",
        "이메일: seojun@example.com",
        "적립금: -1,500원 (-1500점)",
        "등급: gold",
    ]
    .join("\n");
    assert_eq!(render(&body, &values, Some("UTC")).as_deref(), Ok(utc.as_str()));
    // New York is behind: still the 22nd, 10:30 in the morning.
    let ny = render(&body, &values, Some("America/New_York")).expect("renders");
    assert!(
        ny.starts_with("가입: 2026-11-22 10:30\n가입일: 2026년 11월 22일 (일) 오전 10시 30분\n"),
        "{ny}"
    );
    // No zone, or not a zone: the policy's (Asia/Seoul).
    assert_eq!(render(&body, &values, None).as_deref(), Ok(seoul.as_str()));
    assert_eq!(render(&body, &values, Some("Mars/Olympus")).as_deref(), Ok(seoul.as_str()));
    assert_eq!(render(&body, &values, Some("")).as_deref(), Ok(seoul.as_str()));
    assert_eq!(
        m.render(&values, Some("UTC")).map(|r| r.subject),
        Ok(Some("이서준님의 회원 정보".into()))
    );
}

#[test]
fn defaults_stand_in_for_null() {
    let (m, body) = profile_message();
    let joined = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().expect("a real instant");
    let values = m.values(profile_values(joined, Value::Null, Value::Null));
    let text = render(&body, &values, Some("Asia/Seoul")).expect("renders");
    assert_eq!(
        text,
        [
            "가입: 2026-01-05 09:00",
            "가입일: 2026년 1월 5일 (월) 오전 9시 00분",
            "  생일: 미등록",
            "이메일: 없음",
            "적립금: -1,500원 (-1500점)",
            "등급: gold",
        ]
        .join("\n")
    );
}

#[test]
fn render_errors_name_the_source() {
    let (m, body) = profile_message();
    let joined = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().expect("a real instant");
    // A null without a default.
    let mut row = profile_values(joined, Value::Null, Value::Null);
    row[0].1 = Value::Null;
    assert_eq!(
        m.render(&m.values(row), None),
        Err(RenderError::Null {
            source: "customer.name".into()
        })
    );
    // A value of the wrong type.
    let mut row = profile_values(joined, Value::Null, Value::Null);
    row[4].1 = Value::Text("many".into());
    assert_eq!(
        render(&body, &m.values(row), None),
        Err(RenderError::TypeMismatch {
            source: "customer.points".into(),
            expected: "a number",
            found: "text"
        })
    );
    // A source with no value at all.
    let row = profile_values(joined, Value::Null, Value::Null)
        .into_iter()
        .filter(|(p, _)| *p != "customer.tier");
    assert_eq!(
        render(&body, &m.values(row), None),
        Err(RenderError::Unbound {
            source: "customer.tier".into()
        })
    );
    // Values in any order, or built by hand, work the same.
    let mut reversed = Values::new();
    for (s, v) in m
        .values(profile_values(joined, Value::Null, Value::Null))
        .iter()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        reversed.insert(s.clone(), v.clone());
    }
    let forward = m.values(profile_values(joined, Value::Null, Value::Null));
    assert_eq!(render(&body, &reversed, None), render(&body, &forward, None));
}

#[test]
fn decimals_and_text_values_parse_from_storage() {
    assert_eq!(Value::parse(ValueType::Int, "12900"), Some(Value::Int(12_900)));
    assert_eq!(Value::parse(ValueType::Decimal, "1.50"), Some(Value::Decimal(1.5)));
    assert_eq!(
        Value::parse(ValueType::Timestamp, "2026-11-22 02:00:00"),
        Some(Value::Timestamp(
            Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).single().expect("real")
        ))
    );
    assert_eq!(
        Value::parse(ValueType::Timestamp, "2026-11-22 02:00:00.250").map(|v| matches!(v, Value::Timestamp(_))),
        Some(true)
    );
    assert_eq!(
        Value::parse(ValueType::Timestamp, "2026-11-22T11:00:00+09:00"),
        Some(Value::Timestamp(
            Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).single().expect("real")
        ))
    );
    assert_eq!(
        Value::parse(ValueType::Date, "2026-11-22"),
        NaiveDate::from_ymd_opt(2026, 11, 22).map(Value::Date)
    );
    assert_eq!(Value::parse(ValueType::Date, "22/11/2026"), None);
    assert_eq!(Value::parse(ValueType::Int, "many"), None);
}

#[test]
fn compiled_templates_round_trip_through_json() {
    let (m, _) = profile_message();
    let json = serde_json::to_string(&m).expect("serializes");
    let back: CompiledMessage = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, m);
    // Filters are written by name and pattern only; tokens are rebuilt.
    assert!(
        json.contains(r#"{"name":"date","pattern":"yyyy년 M월 d일 (E) a h시 mm분"}"#),
        "{json}"
    );
    assert!(json.contains(r#"{"name":"won"}"#));
}
