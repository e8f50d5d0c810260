//! After the commit: delivering what the ledger holds. A recorded send is
//! handed to its channel; the result moves its ledger row (sent, retried
//! later with backoff, dead-lettered after the last try or at once on a
//! refusal). A crash between commit and delivery leaves the row pending:
//! its lease runs out and it is delivered again with the same idempotency
//! key. Receipts move rows to delivered or failed; a failed send, or one
//! with no receipt by its fallback time, goes out on the next channel.

use super::send::{self, Candidate, Verdict};
use super::{contacts, Runner};
use crate::binds::{BindValue, TriggerEvent};
use crate::channels::{Outcome, Outgoing};
use crate::clock::{from_ms, ms};
use crate::db::{CellsExt, DbError, Want};
use crate::store::wall_ms;
use camp_compiler::plan::Op;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Delivers sends this daemon holds; returns how many went out. Their
/// rows are marked sent at once.
pub async fn deliver(runner: &Runner, now: DateTime<Utc>, outgoing: Vec<Outgoing>) -> Result<u64, DbError> {
    let n = deliver_later(runner, now, outgoing).await?;
    flush_marks(runner).await?;
    Ok(n)
}

/// Sends delivered whose rows are still to be marked: the next batch's
/// transaction marks them (one commit fewer per batch). If the daemon dies
/// first, they stay pending and are delivered again under the same key.
#[derive(Default)]
pub struct Marks {
    sent: Vec<i64>,
    delivered: Vec<i64>,
    at: i64,
}

/// Marks what was delivered, in `tx`.
pub async fn write_marks(runner: &Runner, tx: &mut crate::db::Tx) -> Result<(), DbError> {
    let marks = match runner.marks.lock() {
        Ok(mut m) => std::mem::take(&mut *m),
        Err(_) => return Ok(()),
    };
    let s = &runner.store;
    for (ids, status_sql, extra) in [
        (&marks.sent, "CASE WHEN status = 'pending' THEN 'sent' ELSE status END", ""),
        (
            &marks.delivered,
            "'delivered'",
            ", delivered_ms = COALESCE(delivered_ms, $NOW), fallback_ms = NULL",
        ),
    ] {
        if ids.is_empty() {
            continue;
        }
        tx.execute(
            &format!(
                "UPDATE {} SET status = {status_sql}, sent_ms = {}, tries = tries + 1, lease_owner = NULL, lease_until_ms = NULL{} WHERE id IN {}",
                s.t.ledger,
                s.ph(1),
                extra.replace("$NOW", &s.ph(1)),
                s.sql.json_list(&s.ph(2), true)
            ),
            &[BindValue::Int(marks.at), BindValue::Json(serde_json::Value::from(ids.clone()))],
        )
        .await?;
    }
    Ok(())
}

/// Marks what was delivered, in a transaction of its own.
pub async fn flush_marks(runner: &Runner) -> Result<(), DbError> {
    let empty = runner
        .marks
        .lock()
        .map(|m| m.sent.is_empty() && m.delivered.is_empty())
        .unwrap_or(true);
    if empty {
        return Ok(());
    }
    let mut tx = runner.store.db.begin().await?;
    write_marks(runner, &mut tx).await?;
    tx.commit().await
}

/// Delivers and leaves the marking to [`write_marks`].
pub async fn deliver_later(runner: &Runner, now: DateTime<Utc>, outgoing: Vec<Outgoing>) -> Result<u64, DbError> {
    if outgoing.is_empty() {
        return Ok(0);
    }
    let results = runner.channels.deliver(outgoing).await;
    let now_ms = ms(now);
    let s = &runner.store;
    let mut sent = Vec::new();
    let mut delivered = Vec::new();
    let mut ok = 0;
    for (o, outcome) in &results {
        runner.metrics.delivery(&o.channel, outcome);
        match outcome {
            Outcome::Sent => sent.push(o.ledger),
            Outcome::Delivered => delivered.push(o.ledger),
            Outcome::Retry(error) => {
                let tries = o.tries + 1;
                if tries >= runner.opts.max_tries {
                    dead(runner, now_ms, o, &format!("gave up after {tries} tries: {error}")).await?;
                } else {
                    // 2s, 4s, 8s, .. on the engine's clock.
                    let backoff = 1000i64 << tries.clamp(1, 16);
                    s.db.execute(
                        &format!(
                            "UPDATE {} SET tries = {}, next_try_ms = {}, error = {}, lease_owner = NULL, lease_until_ms = NULL WHERE id = {}",
                            s.t.ledger,
                            s.ph(1),
                            s.ph(2),
                            s.ph(3),
                            s.ph(4)
                        ),
                        &[
                            BindValue::Int(tries),
                            BindValue::Int(now_ms + backoff),
                            BindValue::Text(crate::logging::mask(error)),
                            BindValue::Int(o.ledger),
                        ],
                    )
                    .await?;
                }
            }
            Outcome::Refused(error) => dead(runner, now_ms, o, &format!("refused: {error}")).await?,
        }
    }
    ok += (sent.len() + delivered.len()) as u64;
    // One instant per set of marks: an older set is written first.
    let older = runner
        .marks
        .lock()
        .map(|m| m.at != now_ms && !(m.sent.is_empty() && m.delivered.is_empty()))
        .unwrap_or(false);
    if older {
        flush_marks(runner).await?;
    }
    if let Ok(mut m) = runner.marks.lock() {
        m.at = now_ms;
        m.sent.extend(sent);
        m.delivered.extend(delivered);
    }
    Ok(ok)
}

/// Gives a delivery up: the row is dead, a dead letter keeps the payload,
/// and the next channel of the chain (if any) is due now.
async fn dead(runner: &Runner, now_ms: i64, o: &Outgoing, reason: &str) -> Result<(), DbError> {
    tracing::warn!(channel = %o.channel, key = %o.key, reason = %crate::logging::mask(reason), "delivery dead-lettered");
    runner.metrics.dead_letter();
    let s = &runner.store;
    let mut tx = s.db.begin().await?;
    tx.execute(
        &format!(
            "UPDATE {} SET status = 'dead', tries = tries + 1, failed_ms = {p1}, error = {p2}, lease_owner = NULL, lease_until_ms = NULL, \
             fallback_ms = CASE WHEN fallback_ms IS NULL THEN NULL ELSE {p1} END WHERE id = {p3}",
            s.t.ledger,
            p1 = s.ph(1),
            p2 = s.ph(2),
            p3 = s.ph(3)
        ),
        &[
            BindValue::Int(now_ms),
            BindValue::Text(crate::logging::mask(reason)),
            BindValue::Int(o.ledger),
        ],
    )
    .await?;
    tx.execute(
        &format!(
            "INSERT INTO {} (ledger, channel, idempotency_key, payload, reason, created_ms) VALUES ({}, {}, {}, {}, {}, {})",
            s.t.dead_letters,
            s.ph(1),
            s.ph(2),
            s.ph(3),
            s.ph(4),
            s.ph(5),
            s.ph(6)
        ),
        &[
            BindValue::Int(o.ledger),
            BindValue::Text(o.channel.clone()),
            BindValue::Text(o.key.clone()),
            BindValue::Text(o.payload.clone()),
            BindValue::Text(crate::logging::mask(reason)),
            BindValue::Int(now_ms),
        ],
    )
    .await?;
    tx.commit().await
}

/// Claims pending deliveries that are due (retries, and rows whose daemon
/// died before delivering) and delivers them.
pub async fn deliver_due(runner: &Runner, now: DateTime<Utc>) -> Result<u64, DbError> {
    let s = &runner.store;
    let mut total = 0;
    for _ in 0..1000 {
        let wall = wall_ms();
        let sql = format!(
            "UPDATE {l} SET lease_owner = {p1}, lease_until_ms = {p2} WHERE id IN (SELECT id FROM {l} WHERE status = 'pending' AND next_try_ms <= {p3} \
             AND (lease_owner IS NULL OR lease_until_ms < {p4}) ORDER BY next_try_ms, id LIMIT {p5}{lock}) \
             RETURNING id, idempotency_key, channel, tries",
            l = s.t.ledger,
            p1 = s.ph(1),
            p2 = s.ph(2),
            p3 = s.ph(3),
            p4 = s.ph(4),
            p5 = s.ph(5),
            lock = s.sql.skip_locked()
        );
        let rows =
            s.db.rows(
                &sql,
                &[
                    BindValue::Text(runner.id.name.clone()),
                    BindValue::Int(runner.lease_until()),
                    BindValue::Int(ms(now)),
                    BindValue::Int(wall),
                    BindValue::Int(runner.opts.batch as i64),
                ],
            )
            .await?;
        let n = rows.len();
        let ids: Vec<i64> = rows.iter().filter_map(|r| r.int(0)).collect();
        let mut payloads: HashMap<i64, String> = HashMap::new();
        if !ids.is_empty() {
            let found =
                s.db.rows(
                    &format!(
                        "SELECT ledger, payload FROM {} WHERE ledger IN {}",
                        s.t.payloads,
                        s.sql.json_list(&s.ph(1), true)
                    ),
                    &[BindValue::Json(serde_json::Value::from(ids))],
                )
                .await?;
            payloads.extend(found.iter().filter_map(|r| Some((r.int(0)?, r.text(1)?))));
        }
        let outgoing: Vec<Outgoing> = rows
            .iter()
            .filter_map(|r| {
                let ledger = r.int(0)?;
                Some(Outgoing {
                    ledger,
                    key: r.text(1)?,
                    channel: r.text(2)?,
                    payload: payloads.remove(&ledger).unwrap_or_default(),
                    tries: r.int(3).unwrap_or(0),
                })
            })
            .collect();
        total += deliver(runner, now, outgoing).await?;
        if n < runner.opts.batch {
            break;
        }
    }
    Ok(total)
}

/// A provider's receipt for one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    Delivered,
    Failed,
    Clicked,
}

/// Applies a receipt; false when no send has this key.
pub async fn receipt(runner: &Runner, now: DateTime<Utc>, key: &str, what: Receipt, at: Option<DateTime<Utc>>) -> Result<bool, DbError> {
    let Some((enrollment, step, attempt)) = send::parse_key(key) else {
        return Ok(false);
    };
    let s = &runner.store;
    let at = ms(at.unwrap_or(now));
    let set = match what {
        Receipt::Delivered => {
            "status = CASE WHEN status IN ('pending', 'sent', 'failed', 'dead') THEN 'delivered' ELSE status END, delivered_ms = COALESCE(delivered_ms, {at}), fallback_ms = NULL"
        }
        Receipt::Clicked => {
            "status = CASE WHEN status IN ('pending', 'sent', 'failed', 'dead') THEN 'delivered' ELSE status END, delivered_ms = COALESCE(delivered_ms, {at}), clicked_ms = COALESCE(clicked_ms, {at}), fallback_ms = NULL"
        }
        Receipt::Failed => {
            "status = CASE WHEN status IN ('pending', 'sent') THEN 'failed' ELSE status END, failed_ms = COALESCE(failed_ms, {at}), fallback_ms = CASE WHEN fallback_ms IS NULL OR delivered_ms IS NOT NULL THEN NULL ELSE {at} END"
        }
    }
    .replace("{at}", &s.ph(1));
    let n =
        s.db.execute(
            &format!(
                "UPDATE {} SET {set} WHERE enrollment = {} AND step = {} AND attempt = {} AND status NOT IN ('held', 'suppressed')",
                s.t.ledger,
                s.ph(2),
                s.ph(3),
                s.ph(4)
            ),
            &[
                BindValue::Int(at),
                BindValue::Int(enrollment),
                BindValue::Int(step),
                BindValue::Int(attempt),
            ],
        )
        .await?;
    if n > 0 {
        runner.metrics.receipt();
    }
    Ok(n > 0)
}

/// Sends the next channel of a chain where the previous one failed or
/// has had no receipt by its fallback time.
pub async fn fallbacks(runner: &Runner, now: DateTime<Utc>) -> Result<u64, DbError> {
    let s = &runner.store;
    let now_ms = ms(now);
    let kind = runner.key_kind().await?;
    let mut tx = s.db.begin().await?;
    let sql = format!(
        "SELECT l.id, l.enrollment, l.step, l.attempt, p.payload, l.arm, e.plan_hash, e.customer, e.trigger_ms, e.trigger_props, e.priority, l.expires_ms \
         FROM {} l JOIN {} e ON e.id = l.enrollment LEFT JOIN {} p ON p.ledger = l.id WHERE l.fallback_ms IS NOT NULL AND l.fallback_ms <= {} ORDER BY l.fallback_ms, l.id LIMIT {}{}",
        s.t.ledger,
        s.t.enrollments,
        s.t.payloads,
        s.ph(1),
        s.ph(2),
        s.sql.skip_locked_of("l")
    );
    let rows = tx
        .rows(&sql, &[BindValue::Int(now_ms), BindValue::Int(runner.opts.batch as i64)])
        .await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let mut cands = Vec::new();
    let mut sources = Vec::new();
    let mut cleared = Vec::new();
    for r in &rows {
        let (Some(id), Some(enrollment), Some(step), Some(attempt), Some(hash), Some(customer)) =
            (r.int(0), r.int(1), r.int(2), r.int(3), r.text(6), r.text(7))
        else {
            continue;
        };
        cleared.push(id);
        let Some(plan) = runner.plan(&mut tx, &hash).await? else { continue };
        let Some(Op::Send { message, channels, .. }) = usize::try_from(step).ok().and_then(|i| plan.steps.get(i)).map(|s| &s.op) else {
            continue;
        };
        let Some(next) = usize::try_from(attempt).ok().and_then(|a| channels.fallbacks.get(a)) else {
            continue;
        };
        let trigger = r.int(8).map(|t| TriggerEvent {
            time: from_ms(t),
            props: match r.text(9).as_deref().map(serde_json::from_str::<serde_json::Value>) {
                Some(Ok(serde_json::Value::Object(m))) => m,
                _ => serde_json::Map::new(),
            },
        });
        cands.push(Candidate {
            enrollment,
            plan: plan.clone(),
            customer: customer.clone(),
            key: runner.key(kind, &customer),
            trigger,
            snapshot: None,
            arm: r.text(5).unwrap_or_default(),
            step: step as usize,
            attempt: attempt + 1,
            message: message.clone(),
            channel: next.channel.clone(),
            fallback_after: usize::try_from(attempt + 1)
                .ok()
                .and_then(|a| channels.fallbacks.get(a))
                .map(|f| f.after),
            priority: r.int(10).unwrap_or(0),
            due_ms: now_ms,
            resend: r.text(4),
            expires_ms: r.int(11),
        });
        sources.push(id);
    }
    let mut customers: Vec<&str> = cands.iter().map(|c| c.customer.as_str()).collect();
    customers.sort_unstable();
    customers.dedup();
    let contacts = contacts::fetch(runner, &mut tx, kind, &customers).await?;
    let verdicts = send::decide(runner, &mut tx, now, &cands, &contacts).await?;
    let outgoing = send::record(runner, &mut tx, now, &cands, &verdicts).await?;
    // Deferred fallbacks keep their row's fallback time, moved; the rest are done.
    let mut moved: HashMap<i64, i64> = HashMap::new();
    for (id, v) in sources.iter().zip(&verdicts) {
        if let Verdict::Defer(t) = v {
            moved.insert(*id, ms(*t));
        }
    }
    for id in cleared {
        let value = moved
            .get(&id)
            .map(|t| BindValue::Int(*t))
            .unwrap_or(BindValue::TypedNull(Want::Int));
        tx.execute(
            &format!("UPDATE {} SET fallback_ms = {} WHERE id = {}", s.t.ledger, s.ph(1), s.ph(2)),
            &[value, BindValue::Int(id)],
        )
        .await?;
    }
    runner.metrics.decided(&verdicts);
    tx.commit().await?;
    let n = outgoing.len() as u64;
    deliver(runner, now, outgoing).await?;
    Ok(n)
}
