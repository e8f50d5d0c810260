//! Lists (DESIGN §3.4), differentially: generated shops on a real SQLite
//! file and a real PostgreSQL server, against an evaluator written from
//! the meaning alone, on every list form and exclusion, with ties in time,
//! count and lift, pairs bought together once (support 1) and twice, out
//! of stock items, items already bought, and events later than now.

use camp_compiler::lower::queries::{self, ListQuery};
use camp_compiler::lower::{Dialect, Postgres, Sqlite};
use camp_compiler::program::Program;
use camp_compiler::templating::{self, Context};
use camp_compiler::{Input, Workspace};
use camp_runtime::binds::{BindValue, TriggerEvent};
use camp_runtime::lists::{self, On};
use camp_runtime::testing::TestPostgres;
use camp_runtime::{Database, Key};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};

const SCHEMA: &str = r#"
schema {
  customer from "customers" key id {
    id: id
    name: text(max 20)
    marketing_consent: consent
    timezone: tz = "Asia/Seoul"
  }
  table product from "products" key id {
    id: id
    name: text(max 10) as 상품명
    stock: int(max 9999)
    price: money(max 1_000_000)
  }
  events from "events" customer customer_id type kind time occurred_at props properties
  event item_view { product: ref product }
  event cart_add { product: ref product }
  event purchase from "orders" customer customer_id time ordered_at {
    order_id: text(max 20)
    product: ref product
    amount: money(max 1_000_000)
  }
}
policy {
  timezone "Asia/Seoul"
  sender "테스트샵 02-000-0000"
  optout "무료수신거부 080-000-0000"
}
"#;

const CAMPAIGN: &str = r##"
campaign picks {
  kind info
  channel lms
  trigger on cart_add
  audience customer.marketing_consent
  send picks
}

message picks {
  list r1 = recent(item_view.product, 3)
  list r2 = recent(item_view.product, 5) exclude purchased, where stock == 0
  list r3 = recent(item_view.product, 4) exclude trigger
  list a1 = also_bought(trigger.product, 5)
  list a2 = also_bought(trigger.product, 3 within 30d) exclude purchased, where stock == 0
  list a3 = also_bought(trigger.product, 4) exclude where price < 3000
  list p1 = popular(product, 5)
  list p2 = popular(product where price >= 5000 within 30d, 4) exclude purchased, trigger
  list p3 = popular(product, 6) exclude where stock == 0 or price > 8000
  "#{for p in r1}#{p.상품명}#{end} #{for p in r2}#{p.name}#{end} #{for p in r3}#{p.name}#{end}
  #{for p in a1}#{p.name}#{end} #{for p in a2}#{p.name}#{end} #{for p in a3}#{p.name}#{end}
  #{for p in p1}#{p.name} #{p.price}#{end} #{for p in p2}#{p.name}#{end} #{for p in p3}#{p.name}#{end} #{p1.count}"
}
"##;

fn now() -> DateTime<Utc> {
    camp_runtime::binds::parse_instant("2026-11-23T03:00:00Z").expect("a valid instant")
}

#[derive(Debug, Clone)]
struct Product {
    id: i64,
    stock: i64,
    price: i64,
}

/// A purchase line: (customer, order, product, time).
type Line = (i64, String, i64, DateTime<Utc>);

#[derive(Debug, Clone, Default)]
struct Shop {
    products: Vec<Product>,
    customers: Vec<i64>,
    /// (customer, product, time)
    views: Vec<(i64, i64, DateTime<Utc>)>,
    lines: Vec<Line>,
}

/// Times on a coarse grid (whole 6 hours), so equal times happen; some
/// are later than now.
fn time(rng: &mut SmallRng, days_back: i64) -> DateTime<Utc> {
    let slots = days_back * 4;
    let k = rng.gen_range(-8..slots);
    now() - Duration::hours(6 * k)
}

fn shop(seed: u64) -> Shop {
    let mut rng = SmallRng::seed_from_u64(seed);
    let n_products = rng.gen_range(6..14);
    let products = (1..=n_products)
        .map(|id| Product {
            id,
            stock: if rng.gen_bool(0.2) { 0 } else { rng.gen_range(1..50) },
            price: [1_000, 2_500, 5_000, 7_500, 9_000][rng.gen_range(0..5)],
        })
        .collect();
    let customers: Vec<i64> = (1..=rng.gen_range(3..7)).collect();
    let mut shop = Shop {
        products,
        customers: customers.clone(),
        ..Shop::default()
    };
    for &c in &customers {
        for _ in 0..rng.gen_range(0..10) {
            let t = time(&mut rng, 60);
            shop.views.push((c, rng.gen_range(1..=n_products), t));
        }
    }
    // Orders of 1..4 distinct lines, concentrated on a few products so
    // pairs repeat (support 2 and more) and others occur once.
    for o in 0..rng.gen_range(10..40) {
        let c = customers[rng.gen_range(0..customers.len())];
        let t = time(&mut rng, 200);
        let mut items = BTreeSet::new();
        for _ in 0..rng.gen_range(1..5) {
            let p = if rng.gen_bool(0.6) {
                rng.gen_range(1..=4.min(n_products))
            } else {
                rng.gen_range(1..=n_products)
            };
            items.insert(p);
        }
        for p in items {
            shop.lines.push((c, format!("O{o}"), p, t));
        }
    }
    shop
}

// ------------------------------------------------------------------ evaluator (from §3.4 alone)

struct Eval<'s> {
    shop: &'s Shop,
    customer: i64,
    trigger_item: i64,
}

impl Eval<'_> {
    fn product(&self, id: i64) -> &Product {
        self.shop.products.iter().find(|p| p.id == id).expect("a product")
    }
    fn bought(&self, id: i64, window: Option<i64>) -> bool {
        self.shop
            .lines
            .iter()
            .any(|(c, _, p, t)| *c == self.customer && *p == id && *t <= now() && window.is_none_or(|d| *t > now() - Duration::days(d)))
    }
    fn lines_in(&self, days: i64) -> impl Iterator<Item = &Line> {
        self.shop
            .lines
            .iter()
            .filter(move |(_, _, _, t)| *t <= now() && *t > now() - Duration::days(days))
    }

    fn recent(&self) -> Vec<i64> {
        let mut last: BTreeMap<i64, DateTime<Utc>> = BTreeMap::new();
        for (c, p, t) in &self.shop.views {
            if *c == self.customer && *t <= now() {
                let e = last.entry(*p).or_insert(*t);
                *e = (*e).max(*t);
            }
        }
        let mut items: Vec<(i64, DateTime<Utc>)> = last.into_iter().collect();
        items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        items.into_iter().map(|(p, _)| p).collect()
    }

    fn popular(&self, days: i64) -> Vec<i64> {
        let mut n: BTreeMap<i64, usize> = BTreeMap::new();
        for (_, _, p, _) in self.lines_in(days) {
            *n.entry(*p).or_default() += 1;
        }
        let mut items: Vec<(i64, usize)> = n.into_iter().collect();
        items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        items.into_iter().map(|(p, _)| p).collect()
    }

    fn also_bought(&self, days: i64) -> Vec<i64> {
        let a = self.trigger_item;
        let mut orders: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
        let mut all: BTreeSet<&str> = BTreeSet::new();
        for (_, o, p, _) in self.lines_in(days) {
            orders.entry(*p).or_default().insert(o.as_str());
            all.insert(o.as_str());
        }
        let t = all.len() as i128;
        let Some(with_a) = orders.get(&a) else { return Vec::new() };
        let n_a = with_a.len() as i128;
        // (b, n_ab, n_b)
        let mut cands: Vec<(i64, i128, i128)> = orders
            .iter()
            .filter(|(b, _)| **b != a)
            .map(|(b, os)| (*b, os.intersection(with_a).count() as i128, os.len() as i128))
            .filter(|(_, nab, _)| *nab >= 2)
            .collect();
        // lift = n_ab * T / (n_a * n_b), compared as fractions.
        cands.sort_by(|x, y| {
            let lx = (x.1 * t, n_a * x.2);
            let ly = (y.1 * t, n_a * y.2);
            (ly.0 * lx.1).cmp(&(lx.0 * ly.1)).then(y.1.cmp(&x.1)).then(x.0.cmp(&y.0))
        });
        cands.into_iter().map(|(b, _, _)| b).collect()
    }

    fn cut(&self, items: Vec<i64>, n: usize, keep: impl Fn(i64) -> bool) -> Vec<i64> {
        items.into_iter().filter(|p| keep(*p)).take(n).collect()
    }

    fn expected(&self, list: &str) -> Vec<i64> {
        let stock = |p: i64| self.product(p).stock;
        let price = |p: i64| self.product(p).price;
        match list {
            "r1" => self.cut(self.recent(), 3, |_| true),
            "r2" => self.cut(self.recent(), 5, |p| !self.bought(p, None) && stock(p) != 0),
            "r3" => self.cut(self.recent(), 4, |p| p != self.trigger_item),
            "a1" => self.cut(self.also_bought(180), 5, |_| true),
            "a2" => self.cut(self.also_bought(30), 3, |p| !self.bought(p, Some(30)) && stock(p) != 0),
            "a3" => self.cut(self.also_bought(180), 4, |p| price(p) >= 3000),
            "p1" => self.cut(self.popular(90), 5, |_| true),
            "p2" => self.cut(self.popular(30), 4, |p| {
                price(p) >= 5000 && !self.bought(p, Some(30)) && p != self.trigger_item
            }),
            "p3" => self.cut(self.popular(90), 6, |p| !(stock(p) == 0 || price(p) > 8000)),
            other => panic!("no expectation for {other}"),
        }
    }
}

// ------------------------------------------------------------------ databases

async fn write(db: &Database, shop: &Shop) {
    let d = db.dialect();
    let ph = |n: usize| d.placeholder(n);
    let run = |sql: String, binds: Vec<BindValue>| async move {
        db.execute(&sql, &binds).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    };
    for p in &shop.products {
        run(
            format!(
                "INSERT INTO products (id, name, stock, price) VALUES ({}, {}, {}, {})",
                ph(1),
                ph(2),
                ph(3),
                ph(4)
            ),
            vec![
                BindValue::Int(p.id),
                BindValue::Text(format!("상품{}", p.id)),
                BindValue::Int(p.stock),
                BindValue::Int(p.price),
            ],
        )
        .await;
    }
    for c in &shop.customers {
        run(
            format!(
                "INSERT INTO customers (id, name, marketing_consent, timezone) VALUES ({}, {}, {}, {})",
                ph(1),
                ph(2),
                ph(3),
                ph(4)
            ),
            vec![
                BindValue::Int(*c),
                BindValue::Text(format!("고객{c}")),
                BindValue::Bool(true),
                BindValue::Text("Asia/Seoul".into()),
            ],
        )
        .await;
    }
    for (i, (c, p, t)) in shop.views.iter().enumerate() {
        // Keys as JSON numbers and as JSON text, alternately: both name the product.
        let product = if i % 2 == 0 {
            serde_json::json!(p)
        } else {
            serde_json::json!(p.to_string())
        };
        run(
            format!(
                "INSERT INTO events (customer_id, kind, occurred_at, properties) VALUES ({}, {}, {}, {})",
                ph(1),
                ph(2),
                ph(3),
                ph(4)
            ),
            vec![
                BindValue::Int(*c),
                BindValue::Text("item_view".into()),
                BindValue::Timestamp(*t),
                BindValue::Json(serde_json::json!({ "product": product })),
            ],
        )
        .await;
    }
    for (c, o, p, t) in &shop.lines {
        run(
            format!(
                "INSERT INTO orders (customer_id, ordered_at, order_id, product, amount) VALUES ({}, {}, {}, {}, {})",
                ph(1),
                ph(2),
                ph(3),
                ph(4),
                ph(5)
            ),
            vec![
                BindValue::Int(*c),
                BindValue::Timestamp(*t),
                BindValue::Text(o.clone()),
                BindValue::Int(*p),
                BindValue::Int(1_000),
            ],
        )
        .await;
    }
}

fn key_int(v: &templating::Value) -> i64 {
    match v {
        templating::Value::Int(n) => *n,
        templating::Value::Text(s) => s.parse().unwrap_or_else(|_| panic!("an integer key, not {s:?}")),
        other => panic!("a key, not {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_agree_with_the_meaning_on_both_databases() {
    let mut ws = Workspace::new();
    ws.add("schema.camp", Input::Text(SCHEMA.to_string()));
    ws.add("picks.camp", Input::Text(CAMPAIGN.to_string()));
    let analysis = camp_compiler::analyze(&ws);
    let errors: Vec<String> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code.id, d.message))
        .collect();
    assert!(errors.is_empty(), "the campaign checks clean: {errors:?}");
    let program = Program::new(&analysis).expect("clean");
    let (_, campaign) = program.campaigns.get("picks").copied().expect("the campaign");
    let cx = Context::for_campaign(&program, campaign);
    let message = templating::compile_named(&cx, "picks").expect("compiles");
    let trigger = program.schema.event("cart_add");

    let server = TestPostgres::start().expect("PostgreSQL starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut checked = 0;
    let mut nonempty: BTreeMap<String, usize> = BTreeMap::new();
    for seed in 0..6u64 {
        let shop = shop(seed);
        let sqlite = Database::create(&format!("sqlite://{}", dir.path().join(format!("lists{seed}.db")).display()))
            .await
            .expect("sqlite opens");
        let url = server.create_database(&format!("lists{seed}")).await.expect("database created");
        let postgres = Database::connect(&url).await.expect("postgres connects");
        for (db, dialect) in [(&sqlite, &Sqlite as &dyn Dialect), (&postgres, &Postgres)] {
            camp_runtime::sample::create_tables(db, &program.schema)
                .await
                .expect("tables created");
            write(db, &shop).await;
            let lists_q: Vec<ListQuery> = queries::message_lists(&program, dialect, trigger, &["picks"], false);
            assert_eq!(lists_q.len(), message.lists.len(), "one query per list");
            for &customer in &shop.customers {
                for anchor in [1, 2, 3, 5] {
                    let trig = TriggerEvent {
                        time: now() - Duration::hours(1),
                        props: serde_json::json!({ "product": anchor }).as_object().cloned().unwrap_or_default(),
                    };
                    let key = Key::Int(customer);
                    let got = lists::evaluate(On::Db(db), &lists_q, "picks", &message.lists, now(), &key, Some(&trig))
                        .await
                        .unwrap_or_else(|e| panic!("seed {seed} on {}: {e}", dialect.name()))
                        .unwrap_or_else(|e| panic!("seed {seed} on {}: {e}", dialect.name()));
                    let eval = Eval {
                        shop: &shop,
                        customer,
                        trigger_item: anchor,
                    };
                    for rows in &got {
                        let keys: Vec<i64> = rows.rows.iter().map(|r| key_int(&r[0])).collect();
                        let want = eval.expected(&rows.name);
                        assert_eq!(
                            keys,
                            want,
                            "seed {seed}, list {}, customer {customer}, anchor {anchor} on {}",
                            rows.name,
                            dialect.name()
                        );
                        if !keys.is_empty() {
                            *nonempty.entry(rows.name.clone()).or_default() += 1;
                        }
                        checked += 1;
                    }
                    // The message renders with the rows.
                    let mut values = templating::Values::new();
                    lists::bind(&mut values, &message.lists, &got);
                    let body = message.body.as_ref().expect("a body");
                    templating::render(body, &values, None).unwrap_or_else(|e| panic!("renders: {e}"));
                }
            }
        }
    }
    assert!(checked > 500, "{checked} lists checked");
    // Every form produced rows somewhere: the worlds are not all empty.
    for name in ["r1", "r2", "r3", "a1", "a2", "a3", "p1", "p2", "p3"] {
        assert!(
            nonempty.get(name).copied().unwrap_or(0) > 0,
            "{name} was never non-empty: {nonempty:?}"
        );
    }
}
