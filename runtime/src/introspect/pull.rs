//! `camp schema pull`: a schema inferred from the shape of the tables and
//! from bounded samples of their data, on SQLite and PostgreSQL alike.
//!
//! Every query here reads a bounded number of rows: a sample of
//! [`SAMPLE_ROWS`] values per column, distinct values and lengths over at
//! most [`SCAN_ROWS`] rows, and key look-ups for at most [`SAMPLE_ROWS`]
//! distinct values. Names only break ties between shapes.

use super::{Class, DbTable};
use crate::db::{Database, DbError, Want};
use crate::BindValue;
use camp_compiler::templating::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Values looked at per column (and per event type of a shared table).
pub const SAMPLE_ROWS: usize = 200;
/// Rows a scan for distinct values or the longest value reads.
pub const SCAN_ROWS: usize = 100_000;
/// Most distinct values a text column may have to be an enum.
const ENUM_MAX: usize = 12;
/// Most distinct values the type column of a shared events table may have.
const TYPES_MAX: usize = 64;
/// Fewest distinct sampled values for a reference found from values alone.
const VALUE_REF_MIN: usize = 5;
/// The same, for the customer column of a table that refers to no other
/// customer column: the customer table is known by then.
const CUSTOMER_REF_MIN: usize = 2;
/// The share of sampled values that must look like a phone, an email or a
/// zone (a few bad rows do not change what the column is).
const MOSTLY: f64 = 0.9;

/// What the samples of one column show.
#[derive(Debug, Default)]
struct Profile {
    /// Non-null values, as text, at most [`SAMPLE_ROWS`].
    sample: Vec<String>,
    /// The distinct values (as text) of the first [`SCAN_ROWS`] rows when
    /// there are at most [`TYPES_MAX`] of them.
    distinct: Option<Vec<String>>,
    /// The longest value, in characters, of the first [`SCAN_ROWS`] rows.
    longest: Option<u64>,
}

/// A table with its columns' profiles.
struct Shape<'t> {
    table: &'t DbTable,
    profiles: Vec<Profile>,
    /// The key column (the primary key, else a column named like one).
    key: Option<usize>,
    /// Declared foreign keys: column, referenced table.
    foreign: Vec<(String, String)>,
    /// Smallest and largest integer key.
    key_range: Option<(i64, i64)>,
}

impl Shape<'_> {
    fn class(&self, column: usize) -> Class {
        self.table.columns[column].class
    }
    fn name(&self, column: usize) -> &str {
        &self.table.columns[column].name
    }
    fn key_name(&self) -> Option<&str> {
        self.key.map(|k| self.name(k))
    }
    /// The integer row id events tables need (the runtime reads new rows
    /// in its order).
    fn row_id(&self) -> Option<usize> {
        let pk: Vec<usize> = (0..self.table.columns.len())
            .filter(|&i| self.table.columns[i].primary_key)
            .collect();
        match pk.as_slice() {
            [one] if self.class(*one) == Class::Integer => Some(*one),
            [] => (0..self.table.columns.len()).find(|&i| self.name(i) == "id" && self.class(i) == Class::Integer),
            _ => None,
        }
    }
    /// The time column: a timestamp, not null ones first, then by name.
    fn time_column(&self, skip: &[usize]) -> Option<usize> {
        let hint = |n: &str| {
            let n = n.to_lowercase();
            ["occurred", "created", "time", "_at", "at", "ts", "date", "when"]
                .iter()
                .any(|h| n == *h || n.ends_with(h) || n.starts_with(h))
        };
        (0..self.table.columns.len())
            .filter(|i| !skip.contains(i) && self.class(*i) == Class::Timestamp)
            .max_by_key(|&i| (!self.table.columns[i].nullable, hint(self.name(i)), std::cmp::Reverse(i)))
    }
}

/// How sure a reference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    /// Its values are keys of the other table (in a sample).
    Values,
    /// Its name names the other table, and its values are keys there.
    Named,
    /// A declared foreign key.
    Declared,
}

/// A column whose values are keys of another table.
#[derive(Debug, Clone)]
struct Link {
    from: usize,
    column: usize,
    to: usize,
    strength: Strength,
    /// Distinct values sampled.
    distinct: usize,
}

/// A schema file written from what the database has (see
/// `docs/schema-pull.md`): the customer table, lookup tables, and events
/// tables, found by their shape and their data.
pub async fn pull(db: &Database) -> Result<String, DbError> {
    let found = super::tables(db).await?;
    if found.is_empty() {
        return Err(DbError::data(
            "the database has no tables to write a schema from (camp's own tables are left out)",
        ));
    }
    let mut shapes = Vec::new();
    for table in &found {
        shapes.push(shape(db, table).await?);
    }
    let mut links = links(db, &shapes).await?;
    let customer = choose_customer(&shapes, &links).ok_or_else(|| {
        DbError::data("no table has a single-column key, so none can be the customer table (`customer from \"T\" key K`)")
    })?;
    links.extend(customer_links(db, &shapes, &links, customer).await?);
    let plan = Plan::new(db, &shapes, &links, customer).await?;
    Ok(plan.write())
}

fn quote(db: &Database, name: &str) -> String {
    db.dialect().quote(name)
}

/// The first [`SCAN_ROWS`] non-null values of an expression over a table,
/// as a subquery with one column `v`.
fn scan(table: &str, expr: &str, filter: &str) -> String {
    format!("(SELECT {expr} AS v FROM {table} WHERE {expr} IS NOT NULL{filter} LIMIT {SCAN_ROWS}) s")
}

async fn texts(db: &Database, sql: &str, binds: &[BindValue]) -> Result<Vec<String>, DbError> {
    Ok(db
        .fetch(sql, binds, &[Want::Text])
        .await?
        .into_iter()
        .flatten()
        .filter_map(|v| match v {
            Value::Text(t) => Some(t),
            _ => None,
        })
        .collect())
}

async fn ints(db: &Database, sql: &str, binds: &[BindValue], n: usize) -> Result<Vec<Option<i64>>, DbError> {
    let row = db
        .fetch(sql, binds, &vec![Want::Int; n])
        .await?
        .into_iter()
        .next()
        .unwrap_or_default();
    Ok((0..n)
        .map(|i| match row.get(i) {
            Some(Value::Int(v)) => Some(*v),
            _ => None,
        })
        .collect())
}

/// Samples of an expression (a column, or a JSON property): values,
/// distinct values, the longest.
async fn profile_of(db: &Database, table: &str, expr: &str, filter: &str, binds: &[BindValue], class: Class) -> Result<Profile, DbError> {
    let text = format!("CAST({expr} AS TEXT)");
    let sample = texts(
        db,
        &format!("SELECT {text} FROM {table} WHERE {expr} IS NOT NULL{filter} LIMIT {SAMPLE_ROWS}"),
        binds,
    )
    .await?;
    let mut profile = Profile {
        sample,
        ..Profile::default()
    };
    if profile.sample.is_empty() || !matches!(class, Class::Text | Class::Integer) {
        return Ok(profile);
    }
    let distinct = texts(
        db,
        &format!("SELECT DISTINCT v FROM {} LIMIT {}", scan(table, &text, filter), TYPES_MAX + 1),
        binds,
    )
    .await?;
    if distinct.len() <= TYPES_MAX {
        let mut distinct = distinct;
        distinct.sort();
        profile.distinct = Some(distinct);
    }
    if class == Class::Text {
        let sql = format!("SELECT MAX(LENGTH(v)) FROM {}", scan(table, &text, filter));
        profile.longest = ints(db, &sql, binds, 1).await?.first().copied().flatten().map(|n| n.max(0) as u64);
    }
    Ok(profile)
}

async fn shape<'t>(db: &Database, table: &'t DbTable) -> Result<Shape<'t>, DbError> {
    let t = quote(db, &table.name);
    let mut profiles = Vec::new();
    for column in &table.columns {
        let c = quote(db, &column.name);
        profiles.push(profile_of(db, &t, &c, "", &[], column.class).await?);
    }
    let pk: Vec<usize> = (0..table.columns.len()).filter(|&i| table.columns[i].primary_key).collect();
    let key = match pk.as_slice() {
        [one] => Some(*one),
        [] => table
            .columns
            .iter()
            .position(|c| c.name == "id")
            .or_else(|| {
                let singular = singular(&table.name.to_lowercase());
                table.columns.iter().position(|c| {
                    let n = c.name.to_lowercase();
                    n == format!("{singular}_id") || n == format!("{singular}_no")
                })
            })
            .or(if table.columns.is_empty() { None } else { Some(0) }),
        // A composite key is no camp key.
        _ => None,
    };
    let foreign = foreign_keys(db, &table.name).await?;
    let key_range = match key {
        Some(k) if table.columns[k].class == Class::Integer => {
            let k = quote(db, &table.columns[k].name);
            match ints(db, &format!("SELECT MIN({k}), MAX({k}) FROM {t}"), &[], 2).await?.as_slice() {
                [Some(lo), Some(hi)] => Some((*lo, *hi)),
                _ => None,
            }
        }
        _ => None,
    };
    Ok(Shape {
        table,
        profiles,
        key,
        foreign,
        key_range,
    })
}

async fn foreign_keys(db: &Database, table: &str) -> Result<Vec<(String, String)>, DbError> {
    let sql = match db.backend() {
        crate::db::Backend::Sqlite => "SELECT \"from\", \"table\" FROM pragma_foreign_key_list(?1)",
        crate::db::Backend::Postgres => {
            "SELECT kcu.column_name::text, ccu.table_name::text FROM information_schema.table_constraints tc \
             JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema \
             JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema \
             WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = $1"
        }
    };
    let rows = db
        .fetch(sql, &[BindValue::Text(table.to_string())], &[Want::Text, Want::Text])
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| match r.as_slice() {
            [Value::Text(c), Value::Text(t)] => Some((c.clone(), t.clone())),
            _ => None,
        })
        .collect())
}

/// `customers` → `customer`, `categories` → `category`, `boxes` → `box`.
pub(super) fn singular(name: &str) -> String {
    if let Some(s) = name.strip_suffix("ies") {
        return format!("{s}y");
    }
    for suffix in ["sses", "xes", "ches", "shes"] {
        if name.ends_with(suffix) {
            return name[..name.len() - 2].to_string();
        }
    }
    if name.ends_with("ss") {
        return name.to_string();
    }
    name.strip_suffix('s').unwrap_or(name).to_string()
}

/// A name without the key-like ending: `member_ref` → `member`,
/// `goodsNo` → `goods`.
fn stem(name: &str) -> String {
    let n = name.to_lowercase();
    for suffix in ["_id", "_no", "_ref", "_key", "_code", "_num", "_fk", "-id"] {
        if let Some(s) = n.strip_suffix(suffix) {
            if !s.is_empty() {
                return s.to_string();
            }
        }
    }
    for suffix in ["id", "no"] {
        if let Some(s) = n.strip_suffix(suffix) {
            if s.chars().count() >= 3 {
                return s.to_string();
            }
        }
    }
    n
}

/// Whether a column's (or a property's) name names a table or its key.
fn names_table(column: &str, table: &str, key: Option<&str>) -> bool {
    let c = column.to_lowercase();
    let t = table.to_lowercase();
    let s = stem(&c);
    let key = key.map(str::to_lowercase);
    if let Some(k) = key.as_deref() {
        if k != "id" && (c == k || (stem(k) != k && s == stem(k))) {
            return true;
        }
    }
    [t.clone(), singular(&t)].iter().any(|n| s == *n || c == *n)
}

/// Names of measures, never references found from values alone.
fn measure_name(name: &str) -> bool {
    let n = name.to_lowercase();
    [
        "qty", "quantity", "count", "cnt", "num", "amount", "price", "total", "cost", "fee", "point", "stock", "age", "score", "level",
        "rank", "rating", "day", "year", "month", "hour", "minute", "size", "weight", "height", "balance", "visit", "seq", "sort",
        "position", "version", "duration", "percent", "rate", "limit", "max", "min", "금액", "가격", "수량",
    ]
    .iter()
    .any(|m| n.contains(m))
}

fn money_name(name: &str) -> bool {
    let n = name.to_lowercase();
    [
        "price", "amount", "total", "cost", "fee", "discount", "revenue", "paid", "won", "krw", "금액", "가격", "할인",
    ]
    .iter()
    .any(|m| n.contains(m))
}

fn consent_name(name: &str) -> bool {
    let n = name.to_lowercase();
    ["consent", "agree", "opt_in", "optin", "opt-in", "subscri", "수신", "동의"]
        .iter()
        .any(|m| n.contains(m))
}

/// Whether text is a camp identifier (what a field, event or enum value
/// may be called), and not a literal.
pub(super) fn is_ident(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && !matches!(text, "true" | "false")
}

/// A Korean mobile number: `010-1234-5678`, `01012345678`, `010 1234 5678`,
/// `010.1234.5678`, `+82 10-1234-5678`, `+82-10-1234-5678`.
pub fn is_korean_mobile(text: &str) -> bool {
    let t = text.trim();
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '.' | '(' | ')' | '+'))
    {
        return false;
    }
    let mut digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if t.starts_with('+') {
        let Some(rest) = digits.strip_prefix("82") else { return false };
        digits = format!("0{}", rest.strip_prefix('0').unwrap_or(rest));
    }
    // 010 numbers have 11 digits; the older 011, 016-019 ones 10 or 11.
    match digits.get(..3) {
        Some("010") => digits.len() == 11,
        Some("011" | "016" | "017" | "018" | "019") => matches!(digits.len(), 10 | 11),
        _ => false,
    }
}

pub fn is_email(text: &str) -> bool {
    let t = text.trim();
    let Some((local, domain)) = t.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !t.chars().any(char::is_whitespace)
}

/// An IANA zone name (`Asia/Seoul`, `UTC`); abbreviations such as `KST`
/// are not.
pub fn is_zone(text: &str) -> bool {
    text.parse::<chrono_tz::Tz>().is_ok() && (text.contains('/') || text == "UTC")
}

fn mostly(sample: &[String], test: impl Fn(&str) -> bool) -> bool {
    !sample.is_empty() && sample.iter().filter(|v| test(v)).count() as f64 >= MOSTLY * sample.len() as f64
}

fn is_flag_sample(sample: &[String]) -> bool {
    let set: BTreeSet<&str> = sample.iter().map(|s| s.trim()).collect();
    set.len() == 2 && set.contains("0") && set.contains("1")
}

/// How many sampled values are keys of `to`.
async fn keys_found(db: &Database, to: &Shape<'_>, values: &[BindValue]) -> Result<usize, DbError> {
    let Some(key) = to.key_name() else { return Ok(0) };
    if values.is_empty() {
        return Ok(0);
    }
    let d = db.dialect();
    let list: Vec<String> = (1..=values.len()).map(|i| d.placeholder(i)).collect();
    let sql = format!(
        "SELECT COUNT(DISTINCT {k}) FROM {t} WHERE {k} IN ({})",
        list.join(", "),
        k = quote(db, key),
        t = quote(db, &to.table.name)
    );
    Ok(ints(db, &sql, values, 1).await?.first().copied().flatten().unwrap_or(0).max(0) as usize)
}

/// The distinct sampled values of a column or property, bound as the
/// other table's key would be.
fn key_binds(values: &[String], class: Class) -> Option<Vec<BindValue>> {
    let set: BTreeSet<&String> = values.iter().collect();
    set.into_iter()
        .take(SAMPLE_ROWS)
        .map(|v| match class {
            Class::Integer => v.trim().parse::<i64>().ok().map(BindValue::Int),
            _ => Some(BindValue::Text(v.clone())),
        })
        .collect()
}

/// Whether values (of a column or a property named `name`) are keys of
/// `to`, and how surely.
async fn refers(
    db: &Database,
    name: &str,
    class: Class,
    values: &[String],
    to: &Shape<'_>,
    min_distinct: usize,
) -> Result<Option<(Strength, usize)>, DbError> {
    let Some(key) = to.key else { return Ok(None) };
    if to.class(key) != class || !matches!(class, Class::Integer | Class::Text) || values.is_empty() {
        return Ok(None);
    }
    let Some(binds) = key_binds(values, class) else { return Ok(None) };
    let distinct = binds.len();
    let named = names_table(name, &to.table.name, to.key_name());
    if !named {
        // From values alone: enough of them, not a measure, within the keys.
        if distinct < min_distinct || (class == Class::Integer && measure_name(name)) || is_flag_sample(values) {
            return Ok(None);
        }
        if let (Some((lo, hi)), Class::Integer) = (to.key_range, class) {
            let inside = binds.iter().all(|b| matches!(b, BindValue::Int(n) if *n >= lo && *n <= hi));
            if !inside {
                return Ok(None);
            }
        }
    }
    let found = keys_found(db, to, &binds).await?;
    Ok(if named && found as f64 >= MOSTLY * distinct as f64 && found > 0 {
        Some((Strength::Named, distinct))
    } else if !named && found == distinct {
        Some((Strength::Values, distinct))
    } else {
        None
    })
}

/// Every column that refers to another table's key.
async fn links(db: &Database, shapes: &[Shape<'_>]) -> Result<Vec<Link>, DbError> {
    let mut out = Vec::new();
    for (from, a) in shapes.iter().enumerate() {
        for (column, c) in a.table.columns.iter().enumerate() {
            // A key is no reference (an extension table's key is left alone).
            if Some(column) == a.key || !matches!(c.class, Class::Integer | Class::Text) {
                continue;
            }
            for (to, b) in shapes.iter().enumerate() {
                if to == from || b.key.is_none() {
                    continue;
                }
                let declared = a.foreign.iter().any(|(col, t)| *col == c.name && *t == b.table.name);
                let found = if declared {
                    Some((Strength::Declared, a.profiles[column].sample.len()))
                } else {
                    refers(db, &c.name, c.class, &a.profiles[column].sample, b, VALUE_REF_MIN).await?
                };
                if let Some((strength, distinct)) = found {
                    out.push(Link {
                        from,
                        column,
                        to,
                        strength,
                        distinct,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Columns of tables that refer to the customer table in no other way,
/// whose few values are all customer keys: small tables have few
/// customers in them.
async fn customer_links(db: &Database, shapes: &[Shape<'_>], links: &[Link], customer: usize) -> Result<Vec<Link>, DbError> {
    let mut out = Vec::new();
    let to = &shapes[customer];
    for (from, a) in shapes.iter().enumerate() {
        if from == customer || links.iter().any(|l| l.from == from && l.to == customer) {
            continue;
        }
        for (column, c) in a.table.columns.iter().enumerate() {
            if Some(column) == a.key {
                continue;
            }
            let values = &a.profiles[column].sample;
            if let Some((strength, distinct)) = refers(db, &c.name, c.class, values, to, CUSTOMER_REF_MIN).await? {
                out.push(Link {
                    from,
                    column,
                    to: customer,
                    strength,
                    distinct,
                });
            }
        }
    }
    Ok(out)
}

/// Words that name a customer table; only a tie-breaker.
fn customer_name(name: &str) -> bool {
    matches!(
        singular(&name.to_lowercase()).as_str(),
        "customer" | "user" | "member" | "client" | "account" | "person" | "people" | "subscriber" | "고객" | "회원"
    )
}

/// The customer table: the one events tables refer to, else the one most
/// tables refer to, else the one with contact columns; names break ties.
fn choose_customer(shapes: &[Shape<'_>], links: &[Link]) -> Option<usize> {
    let score = |to: usize| {
        let from = |pred: &dyn Fn(&Link) -> bool| {
            links
                .iter()
                .filter(|l| l.to == to && pred(l))
                .map(|l| l.from)
                .collect::<BTreeSet<_>>()
                .len()
        };
        // Rows with a row id and a time that nothing refers to: events
        // (a customer table has a time of joining too, but others refer
        // to it).
        let eventish = |l: &Link| {
            let s = &shapes[l.from];
            s.row_id().is_some() && s.time_column(&[]).is_some() && !links.iter().any(|m| m.to == l.from && m.strength >= Strength::Named)
        };
        let s = &shapes[to];
        let contact = (0..s.table.columns.len())
            .filter(|&i| {
                let p = &s.profiles[i].sample;
                s.class(i) == Class::Text && (mostly(p, is_korean_mobile) || mostly(p, is_email) || mostly(p, is_zone))
            })
            .count();
        (
            from(&|l| l.strength >= Strength::Named && eventish(l)),
            from(&|l| eventish(l)),
            from(&|l| l.strength >= Strength::Named),
            from(&|_| true),
            contact,
            customer_name(&s.table.name),
            std::cmp::Reverse(to),
        )
    };
    (0..shapes.len()).filter(|&i| shapes[i].key.is_some()).max_by_key(|&i| score(i))
}

/// What each table becomes.
enum Role {
    Customer,
    Lookup {
        name: String,
    },
    Shared(SharedEvents),
    Own {
        event: String,
        customer: usize,
        time: usize,
    },
    /// Left out, with the reason.
    Skipped(String),
}

struct SharedEvents {
    customer: usize,
    kind: usize,
    time: usize,
    props: usize,
    /// Each event type with its typed properties and notes.
    events: Vec<(String, Vec<String>, Vec<String>)>,
    /// Type values that are not camp names.
    unnamed: Vec<String>,
}

struct Plan<'a, 't> {
    shapes: &'a [Shape<'t>],
    links: &'a [Link],
    customer: usize,
    roles: Vec<Role>,
}

impl<'a, 't> Plan<'a, 't> {
    async fn new(db: &Database, shapes: &'a [Shape<'t>], links: &'a [Link], customer: usize) -> Result<Plan<'a, 't>, DbError> {
        let mut roles: Vec<Role> = Vec::new();
        let mut shared_taken = false;
        let mut table_names = BTreeSet::new();
        // Events tables first, so that lookups are what is left.
        let mut kinds: Vec<Option<EventColumns>> = Vec::new();
        for (i, s) in shapes.iter().enumerate() {
            kinds.push(if i == customer {
                None
            } else {
                event_columns(s, i, links, customer)
            });
        }
        // The shared events table: the one with the most event types.
        let shared = (0..shapes.len())
            .filter_map(|i| match kinds[i] {
                Some((_, _, Some((kind, _)))) => shapes[i].profiles[kind].distinct.as_ref().map(|d| (d.len(), i)),
                _ => None,
            })
            .max_by_key(|&(n, i)| (n, shapes[i].table.name == "events", std::cmp::Reverse(i)))
            .map(|(_, i)| i);
        for (i, s) in shapes.iter().enumerate() {
            let role = if i == customer {
                Role::Customer
            } else if s.key.is_none() {
                Role::Skipped("it has no single-column key".into())
            } else if let Some((cust, time, json)) = kinds[i] {
                match json {
                    Some((kind, props)) if Some(i) == shared && !shared_taken => {
                        shared_taken = true;
                        Role::Shared(SharedEvents {
                            customer: cust,
                            kind,
                            time,
                            props,
                            events: Vec::new(),
                            unnamed: Vec::new(),
                        })
                    }
                    _ => Role::Own {
                        event: String::new(),
                        customer: cust,
                        time,
                    },
                }
            } else {
                let mut name = ident(&singular(&s.table.name.to_lowercase()));
                while !table_names.insert(name.clone()) {
                    name.push('_');
                }
                Role::Lookup { name }
            };
            roles.push(role);
        }
        let mut plan = Plan {
            shapes,
            links,
            customer,
            roles,
        };
        // Shared events: one event per type, properties from the JSON.
        let mut event_names = BTreeSet::new();
        for (i, shape) in shapes.iter().enumerate() {
            let Role::Shared(shared) = &plan.roles[i] else { continue };
            let (kind, props) = (shared.kind, shared.props);
            let values = shape.profiles[kind].distinct.clone().unwrap_or_default();
            let mut events = Vec::new();
            let mut unnamed = Vec::new();
            for value in values {
                if !is_ident(&value) {
                    unnamed.push(value);
                    continue;
                }
                let (fields, notes) = plan.json_props(db, i, kind, props, &value).await?;
                event_names.insert(value.clone());
                events.push((value, fields, notes));
            }
            if let Role::Shared(shared) = &mut plan.roles[i] {
                shared.events = events;
                shared.unnamed = unnamed;
            }
        }
        for (i, s) in shapes.iter().enumerate() {
            if let Role::Own { event, .. } = &mut plan.roles[i] {
                let mut name = ident(&singular(&s.table.name.to_lowercase()));
                while !event_names.insert(name.clone()) {
                    name.push('_');
                }
                *event = name;
            }
        }
        Ok(plan)
    }

    /// The lookup table a column refers to, by its schema name.
    fn ref_target(&self, table: usize, column: usize) -> Option<&str> {
        let mut found: Vec<&Link> = self
            .links
            .iter()
            .filter(|l| l.from == table && l.column == column && matches!(self.roles[l.to], Role::Lookup { .. }))
            .collect();
        found.sort_by_key(|l| std::cmp::Reverse(l.strength));
        let best = found.first()?;
        // Two tables whose keys hold the values equally well: no guess.
        if found.iter().filter(|l| l.strength == best.strength).count() > 1 {
            return None;
        }
        match &self.roles[best.to] {
            Role::Lookup { name } => Some(name),
            _ => None,
        }
    }

    /// The type of a column.
    fn column_type(&self, table: usize, column: usize, is_key: bool) -> Option<String> {
        let s = &self.shapes[table];
        let c = &s.table.columns[column];
        let p = &s.profiles[column];
        let base = if is_key {
            match c.class {
                Class::Integer | Class::Text => "id".to_string(),
                _ => return None,
            }
        } else if let Some(target) = self.ref_target(table, column) {
            format!("ref {target}")
        } else {
            match c.class {
                Class::Integer if is_flag_sample(&p.sample) => flag(&c.name),
                Class::Integer if money_name(&c.name) => "money".into(),
                Class::Integer => "int".into(),
                Class::Real => "decimal".into(),
                Class::Boolean => flag(&c.name),
                Class::Timestamp => "timestamp".into(),
                Class::Date => "date".into(),
                Class::Text => text_type(p),
                Class::Json | Class::Other => return None,
            }
        };
        Some(if c.nullable && !is_key { format!("{base}?") } else { base })
    }

    /// Typed properties of one event type of the shared table, from the
    /// JSON of a sample of its rows; and notes on the keys left out.
    async fn json_props(
        &self,
        db: &Database,
        table: usize,
        kind: usize,
        props: usize,
        value: &str,
    ) -> Result<(Vec<String>, Vec<String>), DbError> {
        let s = &self.shapes[table];
        let d = db.dialect();
        let t = quote(db, &s.table.name);
        let k = quote(db, s.name(kind));
        let p = quote(db, s.name(props));
        let filter = format!(" AND {k} = {}", d.placeholder(1));
        let binds = [BindValue::Text(value.to_string())];
        let rows = texts(
            db,
            &format!("SELECT CAST({p} AS TEXT) FROM {t} WHERE {p} IS NOT NULL{filter} LIMIT {SAMPLE_ROWS}"),
            &binds,
        )
        .await?;
        let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
            .iter()
            .filter_map(|r| match serde_json::from_str::<serde_json::Value>(r) {
                Ok(serde_json::Value::Object(m)) => Some(m),
                _ => None,
            })
            .collect();
        let mut keys: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        for object in &objects {
            for (key, v) in object {
                keys.entry(key.clone()).or_default().push(v.clone());
            }
        }
        let mut fields = Vec::new();
        let mut notes = Vec::new();
        for (key, values) in keys {
            if !is_ident(&key) {
                notes.push(format!("property `{key}` is left out: its name is not a camp name"));
                continue;
            }
            let nullable = values.len() < objects.len() || values.iter().any(|v| v.is_null());
            let present: Vec<&serde_json::Value> = values.iter().filter(|v| !v.is_null()).collect();
            if present.is_empty() {
                notes.push(format!("property `{key}` is left out: it is null in every row looked at"));
                continue;
            }
            let ty = if present.iter().all(|v| v.is_i64()) {
                let texts: Vec<String> = present.iter().map(|v| v.to_string()).collect();
                match self.json_ref(db, &key, Class::Integer, &texts).await? {
                    Some(target) => format!("ref {target}"),
                    None if money_name(&key) => "money".into(),
                    None => "int".into(),
                }
            } else if present.iter().all(|v| v.is_number()) {
                "decimal".into()
            } else if present.iter().all(|v| v.is_boolean()) {
                flag(&key)
            } else if present.iter().all(|v| v.is_string()) {
                let texts: Vec<String> = present.iter().filter_map(|v| v.as_str().map(String::from)).collect();
                if let Some(target) = self.json_ref(db, &key, Class::Text, &texts).await? {
                    format!("ref {target}")
                } else if texts
                    .iter()
                    .all(|t| t.len() == 10 && chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok())
                {
                    "date".into()
                } else if texts.iter().all(|t| crate::binds::parse_instant(t).is_some()) {
                    "timestamp".into()
                } else {
                    // Distinct values and the longest over more rows than the sample.
                    let expr = d.json_prop(&p, &key, &camp_compiler::types::FieldType::Text { max: None });
                    let mut profile = profile_of(db, &t, &expr, &filter, &binds, Class::Text).await?;
                    profile.sample = texts;
                    text_type(&profile)
                }
            } else {
                notes.push(format!(
                    "property `{key}` is left out: its values are of several kinds, or lists or objects"
                ));
                continue;
            };
            fields.push(format!("{key}: {ty}{}", if nullable { "?" } else { "" }));
        }
        Ok((fields, notes))
    }

    /// The lookup table whose keys a JSON property holds.
    async fn json_ref(&self, db: &Database, key: &str, class: Class, values: &[String]) -> Result<Option<String>, DbError> {
        let mut found = Vec::new();
        for (i, role) in self.roles.iter().enumerate() {
            let Role::Lookup { name } = role else { continue };
            let to = &self.shapes[i];
            if let Some((strength, _)) = refers(db, key, class, values, to, VALUE_REF_MIN).await? {
                found.push((strength, name.clone()));
            }
        }
        found.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
        let Some((best, _)) = found.first() else { return Ok(None) };
        if found.iter().filter(|(s, _)| s == best).count() > 1 {
            return Ok(None);
        }
        Ok(found.into_iter().next().map(|(_, n)| n))
    }

    fn write(&self) -> String {
        let mut out = String::from(
            "// Written by `camp schema pull` from the database, inferred from the shape of its\n\
             // tables and a sample of their data. Review it: `text(max N)` is the longest value\n\
             // found rounded up, enums hold the values found, refs the keys found.\n\nschema {\n",
        );
        let c = &self.shapes[self.customer];
        let key = c.key.unwrap_or(0);
        let referrers: Vec<String> = self
            .roles
            .iter()
            .enumerate()
            .filter_map(|(i, role)| match role {
                Role::Shared(SharedEvents { customer, .. }) | Role::Own { customer, .. } => {
                    Some(format!("`{}.{}`", self.shapes[i].table.name, self.shapes[i].name(*customer)))
                }
                _ => None,
            })
            .collect();
        if referrers.is_empty() {
            out.push_str("  // the customer table? no events table refers to another table's key: check this choice\n");
        } else {
            out.push_str(&format!(
                "  // the customer table: {} {} to its key\n",
                list(&referrers),
                if referrers.len() == 1 { "refers" } else { "refer" }
            ));
        }
        out.push_str(&format!(
            "  customer from {} key {} {{\n",
            string(&c.table.name),
            ident(c.name(key))
        ));
        self.write_fields(&mut out, self.customer, Some(key), &[]);
        out.push_str("  }\n");
        for (i, role) in self.roles.iter().enumerate() {
            let Role::Lookup { name } = role else { continue };
            let s = &self.shapes[i];
            let key = s.key.unwrap_or(0);
            out.push_str(&format!(
                "\n  table {name} from {} key {} {{\n",
                string(&s.table.name),
                ident(s.name(key))
            ));
            self.write_fields(&mut out, i, Some(key), &[]);
            out.push_str("  }\n");
        }
        for (i, role) in self.roles.iter().enumerate() {
            let Role::Shared(e) = role else { continue };
            let s = &self.shapes[i];
            out.push('\n');
            self.row_id_note(&mut out, i);
            out.push_str(&format!(
                "  events from {} customer {} type {} time {} props {}\n",
                string(&s.table.name),
                ident(s.name(e.customer)),
                ident(s.name(e.kind)),
                ident(s.name(e.time)),
                ident(s.name(e.props))
            ));
            if !e.unnamed.is_empty() {
                let shown: Vec<String> = e.unnamed.iter().map(|v| format!("{v:?}")).collect();
                out.push_str(&format!("  // left out: the types {} are not camp names\n", shown.join(", ")));
            }
            for (event, fields, notes) in &e.events {
                for note in notes {
                    out.push_str(&format!("  // {event}: {note}\n"));
                }
                if fields.is_empty() {
                    out.push_str(&format!("  event {event}\n"));
                } else {
                    out.push_str(&format!("  event {event} {{ {} }}\n", fields.join(", ")));
                }
            }
        }
        for (i, role) in self.roles.iter().enumerate() {
            let Role::Own { event, customer, time } = role else { continue };
            let s = &self.shapes[i];
            out.push('\n');
            self.row_id_note(&mut out, i);
            out.push_str(&format!(
                "  event {event} from {} customer {} time {} {{\n",
                string(&s.table.name),
                ident(s.name(*customer)),
                ident(s.name(*time))
            ));
            let mut skip = vec![*customer, *time];
            skip.extend(s.row_id());
            self.write_fields(&mut out, i, None, &skip);
            out.push_str("  }\n");
        }
        for (i, role) in self.roles.iter().enumerate() {
            if let Role::Skipped(why) = role {
                out.push_str(&format!("\n  // table `{}` is left out: {why}\n", self.shapes[i].table.name));
            }
        }
        out.push_str("}\n");
        out
    }

    fn row_id_note(&self, out: &mut String, table: usize) {
        let s = &self.shapes[table];
        if let Some(id) = s.row_id() {
            if s.name(id) != camp_compiler::lower::ddl::EVENT_ROW_ID {
                out.push_str(&format!(
                    "  // `camp run` reads new rows by an integer column `{}`; this table's row id is `{}`\n",
                    camp_compiler::lower::ddl::EVENT_ROW_ID,
                    s.name(id)
                ));
            }
        }
    }

    fn write_fields(&self, out: &mut String, table: usize, key: Option<usize>, skip: &[usize]) {
        let s = &self.shapes[table];
        for (i, c) in s.table.columns.iter().enumerate() {
            if skip.contains(&i) {
                continue;
            }
            if !is_ident(&c.name) {
                out.push_str(&format!("    // column `{}` is left out: its name is not a camp name\n", c.name));
                continue;
            }
            match self.column_type(table, i, Some(i) == key) {
                Some(ty) => out.push_str(&format!("    {}: {ty}\n", c.name)),
                None => out.push_str(&format!(
                    "    // column `{}` ({}) is left out: camp has no type for it\n",
                    c.name, c.declared
                )),
            }
        }
    }
}

/// The customer column, the time column, and the type and JSON properties
/// columns when there are both.
type EventColumns = (usize, usize, Option<(usize, usize)>);

/// The events columns of a table: its customer column, its time column,
/// and a type column with a JSON properties column when it has them.
fn event_columns(s: &Shape<'_>, index: usize, links: &[Link], customer: usize) -> Option<EventColumns> {
    let row_id = s.row_id()?;
    let cust = links
        .iter()
        .filter(|l| l.from == index && l.to == customer && l.column != row_id)
        .max_by_key(|l| (l.strength, l.distinct, std::cmp::Reverse(l.column)))?
        .column;
    let time = s.time_column(&[row_id, cust])?;
    let props = (0..s.table.columns.len()).find(|&i| {
        s.class(i) == Class::Json
            && !s.profiles[i].sample.is_empty()
            && s.profiles[i]
                .sample
                .iter()
                .all(|v| matches!(serde_json::from_str::<serde_json::Value>(v), Ok(serde_json::Value::Object(_))))
    });
    let kind_hint = |n: &str| {
        matches!(
            n.to_lowercase().as_str(),
            "kind" | "type" | "event" | "action" | "event_type" | "event_name" | "name" | "activity" | "verb"
        )
    };
    let kind = (0..s.table.columns.len())
        .filter(|&i| {
            i != cust
                && s.class(i) == Class::Text
                && s.profiles[i]
                    .distinct
                    .as_ref()
                    .is_some_and(|d| !d.is_empty() && d.iter().filter(|v| is_ident(v)).count() * 2 > d.len())
        })
        .max_by_key(|&i| {
            (
                kind_hint(s.name(i)),
                s.profiles[i].distinct.as_ref().map_or(0, Vec::len),
                std::cmp::Reverse(i),
            )
        });
    Some((cust, time, kind.zip(props)))
}

fn flag(name: &str) -> String {
    if consent_name(name) {
        "consent".into()
    } else {
        "bool".into()
    }
}

/// A text column or property: a phone, an email, a zone, an enum, or text
/// as long as its longest value rounded up.
fn text_type(p: &Profile) -> String {
    let sample = &p.sample;
    if mostly(sample, is_zone) {
        return "tz".into();
    }
    if mostly(sample, is_korean_mobile) {
        return "phone".into();
    }
    if mostly(sample, is_email) {
        return "email".into();
    }
    if let Some(values) = &p.distinct {
        if (2..=ENUM_MAX).contains(&values.len()) && values.iter().all(|v| is_ident(v)) && sample.len() >= 2 * values.len() {
            return format!("enum({})", values.join(", "));
        }
    }
    match p.longest {
        Some(n) => format!("text(max {})", round_up(n)),
        None => "text".into(),
    }
}

/// 7 → 10, 23 → 30, 140 → 200, 1234 → 2000.
fn round_up(n: u64) -> u64 {
    let step = match n {
        0..=100 => 10,
        101..=1000 => 100,
        _ => 1000,
    };
    n.div_ceil(step).max(1) * step
}

fn list(items: &[String]) -> String {
    match items {
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => String::new(),
    }
}

/// A table name as a camp string.
fn string(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A database name as a camp identifier.
pub(super) fn ident(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' })
        .collect();
    if clean.chars().next().is_none_or(|c| !(c.is_alphabetic() || c == '_')) {
        format!("_{clean}")
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_mobiles_in_their_variants() {
        for ok in [
            "010-1234-5678",
            "01012345678",
            "010 1234 5678",
            "010.1234.5678",
            "+82 10-1234-5678",
            "+82-10-1234-5678",
            "011-123-4567",
            "+82 (0)10 1234 5678",
        ] {
            assert!(is_korean_mobile(ok), "{ok}");
        }
        for bad in [
            "02-1234-5678",
            "1234",
            "010-1234-567",
            "+1 010 1234 5678",
            "010-1234-5678 ext",
            "hello",
        ] {
            assert!(!is_korean_mobile(bad), "{bad}");
        }
    }

    #[test]
    fn zones_emails_and_names() {
        assert!(is_zone("Asia/Seoul") && is_zone("UTC") && is_zone("America/New_York"));
        assert!(!is_zone("KST") && !is_zone("Japan") && !is_zone("Mars/Base"));
        assert!(is_email("kim@shop.co.kr") && !is_email("kim@shop") && !is_email("a b@c.d"));
        assert!(is_ident("cart_add") && is_ident("구매") && !is_ident("9lives") && !is_ident("page view") && !is_ident("true"));
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("boxes"), "box");
        assert_eq!(singular("goods"), "good");
        assert_eq!(singular("activity_log"), "activity_log");
        assert!(names_table("member_ref", "members", Some("member_no")));
        assert!(names_table("member_no", "members", Some("member_no")));
        assert!(names_table("customer_id", "customers", Some("id")));
        assert!(names_table("goods", "goods", Some("goods_no")));
        assert!(!names_table("paid", "payments", Some("id")));
        assert_eq!(round_up(7), 10);
        assert_eq!(round_up(23), 30);
        assert_eq!(round_up(140), 200);
        assert_eq!(round_up(0), 10);
    }
}
