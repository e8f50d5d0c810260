//! What differs between SQLite and PostgreSQL, behind one trait with
//! generic defaults; code generation never matches on the dialect.

use crate::types::FieldType;

pub trait Dialect: Sync {
    fn name(&self) -> &'static str;

    /// Quotes an identifier from the schema: `"name"`, doubling quotes.
    fn quote(&self, ident: &str) -> String {
        let mut quoted = String::with_capacity(ident.len() + 2);
        quoted.push('"');
        for (i, part) in ident.split('"').enumerate() {
            if i > 0 {
                quoted.push_str("\"\"");
            }
            quoted.push_str(part);
        }
        quoted.push('"');
        quoted
    }

    /// The placeholder of the `n`-th parameter (1-based).
    fn placeholder(&self, n: usize) -> String;

    /// A property of a JSON column, as a value of the schema type.
    fn json_prop(&self, column: &str, key: &str, ty: &FieldType) -> String;

    /// The literal for true/false in a condition.
    fn bool_lit(&self, value: bool) -> &'static str;

    /// `expr` shifted by a signed number of seconds given as placeholder `seconds`.
    fn add_seconds(&self, expr: &str, seconds: &str) -> String;

    /// Fractional days from `earlier` to `later` (both timestamps or dates).
    fn days_between(&self, later: &str, earlier: &str) -> String;

    /// Seconds from `earlier` to `later` (both timestamps or dates), exact
    /// to the database's resolution: `now - customer.joined_at == 30m`.
    fn seconds_between(&self, later: &str, earlier: &str) -> String;

    /// Whole days, rounded down, of a fractional day count.
    fn floor_days(&self, days: &str) -> String;

    /// A `date` as the timestamp of its midnight UTC, to compare with a
    /// timestamp.
    fn date_as_timestamp(&self, date: &str) -> String;

    /// Whole days of a day count known not to be negative (days since an
    /// event, which is never later than now): truncation is the floor.
    fn whole_days(&self, days: &str) -> String {
        self.floor_days(days)
    }

    /// A timestamp placeholder (PostgreSQL wants its type said).
    fn timestamp_param(&self, placeholder: &str) -> String;

    /// A typed placeholder for a value of the schema type, where the type
    /// cannot be inferred from the other side.
    fn typed_param(&self, placeholder: &str, ty: &FieldType) -> String;

    /// `key = value` where `value` may be a JSON or parameter string holding
    /// a key that the column stores as an integer or as text.
    fn key_eq(&self, column: &str, value: &str) -> String {
        format!("{column} = {value}")
    }

    /// A key read as a number for `<`, `<=`, `>`, `>=` where one side is a
    /// JSON property or a trigger parameter: the database may hold the key
    /// as an integer or as text (DESIGN §3.2), and both databases must
    /// order 9 before 10.
    fn key_as_number(&self, key: &str) -> String;

    /// The index a lookup by a key's text wants (see `key_eq`), when the
    /// key column's own index does not serve it.
    fn key_text_index(&self, _table: &str, _key: &str) -> Option<String> {
        None
    }

    /// `a = b` for two keys neither of which is a key column (a JSON
    /// property, a trigger parameter): equal when their text is, so the
    /// integer 27 from JSON matches a trigger's key read back as `"27"`.
    fn loose_key_eq(&self, a: &str, b: &str) -> String {
        self.key_eq(a, b)
    }

    /// Case-sensitive substring test.
    fn contains(&self, haystack: &str, needle: &str) -> String;

    /// The collation clause for ordering comparisons of text, so that both
    /// databases order by code point as the evaluator does.
    fn text_order(&self) -> &'static str {
        ""
    }

    /// `SUM` of integers, as an integer.
    fn int_sum(&self, expr: &str) -> String {
        format!("SUM({expr})")
    }

    /// Real (not integer) division.
    fn real_div(&self, a: &str, b: &str) -> String {
        format!("(CAST({a} AS DOUBLE PRECISION) / {b})")
    }

    /// `ORDER BY` terms that sort keys ascending as numbers when they are
    /// made of digits (9 before 10), before any other key, which sorts as
    /// text by code point.
    fn key_order(&self, key: &str) -> String {
        let digits = format!("({key})::text ~ '^[0-9]+$'");
        format!("CASE WHEN {digits} THEN 0 ELSE 1 END, CASE WHEN {digits} THEN (({key})::text)::numeric END, ({key})::text COLLATE \"C\"")
    }

    /// An `IF NOT EXISTS` index statement.
    fn create_index(&self, name: &str, table: &str, columns: &[String]) -> String {
        format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} ({});",
            self.quote(name),
            self.quote(table),
            columns.join(", ")
        )
    }
}

/// SQLite: timestamps are UTC text as its date functions write them, JSON is
/// text read with `json_extract`, booleans are 0/1.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqlite;

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }
    fn json_prop(&self, column: &str, key: &str, _ty: &FieldType) -> String {
        // Keys come from the schema; quoted JSON path keeps any name safe.
        format!("json_extract({column}, '$.\"{}\"')", key.replace('\'', "''").replace('"', "\\\""))
    }
    fn bool_lit(&self, value: bool) -> &'static str {
        if value {
            "1"
        } else {
            "0"
        }
    }
    fn add_seconds(&self, expr: &str, seconds: &str) -> String {
        // `datetime()` drops the fraction of a second, which moves the
        // result off a stored `..:31.250`; `%f` keeps milliseconds, and
        // whole seconds lose their `.000` to compare as stored text does.
        format!("replace(strftime('%Y-%m-%d %H:%M:%f', {expr}, {seconds} || ' seconds'), '.000', '')")
    }
    fn days_between(&self, later: &str, earlier: &str) -> String {
        format!("(julianday({later}) - julianday({earlier}))")
    }
    fn seconds_between(&self, later: &str, earlier: &str) -> String {
        // A Julian day difference times 86400 is off by float error (1800
        // comes out as 1799.9999...): round to SQLite's milliseconds.
        format!("(ROUND((julianday({later}) - julianday({earlier})) * 86400000.0) / 1000.0)")
    }
    fn floor_days(&self, days: &str) -> String {
        // CAST truncates toward zero; step down for negative fractions.
        format!("(CAST({days} AS INTEGER) - ({days} < CAST({days} AS INTEGER)))")
    }
    fn date_as_timestamp(&self, date: &str) -> String {
        // `2027-03-01` is text before `2027-03-01 00:00:00`: compare the
        // timestamp text of the same instant.
        format!("datetime({date})")
    }
    fn whole_days(&self, days: &str) -> String {
        format!("CAST({days} AS INTEGER)")
    }
    fn timestamp_param(&self, placeholder: &str) -> String {
        placeholder.to_string()
    }
    fn typed_param(&self, placeholder: &str, _ty: &FieldType) -> String {
        placeholder.to_string()
    }
    fn contains(&self, haystack: &str, needle: &str) -> String {
        format!("(instr({haystack}, {needle}) > 0)")
    }
    fn real_div(&self, a: &str, b: &str) -> String {
        format!("(CAST({a} AS REAL) / {b})")
    }
    fn key_as_number(&self, key: &str) -> String {
        format!("CAST({key} AS NUMERIC)")
    }
    fn key_order(&self, key: &str) -> String {
        let text = format!("CAST({key} AS TEXT)");
        let digits = format!("({text} <> '' AND {text} NOT GLOB '*[^0-9]*')");
        format!("CASE WHEN {digits} THEN 0 ELSE 1 END, CASE WHEN {digits} THEN CAST({text} AS INTEGER) END, {text}")
    }
    fn loose_key_eq(&self, a: &str, b: &str) -> String {
        // Without a column on either side SQLite applies no affinity, and
        // the integer 27 is not the text '27'.
        format!("CAST({a} AS TEXT) = CAST({b} AS TEXT)")
    }
}

/// PostgreSQL: `timestamptz`, `date`, `jsonb`, real booleans.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postgres;

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }
    fn json_prop(&self, column: &str, key: &str, ty: &FieldType) -> String {
        let text = format!("({column} ->> '{}')", key.replace('\'', "''"));
        match pg_type(ty) {
            "text" => text,
            t => format!("{text}::{t}"),
        }
    }
    fn bool_lit(&self, value: bool) -> &'static str {
        if value {
            "TRUE"
        } else {
            "FALSE"
        }
    }
    fn add_seconds(&self, expr: &str, seconds: &str) -> String {
        format!("({expr} + make_interval(secs => {seconds}::bigint))")
    }
    fn days_between(&self, later: &str, earlier: &str) -> String {
        // date_part gives double precision; EXTRACT gives numeric, which is
        // several times slower to compute over millions of rows.
        format!("(date_part('epoch', {later}::timestamptz - {earlier}::timestamptz) / 86400.0)")
    }
    fn seconds_between(&self, later: &str, earlier: &str) -> String {
        format!("EXTRACT(EPOCH FROM ({later}::timestamptz - {earlier}::timestamptz))")
    }
    fn floor_days(&self, days: &str) -> String {
        format!("FLOOR({days})::bigint")
    }
    fn date_as_timestamp(&self, date: &str) -> String {
        // Not the session's time zone, whatever the server has.
        format!("({date}::timestamp AT TIME ZONE 'UTC')")
    }
    fn timestamp_param(&self, placeholder: &str) -> String {
        format!("{placeholder}::timestamptz")
    }
    fn typed_param(&self, placeholder: &str, ty: &FieldType) -> String {
        format!("{placeholder}::{}", pg_type(ty))
    }
    fn contains(&self, haystack: &str, needle: &str) -> String {
        format!("(strpos({haystack}, {needle}) > 0)")
    }
    fn key_eq(&self, column: &str, value: &str) -> String {
        format!("{column}::text = ({value})::text")
    }
    fn key_as_number(&self, key: &str) -> String {
        format!("({key})::text::numeric")
    }
    fn key_text_index(&self, table: &str, key: &str) -> Option<String> {
        // The expression is written as `key_eq` writes it, so the planner matches them.
        Some(self.create_index(&format!("camp_{table}_key_text"), table, &[format!("({}::text)", self.quote(key))]))
    }
    fn text_order(&self) -> &'static str {
        " COLLATE \"C\""
    }
    fn int_sum(&self, expr: &str) -> String {
        // `SUM(bigint)` is `numeric` here.
        format!("SUM({expr})::bigint")
    }
}

/// The PostgreSQL type a schema type is stored as (DESIGN §3.2).
pub fn pg_type(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::Int { .. } | FieldType::Money { .. } => "bigint",
        FieldType::Decimal => "double precision",
        FieldType::Bool | FieldType::Consent => "boolean",
        FieldType::Timestamp => "timestamptz",
        FieldType::Date => "date",
        FieldType::Id
        | FieldType::Ref(_)
        | FieldType::Text { .. }
        | FieldType::Enum(_)
        | FieldType::Phone
        | FieldType::Email
        | FieldType::PushToken
        | FieldType::Tz => "text",
    }
}
