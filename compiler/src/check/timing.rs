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
