//! The pest parser generated from camp.pest. Crate-private: pest types never
//! leave this crate.

#[derive(pest_derive::Parser)]
#[grammar = "camp.pest"]
pub(crate) struct CampParser;
