//! Completion in half-typed text: what each place of the language offers.

mod common;

use common::{find, shop, Client};

fn has(labels: &[String], want: &[&str]) {
    for w in want {
        assert!(labels.iter().any(|l| l == w), "`{w}` missing from {labels:?}");
    }
}

fn lacks(labels: &[String], unwanted: &[&str]) {
    for w in unwanted {
        assert!(!labels.iter().any(|l| l == w), "`{w}` should not be in {labels:?}");
    }
}

/// Opens `text` as a new campaign file and completes where `@@` is.
fn complete(c: &mut Client, name: &str, text: &str) -> Vec<String> {
    let at = find(text, "@@", 0);
    let text = text.replacen("@@", "", 1);
    let (uri, _) = c.open(&format!("campaigns/{name}.camp"), Some(&text));
    c.wait_diagnostics(&uri);
    c.completion_labels(&uri, at)
}

#[test]
fn fields_and_korean_aliases_after_customer_dot() {
    let root = shop("complete-fields");
    let mut c = Client::start(&root);
    let labels = complete(&mut c, "a", "segment s = customer.@@\n");
    has(&labels, &["tier", "marketing_consent", "name", "고객명", "points", "birthday"]);
    lacks(&labels, &["cart_add", "and"]);
    // Half a word typed, and through a `ref` field of an event.
    let labels = complete(&mut c, "b", "segment s = customer.ti@@\n");
    has(&labels, &["tier"]);
    c.shutdown();
}

#[test]
fn events_properties_segments_messages_channels() {
    let root = shop("complete-names");
    let mut c = Client::start(&root);
    let labels = complete(&mut c, "a", "segment s = did @@\n");
    has(&labels, &["cart_add", "purchase", "restock", "page_view"]);
    let labels = complete(&mut c, "b", "segment s = count(@@\n");
    has(&labels, &["purchase"]);
    let labels = complete(&mut c, "c", "segment s = did cart_add where @@\n");
    has(&labels, &["product", "price"]);
    lacks(&labels, &["order_id"]);
    let labels = complete(&mut c, "d", "campaign c {\n  trigger on @@\n}\n");
    has(&labels, &["cart_add", "restock"]);
    let campaign = "campaign c {\n  kind ad\n  trigger on restock\n  audience trigger.@@\n}\n";
    let labels = complete(&mut c, "e", campaign);
    has(&labels, &["product", "quantity"]);
    lacks(&labels, &["price"]);
    let labels = complete(
        &mut c,
        "f",
        "campaign c {\n  trigger on cart_add\n  audience trigger.product.@@\n}\n",
    );
    has(&labels, &["stock", "수량", "상품명"]);
    let labels = complete(&mut c, "g", "campaign c {\n  audience customer.marketing_consent and @@\n}\n");
    has(&labels, &["vip_customers", "churned_customers", "customer", "did", "not"]);
    let labels = complete(&mut c, "h", "campaign c {\n  send @@\n}\n");
    has(&labels, &["cart_remind", "winback_coupon", "year_end_open"]);
    let labels = complete(&mut c, "i", "campaign c {\n  channel friendtalk fallback @@\n}\n");
    has(&labels, &["sms", "lms", "alimtalk", "friendtalk"]);
    let labels = complete(&mut c, "j", "segment s = customer.tier == @@\n");
    has(&labels, &["bronze", "silver", "gold", "vip"]);
    c.shutdown();
}

#[test]
fn keywords_in_context() {
    let root = shop("complete-keywords");
    let mut c = Client::start(&root);
    let labels = complete(&mut c, "a", "campaign c {\n  kind ad\n  @@\n}\n");
    has(&labels, &["channel", "trigger", "audience", "send", "wait", "goal", "holdout"]);
    lacks(&labels, &["schema", "subject"]);
    let labels = complete(&mut c, "b", "message m {\n  @@\n}\n");
    has(&labels, &["subject", "button", "template"]);
    let labels = complete(&mut c, "c", "segment s = x\n@@");
    has(&labels, &["segment", "message", "campaign", "schema", "policy"]);
    let labels = complete(&mut c, "d", "campaign c {\n  kind @@\n}\n");
    has(&labels, &["ad", "info"]);
    let labels = complete(&mut c, "f", "campaign c {\n  kind ad\n  @@\n}\n");
    has(&labels, &["reentry"]);
    let labels = complete(&mut c, "g", "campaign c {\n  reentry @@\n}\n");
    has(&labels, &["never", "after", "restart", "always"]);
    let labels = complete(&mut c, "h", "campaign c {\n  send cart_remind expires @@\n}\n");
    has(&labels, &["at", "after"]);
    // In a comment or plain text: nothing.
    let labels = complete(&mut c, "e", "// customer.@@\nsegment s = x\n");
    assert!(labels.is_empty(), "{labels:?}");
    c.shutdown();
}

#[test]
fn placeholders_variables_and_filters() {
    let root = shop("complete-placeholders");
    let mut c = Client::start(&root);
    let labels = complete(&mut c, "a", "message m {\n  \"안녕 #{@@\n}\n");
    has(&labels, &["고객명", "customer", "sender", "optout"]);
    let labels = complete(&mut c, "b", "message m {\n  \"#{customer.@@}\"\n}\n");
    has(&labels, &["points", "고객명"]);
    let labels = complete(&mut c, "c", "message m {\n  \"#{customer.points | @@}\"\n}\n");
    has(&labels, &["won", "number", "date"]);
    // A message sent by an event-triggered campaign: `trigger.` offers the event's properties.
    let text = "campaign c {\n  trigger on price_drop\n  send drop_test\n}\n\nmessage drop_test {\n  \"#{trigger.@@}\"\n}\n";
    let labels = complete(&mut c, "d", text);
    has(&labels, &["old_price", "new_price", "product"]);
    c.shutdown();
}
