//! Deployments of the shop: the manifest round trip, the hash of the
//! whole, and every way a deployment directory can be refused.

mod common;

use camp_compiler::plan::deployment::{self, Deployment, Manifest, Schema, FORMAT_VERSION};
use camp_compiler::plan::Plan;
use camp_compiler::program::Program;
use std::collections::BTreeMap;

fn shop_deployment(files: &[(String, String)]) -> Deployment {
    let analysis = common::analyze_files(files);
    let program = Program::new(&analysis).expect("a checked program");
    Deployment::build(&program).expect("every plan builds")
}

/// The deployment's files as a map, the way a directory holds them.
fn directory(d: &Deployment) -> BTreeMap<String, String> {
    d.files().into_iter().collect()
}

fn load(dir: &BTreeMap<String, String>) -> Result<Deployment, deployment::DeploymentError> {
    let manifest = dir.get(deployment::MANIFEST).cloned().unwrap_or_default();
    Deployment::load(&manifest, |file| dir.get(file).cloned().ok_or_else(|| "no such file".to_string()))
}

#[test]
fn a_deployment_holds_every_plan_and_reads_back_the_same() {
    let d = shop_deployment(&common::shop_files());
    assert_eq!(d.plans.len(), 13);
    assert_eq!(d.format_version, FORMAT_VERSION);
    assert_eq!(d.hash.len(), 64);
    assert!(d.plans.windows(2).all(|w| w[0].name < w[1].name), "plans by name");
    assert_eq!(d.policy.zone, "Asia/Seoul");
    let customer = d.schema.customer.as_ref().expect("the customer table");
    assert_eq!(customer.source, "customers");
    assert!(d.schema.event("cart_add").is_some());

    let dir = directory(&d);
    assert_eq!(dir.len(), 14, "the manifest and one file per plan");
    for p in &d.plans {
        assert!(dir.contains_key(&format!("plans/{}.json", p.name)), "{}", p.name);
    }
    let manifest = Manifest::from_json(&dir["manifest.json"]).expect("the manifest reads");
    assert_eq!(manifest.hash, d.hash);
    assert_eq!(manifest.plans.len(), 13);
    for (entry, plan) in manifest.plans.iter().zip(&d.plans) {
        assert_eq!((&entry.name, &entry.hash), (&plan.name, &plan.hash));
        assert_eq!(entry.file, format!("plans/{}.json", plan.name));
    }
    assert_eq!(load(&dir), Ok(d.clone()));
    // The schema the runtime reads survives JSON exactly.
    let json = serde_json::to_string(&d.schema).expect("serializes");
    assert_eq!(serde_json::from_str::<Schema>(&json).ok().as_ref(), Some(&d.schema));
}

#[test]
fn the_hash_of_the_whole_follows_every_campaign_and_nothing_else() {
    let files = common::shop_files();
    let base = shop_deployment(&files);
    let text = |path: &str| {
        files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.clone())
            .expect("the file exists")
    };
    // Building again gives the same deployment, file for file.
    assert_eq!(directory(&shop_deployment(&files)), directory(&base));
    // Comments and layout are not behaviour.
    let cart = text("campaigns/cart.camp");
    let reformatted = format!("// 주석\n\n{}", cart.replace("  wait 24h\n", "    wait   24h // 하루\n\n"));
    assert_ne!(reformatted, cart);
    assert_eq!(
        shop_deployment(&common::with_file(files.clone(), "campaigns/cart.camp", &reformatted)).hash,
        base.hash
    );
    // A schema doc comment is not either.
    let schema = text("schema.camp");
    let documented = format!("// 고객 스키마\n{schema}");
    assert_eq!(
        shop_deployment(&common::with_file(files.clone(), "schema.camp", &documented)).hash,
        base.hash
    );

    // Any campaign's change changes the whole, and only that plan's hash.
    for (path, from, to, campaign) in [
        (
            "campaigns/cart.camp",
            "  wait 24h\n  send cart_remind",
            "  wait 23h\n  send cart_remind",
            "cart_reminder",
        ),
        ("campaigns/vip.camp", "variant a 50%", "variant a 40%", "vip_weekly"),
    ] {
        let mut changed = text(path).replace(from, to);
        if campaign == "vip_weekly" {
            changed = changed.replace("variant b 50%", "variant b 60%");
        }
        assert_ne!(changed, text(path), "`{from}` is in {path}");
        let d = shop_deployment(&common::with_file(files.clone(), path, &changed));
        assert_ne!(d.hash, base.hash, "changing {campaign} changes the deployment");
        for (new, old) in d.plans.iter().zip(&base.plans) {
            assert_eq!(new.hash == old.hash, new.name != campaign, "{}", new.name);
        }
    }
    // A new campaign, and a removed one, change it too.
    let added = common::with_file(
        files.clone(),
        "campaigns/extra.camp",
        "campaign extra_info {\n  kind info\n  channel sms\n  trigger on purchase\n  send extra_thanks\n}\n\nmessage extra_thanks {\n  \"#{고객명}님, 주문해 주셔서 감사합니다.\"\n}\n",
    );
    let with_extra = shop_deployment(&added);
    assert_eq!(with_extra.plans.len(), 14);
    assert_ne!(with_extra.hash, base.hash);
    let fewer = Deployment::new(
        base.schema.clone(),
        base.policy.clone(),
        base.plans.iter().filter(|p| p.name != "winback").cloned().collect(),
    );
    assert_ne!(fewer.hash, base.hash);
    // The order plans are given in does not matter.
    let mut reversed: Vec<Plan> = base.plans.clone();
    reversed.reverse();
    assert_eq!(Deployment::new(base.schema.clone(), base.policy.clone(), reversed).hash, base.hash);
}

#[test]
fn an_altered_or_mixed_directory_is_refused_with_the_file_and_a_fix() {
    let d = shop_deployment(&common::shop_files());
    let dir = directory(&d);

    // A plan edited by hand.
    let mut edited = dir.clone();
    let cart = edited.get_mut("plans/cart_reminder.json").expect("cart plan");
    *cart = cart.replacen("\"priority\": 10", "\"priority\": 99", 1);
    assert_ne!(edited, dir, "the plan has that priority");
    let e = load(&edited).expect_err("refused");
    assert_eq!(e.file, "plans/cart_reminder.json");
    assert!(e.message.contains("hash does not match"), "{e}");
    assert!(e.help.contains("compile"), "{e}");

    // A plan of another compilation, with a valid hash of its own.
    let mut other_plan: Plan = Plan::from_json(&dir["plans/winback.json"]).expect("reads");
    other_plan.priority += 1;
    other_plan.hash = other_plan.content_hash();
    let mut mixed = dir.clone();
    mixed.insert("plans/winback.json".into(), other_plan.to_json());
    let e = load(&mixed).expect_err("refused");
    assert_eq!(e.file, "plans/winback.json");
    assert!(e.message.contains("not the one the manifest names"), "{e}");
    assert!(e.help.contains("mixes two compilations"), "{e}");

    // A missing plan file.
    let mut missing = dir.clone();
    missing.remove("plans/winback.json");
    let e = load(&missing).expect_err("refused");
    assert_eq!(e.file, "plans/winback.json");
    assert!(e.message.contains("cannot read"), "{e}");

    // The manifest edited by hand: a plan dropped from its list.
    let mut manifest: serde_json::Value = serde_json::from_str(&dir["manifest.json"]).expect("JSON");
    if let Some(plans) = manifest.get_mut("plans").and_then(|p| p.as_array_mut()) {
        plans.pop();
    }
    let mut dropped = dir.clone();
    dropped.insert("manifest.json".into(), manifest.to_string());
    let e = load(&dropped).expect_err("refused");
    assert_eq!(e.file, "manifest.json");
    assert!(e.message.contains("hash does not match"), "{e}");

    // Another format version, and no manifest at all.
    let mut newer = dir.clone();
    newer.insert(
        "manifest.json".into(),
        dir["manifest.json"].replacen("\"format_version\": 1", "\"format_version\": 7", 1),
    );
    let e = load(&newer).expect_err("refused");
    assert!(e.message.contains("format version 7 is not supported"), "{e}");
    assert!(e.help.contains("compile the workspace again"), "{e}");
    let e = load(&BTreeMap::new()).expect_err("refused");
    assert!(e.message.contains("not a deployment manifest"), "{e}");
}
