//! An injection corpus: quotes, backslashes, comments, semicolons, NUL,
//! `DROP TABLE`, LIKE wildcards, placeholders of every driver, and Unicode
//! (Hangul, emoji, right-to-left, combining marks) as string literals in
//! conditions and as `??` defaults in messages, and as the data they match.
//!
//! For every string and form: the SQL text is the same as for a harmless
//! literal (the string only ever travels as a bound parameter); the query
//! runs on SQLite and PostgreSQL and selects exactly the customers whose
//! data holds that string; the tables are intact afterwards; and a `??`
//! default renders the string exactly.
//!
//! PostgreSQL text cannot hold NUL (`\0`). Such a customer is not written
//! there, and a literal holding one fails with a clear error that names it
//! (the runtime refuses it before the server sees it); SQLite handles it.

use camp_compiler::lower::{queries, Dialect, Param, Postgres, Query, Sqlite};
use camp_compiler::program::Program;
use camp_compiler::templating::{self, Context, Value};
use camp_compiler::{Input, Workspace};
use camp_runtime::binds::{BindValue, Bindings};
use camp_runtime::db::Want;
use camp_runtime::dryrun;
use camp_runtime::testing::TestPostgres;
use camp_runtime::Database;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

const SCHEMA: &str = r#"
schema {
  customer from "customers" key id {
    id: id
    name: text
    nickname: text?
    marketing_consent: consent
    timezone: tz = "Asia/Seoul"
  }
  events from "events" customer customer_id type kind time occurred_at props properties
  event note_added { note: text }
  event purchase from "orders" customer customer_id time ordered_at { order_id: text, amount: money }
}
policy {
  timezone "Asia/Seoul"
  sender "테스트샵 02-000-0000"
  optout "무료수신거부 080-000-0000"
}
"#;

const CORPUS: &[&str] = &[
    "'",
    "''",
    "\"",
    "\"\"",
    "\\",
    "\\'",
    "\\\"",
    "--",
    "a -- b",
    ";",
    "; SELECT 1",
    "/*",
    "*/",
    "/* comment */",
    "x'; DROP TABLE customers; --",
    "\"; DROP TABLE \"customers\"; --",
    "Robert'); DROP TABLE orders;--",
    "DROP TABLE events",
    "' OR '1'='1",
    "1 OR 1=1",
    "%",
    "_",
    "100%",
    "a_b",
    "%_%",
    "%'",
    "$1",
    "?1",
    "?",
    ":name",
    "$$",
    "$tag$ x $tag$",
    "E'\\x00'",
    "\0",
    "a\0b",
    "\0'; DROP TABLE customers; --",
    "김민수",
    "민",
    "ㅁ",
    "한글 이름 (광고)",
    "😀",
    "👩\u{200D}👩\u{200D}👧",
    "שלום",
    "مرحبا",
    "\u{202E}txt.exe",
    "e\u{301}",
    "é",
    "\u{FEFF}bom",
    "Z\u{337}a\u{337}l\u{337}g\u{337}o\u{337}",
    "#{name}",
    "#{optout}",
    "}",
    "{",
    "\n",
    "\t",
    "tab\tand\nnewline",
    " ",
    "  two  ",
    "",
    "null",
    "NULL",
];

/// How a string is written in `.camp` source: the grammar's escapes for
/// quote, backslash, line break, tab and `#`; everything else as is (NUL
/// has no escape and is written raw).
fn literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '#' => out.push_str("\\#"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The condition forms a literal goes through, and which customers each
/// selects: (name, nickname) -> selected.
type Expect = fn(&str, Option<&str>, &str) -> bool;
const FORMS: &[(&str, &str, Expect)] = &[
    ("eq", "customer.name == {L}", |name, _, s| name == s),
    ("ne", "customer.name != {L}", |name, _, s| name != s),
    ("contains", "customer.name contains {L}", |name, _, s| name.contains(s)),
    ("in", "customer.name in ({L}, \"— none —\")", |name, _, s| {
        name == s || name == "— none —"
    }),
    ("not_in", "customer.name not in ({L})", |name, _, s| name != s),
    ("lt", "customer.name < {L}", |name, _, s| name.as_bytes() < s.as_bytes()),
    ("nick", "customer.nickname == {L} or customer.nickname is null", |_, nick, s| {
        nick.is_none_or(|n| n == s)
    }),
    // The name is also each customer's note (JSON) and order id (a column).
    ("json", "did note_added where note == {L}", |name, _, s| name == s),
    ("column", "did purchase where order_id contains {L}", |name, _, s| name.contains(s)),
];

const NEUTRAL: &str = "harmless";

struct Customer {
    id: i64,
    name: String,
    nickname: Option<String>,
}

/// One customer per corpus string (its name, note and order id), the odd
/// ones with it as nickname too, and a few plain ones.
fn customers() -> Vec<Customer> {
    let mut out: Vec<Customer> = CORPUS
        .iter()
        .enumerate()
        .map(|(i, s)| Customer {
            id: i as i64 + 1,
            name: s.to_string(),
            nickname: (i % 2 == 1).then(|| s.to_string()),
        })
        .collect();
    for (n, name) in ["plain name", "harmless", "Kim", "a%b_c"].iter().enumerate() {
        out.push(Customer {
            id: 1_000 + n as i64,
            name: name.to_string(),
            nickname: None,
        });
    }
    out
}

fn now() -> chrono::DateTime<chrono::Utc> {
    camp_runtime::binds::parse_instant("2026-11-23T03:00:00Z").expect("a valid instant")
}

/// Writes the customers (those the database can hold) and their events.
async fn write(db: &Database, people: &[&Customer]) {
    let d = db.dialect();
    let ph = |n: usize| d.placeholder(n);
    let at = BindValue::Timestamp(now() - chrono::Duration::days(1));
    for c in people {
        let nickname = c.nickname.clone().map_or(BindValue::TypedNull(Want::Text), BindValue::Text);
        db.execute(
            &format!(
                "INSERT INTO customers (id, name, nickname, marketing_consent, timezone) VALUES ({}, {}, {}, {}, {})",
                ph(1),
                ph(2),
                ph(3),
                ph(4),
                ph(5)
            ),
            &[
                BindValue::Int(c.id),
                BindValue::Text(c.name.clone()),
                nickname,
                BindValue::Bool(true),
                BindValue::Text("Asia/Seoul".into()),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("customer {}: {e}", c.id));
        let mut props = Map::new();
        props.insert("note".into(), Json::from(c.name.clone()));
        db.execute(
            &format!(
                "INSERT INTO events (customer_id, kind, occurred_at, properties) VALUES ({}, {}, {}, {})",
                ph(1),
                ph(2),
                ph(3),
                ph(4)
            ),
            &[
                BindValue::Int(c.id),
                BindValue::Text("note_added".into()),
                at.clone(),
                BindValue::Json(Json::Object(props)),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("event of {}: {e}", c.id));
        db.execute(
            &format!(
                "INSERT INTO orders (customer_id, ordered_at, order_id, amount) VALUES ({}, {}, {}, {})",
                ph(1),
                ph(2),
                ph(3),
                ph(4)
            ),
            &[
                BindValue::Int(c.id),
                at.clone(),
                BindValue::Text(c.name.clone()),
                BindValue::Int(1_000),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("order of {}: {e}", c.id));
    }
}

/// Table names and row counts, to prove nothing was dropped or changed.
async fn tables(db: &Database) -> BTreeMap<String, i64> {
    let list = match db.dialect().name() {
        "sqlite" => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        _ => "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    };
    let names = db.fetch(list, &[], &[Want::Text]).await.expect("table list");
    let mut out = BTreeMap::new();
    for row in names {
        let Some(Value::Text(name)) = row.into_iter().next() else {
            continue;
        };
        let count = db
            .fetch(&format!("SELECT COUNT(*) FROM {}", db.dialect().quote(&name)), &[], &[Want::Int])
            .await
            .expect("count");
        let n = match count.first().and_then(|r| r.first()) {
            Some(Value::Int(n)) => *n,
            _ => -1,
        };
        out.insert(name, n);
    }
    out
}

fn workspace(extra: &str) -> Workspace {
    let mut ws = Workspace::new();
    ws.add("schema.camp", Input::Text(SCHEMA.to_string()));
    ws.add("cases.camp", Input::Text(extra.to_string()));
    ws
}

fn has_nul(q: &Query) -> bool {
    q.params.iter().any(|p| matches!(p, Param::Text { value } if value.contains('\0')))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_stay_data() {
    // Every form with every string, and with a harmless literal.
    let mut source = String::new();
    for (form, template, _) in FORMS {
        source.push_str(&format!(
            "segment {form}_neutral = {}\n",
            template.replace("{L}", &literal(NEUTRAL))
        ));
        for (i, s) in CORPUS.iter().enumerate() {
            source.push_str(&format!("segment {form}_{i} = {}\n", template.replace("{L}", &literal(s))));
        }
    }
    // `??` defaults, rendered for a customer without a nickname.
    for (i, s) in CORPUS.iter().enumerate() {
        let default = literal(s);
        source.push_str(&format!("message default_{i} {{ \"<<#{{customer.nickname ?? {default}}}>>\" }}\n"));
    }
    source.push_str("message name_only { \"#{customer.name}\" }\n");
    let analysis = camp_compiler::analyze(&workspace(&source));
    let errors: Vec<String> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code.id, d.message))
        .collect();
    assert!(errors.is_empty(), "the corpus checks clean: {errors:?}");
    let program = Program::new(&analysis).expect("clean");

    // The parser keeps every string exactly.
    for (i, s) in CORPUS.iter().enumerate() {
        let segment = program.segments[format!("eq_{i}").as_str()];
        let q = queries::audience_keys(&program, &Sqlite, Some(&segment.cond));
        assert!(
            q.params.contains(&Param::Text { value: s.to_string() }),
            "{s:?} reaches the query unchanged: {:?}",
            q.params
        );
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Database::create(&format!("sqlite://{}", dir.path().join("injection.db").display()))
        .await
        .expect("sqlite opens");
    let server = TestPostgres::start().expect("PostgreSQL starts");
    let url = server.create_database("injection").await.expect("database created");
    let postgres = Database::connect(&url).await.expect("postgres connects");
    let people = customers();
    for db in [&sqlite, &postgres] {
        camp_runtime::sample::create_tables(db, &program.schema)
            .await
            .expect("tables created");
        // PostgreSQL text cannot hold NUL: those customers live in SQLite only.
        let held: Vec<&Customer> = people
            .iter()
            .filter(|c| db.dialect().name() == "sqlite" || !c.name.contains('\0'))
            .collect();
        write(db, &held).await;
    }
    let before = [tables(&sqlite).await, tables(&postgres).await];
    assert!(before[0].contains_key("customers") && before[1].contains_key("customers"));

    let mut ran = 0;
    let mut refused = 0;
    for (db, dialect) in [(&sqlite, &Sqlite as &dyn Dialect), (&postgres, &Postgres)] {
        let held: Vec<&Customer> = people
            .iter()
            .filter(|c| dialect.name() == "sqlite" || !c.name.contains('\0'))
            .collect();
        for (form, _, expect) in FORMS {
            let neutral = queries::audience_keys(&program, dialect, Some(&program.segments[format!("{form}_neutral").as_str()].cond));
            for (i, s) in CORPUS.iter().enumerate() {
                let q = queries::audience_keys(&program, dialect, Some(&program.segments[format!("{form}_{i}").as_str()].cond));
                // The string is a parameter: the text is the harmless one's.
                assert_eq!(q.sql, neutral.sql, "{form} {s:?} on {}: the SQL text changed", dialect.name());
                let binds = Bindings::at(now()).resolve(&q.params).expect("binds");
                let result = db.fetch_keys(&q.sql, &binds).await;
                if dialect.name() == "postgres" && has_nul(&q) {
                    let message = result.expect_err("PostgreSQL cannot take NUL").to_string();
                    assert!(
                        message.contains("NUL") && message.contains(&format!("{s:?}")),
                        "{form} {s:?}: the error names the NUL and the literal: {message}"
                    );
                    refused += 1;
                    continue;
                }
                let mut got: Vec<i64> = result
                    .unwrap_or_else(|e| panic!("{form} {s:?} fails on {}: {e}", dialect.name()))
                    .into_iter()
                    .map(|k| match k {
                        camp_runtime::Key::Int(n) => n,
                        camp_runtime::Key::Text(t) => panic!("an integer key, not {t:?}"),
                    })
                    .collect();
                got.sort_unstable();
                let want: Vec<i64> = held
                    .iter()
                    .filter(|c| expect(&c.name, c.nickname.as_deref(), s))
                    .map(|c| c.id)
                    .collect();
                assert_eq!(got, want, "{form} {s:?} on {}", dialect.name());
                ran += 1;
            }
        }
    }
    assert_eq!(refused, 9 * 3, "every NUL literal refused on PostgreSQL, only there");
    assert!(ran >= 2 * FORMS.len() * (CORPUS.len() - 3), "{ran}");

    // Nothing was dropped, added or changed.
    let after = [tables(&sqlite).await, tables(&postgres).await];
    assert_eq!(before, after, "the tables are intact");

    // `??` defaults render exactly, with the engine alone and through a
    // preview on both databases; stored names come back exactly.
    let cx = Context::new(&program);
    let bare = people
        .iter()
        .find(|c| c.nickname.is_none() && !c.name.contains('\0'))
        .expect("a customer without a nickname");
    for (i, s) in CORPUS.iter().enumerate() {
        let name = format!("default_{i}");
        let compiled = templating::compile_named(&cx, &name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let values = compiled.values([("customer.nickname", Value::Null)]);
        let rendered = compiled.render(&values, None).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(rendered.body, format!("<<{s}>>"), "{name}: the default renders exactly");
        for db in [&sqlite, &postgres] {
            let previews = dryrun::preview(db, &program, &name, &bare.id.to_string(), now())
                .await
                .unwrap_or_else(|e| panic!("{name} on {}: {e}", db.dialect().name()));
            assert_eq!(previews.len(), 1);
            assert_eq!(previews[0].rendered.body, format!("<<{s}>>"), "{name} on {}", db.dialect().name());
        }
    }
    for db in [&sqlite, &postgres] {
        for c in people.iter().filter(|c| db.dialect().name() == "sqlite" || !c.name.contains('\0')) {
            let previews = dryrun::preview(db, &program, "name_only", &c.id.to_string(), now())
                .await
                .unwrap_or_else(|e| panic!("name_only for {} on {}: {e}", c.id, db.dialect().name()));
            assert_eq!(previews[0].rendered.body, c.name, "{} on {}", c.id, db.dialect().name());
        }
    }
    sqlite.close().await;
    postgres.close().await;
}
