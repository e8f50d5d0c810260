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
use camp_compiler::plan::{Plan, Reentry, Trigger};
use chrono::{DateTime, SecondsFormat, Utc};

/// Enrolls one customer for one event in every campaign it triggers,
/// following each campaign's re-entry rule; a trigger the rule keeps out
/// is recorded with its reason. Returns how many enrollments were created.
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
        let text = customer.to_string();
        if plan.reentry == Reentry::Restart {
            restart_one(runner, tx, plan, &text, occurrence, now).await?;
        }
        // Placeholders 1-12 are the row; the rule's condition binds after them.
        let mut binds = vec![
            BindValue::Text(plan.name.clone()),
            BindValue::Text(plan.hash.clone()),
            BindValue::Text(text.clone()),
            BindValue::Text(occurrence.to_string()),
            BindValue::Int(plan.priority.min(i64::MAX as u64) as i64),
            BindValue::Int(ms(trigger.time)),
            BindValue::Text(serde_json::Value::Object(trigger.props.clone()).to_string()),
            BindValue::Int(ms(trigger.time)),
            BindValue::Int(ms(now)),
            BindValue::Int(i64::from(plan.reentry.single())),
            BindValue::Int(ms(trigger.time)),
            BindValue::Text(runner.deployment.clone()),
        ];
        let values: Vec<String> = (1..=binds.len()).map(|n| s.ph(n)).collect();
        let blocked = blocked(runner, plan.reentry, &s.ph(1), &s.ph(3), ms(trigger.time), &mut binds);
        let sql = format!(
            "INSERT INTO {} (campaign, plan_hash, customer, occurrence, priority, trigger_ms, trigger_props, due_ms, enrolled_ms, single, entered_ms, deployment) \
             SELECT {} WHERE {} ON CONFLICT DO NOTHING",
            s.t.enrollments,
            values.join(", "),
            blocked.map_or("1 = 1".to_string(), |b| format!("NOT {b}")),
        );
        let n = tx.execute(&sql, &binds).await?;
        created += n;
        if n == 0 && plan.reentry != Reentry::Always {
            ignored_one(runner, tx, plan, &text, occurrence, trigger.time, now).await?;
        }
    }
    Ok(created)
}

/// The condition (SQL) under which the re-entry rule keeps the customer
/// `customer` (an SQL expression) out of campaign `campaign` (a
/// placeholder), for a journey entered at `entered_ms`; `None` when it
/// keeps nobody out. Binds what it needs onto `binds`.
fn blocked(runner: &Runner, rule: Reentry, campaign: &str, customer: &str, entered_ms: i64, binds: &mut Vec<BindValue>) -> Option<String> {
    let s = &runner.store;
    let base = format!(
        "SELECT 1 FROM {} r WHERE r.campaign = {campaign} AND r.customer = {customer}",
        s.t.enrollments
    );
    match rule {
        Reentry::Single => Some(format!("EXISTS ({base} AND r.state = 'active')")),
        Reentry::Never => Some(format!("EXISTS ({base})")),
        Reentry::After { seconds } => {
            binds.push(BindValue::Int(entered_ms.saturating_sub((seconds as i64).saturating_mul(1000))));
            Some(format!(
                "EXISTS ({base} AND COALESCE(r.entered_ms, r.trigger_ms, r.enrolled_ms) > {})",
                s.ph(binds.len())
            ))
        }
        Reentry::Restart | Reentry::Always => None,
    }
}

/// Why the rule kept a trigger out, for a customer with (or without) a
/// running journey.
fn reason(rule: Reentry, running: bool) -> String {
    match rule {
        Reentry::After { seconds } => format!("entered less than {} ago", duration_text(seconds)),
        Reentry::Never if !running => "already entered once".to_string(),
        _ => ALREADY_IN.to_string(),
    }
}

/// The reason of a trigger ignored while a journey runs.
pub const ALREADY_IN: &str = "already in the journey";
/// The reason of a journey a new trigger ended (`reentry restart`).
pub const RESTARTED: &str = "restarted";

/// `7d`, `36h`, `90m`: the largest unit that divides the length.
fn duration_text(seconds: u64) -> String {
    for (unit, per) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds >= per && seconds.is_multiple_of(per) {
            return format!("{}{unit}", seconds / per);
        }
    }
    format!("{seconds}s")
}

/// `reentry restart`: the running journey of the customer ends, unless
/// this very trigger already started it.
async fn restart_one(
    runner: &Runner,
    tx: &mut Tx,
    plan: &Plan,
    customer: &str,
    occurrence: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let s = &runner.store;
    let sql = format!(
        "UPDATE {e} SET state = 'exited', reason = {p4}, ended_ms = {p5} \
         WHERE campaign = {p1} AND customer = {p2} AND state = 'active' \
         AND NOT EXISTS (SELECT 1 FROM {e} x WHERE x.campaign = {p1} AND x.customer = {p2} AND x.occurrence = {p3})",
        e = s.t.enrollments,
        p1 = s.ph(1),
        p2 = s.ph(2),
        p3 = s.ph(3),
        p4 = s.ph(4),
        p5 = s.ph(5),
    );
    tx.execute(
        &sql,
        &[
            BindValue::Text(plan.name.clone()),
            BindValue::Text(customer.to_string()),
            BindValue::Text(occurrence.to_string()),
            BindValue::Text(RESTARTED.to_string()),
            BindValue::Int(ms(now)),
        ],
    )
    .await?;
    Ok(())
}

/// Records a trigger that started no journey, with the reason, unless it is
/// one already taken (its enrollment exists).
async fn ignored_one(
    runner: &Runner,
    tx: &mut Tx,
    plan: &Plan,
    customer: &str,
    occurrence: &str,
    trigger: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let s = &runner.store;
    let rows = tx
        .rows(
            &format!(
                "SELECT (SELECT COUNT(*) FROM {e} WHERE campaign = {p1} AND customer = {p2} AND occurrence = {p3}), \
                 (SELECT COUNT(*) FROM {e} WHERE campaign = {p1} AND customer = {p2} AND state = 'active')",
                e = s.t.enrollments,
                p1 = s.ph(1),
                p2 = s.ph(2),
                p3 = s.ph(3),
            ),
            &[
                BindValue::Text(plan.name.clone()),
                BindValue::Text(customer.to_string()),
                BindValue::Text(occurrence.to_string()),
            ],
        )
        .await?;
    let (taken, running) = rows.first().map_or((0, 0), |r| (r.int(0).unwrap_or(0), r.int(1).unwrap_or(0)));
    if taken > 0 {
        return Ok(());
    }
    let why = reason(plan.reentry, running > 0);
    tracing::debug!(campaign = %plan.name, reason = %why, "trigger ignored");
    tx.execute(
        &format!(
            "INSERT INTO {} (campaign, customer, occurrence, reason, trigger_ms, created_ms) VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING",
            s.t.ignored,
            s.ph(1),
            s.ph(2),
            s.ph(3),
            s.ph(4),
            s.ph(5),
            s.ph(6)
        ),
        &[
            BindValue::Text(plan.name.clone()),
            BindValue::Text(customer.to_string()),
            BindValue::Text(occurrence.to_string()),
            BindValue::Text(why),
            BindValue::Int(ms(trigger)),
            BindValue::Int(ms(now)),
        ],
    )
    .await?;
    runner.metrics.ignored(1);
    Ok(())
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
    let customer_of_p = format!("CAST(p.{} AS TEXT)", d.quote("customer"));
    if plan.reentry == Reentry::Restart {
        // The new occurrence ends the running journeys of the customers it reaches.
        let mut b = binds.clone();
        let campaign = extra(BindValue::Text(plan.name.clone()), &mut b);
        let why = extra(BindValue::Text(RESTARTED.to_string()), &mut b);
        let now_ph = extra(BindValue::Int(ms(now)), &mut b);
        let sql = format!(
            "UPDATE {} SET state = 'exited', reason = {why}, ended_ms = {now_ph} \
             WHERE campaign = {campaign} AND state = 'active' AND customer IN (SELECT {customer_of_p} FROM ({}) AS p)",
            s.t.enrollments, population.sql
        );
        tx.execute(&sql, &b).await?;
    }
    let ignored_binds = binds.clone();
    let campaign = extra(BindValue::Text(plan.name.clone()), &mut binds);
    let hash = extra(BindValue::Text(plan.hash.clone()), &mut binds);
    let occ = extra(BindValue::Text(label.clone()), &mut binds);
    let priority = extra(BindValue::Int(plan.priority.min(i64::MAX as u64) as i64), &mut binds);
    let due_ph = extra(BindValue::Int(ms(due)), &mut binds);
    let now_ph = extra(BindValue::Int(ms(now)), &mut binds);
    let single = extra(BindValue::Int(i64::from(plan.reentry.single())), &mut binds);
    let deployment = extra(BindValue::Text(runner.deployment.clone()), &mut binds);
    // The snapshot of the render columns, a JSON array in column order (too
    // many columns: none, the render query runs at send time instead).
    let snapshot = if queries.columns.is_empty() || queries.columns.len() > 40 {
        "NULL".to_string()
    } else {
        let values: Vec<String> = queries.columns.iter().map(|c| format!("p.{}", d.quote(&c.path))).collect();
        s.sql.json_array(&values)
    };
    // One statement: the population less the customers the re-entry rule keeps out.
    let blocked = blocked(runner, plan.reentry, &campaign, &customer_of_p, ms(due), &mut binds);
    let sql = format!(
        "INSERT INTO {} (campaign, plan_hash, customer, occurrence, priority, snapshot, due_ms, enrolled_ms, single, entered_ms, deployment) \
         SELECT {campaign}, {hash}, {customer_of_p}, {occ}, {priority}, {snapshot}, {due_ph}, {now_ph}, {single}, {due_ph}, {deployment} \
         FROM ({}) AS p WHERE {} ON CONFLICT DO NOTHING",
        s.t.enrollments,
        population.sql,
        blocked.map_or("1 = 1".to_string(), |b| format!("NOT {b}")),
    );
    let enrolled = tx.execute(&sql, &binds).await?;
    let ignored = scheduled_ignored(runner, &mut tx, plan, population, ignored_binds, &label, due, now).await?;
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
    runner.metrics.ignored(ignored);
    tracing::info!(campaign = %plan.name, occurrence = %due.to_rfc3339(), enrolled, ignored, "scheduled occurrence enrolled");
    Ok(enrolled)
}

/// Records the customers of a scheduled occurrence that its re-entry rule
/// kept out (the population less those it enrolled), with the reason. The
/// population is read a second time only when an earlier journey exists
/// that can keep someone out.
#[allow(clippy::too_many_arguments)]
async fn scheduled_ignored(
    runner: &Runner,
    tx: &mut Tx,
    plan: &Plan,
    population: &camp_compiler::lower::Query,
    mut binds: Vec<BindValue>,
    label: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, DbError> {
    let s = &runner.store;
    let d = s.db.dialect();
    let probe = match plan.reentry {
        Reentry::Single => "state = 'active'".to_string(),
        Reentry::Never => "1 = 1".to_string(),
        Reentry::After { seconds } => format!(
            "COALESCE(entered_ms, trigger_ms, enrolled_ms) > {}",
            ms(due).saturating_sub((seconds as i64).saturating_mul(1000))
        ),
        Reentry::Restart | Reentry::Always => return Ok(0),
    };
    let rows = tx
        .rows(
            &format!(
                "SELECT 1 FROM {} WHERE campaign = {} AND occurrence <> {} AND {probe} LIMIT 1",
                s.t.enrollments,
                s.ph(1),
                s.ph(2)
            ),
            &[BindValue::Text(plan.name.clone()), BindValue::Text(label.to_string())],
        )
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut push = |v: BindValue| {
        binds.push(v);
        s.ph(binds.len())
    };
    let campaign = push(BindValue::Text(plan.name.clone()));
    let occ = push(BindValue::Text(label.to_string()));
    // `after D` does not look at running journeys, only at entries.
    let already = push(BindValue::Text(reason(plan.reentry, true)));
    let other = push(BindValue::Text(reason(plan.reentry, false)));
    let due_ph = push(BindValue::Int(ms(due)));
    let now_ph = push(BindValue::Int(ms(now)));
    let customer = format!("CAST(p.{} AS TEXT)", d.quote("customer"));
    let e = &s.t.enrollments;
    let sql = format!(
        "INSERT INTO {} (campaign, customer, occurrence, reason, trigger_ms, created_ms) \
         SELECT {campaign}, {customer}, {occ}, \
         CASE WHEN EXISTS (SELECT 1 FROM {e} r WHERE r.campaign = {campaign} AND r.customer = {customer} AND r.state = 'active') THEN {already} ELSE {other} END, \
         {due_ph}, {now_ph} FROM ({}) AS p \
         WHERE NOT EXISTS (SELECT 1 FROM {e} x WHERE x.campaign = {campaign} AND x.customer = {customer} AND x.occurrence = {occ}) \
         ON CONFLICT DO NOTHING",
        s.t.ignored, population.sql
    );
    tx.execute(&sql, &binds).await
}
