//! `wait until`, quiet hours and recurring triggers against a brute-force
//! oracle, minute by minute over 2026, in zones with no daylight saving
//! (Seoul), a one-hour shift at 02:00 (New York, both DST days), a
//! one-hour shift at 01:00 UTC (London) and a half-hour shift (Lord Howe).
//!
//! The written rule (engine/quiet.rs): a time of day is reached at every
//! instant the wall clock shows it, and on a day whose clock skips it, at
//! the instant the clock jumps past it. The oracle checks that rule on
//! every minute: minute `t` reaches `m` when the clock shows `m` at `t`, or
//! shows a later time than `m` at `t` having shown an earlier one (or the
//! previous day) a minute before.

use camp_compiler::plan::{Origin, QuietHours, QuietMode, Scope};
use camp_runtime::engine::quiet::{self, Timing};
use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

const ZONES: &[&str] = &["Asia/Seoul", "America/New_York", "Europe/London", "Australia/Lord_Howe"];
const TARGETS: &[u32] = &[0, 60, 90, 105, 120, 135, 150, 180, 480, 1260];

struct Year {
    tz: Tz,
    start: DateTime<Utc>,
    /// Local (days from CE, minute of day) at each minute of the year, one extra on each side.
    local: Vec<(i32, u32)>,
}

impl Year {
    fn new(zone: &str) -> Year {
        let tz: Tz = zone.parse().expect("a zone");
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("start") - Duration::minutes(1);
        let minutes = 365 * 24 * 60 + 2 * 24 * 60;
        let local = (0..minutes)
            .map(|i| {
                let l = (start + Duration::minutes(i)).with_timezone(&tz);
                (l.date_naive().num_days_from_ce(), l.hour() * 60 + l.minute())
            })
            .collect();
        Year { tz, start, local }
    }

    fn at(&self, i: usize) -> DateTime<Utc> {
        self.start + Duration::minutes(i as i64)
    }

    /// Whether minute `i` reaches `m`, by the rule.
    fn reaches(&self, i: usize, m: u32) -> bool {
        let (day, lt) = self.local[i];
        let (pday, plt) = self.local[i - 1];
        lt == m || (lt > m && (pday < day || plt < m))
    }

    /// For each minute, the index of the next minute after it that reaches `m`.
    fn next_reach(&self, m: u32) -> Vec<Option<usize>> {
        let mut out = vec![None; self.local.len()];
        let mut next = None;
        for i in (1..self.local.len()).rev() {
            out[i] = next;
            if self.reaches(i, m) {
                next = Some(i);
            }
        }
        out
    }

    /// Minutes to check: every minute within two days of a change of
    /// offset, every seventh minute elsewhere.
    fn sample(&self) -> Vec<usize> {
        let offset = |i: usize| self.at(i).with_timezone(&self.tz).offset().to_string();
        let mut near = vec![false; self.local.len()];
        for i in 1..self.local.len() {
            if offset(i) != offset(i - 1) {
                let lo = i.saturating_sub(2 * 1440);
                let hi = (i + 2 * 1440).min(self.local.len());
                near[lo..hi].iter_mut().for_each(|n| *n = true);
            }
        }
        (1..self.local.len() - 2 * 1440).filter(|i| near[*i] || i % 7 == 0).collect()
    }
}

#[test]
fn wait_until_matches_the_oracle_over_a_year() {
    for zone in ZONES {
        let year = Year::new(zone);
        let sample = year.sample();
        for &m in TARGETS {
            let oracle = year.next_reach(m);
            for &i in &sample {
                let now = year.at(i);
                let expected = oracle[i].map(|j| year.at(j));
                // Also from a moment inside the minute.
                let Some(want) = expected else { continue };
                for now in [now, now + Duration::seconds(30)] {
                    let got = quiet::next_reach(now, year.tz, m);
                    assert_eq!(got, want, "{zone}: wait until {:02}:{:02} from {now}", m / 60, m % 60);
                }
            }
        }
    }
}

#[test]
fn quiet_hours_match_the_oracle_over_a_year() {
    let rules = [(1260, 480), (0, 150), (90, 180), (1380, 135)];
    for zone in ZONES {
        let year = Year::new(zone);
        let sample = year.sample();
        for (from, to) in rules {
            let ends = year.next_reach(to);
            for mode in [QuietMode::Defer, QuietMode::Skip] {
                let rule = QuietHours {
                    from,
                    to,
                    mode,
                    unless: None,
                    origin: Origin::Policy,
                    scope: Scope::All,
                };
                for &i in &sample {
                    let now = year.at(i);
                    let (_, lt) = year.local[i];
                    let inside = if from < to { from <= lt && lt < to } else { lt >= from || lt < to };
                    let expected = match (inside, mode) {
                        (false, _) => Timing::Now,
                        (true, QuietMode::Skip) => Timing::Skip,
                        (true, QuietMode::Defer) => Timing::Defer(year.at(ends[i].expect("quiet hours end within the year"))),
                    };
                    assert_eq!(quiet::quiet(now, year.tz, &rule), expected, "{zone}: quiet {from}..{to} at {now}");
                    // A deferred send is never due inside quiet hours.
                    if let Timing::Defer(t) = expected {
                        let m = quiet::local_minute(t, year.tz);
                        let still = if from < to { from <= m && m < to } else { m >= from || m < to };
                        assert!(!still, "{zone}: deferred into quiet hours at {t}");
                    }
                }
            }
        }
    }
}

#[test]
fn an_unknown_zone_falls_back_to_the_policy_zone() {
    let seoul: Tz = "Asia/Seoul".parse().expect("zone");
    assert_eq!(quiet::zone(Some("KST"), "Asia/Seoul"), seoul);
    assert_eq!(quiet::zone(Some(""), "Asia/Seoul"), seoul);
    assert_eq!(quiet::zone(None, "Not/AZone"), seoul);
    let ny: Tz = "America/New_York".parse().expect("zone");
    assert_eq!(quiet::zone(Some("America/New_York"), "Asia/Seoul"), ny);
    // 23:00 in Seoul is quiet for an ad, whatever garbage the customer row holds.
    let rule = QuietHours {
        from: 1260,
        to: 480,
        mode: QuietMode::Defer,
        unless: None,
        origin: Origin::Policy,
        scope: Scope::All,
    };
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 14, 0, 0).single().expect("instant");
    let tz = quiet::zone(Some("Mars/Olympus"), "Asia/Seoul");
    let morning = Utc.with_ymd_and_hms(2026, 6, 1, 23, 0, 0).single().expect("instant");
    assert_eq!(quiet::quiet(now, tz, &rule), Timing::Defer(morning));
}

#[test]
fn daily_triggers_run_once_a_local_day_across_daylight_saving() {
    use camp_compiler::plan::Every;
    for zone in ZONES {
        let tz: Tz = zone.parse().expect("zone");
        for m in [90, 150, 600] {
            let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("start");
            let end = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).single().expect("end");
            let mut now = start;
            let mut days = std::collections::BTreeSet::new();
            while let Some(next) = quiet::next_occurrence(&Every::Day, m, tz, now) {
                if next >= end {
                    break;
                }
                assert!(next > now);
                let local = next.with_timezone(&tz);
                assert!(days.insert(local.date_naive()), "{zone} {m}: twice on {}", local.date_naive());
                assert!(local.hour() * 60 + local.minute() >= m, "{zone}: ran before its time at {local}");
                now = next;
            }
            assert_eq!(days.len(), 365, "{zone} {m}: once every day of the year");
        }
    }
}
