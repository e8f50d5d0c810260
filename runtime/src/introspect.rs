//! What tables and columns a database really has: `camp schema pull`
//! writes a schema from it, and `camp check --database` compares it with
//! the schema file.

use crate::db::{Backend, Database, DbError, Want};
use camp_compiler::codes;
use camp_compiler::schema::{EventStorage, FieldModel, SchemaModel};
use camp_compiler::templating::Value;
use camp_compiler::types::FieldType;
use camp_compiler::Diagnostic;
use std::collections::{BTreeMap, BTreeSet};

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
        let is_instant = |v: &Value| matches!(v, Value::Text(t) if t.len() > 10 && crate::binds::parse_instant(t).is_some());
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

/// Property types of one event type of a shared events table, from the
/// JSON of some of its rows.
async fn json_props(
    db: &Database,
    table: &str,
    kind_col: &str,
    props_col: &str,
    kind: &str,
    tables: &BTreeSet<String>,
) -> Result<Vec<(String, String)>, DbError> {
    let d = db.dialect();
    let sql = format!(
        "SELECT {p} FROM {t} WHERE {k} = {ph} LIMIT 50",
        p = d.quote(props_col),
        t = d.quote(table),
        k = d.quote(kind_col),
        ph = d.placeholder(1)
    );
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    for row in db.fetch(&sql, &[crate::BindValue::Text(kind.to_string())], &[Want::Text]).await? {
        let Some(Value::Text(text)) = row.into_iter().next() else {
            continue;
        };
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        for (key, value) in map {
            let ty = match &value {
                serde_json::Value::Number(n) if n.is_i64() && tables.contains(&key) => format!("ref {key}"),
                serde_json::Value::Number(n) if n.is_i64() && (key.contains("price") || key.contains("amount")) => "money".into(),
                serde_json::Value::Number(n) if n.is_i64() => "int".into(),
                serde_json::Value::Number(_) => "decimal".into(),
                serde_json::Value::Bool(_) => "bool".into(),
                serde_json::Value::String(t) if crate::binds::parse_instant(t).is_some() => "timestamp".into(),
                serde_json::Value::String(_) => "text".into(),
                _ => continue,
            };
            found.entry(key).or_insert(ty);
        }
    }
    Ok(found.into_iter().collect())
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

/// A schema file written from what the database has: tables with a
/// customer key column and a time column become events, a table named like
/// customers becomes the customer table, the rest lookup tables.
pub async fn pull(db: &Database) -> Result<String, DbError> {
    let tables = tables(db).await?;
    let customer = tables
        .iter()
        .find(|t| matches!(t.name.as_str(), "customers" | "customer" | "users" | "members" | "user" | "member"))
        .ok_or_else(|| DbError::data("no customer table found (looked for `customers`, `users`, `members`)"))?;
    let key_of = |t: &DbTable| {
        t.columns
            .iter()
            .find(|c| c.primary_key)
            .or(t.columns.first())
            .map(|c| c.name.clone())
    };
    let customer_key = key_of(customer).unwrap_or_else(|| "id".into());
    let lookups: Vec<&DbTable> = tables
        .iter()
        .filter(|t| t.name != customer.name && t.column("customer_id").is_none())
        .collect();
    let singular = |name: &str| {
        name.strip_suffix("ies")
            .map(|s| format!("{s}y"))
            .unwrap_or_else(|| name.trim_end_matches('s').to_string())
    };
    let table_names: BTreeSet<String> = lookups.iter().map(|t| singular(&t.name)).collect();
    let field_type = |c: &DbColumn, is_key: bool| -> String {
        let lower = c.name.to_ascii_lowercase();
        let base = match c.class {
            _ if is_key => "id".to_string(),
            Class::Integer if lower.ends_with("_id") && table_names.contains(lower.trim_end_matches("_id")) => {
                format!("ref {}", lower.trim_end_matches("_id"))
            }
            Class::Integer if lower.contains("price") || lower.contains("amount") => "money".into(),
            Class::Integer => "int".into(),
            Class::Real => "decimal".into(),
            Class::Boolean if lower.contains("consent") || lower.contains("agree") => "consent".into(),
            Class::Boolean => "bool".into(),
            Class::Timestamp => "timestamp".into(),
            Class::Date => "date".into(),
            Class::Text if lower.contains("push") || lower.contains("device_token") || lower.contains("fcm") => "push_token".into(),
            Class::Text if lower.contains("phone") || lower.contains("mobile") => "phone".into(),
            Class::Text if lower.contains("email") => "email".into(),
            Class::Text if lower == "timezone" || lower == "tz" || lower == "time_zone" => "tz".into(),
            Class::Text if !c.enum_values.is_empty() => format!("enum({})", c.enum_values.join(", ")),
            _ => "text".into(),
        };
        if c.nullable && !is_key {
            format!("{base}?")
        } else {
            base
        }
    };
    let mut out = String::from("// Written by `camp schema pull` from the database. Review the types:\n// `text` fields need `max N` for channel length checks, enums their values.\n\nschema {\n");
    let write_fields = |out: &mut String, t: &DbTable, key: Option<&str>, skip: &[&str]| {
        for c in &t.columns {
            if skip.contains(&c.name.as_str()) {
                continue;
            }
            out.push_str(&format!(
                "    {}: {}\n",
                ident(&c.name),
                field_type(c, Some(c.name.as_str()) == key)
            ));
        }
    };
    out.push_str(&format!("  customer from \"{}\" key {} {{\n", customer.name, ident(&customer_key)));
    write_fields(&mut out, customer, Some(&customer_key), &[]);
    out.push_str("  }\n");
    for t in &lookups {
        if t.column("type").is_some() || t.column("kind").is_some() && t.columns.iter().any(|c| c.class == Class::Json) {
            continue;
        }
        let key = key_of(t).unwrap_or_else(|| "id".into());
        out.push_str(&format!(
            "\n  table {} from \"{}\" key {} {{\n",
            ident(&singular(&t.name)),
            t.name,
            ident(&key)
        ));
        write_fields(&mut out, t, Some(&key), &[]);
        out.push_str("  }\n");
    }
    for t in tables
        .iter()
        .filter(|t| t.name != customer.name && t.column("customer_id").is_some())
    {
        let time = t.columns.iter().find(|c| c.class == Class::Timestamp).map(|c| c.name.clone());
        let json = t
            .columns
            .iter()
            .find(|c| c.class == Class::Json || c.name == "properties" || c.name == "props");
        let kind = t.columns.iter().find(|c| c.name == "kind" || c.name == "type" || c.name == "event");
        let Some(time) = time else { continue };
        if let (Some(json), Some(kind)) = (json, kind) {
            out.push_str(&format!(
                "\n  events from \"{}\" customer customer_id type {} time {} props {}\n",
                t.name,
                ident(&kind.name),
                ident(&time),
                ident(&json.name)
            ));
            let sql = format!(
                "SELECT DISTINCT {} FROM {} ORDER BY 1",
                db.dialect().quote(&kind.name),
                db.dialect().quote(&t.name)
            );
            for row in db.fetch(&sql, &[], &[Want::Text]).await? {
                if let Some(Value::Text(event)) = row.into_iter().next() {
                    let props = json_props(db, &t.name, &kind.name, &json.name, &event, &table_names).await?;
                    let props: Vec<String> = props.iter().map(|(k, ty)| format!("{}: {ty}", ident(k))).collect();
                    out.push_str(&format!("  event {} {{ {} }}\n", ident(&event), props.join(", ")));
                }
            }
        } else {
            let rowid = camp_compiler::lower::ddl::EVENT_ROW_ID;
            out.push_str(&format!(
                "\n  event {} from \"{}\" customer customer_id time {} {{\n",
                ident(&singular(&t.name)),
                t.name,
                ident(&time)
            ));
            write_fields(&mut out, t, None, &["customer_id", time.as_str(), rowid]);
            out.push_str("  }\n");
        }
    }
    out.push_str("}\n");
    Ok(out)
}

/// A column name as a camp identifier.
fn ident(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' })
        .collect();
    if clean.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        format!("_{clean}")
    } else {
        clean
    }
}
