//! `analyze_cached` gives exactly what `analyze` gives, edit after edit,
//! while reusing the parses of unchanged files.

mod common;

use camp_compiler::{analyze, analyze_cached, Input, ParseCache, Workspace};

fn workspace(files: &[(String, String)]) -> Workspace {
    let mut ws = Workspace::new();
    for (path, text) in files {
        ws.add(path.clone(), Input::Text(text.clone()));
    }
    ws
}

fn render(a: &camp_compiler::Analysis) -> String {
    format!("{:?}\n{:?}\n{:?}", a.diagnostics, a.asts, a.facts)
}

#[test]
fn cached_analysis_equals_a_fresh_one() {
    let mut files = common::shop_files();
    let mut cache = ParseCache::default();
    let edits = [
        ("campaigns/vip.camp", "customer.marketing_consent", "customer.marketing_consnet"),
        ("campaigns/vip.camp", "customer.marketing_consnet", "customer.marketing_consent"),
        ("schema.camp", "tier: enum(bronze, silver, gold, vip)", "tier: enum(bronze, silver)"),
        ("campaigns/cart.camp", "segment", "segment (broken"),
    ];
    assert_eq!(
        render(&analyze_cached(&workspace(&files), &mut cache)),
        render(&analyze(&workspace(&files)))
    );
    for (path, from, to) in edits {
        let file = files.iter_mut().find(|(p, _)| p == path).expect("file");
        file.1 = file.1.replacen(from, to, 1);
        let ws = workspace(&files);
        assert_eq!(
            render(&analyze_cached(&ws, &mut cache)),
            render(&analyze(&ws)),
            "after editing {path}"
        );
    }
    // A file removed, and one added under a known path with other text.
    files.retain(|(p, _)| p != "campaigns/rfm.camp");
    files.push(("campaigns/rfm.camp".into(), "segment x = vip_customers\n".into()));
    let ws = workspace(&files);
    assert_eq!(render(&analyze_cached(&ws, &mut cache)), render(&analyze(&ws)));
    // Unreadable input is not parsed, cached or not.
    let mut ws = workspace(&files);
    ws.add("campaigns/gone.camp", Input::Unreadable { reason: "gone".into() });
    assert_eq!(render(&analyze_cached(&ws, &mut cache)), render(&analyze(&ws)));
}
