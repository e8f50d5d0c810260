//! Where the store's SQL differs between SQLite and PostgreSQL: table
//! names, placeholders, list parameters, claims and locks. Every statement
//! of the store is written once, with these pieces.

use crate::db::Backend;

pub trait StoreSql: Send + Sync {
    fn backend(&self) -> Backend;

    /// The full name of one of the store's tables (`camp_ledger`, `"camp".ledger`).
    fn table(&self, name: &str) -> String;

    /// The `n`-th placeholder (1-based).
    fn ph(&self, n: usize) -> String;

    /// The `n`-th placeholder of a statement whose placeholders appear
    /// once each, in order (multi-row inserts): SQLite's anonymous `?`,
    /// which sqlx binds without looking each name up (numbered names make
    /// binding quadratic in the count).
    fn seq_ph(&self, n: usize) -> String {
        self.ph(n)
    }

    /// The elements of a JSON array bound at placeholder `ph`, as a
    /// subquery; `int` reads them as integers.
    fn json_list(&self, ph: &str, int: bool) -> String;

    /// What ends a claiming `SELECT`: PostgreSQL skips rows other daemons
    /// hold; SQLite holds the only write lock already.
    fn skip_locked(&self) -> &'static str;

    /// The same for a claim that joins: only the rows of `alias` are claimed.
    fn skip_locked_of(&self, alias: &str) -> String;

    /// A JSON array (as text) of the values of `expressions`.
    fn json_array(&self, expressions: &[String]) -> String;

    /// A statement that locks the customers listed at placeholder `ph`
    /// (a JSON array) until the transaction ends, in one global order;
    /// `None` where the transaction holds the only write lock.
    fn lock_customers(&self, ph: &str) -> Option<String>;

    /// A placeholder that holds a JSON array.
    fn json_param(&self, ph: &str) -> String;
}

pub struct SqliteSql;

impl StoreSql for SqliteSql {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
    fn table(&self, name: &str) -> String {
        format!("camp_{name}")
    }
    fn ph(&self, n: usize) -> String {
        format!("?{n}")
    }
    fn seq_ph(&self, _n: usize) -> String {
        "?".to_string()
    }
    fn json_list(&self, ph: &str, _int: bool) -> String {
        format!("(SELECT value FROM json_each({ph}))")
    }
    fn skip_locked(&self) -> &'static str {
        ""
    }
    fn skip_locked_of(&self, _alias: &str) -> String {
        String::new()
    }
    fn json_array(&self, expressions: &[String]) -> String {
        format!("json_array({})", expressions.join(", "))
    }
    fn lock_customers(&self, _ph: &str) -> Option<String> {
        None
    }
    fn json_param(&self, ph: &str) -> String {
        ph.to_string()
    }
}

pub struct PostgresSql {
    /// The schema of the store's tables, quoted.
    pub schema: String,
}

impl StoreSql for PostgresSql {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }
    fn table(&self, name: &str) -> String {
        format!("{}.{name}", self.schema)
    }
    fn ph(&self, n: usize) -> String {
        format!("${n}")
    }
    fn json_list(&self, ph: &str, int: bool) -> String {
        if int {
            format!("(SELECT value::bigint FROM jsonb_array_elements_text({ph}::jsonb))")
        } else {
            format!("(SELECT value FROM jsonb_array_elements_text({ph}::jsonb))")
        }
    }
    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }
    fn skip_locked_of(&self, alias: &str) -> String {
        format!(" FOR UPDATE OF {alias} SKIP LOCKED")
    }
    fn json_array(&self, expressions: &[String]) -> String {
        format!("json_build_array({})::text", expressions.join(", "))
    }
    fn lock_customers(&self, ph: &str) -> Option<String> {
        Some(format!(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(value, 0) AS k \
             FROM jsonb_array_elements_text({ph}::jsonb) ORDER BY 1) AS locks"
        ))
    }
    fn json_param(&self, ph: &str) -> String {
        format!("{ph}::jsonb")
    }
}
