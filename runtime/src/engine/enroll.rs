//! Enrollment. An event enrolls its customer in each campaign it triggers
//! whose check holds, at most once per (campaign, customer, event). A
//! scheduled campaign's occurrence enrolls its whole population with one
//! `INSERT .. SELECT` from the compiled population query, at most once per
//! (campaign, customer, occurrence); its render columns are kept as a
//! snapshot, so a send that follows without a wait needs no second query.

use super::{quiet, Runner};
use crate::binds::{BindValue, Bindings, TriggerEvent};
use crate::clock::{from_ms, ms};
use crate::db::{CellsExt, DbError, Key, Tx};
use camp_compiler::plan::{Plan, Trigger};
use chrono::{DateTime, SecondsFormat, Utc};

/// Enrolls one customer for one event in every campaign it triggers.
/// Returns how many enrollments were created.
pub async fn for_event(
    runner: &Runner,
    tx: &mut Tx,
    now: DateTime<Utc>,
    event: &str,
    occurrence: &str,
    customer: &Key,
    trigger: &TriggerEvent,
) -> Result<u64, DbError> {
    let mut created = 0;
    // Conditions are read as of the event (never later than now).
    let at = trigger.time.min(now);
    for plan in &runner.current {
        let Trigger::On { event: e, .. } = &plan.trigger else { continue };
        if e != event {
            continue;
        }
        if let Some(check) = &runner.queries(plan).check {
            if !runner.holds(tx, check, at, customer, Some(trigger)).await? {
                continue;
            }
        }
        let s = &runner.store;
        let sql = format!(
            "INSERT INTO {} (campaign, plan_hash, customer, occurrence, priority, trigger_ms, trigger_props, due_ms, enrolled_ms) \
             VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING",
            s.t.enrollments,
            s.ph(1),
            s.ph(2),
            s.ph(3),
            s.ph(4),
            s.ph(5),
            s.ph(6),
            s.ph(7),
            s.ph(8),
            s.ph(9)
        );
        created += tx
            .execute(
                &sql,
                &[
                    BindValue::Text(plan.name.clone()),
                    BindValue::Text(plan.hash.clone()),
                    BindValue::Text(customer.to_string()),
                    BindValue::Text(occurrence.to_string()),
                    BindValue::Int(plan.priority.min(i64::MAX as u64) as i64),
                    BindValue::Int(ms(trigger.time)),
                    BindValue::Text(serde_json::Value::Object(trigger.props.clone()).to_string()),
                    BindValue::Int(ms(trigger.time)),
                    BindValue::Int(ms(now)),
                ],
            )
            .await?;
    }
    Ok(created)
}

/// Attributes a goal event to the enrollments it converts: those of
/// campaigns with this goal whose first send (or held send) came at most
/// the goal's window before it. One conversion per enrollment.
pub async fn conversions(runner: &Runner, tx: &mut Tx, event: &str, customer: &Key, at: DateTime<Utc>) -> Result<(), DbError> {
    let s = &runner.store;
    for plan in &runner.current {
        let Some(goal) = plan.experiment.goal.as_ref().filter(|g| g.event == event) else {
            continue;
        };
        let sql = format!(
            "INSERT INTO {c} (enrollment, campaign, customer, arm, event_ms) \
             SELECT id, campaign, customer, arm, {p4} FROM {e} \
             WHERE campaign = {p1} AND customer = {p2} AND first_send_ms IS NOT NULL AND first_send_ms <= {p4} AND first_send_ms >= {p3} \
             ON CONFLICT DO NOTHING",
            c = s.t.conversions,
            e = s.t.enrollments,
            p1 = s.ph(1),
            p2 = s.ph(2),
            p3 = s.ph(3),
            p4 = s.ph(4),
        );
        tx.execute(
            &sql,
            &[
                BindValue::Text(plan.name.clone()),
                BindValue::Text(customer.to_string()),
                BindValue::Int(ms(at) - goal.within as i64 * 1000),
                BindValue::Int(ms(at)),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The occurrence of a scheduled campaign due in `(after, now]`, the
/// latest one (missed earlier ones are not run twice over).
fn due_occurrence(plan: &Plan, after: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match &plan.trigger {
        Trigger::On { .. } => None,
        Trigger::At { unix, .. } => DateTime::from_timestamp(*unix, 0).filter(|t| *t > after && *t <= now),
        Trigger::Every { every, at } => quiet::latest_occurrence(every, *at, quiet::zone(None, &plan.zone), after, now),
    }
}

/// The next occurrence of a scheduled campaign after `now`.
pub fn next_occurrence(plan: &Plan, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match &plan.trigger {
        Trigger::On { .. } => None,
        Trigger::At { unix, .. } => DateTime::from_timestamp(*unix, 0).filter(|t| *t > now),
        Trigger::Every { every, at } => quiet::next_occurrence(every, *at, quiet::zone(None, &plan.zone), now),
    }
}

/// Enrolls the population of every scheduled campaign with an occurrence due.
pub async fn scheduled(runner: &Runner, now: DateTime<Utc>) -> Result<u64, DbError> {
    let mut total = 0;
    for plan in &runner.current {
        if matches!(plan.trigger, Trigger::On { .. }) {
            continue;
        }
        total += occurrence(runner, plan, now).await?;
    }
    Ok(total)
}

async fn occurrence(runner: &Runner, plan: &Plan, now: DateTime<Utc>) -> Result<u64, DbError> {
    // Nothing can be due before the next occurrence after the last look
    // (the handled occurrences only move forward, whoever handles them):
    // no query until then.
    match runner.schedule_hint(&plan.name) {
        Some(None) => return Ok(0),
        Some(Some(not_before)) if ms(now) < not_before => return Ok(0),
        _ => {}
    }
    let enrolled = occurrence_due(runner, plan, now).await?;
    runner.set_schedule_hint(&plan.name, next_occurrence(plan, now).map(ms));
    Ok(enrolled)
}

async fn occurrence_due(runner: &Runner, plan: &Plan, now: DateTime<Utc>) -> Result<u64, DbError> {
    let s = &runner.store;
    let rows =
        s.db.rows(
            &format!(
                "SELECT (SELECT since_ms FROM {} WHERE campaign = {p}), (SELECT MAX(due_ms) FROM {} WHERE campaign = {p})",
                s.t.schedules,
                s.t.occurrences,
                p = s.ph(1)
            ),
            &[BindValue::Text(plan.name.clone())],
        )
        .await?;
    let row = rows.first();
    let since = row.and_then(|r| r.int(0));
    let last = row.and_then(|r| r.int(1));
    let Some(after) = since.into_iter().chain(last).max() else {
        return Ok(0);
    };
    let Some(due) = due_occurrence(plan, from_ms(after), now) else {
        return Ok(0);
    };
    let label = due.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut tx = s.db.begin().await?;
    let claimed = tx
        .execute(
            &format!(
                "INSERT INTO {} (campaign, occurrence, due_ms, done_ms, enrolled) VALUES ({}, {}, {}, {}, 0) ON CONFLICT DO NOTHING",
                s.t.occurrences,
                s.ph(1),
                s.ph(2),
                s.ph(3),
                s.ph(4)
            ),
            &[
                BindValue::Text(plan.name.clone()),
                BindValue::Text(label.clone()),
                BindValue::Int(ms(due)),
                BindValue::Int(ms(now)),
            ],
        )
        .await?;
    if claimed == 0 {
        // Another daemon has it.
        tx.rollback().await?;
        return Ok(0);
    }
    let queries = runner.queries(plan);
    let Some(population) = &queries.population else {
        tracing::warn!(campaign = %plan.name, "a scheduled campaign without a population query enrolls nobody");
        tx.commit().await?;
        return Ok(0);
    };
    // The audience as of the occurrence.
    let mut binds = match Bindings::at(due).resolve(&population.params) {
        Ok(b) => b,
        Err(e) => return Err(DbError::data(format!("campaign `{}`: {e}", plan.name))),
    };
    let d = s.db.dialect();
    let extra = |v: BindValue, binds: &mut Vec<BindValue>| {
        binds.push(v);
        s.ph(binds.len())
    };
    let campaign = extra(BindValue::Text(plan.name.clone()), &mut binds);
    let hash = extra(BindValue::Text(plan.hash.clone()), &mut binds);
    let occ = extra(BindValue::Text(label), &mut binds);
    let priority = extra(BindValue::Int(plan.priority.min(i64::MAX as u64) as i64), &mut binds);
    let due_ph = extra(BindValue::Int(ms(due)), &mut binds);
    let now_ph = extra(BindValue::Int(ms(now)), &mut binds);
    // The snapshot of the render columns, a JSON array in column order (too
    // many columns: none, the render query runs at send time instead).
    let snapshot = if queries.columns.is_empty() || queries.columns.len() > 40 {
        "NULL".to_string()
    } else {
        let values: Vec<String> = queries.columns.iter().map(|c| format!("p.{}", d.quote(&c.path))).collect();
        s.sql.json_array(&values)
    };
    let sql = format!(
        "INSERT INTO {} (campaign, plan_hash, customer, occurrence, priority, snapshot, due_ms, enrolled_ms) \
         SELECT {campaign}, {hash}, CAST(p.{} AS TEXT), {occ}, {priority}, {snapshot}, {due_ph}, {now_ph} \
         FROM ({}) AS p WHERE 1 = 1 ON CONFLICT DO NOTHING",
        s.t.enrollments,
        d.quote("customer"),
        population.sql
    );
    let enrolled = tx.execute(&sql, &binds).await?;
    tx.execute(
        &format!(
            "UPDATE {} SET enrolled = {} WHERE campaign = {} AND due_ms = {}",
            s.t.occurrences,
            s.ph(1),
            s.ph(2),
            s.ph(3)
        ),
        &[
            BindValue::Int(enrolled as i64),
            BindValue::Text(plan.name.clone()),
            BindValue::Int(ms(due)),
        ],
    )
    .await?;
    tx.commit().await?;
    runner.metrics.enrolled(enrolled);
    tracing::info!(campaign = %plan.name, occurrence = %due.to_rfc3339(), enrolled, "scheduled occurrence enrolled");
    Ok(enrolled)
}
