//! After the commit: delivering what the ledger holds. A recorded send is
//! handed to its channel; the result moves its ledger row (sent, retried
//! later with backoff, dead-lettered after the last try or at once on a
//! refusal), in one transaction right after each batch. A crash between
//! commit and marking leaves the row pending, claimed by a daemon that is
//! gone: once its registration has expired (or, on its own host, its
//! process is found dead) the row is delivered again with the same
//! idempotency key. A live daemon's claims are never taken. Receipts
//! move rows to delivered or failed.
//!
//! Fallback: the next channel of a send's chain is tried only when the
//! send was refused (4xx), dead-lettered or reported `failed`, or, on a
//! channel with receipts (a channel that answers [`Outcome::Sent`]), no
//! `delivered` came within the chain's delay, counted from the send. A
//! channel without receipts answers [`Outcome::Delivered`] for a successful
//! write: its row is delivered and no fallback follows.

use super::lease::Claim;
use super::send::{self, Candidate, Verdict};
use super::{contacts, Runner};
use crate::binds::{BindValue, TriggerEvent};
use crate::channels::{Outcome, Outgoing};
use crate::clock::{from_ms, ms};
use crate::db::{CellsExt, DbError, Want};
use camp_compiler::plan::Op;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Delivers sends this daemon claimed under `claim`, in the batches each
/// channel takes (see [`crate::channels::Channel::batch_size`]), and
/// records each batch's results as soon as it is delivered, in one
/// transaction: if the daemon dies, at most the batch in flight is
/// delivered again (under the same keys). Nothing is handed to a channel
/// unless the registration the sends were claimed under still holds:
/// they stay pending for whoever holds them.
pub async fn deliver(runner: &Runner, now: DateTime<Utc>, mut outgoing: Vec<Outgoing>, claim: Claim) -> Result<u64, DbError> {
    // By channel, keeping the order within each.
    outgoing.sort_by(|a, b| a.channel.cmp(&b.channel));
    let mut total = 0;
    let mut rest = outgoing.into_iter().peekable();
    while let Some(first) = rest.next() {
        let size = runner.channels.batch_size(&first.channel);
        let mut batch = vec![first];
        while batch.len() < size {
            match rest.next_if(|o| o.channel == batch[0].channel) {
                Some(o) => batch.push(o),
                None => break,
            }
        }
        if !runner.registration.may_deliver(claim) {
            tracing::warn!(
                deliveries = batch.len() + rest.count(),
                "this daemon's registration is not confirmed; its deliveries wait until it is renewed or another daemon takes them"
            );
            break;
        }
        total += deliver_batch(runner, now, batch).await?;
    }
    Ok(total)
}

async fn deliver_batch(runner: &Runner, now: DateTime<Utc>, outgoing: Vec<Outgoing>) -> Result<u64, DbError> {
    let results = runner.channels.deliver(outgoing).await;
    let now_ms = ms(now);
    let mut marks = Marks {
        at: now_ms,
        ..Marks::default()
    };
    for (o, outcome) in results {
        runner.metrics.delivery(&o.channel, &outcome);
        match outcome {
            Outcome::Sent => marks.sent.push(o.ledger),
            Outcome::Delivered => marks.delivered.push(o.ledger),
            Outcome::Retry(error) => {
                let tries = o.tries + 1;
                if tries >= runner.opts.max_tries {
                    marks.dead(runner, o, &format!("gave up after {tries} tries: {error}"));
                } else {
                    // 2s, 4s, 8s, .. on the engine's clock.
                    let backoff = 1000i64 << tries.clamp(1, 16);
                    marks
                        .retries
                        .push((o.ledger, tries, now_ms + backoff, crate::logging::mask(&error)));
                }
            }
            Outcome::Refused(error) => marks.dead(runner, o, &format!("refused: {error}")),
        }
    }
    let ok = (marks.sent.len() + marks.delivered.len()) as u64;
    let written = async {
        let mut tx = runner.store.db.begin().await?;
        write_marks(runner, &mut tx, &marks).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = written {
        // Delivered but not marked: kept, and written before anything is claimed again.
        if let Ok(mut unmarked) = runner.unmarked.lock() {
            unmarked.push(marks);
        }
        return Err(e);
    }
    Ok(ok)
}

/// The results of one delivered batch, as the ledger records them.
#[derive(Default)]
pub struct Marks {
    /// The engine's clock when they were delivered.
    at: i64,
    sent: Vec<i64>,
    delivered: Vec<i64>,
    /// (ledger row, tries so far, next try, error), to try again later.
    retries: Vec<(i64, i64, i64, String)>,
    /// Given up on: the send and why (masked).
    dead: Vec<(Outgoing, String)>,
}

impl Marks {
    /// Gives a delivery up: the row is dead, a dead letter keeps the
    /// payload, and the next channel of the chain (if any) is due now.
    fn dead(&mut self, runner: &Runner, o: Outgoing, reason: &str) {
        let reason = crate::logging::mask(reason);
        tracing::warn!(channel = %o.channel, key = %o.key, reason = %reason, "delivery dead-lettered");
        runner.metrics.dead_letter();
        self.dead.push((o, reason));
    }
}

/// Writes one batch's results in `tx`.
async fn write_marks(runner: &Runner, tx: &mut crate::db::Tx, marks: &Marks) -> Result<(), DbError> {
    let s = &runner.store;
    for (ids, status_sql, extra) in [
        // Accepted by a channel with receipts: the fallback timer starts,
        // unless a receipt came first or the chain has moved on.
        (
            &marks.sent,
            "CASE WHEN status = 'pending' THEN 'sent' ELSE status END",
            ", fallback_ms = CASE WHEN fallback_after_ms IS NOT NULL AND fallback_ms IS NULL AND delivered_ms IS NULL \
             AND status IN ('pending', 'sent') THEN created_ms + fallback_after_ms ELSE fallback_ms END",
        ),
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
    for (id, tries, next, error) in &marks.retries {
        tx.execute(
            &format!(
                "UPDATE {} SET tries = {}, next_try_ms = {}, error = {}, lease_owner = NULL, lease_until_ms = NULL WHERE id = {}",
                s.t.ledger,
                s.ph(1),
                s.ph(2),
                s.ph(3),
                s.ph(4)
            ),
            &[
                BindValue::Int(*tries),
                BindValue::Int(*next),
                BindValue::Text(error.clone()),
                BindValue::Int(*id),
            ],
        )
        .await?;
    }
    for (o, reason) in &marks.dead {
        tx.execute(
            &format!(
                "UPDATE {} SET status = 'dead', tries = tries + 1, failed_ms = {p1}, error = {p2}, lease_owner = NULL, lease_until_ms = NULL, \
                 fallback_ms = CASE WHEN fallback_after_ms IS NULL THEN NULL ELSE {p1} END WHERE id = {p3}",
                s.t.ledger,
                p1 = s.ph(1),
                p2 = s.ph(2),
                p3 = s.ph(3)
            ),
            &[BindValue::Int(marks.at), BindValue::Text(reason.clone()), BindValue::Int(o.ledger)],
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
                BindValue::Text(reason.clone()),
                BindValue::Int(marks.at),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Writes the results of deliveries that could not be marked when they
/// went out (the database was out of reach), oldest first.
pub async fn flush_unmarked(runner: &Runner) -> Result<(), DbError> {
    let kept = match runner.unmarked.lock() {
        Ok(mut m) if !m.is_empty() => std::mem::take(&mut *m),
        _ => return Ok(()),
    };
    let written = async {
        let mut tx = runner.store.db.begin().await?;
        for marks in &kept {
            write_marks(runner, &mut tx, marks).await?;
        }
        tx.commit().await
    }
    .await;
    if let Err(e) = written {
        if let Ok(mut m) = runner.unmarked.lock() {
            let newer = std::mem::take(&mut *m);
            *m = kept;
            m.extend(newer);
        }
        return Err(e);
    }
    Ok(())
}

/// Claims pending deliveries that are due (retries, and rows whose daemon
/// died before delivering) and delivers them.
pub async fn deliver_due(runner: &Runner, now: DateTime<Utc>) -> Result<u64, DbError> {
    let s = &runner.store;
    let mut total = 0;
    for _ in 0..1000 {
        let claim = runner.registration.claim();
        if !runner.registration.may_deliver(claim) {
            break;
        }
        let sql = format!(
            "UPDATE {l} SET lease_owner = {p1}, lease_until_ms = {p2} WHERE id IN (SELECT id FROM {l} WHERE status = 'pending' AND next_try_ms <= {p3} \
             AND {free} ORDER BY next_try_ms, id LIMIT {p4}{lock}) \
             RETURNING id, idempotency_key, channel, tries",
            l = s.t.ledger,
            p1 = s.ph(1),
            p2 = s.ph(2),
            p3 = s.ph(3),
            p4 = s.ph(4),
            free = s.claimable("", &s.ph(1)),
            lock = s.sql.skip_locked()
        );
        let rows =
            s.db.rows(
                &sql,
                &[
                    BindValue::Text(runner.id.name.clone()),
                    BindValue::Int(runner.lease_until()),
                    BindValue::Int(ms(now)),
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
        total += deliver(runner, now, outgoing, claim).await?;
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
            "status = CASE WHEN status IN ('pending', 'sent') THEN 'failed' ELSE status END, failed_ms = COALESCE(failed_ms, {at}), fallback_ms = CASE WHEN fallback_after_ms IS NULL OR delivered_ms IS NOT NULL THEN NULL ELSE {at} END"
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

/// Sends the next channel of a chain where the previous one was refused,
/// dead-lettered or failed, or has had no `delivered` receipt by its
/// fallback time. A channel of the chain that cannot reach the customer is
/// passed over at once.
pub async fn fallbacks(runner: &Runner, now: DateTime<Utc>) -> Result<u64, DbError> {
    let s = &runner.store;
    let now_ms = ms(now);
    let kind = runner.key_kind().await?;
    let claim = runner.registration.claim();
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
            repeats: true,
            expires_ms: r.int(11),
        });
        sources.push(id);
    }
    let mut customers: Vec<&str> = cands.iter().map(|c| c.customer.as_str()).collect();
    customers.sort_unstable();
    customers.dedup();
    let contacts = contacts::fetch(runner, &mut tx, kind, &customers).await?;
    let decided = send::decide(runner, &mut tx, now, &mut cands, &contacts).await?;
    let outgoing = send::record(runner, &mut tx, now, &cands, &decided).await?;
    // Deferred fallbacks keep their row's fallback time, moved; the rest
    // are done, and their chain has moved on (no timer starts again).
    let mut moved: HashMap<i64, i64> = HashMap::new();
    for (id, v) in sources.iter().zip(&decided.verdicts) {
        if let Verdict::Defer(t) = v {
            moved.insert(*id, ms(*t));
        }
    }
    for id in cleared {
        let (set, value) = match moved.get(&id) {
            Some(t) => ("fallback_ms = {v}", BindValue::Int(*t)),
            None => ("fallback_ms = {v}, fallback_after_ms = {v}", BindValue::TypedNull(Want::Int)),
        };
        tx.execute(
            &format!("UPDATE {} SET {} WHERE id = {}", s.t.ledger, set.replace("{v}", &s.ph(1)), s.ph(2)),
            &[value, BindValue::Int(id)],
        )
        .await?;
    }
    runner.metrics.decided(&decided.verdicts);
    tx.commit().await?;
    let n = outgoing.len() as u64;
    deliver(runner, now, outgoing, claim).await?;
    Ok(n)
}
