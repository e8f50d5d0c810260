//! Hover: fields, events, segments, messages (sizes per channel, ad law).

mod common;

use common::{find, shop, Client};

#[test]
fn field_shows_type_nullability_alias_and_doc() {
    let root = shop("hover-field");
    let mut c = Client::start(&root);
    let (uri, text) = c.open("campaigns/vip.camp", None);
    c.wait_diagnostics(&uri);
    let h = c.hover_text(&uri, find(&text, "marketing_consent", 3)).expect("hover");
    assert!(h.contains("customer.marketing_consent"), "{h}");
    assert!(h.contains("`consent`") && h.contains("never null"), "{h}");
    assert!(h.contains("광고성 정보 수신 동의"), "{h}");
    // Inside a message: `#{고객명}` is the `name` field through its alias.
    let h = c.hover_text(&uri, find(&text, "#{고객명}", 3)).expect("hover");
    assert!(
        h.contains("customer.name") && h.contains("text(max 20)") && h.contains("alias `고객명`"),
        "{h}"
    );
    // In the schema itself, a nullable field.
    let (schema, stext) = c.open("schema.camp", None);
    c.wait_diagnostics(&schema);
    let h = c.hover_text(&schema, find(&stext, "email: email?", 1)).expect("hover");
    assert!(h.contains("nullable"), "{h}");
    c.shutdown();
}

#[test]
fn event_and_segment() {
    let root = shop("hover-segment");
    let mut c = Client::start(&root);
    let (uri, text) = c.open("campaigns/vip.camp", None);
    c.wait_diagnostics(&uri);
    let h = c.hover_text(&uri, find(&text, "audience vip_customers", 12)).expect("hover");
    assert!(h.contains("segment") && h.contains("customer.tier in (gold, vip)"), "{h}");
    assert!(h.contains("골드/VIP 등급"), "doc comment: {h}");
    let h = c.hover_text(&uri, find(&text, "goal purchase", 7)).expect("hover");
    assert!(h.contains("event") && h.contains("`amount`: `money(max 100000000)`"), "{h}");
    c.shutdown();
}

#[test]
fn message_sizes_per_channel_and_ad_law() {
    let root = shop("hover-message");
    let mut c = Client::start(&root);
    let (uri, text) = c.open("campaigns/year_end.camp", None);
    c.wait_diagnostics(&uri);
    let h = c.hover_text(&uri, find(&text, "message year_end_open", 10)).expect("hover");
    let sms = regex_like_size(&h, "SMS ").expect("an SMS size");
    assert!(sms.1 == 90 && sms.0 <= 90, "{h}");
    assert!(h.contains("Brand message ") && h.contains("/1300 characters"), "{h}");
    assert!(h.contains("ad law") && h.contains("passes"), "{h}");
    // The same figure as the checker: shorten the limit by lengthening the text.
    let long = text.replace(
        "연말 감사제 전 상품 최대 50%",
        "연말 감사제 전 상품 최대 50% 할인, 오늘 하루만 진행하는 특별 행사입니다",
    );
    c.change(&uri, 2, None, &long);
    let diags = c.wait_diagnostics(&uri);
    let e0401 = diags.iter().find(|d| d.message.contains("on sms")).expect("E0401 on sms");
    let h = c.hover_text(&uri, find(&long, "message year_end_open", 10)).expect("hover");
    let (worst, _) = regex_like_size(&h, "SMS ").expect("size");
    assert!(
        e0401.message.contains(&format!("can reach {worst} bytes")),
        "{} vs {h}",
        e0401.message
    );
    assert!(h.contains("too long"), "{h}");
    c.shutdown();
}

/// `SMS 84/90` -> (84, 90).
fn regex_like_size(text: &str, label: &str) -> Option<(usize, usize)> {
    let at = text.find(label)? + label.len();
    let rest = &text[at..];
    let slash = rest.find('/')?;
    let worst = rest[..slash].trim().parse().ok()?;
    let limit: String = rest[slash + 1..].chars().take_while(char::is_ascii_digit).collect();
    Some((worst, limit.parse().ok()?))
}
