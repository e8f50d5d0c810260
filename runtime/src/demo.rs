//! `camp demo`: a shop in a SQLite file, filled with generated customers
//! and their history, and the example campaigns run over a few days on a
//! virtual clock through the real engine: events replayed as the clock
//! passes them, scheduled campaigns at their times, quiet hours, caps,
//! fallbacks, holdouts. Channels are simulated: most sends are delivered,
//! some get no receipt (their fallback goes out), a few are refused; and
//! some customers buy after a message, so conversions and uplift show.

use crate::binds::BindValue;
use crate::channels::{ChannelSet, Outcome, Recorder};
use crate::db::{CellsExt, Database, Want};
use crate::engine::experiment::bucket;
use crate::engine::{Options, Runner};
use crate::report;
use crate::sample::{self, SampleSpec};
use camp_compiler::lower::cond::param_type;
use camp_compiler::plan::{Deployment, Plan};
use camp_compiler::program::Program;
use camp_compiler::schema::EventStorage;
use camp_compiler::Analysis;
use chrono::{DateTime, Duration, Utc};
use std::path::PathBuf;
use std::sync::Arc;

pub struct DemoOptions {
    pub path: PathBuf,
    pub customers: u64,
    pub start: DateTime<Utc>,
    pub days: i64,
}

/// How a simulated provider answers: by the idempotency key, so a run is
/// reproducible.
fn provider(o: &crate::channels::Outgoing) -> Outcome {
    let b = bucket("demo-provider", &o.key);
    if b < 88.0 {
        Outcome::Delivered
    } else if b < 97.0 {
        Outcome::Sent
    } else {
        Outcome::Refused("HTTP 400: the number does not take messages".into())
    }
}

/// How far the demo is: a stage (`"generate"`, `"simulate"`), the amount
/// done and the whole.
pub type ProgressFn<'a> = &'a mut dyn FnMut(&'static str, u64, u64);

pub async fn run(analysis: &Analysis, opts: &DemoOptions, out: &mut dyn FnMut(String), progress: ProgressFn<'_>) -> Result<(), String> {
    let program = Program::new(analysis).ok_or("the example workspace does not check")?;
    let deployment = Deployment::build(&program).map_err(|e| e.to_string())?;
    let plans: Vec<Plan> = deployment.plans.clone();
    let zone: chrono_tz::Tz = plans.first().and_then(|p| p.zone.parse().ok()).unwrap_or(chrono_tz::Asia::Seoul);
    let end = opts.start + Duration::days(opts.days);

    if let Some(dir) = opts.path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut p = opts.path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    let url = format!("sqlite://{}", opts.path.display());
    out(format!("database: {} (a new SQLite file)", opts.path.display()));
    let db = Database::create(&url).await.map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let spec = SampleSpec::new(opts.customers, end);
    let stats = sample::generate(&db, &program.schema, &spec, |s| progress("generate", s.customers, opts.customers))
        .await
        .map_err(|e| e.to_string())?;
    out(format!(
        "generated {} customers, {} lookup rows and {} events (3 years of history up to {}) in {:.1}s",
        stats.customers,
        stats.lookup_rows,
        stats.events,
        end.with_timezone(&zone).format("%Y-%m-%d"),
        started.elapsed().as_secs_f64()
    ));

    let recorder = Recorder::new(provider);
    let opts_engine = Options {
        replay: true,
        ..Options::default()
    };
    let runner = Runner::start(
        db.clone(),
        deployment,
        ChannelSet::all(Arc::new(recorder.clone())),
        opts_engine,
        opts.start,
    )
    .await
    .map_err(|e| e.to_string())?;
    out(format!(
        "running {} campaigns from {} to {} on a virtual clock:",
        plans.len(),
        opts.start.with_timezone(&zone).format("%a %Y-%m-%d %H:%M"),
        end.with_timezone(&zone).format("%a %Y-%m-%d %H:%M %Z")
    ));

    let days: Vec<DateTime<Utc>> = (1..=opts.days).map(|d| opts.start + Duration::days(d)).collect();
    let mut now = opts.start;
    let mut seen = 0;
    let mut day = 0;
    let mut totals = crate::engine::Tick::default();
    let mut day_sends = 0;
    loop {
        let t = runner.tick(now).await.map_err(|e| e.to_string())?;
        totals += t;
        // Some customers buy after a message.
        let taken = recorder.taken();
        for r in taken.iter().skip(seen) {
            day_sends += 1;
            if bucket("demo-buys", &r.key) < 9.0 {
                let customer = serde_json::from_str::<serde_json::Value>(&r.payload)
                    .ok()
                    .and_then(|p| p.get("customer").and_then(|c| c.as_str()).map(str::to_string));
                let when = now + Duration::minutes(30 + (bucket("demo-when", &r.key) * 20.0) as i64);
                if let (Some(c), true) = (customer, when < end) {
                    buy(&db, &program, &c, when, &r.key).await?;
                }
            }
        }
        seen = taken.len();
        let next = runner.next_due(now).await.map_err(|e| e.to_string())?;
        let boundary = days.get(day).copied();
        let next = [next, boundary].into_iter().flatten().min();
        if let Some(b) = boundary {
            if next.is_none_or(|n| n >= b) {
                day += 1;
                out(format!(
                    "  day {day} ({}): {day_sends} messages out, {} events taken so far",
                    (b - Duration::days(1)).with_timezone(&zone).format("%a %d %b"),
                    totals.events
                ));
                day_sends = 0;
            }
        }
        progress(
            "simulate",
            (now - opts.start).num_seconds().max(0) as u64,
            (end - opts.start).num_seconds().max(1) as u64,
        );
        match next {
            Some(n) if n <= end => now = n,
            _ => break,
        }
    }
    runner.stop().await.map_err(|e| e.to_string())?;
    summary(&runner, &plans, out).await.map_err(|e| e.to_string())?;
    samples(&runner, out).await.map_err(|e| e.to_string())?;
    out(format!(
        "\nThe database is kept: `camp report cart_reminder --database {url}` prints one campaign's report again."
    ));
    Ok(())
}

/// A purchase, written into the table the schema keeps purchases in.
async fn buy(db: &Database, program: &Program<'_>, customer: &str, when: DateTime<Utc>, key: &str) -> Result<(), String> {
    let Some(event) = program.schema.event("purchase") else {
        return Ok(());
    };
    let d = db.dialect();
    let key_value = customer
        .parse::<i64>()
        .map(BindValue::Int)
        .unwrap_or(BindValue::Text(customer.to_string()));
    let (table, mut columns, mut values, props_column) = match (&event.storage, &program.schema.events_table) {
        (
            EventStorage::Own {
                source,
                customer_column,
                time_column,
            },
            _,
        ) => (
            source.clone(),
            vec![d.quote(customer_column), d.quote(time_column)],
            vec![key_value, BindValue::Timestamp(when)],
            None,
        ),
        (EventStorage::Shared, Some(t)) => (
            t.source.clone(),
            vec![d.quote(&t.customer_column), d.quote(&t.time_column), d.quote(&t.type_column)],
            vec![key_value, BindValue::Timestamp(when), BindValue::Text("purchase".into())],
            Some(t.props_column.clone()),
        ),
        _ => return Ok(()),
    };
    let mut props = serde_json::Map::new();
    for p in &event.props {
        let value = match param_type(&p.ty) {
            "money" | "int" => BindValue::Int(39_000),
            "text" => BindValue::Text(format!("D{}", &key.chars().filter(char::is_ascii_digit).collect::<String>())),
            ty => BindValue::TypedNull(Want::of_name(ty)),
        };
        match &props_column {
            Some(_) => {
                props.insert(
                    p.name.clone(),
                    match &value {
                        BindValue::Int(n) => serde_json::Value::from(*n),
                        BindValue::Text(s) => serde_json::Value::from(s.clone()),
                        _ => serde_json::Value::Null,
                    },
                );
            }
            None => {
                columns.push(d.quote(&p.name));
                values.push(value);
            }
        }
    }
    if let Some(c) = props_column {
        columns.push(d.quote(&c));
        values.push(BindValue::Json(serde_json::Value::Object(props)));
    }
    let placeholders: Vec<String> = (1..=values.len()).map(|i| d.placeholder(i)).collect();
    db.execute(
        &format!(
            "INSERT INTO {} ({}) VALUES ({})",
            d.quote(&table),
            columns.join(", "),
            placeholders.join(", ")
        ),
        &values,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

async fn summary(runner: &Runner, plans: &[Plan], out: &mut dyn FnMut(String)) -> Result<(), crate::DbError> {
    let s = &runner.store;
    out(String::new());
    out(format!(
        "{:<28} {:>8} {:>6} {:>9} {:>9} {:>6} {:>10} {:>11}",
        "campaign", "enrolled", "sent", "delivered", "fallback", "held", "not sent", "conversions"
    ));
    let mut names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    for name in names {
        let r = report::report(s, name).await?;
        let sum = |f: fn(&report::Arm) -> i64| r.arms.iter().map(f).sum::<i64>();
        let not_sent: i64 = r.suppressed.iter().map(|(_, n)| n).sum();
        out(format!(
            "{:<28} {:>8} {:>6} {:>9} {:>9} {:>6} {:>10} {:>11}",
            name,
            sum(|a| a.enrolled),
            sum(|a| a.sends),
            sum(|a| a.delivered),
            r.fallbacks,
            sum(|a| a.held),
            not_sent,
            sum(|a| a.conversions)
        ));
    }
    let rows =
        s.db.rows(
            &format!(
                "SELECT COALESCE(reason, ''), COUNT(*) FROM {} WHERE status = 'suppressed' GROUP BY COALESCE(reason, '') ORDER BY 2 DESC",
                s.t.ledger
            ),
            &[],
        )
        .await?;
    if !rows.is_empty() {
        out("\nnot sent, by reason:".to_string());
        for r in rows {
            out(format!("  {:<40} {}", r.text(0).unwrap_or_default(), r.int(1).unwrap_or(0)));
        }
    }
    let deferred =
        s.db.rows(&format!("SELECT COUNT(*) FROM {} WHERE status = 'dead'", s.t.ledger), &[])
            .await?;
    out(format!(
        "dead letters (refused by the provider, then sent on the fallback channel where there is one): {}",
        deferred.first().and_then(|r| r.int(0)).unwrap_or(0)
    ));
    for p in plans.iter().filter(|p| p.experiment.holdout.is_some()) {
        out(String::new());
        out(report::render(&report::report(s, &p.name).await?).trim_end().to_string());
    }
    Ok(())
}

async fn samples(runner: &Runner, out: &mut dyn FnMut(String)) -> Result<(), crate::DbError> {
    let s = &runner.store;
    out("\nsample messages:".to_string());
    for message in ["cart_remind", "vip_coupon", "restock_notice", "year_end_open"] {
        let rows =
            s.db.rows(
                &format!(
                    "SELECT p.payload FROM {} l JOIN {} p ON p.ledger = l.id WHERE l.message = {} AND l.attempt = 0 ORDER BY l.id LIMIT 1",
                    s.t.ledger,
                    s.t.payloads,
                    s.ph(1)
                ),
                &[BindValue::Text(message.to_string())],
            )
            .await?;
        let Some(p) = rows
            .first()
            .and_then(|r| r.text(0))
            .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
        else {
            continue;
        };
        let text = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        out(format!(
            "── {} → customer {} via {} at {}",
            text("message"),
            text("customer"),
            text("channel"),
            text("created_at")
        ));
        if !text("subject").is_empty() {
            out(format!("subject: {}", text("subject")));
        }
        out(text("body"));
    }
    Ok(())
}
