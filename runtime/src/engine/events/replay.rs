//! Events in a replay (`camp simulate`, `camp demo`): the stored events
//! taken as the virtual clock passes their times, without altering the
//! customer's tables (no index is added to them).
//!
//! Each events table is read in time order, in chunks (`Options::replay_chunk`, 50,000 rows)
//! (`ORDER BY time, row key`, resuming after the last row read), once over
//! the whole replay; each tick takes the rows read whose time it has
//! passed, and the next event's time is the first row waiting. Rows
//! written while the replay runs (a demo's purchases, a test's events)
//! have keys above the largest one at the start and are read by key, which
//! the primary key answers at once. An unindexed time column costs one
//! scan per chunk, not two per tick.
//!
//! `Options::replay_rescan` keeps the earlier way,
//! two queries per table and tick over `(from, now]`, to compare with.

use super::{read_row, take, Source};
use crate::binds::BindValue;
use crate::clock::{from_ms, ms};
use crate::db::{CellsExt, DbError, Raw, Want};
use crate::engine::{Runner, Tick};
use camp_compiler::lower::ddl::EVENT_ROW_ID;
use camp_compiler::templating::Value;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Rows written during the replay read at once by key.
const NEW_ROWS: i64 = 10_000;

/// Where a replay is in each events table.
#[derive(Default)]
pub struct State {
    started: bool,
    sources: Vec<Table>,
}

#[derive(Default)]
struct Table {
    /// The table has no row key to read it by (like the daemon's cursor,
    /// a replay skips it).
    skip: bool,
    /// The largest row key when the replay began: chunks read rows up to
    /// it; those above were written since and are read by key.
    known_to: i64,
    /// The last row key read of those written since.
    cursor: i64,
    /// The time cell and row key of the last row of the last chunk.
    after: Option<(BindValue, i64)>,
    /// Every row of the chunks with a time at or before this is read.
    horizon: Option<DateTime<Utc>>,
    /// The chunks are all read.
    exhausted: bool,
    /// Rows read and not yet taken, by (time, row key).
    waiting: BTreeMap<(DateTime<Utc>, i64), Vec<Raw>>,
    /// Rows whose time cannot be read: quarantined by the next tick.
    timeless: Vec<Vec<Raw>>,
}

/// The time of an events row (its third cell), if it has a valid one.
fn row_time(row: &[Raw]) -> Option<DateTime<Utc>> {
    match row.get(2)? {
        Raw::Timestamp(t) => Some(*t),
        Raw::Text(s) => crate::binds::parse_instant(s),
        _ => None,
    }
}

/// A cell bound again as it was read: the keyset compares what the
/// database holds with what it holds.
fn bind_raw(raw: &Raw) -> Option<BindValue> {
    Some(match raw {
        Raw::Null => return None,
        Raw::Int(n) => BindValue::Int(*n),
        Raw::Float(f) => BindValue::Float(*f),
        Raw::Text(s) => BindValue::Text(s.clone()),
        Raw::Bool(b) => BindValue::Bool(*b),
        Raw::Timestamp(t) => BindValue::Timestamp(*t),
        Raw::Date(d) => BindValue::Date(*d),
    })
}

/// Just after `t`: the first key of the map that is later than `t`.
fn after(t: DateTime<Utc>) -> (DateTime<Utc>, i64) {
    (t + Duration::nanoseconds(1), i64::MIN)
}

async fn start(runner: &Runner, state: &mut State) -> Result<(), DbError> {
    if state.started {
        return Ok(());
    }
    let d = runner.store.db.dialect();
    for source in &runner.sources {
        let max = format!("SELECT MAX({}) FROM {}", d.quote(EVENT_ROW_ID), d.quote(source.table()));
        let table = match runner.store.db.rows(&max, &[]).await {
            Ok(rows) => {
                let known_to = rows.first().and_then(|r| r.int(0)).unwrap_or(0);
                Table {
                    known_to,
                    cursor: known_to,
                    ..Table::default()
                }
            }
            Err(e) => {
                tracing::warn!(table = source.table(), error = %e, "this events table has no row key; the replay skips it");
                Table {
                    skip: true,
                    ..Table::default()
                }
            }
        };
        state.sources.push(table);
    }
    state.started = true;
    Ok(())
}

/// Reads the next chunk of `source` in time order.
async fn read_chunk(runner: &Runner, source: &Source, table: &mut Table, from: DateTime<Utc>) -> Result<(), DbError> {
    let d = runner.store.db.dialect();
    let t = d.quote(source.time());
    let id = d.quote(EVENT_ROW_ID);
    let ph = |n| d.placeholder(n);
    let (filter, mut binds) = match &table.after {
        None => (format!("{t} > {}", d.timestamp_param(&ph(1))), vec![BindValue::Timestamp(from)]),
        Some((time, key)) => (
            format!("({t} > {p1} OR ({t} = {p1} AND {id} > {}))", ph(2), p1 = d.timestamp_param(&ph(1))),
            vec![time.clone(), BindValue::Int(*key)],
        ),
    };
    binds.push(BindValue::Int(table.known_to));
    let chunk = runner.opts.replay_chunk.max(1);
    let sql = format!(
        "{} WHERE {filter} AND {id} <= {} ORDER BY {t}, {id} LIMIT {chunk}",
        source.select(runner),
        ph(binds.len())
    );
    let rows = runner.store.db.rows(&sql, &binds).await?;
    if (rows.len() as i64) < chunk {
        table.exhausted = true;
    }
    if let Some(last) = rows.last() {
        match (last.get(2).and_then(bind_raw), last.int(0)) {
            (Some(time), Some(key)) => table.after = Some((time, key)),
            // Cannot resume after it: take what was read as the end.
            _ => table.exhausted = true,
        }
        if let Some(t) = row_time(last) {
            table.horizon = Some(t);
        }
    }
    for row in rows {
        let Some(key) = row.int(0) else { continue };
        match row_time(&row) {
            Some(t) => {
                table.waiting.insert((t, key), row);
            }
            None => table.timeless.push(row),
        }
    }
    Ok(())
}

/// Reads chunks until every row at or before `until` is read.
async fn read_until(runner: &Runner, source: &Source, table: &mut Table, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<(), DbError> {
    while !table.skip && !table.exhausted && table.horizon.is_none_or(|h| h <= until) {
        read_chunk(runner, source, table, from).await?;
    }
    Ok(())
}

/// Reads the rows written since the replay began; those at or before
/// `seen` are in the past of the virtual clock and stay invisible.
async fn read_new(runner: &Runner, source: &Source, table: &mut Table, seen: DateTime<Utc>) -> Result<(), DbError> {
    if table.skip {
        return Ok(());
    }
    let d = runner.store.db.dialect();
    let id = d.quote(EVENT_ROW_ID);
    let sql = format!(
        "{} WHERE {id} > {} ORDER BY {id} LIMIT {NEW_ROWS}",
        source.select(runner),
        d.placeholder(1)
    );
    loop {
        let rows = runner.store.db.rows(&sql, &[BindValue::Int(table.cursor)]).await?;
        let read = rows.len() as i64;
        for row in rows {
            let Some(key) = row.int(0) else { continue };
            table.cursor = table.cursor.max(key);
            match (row_time(&row), row.get(2)) {
                (Some(t), _) if t > seen => {
                    table.waiting.insert((t, key), row);
                }
                (Some(_), _) | (None, Some(Raw::Null) | None) => {}
                (None, Some(_)) => table.timeless.push(row),
            }
        }
        if read < NEW_ROWS {
            return Ok(());
        }
    }
}

/// Takes every event whose time the clock has passed: `(replayed_to, now]`.
pub async fn poll(runner: &Runner, now: DateTime<Utc>) -> Result<Tick, DbError> {
    let from = runner.replayed_to().unwrap_or(ms(now));
    if ms(now) <= from {
        return Ok(Tick::default());
    }
    if runner.opts.replay_rescan {
        return rescan::poll(runner, from, now).await;
    }
    let from = from_ms(from);
    let mut tick = Tick::default();
    let mut state = runner.replay.lock().await;
    start(runner, &mut state).await?;
    let kind = runner.key_kind().await?;
    for (source, table) in runner.sources.iter().zip(state.sources.iter_mut()) {
        read_new(runner, source, table, from).await?;
        read_until(runner, source, table, from, now).await?;
        let later = table.waiting.split_off(&after(now));
        let due = std::mem::replace(&mut table.waiting, later);
        let rows: Vec<Vec<Raw>> = table.timeless.drain(..).chain(due.into_values()).collect();
        if rows.is_empty() {
            continue;
        }
        let incoming = rows.iter().map(|r| read_row(source, r)).collect();
        let mut tx = runner.store.db.begin().await?;
        tick += take(runner, &mut tx, kind, now, incoming).await?;
        tx.commit().await?;
    }
    drop(state);
    runner.set_replayed_to(ms(now));
    Ok(tick)
}

/// The time of the first stored event after `now`.
pub async fn next_event_time(runner: &Runner, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, DbError> {
    if runner.opts.replay_rescan {
        return rescan::next_event_time(runner, now).await;
    }
    let from = from_ms(runner.replayed_to().unwrap_or(ms(now)));
    let mut state = runner.replay.lock().await;
    start(runner, &mut state).await?;
    let mut best: Option<DateTime<Utc>> = None;
    for (source, table) in runner.sources.iter().zip(state.sources.iter_mut()) {
        if table.skip {
            continue;
        }
        read_new(runner, source, table, from).await?;
        loop {
            let first = table.waiting.range(after(now)..).next().map(|((t, _), _)| *t);
            match first {
                // No unread chunk row comes before it.
                Some(t) if table.exhausted || table.horizon.is_some_and(|h| t <= h) => {
                    best = Some(best.map_or(t, |b| b.min(t)));
                    break;
                }
                _ if table.exhausted => break,
                _ => read_chunk(runner, source, table, from).await?,
            }
        }
    }
    Ok(best)
}

/// The earlier replay: every tick asks each table for `(from, now]` and
/// for the first time after now.
mod rescan {
    use super::*;

    pub async fn poll(runner: &Runner, from: i64, now: DateTime<Utc>) -> Result<Tick, DbError> {
        let mut tick = Tick::default();
        let kind = runner.key_kind().await?;
        for source in &runner.sources {
            let d = runner.store.db.dialect();
            let t = d.quote(source.time());
            let sql = format!(
                "{} WHERE {t} > {} AND {t} <= {} ORDER BY {t}, {}",
                source.select(runner),
                d.timestamp_param(&d.placeholder(1)),
                d.timestamp_param(&d.placeholder(2)),
                d.quote(EVENT_ROW_ID)
            );
            let rows = runner
                .store
                .db
                .rows(&sql, &[BindValue::Timestamp(from_ms(from)), BindValue::Timestamp(now)])
                .await?;
            let mut tx = runner.store.db.begin().await?;
            let incoming = rows.iter().filter(|r| r.int(0).is_some()).map(|r| read_row(source, r)).collect();
            tick += take(runner, &mut tx, kind, now, incoming).await?;
            tx.commit().await?;
        }
        runner.set_replayed_to(ms(now));
        Ok(tick)
    }

    pub async fn next_event_time(runner: &Runner, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, DbError> {
        let d = runner.store.db.dialect();
        let mut best: Option<DateTime<Utc>> = None;
        for source in &runner.sources {
            let sql = format!(
                "SELECT MIN({t}) FROM {} WHERE {t} > {}",
                d.quote(source.table()),
                d.timestamp_param(&d.placeholder(1)),
                t = d.quote(source.time())
            );
            let rows = runner
                .store
                .db
                .fetch(&sql, &[BindValue::Timestamp(now)], &[Want::Timestamp])
                .await?;
            if let Some(Value::Timestamp(t)) = rows.first().and_then(|r| r.first()) {
                best = Some(best.map_or(*t, |b| b.min(*t)));
            }
        }
        Ok(best)
    }
}
