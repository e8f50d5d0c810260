//! Every file under `examples/` checks clean: no errors and no warnings.

use camp::load;
use std::path::Path;

#[test]
fn shop_example_checks_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    let loaded = load::load(&[root]).expect("examples/shop loads");
    assert!(loaded.workspace.files.len() >= 10, "the shop has a schema, a policy and campaigns");
    let analysis = camp_compiler::analyze(&loaded.workspace);
    let rendered: String = analysis
        .diagnostics
        .iter()
        .map(|d| camp::output::human(d, &loaded.workspace, false))
        .collect();
    assert!(analysis.diagnostics.is_empty(), "examples/shop is not clean:\n{rendered}");
}

#[test]
fn every_example_folder_checks_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut count = 0;
    for entry in std::fs::read_dir(&root).expect("examples/ exists").flatten() {
        if !entry.path().is_dir() {
            continue;
        }
        count += 1;
        let loaded = load::load(&[entry.path()]).expect("example loads");
        let analysis = camp_compiler::analyze(&loaded.workspace);
        let rendered: String = analysis
            .diagnostics
            .iter()
            .map(|d| camp::output::human(d, &loaded.workspace, false))
            .collect();
        assert!(
            analysis.diagnostics.is_empty(),
            "{} is not clean:\n{rendered}",
            entry.path().display()
        );
    }
    assert!(count >= 1);
}
