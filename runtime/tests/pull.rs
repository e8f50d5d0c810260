//! `camp schema pull` by shape: a shop whose tables and columns have none
//! of the usual names, on a real SQLite file and a real PostgreSQL server.
//! The pulled schema checks clean, finds the customer table, the events,
//! refs, zones, flags, phones and emails from the data, and matches the
//! database; then enum drift (E0504) once the data has new values.

mod common;

use camp_compiler::schema::{EventStorage, SchemaModel};
use camp_compiler::types::FieldType;
use camp_runtime::testing::TestPostgres;
use camp_runtime::{introspect, Database};

#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The unusual shop: `members` keyed by `member_no`, `goods` keyed by
/// `goods_no` from 1001, `coupons` keyed by text, `activity_log` (shared
/// events with a JSON `payload`), `payments` (a declared foreign key).
fn unusual_shop(backend: Backend) -> Vec<String> {
    let pg = backend == Backend::Postgres;
    let ts = |day: u32, minute: u32| {
        let t = format!("2026-11-{:02} {:02}:{:02}:00", 1 + day % 28, (minute / 60) % 24, minute % 60);
        if pg {
            format!("TIMESTAMPTZ '{t}+00'")
        } else {
            format!("'{t}'")
        }
    };
    let json = |j: String| if pg { format!("'{j}'::jsonb") } else { format!("'{j}'") };
    let (time, payload) = if pg { ("TIMESTAMPTZ", "JSONB") } else { ("TEXT", "TEXT") };
    let mut out = vec![
        format!(
            "CREATE TABLE members (member_no INTEGER PRIMARY KEY, nick TEXT NOT NULL, mobile TEXT, mail TEXT NOT NULL, \
             zone TEXT NOT NULL, agree_sms INTEGER NOT NULL, is_staff INTEGER NOT NULL, grade TEXT NOT NULL, joined {time} NOT NULL)"
        ),
        "CREATE TABLE goods (goods_no INTEGER PRIMARY KEY, title TEXT NOT NULL, stock INTEGER NOT NULL, price INTEGER NOT NULL)".into(),
        "CREATE TABLE coupons (code TEXT PRIMARY KEY, discount INTEGER NOT NULL)".into(),
        format!(
            "CREATE TABLE activity_log (seq INTEGER PRIMARY KEY, member_ref INTEGER NOT NULL, action TEXT NOT NULL, \
             at {time} NOT NULL, payload {payload} NOT NULL)"
        ),
        format!(
            "CREATE TABLE payments (pay_id INTEGER PRIMARY KEY, buyer INTEGER NOT NULL REFERENCES members (member_no), \
             paid_at {time} NOT NULL, item INTEGER NOT NULL, total INTEGER NOT NULL, used_coupon TEXT)"
        ),
    ];
    let mut rows = Vec::new();
    for n in 1..=40u32 {
        let mobile = match n {
            _ if n % 7 == 0 => "NULL".to_string(),
            _ if n % 4 == 0 => format!("'010-1234-{:04}'", n),
            _ if n % 4 == 1 => format!("'0101234{:04}'", n),
            _ if n % 4 == 2 => format!("'+82 10-5555-{:04}'", n),
            _ => format!("'010 7777 {:04}'", n),
        };
        let zone = match n % 5 {
            0 => "America/New_York",
            1 => "Europe/Berlin",
            _ => "Asia/Seoul",
        };
        let grade = ["basic", "silver", "gold"][(n % 3) as usize];
        rows.push(format!(
            "({n}, '회원{n}', {mobile}, 'm{n}@shop.example', '{zone}', {}, {}, '{grade}', {})",
            u32::from(n % 3 != 0),
            u32::from(n % 10 == 0),
            ts(n, 600)
        ));
    }
    out.push(format!(
        "INSERT INTO members (member_no, nick, mobile, mail, zone, agree_sms, is_staff, grade, joined) VALUES {}",
        rows.join(", ")
    ));
    let goods: Vec<String> = (0..20u32)
        .map(|i| format!("({}, '상품 {i}호', {}, {})", 1001 + i, (i * 7) % 50, 9_900 + i * 1_000))
        .collect();
    out.push(format!(
        "INSERT INTO goods (goods_no, title, stock, price) VALUES {}",
        goods.join(", ")
    ));
    let codes = ["WELCOME", "BIRTHDAY", "VIP10", "SPRING", "SUMMER", "AUTUMN"];
    let coupons: Vec<String> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| format!("('{c}', {})", 1_000 * (i + 1)))
        .collect();
    out.push(format!("INSERT INTO coupons (code, discount) VALUES {}", coupons.join(", ")));
    let mut events = Vec::new();
    for i in 0..300u32 {
        let member = 1 + (i * 7) % 40;
        let good = 1001 + (i * 3) % 20;
        let (action, props) = match i % 3 {
            0 => (
                "view",
                format!(
                    "{{\"goods\": {good}, \"page\": \"{}\"}}",
                    ["home", "search", "category"][(i % 9 / 3) as usize]
                ),
            ),
            1 => (
                "cart",
                format!("{{\"goods\": {good}, \"qty\": {}, \"price\": {}}}", 1 + i % 3, 12_000 + i * 10),
            ),
            _ if i % 2 == 0 => ("wish", format!("{{\"goods\": {good}, \"note\": \"선물용\"}}")),
            _ => ("wish", format!("{{\"goods\": {good}}}")),
        };
        events.push(format!("({}, {member}, '{action}', {}, {})", i + 1, ts(i, i * 13), json(props)));
    }
    out.push(format!(
        "INSERT INTO activity_log (seq, member_ref, action, at, payload) VALUES {}",
        events.join(", ")
    ));
    let payments: Vec<String> = (0..60u32)
        .map(|i| {
            let coupon = if i % 4 == 3 {
                "NULL".to_string()
            } else {
                format!("'{}'", codes[(i % 6) as usize])
            };
            format!(
                "({}, {}, {}, {}, {}, {coupon})",
                i + 1,
                1 + (i * 11) % 40,
                ts(i, i * 17),
                1001 + (i * 7) % 20,
                20_000 + i * 100
            )
        })
        .collect();
    out.push(format!(
        "INSERT INTO payments (pay_id, buyer, paid_at, item, total, used_coupon) VALUES {}",
        payments.join(", ")
    ));
    out
}

fn field<'s>(schema: &'s SchemaModel, table: &str, name: &str) -> (&'s FieldType, bool) {
    let t = if schema.customer.as_ref().is_some_and(|c| c.source == table) {
        schema.customer.as_ref()
    } else {
        schema.tables.iter().find(|t| t.source == table)
    };
    let f = t
        .and_then(|t| t.fields.iter().find(|f| f.name == name))
        .unwrap_or_else(|| panic!("no field {table}.{name}"));
    (&f.ty, f.nullable)
}

fn prop<'s>(schema: &'s SchemaModel, event: &str, name: &str) -> (&'s FieldType, bool) {
    let p = schema
        .event(event)
        .and_then(|e| e.prop(name))
        .unwrap_or_else(|| panic!("no property {event}.{name}"));
    (&p.ty, p.nullable)
}

fn text_max(ty: &FieldType) -> Option<u64> {
    match ty {
        FieldType::Text { max } => *max,
        _ => None,
    }
}

async fn pulled_schema(db: &Database, label: &str) -> SchemaModel {
    let text = introspect::pull(db).await.unwrap_or_else(|e| panic!("{label}: pull fails: {e}"));
    let mut ws = camp_compiler::Workspace::new();
    ws.add("schema.camp", camp_compiler::Input::Text(text.clone()));
    let analysis = camp_compiler::analyze(&ws);
    let errors = common::files::errors(&analysis);
    assert!(errors.is_empty(), "{label}: the pulled schema checks clean: {errors:?}\n{text}");
    camp_compiler::program::schema_of(&analysis)
}

async fn pull_by_shape(db: &Database, backend: Backend) {
    let label = if backend == Backend::Sqlite { "sqlite" } else { "postgres" };
    db.execute_all(&unusual_shop(backend)).await.expect("the unusual shop is created");
    let schema = pulled_schema(db, label).await;

    // The customer table: the one the events tables refer to.
    let customer = schema.customer.as_ref().expect("a customer table");
    assert_eq!(
        (customer.source.as_str(), customer.key.as_str()),
        ("members", "member_no"),
        "{label}"
    );
    assert_eq!(field(&schema, "members", "member_no").0, &FieldType::Id);
    // Phones in several spellings, emails, zones, flags, enums, by their values.
    assert_eq!(field(&schema, "members", "mobile"), (&FieldType::Phone, true), "{label}");
    assert_eq!(field(&schema, "members", "mail"), (&FieldType::Email, false), "{label}");
    assert_eq!(field(&schema, "members", "zone").0, &FieldType::Tz, "{label}");
    assert_eq!(field(&schema, "members", "agree_sms").0, &FieldType::Consent, "{label}");
    assert_eq!(field(&schema, "members", "is_staff").0, &FieldType::Bool, "{label}");
    let grades = ["basic", "gold", "silver"].map(String::from).to_vec();
    assert_eq!(field(&schema, "members", "grade").0, &FieldType::Enum(grades), "{label}");
    assert_eq!(text_max(field(&schema, "members", "nick").0), Some(10), "{label}");
    assert_eq!(field(&schema, "members", "joined").0, &FieldType::Timestamp, "{label}");

    // Lookup tables; an integer that is not a key stays an integer.
    let good = schema.tables.iter().find(|t| t.source == "goods").expect("goods is a lookup table");
    assert_eq!((good.name.as_str(), good.key.as_str()), ("good", "goods_no"));
    assert_eq!(field(&schema, "goods", "stock").0, &FieldType::Int { max: None }, "{label}");
    assert!(matches!(field(&schema, "goods", "price").0, FieldType::Money { .. }), "{label}");
    assert!(schema.tables.iter().any(|t| t.source == "coupons" && t.key == "code"));

    // The shared events table, one event per type, properties from the JSON.
    let shared = schema.events_table.as_ref().expect("a shared events table");
    assert_eq!(
        (
            shared.source.as_str(),
            shared.customer_column.as_str(),
            shared.type_column.as_str(),
            shared.time_column.as_str(),
            shared.props_column.as_str()
        ),
        ("activity_log", "member_ref", "action", "at", "payload"),
        "{label}"
    );
    let good_ref = FieldType::Ref("good".into());
    for event in ["view", "cart", "wish"] {
        let e = schema.event(event).unwrap_or_else(|| panic!("{label}: event {event}"));
        assert_eq!(e.storage, EventStorage::Shared);
        assert_eq!(prop(&schema, event, "goods"), (&good_ref, false), "{label} {event}");
    }
    assert_eq!(prop(&schema, "cart", "qty").0, &FieldType::Int { max: None }, "{label}");
    assert!(matches!(prop(&schema, "cart", "price").0, FieldType::Money { .. }), "{label}");
    let pages = ["category", "home", "search"].map(String::from).to_vec();
    assert_eq!(prop(&schema, "view", "page").0, &FieldType::Enum(pages), "{label}");
    let (note, nullable) = prop(&schema, "wish", "note");
    assert!(nullable && text_max(note) == Some(10), "{label}: {note:?}");

    // An events table of its own: the customer column by its declared
    // foreign key, a ref by its values alone (integer and text keys).
    let payment = schema.event("payment").expect("payments is an event");
    assert_eq!(
        payment.storage,
        EventStorage::Own {
            source: "payments".into(),
            customer_column: "buyer".into(),
            time_column: "paid_at".into()
        },
        "{label}"
    );
    assert_eq!(prop(&schema, "payment", "item"), (&good_ref, false), "{label}");
    assert_eq!(
        prop(&schema, "payment", "used_coupon"),
        (&FieldType::Ref("coupon".into()), true),
        "{label}"
    );
    assert!(matches!(prop(&schema, "payment", "total").0, FieldType::Money { .. }), "{label}");
    assert!(payment.prop("pay_id").is_none(), "{label}: the row id is no property");

    // The pulled schema matches the database, enums included.
    let found = introspect::check_database(db, &schema).await.expect("compares");
    let found: Vec<String> = found.iter().map(|d| format!("{} {}", d.code.id, d.message)).collect();
    assert!(found.is_empty(), "{label}: {found:?}");

    // New values in the data: E0504 on the field, the values listed.
    let (ts, json) = if backend == Backend::Postgres {
        (
            "TIMESTAMPTZ '2026-11-30 00:00:00+00'",
            "'{\"goods\": 1001, \"page\": \"promo\"}'::jsonb",
        )
    } else {
        ("'2026-11-30 00:00:00'", "'{\"goods\": 1001, \"page\": \"promo\"}'")
    };
    db.execute_all(&[
        "UPDATE members SET grade = 'vip' WHERE member_no = 1".to_string(),
        "UPDATE members SET grade = 'Gold Plus' WHERE member_no = 2".to_string(),
        format!("INSERT INTO activity_log (seq, member_ref, action, at, payload) VALUES (1000, 1, 'view', {ts}, {json})"),
        // The same property of another type is not this event's.
        format!(
            "INSERT INTO activity_log (seq, member_ref, action, at, payload) VALUES (1001, 1, 'cart', {ts}, {})",
            json.replace("promo", "other")
        ),
    ])
    .await
    .expect("drift applies");
    let found = introspect::check_database(db, &schema).await.expect("compares");
    let lines: Vec<String> = found
        .iter()
        .map(|d| format!("{} {} | {}", d.code.id, d.message, d.help.clone().unwrap_or_default()))
        .collect();
    assert_eq!(found.len(), 2, "{label}: {lines:?}");
    assert!(found.iter().all(|d| d.code.id == "E0504"), "{lines:?}");
    assert!(
        lines[0].contains("column `members.grade`") && lines[0].contains("`Gold Plus`, `vip`") && lines[0].contains("not a camp name"),
        "{label}: {}",
        lines[0]
    );
    assert!(
        lines[1].contains("`page` of `view` events")
            && lines[1].contains("`promo`")
            && lines[1].contains("enum(category, home, search, promo)"),
        "{label}: {}",
        lines[1]
    );
    assert!(!lines[1].contains("other"), "{label}: {}", lines[1]);
}

/// A tiny database: three people, a log of what they did whose customer
/// column has no telling name and few values, a type that is no camp name,
/// a column whose name is none.
async fn tiny_by_shape(db: &Database, backend: Backend) {
    let label = if backend == Backend::Sqlite { "sqlite" } else { "postgres" };
    let (time, ts) = if backend == Backend::Postgres {
        ("TIMESTAMPTZ", "TIMESTAMPTZ '2026-11-0{d} 10:00:00+00'")
    } else {
        ("TEXT", "'2026-11-0{d} 10:00:00'")
    };
    let mut statements = vec![
        "CREATE TABLE people (pid INTEGER PRIMARY KEY, cell TEXT NOT NULL)".to_string(),
        format!("CREATE TABLE happenings (id INTEGER PRIMARY KEY, who INTEGER NOT NULL, stamp {time} NOT NULL, what TEXT NOT NULL, \"odd col\" TEXT)"),
        "INSERT INTO people (pid, cell) VALUES (1, '010-1111-2222'), (2, '010-3333-4444'), (3, '01055556666')".to_string(),
    ];
    for i in 1..=8 {
        let what = ["signup", "login", "page view"][i % 3];
        statements.push(format!(
            "INSERT INTO happenings (id, who, stamp, what) VALUES ({i}, {}, {}, '{what}')",
            1 + i % 3,
            ts.replace("{d}", &i.to_string())
        ));
    }
    db.execute_all(&statements).await.expect("the tiny database is created");
    let text = introspect::pull(db).await.expect("pull");
    assert!(text.contains("`odd col` is left out"), "{label}: {text}");
    let schema = pulled_schema(db, label).await;
    let customer = schema.customer.as_ref().expect("a customer table");
    assert_eq!((customer.source.as_str(), customer.key.as_str()), ("people", "pid"), "{label}");
    assert_eq!(field(&schema, "people", "cell").0, &FieldType::Phone, "{label}");
    let e = schema.event("happening").unwrap_or_else(|| panic!("{label}: {text}"));
    assert_eq!(
        e.storage,
        EventStorage::Own {
            source: "happenings".into(),
            customer_column: "who".into(),
            time_column: "stamp".into()
        },
        "{label}"
    );
    assert_eq!(text_max(prop(&schema, "happening", "what").0), Some(10), "{label}");
    let found = introspect::check_database(db, &schema).await.expect("compares");
    assert!(
        found.is_empty(),
        "{label}: {:?}",
        found.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_by_shape_on_both_databases() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, run) in [("unusual", 0), ("tiny", 1)] {
        let url = format!("sqlite://{}", dir.path().join(format!("{name}.db")).display());
        let sqlite = Database::create(&url).await.expect("sqlite opens");
        match run {
            0 => pull_by_shape(&sqlite, Backend::Sqlite).await,
            _ => tiny_by_shape(&sqlite, Backend::Sqlite).await,
        }
        sqlite.close().await;
    }

    let server = TestPostgres::start().expect("PostgreSQL starts");
    for (name, run) in [("unusual", 0), ("tiny", 1)] {
        let url = server.create_database(name).await.expect("database created");
        let postgres = Database::connect(&url).await.expect("postgres connects");
        match run {
            0 => pull_by_shape(&postgres, Backend::Postgres).await,
            _ => tiny_by_shape(&postgres, Backend::Postgres).await,
        }
        postgres.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_database_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("empty.db").display());
    let db = Database::create(&url).await.expect("sqlite opens");
    let err = introspect::pull(&db).await.err().map(|e| e.to_string());
    assert!(err.as_deref().is_some_and(|e| e.contains("no tables")), "{err:?}");
}
