//! Shared by the runtime's integration tests: the shop workspace, and a
//! SQLite file plus a PostgreSQL database filled with the same sample data.

#![allow(dead_code)]

pub mod files;

use camp_compiler::Analysis;
use camp_runtime::sample::{self, SampleSpec};
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use chrono::{DateTime, Utc};
use files::{camp_workspace, errors};
use std::path::{Path, PathBuf};

pub fn shop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop")
}

/// Every `.camp` file under `dir`, analyzed.
pub fn analyze_dir(dir: &Path) -> Analysis {
    let analysis = camp_compiler::analyze(&camp_workspace(dir));
    let errors = errors(&analysis);
    assert!(errors.is_empty(), "{} must check clean: {errors:?}", dir.display());
    analysis
}

pub fn now() -> DateTime<Utc> {
    camp_runtime::binds::parse_instant("2026-11-23T03:00:00Z").expect("a valid instant")
}

/// A SQLite file and a PostgreSQL database, both holding the same data.
pub struct Databases {
    pub sqlite: Database,
    pub postgres: Database,
    pub sqlite_url: String,
    pub postgres_url: String,
    _dir: tempfile::TempDir,
    _server: TestPostgres,
}

pub async fn shop_databases(analysis: &Analysis, customers: u64) -> Databases {
    let program = camp_compiler::program::Program::new(analysis).expect("clean program");
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}", dir.path().join("shop.db").display());
    let sqlite = Database::create(&sqlite_url).await.expect("sqlite opens");
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let postgres_url = server.create_database("shop").await.expect("database created");
    let postgres = Database::connect(&postgres_url).await.expect("postgres connects");
    let spec = SampleSpec::new(customers, now());
    let a = sample::generate(&sqlite, &program.schema, &spec, |_| {})
        .await
        .expect("sqlite sample");
    let b = sample::generate(&postgres, &program.schema, &spec, |_| {})
        .await
        .expect("postgres sample");
    assert_eq!(a, b, "the same seed writes the same rows");
    Databases {
        sqlite,
        postgres,
        sqlite_url,
        postgres_url,
        _dir: dir,
        _server: server,
    }
}
