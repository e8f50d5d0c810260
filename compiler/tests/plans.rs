//! Plans of the shop's campaigns: JSON round trips, the step machine, the
//! rules that apply, the content hash, and one snapshot.

mod common;

use camp_compiler::plan::{self, Cap, Every, Op, Origin, Plan, PlanError, QuietMode, Scope, Trigger, Weekday, FORMAT_VERSION};
use camp_compiler::program::Program;

fn shop_plans(files: &[(String, String)]) -> Vec<Plan> {
    let analysis = common::analyze_files(files);
    let program = Program::new(&analysis).expect("a checked program");
    program
        .campaigns
        .keys()
        .map(|name| plan::build(&program, name).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

fn shop_plan(files: &[(String, String)], name: &str) -> Plan {
    let analysis = common::analyze_files(files);
    let program = Program::new(&analysis).expect("a checked program");
    plan::build(&program, name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_shop_plan_round_trips_through_json() {
    let plans = shop_plans(&common::shop_files());
    assert_eq!(plans.len(), 13);
    for plan in &plans {
        let json = plan.to_json();
        let back: Plan = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: {e}", plan.name));
        assert_eq!(&back, plan, "{} changes through JSON", plan.name);
        assert_eq!(Plan::from_json(&json).as_ref(), Ok(plan));
        // Compact JSON reads back the same too.
        let compact = serde_json::to_string(plan).expect("serializes");
        assert_eq!(Plan::from_json(&compact).as_ref(), Ok(plan));
        assert!(plan.verify());
        assert_eq!(plan.hash.len(), 64);
        assert_eq!(plan.format_version, FORMAT_VERSION);
    }
}

#[test]
fn every_shop_plan_is_a_well_formed_machine() {
    for plan in shop_plans(&common::shop_files()) {
        let name = &plan.name;
        let n = plan.steps.len();
        for (i, step) in plan.steps.iter().enumerate() {
            assert_eq!(step.id, i, "{name}: step ids are positions");
            for next in step.op.successors() {
                assert!(next < n, "{name}: step {i} jumps to {next} of {n}");
            }
            match &step.op {
                Op::Branch { condition, .. } => {
                    assert!(*condition < plan.sql.sqlite.branches.len(), "{name}: branch {condition}");
                    assert!(*condition < plan.sql.postgres.branches.len(), "{name}: branch {condition}");
                }
                Op::Send { message, .. } => assert!(plan.messages.contains_key(message), "{name}: {message}"),
                _ => {}
            }
        }
        assert!(plan.reachable().iter().all(|r| *r), "{name}: every step is reachable");
        assert_eq!(plan.steps.iter().filter(|s| s.op == Op::End).count(), 1, "{name}: one end");
        let branches = plan.steps.iter().filter(|s| matches!(s.op, Op::Branch { .. })).count();
        assert_eq!(branches, plan.sql.sqlite.branches.len(), "{name}: one query per branch");
        // The render query selects every value the messages print, under
        // the name the template engine looks for.
        let columns: Vec<&str> = plan.sql.sqlite.columns.iter().map(|c| c.path.as_str()).collect();
        for message in plan.messages.values() {
            for input in message.inputs() {
                assert!(columns.contains(&input.path().as_str()), "{name}: {input} is not in {columns:?}");
            }
        }
    }
}

#[test]
fn cart_reminder_plan_snapshot() {
    let plan = shop_plan(&common::shop_files(), "cart_reminder");
    insta::assert_json_snapshot!("cart_reminder", plan, { ".hash" => "[hash]" });
}

#[test]
fn cart_reminder_collects_the_rules_that_apply() {
    let plan = shop_plan(&common::shop_files(), "cart_reminder");
    assert_eq!(plan.channels.primary, "brand");
    assert_eq!(plan.channels.fallbacks.len(), 1);
    assert_eq!(
        (plan.channels.fallbacks[0].channel.as_str(), plan.channels.fallbacks[0].after),
        ("lms", 7_200)
    );
    let Trigger::On { event, filter } = &plan.trigger else {
        panic!("an event trigger")
    };
    assert_eq!(event, "cart_add");
    let filter = filter.as_ref().expect("`where price >= 10_000` is lowered");
    assert!(filter.sqlite.sql.contains(">="), "{}", filter.sqlite.sql);
    let ops: Vec<&Op> = plan.steps.iter().map(|s| &s.op).collect();
    assert!(matches!(ops[0], Op::Wait { seconds: 86_400, next: 1 }));
    assert!(matches!(ops[1], Op::Send { message, next: 2, .. } if message == "cart_remind"));
    assert!(matches!(ops[5], Op::Send { message, next: 6, .. } if message == "cart_coupon"));
    assert_eq!(ops[6], &Op::End);
    assert_eq!(plan.entry, Some(0));

    // The campaign's quiet hours, then the policy's ad rule with its `unless`.
    assert_eq!(plan.quiet_hours.len(), 2);
    let own = &plan.quiet_hours[0];
    assert_eq!(
        (own.from, own.to, own.mode, own.origin),
        (1_260, 480, QuietMode::Defer, Origin::Campaign)
    );
    assert!(own.unless.is_none());
    let policy = &plan.quiet_hours[1];
    assert_eq!((policy.origin, &policy.scope), (Origin::Policy, &Scope::Kind { kind: "ad".into() }));
    let unless = policy.unless.as_ref().expect("unless customer.night_consent");
    assert!(unless.sqlite.sql.contains("night_consent"));
    assert!(unless.postgres.sql.contains("night_consent"));

    // Its own cap; the policy's ad caps; the lms cap (lms is its fallback),
    // but not the sms one; the built-in brand cap.
    let cap = |count, seconds, origin, scope| Cap {
        count,
        seconds,
        origin,
        scope,
    };
    let ad = || Scope::Kind { kind: "ad".into() };
    assert_eq!(
        plan.caps,
        vec![
            cap(1, 86_400, Origin::Campaign, Scope::All),
            cap(2, 86_400, Origin::Policy, ad()),
            cap(5, 604_800, Origin::Policy, ad()),
            cap(3, 604_800, Origin::Policy, Scope::Channel { channel: "lms".into() }),
            // The law's: one brand message per recipient per day.
            cap(1, 86_400, Origin::Law, Scope::Channel { channel: "brand".into() }),
        ]
    );
    assert_eq!(plan.priority, 10);
    assert_eq!(plan.experiment.holdout, Some(10.0));
    assert!(plan.experiment.variants.is_empty());
    let goal = plan.experiment.goal.as_ref().expect("a goal");
    assert_eq!((goal.event.as_str(), goal.within), ("purchase", 604_800));
    assert_eq!(
        plan.messages.keys().map(String::as_str).collect::<Vec<_>>(),
        ["cart_coupon", "cart_free_shipping", "cart_remind"]
    );
}

#[test]
fn triggers_schedules_and_variants() {
    let files = common::shop_files();
    let plans = shop_plans(&files);
    let by_name = |n: &str| plans.iter().find(|p| p.name == n).expect("a plan");

    // 12:00 in Seoul (UTC+9) is 03:00 UTC.
    let year_end = by_name("year_end_sale");
    assert_eq!(
        year_end.trigger,
        Trigger::At {
            at: "2026-12-04T03:00:00Z".into(),
            unix: 1_796_353_200,
        }
    );
    // Its SMS fallback brings in the policy's SMS cap.
    assert!(year_end
        .caps
        .iter()
        .any(|c| c.scope == Scope::Channel { channel: "sms".into() } && c.count == 1));

    assert_eq!(
        by_name("winback").trigger,
        Trigger::Every {
            every: Every::DayOfWeek { day: Weekday::Monday },
            at: 600
        }
    );
    assert_eq!(
        by_name("vip_weekly").trigger,
        Trigger::Every {
            every: Every::DayOfWeek { day: Weekday::Thursday },
            at: 660
        }
    );
    assert_eq!(
        by_name("top_spender_thanks").trigger,
        Trigger::Every {
            every: Every::DayOfMonth { day: 1 },
            at: 600
        }
    );
    assert_eq!(
        by_name("repurchase_reminder").trigger,
        Trigger::Every {
            every: Every::Day,
            at: 660
        }
    );

    // Variants: each starts at its own step; no common entry.
    let vip = by_name("vip_weekly");
    assert_eq!(vip.entry, None);
    let variants: Vec<(&str, f64, usize)> = vip
        .experiment
        .variants
        .iter()
        .map(|v| (v.name.as_str(), v.percent, v.entry))
        .collect();
    assert_eq!(variants, [("a", 50.0, 0), ("b", 50.0, 1)]);
    assert!(matches!(&vip.steps[0].op, Op::Send { message, next: 2, .. } if message == "vip_coupon"));
    assert!(matches!(&vip.steps[1].op, Op::Send { message, next: 2, .. } if message == "vip_points"));
    assert_eq!(vip.steps[2].op, Op::End);
    assert_eq!(vip.experiment.holdout, Some(10.0));

    // An informational campaign: no ad rules; its window.
    let restock = by_name("restock_alert");
    assert!(restock.quiet_hours.is_empty());
    assert!(restock.caps.is_empty());
    assert_eq!(restock.window, Some(plan::Window { from: 480, to: 1_260 }));
    assert_eq!(restock.kind, plan::Kind::Info);

    // `if .. else ..`: the branch and where each side goes.
    let onboarding = by_name("first_purchase_onboarding");
    let ops: Vec<&Op> = onboarding.steps.iter().map(|s| &s.op).collect();
    assert!(matches!(ops[1], Op::WaitUntil { minute: 600, next: 2 }));
    assert_eq!(
        ops[4],
        &Op::Branch {
            condition: 0,
            then: 5,
            otherwise: 6
        }
    );
    assert!(matches!(ops[5], Op::Send { next: 7, .. }));
    assert!(matches!(ops[6], Op::Send { next: 7, .. }));
    assert_eq!(ops[7], &Op::End);
}

const JOURNEY: &str = r##"
campaign journey {
  kind info
  channel email
  trigger on cart_add
  wait 1h
  if customer.tier == vip {
    send journey_a
  } else if customer.points > 100 {
    send journey_b
    exit
  }
  send journey_c via sms
  wait until 9:30
  if did purchase since trigger {
    if customer.points > 5000 {
      send journey_a
    }
  }
}

message journey_a { "A #{고객명}" }
message journey_b { "B" }
message journey_c { "C" }
"##;

#[test]
fn nested_branches_and_exits_become_jumps() {
    let files = common::with_file(common::shop_files(), "campaigns/journey.camp", JOURNEY);
    let plan = shop_plan(&files, "journey");
    let ops: Vec<Op> = plan.steps.iter().map(|s| s.op.clone()).collect();
    let email = plan.channels.clone();
    let sms = plan::Channels {
        primary: "sms".into(),
        fallbacks: vec![],
    };
    let send = |m: &str, channels: &plan::Channels, next| Op::Send {
        message: m.into(),
        channels: channels.clone(),
        expires: None,
        next,
    };
    assert_eq!(
        ops,
        vec![
            Op::Wait { seconds: 3_600, next: 1 },
            Op::Branch {
                condition: 0,
                then: 2,
                otherwise: 3
            },
            send("journey_a", &email, 6),
            Op::Branch {
                condition: 1,
                then: 4,
                otherwise: 6
            },
            send("journey_b", &email, 5),
            Op::Exit,
            send("journey_c", &sms, 7),
            Op::WaitUntil { minute: 570, next: 8 },
            Op::Branch {
                condition: 2,
                then: 9,
                otherwise: 11
            },
            Op::Branch {
                condition: 3,
                then: 10,
                otherwise: 11
            },
            send("journey_a", &email, 11),
            Op::End,
        ]
    );
    // Four `if`s, four branch queries, in the same order.
    assert_eq!(plan.sql.sqlite.branches.len(), 4);
    assert!(plan.sql.sqlite.branches[1].sql.contains("points"));
    assert!(plan.sql.sqlite.branches[2].sql.contains("orders"));
    // `via sms` brings in the policy's SMS cap; nothing for kind ad.
    assert_eq!(
        plan.caps,
        vec![Cap {
            count: 1,
            seconds: 86_400,
            origin: Origin::Policy,
            scope: Scope::Channel { channel: "sms".into() }
        }]
    );
    assert!(plan.reachable().iter().all(|r| *r));
}

#[test]
fn the_hash_follows_the_campaign_and_nothing_else() {
    let files = common::shop_files();
    let cart = files
        .iter()
        .find(|(p, _)| p == "campaigns/cart.camp")
        .map(|(_, t)| t.clone())
        .expect("cart.camp");
    let vip = files
        .iter()
        .find(|(p, _)| p == "campaigns/vip.camp")
        .map(|(_, t)| t.clone())
        .expect("vip.camp");
    let base = shop_plan(&files, "cart_reminder");
    let hash = |files: &[(String, String)]| shop_plan(files, "cart_reminder").hash;

    // Building again gives the same plan.
    assert_eq!(shop_plan(&files, "cart_reminder"), base);
    // Comments, blank lines and indentation are not behaviour.
    let reformatted = format!("// 주석 한 줄\n\n{}", cart.replace("  wait 24h\n", "    wait   24h // 하루\n\n"));
    assert_ne!(reformatted, cart);
    assert_eq!(
        hash(&common::with_file(files.clone(), "campaigns/cart.camp", &reformatted)),
        base.hash
    );
    // Another campaign's change leaves this one alone (and changes its own).
    let vip_changed = vip
        .replace("variant a 50%", "variant a 40%")
        .replace("variant b 50%", "variant b 60%");
    assert_ne!(vip_changed, vip);
    let other = common::with_file(files.clone(), "campaigns/vip.camp", &vip_changed);
    assert_eq!(hash(&other), base.hash);
    assert_ne!(shop_plan(&other, "vip_weekly").hash, shop_plan(&files, "vip_weekly").hash);

    // Any change of the campaign changes it: a wait, a setting, its copy.
    for (from, to) in [
        ("  wait 24h\n  send cart_remind", "  wait 23h\n  send cart_remind"),
        ("priority 10", "priority 11"),
        ("holdout 10%", "holdout 15%"),
        ("where price >= 10_000", "where price >= 20_000"),
        ("아직 고민 중이신가요?", "아직 고민하고 계신가요?"),
    ] {
        let changed = cart.replace(from, to);
        assert_ne!(changed, cart, "`{from}` is in cart.camp");
        let h = hash(&common::with_file(files.clone(), "campaigns/cart.camp", &changed));
        assert_ne!(h, base.hash, "changing `{from}` to `{to}` must change the hash");
    }
    // So does the policy text it prints.
    let policy = files
        .iter()
        .find(|(p, _)| p == "policy.camp")
        .map(|(_, t)| t.clone())
        .expect("policy.camp");
    let changed = policy.replace("080-123-4567", "080-765-4321");
    assert_ne!(hash(&common::with_file(files.clone(), "policy.camp", &changed)), base.hash);
}

#[test]
fn reading_refuses_other_versions_and_altered_plans() {
    let plan = shop_plan(&common::shop_files(), "winback");
    let mut value: serde_json::Value = serde_json::from_str(&plan.to_json()).expect("JSON");
    value["format_version"] = serde_json::json!(2);
    assert_eq!(Plan::from_json(&value.to_string()), Err(PlanError::FormatVersion { found: 2 }));
    let mut value: serde_json::Value = serde_json::from_str(&plan.to_json()).expect("JSON");
    value["priority"] = serde_json::json!(99);
    assert_eq!(Plan::from_json(&value.to_string()), Err(PlanError::HashMismatch));
    assert!(matches!(Plan::from_json("{\"format_version\": 1}"), Err(PlanError::Json(_))));
    assert!(matches!(Plan::from_json("not json"), Err(PlanError::Json(_))));
}

#[test]
fn unknown_campaign_is_an_error() {
    let analysis = common::analyze_files(&common::shop_files());
    let program = Program::new(&analysis).expect("a checked program");
    assert_eq!(
        plan::build(&program, "nope"),
        Err(PlanError::UnknownCampaign { name: "nope".into() })
    );
}

const RULES: &str = r##"
campaign flash_once {
  kind info
  channel alimtalk
  trigger on cart_add
  reentry after 7d
  send flash expires after 3h
  send flash via sms expires at 21:30
  send flash
}
message flash {
  template "FLASH_01"
  "#{고객명}님, 3시간 한정 특가입니다."
}
alimtalk template "FLASH_01" {
  "#{이름}님, 3시간 한정 특가입니다."
}
"##;

#[test]
fn reentry_rules_and_expiry_are_in_the_plan() {
    let files = common::with_file(common::shop_files(), "campaigns/rules.camp", RULES);
    let plan = shop_plan(&files, "flash_once");
    assert_eq!(plan.reentry, plan::Reentry::After { seconds: 7 * 86_400 });
    assert!(!plan.reentry.single(), "`after D` journeys may overlap");
    let expiries: Vec<Option<plan::Expiry>> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.op {
            Op::Send { expires, .. } => Some(*expires),
            _ => None,
        })
        .collect();
    assert_eq!(
        expiries,
        [
            Some(plan::Expiry::After { seconds: 10_800 }),
            Some(plan::Expiry::At { minute: 1_290 }),
            None
        ]
    );
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).expect("JSON");
    assert_eq!(json["reentry"], serde_json::json!({"rule": "after", "seconds": 604_800}));
    assert_eq!(
        json["steps"][0]["op"]["expires"],
        serde_json::json!({"type": "after", "seconds": 10_800})
    );
    assert_eq!(Plan::from_json(&plan.to_json()).as_ref(), Ok(&plan));

    // The default rule and a send without expiry leave no trace in the JSON,
    // so plans written before they existed keep their hash.
    let cart = shop_plan(&common::shop_files(), "cart_reminder");
    assert_eq!(cart.reentry, plan::Reentry::Single);
    assert!(cart.reentry.single());
    let json = cart.to_json();
    assert!(!json.contains("reentry") && !json.contains("expires"), "{json}");
    let restock = shop_plan(&common::shop_files(), "restock_alert");
    assert_eq!(restock.reentry, plan::Reentry::Always);
}
