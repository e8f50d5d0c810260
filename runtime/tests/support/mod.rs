//! Shared by the engine's tests: the shop's plans, a runner on a virtual
//! clock, and a driver that moves the clock from one due instant to the next.

#![allow(dead_code)]

use camp_compiler::plan::{self, deployment, Deployment, Plan};
use camp_compiler::program::Program;
#[path = "../common/files.rs"]
mod files;

use camp_compiler::{Analysis, Input};
use camp_runtime::binds::{parse_instant, BindValue};
use camp_runtime::channels::{ChannelSet, Recorder};
use camp_runtime::db::CellsExt;
use camp_runtime::engine::{Options, Runner};
use camp_runtime::Database;
use chrono::{DateTime, Utc};
use files::{camp_workspace, errors};
use std::path::Path;
use std::sync::Arc;

pub fn t(s: &str) -> DateTime<Utc> {
    parse_instant(s).expect("a valid instant")
}

/// The shop's `.camp` files plus `extra` (name, text), analyzed; errors fail.
pub fn workspace(extra: &[(&str, &str)]) -> Analysis {
    let mut ws = camp_workspace(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop"));
    for (name, text) in extra {
        ws.add(name.to_string(), Input::Text(text.to_string()));
    }
    let analysis = camp_compiler::analyze(&ws);
    let errors = errors(&analysis);
    assert!(errors.is_empty(), "the workspace must check clean: {errors:?}");
    analysis
}

pub fn plans(analysis: &Analysis, names: &[&str]) -> Vec<Plan> {
    let program = Program::new(analysis).expect("clean program");
    names.iter().map(|n| plan::build(&program, n).expect("plan builds")).collect()
}

pub fn schema(analysis: &Analysis) -> camp_compiler::schema::SchemaModel {
    Program::new(analysis).expect("clean program").schema
}

/// A deployment of the named campaigns' plans.
pub fn deployment(analysis: &Analysis, names: &[&str]) -> Deployment {
    let program = Program::new(analysis).expect("clean program");
    Deployment::new(
        deployment::Schema::of(&program.schema),
        deployment::Policy::of(&program),
        plans(analysis, names),
    )
}

/// A runner on a recording channel, started at `now`.
pub async fn runner(db: &Database, analysis: &Analysis, names: &[&str], now: DateTime<Utc>, recorder: &Recorder) -> Runner {
    runner_with(
        db,
        analysis,
        names,
        now,
        ChannelSet::all(Arc::new(recorder.clone())),
        Options::default(),
    )
    .await
}

pub async fn runner_with(
    db: &Database,
    analysis: &Analysis,
    names: &[&str],
    now: DateTime<Utc>,
    channels: ChannelSet,
    opts: Options,
) -> Runner {
    Runner::start(db.clone(), deployment(analysis, names), channels, opts, now)
        .await
        .expect("the runner starts")
}

/// Ticks at every due instant from `from` to `to`; before each tick, `at`
/// may act (insert events) at its own instants, which the driver visits too.
pub async fn drive(runner: &Runner, from: DateTime<Utc>, to: DateTime<Utc>, mut stops: Vec<DateTime<Utc>>) -> DateTime<Utc> {
    stops.sort();
    let mut now = from;
    loop {
        runner.tick(now).await.expect("tick");
        let next_due = runner.next_due(now).await.expect("next due");
        let next_stop = stops.iter().copied().find(|s| *s > now);
        let next = [next_due, next_stop].into_iter().flatten().min();
        match next {
            Some(n) if n <= to => now = n,
            _ => break,
        }
    }
    now
}

/// Customers with marketing consent in Asia/Seoul, ascending, whose
/// experiment bucket is not in the holdout of `campaign`.
pub async fn consenting(db: &Database, campaign: &str, holdout: f64, n: usize) -> Vec<i64> {
    let rows = db
        .rows(
            "SELECT \"id\" FROM \"customers\" WHERE \"marketing_consent\" = $1 AND \"timezone\" = 'Asia/Seoul' ORDER BY \"id\""
                .replace(
                    "$1",
                    match db.backend() {
                        camp_runtime::db::Backend::Sqlite => "1",
                        camp_runtime::db::Backend::Postgres => "TRUE",
                    },
                )
                .as_str(),
            &[],
        )
        .await
        .expect("customers");
    rows.iter()
        .filter_map(|r| r.int(0))
        .filter(|id| camp_runtime::engine::experiment::bucket(campaign, &id.to_string()) >= holdout)
        .take(n)
        .collect()
}

/// Posts events as `POST /v1/events` would.
pub async fn post(runner: &Runner, now: DateTime<Utc>, body: serde_json::Value) -> camp_runtime::engine::events::Ingested {
    camp_runtime::engine::events::ingest(runner, now, body.to_string().as_bytes())
        .await
        .expect("ingest")
}

pub async fn count(db: &Database, sql: &str, binds: &[BindValue]) -> i64 {
    db.rows(sql, binds)
        .await
        .expect("count query")
        .first()
        .and_then(|r| r.int(0))
        .unwrap_or(-1)
}

/// `camp_x` in SQLite, `camp.x` in PostgreSQL.
pub fn table(db: &Database, name: &str) -> String {
    match db.backend() {
        camp_runtime::db::Backend::Sqlite => format!("camp_{name}"),
        camp_runtime::db::Backend::Postgres => format!("\"camp\".{name}"),
    }
}
