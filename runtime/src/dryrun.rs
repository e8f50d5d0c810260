//! Dry runs against a real database: who is in a campaign's audience now
//! (`camp audience`), and what one customer would receive (`camp preview`).
//! Nothing is written.

use crate::binds::{BindError, Bindings, TriggerEvent};
use crate::db::{Database, DbError, Key, Want};
use camp_compiler::channel::{self, Channel, Verdict};
use camp_compiler::lower::queries::{self, Column};
use camp_compiler::lower::Query;
use camp_compiler::plan::{self, Op, Plan, PlanError};
use camp_compiler::program::Program;
use camp_compiler::suggest::help_for;
use camp_compiler::templating::{self, CompiledMessage, Context, RenderError, RenderedMessage, Value};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use std::fmt;

#[derive(Debug)]
pub enum DryRunError {
    Db(DbError),
    Bind(BindError),
    Plan(PlanError),
    Render {
        message: String,
        error: RenderError,
    },
    Template {
        message: String,
        error: String,
    },
    Unknown {
        what: &'static str,
        name: String,
        help: String,
    },
    NoCustomer {
        key: String,
        table: String,
    },
    /// A triggered campaign's message reads the trigger, and the customer
    /// never had that event.
    NoTrigger {
        customer: String,
        event: String,
    },
}

impl fmt::Display for DryRunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DryRunError::Db(e) => write!(f, "{e}"),
            DryRunError::Bind(e) => write!(f, "{e}"),
            DryRunError::Plan(e) => write!(f, "{e}"),
            DryRunError::Render { message, error } => write!(f, "cannot render `{message}`: {error}"),
            DryRunError::Template { message, error } => write!(f, "cannot compile `{message}`: {error}"),
            DryRunError::Unknown { what, name, help } => write!(f, "no {what} named `{name}`\n  help: {help}"),
            DryRunError::NoCustomer { key, table } => write!(
                f,
                "no customer with key `{key}` in `{table}`\n  help: `camp audience CAMPAIGN --database URL` lists the keys of an audience"
            ),
            DryRunError::NoTrigger { customer, event } => write!(
                f,
                "customer `{customer}` has no `{event}` event at or before now, and the message prints the triggering event\n  help: pick a customer who had one, or set `--now` later"
            ),
        }
    }
}

impl std::error::Error for DryRunError {}

impl From<DbError> for DryRunError {
    fn from(e: DbError) -> Self {
        DryRunError::Db(e)
    }
}

impl From<BindError> for DryRunError {
    fn from(e: BindError) -> Self {
        DryRunError::Bind(e)
    }
}

fn unknown_campaign(program: &Program, name: &str) -> DryRunError {
    DryRunError::Unknown {
        what: "campaign",
        name: name.to_string(),
        help: help_for(name, program.campaigns.keys().copied(), "campaign"),
    }
}

/// Everyone in the campaign's audience at `now`, keys ascending. For an
/// event-triggered campaign: everyone the audience condition admits now
/// (the trigger itself is per event).
pub async fn audience(db: &Database, program: &Program<'_>, campaign: &str, now: DateTime<Utc>) -> Result<Vec<Key>, DryRunError> {
    let Some((_, ast)) = program.campaigns.get(campaign) else {
        return Err(unknown_campaign(program, campaign));
    };
    let dialect = db.dialect();
    let plan = plan::build(program, campaign).map_err(DryRunError::Plan)?;
    if let plan::Trigger::On { event, .. } = &plan.trigger {
        return triggered_audience(db, program, &plan, event, now).await;
    }
    let audience = ast.items.iter().find_map(|i| match i {
        camp_grammar::ast::CampaignItem::Audience(a) => Some(a),
        _ => None,
    });
    let query = queries::audience_keys(program, dialect, audience);
    let binds = Bindings::at(now).resolve(&query.params)?;
    let mut keys = db.fetch_keys(&query.sql, &binds).await?;
    keys.sort();
    Ok(keys)
}

/// An event-triggered campaign's audience now: the customers whose latest
/// triggering event, taken as the trigger, passes the trigger's filter and
/// the audience (the campaign's check query). One check per candidate: a
/// dry run, not the runtime's path.
async fn triggered_audience(
    db: &Database,
    program: &Program<'_>,
    plan: &Plan,
    event: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Key>, DryRunError> {
    let Some(model) = program.schema.event(event) else {
        return Ok(Vec::new());
    };
    let Some(candidates) = queries::event_customers(program, db.dialect(), model) else {
        return Ok(Vec::new());
    };
    let binds = Bindings::at(now).resolve(&candidates.params)?;
    let candidates = db.fetch_keys(&candidates.sql, &binds).await?;
    let queries = plan_queries(db, plan);
    let Some(check) = &queries.check else {
        return Ok(candidates);
    };
    let mut keys = Vec::new();
    for key in candidates {
        let Some(trigger) = latest_trigger(db, program, event, trigger_filter(db, plan), &key, now).await? else {
            continue;
        };
        let binds = Bindings {
            now,
            customer: Some(&key),
            trigger: Some(&trigger),
        }
        .resolve(&check.params)?;
        let rows = db.fetch(&check.sql, &binds, &[Want::Int]).await?;
        if matches!(rows.first().and_then(|r| r.first()), Some(Value::Int(1))) {
            keys.push(key);
        }
    }
    keys.sort();
    Ok(keys)
}

fn plan_queries<'p>(db: &Database, plan: &'p Plan) -> &'p camp_compiler::lower::CampaignQueries {
    match db.backend() {
        crate::db::Backend::Sqlite => &plan.sql.sqlite,
        crate::db::Backend::Postgres => &plan.sql.postgres,
    }
}

/// One rendered message of a preview.
#[derive(Debug, Clone)]
pub struct Preview {
    pub message: String,
    pub channel: Channel,
    pub rendered: RenderedMessage,
    pub verdict: Verdict,
    /// The fallback channels of the send, in order, each with the message
    /// as that channel would carry it and its verdict.
    pub fallbacks: Vec<(Channel, RenderedMessage, Verdict)>,
}

/// A campaign preview for one customer: whether they are in the audience
/// now and, if not, which parts exclude them; the arm they get; and the
/// messages of their path (or of every path with `all`).
#[derive(Debug, Clone)]
pub struct CampaignPreview {
    pub in_audience: bool,
    /// The trigger's `where` or audience parts that do not hold for them.
    pub failing: Vec<camp_grammar::ast::Span>,
    /// The variant, `holdout`, or empty without an experiment.
    pub arm: String,
    /// The `if` conditions on their path, with whether each held.
    pub branches: Vec<bool>,
    pub previews: Vec<Preview>,
}

/// The customer's key as the database has it: an integer when the text is
/// one and such a customer exists, else the text.
pub async fn find_customer(db: &Database, program: &Program<'_>, key: &str) -> Result<Key, DryRunError> {
    let Some(customer) = program.schema.customer.as_ref() else {
        return Err(DryRunError::Db(DbError::data("the schema has no customer table")));
    };
    find_customer_in(db, &customer.source, &customer.key, key).await
}

/// [`find_customer`] in table `source` keyed by column `key_column`.
pub async fn find_customer_in(db: &Database, source: &str, key_column: &str, key: &str) -> Result<Key, DryRunError> {
    let d = db.dialect();
    let sql = format!(
        "SELECT {} FROM {} WHERE {} = {}",
        d.quote(key_column),
        d.quote(source),
        d.quote(key_column),
        d.placeholder(1)
    );
    let mut candidates = Vec::new();
    if let Ok(n) = key.trim().parse::<i64>() {
        candidates.push(Key::Int(n));
    }
    candidates.push(Key::Text(key.to_string()));
    let mut last_error = None;
    for candidate in candidates {
        // An integer key against a text column (or the reverse) is a type
        // error in PostgreSQL: try the other form.
        match db.fetch_keys(&sql, &[candidate.bind()]).await {
            Ok(found) if !found.is_empty() => return Ok(candidate),
            Ok(_) => {}
            Err(e) => last_error = Some(e),
        }
    }
    match last_error {
        Some(DbError::Query { message, .. }) if !message.contains("operator does not exist") => {
            Err(DryRunError::Db(DbError::data(message)))
        }
        _ => Err(DryRunError::NoCustomer {
            key: key.to_string(),
            table: source.to_string(),
        }),
    }
}

/// What `name` (a campaign or a message) would send to one customer at `now`.
pub async fn preview(
    db: &Database,
    program: &Program<'_>,
    name: &str,
    customer: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Preview>, DryRunError> {
    let key = find_customer(db, program, customer).await?;
    if program.campaigns.contains_key(name) {
        let plan = plan::build(program, name).map_err(DryRunError::Plan)?;
        return preview_campaign(db, program, &plan, &key, now).await;
    }
    if program.messages.contains_key(name) {
        return preview_message(db, program, name, &key, now).await;
    }
    let names = program.campaigns.keys().chain(program.messages.keys()).copied();
    Err(DryRunError::Unknown {
        what: "campaign or message",
        name: name.to_string(),
        help: help_for(name, names, "campaign or message"),
    })
}

async fn preview_campaign(
    db: &Database,
    program: &Program<'_>,
    plan: &Plan,
    key: &Key,
    now: DateTime<Utc>,
) -> Result<Vec<Preview>, DryRunError> {
    let trigger = match &plan.trigger {
        plan::Trigger::On { event, .. } => latest_trigger(db, program, event, trigger_filter(db, plan), key, now).await?,
        _ => None,
    };
    if let (plan::Trigger::On { event, .. }, None) = (&plan.trigger, &trigger) {
        if plan.messages.values().any(reads_trigger) {
            return Err(DryRunError::NoTrigger {
                customer: key.to_string(),
                event: event.clone(),
            });
        }
    }
    let queries = plan_queries(db, plan);
    let row = render_row(db, &queries.render, &queries.columns, key, trigger.as_ref(), now).await?;
    let zone = customer_zone(program, &row);
    let mut out = Vec::new();
    for step in &plan.steps {
        let Op::Send { message, channels, .. } = &step.op else { continue };
        if out.iter().any(|p: &Preview| &p.message == message) {
            continue;
        }
        let Some(compiled) = plan.messages.get(message) else { continue };
        let lists = message_lists(db, queries, compiled, key, trigger.as_ref(), now).await?;
        out.push(render_chain(compiled, channels, &row, &lists, zone.as_deref())?);
    }
    Ok(out)
}

async fn preview_message(
    db: &Database,
    program: &Program<'_>,
    name: &str,
    key: &Key,
    now: DateTime<Utc>,
) -> Result<Vec<Preview>, DryRunError> {
    // The message's trigger and channel come from a campaign that sends it.
    let sender = program.campaigns.keys().find_map(|c| {
        let plan = plan::build(program, c).ok()?;
        let channel = plan.steps.iter().find_map(|s| match &s.op {
            Op::Send { message, channels, .. } if message == name => Some(channels.primary.clone()),
            _ => None,
        })?;
        Some((plan, channel))
    });
    let (trigger_event, channel) = match &sender {
        Some((plan, channel)) => (
            match &plan.trigger {
                plan::Trigger::On { event, .. } => Some(event.as_str()),
                _ => None,
            },
            Channel::parse(channel).unwrap_or(Channel::Sms),
        ),
        None => (None, Channel::Sms),
    };
    let event_model = trigger_event.and_then(|e| program.schema.event(e));
    let context = match event_model {
        Some(_) => sender
            .as_ref()
            .and_then(|(plan, _)| program.campaigns.get(plan.name.as_str()))
            .map(|(_, c)| Context::for_campaign(program, c))
            .unwrap_or_else(|| Context::new(program)),
        None => Context::new(program),
    };
    let compiled = templating::compile_named(&context, name).map_err(|e| DryRunError::Template {
        message: name.to_string(),
        error: e.to_string(),
    })?;
    let filter = sender.as_ref().and_then(|(plan, _)| trigger_filter(db, plan));
    let trigger = match trigger_event {
        Some(event) => latest_trigger(db, program, event, filter, key, now).await?,
        None => None,
    };
    if let (Some(event), None, true) = (trigger_event, &trigger, reads_trigger(&compiled)) {
        return Err(DryRunError::NoTrigger {
            customer: key.to_string(),
            event: event.to_string(),
        });
    }
    let (query, columns) = queries::message_render(program, db.dialect(), name, event_model);
    let row = render_row(db, &query, &columns, key, trigger.as_ref(), now).await?;
    let zone = customer_zone(program, &row);
    let lists = match &sender {
        Some((plan, _)) => message_lists(db, plan_queries(db, plan), &compiled, key, trigger.as_ref(), now).await?,
        None => Vec::new(),
    };
    Ok(vec![render_one(&compiled, channel, &row, &lists, zone.as_deref())?])
}

fn reads_trigger(message: &CompiledMessage) -> bool {
    message.inputs().iter().any(|s| matches!(s, templating::Source::Trigger { .. }))
}

/// The trigger's `where` of an event-triggered plan, for this database.
fn trigger_filter<'p>(db: &Database, plan: &'p Plan) -> Option<&'p Query> {
    match &plan.trigger {
        plan::Trigger::On { filter: Some(f), .. } => Some(match db.backend() {
            crate::db::Backend::Sqlite => &f.sqlite,
            crate::db::Backend::Postgres => &f.postgres,
        }),
        _ => None,
    }
}

/// How many of a customer's latest events a dry run tries against the
/// trigger's `where` before it gives up on finding one that passes.
const TRIGGER_SCAN: usize = 1_000;

/// The customer's latest `event` at or before now that passes the
/// trigger's `where` (when it has one), as a trigger.
async fn latest_trigger(
    db: &Database,
    program: &Program<'_>,
    event: &str,
    filter: Option<&Query>,
    key: &Key,
    now: DateTime<Utc>,
) -> Result<Option<TriggerEvent>, DryRunError> {
    let Some(model) = program.schema.event(event) else {
        return Ok(None);
    };
    let Some((query, columns)) = queries::latest_event(program, db.dialect(), model) else {
        return Ok(None);
    };
    let binds = Bindings {
        now,
        customer: Some(key),
        trigger: None,
    }
    .resolve(&query.params)?;
    let mut wants = vec![Want::Timestamp];
    wants.extend(columns.iter().map(|c| Want::of_name(&c.ty)));
    let rows = db.fetch(&query.sql, &binds, &wants).await?;
    for row in rows.into_iter().take(TRIGGER_SCAN) {
        let mut values = row.into_iter();
        let Some(Value::Timestamp(time)) = values.next() else {
            continue;
        };
        let props: Map<String, Json> = columns
            .iter()
            .zip(values)
            .map(|(c, v)| (c.path.trim_start_matches("trigger.").to_string(), json_of(v)))
            .collect();
        let trigger = TriggerEvent { time, props };
        let Some(filter) = filter else { return Ok(Some(trigger)) };
        let binds = Bindings {
            now,
            customer: Some(key),
            trigger: Some(&trigger),
        }
        .resolve(&filter.params)?;
        let passes = db.fetch(&filter.sql, &binds, &[Want::Int]).await?;
        if matches!(passes.first().and_then(|r| r.first()), Some(Value::Int(1))) {
            return Ok(Some(trigger));
        }
    }
    Ok(None)
}

pub(crate) fn json_of(value: Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Int(n) => Json::from(n),
        Value::Decimal(f) => Json::from(f),
        Value::Text(s) => Json::from(s),
        Value::Bool(b) => Json::from(b),
        Value::Timestamp(t) => Json::from(t.to_rfc3339()),
        Value::Date(d) => Json::from(d.format("%Y-%m-%d").to_string()),
    }
}

/// The render query's row for one customer, as (path, value) pairs.
pub(crate) async fn render_row(
    db: &Database,
    query: &camp_compiler::lower::Query,
    columns: &[Column],
    key: &Key,
    trigger: Option<&TriggerEvent>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Value)>, DryRunError> {
    let binds = Bindings {
        now,
        customer: Some(key),
        trigger,
    }
    .resolve(&query.params)?;
    let wants: Vec<Want> = columns.iter().map(|c| Want::of_name(&c.ty)).collect();
    let rows = db.fetch(&query.sql, &binds, &wants).await?;
    let row = rows.into_iter().next().unwrap_or_else(|| vec![Value::Null; columns.len()]);
    Ok(columns.iter().map(|c| c.path.clone()).zip(row).collect())
}

fn customer_zone(program: &Program, row: &[(String, Value)]) -> Option<String> {
    let tz = program.schema.timezone_field()?;
    let path = format!("customer.{}", tz.name);
    row.iter().find_map(|(p, v)| match v {
        Value::Text(zone) if *p == path => Some(zone.clone()),
        _ => None,
    })
}

fn render_one(
    message: &CompiledMessage,
    channel: Channel,
    row: &[(String, Value)],
    lists: &[crate::lists::ListRows],
    zone: Option<&str>,
) -> Result<Preview, DryRunError> {
    let mut values = message.values(row.iter().map(|(p, v)| (p.as_str(), v.clone())));
    crate::lists::bind(&mut values, &message.lists, lists);
    let rendered = message
        .render_on(channel.name(), &values, zone)
        .map_err(|error| DryRunError::Render {
            message: message.name.clone(),
            error,
        })?;
    let verdict = channel::verdict(channel, &rendered.body, rendered.subject.as_deref());
    Ok(Preview {
        message: message.name.clone(),
        channel,
        rendered,
        verdict,
        fallbacks: Vec::new(),
    })
}

/// The send on its primary channel and on each fallback.
/// The rows of a message's lists for one customer now, as a send reads them.
pub(crate) async fn message_lists(
    db: &Database,
    queries: &camp_compiler::lower::CampaignQueries,
    message: &CompiledMessage,
    key: &Key,
    trigger: Option<&TriggerEvent>,
    now: DateTime<Utc>,
) -> Result<Vec<crate::lists::ListRows>, DryRunError> {
    if message.lists.is_empty() {
        return Ok(Vec::new());
    }
    let on = crate::lists::On::Db(db);
    crate::lists::evaluate(on, &queries.lists, &message.name, &message.lists, now, key, trigger)
        .await?
        .map_err(|error| DryRunError::Template {
            message: message.name.clone(),
            error,
        })
}

pub(crate) fn render_chain(
    message: &CompiledMessage,
    channels: &plan::Channels,
    row: &[(String, Value)],
    lists: &[crate::lists::ListRows],
    zone: Option<&str>,
) -> Result<Preview, DryRunError> {
    let channel = Channel::parse(&channels.primary).unwrap_or(Channel::Webhook);
    let mut preview = render_one(message, channel, row, lists, zone)?;
    for f in &channels.fallbacks {
        let c = Channel::parse(&f.channel).unwrap_or(Channel::Webhook);
        let p = render_one(message, c, row, lists, zone)?;
        preview.fallbacks.push((c, p.rendered, p.verdict));
    }
    Ok(preview)
}

/// Whether a one-customer check holds.
async fn holds(db: &Database, query: &Query, key: &Key, trigger: Option<&TriggerEvent>, now: DateTime<Utc>) -> Result<bool, DryRunError> {
    if query.sql.is_empty() {
        return Ok(true);
    }
    let binds = Bindings {
        now,
        customer: Some(key),
        trigger,
    }
    .resolve(&query.params)?;
    let rows = db.fetch(&query.sql, &binds, &[Want::Int]).await?;
    Ok(matches!(rows.first().and_then(|r| r.first()), Some(Value::Int(1))))
}

/// The preview of a campaign for one customer: membership, arm, and the
/// messages of the path they would take now (every message with `all`).
pub async fn campaign_preview(
    db: &Database,
    program: &Program<'_>,
    campaign: &str,
    customer: &str,
    now: DateTime<Utc>,
    all: bool,
) -> Result<CampaignPreview, DryRunError> {
    let Some((_, ast)) = program.campaigns.get(campaign) else {
        return Err(unknown_campaign(program, campaign));
    };
    let plan = plan::build(program, campaign).map_err(DryRunError::Plan)?;
    let key = find_customer(db, program, customer).await?;
    let trigger = match &plan.trigger {
        plan::Trigger::On { event, .. } => latest_trigger(db, program, event, trigger_filter(db, &plan), &key, now).await?,
        _ => None,
    };
    let is_triggered = matches!(plan.trigger, plan::Trigger::On { .. });
    // Membership, part by part: the trigger's `where` and each `and` part.
    let mut failing = Vec::new();
    if is_triggered && trigger.is_none() {
        // No event passes the trigger's `where`: every part is moot but the trigger.
        if let Some(part) = queries::audience_parts(program, ast, db.dialect()).into_iter().next() {
            failing.push(part.span);
        }
    } else {
        for part in queries::audience_parts(program, ast, db.dialect()) {
            if !holds(db, &part.query, &key, trigger.as_ref(), now).await? {
                failing.push(part.span);
            }
        }
    }
    let in_audience = failing.is_empty() && (!is_triggered || trigger.is_some());
    if is_triggered && trigger.is_none() && plan.messages.values().any(reads_trigger) {
        return Err(DryRunError::NoTrigger {
            customer: key.to_string(),
            event: match &plan.trigger {
                plan::Trigger::On { event, .. } => event.clone(),
                _ => String::new(),
            },
        });
    }
    let queries = plan_queries(db, &plan);
    let row = render_row(db, &queries.render, &queries.columns, &key, trigger.as_ref(), now).await?;
    let zone = customer_zone(program, &row);
    let (arm, entry) = crate::engine::experiment::assign(&plan, &key.to_string());
    let mut previews = Vec::new();
    let mut branches = Vec::new();
    if all {
        for step in &plan.steps {
            let Op::Send { message, channels, .. } = &step.op else { continue };
            if previews.iter().any(|p: &Preview| &p.message == message) {
                continue;
            }
            let Some(compiled) = plan.messages.get(message) else { continue };
            previews.push({
                let lists = message_lists(db, queries, compiled, &key, trigger.as_ref(), now).await?;
                render_chain(compiled, channels, &row, &lists, zone.as_deref())?
            });
        }
    } else {
        // Walk this customer's path: their arm's entry, each `if` as it
        // holds now. A bounded walk: a plan has no loops, but be safe.
        let mut at = entry;
        for _ in 0..plan.steps.len() + 1 {
            let Some(i) = at else { break };
            let Some(step) = plan.steps.get(i) else { break };
            at = match &step.op {
                Op::Send {
                    message, channels, next, ..
                } => {
                    if let Some(compiled) = plan.messages.get(message) {
                        previews.push({
                            let lists = message_lists(db, queries, compiled, &key, trigger.as_ref(), now).await?;
                            render_chain(compiled, channels, &row, &lists, zone.as_deref())?
                        });
                    }
                    Some(*next)
                }
                Op::Branch {
                    condition,
                    then,
                    otherwise,
                } => {
                    let held = match queries.branches.get(*condition) {
                        Some(q) => holds(db, q, &key, trigger.as_ref(), now).await?,
                        None => false,
                    };
                    branches.push(held);
                    Some(if held { *then } else { *otherwise })
                }
                Op::Exit | Op::End => None,
                other => other.successors().first().copied(),
            };
        }
    }
    Ok(CampaignPreview {
        in_audience,
        failing,
        arm,
        branches,
        previews,
    })
}
