//! What tables and columns a database really has: `camp schema pull`
//! writes a schema from it (`pull.rs`), and `camp check --database`
//! compares it with the schema file (here) and with the values the
//! database holds (`drift.rs`).

mod drift;
mod pull;

pub use drift::enum_drift;
pub use pull::{is_email, is_korean_mobile, is_zone, pull, SAMPLE_ROWS, SCAN_ROWS};

use crate::db::{Backend, Database, DbError, Want};
use camp_compiler::codes;
use camp_compiler::schema::{EventStorage, FieldModel, SchemaModel};
use camp_compiler::templating::Value;
use camp_compiler::types::FieldType;
use camp_compiler::Diagnostic;
use std::collections::BTreeMap;

/// A column's storage class, normalized across backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Integer,
    Real,
    Text,
    Boolean,
    Timestamp,
    Date,
    Json,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DbColumn {
    pub name: String,
    pub declared: String,
    pub class: Class,
    pub nullable: bool,
    pub primary_key: bool,
    /// For text columns holding a few identifier-like values: those values.
    pub enum_values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DbTable {
    pub name: String,
    pub columns: Vec<DbColumn>,
}

impl DbTable {
    pub fn column(&self, name: &str) -> Option<&DbColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

fn classify(declared: &str) -> Class {
    let t = declared.to_ascii_lowercase();
    match t.as_str() {
        _ if t.contains("timestamp") || t.contains("datetime") => Class::Timestamp,
        "date" => Class::Date,
        // Not integers, though their names hold "int".
        "interval" | "point" => Class::Other,
        _ if t.contains("json") => Class::Json,
        _ if t.contains("bool") => Class::Boolean,
        _ if t.contains("int") => Class::Integer,
        _ if t.contains("real") || t.contains("double") || t.contains("float") || t.contains("numeric") || t.contains("decimal") => {
            Class::Real
        }
        _ if t.contains("char") || t.contains("text") || t.contains("clob") || t.is_empty() => Class::Text,
        _ => Class::Other,
    }
}

/// Every user table (camp's own tables left out), with its columns.
pub async fn tables(db: &Database) -> Result<Vec<DbTable>, DbError> {
    let (list, columns) = match db.backend() {
        Backend::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'camp\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY name",
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid",
        ),
        Backend::Postgres => (
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%' ORDER BY table_name",
            "SELECT c.column_name::text, c.data_type::text, CASE WHEN c.is_nullable = 'NO' THEN 1 ELSE 0 END, \
             CASE WHEN EXISTS (SELECT 1 FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage k \
               ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema \
               WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema AND tc.table_name = c.table_name AND k.column_name = c.column_name) THEN 1 ELSE 0 END \
             FROM information_schema.columns c WHERE c.table_schema = current_schema() AND c.table_name = $1 ORDER BY c.ordinal_position",
        ),
    };
    let names = db.fetch(list, &[], &[Want::Text]).await?;
    let mut out = Vec::new();
    for row in names {
        let Some(Value::Text(name)) = row.into_iter().next() else {
            continue;
        };
        let rows = db
            .fetch(
                columns,
                &[crate::BindValue::Text(name.clone())],
                &[Want::Text, Want::Text, Want::Int, Want::Int],
            )
            .await?;
        let columns = rows
            .into_iter()
            .filter_map(|r| {
                let mut r = r.into_iter();
                let (Some(Value::Text(col)), declared, Some(Value::Int(notnull)), Some(Value::Int(pk))) =
                    (r.next(), r.next(), r.next(), r.next())
                else {
                    return None;
                };
                let declared = match declared {
                    Some(Value::Text(t)) => t,
                    _ => String::new(),
                };
                Some(DbColumn {
                    class: classify(&declared),
                    name: col,
                    declared,
                    nullable: notnull == 0 && pk == 0,
                    primary_key: pk != 0,
                    enum_values: Vec::new(),
                })
            })
            .collect();
        let mut table = DbTable { name, columns };
        if db.backend() == Backend::Sqlite {
            refine_by_values(db, &mut table).await?;
        }
        find_enums(db, &mut table).await?;
        out.push(table);
    }
    Ok(out)
}

/// Text columns with a handful of identifier-like values are enums.
async fn find_enums(db: &Database, table: &mut DbTable) -> Result<(), DbError> {
    let d = db.dialect();
    for column in table.columns.iter_mut().filter(|c| c.class == Class::Text && !c.primary_key) {
        let sql = format!(
            "SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT 13",
            c = d.quote(&column.name),
            t = d.quote(&table.name)
        );
        let values: Vec<String> = db
            .fetch(&sql, &[], &[Want::Text])
            .await?
            .into_iter()
            .flatten()
            .filter_map(|v| match v {
                Value::Text(t) => Some(t),
                _ => None,
            })
            .collect();
        let identifier = |t: &String| !t.is_empty() && t.len() <= 20 && t.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if (2..=12).contains(&values.len()) && values.iter().all(identifier) {
            let mut values = values;
            values.sort();
            column.enum_values = values;
        }
    }
    Ok(())
}

/// SQLite declares timestamps and dates as TEXT and booleans as INTEGER:
/// look at some values to tell them apart.
async fn refine_by_values(db: &Database, table: &mut DbTable) -> Result<(), DbError> {
    let d = db.dialect();
    for column in table
        .columns
        .iter_mut()
        .filter(|c| matches!(c.class, Class::Text | Class::Integer) && !c.primary_key)
    {
        let sql = format!(
            "SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT 20",
            c = d.quote(&column.name),
            t = d.quote(&table.name)
        );
        let want = if column.class == Class::Text { Want::Text } else { Want::Int };
        let values: Vec<Value> = db.fetch(&sql, &[], &[want]).await?.into_iter().flatten().collect();
        if values.is_empty() {
            continue;
        }
        let all = |f: &dyn Fn(&Value) -> bool| values.iter().all(f);
        let is_date = |v: &Value| matches!(v, Value::Text(t) if t.len() == 10 && chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok());
        // UTC text as SQLite's date functions write it (DESIGN §3.2): text
        // with a `T` or a zone does not compare with it.
        let is_instant = |v: &Value| matches!(v, Value::Text(t) if t.len() > 10 && t.as_bytes()[10] == b' ' && !t.ends_with('Z') && !t[10..].contains(['+', '-']) && crate::binds::parse_instant(t).is_some());
        let is_flag = |v: &Value| matches!(v, Value::Int(0 | 1));
        let is_json = |v: &Value| matches!(v, Value::Text(t) if t.starts_with('{') && serde_json::from_str::<serde_json::Value>(t).is_ok());
        if all(&is_date) {
            column.class = Class::Date;
        } else if all(&is_instant) {
            column.class = Class::Timestamp;
        } else if all(&is_json) {
            column.class = Class::Json;
        } else if all(&is_flag) && (column.name.contains("consent") || column.name.starts_with("is_") || column.name.starts_with("has_")) {
            column.class = Class::Boolean;
        }
    }
    Ok(())
}

/// The classes a schema type may be stored as.
fn accepts(ty: &FieldType, class: Class) -> bool {
    match ty {
        FieldType::Id | FieldType::Ref(_) => matches!(class, Class::Integer | Class::Text),
        FieldType::Int { .. } | FieldType::Money { .. } => matches!(class, Class::Integer),
        FieldType::Decimal => matches!(class, Class::Real | Class::Integer),
        FieldType::Bool | FieldType::Consent => matches!(class, Class::Boolean | Class::Integer),
        FieldType::Timestamp => matches!(class, Class::Timestamp | Class::Text),
        FieldType::Date => matches!(class, Class::Date | Class::Text),
        FieldType::Text { .. } | FieldType::Enum(_) | FieldType::Phone | FieldType::Email | FieldType::PushToken | FieldType::Tz => {
            matches!(class, Class::Text)
        }
    }
}

/// Where the schema file and the database disagree, as diagnostics on the
/// schema file.
pub fn compare(schema: &SchemaModel, tables: &[DbTable]) -> Vec<Diagnostic> {
    let by_name: BTreeMap<&str, &DbTable> = tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let names: Vec<&str> = by_name.keys().copied().collect();
    let mut out = Vec::new();
    let mut check_table =
        |source: &str, anchor: (camp_compiler::FileId, camp_grammar::Span), fields: Vec<(&str, Option<&FieldModel>, FieldType)>| {
            let Some(table) = by_name.get(source) else {
                out.push(
                    Diagnostic::new(
                        codes::DB_TABLE_MISSING,
                        anchor.0,
                        anchor.1,
                        format!("the database has no table `{source}`"),
                        "declared here",
                    )
                    .with_help(camp_compiler::suggest::help_for(source, names.iter().copied(), "table")),
                );
                return;
            };
            for (column, field, ty) in fields {
                let (file, span) = field.map(|f| (f.file, f.span)).unwrap_or(anchor);
                let Some(db_column) = table.column(column) else {
                    let help = camp_compiler::suggest::help_for(column, table.columns.iter().map(|c| c.name.as_str()), "column");
                    out.push(
                        Diagnostic::new(
                            codes::DB_COLUMN_MISSING,
                            file,
                            span,
                            format!("table `{source}` has no column `{column}`"),
                            "declared here",
                        )
                        .with_help(help),
                    );
                    continue;
                };
                if !accepts(&ty, db_column.class) {
                    out.push(
                        Diagnostic::new(
                            codes::DB_COLUMN_TYPE,
                            file,
                            span,
                            format!("column `{source}.{column}` is `{}` in the database", db_column.declared),
                            format!("declared as {ty}"),
                        )
                        .with_help("change the field's type to match the column, or migrate the column"),
                    );
                }
            }
        };
    for table in schema.tables.iter().chain(schema.customer.as_ref()) {
        let fields = table.fields.iter().map(|f| (f.name.as_str(), Some(f), f.ty.clone())).collect();
        check_table(&table.source, (table.file, table.span), fields);
    }
    if let Some(t) = &schema.events_table {
        let fields = vec![
            (t.customer_column.as_str(), None, FieldType::Id),
            (t.type_column.as_str(), None, FieldType::Text { max: None }),
            (t.time_column.as_str(), None, FieldType::Timestamp),
        ];
        check_table(&t.source, (t.file, t.span), fields);
    }
    for event in &schema.events {
        if let EventStorage::Own {
            source,
            customer_column,
            time_column,
        } = &event.storage
        {
            let mut fields = vec![
                (customer_column.as_str(), None, FieldType::Id),
                (time_column.as_str(), None, FieldType::Timestamp),
            ];
            fields.extend(event.props.iter().map(|p| (p.name.as_str(), Some(p), p.ty.clone())));
            check_table(source, (event.file, event.span), fields);
        }
    }
    out
}

/// Everything `camp check --database` finds: the schema against the
/// tables and columns (E0501-E0503), and enums against the values the
/// columns and JSON properties hold (E0504).
pub async fn check_database(db: &Database, schema: &SchemaModel) -> Result<Vec<Diagnostic>, DbError> {
    let tables = tables(db).await?;
    let mut found = compare(schema, &tables);
    found.extend(enum_drift(db, schema, &tables).await?);
    Ok(found)
}
