//! What the tests that run dry-run commands share: a SQLite file holding
//! the example shop's sample data.

use camp_compiler::program::Program;
use camp_runtime::binds::parse_instant;
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::Database;
use std::path::{Path, PathBuf};

pub fn shop() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop")
}

/// `dir/shop.db` with `customers` sample customers of the shop and their
/// history up to `now` (RFC 3339); returns its URL.
pub fn shop_database(dir: &Path, customers: u64, now: &str) -> String {
    let url = format!("sqlite://{}", dir.join("shop.db").display());
    let loaded = camp::load::load(&[shop()]).expect("the shop loads");
    let analysis = camp_compiler::analyze(&loaded.workspace);
    let program = Program::new(&analysis).expect("the shop checks clean");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let db = Database::create(&url).await.expect("creates");
        let now = parse_instant(now).expect("valid");
        sample::generate(&db, &program.schema, &SampleSpec::new(customers, now), |_| {})
            .await
            .expect("sample data");
        db.close().await;
    });
    url
}
