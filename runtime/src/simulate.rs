//! `camp simulate --from T --to T`: the stored events replayed through the
//! same engine on a virtual clock, nothing sent. The engine's store goes
//! to a scratch place (a copy of a SQLite file; a scratch schema in
//! PostgreSQL) that is removed afterwards, so the real store is untouched.
//! Every send is taken as delivered at once.

use crate::channels::{ChannelSet, Recorder};
use crate::clock::ms;
use crate::db::{Backend, CellsExt, Database, DbError};
use crate::engine::{Options, Runner};
use camp_compiler::plan::Deployment;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// One send the simulation would have made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Send {
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    pub campaign: String,
    pub customer: String,
    pub channel: String,
    pub message: String,
    pub variant: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone, Default)]
pub struct Simulation {
    pub sends: Vec<Send>,
    pub ticks: u64,
    pub events: u64,
    pub quarantined: u64,
    pub enrolled: u64,
}

fn rfc3339<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

/// Parses the payloads a recorder kept.
pub fn sends_of(recorder: &Recorder) -> Vec<Send> {
    let mut out: Vec<Send> = recorder
        .taken()
        .into_iter()
        .filter_map(|r| {
            let p: serde_json::Value = serde_json::from_str(&r.payload).ok()?;
            let s = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_string);
            Some(Send {
                at: s("created_at").as_deref().and_then(crate::binds::parse_instant)?,
                campaign: s("campaign")?,
                customer: s("customer")?,
                channel: r.channel,
                message: s("message")?,
                variant: s("variant"),
                body: s("body").unwrap_or_default(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (a.at, &a.campaign, customer_order(&a.customer), &a.channel, &a.message).cmp(&(
            b.at,
            &b.campaign,
            customer_order(&b.customer),
            &b.channel,
            &b.message,
        ))
    });
    out
}

/// Customer keys sort as numbers when they are integers (2 before 10),
/// then text keys as text.
fn customer_order(key: &str) -> (u8, i128, &str) {
    match key.parse::<i128>() {
        Ok(n) => (0, n, ""),
        Err(_) => (1, 0, key),
    }
}

/// Runs the deployment's campaigns from `from` to `to` over the events
/// stored in `db`.
pub async fn simulate(
    url: &str,
    deployment: Deployment,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    mut progress: impl FnMut(DateTime<Utc>, &Simulation),
) -> Result<Simulation, DbError> {
    let db = Database::connect(url).await?;
    let scratch = Scratch::make(&db).await?;
    let result = run(&scratch, deployment, from, to, &mut progress).await;
    scratch.remove().await;
    db.close().await;
    result
}

async fn run(
    scratch: &Scratch,
    deployment: Deployment,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    progress: &mut impl FnMut(DateTime<Utc>, &Simulation),
) -> Result<Simulation, DbError> {
    let recorder = Recorder::default();
    let opts = Options {
        replay: true,
        schema: scratch.schema.clone(),
        ..Options::default()
    };
    let runner = Runner::start(
        scratch.db.clone(),
        deployment,
        ChannelSet::all(Arc::new(recorder.clone())),
        opts,
        from,
    )
    .await?;
    let mut sim = Simulation::default();
    let mut now = from;
    let mut last_report = ms(from);
    loop {
        let t = runner.tick(now).await?;
        sim.ticks += 1;
        sim.events += t.events;
        sim.quarantined += t.quarantined;
        sim.enrolled += t.enrolled;
        if ms(now) - last_report >= 6 * 3_600_000 {
            last_report = ms(now);
            progress(now, &sim);
        }
        match runner.next_due(now).await? {
            Some(next) if next <= to => now = next,
            _ => break,
        }
    }
    runner.stop().await?;
    sim.sends = sends_of(&recorder);
    Ok(sim)
}

/// Where a simulation keeps its store.
struct Scratch {
    db: Database,
    schema: String,
    /// SQLite: the copy's folder.
    dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the connection the scratch schema lives on.
    origin: Option<Database>,
}

impl Scratch {
    async fn make(db: &Database) -> Result<Scratch, DbError> {
        match db.backend() {
            Backend::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("camp-simulate-")
                    .tempdir()
                    .map_err(|e| DbError::data(format!("cannot make a scratch folder: {e}")))?;
                let copy = dir.path().join("copy.db");
                let path = copy.to_string_lossy().replace('\'', "''");
                db.execute(&format!("VACUUM INTO '{path}'"), &[]).await?;
                let scratch = Database::connect(&format!("sqlite://{}", copy.display())).await?;
                // The copy starts without the daemon's tables.
                let rows = scratch
                    .rows(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'camp\\_%' ESCAPE '\\'",
                        &[],
                    )
                    .await?;
                for name in rows.iter().filter_map(|r| r.text(0)) {
                    scratch
                        .execute(&format!("DROP TABLE IF EXISTS \"{}\"", name.replace('"', "\"\"")), &[])
                        .await?;
                }
                Ok(Scratch {
                    db: scratch,
                    schema: crate::store::SCHEMA.to_string(),
                    dir: Some(dir),
                    origin: None,
                })
            }
            Backend::Postgres => {
                let schema = format!("camp_simulate_{}_{:08x}", std::process::id(), rand::random::<u32>());
                Ok(Scratch {
                    db: db.clone(),
                    schema,
                    dir: None,
                    origin: Some(db.clone()),
                })
            }
        }
    }

    async fn remove(&self) {
        if let Some(db) = &self.origin {
            let quoted = db.dialect().quote(&self.schema);
            if let Err(e) = db.execute(&format!("DROP SCHEMA IF EXISTS {quoted} CASCADE"), &[]).await {
                tracing::warn!(error = %e, schema = %self.schema, "cannot drop the simulation's scratch schema");
            }
        } else {
            self.db.close().await;
        }
        let _ = &self.dir;
    }
}

/// The simulation as JSON: totals, sends per campaign, and every send (up
/// to `limit`), with `"shown"` and `"total"` so a cut is never silent.
pub fn render_json(sim: &Simulation, from: DateTime<Utc>, to: DateTime<Utc>, limit: usize) -> String {
    let mut per: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for s in &sim.sends {
        *per.entry(s.campaign.as_str()).or_default() += 1;
    }
    let shown: Vec<&Send> = sim.sends.iter().take(limit).collect();
    let doc = serde_json::json!({
        "from": from.to_rfc3339(),
        "to": to.to_rfc3339(),
        "events": sim.events,
        "quarantined": sim.quarantined,
        "enrollments": sim.enrolled,
        "total": sim.sends.len(),
        "shown": shown.len(),
        "per_campaign": per,
        "sends": shown,
    });
    format!("{doc}\n")
}

/// The simulation as text: every send (up to `limit`), then totals per campaign.
pub fn render(sim: &Simulation, zone: &str, limit: usize) -> String {
    use std::fmt::Write;
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::Asia::Seoul);
    let mut out = String::new();
    for s in sim.sends.iter().take(limit) {
        let _ = writeln!(
            out,
            "{}  {:<28} customer {:<8} {:<10} {}{}",
            s.at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"),
            s.campaign,
            s.customer,
            s.channel,
            s.message,
            s.variant.as_deref().map(|v| format!(" (variant {v})")).unwrap_or_default()
        );
    }
    if sim.sends.len() > limit {
        let _ = writeln!(
            out,
            "… {} more sends not shown (the first {limit} are; `--limit N` shows more, `--format json` gives all)",
            sim.sends.len() - limit
        );
    }
    let mut per: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for s in &sim.sends {
        *per.entry(s.campaign.as_str()).or_default() += 1;
    }
    let _ = writeln!(
        out,
        "\n{} events replayed ({} quarantined), {} enrollments, {} sends:",
        sim.events,
        sim.quarantined,
        sim.enrolled,
        sim.sends.len()
    );
    for (c, n) in per {
        let _ = writeln!(out, "  {c:<28} {n}");
    }
    out
}
