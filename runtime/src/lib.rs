//! The camp runtime: everything that touches a database or the network.
//! The compiler hands it plans and queries; this crate binds their
//! parameters, runs them on SQLite or PostgreSQL through sqlx, and executes
//! the step machines: the store (`store`), the engine (`engine`), channels
//! (`channels`), the HTTP side (`http`) and the daemon loop (`daemon`).

pub mod binds;
pub mod channels;
pub mod clock;
pub mod daemon;
pub mod db;
pub mod demo;
pub mod dryrun;
pub mod engine;
pub mod http;
pub mod introspect;
pub mod lists;
pub mod logging;
pub mod metrics;
pub mod receiver;
pub mod report;
pub mod review;
pub mod sample;
pub mod simulate;
pub mod store;
pub mod testing;

pub use binds::{BindValue, Bindings};
pub use db::{Database, DbError, Key};
/// The logging facade the runtime writes to, for the binary's own lines.
pub use tracing;
