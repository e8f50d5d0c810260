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
                })
            })
            .collect();
        out.push(DbTable { name, columns });
    }
    Ok(out)
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
        FieldType::Text { .. } | FieldType::Enum(_) | FieldType::Phone | FieldType::Email | FieldType::Tz => matches!(class, Class::Text),
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
            Class::Text if lower.contains("phone") || lower.contains("mobile") => "phone".into(),
            Class::Text if lower.contains("email") => "email".into(),
            Class::Text if lower == "timezone" || lower == "tz" || lower == "time_zone" => "tz".into(),
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
                if let Some(Value::Text(kind)) = row.into_iter().next() {
                    out.push_str(&format!("  event {} {{ }}\n", ident(&kind)));
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
