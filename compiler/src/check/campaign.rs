//! A campaign: its settings, trigger, conditions, steps, experiments, and
//! the messages it sends on each of its channels.

use super::expr::{self, Scope, Trigger};
use super::{compliance, message, timing, Def, Env};
use crate::channel::Channel;
use crate::codes;
use crate::diagnostic::{Diagnostic, Sink};
use crate::facts::{AdCheck, MessageSize};
use crate::policy::QuietRule;
use crate::source::FileId;
use camp_grammar::ast::{self, CampaignItem, Ident, Span, Step, StepKind, TriggerKind};
use std::collections::HashSet;

pub fn check_kind_name(sink: &mut Sink, file: FileId, kind: &Ident) {
    if !matches!(kind.name.as_str(), "ad" | "info") {
        sink.push(
            Diagnostic::new(
                codes::UNKNOWN_SETTING,
                file,
                kind.span,
                format!("unknown kind `{}`", kind.name),
                "expected `ad` or `info`",
            )
            .with_help("write `kind ad` for advertising (광고성) or `kind info` for informational (정보성) messages"),
        );
    }
}

/// A channel by name, reporting E0106 when unknown.
pub fn channel(sink: &mut Sink, file: FileId, name: &Ident) -> Option<Channel> {
    let found = Channel::parse(&name.name);
    if found == Some(Channel::Friendtalk) {
        sink.push(
            Diagnostic::new(
                codes::FRIENDTALK_ALIAS,
                file,
                name.span,
                "`friendtalk` is now the Kakao brand message: write `brand`",
                "old name",
            )
            .with_help("write `brand` (Friendtalk was merged into the brand message in January 2026)")
            .with_fix(Some(crate::diagnostic::Fix::new("write `brand`", name.span, "brand"))),
        );
    }
    if found.is_none() {
        sink.push(
            Diagnostic::new(
                codes::UNKNOWN_CHANNEL,
                file,
                name.span,
                format!("unknown channel `{}`", name.name),
                "not a channel",
            )
            .suggest(&name.name, name.span, Channel::names(), "channel"),
        );
    }
    found
}

/// The settings of one campaign, each taken once.
#[derive(Default)]
struct Settings<'c> {
    kind: Option<&'c Ident>,
    channel: Option<&'c ast::ChannelDecl>,
    trigger: Option<&'c ast::Trigger>,
    audience: Option<&'c ast::Expr>,
    exits: Vec<&'c ast::Expr>,
    quiet: Vec<&'c ast::QuietHours>,
    window: Option<(&'c ast::TimeOfDay, &'c ast::TimeOfDay, Span)>,
    caps: Vec<&'c ast::Cap>,
    variants: Vec<&'c ast::Variant>,
    holdout: Option<&'c ast::Percent>,
    goal: Option<(&'c Ident, Span)>,
    reentry: Option<&'c ast::Reentry>,
    steps: Vec<&'c Step>,
}

pub fn check<'a>(env: &Env<'a>, sink: &mut Sink, def: Def<'a, ast::Campaign>, sent: &mut HashSet<&'a str>) {
    let file = def.file;
    let campaign = def.item;
    let s = settings(sink, file, campaign);
    let name_span = campaign.name.span;

    let kind = s.kind.map(|k| {
        check_kind_name(sink, file, k);
        k.name.as_str()
    });
    let missing = |sink: &mut Sink, what: &str, help: &str| {
        sink.push(
            Diagnostic::new(
                codes::MISSING_SETTING,
                file,
                name_span,
                format!("campaign `{}` has no `{what}`", campaign.name.name),
                format!("no `{what}`"),
            )
            .with_help(help.to_string()),
        );
    };
    if s.kind.is_none() {
        missing(sink, "kind", "add `kind ad` (광고성) or `kind info` (정보성)");
    }
    if s.channel.is_none() {
        missing(
            sink,
            "channel",
            "add a channel, e.g. `channel lms` or `channel brand fallback lms after 24h`",
        );
    }
    if s.trigger.is_none() {
        missing(
            sink,
            "trigger",
            "add `trigger on EVENT`, `trigger at 2026-12-01 11:00` or `trigger every monday at 11:00`",
        );
    }

    // Channels: the primary and its fallbacks, with where each was named.
    let mut channels: Vec<(Channel, Span)> = Vec::new();
    if let Some(decl) = s.channel {
        channels.extend(channel(sink, file, &decl.channel).map(|c| (c, decl.channel.span)));
        for fb in &decl.fallbacks {
            channels.extend(channel(sink, file, &fb.channel).map(|c| (c, fb.channel.span)));
        }
    }

    // Trigger and the scope it gives conditions and templates.
    let mut trigger_scope = Trigger::Scheduled { file, span: name_span };
    let mut scheduled_at: Option<u32> = None;
    if let Some(t) = s.trigger {
        match &t.kind {
            TriggerKind::On { event, filter } => {
                let ev = expr::event(env, sink, file, event);
                trigger_scope = Trigger::Event {
                    event: ev,
                    file,
                    span: t.span,
                };
                if let Some(filter) = filter {
                    let scope = Scope {
                        file,
                        trigger: trigger_scope,
                        event: ev,
                    };
                    expr::condition(env, sink, &scope, filter);
                }
            }
            TriggerKind::At(dt) => {
                timing::date_time(sink, file, dt);
                scheduled_at = crate::policy::minutes(&ast::TimeOfDay {
                    hour: dt.hour,
                    minute: dt.minute,
                    span: dt.span,
                });
                trigger_scope = Trigger::Scheduled { file, span: t.span };
            }
            TriggerKind::Every { every, at } => {
                if let ast::Every::DayOfMonth { day, span } = every {
                    timing::day_of_month(sink, file, *day, *span);
                }
                scheduled_at = timing::time(sink, file, at);
                trigger_scope = Trigger::Scheduled { file, span: t.span };
            }
        }
    }
    let scope = Scope::new(file, trigger_scope);
    if let Some(audience) = s.audience {
        expr::condition(env, sink, &scope, audience);
    }
    for exit in &s.exits {
        expr::condition(env, sink, &scope, exit);
    }

    // Timing.
    let own_quiet: Vec<QuietRule> = s
        .quiet
        .iter()
        .filter_map(|q| timing::quiet_rule(env, sink, file, q, trigger_scope))
        .collect();
    for q in &s.quiet {
        if let Some(unless) = &q.unless {
            expr::condition(env, sink, &scope, unless);
        }
    }
    for cap in &s.caps {
        timing::check_cap(sink, file, cap);
    }
    let window = s.window.and_then(|(from, to, span)| {
        let (f, t) = (timing::time(sink, file, from), timing::time(sink, file, to));
        Some((f?, t?, span))
    });
    let primary = channels.first().map(|(c, _)| *c);
    if let Some((from, to, span)) = window {
        for (ch, _) in &channels {
            let rules = timing::rules_for(&own_quiet, &env.policy.quiet_hours, kind, *ch);
            if timing::fully_quiet(from, to, rules.clone()) {
                let mut d = Diagnostic::new(
                    codes::WINDOW_IN_QUIET_HOURS,
                    file,
                    span,
                    format!("the send window lies entirely inside quiet hours for {}", ch.name()),
                    "nothing can be sent in this window",
                );
                for r in rules {
                    d = d.with_label(r.file, r.span, "quiet hours here");
                }
                sink.push(d.with_help("move the window into the hours when sending is allowed"));
                break;
            }
        }
    }
    let first_steps: Vec<Step> = match s.variants.first() {
        Some(v) => v.steps.clone(),
        None => s.steps.iter().map(|st| (*st).clone()).collect(),
    };
    timing::quiet_send_times(
        env,
        sink,
        file,
        &timing::SendTimes {
            scheduled_at,
            trigger_span: s.trigger.map(|t| t.span),
            steps: &first_steps,
            own_quiet: &own_quiet,
            kind,
            primary,
            audience: s.audience,
        },
    );
    if let Some(r) = s.reentry {
        reentry(sink, file, r);
    }

    // Steps and experiments.
    let mut sends: Vec<&ast::Step> = Vec::new();
    let top: Vec<Step> = s.steps.iter().map(|st| (*st).clone()).collect();
    steps(env, sink, &scope, &top, &mut sends);
    for v in &s.variants {
        steps(env, sink, &scope, &v.steps, &mut sends);
    }
    experiments(sink, file, &s, name_span);
    if let Some((event, _)) = s.goal {
        expr::event(env, sink, file, event);
    }
    if sends.is_empty() {
        sink.push(
            Diagnostic::new(
                codes::NEVER_SENDS,
                file,
                name_span,
                format!("campaign `{}` never sends a message", campaign.name.name),
                "no `send` step",
            )
            .with_help("add a step such as `send MESSAGE`"),
        );
    }

    // Messages on each channel they go out on.
    let is_ad = kind == Some("ad");
    let mut used_channels = channels.clone();
    for step in &sends {
        let StepKind::Send {
            message: name,
            via,
            expires,
        } = &step.kind
        else {
            continue;
        };
        if let Some(x) = expires {
            expiry(sink, file, x, s.channel, via.is_some());
        }
        let Some(msg) = env.messages.get(name.name.as_str()) else {
            sink.push(
                Diagnostic::new(
                    codes::UNKNOWN_MESSAGE,
                    file,
                    name.span,
                    format!("unknown message `{}`", name.name),
                    "no such message",
                )
                .suggest(&name.name, name.span, env.message_names(), "message"),
            );
            continue;
        };
        sent.insert(msg.item.name.name.as_str());
        let via_channel = via.as_ref().and_then(|v| channel(sink, file, v).map(|c| (c, v.span)));
        let targets: Vec<(Channel, Span)> = match via_channel {
            Some(v) => {
                used_channels.push(v);
                vec![v]
            }
            None => channels.clone(),
        };
        let mscope = Scope::new(msg.file, trigger_scope);
        let checked = message::check_parts(env, sink, &mscope, msg.item);
        for (ch, used) in &targets {
            message::check_channel(env, sink, msg.file, msg.item, &checked, *ch, (file, *used));
            if let Some((worst, limit)) = message::body_size(env, &checked, *ch) {
                sink.facts.sizes.push(MessageSize {
                    message: msg.item.name.name.clone(),
                    file: msg.file,
                    campaign: campaign.name.name.clone(),
                    channel: *ch,
                    worst,
                    limit,
                    unit: ch.limits().unit,
                });
            }
        }
        if targets.iter().any(|(c, _)| *c == Channel::Alimtalk) {
            super::alimtalk::check_registered(env, sink, msg.file, msg.item);
        }
        if is_ad {
            let on: Vec<Channel> = targets.iter().map(|(c, _)| *c).collect();
            let ad = compliance::check_ad_message(env, sink, msg.file, msg.item, &checked, &on, (file, name_span));
            sink.facts.ads.push(AdCheck {
                message: msg.item.name.name.clone(),
                file: msg.file,
                campaign: campaign.name.name.clone(),
                prefix: ad.prefix,
                sender: ad.sender,
                optout: ad.optout,
            });
        } else if kind == Some("info") {
            compliance::promotional_wording(env, sink, msg.file, msg.item, (file, name_span));
        }
        if is_ad {
            if let Some((_, span)) = targets.iter().find(|(c, _)| *c == Channel::Alimtalk) {
                sink.push(
                    Diagnostic::new(
                        codes::AD_ALIMTALK,
                        file,
                        *span,
                        "Alimtalk cannot carry ads",
                        "alimtalk for a `kind ad` campaign",
                    )
                    .with_help("send ads via `brand` (brand message), `lms` or `sms`; keep Alimtalk for informational messages"),
                );
            }
        }
    }
    no_contact_field(env, sink, file, &used_channels);
    if is_ad {
        compliance::certified_senders(env, sink, file, &used_channels);
    }
    if is_ad {
        ad_audience(
            env,
            sink,
            file,
            &s,
            name_span,
            &used_channels,
            &own_quiet,
            window.map(|(f, t, _)| (f, t)),
            kind,
        );
    }
}

/// W0430 on a channel that sends to an address (a phone number, an email,
/// a push token) when the customer schema holds none for it: its sends go
/// out without an address, and no customer is skipped for lacking one.
fn no_contact_field(env: &Env, sink: &mut Sink, file: FileId, used: &[(Channel, Span)]) {
    if env.schema.customer.is_none() {
        return;
    }
    let mut warned: Vec<Channel> = Vec::new();
    for (ch, span) in used {
        let Some(kind) = ch.contact() else { continue };
        if warned.contains(ch) || env.schema.contact_field(ch.name()).is_some() {
            continue;
        }
        warned.push(*ch);
        let ty = kind.field_type();
        sink.push(
            Diagnostic::new(
                codes::NO_CONTACT_FIELD,
                file,
                *span,
                format!("the customer schema has no `{ty}` field for channel `{}`", ch.name()),
                "sent without an address",
            )
            .with_help(format!(
                "add a field such as `{}: {ty}?` to the customer, or `contact FIELD for channel {}`",
                kind.name(),
                ch.name()
            )),
        );
    }
}

fn settings<'c>(sink: &mut Sink, file: FileId, campaign: &'c ast::Campaign) -> Settings<'c> {
    let mut s = Settings::default();
    let mut seen: Vec<(&'static str, Span)> = Vec::new();
    let mut once = |sink: &mut Sink, name: &'static str, span: Span| -> bool {
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            sink.push(
                Diagnostic::new(
                    codes::DUPLICATE_SETTING,
                    file,
                    span,
                    format!("`{name}` is set twice"),
                    "second setting",
                )
                .with_label(file, *first, "first set here")
                .with_help("keep one of them"),
            );
            false
        } else {
            seen.push((name, span));
            true
        }
    };
    for item in &campaign.items {
        match item {
            CampaignItem::Kind(k) => {
                if once(sink, "kind", k.span) {
                    s.kind = Some(k);
                }
            }
            CampaignItem::Channel(c) => {
                if once(sink, "channel", c.span) {
                    s.channel = Some(c);
                }
            }
            CampaignItem::Trigger(t) => {
                if once(sink, "trigger", t.span) {
                    s.trigger = Some(t);
                }
            }
            CampaignItem::Audience(a) => {
                if once(sink, "audience", a.span) {
                    s.audience = Some(a);
                }
            }
            CampaignItem::ExitWhen(e) => s.exits.push(e),
            CampaignItem::PadPopular(span) => {
                once(sink, "pad popular", *span);
            }
            CampaignItem::Step(st) => s.steps.push(st),
            CampaignItem::QuietHours(q) => s.quiet.push(q),
            CampaignItem::Window { from, to, span } => {
                if once(sink, "window", *span) {
                    s.window = Some((from, to, *span));
                }
            }
            CampaignItem::Cap(c) => s.caps.push(c),
            CampaignItem::Priority(p) => {
                once(sink, "priority", p.span);
            }
            CampaignItem::Variant(v) => s.variants.push(v),
            CampaignItem::Holdout(h) => {
                if once(sink, "holdout", h.span) {
                    s.holdout = Some(h);
                }
            }
            CampaignItem::Goal { event, span, .. } => {
                if once(sink, "goal", *span) {
                    s.goal = Some((event, *span));
                }
            }
            CampaignItem::Reentry(r) => {
                if once(sink, "reentry", r.span) {
                    s.reentry = Some(r);
                }
            }
        }
    }
    s
}

/// `reentry after 0d` would let every trigger in: E0320.
fn reentry(sink: &mut Sink, file: FileId, r: &ast::Reentry) {
    if let ast::ReentryRule::After(d) = &r.rule {
        if d.seconds() == 0 {
            sink.push(
                Diagnostic::new(codes::REENTRY_ZERO, file, d.span, "a re-entry interval of zero", "zero")
                    .with_help("write `reentry always` for one journey per trigger, or an interval such as `reentry after 7d`"),
            );
        }
    }
}

/// `expires at TIME` / `expires after D`: a real time, a real length, and
/// a fallback that can still go out before the send expires (W0322).
fn expiry(sink: &mut Sink, file: FileId, x: &ast::Expiry, channel: Option<&ast::ChannelDecl>, via: bool) {
    match x {
        ast::Expiry::At(t) => {
            timing::time(sink, file, t);
        }
        ast::Expiry::After(d) if d.seconds() == 0 => {
            sink.push(
                Diagnostic::new(codes::BAD_SETTING, file, d.span, "a send that expires at once", "zero")
                    .with_help("give the send time to go out, e.g. `expires after 3h`"),
            );
        }
        ast::Expiry::After(d) => {
            let Some(fb) = channel.filter(|_| !via).and_then(|c| c.fallbacks.first()) else {
                return;
            };
            if fb.after.seconds() > d.seconds() {
                sink.push(
                    Diagnostic::new(
                        codes::FALLBACK_AFTER_EXPIRY,
                        file,
                        fb.span,
                        format!("the fallback to `{}` comes after the send has expired", fb.channel.name),
                        "never sent",
                    )
                    .with_label(file, d.span, "the send expires here")
                    .with_help("make the fallback come sooner than the expiry, or let the send expire later"),
                );
            }
        }
    }
}

/// Checks a block of steps; collects its sends; warns at the first step
/// after one that always exits.
fn steps<'s>(env: &Env, sink: &mut Sink, scope: &Scope, block: &'s [Step], sends: &mut Vec<&'s Step>) -> bool {
    let mut exited = false;
    for step in block {
        if exited {
            sink.push(
                Diagnostic::new(
                    codes::UNREACHABLE_STEP,
                    scope.file,
                    step.span,
                    "this step can never run",
                    "unreachable",
                )
                .with_help("remove it, or move it before the `exit`"),
            );
            return true;
        }
        match &step.kind {
            StepKind::Wait(d) => {
                if d.value == 0 {
                    sink.push(
                        Diagnostic::new(codes::BAD_SETTING, scope.file, d.span, "a wait of zero length", "zero")
                            .with_help("remove the `wait`, or wait a real duration such as `24h`"),
                    );
                }
            }
            StepKind::WaitUntil(t) => {
                timing::time(sink, scope.file, t);
            }
            StepKind::Send { .. } => sends.push(step),
            StepKind::If { cond, then, otherwise } => {
                expr::condition(env, sink, scope, cond);
                let a = steps(env, sink, scope, then, sends);
                let b = otherwise.as_ref().map(|o| steps(env, sink, scope, o, sends)).unwrap_or(false);
                exited = a && b;
            }
            StepKind::Exit => exited = true,
        }
    }
    exited
}

fn experiments(sink: &mut Sink, file: FileId, s: &Settings, name_span: Span) {
    if let Some(h) = s.holdout {
        if !(0.0..100.0).contains(&h.value) {
            sink.push(
                Diagnostic::new(
                    codes::BAD_PERCENT,
                    file,
                    h.span,
                    format!("a holdout of {}% leaves nobody to send to", h.value),
                    "out of range",
                )
                .with_help("use a holdout from 0% to below 100%, typically 5% to 20%"),
            );
        }
    }
    if s.variants.is_empty() {
        return;
    }
    if let Some(first) = s.steps.first() {
        sink.push(
            Diagnostic::new(
                codes::VARIANTS_AND_STEPS,
                file,
                first.span,
                "steps outside the variants, in a campaign with variants",
                "outside every variant",
            )
            .with_label(file, s.variants[0].span, "variants here")
            .with_help("put the steps inside each `variant NAME P% { .. }`"),
        );
    }
    let mut total = 0.0;
    for v in &s.variants {
        if !(v.percent.value > 0.0 && v.percent.value <= 100.0) {
            sink.push(
                Diagnostic::new(
                    codes::BAD_PERCENT,
                    file,
                    v.percent.span,
                    format!("variant share {}% is out of range", v.percent.value),
                    "out of range",
                )
                .with_help("give each variant more than 0% and at most 100%"),
            );
        }
        total += v.percent.value;
    }
    if (total - 100.0).abs() > 1e-9 {
        let mut d = Diagnostic::new(
            codes::VARIANT_SPLIT,
            file,
            name_span,
            format!("variant shares add up to {total}%, not 100%"),
            format!("{total}% in all"),
        );
        for v in &s.variants {
            d = d.with_label(file, v.percent.span, format!("`{}` gets {}%", v.name.name, v.percent.value));
        }
        sink.push(d.with_help("make the variant shares add up to 100%; the holdout is taken before the split"));
    }
}

/// Consent and the night-time rule, both read from the audience.
#[allow(clippy::too_many_arguments)]
fn ad_audience(
    env: &Env,
    sink: &mut Sink,
    file: FileId,
    s: &Settings,
    name_span: Span,
    channels: &[(Channel, Span)],
    own_quiet: &[QuietRule],
    window: Option<(u32, u32)>,
    kind: Option<&str>,
) {
    let required = s.audience.map(|a| compliance::required_consents(env, a, 0)).unwrap_or_default();
    // A misspelt name in the audience (`customer.marketing_consnet`) is
    // already reported once; it may well be the consent.
    let misspelt = s.audience.is_some_and(|a| {
        sink.diagnostics.iter().any(|d| {
            d.code.id.starts_with("E01")
                && d.primary.file == file
                && d.primary.span.start >= a.span.start
                && d.primary.span.end <= a.span.end
        })
    });
    if required.is_empty() && !misspelt {
        let consent_fields: Vec<&str> = env
            .schema
            .customer
            .iter()
            .flat_map(|c| &c.fields)
            .filter(|f| f.ty == crate::types::FieldType::Consent)
            .map(|f| f.name.as_str())
            .collect();
        let help = match consent_fields.first() {
            Some(f) => format!("require consent in the audience: `audience customer.{f} and ..`"),
            None => "add a `consent` field to the customer schema and require it in the audience".to_string(),
        };
        let (span, label) = match s.audience {
            Some(a) => (a.span, "does not require a consent field for everyone"),
            None => (name_span, "no audience: everyone would get this ad"),
        };
        sink.push(
            Diagnostic::new(
                codes::AD_CONSENT,
                file,
                span,
                "ad audience does not require marketing consent",
                label,
            )
            .with_help(help),
        );
    }
    let night = compliance::night_consents(env);
    if night.iter().any(|n| required.contains(n)) {
        return;
    }
    // The night rule covers every channel but email (시행령 제61조②).
    for (ch, span) in channels.iter().filter(|(c, _)| *c != Channel::Email) {
        let rules = timing::rules_for(own_quiet, &env.policy.quiet_hours, kind, *ch);
        if !timing::night_covered(rules, window) {
            let help = match night.first() {
                Some(n) => format!("add `quiet hours 21:00..08:00` to the campaign (or a policy rule for kind ad), or require `customer.{n}` in the audience"),
                None => "add `quiet hours 21:00..08:00` to the campaign, or a policy rule `quiet hours 21:00..08:00 for kind ad`".to_string(),
            };
            sink.push(
                Diagnostic::new(
                    codes::AD_NIGHT,
                    file,
                    *span,
                    format!("ads on {} may go out between 21:00 and 08:00", ch.name()),
                    "night sends possible",
                )
                .with_label(file, name_span, "this campaign is `kind ad`")
                .with_help(help),
            );
            return;
        }
    }
}
