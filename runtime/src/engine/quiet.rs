//! Wall-clock times in a customer's zone: `wait until`, quiet hours, send
//! windows and the days of recurring triggers. Instants are UTC; the zone
//! is data, applied here and nowhere else.
//!
//! The one rule for daylight-saving changes: a time of day is *reached*
//! at every instant at which the zone's wall clock shows it, and, on a day
//! whose clock skips it (a gap), at the instant the clock jumps past it.
//! So `wait until 02:30` on a spring-forward night in New York ends at
//! 03:00 EDT, and on a fall-back night 01:30 is reached twice (the next
//! one after now counts). A recurring trigger runs once per local day, at
//! the first instant that day reaches its time. Quiet hours hold while the
//! wall clock shows a minute inside them; a deferred send goes at the next
//! instant the clock reaches their end. An unknown or invalid zone is
//! replaced by the policy's zone, never ignored.

use camp_compiler::plan::{Every, Expiry, QuietHours, QuietMode, Weekday, Window};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// The customer's zone if it is one, else the policy's, else Asia/Seoul.
pub fn zone(customer: Option<&str>, policy: &str) -> Tz {
    customer
        .and_then(|z| z.trim().parse::<Tz>().ok())
        .or_else(|| policy.parse::<Tz>().ok())
        .unwrap_or(chrono_tz::Asia::Seoul)
}

/// Minute of the day (0..1440) the wall clock shows at `t`.
pub fn local_minute(t: DateTime<Utc>, tz: Tz) -> u32 {
    let local = t.with_timezone(&tz);
    local.hour() * 60 + local.minute()
}

/// Whether minute `m` lies in the daily range `from..to` (wrapping at
/// midnight when `from > to`; empty when equal).
pub fn in_range(m: u32, from: u32, to: u32) -> bool {
    match from.cmp(&to) {
        std::cmp::Ordering::Less => from <= m && m < to,
        std::cmp::Ordering::Greater => m >= from || m < to,
        std::cmp::Ordering::Equal => false,
    }
}

/// The instants of local day `date` at which the clock reaches `minute`:
/// one normally, two in a fold, the end of the gap when the clock skips
/// it, none when the rest of the day is skipped.
pub fn reach_instants(tz: Tz, date: NaiveDate, minute: u32) -> Vec<DateTime<Utc>> {
    let at = |m: u32| NaiveTime::from_hms_opt(m / 60, m % 60, 0).map(|t| date.and_time(t));
    let Some(naive) = at(minute) else {
        return Vec::new();
    };
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
        chrono::LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            vec![a.min(b), a.max(b)]
        }
        chrono::LocalResult::None => {
            // A gap: the first later minute of the same day that exists is
            // where the clock lands after jumping.
            for m in minute + 1..1440 {
                let Some(naive) = at(m) else { break };
                if let Some(t) = tz.from_local_datetime(&naive).earliest() {
                    return vec![t.with_timezone(&Utc)];
                }
            }
            Vec::new()
        }
    }
}

/// The first instant of local day `date` that reaches `minute`.
pub fn day_instant(tz: Tz, date: NaiveDate, minute: u32) -> Option<DateTime<Utc>> {
    reach_instants(tz, date, minute).into_iter().next()
}

/// The next instant strictly after `now` at which the clock reaches `minute`.
pub fn next_reach(now: DateTime<Utc>, tz: Tz, minute: u32) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    let mut best: Option<DateTime<Utc>> = None;
    for offset in -1..=3 {
        let Some(date) = today.checked_add_signed(Duration::days(offset)) else {
            continue;
        };
        for t in reach_instants(tz, date, minute) {
            if t > now && best.is_none_or(|b| t < b) {
                best = Some(t);
            }
        }
        if best.is_some() && offset >= 1 {
            break;
        }
    }
    best.unwrap_or(now + Duration::days(1))
}

/// What the clock says about a send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    Now,
    /// Not before this instant.
    Defer(DateTime<Utc>),
    /// Not at all.
    Skip,
}

/// A send window: outside it, the send waits for the window to open.
pub fn window(now: DateTime<Utc>, tz: Tz, window: &Window) -> Timing {
    let m = local_minute(now, tz);
    if window.from == window.to || in_range(m, window.from, window.to) {
        Timing::Now
    } else {
        Timing::Defer(next_reach(now, tz, window.from))
    }
}

/// One quiet-hours rule that applies to this send (its scope and `unless`
/// already checked by the caller).
pub fn quiet(now: DateTime<Utc>, tz: Tz, rule: &QuietHours) -> Timing {
    if !in_range(local_minute(now, tz), rule.from, rule.to) {
        return Timing::Now;
    }
    match rule.mode {
        QuietMode::Skip => Timing::Skip,
        QuietMode::Defer => Timing::Defer(next_reach(now, tz, rule.to)),
    }
}

/// The instant (ms) after which a send whose step became due at `due_ms`
/// has expired: `expires after D` counts from then; `expires at TIME` is
/// the first instant that TIME is reached on the customer's local day of
/// `due_ms` (already past when the step became due later that day).
pub fn deadline(expiry: &Expiry, due_ms: i64, tz: Tz) -> i64 {
    match expiry {
        Expiry::After { seconds } => due_ms.saturating_add((*seconds as i64).saturating_mul(1000)),
        Expiry::At { minute } => {
            let date = crate::clock::from_ms(due_ms).with_timezone(&tz).date_naive();
            day_instant(tz, date, *minute).map_or(due_ms, crate::clock::ms)
        }
    }
}

/// Several verdicts together: any skip wins, else the latest deferral.
pub fn combine(timings: impl IntoIterator<Item = Timing>) -> Timing {
    let mut out = Timing::Now;
    for t in timings {
        out = match (out, t) {
            (Timing::Skip, _) | (_, Timing::Skip) => Timing::Skip,
            (Timing::Defer(a), Timing::Defer(b)) => Timing::Defer(a.max(b)),
            (Timing::Defer(a), Timing::Now) | (Timing::Now, Timing::Defer(a)) => Timing::Defer(a),
            (Timing::Now, Timing::Now) => Timing::Now,
        };
    }
    out
}

/// Whether a recurring trigger runs on local day `date`.
pub fn runs_on(every: &Every, date: NaiveDate) -> bool {
    let wd = date.weekday().num_days_from_monday();
    match every {
        Every::Day => true,
        Every::Weekday => wd < 5,
        Every::DayOfWeek { day } => wd == weekday_index(*day),
        Every::DayOfMonth { day } => date.day() == *day,
    }
}

fn weekday_index(d: Weekday) -> u32 {
    match d {
        Weekday::Monday => 0,
        Weekday::Tuesday => 1,
        Weekday::Wednesday => 2,
        Weekday::Thursday => 3,
        Weekday::Friday => 4,
        Weekday::Saturday => 5,
        Weekday::Sunday => 6,
    }
}

/// The latest instant in `(after, now]` at which a recurring trigger runs,
/// looking back at most 400 days.
pub fn latest_occurrence(every: &Every, minute: u32, tz: Tz, after: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let start = after.max(now - Duration::days(400));
    let mut date = now.with_timezone(&tz).date_naive();
    let first = start.with_timezone(&tz).date_naive().pred_opt()?;
    while date >= first {
        if runs_on(every, date) {
            if let Some(t) = day_instant(tz, date, minute) {
                if t > after && t <= now {
                    return Some(t);
                }
            }
        }
        date = date.pred_opt()?;
    }
    None
}

/// The next instant after `now` at which a recurring trigger runs.
pub fn next_occurrence(every: &Every, minute: u32, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut date = now.with_timezone(&tz).date_naive().pred_opt()?;
    for _ in 0..400 {
        if runs_on(every, date) {
            if let Some(t) = day_instant(tz, date, minute) {
                if t > now {
                    return Some(t);
                }
            }
        }
        date = date.succ_opt()?;
    }
    None
}
