//! Machine-applicable fixes: applying a diagnostic's `fix` to the file makes
//! that diagnostic go away without adding a new error; and the facts the
//! checker measured (sizes per channel, ad-law checks) match its judgement.

mod common;

use camp_compiler::channel::{Channel, Unit};
use camp_compiler::{analyze, codes, Analysis, Input, Workspace};
use common::{shop_files, with_file};

const PATH: &str = "campaigns/test.camp";

fn analyze_all(files: &[(String, String)]) -> Analysis {
    let mut ws = Workspace::new();
    for (path, text) in files {
        ws.add(path.clone(), Input::Text(text.clone()));
    }
    analyze(&ws)
}

fn errors_in(analysis: &Analysis, files: &[(String, String)]) -> Vec<String> {
    analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && files[d.primary.file.0].0 == PATH)
        .map(|d| format!("{} {}", d.code.id, d.message))
        .collect()
}

/// Checks `text` beside the shop, expects an error with `code` and a fix
/// (others may follow from it); applies the fix and expects no error at
/// all. Returns the fixed text.
fn fix_removes(text: &str, code: &str, title_part: &str) -> String {
    let files = with_file(shop_files(), PATH, text);
    let analysis = analyze_all(&files);
    let errors = errors_in(&analysis, &files);
    let d = analysis
        .diagnostics
        .iter()
        .find(|d| d.code.id == code)
        .unwrap_or_else(|| panic!("no {code}: {errors:?}"));
    assert!(errors.len() <= 2, "{errors:?}");
    let fix = d.fix.as_ref().unwrap_or_else(|| panic!("{code} has no fix"));
    assert!(fix.title.contains(title_part), "{}", fix.title);
    let mut fixed = text.to_string();
    fixed.replace_range(fix.span.start..fix.span.end, &fix.replacement);
    let files = with_file(shop_files(), PATH, &fixed);
    let after = analyze_all(&files);
    assert!(errors_in(&after, &files).is_empty(), "{:?}\n{fixed}", errors_in(&after, &files));
    fixed
}

fn campaign(audience: &str, message: &str) -> String {
    format!(
        "campaign t {{\n  kind ad\n  channel lms\n  trigger on cart_add\n  audience {audience}\n  send test_message\n}}\n\nmessage test_message {{\n  {message}\n}}\n"
    )
}

const OK_BODY: &str = "\"(광고) #{sender}\n  #{고객명}님 안녕하세요\n  #{optout}\"";

#[test]
fn did_you_mean_names() {
    let fixed = fix_removes(&campaign("customer.marketing_consnet", OK_BODY), "E0101", "marketing_consent");
    assert!(fixed.contains("customer.marketing_consent\n"));
    fix_removes(
        &campaign("customer.marketing_consent and did cart_ad", OK_BODY),
        "E0102",
        "cart_add",
    );
    fix_removes(
        &campaign("customer.marketing_consent and vip_customer", OK_BODY),
        "E0104",
        "vip_customers",
    );
    let body = "\"(광고) #{sender}\n  #{trigger.price | wn}\n  #{optout}\"";
    fix_removes(&campaign("customer.marketing_consent", body), "E0108", "won");
    let body = "\"(광고) #{sender}\n  #{고객멍}님\n  #{optout}\"";
    fix_removes(&campaign("customer.marketing_consent", body), "E0109", "고객명");
    let text = campaign("customer.marketing_consent", OK_BODY).replace("send test_message", "send test_mesage");
    fix_removes(&text, "E0105", "test_message");
    let text = campaign("customer.marketing_consent", OK_BODY).replace("channel lms", "channel lmss");
    fix_removes(&text, "E0106", "lms");
}

#[test]
fn customer_prefix_and_trigger_prefix() {
    fix_removes(&campaign("marketing_consent", OK_BODY), "E0104", "customer.marketing_consent");
    let body = "\"(광고) #{sender}\n  #{price | won}\n  #{optout}\"";
    fix_removes(&campaign("customer.marketing_consent", body), "E0109", "trigger.price");
}

#[test]
fn ad_prefix_is_inserted_or_corrected() {
    let body = "\"#{sender}\n  #{고객명}님 안녕하세요\n  #{optout}\"";
    let fixed = fix_removes(&campaign("customer.marketing_consent", body), "E0410", "(광고)");
    assert!(fixed.contains("\"(광고) #{sender}"), "{fixed}");
    let body = "\"[광고] #{sender}\n  #{고객명}님\n  #{optout}\"";
    let fixed = fix_removes(&campaign("customer.marketing_consent", body), "E0410", "replace `[광고]`");
    assert!(fixed.contains("\"(광고) #{sender}"), "{fixed}");
    // The text starting on the line after the quote.
    let body = "\"\n    #{sender}\n    #{고객명}님\n    #{optout}\n  \"";
    fix_removes(&campaign("customer.marketing_consent", body), "E0410", "(광고)");
}

#[test]
fn optout_line_is_added() {
    for body in [
        "\"(광고) #{sender}\n  #{고객명}님 안녕하세요\"",
        "\"(광고) #{sender} #{고객명}님\"",
        "\"\n    (광고) #{sender}\n    #{고객명}님\n  \"",
    ] {
        let fixed = fix_removes(&campaign("customer.marketing_consent", body), "E0412", "#{optout}");
        assert!(fixed.contains("#{optout}"), "{fixed}");
    }
}

#[test]
fn nullable_placeholder_gets_a_default() {
    let body = "\"(광고) #{sender}\n  #{customer.email}로 보냈어요\n  #{optout}\"";
    let fixed = fix_removes(&campaign("customer.marketing_consent", body), "E0206", "??");
    assert!(fixed.contains("#{customer.email ?? \"-\"}"), "{fixed}");
}

#[test]
fn facts_follow_the_checks() {
    let analysis = common::analyze_files(&shop_files());
    let sms: Vec<_> = analysis
        .facts
        .sizes_of("year_end_open")
        .filter(|s| s.channel == Channel::Sms)
        .collect();
    assert_eq!(sms.len(), 1, "{:?}", analysis.facts.sizes);
    assert_eq!(sms[0].campaign, "year_end_sale");
    assert_eq!((sms[0].limit, sms[0].unit), (Some(90), Unit::Bytes));
    assert!(sms[0].fits() && sms[0].worst > 40, "{:?}", sms[0]);
    let ads: Vec<_> = analysis.facts.ads_of("cart_remind").collect();
    assert!(!ads.is_empty() && ads.iter().all(|a| a.passes()), "{ads:?}");
    assert!(
        analysis.facts.ads_of("restock_notice").next().is_none(),
        "info campaigns have no ad check"
    );

    // Over the limit: the size says so, and so does E0401.
    let long = "\"(광고) #{sender}\n  #{고객명}님, 아주 긴 문구가 이어집니다. 아주 긴 문구가 이어집니다.\n  #{optout}\"";
    let text = campaign("customer.marketing_consent", long).replace("channel lms", "channel sms");
    let files = with_file(shop_files(), PATH, &text);
    let analysis = analyze_all(&files);
    let size = analysis.facts.sizes_of("test_message").next().expect("a size");
    assert!(!size.fits());
    assert!(analysis
        .diagnostics
        .iter()
        .any(|d| d.code == codes::TOO_LONG && d.message.contains(&size.worst.to_string())));
}
