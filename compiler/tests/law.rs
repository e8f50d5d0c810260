//! The 2026 channel law in plans and rendering: the built-in cap of one
//! brand message per recipient per day, the channels' own opt-out texts,
//! and buttons printed in the text on channels without buttons.

mod common;

use camp_compiler::plan::{self, Cap, Origin, Scope};
use camp_compiler::program::Program;
use camp_compiler::templating::{compile_named, Context, Values};

const SCHEMA: &str = include_str!("../../tests/fixture/schema.camp");

const POLICY: &str = r#"
policy {
  timezone "Asia/Seoul"
  sender "캠프샵 02-1234-5678"
  optout "무료수신거부 080-123-4567"
  optout "채널 차단으로 수신거부" for channel brand
  quiet hours 21:00..08:00 for kind ad unless customer.night_consent
}
"#;

const CAMPAIGNS: &str = r#"
campaign brand_news {
  kind ad
  channel brand fallback lms after 1h
  trigger every monday at 11:00
  audience customer.marketing_consent
  send news
}

campaign lms_news {
  kind ad
  channel lms
  trigger every monday at 11:00
  audience customer.marketing_consent
  send news
}

message news {
  "(광고) #{sender}
  이번 주 새 상품을 모았어요.
  #{optout}"
  button "보러 가기" -> "https://shop.example/new"
}
"#;

fn files() -> Vec<(String, String)> {
    vec![
        ("schema.camp".into(), SCHEMA.into()),
        ("policy.camp".into(), POLICY.into()),
        ("news.camp".into(), CAMPAIGNS.into()),
    ]
}

#[test]
fn brand_campaigns_carry_the_daily_brand_cap() {
    let analysis = common::analyze_files(&files());
    assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
    let program = Program::new(&analysis).expect("checked");
    let brand = plan::build(&program, "brand_news").expect("plan");
    let law = Cap {
        count: 1,
        seconds: 86_400,
        origin: Origin::Law,
        scope: Scope::Channel { channel: "brand".into() },
    };
    assert!(brand.caps.contains(&law), "{:?}", brand.caps);
    let lms = plan::build(&program, "lms_news").expect("plan");
    assert!(lms.caps.iter().all(|c| c.origin != Origin::Law), "{:?}", lms.caps);
    // The cap survives the JSON the runtime reads.
    let back = plan::Plan::from_json(&brand.to_json()).expect("json");
    assert!(back.caps.contains(&law));
}

#[test]
fn each_channel_renders_its_own_optout_and_buttons_become_lines_without_buttons() {
    let analysis = common::analyze_files(&files());
    let program = Program::new(&analysis).expect("checked");
    let cx = Context::new(&program);
    let message = compile_named(&cx, "news").expect("compiles");
    let values = Values::new();

    let on_brand = message.render_on("brand", &values, None).expect("renders");
    assert_eq!(
        on_brand.body,
        "(광고) 캠프샵 02-1234-5678\n이번 주 새 상품을 모았어요.\n채널 차단으로 수신거부"
    );
    assert_eq!(on_brand.buttons.len(), 1, "brand takes buttons");

    let on_lms = message.render_on("lms", &values, None).expect("renders");
    assert_eq!(
        on_lms.body,
        "(광고) 캠프샵 02-1234-5678\n이번 주 새 상품을 모았어요.\n무료수신거부 080-123-4567\n보러 가기: https://shop.example/new"
    );
    assert!(on_lms.buttons.is_empty(), "the button is in the text");

    // Plain `render` is the message as written.
    let plain = message.render(&values, None).expect("renders");
    assert!(plain.body.ends_with("무료수신거부 080-123-4567"));
}

#[test]
fn a_channel_optout_that_overflows_is_counted_on_that_channel() {
    // The brand wide format takes 76 units: the policy's opt-out fits, the
    // brand's own longer one does not.
    let policy = POLICY.replace("채널 차단으로 수신거부", &"가".repeat(70));
    let wide = r#"
campaign wide_news {
  kind info
  channel brand
  trigger on purchase
  send wide_note
}

message wide_note {
  format wide
  image "https://shop.example/w.png"
  "새 상품 안내 #{optout}"
}
"#;
    let files = vec![
        ("schema.camp".to_string(), SCHEMA.to_string()),
        ("policy.camp".to_string(), policy),
        ("wide.camp".to_string(), wide.to_string()),
    ];
    let analysis = analyze_any(&files);
    let codes: Vec<&str> = analysis.diagnostics.iter().map(|d| d.code.id).collect();
    assert_eq!(codes, ["E0401"], "{:?}", analysis.diagnostics);
    let without = vec![files[0].clone(), ("policy.camp".to_string(), POLICY.to_string()), files[2].clone()];
    let analysis = analyze_any(&without);
    assert!(analysis.diagnostics.is_empty(), "{:?}", analysis.diagnostics);
}

fn analyze_any(files: &[(String, String)]) -> camp_compiler::Analysis {
    let mut ws = camp_compiler::Workspace::new();
    for (path, text) in files {
        ws.add(path.clone(), camp_compiler::Input::Text(text.clone()));
    }
    camp_compiler::analyze(&ws)
}
