//! `camp report CAMPAIGN`: sends, deliveries and conversions per variant
//! and holdout, read from the store, and each variant's uplift over the
//! holdout with a 95% confidence interval (difference of two proportions,
//! normal approximation).

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
    pub suppressed: Vec<(String, i64)>,
    /// Triggers the re-entry rule kept out, by reason ("already in the journey").
    pub not_enrolled: Vec<(String, i64)>,
    /// Journeys a new trigger ended (`reentry restart`).
    pub restarted: i64,
    pub fallbacks: i64,
    pub dead_letters: i64,
    pub uplift: Vec<Uplift>,
}

/// The uplift of `arm` over `holdout` (None when either reached nobody).
pub fn uplift(arm: &Arm, holdout: &Arm) -> Option<Uplift> {
    let (p1, p0) = (arm.rate()?, holdout.rate()?);
    let (n1, n0) = (arm.reached as f64, holdout.reached as f64);
    let se = (p1 * (1.0 - p1) / n1 + p0 * (1.0 - p0) / n0).sqrt();
    let d = p1 - p0;
    Some(Uplift {
        arm: arm.name.clone(),
        difference: d,
        low: d - 1.96 * se,
        high: d + 1.96 * se,
    })
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
    let rows = store
        .db
        .rows(
            &format!(
                "SELECT COALESCE(arm, ''), status, COUNT(*), COUNT(delivered_ms), COUNT(clicked_ms) FROM {} \
                 WHERE campaign = {p1} AND attempt = 0 GROUP BY COALESCE(arm, ''), status",
                t.ledger
            ),
            &c,
        )
        .await?;
    for r in rows {
        let name = arm(&mut arms, r.text(0));
        let status = r.text(1).unwrap_or_default();
        let n = r.int(2).unwrap_or(0);
        if let Some(a) = arms.get_mut(&name) {
            match status.as_str() {
                "held" => a.held += n,
                "suppressed" => {}
                _ => {
                    a.sends += n;
                    a.delivered += r.int(3).unwrap_or(0);
                    a.clicked += r.int(4).unwrap_or(0);
                    if status == "failed" || status == "dead" {
                        a.failed += n;
                    }
                }
            }
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
    for a in &r.arms {
        let name = if a.name.is_empty() { "(all)" } else { a.name.as_str() };
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
    fn uplift_interval_matches_the_textbook_formula() {
        let a = Arm {
            name: "a".into(),
            reached: 1000,
            conversions: 120,
            ..Arm::default()
        };
        let h = Arm {
            name: "holdout".into(),
            reached: 1000,
            conversions: 100,
            ..Arm::default()
        };
        let u = uplift(&a, &h).expect("both reached someone");
        assert!((u.difference - 0.02).abs() < 1e-12);
        let se = ((0.12 * 0.88 + 0.1 * 0.9) / 1000.0f64).sqrt();
        assert!((u.low - (0.02 - 1.96 * se)).abs() < 1e-12);
        assert!((u.high - (0.02 + 1.96 * se)).abs() < 1e-12);
    }
}
