//! Lowering: checked conditions to one SQL statement per dialect.
//!
//! Every literal is a bound [`Param`]; identifiers come only from the schema
//! and go through [`Dialect::quote`]; "now" is a parameter, so a query is
//! deterministic under a fixed clock. The SQLite/PostgreSQL difference lives
//! behind the [`Dialect`] trait (`dialect.rs`).

pub mod cond;
pub mod ddl;
pub mod dialect;
pub mod indexes;
pub mod queries;

pub use dialect::{Dialect, Postgres, Sqlite};
pub use queries::{CampaignQueries, Column};

use serde::{Deserialize, Serialize};

/// A value bound at execution time. The runtime computes the time-based ones
/// from its clock (or `--now`) and the triggering event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Param {
    /// The evaluation instant.
    Now,
    /// `now` shifted by a signed number of seconds (`now - 24h` is -86400).
    NowPlus {
        seconds: i64,
    },
    /// The time of the triggering event.
    TriggerTime,
    /// A property of the triggering event, by name, with its schema type
    /// (`int`, `money`, `decimal`, `text`, `bool`, `timestamp`, `date`, `id`).
    TriggerProp {
        name: String,
        ty: String,
    },
    /// The key of the one customer a query is about.
    Customer,
    Int {
        value: i64,
    },
    Decimal {
        value: f64,
    },
    Text {
        value: String,
    },
    Bool {
        value: bool,
    },
    /// A signed number of seconds, for timestamp arithmetic.
    Seconds {
        value: i64,
    },
}

/// One SQL statement and its parameters, in placeholder order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    pub sql: String,
    pub params: Vec<Param>,
}
