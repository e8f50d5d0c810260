//! `camp report CAMPAIGN`: sends, deliveries and conversions per variant
//! and holdout, read from the store, and each variant's uplift over the
//! holdout with a 95% confidence interval for the difference of two
//! proportions: Newcombe's hybrid score interval (his method 10), built
//! from the Wilson interval of each rate. Unlike the Wald interval it stays
//! honest at 0/145 or 145/145, where Wald claims zero variance.
//!
//! Sends, deliveries, clicks and failures count messages (one per
//! enrollment and step), whichever channel of the chain carried them: a
//! message is sent when one of its attempts went out, delivered when one
//! was delivered, failed when every attempt that went out failed or was
//! dead-lettered. Attempts never sent (no contact, caps, quiet hours) are
//! counted by reason.

use crate::binds::BindValue;
use crate::db::{CellsExt, DbError};
use crate::store::Store;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One arm of a campaign: a variant, the holdout, or `""` without an experiment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arm {
    pub name: String,
    pub enrolled: i64,
    /// Enrollments that reached a send (sent, or held back for the holdout).
    pub reached: i64,
    pub sends: i64,
    pub delivered: i64,
    pub clicked: i64,
    pub failed: i64,
    pub held: i64,
    pub conversions: i64,
}

impl Arm {
    pub fn rate(&self) -> Option<f64> {
        (self.reached > 0).then(|| self.conversions as f64 / self.reached as f64)
    }
}

/// A variant's conversion rate minus the holdout's, with a 95% interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Uplift {
    pub arm: String,
    pub difference: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub campaign: String,
    pub arms: Vec<Arm>,
    /// Ledger rows not sent, by reason (one per attempt: a customer with no
    /// phone on a Kakao-then-LMS chain counts under both channels).
    pub suppressed: Vec<(String, i64)>,
    /// Triggers the re-entry rule kept out, by reason ("already in the journey").
    pub not_enrolled: Vec<(String, i64)>,
    /// Journeys a new trigger ended (`reentry restart`).
    pub restarted: i64,
    pub fallbacks: i64,
    pub dead_letters: i64,
    pub uplift: Vec<Uplift>,
}

/// The 95% normal quantile.
const Z: f64 = 1.959_963_984_540_054;

/// The Wilson score interval of `successes` out of `n` (n > 0).
pub fn wilson(successes: f64, n: f64) -> (f64, f64) {
    let p = successes / n;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At 0 and n the bounds are exactly 0 and 1 (floating point misses them).
    let low = if successes <= 0.0 { 0.0 } else { (centre - half).max(0.0) };
    let high = if successes >= n { 1.0 } else { (centre + half).min(1.0) };
    (low, high)
}

/// The uplift of `arm` over `holdout` (None when either reached nobody),
/// with Newcombe's interval for the difference of the two rates.
pub fn uplift(arm: &Arm, holdout: &Arm) -> Option<Uplift> {
    let (p1, p0) = (arm.rate()?, holdout.rate()?);
    let (l1, u1) = wilson(arm.conversions as f64, arm.reached as f64);
    let (l0, u0) = wilson(holdout.conversions as f64, holdout.reached as f64);
    let d = p1 - p0;
    Some(Uplift {
        arm: arm.name.clone(),
        difference: d,
        low: d - ((p1 - l1).powi(2) + (u0 - p0).powi(2)).sqrt(),
        high: d + ((u1 - p1).powi(2) + (p0 - l0).powi(2)).sqrt(),
    })
}

/// The campaigns ever deployed on this store, sorted.
pub async fn deployed_campaigns(store: &Store) -> Result<Vec<String>, DbError> {
    let rows = store
        .db
        .rows(&format!("SELECT DISTINCT campaign FROM {} ORDER BY campaign", store.t.plans), &[])
        .await?;
    Ok(rows.iter().filter_map(|r| r.text(0)).collect())
}

pub async fn report(store: &Store, campaign: &str) -> Result<Report, DbError> {
    let t = &store.t;
    let c = [BindValue::Text(campaign.to_string())];
    let p1 = store.ph(1);
    let mut arms: BTreeMap<String, Arm> = BTreeMap::new();
    let arm = |arms: &mut BTreeMap<String, Arm>, name: Option<String>| -> String {
        let name = name.unwrap_or_default();
        arms.entry(name.clone()).or_insert_with(|| Arm {
            name: name.clone(),
            ..Arm::default()
        });
        name
    };
    let rows = store
        .db
        .rows(
            &format!(
                "SELECT COALESCE(arm, ''), COUNT(*), COUNT(first_send_ms) FROM {} WHERE campaign = {p1} GROUP BY COALESCE(arm, '')",
                t.enrollments
            ),
            &c,
        )
        .await?;
    for r in rows {
        let name = arm(&mut arms, r.text(0));
        if let Some(a) = arms.get_mut(&name) {
            a.enrolled += r.int(1).unwrap_or(0);
            a.reached += r.int(2).unwrap_or(0);
        }
    }
    // One row per message (enrollment and step), over all its attempts.
    let rows = store
        .db
        .rows(
            &format!(
                "SELECT arm, SUM(held), SUM(sent), SUM(delivered), SUM(clicked), SUM(CASE WHEN sent = 1 AND alive = 0 THEN 1 ELSE 0 END) \
                 FROM (SELECT MAX(COALESCE(arm, '')) AS arm, \
                   MAX(CASE WHEN status = 'held' THEN 1 ELSE 0 END) AS held, \
                   MAX(CASE WHEN status NOT IN ('held', 'suppressed') THEN 1 ELSE 0 END) AS sent, \
                   MAX(CASE WHEN status NOT IN ('held', 'suppressed') AND delivered_ms IS NOT NULL THEN 1 ELSE 0 END) AS delivered, \
                   MAX(CASE WHEN status NOT IN ('held', 'suppressed') AND clicked_ms IS NOT NULL THEN 1 ELSE 0 END) AS clicked, \
                   MAX(CASE WHEN status IN ('pending', 'sent', 'delivered') THEN 1 ELSE 0 END) AS alive \
                   FROM {} WHERE campaign = {p1} GROUP BY enrollment, step) AS m \
                 GROUP BY arm",
                t.ledger
            ),
            &c,
        )
        .await?;
    for r in rows {
        let name = arm(&mut arms, r.text(0));
        if let Some(a) = arms.get_mut(&name) {
            a.held += r.int(1).unwrap_or(0);
            a.sends += r.int(2).unwrap_or(0);
            a.delivered += r.int(3).unwrap_or(0);
            a.clicked += r.int(4).unwrap_or(0);
            a.failed += r.int(5).unwrap_or(0);
        }
    }
    let rows = store
        .db
        .rows(
            &format!(
                "SELECT COALESCE(arm, ''), COUNT(*) FROM {} WHERE campaign = {p1} GROUP BY COALESCE(arm, '')",
                t.conversions
            ),
            &c,
        )
        .await?;
    for r in rows {
        let name = arm(&mut arms, r.text(0));
        if let Some(a) = arms.get_mut(&name) {
            a.conversions += r.int(1).unwrap_or(0);
        }
    }
    let suppressed = store
        .db
        .rows(
            &format!(
                "SELECT COALESCE(reason, ''), COUNT(*) FROM {} WHERE campaign = {p1} AND status = 'suppressed' GROUP BY COALESCE(reason, '') ORDER BY 2 DESC",
                t.ledger
            ),
            &c,
        )
        .await?
        .into_iter()
        .filter_map(|r| Some((r.text(0)?, r.int(1)?)))
        .collect();
    // A store a camp before re-entry rules made has no such table yet (the
    // next `camp run` migrates it): nothing was ignored then.
    let not_enrolled = store
        .db
        .rows(
            &format!(
                "SELECT reason, COUNT(*) FROM {} WHERE campaign = {p1} GROUP BY reason ORDER BY 2 DESC, 1",
                t.ignored
            ),
            &c,
        )
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| Some((r.text(0)?, r.int(1)?)))
        .collect();
    let c = &c;
    let count = |sql: String| async move { store.db.rows(&sql, c).await.map(|r| r.first().and_then(|r| r.int(0)).unwrap_or(0)) };
    let fallbacks = count(format!(
        "SELECT COUNT(*) FROM {} WHERE campaign = {p1} AND attempt > 0 AND status NOT IN ('held', 'suppressed')",
        t.ledger
    ))
    .await?;
    let restarted = count(format!(
        "SELECT COUNT(*) FROM {} WHERE campaign = {p1} AND state = 'exited' AND reason = '{}'",
        t.enrollments,
        crate::engine::enroll::RESTARTED
    ))
    .await?;
    let dead_letters = count(format!(
        "SELECT COUNT(*) FROM {} d JOIN {} l ON l.id = d.ledger WHERE l.campaign = {p1}",
        t.dead_letters, t.ledger
    ))
    .await?;
    let arms: Vec<Arm> = arms.into_values().collect();
    let holdout = arms.iter().find(|a| a.name == crate::engine::experiment::HOLDOUT);
    let uplift = match holdout {
        Some(h) => arms.iter().filter(|a| a.name != h.name).filter_map(|a| uplift(a, h)).collect(),
        None => Vec::new(),
    };
    Ok(Report {
        campaign: campaign.to_string(),
        arms,
        suppressed,
        not_enrolled,
        restarted,
        fallbacks,
        dead_letters,
        uplift,
    })
}

fn pct(x: f64) -> String {
    format!("{:+.2}pp", x * 100.0)
}

/// The report as a table.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "campaign {}", r.campaign);
    if r.arms.is_empty() {
        let _ = writeln!(out, "  no enrollments yet");
        for (reason, n) in &r.not_enrolled {
            let _ = writeln!(out, "  not enrolled ({reason}): {n}");
        }
        return out;
    }
    let _ = writeln!(
        out,
        "  {:<10} {:>9} {:>8} {:>8} {:>9} {:>8} {:>7} {:>6} {:>11} {:>7}",
        "arm", "enrolled", "reached", "sends", "delivered", "clicked", "failed", "held", "conversions", "rate"
    );
    // Without variants the arm with no name is everyone the campaign
    // messaged: "messaged" beside a holdout, else "everyone".
    let unnamed = if r.arms.iter().any(|a| a.name == "holdout") {
        "messaged"
    } else {
        "everyone"
    };
    for a in &r.arms {
        let name = if a.name.is_empty() { unnamed } else { a.name.as_str() };
        let rate = a.rate().map(|p| format!("{:.2}%", p * 100.0)).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "  {:<10} {:>9} {:>8} {:>8} {:>9} {:>8} {:>7} {:>6} {:>11} {:>7}",
            name, a.enrolled, a.reached, a.sends, a.delivered, a.clicked, a.failed, a.held, a.conversions, rate
        );
    }
    if r.fallbacks > 0 || r.dead_letters > 0 {
        let _ = writeln!(out, "  fallback sends: {}, dead letters: {}", r.fallbacks, r.dead_letters);
    }
    for (reason, n) in &r.suppressed {
        let _ = writeln!(out, "  not sent ({reason}): {n}");
    }
    for (reason, n) in &r.not_enrolled {
        let _ = writeln!(out, "  not enrolled ({reason}): {n}");
    }
    if r.restarted > 0 {
        let _ = writeln!(out, "  journeys restarted by a new trigger: {}", r.restarted);
    }
    for u in &r.uplift {
        let _ = writeln!(
            out,
            "  uplift of {} over holdout: {} (95% CI {} to {}){}",
            if u.arm.is_empty() { "the campaign" } else { u.arm.as_str() },
            pct(u.difference),
            pct(u.low),
            pct(u.high),
            if u.low > 0.0 {
                ", significant"
            } else if u.high < 0.0 {
                ", significantly worse"
            } else {
                ", not significant"
            }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uplift_interval_is_newcombes_hybrid_score_interval() {
        // Newcombe (1998), Statistics in Medicine 17:873-890, Table II,
        // example (a): 56/70 against 48/80, method 10: 0.0524 to 0.3339.
        let a = Arm {
            name: "a".into(),
            reached: 70,
            conversions: 56,
            ..Arm::default()
        };
        let h = Arm {
            name: "holdout".into(),
            reached: 80,
            conversions: 48,
            ..Arm::default()
        };
        let u = uplift(&a, &h).expect("both reached someone");
        assert!((u.difference - 0.2).abs() < 1e-12);
        assert!((u.low - 0.0524).abs() < 5e-5, "{}", u.low);
        assert!((u.high - 0.3339).abs() < 5e-5, "{}", u.high);
    }

    #[test]
    fn a_holdout_with_no_conversions_still_has_width() {
        // Wald gives 0/145 zero variance; Wilson's upper bound for 0/145
        // is z^2 / (n + z^2) = 0.0258.
        let (low, high) = wilson(0.0, 145.0);
        assert_eq!(low, 0.0);
        assert!((high - Z * Z / (145.0 + Z * Z)).abs() < 1e-12);
        let a = Arm {
            name: "a".into(),
            reached: 150,
            conversions: 3,
            ..Arm::default()
        };
        let h = Arm {
            name: "holdout".into(),
            reached: 145,
            conversions: 0,
            ..Arm::default()
        };
        let u = uplift(&a, &h).expect("both reached someone");
        assert!(u.low < 0.0 && u.high > u.difference, "{u:?}");
    }
}
