//! What the tests that run `camp run` as a child process share: a
//! workspace of the example shop's schema and policy with one campaign
//! file and a `camp.toml`, and counting rows.

use camp_runtime::db::CellsExt;
use camp_runtime::Database;
use std::path::Path;

/// `dir` becomes a workspace: the shop's schema and policy,
/// `campaigns/NAME` holding `campaign`, and `camp_toml`.
pub fn workspace(dir: &Path, name: &str, campaign: &str, camp_toml: &str) {
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    std::fs::create_dir_all(dir.join("campaigns")).expect("folders");
    for f in ["schema.camp", "policy.camp"] {
        std::fs::copy(shop.join(f), dir.join(f)).expect("copy");
    }
    std::fs::write(dir.join("campaigns").join(name), campaign).expect("campaign");
    std::fs::write(dir.join("camp.toml"), camp_toml).expect("camp.toml");
}

/// The workspace's files, checked.
pub fn analysis(dir: &Path, name: &str) -> camp_compiler::Analysis {
    let mut ws = camp_compiler::Workspace::new();
    for f in ["schema.camp".to_string(), "policy.camp".to_string(), format!("campaigns/{name}")] {
        let text = std::fs::read_to_string(dir.join(&f)).expect("read");
        ws.add(f, camp_compiler::Input::Text(text));
    }
    camp_compiler::analyze(&ws)
}

/// The first column of the first row, as an integer (-1 when there is none).
pub async fn count(db: &Database, sql: &str) -> i64 {
    db.rows(sql, &[]).await.expect(sql).first().and_then(|r| r.int(0)).unwrap_or(-1)
}
