//! Enum drift (E0504): values the database holds that a schema `enum(..)`
//! lacks, in customer fields, lookup fields, the columns of events with a
//! table of their own, and the JSON properties of the shared events table.

use super::{Class, DbTable};
use crate::db::{Database, DbError, Want};
use crate::BindValue;
use camp_compiler::codes;
use camp_compiler::schema::{EventStorage, FieldModel, SchemaModel};
use camp_compiler::templating::Value;
use camp_compiler::types::FieldType;
use camp_compiler::Diagnostic;

/// Values listed in one diagnostic.
const SHOWN: usize = 10;

/// Where the values of one enum field live.
struct Site<'s> {
    field: &'s FieldModel,
    values: &'s [String],
    table: &'s str,
    /// The SQL expression of the value (a column, or a JSON property).
    expr: String,
    /// For a shared event: its type column, and the event's name.
    kind: Option<(&'s str, &'s str)>,
    /// How the place is named in the message.
    place: String,
}

/// Every enum field whose column (or JSON property) holds values that the
/// enum lacks, as E0504 on the field. Tables and columns missing from the
/// database, or not text, are left to [`super::compare`].
pub async fn enum_drift(db: &Database, schema: &SchemaModel, tables: &[DbTable]) -> Result<Vec<Diagnostic>, DbError> {
    let d = db.dialect();
    let text_column = |table: &str, column: &str| {
        tables
            .iter()
            .find(|t| t.name == table)
            .and_then(|t| t.column(column))
            .is_some_and(|c| c.class == Class::Text)
    };
    let mut sites = Vec::new();
    for table in schema.customer.iter().chain(&schema.tables) {
        for (field, values) in enums(&table.fields) {
            if text_column(&table.source, &field.name) {
                sites.push(Site {
                    field,
                    values,
                    table: &table.source,
                    expr: d.quote(&field.name),
                    kind: None,
                    place: format!("column `{}.{}`", table.source, field.name),
                });
            }
        }
    }
    for event in &schema.events {
        for (field, values) in enums(&event.props) {
            match (&event.storage, &schema.events_table) {
                (EventStorage::Own { source, .. }, _) if text_column(source, &field.name) => sites.push(Site {
                    field,
                    values,
                    table: source,
                    expr: d.quote(&field.name),
                    kind: None,
                    place: format!("column `{source}.{}`", field.name),
                }),
                (EventStorage::Shared, Some(shared))
                    if tables
                        .iter()
                        .find(|t| t.name == shared.source)
                        .is_some_and(|t| t.column(&shared.type_column).is_some() && t.column(&shared.props_column).is_some()) =>
                {
                    sites.push(Site {
                        field,
                        values,
                        table: &shared.source,
                        expr: d.json_prop(&d.quote(&shared.props_column), &field.name, &field.ty),
                        kind: Some((&shared.type_column, &event.name)),
                        place: format!(
                            "property `{}` of `{}` events (`{}.{}`)",
                            field.name, event.name, shared.source, shared.props_column
                        ),
                    })
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for site in sites {
        let found = missing(db, &site).await?;
        if !found.is_empty() {
            out.push(diagnostic(&site, found));
        }
    }
    Ok(out)
}

fn enums(fields: &[FieldModel]) -> Vec<(&FieldModel, &Vec<String>)> {
    fields
        .iter()
        .filter_map(|f| match &f.ty {
            FieldType::Enum(values) => Some((f, values)),
            _ => None,
        })
        .collect()
}

/// The values (at most [`SHOWN`] + 1, in byte order) that the enum lacks.
async fn missing(db: &Database, site: &Site<'_>) -> Result<Vec<String>, DbError> {
    let d = db.dialect();
    let value = format!("CAST({} AS TEXT)", site.expr);
    let mut binds = Vec::new();
    let mut filter = String::new();
    if let Some((column, event)) = site.kind {
        binds.push(BindValue::Text(event.to_string()));
        filter = format!(" AND {} = {}", d.quote(column), d.placeholder(1));
    }
    let first = binds.len() + 1;
    let list: Vec<String> = (first..first + site.values.len()).map(|i| d.placeholder(i)).collect();
    binds.extend(site.values.iter().map(|v| BindValue::Text(v.clone())));
    let sql = format!(
        "SELECT v FROM (SELECT DISTINCT {value} AS v FROM {t} WHERE {value} IS NOT NULL{filter} AND {value} NOT IN ({})) s \
         ORDER BY v{} LIMIT {}",
        list.join(", "),
        d.text_order(),
        SHOWN + 1,
        t = d.quote(site.table),
    );
    Ok(db
        .fetch(&sql, &binds, &[Want::Text])
        .await?
        .into_iter()
        .flatten()
        .filter_map(|v| match v {
            Value::Text(t) => Some(t),
            _ => None,
        })
        .collect())
}

fn diagnostic(site: &Site<'_>, found: Vec<String>) -> Diagnostic {
    let more = found.len() > SHOWN;
    let shown: Vec<String> = found.iter().take(SHOWN).map(|v| format!("`{v}`")).collect();
    let listed = format!("{}{}", shown.join(", "), if more { ", and more" } else { "" });
    let plural = found.len() > 1;
    let message = format!(
        "{} holds {} that the enum of `{}` lacks: {listed}",
        site.place,
        if plural { "values" } else { "a value" },
        site.field.name
    );
    let writable = found.iter().take(SHOWN).all(|v| super::pull::is_ident(v));
    let help = if writable && !more {
        let all: Vec<&str> = site
            .values
            .iter()
            .map(String::as_str)
            .chain(found.iter().map(String::as_str))
            .collect();
        format!(
            "add {} to the enum, `enum({})`, or change those rows",
            if plural { "them" } else { "it" },
            all.join(", ")
        )
    } else if writable {
        "add them to the enum (more than these; `camp schema pull` lists all it finds), or change those rows".to_string()
    } else {
        "a value that is not a camp name cannot be an enum value: change those rows, or declare the field as `text`".to_string()
    };
    Diagnostic::new(
        codes::DB_ENUM_DRIFT,
        site.field.file,
        site.field.span,
        message,
        format!("declared as enum({})", site.values.join(", ")),
    )
    .with_help(help)
}
