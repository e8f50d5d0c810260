//! Semantic types of schema fields and expressions.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The type of a schema field, resolved from its `TypeExpr`. Serialized in
/// deployments (`"id"`, `{"text":{"max":20}}`, `{"enum":["a","b"]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Id,
    Text {
        max: Option<u64>,
    },
    Int {
        max: Option<u64>,
    },
    Decimal,
    Money {
        max: Option<u64>,
    },
    Bool,
    Timestamp,
    Date,
    Enum(Vec<String>),
    Phone,
    Email,
    /// A device token for app push.
    PushToken,
    Consent,
    Tz,
    /// A key of the named lookup table.
    Ref(String),
}

/// The type of an expression while checking. `Unknown` follows an error
/// already reported, and is compatible with everything so that one mistake
/// yields one diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Int,
    Decimal,
    Money,
    Text,
    Timestamp,
    Date,
    Duration,
    Enum(Vec<String>),
    Id,
    Ref(String),
    Tz,
    Unknown,
}

impl Ty {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Decimal | Ty::Money | Ty::Unknown)
    }
    pub fn is_textual(&self) -> bool {
        matches!(self, Ty::Text | Ty::Tz | Ty::Unknown)
    }
    pub fn is_time(&self) -> bool {
        matches!(self, Ty::Timestamp | Ty::Date | Ty::Unknown)
    }

    /// Whether `==`/`<` between values of these types means something.
    pub fn comparable_with(&self, other: &Ty) -> bool {
        use Ty::*;
        match (self, other) {
            (Unknown, _) | (_, Unknown) => true,
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (a, b) if a.is_textual() && b.is_textual() => true,
            (Timestamp | Date, Timestamp | Date) => true,
            (Bool, Bool) | (Duration, Duration) => true,
            (Enum(a), Enum(b)) => a == b,
            (Enum(_), Text) | (Text, Enum(_)) => true,
            // Keys are integers or text, as the database has them.
            (Id | Ref(_), Id | Ref(_) | Int | Text) | (Int | Text, Id | Ref(_)) => match (self, other) {
                (Ref(a), Ref(b)) => a == b,
                _ => true,
            },
            _ => false,
        }
    }
}

/// A type's name without an article, whatever the formatter's flags.
struct Plain<'a, T>(&'a T);

/// "a" or "an" before a type name.
pub fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// `{ty}` prints `int`; `{ty:#}` prints `an int`.
impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            let plain = Plain(self).to_string();
            return write!(f, "{} {plain}", article(&plain));
        }
        Plain(self).fmt(f)
    }
}

impl fmt::Display for Plain<'_, Ty> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Decimal => f.write_str("decimal"),
            Ty::Money => f.write_str("money"),
            Ty::Text => f.write_str("text"),
            Ty::Timestamp => f.write_str("timestamp"),
            Ty::Date => f.write_str("date"),
            Ty::Duration => f.write_str("duration"),
            Ty::Enum(values) => write!(f, "enum({})", values.join(", ")),
            Ty::Id => f.write_str("id"),
            Ty::Ref(table) => write!(f, "ref {table}"),
            Ty::Tz => f.write_str("tz"),
            Ty::Unknown => f.write_str("unknown"),
        }
    }
}

impl FieldType {
    /// The expression type a field's value has.
    pub fn ty(&self) -> Ty {
        match self {
            FieldType::Id => Ty::Id,
            FieldType::Text { .. } | FieldType::Phone | FieldType::Email | FieldType::PushToken => Ty::Text,
            FieldType::Int { .. } => Ty::Int,
            FieldType::Decimal => Ty::Decimal,
            FieldType::Money { .. } => Ty::Money,
            FieldType::Bool | FieldType::Consent => Ty::Bool,
            FieldType::Timestamp => Ty::Timestamp,
            FieldType::Date => Ty::Date,
            FieldType::Enum(values) => Ty::Enum(values.clone()),
            FieldType::Tz => Ty::Tz,
            FieldType::Ref(table) => Ty::Ref(table.clone()),
        }
    }
}

/// `{ty}` prints `text(max 20)`; `{ty:#}` prints `a text(max 20)`.
impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            let plain = Plain(self).to_string();
            return write!(f, "{} {plain}", article(&plain));
        }
        Plain(self).fmt(f)
    }
}

impl fmt::Display for Plain<'_, FieldType> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            FieldType::Text { max: Some(n) } => write!(f, "text(max {n})"),
            FieldType::Text { max: None } => f.write_str("text"),
            FieldType::Int { max: Some(n) } => write!(f, "int(max {n})"),
            FieldType::Int { max: None } => f.write_str("int"),
            FieldType::Money { max: Some(n) } => write!(f, "money(max {n})"),
            FieldType::Money { max: None } => f.write_str("money"),
            FieldType::Phone => f.write_str("phone"),
            FieldType::Email => f.write_str("email"),
            FieldType::PushToken => f.write_str("push_token"),
            FieldType::Consent => f.write_str("consent"),
            other => write!(f, "{}", other.ty()),
        }
    }
}
