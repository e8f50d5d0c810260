//! The camp runtime: everything that touches a database or the network.
//! The compiler hands it plans and queries; this crate binds their
//! parameters, runs them on SQLite or PostgreSQL through sqlx, and (later)
//! executes the step machines.

pub mod binds;
pub mod db;
pub mod dryrun;
pub mod introspect;
pub mod sample;
pub mod testing;

pub use binds::{BindValue, Bindings};
pub use db::{Database, DbError, Key};
