//! Sample data for a schema: the tables created and filled with realistic
//! rows (Korean names and phone numbers, products with stock and prices,
//! events with a heavy-tailed activity distribution, purchases that repeat
//! on each customer's own cycle). `camp demo`, the tests and the benchmarks
//! use it; a seed makes it reproducible.
//!
//! Values are chosen by each field's type, refined by its name where the
//! name says more (`name`, `birthday`, `stock`, `price`): any schema gets
//! plausible data, the shop's gets realistic data.

use crate::binds::BindValue;
use crate::db::{Database, DbError, Want};
use camp_compiler::lower::ddl;
use camp_compiler::schema::{EventModel, EventStorage, FieldModel, SchemaModel, TableModel};
use camp_compiler::types::FieldType;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value as Json};

/// How much data to make.
#[derive(Debug, Clone)]
pub struct SampleSpec {
    pub customers: u64,
    /// Average events per customer, across all event types.
    pub events_per_customer: f64,
    pub seed: u64,
    /// The generated history ends here.
    pub now: DateTime<Utc>,
}

impl SampleSpec {
    pub fn new(customers: u64, now: DateTime<Utc>) -> SampleSpec {
        SampleSpec {
            customers,
            events_per_customer: 10.0,
            seed: 2026,
            now,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleStats {
    pub customers: u64,
    pub lookup_rows: u64,
    pub events: u64,
}

/// Creates the schema's tables (if missing) on the database.
pub async fn create_tables(db: &Database, schema: &SchemaModel) -> Result<(), DbError> {
    db.execute_all(&ddl::create_tables(schema, db.dialect())).await
}

/// Creates the tables and fills them. `progress` hears the rows written so far.
pub async fn generate(
    db: &Database,
    schema: &SchemaModel,
    spec: &SampleSpec,
    mut progress: impl FnMut(&SampleStats),
) -> Result<SampleStats, DbError> {
    let customer = schema
        .customer
        .as_ref()
        .ok_or_else(|| DbError::data("the schema has no `customer` table to fill"))?;
    create_tables(db, schema).await?;
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    let mut stats = SampleStats::default();

    let mut lookup_sizes = Vec::new();
    for table in &schema.tables {
        let rows = lookup_rows(table, spec.customers);
        let mut writer = Writer::new(db, &table.source, table.fields.iter().map(|f| f.name.clone()).collect());
        for id in 1..=rows {
            let row = table
                .fields
                .iter()
                .map(|f| table_value(&mut rng, table, f, id, spec.now, &lookup_sizes))
                .collect();
            writer.push(row).await?;
        }
        writer.finish().await?;
        stats.lookup_rows += rows;
        lookup_sizes.push((table.name.clone(), rows));
    }

    let mut customers = Writer::new(db, &customer.source, customer.fields.iter().map(|f| f.name.clone()).collect());
    let mut events = EventWriters::new(db, schema);
    let mix = EventMix::new(&schema.events);
    for id in 1..=spec.customers {
        let person = Person::new(&mut rng, spec.now);
        let row = customer
            .fields
            .iter()
            .map(|f| customer_value(&mut rng, customer, f, id as i64, &person, spec.now, &lookup_sizes))
            .collect();
        customers.push(row).await?;
        stats.customers += 1;
        // Heavy tail: most customers do little, a few do a lot (Pareto, α 1.5).
        let activity = spec.events_per_customer / 3.0 * (1.0 - rng.gen::<f64>()).powf(-1.0 / 1.5);
        let count = activity.min(spec.events_per_customer * 200.0).round() as u64;
        for event in mix.sample(&mut rng, count, &person, spec.now) {
            let time = event.time.min(spec.now);
            events.push(&mut rng, event.model, id as i64, time, &lookup_sizes).await?;
            stats.events += 1;
        }
        if id % 10_000 == 0 {
            progress(&stats);
        }
    }
    customers.finish().await?;
    events.finish().await?;
    progress(&stats);
    Ok(stats)
}

/// Rows of a lookup table: enough variety for the population.
fn lookup_rows(table: &TableModel, customers: u64) -> u64 {
    match table.name.as_str() {
        "coupon" => 20,
        _ => (customers / 2_000).clamp(50, 5_000),
    }
}

/// One customer's story: when they joined, how often they buy, how recently.
struct Person {
    joined: DateTime<Utc>,
    /// Days between purchases for repeat buyers.
    cycle_days: f64,
    /// 0 for one-time buyers.
    repeat: bool,
}

impl Person {
    fn new(rng: &mut SmallRng, now: DateTime<Utc>) -> Person {
        let days_ago = rng.gen_range(1.0..(3.0 * 365.0));
        Person {
            joined: now - seconds(days_ago * 86_400.0),
            cycle_days: rng.gen_range(14.0..75.0),
            repeat: rng.gen_bool(0.55),
        }
    }
}

fn seconds(s: f64) -> Duration {
    Duration::seconds(s.max(0.0) as i64)
}

struct PlannedEvent<'s> {
    model: &'s EventModel,
    time: DateTime<Utc>,
}

/// How often each event type happens, by what its name says.
struct EventMix<'s> {
    weighted: Vec<(&'s EventModel, f64)>,
    purchase: Option<&'s EventModel>,
}

impl<'s> EventMix<'s> {
    fn new(events: &'s [EventModel]) -> EventMix<'s> {
        let weight = |name: &str| match name {
            n if n.contains("view") => 45.0,
            n if n.contains("open") => 20.0,
            n if n.contains("cart") => 15.0,
            n if n.contains("coupon") => 3.0,
            n if n.contains("restock") || n.contains("price") => 2.0,
            _ => 5.0,
        };
        let purchase = events.iter().find(|e| e.name.contains("purchase") || e.name.contains("order"));
        EventMix {
            weighted: events
                .iter()
                .filter(|e| Some(e.name.as_str()) != purchase.map(|p| p.name.as_str()))
                .map(|e| (e, weight(&e.name)))
                .collect(),
            purchase,
        }
    }

    /// `count` events for one person: purchases on their cycle, the rest
    /// spread over their life as a customer, weighted to recent days.
    fn sample(&self, rng: &mut SmallRng, count: u64, person: &Person, now: DateTime<Utc>) -> Vec<PlannedEvent<'s>> {
        let mut out = Vec::with_capacity(count as usize);
        let now_days = (now - person.joined).num_seconds() as f64 / 86_400.0;
        let life_days = now_days.max(0.5);
        let mut remaining = count;
        if let Some(purchase) = self.purchase {
            // About one event in eight is a purchase.
            let purchases = (count / 8).max(u64::from(count > 0 && rng.gen_bool(0.5)));
            let mut t = person.joined + seconds(rng.gen_range(0.0..life_days.min(60.0)) * 86_400.0);
            for i in 0..purchases {
                if i > 0 && !person.repeat {
                    break;
                }
                out.push(PlannedEvent { model: purchase, time: t });
                remaining = remaining.saturating_sub(1);
                let jitter = rng.gen_range(0.7..1.3);
                t += seconds(person.cycle_days * jitter * 86_400.0);
            }
        }
        let total: f64 = self.weighted.iter().map(|(_, w)| w).sum();
        for _ in 0..remaining {
            let mut pick = rng.gen_range(0.0..total.max(f64::MIN_POSITIVE));
            let Some(model) = self.weighted.iter().find_map(|(e, w)| {
                pick -= w;
                (pick <= 0.0).then_some(*e)
            }) else {
                continue;
            };
            // Recent days are busier: squaring pulls toward the end of life.
            let u: f64 = rng.gen();
            let age = life_days * (1.0 - u.sqrt());
            out.push(PlannedEvent {
                model,
                time: person.joined + seconds((life_days - age) * 86_400.0),
            });
        }
        out
    }
}

const SURNAMES: &[&str] = &[
    "김", "김", "김", "이", "이", "박", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권", "황", "안", "송",
    "류", "전",
];
const GIVEN: &[&str] = &[
    "민", "서", "지", "현", "준", "우", "윤", "수", "하", "은", "예", "도", "주", "유", "진", "영", "연", "재", "승", "아", "채", "다",
    "태", "소",
];
const PRODUCT_WORDS: &[&str] = &[
    "오버핏 니트",
    "데님 팬츠",
    "수분 크림",
    "비건 립밤",
    "유기농 그래놀라",
    "콜드브루 원액",
    "호텔 수건 세트",
    "무선 이어폰",
    "스마트 워치 스트랩",
    "캐시미어 머플러",
    "러닝화",
    "선크림 SPF50",
    "제주 감귤",
    "텀블러",
    "노트북 파우치",
    "향초",
    "핸드크림",
    "블루투스 스피커",
];
const ZONES: &[&str] = &[
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Asia/Tokyo",
    "Australia/Sydney",
];

fn korean_name(rng: &mut SmallRng) -> String {
    let surname = SURNAMES[rng.gen_range(0..SURNAMES.len())];
    let a = GIVEN[rng.gen_range(0..GIVEN.len())];
    let b = GIVEN[rng.gen_range(0..GIVEN.len())];
    format!("{surname}{a}{b}")
}

/// At most `max` characters (the schema's `text(max N)`).
fn fit(text: String, ty: &FieldType) -> String {
    match ty {
        FieldType::Text { max: Some(max) } => text.chars().take(*max as usize).collect(),
        _ => text,
    }
}

fn ref_key(rng: &mut SmallRng, target: &str, lookup_sizes: &[(String, u64)]) -> BindValue {
    match lookup_sizes.iter().find(|(n, _)| n == target) {
        Some((_, rows)) if *rows > 0 => BindValue::Int(rng.gen_range(1..=*rows as i64)),
        _ => BindValue::TypedNull(Want::Int),
    }
}

fn int_upto(rng: &mut SmallRng, max: Option<u64>, typical: f64) -> i64 {
    let value = typical * (1.0 - rng.gen::<f64>()).powf(-1.0 / 2.0) - typical;
    let cap = max.unwrap_or(1_000_000_000).min(i64::MAX as u64) as f64;
    value.clamp(0.0, cap) as i64
}

/// Won amounts look like prices: multiples of 100, most under 100,000.
fn price(rng: &mut SmallRng, max: Option<u64>) -> i64 {
    let raw = 5_000.0 * (1.0 - rng.gen::<f64>()).powf(-1.0 / 1.6);
    let cap = max.unwrap_or(10_000_000).min(i64::MAX as u64) as f64;
    ((raw.min(cap) / 100.0).round() * 100.0).max(100.0) as i64
}

fn generic_value(rng: &mut SmallRng, field: &FieldModel, now: DateTime<Utc>, lookup_sizes: &[(String, u64)]) -> BindValue {
    match &field.ty {
        FieldType::Id => BindValue::Int(rng.gen_range(1..1_000_000)),
        FieldType::Text { .. } => BindValue::Text(fit(format!("{}-{}", field.name, rng.gen_range(1..10_000)), &field.ty)),
        FieldType::Int { max } => BindValue::Int(int_upto(rng, *max, 20.0)),
        FieldType::Decimal => BindValue::Float((rng.gen_range(0.0..100.0f64) * 100.0).round() / 100.0),
        FieldType::Money { max } => BindValue::Int(price(rng, *max)),
        FieldType::Bool => BindValue::Bool(rng.gen_bool(0.5)),
        FieldType::Consent => BindValue::Bool(rng.gen_bool(0.7)),
        FieldType::Timestamp => BindValue::Timestamp(now - seconds(rng.gen_range(0.0..365.0 * 86_400.0))),
        FieldType::Date => BindValue::Date((now + seconds(rng.gen_range(0.0..90.0) * 86_400.0)).date_naive()),
        // Earlier values are more common: bronze before vip.
        FieldType::Enum(values) => {
            let weights: Vec<f64> = (0..values.len()).map(|i| 1.0 / (1.0 + i as f64 * 1.5)).collect();
            let mut pick = rng.gen_range(0.0..weights.iter().sum::<f64>());
            let index = weights.iter().position(|w| {
                pick -= w;
                pick <= 0.0
            });
            BindValue::Text(values.get(index.unwrap_or(0)).cloned().unwrap_or_default())
        }
        FieldType::Phone => BindValue::Text(format!("010-{:04}-{:04}", rng.gen_range(0..10_000), rng.gen_range(0..10_000))),
        FieldType::Email => BindValue::Text(format!("user{}@example.com", rng.gen_range(0..10_000_000))),
        FieldType::PushToken => BindValue::Text(format!("fcm:{:016x}", rng.gen::<u64>())),
        FieldType::Tz => BindValue::Text("Asia/Seoul".to_string()),
        FieldType::Ref(target) => ref_key(rng, target, lookup_sizes),
    }
}

fn table_value(
    rng: &mut SmallRng,
    table: &TableModel,
    field: &FieldModel,
    id: u64,
    now: DateTime<Utc>,
    lookup_sizes: &[(String, u64)],
) -> BindValue {
    if field.name == table.key {
        return BindValue::Int(id as i64);
    }
    match (field.name.as_str(), &field.ty) {
        ("name", FieldType::Text { .. }) if table.name == "product" => {
            let word = PRODUCT_WORDS[(id as usize) % PRODUCT_WORDS.len()];
            BindValue::Text(fit(format!("{word} {}호", id), &field.ty))
        }
        ("name", FieldType::Text { .. }) => BindValue::Text(fit(
            format!("{} 쿠폰 {}", ["신규가입", "생일", "재구매", "VIP"][id as usize % 4], id),
            &field.ty,
        )),
        ("stock", FieldType::Int { max }) => BindValue::Int(if rng.gen_bool(0.1) { 0 } else { int_upto(rng, *max, 40.0) }),
        ("discount", FieldType::Money { .. }) => BindValue::Int(rng.gen_range(1..=20) * 1_000),
        _ => generic_value(rng, field, now, lookup_sizes),
    }
}

fn customer_value(
    rng: &mut SmallRng,
    table: &TableModel,
    field: &FieldModel,
    id: i64,
    person: &Person,
    now: DateTime<Utc>,
    lookup_sizes: &[(String, u64)],
) -> BindValue {
    if field.name == table.key {
        return BindValue::Int(id);
    }
    // A device token, from the key alone (no draw, so adding one to a schema
    // leaves every other generated value as it was); one in ten has no app.
    if field.ty == FieldType::PushToken {
        return if field.nullable && id % 10 == 0 {
            null_of(&field.ty)
        } else {
            BindValue::Text(format!("fcm:{:016x}", (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
        };
    }
    if field.nullable && !matches!(field.ty, FieldType::Tz) && rng.gen_bool(0.2) {
        return null_of(&field.ty);
    }
    match (&field.ty, field.name.as_str()) {
        (FieldType::Text { .. }, "name" | "nickname") => BindValue::Text(fit(korean_name(rng), &field.ty)),
        (FieldType::Phone, _) => BindValue::Text(format!("010-{:04}-{:04}", (id / 10_000) % 10_000, id % 10_000)),
        (FieldType::Email, _) => BindValue::Text(format!("customer{id}@example.co.kr")),
        (FieldType::Tz, _) => BindValue::Text(match rng.gen_range(0..1000) {
            0..=959 => "Asia/Seoul".to_string(),
            960..=997 => ZONES[rng.gen_range(0..ZONES.len())].to_string(),
            // A few rows hold a zone that is not one: the runtime must fall back.
            _ => "KST".to_string(),
        }),
        (FieldType::Consent, n) if n.contains("night") => BindValue::Bool(rng.gen_bool(0.25)),
        (FieldType::Timestamp, n) if n.contains("join") || n.contains("created") => BindValue::Timestamp(person.joined),
        (FieldType::Date, n) if n.contains("birth") => {
            let born = NaiveDate::from_ymd_opt(rng.gen_range(1960..2008), rng.gen_range(1..=12), rng.gen_range(1..=28));
            let date = if n.contains("this_year") {
                born.and_then(|b| b.with_year(now.year()))
            } else {
                born
            };
            date.map(BindValue::Date).unwrap_or(null_of(&field.ty))
        }
        (FieldType::Int { max }, n) if n.contains("point") => BindValue::Int(int_upto(rng, *max, 2_000.0)),
        _ => generic_value(rng, field, now, lookup_sizes),
    }
}

/// Buffers rows and writes them in multi-row `INSERT`s.
struct Writer<'d> {
    db: &'d Database,
    table: String,
    columns: Vec<String>,
    rows: Vec<Vec<BindValue>>,
}

/// Parameters per statement. Far under SQLite's 32,766 and PostgreSQL's
/// 65,535 limits: sqlx's SQLite binding looks parameters up by name, which
/// grows with the count, so large statements bind slower per value.
const MAX_PARAMS: usize = 2_000;

impl<'d> Writer<'d> {
    fn new(db: &'d Database, table: &str, columns: Vec<String>) -> Writer<'d> {
        Writer {
            db,
            table: table.to_string(),
            columns,
            rows: Vec::new(),
        }
    }

    async fn push(&mut self, row: Vec<BindValue>) -> Result<(), DbError> {
        self.rows.push(row);
        if (self.rows.len() + 1) * self.columns.len().max(1) > MAX_PARAMS {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), DbError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let dialect = self.db.dialect();
        let columns: Vec<String> = self.columns.iter().map(|c| dialect.quote(c)).collect();
        let mut sql = format!("INSERT INTO {} ({}) VALUES ", dialect.quote(&self.table), columns.join(", "));
        let mut n = 0;
        for (i, row) in self.rows.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for j in 0..row.len() {
                if j > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                sql.push_str(&dialect.placeholder(n));
            }
            sql.push(')');
        }
        let binds: Vec<BindValue> = self.rows.drain(..).flatten().collect();
        self.db.execute(&sql, &binds).await?;
        Ok(())
    }

    async fn finish(mut self) -> Result<(), DbError> {
        self.flush().await
    }
}

/// One writer for the shared events table, one per event with a table.
struct EventWriters<'d, 's> {
    shared: Option<Writer<'d>>,
    own: Vec<(&'s str, Writer<'d>)>,
}

impl<'d, 's> EventWriters<'d, 's> {
    fn new(db: &'d Database, schema: &'s SchemaModel) -> EventWriters<'d, 's> {
        let shared = schema.events_table.as_ref().map(|t| {
            Writer::new(
                db,
                &t.source,
                vec![
                    t.customer_column.clone(),
                    t.type_column.clone(),
                    t.time_column.clone(),
                    t.props_column.clone(),
                ],
            )
        });
        let own = schema
            .events
            .iter()
            .filter_map(|e| match &e.storage {
                EventStorage::Own {
                    source,
                    customer_column,
                    time_column,
                } => {
                    let mut columns = vec![customer_column.clone(), time_column.clone()];
                    columns.extend(e.props.iter().map(|p| p.name.clone()));
                    Some((e.name.as_str(), Writer::new(db, source, columns)))
                }
                EventStorage::Shared => None,
            })
            .collect();
        EventWriters { shared, own }
    }

    async fn push(
        &mut self,
        rng: &mut SmallRng,
        event: &EventModel,
        customer: i64,
        time: DateTime<Utc>,
        lookup_sizes: &[(String, u64)],
    ) -> Result<(), DbError> {
        let values: Vec<BindValue> = event.props.iter().map(|p| prop_value(rng, p, time, lookup_sizes)).collect();
        match &event.storage {
            EventStorage::Shared => {
                let Some(writer) = self.shared.as_mut() else {
                    return Ok(());
                };
                let props: Map<String, Json> = event.props.iter().zip(values).map(|(p, v)| (p.name.clone(), json_of(v))).collect();
                let props = BindValue::Json(Json::Object(props));
                writer
                    .push(vec![
                        BindValue::Int(customer),
                        BindValue::Text(event.name.clone()),
                        BindValue::Timestamp(time),
                        props,
                    ])
                    .await
            }
            EventStorage::Own { .. } => {
                let Some((_, writer)) = self.own.iter_mut().find(|(n, _)| *n == event.name) else {
                    return Ok(());
                };
                let mut row = vec![BindValue::Int(customer), BindValue::Timestamp(time)];
                row.extend(values);
                writer.push(row).await
            }
        }
    }

    async fn finish(self) -> Result<(), DbError> {
        if let Some(w) = self.shared {
            w.finish().await?;
        }
        for (_, w) in self.own {
            w.finish().await?;
        }
        Ok(())
    }
}

fn prop_value(rng: &mut SmallRng, field: &FieldModel, time: DateTime<Utc>, lookup_sizes: &[(String, u64)]) -> BindValue {
    match (&field.ty, field.name.as_str()) {
        (FieldType::Text { .. }, n) if n.contains("order") => BindValue::Text(fit(
            format!("O{}{:06}", time.format("%y%m%d"), rng.gen_range(0..1_000_000)),
            &field.ty,
        )),
        (FieldType::Money { max }, n) if n.contains("amount") => BindValue::Int(price(rng, *max) * rng.gen_range(1..4)),
        _ => generic_value(rng, field, time, lookup_sizes),
    }
}

/// A null typed as the column that receives it.
fn null_of(ty: &FieldType) -> BindValue {
    match ty {
        // Keys are integers in the tables camp creates.
        FieldType::Id | FieldType::Ref(_) => BindValue::TypedNull(Want::Int),
        _ => BindValue::TypedNull(Want::of_name(camp_compiler::lower::cond::param_type(ty))),
    }
}

fn json_of(value: BindValue) -> Json {
    match value {
        BindValue::Null | BindValue::TypedNull(_) => Json::Null,
        BindValue::Int(n) => Json::from(n),
        BindValue::Float(f) => Json::from(f),
        BindValue::Text(s) => Json::from(s),
        BindValue::Bool(b) => Json::from(b),
        BindValue::Timestamp(t) => Json::from(t.to_rfc3339()),
        BindValue::Date(d) => Json::from(d.format("%Y-%m-%d").to_string()),
        BindValue::Json(j) => j,
    }
}
