//! Building a plan from a checked program.

use super::{
    Cap, Channels, Dialects, Every, Experiment, Expiry, Fallback, Goal, Kind, Op, Origin, Plan, PlanError, QuietHours, QuietMode, Reentry,
    Scope, Step, Trigger, Variant, Weekday, Window, FORMAT_VERSION,
};
use crate::channel::Channel;
use crate::lower::cond::{Lowerer, Props, CUSTOMER};
use crate::lower::{self, CampaignQueries, Dialect, Param, Query};
use crate::policy::{minutes, SendScope};
use crate::program::Program;
use crate::schema::EventModel;
use crate::templating::{self, Context, DEFAULT_ZONE};
use camp_grammar::ast::{self, CampaignItem, StepKind, TriggerKind};
use chrono::{NaiveDate, SecondsFormat, TimeZone, Utc};
use std::collections::BTreeMap;

/// Builds the plan of the campaign named `campaign_name`.
pub fn build(program: &Program, campaign_name: &str) -> Result<Plan, PlanError> {
    let Some(&(_, campaign)) = program.campaigns.get(campaign_name) else {
        return Err(PlanError::UnknownCampaign {
            name: campaign_name.to_string(),
        });
    };
    let invalid = |message: String| PlanError::Invalid {
        campaign: campaign_name.to_string(),
        message,
    };
    let s = Settings::of(campaign);

    let kind = match s.kind.map(|k| k.name.as_str()) {
        Some("ad") => Kind::Ad,
        Some("info") => Kind::Info,
        Some(other) => return Err(invalid(format!("unknown kind `{other}`"))),
        None => return Err(invalid("no `kind`".into())),
    };
    let channels = match s.channel {
        Some(decl) => Channels {
            primary: channel(&decl.channel).map_err(invalid)?,
            fallbacks: decl
                .fallbacks
                .iter()
                .map(|f| {
                    Ok(Fallback {
                        channel: channel(&f.channel)?,
                        after: f.after.seconds(),
                    })
                })
                .collect::<Result<_, String>>()
                .map_err(invalid)?,
        },
        None => return Err(invalid("no `channel`".into())),
    };
    let zone = program
        .policy
        .timezone
        .as_deref()
        .filter(|z| z.parse::<chrono_tz::Tz>().is_ok())
        .unwrap_or(DEFAULT_ZONE)
        .to_string();
    let trigger_event: Option<&EventModel> = templating::trigger_event(campaign).and_then(|e| program.schema.event(e));
    let trigger = match s.trigger.map(|t| &t.kind) {
        Some(TriggerKind::On { event, filter }) => {
            let Some(ev) = trigger_event else {
                return Err(invalid(format!("unknown event `{}`", event.name)));
            };
            Trigger::On {
                event: ev.name.clone(),
                filter: filter.as_ref().map(|f| condition(program, Some(ev), f, true)),
            }
        }
        Some(TriggerKind::At(dt)) => at(dt, &zone).map_err(invalid)?,
        Some(TriggerKind::Every { every, at }) => Trigger::Every {
            every: match every {
                ast::Every::Day => Every::Day,
                ast::Every::Weekday => Every::Weekday,
                ast::Every::DayOfWeek(d) => Every::DayOfWeek {
                    day: weekday(*d).ok_or_else(|| invalid(format!("day of week {d} out of range")))?,
                },
                ast::Every::DayOfMonth { day, .. } if (1..=31).contains(day) => Every::DayOfMonth { day: *day },
                ast::Every::DayOfMonth { day, .. } => return Err(invalid(format!("there is no day {day} of a month"))),
            },
            at: time(at).map_err(invalid)?,
        },
        None => return Err(invalid("no `trigger`".into())),
    };

    // The step machine.
    let mut machine = Machine {
        ops: Vec::new(),
        branches: 0,
        channels: &channels,
        sends: Vec::new(),
        entry: None,
        variant_entries: vec![usize::MAX; s.variants.len()],
    };
    let mut dangling = Vec::new();
    if s.variants.is_empty() {
        dangling.extend(machine.block(s.steps.iter().copied(), vec![Patch::Entry(None)]).map_err(invalid)?);
    } else {
        if !s.steps.is_empty() {
            return Err(invalid("steps outside the variants, in a campaign with variants".into()));
        }
        for (i, v) in s.variants.iter().enumerate() {
            dangling.extend(machine.block(v.steps.iter(), vec![Patch::Entry(Some(i))]).map_err(invalid)?);
        }
    }
    if !dangling.is_empty() {
        let end = machine.ops.len();
        machine.ops.push(Op::End);
        machine.patch(dangling, end);
    }
    let (entry, variant_entries) = (machine.entry, std::mem::take(&mut machine.variant_entries));
    let steps: Vec<Step> = std::mem::take(&mut machine.ops)
        .into_iter()
        .enumerate()
        .map(|(id, op)| Step { id, op })
        .collect();

    // Where sends may happen.
    let mut used: Vec<&str> = channels.all().collect();
    for send in &machine.sends {
        if let Some(via) = &send.1 {
            if !used.contains(&via.as_str()) {
                used.push(via);
            }
        }
    }
    let applies = |scope: &SendScope| match scope {
        SendScope::All => true,
        SendScope::Kind(k) => k == kind.name(),
        SendScope::Channel(c) => used.contains(&c.as_str()),
    };
    let window = match s.window {
        Some((from, to)) => Some(Window {
            from: time(from).map_err(invalid)?,
            to: time(to).map_err(invalid)?,
        }),
        None => None,
    };
    let mut quiet_hours = Vec::new();
    for q in &s.quiet {
        let scope = SendScope::from_ast(&q.filter);
        if !applies(&scope) {
            continue;
        }
        quiet_hours.push(QuietHours {
            from: time(&q.from).map_err(invalid)?,
            to: time(&q.to).map_err(invalid)?,
            mode: mode(q.mode.unwrap_or(ast::QuietMode::Defer)),
            unless: q.unless.as_ref().map(|u| condition(program, trigger_event, u, false)),
            origin: Origin::Campaign,
            scope: plan_scope(&scope),
        });
    }
    for rule in program.policy.quiet_hours.iter().filter(|r| applies(&r.scope)) {
        quiet_hours.push(QuietHours {
            from: rule.from,
            to: rule.to,
            mode: mode(rule.mode),
            unless: rule.unless.as_ref().map(|u| condition(program, None, u, false)),
            origin: Origin::Policy,
            scope: plan_scope(&rule.scope),
        });
    }
    let mut caps = Vec::new();
    let own = s.caps.iter().map(|c| (*c, Origin::Campaign));
    for (cap, origin) in own.chain(program.policy.caps.iter().map(|c| (c, Origin::Policy))) {
        let scope = SendScope::from_ast(&cap.filter);
        if !applies(&scope) {
            continue;
        }
        for limit in &cap.limits {
            caps.push(Cap {
                count: limit.count.value,
                seconds: limit.per.seconds(),
                origin,
                scope: plan_scope(&scope),
            });
        }
    }
    // At most one brand message per recipient per day, always: a rolling
    // 24 hours, which also keeps every local calendar day to one.
    for name in used.iter().filter(|c| matches!(**c, "brand" | "friendtalk")) {
        caps.push(Cap {
            count: 1,
            seconds: 86_400,
            origin: Origin::Law,
            scope: Scope::Channel { channel: name.to_string() },
        });
    }
    let experiment = Experiment {
        variants: s
            .variants
            .iter()
            .zip(&variant_entries)
            .map(|(v, &entry)| Variant {
                name: v.name.name.clone(),
                percent: v.percent.value,
                entry,
            })
            .collect(),
        holdout: s.holdout.map(|h| h.value),
        goal: s.goal.map(|(event, within)| Goal {
            event: event.name.clone(),
            within: within.seconds(),
        }),
    };

    // The messages, compiled with the campaign's trigger.
    let cx = Context::for_campaign(program, campaign);
    let mut messages = BTreeMap::new();
    for (name, _) in &machine.sends {
        if messages.contains_key(*name) {
            continue;
        }
        let compiled = templating::compile_named(&cx, name).map_err(|error| PlanError::Template {
            campaign: campaign_name.to_string(),
            message: name.to_string(),
            error,
        })?;
        messages.insert(name.to_string(), compiled);
    }

    let mut plan = Plan {
        format_version: FORMAT_VERSION,
        hash: String::new(),
        name: campaign.name.name.clone(),
        kind,
        zone,
        channels,
        trigger,
        entry,
        steps,
        window,
        quiet_hours,
        caps,
        priority: s.priority.map_or(0, |p| p.value),
        experiment,
        consent: s
            .audience
            .map(|a| required_consents(program, a, 0).into_iter().collect())
            .unwrap_or_default(),
        reentry: match s.reentry.map(|r| &r.rule) {
            None => Reentry::Single,
            Some(ast::ReentryRule::Restart) => Reentry::Restart,
            Some(ast::ReentryRule::Never) => Reentry::Never,
            Some(ast::ReentryRule::Always) => Reentry::Always,
            Some(ast::ReentryRule::After(d)) if d.seconds() > 0 => Reentry::After { seconds: d.seconds() },
            Some(ast::ReentryRule::After(_)) => return Err(invalid("a re-entry interval of zero".into())),
        },
        messages,
        sql: queries(program, campaign),
        sizes: program
            .facts
            .sizes
            .iter()
            .filter(|f| f.campaign == campaign.name.name)
            .map(|f| super::SizeFact {
                message: f.message.clone(),
                channel: f.channel.name().to_string(),
                worst: f.worst,
                limit: f.limit,
                unit: f.unit.name().to_string(),
            })
            .collect(),
        ad_law: program
            .facts
            .ads
            .iter()
            .filter(|f| f.campaign == campaign.name.name)
            .map(|f| super::AdFact {
                message: f.message.clone(),
                prefix: f.prefix,
                sender: f.sender,
                optout: f.optout,
            })
            .collect(),
    };
    plan.hash = plan.content_hash();
    Ok(plan)
}

/// The campaign's SQL in each dialect, from the lowering stage.
fn queries(program: &Program, campaign: &ast::Campaign) -> Dialects<CampaignQueries> {
    Dialects {
        sqlite: lower::queries::campaign_queries(program, campaign, &lower::Sqlite),
        postgres: lower::queries::campaign_queries(program, campaign, &lower::Postgres),
    }
}

/// One condition as a query per dialect: for one customer (and the
/// triggering event, when `trigger` is set), a row `ok` = 1 when it holds.
/// With `on_trigger`, bare names are the triggering event's properties.
fn condition(program: &Program, trigger: Option<&EventModel>, e: &ast::Expr, on_trigger: bool) -> Dialects<Query> {
    Dialects {
        sqlite: condition_in(program, &lower::Sqlite, trigger, e, on_trigger),
        postgres: condition_in(program, &lower::Postgres, trigger, e, on_trigger),
    }
}

fn condition_in(program: &Program, dialect: &dyn Dialect, trigger: Option<&EventModel>, e: &ast::Expr, on_trigger: bool) -> Query {
    let mut l = Lowerer::new(program, dialect, trigger);
    let props = match (on_trigger, trigger) {
        (true, Some(ev)) => Props::Trigger(ev),
        _ => Props::None,
    };
    let cond = l.cond(e, props, false);
    let Some(customer) = program.schema.customer.as_ref() else {
        return Query {
            sql: String::new(),
            params: Vec::new(),
        };
    };
    let key = format!("{CUSTOMER}.{}", dialect.quote(&customer.key));
    let ph = l.param(Param::Customer);
    let sql = format!(
        "{}SELECT CASE WHEN {cond} THEN 1 ELSE 0 END AS {} FROM {} {CUSTOMER} WHERE {key} = {ph}",
        l.with_clause(),
        dialect.quote("ok"),
        dialect.quote(&customer.source),
    );
    Query {
        sql,
        params: std::mem::take(&mut l.params),
    }
}

/// A campaign's settings, the first of each (a checked campaign has one).
#[derive(Default)]
struct Settings<'c> {
    kind: Option<&'c ast::Ident>,
    channel: Option<&'c ast::ChannelDecl>,
    trigger: Option<&'c ast::Trigger>,
    audience: Option<&'c ast::Expr>,
    steps: Vec<&'c ast::Step>,
    quiet: Vec<&'c ast::QuietHours>,
    window: Option<(&'c ast::TimeOfDay, &'c ast::TimeOfDay)>,
    caps: Vec<&'c ast::Cap>,
    priority: Option<&'c ast::IntLit>,
    variants: Vec<&'c ast::Variant>,
    holdout: Option<&'c ast::Percent>,
    goal: Option<(&'c ast::Ident, &'c ast::Duration)>,
    reentry: Option<&'c ast::Reentry>,
}

impl<'c> Settings<'c> {
    fn of(campaign: &'c ast::Campaign) -> Self {
        let mut s = Settings::default();
        for item in &campaign.items {
            match item {
                CampaignItem::Kind(k) => {
                    s.kind.get_or_insert(k);
                }
                CampaignItem::Channel(c) => {
                    s.channel.get_or_insert(c);
                }
                CampaignItem::Trigger(t) => {
                    s.trigger.get_or_insert(t);
                }
                CampaignItem::Audience(a) => {
                    s.audience.get_or_insert(a);
                }
                CampaignItem::ExitWhen(_) | CampaignItem::PadPopular(_) => {}
                CampaignItem::Step(st) => s.steps.push(st),
                CampaignItem::QuietHours(q) => s.quiet.push(q),
                CampaignItem::Window { from, to, .. } => {
                    s.window.get_or_insert((from, to));
                }
                CampaignItem::Cap(c) => s.caps.push(c),
                CampaignItem::Priority(p) => {
                    s.priority.get_or_insert(p);
                }
                CampaignItem::Variant(v) => s.variants.push(v),
                CampaignItem::Holdout(h) => {
                    s.holdout.get_or_insert(h);
                }
                CampaignItem::Goal { event, within, .. } => {
                    s.goal.get_or_insert((event, within));
                }
                CampaignItem::Reentry(r) => {
                    s.reentry.get_or_insert(r);
                }
            }
        }
        s
    }
}

/// An edge whose target is the next step emitted (or the end).
#[derive(Debug, Clone, Copy)]
enum Patch {
    Next(usize),
    Then(usize),
    Else(usize),
    /// The entry of the top-level steps (`None`) or of a variant.
    Entry(Option<usize>),
}

/// Not yet known; every one is patched before the plan is returned.
const UNSET: usize = usize::MAX;

struct Machine<'c> {
    ops: Vec<Op>,
    /// `if` conditions numbered so far, in the order of `sql.*.branches`:
    /// top-level steps, then each variant's, depth first.
    branches: usize,
    channels: &'c Channels,
    /// Messages sent, with their `via` channel.
    sends: Vec<(&'c str, Option<String>)>,
    entry: Option<usize>,
    variant_entries: Vec<usize>,
}

impl<'c> Machine<'c> {
    fn patch(&mut self, patches: Vec<Patch>, target: usize) {
        for p in patches {
            match p {
                Patch::Entry(None) => self.entry = Some(target),
                Patch::Entry(Some(i)) => {
                    if let Some(e) = self.variant_entries.get_mut(i) {
                        *e = target;
                    }
                }
                Patch::Next(i) => {
                    if let Some(Op::Wait { next, .. } | Op::WaitUntil { next, .. } | Op::Send { next, .. }) = self.ops.get_mut(i) {
                        *next = target;
                    }
                }
                Patch::Then(i) => {
                    if let Some(Op::Branch { then, .. }) = self.ops.get_mut(i) {
                        *then = target;
                    }
                }
                Patch::Else(i) => {
                    if let Some(Op::Branch { otherwise, .. }) = self.ops.get_mut(i) {
                        *otherwise = target;
                    }
                }
            }
        }
    }

    /// Emits a block of steps. `incoming` edges lead to its first step;
    /// the edges returned leave it (to whatever follows the block).
    fn block(&mut self, steps: impl IntoIterator<Item = &'c ast::Step>, mut incoming: Vec<Patch>) -> Result<Vec<Patch>, String> {
        for step in steps {
            let here = self.ops.len();
            self.patch(std::mem::take(&mut incoming), here);
            match &step.kind {
                StepKind::Wait(d) => {
                    self.ops.push(Op::Wait {
                        seconds: d.seconds(),
                        next: UNSET,
                    });
                    incoming.push(Patch::Next(here));
                }
                StepKind::WaitUntil(t) => {
                    self.ops.push(Op::WaitUntil {
                        minute: time(t)?,
                        next: UNSET,
                    });
                    incoming.push(Patch::Next(here));
                }
                StepKind::Send { message, via, expires } => {
                    let channels = match via {
                        Some(v) => Channels {
                            primary: channel(v)?,
                            fallbacks: Vec::new(),
                        },
                        None => self.channels.clone(),
                    };
                    self.sends.push((message.name.as_str(), via.as_ref().map(|v| v.name.clone())));
                    let expires = match expires {
                        Some(ast::Expiry::At(t)) => Some(Expiry::At { minute: time(t)? }),
                        Some(ast::Expiry::After(d)) => Some(Expiry::After { seconds: d.seconds() }),
                        None => None,
                    };
                    self.ops.push(Op::Send {
                        message: message.name.clone(),
                        channels,
                        expires,
                        next: UNSET,
                    });
                    incoming.push(Patch::Next(here));
                }
                StepKind::If { then, otherwise, .. } => {
                    let condition = self.branches;
                    self.branches += 1;
                    self.ops.push(Op::Branch {
                        condition,
                        then: UNSET,
                        otherwise: UNSET,
                    });
                    incoming = self.block(then.iter(), vec![Patch::Then(here)])?;
                    match otherwise {
                        Some(o) => incoming.extend(self.block(o.iter(), vec![Patch::Else(here)])?),
                        None => incoming.push(Patch::Else(here)),
                    }
                }
                StepKind::Exit => self.ops.push(Op::Exit),
            }
        }
        Ok(incoming)
    }
}

fn channel(name: &ast::Ident) -> Result<String, String> {
    match Channel::parse(&name.name) {
        Some(c) => Ok(c.name().to_string()),
        None => Err(format!("unknown channel `{}`", name.name)),
    }
}

fn time(t: &ast::TimeOfDay) -> Result<u32, String> {
    minutes(t).ok_or_else(|| format!("`{:02}:{:02}` is not a time of day", t.hour, t.minute))
}

fn weekday(d: u8) -> Option<Weekday> {
    Some(match d {
        0 => Weekday::Monday,
        1 => Weekday::Tuesday,
        2 => Weekday::Wednesday,
        3 => Weekday::Thursday,
        4 => Weekday::Friday,
        5 => Weekday::Saturday,
        6 => Weekday::Sunday,
        _ => return None,
    })
}

/// `at 2026-12-04 12:00` in the policy's zone, as a UTC instant. A time
/// that falls twice (a fold) is the earlier; one that does not exist (a
/// gap) is refused.
fn at(dt: &ast::DateTime, zone: &str) -> Result<Trigger, String> {
    let text = || format!("{:04}-{:02}-{:02} {:02}:{:02}", dt.year, dt.month, dt.day, dt.hour, dt.minute);
    let naive = NaiveDate::from_ymd_opt(dt.year, dt.month, dt.day)
        .and_then(|d| d.and_hms_opt(dt.hour, dt.minute, 0))
        .ok_or_else(|| format!("{} is not a date and time", text()))?;
    let tz: chrono_tz::Tz = zone.parse().map_err(|_| format!("unknown time zone `{zone}`"))?;
    let local = tz
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| format!("{} does not exist in {zone}", text()))?;
    let utc = local.with_timezone(&Utc);
    Ok(Trigger::At {
        at: utc.to_rfc3339_opts(SecondsFormat::Secs, true),
        unix: utc.timestamp(),
    })
}

fn mode(m: ast::QuietMode) -> QuietMode {
    match m {
        ast::QuietMode::Defer => QuietMode::Defer,
        ast::QuietMode::Skip => QuietMode::Skip,
    }
}

fn plan_scope(scope: &SendScope) -> Scope {
    match scope {
        SendScope::All => Scope::All,
        SendScope::Kind(k) => Scope::Kind { kind: k.clone() },
        SendScope::Channel(c) => Scope::Channel { channel: c.clone() },
    }
}

/// The consent fields a condition requires to be true for everyone it
/// selects: `and` unions, `or` intersects, `not` requires nothing (as the
/// checker's compliance rule reads it).
fn required_consents(program: &Program, e: &ast::Expr, depth: usize) -> std::collections::BTreeSet<String> {
    use crate::types::FieldType;
    use ast::ExprKind;
    if depth > camp_grammar::MAX_NESTING {
        return Default::default();
    }
    match &e.kind {
        ExprKind::And(items) => items.iter().flat_map(|i| required_consents(program, i, depth + 1)).collect(),
        ExprKind::Or(items) => {
            let mut sets = items.iter().map(|i| required_consents(program, i, depth + 1));
            let first = sets.next().unwrap_or_default();
            sets.fold(first, |acc, s| acc.intersection(&s).cloned().collect())
        }
        ExprKind::Compare { op, lhs, rhs } => {
            let truth = match op {
                ast::CmpOp::Eq => true,
                ast::CmpOp::Ne => false,
                _ => return Default::default(),
            };
            match (&lhs.kind, &rhs.kind) {
                (_, ExprKind::Bool(b)) if *b == truth => required_consents(program, lhs, depth + 1),
                (ExprKind::Bool(b), _) if *b == truth => required_consents(program, rhs, depth + 1),
                _ => Default::default(),
            }
        }
        ExprKind::Path(p) => {
            let names: Vec<&str> = p.segments.iter().map(|s| s.name.as_str()).collect();
            match names.as_slice() {
                ["customer", field] => program
                    .schema
                    .customer
                    .as_ref()
                    .and_then(|c| c.field(field))
                    .filter(|f| f.ty == FieldType::Consent)
                    .map(|f| std::collections::BTreeSet::from([f.name.clone()]))
                    .unwrap_or_default(),
                [segment] => program
                    .segments
                    .get(segment)
                    .map(|s| required_consents(program, &s.cond, depth + 1))
                    .unwrap_or_default(),
                _ => Default::default(),
            }
        }
        _ => Default::default(),
    }
}
