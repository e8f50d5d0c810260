//! The differential test's world: a schema with every field type, rows
//! generated from a seed (with the edge cases that break lowerings), the
//! same rows written to SQLite and PostgreSQL, and an evaluator of
//! conditions over the rows in memory, written from DESIGN §3.1 alone.

use super::conds::{Agg, Cond, CountOp, Op, Ty, Val, Win};
use camp_runtime::binds::{BindValue, TriggerEvent};
use camp_runtime::db::Want;
use camp_runtime::Database;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{Map, Value as Json};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

pub const SCHEMA: &str = r#"
schema {
  customer from "customers" key id {
    id: id
    name: text(max 40)
    nickname: text?
    tier: enum(bronze, silver, gold, vip) = bronze
    points: int(max 1_000_000)
    balance: money(max 10_000_000)
    score: decimal?
    verified: bool
    marketing_consent: consent
    timezone: tz = "Asia/Seoul"
    birthday: date?
    joined_at: timestamp
    last_login: timestamp?
    favorite: ref product?
  }
  table product from "products" key id {
    id: id
    name: text(max 40)
    category: enum(fashion, beauty, food, living, digital)
    price: money(max 10_000_000)
    stock: int(max 9999)
  }
  events from "events" customer customer_id type kind time occurred_at props properties
  event cart_add { product: ref product, price: money(max 10_000_000), qty: int?, note: text? }
  event page_view { category: enum(fashion, beauty, food, living, digital), path: text(max 100) }
  event app_open { platform: enum(ios, android) }
  event coupon_used { rate: decimal?, first_time: bool }
  event purchase from "orders" customer customer_id time ordered_at {
    order_id: text(max 20)
    amount: money(max 100_000_000)
    discount: money?
    channel: enum(web, app)
    gift: bool
    product: ref product?
  }
}
"#;

/// Lifecycle numbers differ from the defaults, so that the policy's
/// override is tested too.
pub const POLICY: &str = r#"
policy {
  timezone "Asia/Seoul"
  sender "테스트샵 02-000-0000"
  optout "무료수신거부 080-000-0000"
  lifecycle new 21d active 1.5 at_risk 2.5 single_active 60d single_at_risk 150d
}
"#;

/// The numbers of `POLICY`'s lifecycle line.
const NEW_DAYS: i64 = 21;
const ACTIVE_RATIO: f64 = 1.5;
const AT_RISK_RATIO: f64 = 2.5;
const SINGLE_ACTIVE_DAYS: i64 = 60;
const SINGLE_AT_RISK_DAYS: i64 = 150;

pub const TIERS: &[&str] = &["bronze", "silver", "gold", "vip"];
pub const CATEGORIES: &[&str] = &["fashion", "beauty", "food", "living", "digital"];
pub const PLATFORMS: &[&str] = &["ios", "android"];
pub const CHANNELS: &[&str] = &["web", "app"];
pub const STAGES: &[&str] = &["new", "active", "at_risk", "churned", "never"];

/// One stored field: its name, type and whether it may be null.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub nullable: bool,
}

const fn f(name: &'static str, ty: Ty, nullable: bool) -> Field {
    Field { name, ty, nullable }
}

pub const CUSTOMER: &[Field] = &[
    f("name", Ty::Text, false),
    f("nickname", Ty::Text, true),
    f("tier", Ty::Enum(TIERS), false),
    f("points", Ty::Int, false),
    f("balance", Ty::Money, false),
    f("score", Ty::Dec, true),
    f("verified", Ty::Bool, false),
    f("marketing_consent", Ty::Bool, false),
    f("timezone", Ty::Text, false),
    f("birthday", Ty::Date, true),
    f("joined_at", Ty::Time, false),
    f("last_login", Ty::Time, true),
    f("favorite", Ty::Ref, true),
];

pub const PRODUCT: &[Field] = &[
    f("name", Ty::Text, false),
    f("category", Ty::Enum(CATEGORIES), false),
    f("price", Ty::Money, false),
    f("stock", Ty::Int, false),
];

#[derive(Debug, Clone, Copy)]
pub struct EventSpec {
    pub name: &'static str,
    /// In its own table (`purchase`), else in the shared JSON table.
    pub own: bool,
    pub props: &'static [Field],
}

pub const EVENTS: &[EventSpec] = &[
    EventSpec {
        name: "cart_add",
        own: false,
        props: &[
            f("product", Ty::Ref, false),
            f("price", Ty::Money, false),
            f("qty", Ty::Int, true),
            f("note", Ty::Text, true),
        ],
    },
    EventSpec {
        name: "page_view",
        own: false,
        props: &[f("category", Ty::Enum(CATEGORIES), false), f("path", Ty::Text, false)],
    },
    EventSpec {
        name: "app_open",
        own: false,
        props: &[f("platform", Ty::Enum(PLATFORMS), false)],
    },
    EventSpec {
        name: "coupon_used",
        own: false,
        props: &[f("rate", Ty::Dec, true), f("first_time", Ty::Bool, false)],
    },
    EventSpec {
        name: "purchase",
        own: true,
        props: &[
            f("order_id", Ty::Text, false),
            f("amount", Ty::Money, false),
            f("discount", Ty::Money, true),
            f("channel", Ty::Enum(CHANNELS), false),
            f("gift", Ty::Bool, false),
            f("product", Ty::Ref, true),
        ],
    },
];

pub fn event_spec(name: &str) -> &'static EventSpec {
    EVENTS.iter().find(|e| e.name == name).expect("a known event")
}

/// Windows and durations the generator uses; the data puts events exactly
/// on (and one millisecond or second off) each boundary.
pub const DURATIONS: &[(i64, &str)] = &[
    (30 * 60, "30m"),
    (3_600, "1h"),
    (86_400, "24h"),
    (36 * 3_600, "36h"),
    (86_400, "1d"),
    (2 * 86_400, "2d"),
    (7 * 86_400, "7d"),
    (14 * 86_400, "2w"),
    (21 * 86_400, "21d"),
    (30 * 86_400, "30d"),
    (60 * 86_400, "60d"),
    (90 * 86_400, "90d"),
    (365 * 86_400, "365d"),
];

/// Text as data and as literals: quotes, backslashes, SQL, LIKE wildcards,
/// case, Hangul (precomposed and jamo), emoji, RTL, combining marks, blanks.
pub const TEXTS: &[&str] = &[
    "김민수",
    "김민",
    "민",
    "이서연",
    "ㅁ",
    "가",
    "힣",
    "Kim",
    "kim",
    "KIM",
    "Kimberly",
    "",
    " ",
    "O'Brien",
    "\"quoted\"",
    "back\\slash",
    "100%",
    "%",
    "a_b",
    "_",
    "emoji 😀",
    "😀",
    "é",
    "e\u{301}",
    "שלום",
    "a--b",
    "x'; DROP TABLE customers; --",
    "/* c */",
    "tab\there",
    "line\nbreak",
    "#{name}",
    "Z",
    "z",
    "zz",
];

#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    Int(i64),
    Dec(f64),
    Text(String),
    Bool(bool),
    /// Milliseconds since the epoch, UTC.
    Time(i64),
    /// Days since the epoch.
    Date(i64),
    /// Milliseconds.
    Dur(i64),
}

pub type Row = BTreeMap<&'static str, V>;

#[derive(Debug, Clone)]
pub struct Event {
    pub customer: i64,
    pub name: &'static str,
    pub time: i64,
    /// A shared event's JSON holds only the keys present here (a key may
    /// hold `Null`); an own-table event has every column.
    pub props: Row,
}

pub struct Customer {
    pub id: i64,
    pub row: Row,
}

pub struct World {
    pub now: i64,
    pub customers: Vec<Customer>,
    pub products: BTreeMap<i64, Row>,
    /// Per customer, every event (also those after now), by time.
    pub events: HashMap<i64, Vec<Event>>,
    /// Base segments, by name.
    pub segments: BTreeMap<String, Cond>,
    rfm: RefCell<HashMap<String, HashMap<i64, [i64; 3]>>>,
}

pub fn ms_to_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("a time in range")
}

const DAY_MS: i64 = 86_400_000;

fn date_of_days(days: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + Duration::days(days)
}

/// Instants the evaluation may be run at: whole seconds, a fraction (a real
/// clock always has one), midnight, and a time of day after 15:00 UTC
/// (another calendar day in Asia/Seoul).
const NOWS: &[&str] = &[
    "2026-11-23T18:47:31Z",
    "2026-11-23T18:47:31.250Z",
    "2027-03-01T00:00:00Z",
    "2026-06-15T09:30:00.5Z",
];

impl World {
    pub fn generate(rng: &mut SmallRng, customers: i64) -> World {
        let now_text = NOWS[rng.gen_range(0..NOWS.len())];
        let now = camp_runtime::binds::parse_instant(now_text).expect("valid").timestamp_millis();
        let mut g = Gen { rng, now };
        let mut products = BTreeMap::new();
        for id in 1..=12i64 {
            let mut row = Row::new();
            row.insert("name", V::Text(format!("{} {id}", g.text())));
            row.insert("category", V::Text(CATEGORIES[(id as usize) % CATEGORIES.len()].to_string()));
            row.insert("price", V::Int(g.pick(&[0, 100, 9_900, 10_000, 10_100, 50_000, 1_000_000])));
            row.insert("stock", V::Int(g.pick(&[0, 1, 5, 10, 9_999])));
            products.insert(id, row);
        }
        let mut people = Vec::new();
        let mut events = HashMap::new();
        for id in 1..=customers {
            people.push(Customer { id, row: g.customer() });
            let evs = g.history(id);
            events.insert(id, evs);
        }
        // Customers whose history copies another's (or a copy's): ties in
        // every rfm metric, often several customers deep, which must all get
        // the same scores.
        for id in (customers - customers / 4).max(2)..=customers {
            if g.rng.gen_bool(0.6) {
                let src = g.rng.gen_range(1..id);
                let copy: Vec<Event> = events[&src].iter().map(|e| Event { customer: id, ..e.clone() }).collect();
                events.insert(id, copy);
            }
        }
        for list in events.values_mut() {
            list.sort_by_key(|e| e.time);
        }
        World {
            now,
            customers: people,
            products,
            events,
            segments: BTreeMap::new(),
            rfm: RefCell::new(HashMap::new()),
        }
    }

    pub fn now_utc(&self) -> DateTime<Utc> {
        ms_to_time(self.now)
    }

    pub fn event_count(&self) -> usize {
        self.events.values().map(Vec::len).sum()
    }

    /// Writes every row to `db`, whose tables exist.
    pub async fn write(&self, db: &Database) {
        let d = db.dialect();
        let mut batches: Vec<(String, Vec<String>, Vec<Vec<BindValue>>)> = Vec::new();
        let product_cols: Vec<String> = std::iter::once("id")
            .chain(PRODUCT.iter().map(|f| f.name))
            .map(String::from)
            .collect();
        let rows = self
            .products
            .iter()
            .map(|(id, row)| {
                std::iter::once(BindValue::Int(*id))
                    .chain(PRODUCT.iter().map(|f| bind(row.get(f.name).unwrap_or(&V::Null), f.ty)))
                    .collect()
            })
            .collect();
        batches.push(("products".into(), product_cols, rows));
        let customer_cols: Vec<String> = std::iter::once("id")
            .chain(CUSTOMER.iter().map(|f| f.name))
            .map(String::from)
            .collect();
        let rows = self
            .customers
            .iter()
            .map(|c| {
                std::iter::once(BindValue::Int(c.id))
                    .chain(CUSTOMER.iter().map(|f| bind(c.row.get(f.name).unwrap_or(&V::Null), f.ty)))
                    .collect()
            })
            .collect();
        batches.push(("customers".into(), customer_cols, rows));
        let mut shared = Vec::new();
        let mut orders = Vec::new();
        let mut all: Vec<&Event> = self.events.values().flatten().collect();
        all.sort_by_key(|e| (e.customer, e.time, e.name));
        for e in all {
            let spec = event_spec(e.name);
            if spec.own {
                let mut row = vec![BindValue::Int(e.customer), BindValue::Timestamp(ms_to_time(e.time))];
                row.extend(spec.props.iter().map(|p| bind(e.props.get(p.name).unwrap_or(&V::Null), p.ty)));
                orders.push(row);
            } else {
                let json: Map<String, Json> = e.props.iter().map(|(k, v)| (k.to_string(), json(v))).collect();
                shared.push(vec![
                    BindValue::Int(e.customer),
                    BindValue::Text(e.name.to_string()),
                    BindValue::Timestamp(ms_to_time(e.time)),
                    BindValue::Json(Json::Object(json)),
                ]);
            }
        }
        batches.push((
            "events".into(),
            ["customer_id", "kind", "occurred_at", "properties"].map(String::from).to_vec(),
            shared,
        ));
        let mut order_cols = vec!["customer_id".to_string(), "ordered_at".to_string()];
        order_cols.extend(event_spec("purchase").props.iter().map(|p| p.name.to_string()));
        batches.push(("orders".into(), order_cols, orders));
        for (table, cols, rows) in batches {
            for chunk in rows.chunks(400) {
                let mut sql = format!(
                    "INSERT INTO {} ({}) VALUES ",
                    d.quote(&table),
                    cols.iter().map(|c| d.quote(c)).collect::<Vec<_>>().join(", ")
                );
                let mut n = 0;
                let mut binds = Vec::new();
                for (i, row) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    let phs: Vec<String> = row
                        .iter()
                        .map(|_| {
                            n += 1;
                            d.placeholder(n)
                        })
                        .collect();
                    sql.push_str(&format!("({})", phs.join(", ")));
                    binds.extend(row.iter().cloned());
                }
                db.execute(&sql, &binds)
                    .await
                    .unwrap_or_else(|e| panic!("insert into {table}: {e}"));
            }
        }
    }

    /// The edge cases the data must hold for the test to mean something,
    /// each with whether it does.
    pub fn coverage(&self) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        let stages: Vec<&str> = self.customers.iter().map(|c| self.lifecycle(c.id, "purchase")).collect();
        for stage in STAGES {
            out.push((format!("a customer whose purchase lifecycle is {stage}"), stages.contains(stage)));
        }
        let all: Vec<&Event> = self.events.values().flatten().collect();
        out.push(("a customer without events".into(), self.events.values().any(Vec::is_empty)));
        out.push(("an event after now".into(), all.iter().any(|e| e.time > self.now)));
        out.push(("an event exactly at now".into(), all.iter().any(|e| e.time == self.now)));
        for (d, text) in DURATIONS {
            let edge = self.now - d * 1000;
            out.push((format!("an event exactly {text} before now"), all.iter().any(|e| e.time == edge)));
        }
        out.push((
            "two events of one customer at the same instant".into(),
            self.events.values().any(|list| list.windows(2).any(|w| w[0].time == w[1].time)),
        ));
        let metrics: Vec<(i64, usize)> = self
            .customers
            .iter()
            .filter_map(|c| {
                let times: Vec<i64> = self.visible(c.id, "purchase").map(|e| e.time).collect();
                times.iter().max().map(|t| (*t, times.len()))
            })
            .collect();
        let mut unique = metrics.clone();
        unique.sort_unstable();
        unique.dedup();
        out.push(("customers tied on rfm recency and frequency".into(), unique.len() < metrics.len()));
        // rfm(purchase.amount): (latest, count, sum) of the customers scored.
        let rfm: Vec<[i64; 3]> = self
            .customers
            .iter()
            .filter_map(|c| {
                let rows: Vec<&Event> = self.visible(c.id, "purchase").collect();
                let latest = rows.iter().map(|e| e.time).max()?;
                let sum = rows
                    .iter()
                    .filter_map(|e| match e.props.get("amount") {
                        Some(V::Int(n)) => Some(*n),
                        _ => None,
                    })
                    .sum();
                Some([latest, rows.len() as i64, sum])
            })
            .collect();
        let mut same = rfm.clone();
        same.sort_unstable();
        out.push((
            "three customers tied on every rfm metric".into(),
            same.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]),
        ));
        // A tie group across a fifth of the scored customers: a rule that
        // split ties by key (NTILE) would score its members apart.
        let n = rfm.len();
        let straddles = (0..3).all(|slot| {
            let mut values: Vec<i64> = rfm.iter().map(|m| m[slot]).collect();
            values.sort_unstable();
            values
                .chunk_by(|a, b| a == b)
                .scan(0, |start, group| {
                    let (first, last) = (*start, *start + group.len() - 1);
                    *start += group.len();
                    Some(group.len() > 1 && 5 * first / n != 5 * last / n)
                })
                .any(|x| x)
        });
        out.push((
            "for each of r, f, m, customers tied across a fifth boundary".into(),
            n > 0 && straddles,
        ));
        for field in ["nickname", "score", "birthday", "last_login", "favorite"] {
            out.push((
                format!("a customer whose {field} is null"),
                self.customers.iter().any(|c| c.row.get(field) == Some(&V::Null)),
            ));
        }
        out.push((
            "a favorite that is no product".into(),
            self.customers
                .iter()
                .any(|c| matches!(c.row.get("favorite"), Some(V::Int(k)) if !self.products.contains_key(k))),
        ));
        out.push((
            "a JSON property that is missing, and one that is null".into(),
            all.iter().any(|e| e.name == "cart_add" && !e.props.contains_key("qty"))
                && all.iter().any(|e| e.name == "cart_add" && e.props.get("qty") == Some(&V::Null)),
        ));
        out.push((
            "a timestamp with a fraction of a second".into(),
            all.iter().any(|e| e.time % 1000 != 0),
        ));
        out
    }

    // ------------------------------------------------------------ evaluation

    /// The keys of the customers for whom `cond` holds at now.
    pub fn audience(&self, cond: &Cond, trigger: Option<&TriggerEvent>) -> Vec<i64> {
        self.customers
            .iter()
            .filter(|c| self.holds(cond, c.id, trigger))
            .map(|c| c.id)
            .collect()
    }

    pub fn holds(&self, cond: &Cond, customer: i64, trigger: Option<&TriggerEvent>) -> bool {
        let c = &self.customers[(customer - 1) as usize];
        debug_assert_eq!(c.id, customer);
        let cx = Cx { c, row: None, trigger };
        self.cond(cond, &cx)
    }

    /// A trigger filter (`on cart_add where ..`): the row is the trigger.
    pub fn trigger_filter_holds(&self, filter: &Cond, customer: i64, trigger: &TriggerEvent) -> bool {
        let c = &self.customers[(customer - 1) as usize];
        let row = Event {
            customer,
            name: "cart_add",
            time: trigger.time.timestamp_millis(),
            props: event_spec("cart_add")
                .props
                .iter()
                .map(|p| (p.name, trigger_prop(trigger, p.name)))
                .collect(),
        };
        let cx = Cx {
            c,
            row: Some(&row),
            trigger: Some(trigger),
        };
        self.cond(filter, &cx)
    }

    fn cond(&self, cond: &Cond, cx: &Cx) -> bool {
        match cond {
            Cond::Truth(b) => *b,
            Cond::And(items) => items.iter().all(|i| self.cond(i, cx)),
            Cond::Or(items) => items.iter().any(|i| self.cond(i, cx)),
            Cond::Not(inner) => !self.cond(inner, cx),
            Cond::Flag(v) => self.val(v, cx) == V::Bool(true),
            Cond::Segment(name) => self.cond(&self.segments[name], &Cx { row: None, ..*cx }),
            // Any comparison with null is false. Keys are integers or text,
            // as the database has them: `27` and `"27"` are the same key.
            Cond::Cmp(l, op, r) if l.ty() == Ty::Ref || r.ty() == Ty::Ref => {
                compare(&key_text(self.val(l, cx)), *op, &key_text(self.val(r, cx)))
            }
            Cond::Cmp(l, op, r) => compare(&self.val(l, cx), *op, &self.val(r, cx)),
            Cond::In(v, list, negated) => {
                let key = v.ty() == Ty::Ref;
                let v = self.val(v, cx);
                if v == V::Null {
                    return false;
                }
                let found = list.iter().any(|i| {
                    let item = self.val(i, cx);
                    if key {
                        compare(&key_text(v.clone()), Op::Eq, &key_text(item))
                    } else {
                        compare(&v, Op::Eq, &item)
                    }
                });
                found != *negated
            }
            Cond::IsNull(v, negated) => (self.val(v, cx) == V::Null) != *negated,
            // Case-sensitive substring test.
            Cond::Contains(h, n) => match (self.val(h, cx), self.val(n, cx)) {
                (V::Text(h), V::Text(n)) => h.contains(&n),
                _ => false,
            },
            Cond::Did {
                event,
                filter,
                count,
                window,
            } => {
                // `since last E2` without any E2: the whole `did` is false.
                if let Some(Win::SinceLast(e2)) = window {
                    if self.latest(cx.c.id, e2).is_none() {
                        return false;
                    }
                }
                let n = self.rows(cx, event, filter.as_deref(), window.as_ref()).len() as i64;
                match count {
                    None => n >= 1,
                    Some((CountOp::AtLeast, k)) => n >= *k,
                    Some((CountOp::AtMost, k)) => n <= *k,
                    Some((CountOp::Exactly, k)) => n == *k,
                }
            }
        }
    }

    /// Events `name` of the customer visible at now (at or before it).
    fn visible<'a>(&'a self, customer: i64, name: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        let now = self.now;
        self.events
            .get(&customer)
            .into_iter()
            .flatten()
            .filter(move |e| e.name == name && e.time <= now)
    }

    fn latest(&self, customer: i64, name: &str) -> Option<i64> {
        self.visible(customer, name).map(|e| e.time).max()
    }

    /// The customer's visible rows of `event` in the window passing the filter.
    fn rows<'w>(&'w self, cx: &Cx<'w>, event: &'w str, filter: Option<&Cond>, window: Option<&Win>) -> Vec<&'w Event> {
        let now = self.now;
        let bound = match window {
            Some(Win::SinceLast(e2)) => self.latest(cx.c.id, e2),
            _ => None,
        };
        self.visible(cx.c.id, event)
            .filter(|e| match window {
                None => true,
                Some(Win::Within(s)) => now - s * 1000 < e.time,
                Some(Win::Before(s)) => e.time <= now - s * 1000,
                Some(Win::SinceTrigger) => cx.trigger.is_some_and(|t| t.time.timestamp_millis() < e.time),
                Some(Win::SinceLast(_)) => bound.is_some_and(|b| e.time > b),
            })
            .filter(|e| filter.is_none_or(|f| self.cond(f, &Cx { row: Some(e), ..*cx })))
            .collect()
    }

    fn val(&self, v: &Val, cx: &Cx) -> V {
        match v {
            Val::Int(n) => V::Int(*n),
            Val::Dec(x) => V::Dec(*x),
            Val::Bool(b) => V::Bool(*b),
            Val::Str(s) => V::Text(s.clone()),
            Val::EnumLit(s, _) => V::Text(s.to_string()),
            Val::Dur(s, _) => V::Dur(s * 1000),
            Val::Now => V::Time(self.now),
            Val::Customer(name) => cx.c.row.get(name).cloned().unwrap_or(V::Null),
            Val::CustomerRef(name, field) => self.product_field(cx.c.row.get(name), field),
            Val::Prop(name, _) => cx.row.and_then(|r| r.props.get(name)).cloned().unwrap_or(V::Null),
            Val::PropRef(name, field) => self.product_field(cx.row.and_then(|r| r.props.get(name)), field),
            Val::Trigger(name, _) => cx.trigger.map_or(V::Null, |t| trigger_prop(t, name)),
            Val::TriggerRef(name, field) => {
                let key = cx.trigger.map(|t| trigger_prop(t, name));
                self.product_field(key.as_ref(), field)
            }
            Val::Neg(inner) => match self.val(inner, cx) {
                V::Int(n) => V::Int(-n),
                V::Dec(x) => V::Dec(-x),
                V::Dur(d) => V::Dur(-d),
                _ => V::Null,
            },
            Val::Bin(l, op, r) => {
                let (lt, rt) = (l.ty(), r.ty());
                arith(self.val(l, cx), lt, *op, self.val(r, cx), rt)
            }
            Val::Agg {
                func,
                event,
                prop,
                filter,
                window,
            } => {
                let rows = self.rows(cx, event, filter.as_deref(), window.as_ref());
                if *func == Agg::Count {
                    return V::Int(rows.len() as i64);
                }
                let prop = prop.expect("a property");
                let values: Vec<V> = rows
                    .iter()
                    .filter_map(|e| e.props.get(prop).filter(|v| **v != V::Null).cloned())
                    .collect();
                aggregate(*func, &values)
            }
            Val::EventTime { first, event } => {
                let times = self.visible(cx.c.id, event).map(|e| e.time);
                let t = if *first { times.min() } else { times.max() };
                t.map_or(V::Null, V::Time)
            }
            // The whole number of days, rounded down.
            Val::DaysSince(inner) => match as_ms(&self.val(inner, cx)) {
                Some(t) => V::Int((self.now - t).div_euclid(DAY_MS)),
                None => V::Null,
            },
            Val::Interval(event) => match self.interval(cx.c.id, event) {
                Some(i) => V::Dec(i),
                None => V::Null,
            },
            Val::Lifecycle(event) => V::Text(self.lifecycle(cx.c.id, event).to_string()),
            Val::Rfm {
                event,
                prop,
                window,
                score,
            } => {
                let scores = self.rfm_scores(event, prop, window.as_ref());
                match scores.get(&cx.c.id) {
                    Some(s) => V::Int(s[*score as usize]),
                    None => V::Null,
                }
            }
        }
    }

    fn product_field(&self, key: Option<&V>, field: &str) -> V {
        let key = match key {
            Some(V::Int(k)) => Some(*k),
            Some(V::Text(t)) => t.parse().ok(),
            _ => None,
        };
        key.and_then(|k| self.products.get(&k))
            .and_then(|p| p.get(field))
            .cloned()
            .unwrap_or(V::Null)
    }

    /// (last - first) / (n - 1) in days, for n >= 2.
    fn interval(&self, customer: i64, event: &str) -> Option<f64> {
        let times: Vec<i64> = self.visible(customer, event).map(|e| e.time).collect();
        let n = times.len();
        if n < 2 {
            return None;
        }
        let first = *times.iter().min()?;
        let last = *times.iter().max()?;
        Some(((last - first) as f64 / DAY_MS as f64) / (n - 1) as f64)
    }

    fn lifecycle(&self, customer: i64, event: &str) -> &'static str {
        let times: Vec<i64> = self.visible(customer, event).map(|e| e.time).collect();
        let n = times.len() as i64;
        let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else {
            return "never";
        };
        if self.now - NEW_DAYS * DAY_MS < *first {
            return "new";
        }
        let d = (self.now - last).div_euclid(DAY_MS);
        let i = self.interval(customer, event).unwrap_or(0.0);
        if (n >= 2 && d as f64 <= ACTIVE_RATIO * i) || (n == 1 && d <= SINGLE_ACTIVE_DAYS) {
            "active"
        } else if (n >= 2 && d as f64 <= AT_RISK_RATIO * i) || (n == 1 && d <= SINGLE_AT_RISK_DAYS) {
            "at_risk"
        } else {
            "churned"
        }
    }

    /// r, f, m per customer with at least one E in the window, from 1 to 5
    /// by how many of them have a strictly lower metric (DESIGN §3.1).
    fn rfm_scores(&self, event: &str, prop: &str, window: Option<&Win>) -> std::cell::Ref<'_, HashMap<i64, [i64; 3]>> {
        let key = format!("{event}.{prop}.{window:?}");
        if !self.rfm.borrow().contains_key(&key) {
            let mut metrics: Vec<(i64, i64, i64, i64)> = Vec::new(); // (customer, latest, count, sum)
            for c in &self.customers {
                let cx = Cx {
                    c,
                    row: None,
                    trigger: None,
                };
                let rows = self.rows(&cx, event, None, window);
                if rows.is_empty() {
                    continue;
                }
                let latest = rows.iter().map(|e| e.time).max().unwrap_or(0);
                let sum = rows
                    .iter()
                    .filter_map(|e| match e.props.get(prop) {
                        Some(V::Int(n)) => Some(*n),
                        _ => None,
                    })
                    .sum();
                metrics.push((c.id, latest, rows.len() as i64, sum));
            }
            // With n the customers scored and b those whose metric is
            // strictly lower: 1 + floor(5 * b / n).
            let n = metrics.len() as i64;
            let mut scores: HashMap<i64, [i64; 3]> = HashMap::new();
            for m in &metrics {
                let of = |m: &(i64, i64, i64, i64), slot: usize| [m.1, m.2, m.3][slot];
                let mut s = [0; 3];
                for (slot, score) in s.iter_mut().enumerate() {
                    let b = metrics.iter().filter(|o| of(o, slot) < of(m, slot)).count() as i64;
                    *score = 1 + (5 * b).div_euclid(n);
                }
                scores.insert(m.0, s);
            }
            self.rfm.borrow_mut().insert(key.clone(), scores);
        }
        std::cell::Ref::map(self.rfm.borrow(), |m| &m[&key])
    }
}

#[derive(Clone, Copy)]
struct Cx<'w> {
    c: &'w Customer,
    /// The event row a `where` filter is about.
    row: Option<&'w Event>,
    trigger: Option<&'w TriggerEvent>,
}

fn trigger_prop(t: &TriggerEvent, name: &str) -> V {
    match t.props.get(name) {
        Some(Json::Number(n)) => n.as_i64().map(V::Int).or_else(|| n.as_f64().map(V::Dec)).unwrap_or(V::Null),
        Some(Json::String(s)) => V::Text(s.clone()),
        Some(Json::Bool(b)) => V::Bool(*b),
        _ => V::Null,
    }
}

/// A key as text: the integer 27 and the text "27" are one key.
fn key_text(v: V) -> V {
    match v {
        V::Int(n) => V::Text(n.to_string()),
        other => other,
    }
}

fn as_ms(v: &V) -> Option<i64> {
    match v {
        V::Time(t) => Some(*t),
        // A date is midnight UTC.
        V::Date(d) => Some(d * DAY_MS),
        _ => None,
    }
}

fn as_f64(v: &V) -> Option<f64> {
    match v {
        V::Int(n) => Some(*n as f64),
        V::Dec(x) => Some(*x),
        _ => None,
    }
}

pub fn compare(a: &V, op: Op, b: &V) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, b) {
        (V::Null, _) | (_, V::Null) => None,
        (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
        (V::Int(_) | V::Dec(_), V::Int(_) | V::Dec(_)) => as_f64(a).zip(as_f64(b)).and_then(|(x, y)| x.partial_cmp(&y)),
        (V::Text(x), V::Text(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::Time(_) | V::Date(_), V::Time(_) | V::Date(_)) => as_ms(a).zip(as_ms(b)).map(|(x, y)| x.cmp(&y)),
        (V::Dur(x), V::Dur(y)) => Some(x.cmp(y)),
        _ => None,
    };
    let Some(ord) = ord else { return false };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        _ => false,
    }
}

/// `a op b` for values of static types `at` and `bt`: integers stay whole
/// (division truncates, by zero is null); money divides exactly; a decimal
/// makes the result decimal; timestamps move by durations.
fn arith(a: V, at: Ty, op: Op, b: V, bt: Ty) -> V {
    if a == V::Null || b == V::Null {
        return V::Null;
    }
    match (a, b) {
        (a @ (V::Time(_) | V::Date(_)), V::Dur(d)) => {
            let t = as_ms(&a).unwrap_or(0);
            match op {
                Op::Add => V::Time(t + d),
                Op::Sub => V::Time(t - d),
                _ => V::Null,
            }
        }
        (V::Dur(d), b @ (V::Time(_) | V::Date(_))) if op == Op::Add => V::Time(as_ms(&b).unwrap_or(0) + d),
        (a @ (V::Time(_) | V::Date(_)), b @ (V::Time(_) | V::Date(_))) if op == Op::Sub => {
            V::Dur(as_ms(&a).unwrap_or(0) - as_ms(&b).unwrap_or(0))
        }
        (V::Dur(x), V::Dur(y)) => match op {
            Op::Add => V::Dur(x + y),
            Op::Sub => V::Dur(x - y),
            _ => V::Null,
        },
        (V::Dur(d), n @ (V::Int(_) | V::Dec(_))) | (n @ (V::Int(_) | V::Dec(_)), V::Dur(d)) => match (op, n) {
            (Op::Mul, V::Int(k)) => V::Dur(d * k),
            (Op::Mul, V::Dec(k)) => V::Dur((d as f64 * k).round() as i64),
            _ => V::Null,
        },
        (V::Int(x), V::Int(y)) if !(op == Op::Div && (at == Ty::Money || bt == Ty::Money)) => match op {
            Op::Add => V::Int(x + y),
            Op::Sub => V::Int(x - y),
            Op::Mul => V::Int(x * y),
            Op::Div if y == 0 => V::Null,
            Op::Div => V::Int(x / y),
            _ => V::Null,
        },
        (a, b) => {
            let (Some(x), Some(y)) = (as_f64(&a), as_f64(&b)) else {
                return V::Null;
            };
            match op {
                Op::Add => V::Dec(x + y),
                Op::Sub => V::Dec(x - y),
                Op::Mul => V::Dec(x * y),
                Op::Div if y == 0.0 => V::Null,
                Op::Div => V::Dec(x / y),
                _ => V::Null,
            }
        }
    }
}

/// `count` is handled by the caller; `sum` is 0 over nothing, the others null.
fn aggregate(func: Agg, values: &[V]) -> V {
    let decimal = values.iter().any(|v| matches!(v, V::Dec(_)));
    match func {
        Agg::Count => V::Int(values.len() as i64),
        Agg::Sum if decimal => V::Dec(values.iter().filter_map(as_f64).sum()),
        Agg::Sum => V::Int(values.iter().map(|v| if let V::Int(n) = v { *n } else { 0 }).sum()),
        Agg::Avg if values.is_empty() => V::Null,
        Agg::Avg => V::Dec(values.iter().filter_map(as_f64).sum::<f64>() / values.len() as f64),
        Agg::Min | Agg::Max => {
            let mut best: Option<V> = None;
            for v in values {
                let better = match &best {
                    None => true,
                    Some(b) => compare(v, if func == Agg::Min { Op::Lt } else { Op::Gt }, b),
                };
                if better {
                    best = Some(v.clone());
                }
            }
            best.unwrap_or(V::Null)
        }
    }
}

fn bind(v: &V, ty: Ty) -> BindValue {
    match v {
        V::Null => BindValue::TypedNull(match ty {
            Ty::Int | Ty::Money | Ty::Ref => Want::Int,
            Ty::Dec => Want::Decimal,
            Ty::Bool => Want::Bool,
            Ty::Time => Want::Timestamp,
            Ty::Date => Want::Date,
            _ => Want::Text,
        }),
        V::Int(n) => BindValue::Int(*n),
        V::Dec(x) => BindValue::Float(*x),
        V::Text(s) => BindValue::Text(s.clone()),
        V::Bool(b) => BindValue::Bool(*b),
        V::Time(t) => BindValue::Timestamp(ms_to_time(*t)),
        V::Date(d) => BindValue::Date(date_of_days(*d)),
        V::Dur(_) => BindValue::Null,
    }
}

fn json(v: &V) -> Json {
    match v {
        V::Int(n) => Json::from(*n),
        V::Dec(x) => Json::from(*x),
        V::Text(s) => Json::from(s.clone()),
        V::Bool(b) => Json::from(*b),
        _ => Json::Null,
    }
}

// ------------------------------------------------------------ data generation

struct Gen<'r> {
    rng: &'r mut SmallRng,
    now: i64,
}

impl Gen<'_> {
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        *from.choose(self.rng).expect("not empty")
    }

    fn text(&mut self) -> String {
        self.pick(TEXTS).to_string()
    }

    /// An instant near an interesting one: a window boundary (exactly, or a
    /// millisecond or a second either side), now, a midnight, after now, or
    /// anywhere in the last two years.
    fn time(&mut self) -> i64 {
        let now = self.now;
        match self.rng.gen_range(0..100) {
            0..=34 => {
                let (d, _) = self.pick(DURATIONS);
                let jitter = self.pick(&[0, 0, 0, -1, 1, -1000, 1000]);
                now - d * 1000 + jitter
            }
            35..=39 => now,
            40..=44 => now + self.pick(&[1, 1000, DAY_MS, 30 * DAY_MS]),
            45..=49 => (now - self.rng.gen_range(0..400) * DAY_MS).div_euclid(DAY_MS) * DAY_MS,
            50..=59 => now - self.rng.gen_range(0..30 * DAY_MS),
            _ => {
                let t = now - self.rng.gen_range(0..730 * DAY_MS);
                // Mostly whole seconds, as most stores keep them.
                if self.rng.gen_bool(0.7) {
                    t.div_euclid(1000) * 1000
                } else {
                    t
                }
            }
        }
    }

    fn customer(&mut self) -> Row {
        let mut row = Row::new();
        let null = |g: &mut Self, p: f64| g.rng.gen_bool(p);
        row.insert("name", V::Text(self.text()));
        let nickname = if null(self, 0.3) { V::Null } else { V::Text(self.text()) };
        row.insert("nickname", nickname);
        let tier = self.pick(&[0, 0, 0, 1, 1, 2, 3]);
        row.insert("tier", V::Text(TIERS[tier].to_string()));
        let points = if self.rng.gen_bool(0.5) {
            self.pick(&[0, 1, 999, 1_000, 1_001, 5_000, 12_345, 1_000_000])
        } else {
            self.rng.gen_range(0..20_000)
        };
        row.insert("points", V::Int(points));
        let balance = if self.rng.gen_bool(0.5) {
            self.pick(&[0, 100, 9_900, 10_000, 50_000, 1_000_000])
        } else {
            self.rng.gen_range(0..2_000) * 100
        };
        row.insert("balance", V::Int(balance));
        // Dyadic fractions: sums and averages are exact in every engine.
        let score = if null(self, 0.25) {
            V::Null
        } else {
            V::Dec(self.pick(&[-1.5, 0.0, 0.5, 1.25, 2.5, 3.75, 10.0]))
        };
        row.insert("score", score);
        let verified = self.rng.gen_bool(0.5);
        row.insert("verified", V::Bool(verified));
        let consent = self.rng.gen_bool(0.6);
        row.insert("marketing_consent", V::Bool(consent));
        let tz = self.pick(&["Asia/Seoul", "Asia/Seoul", "Asia/Seoul", "America/New_York", "KST"]);
        row.insert("timezone", V::Text(tz.to_string()));
        let today = self.now.div_euclid(DAY_MS);
        let birthday = match self.rng.gen_range(0..8) {
            0 | 1 => V::Null,
            2 => V::Date(today),
            3 => V::Date(today - self.pick(&[1, 7, 30, 365])),
            _ => V::Date(today - self.rng.gen_range(6_000..25_000)),
        };
        row.insert("birthday", birthday);
        let joined = self.time();
        row.insert("joined_at", V::Time(joined));
        let login = if null(self, 0.3) { V::Null } else { V::Time(self.time()) };
        row.insert("last_login", login);
        let favorite = match self.rng.gen_range(0..10) {
            0 | 1 => V::Null,
            // A key no product has: the hop finds nothing.
            2 => V::Int(99),
            _ => V::Int(self.rng.gen_range(1..=12)),
        };
        row.insert("favorite", favorite);
        row
    }

    /// One customer's events: none, random ones, and purchases on a
    /// regular cycle that puts lifecycle thresholds exactly on a boundary.
    fn history(&mut self, customer: i64) -> Vec<Event> {
        let mut out = Vec::new();
        if self.rng.gen_bool(0.12) {
            return out;
        }
        let n = self.rng.gen_range(1..25);
        for _ in 0..n {
            let spec = self.pick(EVENTS);
            let time = self.time();
            let e = self.event(customer, &spec, time);
            out.push(e);
        }
        // A second event at the same instant as one before.
        if let Some(e) = out.choose(self.rng).cloned() {
            if self.rng.gen_bool(0.3) {
                let spec = self.pick(EVENTS);
                let twin = self.event(customer, &spec, e.time);
                out.push(twin);
            }
        }
        let purchase = event_spec("purchase");
        match self.rng.gen_range(0..4) {
            // Every `gap` days, the last `since` days ago: d against 1.5 i and
            // 2.5 i, and the 21-day "new" boundary.
            0 => {
                let gap = self.pick(&[2, 4, 10, 20]);
                let k = self.rng.gen_range(2..6);
                let since = self.pick(&[0, gap, gap * 3 / 2, gap * 3 / 2 + 1, gap * 5 / 2, gap * 5 / 2 + 1, 3 * gap]);
                let last = self.now - since * DAY_MS;
                for j in 0..k {
                    let e = self.event(customer, purchase, last - j * gap * DAY_MS);
                    out.push(e);
                }
            }
            // One purchase on a single-purchase boundary.
            1 => {
                let days = self.pick(&[0, 20, 21, 22, 60, 61, 150, 151, 400]);
                let jitter = self.pick(&[0, 0, -1000, 1000]);
                let e = self.event(customer, purchase, self.now - days * DAY_MS + jitter);
                out.push(e);
            }
            _ => {}
        }
        out
    }

    fn event(&mut self, customer: i64, spec: &EventSpec, time: i64) -> Event {
        let mut props = Row::new();
        for p in spec.props {
            // Shared events may miss a key, or hold null, when it is optional.
            if p.nullable && self.rng.gen_bool(0.3) {
                if spec.own || self.rng.gen_bool(0.5) {
                    props.insert(p.name, V::Null);
                }
                continue;
            }
            let v = match (p.name, p.ty) {
                ("order_id", _) => V::Text(format!("O{}", self.rng.gen_range(100..999))),
                ("path", _) => V::Text(format!("/c/{}", self.text())),
                (_, Ty::Text) => V::Text(self.text()),
                (_, Ty::Enum(values)) => V::Text(self.pick(values).to_string()),
                (_, Ty::Money) => V::Int(self.pick(&[0, 100, 9_900, 10_000, 10_100, 30_000, 50_000, 120_000])),
                (_, Ty::Int) => V::Int(self.pick(&[0, 1, 2, 3, 10])),
                (_, Ty::Dec) => V::Dec(self.pick(&[0.0, 0.125, 0.5, 0.75, 1.0])),
                (_, Ty::Bool) => V::Bool(self.rng.gen_bool(0.5)),
                (_, Ty::Ref) => V::Int(self.pick(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 99])),
                _ => V::Null,
            };
            props.insert(p.name, v);
        }
        Event {
            customer,
            name: spec.name,
            time,
            props,
        }
    }
}

/// The triggering event of the campaign cases: a `cart_add`.
pub fn trigger_event(rng: &mut SmallRng, now: i64) -> TriggerEvent {
    let (d, _) = DURATIONS[rng.gen_range(0..DURATIONS.len())];
    let time = now - d * 1000 + [0, 0, -1000, 1000][rng.gen_range(0..4)];
    let mut props = Map::new();
    // A key as a number or as text: events arrive either way.
    let product = [1, 3, 5, 99][rng.gen_range(0..4)];
    let product = if rng.gen_bool(0.5) {
        Json::from(product)
    } else {
        Json::from(product.to_string())
    };
    props.insert("product".into(), product);
    props.insert("price".into(), Json::from([0, 9_900, 10_000, 50_000][rng.gen_range(0..4)]));
    if rng.gen_bool(0.7) {
        props.insert("qty".into(), Json::from(rng.gen_range(0..4)));
    }
    if rng.gen_bool(0.7) {
        props.insert("note".into(), Json::from(TEXTS[rng.gen_range(0..TEXTS.len())]));
    }
    TriggerEvent {
        time: ms_to_time(time),
        props,
    }
}
