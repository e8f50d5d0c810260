//! Times, dates, zones, quiet hours, send windows and caps.

use super::expr::Trigger;
use super::Env;
use crate::codes;
use crate::diagnostic::{Diagnostic, Sink};
use crate::policy::{minutes, QuietRule, SendScope};
use crate::source::FileId;
use camp_grammar::ast::{self, QuietMode, Span};

/// Abbreviations people write for zones; an abbreviation is not a zone
/// (`KST` is not `EST` misspelt).
const ABBREVIATIONS: [(&str, &str); 6] = [
    ("KST", "Asia/Seoul"),
    ("JST", "Asia/Tokyo"),
    ("CST", "Asia/Shanghai"),
    ("HKT", "Asia/Hong_Kong"),
    ("SGT", "Asia/Singapore"),
    ("GMT", "Etc/GMT"),
];

pub fn unknown_zone(file: FileId, span: Span, name: &str) -> Diagnostic {
    let zones = || chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
    let city = zones().find(|z| z.rsplit('/').next().is_some_and(|c| c.eq_ignore_ascii_case(name)));
    let abbreviation = ABBREVIATIONS.iter().find(|(a, _)| a.eq_ignore_ascii_case(name)).map(|(_, z)| *z);
    // Only a name with a region can be a misspelt zone name.
    let close = if name.contains('/') {
        crate::suggest::did_you_mean(name, zones().filter(|z| z.contains('/')))
    } else {
        None
    };
    let help = match city.or(abbreviation).map(str::to_string).or(close) {
        Some(z) => format!("did you mean `{z}`?"),
        None => "use an IANA zone name such as `Asia/Seoul`".to_string(),
    };
    Diagnostic::new(
        codes::UNKNOWN_ZONE,
        file,
        span,
        format!("unknown time zone `{name}`"),
        "not an IANA time zone",
    )
    .with_help(help)
}

/// Minutes since midnight, reporting E0308 for `25:00` or `10:75`.
pub fn time(sink: &mut Sink, file: FileId, t: &ast::TimeOfDay) -> Option<u32> {
    let m = minutes(t);
    if m.is_none() {
        sink.push(
            Diagnostic::new(
                codes::BAD_TIME,
                file,
                t.span,
                format!("`{:02}:{:02}` is not a time of day", t.hour, t.minute),
                "out of range",
            )
            .with_help("write hours 00-23 and minutes 00-59, e.g. `21:00`"),
        );
    }
    m
}

/// Reports E0309 for a date-time that does not exist (`2026-02-30 10:00`).
pub fn date_time(sink: &mut Sink, file: FileId, dt: &ast::DateTime) {
    let date = chrono::NaiveDate::from_ymd_opt(dt.year, dt.month, dt.day);
    if date.is_none() {
        sink.push(
            Diagnostic::new(
                codes::BAD_DATE,
                file,
                dt.span,
                format!("{:04}-{:02}-{:02} is not a date", dt.year, dt.month, dt.day),
                "no such day",
            )
            .with_help("check the month and the day"),
        );
    }
    let t = ast::TimeOfDay {
        hour: dt.hour,
        minute: dt.minute,
        span: dt.span,
    };
    time(sink, file, &t);
}

pub fn day_of_month(sink: &mut Sink, file: FileId, day: u32, span: Span) {
    if !(1..=31).contains(&day) {
        sink.push(
            Diagnostic::new(
                codes::BAD_DATE,
                file,
                span,
                format!("there is no day {day} of a month"),
                "out of range",
            )
            .with_help("use a day from `1st` to `31st`; months without that day are skipped"),
        );
    } else if day > 28 {
        // Not an error, but say it where it matters: in the docs. The
        // runtime skips months that lack the day.
    }
}

/// Resolves `quiet hours A..B ..`, checking its parts.
pub fn quiet_rule(env: &Env, sink: &mut Sink, file: FileId, q: &ast::QuietHours, _trigger: Trigger) -> Option<QuietRule> {
    let from = time(sink, file, &q.from);
    let to = time(sink, file, &q.to);
    scope(env, sink, file, &q.filter);
    let (from, to) = (from?, to?);
    if from == to {
        sink.push(
            Diagnostic::new(
                codes::BAD_TIME,
                file,
                q.from.span.to(q.to.span),
                "quiet hours start and end at the same time",
                "empty range",
            )
            .with_help("write a range such as `21:00..08:00`"),
        );
        return None;
    }
    Some(QuietRule {
        from,
        to,
        scope: SendScope::from_ast(&q.filter),
        unless: q.unless.clone(),
        mode: q.mode.unwrap_or(QuietMode::Defer),
        file,
        span: q.span,
    })
}

/// Checks `for kind K` / `for channel C`.
pub fn scope(_env: &Env, sink: &mut Sink, file: FileId, filter: &Option<ast::SendFilter>) {
    match filter {
        Some(ast::SendFilter::Kind(k)) => super::campaign::check_kind_name(sink, file, k),
        Some(ast::SendFilter::Channel(c)) => {
            super::campaign::channel(sink, file, c);
        }
        None => {}
    }
}

/// `cap 0 per 24h` can never send: E0303.
pub fn check_cap(sink: &mut Sink, file: FileId, cap: &ast::Cap) {
    for limit in &cap.limits {
        if limit.count.value == 0 {
            sink.push(
                Diagnostic::new(codes::CAP_ZERO, file, limit.count.span, "a cap of 0 blocks every send", "zero")
                    .with_help("allow at least 1 send per period, or remove the cap"),
            );
        }
        if limit.per.seconds() == 0 {
            sink.push(
                Diagnostic::new(codes::BAD_SETTING, file, limit.per.span, "a cap period of zero length", "zero")
                    .with_help("write a period such as `24h` or `7d`"),
            );
        }
    }
}

/// The quiet rules a campaign's sends on `channel` fall under: its own and
/// the policy's.
pub fn rules_for<'r>(
    own: &'r [QuietRule],
    policy: &'r [QuietRule],
    kind: Option<&'r str>,
    channel: crate::channel::Channel,
) -> impl Iterator<Item = &'r QuietRule> + Clone {
    own.iter().chain(policy).filter(move |r| r.scope.matches(kind, channel))
}

/// Whether every minute of `from..to` (wrapping midnight) is quiet.
pub fn fully_quiet<'r>(from: u32, to: u32, rules: impl Iterator<Item = &'r QuietRule> + Clone) -> bool {
    let edges = rules.clone().flat_map(|r| [r.from, r.to]);
    changes_in(from, to, edges).all(|m| rules.clone().any(|r| r.contains(m)))
}

/// Whether minute `m` lies in the daily range `from..to` (wrapping
/// midnight; `a..a` is the whole day).
pub fn in_range(from: u32, to: u32, m: u32) -> bool {
    match from.cmp(&to) {
        std::cmp::Ordering::Less => from <= m && m < to,
        std::cmp::Ordering::Greater => m >= from || m < to,
        std::cmp::Ordering::Equal => true,
    }
}

/// The minutes of a daily range, wrapping midnight; `a..a` is the whole day.
#[cfg(test)]
fn minutes_of(from: u32, to: u32) -> impl Iterator<Item = u32> + Clone {
    let len = if to > from { to - from } else { 1_440 - from + to };
    (0..len).map(move |i| (from + i) % 1_440)
}

pub const NIGHT_FROM: u32 = 21 * 60;
pub const NIGHT_TO: u32 = 8 * 60;

/// Whether sends on a channel can never happen between 21:00 and 08:00,
/// given quiet rules (a rule with `unless` still holds for everyone else)
/// and the campaign's send window.
pub fn night_covered<'r>(rules: impl Iterator<Item = &'r QuietRule> + Clone, window: Option<(u32, u32)>) -> bool {
    let in_window = |m: u32| match window {
        None => true,
        Some((from, to)) => in_range(from, to, m),
    };
    let window_edges = window.into_iter().flat_map(|(from, to)| [from, to]);
    let edges = rules.clone().flat_map(|r| [r.from, r.to]).chain(window_edges);
    changes_in(NIGHT_FROM, NIGHT_TO, edges).all(|m| !in_window(m) || rules.clone().any(|r| r.contains(m)))
}

/// The minutes of `from..to` (as [`minutes_of`]) at which a condition made
/// of daily ranges with the given `edges` can change: the first minute, and
/// every edge inside the range. Such a condition is constant from one of
/// these minutes to the next, so checking only them is checking every
/// minute.
fn changes_in(from: u32, to: u32, edges: impl Iterator<Item = u32>) -> impl Iterator<Item = u32> {
    std::iter::once(from).chain(edges.filter(move |&e| e < 1_440 && in_range(from, to, e)))
}

/// How far from the policy's zone W0321 looks for customers whose clock
/// puts a scheduled send inside quiet hours: the neighbouring zones (for a
/// Korean shop: Japan, China, South-East Asia, eastern Australia). Further
/// away every time of day is quiet somewhere, and a warning on every
/// campaign says nothing.
pub const NEAR_ZONE_HOURS: u32 = 2;

/// Whose clock a send's time of day is read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    /// The policy's zone: a scheduled trigger and the waits after it.
    Policy,
    /// The customer's own zone: after a `wait until`.
    Customer,
}

/// What fixes a send's time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Trigger,
    /// The span of the `wait until` step and its time.
    WaitUntil(Span, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct At {
    minute: u32,
    clock: Clock,
    origin: Origin,
}

/// The sends whose time of day is known, in step order, from a start
/// state; returns the state after the block (unknown after a branch whose
/// arms end apart).
fn send_times<'s>(block: &'s [ast::Step], mut at: Option<At>, out: &mut Vec<(At, &'s ast::Step)>) -> Option<At> {
    for step in block {
        match &step.kind {
            ast::StepKind::Wait(d) => {
                if let Some(a) = at.as_mut() {
                    a.minute = ((u64::from(a.minute) + d.seconds() / 60) % 1_440) as u32;
                }
            }
            ast::StepKind::WaitUntil(t) => {
                at = minutes(t).map(|m| At {
                    minute: m,
                    clock: Clock::Customer,
                    origin: Origin::WaitUntil(step.span, m),
                });
            }
            ast::StepKind::Send { .. } => {
                if let Some(a) = at {
                    out.push((a, step));
                }
            }
            ast::StepKind::If { then, otherwise, .. } => {
                let a = send_times(then, at, out);
                let b = send_times(otherwise.as_deref().unwrap_or(&[]), at, out);
                at = if a == b { a } else { None };
            }
            ast::StepKind::Exit => return None,
        }
    }
    at
}

/// Who of the audience a quiet rule holds for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Everyone,
    /// Those the rule's `unless` does not lift it for: "customers without `night_consent`".
    Some(String),
}

/// The part of the audience `rule` holds for, `None` when the audience
/// requires what the rule's `unless` asks (nobody).
fn part(env: &Env, rule: &QuietRule, required: &std::collections::BTreeSet<String>) -> Option<Part> {
    let Some(unless) = &rule.unless else {
        return Some(Part::Everyone);
    };
    let lifts = super::compliance::required_consents(env, unless, 0);
    if !lifts.is_empty() && lifts.is_subset(required) {
        return None;
    }
    if !lifts.is_empty() {
        let names: Vec<String> = lifts.iter().map(|c| format!("`{c}`")).collect();
        return Some(Part::Some(format!("customers without {}", names.join(" and "))));
    }
    let text = env
        .sources
        .get(rule.file.0)
        .and_then(|s| s.get(unless.span.start..unless.span.end))
        .unwrap_or("its `unless` condition");
    Some(Part::Some(format!("customers for whom `{text}` does not hold")))
}

/// What happens to a send at `minute` under `rule`: "is deferred", "is
/// skipped", or "expires" when deferral takes it past its `expires`.
fn fate(rule: &QuietRule, minute: u32, expires: Option<&ast::Expiry>) -> &'static str {
    if rule.mode == QuietMode::Skip {
        return "is skipped";
    }
    // Minutes until the deferral ends (on the next day when it wraps).
    let wait = (rule.to + 1_440 - minute) % 1_440;
    let expired = match expires {
        Some(ast::Expiry::After(d)) => u64::from(wait) * 60 > d.seconds(),
        Some(ast::Expiry::At(t)) => minutes(t).is_some_and(|deadline| minute + wait > deadline),
        None => false,
    };
    if expired {
        "expires before quiet hours end"
    } else {
        "is deferred"
    }
}

/// The first rule, among those for a send, that holds at `minute`, with
/// the part of the audience it holds for (everyone ahead of a part).
fn quiet_at<'r>(
    env: &Env,
    rules: impl Iterator<Item = &'r QuietRule>,
    minute: u32,
    required: &std::collections::BTreeSet<String>,
) -> Option<(&'r QuietRule, Part)> {
    let mut found: Option<(&QuietRule, Part)> = None;
    for r in rules.filter(|r| r.contains(minute)) {
        let Some(p) = part(env, r, required) else { continue };
        match (&found, &p) {
            (None, _) | (Some((_, Part::Some(_))), Part::Everyone) => found = Some((r, p)),
            _ => {}
        }
    }
    found
}

/// A campaign's sends and what it knows about them, for the timing warnings.
pub struct SendTimes<'a> {
    /// The minute of the day the trigger fires, for a scheduled campaign.
    pub scheduled_at: Option<u32>,
    pub trigger_span: Option<Span>,
    /// The top-level steps, or the first variant's.
    pub steps: &'a [ast::Step],
    pub own_quiet: &'a [QuietRule],
    pub kind: Option<&'a str>,
    pub primary: Option<crate::channel::Channel>,
    pub audience: Option<&'a ast::Expr>,
}

/// Warns when a scheduled time (W0302, and W0321 for nearby zones) or a
/// `wait until` time (W0320) falls in quiet hours for any part of the
/// audience: everyone, customers without the consent that lifts the rule,
/// or customers a few zones away from the policy's.
pub fn quiet_send_times(env: &Env, sink: &mut Sink, file: FileId, t: &SendTimes) {
    let required = t
        .audience
        .map(|a| super::compliance::required_consents(env, a, 0))
        .unwrap_or_default();
    let start = t.scheduled_at.map(|m| At {
        minute: m,
        clock: Clock::Policy,
        origin: Origin::Trigger,
    });
    let mut sends = Vec::new();
    send_times(t.steps, start, &mut sends);
    let mut seen: Vec<Origin> = Vec::new();
    let has_zones = env
        .schema
        .customer
        .iter()
        .flat_map(|c| &c.fields)
        .any(|f| f.ty == crate::types::FieldType::Tz);
    let zone = env.policy.timezone.as_deref().unwrap_or(crate::templating::DEFAULT_ZONE);
    for (at, step) in sends {
        // The first send of each origin speaks for it.
        if seen.contains(&at.origin) {
            continue;
        }
        seen.push(at.origin);
        let ast::StepKind::Send { via, expires, .. } = &step.kind else {
            continue;
        };
        let channel = via.as_ref().and_then(|v| crate::channel::Channel::parse(&v.name)).or(t.primary);
        let Some(channel) = channel else { continue };
        let rules = || rules_for(t.own_quiet, &env.policy.quiet_hours, t.kind, channel);
        if let Some((rule, part)) = quiet_at(env, rules(), at.minute, &required) {
            let fate = fate(rule, at.minute, expires.as_ref());
            let whom = match &part {
                Part::Everyone => String::new(),
                Part::Some(p) => format!(" for {p}"),
            };
            let d = match at.origin {
                Origin::Trigger => {
                    let Some(span) = t.trigger_span else { continue };
                    let message = match &part {
                        Part::Everyone => format!("every send of this campaign falls in quiet hours and {fate}"),
                        Part::Some(p) => format!("every send of this campaign to {p} falls in quiet hours and {fate}"),
                    };
                    Diagnostic::new(codes::TRIGGER_IN_QUIET_HOURS, file, span, message, "scheduled inside quiet hours")
                        .with_help("schedule the campaign outside quiet hours")
                }
                Origin::WaitUntil(span, m) => Diagnostic::new(
                    codes::WAIT_UNTIL_IN_QUIET_HOURS,
                    file,
                    span,
                    format!(
                        "the send after `wait until {}` falls in quiet hours{whom} and {fate}",
                        clock_text(m)
                    ),
                    "inside quiet hours",
                )
                .with_help("wait until a time outside quiet hours"),
            };
            // Waits after the trigger or the `wait until` moved the send.
            let from = match at.origin {
                Origin::Trigger => t.scheduled_at,
                Origin::WaitUntil(_, m) => Some(m),
            };
            let d = if from != Some(at.minute) {
                d.with_label(file, step.span, format!("sent at {}", clock_text(at.minute)))
            } else {
                d
            };
            sink.push(d.with_label(rule.file, rule.span, "quiet hours here"));
            continue;
        }
        // Customers in nearby zones see the policy's time shifted.
        if at.clock != Clock::Policy || !has_zones {
            continue;
        }
        let Some(span) = t.trigger_span else { continue };
        let shifted = |ahead: bool| {
            (1..=NEAR_ZONE_HOURS).find_map(|k| {
                let m = if ahead {
                    (at.minute + 60 * k) % 1_440
                } else {
                    (at.minute + 1_440 - 60 * k) % 1_440
                };
                quiet_at(env, rules(), m, &required).map(|(r, p)| (k, r, p, m))
            })
        };
        let (behind, ahead) = (shifted(false), shifted(true));
        let zones = match (&behind, &ahead) {
            (Some((b, ..)), Some((a, ..))) => format!("{b}+ hours behind or {a}+ hours ahead of {zone}"),
            (Some((b, ..)), None) => format!("{b}+ hours behind {zone}"),
            (None, Some((a, ..))) => format!("{a}+ hours ahead of {zone}"),
            (None, None) => continue,
        };
        let Some((_, rule, part, m)) = behind.or(ahead) else { continue };
        let whom = match &part {
            Part::Everyone => "customers".to_string(),
            Part::Some(p) => p.clone(),
        };
        sink.push(
            Diagnostic::new(
                codes::QUIET_IN_NEARBY_ZONES,
                file,
                span,
                format!(
                    "the send at {} ({zone}) falls in quiet hours for {whom} in zones {zones} and {}",
                    clock_text(at.minute),
                    fate(rule, m, expires.as_ref())
                ),
                "inside quiet hours in nearby zones",
            )
            .with_label(rule.file, rule.span, "quiet hours here, in each customer's own zone")
            .with_help(format!(
                "quiet hours hold in each customer's own zone (the schema's `tz` field); schedule the campaign at least {NEAR_ZONE_HOURS} hours away from quiet hours"
            )),
        );
    }
}

/// `21:00` for a minute of the day.
fn clock_text(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(from: u32, to: u32) -> QuietRule {
        QuietRule {
            from,
            to,
            scope: SendScope::All,
            unless: None,
            mode: QuietMode::Defer,
            file: FileId(0),
            span: Span::default(),
        }
    }

    #[test]
    fn wrapping_ranges() {
        let r = rule(21 * 60, 8 * 60);
        assert!(r.contains(21 * 60) && r.contains(0) && r.contains(8 * 60 - 1));
        assert!(!r.contains(8 * 60) && !r.contains(12 * 60));
        assert_eq!(minutes_of(23 * 60, 60).count(), 120);
        assert_eq!(minutes_of(600, 600).count(), 1_440);
    }

    #[test]
    fn checking_edges_is_checking_every_minute() {
        let points = [0, 1, 59, 60, 479, 480, 481, 1_259, 1_260, 1_261, 1_380, 1_439];
        for &(a, b) in &[(1_260, 480), (1_320, 480), (1_260, 420), (0, 60), (600, 1_200), (1_439, 0)] {
            for &(c, d) in &[(1_380, 1_260), (480, 1_260), (1_439, 1)] {
                let rules = [rule(a, b), rule(c, d)];
                for &from in &points {
                    for &to in &points {
                        let slow = minutes_of(from, to).all(|m| rules.iter().any(|r| r.contains(m)));
                        assert_eq!(fully_quiet(from, to, rules.iter()), slow, "{from}..{to}");
                        let window = Some((from, to));
                        let in_window = |m| in_range(from, to, m);
                        let slow = minutes_of(NIGHT_FROM, NIGHT_TO).all(|m| !in_window(m) || rules.iter().any(|r| r.contains(m)));
                        assert_eq!(night_covered(rules.iter(), window), slow, "{from}..{to}");
                        let slow = minutes_of(NIGHT_FROM, NIGHT_TO).all(|m| rules[..1].iter().any(|r| r.contains(m)));
                        assert_eq!(night_covered(rules[..1].iter(), None), slow);
                    }
                }
            }
        }
    }

    #[test]
    fn night_coverage_by_rules_or_window() {
        let night = [rule(21 * 60, 8 * 60)];
        assert!(night_covered(night.iter(), None));
        let short = [rule(22 * 60, 8 * 60)];
        assert!(!night_covered(short.iter(), None));
        // A window 09:00..20:00 keeps sends out of the night anyway.
        assert!(night_covered(short.iter(), Some((9 * 60, 20 * 60))));
        assert!(!night_covered([].iter(), Some((9 * 60, 21 * 60 + 30))));
        assert!(fully_quiet(22 * 60, 23 * 60, night.iter()));
        assert!(!fully_quiet(20 * 60, 23 * 60, night.iter()));
    }
}
