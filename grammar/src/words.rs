//! Keyword lists that the parser's error messages and the editor's
//! completion and rename both need: one place, so they cannot drift.

/// The weekdays of `every monday`.
pub const WEEKDAYS: &[&str] = &["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// What may follow `every`, besides a day of the month.
pub const EVERY_WORDS: &[&str] = &[
    "day",
    "weekday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The keywords that start a value or a condition (`did`, `count`, `now`..).
pub const VALUE_WORDS: &[&str] = &[
    "not",
    "did",
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "rfm",
    "lifecycle",
    "interval",
    "last",
    "first",
    "days",
    "now",
    "true",
    "false",
];
