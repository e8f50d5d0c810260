//! The model side of `tests/differential.rs`: generated conditions and an
//! evaluator over generated rows, independent of the parser and the SQL.

pub mod conds;
pub mod world;
