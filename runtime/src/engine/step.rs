//! The step machine. A batch of due enrollments is claimed (row locks in
//! PostgreSQL, the write lock in SQLite), each machine runs until it has
//! to wait or send, the sends are decided together, the ledger rows and
//! the new enrollment states are written, and the transaction commits.
//! Only then is anything delivered.

use super::send::{self, Candidate, Verdict};
use super::{contacts, experiment, quiet, Runner, Tick};
use crate::binds::{BindValue, TriggerEvent};
use crate::clock::{from_ms, ms};
use crate::db::{CellsExt, DbError, Key, Tx, Want};
use camp_compiler::plan::{Op, Plan};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// An enrollment as claimed.
#[derive(Debug, Clone)]
struct Enrollment {
    id: i64,
    plan_hash: String,
    customer: String,
    trigger_ms: Option<i64>,
    trigger_props: Option<String>,
    snapshot: Option<String>,
    arm: Option<String>,
    step: i64,
    fresh: bool,
    due_ms: i64,
    priority: i64,
    /// The deadline of the send it waits at (a deferred send keeps it).
    expires_ms: Option<i64>,
}

/// The new state of an enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Update {
    step: i64,
    state: &'static str,
    reason: Option<String>,
    due_ms: i64,
    fresh: bool,
    arm: String,
    first_send_ms: Option<i64>,
    ended_ms: Option<i64>,
    expires_ms: Option<i64>,
}

/// Claims and runs one batch; returns how many were claimed and what was done.
pub async fn run_batch(runner: &Runner, now: DateTime<Utc>) -> Result<(usize, Tick), DbError> {
    let now_ms = ms(now);
    let s = &runner.store;
    let kind = runner.key_kind().await?;
    let registered = runner.registration.claim();
    let mut tx = s.db.begin().await?;
    // The due enrollments, each with its customer's contact (one query).
    let d = s.db.dialect();
    let key = format!("c.{}", d.quote(&runner.customer.key));
    let join = match kind {
        super::KeyKind::Int => format!("{key} = CAST(e.customer AS BIGINT)"),
        super::KeyKind::Text => format!("{key} = e.customer"),
    };
    let claim = format!(
        "SELECT e.id, e.plan_hash, e.customer, e.trigger_ms, e.trigger_props, e.snapshot, e.arm, e.step, e.fresh, e.due_ms, e.priority, e.expires_ms, {} \
         FROM {} e LEFT JOIN {} c ON {join} WHERE e.state = 'active' AND e.due_ms <= {} ORDER BY e.due_ms, e.priority DESC, e.id LIMIT {}{}",
        contacts::columns(runner, "c").join(", "),
        s.t.enrollments,
        d.quote(&runner.customer.source),
        s.ph(1),
        s.ph(2),
        s.sql.skip_locked_of("e")
    );
    let rows = tx
        .rows(&claim, &[BindValue::Int(now_ms), BindValue::Int(runner.opts.batch as i64)])
        .await?;
    let claimed = rows.len();
    if claimed == 0 {
        tx.commit().await?;
        return Ok((0, Tick::default()));
    }
    let enrollments: Vec<Enrollment> = rows
        .iter()
        .filter_map(|r| {
            Some(Enrollment {
                id: r.int(0)?,
                plan_hash: r.text(1)?,
                customer: r.text(2)?,
                trigger_ms: r.int(3),
                trigger_props: r.text(4),
                snapshot: r.text(5),
                arm: r.text(6),
                step: r.int(7).unwrap_or(-1),
                fresh: r.int(8).unwrap_or(0) != 0,
                due_ms: r.int(9).unwrap_or(now_ms),
                priority: r.int(10).unwrap_or(0),
                expires_ms: r.int(11),
            })
        })
        .collect();
    let contacts: HashMap<String, contacts::Contact> = rows.iter().filter_map(|r| contacts::parse(runner, r, 12)).collect();

    let mut updates: Vec<(i64, Update)> = Vec::new();
    let mut cands: Vec<Candidate> = Vec::new();
    let mut tick = Tick::default();
    for e in &enrollments {
        tick.steps += 1;
        let Some(plan) = runner.plan(&mut tx, &e.plan_hash).await? else {
            updates.push((e.id, ended(e, "failed", "its plan version is missing", now_ms)));
            continue;
        };
        let key = runner.key(kind, &e.customer);
        let trigger = trigger_of(e);
        match advance(runner, &mut tx, now, e, &plan, &key, trigger.as_ref(), &contacts).await? {
            Advance::Update(u) => updates.push((e.id, u)),
            Advance::Send {
                step,
                arm,
                fresh,
                cur_ms,
                expires_ms,
            } => {
                let Some(Op::Send { message, channels, .. }) = plan.steps.get(step).map(|s| &s.op) else {
                    continue;
                };
                cands.push(Candidate {
                    enrollment: e.id,
                    plan: plan.clone(),
                    customer: e.customer.clone(),
                    key,
                    trigger,
                    snapshot: if fresh { e.snapshot.clone() } else { None },
                    arm,
                    step,
                    attempt: 0,
                    message: message.clone(),
                    channel: channels.primary.clone(),
                    fallback_after: channels.fallbacks.first().map(|f| f.after),
                    priority: e.priority,
                    due_ms: cur_ms,
                    resend: None,
                    repeats: false,
                    expires_ms,
                });
                let _ = fresh;
            }
        }
    }

    let decided = send::decide(runner, &mut tx, now, &mut cands, &contacts).await?;
    let outgoing = send::record(runner, &mut tx, now, &cands, &decided).await?;
    let verdicts = &decided.verdicts;
    for (c, v) in cands.iter().zip(verdicts) {
        let Some(Op::Send { next, .. }) = c.plan.steps.get(c.step).map(|s| &s.op) else {
            continue;
        };
        // A send followed by the end finishes the enrollment here.
        let ends = matches!(c.plan.steps.get(*next).map(|s| &s.op), Some(Op::End));
        let moved = |first_send: Option<i64>| Update {
            step: *next as i64,
            state: if ends { "done" } else { "active" },
            reason: None,
            due_ms: now_ms,
            fresh: c.snapshot.is_some(),
            arm: c.arm.clone(),
            first_send_ms: first_send,
            ended_ms: ends.then_some(now_ms),
            expires_ms: None,
        };
        let u = match v {
            Verdict::Exit => Update {
                step: c.step as i64,
                state: "exited",
                reason: Some("exit condition".into()),
                due_ms: now_ms,
                fresh: false,
                arm: c.arm.clone(),
                first_send_ms: None,
                ended_ms: Some(now_ms),
                expires_ms: None,
            },
            Verdict::Defer(t) => Update {
                step: c.step as i64,
                state: "active",
                reason: None,
                due_ms: ms(*t),
                fresh: false,
                arm: c.arm.clone(),
                first_send_ms: None,
                ended_ms: None,
                expires_ms: c.expires_ms,
            },
            Verdict::Suppress(_) => moved(None),
            Verdict::Hold | Verdict::Send(_) => moved(Some(now_ms)),
        };
        updates.push((c.enrollment, u));
    }
    runner.metrics.decided(verdicts);
    write_updates(runner, &mut tx, updates).await?;
    tx.commit().await?;
    tick.sends += outgoing.len() as u64;
    tick.delivered += super::outbox::deliver(runner, now, outgoing, registered).await?;

    Ok((claimed, tick))
}

enum Advance {
    Update(Update),
    Send {
        step: usize,
        arm: String,
        fresh: bool,
        cur_ms: i64,
        expires_ms: Option<i64>,
    },
}

fn ended(e: &Enrollment, state: &'static str, reason: &str, now_ms: i64) -> Update {
    Update {
        step: e.step,
        state,
        reason: Some(reason.to_string()),
        due_ms: e.due_ms,
        fresh: false,
        arm: e.arm.clone().unwrap_or_default(),
        first_send_ms: None,
        ended_ms: Some(now_ms),
        expires_ms: None,
    }
}

fn trigger_of(e: &Enrollment) -> Option<TriggerEvent> {
    let time = from_ms(e.trigger_ms?);
    let props = match e.trigger_props.as_deref().map(serde_json::from_str::<serde_json::Value>) {
        Some(Ok(serde_json::Value::Object(m))) => m,
        _ => serde_json::Map::new(),
    };
    Some(TriggerEvent { time, props })
}

/// Runs one machine from its current step until it waits, sends or ends.
#[allow(clippy::too_many_arguments)]
async fn advance(
    runner: &Runner,
    tx: &mut Tx,
    now: DateTime<Utc>,
    e: &Enrollment,
    plan: &Arc<Plan>,
    key: &Key,
    trigger: Option<&TriggerEvent>,
    contacts: &HashMap<String, contacts::Contact>,
) -> Result<Advance, DbError> {
    let now_ms = ms(now);
    let mut arm = e.arm.clone();
    let mut step = e.step;
    let mut fresh = e.fresh;
    let mut cur = e.due_ms;
    if step < 0 || arm.is_none() {
        let (a, entry) = experiment::assign(plan, &e.customer);
        arm = Some(a);
        if step < 0 {
            match entry {
                Some(s) => step = s as i64,
                None => return Ok(Advance::Update(ended(e, "done", "no steps", now_ms))),
            }
        }
    }
    let arm = arm.unwrap_or_default();
    let update = |step: i64, due: i64, fresh: bool, state: &'static str, reason: Option<&str>| Update {
        step,
        state,
        reason: reason.map(str::to_string),
        due_ms: due,
        fresh,
        arm: arm.clone(),
        first_send_ms: None,
        ended_ms: (state != "active").then_some(now_ms),
        expires_ms: None,
    };
    // Steps only go forward, so a machine ends within as many moves as it has steps.
    for _ in 0..=plan.steps.len() {
        let Some(op) = usize::try_from(step).ok().and_then(|i| plan.steps.get(i)).map(|s| &s.op) else {
            return Ok(Advance::Update(update(step, cur, false, "failed", Some("the step does not exist"))));
        };
        match op {
            Op::Wait { seconds, next } => {
                cur = cur.saturating_add((*seconds as i64).saturating_mul(1000));
                step = *next as i64;
                fresh = false;
                if cur > now_ms {
                    return Ok(Advance::Update(update(step, cur, fresh, "active", None)));
                }
            }
            Op::WaitUntil { minute, next } => {
                let zone = contacts.get(&e.customer).and_then(|c| c.zone.as_deref());
                let tz = quiet::zone(zone, &plan.zone);
                cur = ms(quiet::next_reach(from_ms(cur), tz, *minute));
                step = *next as i64;
                fresh = false;
                if cur > now_ms {
                    return Ok(Advance::Update(update(step, cur, fresh, "active", None)));
                }
            }
            Op::Branch {
                condition,
                then,
                otherwise,
            } => {
                let holds = match runner.queries(plan).branches.get(*condition) {
                    Some(q) => runner.holds(tx, q, now, key, trigger).await?,
                    None => false,
                };
                step = if holds { *then } else { *otherwise } as i64;
            }
            Op::Send { expires, .. } => {
                // The deadline counts from when the step became due; a send
                // deferred before keeps the one it had.
                let expires_ms = match (expires, e.expires_ms) {
                    (None, _) => None,
                    (Some(_), Some(kept)) if step == e.step => Some(kept),
                    (Some(x), _) => {
                        let zone = contacts.get(&e.customer).and_then(|c| c.zone.as_deref());
                        Some(quiet::deadline(x, cur, quiet::zone(zone, &plan.zone)))
                    }
                };
                return Ok(Advance::Send {
                    step: step as usize,
                    arm,
                    fresh,
                    cur_ms: cur,
                    expires_ms,
                });
            }
            Op::Exit => return Ok(Advance::Update(update(step, cur, false, "exited", Some("exit step")))),
            Op::End => return Ok(Advance::Update(update(step, cur, false, "done", None))),
        }
    }
    Ok(Advance::Update(update(step, cur, false, "failed", Some("the steps loop"))))
}

/// Writes new enrollment states, one statement per distinct state.
async fn write_updates(runner: &Runner, tx: &mut Tx, updates: Vec<(i64, Update)>) -> Result<(), DbError> {
    let mut groups: HashMap<Update, Vec<i64>> = HashMap::new();
    for (id, u) in updates {
        groups.entry(u).or_default().push(id);
    }
    let s = &runner.store;
    let sql = format!(
        "UPDATE {} SET step = {}, state = {}, reason = {}, due_ms = {}, fresh = {}, arm = {}, \
         first_send_ms = COALESCE(first_send_ms, {}), ended_ms = {}, expires_ms = {} WHERE id IN {}",
        s.t.enrollments,
        s.ph(1),
        s.ph(2),
        s.ph(3),
        s.ph(4),
        s.ph(5),
        s.ph(6),
        s.ph(7),
        s.ph(8),
        s.ph(9),
        s.sql.json_list(&s.ph(10), true)
    );
    let opt = |v: Option<i64>| v.map(BindValue::Int).unwrap_or(BindValue::TypedNull(Want::Int));
    for (u, ids) in groups {
        tx.execute(
            &sql,
            &[
                BindValue::Int(u.step),
                BindValue::Text(u.state.to_string()),
                u.reason.map(BindValue::Text).unwrap_or(BindValue::Null),
                BindValue::Int(u.due_ms),
                BindValue::Int(i64::from(u.fresh)),
                BindValue::Text(u.arm),
                opt(u.first_send_ms),
                opt(u.ended_ms),
                opt(u.expires_ms),
                BindValue::Json(serde_json::Value::from(ids)),
            ],
        )
        .await?;
    }
    Ok(())
}
