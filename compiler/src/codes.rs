//! The registry of diagnostic codes. Codes are stable: never reuse or renumber
//! one. `E00xx` syntax and input, `E01xx` names, `E02xx` types and schema,
//! `E03xx` time and scheduling, `E04xx` channels and compliance, `E05xx`
//! the schema against a real database (`camp check --database`), `E09xx`
//! internal; `Wxxxx` warnings. Every code has a page `docs/codes/CODE.md`.

use crate::diagnostic::Severity;

/// A diagnostic code with its fixed severity and one-line title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// The docs page, `docs/codes/<id>.md`, compiled in for `camp explain`.
    pub page: &'static str,
}

macro_rules! codes {
    ($($name:ident = $id:literal, $sev:ident, $title:literal;)*) => {
        $(
            pub const $name: Code = Code {
                id: $id,
                severity: Severity::$sev,
                title: $title,
                page: include_str!(concat!("../../docs/codes/", $id, ".md")),
            };
        )*
        /// Every code, in numeric order.
        pub const ALL: &[Code] = &[$($name),*];
    };
}

codes! {
    SYNTAX = "E0001", Error, "syntax error";
    INVALID_UTF8 = "E0002", Error, "file is not valid UTF-8";
    NESTING_TOO_DEEP = "E0003", Error, "nesting too deep";
    UNTERMINATED_STRING = "E0004", Error, "unterminated string";
    FILE_TOO_LARGE = "E0005", Error, "file too large";
    BAD_PLACEHOLDER = "E0006", Error, "malformed placeholder";
    UNREADABLE = "E0007", Error, "file cannot be read";
    UNKNOWN_FIELD = "E0101", Error, "unknown field";
    UNKNOWN_EVENT = "E0102", Error, "unknown event";
    UNKNOWN_PROPERTY = "E0103", Error, "unknown event property";
    UNKNOWN_NAME = "E0104", Error, "unknown name in a condition";
    UNKNOWN_MESSAGE = "E0105", Error, "unknown message";
    UNKNOWN_CHANNEL = "E0106", Error, "unknown channel";
    UNKNOWN_TABLE = "E0107", Error, "unknown table";
    UNKNOWN_FILTER = "E0108", Error, "unknown template filter";
    UNKNOWN_VARIABLE = "E0109", Error, "unknown template variable";
    DUPLICATE = "E0110", Error, "duplicate definition";
    SEGMENT_CYCLE = "E0111", Error, "segment cycle";
    NO_SCHEMA = "E0112", Error, "no customer schema";
    UNKNOWN_TYPE = "E0113", Error, "unknown field type";
    DUPLICATE_SETTING = "E0114", Error, "setting given twice";
    UNKNOWN_SETTING = "E0115", Error, "unknown kind or setting";
    UNKNOWN_LIST = "E0120", Error, "unknown list";
    NESTED_LOOP = "E0121", Error, "loop inside a loop";
    TYPE_MISMATCH = "E0201", Error, "comparison of incompatible types";
    UNKNOWN_ENUM_VALUE = "E0202", Error, "unknown enum value";
    BAD_ARITHMETIC = "E0203", Error, "arithmetic on incompatible types";
    BAD_AGGREGATE = "E0204", Error, "aggregate over a non-numeric property";
    BAD_FILTER = "E0205", Error, "filter on the wrong type";
    NULLABLE_IN_TEMPLATE = "E0206", Error, "nullable value in a template without a default";
    NOT_A_CONDITION = "E0207", Error, "condition is not a yes/no value";
    BAD_CONTAINS = "E0208", Error, "`contains` on a non-text value";
    BAD_KEY = "E0209", Error, "table key is not one of its fields";
    BAD_DEFAULT = "E0210", Error, "default value does not match the field type";
    EVENT_STORAGE = "E0211", Error, "event has nowhere to be stored";
    BAD_RFM_SCORE = "E0212", Error, "unknown rfm score";
    NOT_PRINTABLE = "E0213", Error, "value cannot be printed in a message";
    BAD_SETTING = "E0214", Error, "invalid setting value";
    BAD_RFM_WINDOW = "E0215", Error, "rfm window that depends on the customer";
    BAD_DATE_PATTERN = "E0216", Error, "date pattern letter that is not a field";
    CONTACT_TYPE = "E0230", Error, "contact field of the wrong type for its channel";
    NOT_AN_ITEM = "E0220", Error, "list of a property that is not a `ref`";
    NO_PURCHASE_LINES = "E0221", Error, "no purchase lines for the list's table";
    BAD_LIST_LENGTH = "E0222", Error, "list length out of range";
    BAD_ANCHOR = "E0223", Error, "`also_bought` of a value that is not an item";
    NO_TRIGGER_ITEM = "E0224", Error, "`exclude trigger` without an item in the trigger";
    WINDOW_IN_QUIET_HOURS = "E0301", Error, "send window fully inside quiet hours";
    TRIGGER_IN_QUIET_HOURS = "W0302", Warning, "scheduled time always inside quiet hours";
    CAP_ZERO = "E0303", Error, "cap of zero";
    UNREACHABLE_STEP = "W0304", Warning, "unreachable step";
    VARIANT_SPLIT = "E0305", Error, "variant percentages do not sum to 100";
    TRIGGER_OUTSIDE_EVENT = "E0306", Error, "`trigger` used outside an event-triggered campaign";
    SINCE_TRIGGER_OUTSIDE_EVENT = "E0307", Error, "`since trigger` outside an event-triggered campaign";
    BAD_TIME = "E0308", Error, "invalid time of day";
    BAD_DATE = "E0309", Error, "invalid date";
    UNKNOWN_ZONE = "E0310", Error, "unknown time zone";
    MISSING_SETTING = "E0311", Error, "campaign lacks a required setting";
    BAD_PERCENT = "E0312", Error, "percentage out of range";
    NEVER_SENDS = "W0313", Warning, "campaign never sends";
    VARIANTS_AND_STEPS = "E0316", Error, "variants mixed with top-level steps";
    REENTRY_ZERO = "E0320", Error, "re-entry interval of zero";
    WAIT_UNTIL_IN_QUIET_HOURS = "W0320", Warning, "`wait until` time inside quiet hours";
    QUIET_IN_NEARBY_ZONES = "W0321", Warning, "scheduled time inside quiet hours in nearby zones";
    FALLBACK_AFTER_EXPIRY = "W0322", Warning, "fallback after the send expires";
    TOO_LONG = "E0401", Error, "message too long for its channel";
    PART_TOO_LONG = "E0402", Error, "message part too long for its channel";
    UNENCODABLE = "E0403", Error, "character the channel cannot carry";
    UNBOUNDED_TEXT = "W0404", Warning, "unbounded text may overflow the channel";
    PART_NOT_ALLOWED = "E0405", Error, "message part not supported by the channel (retired)";
    MISSING_TEMPLATE_CODE = "E0406", Error, "Alimtalk message without a template code";
    NO_BODY = "E0407", Error, "message without a body";
    AD_PREFIX = "E0410", Error, "ad does not start with \"(광고)\"";
    AD_SENDER = "E0411", Error, "ad without the sender";
    AD_OPTOUT = "E0412", Error, "ad without the free opt-out line";
    AD_CONSENT = "E0413", Error, "ad audience does not require consent";
    AD_NIGHT = "E0414", Error, "ad may be sent at night";
    AD_ALIMTALK = "E0415", Error, "Alimtalk cannot carry ads";
    NO_CONTACT_FIELD = "W0430", Warning, "channel without a contact field in the schema";
    FRIENDTALK_ALIAS = "W0440", Warning, "`friendtalk` is now the brand message";
    PART_UNSUPPORTED = "E0441", Error, "message part the channel cannot carry";
    UNKNOWN_FORMAT = "E0442", Error, "unknown message format for the channel";
    FORMAT_SHAPE = "E0443", Error, "message does not have the shape its format needs";
    ALIMTALK_MISMATCH = "E0444", Error, "Alimtalk message differs from its registered template";
    ALIMTALK_UNREGISTERED = "E0445", Error, "Alimtalk template code not registered in the workspace";
    AD_EMAIL_SUBJECT = "E0446", Error, "email ad subject does not start with \"(광고)\"";
    INFO_LOOKS_PROMOTIONAL = "W0447", Warning, "informational campaign with promotional wording";
    AD_UNCERTIFIED = "E0448", Error, "ad on a channel without a certified sender";
    DB_TABLE_MISSING = "E0501", Error, "table missing from the database";
    DB_COLUMN_MISSING = "E0502", Error, "column missing from the database";
    DB_COLUMN_TYPE = "E0503", Error, "column type differs from the schema";
    DB_ENUM_DRIFT = "E0504", Error, "database values missing from an enum";
    EMPTY_FILE = "W0001", Warning, "empty file";
    INTERNAL = "E0901", Error, "internal error";
}

/// Looks a code up by its id, case-insensitively (`e0101` works).
pub fn lookup(id: &str) -> Option<&'static Code> {
    ALL.iter().find(|c| c.id.eq_ignore_ascii_case(id))
}

/// Whether a word has the shape of a code (`E0101`, `w0404`), so that
/// `camp explain` never mistakes a campaign name for one.
pub fn looks_like_code(word: &str) -> bool {
    let bytes = word.as_bytes();
    bytes.len() == 5 && matches!(bytes[0], b'E' | b'W' | b'e' | b'w') && bytes[1..].iter().all(u8::is_ascii_digit)
}
