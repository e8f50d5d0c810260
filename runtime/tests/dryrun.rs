//! Audience and preview dry runs of every shop campaign, on a real SQLite
//! file and a real PostgreSQL server holding the same sample data.

mod common;

use camp_compiler::program::Program;
use camp_runtime::dryrun::{self, DryRunError};
use camp_runtime::introspect;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_campaigns_on_both_databases() {
    let analysis = common::analyze_dir(&common::shop_dir());
    let program = Program::new(&analysis).expect("clean");
    let dbs = common::shop_databases(&analysis, 1_000).await;
    let now = common::now();

    let mut non_empty = 0;
    for name in program.campaigns.keys() {
        let a = dryrun::audience(&dbs.sqlite, &program, name, now)
            .await
            .unwrap_or_else(|e| panic!("{name} on sqlite: {e}"));
        let b = dryrun::audience(&dbs.postgres, &program, name, now)
            .await
            .unwrap_or_else(|e| panic!("{name} on postgres: {e}"));
        assert_eq!(a, b, "{name}: SQLite and PostgreSQL disagree");
        assert!(a.windows(2).all(|w| w[0] < w[1]), "{name}: keys ascending and unique");
        assert!(a.len() < 1_000, "{name}: an audience is never everyone ({})", a.len());
        if !a.is_empty() {
            non_empty += 1;
            // Every campaign renders for a member of its audience, the same on both.
            let key = a[a.len() / 2].to_string();
            let p = dryrun::preview(&dbs.sqlite, &program, name, &key, now).await;
            let q = dryrun::preview(&dbs.postgres, &program, name, &key, now).await;
            match (p, q) {
                (Ok(p), Ok(q)) => {
                    assert!(!p.is_empty(), "{name}: sends something");
                    let bodies = |v: &[dryrun::Preview]| v.iter().map(|x| x.rendered.body.clone()).collect::<Vec<_>>();
                    assert_eq!(bodies(&p), bodies(&q), "{name}: renders differ between databases");
                    for m in &p {
                        assert!(
                            !m.rendered.body.contains("#{"),
                            "{name}: unrendered placeholder in {:?}",
                            m.rendered.body
                        );
                    }
                }
                // A triggered campaign's member may not have had the trigger yet.
                (Err(DryRunError::NoTrigger { .. }), Err(DryRunError::NoTrigger { .. })) => {}
                (p, q) => panic!(
                    "{name}: preview failed: {:?} / {:?}",
                    p.err().map(|e| e.to_string()),
                    q.err().map(|e| e.to_string())
                ),
            }
        }
    }
    assert!(non_empty >= 5, "most shop campaigns find someone in the sample data ({non_empty})");

    // The schema file matches the tables generated from it.
    for db in [&dbs.sqlite, &dbs.postgres] {
        let tables = introspect::tables(db).await.expect("catalog reads");
        let found = introspect::compare(&program.schema, &tables);
        let codes: Vec<String> = found.iter().map(|d| format!("{} {}", d.code.id, d.message)).collect();
        assert!(codes.is_empty(), "{codes:?}");
    }

    // `camp schema pull` from the shop's own tables: it checks clean, finds
    // what the schema file declares, and `check --database` finds no drift.
    for db in [&dbs.sqlite, &dbs.postgres] {
        let text = introspect::pull(db).await.expect("pull");
        let mut ws = camp_compiler::Workspace::new();
        ws.add("schema.camp", camp_compiler::Input::Text(text.clone()));
        let pulled = camp_compiler::analyze(&ws);
        let errors = common::files::errors(&pulled);
        assert!(errors.is_empty(), "{errors:?}\n{text}");
        let schema = camp_compiler::program::schema_of(&pulled);
        assert_eq!(schema.customer.as_ref().map(|c| c.source.as_str()), Some("customers"), "{text}");
        assert_eq!(schema.events_table.as_ref().map(|e| e.source.as_str()), Some("events"), "{text}");
        // Every event: shared ones by their type, the others by their table.
        for event in program.schema.events.iter() {
            let found = match &event.storage {
                camp_compiler::schema::EventStorage::Shared => schema.event(&event.name).is_some_and(|e| e.storage == event.storage),
                own => schema.events.iter().any(|e| e.storage == *own),
            };
            assert!(found, "event {} pulled: {text}", event.name);
        }
        let customer = schema.customer.as_ref().expect("customer");
        let ty = |name: &str| customer.field(name).map(|f| f.ty.clone());
        use camp_compiler::types::FieldType;
        assert_eq!(ty("phone"), Some(FieldType::Phone), "{text}");
        assert_eq!(ty("email"), Some(FieldType::Email), "{text}");
        assert_eq!(ty("timezone"), Some(FieldType::Tz), "{text}");
        assert_eq!(ty("marketing_consent"), Some(FieldType::Consent), "{text}");
        // The enum's values (sorted: the database has no order for them).
        let tiers = ["bronze", "gold", "silver", "vip"].map(String::from).to_vec();
        assert_eq!(ty("tier"), Some(FieldType::Enum(tiers)), "{text}");
        let props = |e: &str, p: &str| schema.event(e).and_then(|e| e.prop(p)).map(|p| p.ty.clone());
        assert_eq!(props("cart_add", "product"), Some(FieldType::Ref("product".into())), "{text}");
        assert_eq!(props("coupon_issued", "coupon"), Some(FieldType::Ref("coupon".into())), "{text}");
        assert_eq!(
            props("app_open", "platform"),
            Some(FieldType::Enum(vec!["android".into(), "ios".into()])),
            "{text}"
        );
        let found = introspect::check_database(db, &schema).await.expect("compares");
        let found: Vec<String> = found.iter().map(|d| format!("{} {}", d.code.id, d.message)).collect();
        assert!(found.is_empty(), "{found:?}\n{text}");
    }

    // Where the database drifts from the schema file: a table renamed
    // (E0501), a column gone (E0502), a column of another type (E0503).
    for db in [&dbs.sqlite, &dbs.postgres] {
        let drift = [
            "ALTER TABLE products RENAME TO goods",
            "ALTER TABLE coupons RENAME COLUMN name TO title",
            "ALTER TABLE coupons RENAME COLUMN discount TO discount_won",
            "ALTER TABLE coupons ADD COLUMN discount TEXT",
        ];
        db.execute_all(&drift.map(String::from)).await.expect("drift applies");
        let tables = introspect::tables(db).await.expect("catalog reads");
        let found: Vec<(String, String)> = introspect::compare(&program.schema, &tables)
            .iter()
            .map(|d| (d.code.id.to_string(), d.message.clone()))
            .collect();
        let has = |code: &str, text: &str| found.iter().any(|(c, m)| c == code && m.contains(text));
        assert!(has("E0501", "`products`"), "{found:?}");
        assert!(has("E0502", "`name`"), "{found:?}");
        assert!(has("E0503", "`coupons.discount`"), "{found:?}");
        assert_eq!(found.len(), 3, "{found:?}");
        let undo = [
            "ALTER TABLE goods RENAME TO products",
            "ALTER TABLE coupons RENAME COLUMN title TO name",
            "ALTER TABLE coupons DROP COLUMN discount",
            "ALTER TABLE coupons RENAME COLUMN discount_won TO discount",
        ];
        db.execute_all(&undo.map(String::from)).await.expect("drift undone");
    }

    // "In the audience now" for an event-triggered campaign: the latest
    // trigger event that passes the trigger's `where`, even when a later
    // one does not. `cart_reminder` triggers on `cart_add where price >=
    // 10_000`: a 20,000 cart_add then a 5,000 one keep the customer in.
    let vip = dryrun::audience(&dbs.sqlite, &program, "vip_weekly", now)
        .await
        .expect("vip audience");
    let before = dryrun::audience(&dbs.sqlite, &program, "cart_reminder", now)
        .await
        .expect("audience");
    let customer = vip
        .iter()
        .find(|k| !before.contains(k))
        .expect("a consenting customer outside the cart audience")
        .to_string();
    for (db, ts, json) in [
        (&dbs.sqlite, "'{t}'", "'{j}'"),
        (&dbs.postgres, "TIMESTAMPTZ '{t}+00'", "'{j}'::jsonb"),
    ] {
        let product: i64 = db
            .rows("SELECT MIN(id) FROM products", &[])
            .await
            .expect("products")
            .first()
            .and_then(|r| match r.first() {
                Some(camp_runtime::db::Raw::Int(n)) => Some(*n),
                _ => None,
            })
            .expect("a product");
        let insert = |at: &str, price: i64| {
            format!(
                "INSERT INTO events (customer_id, kind, occurred_at, properties) VALUES ({customer}, 'cart_add', {}, {})",
                ts.replace("{t}", at),
                json.replace("{j}", &format!("{{\"product\": {product}, \"price\": {price}}}"))
            )
        };
        db.execute_all(&[insert("2026-11-23 02:50:00", 20_000), insert("2026-11-23 02:55:00", 5_000)])
            .await
            .expect("events insert");
    }
    for db in [&dbs.sqlite, &dbs.postgres] {
        let after = dryrun::audience(db, &program, "cart_reminder", now).await.expect("audience");
        assert!(
            after.iter().any(|k| k.to_string() == customer),
            "customer {customer}: the 20,000 cart_add passes `where`, the later 5,000 one does not"
        );
        let previews = dryrun::preview(db, &program, "cart_reminder", &customer, now)
            .await
            .expect("preview of the member");
        assert!(!previews.is_empty());
    }

    // Enum drift (E0504): a customer field, a lookup field and a JSON
    // property hold values the schema's enums lack.
    for db in [&dbs.sqlite, &dbs.postgres] {
        let json = if db.backend() == camp_runtime::db::Backend::Postgres {
            "'{j}'::jsonb"
        } else {
            "'{j}'"
        };
        let at = if db.backend() == camp_runtime::db::Backend::Postgres {
            "TIMESTAMPTZ '2026-11-01 00:00:00+00'"
        } else {
            "'2026-11-01 00:00:00'"
        };
        db.execute_all(&[
            "UPDATE customers SET tier = 'platinum' WHERE id = 1".to_string(),
            "UPDATE products SET category = 'pets' WHERE id = 1".to_string(),
            format!(
                "INSERT INTO events (customer_id, kind, occurred_at, properties) VALUES (1, 'app_open', {at}, {})",
                json.replace("{j}", "{\"platform\": \"web\"}")
            ),
        ])
        .await
        .expect("drift applies");
        let found = introspect::check_database(db, &program.schema).await.expect("compares");
        let found: Vec<String> = found
            .iter()
            .map(|d| format!("{} {} | {}", d.code.id, d.message, d.help.clone().unwrap_or_default()))
            .collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("E0504 column `customers.tier`") && found[0].contains("`platinum`"),
            "{found:?}"
        );
        assert!(found[0].contains("enum(bronze, silver, gold, vip, platinum)"), "{found:?}");
        assert!(
            found[1].starts_with("E0504 column `products.category`") && found[1].contains("`pets`"),
            "{found:?}"
        );
        assert!(
            found[2].starts_with("E0504 property `platform` of `app_open` events") && found[2].contains("`web`"),
            "{found:?}"
        );
    }

    // A customer that does not exist, on both.
    for db in [&dbs.sqlite, &dbs.postgres] {
        let err = dryrun::preview(db, &program, "vip_weekly", "99999999", now)
            .await
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("no customer with key `99999999`")),
            "{err:?}"
        );
    }
}
