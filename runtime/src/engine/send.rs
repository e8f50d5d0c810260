//! The moment of sending. For a batch of sends due now, inside the
//! transaction that records them: the exit conditions, consent read again,
//! reach (a channel whose contact field is empty for the customer is passed
//! over at once for the next one of its chain), the send window and quiet
//! hours in the customer's zone, the holdout, the caps (counted from the
//! ledger), and the rendered message. Each send ends as one ledger row
//! (pending, held or suppressed) or as a deferral; each channel passed over
//! leaves a suppressed row "no contact for C".

use super::caps::Counters;
use super::contacts::Contact;
use super::experiment::HOLDOUT;
use super::quiet::{self, Timing};
use super::Runner;
use crate::binds::{BindValue, Bindings, TriggerEvent};
use crate::channels::Outgoing;
use crate::db::{convert, CellsExt, DbError, Key, Raw, Tx, Want};
use camp_compiler::channel::ContactKind;
use camp_compiler::plan::{Op, Plan, Scope};
use camp_compiler::templating::Value;
use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;

/// One send to decide.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub enrollment: i64,
    pub plan: Arc<Plan>,
    pub customer: String,
    pub key: Key,
    pub trigger: Option<TriggerEvent>,
    /// The render row taken at enrollment, when no wait has passed since.
    pub snapshot: Option<String>,
    pub arm: String,
    pub step: usize,
    /// 0 for the step's channel, then 1.. for its fallbacks.
    pub attempt: i64,
    pub message: String,
    pub channel: String,
    /// Seconds until the next channel of the chain is tried, if there is one.
    pub fallback_after: Option<u64>,
    pub priority: i64,
    pub due_ms: i64,
    /// A fallback re-sends the previous attempt's message on its channel.
    pub resend: Option<String>,
    /// An earlier attempt of this step already went out (this is a
    /// fallback after a send): caps per kind or on every send counted it.
    pub repeats: bool,
    /// After this instant (ms) the send is dropped as "expired".
    pub expires_ms: Option<i64>,
}

impl Candidate {
    /// The same send on the next channel of its chain, if there is one.
    pub fn successor(&self) -> Option<Candidate> {
        let Some(Op::Send { channels, .. }) = self.plan.steps.get(self.step).map(|s| &s.op) else {
            return None;
        };
        let index = usize::try_from(self.attempt).ok()?;
        let next = channels.fallbacks.get(index)?;
        Some(Candidate {
            attempt: self.attempt + 1,
            channel: next.channel.clone(),
            fallback_after: channels.fallbacks.get(index + 1).map(|f| f.after),
            ..self.clone()
        })
    }
}

/// The reason kept for a channel that cannot reach its customer.
pub fn no_contact(channel: &str) -> String {
    format!("no contact for {channel}")
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// An `exit when` condition holds: the enrollment ends.
    Exit,
    /// Not now: try again at this instant.
    Defer(DateTime<Utc>),
    /// Not sent, recorded with the reason.
    Suppress(String),
    /// The control group: recorded, never sent.
    Hold,
    /// Recorded and handed to the channel: the payload.
    Send(String),
}

/// The reason of a send dropped by its `expires`.
pub const EXPIRED: &str = "expired";

/// The idempotency key of a send: the same on every retry and redelivery.
pub fn idempotency_key(enrollment: i64, step: usize, attempt: i64) -> String {
    format!("camp-{enrollment}-{step}-{attempt}")
}

/// Reads an idempotency key back.
pub fn parse_key(key: &str) -> Option<(i64, i64, i64)> {
    let mut parts = key.strip_prefix("camp-")?.split('-');
    let e = parts.next()?.parse().ok()?;
    let s = parts.next()?.parse().ok()?;
    let a = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((e, s, a))
}

fn scope_matches(scope: &Scope, plan: &Plan, channel: &str) -> bool {
    match scope {
        Scope::All => true,
        Scope::Kind { kind } => kind == plan.kind.name(),
        Scope::Channel { channel: c } => c == channel,
    }
}

/// What [`decide`] made of a batch.
#[derive(Debug, Default)]
pub struct Decided {
    /// One per candidate, in their order.
    pub verdicts: Vec<Verdict>,
    /// Attempts passed over because their channel cannot reach the
    /// customer: recorded as suppressed ("no contact for C"), never sent.
    pub passed: Vec<Candidate>,
}

/// Decides every candidate. A candidate whose channel cannot reach its
/// customer is moved, in place, to the next channel of its chain that can
/// (the ones passed over are returned to be recorded); when none can, it
/// is suppressed with the reason "no contact for C".
pub async fn decide(
    runner: &Runner,
    tx: &mut Tx,
    now: DateTime<Utc>,
    cands: &mut [Candidate],
    contacts: &HashMap<String, Contact>,
) -> Result<Decided, DbError> {
    let mut verdicts: Vec<Option<Verdict>> = vec![None; cands.len()];
    let mut passed = Vec::new();
    for i in 0..cands.len() {
        let Some(contact) = contacts.get(&cands[i].customer) else {
            verdicts[i] = Some(Verdict::Suppress("the customer no longer exists".into()));
            continue;
        };
        let c = &cands[i];
        let queries = runner.queries(&c.plan);
        if let Some(exit) = &queries.exit {
            if runner.holds(tx, exit, now, &c.key, c.trigger.as_ref()).await? {
                verdicts[i] = Some(Verdict::Exit);
                continue;
            }
        }
        if !contact.consents_to(&c.plan.consent) {
            verdicts[i] = Some(Verdict::Suppress("no consent at the moment of sending".into()));
            continue;
        }
        // Reach: on to the first channel of the chain that has an address
        // for the customer, without waiting. The holdout is never sent to,
        // so it is held whatever its reach.
        if cands[i].arm != HOLDOUT {
            while !contact.reachable(runner, &cands[i].channel) {
                match cands[i].successor() {
                    Some(next) => passed.push(std::mem::replace(&mut cands[i], next)),
                    None => {
                        verdicts[i] = Some(Verdict::Suppress(no_contact(&cands[i].channel)));
                        break;
                    }
                }
            }
            if verdicts[i].is_some() {
                continue;
            }
        }
        let c = &cands[i];
        let tz = quiet::zone(contact.zone.as_deref(), &c.plan.zone);
        let mut timings = Vec::new();
        if let Some(w) = &c.plan.window {
            timings.push(quiet::window(now, tz, w));
        }
        for rule in c.plan.quiet_hours.iter().filter(|r| scope_matches(&r.scope, &c.plan, &c.channel)) {
            let t = quiet::quiet(now, tz, rule);
            if t == Timing::Now {
                continue;
            }
            if let Some(unless) = &rule.unless {
                if runner
                    .holds(tx, runner.backend_query(unless), now, &c.key, c.trigger.as_ref())
                    .await?
                {
                    continue;
                }
            }
            timings.push(t);
        }
        // A send that would go out after its deadline, deferral included, expires.
        let expired = |at: DateTime<Utc>| c.expires_ms.is_some_and(|x| crate::clock::ms(at) > x);
        match quiet::combine(timings) {
            Timing::Now if expired(now) => verdicts[i] = Some(Verdict::Suppress(EXPIRED.into())),
            Timing::Now => {}
            Timing::Defer(t) if expired(t) => verdicts[i] = Some(Verdict::Suppress(EXPIRED.into())),
            Timing::Defer(t) => verdicts[i] = Some(Verdict::Defer(t)),
            Timing::Skip => verdicts[i] = Some(Verdict::Suppress("quiet hours".into())),
        }
        if verdicts[i].is_none() && c.arm == HOLDOUT {
            verdicts[i] = Some(Verdict::Hold);
        }
    }

    // Caps: what is still open, higher priority first, then first due.
    let mut open: Vec<usize> = (0..cands.len()).filter(|i| verdicts[*i].is_none()).collect();
    open.sort_by_key(|i| (-cands[*i].priority, cands[*i].due_ms, cands[*i].enrollment));
    if open.iter().any(|i| !cands[*i].plan.caps.is_empty()) {
        let refs: Vec<&Candidate> = open.iter().map(|i| &cands[*i]).collect();
        let mut counters = Counters::load(runner, tx, now, &refs).await?;
        for &i in &open {
            if !counters.take(&cands[i]) {
                verdicts[i] = Some(Verdict::Suppress("frequency cap".into()));
            }
        }
    }

    let nobody = Contact::default();
    for &i in &open {
        if verdicts[i].is_some() {
            continue;
        }
        let c = &cands[i];
        let contact = contacts.get(&c.customer).unwrap_or(&nobody);
        verdicts[i] = Some(match render(runner, tx, now, c, contact).await? {
            Ok(payload) => Verdict::Send(payload),
            Err(e) => {
                tracing::warn!(campaign = %c.plan.name, message = %c.message, error = %e, "a message could not be rendered; the send is dropped");
                Verdict::Suppress(format!("render: {e}"))
            }
        });
    }
    let verdicts = verdicts
        .into_iter()
        .map(|v| v.unwrap_or(Verdict::Suppress("undecided".into())))
        .collect();
    Ok(Decided { verdicts, passed })
}

/// The payload of one send, or why it cannot be rendered.
async fn render(
    runner: &Runner,
    tx: &mut Tx,
    now: DateTime<Utc>,
    c: &Candidate,
    contact: &Contact,
) -> Result<Result<String, String>, DbError> {
    let key = idempotency_key(c.enrollment, c.step, c.attempt);
    if let Some(previous) = &c.resend {
        let Ok(mut payload) = serde_json::from_str::<Json>(previous) else {
            return Ok(Err("the previous attempt's payload is not JSON".into()));
        };
        if let Some(obj) = payload.as_object_mut() {
            obj.insert("id".into(), Json::from(key));
            obj.insert("channel".into(), Json::from(c.channel.clone()));
            obj.insert("attempt".into(), Json::from(c.attempt));
            obj.insert("created_at".into(), Json::from(now.to_rfc3339()));
            // The addresses of the new channel.
            if let Ok(to) = serde_json::to_value(to(runner, contact, &c.channel)) {
                obj.insert("to".into(), to);
            }
        }
        return Ok(Ok(payload.to_string()));
    }
    let Some(message) = c.plan.messages.get(&c.message) else {
        return Ok(Err(format!("the plan has no message `{}`", c.message)));
    };
    let queries = runner.queries(&c.plan);
    let snapshot = c.snapshot.as_deref().and_then(|s| serde_json::from_str::<Vec<Json>>(s).ok());
    let row: Vec<(String, Value)> = match snapshot {
        Some(values) if values.len() == queries.columns.len() => queries
            .columns
            .iter()
            .zip(&values)
            .map(|(col, v)| {
                (
                    col.path.clone(),
                    convert(json_raw(Some(v)), Want::of_name(&col.ty)).unwrap_or(Value::Null),
                )
            })
            .collect(),
        _ => {
            let binds = match (Bindings {
                now,
                customer: Some(&c.key),
                trigger: c.trigger.as_ref(),
            })
            .resolve(&queries.render.params)
            {
                Ok(b) => b,
                Err(e) => return Ok(Err(e.to_string())),
            };
            let rows = tx.rows(&queries.render.sql, &binds).await?;
            let cells = rows.into_iter().next().unwrap_or_default();
            queries
                .columns
                .iter()
                .enumerate()
                .map(|(i, col)| {
                    let raw = cells.get(i).cloned().unwrap_or(Raw::Null);
                    (col.path.clone(), convert(raw, Want::of_name(&col.ty)).unwrap_or(Value::Null))
                })
                .collect()
        }
    };
    let mut values = message.values(row.iter().map(|(p, v)| (p.as_str(), v.clone())));
    if !message.lists.is_empty() {
        // Lists are read now, in the transaction that records the send.
        let on = crate::lists::On::Tx(&mut *tx);
        match crate::lists::evaluate(on, &queries.lists, &c.message, &message.lists, now, &c.key, c.trigger.as_ref()).await? {
            Ok(rows) => crate::lists::bind(&mut values, &message.lists, &rows),
            Err(e) => return Ok(Err(e)),
        }
    }
    let rendered = match message.render_on(&c.channel, &values, contact.zone.as_deref()) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let payload = Payload {
        id: &key,
        campaign: &c.plan.name,
        message: &c.message,
        channel: &c.channel,
        kind: c.plan.kind.name(),
        customer: &c.customer,
        variant: (!c.arm.is_empty()).then_some(c.arm.as_str()),
        attempt: c.attempt,
        to: to(runner, contact, &c.channel),
        subject: rendered.subject.as_deref(),
        title: rendered.title.as_deref(),
        body: &rendered.body,
        image: rendered.image.as_deref(),
        template_code: rendered.template_code.as_deref(),
        buttons: &rendered.buttons,
        format: rendered.format.as_deref(),
        items: &rendered.items,
        cards: &rendered.cards,
        created_at: now.to_rfc3339(),
    };
    Ok(serde_json::to_string(&payload).map_err(|e| e.to_string()))
}

/// What a channel receives for one send (JSON).
#[derive(serde::Serialize)]
struct Payload<'a> {
    id: &'a str,
    campaign: &'a str,
    message: &'a str,
    channel: &'a str,
    kind: &'a str,
    customer: &'a str,
    variant: Option<&'a str>,
    attempt: i64,
    to: To<'a>,
    subject: Option<&'a str>,
    title: Option<&'a str>,
    body: &'a str,
    image: Option<&'a str>,
    template_code: Option<&'a str>,
    buttons: &'a [camp_compiler::templating::RenderedButton],
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    items: &'a [camp_compiler::templating::RenderedButton],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    cards: &'a [camp_compiler::templating::RenderedCard],
    created_at: String,
}

/// Where a send goes: the channel's own address (its contact field) and
/// the customer's others.
#[derive(serde::Serialize)]
struct To<'a> {
    phone: Option<&'a str>,
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    push_token: Option<&'a str>,
}

fn to<'a>(runner: &Runner, contact: &'a Contact, channel: &str) -> To<'a> {
    To {
        phone: contact.to(runner, channel, ContactKind::Phone),
        email: contact.to(runner, channel, ContactKind::Email),
        push_token: contact.to(runner, channel, ContactKind::PushToken),
    }
}

/// A JSON value as a backend would have returned it.
pub fn json_raw(v: Option<&Json>) -> Raw {
    match v {
        None | Some(Json::Null) => Raw::Null,
        Some(Json::Bool(b)) => Raw::Bool(*b),
        Some(Json::Number(n)) => match n.as_i64() {
            Some(i) => Raw::Int(i),
            None => Raw::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Some(Json::String(s)) => Raw::Text(s.clone()),
        Some(other) => Raw::Text(other.to_string()),
    }
}

/// Ledger columns, in insert order.
const COLUMNS: &[&str] = &[
    "enrollment",
    "step",
    "attempt",
    "campaign",
    "customer",
    "arm",
    "kind",
    "channel",
    "message",
    "status",
    "reason",
    "idempotency_key",
    "created_ms",
    "next_try_ms",
    "lease_owner",
    "lease_until_ms",
    "fallback_after_ms",
    "repeats",
    "deployment",
    "expires_ms",
];

/// Writes a ledger row for every verdict that has one (and a suppressed
/// row for every attempt passed over) and returns the sends to deliver,
/// leased to this daemon.
pub async fn record(
    runner: &Runner,
    tx: &mut Tx,
    now: DateTime<Utc>,
    cands: &[Candidate],
    decided: &Decided,
) -> Result<Vec<Outgoing>, DbError> {
    let now_ms = crate::clock::ms(now);
    let lease = runner.lease_until();
    let mut rows: Vec<Vec<BindValue>> = Vec::new();
    let mut payloads: HashMap<(i64, i64, i64), (String, String, String)> = HashMap::new();
    let null_int = BindValue::TypedNull(Want::Int);
    let passed: Vec<Verdict> = decided.passed.iter().map(|c| Verdict::Suppress(no_contact(&c.channel))).collect();
    let all = cands.iter().zip(&decided.verdicts).chain(decided.passed.iter().zip(&passed));
    for (c, v) in all {
        let (status, reason, payload) = match v {
            Verdict::Send(p) => ("pending", None, Some(p.clone())),
            Verdict::Hold => ("held", None, None),
            Verdict::Suppress(r) => ("suppressed", Some(r.clone()), None),
            Verdict::Exit | Verdict::Defer(_) => continue,
        };
        let key = idempotency_key(c.enrollment, c.step, c.attempt);
        let pending = status == "pending";
        if let Some(p) = &payload {
            payloads.insert(
                (c.enrollment, c.step as i64, c.attempt),
                (key.clone(), c.channel.clone(), p.clone()),
            );
        }
        // The next channel's delay; its timer starts when a channel with
        // receipts accepts the send (outbox), or at once on a refusal.
        let fallback_after = match (pending, c.fallback_after) {
            (true, Some(after)) => BindValue::Int((after as i64).saturating_mul(1000)),
            _ => null_int.clone(),
        };
        rows.push(vec![
            BindValue::Int(c.enrollment),
            BindValue::Int(c.step as i64),
            BindValue::Int(c.attempt),
            BindValue::Text(c.plan.name.clone()),
            BindValue::Text(c.customer.clone()),
            if c.arm.is_empty() {
                BindValue::Null
            } else {
                BindValue::Text(c.arm.clone())
            },
            BindValue::Text(c.plan.kind.name().to_string()),
            BindValue::Text(c.channel.clone()),
            BindValue::Text(c.message.clone()),
            BindValue::Text(status.to_string()),
            reason.map(BindValue::Text).unwrap_or(BindValue::Null),
            BindValue::Text(key),
            BindValue::Int(now_ms),
            if pending { BindValue::Int(now_ms) } else { null_int.clone() },
            if pending {
                BindValue::Text(runner.id.name.clone())
            } else {
                BindValue::Null
            },
            if pending { BindValue::Int(lease) } else { null_int.clone() },
            fallback_after,
            BindValue::Int(i64::from(c.repeats)),
            BindValue::Text(runner.deployment.clone()),
            c.expires_ms.map(BindValue::Int).unwrap_or_else(|| null_int.clone()),
        ]);
    }
    let mut out = Vec::new();
    let per_statement = (9_000 / COLUMNS.len()).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<BindValue>> = rows.by_ref().take(per_statement).collect();
        let s = &runner.store;
        let mut sql = format!("INSERT INTO {} ({}) VALUES ", s.t.ledger, COLUMNS.join(", "));
        let mut n = 0;
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for j in 0..row.len() {
                if j > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                sql.push_str(&s.sql.seq_ph(n));
            }
            sql.push(')');
        }
        sql.push_str(" ON CONFLICT DO NOTHING RETURNING id, enrollment, step, attempt");
        let binds: Vec<BindValue> = chunk.into_iter().flatten().collect();
        for r in tx.rows(&sql, &binds).await? {
            let (Some(id), Some(e), Some(st), Some(a)) = (r.int(0), r.int(1), r.int(2), r.int(3)) else {
                continue;
            };
            if let Some((key, channel, payload)) = payloads.remove(&(e, st, a)) {
                out.push(Outgoing {
                    ledger: id,
                    key,
                    channel,
                    payload,
                    tries: 0,
                });
            }
        }
    }
    // The payloads, beside their rows.
    for chunk in out.chunks(4_500) {
        let s = &runner.store;
        let mut sql = format!("INSERT INTO {} (ledger, payload) VALUES ", s.t.payloads);
        let mut binds = Vec::with_capacity(chunk.len() * 2);
        for (i, o) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("({}, {})", s.sql.seq_ph(binds.len() + 1), s.sql.seq_ph(binds.len() + 2)));
            binds.push(BindValue::Int(o.ledger));
            binds.push(BindValue::Text(o.payload.clone()));
        }
        tx.execute(&sql, &binds).await?;
    }
    Ok(out)
}
